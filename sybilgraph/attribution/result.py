"""The result of attribution: :class:`Attribution`, and the wording of its summary.

See :mod:`sybilgraph.attribution` for the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Attribution"]


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

    def summary(self) -> str:
        """Return one line per organisation, e.g. ``op-C: 15,000 accounts in 3 clusters, 13.0M exchanges``.

        Examples
        --------
        >>> import pandas as pd, sybilgraph as sg
        >>> obs = pd.DataFrame({"account_id": ["a", "b"], "kind": ["payment"] * 2, "value": ["c"] * 2})
        >>> att = sg.attribute(sg.cluster_accounts(obs, seed=0),
        ...                    pd.DataFrame({"organisation": ["X"], "kind": ["payment"], "value": ["c"]}))
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

    def _repr_html_(self) -> str:
        from ..views import attribution_html

        return attribution_html(self)


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _human(x: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.1f}{suffix}"
    return f"{x:,.0f}"
