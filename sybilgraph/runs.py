"""Runs over time: stable cluster ids and lineage from one run to the next.

A run numbers its clusters canonically (0 = largest), so one new big cluster
renumbers every other. Given the previous run's assignments,
:func:`stabilise` renames today's clusters so that a cluster that is still
mostly the same accounts keeps yesterday's id, and lists what changed.

Matching rule (MONIC's overlap matching, Spiliopoulou et al. 2006, with the
threshold at one half)
    Only accounts present in *both* runs vote: accounts that are new today
    or gone since yesterday say nothing about whether a cluster is the same.
    Today's cluster ``N`` continues yesterday's cluster ``P`` (and takes its
    id) when they share more than half of ``P``'s returning accounts *and*
    more than half of ``N``'s returning accounts:

    .. math:: 2|P \\cap N| > |P \\cap R| \\quad\\text{and}\\quad 2|P \\cap N| > |N \\cap R|

    where ``R`` is the set of returning accounts. A cluster can hold more
    than half of another's accounts for at most one partner on each side, so
    the pairs that pass form a matching by themselves: it is the optimal
    (maximum-overlap) assignment among the pairs that pass, it is unique,
    and no tie-break is ever needed. (A global maximum-overlap assignment
    without the threshold can trade one majority pair for two minority ones
    with a larger total; that would take an id away from a cluster that kept
    most of its accounts, so it is not used.) Singletons follow the same
    rule: an account alone yesterday and alone today keeps its singleton id.

New ids
    Clusters that continue nothing get ids never used before, counting up
    from the previous run's ``next_id`` (or, for a file without it, its
    largest id + 1), in canonical order (largest first, ties by smallest
    member account id), so the answer is a function of the two inputs.

Age
    Every run with a previous file writes ``first_seen`` (the ordinal of the
    run that first issued the id), ``run`` (this run's ordinal) and
    ``next_id`` (the smallest id not issued yet) into its assignments, so
    the next run can carry them on. A previous file without them is run 0.

Lineage
    One row per changed relation between a cluster of 2+ accounts
    yesterday and one of 2+ today (see :func:`lineage_table`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._errors import InputError
from ._report import Report

if TYPE_CHECKING:  # pragma: no cover
    from .results import ClusterResult

__all__ = ["Previous", "read_previous", "stabilise", "lineage_table", "EVENTS", "RELATIONS", "read_constraints",
           "honour_constraints", "constraints_violated", "empty_constraints"]

#: Lineage events, see :func:`lineage_table`.
EVENTS = ("born", "died", "split", "merged", "grew", "shrank", "kept", "moved")


@dataclass(frozen=True)
class Previous:
    """The previous run's assignments, as :func:`stabilise` reads them."""

    accounts: np.ndarray
    """Account ids (object array of str), unique."""
    cluster: np.ndarray
    """Cluster id of each account (int64)."""
    first_seen: np.ndarray
    """Run ordinal at which each account's cluster id was first issued (int64)."""
    run: int
    """Ordinal of the previous run."""
    next_id: int
    """Smallest cluster id not issued by any run so far."""


