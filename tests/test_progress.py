"""Every stage logs through the "sybilgraph" logger; the progress display is opt-in in the API."""

from __future__ import annotations

import io
import logging

import pandas as pd
import pytest

import sybilgraph as sg
from sybilgraph._progress import show_progress, stage

STAGES = ["read", "normalise", "weight", "graph", "components", "leiden", "membership", "explain", "to_frame"]


def test_every_stage_logs_its_name_counts_and_seconds(small_obs: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sybilgraph"):
        result = sg.cluster_accounts(small_obs, seed=0)
    records = [r for r in caplog.records if r.name == "sybilgraph" and r.levelno == logging.INFO]
    logged = [getattr(r, "stage") for r in records]
    assert [s for s in dict.fromkeys(logged)] == STAGES
    for r in records:
        assert r.getMessage().startswith(f"{getattr(r, 'stage')}: ") and " s" in r.getMessage()
        assert getattr(r, "seconds") >= 0
    read = next(r for r in records if getattr(r, "stage") == "read")
    assert getattr(read, "rows") == len(small_obs.drop_duplicates())
    assert getattr(read, "accounts") == small_obs["account_id"].nunique()
    assert f"({len(small_obs):,} rows, {small_obs['account_id'].nunique():,} accounts)" in read.getMessage()
    explain = next(r for r in records if getattr(r, "stage") == "explain")
    assert getattr(explain, "clusters") == len(result.clusters)
    assert set(result.timings) >= set(STAGES)


def test_debug_records_mark_each_start(small_obs: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="sybilgraph"):
        sg.cluster_accounts(small_obs, seed=0)
    started = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG and r.getMessage().endswith(": started")]
    assert started[: len(STAGES)] == [f"{s}: started" for s in STAGES]


def test_silent_by_default_and_one_line_per_stage_when_asked(small_obs: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    sg.cluster_accounts(small_obs, seed=0)
    assert capsys.readouterr().err == ""
    plain = sg.cluster_accounts(small_obs, seed=0)
    shown = sg.cluster_accounts(small_obs, seed=0, progress=True)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert [line.split(":")[1].strip() for line in lines][: len(STAGES)] == STAGES
    assert all(line.startswith("sybilgraph: ") for line in lines)
    assert "\r" not in err  # stderr is not a terminal here: no in-place updates
    pd.testing.assert_frame_equal(plain.assignments, shown.assignments)


def test_live_display_rewrites_the_running_stage_in_place() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    with show_progress(out):
        with stage("leiden") as info:
            info.count(communities=1234)
    text = out.getvalue()
    assert text.startswith("\r\x1b[Ksybilgraph: leiden ...")
    assert text.endswith("\r\x1b[Ksybilgraph: leiden: 0.00 s (1,234 communities)\n")


def test_a_failing_stage_says_so_and_raises() -> None:
    out = io.StringIO()
    with pytest.raises(KeyError), show_progress(out):
        with stage("read"):
            raise KeyError("x")
    assert out.getvalue().startswith("sybilgraph: read: stopped after ")
