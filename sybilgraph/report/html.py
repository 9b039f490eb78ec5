"""The HTML report: one self-contained file built from a :class:`~sybilgraph.ClusterResult`.

Security model (see ``docs/report.md``)
---------------------------------------
Account ids, values and prompts come from attackers, and the report is
opened in a browser by an investigator. So:

* every data string is written through :func:`~sybilgraph.report.svg.esc`
  (control and bidi characters shown escaped, then ``html.escape`` with
  ``quote=True``), in text and in attributes alike; no URL is ever built
  from data (cluster links are ``#cluster-<int>``);
* the data the table script needs is JSON inside
  ``<script type="application/json">`` with ``<``, ``>``, ``&``, U+2028 and
  U+2029 written as JSON escapes (``\\u003c``), read with ``textContent`` and
  ``JSON.parse``; the script creates cells with ``textContent`` only (never
  ``innerHTML``) and attaches handlers with ``addEventListener`` (no inline
  ``on...=`` attribute anywhere);
* a Content-Security-Policy ``<meta>`` forbids everything
  (``default-src 'none'``) but the one inline script and the one inline
  style, each allowed by its SHA-256 hash, and ``data:`` images; so markup
  smuggled past the escaping still could not run a script or load anything.

The file needs nothing from the network: CSS, JavaScript and the SVG
drawings are inline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from .._errors import ParameterError
from . import svg
from .subgraph import cluster_subgraph, template_texts
from .svg import clean, esc

if TYPE_CHECKING:  # pragma: no cover
    from ..attribute import Attribution
    from ..results import ClusterResult

__all__ = ["render_report", "json_for_script"]

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1200px;padding:0 18px 40px;color:#222}
h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}#clusters th{cursor:pointer;user-select:none}
#clusters th[aria-sort=ascending]::after{content:" \\25B2"}#clusters th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.sus{color:#b00;font-weight:bold}.muted{color:#666}.small{font-size:12px}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:2px 14px}dl.summary dt{color:#555}dl.summary dd{margin:0;font-weight:600}
.plots{display:flex;flex-wrap:wrap;gap:12px}
.controls{margin:6px 0;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
.members code{display:inline-block;margin:0 6px 2px 0;background:#f6f6f6;padding:0 3px;word-break:break-all}
.slot{background:#ffe9a8;border-radius:2px}
.tpl{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word}
section.cluster{border-top:2px solid #eee;margin-top:18px}
figure{margin:8px 0}figcaption{font-size:12px;color:#555}
.evcell{min-width:200px;max-width:480px;overflow-wrap:anywhere}
#clusters{width:100%}
"""

_SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sg-data").textContent);
  var cols = data.columns, rows = data.rows, linked = {};
  data.linked.forEach(function (c) { linked[c] = true; });
  var table = document.getElementById("clusters");
  var thead = table.querySelector("thead"), tbody = table.querySelector("tbody");
  var filterBox = document.getElementById("filter"), susBox = document.getElementById("suspicious-only");
  var status = document.getElementById("table-status");
  var prev = document.getElementById("prev"), next = document.getElementById("next");
  var pageSize = data.page_size, page = 0, sortKey = -1, sortDir = 1, view = rows.slice();
  var susIndex = cols.findIndex(function (c) { return c.key === "suspicious"; });
  var lower = rows.map(function (r) {
    return r.map(function (v) { return v === null ? "" : String(v); }).join("\\u0001").toLowerCase();
  });
  var order = rows.map(function (_, i) { return i; });
  var headerRow = document.createElement("tr");
  cols.forEach(function (c, i) {
    var th = document.createElement("th");
    th.textContent = c.label;
    th.title = c.help || "";
    th.setAttribute("data-key", c.key);
    th.setAttribute("scope", "col");
    th.addEventListener("click", function () { sortBy(i); });
    headerRow.appendChild(th);
  });
  thead.appendChild(headerRow);
  function cmp(a, b) {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    return a < b ? -1 : 1;
  }
  function sortBy(i) {
    sortDir = sortKey === i ? -sortDir : (cols[i].type === "text" ? 1 : -1);
    sortKey = i;
    order.sort(function (x, y) {
      var c = cmp(rows[x][i], rows[y][i]);
      if (c !== 0) return (rows[x][i] === null || rows[y][i] === null) ? c : c * sortDir;
      return x - y;
    });
    Array.prototype.forEach.call(headerRow.children, function (th, j) {
      if (j === i) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    page = 0;
    apply();
  }
  function apply() {
    var needle = filterBox.value.trim().toLowerCase(), sus = susBox.checked;
    view = order.filter(function (i) {
      if (sus && !rows[i][susIndex]) return false;
      return needle === "" || lower[i].indexOf(needle) >= 0;
    });
    render();
  }
  function cell(c, v) {
    var td = document.createElement("td");
    if (c.type === "num" || c.type === "int") td.className = "num";
    if (v === null) { td.textContent = ""; return td; }
    if (c.key === "cluster_id" && linked[v]) {
      var a = document.createElement("a");
      a.setAttribute("href", "#cluster-" + Number(v));
      a.textContent = String(v);
      td.appendChild(a);
      return td;
    }
    if (c.type === "bool") { td.textContent = v ? "yes" : ""; if (v) td.className = "sus"; return td; }
    if (c.type === "num") { td.textContent = Number(v).toFixed(c.digits); return td; }
    if (c.type === "int") { td.textContent = Number(v).toLocaleString("en-US"); return td; }
    td.textContent = String(v);
    if (c.key === "top_evidence") td.className = "evcell";
    return td;
  }
  function render() {
    var pages = Math.max(1, Math.ceil(view.length / pageSize));
    if (page >= pages) page = pages - 1;
    var start = page * pageSize, stop = Math.min(view.length, start + pageSize);
    var frag = document.createDocumentFragment();
    for (var k = start; k < stop; k++) {
      var r = rows[view[k]], tr = document.createElement("tr");
      for (var j = 0; j < cols.length; j++) tr.appendChild(cell(cols[j], r[j]));
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    status.textContent = view.length === 0 ? "no cluster matches" :
      "showing " + (start + 1).toLocaleString("en-US") + "\\u2013" + stop.toLocaleString("en-US") + " of " +
      view.length.toLocaleString("en-US") + " clusters" +
      (view.length < rows.length ? " (filtered from " + rows.length.toLocaleString("en-US") + ")" : "") +
      ", page " + (page + 1) + " of " + pages;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }
  filterBox.addEventListener("input", function () { page = 0; apply(); });
  susBox.addEventListener("change", function () { page = 0; apply(); });
  prev.addEventListener("click", function () { page -= 1; render(); });
  next.addEventListener("click", function () { page += 1; render(); });
  apply();
  document.documentElement.setAttribute("data-ready", "1");
})();
"""

#: Columns of the cluster table: (key, label, type, digits, help).
_COLUMNS: list[tuple[str, str, str, int, str]] = [
    ("cluster_id", "cluster", "int", 0, "cluster id (largest first); a link when the cluster has a section below"),
    ("size", "size", "int", 0, "accounts in the cluster"),
    ("score", "score", "num", 3, "suspicion score in [0, 1]"),
    ("suspicious", "suspicious", "bool", 0, "flagged as an operator cluster"),
    ("cohesion", "cohesion", "num", 2, "share of links that stay inside the cluster"),
    ("shared_values", "shared values", "int", 0, "values shared by two or more members"),
    ("templated", "templated", "num", 2, "share of members sending a shared prompt template"),
    ("tooling", "tooling", "num", 2, "share of members on a shared device"),
    ("payment", "payment", "num", 2, "share of members on a shared payment instrument"),
    ("burst", "burst", "num", 2, "share of members created in a burst"),
    ("periphery", "periphery", "int", 0, "accounts that touched the cluster too weakly to join it"),
]


def json_for_script(value: Any) -> str:
    r"""Return ``value`` as JSON safe inside ``<script type="application/json">``.

    ``<``, ``>``, ``&``, U+2028 and U+2029 are written as JSON escapes (``\u003c``), so
    no text can close the element or open a comment; ``JSON.parse`` gives the
    original strings back.

    Examples
    --------
    >>> json_for_script(["</script><b>&"])
    '["\\u003c/script\\u003e\\u003cb\\u003e\\u0026"]'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                       ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _check(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"The {name!r} parameter of render_report must be an int >= {minimum}. Got {value!r} instead.")
    return int(value)


def _num(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def render_report(
    result: "ClusterResult",
    *,
    attribution: "Attribution | None" = None,
    top: int = 20,
    max_members: int = 200,
    max_evidence: int = 25,
    graph_accounts: int = 120,
    graph_values: int = 40,
    page_size: int = 100,
    title: str = "sybilgraph report",
) -> str:
    """Return the HTML report of ``result`` as one self-contained page (see the module docstring).

    Parameters
    ----------
    result : ClusterResult
        Output of :func:`sybilgraph.cluster_accounts`.
    attribution : Attribution, optional
        Output of :func:`sybilgraph.attribute.attribute`: adds the organisations
        (and exchanges, when given there) to the summary, an organisation column
        to the cluster table, and the attribution of each cluster to its section.
    top : int, default 20
        Clusters of two or more accounts that get a section of their own, most
        suspicious first (score, then size); the report says how many are left out. ``>= 0``.
    max_members : int, default 200
        Member ids listed per cluster section (the rest are counted). ``>= 1``.
    max_evidence : int, default 25
        Evidence rows listed per cluster section (the rest are counted). ``>= 1``.
    graph_accounts, graph_values : int, default 120 and 40
        Nodes drawn in a cluster's graph: the accounts with most drawn links
        and the values with most members (the caption says what was left out). ``>= 1``.
    page_size : int, default 100
        Rows of the cluster table shown at once (the table pages, so a report
        of 100k accounts stays responsive). ``>= 1``.
    title : str, default "sybilgraph report"
        Page title and heading (escaped).

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    ParameterError
        A count out of range.
    """
    top = _check("top", top, 0)
    max_members = _check("max_members", max_members, 1)
    max_evidence = _check("max_evidence", max_evidence, 1)
    graph_accounts = _check("graph_accounts", graph_accounts, 1)
    graph_values = _check("graph_values", graph_values, 1)
    page_size = _check("page_size", page_size, 1)

    groups = result.groups()
    detailed = groups.head(top)
    template_text = template_texts(result)
    org_of: dict[int, tuple[str | None, float | None, str]] = {}
    if attribution is not None:
        r: Any
        for r in attribution.clusters.itertuples(index=False):
            org = None if pd.isna(r.organisation) else clean(r.organisation)
            org_of[int(r.cluster_id)] = (org, _num(r.confidence), clean(r.evidence if isinstance(r.evidence, str) else ""))

    body: list[str] = [f"<h1>{esc(title)}</h1>",
                       f'<p class="muted small">sybilgraph {esc(_version())}; objective {esc(result.settings.objective)}, '
                       f"resolution {esc(f'{result.settings.resolution:g}')}, seed {esc(result.settings.seed)}</p>"]
    body.append(_summary(result, groups, attribution))
    body.append(_plots(result, groups))
    body.append(_table_section(groups))
    body.append(f'<h2 id="details">The {len(detailed):,} most suspicious clusters</h2>')
    omitted = len(groups) - len(detailed)
    body.append(f'<p id="omitted">{len(detailed):,} of {len(groups):,} clusters of two or more accounts are shown '
                f"below, most suspicious first; {omitted:,} {'is' if omitted == 1 else 'are'} omitted "
                f"(raise <code>top</code> / <code>--top</code> to show more; every cluster is in the table above).</p>")
    body.extend(_cluster_sections(result, detailed, template_text, org_of, max_members=max_members,
                                  max_evidence=max_evidence, graph_accounts=graph_accounts, graph_values=graph_values))
    body.append(_notes(result, attribution))

    rows, columns = _table_data(groups, org_of, attribution is not None)
    payload = json_for_script({"columns": columns, "rows": rows, "linked": [int(c) for c in detailed["cluster_id"]],
                               "page_size": page_size})
    csp = (f"default-src 'none'; script-src {_csp_hash(_SCRIPT)}; style-src {_csp_hash(_STYLE)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + f'\n<script type="application/json" id="sg-data">{payload}</script>'
        + f"\n<script>{_SCRIPT}</script>\n</body></html>\n"
    )


def _version() -> str:
    from .. import __version__

    return __version__


def _slot_pattern() -> re.Pattern[str]:
    from ..templates import PLACEHOLDERS

    names = sorted(p.strip("<>") for p in PLACEHOLDERS)
    return re.compile(r"&lt;(" + "|".join(re.escape(n) for n in names) + r")&gt;")


_SLOT = _slot_pattern()


def _template_html(text: str) -> str:
    """A template's text, escaped, with its slots (``<num>``, ``<id>``, ... of ``templates.PLACEHOLDERS``) marked."""
    return _SLOT.sub(r'<span class="slot">&lt;\1&gt;</span>', esc(text))


def _summary(result: "ClusterResult", groups: pd.DataFrame, attribution: "Attribution | None") -> str:
    a = result.assignments
    in_groups = int(groups["size"].sum())
    items = [
        ("accounts", f"{result.n_accounts:,}"),
        ("observations (after normalisation)", f"{len(result.observations):,}"),
        ("clusters of two or more accounts", f"{len(groups):,}"),
        ("accounts in those clusters", f"{in_groups:,}"),
        ("suspicious clusters", f"{int(groups['suspicious'].sum()):,} "
                                f"({int(groups.loc[groups['suspicious'], 'size'].sum()):,} accounts)"),
        ("accounts that touched a cluster too weakly to join it", f"{int(a['periphery_of'].notna().sum()):,}"),
    ]
    if result.templates is not None:
        items.append(("prompt templates found", f"{len(result.templates):,}"))
    parts = ['<h2 id="summary">Summary</h2><dl class="summary">']
    parts += [f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items]
    if attribution is not None:
        orgs = attribution.organisations
        attributed = int(orgs["accounts"].sum()) if "accounts" in orgs else 0
        parts.append(f"<dt>organisations named by the indicators</dt><dd>{len(orgs):,} "
                     f"({attributed:,} accounts attributed)</dd>")
        if "exchanges" in orgs:
            total = _num(orgs["exchanges"].sum())
            parts.append(f"<dt>exchanges of attributed accounts</dt><dd>{esc(f'{total:,.0f}' if total is not None else '')}</dd>")
    parts.append("</dl>")
    if attribution is not None and len(attribution.organisations):
        parts.append(_organisations(attribution.organisations))
    return "".join(parts)


def _organisations(orgs: pd.DataFrame) -> str:
    cols = [c for c in ("organisation", "accounts", "clusters", "single_accounts", "matched_accounts", "indicators",
                        "unmatched_indicators", "ignored_indicators", "exchanges", "share_of_traffic") if c in orgs]
    head = "".join(f'<th scope="col">{esc(c.replace("_", " "))}</th>' for c in cols)
    rows = []
    for r in orgs[cols].itertuples(index=False):
        cells = []
        for c, v in zip(cols, r):
            if c == "organisation":
                cells.append(f"<td>{esc(v)}</td>")
            elif c == "share_of_traffic":
                f = _num(v)
                cells.append(f'<td class="num">{esc(f"{f:.1%}" if f is not None else "")}</td>')
            else:
                f = _num(v)
                cells.append(f'<td class="num">{esc(f"{f:,.0f}" if f is not None else "")}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<h3 id="organisations">Organisations</h3><table id="organisations-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _plots(result: "ClusterResult", groups: pd.DataFrame) -> str:
    parts = ['<h2 id="plots">Plots</h2><div class="plots">']
    sizes = groups["size"].to_numpy(dtype=np.int64)
    if len(sizes):
        hi = int(max(2, math.ceil(math.log2(max(int(sizes.max()), 2))) + 1))
        edges = np.array([2] + [2 ** k + 1 for k in range(1, hi)], dtype=np.int64)
        edges = edges[edges <= max(int(sizes.max()) + 1, 3)]
        edges = np.append(edges, int(sizes.max()) + 1)
        edges = np.unique(edges)
        counts = np.histogram(sizes, bins=edges)[0]
        labels = [f"{lo}" if hi_ - lo == 1 else f"{lo}–{hi_ - 1}" for lo, hi_ in zip(edges[:-1], edges[1:])]
        parts.append(svg.histogram([("clusters", "#4c72b0", counts)], edges.astype(float), title="Cluster sizes",
                                   xlabel="accounts per cluster (clusters of 2+)", labels=labels, log_y=True))
        bins = np.linspace(0.0, 1.0, 21)
        scores = groups["score"].to_numpy(dtype=float)
        sus = groups["suspicious"].to_numpy(dtype=bool)
        parts.append(svg.histogram([("all clusters of 2+", "#9aa9c4", np.histogram(scores, bins=bins)[0]),
                                    ("suspicious", "#c44e52", np.histogram(scores[sus], bins=bins)[0])],
                                   bins, title="Suspicion scores", xlabel="score", log_y=True))
    timeline = _timeline(result, groups)
    if timeline:
        parts.append(timeline)
    else:
        parts.append('<p class="muted small" id="no-timeline">No account-creation timeline: the observations have no '
                     "timestamps.</p>")
    parts.append("</div>")
    return "".join(parts)


def _timeline(result: "ClusterResult", groups: pd.DataFrame) -> str:
    obs = result.observations
    if "timestamp" not in obs:
        return ""
    ts = pd.to_numeric(obs["timestamp"], errors="coerce")
    ok = ts.notna().to_numpy()
    if not ok.any():
        return ""
    first = ts[ok].groupby(obs["account_id"].to_numpy()[ok], sort=False).min()
    lo, hi = float(first.min()), float(first.max())
    if hi <= lo:
        hi = lo + 86400.0
    bins = np.linspace(lo, hi, 31)
    sus_ids = set(groups.loc[groups["suspicious"], "cluster_id"].tolist())
    a = result.assignments
    sus_accounts = a.loc[a["cluster_id"].isin(sus_ids), "account_id"]
    sus_first = first[first.index.isin(sus_accounts)]
    labels = [str(pd.Timestamp(x, unit="s").date()) for x in bins[:-1]]
    return svg.histogram([("all accounts", "#9aa9c4", np.histogram(first.to_numpy(), bins=bins)[0]),
                          ("in suspicious clusters", "#c44e52", np.histogram(sus_first.to_numpy(), bins=bins)[0])],
                         bins, labels=labels, title="Account creation (first observation)", xlabel="date (UTC)",
                         width=560)


def _table_data(groups: pd.DataFrame, org_of: dict[int, tuple[str | None, float | None, str]],
                with_org: bool) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    cols = [c for c in _COLUMNS if c[0] in groups.columns]
    columns = [{"key": k, "label": label, "type": t, "digits": d, "help": h} for k, label, t, d, h in cols]
    data: list[list[Any]] = []
    for k, _, t, _, _ in cols:
        v = groups[k]
        if t == "int":
            data.append([int(x) for x in v.to_numpy(dtype=np.int64)])
        elif t == "num":
            data.append([_num(x) for x in v.to_numpy(dtype=float)])
        else:
            data.append([bool(x) for x in v.to_numpy(dtype=bool)])
    if with_org:
        ids = groups["cluster_id"].to_numpy(dtype=np.int64)
        data.append([org_of.get(int(c), (None, None, ""))[0] for c in ids])
        data.append([org_of.get(int(c), (None, None, ""))[1] for c in ids])
        columns.append({"key": "organisation", "label": "organisation", "type": "text", "digits": 0,
                        "help": "organisation attributed with the indicators"})
        columns.append({"key": "confidence", "label": "confidence", "type": "num", "digits": 2,
                        "help": "confidence of the leading organisation"})
    data.append([clean(x) for x in groups["top_evidence"].astype(str)])
    columns.append({"key": "top_evidence", "label": "top evidence", "type": "text", "digits": 0,
                    "help": "the values holding the cluster together, with their member counts"})
    rows = [list(r) for r in zip(*data)]
    return rows, columns


def _table_section(groups: pd.DataFrame) -> str:
    return (
        '<h2 id="table">Clusters</h2>'
        f'<p class="small muted">{len(groups):,} clusters of two or more accounts. Click a column header to sort '
        "(again to reverse); type to filter on any column.</p>"
        '<div class="controls"><label>filter <input type="search" id="filter" autocomplete="off"></label>'
        '<label><input type="checkbox" id="suspicious-only"> suspicious only</label>'
        '<button type="button" id="prev">previous</button><button type="button" id="next">next</button>'
        '<span id="table-status" class="small"></span></div>'
        '<noscript><p>The cluster table needs JavaScript; the sections below do not.</p></noscript>'
        '<table id="clusters"><thead></thead><tbody></tbody></table>'
    )


def _cluster_sections(result: "ClusterResult", detailed: pd.DataFrame, template_text: dict[str, str],
                      org_of: dict[int, tuple[str | None, float | None, str]], *, max_members: int, max_evidence: int,
                      graph_accounts: int, graph_values: int) -> list[str]:
    if not len(detailed):
        return []
    ids = [int(c) for c in detailed["cluster_id"]]
    a = result.assignments
    chosen = a.loc[a["cluster_id"].isin(ids), "account_id"]
    members_of: dict[int, list[str]] = {int(cid): sorted(str(x) for x in g.tolist())
                                        for cid, g in chosen.groupby(a["cluster_id"])}
    ev_all = result.evidence[result.evidence["cluster_id"].isin(ids)]
    obs = result.observations
    obs = obs[obs["account_id"].isin(a.loc[a["cluster_id"].isin(ids), "account_id"])]
    out = []
    row: Any
    for row in detailed.itertuples(index=False):
        cid = int(row.cluster_id)
        members = members_of.get(cid, [])
        ev = ev_all[ev_all["cluster_id"] == cid]  # in the result's order: strongest evidence first
        flag = ' <span class="sus">suspicious</span>' if bool(row.suspicious) else ""
        parts = [f'<section class="cluster" id="cluster-{cid}"><h3>Cluster {cid}: {int(row.size):,} accounts, '
                 f"score {float(row.score):.3f}{flag}</h3>"]
        parts.append(f'<p class="small">cohesion {float(row.cohesion):.2f}; {int(row.shared_values):,} shared values; '
                     f"templated {float(row.templated):.2f}, tooling {float(row.tooling):.2f}, "
                     f"payment {float(row.payment):.2f}, burst {float(row.burst):.2f}; "
                     f"{int(row.periphery):,} accounts touched it too weakly to join.</p>")
        if cid in org_of:
            org, conf, evidence = org_of[cid]
            if org is not None:
                parts.append(f'<p class="attribution">Attributed to <strong>{esc(org)}</strong> '
                             f"(confidence {conf or 0:.2f}): {esc(evidence)}</p>")
            else:
                parts.append('<p class="attribution muted">Not attributed to any organisation.</p>')
        parts.append(_evidence_table(ev, template_text, max_evidence))
        parts.append(_graph(cid, members, ev, obs, template_text, graph_accounts, graph_values, result))
        shown = members[:max_members]
        more = len(members) - len(shown)
        parts.append(f'<h4>Members</h4><p class="members">{"".join(f"<code>{esc(m)}</code>" for m in shown)}</p>')
        if more:
            parts.append(f'<p class="small muted">and {more:,} more (raise <code>max_members</code> to list them).</p>')
        parts.append("</section>")
        out.append("".join(parts))
    return out


def _evidence_table(ev: pd.DataFrame, template_text: dict[str, str], cap: int) -> str:
    if not len(ev):
        return '<p class="muted">No shared value holds this cluster (it was joined by its links alone).</p>'
    rows = []
    r: Any
    for r in ev.head(cap).itertuples(index=False):
        kind, value = str(r.kind), str(r.value)
        if kind == "prompt_template" and value in template_text:
            shown = (f'<span class="tpl">{_template_html(template_text[value])}</span> '
                     f'<span class="small muted">{esc(value)}</span>')
        else:
            shown = esc(value)
        rows.append(f"<tr><td>{esc(kind)}</td><td class=\"evcell\">{shown}</td><td class=\"num\">{int(r.members):,}</td>"
                    f'<td class="num">{int(r.carriers):,}</td><td class="num">{float(r.weight):.3f}</td>'
                    f'<td class="num">{float(r.exclusivity):.2f}</td></tr>')
    more = len(ev) - min(cap, len(ev))
    tail = f'<p class="small muted">and {more:,} more shared values.</p>' if more else ""
    return ('<h4>Evidence</h4><table class="evidence"><thead><tr><th>kind</th><th>value</th><th>members</th>'
            "<th>carriers</th><th>weight</th><th>exclusivity</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>" + tail)


def _graph(cid: int, members: Sequence[str], ev: pd.DataFrame, obs: pd.DataFrame, template_text: dict[str, str],
           max_accounts: int, max_values: int, result: "ClusterResult") -> str:
    if not len(ev) or not len(members):
        return ""
    g = cluster_subgraph(result, cid, max_accounts=max_accounts, max_values=max_values, members=members,
                         observations=obs, templates=template_text)
    if not len(g.edges):
        return ""
    caption = (f"Cluster {cid}: {len(g.accounts):,} of {g.n_members:,} accounts (grey) and {len(g.values):,} of "
               f"{g.n_values:,} shared values (coloured by kind); {len(g.edges):,} links. Hover a node for its id or value.")
    return "<h4>Account–value graph</h4>" + svg.cluster_graph(g.accounts, g.values, g.edges, seed=cid, caption=caption)


def _notes(result: "ClusterResult", attribution: "Attribution | None") -> str:
    notes = [str(n) for n in result.report]
    if attribution is not None:
        notes += [str(n) for n in getattr(attribution, "report", [])]
    items = "".join(f"<li>{esc(n)}</li>" for n in notes) or "<li>nothing skipped</li>"
    return f'<h2 id="notes">Notes</h2><p class="small">What each stage skipped or changed:</p><ul>{items}</ul>'
