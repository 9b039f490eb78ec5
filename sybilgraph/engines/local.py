"""The local engine: stages 4–6 in memory, with igraph, over whole connected components.

:func:`cluster_components` is the one function every engine runs on the
graph: the local engine calls it once with every component of the input,
the Spark engine (:mod:`sybilgraph.engines.spark`) once per group of whole
components, through :func:`cluster_component_rows`. Its answer for a
component depends on that component only:

* Leiden is seeded per component from ``(seed, smallest account id)``
  (:func:`sybilgraph.cluster.component_seed`) and numbers nodes inside the
  component in the order of their sorted ids;
* the membership rules look at one cluster and the values its members carry,
  and every carrier of a linking value lies in the value's component;
* cluster ids are canonical (0 = largest, ties by the smallest member id):
  the order of two clusters does not depend on the other clusters, so a
  group's local ids map onto the global ones monotonically, and
  :func:`number_clusters` gives the global ids once at the end.

``tests/test_engines.py`` checks that running it per component and numbering
once at the end gives the local engine's output exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._progress import timed
from ..cluster import Membership, earn_membership, leiden_communities
from ..explain import cluster_table, evidence_table
from ..graph import BipartiteGraph, graph_edges, label_components
from ..settings import Settings
from ..weights import WeightedObservations, _encode_normalised, rarity

__all__ = ["ComponentClusters", "cluster_components", "explain_components", "cluster_component_rows",
           "number_clusters", "COMPONENT_ROW_COLUMNS"]


@dataclass(frozen=True)
class ComponentClusters:
    """What :func:`cluster_components` found on a set of whole components."""

    graph: BipartiteGraph
    """The account–value graph of linking values, with its components."""
    membership: Membership
    """Clusters, attachment and periphery of every account, ids canonical within this call."""


def cluster_components(wobs: WeightedObservations, settings: Settings,
                       timings: dict[str, float] | None = None) -> ComponentClusters:
    """Build the graph, run Leiden per component and let accounts and groups earn their membership.

    Parameters
    ----------
    wobs : WeightedObservations
        Weighted observations of a set of whole connected components (every
        carrier of each linking value is in ``wobs``), or of the whole input.
    settings : Settings
        Leiden and membership settings.
    timings : dict, optional
        Receives seconds spent in ``graph``, ``components``, ``leiden`` and
        ``membership`` (added to what is there); each stage is also logged to
        the ``"sybilgraph"`` logger with its counts.

    Returns
    -------
    ComponentClusters
        Cluster ids are canonical over ``wobs``: 0 is its largest cluster.
    """
    clock = timings if timings is not None else {}
    with timed(clock, "graph") as stage:
        edges = graph_edges(wobs)
        stage.count(edges=len(edges.src))
    with timed(clock, "components") as stage:
        graph = label_components(edges)
        stage.count(components=len(np.unique(graph.component[:graph.n_accounts])))
        del edges
    with timed(clock, "leiden") as stage:
        community = leiden_communities(graph, wobs.accounts, settings)
        stage.count(communities=len(np.unique(community)))
    with timed(clock, "membership") as stage:
        membership = earn_membership(graph, wobs, community, settings)
        stage.count(clusters=int(membership.cluster.max()) + 1 if len(membership.cluster) else 0)
    return ComponentClusters(graph, membership)


def explain_components(found: ComponentClusters, wobs: WeightedObservations) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return the assignments, clusters and evidence tables of :func:`cluster_components`' answer.

    Parameters
    ----------
    found : ComponentClusters
    wobs : WeightedObservations
        What ``found`` was computed from.

    Returns
    -------
    assignments, clusters, evidence : DataFrame
        As :class:`sybilgraph.results.ClusterResult` holds them.
    """
    graph, membership = found.graph, found.membership
    evidence = evidence_table(graph, wobs, membership)
    clusters = cluster_table(graph, wobs, membership, evidence)
    sizes = clusters["size"].to_numpy()
    periphery = pd.array(membership.periphery_of, dtype="Int64")
    periphery[membership.periphery_of < 0] = pd.NA
    assignments = pd.DataFrame(
        {
            "account_id": wobs.accounts,
            "cluster_id": membership.cluster,
            "cluster_size": sizes[membership.cluster],
            "attachment": membership.attachment,
            "periphery_of": periphery,
        }
    )
    return assignments, clusters, evidence


#: Columns of the rows :func:`cluster_component_rows` reads: one row per (account, linking value).
COMPONENT_ROW_COLUMNS = ("account_id", "first_seen", "kind", "value", "degree")


def cluster_component_rows(rows: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run :func:`cluster_components` on the linking edges of a set of whole components, given as rows.

    This is what a distributed engine runs on each group of components.

    Parameters
    ----------
    rows : DataFrame
        Columns :data:`COMPONENT_ROW_COLUMNS`: one row per distinct
        (account, linking value), ``first_seen`` the account's earliest
        timestamp over all its observations (NaN when unknown) and ``degree``
        the number of accounts carrying the value in the whole input (all of
        them are in ``rows``, since a value's carriers share its component).
    settings : Settings

    Returns
    -------
    assignments, clusters, evidence : DataFrame
        As :func:`explain_components`, with cluster ids canonical within
        ``rows``; :func:`number_clusters` maps them to global ids.
    """
    # Accounts sorted, values sorted by (kind, text): the order the whole input gives them.
    norm = _encode_normalised(rows[["account_id", "kind", "value"]].assign(timestamp=rows["first_seen"]), None)
    kinds = np.array(norm.kinds, dtype=object)
    degree = np.zeros(len(norm.value_text), dtype=np.int64)
    degree[norm.value] = rows["degree"].to_numpy(dtype=np.int64)
    # The same product as weights.weight_encoded, so the same bits.
    kind_w = np.array([settings.weight_of(k) for k in norm.kinds], dtype=np.float64)[norm.value_kind]
    first = np.full(len(norm.accounts), np.inf)
    np.fmin.at(first, norm.account, np.where(np.isnan(norm.timestamp), np.inf, norm.timestamp))
    first[np.isinf(first)] = np.nan
    wobs = WeightedObservations(
        accounts=norm.accounts.to_numpy(zero_copy_only=False).astype(object, copy=False),
        first_seen=first,
        value_kind=kinds[norm.value_kind],
        value_text=norm.value_text.to_numpy(zero_copy_only=False).astype(object, copy=False),
        degree=degree,
        weight=kind_w * rarity(degree),
        obs_account=norm.account.astype(np.int64, copy=False),
        obs_value=norm.value.astype(np.int64, copy=False),
    )
    return explain_components(cluster_components(wobs, settings), wobs)


def number_clusters(size: np.ndarray, first_member: np.ndarray) -> np.ndarray:
    """Return canonical ids for clusters: 0 is the largest, ties by the smallest member.

    Parameters
    ----------
    size : ndarray of int
        Members of each cluster.
    first_member : ndarray
        Rank (or id, comparable in sorted order) of each cluster's smallest member.

    Returns
    -------
    ndarray of int64
        The id of each cluster.
    """
    order = np.lexsort((first_member, -np.asarray(size)))
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = np.arange(len(order))
    return ids
