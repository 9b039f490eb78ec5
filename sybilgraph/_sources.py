"""Turn whatever the caller hands over into a pyarrow Table or a pandas DataFrame for :mod:`sybilgraph.ingest`.

Accepted sources:

* a pandas DataFrame (returned as it is);
* a ``pyarrow.Table``, ``pyarrow.RecordBatch`` or ``pyarrow.RecordBatchReader``;
* any object that exports the Arrow PyCapsule stream interface
  (``__arrow_c_stream__``): a polars DataFrame, a DuckDB relation, ...;
  objects with only a ``to_arrow()`` / ``arrow()`` method are accepted too;
* a path: a file with a known suffix, a directory of Parquet files (read with
  ``pyarrow.dataset``, Hive partitions such as ``kind=ip/`` become columns),
  or a glob pattern (``data/*.parquet``, ``logs/**/*.csv``).
"""

from __future__ import annotations

import ctypes
import glob
import os
from pathlib import Path
from typing import Any, Callable, Protocol

import pandas as pd
import pyarrow as pa

from ._errors import EmptyInputError, InputError

__all__ = ["load_source", "describe_source", "check_source_path", "ArrowStreamExportable", "GLOB_CHARS"]


class ArrowStreamExportable(Protocol):
    """Anything that exports an Arrow stream through the PyCapsule interface (polars, DuckDB, pyarrow, ...)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

#: Characters that make a path a glob pattern (when no file has that very name).
GLOB_CHARS = frozenset("*?[")

_PARQUET = (".parquet", ".pq")

#: File suffixes the readers understand (re-exported by :mod:`sybilgraph.ingest`).
SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")

#: ``read_file(path)``: one file as a Table (or a DataFrame); ``check_utf8(table, path, parquet)``: the table, its text checked.
ReadFile = Callable[[Path], "pa.Table | pd.DataFrame"]
CheckUtf8 = Callable[[pa.Table, Path, bool], pa.Table]


def load_source(source: Any, read_file: ReadFile, check_utf8: CheckUtf8) -> pa.Table | pd.DataFrame:
    """Return ``source`` as a pyarrow Table (or a pandas DataFrame, kept as it is).

    ``read_file`` and ``check_utf8`` are :mod:`sybilgraph.ingest`'s file
    reader and UTF-8 check (passed in, so that this module imports nothing
    of ingest's).

    Raises
    ------
    InputError
        The source is of a type that cannot be read, a path that does not
        exist, a directory without Parquet files, or a glob matching nothing.
    """
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    if isinstance(source, pa.RecordBatchReader):
        return _read_all(source, source)
    if isinstance(source, (str, os.PathLike)):
        return _read_path(os.fspath(source), read_file, check_utf8)
    if hasattr(source, "__arrow_c_stream__"):
        return _from_c_stream(source)
    table = _from_method(source)
    if table is not None:
        return table
    raise InputError(
        f"cannot read observations from a {_type_name(source)}; pass a pandas or polars DataFrame, a pyarrow Table or "
        "RecordBatchReader, an object with __arrow_c_stream__ (e.g. a DuckDB relation), or the path of a CSV, Parquet "
        "or JSON Lines file, a directory of Parquet files or a glob pattern."
    )


def describe_source(source: object) -> str:
    """How error messages name ``source``, with a trailing space (``"the pyarrow Table "``)."""
    if isinstance(source, pd.DataFrame):
        return "the DataFrame "
    if isinstance(source, (str, os.PathLike)):
        return f"{os.fspath(source)!r} "
    return f"the {_type_name(source)} "


def check_source_path(raw: str) -> list[Path]:
    """Check, before any work, that a path names something :func:`load_source` can read; return its files.

    Raises :class:`InputError` naming the problem (a directory without
    Parquet files, a glob matching nothing or files of unknown format).
    Reading the files is left to :func:`load_source`.
    """
    return _resolve_path(raw)[1]


# --------------------------------------------------------------------------- Arrow producers


def _type_name(obj: object) -> str:
    module = type(obj).__module__.split(".")[0]
    name = type(obj).__name__
    return name if module == "builtins" else f"{module} {name}"


def _read_all(reader: pa.RecordBatchReader, source: object) -> pa.Table:
    try:
        return reader.read_all()
    except pa.ArrowException as err:
        raise InputError(f"reading {describe_source(source)}failed: {err}") from err


def _from_c_stream(source: Any) -> pa.Table:
    """Read an object with ``__arrow_c_stream__``; fall back to its ``to_arrow()``-like method when pyarrow cannot."""
    try:
        reader = _stream_reader(source)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError, NotImplementedError) as err:
        # Typically a type this pyarrow does not know (polars and DuckDB export string_view, new in pyarrow 16).
        table = _from_method(source)
        if table is not None:
            return table
        raise InputError(
            f"pyarrow {pa.__version__} cannot import the Arrow stream of the {_type_name(source)} ({err}); "
            "upgrade pyarrow, or convert the data yourself (e.g. to a pandas DataFrame) and pass that."
        ) from err
    return _read_all(reader, source)


def _stream_reader(source: Any) -> pa.RecordBatchReader:
    """A RecordBatchReader over ``source.__arrow_c_stream__()`` on any pyarrow from 13 on."""
    from_stream = getattr(pa.RecordBatchReader, "from_stream", None)
    if from_stream is not None:  # pyarrow >= 15
        return from_stream(source)
    capsule = source.__arrow_c_stream__()
    from_capsule = getattr(pa.RecordBatchReader, "_import_from_c_capsule", None)
    if from_capsule is not None:  # pyarrow 14
        return from_capsule(capsule)
    # pyarrow 13: take the ArrowArrayStream pointer out of the capsule and import it (moving it: the
    # capsule's destructor then finds it released, as the PyCapsule interface specifies).
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    address = get_pointer(capsule, b"arrow_array_stream")
    return pa.RecordBatchReader._import_from_c(address)  # moves the stream out: the capsule may go


def _from_method(source: Any) -> pa.Table | None:
    """``source.to_arrow()`` (polars), ``source.arrow()`` (DuckDB) or ``source.to_arrow_table()``, when one gives Arrow."""
    for name in ("to_arrow", "to_arrow_table", "arrow"):
        method = getattr(source, name, None)
        if not callable(method):
            continue
        try:
            out = method()
        except Exception as err:  # a foreign library's own failure: wrap it
            raise InputError(f"{_type_name(source)}.{name}() failed: {err}") from err
        if isinstance(out, pa.RecordBatchReader):
            return _read_all(out, source)
        if isinstance(out, pa.Table):
            return out
    return None


# --------------------------------------------------------------------------- paths


def _resolve_path(raw: str) -> tuple[str, list[Path]]:
    """What a path names: ``("file", [path])``, ``("parquet", files)`` (a directory or glob of Parquet) or ``("files", files)``."""
    path = Path(raw)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path)))
        parquet = [p for p in files if p.name.lower().endswith(_PARQUET)]
        if not parquet:
            shown = ", ".join(repr(str(p.relative_to(path))) for p in files[:5]) or "nothing"
            raise InputError(f"the directory {raw!r} holds no Parquet file (*.parquet, *.pq) to read; it holds {shown}. "
                             "Pass a file, a directory of Parquet files, or a glob such as 'dir/*.csv'.")
        return "parquet_dir", parquet
    if path.exists() or not (GLOB_CHARS & set(raw)):
        return "file", [path]
    matches = sorted(Path(m) for m in glob.glob(raw, recursive=True) if Path(m).is_file())
    if not matches:
        raise InputError(f"no file matches the pattern {raw!r}.")
    unknown = [str(m) for m in matches if not m.name.lower().endswith(SUPPORTED_SUFFIXES)]
    if unknown:
        raise InputError(f"the pattern {raw!r} matches files whose format cannot be told from the suffix "
                         f"({', '.join(map(repr, unknown[:5]))}); use one of {', '.join(SUPPORTED_SUFFIXES)}.")
    if all(m.name.lower().endswith(_PARQUET) for m in matches):
        return "parquet", matches
    return "files", matches


def _hidden(relative: Path) -> bool:
    """Files pyarrow.dataset skips too: any part of the path starting with ``.`` or ``_`` (``_SUCCESS``, ``.crc``)."""
    return any(part.startswith((".", "_")) for part in relative.parts)


def _read_path(raw: str, read_file: ReadFile, check_utf8: CheckUtf8) -> pa.Table | pd.DataFrame:
    how, files = _resolve_path(raw)
    if how == "file":
        return read_file(files[0])
    if how in ("parquet_dir", "parquet"):
        return check_utf8(_read_parquet_dataset(raw, files, partitioned=how == "parquet_dir"), Path(raw), True)
    return _concat_files(raw, files, read_file)


def _read_parquet_dataset(raw: str, files: list[Path], *, partitioned: bool) -> pa.Table:
    """Read Parquet files as one table with ``pyarrow.dataset`` (a directory's Hive partitions become columns)."""
    import pyarrow.dataset as ds

    try:
        if partitioned:
            dataset = ds.dataset(raw, format="parquet", partitioning="hive")
        else:
            dataset = ds.dataset([str(f) for f in files], format="parquet")
        table = dataset.to_table()
    except (pa.ArrowException, OSError, ValueError) as err:
        raise InputError(f"cannot read the Parquet files of {raw!r} as one table ({err}); the files must share their "
                         "columns and column types.") from err
    if table.num_rows == 0 and table.num_columns == 0:
        raise EmptyInputError(f"{raw!r} holds no rows; expected columns account_id, kind, value[, timestamp].")
    return table


def _concat_files(raw: str, files: list[Path], read_file: ReadFile) -> pa.Table | pd.DataFrame:
    """Read each file matched by a glob and stack them; the files must have the same columns."""
    parts = [read_file(f) for f in files]
    if all(isinstance(p, pa.Table) for p in parts):
        tables: list[pa.Table] = [p for p in parts if isinstance(p, pa.Table)]
        first = tables[0].schema
        for f, t in zip(files, tables):
            if t.schema.names != first.names:
                raise InputError(f"the files matched by {raw!r} have different columns: {str(files[0])!r} has "
                                 f"{first.names}, {str(f)!r} has {t.schema.names}; give files with the same header.")
        try:
            return pa.concat_tables([t.cast(first) if t.schema != first else t for t in tables])
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass  # e.g. JSON Lines whose inferred types differ between files: stack them as Python objects below
    frames = [p.to_pandas(integer_object_nulls=True) if isinstance(p, pa.Table) else p for p in parts]
    names = [list(map(str, f.columns)) for f in frames]
    for f, n in zip(files, names):
        if n != names[0]:
            raise InputError(f"the files matched by {raw!r} have different columns: {str(files[0])!r} has "
                             f"{names[0]}, {str(f)!r} has {n}; give files with the same header.")
    return pd.concat([f.astype(object) for f in frames], ignore_index=True)
