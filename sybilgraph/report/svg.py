"""Inline SVG drawings for the HTML report: histograms, a timeline, and a cluster's account–value graph.

Everything here is plain Python and numpy (no matplotlib): each function
returns an ``<svg>`` element as a string, every data string escaped with
:func:`esc`, colours given as presentation attributes (never ``style=``, so
the report's Content-Security-Policy needs no ``'unsafe-inline'`` for styles).
Layouts are deterministic: the same input gives the same bytes.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

import numpy as np

from .._write import printable

__all__ = ["esc", "clean", "histogram", "graph_layout", "cluster_graph", "KIND_COLOURS"]

#: Fill colour per evidence kind (accounts are grey); unknown kinds get :data:`OTHER_COLOUR`.
KIND_COLOURS = {
    "prompt_template": "#d62728",
    "device": "#1f77b4",
    "payment": "#2ca02c",
    "ip": "#ff7f0e",
    "ip_prefix": "#ffbb78",
    "email": "#9467bd",
    "email_domain": "#c5b0d5",
}
OTHER_COLOUR = "#8c564b"
ACCOUNT_COLOUR = "#7f7f7f"


def clean(value: object) -> str:
    """Return ``value`` as text safe to encode as UTF-8 and to show: control and bidi characters and lone surrogates escaped.

    Examples
    --------
    >>> clean("a\\u202eb\\ud800")
    'a\\\\u202eb\\\\ud800'
    """
    return printable(str(value)).encode("utf-8", "backslashreplace").decode("utf-8")


def esc(value: object) -> str:
    """Return ``value`` as HTML text or attribute content: :func:`clean`, then ``html.escape(quote=True)``.

    Examples
    --------
    >>> esc('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape(clean(value), quote=True)


def _fmt(x: float) -> str:
    """A number for an SVG attribute: 1 decimal, no exponent."""
    return f"{x:.1f}"


def _tick(x: float) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if float(x).is_integer():
        return f"{int(x)}"
    return f"{x:.2g}"


def histogram(series: Sequence[tuple[str, str, np.ndarray]], edges: np.ndarray, *, title: str, xlabel: str,
              labels: Sequence[str] | None = None, log_y: bool = False, width: int = 460, height: int = 220) -> str:
    """Return an SVG bar chart of counts per bin, one bar per series per bin (overlaid, later series in front).

    Parameters
    ----------
    series : sequence of (name, colour, counts)
        ``counts`` has ``len(edges) - 1`` entries.
    edges : ndarray
        Bin edges (only their number matters for the drawing; ``labels`` name the bins).
    title, xlabel : str
        Caption and axis label (escaped here).
    labels : sequence of str, optional
        A label per bin; default: the left edge of each bin. At most ~8 are drawn.
    log_y : bool, default False
        Draw bar heights on a log1p scale (large ranges of counts).
    """
    n_bins = len(edges) - 1
    left, right, top, bottom = 48, 10, 24, 40
    pw, ph = width - left - right, height - top - bottom
    peak = max([float(np.max(c)) if len(c) else 0.0 for _, _, c in series] + [1.0])
    scale = (lambda v: math.log1p(v) / math.log1p(peak)) if log_y else (lambda v: v / peak)
    bw = pw / max(n_bins, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
             f'<text x="{left}" y="15" font-size="13" font-weight="bold">{esc(title)}</text>',
             f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#333"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>']
    for frac in (0.0, 0.5, 1.0):
        value = (math.expm1(frac * math.log1p(peak)) if log_y else frac * peak)
        y = top + ph - frac * ph
        parts.append(f'<text x="{left - 4}" y="{_fmt(y + 4)}" font-size="10" text-anchor="end">{esc(_tick(round(value)))}</text>')
    for name, colour, counts in series:
        for i, c in enumerate(np.asarray(counts, dtype=float)):
            if c <= 0:
                continue
            h = scale(c) * ph
            label = labels[i] if labels is not None else _tick(float(edges[i]))
            parts.append(f'<rect x="{_fmt(left + i * bw + 0.5)}" y="{_fmt(top + ph - h)}" width="{_fmt(max(bw - 1, 0.5))}" '
                         f'height="{_fmt(h)}" fill="{colour}" fill-opacity="0.85"><title>{esc(name)}: {esc(label)}: '
                         f'{int(c):,}</title></rect>')
    step = max(1, math.ceil(n_bins / 8))
    for i in range(0, n_bins, step):
        label = labels[i] if labels is not None else _tick(float(edges[i]))
        parts.append(f'<text x="{_fmt(left + i * bw + bw / 2)}" y="{top + ph + 13}" font-size="10" '
                     f'text-anchor="middle">{esc(label)}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 6}" font-size="11" text-anchor="middle">{esc(xlabel)}</text>')
    if len(series) > 1:
        x = left + pw - 150
        for k, (name, colour, _) in enumerate(series):
            parts.append(f'<rect x="{x}" y="{top + k * 14}" width="10" height="10" fill="{colour}"/>'
                         f'<text x="{x + 14}" y="{top + 9 + k * 14}" font-size="10">{esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def graph_layout(n: int, edges: np.ndarray, *, seed: int = 0, iterations: int = 60) -> np.ndarray:
    """Return ``(n, 2)`` positions in [0, 1] from a seeded Fruchterman–Reingold force layout (numpy only).

    Deterministic: the same ``n``, ``edges`` (pairs of node indices) and
    ``seed`` give the same positions. Cost O(iterations * n^2): meant for the
    few hundred nodes of one drawn cluster.

    Examples
    --------
    >>> pos = graph_layout(3, np.array([[0, 1], [1, 2]]))
    >>> pos.shape, bool((pos >= 0).all() and (pos <= 1).all())
    ((3, 2), True)
    """
    if n <= 1:
        return np.full((n, 2), 0.5)
    rng = np.random.default_rng(seed)
    z = rng.random(n) + 1j * rng.random(n)  # positions as complex numbers: half the memory traffic of (n, n, 2)
    k2 = 1.0 / n
    k = math.sqrt(k2)
    temp = 0.1
    cool = temp / (iterations + 1)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    for _ in range(iterations):
        delta = z[:, None] - z[None, :]
        d2 = np.maximum(delta.real ** 2 + delta.imag ** 2, 1e-4)
        disp = (delta * (k2 / d2)).sum(1)  # repulsion k^2/d along delta/d
        if len(e):
            d = z[e[:, 0]] - z[e[:, 1]]
            pull = d * (np.abs(d) / k)  # attraction d^2/k along d/|d|
            disp -= np.bincount(e[:, 0], weights=pull.real, minlength=n) + 1j * np.bincount(e[:, 0], weights=pull.imag, minlength=n)
            disp += np.bincount(e[:, 1], weights=pull.real, minlength=n) + 1j * np.bincount(e[:, 1], weights=pull.imag, minlength=n)
        length = np.maximum(np.abs(disp), 1e-9)
        z = z + disp / length * np.minimum(length, temp)
        temp -= cool
    pos = np.column_stack([z.real, z.imag])
    lo, hi = pos.min(0), pos.max(0)
    return (pos - lo) / np.where(hi - lo > 0, hi - lo, 1.0)


def cluster_graph(accounts: Sequence[str], values: Sequence[tuple[str, str, str]], edges: np.ndarray, *,
                  seed: int = 0, size: int = 520, caption: str = "") -> str:
    """Return an SVG drawing of one cluster's bipartite account–value graph.

    Parameters
    ----------
    accounts : sequence of str
        Account ids (drawn as grey circles; ids in the tooltip).
    values : sequence of (kind, value, label)
        Shared values (drawn as squares coloured by kind; ``label`` in the tooltip).
    edges : ndarray of shape (m, 2)
        ``(account index, value index)`` pairs.
    seed : int
        Layout seed.
    caption : str
        Shown under the drawing (escaped).
    """
    n_a = len(accounts)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    pairs = np.column_stack([e[:, 0], e[:, 1] + n_a]) if len(e) else e
    pos = graph_layout(n_a + len(values), pairs, seed=seed)
    pad = 14
    xy = pad + pos * (size - 2 * pad)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{size}" height="{size + 20}" '
             f'viewBox="0 0 {size} {size + 20}" role="img" aria-label="account–value graph">',
             f'<rect x="0" y="0" width="{size}" height="{size}" fill="#fcfcfc" stroke="#ddd"/>']
    for a, v in pairs:
        (x1, y1), (x2, y2) = xy[a], xy[v]
        parts.append(f'<line x1="{_fmt(x1)}" y1="{_fmt(y1)}" x2="{_fmt(x2)}" y2="{_fmt(y2)}" stroke="#bbb" '
                     f'stroke-width="0.6"/>')
    for i, acc in enumerate(accounts):
        x, y = xy[i]
        parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="3.2" fill="{ACCOUNT_COLOUR}"><title>account '
                     f'{esc(acc)}</title></circle>')
    for j, (kind, _, label) in enumerate(values):
        x, y = xy[n_a + j]
        colour = KIND_COLOURS.get(kind, OTHER_COLOUR)
        parts.append(f'<rect x="{_fmt(x - 5)}" y="{_fmt(y - 5)}" width="10" height="10" fill="{colour}" stroke="#333" '
                     f'stroke-width="0.5"><title>{esc(kind)}: {esc(label)}</title></rect>')
    kinds = sorted({k for k, _, _ in values})
    x = 6
    for kind in kinds:
        parts.append(f'<rect x="{x}" y="{size + 6}" width="9" height="9" fill="{KIND_COLOURS.get(kind, OTHER_COLOUR)}"/>'
                     f'<text x="{x + 12}" y="{size + 15}" font-size="10">{esc(kind)}</text>')
        x += 16 + 6 * len(kind)
    parts.append("</svg>")
    if caption:
        return f'<figure>{"".join(parts)}<figcaption>{esc(caption)}</figcaption></figure>'
    return "".join(parts)
