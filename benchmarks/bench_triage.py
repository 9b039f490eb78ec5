"""Triage: does the suspicion score put operator clusters first?

For each synthetic scenario, cluster the accounts and label each cluster of
two or more accounts by its majority (operator if most of its accounts are
fake, benign otherwise). Report the cluster-level ROC AUC of ``score``
(:func:`sybilgraph.metrics.roc_auc`, from ranks, ties counted one half), for
clusters of 2+, 3+ and 6+ accounts (the ``suspicious`` flag needs 3; each
hallmark counts only values six or more members share, so a ring of two to five
accounts scores 0 by design and ties with most benign clusters), and how
the flag itself does (flagged clusters, of them mostly benign; operator
clusters missed by the flag). The score's weights are not tuned to the
generator: this is a check, not a fit.

    PYTHONPATH=. python benchmarks/bench_triage.py                    # every scenario, scale 0.25
    PYTHONPATH=. python benchmarks/bench_triage.py --scale 1 --scenario distillation
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import _common

import sybilgraph as sg
from sybilgraph import synth
from sybilgraph.metrics import roc_auc

COLUMNS = ["scenario", "accounts", "clusters", "operator_clusters", "auc_2plus", "auc_3plus", "auc_6plus", "flagged",
           "flagged_benign", "operator_unflagged", "benign_top_score", "seconds"]


def triage(scenario: str, scale: float, seed: int, overrides: dict[str, Any]) -> dict[str, Any]:
    data = synth.generate(scenario, scale=scale, seed=seed)
    t0 = time.perf_counter()
    result = sg.cluster_accounts(data.observations, seed=seed, **overrides)
    seconds = time.perf_counter() - t0
    a = result.assignments.merge(data.truth[["account_id", "role"]], on="account_id", how="left")
    fake = a.groupby("cluster_id")["role"].apply(lambda r: float((r == "operator").mean()))
    c = result.clusters.set_index("cluster_id")
    c = c[c["size"] >= 2].join(fake.rename("fake_share"))
    operator = c["fake_share"] > 0.5
    three = c["size"] >= 3
    six = c["size"] >= 6
    benign = c[~operator]
    return {
        "scenario": scenario,
        "accounts": len(a),
        "clusters": len(c),
        "operator_clusters": int(operator.sum()),
        "auc_2plus": roc_auc(operator.to_numpy(), c["score"].to_numpy()),
        "auc_3plus": roc_auc(operator[three].to_numpy(), c.loc[three, "score"].to_numpy()),
        "auc_6plus": roc_auc(operator[six].to_numpy(), c.loc[six, "score"].to_numpy()),
        "flagged": int(c["suspicious"].sum()),
        "flagged_benign": int((c["suspicious"] & ~operator).sum()),
        "operator_unflagged": int((operator & three & ~c["suspicious"]).sum()),
        "benign_top_score": float(benign["score"].max()) if len(benign) else float("nan"),
        "seconds": seconds,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", action="append", choices=sorted(synth.SCENARIOS))
    p.add_argument("--scale", type=float, default=0.25)
    p.add_argument("--seed", type=int, default=0)
    _common.add_common_options(p)
    args = p.parse_args()
    overrides = _common.parse_settings(args.set)
    scenarios = args.scenario or ["distillation", "camouflage", "many_small", "benign"]
    scale = 0.05 if args.quick else args.scale
    info = _common.versions()
    print(_common.version_line(info))
    rows = [triage(s, scale, args.seed, overrides) for s in scenarios]
    print(f"scale {scale}, seed {args.seed}, settings {overrides or 'default'}")
    print(_common.markdown_table(rows, COLUMNS, digits=4))
    _common.write_json(args.json, {"versions": info, "scale": scale, "seed": args.seed, "settings": overrides,
                                   "rows": rows})


if __name__ == "__main__":
    main()
