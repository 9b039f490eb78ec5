from __future__ import annotations

import json

import pandas as pd
import pytest

from sybilgraph.cli import main


def test_cluster_writes_assignments(tmp_path, small_obs, capsys) -> None:
    src = tmp_path / "obs.csv"
    small_obs.to_csv(src, index=False)
    out = tmp_path / "assignments.csv"
    assert main(["cluster", str(src), "-o", str(out), "--seed", "0", "--clusters", str(tmp_path / "c.parquet")]) == 0
    a = pd.read_csv(out, dtype={"account_id": str})
    assert list(a.columns) == ["account_id", "cluster_id", "cluster_size", "attachment", "periphery_of"]
    assert sorted(a["account_id"]) == sorted(small_obs["account_id"].unique())
    assert (tmp_path / "c.parquet").exists()


def test_bad_input_is_one_line_and_nonzero(tmp_path, capsys) -> None:
    src = tmp_path / "obs.csv"
    src.write_text("acct,kind,value\na,ip,1.1.1.1\n")
    code = main(["cluster", str(src), "-o", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1  # a data error found during the run; 2 is for refusals before any work
    assert len(err) == 1 and err[0].startswith("sybilgraph: error: ") and "account_col='acct'" in err[0]
    assert "Traceback" not in "".join(err)


def test_unknown_output_suffix(tmp_path, small_obs, capsys) -> None:
    src = tmp_path / "obs.csv"
    small_obs.to_csv(src, index=False)
    assert main(["cluster", str(src), "-o", str(tmp_path / "x.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "x.xlsx" in err and "end the name in .csv" in err


def test_synth_then_evaluate_json(tmp_path, capsys) -> None:
    out = tmp_path / "data"
    assert main(["synth", "--scenario", "distillation", "--scale", "0.02", "--seed", "1", "-o", str(out)]) == 0
    pred = tmp_path / "pred.csv"
    assert main(["cluster", str(out / "observations.parquet"), "-o", str(pred)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out / "truth.csv"), str(pred), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    # The command scores the file it was given against the truth it was given: the same figures
    # as the library on the same data (a swapped or self-compared argument would not match).
    import sybilgraph as sg

    data = sg.synth.generate("distillation", scale=0.02, seed=1)
    expected = sg.metrics.evaluate(data.truth, sg.cluster_accounts(data.observations).assignments)
    assert figures == pytest.approx(expected)
    assert 0.9 < figures["sybil_recall"] < 1.0 and figures["n_fake"] == 480


@pytest.mark.slow
def test_demo_runs(capsys) -> None:
    assert main(["demo", "--scale", "0.05"]) == 0
    assert "against the planted truth" in capsys.readouterr().out
