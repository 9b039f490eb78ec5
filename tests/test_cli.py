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
    assert code == 3  # a data error; 2 is for usage errors, 1 for other failures
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


# --------------------------------------------------------------------------- global flags, settings, JSON, exit codes

import dataclasses  # noqa: E402
import io  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import sybilgraph as sg  # noqa: E402
from sybilgraph.cli import DATA_ERROR, _organisations_text  # noqa: E402
from sybilgraph.settings import Settings  # noqa: E402


def _obs_file(tmp_path: Path, small_obs: pd.DataFrame) -> Path:
    src = tmp_path / "obs.csv"
    small_obs.to_csv(src, index=False)
    return src


def _cluster_json(argv: list[str], capsys) -> dict:
    assert main(argv + ["--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_output_holds_the_full_assignments_of_the_api(tmp_path, small_obs) -> None:
    src = _obs_file(tmp_path, small_obs)
    out = tmp_path / "a.parquet"
    assert main(["cluster", str(src), "-o", str(out), "-q"]) == 0
    expected = sg.cluster_accounts(small_obs, seed=0).assignments
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
    assert expected["periphery_of"].notna().any() or expected["attachment"].gt(0).any()


def test_every_setting_is_an_option_with_help(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["cluster", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for f in dataclasses.fields(Settings):
        flag = "--" + f.name.replace("_", "-")
        assert flag in text, flag
    assert "--objective {cpm,modularity}" in text and "--no-derive-ip-prefix" in text
    assert "--min-links N Independent links an account needs into its cluster to stay in it, >= 1." in text
    assert "(default: 0.63)" in text and "``" not in text  # defaults shown, RST markup gone
    for option in ("--settings FILE", "--json", "-v, --verbose", "-q, --quiet", "--account-col C", "--clusters FILE"):
        assert option in text, option
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    from sybilgraph.synth import SCENARIOS

    for name in SCENARIOS:  # each scenario named in the help with what it models
        assert f"{name}: " in text, name


def test_settings_file_and_options_that_override_it(tmp_path, small_obs, capsys) -> None:
    src = _obs_file(tmp_path, small_obs)
    file = tmp_path / "settings.json"
    file.write_text(Settings(resolution=0.5, min_links=1, seed=3, derive_ip_prefix=False).to_json())
    argv = ["cluster", str(src), "-o", str(tmp_path / "a.csv"), "--settings", str(file)]
    used = _cluster_json(argv, capsys)["settings"]
    assert (used["resolution"], used["min_links"], used["seed"], used["derive_ip_prefix"]) == (0.5, 1, 3, False)
    used = _cluster_json(argv + ["--min-links", "3", "--derive-ip-prefix", "--kind-weights", "ip=0.1,custom=2"], capsys)["settings"]
    assert (used["resolution"], used["min_links"], used["seed"], used["derive_ip_prefix"]) == (0.5, 3, 3, True)
    assert used["kind_weights"]["ip"] == 0.1 and used["kind_weights"]["custom"] == 2.0
    assert used["kind_weights"]["payment"] == 1.0  # the other kinds keep their weights
    used = _cluster_json(argv + ["--kind-weights", '{"device": 0}', "--strong-link", "inf", "--objective", "cpm"], capsys)["settings"]
    assert used["kind_weights"]["device"] == 0 and used["strong_link"] == float("inf") and used["objective"] == "cpm"


@pytest.mark.parametrize("content,message", [
    ('{"resolution": 0.5, "colour": "red"}', "Unknown settings ['colour']"),
    ("{not json", "is not valid JSON"),
    ('{"link_share": 2}', "'link_share' parameter of Settings must be"),
])
def test_bad_settings_file_is_a_usage_error(tmp_path, small_obs, capsys, content, message) -> None:
    src = _obs_file(tmp_path, small_obs)
    file = tmp_path / "s.json"
    file.write_text(content)
    assert main(["cluster", str(src), "-o", str(tmp_path / "a.csv"), "--settings", str(file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sybilgraph: error: --settings ") and message in err, err
    assert not (tmp_path / "a.csv").exists()
    assert main(["cluster", str(src), "-o", str(tmp_path / "a.csv"), "--settings", str(tmp_path / "none.json")]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_exit_codes_usage_data_and_options(tmp_path, small_obs, capsys) -> None:
    src = _obs_file(tmp_path, small_obs)
    out = str(tmp_path / "a.csv")
    with pytest.raises(SystemExit) as info:  # argparse: unknown option, bad number, bad choice
        main(["cluster", str(src), "-o", out, "--no-such-option"])
    assert info.value.code == 2
    for bad in (["--min-links", "two"], ["--objective", "louvain"], ["--kind-weights", "ip"]):
        with pytest.raises(SystemExit) as info:
            main(["cluster", str(src), "-o", out, *bad])
        assert info.value.code == 2, bad
    capsys.readouterr()
    assert main(["cluster", str(src), "-o", out, "--link-share", "2"]) == 2  # out of range
    assert "link_share" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("account_id,kind,value\n")
    assert DATA_ERROR == 3
    assert main(["cluster", str(empty), "-o", out]) == DATA_ERROR
    assert "holds no rows" in capsys.readouterr().err


def test_json_summary(tmp_path, small_obs, capsys) -> None:
    src = _obs_file(tmp_path, small_obs)
    summary = _cluster_json(["cluster", str(src), "-o", str(tmp_path / "a.csv"), "--clusters", str(tmp_path / "c.csv")], capsys)
    result = sg.cluster_accounts(small_obs, seed=0)
    groups = result.groups()
    assert summary["accounts"] == small_obs["account_id"].nunique() == result.n_accounts
    assert summary["observations"] == len(result.observations)
    assert summary["clusters"] == len(groups) and summary["clustered_accounts"] == int(groups["size"].sum())
    assert summary["singletons"] + summary["clustered_accounts"] == summary["accounts"]
    assert summary["outputs"] == {"assignments": str(tmp_path / "a.csv"), "clusters": str(tmp_path / "c.csv")}
    assert [c["size"] for c in summary["largest_clusters"]] == sorted(groups["size"], reverse=True)[:10]
    assert set(summary["seconds"]) >= {"read", "leiden", "explain"}
    assert summary["settings"] == Settings().to_dict()
    assert summary["sybilgraph"] == sg.__version__
    assert isinstance(summary["notes"], list)


def test_quiet_verbose_and_progress(tmp_path, small_obs, capsys, monkeypatch) -> None:
    src = _obs_file(tmp_path, small_obs)
    out = str(tmp_path / "a.csv")
    assert main(["cluster", str(src), "-o", out]) == 0
    err = capsys.readouterr().err
    assert "accounts -> " in err and "read:" not in err  # stderr is not a terminal: no progress lines
    assert main(["-q", "cluster", str(src), "-o", out]) == 0
    assert main(["cluster", str(src), "-o", out, "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["synth", "--scale", "0.01", "-o", str(tmp_path / "data"), "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["cluster", str(src), "-o", out, "-v"]) == 0
    err = capsys.readouterr().err
    n_rows, n_accounts = len(small_obs), small_obs["account_id"].nunique()
    assert f"sybilgraph: read: " in err and f"({n_rows:,} rows, {n_accounts:,} accounts)" in err
    assert all(f"sybilgraph: {s}: " in err for s in ("normalise", "weight", "graph", "leiden", "membership", "explain"))
    assert "started" not in err
    assert main(["cluster", str(src), "-o", out, "-vv"]) == 0
    assert "sybilgraph: leiden: started" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["-v", "-q", "cluster", str(src), "-o", out])  # one or the other

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["cluster", str(src), "-o", out]) == 0
    assert "\r\x1b[Ksybilgraph: leiden: " in terminal.getvalue()
    terminal.seek(0)
    terminal.truncate()
    assert main(["cluster", str(src), "-o", out, "-q"]) == 0
    assert terminal.getvalue() == ""


def test_summary_counts_read_as_english() -> None:
    one = pd.DataFrame({"account_id": ["a", "b", "c"], "kind": ["payment"] * 3, "value": ["card"] * 2 + ["other"]})
    text = sg.cluster_accounts(one, seed=0).summary()
    assert text.startswith("3 accounts -> 1 cluster of 2+ accounts (2 accounts), 0 suspicious")
    assert "1 clusters" not in text


def test_periphery_is_given_context(small_obs) -> None:
    obs = pd.concat([small_obs, pd.DataFrame({"account_id": ["x"], "kind": ["ip"], "value": ["10.0.0.0"]})])
    result = sg.cluster_accounts(obs, seed=0)
    n = int(result.assignments["periphery_of"].notna().sum())
    assert n >= 1
    share = n / result.n_accounts
    assert f"{n:,} account{'s' if n != 1 else ''} ({share:.0%} of all) share a value with a cluster but have fewer than " \
           "min_links=2 independent links to it" in result.summary()


def test_organisations_are_printed_as_integers_and_percentages() -> None:
    orgs = pd.DataFrame({"organisation": ["op-C"], "accounts": [18900], "clusters": [6], "exchanges": [3237467.0],
                         "share_of_traffic": [0.63495]})
    text = _organisations_text(orgs)
    assert "3,237,467" in text and "18,900" in text and "63.5%" in text and "3237467.0" not in text


def test_directory_and_glob_of_observations(tmp_path, small_obs, capsys) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    small_obs.iloc[:15].to_parquet(parts / "0.parquet", index=False)
    small_obs.iloc[15:].to_parquet(parts / "1.parquet", index=False)
    expected = sg.cluster_accounts(small_obs, seed=0).assignments
    for source in (str(parts), str(parts / "*.parquet")):
        out = tmp_path / "a.parquet"
        assert main(["cluster", source, "-o", str(out), "-q"]) == 0
        pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
    assert main(["cluster", str(tmp_path / "nothing" / "*.parquet"), "-o", str(tmp_path / "b.csv")]) == 2
    assert "no file matches the pattern" in capsys.readouterr().err
    # An output that is one of the files a directory or glob reads is refused, before any work.
    for source in (str(parts), str(parts / "*.parquet")):
        assert main(["cluster", source, "-o", str(parts / "1.parquet")]) == 2
        assert "is the observations file" in capsys.readouterr().err
    assert len(pd.read_parquet(parts / "1.parquet")) == len(small_obs) - 15
