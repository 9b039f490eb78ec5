"""Scale invariance: do a small population's clusters survive being embedded in a larger one?

Cluster a synthetic scenario at a small scale (default: distillation at 0.1,
about 12,400 accounts), then the same accounts inside a population of scale 1
and 8 (the small run plus an *added* population of scale S - 0.1), and compare
the two partitions restricted to the small run's accounts:

* ``changed`` — share of the small run's accounts whose set of co-members
  among the small run's accounts is not the same in both runs;
* ``pairwise_f1`` and ``ari`` between the two restricted partitions (the small
  run's clusters taken as the reference);
* the same restricted to the small run's operators (``*_op``) and to its
  benign accounts (``*_benign``);
* ``joined_added`` — share of the small run's accounts whose cluster in the
  embedded run also holds added accounts (in the second table, by the kind of
  the small run's group and split by the added accounts' role).

    python benchmarks/bench_scale_invariance.py                    # 0.1 -> 1 and 8
    python benchmarks/bench_scale_invariance.py --quick            # 0.1 -> 1
    python benchmarks/bench_scale_invariance.py --scales 1,4 --set objective=cpm --set resolution=0.25

How the added population shares hubs (see benchmarks/README.md): it is
``synth.generate(scenario, scale=S - small_scale, seed=seed + 1)`` with its
account ids prefixed ``x`` and its entities and organisations prefixed ``x:``
(distinct people and distinct operators). Values that are the same across
populations by construction stay the same: webmail domains, popular system
prompts, benign free-form prompt templates, and IP /24 prefixes wherever the
two draws from the same address spaces meet. Values of the shared pools are
made the same: the added population's stock device fingerprints, proxy-network
exits, carrier-NAT addresses and university gateways are ranked by carriers,
and its i-th busiest of each pool is replaced by the small run's i-th busiest
(as many as the small run has), so the small run's hubs become the larger
population's busiest hubs of their kind. The added operators' prompts are
written backwards, so that their teams' templates (drawn from the same bank of
templates as the small run's) are their own tooling and not a false link to
the small run's teams. Every value that ends up carried by accounts of both
populations is counted by kind in the second table (after normalisation,
derived kinds included).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import sybilgraph as sg
from sybilgraph import metrics, synth
from sybilgraph.normalise import canonical_email

import _common

PREFIX = "x"  # added account ids: "x" + id; entities and organisations: "x:" + name

COLUMNS = ["scale", "accounts", "added", "changed", "pairwise_f1", "ari", "changed_op", "pairwise_f1_op", "ari_op",
           "changed_benign", "pairwise_f1_benign", "ari_benign", "joined_added", "recall", "benign_fp", "purity",
           "seconds"]
BRIDGE_COLUMNS = ["scale", "kind", "values", "small_accounts", "added_accounts"]
GROUP_COLUMNS = ["scale", "group", "accounts", "changed", "joined_added", "with_added_operators", "with_added_benign"]
POOL_COLUMNS = ["scale", "pool", "small_values", "added_values", "mapped"]


# ---------------------------------------------------------------------------
# The embedding
# ---------------------------------------------------------------------------


def _pool_of_ips(values: pd.Series) -> pd.Series:
    """Pool name of each IPv4 value by synth's address plan; "" for values outside the shared pools."""
    first = pd.to_numeric(values.str.split(".", n=1).str[0], errors="coerce").fillna(-1).astype(np.int64)
    second = pd.to_numeric(values.str.split(".", n=2).str[1], errors="coerce").fillna(-1).astype(np.int64)
    out = pd.Series("", index=values.index, dtype=object)
    # synth draws each role's addresses from its own first octets (its module constants)
    out[first.isin(synth._RESIDENTIAL_OCTETS.tolist())] = "proxy exit"
    out[first.isin(synth._UNIVERSITY_OCTETS.tolist())] = "university gateway"
    out[(first == 100) & (second >= 64) & (second <= 127)] = "carrier NAT"
    return out


