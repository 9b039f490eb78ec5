"""Stage 4 — graph: the bipartite account–value graph and its components.

Accounts are nodes ``0 .. n_accounts-1`` and linking values (weight > 0,
carried by two or more accounts) follow them. Each observation of a linking
value is one edge with the value's weight. The graph is never projected onto
account pairs: a value carried by ``d`` accounts costs ``d`` edges, not
``d(d-1)/2``, so memory and time grow with the number of observations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .weights import WeightedObservations

__all__ = ["BipartiteGraph", "build_graph", "graph_edges", "label_components"]


@dataclass(frozen=True)
class BipartiteGraph:
    """The account–value graph restricted to linking values."""

    n_accounts: int
    """Accounts are nodes ``0 .. n_accounts - 1``."""
    values: np.ndarray
    """Value index (into :class:`WeightedObservations`) of value node ``n_accounts + j``."""
    src: np.ndarray
    """Account node of each edge (int64)."""
    dst: np.ndarray
    """Value node of each edge (int64, ``>= n_accounts``)."""
    weight: np.ndarray
    """Weight of each edge (float64)."""
    component: np.ndarray
    """Connected component of every node (accounts first, then values), numbered by smallest account."""

    @property
    def n_nodes(self) -> int:
        """Accounts plus linking values."""
        return self.n_accounts + len(self.values)


def build_graph(wobs: WeightedObservations) -> BipartiteGraph:
    """Build the bipartite graph of linking values and label its connected components.

    Parameters
    ----------
    wobs : WeightedObservations
        Output of :func:`sybilgraph.weights.weight_values`.

    Returns
    -------
    BipartiteGraph
        Components are numbered in order of their smallest account index, so
        numbering does not depend on row order.
    """
    return label_components(graph_edges(wobs))


def graph_edges(wobs: WeightedObservations) -> BipartiteGraph:
    """Build the edges of the bipartite graph, sorted by account then value node; ``component`` is left empty.

    Parameters
    ----------
    wobs : WeightedObservations
        Output of :func:`sybilgraph.weights.weight_values`.

    Returns
    -------
    BipartiteGraph
        Without components; pass it to :func:`label_components`.
    """
    linking = (wobs.weight > 0) & (wobs.degree >= 2)
    values = np.flatnonzero(linking)
    node_of_value = np.full(len(wobs.weight), -1, dtype=np.int64)
    node_of_value[values] = wobs.n_accounts + np.arange(len(values))
    keep = linking[wobs.obs_value]
    src = wobs.obs_account[keep]
    dst = node_of_value[wobs.obs_value[keep]]
    n = wobs.n_accounts + len(values)
    if n == 0 or n < 2**31:
        # One sort of a combined key instead of a lexsort: (src, dst) order, and equal keys are equal edges.
        key = np.sort(src * n + dst)
        src, dst = np.divmod(key, n) if n else (key, key)
    else:  # pragma: no cover - more than 2**31 nodes
        order = np.lexsort((dst, src))
        src, dst = src[order], dst[order]
    weight = wobs.weight[values][dst - wobs.n_accounts] if len(dst) else np.empty(0)
    return BipartiteGraph(wobs.n_accounts, values, src, dst, weight, np.empty(0, dtype=np.int64))


def label_components(graph: BipartiteGraph) -> BipartiteGraph:
    """Label the connected components of a graph from :func:`graph_edges`.

    Parameters
    ----------
    graph : BipartiteGraph
        Edges sorted by account (as :func:`graph_edges` returns them).

    Returns
    -------
    BipartiteGraph
        The same graph with ``component`` set: components are numbered in
        order of their smallest node, and accounts come first, so that is the
        smallest account.
    """
    n = graph.n_nodes
    # The edges are sorted by account, so the account rows of the adjacency matrix can be laid out directly.
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(graph.src, minlength=n), out=indptr[1:])
    adj = sp.csr_matrix((np.ones(len(graph.src), dtype=np.int8), graph.dst, indptr), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    # Renumber components by their smallest node; accounts come first so that is the smallest account.
    first = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return dataclasses.replace(graph, component=rank[labels])
