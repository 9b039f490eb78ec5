"""Every file the package writes and everything it prints, fed with hostile ids and values.

* every CSV passes a spreadsheet-safety check and reads back through pandas
  and through :func:`sybilgraph.read_table` with the same rows (and, through
  ``read_table``, the exact raw values);
* nothing printed carries a control or bidi-override character;
* an output equal to an input (or to another output) is refused, the input untouched;
* argument errors arrive before any clustering;
* killing the CLI while it writes leaves no partial file and no mix of old and new.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sybilgraph as sg
from sybilgraph._write import neutralise_cell, printable, staged_writes, unescape_cell
from sybilgraph.cli import main

ROOT = Path(__file__).resolve().parents[1]

#: Strings an attacker would choose for ids, values and organisation names.
HOSTILE = [
    "=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1:A9)",
    "\tTAB", "\rCR", "a\rb", "line\nbreak", "cr\r\nlf", 'q"uote,comma', "'quoted", "''two", "-5", "+1.5e3",
    "\x1b[31mred\x1b[0m", "\x1b]0;pwned\x07", "\u202eevil", "\x9b2J", "del\x7f", "中文账户", "العربية", "emoji😀",
]

#: The ones every reader keeps as they are (ingest may strip surrounding whitespace from ids).
KEPT = {h for h in HOSTILE if h == h.strip()}

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_UNSAFE_PRINTED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def hostile_observations() -> pd.DataFrame:
    """Pairs of accounts with hostile ids sharing a hostile payment value and device (no prompts)."""
    rows = []
    for i, h in enumerate(HOSTILE):
        for acc in (h, h + "·b"):
            rows += [(acc, "payment", h), (acc, "device", h + "-dev"), (acc, "ip", f"10.9.{i}.1")]
    rows += [("plain", "payment", "card-0")]
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])


def hostile_indicators() -> pd.DataFrame:
    rows = [
        ('=HYPERLINK("http://evil.example")', "payment", HOSTILE[0]),
        ("\x1b[2JOrg", "payment", "\x1b[31mred\x1b[0m"),
        ("Org\nnote: forged line", "payment", "中文账户"),
        ("@evil\u202e", "account", "-5"),
        ("-Ghost", "payment", "\x1b]0;never-seen\x07"),
    ]
    return pd.DataFrame(rows, columns=["organisation", "kind", "value"])


def assert_spreadsheet_safe(path: Path) -> pd.DataFrame:
    """No text cell (header included) starts with = + - @ TAB CR unless it is a plain number; return pandas' reading."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    cells = list(raw.columns) + [c for col in raw.columns for c in raw[col].tolist()]
    armed = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(c)]
    assert not armed, f"{path.name}: cells a spreadsheet would run: {armed[:5]}"
    return raw


def assert_round_trip(path: Path, original: pd.DataFrame) -> None:
    """pandas and read_table read ``path`` with the rows of ``original``; read_table gives its exact values."""
    raw = assert_spreadsheet_safe(path)
    ours = sg.read_table(path)
    assert raw.shape == original.shape == ours.shape, (path.name, raw.shape, original.shape, ours.shape)
    assert [unescape_cell(c) for c in raw.columns] == list(ours.columns) == [str(c) for c in original.columns]
    # pandas sees the same cells, escape included: removing one leading ' gives read_table's text.
    assert raw.apply(lambda col: col.map(unescape_cell)).set_axis(ours.columns, axis=1).equals(ours.astype(object)
                                                                                               .astype(str))
    for name in original.columns:
        want, got = original[name], ours[str(name)]
        if pd.api.types.is_bool_dtype(want.dtype):
            assert got.tolist() == [str(bool(v)) for v in want], name
        elif pd.api.types.is_numeric_dtype(want.dtype):
            # Python's float() rounds correctly; pd.to_numeric on text is 1 ulp off before pandas 3.1.
            numbers = np.array([float(v) if v != "" else np.nan for v in got], dtype=float)
            assert np.allclose(numbers, want.to_numpy(dtype=float, na_value=np.nan),
                               rtol=0, atol=0, equal_nan=True), name
        else:
            assert got.tolist() == want.astype(object).where(want.notna(), "").map(str).tolist(), name


