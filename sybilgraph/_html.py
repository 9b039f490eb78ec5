"""Small HTML pieces for the notebook views (``_repr_html_``): every data string is escaped.

Attacker-controlled text (account ids, values, prompt templates, organisation
names) only ever reaches the markup through :func:`text`, which escapes it with
``html.escape(..., quote=True)`` after :func:`~sybilgraph._write.printable` has
made control and bidi-override characters visible.
"""

from __future__ import annotations

import html
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ._write import printable

__all__ = ["text", "cell", "table", "frame_table"]


def text(value: object) -> str:
    """Return ``value`` as escaped HTML text (control characters shown escaped, quotes escaped)."""
    return html.escape(printable(value), quote=True)


def cell(value: Any, float_format: str = "{:.3g}") -> str:
    """Return one table cell's escaped text: floats shortened, missing values empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, (float, np.floating)):
        return text(float_format.format(float(value)))
    return text(value)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, caption: str | None = None) -> str:
    """Return an HTML table; every header and cell is escaped."""
    head = "".join(f"<th>{text(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    cap = f"<caption>{text(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def frame_table(frame: pd.DataFrame, *, max_rows: int = 20, caption: str | None = None) -> str:
    """Return the first ``max_rows`` rows of ``frame`` as an escaped HTML table, saying how many were left out."""
    shown = frame.head(max_rows)
    out = table([str(c) for c in shown.columns], shown.itertuples(index=False, name=None), caption=caption)
    if len(frame) > max_rows:
        out += f"<p>{len(frame) - max_rows:,} more rows not shown.</p>"
    return out
