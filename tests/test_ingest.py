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