def read_previous(previous: pd.DataFrame | str | os.PathLike[str] | Previous) -> Previous:
    """Read the assignments of a previous run (a DataFrame, or a file sybilgraph wrote).

    Parameters
    ----------
    previous : DataFrame or path
        At least ``account_id`` and ``cluster_id``; ``first_seen``, ``run``
        and ``next_id`` when the previous run had a previous run itself.
        CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``) files
        are read with :func:`sybilgraph.read_table`.

    Returns
    -------
    Previous

    Raises
    ------
    InputError
        A column is missing, an id is not a non-negative integer, or an
        account appears twice (the message names the row).
    """
    from .results import read_table

    if isinstance(previous, Previous):
        return previous
    where = "the previous assignments"
    if isinstance(previous, pd.DataFrame):
        frame = previous
    else:
        where = f"the previous assignments {os.fspath(previous)!r}"
        frame = read_table(previous)
    for col in ("account_id", "cluster_id"):
        if col not in frame.columns:
            raise InputError(f"column {col!r} not found in {where}; columns are {list(frame.columns)}; "
                             f"pass the assignments file written by 'sybilgraph cluster'.")
    accounts = frame["account_id"].astype(str).to_numpy(dtype=object)
    dup = pd.Index(accounts).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise InputError(f"account {accounts[row]!r} appears twice in {where} (row {row}); "
                         f"each account must have one cluster_id.")
    cluster = _ints(frame["cluster_id"], "cluster_id", where)
    first_seen = _ints(frame["first_seen"], "first_seen", where) if "first_seen" in frame.columns \
        else np.zeros(len(frame), dtype=np.int64)
    run = int(_ints(frame["run"], "run", where).max()) if "run" in frame.columns and len(frame) else 0
    next_id = int(cluster.max()) + 1 if len(cluster) else 0
    if "next_id" in frame.columns and len(frame):
        next_id = max(next_id, int(_ints(frame["next_id"], "next_id", where).max()))
    return Previous(accounts, cluster, first_seen, run, next_id)


def _ints(column: pd.Series, name: str, where: str) -> np.ndarray:
    """A column of non-negative integers (text from a CSV is parsed); errors name the row."""
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna().to_numpy() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if not bad.any():
        floats = values.to_numpy(dtype=float)
        bad = (floats < 0) | (floats != np.floor(floats))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"column {name!r} of {where} must hold non-negative integers; row {row} holds "
                         f"{column.iloc[row]!r}.")
    return values.to_numpy(dtype=np.int64)


@dataclass(frozen=True)
class _Match:
    """Today's clusters matched to yesterday's."""

    stable: np.ndarray
    """Stable id of each canonical cluster of today."""
    first_seen: np.ndarray
    """First-seen run of each canonical cluster of today."""
    lineage: pd.DataFrame
    run: int
    next_id: int


def _match(prev: Previous, accounts: np.ndarray, labels: np.ndarray) -> _Match:
    """Match today's canonical ``labels`` of sorted ``accounts`` to the previous run (see the module docstring)."""
    k = int(labels.max()) + 1 if len(labels) else 0
    prev_ids, prev_code = np.unique(prev.cluster, return_inverse=True)
    prev_code = prev_code.reshape(-1)
    n_prev = len(prev_ids)
    at = pd.Index(accounts).get_indexer(prev.accounts)  # today's row of each previous account, -1 if gone
    back = at >= 0
    p_ret, n_ret = prev_code[back], labels[at[back]]
    p_size_ret = np.bincount(p_ret, minlength=n_prev)
    n_size_ret = np.bincount(n_ret, minlength=k)
    pair, shared = np.unique(p_ret.astype(np.int64) * max(k, 1) + n_ret, return_counts=True)
    pp, nn = pair // max(k, 1), pair % max(k, 1)
    ok = (2 * shared > p_size_ret[pp]) & (2 * shared > n_size_ret[nn])
    continues = np.full(k, -1, dtype=np.int64)  # previous code each of today's clusters continues
    continues[nn[ok]] = pp[ok]
    first_of_prev = np.zeros(n_prev, dtype=np.int64)
    first_of_prev[prev_code] = prev.first_seen
    run = prev.run + 1
    stable = np.empty(k, dtype=np.int64)
    first_seen = np.full(k, run, dtype=np.int64)
    kept = continues >= 0
    stable[kept] = prev_ids[continues[kept]]
    first_seen[kept] = first_of_prev[continues[kept]]
    fresh = np.flatnonzero(~kept)  # canonical order: largest first, ties by smallest member
    stable[fresh] = prev.next_id + np.arange(len(fresh))
    next_id = prev.next_id + len(fresh)
    p_size = np.bincount(prev_code, minlength=n_prev)
    n_size = np.bincount(labels, minlength=k)
    lineage = lineage_table(prev_ids[pp], stable[nn], shared, p_size[pp], n_size[nn], ok,
                            prev_ids, p_size, continues, stable, n_size)
    return _Match(stable, first_seen, lineage, run, next_id)


