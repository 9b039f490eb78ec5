"""The public API is typed: mypy (pinned in the test extra) must pass over the package."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

PACKAGE = Path(__file__).resolve().parents[1] / "sybilgraph"


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for this module's runs: the second run rechecks only what changed."""
    return tmp_path_factory.mktemp("mypy") / "cache"


def test_package_passes_mypy(mypy_cache: Path) -> None:
    config = PACKAGE.parent / "pyproject.toml"
    stdout, stderr, status = api.run([str(PACKAGE), "--config-file", str(config), "--cache-dir", str(mypy_cache)])
    assert status == 0, stdout + stderr


def test_settings_overrides_match_settings() -> None:
    import dataclasses
    import typing

    from sybilgraph.settings import Settings, SettingsOverrides

    hints = typing.get_type_hints(SettingsOverrides)
    fields = typing.get_type_hints(Settings)
    assert list(hints) == [f.name for f in dataclasses.fields(Settings)]
    assert hints == {name: fields[name] for name in hints}
    assert SettingsOverrides.__total__ is False


def test_misspelt_override_is_a_type_error(tmp_path: Path, mypy_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        "import pandas as pd\n"
        "import sybilgraph as sg\n"
        "obs = pd.DataFrame()\n"
        "sg.cluster_accounts(obs, resolution=0.5, objective='cpm', kind_weights={'ip': 0.1}, seed=1)\n"
        "sg.cluster_accounts(obs, resolutoin=0.5)\n"
        "sg.cluster_accounts(obs, objective='cmp')\n"
        "sg.cluster_accounts(obs, min_links='2')\n"
        "sg.Settings().replace(sed=1)\n"
    )
    monkeypatch.setenv("MYPYPATH", str(PACKAGE.parent))  # this copy of the package, not an installed one
    stdout, stderr, status = api.run([str(snippet), "--config-file", str(PACKAGE.parent / "pyproject.toml"),
                                      "--cache-dir", str(mypy_cache), "--no-error-summary"])
    errors = sorted({int(line.split(":")[1]) for line in stdout.splitlines() if ": error:" in line})
    assert errors == [5, 6, 7, 8], stdout + stderr
    assert '"resolutoin"' in stdout and '"sed"' in stdout, stdout


def test_misspelt_override_fails_at_run_time_too() -> None:
    import pandas as pd

    import sybilgraph as sg

    obs = pd.DataFrame({"account_id": ["a"], "kind": ["ip"], "value": ["1.2.3.4"]})
    with pytest.raises(sg.ParameterError, match="resolutoin"):
        sg.cluster_accounts(obs, resolutoin=0.5)  # type: ignore[call-arg]