def shared_pools(data: synth.SynthData) -> dict[str, list[str]]:
    """Values of each shared pool, busiest first: values whose carriers belong to 2+ true entities.

    Within one population a value carried by several entities (teams,
    households, companies, individuals) comes from a pool that synth draws
    for the whole population: stock fingerprints (kind ``device``), proxy
    exits, carrier NAT and university gateways (kind ``ip``, told apart by
    address space). Organisation-private values that several teams of one
    organisation share (its office IPs and card) are left out.
    """
    obs = data.observations[["account_id", "kind", "value"]]
    obs = obs[obs["kind"].isin(["device", "ip"])].drop_duplicates()
    entity = data.truth.set_index("account_id")["entity"]
    frame = pd.DataFrame({"kind": obs["kind"].to_numpy(), "value": obs["value"].to_numpy(),
                          "entity": entity.reindex(obs["account_id"]).to_numpy()})
    stats = frame.groupby(["kind", "value"], sort=False).agg(carriers=("entity", "size"),
                                                           entities=("entity", "nunique")).reset_index()
    stats = stats[stats["entities"] >= 2]
    pools: dict[str, list[str]] = {}
    devices = stats[stats["kind"] == "device"]
    pools["stock device"] = _busiest(devices)
    ips = stats[stats["kind"] == "ip"].copy()
    ips["pool"] = _pool_of_ips(ips["value"])
    for name in ("proxy exit", "carrier NAT", "university gateway"):
        pools[name] = _busiest(ips[ips["pool"] == name])
    return pools


def _busiest(stats: pd.DataFrame) -> list[str]:
    return stats.sort_values(["carriers", "value"], ascending=[False, True])["value"].astype(str).tolist()


def embed(small: synth.SynthData, added: synth.SynthData) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """Observations and truth of ``small`` plus ``added``, the latter renamed and sharing the small run's pools."""
    small_pools, added_pools = shared_pools(small), shared_pools(added)
    mapping: dict[str, dict[str, str]] = {"device": {}, "ip": {}}
    pool_rows = []
    for name, mine in small_pools.items():
        theirs = added_pools[name]
        k = min(len(mine), len(theirs))
        kind = "device" if name == "stock device" else "ip"
        mapping[kind].update(zip(theirs[:k], mine[:k]))
        pool_rows.append({"pool": name, "small_values": len(mine), "added_values": len(theirs), "mapped": k})

    obs = added.observations.copy()
    truth = added.truth.copy()
    role = truth.set_index("account_id")["role"]
    for kind, table in mapping.items():
        rows = (obs["kind"] == kind) & obs["value"].isin(list(table))
        obs.loc[rows, "value"] = obs.loc[rows, "value"].map(table)
    operator_prompt = (obs["kind"] == "prompt") & (role.reindex(obs["account_id"]).to_numpy() == "operator")
    text = pa.array(obs.loc[operator_prompt, "value"].to_numpy(dtype=object), type=pa.string())
    obs.loc[operator_prompt, "value"] = pc.utf8_reverse(text).to_numpy(zero_copy_only=False)
    redrawn = redraw_collisions(small.observations, obs, {v for table in mapping.values() for v in table.values()})
    pool_rows.append({"pool": "accidental collision (redrawn)", "added_values": redrawn})
    obs["account_id"] = PREFIX + obs["account_id"]
    truth["account_id"] = PREFIX + truth["account_id"]
    truth["entity"] = PREFIX + ":" + truth["entity"]
    truth["organisation"] = truth["organisation"].where(truth["organisation"] == "", PREFIX + ":" + truth["organisation"])
    clash = set(truth["account_id"]) & set(small.truth["account_id"])
    if clash:  # pragma: no cover - ids of synth start with "a"
        raise SystemExit(f"added account ids collide with the small run's, e.g. {sorted(clash)[:3]}")
    return (pd.concat([small.observations, obs], ignore_index=True),
            pd.concat([small.truth, truth], ignore_index=True), pool_rows)


