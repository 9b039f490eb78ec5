"""Stage 1 — ingest: read observations into one long, typed table.

An observation is one row ``(account_id, kind, value[, timestamp])``: account
``a`` was seen with value ``v`` of kind ``k`` (an IP address, a card
fingerprint, a prompt, ...). Sources: a pandas DataFrame, or a CSV, Parquet or
JSON Lines file chosen by suffix (``.gz`` allowed for CSV and JSON Lines).

The output table has the columns ``account_id`` (str), ``kind`` (str, lower
case), ``value`` (str) and ``timestamp`` (float unix seconds, NaN when
unknown). Rows that cannot be used are skipped and counted in the returned
:class:`~sybilgraph._report.Report`; nothing disappears silently.

Internally the pipeline never materialises that table: :func:`read_encoded`
returns an :class:`Encoded` table of integer codes into tables of distinct
texts (pyarrow string arrays), so that the later stages work on integers and
touch each distinct text once. CSV files are parsed by pyarrow's multithreaded
reader; string columns are cleaned with pyarrow kernels whose results are
identical to the Python string methods the documentation names.
"""

from __future__ import annotations

import difflib
import gzip
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._errors import EmptyInputError, InputError
from ._report import Report

__all__ = ["read_observations", "read_encoded", "Encoded", "from_wide", "SUPPORTED_SUFFIXES", "Source"]

#: File suffixes :func:`read_observations` understands.
SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")

Source = Union[pd.DataFrame, str, "os.PathLike[str]"]

_STAGE = "ingest"

#: Every code point for which ``str.isspace()`` is true: what ``str.strip()`` removes.
#: (``"".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())``.)
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

_TEXT = pa.large_string()

#: Threads for the pyarrow work that can run side by side (each kernel releases the GIL).
THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Encoded:
    """Observations as integer codes into tables of distinct texts: the pipeline's internal table.

    Row ``i`` is the observation ``(accounts[account[i]], kinds[kind[i]],
    values[value[i]], timestamp[i])``. Rows keep the order of the input.
    """

    account: np.ndarray
    """Account code of each row (int64), an index into :attr:`accounts`."""
    accounts: pa.Array
    """Distinct account ids (large_string), sorted; ids without rows may be listed."""
    kind: np.ndarray
    """Kind code of each row (int64), an index into :attr:`kinds`."""
    kinds: tuple[str, ...]
    """Distinct kinds, sorted."""
    value: np.ndarray
    """Value code of each row (int64), an index into :attr:`values`."""
    values: pa.Array
    """Distinct value texts (large_string), in no particular order; unused entries may be listed."""
    timestamp: np.ndarray
    """Timestamp of each row (float64 unix seconds, NaN when unknown)."""

    def __len__(self) -> int:
        return len(self.account)

    def to_frame(self, *, object_columns: bool = False) -> pd.DataFrame:
        """Return the rows as a DataFrame ``account_id, kind, value, timestamp``.

        Parameters
        ----------
        object_columns : bool, default False
            Object-dtype text columns (as :func:`read_observations` returns);
            otherwise pandas' ``str`` dtype.
        """
        kinds = pa.array(list(self.kinds), type=_TEXT)
        cols = {
            "account_id": _take(self.accounts, self.account),
            "kind": _take(kinds, self.kind),
            "value": _take(self.values, self.value),
        }
        if object_columns:
            frame = pd.DataFrame({k: pd.Series(v.to_numpy(zero_copy_only=False), dtype=object) for k, v in cols.items()})
        else:
            frame = pa.table(cols).to_pandas()
        frame["timestamp"] = np.asarray(self.timestamp, dtype=np.float64)
        return frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "Encoded":
        """Encode a DataFrame ``account_id, kind, value[, timestamp]`` of strings as it is (nothing is cleaned)."""
        account, accounts = sort_codes(*encode_text(_plain_text(frame["account_id"], "account_id")))
        kind, kinds = _sort_small(*encode_text(_plain_text(frame["kind"], "kind")))
        value, values = encode_text(_plain_text(frame["value"], "value"))
        ts = frame["timestamp"].to_numpy(dtype=np.float64) if "timestamp" in frame else np.full(len(frame), np.nan)
        return cls(account, accounts, kind, kinds, value, values, ts)


