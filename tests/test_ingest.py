from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

import sybilgraph as sg
from sybilgraph import EmptyInputError, InputError
from sybilgraph.ingest import read_observations


def test_missing_column_names_column_and_fix() -> None:
    df = pd.DataFrame({"acct": ["a"], "kind": ["ip"], "value": ["1.2.3.4"]})
    with pytest.raises(InputError, match=r"column 'account_id' not found; columns are \['acct', 'kind', 'value'\]; pass account_col='acct'"):
        read_observations(df)


def test_custom_column_names() -> None:
    df = pd.DataFrame({"acct": ["a", "b"], "type": ["ip", "ip"], "v": ["1.2.3.4", "1.2.3.4"]})
    out = read_observations(df, account_col="acct", kind_col="type", value_col="v")
    assert out["account_id"].tolist() == ["a", "b"]


def test_empty_values_are_counted_not_silent() -> None:
    df = pd.DataFrame({"account_id": ["a", "b", "c", ""], "kind": ["ip", "ip", "ip", "ip"], "value": ["1.1.1.1", "", None, "2.2.2.2"]})
    report = sg.Report()
    out = read_observations(df, report=report)
    assert out["account_id"].tolist() == ["a"]
    text = str(report)
    assert "2 rows with an empty value skipped" in text
    assert "1 rows with an empty account_id skipped" in text


def test_non_string_ids_are_converted_and_reported() -> None:
    df = pd.DataFrame({"account_id": [1, 2], "kind": ["ip", "ip"], "value": ["1.1.1.1", "1.1.1.1"]})
    report = sg.Report()
    out = read_observations(df, report=report)
    assert out["account_id"].tolist() == ["1", "2"]
    assert "non-string account_id" in str(report)


def test_duplicates_counted() -> None:
    df = pd.DataFrame({"account_id": ["a", "a"], "kind": ["ip", "ip"], "value": ["1.1.1.1", "1.1.1.1"]})
    report = sg.Report()
    assert len(read_observations(df, report=report)) == 1
    assert "exact duplicate rows kept once" in str(report)


def test_empty_frame_and_file(tmp_path) -> None:
    with pytest.raises(EmptyInputError):
        read_observations(pd.DataFrame({"account_id": [], "kind": [], "value": []}))
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(EmptyInputError, match="empty"):
        read_observations(p)
    p.write_text("account_id,kind,value\n")
    with pytest.raises(EmptyInputError):
        read_observations(p)


def test_unknown_suffix(tmp_path) -> None:
    p = tmp_path / "obs.xlsx"
    p.write_text("x")
    with pytest.raises(InputError, match="suffix"):
        read_observations(p)


def test_non_utf8_names_line(tmp_path) -> None:
    p = tmp_path / "obs.csv"
    p.write_bytes(b"account_id,kind,value\na,ip,1.1.1.1\nb,email,caf\xe9@example.org\n")
    with pytest.raises(InputError, match=r"not valid UTF-8 \(first bad bytes on line 3\)"):
        read_observations(p)


def test_values_with_commas_quotes_newlines_round_trip(tmp_path) -> None:
    df = pd.DataFrame({"account_id": ["a,1", "b\n2"], "kind": ["prompt", "device"], "value": ['say "hi",\nplease', "x,y"]})
    p = tmp_path / "obs.csv"
    df.to_csv(p, index=False)
    out = read_observations(p)
    assert out["account_id"].tolist() == ["a,1", "b\n2"]
    assert out["value"].tolist() == ['say "hi",\nplease', "x,y"]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz"])
def test_formats_agree(tmp_path, suffix) -> None:
    df = pd.DataFrame({"account_id": ["a", "b"], "kind": ["ip", "payment"], "value": ["1.1.1.1", "c"], "timestamp": [1700000000, 1700000001]})
    p = tmp_path / f"obs{suffix}"
    if suffix.startswith(".csv"):
        df.to_csv(p, index=False)
    elif suffix == ".parquet":
        df.to_parquet(p)
    else:
        text = "\n".join(json.dumps(r) for r in df.to_dict("records")) + "\n"
        if suffix.endswith(".gz"):
            with gzip.open(p, "wt") as fh:
                fh.write(text)
        else:
            p.write_text(text)
    out = read_observations(p)
    assert out[["account_id", "kind", "value"]].values.tolist() == [["a", "ip", "1.1.1.1"], ["b", "payment", "c"]]
    assert out["timestamp"].tolist() == [1700000000.0, 1700000001.0]


