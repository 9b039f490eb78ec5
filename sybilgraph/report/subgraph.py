"""The part of a cluster's account–value graph that is drawn (report and :mod:`sybilgraph.plot` alike)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from .._errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from ..results import ClusterResult

__all__ = ["Subgraph", "cluster_subgraph", "template_texts"]


@dataclass(frozen=True)
class Subgraph:
    """The drawn nodes and links of one cluster."""

    cluster_id: int
    """The cluster."""
    accounts: list[str]
    """Drawn account ids: the members with most links to the drawn values (ties by id)."""
    values: list[tuple[str, str, str]]
    """Drawn shared values as ``(kind, value, label)``, strongest evidence first; ``label`` is a template's text."""
    edges: np.ndarray
    """``(account index, value index)`` pairs, sorted."""
    n_members: int
    """Members of the cluster (drawn or not)."""
    n_values: int
    """Shared values of the cluster (drawn or not)."""


def template_texts(result: "ClusterResult") -> dict[str, str]:
    """Map each prompt template id of ``result`` to its text (slots as ``<num>``, ``<id>``, ...)."""
    t = result.templates
    if t is None or not len(t):
        return {}
    return {str(k): str(v) for k, v in zip(t["template_id"].tolist(), t["representative"].tolist())}


def cluster_subgraph(result: "ClusterResult", cluster_id: int, *, max_accounts: int = 120, max_values: int = 40,
                     members: Sequence[str] | None = None, observations: pd.DataFrame | None = None,
                     templates: dict[str, str] | None = None) -> Subgraph:
    """Select the nodes and links of ``cluster_id`` to draw, capped at ``max_accounts`` and ``max_values``.

    Deterministic and free of row order: values come in the order of
    ``result.evidence`` (strongest first), accounts by drawn links then id,
    links sorted. ``members``, ``observations`` (any superset of the members'
    rows) and ``templates`` may be passed to save recomputing them.

    Raises
    ------
    ParameterError
        ``cluster_id`` is not a cluster of ``result``.
    """
    if members is None:
        if not (result.clusters["cluster_id"] == cluster_id).any():
            raise ParameterError(f"cluster_id {cluster_id!r} is not a cluster of this result; clusters are numbered "
                                 f"0..{len(result.clusters) - 1} (see result.clusters['cluster_id']).")
        members = result.members(int(cluster_id))
    ev = result.evidence[result.evidence["cluster_id"] == cluster_id]
    texts = template_texts(result) if templates is None else templates
    chosen = ev.head(max_values)
    keys = list(zip(chosen["kind"].astype(str), chosen["value"].astype(str)))
    values = [(k, v, texts.get(v, v) if k == "prompt_template" else v) for k, v in keys]
    obs = result.observations if observations is None else observations
    sub = obs[obs["account_id"].isin(members)]
    index = {k: i for i, k in enumerate(keys)}
    vidx = np.fromiter((index.get(p, -1) for p in zip(sub["kind"].astype(str), sub["value"].astype(str))),
                       dtype=np.int64, count=len(sub))
    keep = vidx >= 0
    links = pd.DataFrame({"a": sub["account_id"].astype(str).to_numpy()[keep], "v": vidx[keep]})
    links = links.drop_duplicates().sort_values(["a", "v"])  # row order must not matter
    degree = links.groupby("a").size()
    drawn = sorted(degree.index, key=lambda x: (-int(degree[x]), x))[:max_accounts]
    aidx = {acc: i for i, acc in enumerate(drawn)}
    links = links[links["a"].isin(aidx)]
    edges = np.column_stack([links["a"].map(aidx).to_numpy(dtype=np.int64), links["v"].to_numpy(dtype=np.int64)])
    edges = edges[np.lexsort((edges[:, 1], edges[:, 0]))] if len(edges) else edges.reshape(0, 2)
    return Subgraph(int(cluster_id), list(drawn), values, edges, len(members), len(ev))