def read_observations(
    source: Source,
    *,
    account_col: str = "account_id",
    kind_col: str = "kind",
    value_col: str = "value",
    timestamp_col: str | None = "timestamp",
    report: Report | None = None,
) -> pd.DataFrame:
    """Read observations from a DataFrame or a file into the canonical long table.

    Parameters
    ----------
    source : DataFrame or path
        A DataFrame, or a path ending in one of :data:`SUPPORTED_SUFFIXES`.
    account_col, kind_col, value_col : str
        Names of the account, kind and value columns in ``source``.
    timestamp_col : str or None, default "timestamp"
        Column with unix seconds or ISO 8601 times. Used when present; ``None``
        ignores timestamps.
    report : Report, optional
        Collects what was skipped and why. A new one is made when omitted.

    Returns
    -------
    DataFrame
        Columns ``account_id``, ``kind``, ``value`` (str) and ``timestamp``
        (float64 unix seconds, NaN when unknown).

    Raises
    ------
    InputError
        A missing column, an unreadable file (wrong encoding, bad format) or an
        unknown suffix; the message names the problem and the fix.
    EmptyInputError
        No usable row is left.

    Notes
    -----
    Treatments, each counted in ``report``:

    * rows with an empty or missing account, kind or value are skipped;
    * ids and values that are not strings (numbers) are converted with ``str``;
    * leading and trailing white space around ids, kinds and values is removed
      and kinds are lower-cased;
    * timestamps that cannot be parsed become NaN (the row is kept);
    * exact duplicate rows are kept once.

    Values may contain commas, quotes and newlines; CSV quoting preserves them.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"account_id": ["a", "b"], "kind": ["ip", "IP"], "value": ["1.2.3.4", "1.2.3.4"]})
    >>> read_observations(df)[["account_id", "kind", "value"]].values.tolist()
    [['a', 'ip', '1.2.3.4'], ['b', 'ip', '1.2.3.4']]
    """
    enc = read_encoded(source, account_col=account_col, kind_col=kind_col, value_col=value_col,
                       timestamp_col=timestamp_col, report=report)
    return enc.to_frame(object_columns=True)


def read_encoded(
    source: Source,
    *,
    account_col: str = "account_id",
    kind_col: str = "kind",
    value_col: str = "value",
    timestamp_col: str | None = "timestamp",
    report: Report | None = None,
) -> Encoded:
    """Read observations like :func:`read_observations`, but return them encoded.

    Parameters
    ----------
    source, account_col, kind_col, value_col, timestamp_col, report
        As :func:`read_observations`.

    Returns
    -------
    Encoded
        The same rows in the same order as :func:`read_observations` returns,
        with the accounts numbered in sorted order.

    Raises
    ------
    InputError, EmptyInputError
        As :func:`read_observations`.
    """
    report = report if report is not None else Report()
    data = source if isinstance(source, pd.DataFrame) else _read_table(Path(os.fspath(source)))
    if isinstance(data, pa.Table):
        cols = _table_columns(data)
        n_cols, n_rows = len(cols), data.num_rows
        column: Callable[[str], Any] = data.column
    else:
        cols = [str(c) for c in data.columns]
        n_cols, n_rows = len(data.columns), len(data)
        column = data.__getitem__
    if n_cols == 0 or n_rows == 0:
        raise EmptyInputError(_where(source) + "holds no rows; expected columns account_id, kind, value[, timestamp].")
    for role, name, default in (
        ("account_col", account_col, "account_id"),
        ("kind_col", kind_col, "kind"),
        ("value_col", value_col, "value"),
    ):
        if name not in cols:
            raise InputError(_missing_column(name, cols, role, default, source))
    use_ts = timestamp_col is not None and timestamp_col in cols
    # Python-level conversions (and their notes) first, in column order; then the pyarrow work on both cores.
    texts = [_text_array(column(name), role, report) for name, role in
             ((account_col, "account_id"), (kind_col, "kind"), (value_col, "value"))]
    ts_name = timestamp_col if (use_ts and timestamp_col is not None) else None
    ts_arrow = _arrow_text(column(ts_name)) if ts_name is not None else None
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        encoded = [pool.submit(_clean_codes, arr) for arr in texts]
        fast_ts = pool.submit(_integer_seconds, ts_arrow) if ts_arrow is not None else None
        (account, accounts), (kind, kind_texts), (value, values) = (f.result() for f in encoded)
        ts = fast_ts.result() if fast_ts is not None else None
    del texts
    # Kinds are few: lower-case the distinct ones with str.lower, as the documentation says.
    kind, kind_texts = _recode(kind, [k.lower() for k in kind_texts.to_pylist()])
    if ts is None and ts_name is not None:
        stamps = column(ts_name)
        ts = _parse_timestamps(stamps.to_pandas() if isinstance(stamps, (pa.Array, pa.ChunkedArray)) else stamps, report)
    elif ts is None:
        ts = np.full(n_rows, np.nan)
    keep = np.ones(n_rows, dtype=bool)
    # Every account named on some row comes out, even when all its rows are skipped below
    # (it is then a singleton with no evidence, counted by normalise's report).
    named = np.zeros(len(accounts), dtype=bool)
    named[account] = True
    named &= ~_is_code_of(np.arange(len(accounts)), accounts, "")
    for name, codes, texts_ in (("account_id", account, accounts), ("kind", kind, kind_texts), ("value", value, values)):
        empty = _is_code_of(codes, texts_, "")
        report.add(
            _STAGE,
            f"rows with an empty {name} skipped",
            int((empty & keep).sum()),
            [f"row {i}" for i in np.flatnonzero(empty & keep)[:5]],
        )
        keep &= ~empty
    if not keep.all():
        rows = np.flatnonzero(keep)
        account, kind, value, ts = account[rows], kind[rows], value[rows], ts[rows]
    n = len(account)
    first = _first_occurrences(account, len(accounts), kind, len(kind_texts), value, len(values), ts)
    if first is not None:
        account, kind, value, ts = account[first], kind[first], value[first], ts[first]
    report.add(_STAGE, "exact duplicate rows kept once", n - len(account))
    if len(account) == 0:
        raise EmptyInputError(_where(source) + "has no usable row left: every row lacked an account, kind or value (see the report).")
    renumber = np.cumsum(named) - 1
    account, accounts = sort_codes(renumber[account], accounts.filter(pa.array(named)))
    kind, kinds = _sort_small(*compact_codes(kind, kind_texts))
    value, values = compact_codes(value, values)
    return Encoded(account, accounts, kind, kinds, value, values, ts)


