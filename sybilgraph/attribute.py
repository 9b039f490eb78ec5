"""Stage 7 — attribute: name the organisation behind each operator cluster.

Investigators hold *indicators* — a payment instrument, an office network
range, a corporate mail domain, a few known account ids — that touch only a
small share of an operator's accounts. The clusters carry that knowledge to
the rest of the operation: a cluster whose members carry an organisation's
indicators is attributed to that organisation, with a confidence, the
evidence behind it and any conflicting claim.

Scoring in brief (the reasoning is in ``docs/attribution.md``). For indicator
``i`` of organisation ``X`` matched by ``n`` accounts of cluster ``C``::

    p(i, C) = c_i * k_i * max(r(d_i), e(i, C)) * phi(n)

``c_i``
    the indicator's own confidence (column ``confidence``, default 1);
``k_i``
    the kind weight ``settings.weight_of(kind)`` capped at 1 (``account``
    indicators 1; a mail domain takes the weight of ``email``, a range that of
    ``ip``);
``d_i``, ``r``
    the indicator's carriers (distinct accounts matching it anywhere) and the
    rarity ``1 / log2 d`` of :func:`sybilgraph.weights.rarity` (1 for ``d <= 2``),
    so ``k_i * r(d_i)`` is the clustering's value weight: a value only a few
    accounts carry cannot be shared infrastructure and counts whatever else
    carries it;
``e(i, C)``
    the *exclusivity*: the share of the indicator's carriers inside ``C``. When
    ``C`` is *corroborated* — an indicator of ``X`` from another family of
    kinds also matches in it — the carriers in ``X``'s other corroborated
    clusters count as inside too, so a card spread over an organisation's six
    team clusters is exclusive to each of them, while a proxy exit shared with
    other clusters and ordinary customers is exclusive to none;
``phi(n)``
    ``n / (n + 2)`` for a cluster of two or more accounts (one matching member
    may be a stray the clustering let in; two make even odds), 1 for a single
    account (the account itself matched).

Evidence for ``X`` in ``C`` accumulates over indicators,
``R = 1 - prod(1 - p)``; competing organisations share it out in proportion
to their evidence ``E = -log(1 - R)``: ``confidence = R * E_X / sum(E)``.
A cluster is attributed when its leading organisation reaches
``min_confidence``. An account that matched an indicator itself is also
scored alone (``phi = 1``); it is attributed on that evidence when it reaches
``min_confidence`` and its cluster is unattributed, a single account, or
attributed to another organisation.

Before scoring, indicators too broad to be one organisation's (``0.0.0.0/0``,
``gmail.com``: more than ``max_share`` of all accounts, or spread over the
clusters like accounts at large) are ignored, listed in ``unmatched`` and named
in a note; see :func:`attribute`.

Examples
--------
>>> import pandas as pd, sybilgraph as sg
>>> from sybilgraph.attribute import attribute
>>> obs = pd.DataFrame({
...     "account_id": ["a1", "a2", "a3", "a1", "a2", "a3", "b1"],
...     "kind": ["payment"] * 3 + ["device"] * 3 + ["payment"],
...     "value": ["card-1"] * 3 + ["emu-7"] * 3 + ["card-9"]})
>>> result = sg.cluster_accounts(obs, seed=0)
>>> ind = pd.DataFrame({"organisation": ["Acme"], "kind": ["payment"], "value": ["card-1"]})
>>> att = attribute(result, ind)
>>> att.accounts[["account_id", "organisation", "confidence"]].fillna({"organisation": ""}).values.tolist()
[['a1', 'Acme', 0.6], ['a2', 'Acme', 0.6], ['a3', 'Acme', 0.6], ['b1', '', 0.0]]
"""

from __future__ import annotations

import bisect
import difflib
import ipaddress
import math
import numbers
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._arrays import factorize_text, text_array, unique_sorted
from ._errors import IndicatorError, InputError, ParameterError
from ._validation import check_number
from .kinds import ALWAYS_INDICATOR, ParsedIndicator
from .kinds import kind as kind_of
from .kinds import family as kind_family
from .results import ClusterResult
from .weights import rarity

if TYPE_CHECKING:  # pragma: no cover
    import argparse

__all__ = [
    "Attribution",
    "attribute",
    "attribute_cli",
    "read_indicators",
    "INDICATOR_COLUMNS",
    "SPECIAL_KINDS",
]

#: Columns an indicators table must have; ``confidence`` and ``source`` are optional.
INDICATOR_COLUMNS = ("organisation", "kind", "value")

#: Kinds accepted whatever the observations hold: ``ip`` (address or CIDR
#: range), ``email`` (address or domain) and ``account`` (a known account id).
SPECIAL_KINDS = (*ALWAYS_INDICATOR, "account")

IndicatorSource = Union[pd.DataFrame, str, "os.PathLike[str]"]

#: Column names often used for the required ones (for the hint in the error message).
_SYNONYMS = {
    "organisation": ("organization", "org", "operator", "owner", "actor", "company"),
    "kind": ("type", "indicator_type", "field"),
    "value": ("indicator", "ioc", "observable"),
}

#: Evidence below this is treated as absent when deciding what counts as a conflict.
_EPS = 1e-12
#: Cap on the per-organisation evidence so that ``-log(1 - R)`` stays finite.
_MAX_R = 1.0 - 1e-9


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Attribution:
    """Clusters attributed to organisations, with the evidence for each.

    Every table is a pandas DataFrame; ``organisation`` is missing (NA) where
    nothing was attributed.
    """

    clusters: pd.DataFrame
    """One row per cluster of two or more accounts, and per single account that
    matched an indicator itself: ``cluster_id, size, organisation, confidence,
    candidate, runner_up, runner_up_confidence, n_matched_accounts,
    n_indicators, conflict, evidence``. ``candidate`` is the leading
    organisation whatever its confidence; ``organisation`` is set only when
    ``confidence >= min_confidence``. Sorted by cluster id (largest first)."""
    evidence: pd.DataFrame
    """One row per (cluster, indicator, matching account):
    ``cluster_id, organisation, kind, value, matched_value, account_id, carriers,
    weight, exclusivity, evidence, source``. ``value`` is the indicator as
    given, ``matched_value`` the observed value it matched, ``carriers`` the
    accounts matching the indicator anywhere, ``weight`` its value weight
    (kind weight x rarity), ``exclusivity`` as described in the module notes and
    ``evidence`` the indicator's contribution ``p`` to the cluster."""
    accounts: pd.DataFrame
    """One row per account of ``result.assignments``, in its order:
    ``account_id, cluster_id, organisation, confidence, matched, via``.
    ``matched``: the account itself carries an indicator; ``confidence`` is 0
    where unattributed; ``via`` is ``"cluster"`` (attributed with its cluster of
    two or more), ``"self"`` (on its own matches: a single account, or a
    matching member of a cluster left unattributed or attributed to another
    organisation) or ``""``."""
    organisations: pd.DataFrame
    """One row per organisation named in the indicators: ``organisation, accounts``
    (attributed accounts), ``clusters`` (attributed clusters of two or more),
    ``single_accounts`` (accounts attributed on their own matches),
    ``matched_accounts`` (accounts carrying one of its indicators that were
    used), ``indicators, unmatched_indicators`` (matched no account),
    ``ignored_indicators`` (too broad, see :func:`attribute`) and, when
    exchanges were given, ``exchanges, share_of_traffic`` (of all accounts'
    exchanges). Sorted by accounts, largest first."""
    unmatched: pd.DataFrame
    """Indicators not used, by row: ``row, organisation, kind, value, reason``.
    Those that matched no account, and those ignored as too broad to be one
    organisation's (``reason`` starts with ``"too broad, ignored"`` and gives
    the figures)."""
    notes: tuple[str, ...]
    """What an investigator should know: indicators ignored as too broad (each
    named), unmatched indicators, organisations without any match or without
    an attributed cluster, conflicts, adjustments."""
    min_confidence: float
    """The threshold used."""

    @property
    def report(self) -> tuple[str, ...]:
        """Alias of :attr:`notes`."""
        return self.notes

    def summary(self) -> str:
        """Return one line per organisation, e.g. ``op-C: 15,000 accounts in 3 clusters, 13.0M exchanges``.

        Examples
        --------
        >>> import pandas as pd, sybilgraph as sg
        >>> obs = pd.DataFrame({"account_id": ["a", "b"], "kind": ["payment"] * 2, "value": ["c"] * 2})
        >>> att = attribute(sg.cluster_accounts(obs, seed=0),
        ...                 pd.DataFrame({"organisation": ["X"], "kind": ["payment"], "value": ["c"]}))
        >>> print(att.summary())
        organisation X: 2 accounts in 1 cluster; 1 indicator, 2 matched accounts
        """
        lines = []
        orgs = self.organisations
        with_traffic = "exchanges" in orgs.columns
        for r in orgs.to_dict(orient="records"):
            accounts, clusters, single = int(r["accounts"]), int(r["clusters"]), int(r["single_accounts"])
            text = f"organisation {r['organisation']}: {_count(accounts, 'account')}"
            if single:
                own = "its own match" if single == 1 else "their own matches"
                text += f" ({accounts - single:,} in {_count(clusters, 'cluster')}, {single:,} on {own})"
            else:
                text += f" in {_count(clusters, 'cluster')}"
            if with_traffic:
                text += f", {_human(float(r['exchanges']))} exchanges ({float(r['share_of_traffic']):.1%} of traffic)"
            text += f"; {_count(int(r['indicators']), 'indicator')}"
            if int(r.get("ignored_indicators", 0)):
                text += f" ({int(r['ignored_indicators']):,} ignored as too broad)"
            text += f", {_count(int(r['matched_accounts']), 'matched account')}"
            lines.append(text)
        return "\n".join(lines)

    def __repr__(self) -> str:
        attributed = int(self.accounts["organisation"].notna().sum())
        n_orgs = int((self.organisations["accounts"] > 0).sum())
        return (f"<Attribution: {attributed:,} of {len(self.accounts):,} accounts attributed to "
                f"{n_orgs} of {len(self.organisations)} organisations, {len(self.unmatched)} unmatched indicators, "
                f"min_confidence={self.min_confidence:g}>")


