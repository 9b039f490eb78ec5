"""Exports: the account–value graph (or one cluster's) as networkx, GraphML and GEXF (Gephi).

Tables go out with :func:`sybilgraph.write_table` (CSV or Parquet by suffix);
this module handles graphs. The graph is the one the clustering used: accounts
and the values that link them (carried by two or more accounts, weight above
0), each observation one edge weighted by its value's weight. A cluster's graph
holds its members and the values two or more of them carry.

Ids and values come from whoever made the accounts. In networkx they stay
exactly as given; in files they are XML text, escaped by the writer, and a
character XML 1.0 cannot hold at all (``\\x00``-``\\x1f`` other than tab, LF and
CR, lone surrogates, ``\\ufffe``, ``\\uffff``) is written as its escape
(``\\x01``) and counted in the returned :class:`~sybilgraph.Report`. Files
appear whole or not at all (written to a temporary and renamed).

networkx is an optional dependency: ``pip install 'sybilgraph[export]'``.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from ._errors import ParameterError
from ._report import Report
from ._write import staged_writes

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from .results import ClusterResult

__all__ = ["to_networkx", "write_graphml", "write_gexf"]

_STAGE = "export"

#: Characters XML 1.0 cannot hold (even escaped as character references).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _networkx() -> Any:
    try:
        import networkx
    except ImportError as err:  # pragma: no cover - networkx is installed where the tests run
        raise ImportError("exporting graphs needs networkx: pip install 'sybilgraph[export]'") from err
    return networkx


def to_networkx(result: ClusterResult, cluster_id: int | None = None) -> nx.Graph:
    """Return the account–value graph of ``result``, or of one cluster, as a networkx graph.

    Parameters
    ----------
    result : ClusterResult
    cluster_id : int, optional
        Only this cluster: its members and the values two or more of them carry.

    Returns
    -------
    networkx.Graph
        Nodes ``("account", account_id)`` with attributes ``bipartite=0, type="account", account_id, cluster,
        cluster_size, attachment, periphery_of`` (-1 when none), and ``("value", kind, value_id)`` with
        ``bipartite=1, type="value", kind, value`` (a prompt template as its text), ``value_id, weight,
        carriers``. Each edge carries its value's ``weight``. Every account is a node (those without a
        linking value too) when ``cluster_id`` is None.

    Raises
    ------
    ParameterError
        ``cluster_id`` is not a cluster of the result.

    Examples
    --------
    >>> import pandas as pd, sybilgraph as sg
    >>> obs = pd.DataFrame({"account_id": ["a", "b", "c"], "kind": ["payment"] * 3, "value": ["card", "card", "x"]})
    >>> g = to_networkx(sg.cluster_accounts(obs, seed=0))
    >>> sorted(g.nodes), g.nodes["account", "a"]["cluster"]
    ([('account', 'a'), ('account', 'b'), ('account', 'c'), ('value', 'payment', 'card')], 0)
    """
    from .why import _shown, _state

    nx = _networkx()
    state = _state(result)
    e, w = state.edges, state.wobs
    a = result.assignments
    if cluster_id is None:
        accounts = np.arange(len(a))
        idx = np.arange(len(e.src))
    else:
        if not isinstance(cluster_id, (int, np.integer)) or isinstance(cluster_id, bool) \
                or not 0 <= int(cluster_id) < len(state.size):
            raise ParameterError(f"cluster_id {cluster_id!r} is not a cluster of this result; "
                                 f"ids run from 0 to {len(state.size) - 1} (see result.clusters).")
        accounts = np.flatnonzero(state.labels == int(cluster_id))
        idx = e.of_accounts(accounts)
        node = e.node[idx]
        uniq, inverse, counts = np.unique(node, return_inverse=True, return_counts=True)
        idx = idx[counts[inverse.reshape(-1)] >= 2]
    g = nx.Graph()
    ids = a["account_id"].to_numpy(dtype=object)
    cluster = a["cluster_id"].to_numpy()
    size = a["cluster_size"].to_numpy()
    attachment = a["attachment"].to_numpy(dtype=float)
    periphery = a["periphery_of"].fillna(-1).to_numpy(dtype=np.int64)
    g.add_nodes_from(
        (("account", ids[i]), {"bipartite": 0, "type": "account", "account_id": ids[i], "cluster": int(cluster[i]),
                               "cluster_size": int(size[i]), "attachment": float(attachment[i]),
                               "periphery_of": int(periphery[i])})
        for i in accounts.tolist())
    nodes = np.unique(e.node[idx])
    values = state.graph.values[nodes]
    kinds, texts = w.value_kind[values], w.value_text[values]
    key = {int(n): ("value", str(k), str(t)) for n, k, t in zip(nodes.tolist(), kinds, texts)}
    g.add_nodes_from(
        (key[int(n)], {"bipartite": 1, "type": "value", "kind": str(k), "value": _shown(state, str(k), str(t)),
                       "value_id": str(t), "weight": float(wt), "carriers": int(d)})
        for n, k, t, wt, d in zip(nodes.tolist(), kinds, texts, w.weight[values], w.degree[values]))
    g.add_edges_from((("account", ids[s]), key[n], {"weight": float(wt)})
                     for s, n, wt in zip(e.src[idx].tolist(), e.node[idx].tolist(), e.weight[idx].tolist()))
    return g


def _xml_safe(graph: nx.Graph, report: Report) -> nx.Graph:
    """A copy of ``graph`` with every string XML 1.0 cannot hold escaped; node keys become ``a0``, ``v0``, ..."""
    nx = _networkx()
    changed: list[str] = []

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            fixed = _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                                 else f"\\u{ord(m.group()):04x}", value)
            if fixed != value:
                changed.append(value)
            return fixed
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (np.integer,)):
            return int(value)
        if isinstance(value, (np.floating,)):
            return float(value)
        return value

    out = nx.Graph()
    names: dict[Any, str] = {}
    n_acc = n_val = 0
    for node, data in graph.nodes(data=True):
        if data.get("type") == "value":
            name, n_val = f"v{n_val}", n_val + 1
        else:
            name, n_acc = f"a{n_acc}", n_acc + 1
        names[node] = name
        attrs = {k: clean(v) for k, v in data.items()}
        attrs["label"] = attrs.get("account_id", attrs.get("value", name)) if isinstance(
            attrs.get("account_id", attrs.get("value", name)), str) else name
        out.add_node(name, **attrs)
    out.add_edges_from((names[u], names[v], {k: clean(x) for k, x in d.items()}) for u, v, d in graph.edges(data=True))
    report.add(_STAGE, "attribute values held characters XML 1.0 cannot hold; they were written as escapes (\\x01)",
               len(changed), changed)
    return out


def _write(graph: nx.Graph, path: str | os.PathLike[str], generate: Callable[[nx.Graph], Iterable[str]]) -> Report:
    report = Report()
    safe = _xml_safe(graph, report)
    text = "\n".join(generate(safe)) + "\n"
    with staged_writes() as out:
        out.text(text, path)
    return report


def _graph_of(source: ClusterResult | nx.Graph, cluster_id: int | None) -> nx.Graph:
    from .results import ClusterResult

    if isinstance(source, ClusterResult):
        return to_networkx(source, cluster_id)
    nx = _networkx()
    if not isinstance(source, nx.Graph):
        raise ParameterError(f"expected a ClusterResult or a networkx graph, got {type(source).__name__}.")
    return source


def write_graphml(source: ClusterResult | nx.Graph, path: str | os.PathLike[str], *,
                  cluster_id: int | None = None) -> Report:
    """Write the account–value graph (or one cluster's) as GraphML, atomically.

    Parameters
    ----------
    source : ClusterResult or networkx.Graph
        A result (its graph is built with :func:`to_networkx`) or a graph from it.
    path : str or os.PathLike
        Target file (``.graphml``).
    cluster_id : int, optional
        Only this cluster (with a result).

    Returns
    -------
    Report
        A note counting the strings that held characters XML 1.0 cannot hold (written escaped).

    Notes
    -----
    Node ids in the file are ``a0, a1, ...`` (accounts) and ``v0, ...``
    (values); the account id or value is in the ``label`` attribute and the
    others of :func:`to_networkx`.
    """
    nx = _networkx()
    return _write(_graph_of(source, cluster_id), path, lambda g: nx.generate_graphml(g))


def write_gexf(source: ClusterResult | nx.Graph, path: str | os.PathLike[str], *,
               cluster_id: int | None = None) -> Report:
    """Write the account–value graph (or one cluster's) as GEXF for Gephi, atomically.

    Parameters and return value as :func:`write_graphml`.
    """
    nx = _networkx()
    return _write(_graph_of(source, cluster_id), path, lambda g: nx.generate_gexf(g))
