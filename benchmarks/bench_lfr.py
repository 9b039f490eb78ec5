"""LFR benchmark: sybilgraph against networkx's Louvain on planted-partition graphs.

Each LFR edge becomes a value (kind ``link``) shared by its two endpoints, so the
pipeline sees exactly the graph Louvain sees. ARI against the planted
communities for mixing parameter mu from 0.1 to 0.5:

    python benchmarks/bench_lfr.py                 # n=1000, mu 0.1..0.5, 3 seeds
    python benchmarks/bench_lfr.py --n 5000 --json lfr.json --set objective=modularity
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import networkx as nx
import numpy as np
import pandas as pd

import sybilgraph as sg
from sybilgraph import metrics


def lfr(n: int, mu: float, seed: int) -> tuple[nx.Graph, np.ndarray]:
    g = nx.LFR_benchmark_graph(n, tau1=2.5, tau2=1.5, mu=mu, average_degree=10, max_degree=50,
                               min_community=20, max_community=100, seed=seed, max_iters=1000)
    g.remove_edges_from(nx.selfloop_edges(g))
    truth = np.empty(n, dtype=np.int64)
    for label, nodes in enumerate({frozenset(g.nodes[v]["community"]) for v in g}):
        truth[list(nodes)] = label
    return g, truth


def observations(g: nx.Graph) -> pd.DataFrame:
    rows = [(f"n{u:06d}", "link", f"e{min(u, v)}-{max(u, v)}") for u, v in g.edges() for _ in (0,)]
    rows += [(f"n{v:06d}", "link", f"e{min(u, v)}-{max(u, v)}") for u, v in g.edges()]
    isolated = [(f"n{v:06d}", "link", f"self{v}") for v in g if g.degree(v) == 0]
    return pd.DataFrame(rows + isolated, columns=["account_id", "kind", "value"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--mus", default="0.1,0.2,0.3,0.4,0.5")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--json")
    args = p.parse_args()
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = json.loads(value) if value[:1] in "-0123456789[{tf" else value
    rows = []
    for mu in (float(m) for m in args.mus.split(",")):
        ours, louv, t_ours, t_louv = [], [], 0.0, 0.0
        for seed in range(args.seeds):
            g, truth = lfr(args.n, mu, seed)
            obs = observations(g)
            t0 = time.perf_counter()
            result = sg.cluster_accounts(obs, seed=seed, **overrides)
            t_ours += time.perf_counter() - t0
            pred = result.assignments.set_index("account_id")["cluster_id"].reindex([f"n{v:06d}" for v in range(args.n)])
            ours.append(metrics.adjusted_rand_index(truth, pred.to_numpy()))
            t0 = time.perf_counter()
            comms = nx.community.louvain_communities(g, seed=seed)
            t_louv += time.perf_counter() - t0
            lab = np.empty(args.n, dtype=np.int64)
            for i, c in enumerate(comms):
                lab[list(c)] = i
            louv.append(metrics.adjusted_rand_index(truth, lab))
        rows.append({"mu": mu, "n": args.n, "ari_sybilgraph": float(np.mean(ours)), "ari_louvain": float(np.mean(louv)),
                     "sec_sybilgraph": t_ours / args.seeds, "sec_louvain": t_louv / args.seeds})
    print(metrics.format_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"settings": overrides, "rows": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