def lineage_table(prev_id: np.ndarray, new_id: np.ndarray, shared: np.ndarray, prev_size: np.ndarray,
                  new_size: np.ndarray, matched: np.ndarray, all_prev: np.ndarray, all_prev_size: np.ndarray,
                  continues: np.ndarray, all_new: np.ndarray, all_new_size: np.ndarray) -> pd.DataFrame:
    """Name what happened to each cluster of 2+ accounts between two runs.

    One row per (previous cluster, today's cluster) pair that shares
    returning accounts, both of 2+ accounts, unless nothing changed;
    plus rows for clusters born and died. Columns ``previous_id``,
    ``cluster_id`` (nullable Int64), ``shared`` (returning accounts in both),
    ``previous_size``, ``size`` and ``event``:

    ``grew`` / ``shrank`` / ``kept``
        Today's cluster continues the previous one (same id) and has more /
        fewer / as many accounts (``kept``: as many, but not the same ones).
    ``split``
        Two or more accounts of the previous cluster are in a cluster with a
        new id that draws its accounts from this previous cluster only (a
        piece that broke off).
    ``merged``
        Two or more accounts of the previous cluster are in a cluster that
        continues another previous cluster, or in a new cluster that draws
        two or more accounts from each of several previous clusters.
    ``moved``
        A single account went from one to the other.
    ``born``
        A cluster of 2+ with a new id and no piece (2+ accounts) of a
        previous cluster of 2+ (``previous_id`` empty, ``shared`` 0).
    ``died``
        A previous cluster of 2+ with no continuation and no piece (2+
        accounts) in a cluster of 2+ today (``cluster_id`` empty).

    Rows are sorted by ``previous_id`` then ``cluster_id`` (empty last).
    """
    big = (prev_size >= 2) & (new_size >= 2)
    whole = matched & (shared == prev_size) & (shared == new_size)  # the very same accounts
    rows = big & ~whole
    p, n, s, ps, ns, m = prev_id[rows], new_id[rows], shared[rows], prev_size[rows], new_size[rows], matched[rows]
    stable_cont = np.zeros(len(all_new), dtype=bool)
    stable_cont[:] = continues >= 0
    new_code = pd.Index(all_new).get_indexer(n)
    # New clusters that draw a piece (2+ accounts) from each of two or more previous clusters of 2+.
    piece = big & (shared >= 2)
    n_sources = pd.Series(piece.astype(np.int64)).groupby(new_id).transform("sum").to_numpy()[rows]
    event = np.where(m, np.where(ns > ps, "grew", np.where(ns < ps, "shrank", "kept")),
                     np.where(s < 2, "moved",
                              np.where(stable_cont[new_code] | (n_sources >= 2), "merged", "split"))).astype(object)
    frame = pd.DataFrame({"previous_id": pd.array(p, dtype="Int64"), "cluster_id": pd.array(n, dtype="Int64"),
                          "shared": s.astype(np.int64), "previous_size": ps.astype(np.int64),
                          "size": ns.astype(np.int64), "event": event})
    has_piece_new = np.zeros(len(all_new), dtype=bool)
    has_piece_new[pd.Index(all_new).get_indexer(new_id[piece])] = True
    born = np.flatnonzero((all_new_size >= 2) & ~stable_cont & ~has_piece_new)
    has_piece_prev = np.zeros(len(all_prev), dtype=bool)
    has_piece_prev[pd.Index(all_prev).get_indexer(prev_id[piece])] = True
    continued = np.zeros(len(all_prev), dtype=bool)
    continued[continues[continues >= 0]] = True
    died = np.flatnonzero((all_prev_size >= 2) & ~continued & ~has_piece_prev)
    extra = pd.DataFrame({
        "previous_id": pd.array(np.r_[np.full(len(born), -1), all_prev[died]], dtype="Int64"),
        "cluster_id": pd.array(np.r_[all_new[born], np.full(len(died), -1)], dtype="Int64"),
        "shared": np.zeros(len(born) + len(died), dtype=np.int64),
        "previous_size": np.r_[np.zeros(len(born), dtype=np.int64), all_prev_size[died]].astype(np.int64),
        "size": np.r_[all_new_size[born], np.zeros(len(died), dtype=np.int64)].astype(np.int64),
        "event": np.array(["born"] * len(born) + ["died"] * len(died), dtype=object),
    })
    extra.loc[extra["previous_id"] == -1, "previous_id"] = pd.NA
    extra.loc[extra["cluster_id"] == -1, "cluster_id"] = pd.NA
    out = pd.concat([frame, extra], ignore_index=True) if len(extra) else frame
    return out.sort_values(["previous_id", "cluster_id"], na_position="last", kind="stable").reset_index(drop=True)


