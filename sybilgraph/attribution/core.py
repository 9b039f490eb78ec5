""":func:`attribute`: read, match, score and tabulate, in that order.

See :mod:`sybilgraph.attribution` for the model.
"""

from __future__ import annotations

import numbers
import os

import numpy as np
import pandas as pd

from .._arrays import factorize_text
from .._errors import ParameterError
from .._validation import check_number
from ..results import ClusterResult
from .indicators import IndicatorSource, read_indicators, SPECIAL_KINDS
from .matching import _match
from .result import Attribution
from .scoring import _broad, _score
from .tables import _account_table, _add_notes, _cluster_table, _evidence_table, _organisation_table, _read_exchanges, _unmatched

__all__ = ["attribute"]


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