# --------------------------------------------------------------------------- API


def attribute(
    result: ClusterResult,
    indicators: IndicatorSource,
    *,
    exchanges: pd.DataFrame | str | os.PathLike[str] | None = None,
    min_confidence: float = 0.5,
    conflict_level: float = 0.25,
    max_share: float = 0.5,
    hub_spread: float | None = 0.5,
) -> Attribution:
    """Attribute the clusters of ``result`` to the organisations named by ``indicators``.

    Parameters
    ----------
    result : ClusterResult
        Output of :func:`sybilgraph.cluster_accounts`.
    indicators : DataFrame or path
        One row per indicator: ``organisation, kind, value`` and optionally
        ``confidence`` (in [0, 1], default 1) and ``source`` (free text kept in
        the evidence). A CSV, Parquet or JSON Lines file is read by suffix.
        Kinds: any kind of ``result.observations`` (matched exactly after
        normalisation), plus ``ip`` (an address or a CIDR range, IPv4 or
        IPv6), ``email`` (an address, or a domain matching every address at
        it) and ``account`` (a known account id).
    exchanges : DataFrame or path, optional
        ``account_id, exchanges``: traffic per account, to report each
        organisation's exchanges and share of all traffic.
    min_confidence : float, default 0.5
        A cluster is attributed when its leading organisation's confidence
        reaches this, in (0, 1].
    conflict_level : float, default 0.25
        A cluster is flagged ``conflict`` when a second organisation's own
        evidence ``R`` reaches this, in (0, 1].
    max_share : float, default 0.5
        An indicator matching more than this share of all accounts is too
        broad to be one organisation's and is ignored, in (0, 1]; 1 turns
        this test off. The default is a strict majority: no organisation of
        several is most of the population.
    hub_spread : float or None, default 0.5
        An indicator matching more accounts than the largest cluster holds,
        whose accounts fall into at least this share of the effective number
        of clusters that all accounts fall into, is a *hub* (a public mail
        provider, a carrier-NAT range) and is ignored, in (0, 1]; None turns
        this test off. See Notes.

    Returns
    -------
    Attribution
        ``accounts`` holds every account of ``result.assignments`` exactly once.

    Raises
    ------
    IndicatorError
        The indicators table is malformed (missing column, empty organisation
        or value, unknown kind, malformed address, range or e-mail, confidence
        outside [0, 1], duplicate rows); the message names the rows and the fix.
    ParameterError
        ``min_confidence``, ``conflict_level``, ``max_share`` or ``hub_spread``
        is out of range, or ``result`` is not a ClusterResult.
    InputError
        ``exchanges`` cannot be used.

    Notes
    -----
    Indicators that match nothing, and organisations none of whose indicators
    match, are not errors: they are listed in ``unmatched`` and ``notes``.

    *Too broad* indicators are ignored, listed in ``unmatched`` with the
    reason and named in a note: ``0.0.0.0/0`` and ``gmail.com`` would
    otherwise corroborate each other in thousands of unrelated clusters and
    hand their accounts to one organisation. An indicator matching two
    accounts or more is too broad when it matches every account (of three or
    more), or when it matches more accounts than the largest cluster holds
    and either more than ``max_share`` of all accounts or is a *hub* by the
    clustering's own measure. The *effective number of clusters* of a set of
    accounts ``S`` is ``|S|**2 / sum_C |S & C|**2`` (the inverse Simpson
    index; a singleton is a cluster of one). An organisation's indicator sits
    in the few clusters of its teams; a public mail domain's accounts spread
    over the clusters like accounts drawn at random. A hub's effective number
    of clusters reaches ``hub_spread`` times that of all accounts (0.5: as
    spread as a random sample of as many accounts as all accounts have
    effective clusters). The tests cost one pass over the matches.

    Accounts that are not members of a cluster of two or more (periphery
    accounts, singletons) are attributed only on their own matches. See
    ``docs/attribution.md`` for the scoring and its reasoning.

    Examples
    --------
    >>> import pandas as pd, sybilgraph as sg
    >>> rows = [(f"x{i}", "payment", f"card{i // 2}") for i in range(6)]
    >>> rows += [(f"x{i}", "ip", f"203.0.113.{i % 2 + 1}") for i in range(6)] + [("y", "ip", "198.51.100.9")]
    >>> result = sg.cluster_accounts(pd.DataFrame(rows, columns=["account_id", "kind", "value"]), seed=0)
    >>> ind = pd.DataFrame({"organisation": ["Acme", "Acme"], "kind": ["ip", "account"],
    ...                     "value": ["203.0.113.0/24", "x4"]})
    >>> att = attribute(result, ind)
    >>> att.clusters[["cluster_id", "size", "organisation", "confidence", "evidence"]].round(2).values.tolist()
    [[0, 6, 'Acme', 0.63, 'Acme: ip=203.0.113.0/24 (6); 1 known account']]
    """
    func = "attribute"
    if not isinstance(result, ClusterResult):
        raise ParameterError(f"The 'result' parameter of {func} must be a ClusterResult (from cluster_accounts). "
                             f"Got {type(result).__name__} instead.")
    min_confidence = check_number(min_confidence, "min_confidence", func, low=0, high=1, low_open=True)
    conflict_level = check_number(conflict_level, "conflict_level", func, low=0, high=1, low_open=True)
    max_share = check_number(max_share, "max_share", func, low=0, high=1, low_open=True)
    if hub_spread is not None:
        if isinstance(hub_spread, bool) or not isinstance(hub_spread, numbers.Real) or not 0 < float(hub_spread) <= 1:
            raise ParameterError(f"The 'hub_spread' parameter of {func} must be a float in (0, 1] or None (no hub test). "
                                 f"Got {hub_spread!r} instead.")
        hub_spread = float(hub_spread)

    obs = result.observations
    assign = result.assignments
    notes: list[str] = []
    allowed = sorted({str(k) for k in factorize_text(obs["kind"])[1]} | set(SPECIAL_KINDS))
    ind = read_indicators(indicators, allowed_kinds=allowed, notes=notes)

    acc_ids = assign["account_id"].to_numpy(dtype=object)
    acc_index = pd.Index(acc_ids)
    exch = _read_exchanges(exchanges, acc_index, notes) if exchanges is not None else None
    cluster = assign["cluster_id"].to_numpy(dtype=np.int64)
    size_of_cluster = np.bincount(cluster, minlength=int(cluster.max()) + 1 if len(cluster) else 0)

    matches = _match(ind, obs, acc_index)
    matches["cluster_id"] = cluster[matches["acc"].to_numpy()]
    broad = _broad(matches, len(ind), size_of_cluster, max_share, hub_spread)
    if len(broad):  # ignored: scored as if they were not listed
        matches = matches[~np.isin(matches["ind"].to_numpy(dtype=np.int64), broad["ind"].to_numpy())].reset_index(drop=True)

    scored, own = _score(ind, matches, size_of_cluster, result.settings)
    table = _cluster_table(ind, scored, matches, size_of_cluster, min_confidence, conflict_level)
    accounts = _account_table(assign, table, own, min_confidence)
    evidence = _evidence_table(ind, matches, scored)
    unmatched = _unmatched(ind, matches, broad)
    organisations = _organisation_table(ind, table, accounts, matches, broad, exch)
    _add_notes(notes, ind, table, organisations, unmatched, broad, min_confidence)
    return Attribution(
        clusters=table.reset_index(drop=True),
        evidence=evidence,
        accounts=accounts,
        organisations=organisations,
        unmatched=unmatched,
        notes=tuple(notes),
        min_confidence=min_confidence,
    )


