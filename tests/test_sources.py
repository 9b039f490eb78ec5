"""Inputs that warehouses hand over: Arrow tables and streams, polars, DuckDB, Parquet directories, globs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sybilgraph as sg
from sybilgraph import EmptyInputError, InputError
from sybilgraph.ingest import read_observations


@pytest.fixture
def obs(small_obs: pd.DataFrame) -> pd.DataFrame:
    """The small rings with timestamps and hostile ids, so every column type and the verbatim ids are exercised."""
    frame = small_obs.copy()
    frame.loc[frame["account_id"] == "loner", "account_id"] = " <script>x</script>\x1b[2J "
    frame["timestamp"] = [1_700_000_000 + i for i in range(len(frame))]
    return frame


def _clusters(source: object) -> list[tuple[str, int, float]]:
    result = sg.cluster_accounts(source, seed=0)
    a = result.assignments
    return sorted(zip(a["account_id"], a["cluster_id"], a["attachment"]))


def test_pyarrow_table_and_record_batch_reader(obs: pd.DataFrame) -> None:
    expected = _clusters(obs)
    table = pa.Table.from_pandas(obs, preserve_index=False)
    assert _clusters(table) == expected
    assert _clusters(table.to_batches()[0]) == expected
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=7))
    assert _clusters(reader) == expected
    # The rows come back exactly, ids verbatim.
    pd.testing.assert_frame_equal(read_observations(table), read_observations(obs))


def test_object_with_arrow_c_stream(obs: pd.DataFrame) -> None:
    """Any producer of the PyCapsule stream interface, here a minimal one that is nothing but that interface."""

    class Producer:
        def __init__(self, table: pa.Table) -> None:
            self.table = table

        def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
            return self.table.__arrow_c_stream__(requested_schema)

    table = pa.Table.from_pandas(obs, preserve_index=False)
    if not hasattr(table, "__arrow_c_stream__"):  # pyarrow < 14 exports no capsule of its own
        pytest.skip(f"pyarrow {pa.__version__} has no __arrow_c_stream__ to build a producer from")
    assert _clusters(Producer(table)) == _clusters(obs)


def test_polars_dataframe(obs: pd.DataFrame) -> None:
    pl = pytest.importorskip("polars")
    frame = pl.from_pandas(obs)
    assert _clusters(frame) == _clusters(obs)
    pd.testing.assert_frame_equal(read_observations(frame), read_observations(obs))
    # A categorical kind column and a datetime timestamp column (Arrow dictionary and timestamp types).
    typed = frame.with_columns(pl.col("kind").cast(pl.Categorical), pl.from_epoch("timestamp", time_unit="s"))
    pd.testing.assert_frame_equal(read_observations(typed), read_observations(obs))


def test_duckdb_relation(obs: pd.DataFrame) -> None:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.register("obs", obs)
    assert _clusters(con.sql("select * from obs")) == _clusters(obs)
    # Through the C stream itself, not a fallback method, on every pyarrow (13 has no capsule API: ctypes).
    from sybilgraph._sources import _stream_reader

    assert _stream_reader(con.sql("select * from obs")).read_all().num_rows == len(obs)
    renamed = con.sql("select account_id as acct, kind, value from obs")
    with pytest.raises(InputError, match=r"^the duckdb DuckDBPyRelation column 'account_id' not found.*account_col='acct'"):
        read_observations(renamed)


def test_parquet_directory_and_hive_partitions(obs: pd.DataFrame, tmp_path: Path) -> None:
    expected = _clusters(obs)
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, part in enumerate((obs.iloc[:20], obs.iloc[20:])):
        part.to_parquet(flat / f"part-{i:05d}.snappy.parquet", index=False)
    (flat / "_SUCCESS").write_text("")  # what Spark leaves beside its output: skipped
    assert _clusters(flat) == expected
    assert _clusters(str(flat)) == expected
    # kind=<value>/ directories: the partition becomes the kind column.
    hive = tmp_path / "hive"
    for kind, rows in obs.groupby("kind"):
        (hive / f"kind={kind}").mkdir(parents=True)
        pq.write_table(pa.Table.from_pandas(rows.drop(columns="kind"), preserve_index=False), hive / f"kind={kind}" / "0.parquet")
    assert _clusters(hive) == expected


def test_globs_of_parquet_csv_and_json_lines(obs: pd.DataFrame, tmp_path: Path) -> None:
    expected = _clusters(obs)
    halves = (obs.iloc[:20], obs.iloc[20:])
    for i, part in enumerate(halves):
        part.to_parquet(tmp_path / f"p{i}.parquet", index=False)
        part.to_csv(tmp_path / f"c{i}.csv", index=False)
        with open(tmp_path / f"j{i}.jsonl", "w", encoding="utf-8") as fh:
            for row in part.to_dict("records"):
                fh.write(json.dumps(row) + "\n")
    for pattern in ("p*.parquet", "c*.csv", "j*.jsonl", "**/j?.jsonl"):
        assert _clusters(str(tmp_path / pattern)) == expected, pattern


def test_json_lines_file(obs: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "obs.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in obs.to_dict("records")), encoding="utf-8")
    assert _clusters(path) == _clusters(obs)


def test_source_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read observations from a list; pass a pandas or polars DataFrame"):
        read_observations([("a", "ip", "1.2.3.4")])  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"no file matches the pattern '.*nothing-\*\.parquet'"):
        read_observations(str(tmp_path / "nothing-*.parquet"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"holds no Parquet file .* it holds 'notes.txt'"):
        read_observations(tmp_path)
    with pytest.raises(InputError, match=r"matches files whose format cannot be told from the suffix .*notes.txt"):
        read_observations(str(tmp_path / "*"))
    pd.DataFrame({"account_id": ["a"], "kind": ["ip"], "value": ["1"]}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"acct": ["a"], "kind": ["ip"], "value": ["1"]}).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(InputError, match=r"have different columns: .*a.csv' has \['account_id', 'kind', 'value'\], "
                                         r".*b.csv' has \['acct', 'kind', 'value'\]"):
        read_observations(str(tmp_path / "*.csv"))
    # A table's own messages name the table, not its whole text.
    with pytest.raises(InputError, match=r"^the pyarrow Table column 'account_id' not found"):
        read_observations(pa.table({"acct": ["a"], "kind": ["ip"], "value": ["1"]}))
    with pytest.raises(EmptyInputError, match=r"^the pyarrow Table holds no rows"):
        read_observations(pa.table({"account_id": pa.array([], pa.string())}))


def test_parquet_files_of_a_directory_must_agree(tmp_path: Path) -> None:
    # pyarrow.dataset takes the first file's schema and casts the others to it; what cannot be cast is an error.
    pq.write_table(pa.table({"account_id": [1], "kind": ["ip"], "value": ["1"]}), tmp_path / "0.parquet")
    pq.write_table(pa.table({"account_id": [[1, 2]], "kind": ["ip"], "value": ["1"]}), tmp_path / "1.parquet")
    with pytest.raises(InputError, match=r"cannot read the Parquet files of .* as one table"):
        read_observations(tmp_path)
