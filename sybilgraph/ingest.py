"""Stage 1 — ingest: read observations into one long, typed table.

An observation is one row ``(account_id, kind, value[, timestamp])``: account
``a`` was seen with value ``v`` of kind ``k`` (an IP address, a card
fingerprint, a prompt, ...). Sources: a pandas DataFrame; Arrow data (a
``pyarrow.Table`` or ``RecordBatchReader``, or anything with the Arrow
PyCapsule stream interface ``__arrow_c_stream__``: a polars DataFrame, a DuckDB
relation); a CSV, Parquet or JSON Lines file chosen by suffix (``.gz`` allowed
for CSV and JSON Lines); a directory of Parquet files (``pyarrow.dataset``,
Hive partitions become columns); or a glob pattern of such files. See
:mod:`sybilgraph._sources`.

The output table has the columns ``account_id`` (str, exactly as given),
``kind`` (str, stripped and lower case), ``value`` (str, stripped) and
``timestamp`` (float unix seconds, NaN when unknown). Rows that cannot be used
are skipped and counted in the returned :class:`~sybilgraph._report.Report`;
nothing disappears silently.

Account ids are never altered: they come out byte for byte as they went in
(white space, control characters and all); numbers become their decimal text
without passing through floats, whatever the source (CSV, Parquet and JSON
Lines files are read as Arrow tables and converted in Arrow).

Internally the pipeline never materialises that table: :func:`read_encoded`
returns an :class:`Encoded` table of integer codes into tables of distinct
texts (pyarrow string arrays), so that the later stages work on integers and
touch each distinct text once. CSV files are parsed by pyarrow's multithreaded
reader; string columns are cleaned with pyarrow kernels whose results are
identical to the Python string methods the documentation names.
"""

from __future__ import annotations

import datetime
import difflib
import gzip
import io
import json
import math
import os
import shlex
from collections import Counter
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
from ._sources import SUPPORTED_SUFFIXES, ArrowStreamExportable, describe_source, load_source
from ._text import THREADS, WHITESPACE, combine_codes, compact_codes, encode_text, first_of_repeats, sort_codes

__all__ = ["read_observations", "read_encoded", "Encoded", "from_wide", "SUPPORTED_SUFFIXES", "Source"]

#: File suffixes :func:`read_observations` understands: ``SUPPORTED_SUFFIXES``, defined in :mod:`sybilgraph._sources`.

#: What :func:`read_observations` reads: a pandas DataFrame, a path (a file, a directory of Parquet files or a glob),
#: or Arrow data (a pyarrow Table, RecordBatch or RecordBatchReader, or any object with ``__arrow_c_stream__``,
#: such as a polars DataFrame or a DuckDB relation).
Source = Union[pd.DataFrame, pa.Table, pa.RecordBatch, pa.RecordBatchReader, ArrowStreamExportable, str, "os.PathLike[str]"]

_STAGE = "ingest"