def read_indicators(
    indicators: IndicatorSource,
    *,
    allowed_kinds: Sequence[str] | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Read and check an indicators table; return it normalised.

    Parameters
    ----------
    indicators : DataFrame or path
        ``organisation, kind, value[, confidence, source]``.
    allowed_kinds : sequence of str, optional
        Kinds accepted (default: any kind).
    notes : list of str, optional
        Receives notes on values that were adjusted (a range with host bits set).

    Returns
    -------
    DataFrame
        One row per indicator, in input order: ``row, organisation, kind, value,
        confidence, source, mode, key, family`` where ``mode`` is one of
        ``exact, cidr, domain, address, account``, ``key`` the normalised value
        that is matched (an ``ipaddress`` network for ``cidr``) and ``family``
        the family of kinds used to judge independent evidence.

    Raises
    ------
    IndicatorError
        See :func:`attribute`.

    Examples
    --------
    >>> t = read_indicators(pd.DataFrame({"organisation": ["A", "A"], "kind": ["IP", "email"],
    ...                                   "value": ["10.0.0.0/8", "@Example.COM"]}))
    >>> t[["kind", "mode", "family"]].values.tolist()
    [['ip', 'cidr', 'ip'], ['email', 'domain', 'email']]
    """
    notes = notes if notes is not None else []
    frame, where = _load(indicators)
    if len(frame) == 0:
        raise IndicatorError(f"{where}holds no indicator; expected rows of organisation, kind, value[, confidence, source].")
    cols = [str(c) for c in frame.columns]
    frame = frame.set_axis(cols, axis=1)
    missing = [c for c in INDICATOR_COLUMNS if c not in cols]
    if missing:
        hints = []
        spare = [c for c in cols if c not in INDICATOR_COLUMNS]
        for name in missing:
            guess = [c for c in spare if len(c) >= 3 and name.startswith(c.lower())]
            guess += difflib.get_close_matches(name, spare, n=1, cutoff=0.6)
            guess += [c for c in spare if c.lower() in _SYNONYMS.get(name, ())]
            if guess:
                hints.append(f"rename {guess[0]!r} to {name!r}")
        hint = "; " + ", ".join(hints) if hints else ""
        raise IndicatorError(f"{where}lacks column(s) {missing}; it needs organisation, kind, value "
                             f"(optionally confidence, source). Got columns {cols}{hint}.")
    n = len(frame)
    line = _line_namer(indicators)
    org = _text(frame["organisation"])
    kind = _text(frame["kind"]).str.lower()
    value = _text(frame["value"])
    for name, col in (("organisation", org), ("kind", kind), ("value", value)):
        empty = np.flatnonzero((col == "").to_numpy())
        if len(empty):
            raise IndicatorError(f"{where}has an empty {name} in {_rows(empty, line)}; every indicator needs an "
                                 f"organisation, a kind and a value — fill them in or delete those rows.")
    if allowed_kinds is not None:
        ok = set(allowed_kinds)
        bad = np.flatnonzero(~kind.isin(ok).to_numpy())
        if len(bad):
            first = kind.iloc[bad[0]]
            guess = difflib.get_close_matches(first, sorted(ok), n=1, cutoff=0.5)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            unknown = sorted(set(kind.iloc[bad]))
            raise IndicatorError(f"{where}has unknown kind(s) {unknown} in {_rows(bad, line)}{hint}; allowed kinds are the "
                                 f"kinds of the observations plus ip, email and account: {sorted(ok)}.")
    if "confidence" in cols:
        raw = frame["confidence"]
        text = _text(raw)
        conf = pd.to_numeric(raw.where(text != "", np.nan), errors="coerce").astype("float64")
        not_number = np.flatnonzero((conf.isna() & (text != "")).to_numpy())
        if len(not_number):
            raise IndicatorError(f"{where}has a confidence that is not a number in {_rows(not_number, line)} "
                                 f"(got {text.iloc[not_number[0]]!r}); write a number between 0 and 1, or leave it empty for 1.")
        out_of_range = np.flatnonzero(((conf < 0) | (conf > 1)).to_numpy())
        if len(out_of_range):
            raise IndicatorError(f"{where}has a confidence outside [0, 1] in {_rows(out_of_range, line)} "
                                 f"(got {conf.iloc[out_of_range[0]]:g}); write a probability between 0 and 1 "
                                 f"(e.g. 0.8 for 80%).")
        conf = conf.fillna(1.0)
    else:
        conf = pd.Series(np.ones(n))
    source = _text(frame["source"]) if "source" in cols else pd.Series([""] * n, dtype=object)

    mode = np.empty(n, dtype=object)
    key = np.empty(n, dtype=object)
    family = np.empty(n, dtype=object)
    bad_rows: list[tuple[int, str]] = []
    adjusted: list[str] = []
    kinds = kind.to_numpy(dtype=object)
    values = value.to_numpy(dtype=object)
    for k in pd.unique(kinds):  # a loop over kinds; values of one kind are parsed together
        rows_k = np.flatnonzero(kinds == k)
        parsed = [_parse(k, values[r]) for r in rows_k]
        for r, (m, kk, problem, note) in zip(rows_k, parsed):
            if problem:
                bad_rows.append((int(r), problem))
            if note:
                adjusted.append(f"{line(int(r))}: {note}")
            mode[r], key[r] = m, kk
            family[r] = "account" if k == "account" else kind_family(k)
    if bad_rows:
        shown = "; ".join(f"{line(r)}: {p}" for r, p in bad_rows[:5])
        more = f" (and {len(bad_rows) - 5} more)" if len(bad_rows) > 5 else ""
        raise IndicatorError(f"{where}has {len(bad_rows)} malformed value(s): {shown}{more}.")
    if adjusted:
        notes.append("indicators adjusted: " + "; ".join(adjusted[:5]) + (f" (and {len(adjusted) - 5} more)" if len(adjusted) > 5 else ""))
    out = pd.DataFrame({
        "row": np.arange(n),
        "organisation": org.to_numpy(dtype=object),
        "kind": kinds,
        "value": values,
        "confidence": conf.to_numpy(dtype=np.float64),
        "source": source.to_numpy(dtype=object),
        "mode": mode,
        "key": key,
        "family": family,
    })
    dup_key = out["organisation"] + "\x1f" + out["mode"] + "\x1f" + out["key"].map(str)
    dup = np.flatnonzero(dup_key.duplicated(keep=False).to_numpy())
    if len(dup):
        first = out.iloc[dup[0]]
        raise IndicatorError(f"{where}lists the same indicator more than once in {_rows(dup, line)} "
                             f"(e.g. {first['organisation']!r}, {first['kind']!r}, {first['value']!r}, after normalisation); "
                             "keep one row per organisation and value (merge their sources).")
    return out


def attribute_cli(args: "argparse.Namespace", result: ClusterResult) -> int:
    """Run ``sybilgraph attribute``: write one row per account and, optionally, the organisations.

    Writes ``account_id, cluster_id, organisation, confidence`` to
    ``args.output`` (``organisation`` empty where unattributed) and, with
    ``--summary FILE``, the per-organisation table — both together, each
    whole or not at all, CSV cells neutralised as by
    :func:`sybilgraph.write_table`; prints the summary, the unmatched
    indicators and the notes to stderr, control characters escaped.

    Parameters
    ----------
    args : argparse.Namespace
        Uses ``indicators``, ``output``, ``summary`` and ``exchanges``.
    result : ClusterResult
        The clustering of ``args.observations``.

    Returns
    -------
    int
        The exit status, 0.

    Examples
    --------
    ``sybilgraph attribute observations.parquet --indicators indicators.csv -o attributed.csv --summary orgs.csv``
    """
    import dataclasses

    from ._write import printable, staged_writes

    att = attribute(result, args.indicators, exchanges=getattr(args, "exchanges", None))
    out = att.accounts[["account_id", "cluster_id", "organisation", "confidence"]].copy()
    out["organisation"] = out["organisation"].astype(object).where(out["organisation"].notna(), "")
    out["confidence"] = out["confidence"].round(4)
    with staged_writes() as staging:
        staging.table(out, args.output)
        if getattr(args, "summary", None):
            staging.table(att.organisations, args.summary)
    # Escape the names before the summary joins them into lines, so a name cannot forge a line.
    orgs = att.organisations.copy()
    orgs["organisation"] = orgs["organisation"].map(printable)
    print(printable(dataclasses.replace(att, organisations=orgs).summary(), lines=True), file=sys.stderr)
    for row in att.unmatched.itertuples(index=False):
        print(printable(f"unmatched indicator: {row.organisation}, {row.kind}, {row.value} ({row.reason})"), file=sys.stderr)
    for note in att.notes:
        print(printable(f"note: {note}"), file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- reading


def _load(indicators: IndicatorSource) -> tuple[pd.DataFrame, str]:
    if isinstance(indicators, pd.DataFrame):
        return indicators.reset_index(drop=True), "the indicators table "
    if isinstance(indicators, (str, os.PathLike)):
        from .ingest import _read_file

        path = Path(os.fspath(indicators))
        try:
            frame = _read_file(path)
        except InputError as err:
            raise IndicatorError(f"cannot read the indicators: {err}") from err
        return frame.reset_index(drop=True), f"the indicators file {str(path)!r} "
    raise IndicatorError(f"indicators must be a pandas DataFrame or the path of a CSV, Parquet or JSON Lines file. "
                         f"Got {type(indicators).__name__}.")


def _line_namer(source: object):  # type: ignore[no-untyped-def]
    if isinstance(source, pd.DataFrame):
        return lambda r: f"row {r}"
    return lambda r: f"row {r} (line {r + 2})"


def _rows(rows: np.ndarray, line) -> str:  # type: ignore[no-untyped-def]
    shown = ", ".join(line(int(r)) for r in rows[:5])
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def _text(column: pd.Series) -> pd.Series:
    values = np.asarray(column.astype(object).where(column.notna(), None), dtype=object)
    out = np.array(["" if v is None or (isinstance(v, float) and math.isnan(v)) else
                    (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in values], dtype=object)
    return pd.Series(out, dtype=object).str.strip()


def _parse(name: str, value: str) -> ParsedIndicator:
    """Return (mode, key, problem, note) for one indicator value, read as its kind says."""
    if name == "account":
        return "account", value, None, None
    parse = kind_of(name).parse_indicator
    return parse(value) if parse is not None else ("exact", value, None, None)


# --------------------------------------------------------------------------- matching


def _arrow(column: pd.Series) -> pa.ChunkedArray:
    """The column as a pyarrow string array (zero-copy for pyarrow-backed strings)."""
    arr = pa.chunked_array([pa.array(column, from_pandas=True)]) if not isinstance(column.array, pd.arrays.ArrowStringArray) \
        else pa.chunked_array(column.array.__arrow_array__())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.large_string())
    return arr


def _match(ind: pd.DataFrame, obs: pd.DataFrame, acc_index: pd.Index) -> pd.DataFrame:
    """Return the matches: one row per (indicator, account, observed value).

    Columns ``ind`` (indicator position), ``account_id``, ``acc`` (position in
    ``acc_index``) and ``matched_value``; sorted by indicator and account. Values are
    looked up with hash sets over the whole column (pyarrow ``index_in``); ranges over
    the sorted distinct addresses; domains over the distinct addresses.
    """
    mode = ind["mode"].to_numpy(dtype=object)
    kinds = ind["kind"].to_numpy(dtype=object)
    keys = ind["key"].to_numpy(dtype=object)
    ids = np.arange(len(ind), dtype=np.int64)
    lookups: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}  # observed kind -> (indicator ids, values)

    def want(kind: str, ind_ids: np.ndarray, values: np.ndarray) -> None:
        if len(ind_ids):
            lookups.setdefault(kind, []).append((np.asarray(ind_ids, dtype=np.int64), np.asarray(values, dtype=object)))

    sel = mode == "exact"
    for k in pd.unique(kinds[sel]):  # a loop over kinds
        s = sel & (kinds == k)
        want(kind_of(str(k)).matched_in, ids[s], keys[s])
    sel = mode == "address"
    want("email", ids[sel], keys[sel])

    need_obs = bool(lookups) or bool((mode == "cidr").any()) or bool((mode == "domain").any())
    val_col = _arrow(obs["value"]) if need_obs else None
    kind_codes, kind_names = factorize_text(obs["kind"]) if need_obs else (np.zeros(0, np.int64), np.zeros(0, object))
    code_of_kind = {name: code for code, name in enumerate(kind_names)}
    kind_codes = pa.array(np.asarray(kind_codes, dtype=np.int32))
    masks: dict[str, Any] = {}

    def mask_of(kind: str) -> Any:
        if kind not in masks:
            code = code_of_kind.get(kind)
            masks[kind] = (pc.equal(kind_codes, pa.scalar(code, pa.int32())) if code is not None
                           else pa.array(np.zeros(len(kind_codes), dtype=bool)))
        return masks[kind]

    def distinct_values(kind: str) -> np.ndarray:
        values = pc.unique(pc.filter(val_col, mask_of(kind)))  # type: ignore[arg-type]
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)

    sel = np.flatnonzero(mode == "cidr")
    if len(sel):
        hit_ind, hit_val = _match_ranges(keys[sel], sel, distinct_values("ip"))
        want("ip", hit_ind, hit_val)
    sel = np.flatnonzero(mode == "domain")
    if len(sel):
        addr = distinct_values("email")
        if len(addr):
            found = pc.extract_regex(pa.array(addr, type=pa.large_string()), r"@(?P<domain>[^@]*)$")
            dom = np.asarray(pc.struct_field(found, [0]).to_numpy(zero_copy_only=False), dtype=object)
            a_codes, a_keys = _lookup(dom, keys[sel])
            want("email", sel[a_keys], addr[a_codes])

    out_ind: list[np.ndarray] = []
    out_acc: list[np.ndarray] = []
    out_val: list[np.ndarray] = []
    acc_col = _arrow(obs["account_id"]) if lookups else None
    for kind, wanted in lookups.items():  # a loop over kinds
        w_ind = np.concatenate([w[0] for w in wanted])
        w_val = np.concatenate([w[1] for w in wanted])
        codes, uniques = factorize_text(w_val)
        pos = pc.index_in(val_col, value_set=pa.array(np.asarray(uniques, dtype=object), type=val_col.type))  # type: ignore[union-attr]
        hit = pc.and_(pc.is_valid(pos), mask_of(kind))
        rows = np.flatnonzero(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool))
        if not len(rows):
            continue
        take = pa.array(rows)
        code = np.asarray(pc.take(pos, take).to_numpy(zero_copy_only=False), dtype=np.int64)
        accounts = np.asarray(pc.take(acc_col, take).to_numpy(zero_copy_only=False), dtype=object)  # type: ignore[arg-type]
        # every (hit row, wanted pair with the same value) — a value may belong to several indicators
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        start = np.searchsorted(sorted_codes, code, side="left")
        count = np.searchsorted(sorted_codes, code, side="right") - start
        rep = np.repeat(np.arange(len(rows)), count)
        pair = order[np.repeat(start, count) + (np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count))]
        out_ind.append(w_ind[pair])
        out_acc.append(accounts[rep])
        out_val.append(np.asarray(uniques, dtype=object)[code[rep]])
    sel = np.flatnonzero(mode == "account")
    if len(sel):
        known = acc_index.get_indexer(pd.Index(keys[sel])) >= 0
        out_ind.append(sel[known])
        out_acc.append(keys[sel][known])
        out_val.append(keys[sel][known])
    if not out_ind:
        return pd.DataFrame({"ind": np.zeros(0, np.int64), "account_id": np.zeros(0, object),
                             "acc": np.zeros(0, np.int64), "matched_value": np.zeros(0, object)})
    account_id = np.concatenate(out_acc)
    out = pd.DataFrame({"ind": np.concatenate(out_ind).astype(np.int64), "account_id": account_id,
                        "acc": acc_index.get_indexer(pd.Index(account_id)).astype(np.int64),
                        "matched_value": np.concatenate(out_val)})
    out = out[out["acc"] >= 0]
    out = out.drop_duplicates(["ind", "acc", "matched_value"])
    order = np.lexsort((out["acc"].to_numpy(), out["ind"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def _lookup(values: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` with ``values[i] == wanted[j]`` (hash join)."""
    codes, _ = factorize_text(np.concatenate([np.asarray(wanted, dtype=object), np.asarray(values, dtype=object)]))
    w_codes, v_codes = codes[: len(wanted)], codes[len(wanted):]
    order = np.argsort(w_codes, kind="stable")
    sorted_w = w_codes[order]
    start = np.searchsorted(sorted_w, v_codes, side="left")
    count = np.searchsorted(sorted_w, v_codes, side="right") - start
    i = np.repeat(np.arange(len(values)), count)
    j = order[np.repeat(start, count) + (np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count))]
    return i.astype(np.int64), j.astype(np.int64)