def test_iso_timestamps_and_bad_ones() -> None:
    df = pd.DataFrame({"account_id": ["a", "b"], "kind": ["ip", "ip"], "value": ["1.1.1.1", "1.1.1.1"],
                       "timestamp": ["2023-11-14T22:13:20Z", "yesterday"]})
    report = sg.Report()
    out = read_observations(df, report=report)
    assert out["timestamp"].iloc[0] == 1700000000.0
    assert pd.isna(out["timestamp"].iloc[1])
    assert "timestamps could not be parsed" in str(report)


def test_from_wide() -> None:
    wide = pd.DataFrame({"account_id": ["a", "b"], "ip": ["1.2.3.4", None], "payment": ["c1", "c1"]})
    report = sg.Report()
    out = sg.from_wide(wide, report=report)
    assert out[["account_id", "kind", "value"]].values.tolist() == [["a", "ip", "1.2.3.4"], ["a", "payment", "c1"], ["b", "payment", "c1"]]
    assert "empty cells" in str(report)
    with pytest.raises(InputError, match="pass account_col"):
        sg.from_wide(wide.rename(columns={"account_id": "user"}))


def test_account_whose_every_row_is_skipped_still_comes_out() -> None:
    # Each input account comes out exactly once, even when none of its rows is usable;
    # a row without an account id has no account to return.
    obs = pd.DataFrame({"account_id": ["a", "a", "b", "c", ""],
                        "kind": ["ip", "", "payment", "payment", "ip"],
                        "value": ["   ", "x", "card", "card", "10.0.0.1"]})
    result = sg.cluster_accounts(obs)
    assert sorted(result.assignments["account_id"]) == ["a", "b", "c"]
    a = result.assignments.set_index("account_id")
    assert a.loc["a", "cluster_size"] == 1 and a.loc["b", "cluster_id"] == a.loc["c", "cluster_id"]
    notes = str(result.report)
    assert "1 accounts had no usable value left" in notes and "'a'" in notes
    assert "rows with an empty account_id skipped" in notes


# --------------------------------------------------------------------------- hostile input (issue 11)
#
# Each test below failed on the code before issue 11: sentinel timestamps raised OutOfBoundsDatetime,
# a duplicated header raised KeyError/IndexError, nullable integers went through float64, ids were
# stripped, a misspelt --timestamp-col was ignored and the column hint guessed 'value'.

import csv  # noqa: E402
import math  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sybilgraph.cli import main  # noqa: E402
from sybilgraph.ingest import read_encoded  # noqa: E402

SENTINELS = ["2023-11-14T22:13:20Z", "0001-01-01", "9999-12-31T23:59:59", "yesterday", "1700000001", ""]


def _write(frame: pd.DataFrame, path) -> None:
    """Write ``frame`` as CSV, Parquet or JSON Lines (by suffix), keeping Python ints and None as they are."""
    name = str(path)
    if name.endswith(".csv"):
        frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)  # pandas leaves a bare CR unquoted otherwise
    elif name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    else:
        records = [{k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in row.items()}
                   for row in frame.astype(object).to_dict("records")]
        path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _cli_ok(argv: list[str], capsys) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 0, err
    return err