def stabilise(result: "ClusterResult", previous: pd.DataFrame | str | os.PathLike[str] | Previous) -> "ClusterResult":
    """Rename a result's clusters so that clusters that continue the previous run's keep their ids.

    Parameters
    ----------
    result : ClusterResult
        A result with canonical ids, as :func:`sybilgraph.cluster_accounts` makes it.
    previous : DataFrame, path or Previous
        The previous run's assignments (see :func:`read_previous`).

    Returns
    -------
    ClusterResult
        The same clusters under stable ids (assignments, clusters, evidence
        and ``periphery_of``); ``assignments`` gains ``first_seen``, ``run``
        and ``next_id``, ``clusters`` gains ``first_seen`` and ``age`` (runs
        since the id was first issued), and ``lineage`` holds
        :func:`lineage_table`. A note in the report counts the clusters that
        kept their id.
    """
    prev = read_previous(previous)
    a = result.assignments
    labels = a["cluster_id"].to_numpy(dtype=np.int64)
    match = _match(prev, a["account_id"].to_numpy(dtype=object), labels)
    stable = match.stable
    assignments = a.copy()
    assignments["cluster_id"] = stable[labels]
    periphery = a["periphery_of"].astype("Int64")
    has = periphery.notna().to_numpy()
    mapped = periphery.copy()
    mapped[has] = stable[periphery[has].to_numpy(dtype=np.int64)]
    assignments["periphery_of"] = mapped
    assignments["first_seen"] = match.first_seen[labels]
    assignments["run"] = np.full(len(a), match.run, dtype=np.int64)
    assignments["next_id"] = np.full(len(a), match.next_id, dtype=np.int64)
    clusters = result.clusters.copy()
    canon = clusters["cluster_id"].to_numpy(dtype=np.int64)
    clusters["cluster_id"] = stable[canon]
    clusters["first_seen"] = match.first_seen[canon]
    clusters["age"] = match.run - match.first_seen[canon]
    evidence = result.evidence.copy()
    evidence["cluster_id"] = stable[evidence["cluster_id"].to_numpy(dtype=np.int64)]
    report = dataclasses.replace(result.report, notes=list(result.report.notes))
    kept = int((match.first_seen < match.run).sum())
    report.add("runs", f"clusters kept their id from run {prev.run} (of {len(stable):,}; the others got new ids "
               f"from {prev.next_id:,} up)", kept)
    return dataclasses.replace(result, assignments=assignments, clusters=clusters, evidence=evidence, report=report,
                               lineage=match.lineage)




# ---------------------------------------------------------------------------------------------- constraints

#: Relations an analyst constraint can state.
RELATIONS = ("must", "cannot")