def _match_ranges(nets: np.ndarray, ind_ids: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Match CIDR ranges to distinct canonical addresses; return (indicator id, address) pairs."""
    out_ind: list[np.ndarray] = []
    out_val: list[np.ndarray] = []
    if not len(distinct):
        return np.zeros(0, np.int64), np.zeros(0, object)
    arr = pa.array(distinct, type=pa.large_string())
    is_v6 = np.asarray(pc.match_substring(arr, ":").to_numpy(zero_copy_only=False), dtype=bool)
    v4_text = distinct[~is_v6]
    is_v4_net = np.array([isinstance(n, ipaddress.IPv4Network) for n in nets], dtype=bool)
    if is_v4_net.any() and len(v4_text):
        octets = pc.list_flatten(pc.split_pattern(pa.array(v4_text, type=pa.large_string()), "."))
        o = np.asarray(pc.cast(octets, pa.int64()).to_numpy(), dtype=np.int64).reshape(-1, 4)
        ints = (o[:, 0] << 24) | (o[:, 1] << 16) | (o[:, 2] << 8) | o[:, 3]
        order = np.argsort(ints, kind="stable")
        sorted_ints = ints[order]
        v4n = nets[is_v4_net]
        lo = np.array([int(n.network_address) for n in v4n], dtype=np.int64)
        hi = np.array([int(n.broadcast_address) for n in v4n], dtype=np.int64)
        a = np.searchsorted(sorted_ints, lo, side="left")
        b = np.searchsorted(sorted_ints, hi, side="right")
        counts = b - a
        if counts.sum():
            which = np.repeat(np.arange(len(v4n)), counts)
            pos = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(a, counts)
            out_ind.append(ind_ids[is_v4_net][which])
            out_val.append(v4_text[order[pos]])
    if (~is_v4_net).any() and is_v6.any():
        v6_text = distinct[is_v6]
        v6_int = [int(ipaddress.IPv6Address(t)) for t in v6_text]  # distinct IPv6 values only
        v6_order = sorted(range(len(v6_int)), key=v6_int.__getitem__)
        sorted_v6 = [v6_int[i] for i in v6_order]
        for ind_id, net in zip(ind_ids[~is_v4_net], nets[~is_v4_net]):  # a loop over IPv6 indicators
            lo6 = bisect.bisect_left(sorted_v6, int(net.network_address))
            hi6 = bisect.bisect_right(sorted_v6, int(net.broadcast_address))
            if hi6 > lo6:
                out_ind.append(np.full(hi6 - lo6, ind_id, dtype=np.int64))
                out_val.append(v6_text[np.asarray(v6_order[lo6:hi6], dtype=np.int64)])
    if not out_ind:
        return np.zeros(0, np.int64), np.zeros(0, object)
    return np.concatenate(out_ind).astype(np.int64), np.concatenate(out_val).astype(object)


# --------------------------------------------------------------------------- scoring


def _kind_weight(ind: pd.DataFrame, settings: Any) -> np.ndarray:
    """Kind weight of each indicator, capped at 1 (see the module notes)."""
    out = np.empty(len(ind))
    kinds = ind["kind"].to_numpy(dtype=object)
    modes = ind["mode"].to_numpy(dtype=object)
    for kind, mode in set(zip(kinds, modes)):  # a loop over (kind, mode) pairs
        if kind == "account":
            w = 1.0
        elif mode == "domain":
            w = settings.weight_of("email")
        elif mode == "cidr":
            w = settings.weight_of("ip")
        else:
            w = settings.weight_of(str(kind))
        out[(kinds == kind) & (modes == mode)] = min(1.0, float(w))
    return out


def _score(ind: pd.DataFrame, matches: pd.DataFrame, size_of_cluster: np.ndarray,
           settings: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every (indicator, cluster) pair and every (indicator, matching account) pair.

    Returns
    -------
    clusters : DataFrame
        One row per (indicator, cluster): ``ind, cluster_id, organisation, family, n,
        carriers, weight, exclusivity, p, corroborated``.
    accounts : DataFrame
        One row per (indicator, matching account): ``ind, acc, cluster_id, organisation,
        exclusivity, p`` — the evidence the match gives about the account alone.
    """
    if not len(matches):
        empty_c = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in (
            ("ind", np.int64), ("cluster_id", np.int64), ("organisation", object), ("family", object), ("n", np.int64),
            ("carriers", np.int64), ("weight", float), ("exclusivity", float), ("p", float), ("corroborated", bool))})
        empty_a = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in (
            ("ind", np.int64), ("acc", np.int64), ("cluster_id", np.int64), ("organisation", object),
            ("exclusivity", float), ("p", float))})
        return empty_c, empty_a
    org = ind["organisation"].to_numpy(dtype=object)
    acc = matches[["ind", "acc", "cluster_id"]].drop_duplicates(["ind", "acc"])
    carriers = acc.groupby("ind").size()
    ic = acc.groupby(["ind", "cluster_id"], sort=True).size().rename("n").reset_index()
    i = ic["ind"].to_numpy(dtype=np.int64)
    ic["organisation"] = org[i]
    ic["family"] = ind["family"].to_numpy(dtype=object)[i]
    ic["carriers"] = carriers.reindex(i).to_numpy(dtype=np.int64)

    # A cluster is *corroborated* for indicator i when an indicator of the same organisation
    # from another family of kinds also matches in it.
    fam = ic[["organisation", "cluster_id", "family"]].drop_duplicates()
    n_fam = fam.groupby(["organisation", "cluster_id"]).size().rename("n_fam")
    ic = ic.join(n_fam, on=["organisation", "cluster_id"])
    corroborated = (ic["n_fam"] >= 2).to_numpy()
    n = ic["n"].to_numpy(dtype=np.float64)
    n_corr = np.where(corroborated, n, 0.0)
    in_fp = pd.Series(n_corr).groupby(i).transform("sum").to_numpy()  # carriers in corroborated clusters
    single = size_of_cluster[ic["cluster_id"].to_numpy(dtype=np.int64)] < 2
    d = ic["carriers"].to_numpy(dtype=np.float64)
    # own share, plus the organisation's other corroborated clusters when this one is
    # corroborated too (or is a single account, which only speaks for itself)
    credit = corroborated | single
    excl = np.where(credit, n + in_fp - n_corr, n) / d
    kw = _kind_weight(ind, settings)
    r = _rarity(d)
    c = ind["confidence"].to_numpy(dtype=np.float64)
    phi = np.where(single, 1.0, n / (n + 2.0))
    ic["weight"] = kw[i] * r
    ic["exclusivity"] = excl
    ic["p"] = np.clip(c[i] * kw[i] * np.maximum(r, excl) * phi, 0.0, 1.0)
    ic["corroborated"] = corroborated
    ic = ic.drop(columns="n_fam")

    # Evidence about each matching account alone: its own carrying of the value plus the
    # organisation's corroborated footprint (the single-account case above, for any account).
    fp = pd.Series(in_fp, index=pd.MultiIndex.from_arrays([i, ic["cluster_id"].to_numpy()]))
    corr = pd.Series(corroborated, index=fp.index)
    ai = acc["ind"].to_numpy(dtype=np.int64)
    key = pd.MultiIndex.from_arrays([ai, acc["cluster_id"].to_numpy()])
    a_fp = fp.reindex(key).to_numpy()
    a_corr = corr.reindex(key).to_numpy(dtype=bool)
    a_d = carriers.reindex(ai).to_numpy(dtype=np.float64)
    a_excl = (a_fp + np.where(a_corr, 0.0, 1.0)) / a_d
    a_r = _rarity(a_d)
    accounts = pd.DataFrame({
        "ind": ai,
        "acc": acc["acc"].to_numpy(dtype=np.int64),
        "cluster_id": acc["cluster_id"].to_numpy(dtype=np.int64),
        "organisation": org[ai],
        "exclusivity": a_excl,
        "p": np.clip(c[ai] * kw[ai] * np.maximum(a_r, a_excl), 0.0, 1.0),
    })
    return ic, accounts