def _cli_error(argv: list[str], capsys) -> str:
    # A data error exits 3; 2 is kept for usage errors, 1 for other failures.
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 3 and err.startswith("sybilgraph: error: ") and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("suffix", ["frame", ".csv", ".jsonl", ".parquet"])
def test_sentinel_timestamps_become_missing_with_a_note(tmp_path, suffix) -> None:
    obs = pd.DataFrame({"account_id": [f"u{i}" for i in range(len(SENTINELS))], "kind": "ip", "value": "10.0.0.1",
                        "timestamp": SENTINELS})
    source: object = obs
    if suffix != "frame":
        source = tmp_path / f"obs{suffix}"
        _write(obs, source)
    report = sg.Report()
    out = read_observations(source, report=report)
    ts = dict(zip(out["account_id"], out["timestamp"]))
    assert ts["u0"] == 1700000000.0 and ts["u4"] == 1700000001.0
    assert all(math.isnan(ts[a]) for a in ("u1", "u2", "u3", "u5"))
    notes = {n.message.split(" (")[0]: n for n in report}
    far = notes["timestamps outside 1677-09-21 .. 2262-04-11"]
    assert far.count == 2 and far.examples == ("\"row 1: '0001-01-01'\"", "\"row 2: '9999-12-31T23:59:59'\"")
    assert notes["timestamps could not be parsed"].count == 1  # 'yesterday'; the empty one is just unknown


def test_timestamp_typed_columns_out_of_range(tmp_path) -> None:
    # Parquet timestamp and date columns reach 0001-01-01 and 9999-12-31 as well.
    table = pa.table({"account_id": ["a", "b", "c", "d"], "kind": ["ip"] * 4, "value": ["1.1.1.1"] * 4,
                      "timestamp": pa.array([1_700_000_000_500_000, -62135596800_000_000, 253402300799_000_000, None],
                                            pa.timestamp("us", tz="UTC"))})
    pq.write_table(table, tmp_path / "obs.parquet")
    report = sg.Report()
    out = read_observations(tmp_path / "obs.parquet", report=report)
    assert out["timestamp"].iloc[0] == 1700000000.5 and out["timestamp"].iloc[1:].isna().all()
    assert "2 timestamps outside 1677-09-21 .. 2262-04-11" in str(report) and "0001-01-01T00:00:00" in str(report)
    frame = table.to_pandas(timestamp_as_object=True)
    frame["timestamp"] = pd.Series(pd.to_datetime(["2023-11-14T22:13:20Z", None, None, None], utc=True))
    assert read_observations(frame)["timestamp"].iloc[0] == 1700000000.0


def test_absurd_numeric_timestamps_and_values_do_not_crash() -> None:
    obs = pd.DataFrame({"account_id": ["a", "b", "c", "d", "e"], "kind": "payment",
                        "value": [math.inf, 1e300, -math.inf, 1e300, 0.1],
                        "timestamp": [math.inf, 1e300, -math.inf, 1700000000.25, 1.7e12]})
    report = sg.Report()
    out = read_observations(obs, report=report)
    assert out["value"].tolist() == ["inf", "1e+300", "-inf", "1e+300", "0.1"]
    assert out["timestamp"].iloc[3] == 1700000000.25
    assert out["timestamp"].drop(index=3).isna().all()
    assert "4 timestamps outside 1677-09-21 .. 2262-04-11" in str(report)
    assert "2 float value entries are 2**53 or larger" in str(report)
    result = sg.cluster_accounts(obs)
    assert sorted(result.assignments["account_id"]) == ["a", "b", "c", "d", "e"]
    a = result.assignments.set_index("account_id")
    assert a.loc["b", "cluster_id"] == a.loc["d", "cluster_id"]


def test_cli_survives_sentinel_timestamps(tmp_path, capsys) -> None:
    src = tmp_path / "obs.csv"
    src.write_text("account_id,kind,value,timestamp\na,payment,c1,0001-01-01\nb,payment,c1,9999-12-31T23:59:59\n"
                   "c,payment,c2,2023-11-14T22:13:20Z\n")
    err = _cli_ok(["cluster", str(src), "-o", str(tmp_path / "out.parquet")], capsys)
    assert "2 timestamps outside 1677-09-21 .. 2262-04-11" in err
    assert sorted(pd.read_parquet(tmp_path / "out.parquet")["account_id"]) == ["a", "b", "c"]


@pytest.mark.parametrize("header", ["account_id,kind,value,value", "account_id,account_id,kind,value",
                                    "account_id,kind,value,timestamp,timestamp"])
