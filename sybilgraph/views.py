"""Notebook views: rich ``_repr_html_`` for results, clusters, attributions, synthetic data and reports.

Every data string (ids, values, prompt templates, organisation names, notes)
passes through :func:`sybilgraph._html.text`, which escapes it with
``html.escape(..., quote=True)``; nothing from the data becomes markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from . import _html

if TYPE_CHECKING:  # pragma: no cover
    from ._report import Report
    from .attribute import Attribution
    from .results import ClusterResult
    from .synth import SynthData
    from .why import ClusterExplanation

__all__ = ["ClusterView", "cluster_view", "result_html", "report_html", "attribution_html", "synth_html", "synth_repr"]

#: Columns of the cluster table shown in a result's view: the score's named parts beside the total.
CLUSTER_COLUMNS = ("cluster_id", "size", "score", "suspicious", "templated", "tooling", "payment", "burst",
                   "cohesion", "periphery", "top_evidence")


def result_html(result: ClusterResult, top: int = 20) -> str:
    """The rich view of a result: its summary and its most suspicious clusters."""
    groups = result.groups()
    cols = [c for c in CLUSTER_COLUMNS if c in groups.columns]
    return (f"<div><p>{_html.text(repr(result))}</p>"
            f"<p>{_html.text(result.summary(top=0).splitlines()[0])}</p>"
            f"{_html.frame_table(groups[cols], max_rows=top, caption='clusters of 2+, most suspicious first')}"
            f"{report_html(result.report)}</div>")


def report_html(report: Report) -> str:
    """The notes of a :class:`~sybilgraph.Report` as an escaped table."""
    if not len(report):
        return "<p>Nothing skipped.</p>"
    return _html.frame_table(report.to_frame(), max_rows=50, caption="notes: what each stage skipped or changed")


@dataclass(frozen=True)
class ClusterView:
    """One cluster in hand: its row of ``result.clusters``, its members, its evidence and its explanation.

    Build it with :meth:`sybilgraph.ClusterResult.cluster`.
    """

    cluster_id: int
    """The cluster."""
    row: pd.Series
    """Its row of ``result.clusters`` (score and the score's parts included)."""
    members: pd.DataFrame
    """Its rows of ``result.assignments``."""
    evidence: pd.DataFrame
    """Its rows of ``result.evidence``, a prompt template's ``value`` as its text (its id in ``value_id``)."""
    explanation: ClusterExplanation
    """What holds it together and what would split it."""

    def __repr__(self) -> str:
        r = self.row
        return (f"<Cluster {self.cluster_id}: {int(r['size']):,} accounts, score {float(r['score']):.2f}"
                f"{' suspicious' if bool(r['suspicious']) else ''}>")

    def _repr_html_(self) -> str:
        evidence = self.evidence.drop(columns=["cluster_id", "value_id"], errors="ignore")
        return (f"<div>{self.explanation._repr_html_()}"
                f"{_html.frame_table(evidence, caption='evidence: values two or more members share')}"
                f"{_html.frame_table(self.members, caption='members')}</div>")


def cluster_view(result: ClusterResult, cluster_id: int) -> ClusterView:
    """Return the :class:`ClusterView` of ``cluster_id`` (see :meth:`sybilgraph.ClusterResult.cluster`)."""
    explanation = result.explain_cluster(cluster_id)
    c = explanation.cluster_id
    row = result.clusters.loc[result.clusters["cluster_id"] == c].iloc[0]
    a = result.assignments
    members = a[a["cluster_id"] == c].reset_index(drop=True)
    evidence = result.evidence[result.evidence["cluster_id"] == c].reset_index(drop=True)
    templates = result.templates
    if templates is not None and len(templates) and len(evidence):
        text = dict(zip(templates["template_id"], templates["representative"]))
        is_tpl = evidence["kind"] == "prompt_template"
        evidence.insert(3, "value_id", evidence["value"])
        evidence.loc[is_tpl, "value"] = evidence.loc[is_tpl, "value_id"].map(lambda v: text.get(v, v))
    return ClusterView(c, row, members, evidence, explanation)


def attribution_html(attribution: Attribution, top: int = 20) -> str:
    """The rich view of an :class:`~sybilgraph.attribute.Attribution`: organisations, clusters, notes."""
    clusters = attribution.clusters
    if "organisation" in clusters.columns:
        clusters = clusters[clusters["organisation"].notna()]
    notes = "".join(f"<li>{_html.text(n)}</li>" for n in attribution.notes)
    return (f"<div><p>{_html.text(repr(attribution))}</p>"
            f"{_html.frame_table(attribution.organisations, max_rows=top, caption='organisations')}"
            f"{_html.frame_table(clusters, max_rows=top, caption='attributed clusters')}"
            + (f"<p>notes</p><ul>{notes}</ul>" if notes else "") + "</div>")


def synth_repr(data: SynthData) -> str:
    """A one-line description of a synthetic data set."""
    truth = data.truth
    fake = int((truth["role"] == "operator").sum()) if "role" in truth.columns else 0
    return (f"<SynthData {data.scenario!r}: {len(truth):,} accounts ({fake:,} fake), "
            f"{len(data.observations):,} observations, {len(data.indicators):,} indicators, "
            f"scale={data.params.get('scale')}, seed={data.params.get('seed')}>")


def synth_html(data: SynthData) -> str:
    """The rich view of a synthetic data set: its size, its planted operators and a few observations."""
    truth = data.truth
    ops = truth[truth["role"] == "operator"] if "role" in truth.columns else truth.iloc[:0]
    teams = (ops.groupby(["organisation", "team"]).size().rename("accounts").reset_index()
             if len(ops) else pd.DataFrame({"organisation": [], "team": [], "accounts": []}))
    return (f"<div><p>{_html.text(synth_repr(data))}</p>"
            f"{_html.frame_table(teams, max_rows=30, caption='planted operator teams')}"
            f"{_html.frame_table(data.observations, max_rows=5, caption='observations')}</div>")
