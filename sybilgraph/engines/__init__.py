"""Engines: where stages 4–6 (graph, Leiden, membership, explain) run.

An engine takes observations and settings and returns a
:class:`~sybilgraph.results.ClusterResult`; :func:`sybilgraph.cluster_accounts`
chooses one by name (``engine="local"`` or ``engine="spark"``). Every engine
runs the same function on the graph, :func:`~sybilgraph.engines.local.cluster_components`,
over sets of whole connected components, so every engine gives the same
clusters and the same cluster ids:

``local``
    In memory, one process: :mod:`sybilgraph.engines.local` (igraph).
``spark``
    Apache Spark DataFrames: :mod:`sybilgraph.engines.spark` (needs the
    ``spark`` extra, ``pip install sybilgraph[spark]``).

A new engine is a module here with a ``cluster_<name>`` function of the
:class:`Engine` shape, listed in :data:`ENGINES`.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from .._errors import ParameterError
from ..results import ClusterResult
from ..settings import Settings
from .local import ComponentClusters, cluster_component_rows, cluster_components, number_clusters

__all__ = ["Engine", "ENGINES", "get_engine", "ComponentClusters", "cluster_components", "cluster_component_rows",
           "number_clusters"]


class Engine(Protocol):
    """What an engine is: a function from observations and settings to a :class:`ClusterResult`."""

    def __call__(self, observations: Any, *, settings: Settings, account_col: str, kind_col: str, value_col: str,
                 timestamp_col: str | None, **options: Any) -> ClusterResult:
        ...  # pragma: no cover - a protocol


#: Engine name -> "module:function" implementing :class:`Engine` (imported when first used).
ENGINES = {"local": "sybilgraph.pipeline:_cluster_local", "spark": "sybilgraph.engines.spark:cluster_spark"}


def get_engine(name: str) -> Engine:
    """Return the engine called ``name`` (one of :data:`ENGINES`).

    Raises
    ------
    ParameterError
        ``name`` is not an engine.
    """
    if name not in ENGINES:
        raise ParameterError(f"The 'engine' parameter of cluster_accounts must be one of {sorted(ENGINES)}. Got {name!r} instead.")
    module, function = ENGINES[name].split(":")
    engine: Engine = getattr(importlib.import_module(module), function)
    return engine