_TEXT = pa.large_string()


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
    source : DataFrame, Arrow data or path
        A pandas DataFrame; a ``pyarrow.Table``, ``RecordBatch`` or
        ``RecordBatchReader``; any object with ``__arrow_c_stream__`` (a
        polars DataFrame, a DuckDB relation); a path ending in one of
        :data:`SUPPORTED_SUFFIXES`; a directory of Parquet files; or a glob
        pattern (``"exports/*.parquet"``, ``"logs/**/*.jsonl"``) whose files
        share their columns.
    account_col, kind_col, value_col : str
        Names of the account, kind and value columns in ``source``.
    timestamp_col : str or None, default "timestamp"
        Column with unix seconds or ISO 8601 times. The default column is used
        when present; any other name must exist. ``None`` ignores timestamps.
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
        A missing or duplicated column, an unreadable file (wrong encoding, bad
        format), an unknown suffix, a glob that matches nothing or a source of
        a type that cannot be read; the message names the problem and the fix.
    EmptyInputError
        No usable row is left.

    Notes
    -----
    Treatments, each counted in ``report``:

    * rows with a missing or empty (``""``) account, kind or value are skipped;
      a kind or value of white space only is empty;
    * account ids are kept verbatim: an id with surrounding white space (or
      of white space only) is its own id, distinct from the stripped one, and
      such ids are counted;
    * ids and values that are not strings are converted to text: integers
      (also nullable and Arrow ones, and Python ints of any size) digit for
      digit, never through a float; floats as their shortest ``repr``, integral
      ones below 2**53 without ``.0``; NaN and nulls are missing;
    * leading and trailing white space around kinds and values is removed
      (as ``str.strip``) and kinds are lower-cased;
    * timestamps that cannot be parsed, and timestamps outside 1677-09-21 ..
      2262-04-11 (sentinels such as ``0001-01-01``, infinities), become NaN;
      the row is kept;
    * columns whose name occurs more than once are an error when one of them
      is the account, kind, value or timestamp column, and are ignored
      otherwise;
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
    data = load_source(source, _read_table, lambda table, path, parquet: _valid_utf8(table, path, parquet=parquet))
    column: Callable[[int], Any]
    if isinstance(data, pa.Table):
        table = data
        cols, at = _table_columns(table)
        n_rows = table.num_rows
        column = lambda i: table.column(at[i])  # noqa: E731
    else:
        frame = data
        cols = [str(c) for c in frame.columns]
        n_rows = len(frame)
        column = lambda i: frame.iloc[:, i]  # noqa: E731
    if len(cols) == 0 or n_rows == 0:
        raise EmptyInputError(_where(source) + "holds no rows; expected columns account_id, kind, value[, timestamp].")
    acc_i, kind_i, value_i, ts_i = _resolve_columns(cols, account_col, kind_col, value_col, timestamp_col, source, report)
    # Python-level conversions (and their notes) first, in column order; then the pyarrow work on both cores.
    texts = [_text_array(column(i), role, report) for i, role in
             ((acc_i, "account_id"), (kind_i, "kind"), (value_i, "value"))]
    stamps = column(ts_i) if ts_i is not None else None
    ts_arrow = _arrow_text(stamps) if stamps is not None else None
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        # Account ids are used verbatim; kinds and values are stripped.
        encoded = [pool.submit(encode_text, texts[0])] + [pool.submit(_clean_codes, arr) for arr in texts[1:]]
        fast_ts = pool.submit(_integer_seconds, ts_arrow) if ts_arrow is not None else None
        (account, accounts), (kind, kind_texts), (value, values) = (f.result() for f in encoded)
        ts = fast_ts.result() if fast_ts is not None else None
    del texts
    # Kinds are few: lower-case the distinct ones with str.lower, as the documentation says.
    kind, kind_texts = _recode(kind, [k.lower() for k in kind_texts.to_pylist()])
    ts = _timestamps(stamps, ts, n_rows, report)
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
    if not named.any():
        raise EmptyInputError(_where(source) + "names no account: every row lacked an account id (see the report).")
    # Accounts whose every row was skipped still come out (as singletons), so no usable row at all is
    # not an error as long as some account is named.
    renumber = np.cumsum(named) - 1
    account, accounts = sort_codes(renumber[account], accounts.filter(pa.array(named)))
    padded = pc.not_equal(pc.utf8_trim(accounts, characters=WHITESPACE), accounts).to_numpy(zero_copy_only=False)
    report.add(_STAGE, "account ids begin or end with white space and were kept verbatim (each is its own account, distinct "
               "from the id without it); strip them before reading if the white space is padding",
               int(padded.sum()), accounts.filter(pa.array(padded)).slice(0, 5).to_pylist())
    kind, kinds = _sort_small(*compact_codes(kind, kind_texts))
    value, values = compact_codes(value, values)
    return Encoded(account, accounts, kind, kinds, value, values, ts)


# --------------------------------------------------------------------------- encoded text


def _take(texts: pa.Array, codes: np.ndarray) -> pa.Array:
    return texts.take(pa.array(codes, type=pa.int64())) if len(codes) else pa.array([], type=_TEXT)


