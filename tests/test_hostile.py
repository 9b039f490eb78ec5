"""The hostile-input corpus (issue 11): every case through the API and through the command line.

Each case is a file an attacker or an ordinary export could hand us. For the
cases that are usable data, every input account comes out exactly once with
its id byte-identical (through the API, through Parquet and through the CSV
read back with :func:`sybilgraph.read_table`), nothing prints a traceback, and
what was skipped is counted in the notes. The cases that cannot be used give
one clear error line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sybilgraph as sg
from sybilgraph.cli import main

PROMPTS = [
    "请总结以下文本内容并给出三个要点：{}",
    "Bitte fasse den Text über die Straße zusammen: {}",
    "لخص النص التالي في ثلاث نقاط: {}",
    "要約してください：{} 🙂",
    "Écris un résumé détaillé de ce texte, s'il te plaît : {}",
    "שלום, תרגם את הטקסט הבא: {}",
    "Mixed 混合 نص text ✨ {}",
]
ODD_IDS = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-2+3", "  spaced ", "007", "7", "ünïcødé", "\tTAB", "a\rb",
           "x\ny", "\x1b[31mred\x1b[0m", "rtl\u202eevil", "nul\x00id", "'quoted", '"dq"', "   ", "😀", "中文账户",
           "عربي"]


def _rows(ids: list[str]) -> list[dict[str, str]]:
    rows = []
    for i, acc in enumerate(ids):
        rows.append({"account_id": acc, "kind": "payment", "value": f"card-{i // 3}", "timestamp": "2026-01-01T00:00:00"})
        rows.append({"account_id": acc, "kind": "prompt", "value": PROMPTS[i % len(PROMPTS)].format(f"第{i}段 text {i}"),
                     "timestamp": "2026-05-28T08:00:00"})
        rows.append({"account_id": acc, "kind": "ip", "value": f"=HYPERLINK(\"http://x\",\"{i}\")" if i % 5 == 3
                     else f"10.0.{i // 4}.{i}", "timestamp": "9999-12-31T23:59:59" if i == 5 else "0001-01-01"})
    return rows


@dataclass
class Case:
    name: str
    write: Callable[[Path], Path]
    ids: list[str] | None  # expected account ids; None: the file must be refused with a clear error
    notes: list[str] = field(default_factory=list)  # words that must appear in the notes


def _csv(rows: list[dict[str, str]], name: str = "obs.csv", *, line_end: str = "\n", bom: bool = False,
         gz: bool = False) -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        frame = pd.DataFrame(rows)
        text = frame.to_csv(index=False, lineterminator=line_end, quoting=1)
        data = (("\ufeff" if bom else "") + text).encode("utf-8")
        path = tmp / name
        path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
        return path
    return write


def _parquet(table: pa.Table) -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        pq.write_table(table, tmp / "obs.parquet")
        return tmp / "obs.parquet"
    return write


def _jsonl(lines: list[str]) -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        (tmp / "obs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return tmp / "obs.jsonl"
    return write


def _bytes(data: bytes, name: str = "obs.csv") -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        (tmp / name).write_bytes(data)
        return tmp / name
    return write


SAFE_IDS = [i for i in ODD_IDS if "\x00" not in i and i.strip()]  # text a CSV cell can carry as is
BIG = [1234567890123456789, 1234567890123456788, None, 42]

CORPUS = [
    Case("multilingual prompts, formula ids, sentinel timestamps", _csv(_rows(SAFE_IDS)), SAFE_IDS,
         notes=["timestamps"]),
    Case("every odd id through Parquet (NUL, blank, control characters)",
         _parquet(pa.Table.from_pylist(_rows(ODD_IDS))), ODD_IDS),
    Case("CRLF line endings and a byte-order mark", _csv(_rows(SAFE_IDS[:8]), line_end="\r\n", bom=True),
         SAFE_IDS[:8]),
    Case("gzip-compressed CSV", _csv(_rows(SAFE_IDS[:6]), "obs.csv.gz", gz=True), SAFE_IDS[:6]),
    Case("nullable 64-bit integer ids and values in Parquet",
         _parquet(pa.table({"account_id": pa.array([1234567890123456789, 1234567890123456788, None, 42], pa.int64()),
                            "kind": ["payment"] * 4, "value": pa.array([9007199254740993, 9007199254740993, 5, None],
                                                                       pa.int64())})),
         ["1234567890123456789", "1234567890123456788", "42"], notes=["empty"]),
    Case("nullable 64-bit integer ids in JSON Lines",
         _jsonl([json.dumps({"account_id": a, "kind": "device", "value": "d1"}) for a in BIG]),
         ["1234567890123456789", "1234567890123456788", "42"], notes=["empty"]),
    Case("a value with a bare CR, quotes and an ANSI escape",
         _csv([{"account_id": "a", "kind": "device", "value": "x\ry\"z\x1b[2J"},
               {"account_id": "b", "kind": "device", "value": "x\ry\"z\x1b[2J"}]), ["a", "b"]),
    Case("a very long prompt", _csv([{"account_id": "long", "kind": "prompt", "value": "长" * 50_000 + " word" * 5_000},
                                     {"account_id": "short", "kind": "prompt", "value": "hi"}]), ["long", "short"]),
    Case("rows without a kind or value", _csv([{"account_id": "a", "kind": "", "value": "v"},
                                                {"account_id": "b", "kind": "ip", "value": ""},
                                                {"account_id": "c", "kind": "ip", "value": "not an ip"}]),
         ["a", "b", "c"], notes=["empty kind", "empty value"]),
    Case("duplicated value column", _bytes(b"account_id,kind,value,value\na,ip,1.2.3.4,5\n"), None),
    Case("header only", _bytes(b"account_id,kind,value\n"), None),
    Case("not UTF-8", _bytes("account_id,kind,value\nä,ip,1.2.3.4\n".encode("latin-1")), None),
    Case("no account column", _bytes(b"user,kind,value\na,ip,1.2.3.4\n"), None),
    Case("JSON Lines with a broken line", _jsonl(['{"account_id": "a", "kind": "ip", "value": "1.2.3.4"}', '{"acc']),
         None),
]


@pytest.fixture(params=CORPUS, ids=[c.name for c in CORPUS])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


def test_api(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    if case.ids is None:
        with pytest.raises(sg.InputError) as err:
            sg.cluster_accounts(path)
        assert str(err.value) and "\n" not in str(err.value).strip()
        return
    result = sg.cluster_accounts(path, seed=0)
    ids = result.assignments["account_id"].tolist()
    assert sorted(ids) == sorted(case.ids) and len(set(ids)) == len(ids)
    notes = " ".join(str(n) for n in result.report)
    for word in case.notes:
        assert word in notes, (word, notes)


def test_cli(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = case.write(tmp_path)
    before = path.read_bytes()
    out_csv, out_pq, clusters = tmp_path / "a.csv", tmp_path / "a.parquet", tmp_path / "c.csv"
    code = main(["cluster", str(path), "-o", str(out_csv), "--clusters", str(clusters), "--evidence",
                 str(tmp_path / "e.csv")])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "\x1b" not in err
    assert path.read_bytes() == before
    if case.ids is None:
        assert code == 3 and err.startswith("sybilgraph: error: "), err  # a data error
        assert not out_csv.exists()
        return
    assert code == 0, err
    assert main(["cluster", str(path), "-o", str(out_pq)]) == 0
    capsys.readouterr()
    for frame in (sg.read_table(out_csv), pd.read_parquet(out_pq)):
        ids = frame["account_id"].tolist()
        assert sorted(ids) == sorted(case.ids) and len(set(ids)) == len(ids)
    for written in tmp_path.glob("*.csv"):
        if written != path:
            _assert_spreadsheet_safe(written)


def test_output_equal_to_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS[0].write(tmp_path)
    before = path.read_bytes()
    assert main(["cluster", str(path), "-o", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert path.read_bytes() == before


def _assert_spreadsheet_safe(path: Path) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in frame.columns:
        for cell in frame[column]:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only a number may start so


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.text(min_size=1, max_size=12), st.sampled_from(["prompt", "device", "ip", "email", "x"]),
                          st.text(max_size=40)), min_size=1, max_size=40),
       st.randoms(use_true_random=False))
@example([("a", "prompt", "Straße"), ("b", "prompt", "请总结以下文本内容"), ("c", "prompt", "\x00\u202e🙂")],
         __import__("random").Random(0))
def test_any_unicode_anywhere(rows: list[tuple[str, str, str]], rnd: object) -> None:
    frame = pd.DataFrame(rows, columns=["account_id", "kind", "value"])
    expected = sorted({a for a in frame["account_id"] if a != ""})
    result = sg.cluster_accounts(frame, seed=0, timestamp_col=None)
    ids = result.assignments["account_id"].tolist()
    assert sorted(ids) == expected and len(set(ids)) == len(ids)
    shuffled = frame.sample(frac=1.0, random_state=rnd.randrange(2**32)).reset_index(drop=True)  # type: ignore[attr-defined]
    again = sg.cluster_accounts(shuffled, seed=0, timestamp_col=None)
    pd.testing.assert_frame_equal(result.assignments, again.assignments)
