"""Safe output: files an attacker's strings cannot arm, written whole or not at all, and text a terminal can show.

Account ids, values and organisation names come from attackers; the files
sybilgraph writes go to spreadsheets, ticket systems and other code. This
module is the one place that turns a table into a file and a string into
something printed.

CSV cells (OWASP "CSV injection")
    A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return — and is not a plain number such as ``-5`` or
    ``+1.5e3`` — is written with a leading single quote, so a spreadsheet
    shows it as text instead of running it as a formula. A cell that already
    starts with ``'`` gets one too, which makes the escape injective: the
    original is recovered by removing exactly one leading ``'`` from every
    cell that starts with one (:func:`unescape_text`, used by
    :func:`sybilgraph.read_table`). Every text field is quoted, so a value
    holding a CR or LF stays one field of one row. Column names are treated
    like cells. Parquet files and DataFrames stay raw.

Atomic files
    :func:`staged_writes` writes each output to a hidden temporary file
    beside its target and renames all of them together at the end, with
    SIGINT/SIGTERM deferred during the renames; temporaries are removed on
    any exception, KeyboardInterrupt included. An interrupted run leaves the
    previous files (or none), never a half-written one or a mix of new and
    old. (SIGKILL can leave a hidden ``.NAME.*.tmp`` behind, never a
    complete-looking NAME.) For tests only, the environment variable
    ``SYBILGRAPH_TEST_WRITE_DELAY`` (seconds) makes the writer sleep after
    each temporary is complete, so a test can kill it at a known moment.

Terminal
    :func:`printable` escapes control characters (C0, DEL, C1), bidirectional
    overrides and isolates, and line/paragraph separators as ``\\xNN`` or
    ``\\uNNNN``, so a value cannot move the cursor, recolour or retitle the
    terminal, reorder what is shown, or forge an extra line.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import re
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._errors import InputError

__all__ = [
    "CSV_SUFFIXES",
    "PARQUET_SUFFIXES",
    "OUTPUT_SUFFIXES",
    "output_format",
    "neutralise_cell",
    "unescape_cell",
    "neutralise_text",
    "unescape_text",
    "csv_table",
    "staged_writes",
    "Staging",
    "check_output_paths",
    "printable",
]

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
OUTPUT_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES

#: First characters that make a spreadsheet read a cell as a formula (OWASP), plus the escape mark itself.
_RISKY_START = r"^[=+\-@\t\r']"
#: A plain decimal number, which spreadsheets read as a number and never as a formula.
_NUMBER_BODY = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_PLAIN_NUMBER = f"^{_NUMBER_BODY}$"
_NUMBER_RE = re.compile(_NUMBER_BODY)
_RISKY_CHARS = frozenset("=+-@\t\r'")
_ESCAPE = "'"
_DELAY_ENV = "SYBILGRAPH_TEST_WRITE_DELAY"


# --------------------------------------------------------------------------- formats


def output_format(path: str | os.PathLike[str]) -> str:
    """Return ``"csv"``, ``"csv.gz"`` or ``"parquet"`` for an output path, by its suffix.

    Raises
    ------
    InputError
        The name ends in none of ``.csv``, ``.csv.gz``, ``.parquet``, ``.pq``.
    """
    name = Path(os.fspath(path)).name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(".csv.gz"):
        return "csv.gz"
    if name.endswith(".csv"):
        return "csv"
    raise InputError(f"cannot tell the output format of {os.fspath(path)!r}; end the name in .csv, .csv.gz, .parquet or .pq.")


# --------------------------------------------------------------------------- CSV cells


def neutralise_cell(text: str) -> str:
    """Return ``text`` as it is written into a CSV cell (see the module docstring).

    Examples
    --------
    >>> [neutralise_cell(t) for t in ["=1+1", "-5", "-x", "'q", "a=b", "+1.5e3"]]
    ["'=1+1", '-5', "'-x", "''q", 'a=b', '+1.5e3']
    """
    if text[:1] in _RISKY_CHARS and not _NUMBER_RE.fullmatch(text):
        return _ESCAPE + text
    return text


def unescape_cell(text: str) -> str:
    """Invert :func:`neutralise_cell`: remove one leading ``'``, if any.

    Examples
    --------
    >>> unescape_cell("''q"), unescape_cell("'=1+1"), unescape_cell("-5")
    ("'q", '=1+1', '-5')
    """
    return text[1:] if text.startswith(_ESCAPE) else text


def neutralise_text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`neutralise_cell` over a string array (nulls stay null)."""
    risky = pc.fill_null(pc.match_substring_regex(values, _RISKY_START), False)
    if not pc.any(risky).as_py():
        return values
    number = pc.fill_null(pc.match_substring_regex(values, _PLAIN_NUMBER), False)
    mark = pc.and_(risky, pc.invert(number))
    kind = values.type
    escaped = pc.binary_join_element_wise(pa.scalar(_ESCAPE, kind), values, pa.scalar("", kind))
    return pc.if_else(mark, escaped, values)


