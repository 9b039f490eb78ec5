"""Stage 1 — ingest: read observations into one long, typed table.

An observation is one row ``(account_id, kind, value[, timestamp])``: account
``a`` was seen with value ``v`` of kind ``k`` (an IP address, a card
fingerprint, a prompt, ...). Sources: a pandas DataFrame, or a CSV, Parquet or
JSON Lines file chosen by suffix (``.gz`` allowed for CSV and JSON Lines).

The output table has the columns ``account_id`` (str), ``kind`` (str, lower
case), ``value`` (str) and ``timestamp`` (float unix seconds, NaN when
unknown). Rows that cannot be used are skipped and counted in the returned
:class:`~sybilgraph._report.Report`; nothing disappears silently.
"""

from __future__ import annotations

import difflib
import gzip
import io
import os
from pathlib import Path
from typing import Any, Iterable, Sequence, Union

import numpy as np
import pandas as pd

from ._errors import EmptyInputError, InputError
from ._report import Report

__all__ = ["read_observations", "from_wide", "SUPPORTED_SUFFIXES", "Source"]

#: File suffixes :func:`read_observations` understands.
SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")

Source = Union[pd.DataFrame, str, "os.PathLike[str]"]

_STAGE = "ingest"


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
    report = report if report is not None else Report()
    frame = source if isinstance(source, pd.DataFrame) else _read_file(Path(os.fspath(source)))
    if len(frame.columns) == 0 or len(frame) == 0:
        raise EmptyInputError(_where(source) + "holds no rows; expected columns account_id, kind, value[, timestamp].")
    cols = [str(c) for c in frame.columns]
    for role, name, default in (
        ("account_col", account_col, "account_id"),
        ("kind_col", kind_col, "kind"),
        ("value_col", value_col, "value"),
    ):
        if name not in cols:
            raise InputError(_missing_column(name, cols, role, default, source))
    use_ts = timestamp_col is not None and timestamp_col in cols
    out = pd.DataFrame(
        {
            "account_id": _as_text(frame[account_col], "account_id", report),
            "kind": _as_text(frame[kind_col], "kind", report).str.lower(),
            "value": _as_text(frame[value_col], "value", report),
        }
    )
    out["timestamp"] = _parse_timestamps(frame[timestamp_col], report) if use_ts else np.nan
    out = _drop_empty(out, report)
    n = len(out)
    out = out.drop_duplicates(ignore_index=True)
    report.add(_STAGE, "exact duplicate rows kept once", n - len(out))
    if len(out) == 0:
        raise EmptyInputError(_where(source) + "has no usable row left: every row lacked an account, kind or value (see the report).")
    return out


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

            return pq.read_table(path).to_pandas()
        if suffix.startswith((".jsonl", ".ndjson")):
            return pd.read_json(path, lines=True, dtype=False, compression="infer", encoding="utf-8")
        return _read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except UnicodeDecodeError as err:
        raise InputError(_encoding_message(path, err)) from err
    except InputError:
        raise
    except (ValueError, OSError) as err:
        raise InputError(f"cannot read {str(path)!r}: {err}") from err


def _read_csv(path: Path, *, sep: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        head = pacsv.open_csv(path, parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True))
        names = head.schema.names
        table = pacsv.read_csv(
            path,
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
    return table.to_pandas()


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


def _as_text(column: pd.Series, role: str, report: Report) -> pd.Series:
    values = column.to_numpy(dtype=object, na_value=None)
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
        values = values.copy()
        values[converted] = [_to_text(v) for v in values[converted]]
    values[missing] = ""
    return pd.Series(values, dtype=object).str.strip()


def _to_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _drop_empty(out: pd.DataFrame, report: Report) -> pd.DataFrame:
    keep = np.ones(len(out), dtype=bool)
    for col in ("account_id", "kind", "value"):
        empty = (out[col] == "").to_numpy()
        report.add(
            _STAGE,
            f"rows with an empty {col} skipped",
            int((empty & keep).sum()),
            [f"row {i}" for i in np.flatnonzero(empty & keep)[:5]],
        )
        keep &= ~empty
    return out.loc[keep].reset_index(drop=True)


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