def test_duplicated_role_column_is_a_clear_error(tmp_path, header, capsys) -> None:
    name = header.split(",")[[c for c in header.split(",")].index(next(c for c in header.split(",") if header.split(",").count(c) > 1))]
    src = tmp_path / "obs.csv"
    src.write_text(header + "\n" + ",".join(["a", "ip", "1.1.1.1", "2", "3"][: header.count(",") + 1]) + "\n")
    with pytest.raises(InputError, match=rf"has 2 columns named '{name}' \(positions \d, \d\).*rename the extra copies in the header"):
        read_observations(src)
    frame = pd.DataFrame([["a", "ip", "1.1.1.1", "2", "3"][: header.count(",") + 1]], columns=header.split(","))
    with pytest.raises(InputError, match=rf"has 2 columns named '{name}'.*df\.loc\[:, ~df\.columns\.duplicated\(\)\]"):
        read_observations(frame)
    err = _cli_error(["cluster", str(src), "-o", str(tmp_path / "out.csv")], capsys)
    assert f"columns named '{name}'" in err


def test_duplicated_unrelated_column_is_ignored_with_a_note(tmp_path) -> None:
    src = tmp_path / "obs.csv"
    src.write_text("account_id,note,kind,value,note\na,x,ip,1.1.1.1,y\n")
    report = sg.Report()
    out = read_observations(src, report=report)
    assert out[["account_id", "kind", "value"]].values.tolist() == [["a", "ip", "1.1.1.1"]]
    assert "1 column names occur more than once; those columns are not used and were ignored (e.g. 'note')" in str(report)
    frame = pd.DataFrame([["a", "ip", "1.1.1.1", "t1", "t2"]], columns=["account_id", "kind", "value", "timestamp", "timestamp"])
    assert len(read_observations(frame, timestamp_col=None)) == 1  # timestamps not used: the duplicate does not matter


