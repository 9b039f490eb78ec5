"""Leiden engines on sybilgraph's own graph: speed, modularity and what membership makes of them.

The issue's leads said graspologic-native's Leiden was about 1.5x faster than
igraph's and networkit is a fast C++ alternative. This measures them where it
matters: on the bipartite account--value graph that sybilgraph builds for the
default campaign (read, normalise and weight are run once, untimed), with the
same edge weights and standard modularity (resolution 1), then the same
earned-membership step and the same quality figures.

* ``igraph-k``: ``Graph.community_leiden`` (what sybilgraph runs), k
  iterations one at a time from the previous partition, seeded through a
  private ``random.Random``; the igraph graph is built inside the clock.
* ``graspologic``: ``graspologic_native.leiden_csr`` (zero-copy CSR), with
  ``iterations`` 1 and 2; the CSR matrix is built inside the clock.
* ``networkit``: ``ParallelLeiden`` (3 iterations) on one thread (with two
  its result depends on thread timing), graph from COO inside the clock.

Engines that are not installed are skipped (``pip install graspologic-native
networkit``). Run::

    python benchmarks/bench_leiden_engines.py --scale 8   # about 1M accounts
    python benchmarks/bench_leiden_engines.py --scale 8 --igraph-iterations 1,2,3,4,5
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import random
import sys
import time
from typing import Callable

import igraph as ig
import numpy as np
import pandas as pd
import scipy.sparse as sp

import sybilgraph as sg
from sybilgraph import metrics, synth
from sybilgraph._report import Report
from sybilgraph.cluster import earn_membership
from sybilgraph.graph import BipartiteGraph, build_graph
from sybilgraph.ingest import read_encoded
from sybilgraph.normalise import normalise_encoded
from sybilgraph.settings import Settings
from sybilgraph.weights import weight_encoded


def _igraph(iterations: int) -> Callable[[BipartiteGraph, int], np.ndarray]:
    def run(g: BipartiteGraph, seed: int) -> np.ndarray:
        n = g.n_nodes
        graph = ig.Graph(n=n, edges=list(zip(g.src.tolist(), g.dst.tolist())), directed=False)
        graph.es["weight"] = g.weight.tolist()
        ig.set_random_number_generator(random.Random(seed))
        membership = None
        try:
            for _ in range(iterations):
                membership = graph.community_leiden(objective_function="modularity", weights="weight",
                                                    n_iterations=1, initial_membership=membership).membership
        finally:
            ig.set_random_number_generator(random)
        return np.asarray(membership, dtype=np.int64)
    return run


def _csr(g: BipartiteGraph) -> sp.csr_matrix:
    n = g.n_nodes
    rows, cols = np.concatenate((g.src, g.dst)), np.concatenate((g.dst, g.src))
    return sp.csr_matrix((np.concatenate((g.weight, g.weight)), (rows, cols)), shape=(n, n))


def _graspologic(iterations: int) -> Callable[[BipartiteGraph, int], np.ndarray]:
    def run(g: BipartiteGraph, seed: int) -> np.ndarray:
        import graspologic_native as gn

        a = _csr(g)
        _, part = gn.leiden_csr(a.indptr.astype(np.int64), a.indices.astype(np.int32), a.data.astype(np.float64),
                                g.n_nodes, resolution=1.0, iterations=iterations, use_modularity=True, seed=seed)
        return np.fromiter((part[i] for i in range(g.n_nodes)), dtype=np.int64, count=g.n_nodes)
    return run


def _networkit(g: BipartiteGraph, seed: int) -> np.ndarray:
    import networkit as nk

    nk.setNumberOfThreads(1)
    nk.engineering.setSeed(seed, True)
    graph = nk.graph.GraphFromCoo(sp.coo_matrix((g.weight, (g.src, g.dst)), shape=(g.n_nodes, g.n_nodes)),
                                  g.n_nodes, directed=False, weighted=True)
    algo = nk.community.ParallelLeiden(graph, randomize=True, iterations=3, gamma=1.0)
    algo.run()
    return np.asarray(algo.getPartition().getVector(), dtype=np.int64)


def modularity(g: BipartiteGraph, membership: np.ndarray) -> float:
    """Weighted modularity (resolution 1) of a node partition of the bipartite graph."""
    strength = np.bincount(g.src, weights=g.weight, minlength=g.n_nodes) + \
        np.bincount(g.dst, weights=g.weight, minlength=g.n_nodes)
    two_m = strength.sum()
    inside = g.weight[membership[g.src] == membership[g.dst]].sum() * 2
    total = np.bincount(membership, weights=strength)
    return float(inside / two_m - (total ** 2).sum() / two_m ** 2)


def engines(igraph_iterations: list[int]) -> dict[str, tuple[str | None, Callable[[BipartiteGraph, int], np.ndarray]]]:
    """The engines to run: igraph with each iteration count, then the alternatives."""
    runs: dict[str, tuple[str | None, Callable[[BipartiteGraph, int], np.ndarray]]] = {
        f"igraph-{k}": (None, _igraph(k)) for k in igraph_iterations}
    runs.update({
        "graspologic-1": ("graspologic_native", _graspologic(1)),
        "graspologic-2": ("graspologic_native", _graspologic(2)),
        "networkit-3": ("networkit", _networkit),
    })
    return runs


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0, help="campaign scale (1 = 124k accounts, 8 = about 1M)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--igraph-iterations", default="1,2", help="comma-separated iteration counts for igraph")
    args = p.parse_args()
    data = synth.generate("distillation", scale=args.scale, seed=args.seed)
    settings = Settings(seed=args.seed)
    report = Report()
    wobs = weight_encoded(normalise_encoded(read_encoded(data.observations, report=report), settings, report=report),
                          settings, report=report)
    g = build_graph(wobs)
    versions = [f"sybilgraph {sg.__version__}", f"python {platform.python_version()}", f"igraph {ig.__version__}"]
    print(f"{', '.join(versions)}; {g.n_accounts:,} accounts, {g.n_nodes:,} nodes, {len(g.src):,} edges",
          file=sys.stderr)
    rows = []
    for name, (module, engine) in engines([int(k) for k in args.igraph_iterations.split(",")]).items():
        if module is not None:
            try:
                __import__(module)
            except ImportError:
                print(f"{name}: skipped, {module} is not installed", file=sys.stderr)
                continue
            version = f"{module} {importlib.metadata.version(module.replace('_', '-'))}"
            if version not in versions:
                versions.append(version)
        start = time.perf_counter()
        membership = engine(g, args.seed)
        seconds = time.perf_counter() - start
        earned = earn_membership(g, wobs, membership[: g.n_accounts], settings)
        assignments = pd.DataFrame({"account_id": np.asarray(wobs.accounts), "cluster_id": earned.cluster})
        figures = metrics.evaluate(data.truth, assignments)
        rows.append({"engine": name, "seconds": round(seconds, 2), "modularity": round(modularity(g, membership), 5),
                     **{k: figures[k] for k in ("sybil_recall", "benign_fp_rate", "operator_purity", "ari")}})
        print(f"{name}: {seconds:.1f} s", file=sys.stderr, flush=True)
    print(", ".join(versions))
    print(metrics.format_table(rows, ["engine", "seconds", "modularity", "sybil_recall", "benign_fp_rate",
                                      "operator_purity", "ari"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