def redraw_collisions(small_obs: pd.DataFrame, obs: pd.DataFrame, pooled: set[str]) -> int:
    """Give the added population's values that meet a small-run value by chance a value of their own.

    Two independent draws of home IPs (or mailboxes) from the same spaces meet
    now and then (at scale 8 about a dozen home IPs), which would be a strong
    false link between strangers. Prompts are left alone (identical popular
    prompts are shared honestly), and so are the pooled values just mapped.
    An IPv4 address moves to a free host of its own /24, so /24 prefixes stay
    shared as drawn; any other value gets a suffix (e-mail: a prefix to the
    local part). E-mail addresses are compared in canonical form, as the
    pipeline will meet them. Changes ``obs`` in place and returns how many
    distinct values were redrawn.
    """
    kinds = [k for k in pd.unique(obs["kind"]) if k != "prompt"]
    count = 0
    for kind in kinds:
        # e-mail addresses meet after normalisation (case, Gmail dots, +tags), so compare canonical forms
        key = _email_key if kind == "email" else _same
        mine = {key(v) for v in pd.unique(small_obs.loc[small_obs["kind"] == kind, "value"])}
        rows = obs["kind"] == kind
        theirs = {v: key(v) for v in pd.unique(obs.loc[rows, "value"])}
        clash = sorted(v for v, k in theirs.items() if k in mine and v not in pooled)
        if not clash:
            continue
        used = mine | set(theirs.values())
        table = {}
        for value in clash:
            table[value] = _fresh(kind, value, used)
            used.add(key(table[value]))
        hit = rows & obs["value"].isin(clash)
        obs.loc[hit, "value"] = obs.loc[hit, "value"].map(table)
        count += len(clash)
    return count


def _same(value: str) -> str:
    return value


def _email_key(value: str) -> str:
    return canonical_email(value) or value


def _fresh(kind: str, value: str, used: set[str]) -> str:
    """A value of the same kind that no population holds yet (``used`` holds comparison keys)."""
    parts = value.split(".")
    if kind == "ip" and len(parts) == 4 and all(p.isdigit() for p in parts):
        for host in range(1, 255):
            candidate = ".".join(parts[:3] + [str(host)])
            if candidate not in used:
                return candidate
    key = _email_key if kind == "email" else _same
    candidate = PREFIX + value if kind == "email" and "@" in value else value + "-" + PREFIX
    while key(candidate) in used:
        candidate = PREFIX + candidate if kind == "email" else candidate + PREFIX
    return candidate


# ---------------------------------------------------------------------------
# Comparison of two partitions of the same accounts
# ---------------------------------------------------------------------------


def changed_share(reference: np.ndarray, other: np.ndarray) -> float:
    """Share of items whose set of co-members differs between the two labelings.

    An item keeps its co-members exactly when its cell of the contingency
    table is its whole cluster in both labelings.
    """
    if len(reference) == 0:
        return float("nan")
    c = metrics.contingency(reference, other)
    whole = (c.cells == c.true_sizes[c.row]) & (c.cells == c.pred_sizes[c.col])
    return float(c.cells[~whole].sum() / c.n)