def empty_constraints() -> pd.DataFrame:
    """An empty constraints table (``account_a, account_b, relation``)."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in ("account_a", "account_b", "relation")})


def read_constraints(source: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    """Read analyst constraints: one row ``account_a, account_b, relation`` per decision.

    ``relation`` is ``must`` (the two accounts are one operator: their
    clusters are merged) or ``cannot`` (never in one cluster: the less
    attached one leaves), case-insensitive. CSV, Parquet or JSON Lines files
    are read like observations (account ids verbatim).

    Raises
    ------
    InputError
        A column is missing, or a row has an empty account or another relation (the message names the row).
    """
    from .ingest import _read_file

    if isinstance(source, pd.DataFrame):
        frame, where = source, "the constraints"
    else:
        from pathlib import Path

        where = f"the constraints file {os.fspath(source)!r}"
        if not Path(os.fspath(source)).exists():
            raise InputError(f"{where} does not exist.")
        frame = _read_file(Path(os.fspath(source)))
    cols = [str(c) for c in frame.columns]
    for col in ("account_a", "account_b", "relation"):
        if col not in cols:
            raise InputError(f"column {col!r} not found in {where}; columns are {cols}; a constraints table has "
                             f"account_a, account_b, relation (must or cannot).")
    out = pd.DataFrame({c: frame[c].astype(str).to_numpy(dtype=object) for c in ("account_a", "account_b")})
    # A constraints table is small: plain Python strings (the str accessor's stubs differ between numpy versions).
    out["relation"] = np.array([str(v).strip().lower() for v in frame["relation"].tolist()], dtype=object)
    bad = ~out["relation"].isin(RELATIONS).to_numpy() | frame["account_a"].isna().to_numpy() \
        | frame["account_b"].isna().to_numpy() | (out["account_a"] == "").to_numpy() | (out["account_b"] == "").to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"row {row} of {where} must name two accounts and a relation 'must' or 'cannot'; it holds "
                         f"{frame.iloc[row].tolist()!r}.")
    return out.reset_index(drop=True)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes joined by the pairs (a, b), numbered by smallest node."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    adj = sp.coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    first = np.full(int(comp.max()) + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, comp, np.arange(n))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[comp]


def honour_constraints(accounts: np.ndarray, labels: np.ndarray, attachment: np.ndarray, constraints: pd.DataFrame,
                       report: Report) -> tuple[np.ndarray, np.ndarray]:
    """Apply analyst constraints to a clustering of sorted ``accounts``; return new labels and who left.

    ``must`` pairs merge their clusters (all of them: the analyst says the two
    accounts are one operator, so their clusters are one). Then, for every
    ``cannot`` pair left in one cluster, the less attached side leaves to a
    cluster of its own: the side is the account with every account a
    ``must`` chain ties it to (its *unit*), its attachment the mean of its
    members' (ties: the unit with the larger smallest account id leaves). A
    ``cannot`` pair inside one unit contradicts the ``must`` pairs and is not
    applied. One pass suffices: each pair sends one unit away, alone.

    Returns the labels (not canonical; fresh labels above the old ones) and
    a boolean per account: it left its cluster because of a ``cannot``.
    Notes in ``report`` count the constraints the evidence contradicted.
    """
    labels = labels.astype(np.int64).copy()
    n = len(accounts)
    index = pd.Index(accounts)
    ia = index.get_indexer(constraints["account_a"].to_numpy(dtype=object))
    ib = index.get_indexer(constraints["account_b"].to_numpy(dtype=object))
    known = (ia >= 0) & (ib >= 0)
    missing = np.flatnonzero(~known)
    report.add("constraints", "constraints name an account that is not in the input and were not applied", len(missing),
               [f"row {i}" for i in missing[:5]])
    rel = constraints["relation"].to_numpy(dtype=object)
    must = known & (rel == "must")
    cannot = known & (rel == "cannot")
    ma, mb = ia[must], ib[must]
    apart = labels[ma] != labels[mb]
    report.add("constraints", "must constraints joined accounts the evidence had put in different clusters (their "
               "clusters were merged)", int(apart.sum()),
               [f"{accounts[x]}~{accounts[y]}" for x, y in zip(ma[apart][:5], mb[apart][:5])])
    if len(ma):
        k = int(labels.max()) + 1
        merged = _components(k, labels[ma], labels[mb])
        # each merged group takes the label of its member cluster with the smallest label: labels stay labels
        low = np.full(int(merged.max()) + 1, k, dtype=np.int64)
        np.minimum.at(low, merged, np.arange(k))
        labels = low[merged][labels]
    unit = _components(n, ma, mb)
    ca, cb = ia[cannot], ib[cannot]
    inside = unit[ca] == unit[cb]
    report.add("constraints", "cannot constraints contradict must constraints (a chain of must pairs joins the two "
               "accounts) and were not applied", int(inside.sum()),
               [f"{accounts[x]}!~{accounts[y]}" for x, y in zip(ca[inside][:5], cb[inside][:5])])
    ca, cb = ca[~inside], cb[~inside]
    together = labels[ca] == labels[cb]
    report.add("constraints", "cannot constraints separated accounts the evidence had put in one cluster",
               int(together.sum()), [f"{accounts[x]}!~{accounts[y]}" for x, y in zip(ca[together][:5], cb[together][:5])])
    left = np.zeros(n, dtype=bool)
    ca, cb = ca[together], cb[together]
    if len(ca):
        n_units = int(unit.max()) + 1
        mean_att = np.bincount(unit, weights=attachment, minlength=n_units) / np.maximum(np.bincount(unit, minlength=n_units), 1)
        first = np.full(n_units, n, dtype=np.int64)
        np.minimum.at(first, unit, np.arange(n))
        ua, ub = unit[ca], unit[cb]
        a_leaves = (mean_att[ua] < mean_att[ub]) | ((mean_att[ua] == mean_att[ub]) & (first[ua] > first[ub]))
        leavers = np.unique(np.where(a_leaves, ua, ub))
        fresh = np.full(n_units, -1, dtype=np.int64)
        fresh[leavers] = int(labels.max()) + 1 + np.arange(len(leavers))
        moving = fresh[unit] >= 0
        labels[moving] = fresh[unit[moving]]
        left = moving
    return labels, left


def constraints_violated(accounts: np.ndarray, labels: np.ndarray, constraints: pd.DataFrame) -> pd.DataFrame:
    """Return the constraints a clustering breaks (``must`` pairs apart, ``cannot`` pairs together)."""
    index = pd.Index(accounts)
    ia = index.get_indexer(constraints["account_a"].to_numpy(dtype=object))
    ib = index.get_indexer(constraints["account_b"].to_numpy(dtype=object))
    ok = (ia >= 0) & (ib >= 0)
    same = np.zeros(len(constraints), dtype=bool)
    same[ok] = labels[ia[ok]] == labels[ib[ok]]
    rel = constraints["relation"].to_numpy(dtype=object)
    bad = ok & (((rel == "must") & ~same) | ((rel == "cannot") & same))
    return constraints[bad]


def honour_constraints_assign(accounts: np.ndarray, cluster: np.ndarray, status: np.ndarray, constraints: pd.DataFrame,
                              model: Any, report: Report) -> tuple[np.ndarray, np.ndarray]:
    """Constraints in incremental assignment: a ``must`` partner follows into a cluster; ``cannot`` keeps one out.

    ``must``: an account of the batch without a cluster of 2+ (a new account
    or a singleton) whose partner is in a cluster (in the batch or in the
    model) joins that cluster (status ``must``). ``cannot``: an account the
    batch placed (``joined`` or ``must``) into its partner's cluster is
    taken out again (status ``separated``). What incremental assignment
    cannot do — merge two clusters, or split two members of one saved
    cluster — is counted in the report: it waits for the next full run.
    """
    cluster = cluster.copy()
    status = status.copy()
    index = pd.Index(accounts)
    sizes = model._cluster_size
    m_index = model._account_index

    def where(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cluster of each account (batch first, then model; -1 none) and its batch index (-1 if not in batch)."""
        b = index.get_indexer(ids)
        m = m_index.get_indexer(ids)
        c = np.where(b >= 0, cluster[np.maximum(b, 0)] if len(cluster) else -1,
                     np.where(m >= 0, model.cluster[np.maximum(m, 0)] if len(model.cluster) else -1, -1))
        return c, b

    rel = constraints["relation"].to_numpy(dtype=object)
    a_ids = constraints["account_a"].to_numpy(dtype=object)
    b_ids = constraints["account_b"].to_numpy(dtype=object)
    waiting = 0
    for _ in range(3):  # a must chain through the batch settles in a few rounds
        moved = 0
        for x_ids, y_ids in ((a_ids, b_ids), (b_ids, a_ids)):
            cx, bx = where(x_ids)
            cy, _ = where(y_ids)
            size_x = sizes.reindex(cx).fillna(0).to_numpy() + 0
            size_y = sizes.reindex(cy).fillna(0).to_numpy() + 0
            follow = (rel == "must") & (bx >= 0) & (cy >= 0) & (cx != cy) & ((cx < 0) | (size_x < 2)) & (size_y >= 2)
            for i in np.flatnonzero(follow):
                if cluster[bx[i]] != cy[i]:
                    cluster[bx[i]] = cy[i]
                    status[bx[i]] = "must"
                    moved += 1
        if not moved:
            break
    for x_ids, y_ids in ((a_ids, b_ids), (b_ids, a_ids)):
        cx, bx = where(x_ids)
        cy, _ = where(y_ids)
        clash = (rel == "cannot") & (bx >= 0) & (cx >= 0) & (cx == cy)
        out = clash & np.isin(status[np.maximum(bx, 0)], ("joined", "must"))
        for i in np.flatnonzero(out):
            m = m_index.get_indexer([x_ids[i]])[0]
            single = m >= 0 and sizes.get(model.cluster[m], 0) < 2
            cluster[bx[i]] = model.cluster[m] if single else -1
            status[bx[i]] = "separated"
        waiting += int((clash & ~out).sum())
    cx, _ = where(a_ids)
    cy, _ = where(b_ids)
    apart = (rel == "must") & ((cx != cy) | (cx < 0))
    report.add("constraints", "must constraints join accounts of two saved clusters (or two new accounts); "
               "incremental assignment cannot merge clusters: the next full run will", int(apart.sum()))
    report.add("constraints", "cannot constraints concern two members of one saved cluster; the next full run "
               "will separate them", waiting)
    return cluster, status


