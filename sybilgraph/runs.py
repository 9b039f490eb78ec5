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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from .results import ClusterResult

__all__ = ["Previous", "read_previous", "stabilise", "lineage_table", "EVENTS"]

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


