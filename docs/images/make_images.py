"""Regenerate docs/images/report.png and docs/images/cluster.png (needs chromium, chromium-driver, selenium, matplotlib).

    PYTHONPATH=. python docs/images/make_images.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import sybilgraph as sg
from sybilgraph.attribute import attribute
from sybilgraph.report import write_report

HERE = Path(__file__).resolve().parent


def main() -> None:
    data = sg.synth.generate("distillation", scale=0.05, seed=0)
    result = sg.cluster_accounts(data.observations, seed=0)
    attribution = attribute(result, data.indicators, exchanges=data.exchanges)
    with tempfile.TemporaryDirectory() as tmp:
        page = write_report(result, Path(tmp) / "report.html", attribution=attribution, top=10)
        from selenium import webdriver

        options = webdriver.ChromeOptions()
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-sync", "--window-size=1280,1700",
                     f"--user-data-dir={tmp}/profile"):
            options.add_argument(flag)
        options.binary_location = "/usr/bin/chromium"
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService("/usr/bin/chromedriver"))
        try:
            driver.get(page.as_uri())
            driver.save_screenshot(str(HERE / "report.png"))
        finally:
            driver.quit()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sybilgraph.plot import plot_cluster

    top = int(result.groups().iloc[0]["cluster_id"])
    fig, ax = plt.subplots(figsize=(7, 7))
    plot_cluster(result, top, ax=ax)
    fig.savefig(HERE / "cluster.png", dpi=90, bbox_inches="tight")
    print(f"wrote {HERE / 'report.png'} and {HERE / 'cluster.png'}")


if __name__ == "__main__":
    main()
