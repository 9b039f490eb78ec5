"""Matplotlib pictures of a result: one cluster's account–value graph, and all clusters by size and score.

matplotlib is optional (``pip install 'sybilgraph[plot]'``) and imported only
when a function here is called. The drawings use the same node selection and
seeded layout as the HTML report (:mod:`sybilgraph.report`), so a cluster
looks the same in both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .report.subgraph import cluster_subgraph
from .report.svg import ACCOUNT_COLOUR, KIND_COLOURS, OTHER_COLOUR, clean, graph_layout

if TYPE_CHECKING:  # pragma: no cover
    from .results import ClusterResult

__all__ = ["plot_cluster", "plot_result"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("sybilgraph.plot needs matplotlib: pip install 'sybilgraph[plot]' "
                          "(or pip install 'matplotlib>=3.9').") from err
    return plt


def _short(text: str, limit: int = 40) -> str:
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plot_cluster(result: "ClusterResult", cluster_id: int, ax: Any = None, *, max_accounts: int = 120,
                 max_values: int = 40, labels: int = 8) -> Any:
    """Draw one cluster's account–value graph: accounts grey, shared values coloured by kind.

    Parameters
    ----------
    result : ClusterResult
        Output of :func:`sybilgraph.cluster_accounts`.
    cluster_id : int
        The cluster to draw.
    ax : matplotlib Axes, optional
        Where to draw; a new figure's axes by default.
    max_accounts, max_values : int, default 120 and 40
        Nodes drawn: the members with most links to the drawn values, and the
        strongest shared values (the title says how many of each were drawn).
    labels : int, default 8
        The strongest values get a text label (a template's text, shortened).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ParameterError
        ``cluster_id`` is not a cluster of ``result``.
    ImportError
        matplotlib is not installed.

    Examples
    --------
    >>> import sybilgraph as sg
    >>> from sybilgraph.plot import plot_cluster
    >>> data = sg.synth.generate("distillation", scale=0.01, seed=0)
    >>> result = sg.cluster_accounts(data.observations, seed=0)
    >>> ax = plot_cluster(result, 0)   # doctest: +SKIP
    """
    g = cluster_subgraph(result, cluster_id, max_accounts=max_accounts, max_values=max_values)
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7))
    n_a = len(g.accounts)
    pairs = np.column_stack([g.edges[:, 0], g.edges[:, 1] + n_a]) if len(g.edges) else g.edges
    pos = graph_layout(n_a + len(g.values), pairs, seed=int(cluster_id))
    if len(pairs):
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(list(np.stack([pos[pairs[:, 0]], pos[pairs[:, 1]]], axis=1)), colors="#bbbbbb",
                                         linewidths=0.5, zorder=1))
    ax.scatter(pos[:n_a, 0], pos[:n_a, 1], s=12, c=ACCOUNT_COLOUR, zorder=2, label="account")
    kinds = [k for k, _, _ in g.values]
    for kind in sorted(set(kinds)):
        idx = [n_a + j for j, k in enumerate(kinds) if k == kind]
        ax.scatter(pos[idx, 0], pos[idx, 1], s=50, marker="s", c=KIND_COLOURS.get(kind, OTHER_COLOUR),
                   edgecolors="#333333", linewidths=0.5, zorder=3, label=kind)
    for j, (_, _, label) in enumerate(g.values[:labels]):
        x, y = pos[n_a + j]
        ax.annotate(_short(label), (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points", zorder=4)
    ax.set_title(f"cluster {g.cluster_id}: {n_a} of {g.n_members} accounts, {len(g.values)} of {g.n_values} "
                 "shared values", fontsize=10)
    ax.legend(loc="lower left", fontsize=7, frameon=False, ncol=2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.12, 1.05)
    ax.set_aspect("equal")
    return ax


def plot_result(result: "ClusterResult", ax: Any = None, *, min_size: int = 2) -> Any:
    """Draw every cluster of ``min_size`` or more accounts as a point: size (log scale) against suspicion score.

    Suspicious clusters are red, the others grey; the title counts both.

    Parameters
    ----------
    result : ClusterResult
        Output of :func:`sybilgraph.cluster_accounts`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure's axes by default.
    min_size : int, default 2
        Smallest cluster drawn.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ImportError
        matplotlib is not installed.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    groups = result.groups(min_size=min_size)
    sus = groups["suspicious"].to_numpy(dtype=bool)
    size = groups["size"].to_numpy(dtype=float)
    score = groups["score"].to_numpy(dtype=float)
    ax.scatter(size[~sus], score[~sus], s=14, c="#9aa9c4", alpha=0.7, label=f"not flagged ({int((~sus).sum()):,})")
    ax.scatter(size[sus], score[sus], s=18, c="#c44e52", alpha=0.85, label=f"suspicious ({int(sus.sum()):,})")
    ax.set_xscale("log")
    ax.set_xlabel("accounts in the cluster")
    ax.set_ylabel("suspicion score")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(f"{len(groups):,} clusters of {min_size}+ accounts ({result.n_accounts:,} accounts in all)", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return ax