# --------------------------------------------------------------------------- encoded text


def _take(texts: pa.Array, codes: np.ndarray) -> pa.Array:
    return texts.take(pa.array(codes, type=pa.int64())) if len(codes) else pa.array([], type=_TEXT)


def encode_text(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Dictionary-encode a string array with no nulls.

    Returns
    -------
    codes : ndarray of int64
        Code of each element, in order of first appearance.
    texts : pyarrow.Array
        The distinct texts (large_string); ``texts[codes]`` is the input.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if arr.type != _TEXT:
        arr = arr.cast(_TEXT)
    encoded = arr.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, encoded.dictionary


def _text_array(column: Any, role: str, report: Report) -> pa.Array | pa.ChunkedArray:
    """A column as a pyarrow string array without nulls (missing entries become ""), not yet stripped."""
    arr = _arrow_text(column)
    if arr is None:
        series = column.to_pandas() if isinstance(column, (pa.Array, pa.ChunkedArray)) else column
        values = _as_text(series, role, report)
        try:
            return pa.array(values, type=_TEXT)
        except (pa.ArrowException, UnicodeError) as err:
            raise InputError(f"the {role} column holds text that cannot be encoded as UTF-8 ({err}); "
                             "clean it (e.g. text.encode('utf-8', 'replace').decode()) and pass it again.") from err
    return arr.fill_null("") if arr.null_count else arr


def _clean_codes(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Encode text with surrounding white space removed (as ``str.strip``); the distinct texts are stripped."""
    codes, texts = encode_text(arr)
    stripped = pc.utf8_trim(texts, characters=WHITESPACE)
    if pc.all(pc.equal(stripped, texts)).as_py() is False:
        new, texts = encode_text(stripped)
        codes = new[codes]
    return codes, texts


def compact_codes(codes: np.ndarray, texts: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Drop the entries of ``texts`` that no code refers to; keep the order of the others."""
    used = np.zeros(len(texts), dtype=bool)
    used[codes] = True
    if used.all():
        return codes, texts
    new = np.cumsum(used) - 1
    return new[codes], texts.filter(pa.array(used))


def sort_codes(codes: np.ndarray, texts: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Renumber texts in sorted (code point) order, merging equal ones.

    Returns the new code of every element of ``codes`` and the distinct texts,
    sorted. Equal texts are found next to each other after the sort, without a
    hash table.
    """
    order = pc.array_sort_indices(texts).to_numpy(zero_copy_only=False)
    ordered = texts.take(pa.array(order))
    if len(ordered) > 1:
        head = np.concatenate(([True], ~pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1)).to_numpy(zero_copy_only=False)))
    else:
        head = np.ones(len(ordered), dtype=bool)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.cumsum(head) - 1
    return rank[codes], ordered if head.all() else ordered.filter(pa.array(head))


def _sort_small(codes: np.ndarray, texts: Sequence[str] | pa.Array) -> tuple[np.ndarray, tuple[str, ...]]:
    """Renumber a handful of distinct texts in sorted order (Python comparison)."""
    items = texts.to_pylist() if isinstance(texts, pa.Array) else list(texts)
    order = sorted(range(len(items)), key=items.__getitem__)
    rank = np.empty(len(items), dtype=np.int64)
    rank[order] = np.arange(len(items))
    return rank[codes] if len(items) else codes, tuple(items[i] for i in order)


def _recode(codes: np.ndarray, texts: list[str]) -> tuple[np.ndarray, pa.Array]:
    """Map codes through ``texts`` (which may repeat) to codes of its distinct entries."""
    new, uniques = pd.factorize(pd.Series(texts, dtype=object), sort=False)
    return new.astype(np.int64)[codes] if len(texts) else codes, pa.array(list(uniques), type=_TEXT)


def _is_code_of(codes: np.ndarray, texts: pa.Array, text: str) -> np.ndarray:
    where = np.flatnonzero(pc.equal(texts, text).to_numpy(zero_copy_only=False))
    return codes == where[0] if len(where) else np.zeros(len(codes), dtype=bool)


def _first_occurrences(account: np.ndarray, n_account: int, kind: np.ndarray, n_kind: int, value: np.ndarray,
                       n_value: int, ts: np.ndarray) -> np.ndarray | None:
    """Positions of the first occurrence of each distinct row, in order (what ``drop_duplicates`` keeps).

    Returns None when every row is distinct. Only rows whose (account, kind,
    value) repeats can repeat, so timestamps are compared among those alone.
    """
    key = combine_codes(combine_codes(account, n_account, kind, n_kind), n_account * n_kind, value, n_value)
    repeated = first_of_repeats(key)
    if repeated is None:
        return None
    rows, first = repeated
    ts_code, ts_uniques = pd.factorize(ts[rows], use_na_sentinel=False)
    sub, _ = pd.factorize(key[rows])
    later = pd.Index(combine_codes(sub.astype(np.int64), len(rows), ts_code.astype(np.int64), len(ts_uniques))).duplicated(keep="first")
    if not later.any():
        return None
    keep = np.ones(len(key), dtype=bool)
    keep[rows[later]] = False
    return np.flatnonzero(keep)


def first_of_repeats(key: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows whose key occurs more than once, and which of them come first; None when every key is distinct.

    Returns
    -------
    rows : ndarray of int64
        Positions (increasing) of the rows whose key repeats.
    first : ndarray of bool
        For each of ``rows``, whether it is the first row with its key.

    Notes
    -----
    One sort of the keys finds the repeated ones (usually few); only their
    rows go through a hash table. A hash table over millions of distinct keys
    is slower than the sort: its random accesses miss the cache.
    """
    ordered = np.sort(key)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return None
    repeated = ordered[1:][same]
    repeated = repeated[np.concatenate(([True], repeated[1:] != repeated[:-1]))]
    at = np.minimum(np.searchsorted(repeated, key), len(repeated) - 1)
    rows = np.flatnonzero(repeated[at] == key)
    return rows, ~pd.Index(key[rows]).duplicated(keep="first")


def combine_codes(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int) -> np.ndarray:
    """Return one int64 code per pair ``(a[i], b[i])``; equal pairs get equal codes."""
    if n_b <= 1:
        return a.astype(np.int64, copy=False)
    if n_a * n_b < 2**62:
        return a.astype(np.int64, copy=False) * n_b + b
    # Too many pairs to number directly: number those that occur.
    a, _ = pd.factorize(a)
    b, uniques = pd.factorize(b)
    return combine_codes(a.astype(np.int64), int(a.max()) + 1, b.astype(np.int64), len(uniques))


def from_wide(
    frame: pd.DataFrame,
    *,
    account_col: str = "account_id",
    kinds: Sequence[str] | None = None,
    timestamp_col: str | None = None,
    report: Report | None = None,
) -> pd.DataFrame:
    """Turn a wide table (one column per kind) into the canonical long table.

    Parameters
    ----------
    frame : DataFrame
        One row per account (or per event), one column per kind, e.g. columns
        ``account_id, ip, email, payment``.
    account_col : str, default "account_id"
        The account column.
    kinds : sequence of str, optional
        Columns to use as kinds; default every column but the account and
        timestamp columns.
    timestamp_col : str, optional
        A timestamp column copied to every observation of the row.
    report : Report, optional
        Collects what was skipped.

    Returns
    -------
    DataFrame
        As :func:`read_observations`. Empty cells are not observations and are
        counted in ``report``.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"account_id": ["a", "b"], "ip": ["1.2.3.4", None], "payment": ["c1", "c1"]})
    >>> from_wide(wide)[["account_id", "kind", "value"]].values.tolist()
    [['a', 'ip', '1.2.3.4'], ['a', 'payment', 'c1'], ['b', 'payment', 'c1']]
    """
    report = report if report is not None else Report()
    cols = [str(c) for c in frame.columns]
    if account_col not in cols:
        raise InputError(_missing_column(account_col, cols, "account_col", "account_id", frame))
    skip = {account_col} | ({timestamp_col} if timestamp_col else set())
    use = list(kinds) if kinds is not None else [c for c in cols if c not in skip]
    missing = [k for k in use if k not in cols]
    if missing:
        raise InputError(f"kind columns {missing} not found; columns are {cols}; pass kinds=[...] with existing columns.")
    if not use:
        raise InputError(f"the wide table has no kind column besides {account_col!r}; columns are {cols}.")
    id_vars = [account_col] + ([timestamp_col] if timestamp_col else [])
    rows = frame[id_vars + use].reset_index(drop=True)
    rows.insert(0, "_row", np.arange(len(rows)))
    long = rows.melt(id_vars=["_row"] + id_vars, var_name="kind", value_name="value")
    empty = long["value"].isna() | (long["value"].astype(str).str.strip() == "")
    report.add(_STAGE, "empty cells in the wide table are not observations", int(empty.sum()))
    long = long.loc[~empty].sort_values("_row", kind="stable").drop(columns="_row")
    return read_observations(
        long.rename(columns={account_col: "account_id"}).reset_index(drop=True),
        timestamp_col=timestamp_col if timestamp_col else None,
        report=report,
    )


# --------------------------------------------------------------------------- files


def _read_file(path: Path) -> pd.DataFrame:
    data = _read_table(path)
    return data.to_pandas() if isinstance(data, pa.Table) else data


def _read_table(path: Path) -> pa.Table | pd.DataFrame:
    """Read a file: CSV and Parquet as a pyarrow Table, JSON Lines as a DataFrame."""
    name = path.name.lower()
    suffix = next((s for s in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise InputError(
            f"cannot tell the format of {str(path)!r} from its suffix; use one of {', '.join(SUPPORTED_SUFFIXES)} "
            "or load it yourself and pass a DataFrame."
        )
    if not path.exists():
        raise InputError(f"file {str(path)!r} does not exist.")
    if path.stat().st_size == 0:
        raise EmptyInputError(f"file {str(path)!r} is empty; expected a header account_id, kind, value[, timestamp].")
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if suffix.startswith((".jsonl", ".ndjson")):
            return pd.read_json(path, lines=True, dtype=False, compression="infer", encoding="utf-8")
        return _read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except UnicodeDecodeError as err:
        raise InputError(_encoding_message(path, err)) from err
    except InputError:
        raise
    except (ValueError, OSError) as err:
        raise InputError(f"cannot read {str(path)!r}: {err}") from err


def _read_csv(path: Path, *, sep: str) -> pa.Table:
    """Parse a CSV file with every column as text (pyarrow's reader, on all cores)."""
    import pyarrow.csv as pacsv

    try:
        head = pacsv.open_csv(path, parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True))
        names = head.schema.names
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False),
        )
    except pa.ArrowInvalid as err:
        text = str(err)
        if "UTF8" in text or "utf8" in text or "UTF-8" in text:
            raise InputError(_encoding_message(path, err)) from err
        if "Empty CSV file" in text:
            raise EmptyInputError(f"file {str(path)!r} is empty; expected a header account_id, kind, value[, timestamp].") from err
        raise InputError(f"cannot parse CSV {str(path)!r}: {text}") from err
    return table


def _table_columns(table: pa.Table) -> list[str]:
    """Column names of ``table`` as ``table.to_pandas()`` would show them (index columns left out)."""
    meta = table.schema.pandas_metadata or {}
    index = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
    return [n for n in table.column_names if n not in index]


def _encoding_message(path: Path, err: Exception) -> str:
    line = _first_bad_line(path)
    where = f" (first bad bytes on line {line})" if line else ""
    return (
        f"file {str(path)!r} is not valid UTF-8{where}; re-encode it as UTF-8 "
        "(e.g. iconv -f latin1 -t utf-8) or load it with pandas and the right encoding and pass the DataFrame."
    )


def _first_bad_line(path: Path) -> int | None:
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            for number, raw in enumerate(io.BufferedReader(fh), start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    return number
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------- columns


def _missing_column(name: str, cols: list[str], role: str, default: str, source: object) -> str:
    guess = difflib.get_close_matches(name, cols, n=1, cutoff=0.3)
    hint = f"; pass {role}={guess[0]!r}" if guess else f"; pass {role}='<your column>'"
    return f"{_where(source)}column {name!r} not found; columns are {cols}{hint}."


def _where(source: object) -> str:
    return "the DataFrame " if isinstance(source, pd.DataFrame) else f"{str(source)!r} "


def _arrow_text(column: Any) -> pa.Array | pa.ChunkedArray | None:
    """The column as a pyarrow string array when it is one already (or backed by one), else None."""
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        arr = column
    elif isinstance(column, pd.Series) and (
        (isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow")
        or (isinstance(column.dtype, pd.ArrowDtype) and pa.types.is_string(column.dtype.pyarrow_dtype))
        or (isinstance(column.dtype, pd.ArrowDtype) and pa.types.is_large_string(column.dtype.pyarrow_dtype))
    ):
        arr = pa.array(column.array)
    else:
        return None
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    if pa.types.is_string_view(arr.type):
        return arr.cast(_TEXT)
    return None


def _plain_text(column: pd.Series, role: str) -> pa.Array | pa.ChunkedArray:
    """A column of str as a pyarrow string array, unchanged."""
    arr = _arrow_text(column)
    if arr is None:
        try:
            arr = pa.array(column.to_numpy(dtype=object), type=_TEXT, from_pandas=True)
        except (pa.ArrowException, UnicodeError) as err:
            raise InputError(f"the {role} column must hold text (str); {err}. Pass the output of read_observations.") from err
    if arr.null_count:
        raise InputError(f"the {role} column has {arr.null_count} missing entries; pass the output of read_observations.")
    return arr


def _as_text(column: pd.Series, role: str, report: Report) -> np.ndarray:
    """Entries as str (converted with :func:`_to_text`, counted in ``report``), missing ones as ""."""
    values = column.to_numpy(dtype=object, na_value=None).copy()  # type: ignore[call-overload]
    is_str = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    missing = pd.isna(column).to_numpy()
    converted = ~is_str & ~missing
    if converted.any():
        report.add(
            _STAGE,
            f"non-string {role} entries converted with str() (e.g. numbers); pass strings to control the spelling",
            int(converted.sum()),
            [f"row {i}: {values[i]!r}" for i in np.flatnonzero(converted)[:5]],
        )
        values[converted] = [_to_text(v) for v in values[converted]]
    values[missing] = ""
    return values


def _to_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _integer_seconds(arr: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Timestamps from text that is all integers or empty, else None (then :func:`_parse_timestamps` reads it).

    pyarrow's integer parser accepts a subset of what ``pandas.to_numeric``
    accepts and reads it as the same number; anything else takes the general path.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    blank = pc.fill_null(pc.equal(arr, ""), True)
    if pc.all(blank).as_py():
        return np.full(len(arr), np.nan)
    try:
        numbers = pc.cast(pc.if_else(blank, pa.scalar(None, type=arr.type), arr), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return numbers.to_numpy(zero_copy_only=False).astype(np.float64)


def _parse_timestamps(column: pd.Series, report: Report) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        ts = pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()
        bad = np.zeros(len(ts), dtype=bool)
    else:
        text = column.astype(object).where(column.notna(), None)
        as_num = pd.to_numeric(text, errors="coerce")
        parsed = pd.to_datetime(text.where(as_num.isna(), None), errors="coerce", utc=True, format="ISO8601")
        seconds = ((parsed - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype="float64", na_value=np.nan)
        ts = np.where(as_num.notna().to_numpy(), as_num.to_numpy(dtype="float64", na_value=np.nan), seconds)
        given = text.notna().to_numpy() & (text.astype(str).str.strip() != "").to_numpy()
        bad = given & np.isnan(ts)
    report.add(_STAGE, "timestamps could not be parsed (unix seconds or ISO 8601 expected) and were left empty; the rows are kept",
               int(bad.sum()), [f"row {i}: {column.iloc[i]!r}" for i in np.flatnonzero(bad)[:5]])
    return ts