BIG = [1234567890123456789, 1234567890123456788, None, 18446744073709551615 // 3]


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_nullable_integer_ids_and_values_stay_exact_in_files(tmp_path, suffix) -> None:
    obs = pd.DataFrame({"account_id": pd.array(BIG, dtype="Int64"), "kind": "device",
                        "value": pd.array([BIG[1], BIG[1], BIG[0], None], dtype="Int64")})
    src = tmp_path / f"obs{suffix}"
    _write(obs, src)
    report = sg.Report()
    out = read_observations(src, report=report)
    assert out[["account_id", "value"]].values.tolist() == [["1234567890123456789", "1234567890123456788"],
                                                           ["1234567890123456788", "1234567890123456788"]]
    assert "3 non-string account_id entries converted to text" in str(report)  # the null is missing, not converted
    assert "1 rows with an empty account_id skipped" in str(report) and "1 rows with an empty value skipped" in str(report)
    result = sg.cluster_accounts(src)
    assert sorted(result.assignments["account_id"]) == ["1234567890123456788", "1234567890123456789", "6148914691236517205"]
    assert set(result.evidence["value"]) <= {"1234567890123456788", "1234567890123456789"}


@pytest.mark.parametrize("column", [
    pd.array(BIG, dtype="Int64"),
    pd.array([b if b is None else b * 2 for b in BIG], dtype="UInt64"),
    pd.Series(BIG + [], dtype=object).to_numpy(),
    pd.array(BIG, dtype="int64[pyarrow]"),
])
def test_integer_columns_of_a_frame_stay_exact(column) -> None:
    obs = pd.DataFrame({"account_id": column, "kind": "ip", "value": column})
    out = read_observations(obs)
    want = [str(v) for v in obs["account_id"] if not pd.isna(v)]
    assert out["account_id"].tolist() == want and out["value"].tolist() == want


def test_json_lines_exact_whatever_arrow_infers(tmp_path) -> None:
    src = tmp_path / "obs.jsonl"
    src.write_text(
        '{"account_id": 123456789012345678901234567890, "kind": "ip", "value": 18446744073709551615}\n'
        '{"account_id": "2023-01-01", "kind": "device", "value": 18446744073709551614}\n'
        '{"account_id": 7, "kind": "device", "value": 1.5, "timestamp": "2023-11-14T22:13:20Z"}\n'
        '{"account_id": 8, "kind": "device", "value": 2.0, "timestamp": 1700000000}\n')
    report = sg.Report()
    out = read_observations(src, report=report)
    assert out["account_id"].tolist() == ["123456789012345678901234567890", "2023-01-01", "7", "8"]
    assert out["value"].tolist() == ["18446744073709551615", "18446744073709551614", "1.5", "2"]
    assert out["timestamp"].tolist()[2:] == [1700000000.0, 1700000000.0]
    assert "3 non-string account_id entries converted to text" in str(report)
    # Arrow reads texts that all look like times as timestamps: ids and values keep their spelling anyway.
    src.write_text('{"account_id": "2023-01-01", "kind": "ip", "value": "2023-01-01T00:00", "timestamp": "2023-11-14T22:13:20"}\n'
                   '{"account_id": "2023-01-02", "kind": "ip", "value": "2023-01-01 00:00:00", "timestamp": "0001-01-01T00:00:00"}\n')
    out = read_observations(src)
    assert out[["account_id", "value"]].values.tolist() == [["2023-01-01", "2023-01-01T00:00"], ["2023-01-02", "2023-01-01 00:00:00"]]
    assert out["timestamp"].iloc[0] == 1700000000.0 and math.isnan(out["timestamp"].iloc[1])


def test_json_lines_errors_name_the_line(tmp_path) -> None:
    src = tmp_path / "obs.jsonl"
    src.write_text('{"account_id": "a", "kind": "ip", "value": "1"}\n{"account_id": "b", "kind": "ip", "value": "1", "value": 2}\n')
    with pytest.raises(InputError, match=r"line 2 of .* has the key 'value' more than once"):
        read_observations(src)
    src.write_text('{"account_id": "a", "kind": "ip", "value": "1"}\n{"account_id": \n')
    with pytest.raises(InputError, match=r"line 2 of .* is not valid JSON"):
        read_observations(src)


def test_invalid_utf8_in_json_lines_and_parquet_is_an_input_error(tmp_path) -> None:
    # Neither Arrow's JSON reader nor Parquet checks UTF-8; the bytes used to fail deep in a string kernel.
    src = tmp_path / "obs.jsonl"
    src.write_bytes(b'{"account_id": "a", "kind": "ip", "value": "1"}\n{"account_id": "caf\xe9", "kind": "ip", "value": "1"}\n')
    with pytest.raises(InputError, match=r"not valid UTF-8 \(first bad bytes on line 2\)"):
        read_observations(src)
    bad = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(np.array([0, 4], dtype=np.int32).tobytes()),
                                                 pa.py_buffer(b"caf\xe9")])
    pq.write_table(pa.table({"account_id": bad, "kind": ["ip"], "value": ["1"]}), tmp_path / "obs.parquet")
    with pytest.raises(InputError, match=r"not valid UTF-8 in column 'account_id'"):
        read_observations(tmp_path / "obs.parquet")


def test_floats_given_as_floats_keep_their_shortest_repr() -> None:
    obs = pd.DataFrame({"account_id": ["a", "b", "c", "d", "e"], "kind": "x",
                        "value": [0.1, 2.0, 1.2345678901234567e18, np.nan, 2.5e-7]})
    report = sg.Report()
    assert read_observations(obs, report=report)["value"].tolist() == ["0.1", "2", "1.2345678901234568e+18", "2.5e-07"]
    assert "1 float value entries are 2**53 or larger" in str(report)
    f32 = pd.DataFrame({"account_id": ["a"], "kind": ["x"], "value": np.array([0.1], dtype=np.float32)})
    assert read_observations(f32)["value"].tolist() == ["0.1"]


IDS = ["  spaced ", "spaced", " a", "a", "   ", "\u3000b", "b\t"]


@pytest.mark.parametrize("suffix", ["frame", ".csv", ".jsonl", ".parquet"])
def test_account_ids_are_never_altered(tmp_path, suffix) -> None:
    obs = pd.DataFrame({"account_id": IDS + ["", None], "kind": " IP ", "value": " 10.0.0.1 "})
    source: object = obs
    if suffix != "frame":
        source = tmp_path / f"obs{suffix}"
        _write(obs, source)
    report = sg.Report()
    out = read_observations(source, report=report)
    assert out["account_id"].tolist() == IDS
    assert set(out["kind"]) == {"ip"} and set(out["value"]) == {"10.0.0.1"}  # kinds and values are still normalised
    text = str(report)
    assert "5 account ids begin or end with white space and were kept verbatim" in text
    assert "2 rows with an empty account_id skipped" in text
    result = sg.cluster_accounts(source)
    assert sorted(result.assignments["account_id"]) == sorted(IDS)


