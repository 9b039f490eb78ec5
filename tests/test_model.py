"""Saved models and incremental assignment (issue 14)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sybilgraph as sg
from sybilgraph.cli import main
from sybilgraph.model import FORMAT_VERSION, build_model, load_model

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "Write a complete Python implementation for: {}. Include unit tests, type hints and a README with examples."

TASKS = ["sorting linked lists", "parsing json config files", "a polite web crawler", "an lru cache with expiry",
         "matrix multiplication kernels", "a tiny http router", "fuzzy string matching", "a csv to sql loader",
         "rate limiting middleware", "an event sourcing store", "image thumbnail resizing", "a markdown table parser"]


def world() -> pd.DataFrame:
    """Two rings, a household and loners; ring a also sends prompts of one template."""
    rows = []
    for i in range(12):
        rows += [(f"a{i:02d}", "payment", "card-a"), (f"a{i:02d}", "device", "emu-a"), (f"a{i:02d}", "phone", "phone-a"),
                 (f"a{i:02d}", "prompt", TEMPLATE.format(TASKS[i]))]
    for i in range(6):
        rows += [(f"b{i:02d}", "payment", "card-b"), (f"b{i:02d}", "device", "emu-b"), (f"b{i:02d}", "ip", "10.1.0.1")]
    rows += [("h0", "payment", "family"), ("h1", "payment", "family"), ("h0", "ip", "192.168.1.1"),
             ("h1", "ip", "192.168.1.1")]
    for i in range(10):
        rows += [(f"z{i}", "email", f"someone{i}@example{i}.org"), (f"z{i}", "ip", "10.1.0.1")]
        rows += [(f"z{i}", "prompt", ["how do I bake bread", "capital of peru?", "fix my bicycle chain", "a poem on rain",
                                      "translate 'cat' to welsh", "best chess opening", "why is the sky blue",
                                      "plan a trip to oslo", "explain tax brackets", "recipe for dal"][i])]
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])


def new_batch() -> pd.DataFrame:
    rows = [("new-a", "payment", "card-a"), ("new-a", "device", "emu-a"),            # joins ring a by two links
            ("new-p", "prompt", TEMPLATE.format("a brand new task on graphs")),      # only a prompt of ring a's template
            ("new-p", "phone", "phone-a"),
            ("stranger", "ip", "10.1.0.1"),                                          # a crowd IP only: stays alone
            ("h1", "device", "tablet-h")]                                             # new observation of a known account
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    obs = world()
    result = sg.cluster_accounts(obs, seed=0)
    d = tmp_path_factory.mktemp("model") / "m"
    build_model(result, observations=obs).save(d)
    return d


def status(done, account: str) -> tuple[object, str]:
    a = done.assignments.set_index("account_id")
    return a.loc[account, "cluster_id"], a.loc[account, "status"]


def test_assign_places_by_the_membership_rule(model_dir: Path) -> None:
    model = load_model(model_dir)
    result = sg.cluster_accounts(world(), seed=0)
    a = result.assignments.set_index("account_id")["cluster_id"]
    done = model.assign(new_batch())
    assert status(done, "new-a") == (a["a00"], "joined")
    assert status(done, "new-p") == (a["a00"], "joined")  # the template is matched, not mined again
    assert status(done, "stranger")[1] == "singleton" and pd.isna(status(done, "stranger")[0])
    assert status(done, "h1") == (a["h1"], "member")
    assert done.drift.new_accounts == 3
    assert set(done.assignments["account_id"]) == {"new-a", "new-p", "stranger", "h1"}


def test_assign_agrees_with_a_full_run(model_dir: Path) -> None:
    full = sg.cluster_accounts(pd.concat([world(), new_batch()], ignore_index=True), seed=0)
    f = full.assignments.set_index("account_id")
    done = load_model(model_dir).assign(new_batch())
    for acc in ("new-a", "new-p"):
        assert f.loc[acc, "cluster_id"] == f.loc["a00", "cluster_id"]
    assert f.loc["stranger", "cluster_size"] == 1
    assert (done.assignments["status"] != "singleton").sum() == 3


def test_prompts_need_the_templates(model_dir: Path) -> None:
    # Without the raw observations the model keeps no templates and a new prompt of ring a's template is unseen.
    model = build_model(sg.cluster_accounts(world(), seed=0))
    assert not model.meta["templates"]
    batch = pd.DataFrame([("new-p", "prompt", TEMPLATE.format("a brand new task on graphs"))],
                         columns=["account_id", "kind", "value"])
    assert model.assign(batch).drift.unseen_value_share == 1.0
    assert load_model(model_dir).assign(batch).drift.unseen_value_share == 0.0
    with pytest.raises(sg.ParameterError, match="max_new_share"):
        model.assign(batch, max_new_share=-1)


def test_model_round_trip_in_another_process(model_dir: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    new_batch().to_csv(batch, index=False)
    here = load_model(model_dir).assign(batch).assignments
    script = ("import sys, sybilgraph.model as m; "
              "m.load_model(sys.argv[1]).assign(sys.argv[2]).assignments.to_json(sys.argv[3], orient='records')")
    out = tmp_path / "there.json"
    subprocess.run([sys.executable, "-c", script, str(model_dir), str(batch), str(out)], check=True, cwd=ROOT)
    there = pd.read_json(out, orient="records", dtype={"account_id": str})
    assert here["account_id"].tolist() == there["account_id"].tolist()
    assert here["status"].tolist() == there["status"].tolist()
    assert here["cluster_id"].astype("Float64").tolist() == there["cluster_id"].astype("Float64").tolist()


def copy_model(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_tampered_or_corrupt_model_is_refused(model_dir: Path, tmp_path: Path) -> None:
    bad = copy_model(model_dir, tmp_path / "tampered")
    table = pd.read_parquet(bad / "accounts.parquet")
    table.loc[table["account_id"] == "stranger", "cluster_id"] = 0  # quietly move an account
    table.to_parquet(bad / "accounts.parquet", index=False)
    with pytest.raises(sg.ModelError, match="accounts.parquet .* does not match its SHA-256"):
        load_model(bad)
    cut = copy_model(model_dir, tmp_path / "cut")
    data = (cut / "values.parquet").read_bytes()
    (cut / "values.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(sg.ModelError, match="values.parquet"):
        load_model(cut)
    gone = copy_model(model_dir, tmp_path / "gone")
    (gone / "edges.parquet").unlink()
    with pytest.raises(sg.ModelError, match="lacks edges.parquet"):
        load_model(gone)
    with pytest.raises(sg.ModelError, match="no manifest.json"):
        load_model(tmp_path)
    broken = copy_model(model_dir, tmp_path / "broken")
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(sg.ModelError, match="not valid JSON"):
        load_model(broken)


def test_other_versions_are_refused(model_dir: Path, tmp_path: Path) -> None:
    other = copy_model(model_dir, tmp_path / "v2")
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(sg.ModelError, match=f"format version {FORMAT_VERSION + 1}.*reads format version {FORMAT_VERSION}"):
        load_model(other)
    old = copy_model(model_dir, tmp_path / "old")
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["library_version"] = "0.0.1"
    (old / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(sg.ModelError, match="saved by sybilgraph '0.0.1'"):
        load_model(old)
    assert load_model(old, allow_other_version=True).accounts.tolist() == load_model(model_dir).accounts.tolist()


def test_constraints_in_assignment(model_dir: Path) -> None:
    model = load_model(model_dir)
    a00 = sg.cluster_accounts(world(), seed=0).assignments.set_index("account_id").loc["a00", "cluster_id"]
    rules = pd.DataFrame({"account_a": ["new-a", "stranger"], "account_b": ["a03", "b01"],
                          "relation": ["cannot", "must"]})
    done = model.assign(new_batch(), constraints=rules)
    assert status(done, "new-a")[1] == "separated" and pd.isna(status(done, "new-a")[0])
    b01 = model.cluster[list(model.accounts).index("b01")]
    assert status(done, "stranger") == (b01, "must")
    assert status(done, "new-p") == (a00, "joined")


def test_constraints_are_stored_in_the_model(tmp_path: Path) -> None:
    obs = world()
    rules = pd.DataFrame({"account_a": ["new-a"], "account_b": ["a00"], "relation": ["cannot"]})
    result = sg.cluster_accounts(obs, seed=0, constraints=rules)
    build_model(result, constraints=rules, observations=obs).save(tmp_path / "m")
    done = load_model(tmp_path / "m").assign(new_batch())
    assert status(done, "new-a")[1] == "separated"


def test_cli_save_model_and_assign(tmp_path: Path, capsys) -> None:
    src, batch = tmp_path / "obs.csv", tmp_path / "new.csv"
    world().to_csv(src, index=False)
    new_batch().to_csv(batch, index=False)
    assert main(["cluster", str(src), "-o", str(tmp_path / "a.csv"), "--save-model", str(tmp_path / "m")]) == 0
    saved = load_model(tmp_path / "m")
    assert saved.meta["templates"] and saved.template_rounds  # the raw prompts were read again: templates kept
    assert main(["assign", str(batch), "--model", str(tmp_path / "m"), "-o", str(tmp_path / "out.csv")]) == 0
    err = capsys.readouterr().err
    assert "drift:" in err and "3 new accounts" in err
    out = sg.read_table(tmp_path / "out.csv")
    assert out.columns.tolist() == ["account_id", "cluster_id", "status", "links", "evidence", "new_group"]
    assert out.set_index("account_id").loc["new-p", "status"] == "joined"
    assert main(["assign", str(batch), "--model", str(tmp_path / "nowhere"), "-o", str(tmp_path / "x.csv")]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_accounts_left_alone_form_new_groups(model_dir: Path) -> None:
    model = load_model(model_dir)
    batch = pd.DataFrame([("n1", "payment", "new-card"), ("n2", "payment", "new-card"),
                          ("n1", "device", "new-tablet"), ("n2", "device", "new-tablet"),
                          ("n3", "email", "someone3@example3.org"), ("n3", "device", "z3-phone"),  # pairs with saved z3
                          ("n4", "ip", "10.9.9.9")], columns=["account_id", "kind", "value"])
    # z3 got its device on a day the model never saw: a saved singleton outside the batch carries nothing of n3's
    # except the e-mail address, which binds strongly alone (weight 1 for two carriers).
    done = model.assign(batch)
    a = done.assignments.set_index("account_id")
    assert a.loc["n1", "status"] == a.loc["n2", "status"] == "new_group"
    assert a.loc["n1", "new_group"] == a.loc["n2", "new_group"] and pd.isna(a.loc["n1", "cluster_id"])
    z3 = model.cluster[list(model.accounts).index("z3")]
    assert a.loc["n3", "status"] == "new_group" and a.loc["n3", "cluster_id"] == z3
    assert a.loc["z3", "status"] == "new_group" and a.loc["z3", "cluster_id"] == z3  # added: it is outside the batch
    assert a.loc["n4", "status"] == "singleton"
    full = sg.cluster_accounts(pd.concat([world(), batch], ignore_index=True), seed=0,
                               previous=sg.cluster_accounts(world(), seed=0).assignments).assignments.set_index("account_id")
    assert full.loc["n3", "cluster_id"] == z3 and full.loc["n1", "cluster_id"] == full.loc["n2", "cluster_id"]
    alone = model.assign(batch, new_groups=False).assignments.set_index("account_id")
    assert (alone.loc[["n1", "n2", "n3"], "status"] == "singleton").all()


def test_assign_does_not_depend_on_row_order(model_dir: Path) -> None:
    model = load_model(model_dir)
    batch = pd.concat([new_batch(), pd.DataFrame([("n1", "payment", "new-card"), ("n2", "payment", "new-card"),
                                                  ("n1", "device", "new-tablet"), ("n2", "device", "new-tablet")],
                                                 columns=["account_id", "kind", "value"])], ignore_index=True)
    one = model.assign(batch).assignments.sort_values("account_id").reset_index(drop=True)
    for seed in range(3):
        other = model.assign(batch.sample(frac=1, random_state=seed)).assignments
        pd.testing.assert_frame_equal(one, other.sort_values("account_id").reset_index(drop=True))


def test_result_save_model_equals_build_model_save(tmp_path: Path, model_dir: Path) -> None:
    obs = world()
    result = sg.cluster_accounts(obs, seed=0)
    model = result.save_model(tmp_path / "m2", observations=obs)
    assert (tmp_path / "m2" / "manifest.json").is_file()
    for name in ("accounts.parquet", "values.parquet", "edges.parquet", "templates.parquet", "meta.json"):
        assert (tmp_path / "m2" / name).read_bytes() == (model_dir / name).read_bytes()
    done = load_model(tmp_path / "m2").assign(new_batch())
    pd.testing.assert_frame_equal(done.assignments, model.assign(new_batch()).assignments)


def test_prompts_that_normalise_alike_get_one_template(model_dir: Path) -> None:
    # Two raw prompts that differ only in case and spacing normalise to one text: one template id, one value.
    batch = pd.DataFrame({"account_id": ["q1", "q2"], "kind": ["prompt", "prompt"],
                          "value": ["Write  a SONNET about owls", "write a sonnet about owls"]})
    model = load_model(model_dir)
    ids = model._prompt_ids(*_codes(batch["value"]))
    assert ids[0] == ids[1] and ids[0] is not None


def _codes(values: pd.Series):
    import numpy as np
    import pyarrow as pa

    texts = pa.array(values.tolist(), type=pa.large_string())
    return np.arange(len(values), dtype=np.int64), texts
