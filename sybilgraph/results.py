"""Results you can hold: :class:`ClusterResult` and how it is written to disk."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._errors import InputError
from ._report import Report
from .settings import Settings

__all__ = ["ClusterResult", "write_table"]


@dataclass(frozen=True)
class ClusterResult:
    """Everything :func:`sybilgraph.cluster_accounts` found, and how.

    Every input account appears exactly once in :attr:`assignments`.
    """

    assignments: pd.DataFrame
    """One row per account: ``account_id, cluster_id, cluster_size, attachment, periphery_of``.
    ``periphery_of`` (nullable Int64) names the cluster a weakly attached account touched."""
    clusters: pd.DataFrame
    """One row per cluster (singletons included): ``cluster_id, size, cohesion, shared_values,
    templated, tooling, payment, burst, score, suspicious, periphery, top_evidence``."""
    evidence: pd.DataFrame
    """One row per (cluster, shared value): ``cluster_id, kind, value, members, carriers, weight, exclusivity``."""
    observations: pd.DataFrame
    """The normalised observations that were clustered (``account_id, kind, value, timestamp``)."""
    templates: pd.DataFrame | None
    """Prompt templates found (``template_id, representative, n_prompts, n_accounts``), or None."""
    report: Report
    """What each stage skipped or changed, with counts."""
    settings: Settings
    """The settings that produced this result."""
    timings: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds spent in each stage."""

    @property
    def n_accounts(self) -> int:
        """Number of accounts."""
        return len(self.assignments)

    def groups(self, min_size: int = 2) -> pd.DataFrame:
        """Return the clusters with at least ``min_size`` accounts, most suspicious first."""
        c = self.clusters
        return c[c["size"] >= min_size].sort_values(["score", "size", "cluster_id"], ascending=[False, False, True])

    def members(self, cluster_id: int) -> list[str]:
        """Return the account ids of one cluster, sorted."""
        a = self.assignments
        return sorted(a.loc[a["cluster_id"] == cluster_id, "account_id"].tolist())

    def summary(self, top: int = 10) -> str:
        """Return a short plain-text summary of the largest clusters."""
        groups = self.groups()
        lines = [
            f"{self.n_accounts:,} accounts -> {len(groups):,} clusters of 2+ accounts "
            f"({int(groups['size'].sum()):,} accounts), {int(groups['suspicious'].sum()):,} suspicious; "
            f"{int(self.assignments['periphery_of'].notna().sum()):,} accounts touched a cluster too weakly to join it",
        ]
        shown = groups.sort_values(["size", "cluster_id"], ascending=[False, True]).head(top)
        for row in shown.itertuples():
            flag = "SUSPICIOUS" if row.suspicious else "          "
            lines.append(f"  cluster {row.cluster_id:>6}  {row.size:>6} accounts  score {row.score:.2f} {flag}  {row.top_evidence}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        groups = self.groups()
        return (
            f"<ClusterResult: {self.n_accounts:,} accounts, {len(groups):,} clusters of 2+, "
            f"{int(groups['suspicious'].sum()):,} suspicious, objective={self.settings.objective!r}, "
            f"resolution={self.settings.resolution:g}, seed={self.settings.seed}>"
        )

    def _repr_html_(self) -> str:
        groups = self.groups().head(20)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (r.cluster_id, r.size, f"{r.score:.2f}",
                                                                          f"{r.cohesion:.2f}", r.top_evidence)) + "</tr>"
            for r in groups.itertuples()
        )
        return (
            f"<p>{html.escape(repr(self))}</p><table><thead><tr><th>cluster</th><th>size</th><th>score</th>"
            f"<th>cohesion</th><th>top evidence</th></tr></thead><tbody>{rows}</tbody></table>"
        )


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` as CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``) by suffix.

    Raises
    ------
    InputError
        The suffix is not one of those.
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith((".parquet", ".pq")):
        frame.to_parquet(p, index=False)
    elif name.endswith((".csv", ".csv.gz")):
        frame.to_csv(p, index=False)
    else:
        raise InputError(f"cannot tell the output format of {str(p)!r}; end the name in .csv, .csv.gz, .parquet or .pq.")