def test_cli_keeps_ids_verbatim(tmp_path, capsys) -> None:
    src = tmp_path / "obs.csv"
    pd.DataFrame({"account_id": IDS, "kind": "payment", "value": "card"}).to_csv(src, index=False)
    err = _cli_ok(["cluster", str(src), "-o", str(tmp_path / "out.parquet")], capsys)
    assert "kept verbatim" in err
    assert sorted(pd.read_parquet(tmp_path / "out.parquet")["account_id"]) == sorted(IDS)


def test_named_timestamp_column_must_exist(tmp_path, capsys) -> None:
    obs = pd.DataFrame({"account_id": ["a"], "kind": ["ip"], "value": ["1.1.1.1"], "ts": ["1700000000"]})
    with pytest.raises(InputError, match=r"column 'time' not found; columns are \['account_id', 'kind', 'value', 'ts'\]; "
                                         r"pass timestamp_col='ts'"):
        read_observations(obs, timestamp_col="time")
    assert read_observations(obs)["timestamp"].isna().all()  # the default column may be absent
    assert read_observations(obs, timestamp_col="ts")["timestamp"].tolist() == [1700000000.0]
    with pytest.raises(InputError, match="column 'time' not found"):
        sg.cluster_accounts(obs, timestamp_col="time")
    with pytest.raises(InputError, match="column 'when' not found"):
        sg.from_wide(pd.DataFrame({"account_id": ["a"], "ip": ["1.1.1.1"]}), timestamp_col="when")
    src = tmp_path / "obs.csv"
    obs.to_csv(src, index=False)
    err = _cli_error(["cluster", str(src), "-o", str(tmp_path / "out.csv"), "--timestamp-col", "time"], capsys)
    assert "column 'time' not found" in err and "--timestamp-col ts" in err


@pytest.mark.parametrize(("columns", "asked", "hint"), [
    (["account_id", "kind", "value"], "user", "pass account_col='account_id'"),
    (["who", "kind", "value"], "user", "pass account_col='<your column>'"),
    (["User_ID", "kind", "value"], "user_id", "pass account_col='User_ID'"),
    (["acct", "kind", "value"], "account_id", "pass account_col='acct'"),
    (["accountid", "kind", "value"], "acount_id", "pass account_col='accountid'"),
])
def test_missing_column_hint_is_a_close_match_or_none(columns, asked, hint, tmp_path, capsys) -> None:
    obs = pd.DataFrame([["a", "ip", "1.1.1.1"]], columns=columns)
    with pytest.raises(InputError) as info:
        read_observations(obs, account_col=asked)
    message = str(info.value)
    assert hint in message and "account_col='value'" not in message and "account_col='kind'" not in message
    src = tmp_path / "obs.csv"
    obs.to_csv(src, index=False)
    err = _cli_error(["cluster", str(src), "-o", str(tmp_path / "out.csv"), "--account-col", asked], capsys)
    assert hint in err


def test_all_column_problems_reported_together() -> None:
    obs = pd.DataFrame([["a", "ip", "1", "2"]], columns=["acct", "kind", "value", "value"])
    with pytest.raises(InputError, match=r"column 'account_id' not found.*2 columns named 'value'"):
        read_observations(obs)


# --------------------------------------------------------------------------- properties over arbitrary text

# Any Unicode (hypothesis leaves out lone surrogates, which no UTF-8 file can hold): CJK, RTL, emoji,
# combining marks, control characters and NUL included, and a few spelled out.
TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "  a ", "\x00", "名前", "مرحبا", "👩‍👩‍👧", "e\u0301", "\r\n", "\u202e=1+1"]))
KIND = st.one_of(st.sampled_from(["ip", "email", "device", "payment", " Device ", "CUSTOM"]), st.text(max_size=6)).filter(
    lambda k: k.strip().lower() != "prompt")  # prompt templates are another stage's business