def changed_accounts(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Per item: True when its set of co-members differs between the two labelings."""
    ref = pd.factorize(reference)[0]
    oth = pd.factorize(other)[0]
    cell = pd.factorize(ref * (int(oth.max()) + 1 if len(oth) else 1) + oth)[0]
    return (np.bincount(cell)[cell] != np.bincount(ref)[ref]) | (np.bincount(cell)[cell] != np.bincount(oth)[oth])


def group_type(entity: pd.Series, role: pd.Series) -> np.ndarray:
    """synth's entity names: operator team, ``hh-<k>`` household, ``co-<k>`` company, else individual."""
    out = np.where(entity.str.startswith("hh-"), "household",
                   np.where(entity.str.startswith("co-"), "company", "individual"))
    return np.where(role.to_numpy() == "operator", "operator", out)


def compare(reference: np.ndarray, other: np.ndarray, suffix: str = "") -> dict[str, float]:
    _, _, f1 = metrics.pairwise_scores(reference, other)
    return {f"changed{suffix}": changed_share(reference, other), f"pairwise_f1{suffix}": f1,
            f"ari{suffix}": metrics.adjusted_rand_index(reference, other)}


def bridges(observations: pd.DataFrame, is_small: pd.Series) -> list[dict[str, Any]]:
    """Per normalised kind: values carried by accounts of both populations, and the accounts carrying them."""
    obs = observations[["account_id", "kind", "value"]].drop_duplicates()
    small = is_small.reindex(obs["account_id"]).to_numpy()
    key = pd.MultiIndex.from_arrays([obs["kind"].to_numpy(), obs["value"].to_numpy()])
    code, uniques = pd.factorize(key)
    in_small = np.bincount(code[small], minlength=len(uniques)) > 0
    in_added = np.bincount(code[~small], minlength=len(uniques)) > 0
    both = in_small & in_added
    kinds = obs["kind"].to_numpy()
    account = obs["account_id"].to_numpy()
    out = []
    for kind in sorted(pd.unique(kinds)):
        rows = (kinds == kind) & both[code]
        out.append({"kind": str(kind), "values": len(np.unique(code[rows])),
                    "small_accounts": len(pd.unique(account[rows & small])),
                    "added_accounts": len(pd.unique(account[rows & ~small]))})
    return out


def labels(result: sg.ClusterResult, accounts: pd.Series) -> np.ndarray:
    pred = result.assignments.set_index("account_id")["cluster_id"].reindex(accounts)
    if pred.isna().any():
        raise SystemExit(f"{int(pred.isna().sum())} accounts came back without a cluster")
    return pred.to_numpy()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="distillation", choices=sorted(synth.SCENARIOS))
    p.add_argument("--small-scale", type=float, default=0.1)
    p.add_argument("--scales", default="1,8", help="comma-separated scales of the embedding populations")
    p.add_argument("--seed", type=int, default=0, help="data seed of the small run (the added population uses seed + 1)")
    p.add_argument("--leiden-seed", type=int, default=0)
    _common.add_common_options(p)
    args = p.parse_args()
    overrides = _common.parse_settings(args.set)
    scales = [1.0] if args.quick else [float(s) for s in args.scales.split(",") if s.strip()]
    if any(s <= args.small_scale for s in scales):
        p.error(f"every scale must exceed --small-scale {args.small_scale}; got {scales}")
    info = _common.versions()

    small = synth.generate(args.scenario, scale=args.small_scale, seed=args.seed)
    t0 = time.perf_counter()
    ref_result = sg.cluster_accounts(small.observations, seed=args.leiden_seed, **overrides)
    ref_seconds = time.perf_counter() - t0
    accounts = small.truth["account_id"]
    reference = labels(ref_result, accounts)
    operator = (small.truth["role"] == "operator").to_numpy()
    figures = metrics.evaluate(small.truth, ref_result.assignments)
    rows: list[dict[str, Any]] = [{
        "scale": args.small_scale, "accounts": len(small.truth), "added": 0,
        "recall": figures["sybil_recall"], "benign_fp": figures["benign_fp_rate"],
        "purity": figures["operator_purity"], "seconds": ref_seconds}]
    print(f"small run: {len(accounts):,} accounts in {ref_seconds:.1f} s", file=sys.stderr, flush=True)
    bridge_rows: list[dict[str, Any]] = []
    group_rows: list[dict[str, Any]] = []
    groups = group_type(small.truth["entity"], small.truth["role"])
    pool_rows: list[dict[str, Any]] = []
    for scale in scales:
        t_gen = time.perf_counter()
        added = synth.generate(args.scenario, scale=scale - args.small_scale, seed=args.seed + 1)
        observations, truth, pools = embed(small, added)
        del added
        gen_seconds = time.perf_counter() - t_gen
        t0 = time.perf_counter()
        result = sg.cluster_accounts(observations, seed=args.leiden_seed, **overrides)
        seconds = time.perf_counter() - t0
        other = labels(result, accounts)
        row: dict[str, Any] = {"scale": scale, "accounts": len(truth), "added": len(truth) - len(accounts)}
        row.update(compare(reference, other))
        row.update(compare(reference[operator], other[operator], "_op"))
        row.update(compare(reference[~operator], other[~operator], "_benign"))
        cluster_of = result.assignments.set_index("account_id")["cluster_id"]
        is_small = pd.Series(cluster_of.index.isin(accounts), index=cluster_of.index)
        has_added = (~is_small).groupby(cluster_of.to_numpy()).any()
        row["joined_added"] = float(has_added.reindex(other).to_numpy().mean())
        changed = changed_accounts(reference, other)
        joined = has_added.reindex(other).to_numpy()
        added_operator = (~is_small) & (truth.set_index("account_id")["role"].reindex(cluster_of.index) == "operator")
        with_op = added_operator.groupby(cluster_of.to_numpy()).any().reindex(other).to_numpy()
        with_benign = ((~is_small) & ~added_operator).groupby(cluster_of.to_numpy()).any().reindex(other).to_numpy()
        for name in ("operator", "household", "company", "individual"):
            sel = groups == name
            group_rows.append({"scale": scale, "group": name, "accounts": int(sel.sum()),
                               "changed": float(changed[sel].mean()) if sel.any() else float("nan"),
                               "joined_added": float(joined[sel].mean()) if sel.any() else float("nan"),
                               "with_added_operators": float(with_op[sel].mean()) if sel.any() else float("nan"),
                               "with_added_benign": float(with_benign[sel].mean()) if sel.any() else float("nan")})
        full = metrics.evaluate(truth, result.assignments)
        row.update(recall=full["sybil_recall"], benign_fp=full["benign_fp_rate"], purity=full["operator_purity"],
                   seconds=seconds, generate_seconds=gen_seconds, timings=result.timings)
        rows.append(row)
        bridge_rows += [{"scale": scale, **b} for b in bridges(result.observations, is_small)]
        pool_rows += [{"scale": scale, **b} for b in pools]
        print(f"scale {scale}: {len(truth):,} accounts clustered in {seconds:.1f} s "
              f"(generated and embedded in {gen_seconds:.1f} s)", file=sys.stderr, flush=True)
        del observations, truth, result

    print(f"Scale invariance, {args.scenario} at {args.small_scale} embedded in {', '.join(map(str, scales))}; "
          f"settings {overrides or 'default'}, data seed {args.seed}, Leiden seed {args.leiden_seed}\n")
    def shown(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "scale": f"{r['scale']:g}"} for r in table]

    print(_common.markdown_table(shown(rows), COLUMNS))
    print("\nBy kind of true group of the small run's accounts:\n")
    print(_common.markdown_table(shown(group_rows), GROUP_COLUMNS))
    print("\nShared pools, mapped by rank onto the small run's:\n")
    print(_common.markdown_table(shown(pool_rows), POOL_COLUMNS))
    print("\nValues carried by accounts of both populations, after normalisation:\n")
    print(_common.markdown_table(shown(bridge_rows), BRIDGE_COLUMNS))
    print("\n" + _common.version_line(info))
    _common.write_json(args.json, {"benchmark": "scale_invariance", "scenario": args.scenario,
                                   "small_scale": args.small_scale, "scales": scales, "seed": args.seed,
                                   "leiden_seed": args.leiden_seed, "settings": overrides, "versions": info,
                                   "rows": rows, "groups": group_rows, "pools": pool_rows, "bridges": bridge_rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
