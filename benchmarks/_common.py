"""What the benchmark scripts share: ``--set`` parsing, version line, markdown tables, JSON output.

Not a library: a few lines every script would otherwise copy. Scripts run as
``python benchmarks/bench_x.py``, so this directory is first on ``sys.path``
and ``import _common`` finds this file. Note that the script's directory, not
the current directory, comes first there: to measure a worktree's copy of
sybilgraph rather than the installed one, run with ``PYTHONPATH=.`` from the
worktree root. :func:`versions` prints which copy ran.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import platform
from collections.abc import Iterable, Sequence
from typing import Any

import sybilgraph as sg


def add_common_options(p: argparse.ArgumentParser) -> None:
    """Add ``--set NAME=VALUE`` (repeatable), ``--json PATH`` and ``--quick``."""
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a Settings field (repeatable), e.g. --set objective=cpm --set resolution=0.25")
    p.add_argument("--json", metavar="PATH", help="write the settings, options and rows as JSON here")
    p.add_argument("--quick", action="store_true", help="small inputs for iterating (about a minute on 2 cores)")


def parse_settings(items: Iterable[str]) -> dict[str, Any]:
    """``["objective=cpm", "resolution=0.25"]`` -> ``{"objective": "cpm", "resolution": 0.25}``.

    The same rule as ``bench_quality.py``: a value that starts like a JSON number,
    list, object or boolean is parsed as JSON, anything else stays a string. The
    result is checked by building a :class:`sybilgraph.Settings` from it, so a
    misspelt name fails before any data is generated.
    """
    overrides: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--set takes NAME=VALUE, got {item!r}")
        overrides[name] = json.loads(value) if value[:1] in "-0123456789[{tf" else value
    try:
        sg.Settings(**overrides)
    except TypeError as err:
        raise SystemExit(f"--set names an unknown Settings field: {err}") from err
    return overrides


def versions(*extra: str) -> dict[str, str]:
    """Versions of python and the libraries the run depends on, and where sybilgraph was imported from."""
    out = {"sybilgraph": sg.__version__, "sybilgraph_path": str(sg.__file__), "python": platform.python_version(),
           "machine": platform.machine()}
    for name in ("numpy", "pandas", "pyarrow", "igraph", "leidenalg", "scipy", *extra):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        out[name] = str(getattr(module, "__version__", "?"))
    return out


def version_line(info: dict[str, str]) -> str:
    """One line: ``sybilgraph 0.1.0 (/path), python 3.11.2, numpy ...``."""
    head = f"sybilgraph {info['sybilgraph']} ({info['sybilgraph_path']})"
    rest = ", ".join(f"{k} {v}" for k, v in info.items() if k not in ("sybilgraph", "sybilgraph_path"))
    return f"{head}, {rest}"


def _cell(value: Any, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if value == int(value) and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:.{digits}f}"
    return str(value).replace("|", "\\|")


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, digits: int = 4,
                   column_digits: dict[str, int] | None = None) -> str:
    """A GitHub markdown table (as in ``docs/quality.md``); missing keys give empty cells, NaN gives —.

    Floats get ``digits`` decimals, or ``column_digits[column]``; columns named
    ``seconds`` or ``sec_*`` get 1 unless told otherwise.
    """
    own = dict(column_digits or {})
    for c in columns:
        if c == "seconds" or c.startswith("sec_") or c.endswith("_seconds"):
            own.setdefault(c, 1)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c), own.get(c, digits)) for c in columns) + " |")
    return "\n".join(lines)


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented JSON (numpy scalars become floats) when ``path`` is given."""
    if path:
        with open(path, "w") as fh:
            json.dump(payload, fh, indent=2, default=float)
