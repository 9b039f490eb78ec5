"""The HTML report in a real browser: headless Chromium driven by selenium.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``.ci/run``
installs them) and ``selenium`` (the ``test`` extra). Without them the tests
are skipped with the reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from sybilgraph.report import render_report

from _report_data import PAYLOADS, hostile_run

TITLE = "sybilgraph report"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true, so the browser test must run: install chromium and chromium-driver "
                    "(apt-get) and the test extra")
    pytest.skip(reason)


def _binaries() -> tuple[str, str] | None:
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        from selenium import webdriver
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[test]')")
    found = _binaries()
    if found is None:
        _unavailable("chromium or chromedriver not found (apt-get install chromium chromium-driver)")
    assert found is not None
    browser, chromedriver = found
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--window-size=1280,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.binary_location = browser
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))
    try:
        yield d
    finally:
        d.quit()


@pytest.fixture(scope="module")
def run() -> tuple[Any, Any]:
    return hostile_run()


def _open(driver: Any, tmp_path: Path, page: str, name: str = "report.html") -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    path = tmp_path / name
    path.write_text(page, encoding="utf-8")
    driver.get(path.as_uri())
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _ready(driver: Any) -> bool:
    return driver.execute_script("return document.documentElement.getAttribute('data-ready')") == "1"


def _column(driver: Any, key: str) -> list[str]:
    """The text of one column of the cluster table, in the order shown."""
    return driver.execute_script(
        "var th = Array.from(document.querySelectorAll('#clusters thead th'));"
        "var i = th.findIndex(function (t) { return t.getAttribute('data-key') === arguments[0]; }, null);"
        "var k = th.map(function (t) { return t.getAttribute('data-key'); }).indexOf(arguments[0]);"
        "return Array.from(document.querySelectorAll('#clusters tbody tr')).map(function (r) {"
        "  return r.children[k].textContent; });", key)


def _click_header(driver: Any, key: str) -> None:
    driver.find_element("css selector", f"#clusters th[data-key='{key}']").click()


def _assert_not_pwned(driver: Any) -> None:
    """No payload ran: nothing set window.__pwned, the title is ours, no alert is open, no markup was made from data."""
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.title == TITLE
    counts = driver.execute_script(
        "return {bad: document.querySelectorAll('img, iframe, object, embed, b, svg script, form').length,"
        " scripts: document.scripts.length,"
        " hrefs: Array.from(document.querySelectorAll('[href]')).map(function (e) { return e.getAttribute('href'); }),"
        " handlers: Array.from(document.querySelectorAll('*')).filter(function (e) {"
        "   return Array.from(e.attributes).some(function (a) { return a.name.indexOf('on') === 0; }); }).length};")
    assert counts["bad"] == 0 and counts["scripts"] == 2 and counts["handlers"] == 0
    assert all(h.startswith("#cluster-") for h in counts["hrefs"]), counts["hrefs"]


def test_sections_display(driver, run, tmp_path) -> None:
    result, attribution = run
    groups = result.groups()
    _open(driver, tmp_path, render_report(result, attribution=attribution, top=5, page_size=25))
    assert _ready(driver)
    for sel in ("#summary", "#organisations-table", "#plots", "#clusters", "#details", "#omitted", "#notes"):
        assert driver.find_element("css selector", sel).is_displayed(), sel
    assert len(driver.find_elements("css selector", ".plots svg.plot")) == 3  # sizes, scores, creation timeline
    sections = driver.find_elements("css selector", "section.cluster")
    assert [s.get_attribute("id") for s in sections] == [f"cluster-{c}" for c in groups["cluster_id"].head(5)]
    assert all(s.is_displayed() for s in sections)
    assert len(driver.find_elements("css selector", "section.cluster svg.graph")) == 5
    assert len(driver.find_elements("css selector", "#clusters tbody tr")) == min(25, len(groups))
    status = driver.find_element("css selector", "#table-status").text
    assert f"of {len(groups):,} clusters" in status
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []  # no CSP violation, no script error


def test_sorting_by_a_column_and_paging(driver, run, tmp_path) -> None:
    result, _ = run
    groups = result.groups()
    _open(driver, tmp_path, render_report(result, top=3, page_size=10))
    sizes = sorted(groups["size"].tolist())
    _click_header(driver, "size")  # numbers sort largest first on the first click
    shown = [int(x.replace(",", "")) for x in _column(driver, "size")]
    assert shown == sizes[::-1][:10]
    assert driver.find_element("css selector", "#clusters th[data-key='size']").get_attribute("aria-sort") == "descending"
    _click_header(driver, "size")
    assert [int(x.replace(",", "")) for x in _column(driver, "size")] == sizes[:10]
    driver.find_element("id", "next").click()
    assert [int(x.replace(",", "")) for x in _column(driver, "size")] == sizes[10:20]
    _click_header(driver, "score")
    scores = [float(x) for x in _column(driver, "score")]
    assert scores == sorted(scores, reverse=True) and scores[0] == pytest.approx(groups["score"].max(), abs=1e-3)
    _click_header(driver, "cluster_id")
    ids = [int(x.replace(",", "")) for x in _column(driver, "cluster_id")]
    assert ids == sorted(groups["cluster_id"].tolist(), reverse=True)[:10]


def test_filtering(driver, run, tmp_path) -> None:
    result, attribution = run
    groups = result.groups()
    _open(driver, tmp_path, render_report(result, attribution=attribution, top=3, page_size=500))
    box = driver.find_element("id", "filter")
    box.send_keys("__pwned='payment'")  # a hostile value: filtered as text
    hostile = groups[groups["top_evidence"].str.contains("__pwned='payment'", regex=False)]
    assert len(hostile) >= 1
    assert sorted(int(x) for x in _column(driver, "cluster_id")) == sorted(hostile["cluster_id"].tolist())
    assert "filtered from" in driver.find_element("id", "table-status").text
    box.clear()
    box.send_keys("zzz-no-such-text")
    assert _column(driver, "cluster_id") == []
    assert driver.find_element("id", "table-status").text == "no cluster matches"
    box.clear()
    box.send_keys(" ")  # clear() fires no input event; a blank filter shows everything
    assert len(_column(driver, "cluster_id")) == len(groups)
    driver.find_element("id", "suspicious-only").click()
    assert set(_column(driver, "suspicious")) == {"yes"}
    assert len(_column(driver, "suspicious")) == int(groups["suspicious"].sum())
    _assert_not_pwned(driver)


def test_payloads_never_execute_and_show_literally(driver, run, tmp_path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    result, attribution = run
    _open(driver, tmp_path, render_report(result, attribution=attribution, top=5))
    _assert_not_pwned(driver)
    hostile = int(result.assignments.loc[result.assignments["account_id"].str.startswith("<script>"), "cluster_id"].iloc[0])
    driver.find_element("id", "filter").send_keys("__pwned")
    link = driver.find_element("css selector", f"#clusters a[href='#cluster-{hostile}']")
    link.click()
    section = driver.find_element("id", f"cluster-{hostile}")
    text = section.text
    for key in ("account", "account_img", "device", "payment", "organisation"):
        assert PAYLOADS[key] in text, key
    assert "<b onmouseover=alert(<num>)>summarise</b>" in text
    for el in section.find_elements("css selector", ".tpl, .members code, svg.graph rect")[:12]:
        ActionChains(driver).move_to_element(el).perform()  # an onmouseover made from data would fire here
    body = driver.find_element("tag name", "body").text
    assert PAYLOADS["organisation"] in body  # in the organisations table too
    _assert_not_pwned(driver)


def test_escaping_holds_without_the_csp(driver, run, tmp_path) -> None:
    """The escaping alone keeps the payloads inert: the same page with its CSP removed runs nothing either."""
    result, attribution = run
    page = render_report(result, attribution=attribution, top=5)
    bare, n = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    assert n == 1
    _open(driver, tmp_path, bare, "bare.html")
    assert _ready(driver)
    driver.find_element("id", "filter").send_keys("pwned")
    _assert_not_pwned(driver)


def test_csp_blocks_a_script_that_got_in(driver, run, tmp_path) -> None:
    """Defence in depth: a script element smuggled into the page does not run, while the report's own script does."""
    result, _ = run
    page = render_report(result, top=2)
    tampered = page.replace("</body>", "<script>window.__pwned='csp'</script><img src=x></body>")
    _open(driver, tmp_path, tampered, "tampered.html")
    assert _ready(driver)
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    blocked = [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert blocked, "the injected script should be reported as blocked by the CSP"