def honour_membership(graph: Any, wobs: Any, membership: Any, constraints: pd.DataFrame, report: Report) -> Any:
    """:func:`honour_constraints` on a :class:`~sybilgraph.cluster.Membership`, ids made canonical again.

    Attachments are recomputed for the new clusters; an account that a
    ``cannot`` sent away names the cluster it left in ``periphery_of`` when it
    ends up alone, and every ``periphery_of`` follows its cluster to its new id.
    """
    from .cluster import _attachment, _canonical, _Edges

    old = membership.cluster
    labels, left = honour_constraints(wobs.accounts, old, membership.attachment, constraints, report)
    if np.array_equal(labels, old):
        return membership
    canonical = _canonical(labels)
    # Each old cluster's new id: where most of its accounts are now (ties: the smaller new id).
    pair, count = np.unique(old * (int(canonical.max()) + 1) + canonical, return_counts=True)
    o, c = pair // (int(canonical.max()) + 1), pair % (int(canonical.max()) + 1)
    best = np.lexsort((c, -count, o))
    o, c = o[best], c[best]
    first = np.r_[True, o[1:] != o[:-1]]
    heir = np.full(int(old.max()) + 1, -1, dtype=np.int64)
    heir[o[first]] = c[first]
    sizes = np.bincount(canonical)
    periphery = np.where(membership.periphery_of >= 0, heir[np.maximum(membership.periphery_of, 0)], -1)
    alone = sizes[canonical] < 2
    periphery[left & alone] = heir[old[left & alone]]
    periphery[~alone] = -1
    periphery[periphery == canonical] = -1
    attachment = _attachment(_Edges.of(graph, wobs), canonical)
    return dataclasses.replace(membership, cluster=canonical, attachment=attachment, periphery_of=periphery)
