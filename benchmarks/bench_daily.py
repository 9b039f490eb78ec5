"""Day-to-day runs (issue 14): stable ids, lineage of planted splits and merges, incremental assignment.

Day 1 is a synthetic scenario without 5% of its accounts (held out) and
without 5% of the other accounts' observations. Day 2 = day 1 + the held-out
accounts (new) + the held-out observations (new observations of existing
accounts) - 2% of the accounts (gone), with one planted split (40% of a
day-1 cluster of 20+ accounts drop their shared values and share a new card,
device and phone among themselves) and one planted merge (two day-1 clusters
of 10+ accounts start sharing a card, a device and a phone).

    PYTHONPATH=. python benchmarks/bench_daily.py                         # distillation, scale 0.2
    PYTHONPATH=. python benchmarks/bench_daily.py --scenario many_small --scale 0.5
    PYTHONPATH=. python benchmarks/bench_daily.py --speed-scale 0.5       # throughput of assign on ~60k new accounts

Figures:

``keep_id``
    Of the accounts present on both days that were in a day-1 cluster of 10+
    accounts not touched by the plants, the share whose day-2 cluster id (run
    with ``previous=``) is their day-1 id. ``keep_id_plain`` is the same
    without ``previous=`` (canonical ids), for comparison. ``keep_id_same``
    restricts to the accounts whose day-2 cluster holds the same returning
    accounts as their day-1 cluster (clusters that did not change: ``n_same``
    accounts), ``keep_id_j90`` to those whose two clusters' returning
    accounts have a Jaccard index of 0.9 or more (``n_j90``).
``split_named`` / ``merge_named``
    Whether the lineage table has a ``split`` row from the planted cluster to
    the cluster of the accounts that broke off, and a ``merged`` row between
    the two merged clusters.
``agree``
    Share of the new accounts on which incremental assignment (a model of
    day 1, the batch = the new accounts' observations + the new observations
    of existing accounts) agrees with a full run on day 1 + the batch (with
    ``previous=`` day 1): both leave the account alone, or both put it in the
    same cluster id, or both put it in a new cluster of the same accounts. Disagreements are broken down: ``born`` (the full run
    made a new cluster, which assignment never does), ``changed`` (the full
    run no longer has the cluster the model assigned to, or moved the account
    away from a cluster whose other accounts stayed), ``other``.
``full_vs_full`` / ``agree_stable``
    The full run's own stability: the share of new accounts on which a second full run on day 1 + the
    batch, differing only in ``seed`` (+1), gives the same membership (both alone, or clusters of the
    same accounts); and ``agree`` restricted to those ``n_stable`` accounts.
``accounts_per_s``
    New accounts per CPU second of :meth:`Model.assign` (read, normalise,
    look up, join) on the batch; with ``--speed-scale``, also on a batch of a
    whole second population (new account ids) of that scale. The machine is
    shared: CPU time (``time.process_time``) is reported, wall time beside it.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

import sybilgraph as sg
from sybilgraph import synth
from sybilgraph.model import build_model

import _common


def plant(day2: pd.DataFrame, r1: sg.ClusterResult, rng: np.random.Generator) -> dict:
    """Plant a split and a merge into day 2; return what was planted."""
    a = r1.assignments
    sizes = r1.clusters.set_index("cluster_id")["size"]
    split_id = int(sizes[(sizes >= 20) & (sizes <= 200)].index[0])
    members = np.sort(a.loc[a["cluster_id"] == split_id, "account_id"].to_numpy(dtype=object))
    present = members[np.isin(members, day2["account_id"].unique())]
    broken = present[int(len(present) * 0.6):]
    merge_pool = [int(c) for c in sizes[(sizes >= 10) & (sizes <= 100)].index if int(c) != split_id]
    p_id, q_id = merge_pool[0], merge_pool[1]
    day2 = day2[~day2["account_id"].isin(broken)]
    extra = [(acc, k, f"split-{k}-{split_id}") for acc in broken for k in ("payment", "device", "phone")]
    merged = a.loc[a["cluster_id"].isin([p_id, q_id]), "account_id"].to_numpy(dtype=object)
    extra += [(acc, k, f"merge-{k}-{p_id}-{q_id}") for acc in merged for k in ("payment", "device", "phone")]
    extra_frame = pd.DataFrame(extra, columns=["account_id", "kind", "value"])
    extra_frame["timestamp"] = np.nan
    day2 = pd.concat([day2, extra_frame[day2.columns]], ignore_index=True)
    return {"day2": day2, "split": split_id, "broken": broken, "merge": (p_id, q_id)}


def same_membership(a: pd.DataFrame, b: pd.DataFrame, accounts: np.ndarray) -> np.ndarray:
    """For each of ``accounts``: alone in both assignments, or in clusters of the same accounts in both."""
    def members(frame: pd.DataFrame) -> pd.Series:
        f = frame.set_index("account_id")
        sets = f.groupby("cluster_id").apply(lambda g: frozenset(g.index))
        out = f.loc[accounts, "cluster_id"].map(sets)
        return out.where((f.loc[accounts, "cluster_size"] >= 2).to_numpy(), None)
    ma, mb = members(a), members(b)
    return np.array([x == y for x, y in zip(ma, mb)], dtype=bool)


def run(scenario: str, scale: float, seed: int, overrides: dict) -> dict:
    data = synth.generate(scenario, scale=scale, seed=seed)
    obs = data.observations
    if "timestamp" not in obs.columns:
        obs = obs.assign(timestamp=np.nan)
    rng = np.random.default_rng(seed)
    accounts = np.sort(obs["account_id"].unique())
    new = rng.choice(accounts, size=int(0.05 * len(accounts)), replace=False)
    old = np.setdiff1d(accounts, new)
    gone = rng.choice(old, size=int(0.02 * len(old)), replace=False)
    is_new = obs["account_id"].isin(new).to_numpy()
    held = ~is_new & (rng.random(len(obs)) < 0.05)  # new observations of existing accounts
    day1 = obs[~is_new & ~held]
    batch = obs[is_new | held]
    r1 = sg.cluster_accounts(day1, seed=seed, **overrides)
    planted = plant(obs[~obs["account_id"].isin(gone)], r1, rng)
    day2 = planted["day2"]
    r2 = sg.cluster_accounts(day2, seed=seed, previous=r1.assignments, **overrides)
    plain = sg.cluster_accounts(day2, seed=seed, **overrides)

    # --- stable ids
    a1 = r1.assignments.set_index("account_id")
    a2 = r2.assignments.set_index("account_id")
    ap = plain.assignments.set_index("account_id")
    touched = {planted["split"], *planted["merge"]}
    both = a1.index.intersection(a2.index)
    big = both[(a1.loc[both, "cluster_size"] >= 10).to_numpy() & ~a1.loc[both, "cluster_id"].isin(touched).to_numpy()]
    keep = (a2.loc[big, "cluster_id"] == a1.loc[big, "cluster_id"]).to_numpy()
    keep_plain = (ap.loc[big, "cluster_id"] == a1.loc[big, "cluster_id"]).to_numpy()
    # clusters that did not change: the same returning accounts on both days
    ret1 = a1.loc[both].groupby("cluster_id").apply(lambda g: frozenset(g.index))
    ret2 = a2.loc[both].groupby("cluster_id").apply(lambda g: frozenset(g.index))
    pairs = list(zip(a1.loc[big, "cluster_id"], a2.loc[big, "cluster_id"]))
    same_set = np.array([ret1[c1] == ret2[c2] for c1, c2 in pairs], dtype=bool)
    # clusters that hardly changed: Jaccard >= 0.9 between the returning accounts of the two clusters
    near = np.array([len(ret1[c1] & ret2[c2]) >= 0.9 * len(ret1[c1] | ret2[c2]) for c1, c2 in pairs], dtype=bool)

    # --- lineage of the plants
    lin = r2.lineage
    broken_ids = set(a2.loc[planted["broken"], "cluster_id"].tolist())
    split_named = bool(((lin["event"] == "split") & (lin["previous_id"] == planted["split"])
                        & lin["cluster_id"].isin(broken_ids)).any())
    p_id, q_id = planted["merge"]
    # both previous clusters lead to one cluster today, and at least one of them by a "merged" row
    rows_pq = lin[lin["previous_id"].isin([p_id, q_id]) & lin["event"].isin(["merged", "grew"])]
    by_target = rows_pq.groupby("cluster_id").agg(sources=("previous_id", "nunique"),
                                                  merged=("event", lambda e: (e == "merged").any()))
    merge_named = bool(((by_target["sources"] == 2) & by_target["merged"]).any())

    # --- incremental assignment against a full run on day 1 + the batch
    model = build_model(r1, observations=day1)
    model._value_index, model._account_index, model._indptr  # build the look-ups once, outside the timing
    c0, w0 = time.process_time(), time.perf_counter()
    done = model.assign(batch)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    full = sg.cluster_accounts(pd.concat([day1, batch], ignore_index=True), seed=seed, previous=r1.assignments,
                               **overrides)
    fa = full.assignments.set_index("account_id")
    inc = done.assignments.set_index("account_id").loc[new]
    f = fa.loc[new]
    alone_full = (f["cluster_size"] < 2).to_numpy()
    alone_inc = inc["cluster_id"].isna().to_numpy().copy()
    alone_inc &= inc["new_group"].isna().to_numpy()
    same = ~alone_full & ~alone_inc & (inc["cluster_id"].fillna(-1).to_numpy() == f["cluster_id"].to_numpy())
    # a new group without an id agrees when it holds exactly the accounts of the full run's cluster
    members_inc = done.assignments.dropna(subset=["new_group"]).groupby("new_group")["account_id"].agg(frozenset)
    members_full = full.assignments.groupby("cluster_id")["account_id"].agg(frozenset)
    group_ok = np.array([not pd.isna(g) and not af and members_inc[g] == members_full[c]
                         for g, af, c in zip(inc["new_group"], alone_full, f["cluster_id"])], dtype=bool)
    agree = (alone_full & alone_inc) | same | group_ok
    alone_inc &= ~group_ok
    born = ~agree & ~alone_full & (f["first_seen"].to_numpy() == full.assignments["run"].iloc[0])
    existing = set(full.clusters["cluster_id"][full.clusters["first_seen"] < full.assignments["run"].iloc[0]].tolist())
    changed = ~agree & ~born & ~alone_inc & ~np.isin(inc["cluster_id"].fillna(-1).to_numpy(), list(existing))
    # --- the full run's own stability: a second full run that differs only in the seed
    full2 = sg.cluster_accounts(pd.concat([day1, batch], ignore_index=True), seed=seed + 1,
                                previous=r1.assignments, **overrides)
    stable = same_membership(full.assignments, full2.assignments, new)
    row = {
        "scenario": scenario, "accounts": len(accounts), "new": len(new), "gone": len(gone),
        "keep_id": float(keep.mean()), "keep_id_plain": float(keep_plain.mean()),
        "keep_id_same": float(keep[same_set].mean()) if same_set.any() else float("nan"), "n_keep": int(len(big)),
        "n_same": int(same_set.sum()), "keep_id_j90": float(keep[near].mean()) if near.any() else float("nan"),
        "n_j90": int(near.sum()),
        "split_named": split_named, "merge_named": merge_named,
        "agree": float(agree.mean()), "full_vs_full": float(stable.mean()),
        "agree_stable": float(agree[stable].mean()) if stable.any() else float("nan"), "n_stable": int(stable.sum()), "dis_born": int(born.sum()), "dis_changed": int(changed.sum()),
        "dis_other": int((~agree & ~born & ~changed).sum()),
        "assigned_accounts": int(len(done.assignments)), "accounts_per_s": len(done.assignments) / max(cpu, 1e-9),
        "wall_s": round(wall, 3), "full_run_due": done.drift.full_run_due,
    }
    print(f"{scenario}: drift: {done.drift}", file=sys.stderr)
    print(f"{scenario}: lineage events {lin['event'].value_counts().to_dict()}", file=sys.stderr)
    return row


def speed(scale: float, seed: int, overrides: dict) -> dict:
    """assign on a whole second population (new ids) against a model of the first one."""
    data = synth.generate("distillation", scale=scale, seed=seed)
    r = sg.cluster_accounts(data.observations, seed=seed, **overrides)
    model = build_model(r, observations=data.observations)
    other = synth.generate("distillation", scale=scale, seed=seed + 1).observations.copy()
    other["account_id"] = "x" + other["account_id"].astype(str)
    model._value_index, model._account_index, model._indptr
    c0, w0 = time.process_time(), time.perf_counter()
    done = model.assign(other)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    n = len(done.assignments)
    return {"batch_accounts": n, "batch_rows": len(other), "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "accounts_per_s": n / max(cpu, 1e-9), "joined": int((done.assignments["status"] == "joined").sum())}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", action="append", help="scenario name (repeatable); default distillation")
    p.add_argument("--scale", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--speed-scale", type=float, default=0.0, help="also time assign on a population of this scale")
    _common.add_common_options(p)
    args = p.parse_args()
    overrides = _common.parse_settings(args.set)
    info = _common.versions()
    print(_common.version_line(info), file=sys.stderr)
    scale = 0.05 if args.quick else args.scale
    rows = [run(name, scale, args.seed, overrides) for name in (args.scenario or ["distillation"])]
    columns = ["scenario", "accounts", "new", "gone", "n_keep", "keep_id", "keep_id_plain", "n_same", "keep_id_same",
               "n_j90", "keep_id_j90",
               "split_named", "merge_named", "agree", "full_vs_full", "n_stable", "agree_stable", "dis_born",
               "dis_changed", "dis_other", "accounts_per_s",
               "full_run_due"]
    print(_common.markdown_table(rows, columns))
    speed_rows = []
    if args.speed_scale:
        speed_rows = [speed(args.speed_scale, args.seed, overrides)]
        print()
        print(_common.markdown_table(speed_rows, list(speed_rows[0])))
    _common.write_json(args.json, {"versions": info, "scale": scale, "seed": args.seed, "settings": overrides,
                                   "rows": rows, "speed": speed_rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