def write_exact_csv(frame: pd.DataFrame, path: Path) -> None:
    """An input CSV a careful user would write: every field quoted, so CR stays inside its field."""
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL, lineterminator="\n")


@pytest.fixture
def hostile_files(tmp_path: Path) -> dict[str, Path]:
    obs = tmp_path / "obs.parquet"
    hostile_observations().to_parquet(obs, index=False)
    ind = tmp_path / "ind.parquet"
    hostile_indicators().to_parquet(ind, index=False)
    exch = tmp_path / "exch.parquet"
    pd.DataFrame({"account_id": HOSTILE, "exchanges": np.arange(len(HOSTILE)) * 10}).to_parquet(exch, index=False)
    return {"obs": obs, "ind": ind, "exch": exch}


# --------------------------------------------------------------------------- cells and files


def test_neutralise_is_injective_and_reversible() -> None:
    cells = HOSTILE + ["", "'", "''", "-", "+", "=", "@", "-.5", "5.", "1e5", "-1e-5", "-inf", "nan", "a=b", " =x"]
    written = [neutralise_cell(c) for c in cells]
    assert len(set(written)) == len(set(cells))
    assert [unescape_cell(w) for w in written] == cells
    assert neutralise_cell("-5") == "-5" and neutralise_cell("+1.5e3") == "+1.5e3"  # plain numbers stay numbers
    assert neutralise_cell("-inf") == "'-inf" and neutralise_cell("'q") == "''q"


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_write_table_round_trips_hostile_cells(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({
        "account_id": HOSTILE,
        "=header": [f"v{i}" for i in range(len(HOSTILE))],
        "n": np.arange(len(HOSTILE)) - 3,
        "x": np.linspace(-1, 1, len(HOSTILE)),
        "flag": [i % 2 == 0 for i in range(len(HOSTILE))],
        "maybe": pd.array([None if i % 3 == 0 else i for i in range(len(HOSTILE))], dtype="Int64"),
        "mixed": [1, "=a", None, 2.5] + ["-x"] * (len(HOSTILE) - 4),
    })
    path = tmp_path / f"t{suffix}"
    sg.write_table(frame, path)
    assert_round_trip(path, frame.drop(columns="mixed").assign(mixed=["1", "=a", "", "2.5"] + ["-x"] * (len(HOSTILE) - 4)))
    # deterministic to the byte, gzip included
    first = path.read_bytes()
    sg.write_table(frame, path)
    assert path.read_bytes() == first
    if suffix == ".csv.gz":
        assert gzip.decompress(first).startswith(b'"account_id"')


def test_bare_cr_is_quoted_so_every_reader_sees_one_row(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    sg.write_table(pd.DataFrame({"a": ["x\ry", "p\nq", "r\r\ns"], "b": [1, 2, 3]}), path)
    assert len(pd.read_csv(path, dtype=str, keep_default_na=False)) == 3
    assert sg.read_table(path)["a"].tolist() == ["x\ry", "p\nq", "r\r\ns"]


def test_one_numeric_column_with_missing_values_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    frame = pd.DataFrame({"v": [1.5, np.nan, -2.0]})
    sg.write_table(frame, path)
    assert len(pd.read_csv(path)) == 3
    assert sg.read_table(path)["v"].tolist() == ["1.5", "", "-2"]


def test_parquet_and_the_api_stay_raw(tmp_path: Path, hostile_files: dict[str, Path]) -> None:
    result = sg.cluster_accounts(hostile_files["obs"], seed=0)
    assert KEPT <= set(result.assignments["account_id"])
    path = tmp_path / "a.parquet"
    sg.write_table(result.assignments, path)
    back = sg.read_table(path)
    assert back["account_id"].tolist() == result.assignments["account_id"].tolist()


def test_read_table_does_not_touch_inputs(tmp_path: Path) -> None:
    # read_observations reads arbitrary files: a leading ' there is data, not an escape.
    path = tmp_path / "obs.csv"
    write_exact_csv(pd.DataFrame({"account_id": ["'a", "'a2"], "kind": ["payment"] * 2, "value": ["'v"] * 2}), path)
    assert sorted(sg.read_observations(path)["account_id"]) == ["'a", "'a2"]


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    bad = tmp_path / "bad.parquet"
    good.write_text("old\n")
    with pytest.raises(Exception):
        with staged_writes() as out:
            out.table(pd.DataFrame({"a": ["new"]}), good)
            out.table(pd.DataFrame({"a": [1, "mixed", 2.5]}), bad)  # pyarrow cannot store this column
    assert good.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.csv"]


def test_signals_during_the_renames_are_deferred_not_lost(tmp_path: Path) -> None:
    from sybilgraph._write import _signals_held

    reached = []
    with pytest.raises(KeyboardInterrupt):
        with _signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            reached.append("after the signal")  # the block runs to its end...
    assert reached == ["after the signal"]  # ...and the interrupt arrives afterwards
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --------------------------------------------------------------------------- every CSV the CLI writes


def test_cluster_outputs_are_safe_and_exact(tmp_path: Path, hostile_files: dict[str, Path], capsys) -> None:
    a, c, e = tmp_path / "a.csv", tmp_path / "c.csv", tmp_path / "e.csv.gz"
    assert main(["cluster", str(hostile_files["obs"]), "-o", str(a), "--clusters", str(c), "--evidence", str(e)]) == 0
    result = sg.cluster_accounts(hostile_files["obs"], seed=0)
    assert_round_trip(a, result.assignments)
    assert_round_trip(c, result.clusters)
    assert_round_trip(e, result.evidence)
    assert KEPT <= set(sg.read_table(a)["account_id"])
    assert (result.evidence["value"].str.startswith("=")).any()  # hostile values did reach the evidence
    _assert_printed_safely(capsys.readouterr())


def test_attribute_outputs_are_safe_and_exact(tmp_path: Path, hostile_files: dict[str, Path], capsys) -> None:
    out, summary = tmp_path / "att.csv", tmp_path / "orgs.csv"
    assert main(["attribute", str(hostile_files["obs"]), "--indicators", str(hostile_files["ind"]), "-o", str(out),
                 "--summary", str(summary), "--exchanges", str(hostile_files["exch"])]) == 0
    from sybilgraph.attribute import attribute

    att = attribute(sg.cluster_accounts(hostile_files["obs"], seed=0), hostile_files["ind"],
                    exchanges=hostile_files["exch"])
    accounts = att.accounts[["account_id", "cluster_id", "organisation", "confidence"]].copy()
    accounts["confidence"] = accounts["confidence"].round(4)
    assert_round_trip(out, accounts)
    assert_round_trip(summary, att.organisations)
    assert '=HYPERLINK("http://evil.example")' in set(sg.read_table(summary)["organisation"])
    printed = capsys.readouterr()
    _assert_printed_safely(printed)
    lines = printed.err.splitlines()
    assert not any(line.startswith("note: forged") for line in lines)  # a name cannot forge a line
    assert any("unmatched indicator:" in line and "\\x1b]0;never-seen\\x07" in line for line in lines)


def test_synth_csv_files_are_safe_and_exact(tmp_path: Path, capsys) -> None:
    out = tmp_path / "data"
    assert main(["synth", "--scale", "0.02", "--seed", "2", "-o", str(out)]) == 0
    data = sg.synth.generate("distillation", scale=0.02, seed=2)
    for name in ("truth", "indicators", "exchanges", "observations"):
        assert_round_trip(out / f"{name}.csv", getattr(data, name))
    assert sg.read_observations(out / "observations.csv").shape[0] == len(data.observations)
    assert sorted(p.name for p in out.iterdir()) == ["exchanges.csv", "indicators.csv", "observations.csv",
                                                     "observations.parquet", "params.json", "truth.csv"]
    assert json.loads((out / "params.json").read_text())["fake_accounts"] > 0


def test_evaluate_reads_its_own_escaped_output_back(tmp_path: Path, hostile_files: dict[str, Path], capsys) -> None:
    pred = tmp_path / "pred.csv"
    assert main(["cluster", str(hostile_files["obs"]), "-o", str(pred)]) == 0
    ids = sg.cluster_accounts(hostile_files["obs"], seed=0).assignments["account_id"]
    truth = tmp_path / "truth.parquet"
    pd.DataFrame({"account_id": ids, "entity": ids, "role": "benign", "organisation": ""}).to_parquet(truth)
    capsys.readouterr()
    assert main(["evaluate", str(truth), str(pred), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_accounts"] == len(ids)


# --------------------------------------------------------------------------- terminal


def _assert_printed_safely(captured: object) -> None:
    for stream in (captured.out, captured.err):  # type: ignore[attr-defined]
        bad = _UNSAFE_PRINTED.findall(stream)
        assert not bad, f"control characters reached the terminal: {bad[:5]!r}"


def test_printable_escapes_controls_and_bidi() -> None:
    assert printable("a\x1b[2Jb\u202ec\x9bd\x7fe\nf\tg") == "a\\x1b[2Jb\\u202ec\\x9bd\\x7fe\\x0af\\x09g"
    assert printable("one\ntwo\x1b", lines=True) == "one\ntwo\\x1b"
    assert printable("中文 العربية 😀") == "中文 العربية 😀"


def test_printed_paths_are_escaped(tmp_path: Path, capsys) -> None:
    out = tmp_path / "d\x1b[31m"
    assert main(["synth", "--scale", "0.02", "-o", str(out)]) == 0
    _assert_printed_safely(capsys.readouterr())


# --------------------------------------------------------------------------- output = input


@pytest.mark.parametrize("how", ["same", "dotdot", "symlink", "hardlink"])
@pytest.mark.parametrize("option", ["-o", "--clusters", "--evidence"])
def test_cluster_refuses_to_overwrite_its_input(tmp_path: Path, small_obs: pd.DataFrame, capsys, how: str,
                                                option: str) -> None:
    src = tmp_path / "obs.csv"
    small_obs.to_csv(src, index=False)
    before = src.read_bytes()
    target = {"same": src, "dotdot": tmp_path / "sub" / ".." / "obs.csv",
              "symlink": tmp_path / "link.csv", "hardlink": tmp_path / "hard.csv"}[how]
    (tmp_path / "sub").mkdir()
    if how == "symlink":
        target.symlink_to(src)
    elif how == "hardlink":
        os.link(src, target)
    args = ["cluster", str(src), "-o", str(tmp_path / "a.csv")]
    if option == "-o":
        args[3] = str(target)
    else:
        args += [option, str(target)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "observations file" in err and "destroy the input" in err
    assert src.read_bytes() == before
    assert not (tmp_path / "a.csv").exists()


@pytest.mark.parametrize("option,value", [("-o", "ind"), ("-o", "exch"), ("--summary", "ind"),
                                          ("--summary", "exch"), ("--summary", "obs")])
def test_attribute_refuses_to_overwrite_an_input(tmp_path: Path, hostile_files: dict[str, Path], capsys,
                                                 option: str, value: str) -> None:
    before = {k: p.read_bytes() for k, p in hostile_files.items()}
    args = ["attribute", str(hostile_files["obs"]), "--indicators", str(hostile_files["ind"]),
            "--exchanges", str(hostile_files["exch"]), "-o", str(tmp_path / "att.csv")]
    if option == "-o":
        args[-1] = str(hostile_files[value])
    else:
        args += [option, str(hostile_files[value])]
    assert main(args) == 2
    assert "destroy the input" in capsys.readouterr().err
    assert {k: p.read_bytes() for k, p in hostile_files.items()} == before


def test_outputs_may_not_collide(tmp_path: Path, small_obs: pd.DataFrame, capsys) -> None:
    src = tmp_path / "obs.csv"
    small_obs.to_csv(src, index=False)
    out = tmp_path / "a.csv"
    assert main(["cluster", str(src), "-o", str(out), "--evidence", str(tmp_path / "." / "a.csv")]) == 2
    assert "name the same file" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- argument errors come first


def _poisoned(tmp_path: Path) -> Path:
    """Observations that fail as soon as they are read (exit 3, naming account_col): an error without that proves reading never started."""
    src = tmp_path / "obs.csv"
    src.write_text("acct,kind,value\na,ip,1.1.1.1\n")
    assert main(["cluster", str(src), "-o", str(tmp_path / "probe.csv")]) == 3
    return src


@pytest.mark.parametrize("extra,message", [
    (["-o", "{d}/x.xlsx"], "end the name in .csv"),
    (["-o", "{d}/missing/x.csv"], "does not exist; create it first"),
    (["-o", "{d}/a.csv", "--clusters", "{d}/missing/c.csv"], "does not exist"),
    (["-o", "{d}/a.csv", "--evidence", "{d}/e.txt"], "--evidence"),
    (["-o", "{d}/dir.csv"], "is a directory"),
    (["-o", "{d}/a.csv", "--resolution", "-1"], "resolution"),
])
def test_cluster_argument_errors_come_before_reading(tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    src = _poisoned(tmp_path)
    (tmp_path / "dir.csv").mkdir()
    capsys.readouterr()
    start = time.perf_counter()
    assert main(["cluster", str(src)] + [x.format(d=tmp_path) for x in extra]) == 2
    assert time.perf_counter() - start < 1.0
    err = capsys.readouterr().err
    assert message in err and "account_col" not in err


def test_missing_observations_file_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["cluster", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "a.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_attribute_checks_indicators_and_exchanges_before_reading(tmp_path: Path, capsys) -> None:
    src = _poisoned(tmp_path)
    bad_ind = tmp_path / "ind.csv"
    bad_ind.write_text("organisation,kind,value\nAcme,ip,10.0.0.0/99\n")
    good_ind = tmp_path / "good.csv"
    good_ind.write_text("organisation,kind,value\nAcme,ip,10.0.0.0/8\n")
    bad_exch = tmp_path / "exch.csv"
    bad_exch.write_text("account_id,exchanges\na,lots\n")
    capsys.readouterr()
    # A malformed indicators or exchanges file is a data error (3), found before the observations are read.
    assert main(["attribute", str(src), "--indicators", str(bad_ind), "-o", str(tmp_path / "o.csv")]) == 3
    err = capsys.readouterr().err
    assert "is not an IP address or CIDR range" in err and "account_col" not in err
    assert main(["attribute", str(src), "--indicators", str(good_ind), "--exchanges", str(bad_exch),
                 "-o", str(tmp_path / "o.csv")]) == 3
    err = capsys.readouterr().err
    assert "not non-negative numbers" in err and "account_col" not in err
    assert main(["attribute", str(src), "--indicators", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["attribute", str(src), "--indicators", str(good_ind), "-o", str(tmp_path / "o.xlsx")]) == 2
    assert not (tmp_path / "o.csv").exists()


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sybilgraph {sg.__version__}"


# --------------------------------------------------------------------------- killed while writing


def _start_slow_cluster(tmp_path: Path, src: Path, outputs: list[Path]) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SYBILGRAPH_TEST_WRITE_DELAY="30")
    args = [sys.executable, "-m", "sybilgraph", "cluster", str(src), "-o", str(outputs[0]),
            "--clusters", str(outputs[1]), "--evidence", str(outputs[2])]
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_a_written_temporary(directory: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.stat().st_size > 0 for p in directory.glob(".*.tmp")):
            time.sleep(0.3)  # now inside the pause after the first temporary, before the next one
            return
        if proc.poll() is not None:
            raise AssertionError(f"the CLI ended early: {proc.communicate()}")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("no temporary file appeared")


@pytest.mark.parametrize("sig,status,stale", [(signal.SIGTERM, 143, True), (signal.SIGINT, 130, False)])
def test_killed_while_writing_leaves_no_partial_file_and_no_mix(tmp_path: Path, small_obs: pd.DataFrame,
                                                                sig: int, status: int, stale: bool) -> None:
    src = tmp_path / "in" / "obs.csv"
    src.parent.mkdir()
    small_obs.to_csv(src, index=False)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    outputs = [out_dir / "a.csv", out_dir / "c.csv", out_dir / "e.parquet"]
    if stale:  # the previous run's files: they must stay exactly as they were
        for i, p in enumerate(outputs):
            p.write_bytes(f"previous run {i}\n".encode())
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    proc = _start_slow_cluster(tmp_path, src, outputs)
    _wait_for_a_written_temporary(out_dir, proc)  # the first output is written, the others not yet
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err.decode()
    assert b"Traceback" not in err and b"no output was left half-written" in err
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before
