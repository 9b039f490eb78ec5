"""Runs over time: stable ids, lineage, constraints (issue 14)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sybilgraph as sg
from sybilgraph.cli import main
from sybilgraph.runs import constraints_violated, read_constraints, read_previous

from test_properties import observations


def ring(prefix: str, n: int, *, card: str | None = None, device: str | None = None) -> list[tuple[str, str, str]]:
    """``n`` accounts that share a card, a device image and a phone: a ring that stays whole."""
    rows = []
    for i in range(n):
        rows += [(f"{prefix}{i:02d}", "payment", card or f"card-{prefix}"),
                 (f"{prefix}{i:02d}", "device", device or f"emu-{prefix}"),
                 (f"{prefix}{i:02d}", "phone", f"phone-{prefix}")]
    return rows


def frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])


def cluster_of(result: sg.ClusterResult, account: str) -> int:
    a = result.assignments
    return int(a.loc[a["account_id"] == account, "cluster_id"].iloc[0])


def test_rerun_with_previous_keeps_every_id(small_obs: pd.DataFrame) -> None:
    first = sg.cluster_accounts(small_obs, seed=0)
    again = sg.cluster_accounts(small_obs, seed=0, previous=first.assignments)
    assert again.assignments["cluster_id"].tolist() == first.assignments["cluster_id"].tolist()
    assert (again.assignments["first_seen"] == 0).all() and (again.assignments["run"] == 1).all()
    assert len(again.lineage) == 0  # nothing changed
    third = sg.cluster_accounts(small_obs, seed=0, previous=again.assignments)
    assert third.assignments["cluster_id"].tolist() == first.assignments["cluster_id"].tolist()
    assert (third.assignments["run"] == 2).all() and (third.clusters["age"] == 2).all()


def test_a_new_big_cluster_renumbers_nothing() -> None:
    day1 = frame(ring("a", 6) + ring("b", 4))
    first = sg.cluster_accounts(day1, seed=0)
    day2 = frame(ring("a", 6) + ring("b", 4) + ring("z", 12))  # the new cluster is the largest
    plain = sg.cluster_accounts(day2, seed=0)
    assert cluster_of(plain, "a00") != cluster_of(first, "a00")  # canonical ids moved
    stable = sg.cluster_accounts(day2, seed=0, previous=first.assignments)
    assert cluster_of(stable, "a00") == cluster_of(first, "a00")
    assert cluster_of(stable, "b00") == cluster_of(first, "b00")
    new_id = cluster_of(stable, "z00")
    assert new_id >= int(first.assignments["cluster_id"].max()) + 1
    lin = stable.lineage
    born = lin[lin["event"] == "born"]
    assert born["cluster_id"].tolist() == [new_id] and born["size"].tolist() == [12]
    c = stable.clusters.set_index("cluster_id")
    assert c.loc[new_id, "first_seen"] == 1 and c.loc[new_id, "age"] == 0
    assert c.loc[cluster_of(stable, "a00"), "age"] == 1


def test_ids_are_never_reused_after_a_cluster_dies() -> None:
    day1 = frame(ring("a", 6) + ring("b", 4))
    r1 = sg.cluster_accounts(day1, seed=0)
    r2 = sg.cluster_accounts(frame(ring("a", 6) + ring("b", 4) + ring("c", 3)), seed=0, previous=r1.assignments)
    c_id = cluster_of(r2, "c00")
    r3 = sg.cluster_accounts(frame(ring("a", 6) + ring("b", 4)), seed=0, previous=r2.assignments)  # c gone
    r4 = sg.cluster_accounts(frame(ring("a", 6) + ring("b", 4) + ring("d", 3)), seed=0, previous=r3.assignments)
    assert cluster_of(r4, "d00") > c_id
    assert (r3.lineage["event"] == "died").sum() == 1


def test_lineage_names_split_and_merge() -> None:
    # day 1: ring a (10) and ring b (6), c (4) apart
    day1 = frame(ring("a", 10) + ring("b", 6) + ring("c", 4))
    r1 = sg.cluster_accounts(day1, seed=0)
    a_id, b_id, c_id = (cluster_of(r1, x) for x in ("a00", "b00", "c00"))
    # day 2: a06..a09 take a device and cards of their own (split); b and c share a card and an image (merge)
    rows = [r for r in ring("a", 10) if int(r[0][1:]) < 6]
    rows += [(f"a{i:02d}", "payment", "card-split") for i in range(6, 10)]
    rows += [(f"a{i:02d}", "device", "emu-split") for i in range(6, 10)]
    rows += ring("b", 6) + ring("c", 4)
    rows += [(f"{p}{i:02d}", k, v) for p, n in (("b", 6), ("c", 4)) for i in range(n)
             for k, v in (("payment", "card-bc"), ("device", "emu-bc"))]
    r2 = sg.cluster_accounts(frame(rows), seed=0, previous=r1.assignments)
    assert cluster_of(r2, "a00") == a_id and cluster_of(r2, "a06") != a_id
    assert cluster_of(r2, "b00") == cluster_of(r2, "c00") == b_id  # the larger side keeps its id
    lin = r2.lineage
    split = lin[(lin["event"] == "split")]
    assert split[["previous_id", "cluster_id", "shared"]].values.tolist() == [[a_id, cluster_of(r2, "a06"), 4]]
    merged = lin[(lin["event"] == "merged")]
    assert merged[["previous_id", "cluster_id", "shared"]].values.tolist() == [[c_id, b_id, 4]]
    assert set(lin["event"]) <= set(sg.runs.EVENTS)


def test_gone_and_new_accounts_do_not_vote() -> None:
    r1 = sg.cluster_accounts(frame(ring("a", 10) + ring("b", 6)), seed=0)
    # 6 of ring a's 10 are gone and 8 join: the 4 that stay are all of its returning accounts, so it keeps its id
    r2 = sg.cluster_accounts(frame([r for r in ring("a", 18) if int(r[0][1:]) >= 6] + ring("b", 6)), seed=0,
                             previous=r1.assignments)
    assert cluster_of(r2, "a06") == cluster_of(r2, "a17") == cluster_of(r1, "a00")
    lin = r2.lineage
    assert lin[["previous_id", "cluster_id", "shared", "previous_size", "size", "event"]].values.tolist() == [
        [cluster_of(r1, "a00"), cluster_of(r1, "a00"), 4, 10, 12, "grew"]]


def test_previous_file_errors(tmp_path) -> None:
    with pytest.raises(sg.InputError, match="column 'cluster_id' not found"):
        read_previous(pd.DataFrame({"account_id": ["a"]}))
    with pytest.raises(sg.InputError, match="appears twice.*row 1"):
        read_previous(pd.DataFrame({"account_id": ["a", "a"], "cluster_id": [0, 1]}))
    with pytest.raises(sg.InputError, match="row 1 holds 'x'"):
        read_previous(pd.DataFrame({"account_id": ["a", "b"], "cluster_id": ["0", "x"]}))
    with pytest.raises(sg.InputError, match="non-negative"):
        read_previous(pd.DataFrame({"account_id": ["a"], "cluster_id": [-1]}))


def test_cli_previous_and_lineage(tmp_path, small_obs, capsys) -> None:
    src = tmp_path / "obs.csv"
    small_obs.to_csv(src, index=False)
    day1, day2, lin = tmp_path / "d1.csv", tmp_path / "d2.parquet", tmp_path / "lin.csv"
    assert main(["cluster", str(src), "-o", str(day1)]) == 0
    assert main(["cluster", str(src), "-o", str(day2), "--previous", str(day1), "--lineage", str(lin), "--seed", "3"]) == 0
    a1, a2 = sg.read_table(day1), pd.read_parquet(day2)
    assert list(a2.columns)[-3:] == ["first_seen", "run", "next_id"]
    assert a2["cluster_id"].tolist() == pd.to_numeric(a1["cluster_id"]).tolist()
    assert sg.read_table(lin).columns.tolist() == ["previous_id", "cluster_id", "shared", "previous_size", "size", "event"]
    assert main(["cluster", str(src), "-o", str(tmp_path / "x.csv"), "--lineage", str(lin)]) == 2
    assert "--lineage needs --previous" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("account_id\na\n")
    assert main(["cluster", str(src), "-o", str(tmp_path / "x.csv"), "--previous", str(bad)]) == 2


# ------------------------------------------------------------------------------------------- constraints


def test_must_merges_and_cannot_separates(small_obs: pd.DataFrame) -> None:
    rules = pd.DataFrame({"account_a": ["a0", "a0"], "account_b": ["b0", "a1"], "relation": ["must", "cannot"]})
    result = sg.cluster_accounts(small_obs, seed=0, constraints=rules)
    assert cluster_of(result, "a0") == cluster_of(result, "b0")
    assert cluster_of(result, "a0") != cluster_of(result, "a1")
    assert constraints_violated(result.assignments["account_id"].to_numpy(object),
                                result.assignments["cluster_id"].to_numpy(), rules).empty
    notes = " ".join(str(n) for n in result.report)
    assert "must constraints joined accounts the evidence had put in different clusters" in notes
    assert "cannot constraints separated accounts the evidence had put in one cluster" in notes
    sizes = result.assignments.groupby("cluster_id").size()
    assert (result.assignments.set_index("cluster_id")["cluster_size"].groupby(level=0).first() == sizes).all()


def test_constraint_file_errors(tmp_path) -> None:
    with pytest.raises(sg.InputError, match="row 0 .* 'must' or 'cannot'"):
        read_constraints(pd.DataFrame({"account_a": ["a"], "account_b": ["b"], "relation": ["maybe"]}))
    with pytest.raises(sg.InputError, match="column 'relation' not found"):
        read_constraints(pd.DataFrame({"account_a": ["a"], "account_b": ["b"]}))
    p = tmp_path / "c.csv"
    p.write_text("account_a,account_b,relation\n=x,y,MUST\n")
    assert read_constraints(p)["relation"].tolist() == ["must"]


@st.composite
def constraint_sets(draw, accounts: list[str]) -> pd.DataFrame:
    n = draw(st.integers(0, 8))
    rows = []
    for _ in range(n):
        a, b = draw(st.sampled_from(accounts)), draw(st.sampled_from(accounts))
        rows.append((a, b, draw(st.sampled_from(["must", "cannot"]))))
    return pd.DataFrame(rows, columns=["account_a", "account_b", "relation"])


def consistent(rules: pd.DataFrame) -> pd.DataFrame:
    """Drop cannot pairs that a chain of must pairs contradicts (the library reports and skips those)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b, r in rules.itertuples(index=False):
        if r == "must":
            parent[find(a)] = find(b)
    keep = [r == "must" or find(a) != find(b) for a, b, r in rules.itertuples(index=False)]
    return rules[pd.Series(keep, index=rules.index, dtype=bool)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(0, 2**31 - 1))
def test_constraints_are_never_violated(data: st.DataObject, seed: int) -> None:
    obs = data.draw(observations(min_accounts=2, max_accounts=15))
    accounts = sorted(obs["account_id"].unique())
    rules = data.draw(constraint_sets(accounts))
    result = sg.cluster_accounts(obs, seed=seed, constraints=rules)
    a = result.assignments
    assert a["account_id"].is_unique and set(a["account_id"]) == set(accounts)
    broken = constraints_violated(a["account_id"].to_numpy(object), a["cluster_id"].to_numpy(), consistent(rules))
    assert broken.empty, (rules, broken)
    assert (a.groupby("cluster_id").size() == a.groupby("cluster_id")["cluster_size"].first()).all()