@st.composite
def hostile_rows(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 30))
    ids = draw(st.lists(TEXT, min_size=1, max_size=8))
    rows = [(draw(st.sampled_from(ids)), draw(KIND), draw(TEXT)) for _ in range(n)]
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"], dtype=object)


def _expected_rows(obs: pd.DataFrame) -> list[tuple[str, str, str]]:
    """What read_observations must return, spelled out in Python: the documented treatments and nothing else."""
    out: list[tuple[str, str, str]] = []
    for a, k, v in obs[["account_id", "kind", "value"]].itertuples(index=False):
        row = (a, k.strip().lower(), v.strip())
        if a != "" and row[1] != "" and row[2] != "" and row not in out:
            out.append(row)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obs=hostile_rows(), seed=st.integers(0, 2**32 - 1))
@example(obs=pd.DataFrame({"account_id": [" a", "a", "\x00", "   "], "kind": ["ip", "IP ", "x", "x"],
                           "value": ["1", " 1", "\x00", "v"]}, dtype=object), seed=0)
@example(obs=pd.DataFrame({"account_id": ["0", "0"], "kind": ["", "\x00"], "value": ["0", "0"]}, dtype=object),
         seed=0)  # pandas 2.0's factorize took "\x00" for ""
def test_read_observations_on_arbitrary_unicode(obs: pd.DataFrame, seed: int) -> None:
    ids = sorted({a for a in obs["account_id"] if a != ""})
    want = _expected_rows(obs)
    try:
        enc = read_encoded(obs)
    except EmptyInputError:
        assert want == []
        return
    # Every non-empty id exactly once, byte for byte, even when none of its rows is usable.
    assert [a.encode("utf-8") for a in enc.accounts.to_pylist()] == [a.encode("utf-8") for a in ids]
    out = read_observations(obs)
    assert list(out[["account_id", "kind", "value"]].itertuples(index=False, name=None)) == want
    # Row order does not matter.
    shuffled = obs.sample(frac=1.0, random_state=seed % 2**32).reset_index(drop=True)
    assert read_encoded(shuffled).accounts.to_pylist() == enc.accounts.to_pylist()
    assert sorted(read_observations(shuffled)[["account_id", "kind", "value"]].itertuples(index=False, name=None)) == sorted(want)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obs=hostile_rows(), suffix=st.sampled_from([".csv", ".jsonl", ".parquet"]))
def test_files_of_arbitrary_unicode_read_back_exactly(obs: pd.DataFrame, suffix: str, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("hostile") / f"obs{suffix}"
    _write(obs, path)
    want = _expected_rows(obs)
    try:
        out = read_observations(path)
    except EmptyInputError:
        assert want == []
        return
    assert list(out[["account_id", "kind", "value"]].itertuples(index=False, name=None)) == want


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obs=hostile_rows())
def test_cluster_accounts_on_arbitrary_unicode(obs: pd.DataFrame) -> None:
    # One usable row, so that something is left to cluster when no other value survives normalisation
    # (an "ip" that is no address); then every other account must come out too, as a singleton at worst.
    obs = pd.concat([obs, pd.DataFrame([["anchor", "payment", "card"]], columns=obs.columns, dtype=object)], ignore_index=True)
    ids = sorted({a for a in obs["account_id"] if a != ""})
    result = sg.cluster_accounts(obs)
    assert sorted(result.assignments["account_id"]) == ids


@settings(max_examples=100, deadline=None)
@given(stamps=st.lists(st.one_of(st.none(), st.text(max_size=25), st.floats(), st.integers(),
                                 st.datetimes().map(lambda d: d.isoformat()),
                                 st.sampled_from(["0001-01-01", "9999-12-31T23:59:59", "1e300", "-inf", "1700000000"])),
                       min_size=1, max_size=12))
def test_timestamps_of_any_kind_never_crash(stamps: list[object]) -> None:
    obs = pd.DataFrame({"account_id": [f"a{i}" for i in range(len(stamps))], "kind": "ip", "value": "1",
                        "timestamp": pd.Series(stamps, dtype=object)})
    ts = read_observations(obs)["timestamp"].to_numpy()
    known = ts[~np.isnan(ts)]
    assert ((known >= -9223372037) & (known <= 9223372037)).all()
