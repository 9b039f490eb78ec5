"""The HTML report of a large run: its size, the time to build it, and how fast headless Chromium opens and sorts it.

    PYTHONPATH=. python benchmarks/bench_report.py                 # distillation at scale 0.8 (~100k accounts)
    PYTHONPATH=. python benchmarks/bench_report.py --scale 0.05 --json report-bench.json

Builds the scenario with :mod:`sybilgraph.synth` (as ``bench_quality.py``),
clusters and attributes it, renders the report (wall and CPU time, bytes),
then opens it in headless Chromium (the flags of
``tests/test_report_browser.py``) and reads the page's navigation timing
(DOMContentLoaded, load), the time until the table script has drawn the first
page, and the time of a sort by each of two columns and of a filter, each
measured inside the page around the synchronous click or input event.
Needs the Debian packages chromium and chromium-driver and selenium.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _common

import sybilgraph as sg
from sybilgraph import synth
from sybilgraph.attribute import attribute
from sybilgraph.report import render_report, write_report

# In the page: run `action`, return the milliseconds until it returned (the table is redrawn synchronously).
_TIMED = """
var t0 = performance.now();
%s
return performance.now() - t0;
"""


def browser_figures(page: Path, profile: Path) -> dict[str, float]:
    from selenium import webdriver
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--window-size=1280,1000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(shutil.which("chromedriver") or "/usr/bin/chromedriver"))
    try:
        t0 = time.perf_counter()
        driver.get(page.as_uri())
        WebDriverWait(driver, 300).until(
            lambda d: d.execute_script("return document.documentElement.getAttribute('data-ready')") == "1")
        wall = time.perf_counter() - t0
        nav = driver.execute_script("var n = performance.getEntriesByType('navigation')[0];"
                                    "return [n.domContentLoadedEventEnd, n.loadEventEnd, n.responseEnd];")
        out = {"open_wall_s": wall, "dom_content_loaded_ms": nav[0], "load_ms": nav[1], "response_end_ms": nav[2]}
        out["sort_size_ms"] = driver.execute_script(_TIMED % "document.querySelector(\"th[data-key='size']\").click();")
        out["sort_size_again_ms"] = driver.execute_script(_TIMED % "document.querySelector(\"th[data-key='size']\").click();")
        out["sort_score_ms"] = driver.execute_script(_TIMED % "document.querySelector(\"th[data-key='score']\").click();")
        out["filter_ms"] = driver.execute_script(_TIMED % (
            "var f = document.getElementById('filter'); f.value = 'payment';"
            "f.dispatchEvent(new Event('input'));"))
        out["rows_in_dom"] = driver.execute_script("return document.querySelectorAll('#clusters tbody tr').length")
        out["dom_nodes"] = driver.execute_script("return document.getElementsByTagName('*').length")
        return out
    finally:
        driver.quit()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="distillation", choices=sorted(synth.SCENARIOS))
    p.add_argument("--scale", type=float, default=0.8, help="0.8 gives about 100k accounts on distillation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--keep", metavar="PATH", help="also copy the report here")
    args = p.parse_args()
    info = _common.versions()
    print(_common.version_line(info), file=sys.stderr)

    t = time.perf_counter()
    data = synth.generate(args.scenario, scale=args.scale, seed=args.seed)
    print(f"generated {len(data.truth):,} accounts in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    t = time.perf_counter()
    result = sg.cluster_accounts(data.observations, seed=args.seed)
    attribution = attribute(result, data.indicators, exchanges=data.exchanges)
    print(f"clustered and attributed in {time.perf_counter() - t:.1f}s", file=sys.stderr)

    row: dict[str, object] = {"accounts": result.n_accounts, "clusters_2plus": len(result.groups()), "top": args.top}
    w0, c0 = time.perf_counter(), time.process_time()
    text = render_report(result, attribution=attribution, top=args.top)
    row["render_wall_s"], row["render_cpu_s"] = time.perf_counter() - w0, time.process_time() - c0
    row["bytes"] = len(text.encode("utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        w0 = time.perf_counter()
        page = write_report(result, Path(tmp) / "report.html", attribution=attribution, top=args.top)
        row["write_report_wall_s"] = time.perf_counter() - w0
        if args.keep:
            shutil.copyfile(page, args.keep)
        row.update(browser_figures(page, Path(tmp) / "profile"))

    columns = list(row)
    print(_common.markdown_table([row], columns, digits=2))
    _common.write_json(args.json, {"versions": info, "options": vars(args), "rows": [row]})


if __name__ == "__main__":
    main()
