from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_investigate_campaign_example_runs(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "investigate_campaign.py"), "--scale", "0.03", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "against the planted truth" in proc.stdout
    assert (tmp_path / "assignments.csv").exists()