def _rarity(d: np.ndarray) -> np.ndarray:
    """Rarity of a value carried by ``d`` accounts, 1 for one or two carriers."""
    return np.where(d <= 2, 1.0, rarity(np.maximum(d, 2)))


def _share_out(pieces: pd.DataFrame, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Combine evidence ``p`` per (key, organisation) and share it out among organisations.

    Returns the leading and the runner-up organisation per key, each indexed by ``key``
    with columns ``organisation, R, confidence``.
    """
    cols = ["organisation", "R", "confidence"]
    pieces = pieces[pieces["p"] > _EPS]
    if not len(pieces):
        empty = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in zip(cols, (object, float, float))})
        empty.index = pd.Index([], dtype=np.int64, name=key)
        return empty, empty.copy()
    log_keep = np.log1p(-np.minimum(pieces["p"].to_numpy(dtype=np.float64), _MAX_R))
    co = pd.DataFrame({key: pieces[key].to_numpy(dtype=np.int64),
                       "organisation": pieces["organisation"].to_numpy(dtype=object), "lk": log_keep})
    co = co.groupby([key, "organisation"], sort=True)["lk"].sum().reset_index()
    co["R"] = -np.expm1(co["lk"].to_numpy())
    evidence = -co["lk"]
    co["confidence"] = co["R"] * evidence / evidence.groupby(co[key]).transform("sum")
    co = co.sort_values([key, "confidence", "organisation"], ascending=[True, False, True], kind="stable")
    rank = co.groupby(key).cumcount().to_numpy()
    lead = co.loc[rank == 0, [key] + cols].set_index(key)
    second = co.loc[rank == 1, [key] + cols].set_index(key)
    return lead, second


def _reaches(confidence: np.ndarray, threshold: float) -> np.ndarray:
    """``confidence >= threshold``, tolerant to rounding (a lone piece at exactly the threshold passes)."""
    return confidence >= threshold - 1e-9


def _cluster_table(ind: pd.DataFrame, scored: pd.DataFrame, matches: pd.DataFrame, size_of_cluster: np.ndarray,
                   min_confidence: float, conflict_level: float) -> pd.DataFrame:
    multi = np.flatnonzero(size_of_cluster >= 2)
    lead, second = _share_out(scored, "cluster_id")
    ids = np.union1d(multi, lead.index.to_numpy(dtype=np.int64)).astype(np.int64)
    out = pd.DataFrame({"cluster_id": ids, "size": size_of_cluster[ids].astype(np.int64)})
    cand = lead["organisation"].reindex(ids).to_numpy(dtype=object)
    conf = lead["confidence"].reindex(ids).fillna(0.0).to_numpy(dtype=np.float64)
    out["organisation"] = pd.Series(cand, dtype=object).where(_reaches(conf, min_confidence), None).to_numpy(dtype=object)
    out["confidence"] = conf
    out["candidate"] = cand
    out["runner_up"] = second["organisation"].reindex(ids).to_numpy(dtype=object)
    out["runner_up_confidence"] = second["confidence"].reindex(ids).fillna(0.0).to_numpy(dtype=np.float64)
    out["conflict"] = second["R"].reindex(ids).fillna(0.0).to_numpy(dtype=np.float64) >= conflict_level

    # matched accounts and indicators of the leading organisation, and the evidence text
    n_matched: np.ndarray = np.zeros(len(ids), dtype=np.int64)
    n_ind: np.ndarray = np.zeros(len(ids), dtype=np.int64)
    text: np.ndarray = np.full(len(ids), "", dtype=object)
    if len(lead):
        lead_org = lead["organisation"].rename("lead")
        sl = scored[scored["p"] > _EPS].join(lead_org, on="cluster_id")
        sl = sl[sl["organisation"] == sl["lead"]]
        n_ind = np.bincount(np.searchsorted(ids, sl["cluster_id"].to_numpy(dtype=np.int64)), minlength=len(ids))
        text = _evidence_text(ind, sl, ids)
        mo = pd.DataFrame({"cluster_id": matches["cluster_id"].to_numpy(dtype=np.int64),
                           "organisation": ind["organisation"].to_numpy(dtype=object)[matches["ind"].to_numpy(dtype=np.int64)],
                           "acc": matches["acc"].to_numpy(dtype=np.int64)}).drop_duplicates()
        mo = mo.join(lead_org, on="cluster_id")
        mo = mo[mo["organisation"] == mo["lead"]]
        n_matched = np.bincount(np.searchsorted(ids, mo["cluster_id"].to_numpy(dtype=np.int64)), minlength=len(ids))
    out["n_matched_accounts"] = n_matched.astype(np.int64)
    out["n_indicators"] = n_ind.astype(np.int64)
    text = np.asarray(text, dtype=object)
    hit = np.flatnonzero(out["conflict"].to_numpy())
    if len(hit):  # name the competing organisation and its own evidence R
        r2 = second["R"].reindex(ids).to_numpy(dtype=np.float64)[hit]
        text[hit] = text[hit] + np.array([f"; also {o} (evidence {r:.2f})"
                                          for o, r in zip(out["runner_up"].to_numpy(dtype=object)[hit], r2)], dtype=object)
    out["evidence"] = text
    return out[["cluster_id", "size", "organisation", "confidence", "candidate", "runner_up", "runner_up_confidence",
                "n_matched_accounts", "n_indicators", "conflict", "evidence"]].reset_index(drop=True)


def _evidence_text(ind: pd.DataFrame, sl: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """Short text per cluster: the leading organisation's three strongest indicators."""
    kinds = ind["kind"].to_numpy(dtype=object)
    label_of = (pd.Series(kinds, dtype=object) + "=" + ind["value"].map(_short).astype(object)).to_numpy(dtype=object)
    si = sl["ind"].to_numpy(dtype=np.int64)
    is_acc = kinds[si] == "account"
    items = []
    if (~is_acc).any():
        other = sl[~is_acc]
        n = other["n"].to_numpy(dtype=np.int64)
        items.append(pd.DataFrame({"cluster_id": other["cluster_id"].to_numpy(dtype=np.int64), "p": other["p"].to_numpy(),
                                   "t": label_of[si[~is_acc]], "n": n}))
    if is_acc.any():
        g = sl[is_acc].groupby("cluster_id").agg(n=("n", "sum"), p=("p", "max")).reset_index()
        items.append(pd.DataFrame({"cluster_id": g["cluster_id"].to_numpy(dtype=np.int64), "p": g["p"].to_numpy(),
                                   "t": np.where(g["n"].to_numpy() == 1, "known account", "known accounts").astype(object),
                                   "n": -g["n"].to_numpy(dtype=np.int64)}))
    out = np.full(len(ids), "", dtype=object)
    if not items:
        return out
    t = pd.concat(items, ignore_index=True)
    t = t.sort_values(["cluster_id", "p", "t"], ascending=[True, False, True], kind="stable")
    t = t[t.groupby("cluster_id").cumcount().to_numpy() < 3]
    n = t["n"].to_numpy()
    # "payment=card-1 (58)" for values, "12 known accounts" for account indicators
    piece = np.where(n >= 0, t["t"].to_numpy(dtype=object) + " (" + np.abs(n).astype(str).astype(object) + ")",
                     np.abs(n).astype(str).astype(object) + " " + t["t"].to_numpy(dtype=object))
    pos = np.searchsorted(ids, t["cluster_id"].to_numpy(dtype=np.int64))
    first = np.r_[True, pos[1:] != pos[:-1]]
    for rank in range(3):  # at most three pieces per cluster
        rank_of = np.arange(len(pos)) - np.maximum.accumulate(np.where(first, np.arange(len(pos)), 0))
        take = rank_of == rank
        sep = ": " if rank == 0 else "; "
        out[pos[take]] = out[pos[take]] + sep + piece[take]
    lead = sl.drop_duplicates("cluster_id").set_index("cluster_id")["organisation"].reindex(ids)
    has = out != ""
    out[has] = lead.to_numpy(dtype=object)[has].astype(str).astype(object) + out[has]
    return out


def _account_table(assign: pd.DataFrame, table: pd.DataFrame, own: pd.DataFrame,
                   min_confidence: float) -> pd.DataFrame:
    """One row per account: its cluster's organisation, else its own when it matched."""
    cluster = assign["cluster_id"].to_numpy(dtype=np.int64)
    n = len(cluster)
    k = int(cluster.max()) + 1 if n else 0
    org_of = np.full(k, None, dtype=object)
    conf_of = np.zeros(k)
    hit = table[table["organisation"].notna()]
    org_of[hit["cluster_id"].to_numpy(dtype=np.int64)] = hit["organisation"].to_numpy(dtype=object)
    conf_of[hit["cluster_id"].to_numpy(dtype=np.int64)] = hit["confidence"].to_numpy(dtype=np.float64)
    org = org_of[cluster] if n else np.zeros(0, dtype=object)
    conf = conf_of[cluster] if n else np.zeros(0)
    multi = np.bincount(cluster, minlength=k)[cluster] >= 2 if n else np.zeros(0, dtype=bool)
    via = np.where(pd.isna(org), "", np.where(multi, "cluster", "self")).astype(object)
    matched = np.zeros(n, dtype=bool)
    matched[unique_sorted(own["acc"].to_numpy(dtype=np.int64))] = True
    # Accounts that matched themselves: their own evidence, where their cluster is left
    # unattributed or names another organisation (what is known of the account itself
    # outranks what is inferred through its cluster).
    lead, _ = _share_out(own, "acc")
    if len(lead):
        a = lead.index.to_numpy(dtype=np.int64)
        own_org = lead["organisation"].to_numpy(dtype=object)
        take = _reaches(lead["confidence"].to_numpy(dtype=np.float64), min_confidence) & (
            pd.isna(org[a]) | (org[a] != own_org))
        org[a[take]] = lead["organisation"].to_numpy(dtype=object)[take]
        conf[a[take]] = lead["confidence"].to_numpy(dtype=np.float64)[take]
        via[a[take]] = "self"
    return pd.DataFrame({
        "account_id": assign["account_id"].to_numpy(dtype=object),
        "cluster_id": cluster,
        "organisation": text_array(org),
        "confidence": conf,
        "matched": matched,
        "via": text_array(via),
    })


def _evidence_table(ind: pd.DataFrame, matches: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    i = matches["ind"].to_numpy(dtype=np.int64)
    out = pd.DataFrame({
        "cluster_id": matches["cluster_id"].to_numpy(dtype=np.int64),
        "organisation": ind["organisation"].to_numpy(dtype=object)[i],
        "kind": ind["kind"].to_numpy(dtype=object)[i],
        "value": ind["value"].to_numpy(dtype=object)[i],
        "matched_value": matches["matched_value"].to_numpy(dtype=object),
        "account_id": matches["account_id"].to_numpy(dtype=object),
        "ind": i,
    })
    figures = scored.set_index(["ind", "cluster_id"])[["carriers", "weight", "exclusivity", "p"]]
    out = out.join(figures, on=["ind", "cluster_id"])
    out = out.rename(columns={"p": "evidence"})
    out["carriers"] = out["carriers"].fillna(0).astype(np.int64)
    out["source"] = ind["source"].to_numpy(dtype=object)[i]
    out["acc"] = matches["acc"].to_numpy(dtype=np.int64)
    out = out.sort_values(["cluster_id", "evidence", "ind", "acc"], ascending=[True, False, True, True], kind="stable")
    return out.drop(columns=["ind", "acc"]).reset_index(drop=True)


def _broad(matches: pd.DataFrame, n_ind: int, size_of_cluster: np.ndarray, max_share: float,
           hub_spread: float | None) -> pd.DataFrame:
    """Find the indicators too broad to be one organisation's (see :func:`attribute`, Notes).

    Returns
    -------
    DataFrame
        One row per such indicator, by position: ``ind, carriers, share`` (of all
        accounts), ``spread`` (effective number of clusters of its accounts),
        ``all_spread`` (that of all accounts), ``test`` (``"share"`` or ``"hub"``)
        and ``reason`` (text for ``Attribution.unmatched``).
    """
    columns = {"ind": np.int64, "carriers": np.int64, "share": float, "spread": float, "all_spread": float,
               "test": object, "reason": object}
    n = int(size_of_cluster.sum())
    if n < 3 or not len(matches):
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    pairs = matches[["ind", "acc", "cluster_id"]].drop_duplicates(["ind", "acc"])
    i = pairs["ind"].to_numpy(dtype=np.int64)
    carriers = np.bincount(i, minlength=n_ind)
    # accounts per (indicator, cluster), then the inverse Simpson index of each indicator's accounts
    per = pd.DataFrame({"ind": i, "c": pairs["cluster_id"].to_numpy(dtype=np.int64)}).groupby(["ind", "c"], sort=False).size()
    n_ic = per.to_numpy(dtype=np.float64)
    sq = np.bincount(per.index.get_level_values(0).to_numpy(dtype=np.int64), weights=n_ic * n_ic, minlength=n_ind)
    d = carriers.astype(np.float64)
    spread = np.divide(d * d, sq, out=np.zeros(n_ind), where=sq > 0)
    sizes = size_of_cluster.astype(np.float64)
    all_spread = float(n) * n / float((sizes * sizes).sum())
    # One account, or no more accounts than the largest cluster holds, can be one organisation's;
    # an indicator matching every account tells no account apart, whatever the clusters.
    eligible = (carriers >= 2) & ((d > sizes.max()) | (carriers == n))
    by_share = eligible & (d > max_share * n)
    by_hub = np.zeros(n_ind, dtype=bool)
    if hub_spread is not None:
        by_hub = eligible & ~by_share & (spread >= hub_spread * all_spread * (1 - 1e-9))
    hit = np.flatnonzero(by_share | by_hub)
    share = d[hit] / n
    test = np.where(by_share[hit], "share", "hub").astype(object)
    reason = [f"too broad, ignored: matches {int(c):,} accounts, {sh:.1%} of all (more than max_share={max_share:g})"
              if t == "share" else
              f"too broad, ignored: a hub; its {int(c):,} accounts spread over {sp:,.0f} effective clusters, at least "
              f"hub_spread={hub_spread:g} of the {all_spread:,.0f} of all accounts"
              for c, sh, sp, t in zip(carriers[hit], share, spread[hit], test)]
    return pd.DataFrame({"ind": hit.astype(np.int64), "carriers": carriers[hit].astype(np.int64), "share": share,
                         "spread": spread[hit], "all_spread": np.full(len(hit), all_spread), "test": test,
                         "reason": np.array(reason, dtype=object)})


def _unmatched(ind: pd.DataFrame, matches: pd.DataFrame, broad: pd.DataFrame) -> pd.DataFrame:
    """Indicators not used: those that matched no account and those ignored as too broad, by row."""
    used = np.zeros(len(ind), dtype=bool)
    used[unique_sorted(matches["ind"].to_numpy(dtype=np.int64))] = True
    used[broad["ind"].to_numpy(dtype=np.int64)] = True
    reason = np.full(len(ind), "", dtype=object)
    kind, mode = ind["kind"].to_numpy(dtype=object), ind["mode"].to_numpy(dtype=object)
    reason[~used] = np.where(kind[~used] == "account", "no such account in the observations",
                             np.where(mode[~used] == "cidr", "no observed address in the range",
                                      np.where(mode[~used] == "domain", "no observed address at the domain",
                                               "no account carries the value")))
    reason[broad["ind"].to_numpy(dtype=np.int64)] = broad["reason"].to_numpy(dtype=object)
    u = np.flatnonzero(reason != "")
    return pd.DataFrame({"row": ind["row"].to_numpy(dtype=np.int64)[u], "organisation": ind["organisation"].to_numpy(dtype=object)[u],
                         "kind": kind[u], "value": ind["value"].to_numpy(dtype=object)[u], "reason": reason[u]})


def _read_exchanges(exchanges: Any, acc_index: pd.Index, notes: list[str]) -> np.ndarray:
    """Exchanges of every account of the result, in its order (0 where not given)."""
    if isinstance(exchanges, pd.DataFrame):
        frame, where = exchanges, "the exchanges table"
    elif isinstance(exchanges, (str, os.PathLike)):
        from .ingest import _read_file

        frame, where = _read_file(Path(os.fspath(exchanges))), f"the exchanges file {os.fspath(exchanges)!r}"
    else:
        raise InputError(f"exchanges must be a DataFrame or the path of a CSV, Parquet or JSON Lines file. Got {type(exchanges).__name__}.")
    missing = [c for c in ("account_id", "exchanges") if c not in frame.columns]
    if missing:
        raise InputError(f"{where} lacks column(s) {missing}; it needs account_id, exchanges. Got columns {list(frame.columns)}.")
    ids = frame["account_id"].astype(str).to_numpy(dtype=object)  # ids are matched verbatim, as ingest keeps them
    values = pd.to_numeric(frame["exchanges"], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(values) | (values < 0))
    if len(bad):
        raise InputError(f"{where} has exchanges that are not non-negative numbers in row(s) "
                         f"{', '.join(str(int(b)) for b in bad[:5])} (got {frame['exchanges'].iloc[bad[0]]!r}).")
    dup = pd.Index(ids).duplicated()
    if dup.any():
        raise InputError(f"{where} lists account(s) more than once: {', '.join(repr(x) for x in ids[dup][:5])}; "
                         "give one total per account.")
    pos = acc_index.get_indexer(pd.Index(ids))
    out = np.zeros(len(acc_index))
    out[pos[pos >= 0]] = values[pos >= 0]
    unknown = int((pos < 0).sum())
    if unknown:
        notes.append(f"{unknown:,} account(s) of the exchanges table are not in the observations and were ignored "
                     f"(e.g. {', '.join(repr(x) for x in ids[pos < 0][:3])})")
    absent = len(acc_index) - int((pos >= 0).sum())
    if absent:
        notes.append(f"{absent:,} account(s) have no exchanges row and count as 0 exchanges")
    return out


def _organisation_table(ind: pd.DataFrame, table: pd.DataFrame, accounts: pd.DataFrame, matches: pd.DataFrame,
                        broad: pd.DataFrame, exch: np.ndarray | None) -> pd.DataFrame:
    orgs = pd.Index(pd.unique(ind["organisation"].to_numpy(dtype=object)))
    att = accounts["organisation"]
    has = att.notna().to_numpy()
    acc_counts = pd.Series(att[has].to_numpy(dtype=object)).value_counts()
    hit = table[table["organisation"].notna()]
    clusters = hit[hit["size"] >= 2].groupby("organisation").size()
    own = (accounts["via"] == "self").to_numpy()
    singles = pd.Series(att[own].to_numpy(dtype=object)).value_counts()
    mo = pd.DataFrame({"organisation": ind["organisation"].to_numpy(dtype=object)[matches["ind"].to_numpy(dtype=np.int64)],
                       "acc": matches["acc"].to_numpy()})
    matched = mo.drop_duplicates().groupby("organisation").size()
    n_ind = ind.groupby("organisation").size()
    org_of = ind["organisation"].to_numpy(dtype=object)
    used = np.zeros(len(ind), dtype=bool)
    used[unique_sorted(matches["ind"].to_numpy(dtype=np.int64))] = True
    is_broad = np.zeros(len(ind), dtype=bool)
    is_broad[broad["ind"].to_numpy(dtype=np.int64)] = True
    n_un = pd.Series(org_of[~used & ~is_broad]).value_counts()
    n_broad = pd.Series(org_of[is_broad]).value_counts()
    out = pd.DataFrame({
        "organisation": orgs.to_numpy(dtype=object),
        "accounts": acc_counts.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "clusters": clusters.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "single_accounts": singles.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "matched_accounts": matched.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "indicators": n_ind.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "unmatched_indicators": n_un.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "ignored_indicators": n_broad.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
    })
    if exch is not None:
        per = pd.Series(exch[has]).groupby(att[has].to_numpy(dtype=object)).sum()
        out["exchanges"] = per.reindex(orgs).fillna(0.0).to_numpy(dtype=np.float64)
        total = float(exch.sum())
        out["share_of_traffic"] = out["exchanges"] / total if total > 0 else 0.0
    out = out.sort_values(["accounts", "matched_accounts", "organisation"], ascending=[False, False, True], kind="stable")
    return out.reset_index(drop=True)


def _add_notes(notes: list[str], ind: pd.DataFrame, table: pd.DataFrame, organisations: pd.DataFrame,
               unmatched: pd.DataFrame, broad: pd.DataFrame, min_confidence: float) -> None:
    if len(broad):  # a warning: name every ignored indicator (up to 20; all of them are in Attribution.unmatched)
        named: list[str] = []
        for r in broad.head(20).itertuples():
            row = ind.iloc[int(r.ind)]
            why = f"{r.share:.1%} of all accounts" if r.test == "share" else "a hub, spread like accounts at large"
            named.append(f"{row['organisation']}/{row['kind']}={_short(str(row['value']))} "
                         f"({int(r.carriers):,} accounts, {why})")
        more = f" and {len(broad) - 20} more" if len(broad) > 20 else ""
        left = organisations[(organisations["ignored_indicators"] > 0) & (organisations["matched_accounts"] == 0)]
        bare = f"; left with no matching indicator: {', '.join(map(str, left['organisation'].head(10)))}" if len(left) else ""
        notes.append(f"{len(broad):,} indicator(s) ignored as too broad to be one organisation's "
                     f"(see Attribution.unmatched): {', '.join(named)}{more}{bare}")
    no_match = unmatched[~unmatched["reason"].str.startswith("too broad")]
    if len(no_match):
        shown = ", ".join(f"{r.organisation}/{r.kind}={_short(str(r.value))}" for r in no_match.head(5).itertuples())
        more = f" and {len(no_match) - 5} more" if len(no_match) > 5 else ""
        notes.append(f"{len(no_match):,} indicator(s) matched no account (see Attribution.unmatched): {shown}{more}")
    none = organisations[(organisations["matched_accounts"] == 0)
                         & (organisations["ignored_indicators"] == 0)]["organisation"].tolist()
    if none:
        notes.append(f"organisation(s) with no match at all: {', '.join(map(str, none[:10]))}"
                     + (f" and {len(none) - 10} more" if len(none) > 10 else "")
                     + "; check the indicators' spelling and kinds, or the observations' coverage")
    weak = organisations[(organisations["matched_accounts"] > 0) & (organisations["accounts"] == 0)]["organisation"].tolist()
    if weak:
        notes.append(f"organisation(s) matched but attributed nothing at min_confidence={min_confidence:g}: "
                     f"{', '.join(map(str, weak[:10]))}; their best clusters are listed in Attribution.clusters (column candidate)")
    n_conflict = int(table["conflict"].sum()) if len(table) else 0
    if n_conflict:
        examples = table[table["conflict"]].sort_values("size", ascending=False).head(3)
        shown = ", ".join(f"cluster {r.cluster_id} ({r.candidate} vs {r.runner_up})" for r in examples.itertuples())
        notes.append(f"{n_conflict:,} cluster(s) carry indicators of two or more organisations (conflict): {shown}")
    shared = ind.assign(k=ind["mode"] + "\x1f" + ind["key"].map(str)).groupby("k")["organisation"].nunique()
    if (shared > 1).any():
        notes.append(f"{int((shared > 1).sum()):,} indicator value(s) are listed for more than one organisation")


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _human(x: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.1f}{suffix}"
    return f"{x:,.0f}"