def _text_array(column: Any, role: str, report: Report) -> pa.Array | pa.ChunkedArray:
    """A column as a pyarrow string array without nulls (missing entries become ""), not yet stripped.

    Text columns are used as they are. Numbers become their decimal text
    exactly: Arrow columns (and pandas columns of numbers) are converted in
    Arrow, integers directly to text, so no integer ever passes through a
    float; object columns are converted entry by entry with :func:`_to_text`.
    Conversions are counted in ``report``.
    """
    if isinstance(column, (pa.Array, pa.ChunkedArray)) and pa.types.is_dictionary(column.type):
        column = _decode_dictionary(column)  # e.g. a pandas categorical stored in Parquet, a polars Categorical
    arr = _arrow_text(column)
    if arr is not None:
        return arr.fill_null("") if arr.null_count else arr
    data = _arrow_data(column)
    converted = _arrow_as_text(data) if data is not None else None
    if converted is not None:
        valid = np.asarray(pc.is_valid(converted).to_numpy(zero_copy_only=False), dtype=bool)
        shown = np.flatnonzero(valid)[:5]
        _note_conversions(role, int(valid.sum()), [f"row {i}: {converted[int(i)].as_py()!r}" for i in shown], report)
        if data is not None and pa.types.is_floating(data.type):
            _note_large_floats(role, converted, report)
        return converted.fill_null("") if converted.null_count else converted
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        series = column.to_pandas(integer_object_nulls=True, date_as_object=True, timestamp_as_object=True)
    else:
        series = column
    values = _as_text(series, role, report)
    try:
        return pa.array(values, type=_TEXT)
    except (pa.ArrowException, UnicodeError) as err:
        raise InputError(f"the {role} column holds text that cannot be encoded as UTF-8 ({err}); "
                         "clean it (e.g. text.encode('utf-8', 'replace').decode()) and pass it again.") from err