def unescape_text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`unescape_cell` over a string array (nulls stay null)."""
    marked = pc.fill_null(pc.starts_with(values, _ESCAPE), False)
    if not pc.any(marked).as_py():
        return values
    return pc.if_else(marked, pc.utf8_slice_codeunits(values, start=1), values)


def csv_table(frame: pd.DataFrame) -> pa.Table:
    """Return ``frame`` as the Arrow table that is written as CSV: text neutralised, booleans as True/False.

    Numbers stay numbers (written unquoted); every other column becomes text
    (quoted when written) with its cells neutralised; column names too.
    """
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for i in range(frame.shape[1]):
        arrays.append(_csv_column(frame.iloc[:, i]))
    names = [neutralise_cell(str(c)) for c in frame.columns]
    if len(arrays) == 1 and not pa.types.is_string(arrays[0].type) and not pa.types.is_large_string(arrays[0].type):
        # One numeric column: an empty cell would be a blank line, which readers skip. Write it as text.
        arrays[0] = pc.fill_null(pc.cast(arrays[0], pa.large_string()), "")
    return pa.Table.from_arrays(arrays, names=names)


def _csv_column(column: pd.Series) -> pa.Array | pa.ChunkedArray:
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        arr = pa.array(column, type=pa.bool_(), from_pandas=True)
        text = pc.if_else(arr, pa.scalar("True", pa.large_string()), pa.scalar("False", pa.large_string()))
        return text
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        try:
            return pa.array(column, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass  # e.g. complex numbers: written as text
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        try:
            return neutralise_text(pa.array(column, type=pa.large_string(), from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # an object column holding more than strings
    if isinstance(dtype, pd.CategoricalDtype):
        column = column.astype(object)
    elif pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        column = column.astype(object).where(column.notna(), None)
    texts = [None if _missing(v) else str(v) for v in column.to_numpy(dtype=object)]
    return neutralise_text(pa.array(texts, type=pa.large_string()))


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


# --------------------------------------------------------------------------- paths


def check_output_paths(outputs: Iterable[tuple[str, str | os.PathLike[str] | None]],
                       inputs: Iterable[tuple[str, str | os.PathLike[str] | None]] = (),
                       *, suffixes: bool = True) -> list[Path]:
    """Check output paths before any work: format, directory, and no clash with an input or another output.

    Parameters
    ----------
    outputs : iterable of (label, path)
        The outputs, each with the option that named it (``"-o"``, ``"--clusters"``); ``None`` paths are skipped.
    inputs : iterable of (label, path)
        Files the command reads; an output may not be one of them (symlinks and hard links included).
    suffixes : bool, default True
        Also require a suffix :func:`output_format` knows.

    Returns
    -------
    list of Path
        The resolved target of each given output, in order.

    Raises
    ------
    InputError
        The first problem found, naming the option, the path and the fix.
    """
    given_inputs = [(label, Path(os.fspath(p))) for label, p in inputs if p is not None]
    seen: list[tuple[str, Path, Path]] = []
    resolved: list[Path] = []
    for label, raw in outputs:
        if raw is None:
            continue
        path = Path(os.fspath(raw))
        if suffixes:
            try:
                output_format(path)
            except InputError as err:
                raise InputError(f"{label}: {err}") from None
        target = Path(os.path.realpath(path))
        if target.is_dir():
            raise InputError(f"{label} {str(path)!r} is a directory; give a file name inside it.")
        parent = target.parent
        if not parent.is_dir():
            raise InputError(f"{label} {str(path)!r}: the directory {str(parent)!r} does not exist; create it first.")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"{label} {str(path)!r}: the directory {str(parent)!r} is not writable.")
        for in_label, in_path in given_inputs:
            if _same(target, in_path):
                raise InputError(f"{label} {str(path)!r} is the {in_label} file; writing there would destroy the input. "
                                 "Choose another output name.")
        for other_label, other_raw, other_target in seen:
            if _same(target, other_target):
                raise InputError(f"{label} {str(path)!r} and {other_label} {str(other_raw)!r} name the same file; "
                                 "give each output its own name.")
        seen.append((label, path, target))
        resolved.append(target)
    return resolved


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


# --------------------------------------------------------------------------- atomic writes


class Staging:
    """Outputs written to temporaries beside their targets, renamed together by :meth:`commit`."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def table(self, frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
        """Stage ``frame`` as CSV (neutralised, see the module docstring) or Parquet (raw), by suffix."""
        fmt = output_format(path)
        if fmt == "parquet":
            return self._stage(path, lambda fh: frame.to_parquet(fh, index=False))
        table = csv_table(frame)
        return self._stage(path, lambda fh: _write_csv(table, fh, gz=fmt == "csv.gz"))

    def arrow_csv(self, table: pa.Table, path: str | os.PathLike[str]) -> Path:
        """Stage an Arrow table as CSV, its text columns neutralised (numbers untouched)."""
        columns = [neutralise_text(c) if pa.types.is_string(c.type) or pa.types.is_large_string(c.type) else c
                   for c in table.columns]
        safe = pa.Table.from_arrays(columns, names=[neutralise_cell(n) for n in table.column_names])
        gz = output_format(path) == "csv.gz"
        return self._stage(path, lambda fh: _write_csv(safe, fh, gz=gz))

    def parquet(self, table: pa.Table, path: str | os.PathLike[str]) -> Path:
        """Stage an Arrow table as Parquet (raw)."""
        import pyarrow.parquet as pq

        return self._stage(path, lambda fh: pq.write_table(table, fh))

    def text(self, text: str, path: str | os.PathLike[str]) -> Path:
        """Stage a UTF-8 text file."""
        data = text.encode("utf-8")
        return self._stage(path, lambda fh: fh.write(data))

    def _stage(self, path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
        target = Path(os.path.realpath(os.fspath(path)))
        tmp = _create_temporary(target)
        self._pending.append((tmp, target))
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        delay = os.environ.get(_DELAY_ENV)
        if delay:
            time.sleep(float(delay))
        return target

    def commit(self) -> None:
        """Rename every staged temporary onto its target, with SIGINT/SIGTERM held back meanwhile."""
        with _signals_held():
            dirs = set()
            while self._pending:
                tmp, target = self._pending[0]
                os.replace(tmp, target)
                self._pending.pop(0)
                dirs.add(target.parent)
            for d in sorted(dirs):
                _fsync_dir(d)

    def discard(self) -> None:
        """Remove every temporary not yet renamed."""
        with _signals_held():
            while self._pending:
                tmp, _ = self._pending.pop()
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()


@contextlib.contextmanager
def staged_writes() -> Iterator[Staging]:
    """Stage outputs inside the block; rename them all at its end, or remove them all if it raises.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> d = tempfile.mkdtemp()
    >>> with staged_writes() as out:
    ...     _ = out.table(pd.DataFrame({"a": ["=1"]}), f"{d}/a.csv")
    ...     _ = out.text("{}", f"{d}/b.json")
    >>> open(f"{d}/a.csv").read()
    '"a"\\n"\\'=1"\\n'
    """
    staging = Staging()
    try:
        yield staging
        staging.commit()
    finally:
        staging.discard()


def _create_temporary(target: Path) -> Path:
    """Create an empty, exclusive, hidden temporary beside ``target`` (mode 0666 less the umask, like open())."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"cannot create a temporary file beside {str(target)!r}")  # pragma: no cover


def _write_csv(table: pa.Table, fh: IO[bytes], *, gz: bool) -> None:
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    if gz:
        # mtime=0 and no file name in the header: the same table gives the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as zipped:
            pacsv.write_csv(table, zipped, write_options=options)
    else:
        pacsv.write_csv(table, fh, write_options=options)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":  # pragma: no cover
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Defer SIGINT and SIGTERM to the end of the block (main thread only; elsewhere a no-op).

    Python runs signal handlers in the main thread whichever thread the
    signal reached, so swapping the handlers for a recorder defers them even
    while library threads run; at the end the previous handlers are put back
    and each signal that arrived is handed to its handler (or, for the
    default action, sent again).
    """
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        yield
        return
    caught: list[int] = []

    def _record(signum: int, frame: object) -> None:
        caught.append(signum)

    previous: dict[int, Any] = {}
    for held in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[int(held)] = signal.signal(held, _record)
        except (ValueError, OSError):  # pragma: no cover - not settable here
            continue
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        for number in dict.fromkeys(caught):
            handler = previous.get(number)
            if callable(handler):
                handler(number, None)
            elif handler in (None, signal.SIG_DFL):
                os.kill(os.getpid(), number)


# --------------------------------------------------------------------------- terminal

_UNSAFE = (
    [c for c in range(0x00, 0x20)] + [0x7F] + list(range(0x80, 0xA0))  # C0, DEL, C1
    + [0x061C, 0x200E, 0x200F] + list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))  # bidi marks, overrides, isolates
    + [0x2028, 0x2029]  # line and paragraph separators
)
_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _UNSAFE}
_ESCAPES_KEEP_NEWLINE = {c: e for c, e in _ESCAPES.items() if c != 0x0A}


def printable(text: object, *, lines: bool = False) -> str:
    """Return ``str(text)`` safe to print: control, bidi-override and separator characters escaped.

    Parameters
    ----------
    text : object
        What to print.
    lines : bool, default False
        Keep ``\\n`` (for text made of several lines the program built itself).

    Examples
    --------
    >>> printable("ok\\x1b[2Jgone\\u202eevil\\nforged")
    'ok\\\\x1b[2Jgone\\\\u202eevil\\\\x0aforged'
    """
    return str(text).translate(_ESCAPES_KEEP_NEWLINE if lines else _ESCAPES)
