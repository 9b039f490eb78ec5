"""The public API is typed: mypy (pinned in the test extra) must pass over the package."""

from __future__ import annotations

from pathlib import Path

from mypy import api

PACKAGE = Path(__file__).resolve().parents[1] / "sybilgraph"


def test_package_passes_mypy(tmp_path: Path) -> None:
    config = PACKAGE.parent / "pyproject.toml"
    stdout, stderr, status = api.run([str(PACKAGE), "--config-file", str(config), "--cache-dir", str(tmp_path / "cache")])
    assert status == 0, stdout + stderr
