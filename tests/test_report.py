"""The HTML report without a browser: escaping, the CSP, determinism, caps, write_report and the CLI.

The browser half (sorting, filtering, payloads that must not run) is tests/test_report_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

import sybilgraph as sg
from sybilgraph import ParameterError
from sybilgraph._errors import InputError
from sybilgraph.cli import main
from sybilgraph.report import render_report, write_report
from sybilgraph.report.html import json_for_script

from _report_data import PAYLOADS, hostile_observations, hostile_run


class _Page(HTMLParser):
    """Every start tag with its attributes, the text, and the content of each <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, attrs))
        if tag in self.raw:
            self._in = tag
            self.raw[tag].append("")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == self._in:
            self._in = None

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in:
            self.raw[self._in][-1] += data
        else:
            self.text.append(data)


def _parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    p.close()
    return p


@pytest.fixture(scope="module")
def hostile() -> tuple[sg.ClusterResult, object, str]:
    result, attribution = hostile_run()
    return result, attribution, render_report(result, attribution=attribution, top=5)


def test_json_for_script_round_trips_and_cannot_close_the_element() -> None:
    values = list(PAYLOADS.values()) + ["a\u2028b\u2029c", "<!-- x", "]]>", "&amp;"]
    text = json_for_script(values)
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(text) == values


def test_hostile_strings_are_text_never_markup(hostile) -> None:
    _, _, page = hostile
    p = _parse(page)
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "dl", "dt", "dd",
               "table", "thead", "tbody", "tr", "th", "td", "div", "section", "span", "code", "strong", "ul", "li",
               "label", "input", "button", "noscript", "script", "svg", "text", "line", "rect", "circle", "title",
               "figure", "figcaption"}
    assert {t for t, _ in p.tags} <= allowed
    assert [t for t, _ in p.tags].count("script") == 2  # the JSON data block and the table script, nothing else
    for tag, attrs in p.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src", "action", "xlink:href", "srcset", "formaction"):
                assert (value or "").startswith("#"), (tag, name, value)
    text = "".join(p.text)
    # Shown literally: account ids (members), values (evidence), organisation (attribution), the prompt template.
    for key in ("account", "account_img", "device", "payment", "organisation"):
        assert PAYLOADS[key] in text, key
    assert "</script><script>window.<id>=<str></script> <b onmouseover=alert(<num>)>summarise</b>" in text
    # The data block holds the same strings, JSON-escaped, and parses back.
    data = json.loads(p.raw["script"][0])
    assert any(PAYLOADS["organisation"] in (v or "") for row in data["rows"] for v in row if isinstance(v, str))


def test_csp_allows_exactly_the_inline_script_and_style(hostile) -> None:
    _, _, page = hostile
    p = _parse(page)
    [csp] = [dict(a)["content"] for t, a in p.tags if t == "meta" and dict(a).get("http-equiv") == "Content-Security-Policy"]
    assert csp is not None and "default-src 'none'" in csp and "unsafe-inline" not in csp

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"script-src {digest(p.raw['script'][1])};" in csp
    assert f"style-src {digest(p.raw['style'][0])};" in csp
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)  # nothing to fetch; the SVG namespace only


def test_sections_caps_and_omitted_count(hostile) -> None:
    result, _, _ = hostile
    groups = result.groups()
    page = render_report(result, top=3, max_members=4, max_evidence=2)
    p = _parse(page)
    sections = [dict(a)["id"] for t, a in p.tags if t == "section"]
    assert sections == [f"cluster-{c}" for c in groups["cluster_id"].head(3)]
    text = "".join(p.text)
    assert f"3 of {len(groups):,} clusters of two or more accounts are shown" in text
    assert f"{len(groups) - 3:,} are omitted" in text
    first = groups.iloc[0]
    assert f"and {int(first['size']) - 4:,} more (raise" in text
    assert all(s in page for s in ('id="summary"', 'id="plots"', 'id="clusters"', 'id="notes"'))
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="graph"') == 3
    assert "Account creation" in text  # the synthetic observations have timestamps


def test_report_is_deterministic_and_row_order_free() -> None:
    obs, indicators = hostile_observations()
    a = render_report(sg.cluster_accounts(obs, seed=0), top=4)
    shuffled = obs.sample(frac=1.0, random_state=7).reset_index(drop=True)
    b = render_report(sg.cluster_accounts(shuffled, seed=0), top=4)
    # Everything but the notes, whose examples are the first offending rows met (they follow row order).
    cut = '<h2 id="notes">'
    assert a.split(cut)[0] == b.split(cut)[0]
    assert render_report(sg.cluster_accounts(obs, seed=0), top=4) == a


def test_no_cluster_of_two_still_a_page() -> None:
    obs = pd.DataFrame({"account_id": ["a", "b"], "kind": ["ip", "ip"], "value": ["192.0.2.1", "192.0.2.2"]})
    page = render_report(sg.cluster_accounts(obs, seed=0))
    text = "".join(_parse(page).text)
    assert "0 of 0 clusters of two or more accounts are shown" in text and "<section" not in page


def test_no_timestamps_no_timeline(small_obs) -> None:
    page = render_report(sg.cluster_accounts(small_obs, seed=0))
    assert 'id="no-timeline"' in page and "Account creation" not in page


@pytest.mark.parametrize("name, value", [("top", -1), ("max_members", 0), ("page_size", 1.5), ("graph_values", True)])
def test_bad_options_are_refused(small_obs, name, value) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    with pytest.raises(ParameterError, match=f"'{name}' parameter of render_report"):
        render_report(result, **{name: value})


def test_write_report_refuses_its_input_and_other_suffixes(tmp_path, small_obs) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    src = tmp_path / "obs.html"
    src.write_text("precious")
    with pytest.raises(InputError, match="would destroy the input"):
        write_report(result, src, inputs={"observations": src})
    assert src.read_text() == "precious"
    with pytest.raises(InputError, match=r"\.html or \.htm"):
        write_report(result, tmp_path / "r.csv")
    target = write_report(result, tmp_path / "r.html")
    assert target.read_text(encoding="utf-8") == render_report(result)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left behind


def test_cli_report(tmp_path, capsys) -> None:
    obs, indicators = hostile_observations()
    src, ind = tmp_path / "obs.parquet", tmp_path / "ind.csv"
    obs.to_parquet(src)
    indicators.to_csv(ind, index=False)
    out = tmp_path / "report.html"
    assert main(["report", str(src), "--indicators", str(ind), "-o", str(out), "--top", "2"]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count('<section class="cluster"') == 2 and 'id="organisations"' in page
    assert "report.html" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["-o", "{tmp}/r.csv"], ".html or .htm"),
    (["-o", "{tmp}/r.html", "--top", "-1"], "--top must be"),
    (["-o", "{tmp}/r.html", "--exchanges", "{tmp}/obs.csv"], "--exchanges needs --indicators"),
    (["-o", "{tmp}/missing/r.html"], "does not exist"),
    (["-o", "{tmp}/link.html"], "would destroy the input"),
])
def test_cli_report_refuses_before_any_work(tmp_path, small_obs, capsys, extra, message) -> None:
    src = tmp_path / "obs.csv"
    small_obs.to_csv(src, index=False)
    os.symlink(src, tmp_path / "link.html")
    before = src.read_bytes()
    assert main(["report", str(src), *[e.format(tmp=tmp_path) for e in extra]]) == 2
    assert message in capsys.readouterr().err
    assert src.read_bytes() == before