def _decode_dictionary(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A dictionary-encoded column as plain values (a cast cannot decode every value type, e.g. string_view)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    value_type = _TEXT if _is_string_view(column.type.value_type) else column.type.value_type
    plain = [c.dictionary.cast(value_type).take(c.indices) for c in chunks]
    return pa.chunked_array(plain, type=value_type) if isinstance(column, pa.ChunkedArray) else plain[0]


def _arrow_data(column: Any) -> pa.Array | pa.ChunkedArray | None:
    """The column as Arrow data when it is Arrow already or holds numbers (numpy, nullable or Arrow-backed), else None."""
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        return column
    if not isinstance(column, pd.Series):
        return None
    dtype = column.dtype
    try:
        if isinstance(dtype, pd.ArrowDtype):
            return pa.array(column.array)
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            return pa.array(column.to_numpy(), from_pandas=True)
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iuf":
            # Nullable Int64, UInt64, Float64: the mask becomes Arrow nulls, the numbers stay as they are.
            return pa.array(column.array)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return None


def _arrow_as_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray | None:
    """Numbers, booleans, dates and times in Arrow as text (nulls stay null); None for other types.

    Integers and decimals are cast to text by Arrow, digit for digit; floats
    go through :func:`_float_text`; NaN counts as missing.
    """
    kind = arr.type
    if pa.types.is_null(kind):
        return pa.nulls(len(arr), type=_TEXT)
    if pa.types.is_integer(kind) or pa.types.is_decimal(kind) or pa.types.is_temporal(kind):
        return pc.cast(arr, _TEXT)
    if pa.types.is_boolean(kind):  # as str(True) spells it
        return pc.if_else(arr, pa.scalar("True", _TEXT), pa.scalar("False", _TEXT))
    if pa.types.is_floating(kind):
        return _float_text(arr)
    return None


#: Integers above this (2**53) are not all representable as float64.
_FLOAT_EXACT = 2.0**53


def _float_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Floats as text: integral ones below 2**53 as integers (``1.0`` → ``"1"``), others as their shortest repr.

    NaN and nulls become null. The shortest repr is the float's own
    (``str(numpy.float32(0.1))`` is ``"0.1"``), so a float32 column does not
    grow float64 digits.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_float16(arr.type):
        arr = arr.cast(pa.float32())
    x = arr.to_numpy(zero_copy_only=False)
    valid = ~np.isnan(x)
    whole = valid & (np.abs(x) < _FLOAT_EXACT) & (np.floor(x) == x)
    out = np.full(len(x), None, dtype=object)
    if whole.any():
        out[whole] = pa.array(x[whole].astype(np.int64)).cast(_TEXT).to_numpy(zero_copy_only=False)
    rest = np.flatnonzero(valid & ~whole)
    out[rest] = [str(v) for v in x[rest]]
    return pa.array(out, type=_TEXT)


def _note_conversions(role: str, count: int, examples: list[str], report: Report) -> None:
    report.add(_STAGE, f"non-string {role} entries converted to text: integers digit for digit, floats as their shortest "
               "repr (integral ones without '.0'); pass strings to control the spelling", count, examples)


def _note_large_floats(role: str, texts: pa.Array | pa.ChunkedArray, report: Report) -> None:
    """Count floats too large to hold every integer: ids that went through a float before they reached us."""
    big = pc.fill_null(pc.match_substring_regex(texts, r"^-?[0-9.]+e\+|^-?[0-9]{16,}\.0$"), False)
    n = int(pc.sum(big).as_py() or 0)
    shown = pc.filter(texts, big).slice(0, 5).to_pylist() if n else []
    report.add(_STAGE, f"float {role} entries are 2**53 or larger, where floats skip integers, and are written as floats; "
               "if they are ids, store them as text or integers (pandas Int64) so no digit is lost", n, shown)


def _clean_codes(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Encode text with surrounding white space removed (as ``str.strip``); the distinct texts are stripped."""
    codes, texts = encode_text(arr)
    stripped = pc.utf8_trim(texts, characters=WHITESPACE)
    if pc.all(pc.equal(stripped, texts)).as_py() is False:
        new, texts = encode_text(stripped)
        codes = new[codes]
    return codes, texts


def _sort_small(codes: np.ndarray, texts: Sequence[str] | pa.Array) -> tuple[np.ndarray, tuple[str, ...]]:
    """Renumber a handful of distinct texts in sorted order (Python comparison)."""
    items = texts.to_pylist() if isinstance(texts, pa.Array) else list(texts)
    order = sorted(range(len(items)), key=items.__getitem__)
    rank = np.empty(len(items), dtype=np.int64)
    rank[order] = np.arange(len(items))
    return rank[codes] if len(items) else codes, tuple(items[i] for i in order)


def _recode(codes: np.ndarray, texts: list[str]) -> tuple[np.ndarray, pa.Array]:
    """Map codes through ``texts`` (which may repeat) to codes of its distinct entries.

    A dict, not ``pandas.factorize``: before pandas 3.1 it takes ``"\\x00"`` for ``""``.
    """
    number: dict[str, int] = {}
    new = np.array([number.setdefault(t, len(number)) for t in texts], dtype=np.int64)
    return new[codes] if len(texts) else codes, pa.array(list(number), type=_TEXT)


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
    if timestamp_col and timestamp_col not in cols:
        raise InputError(_missing_column(timestamp_col, cols, "timestamp_col", "timestamp", frame, taken={account_col}))
    skip = {account_col} | ({timestamp_col} if timestamp_col else set())
    use = list(kinds) if kinds is not None else [c for c in cols if c not in skip]
    missing = [k for k in use if k not in cols]
    if missing:
        raise InputError(f"kind columns {missing} not found; columns are {cols}; pass kinds=[...] with existing columns.")
    counts = Counter(cols)
    repeated = sorted({c for c in [account_col, *([timestamp_col] if timestamp_col else []), *use] if counts[c] > 1})
    if repeated:
        raise InputError(f"the wide table has more than one column named {', '.join(map(repr, repeated))}; rename or drop "
                         "the extra copies (e.g. df.loc[:, ~df.columns.duplicated()] keeps the first).")
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
    """Read a file of any supported format as a DataFrame; integer columns with nulls hold Python ints, not floats."""
    data = _read_table(path)
    return data.to_pandas(integer_object_nulls=True) if isinstance(data, pa.Table) else data


def _read_table(path: Path) -> pa.Table | pd.DataFrame:
    """Read a file as a pyarrow Table (a DataFrame of Python objects for JSON Lines that Arrow cannot read exactly)."""
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

            return _valid_utf8(pq.read_table(path), path)
        if suffix.startswith((".jsonl", ".ndjson")):
            return _read_json_lines(path)
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


def _read_json_lines(path: Path) -> pa.Table | pd.DataFrame:
    """Parse JSON Lines with pyarrow's multithreaded reader; fall back to :func:`_read_json_lines_exact`.

    Arrow infers column types: texts that all look like times become
    timestamps (those columns are read again as text, so ids and values keep
    their spelling), and integers beyond int64 become float64 (then, and
    when a column mixes types, the exact reader takes over).
    """
    import pyarrow.json as pajson

    try:
        table = pajson.read_json(path)
        temporal = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
        if temporal:
            names = table.column_names
            schema = pa.schema([(n, pa.string()) for n in dict.fromkeys(temporal)])
            table = pajson.read_json(path, parse_options=pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer"))
            table = table.select(names)
    except pa.ArrowInvalid:
        return _read_json_lines_exact(path)
    table = _valid_utf8(table, path)
    for col in table.columns:
        if pa.types.is_floating(col.type) and col.length() > col.null_count:
            biggest = pc.max(pc.abs(col.filter(pc.is_finite(col)))).as_py()
            if biggest is not None and biggest >= _FLOAT_EXACT:  # maybe an integer beyond int64 that Arrow made a float
                return _read_json_lines_exact(path)
    return table


def _valid_utf8(table: pa.Table, path: Path, *, parquet: bool | None = None) -> pa.Table:
    """``table`` after checking that its texts are UTF-8: Parquet and Arrow's JSON reader do not check.

    Invalid bytes would otherwise fail later, deep in a string kernel.
    About 0.2 s per 400 MiB of text.
    """
    for name, col in zip(table.column_names, table.columns):
        try:
            col.validate(full=True)
        except pa.ArrowInvalid as err:
            if parquet or (parquet is None and path.suffix.lower() in (".parquet", ".pq")):
                raise InputError(f"{str(path)!r} holds text that is not valid UTF-8 in column {name!r} ({err}); "
                                 "re-encode that column as UTF-8, or load the file yourself and pass a DataFrame.") from err
            raise InputError(_encoding_message(path, err)) from err
    return table


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return out


def _read_json_lines_exact(path: Path) -> pd.DataFrame:
    """Read JSON Lines with the ``json`` module into object columns: integers of any size stay exact Python ints.

    Slower than Arrow (one Python object per field); used when a column mixes
    types or holds integers beyond int64.
    """
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    decode = json.JSONDecoder(object_pairs_hook=_unique_keys).decode
    rows: list[dict[str, Any]] = []
    with opener(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            try:
                obj = decode(line)
            except _RepeatedKey as err:
                raise InputError(f"line {number} of {str(path)!r} has the key {err.key!r} more than once, so its value is "
                                 "ambiguous; keep one.") from err
            except json.JSONDecodeError as err:
                raise InputError(f"line {number} of {str(path)!r} is not valid JSON ({err.msg} at column {err.colno}); "
                                 "JSON Lines holds one JSON object per line.") from err
            if not isinstance(obj, dict):
                raise InputError(f"line {number} of {str(path)!r} holds a JSON {type(obj).__name__}, not an object; "
                                 'JSON Lines holds one object per line, e.g. {"account_id": "a", "kind": "ip", "value": "1.2.3.4"}.')
            rows.append(obj)
    keys = dict.fromkeys(key for row in rows for key in row)  # in order of first appearance
    return pd.DataFrame({key: pd.Series([row.get(key) for row in rows], dtype=object) for key in keys},
                        index=pd.RangeIndex(len(rows)))


def _table_columns(table: pa.Table) -> tuple[list[str], list[int]]:
    """Column names of ``table`` as ``table.to_pandas()`` would show them (index columns left out), and their positions."""
    meta = table.schema.pandas_metadata or {}
    index = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
    at = [i for i, n in enumerate(table.column_names) if n not in index]
    return [table.column_names[i] for i in at], at


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


#: Column names people use for each role (compared lower-cased, with ``-`` and spaces as ``_``).
_SYNONYMS = {
    "account_col": ("account_id", "account", "accountid", "acct", "acct_id", "user", "user_id", "userid", "uid",
                    "username", "user_name", "customer_id", "customer", "member_id", "client_id", "id"),
    "kind_col": ("kind", "type", "attribute", "attr", "field", "feature", "key", "signal", "kind_of_value"),
    "value_col": ("value", "val", "values", "attribute_value", "field_value", "signal_value", "observation"),
    "timestamp_col": ("timestamp", "ts", "time", "datetime", "date", "event_time", "time_stamp", "created_at",
                      "seen_at", "first_seen", "unix_time", "epoch"),
}


def _resolve_columns(cols: list[str], account_col: str, kind_col: str, value_col: str, timestamp_col: str | None,
                     source: object, report: Report) -> tuple[int, int, int, int | None]:
    """Positions of the account, kind, value and timestamp columns (None: no timestamps).

    Every problem (a missing column, a role column whose name occurs more
    than once) is collected and raised together as one :class:`InputError`.
    Duplicated names that no role uses are ignored with a note.
    """
    where = _where(source)
    roles = [("account_col", account_col, "account_id"), ("kind_col", kind_col, "kind"), ("value_col", value_col, "value")]
    use_ts = timestamp_col is not None and (timestamp_col in cols or timestamp_col != "timestamp")
    if use_ts and timestamp_col is not None:
        roles.append(("timestamp_col", timestamp_col, "timestamp"))
    taken = {name for _, name, _ in roles}
    problems = []
    for role, name, default in roles:
        if name not in cols:
            problems.append(_missing_column(name, cols, role, default, source, taken=taken))
    positions: dict[str, list[int]] = {}
    for i, c in enumerate(cols):
        positions.setdefault(c, []).append(i)
    for role, name, _ in roles:
        at = positions.get(name, [])
        if len(at) > 1:
            how = ("rename or drop the extra copies (e.g. df.loc[:, ~df.columns.duplicated()] keeps the first)"
                   if isinstance(source, pd.DataFrame) else "rename the extra copies in the header")
            alt = " or pass timestamp_col=None to ignore timestamps" if role == "timestamp_col" else ""
            problems.append(f"{where}has {len(at)} columns named {name!r} (positions {', '.join(map(str, at))}), "
                            f"so the {role[:-4]} column is ambiguous; {how}{alt}.")
    if problems:
        raise InputError(" ".join(problems))
    ignored = [c for c, at in positions.items() if len(at) > 1]
    report.add(_STAGE, "column names occur more than once; those columns are not used and were ignored",
               len(ignored), ignored)
    ts = positions[timestamp_col][0] if use_ts and timestamp_col is not None else None
    return positions[account_col][0], positions[kind_col][0], positions[value_col][0], ts


def _missing_column(name: str, cols: list[str], role: str, default: str, source: object,
                    taken: set[str] | frozenset[str] = frozenset()) -> str:
    """The message for a missing column: the columns there are, and a close match when there is one.

    A column is suggested when it equals ``name`` but for case, when it is a
    usual name for the role (``user``, ``acct``, ... for the account), or
    when it is close to ``name`` (difflib ratio 0.6 or more). Columns that
    another role uses are never suggested.
    """
    guess = _guess_column(name, cols, role, taken - {name})
    flag = "--" + role[:-4].replace("_", "-") + "-col"
    hint = (f"; pass {role}={guess!r} (command line: {flag} {shlex.quote(guess)})" if guess is not None
            else f"; pass {role}='<your column>' (command line: {flag} <your column>)")
    if role == "timestamp_col":
        hint += ", or timestamp_col=None to cluster without timestamps"
    return f"{_where(source)}column {name!r} not found; columns are {cols}{hint}."


def _guess_column(name: str, cols: list[str], role: str, taken: set[str] | frozenset[str]) -> str | None:
    free = [c for c in cols if c not in taken]

    def plain(text: str) -> str:
        return text.strip().lower().replace("-", "_").replace(" ", "_")

    for c in free:
        if plain(c) == plain(name):
            return c
    for synonym in _SYNONYMS.get(role, ()):
        for c in free:
            if plain(c) == synonym:
                return c
    lowered = {plain(c): c for c in reversed(free)}
    close = difflib.get_close_matches(plain(name), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _where(source: object) -> str:
    return describe_source(source)


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
    if _is_string_view(arr.type):
        return arr.cast(_TEXT)
    return None


def _is_string_view(kind: pa.DataType) -> bool:
    """Whether ``kind`` is Arrow's string_view (pyarrow 16 and later have it)."""
    test = getattr(pa.types, "is_string_view", None)
    return bool(test(kind)) if test is not None else False


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
    missing = np.asarray(pd.isna(column), dtype=bool)
    converted = ~is_str & ~missing
    if converted.any():
        floats = np.zeros(len(values), dtype=bool)
        floats[converted] = [isinstance(v, (float, np.floating)) for v in values[converted]]
        values[converted] = [_to_text(v) for v in values[converted]]
        _note_conversions(role, int(converted.sum()), [f"row {i}: {values[i]!r}" for i in np.flatnonzero(converted)[:5]],
                          report)
        if floats.any():
            _note_large_floats(role, pa.array(values[floats], type=_TEXT), report)
    values[missing] = ""
    return values


def _to_text(value: object) -> str:
    """One entry as text: ints exactly, floats as in :func:`_float_text`, bytes decoded as UTF-8."""
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isfinite(number) and abs(number) < _FLOAT_EXACT and number.is_integer():
            return str(int(number))
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


# --------------------------------------------------------------------------- timestamps

#: Timestamps are kept between pandas' ``Timestamp.min`` and ``Timestamp.max`` (1677-09-21 .. 2262-04-11), as
#: nanoseconds since 1970 in an int64; outside that lie sentinels (0001-01-01, 9999-12-31) and mistakes.
_NS_MIN, _NS_MAX = -(2**63) + 1, 2**63 - 1
_NS_PER = {"D": 86_400 * 10**9, "h": 3_600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
#: A date at the start of a text (ISO 8601 ``[+-]YYYY[YY..]-MM-DD``), to tell far-away dates from unreadable text.
_ISO_DATE = r"^\s*([+-]?[0-9]{4,})-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12][0-9]|3[01])(?:$|[T ]|\s)"


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


def _timestamps(stamps: Any, fast: np.ndarray | None, n_rows: int, report: Report) -> np.ndarray:
    """Unix seconds of every row (NaN when unknown) from a timestamp column, or NaN everywhere without one.

    ``fast`` is what :func:`_integer_seconds` made of the column, if anything.
    Timestamps that cannot be read, and those outside 1677-09-21 ..
    2262-04-11, become NaN; both are counted in ``report`` with their rows.
    """
    if stamps is None:
        return np.full(n_rows, np.nan)
    bad: np.ndarray = np.zeros(n_rows, dtype=bool)
    far: np.ndarray
    if fast is not None:
        ts, far = fast, np.zeros(n_rows, dtype=bool)
    else:
        ts, bad, far = _parse_timestamps(stamps)
    ts, far = np.array(ts, dtype=np.float64), np.array(far, dtype=bool)  # copies we may write to
    with np.errstate(invalid="ignore"):
        far |= ~np.isnan(ts) & ~((ts >= _NS_MIN / 1e9) & (ts <= _NS_MAX / 1e9))
    ts[far] = np.nan

    def shown(mask: np.ndarray) -> list[str]:
        return [f"row {i}: {_entry(stamps, int(i))!r}" for i in np.flatnonzero(mask)[:5]]

    report.add(_STAGE, "timestamps outside 1677-09-21 .. 2262-04-11 (sentinels such as 0001-01-01 or 9999-12-31, "
               "infinities, milliseconds given as seconds) were left empty; the rows are kept", int(far.sum()), shown(far))
    report.add(_STAGE, "timestamps could not be parsed (unix seconds or ISO 8601 expected) and were left empty; the rows are kept",
               int(bad.sum()), shown(bad))
    return ts


def _entry(column: Any, i: int) -> object:
    value = column[i].as_py() if isinstance(column, (pa.Array, pa.ChunkedArray)) else column.iloc[i]
    if isinstance(value, np.generic):
        return value.item()
    return value.isoformat() if isinstance(value, (datetime.date, pd.Timestamp)) else value


def _parse_timestamps(column: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seconds (float64, NaN when unknown) of a column of numbers, times or text, and which entries were unreadable or out of range.

    Text holds unix seconds or ISO 8601 times (read by ``pandas.to_datetime``,
    times without a zone are UTC). Times are converted to seconds from their
    integer count of their own unit, so a time outside pandas' nanosecond
    range never overflows: it is reported as out of range.
    """
    n = len(column)
    none = np.zeros(n, dtype=bool)  # read-only use: never written to
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        kind = column.type
        if pa.types.is_date32(kind) or pa.types.is_date64(kind):
            column = pc.cast(column, pa.timestamp("s" if pa.types.is_date32(kind) else "ms"))
            kind = column.type
        if pa.types.is_timestamp(kind):
            ints = pc.cast(column, pa.int64())
            valid = np.asarray(pc.is_valid(ints).to_numpy(zero_copy_only=False), dtype=bool)
            ts, far = _unit_seconds(pc.fill_null(ints, 0).to_numpy(zero_copy_only=False), valid, kind.unit)
            return ts, none, far
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            floats = pc.cast(column, pa.float64(), safe=False)  # timestamps beyond 2**53 s are out of range anyway
            return np.asarray(floats.to_numpy(zero_copy_only=False), dtype=np.float64).copy(), none, none
        if pa.types.is_null(kind):
            return np.full(n, np.nan), none, none
        column = column.to_pandas(date_as_object=True, timestamp_as_object=True)
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        ts, far = _datetime_seconds(column)
        return ts, none, far
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return pd.to_numeric(column, errors="coerce").astype("float64").to_numpy(), none, none
    text = column.astype(object).where(column.notna(), None)
    as_num = pd.to_numeric(text, errors="coerce")
    dates = text.where(as_num.isna(), None)
    parsed = pd.to_datetime(dates, errors="coerce", utc=True, format="ISO8601")
    seconds, far = _datetime_seconds(parsed)
    ts = np.where(as_num.notna().to_numpy(), as_num.to_numpy(dtype="float64", na_value=np.nan), seconds)
    given = text.notna().to_numpy() & (text.astype(str).str.strip() != "").to_numpy()
    unread = given & np.isnan(ts) & ~far
    if unread.any():
        # pandas leaves times beyond its range unparsed (NaT): a text that starts with a date of a
        # year outside 1678..2261 is out of range rather than unreadable.
        year = pd.Series(dates[unread].astype(str).to_numpy(dtype=object)).str.extract(_ISO_DATE, expand=False)
        years = pd.to_numeric(year, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            outside = (years < 1678) | (years > 2261)
        far[np.flatnonzero(unread)[outside]] = True
        unread &= ~far
    return ts, unread, far


def _datetime_seconds(times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of a datetime64 column (NaN for NaT), and which times lie outside pandas' nanosecond range."""
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert(None)
    raw = times.to_numpy()
    unit = np.datetime_data(raw.dtype)[0]
    return _unit_seconds(raw.view(np.int64), ~np.isnat(raw), unit)


def _unit_seconds(ints: np.ndarray, valid: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of integer counts of ``unit`` since 1970 (NaN where not valid), and which lie outside pandas' range.

    Within the range the result is ``nanoseconds / 1e9`` in float64, as
    pandas computes it: whole seconds come out exact.
    """
    per = _NS_PER.get(unit)
    ints = np.asarray(ints, dtype=np.int64)
    ts = np.full(len(ints), np.nan)
    if per is None:  # a unit finer than a nanosecond: nothing in range needs it
        raise InputError(f"timestamps in unit {unit!r} are not supported; convert them to seconds or ISO 8601 text.")
    low, high = -((-_NS_MIN) // per), _NS_MAX // per
    far = valid & ((ints < low) | (ints > high))
    ok = valid & ~far
    ts[ok] = (ints[ok] * per).astype(np.float64) / 1e9
    return ts, far
