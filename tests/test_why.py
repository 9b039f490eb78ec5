"""Explanations (issue 13): what they say must be what the clustering decided.

The account rule is worked through again by :mod:`sybilgraph.why` from the
result alone; these tests hold it against the clustering's own functions
(``cluster._earned``, ``cluster._rejoin``) and against the assignments, on
synthetic scenarios and on hand-made worlds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

import sybilgraph as sg
from sybilgraph.cluster import _earned, _rejoin
from sybilgraph.why import _articulation, _state, member_rule

RULES_IN = {"links", "strong link", "one value alone"}


def _check_agreement(result: sg.ClusterResult, accounts: list[str] | None = None) -> dict[str, int]:
    """Every member's explanation says in, by a rule that holds; every outsider's says out."""
    state = _state(result)
    a = result.assignments
    labels = a["cluster_id"].to_numpy()
    grouped = np.flatnonzero(a["cluster_size"].to_numpy() >= 2)
    earned = _earned(state.edges, state.edges.of_accounts(grouped), labels, result.settings) if len(grouped) else \
        np.zeros(len(a), dtype=bool)
    joined = _rejoin(state.edges, labels.astype(np.int64), np.full(len(a), -1), state.core, result.settings)
    joiners = dict(zip(joined[0].tolist(), joined[1].tolist())) if joined is not None else {}
    seen = {"in": 0, "out": 0, "out_by_group": 0}
    index = {acc: i for i, acc in enumerate(a["account_id"])}
    for acc in accounts if accounts is not None else a["account_id"]:
        i = index[acc]
        why = result.explain_account(acc)
        assert why.account_id == acc
        assert why.cluster_id == labels[i]
        if a["cluster_size"].iloc[i] >= 2:
            assert why.member and why.passes and why.rule in RULES_IN, why.verdict
            assert earned[i], acc  # the clustering's own test agrees
            assert why.compared_with == labels[i]
            assert why.verdict.startswith(f"Account {acc!r} is in cluster {labels[i]} ")
            seen["in"] += 1
        else:
            assert not why.member, why.verdict
            assert "is in no cluster" in why.verdict
            periphery = a["periphery_of"].iloc[i]
            if not pd.isna(periphery):
                assert why.compared_with == int(periphery)
            # The last step of the clustering (rejoin, without the group test's bar) agrees with the explanation.
            if why.passes:
                assert i in joiners, why.verdict
                assert why.rule == "taken out with its group"
                seen["out_by_group"] += 1
            else:
                assert joiners.get(i) != why.compared_with or why.compared_with is None, why.verdict
                assert why.rule in {"too few links", "coverage below min_density", "no shared value"}
            seen["out"] += 1
    return seen


def test_small_world_explanations(small_obs: pd.DataFrame) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    seen = _check_agreement(result)
    assert seen["in"] == 13 and seen["out"] == 1
    why = result.explain_account("loner")
    assert why.rule == "no shared value" and why.compared_with is None
    why = result.explain_account("a0")
    assert set(why.values.columns) >= {"kind", "value", "carriers", "in_cluster", "share", "weight", "link",
                                       "counts_as", "coverage"}
    dev = why.values[why.values["kind"] == "device"].iloc[0]
    assert (dev["carriers"], dev["in_cluster"], dev["share"]) == (6, 6, 1.0)


@pytest.mark.parametrize("scenario,seed", [("distillation", 0), ("camouflage", 1), ("many_small", 2)])
def test_explanations_agree_with_membership_on_synthetic_scenarios(scenario: str, seed: int) -> None:
    data = sg.synth.generate(scenario, scale=0.03, seed=seed)
    result = sg.cluster_accounts(data.observations, seed=seed)
    a = result.assignments
    # Every member of a few clusters, every periphery account, and a sample of the rest.
    clusters = result.groups()["cluster_id"].iloc[[0, 1, -2, -1]].tolist()
    chosen = set(a.loc[a["cluster_id"].isin(clusters), "account_id"].iloc[:600])
    chosen |= set(a.loc[a["periphery_of"].notna(), "account_id"].iloc[::9])
    chosen |= set(a["account_id"].iloc[::97])
    seen = _check_agreement(result, sorted(chosen))
    assert seen["in"] > 20 and seen["out"] > 20, seen
    # The per-member figures of member_rule are the ones every account explanation gives.
    state = _state(result)
    for c in clusters:
        rule = member_rule(state, c)
        assert rule["passes"].all()
        for r in rule.head(10).itertuples():
            why = result.explain_account(str(state.index[r.account]))
            assert (why.links, why.strong, why.one_value_alone) == (r.links, r.strong, r.one_value_alone)
            assert why.coverage == pytest.approx(r.coverage)


def test_household_behind_a_proxy_exit_is_out_of_the_team_and_says_why() -> None:
    rows = []
    for i in range(4):
        rows += [(f"hh-{i}", "payment", "family-card"), (f"hh-{i}", "device", "family-tablet"),
                 (f"hh-{i}", "ip", "81.2.69.10")]
    rows.append(("hh-0", "ip", "203.0.113.7"))
    for i in range(12):
        rows += [(f"op-{i:03d}", "device", "emulator-image"), (f"op-{i:03d}", "payment", f"prepaid-{i // 3}")]
        if i % 2 == 0:
            rows.append((f"op-{i:03d}", "ip", "203.0.113.7"))
    rows.append(("walker", "ip", "203.0.113.7"))
    rows.append(("walker", "device", "emulator-image"))
    result = sg.cluster_accounts(pd.DataFrame(rows, columns=["account_id", "kind", "value"]), seed=1, timestamp_col=None)
    _check_agreement(result)
    why = result.explain_account("hh-0")
    assert why.member and why.cluster_size == 4
    proxy = why.values[why.values["value"] == "203.0.113.7"].iloc[0]
    assert not proxy["link"]  # 6 of its 7 other carriers are in the team, not in the household
    assert proxy["in_cluster"] == 1


def test_templates_show_their_text_not_their_id() -> None:
    prompts = [f"Summarise the attached report number {i} in three bullet points please" for i in range(12)]
    obs = pd.DataFrame({"account_id": [f"t{i}" for i in range(12)] * 2,
                        "kind": ["prompt"] * 12 + ["payment"] * 12,
                        "value": prompts + [f"card-{i // 3}" for i in range(12)]})
    result = sg.cluster_accounts(obs, seed=0, timestamp_col=None)
    assert result.templates is not None and len(result.templates)
    why = result.explain_account("t0")
    tpl = why.values[why.values["kind"] == "prompt_template"]
    assert len(tpl) == 1
    assert tpl["value_id"].iloc[0].startswith("tpl-")
    assert not tpl["value"].iloc[0].startswith("tpl-") and "bullet points" in tpl["value"].iloc[0]
    assert "tpl-" not in why.verdict
    cluster = result.explain_cluster(int(why.cluster_id))
    assert not any(v.startswith("tpl-") for v in cluster.holding["value"])


def test_cluster_explanation_covers_every_member_and_finds_the_cut() -> None:
    # Ten accounts share an emulator image and a team card; "x" shares only the image.
    rows = [(f"r{i}", "device", "emulator") for i in range(10)] + [(f"r{i}", "payment", "team-card") for i in range(10)]
    rows += [("x", "device", "emulator"), ("x", "payment", "own-card")]
    rows += [(f"y{i}", "device", "stock-phone") for i in range(3)]  # so the image is not carried by everyone
    result = sg.cluster_accounts(pd.DataFrame(rows, columns=["account_id", "kind", "value"]), seed=0,
                                 timestamp_col=None)
    _check_agreement(result)
    why = result.explain_cluster(0)
    assert why.size == 11 and why.uncovered == 0
    assert why.holding.iloc[0]["value"] == "emulator" and why.holding.iloc[0]["new_members"] == 11
    assert len(why.holding) == 1
    # x hangs on one link, the image (the cluster's own tooling); removing the image cuts x off.
    assert why.hanging[["account_id", "value", "rule"]].values.tolist() == [["x", "emulator", "one value alone"]]
    top = why.split.iloc[0]
    assert (top["value"], top["cut_off"], top["pieces"]) == ("emulator", 1, 2)
    assert set(why.parts) == {"templated", "tooling", "payment", "burst"}
    assert "emulator" in why.verdict
    assert result.explain_account("x").rule == "one value alone"


@pytest.mark.parametrize("seed", range(6))
def test_articulation_matches_removal_by_connected_components(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_m, n_v = int(rng.integers(2, 25)), int(rng.integers(1, 20))
    pairs = {(int(rng.integers(n_m)), int(rng.integers(n_v))) for _ in range(int(rng.integers(n_m, 3 * n_m + 3)))}
    local = np.array([p[0] for p in pairs], dtype=np.int64)
    codes = np.array([p[1] for p in pairs], dtype=np.int64)
    cut_off, pieces, _ = _articulation(n_m, local, codes, n_v)
    n = n_m + n_v

    def member_pieces(keep: np.ndarray) -> list[np.ndarray]:
        adj = sp.coo_matrix((np.ones(int(keep.sum())), (local[keep], n_m + codes[keep])), shape=(n, n))
        _, lab = connected_components(adj, directed=False)
        return [np.bincount(lab[:n_m], minlength=n)]

    base = member_pieces(np.ones(len(local), dtype=bool))[0]
    _, base_lab = connected_components(sp.coo_matrix((np.ones(len(local)), (local, n_m + codes)), shape=(n, n)),
                                       directed=False)
    for v in range(n_v):
        carriers = local[codes == v]
        if not len(carriers):
            assert cut_off[v] == 0
            continue
        comp = base_lab[carriers[0]]
        in_comp = np.flatnonzero(base_lab[:n_m] == comp)
        keep = codes != v
        adj = sp.coo_matrix((np.ones(int(keep.sum())), (local[keep], n_m + codes[keep])), shape=(n, n))
        _, lab = connected_components(adj, directed=False)
        sizes = np.bincount(lab[in_comp])
        sizes = sizes[sizes > 0]
        expected = len(in_comp) - sizes.max() if len(sizes) > 1 else 0
        assert cut_off[v] == expected, (v, seed)
        assert pieces[v] == (len(sizes) if len(sizes) > 1 else 1), (v, seed)
    assert base.sum() == n_m


def test_unknown_account_and_cluster_are_parameter_errors(small_obs: pd.DataFrame) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    with pytest.raises(sg.ParameterError, match="'nobody' is not an account"):
        result.explain_account("nobody")
    with pytest.raises(sg.ParameterError, match="cluster_id 999"):
        result.explain_cluster(999)
    with pytest.raises(sg.ParameterError):
        result.explain_cluster(True)  # type: ignore[arg-type]


def test_accounts_without_usable_values_are_explained(small_obs: pd.DataFrame) -> None:
    obs = pd.concat([small_obs, pd.DataFrame({"account_id": ["empty"], "kind": ["ip"], "value": ["not an ip"]})])
    result = sg.cluster_accounts(obs, seed=0)
    why = result.explain_account("empty")
    assert not why.member and len(why.values) == 0 and "no usable value" in why.verdict


def test_explanations_are_cached_and_fast_enough(small_obs: pd.DataFrame) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    result.explain_account("a0")
    state = result._cache["why"]
    result.explain_cluster(0)
    assert result._cache["why"] is state


def test_cli_explain_prints_safely(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from sybilgraph.cli import main

    rows = [(f"a{i}\x1b[2J\u202e", "payment", f"card{i // 3}") for i in range(6)]
    rows += [(f"a{i}\x1b[2J\u202e", "device", "emu\nforged line") for i in range(6)]
    rows += [("z", "device", "other"), ("y", "device", "other2")]
    src = tmp_path / "o.parquet"
    pd.DataFrame(rows, columns=["account_id", "kind", "value"]).to_parquet(src)
    assert main(["explain", str(src), "--account", "a0\x1b[2J\u202e"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Account 'a0\\x1b[2J\\u202e' is in cluster ")
    assert "\x1b" not in out and "\u202e" not in out and "forged line" in out and "\nforged line" not in out
    assert main(["explain", str(src), "--cluster", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Cluster 0 holds ") and "values that hold it together:" in out and "\x1b" not in out
    assert main(["explain", str(src), "--account", "nobody"]) == 2
    assert "'nobody' is not an account" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["explain", str(src)])  # --account or --cluster is required


@pytest.mark.parametrize("seed", range(4))
def test_roc_auc_is_the_share_of_ordered_pairs(seed: int) -> None:
    from sybilgraph.metrics import roc_auc

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    pos = rng.random(n) < 0.4
    score = rng.integers(0, 5, n) / 4.0  # many ties
    p, q = score[pos], score[~pos]
    expected = ((p[:, None] > q[None, :]).sum() + 0.5 * (p[:, None] == q[None, :]).sum()) / max(len(p) * len(q), 1)
    got = roc_auc(pos, score)
    if len(p) and len(q):
        assert got == pytest.approx(expected)
    else:
        assert np.isnan(got)
    with pytest.raises(sg.ParameterError):
        roc_auc([True, False], [0.5, float("nan")])
