"""The README's command-line block runs as written, in a fresh directory.

HOW TO UPDATE: nothing to change here when the README's block changes. The
block is the first fenced ```bash block of README.md that holds a line
starting with ``sybilgraph synth``; it runs under ``bash -euo pipefail`` with
a ``sybilgraph`` on PATH that runs this checkout (``python -m sybilgraph``),
and every file it names with ``-o``, ``--clusters``, ``--evidence`` or
``--summary`` must exist afterwards. The test is marked slow when the block's
``synth --scale`` is above 0.05 (at 0.05 the five commands take about 25 s on a
2-core machine, mostly interpreter start-up; at scale 1 about two minutes).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def readme_cli_block() -> str:
    """The README's ```bash block that starts the synthetic walk-through (``sybilgraph synth``)."""
    text = README.read_text(encoding="utf-8")
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        if any(line.startswith("sybilgraph synth") for line in block.splitlines()):
            return str(block)
    raise AssertionError("README.md has no ```bash block with a line starting 'sybilgraph synth'")


def _scale(block: str) -> float:
    found = re.search(r"sybilgraph synth\b[^\n]*--scale[ =]([0-9.]+)", block)
    return float(found.group(1)) if found else 1.0


def _outputs(block: str) -> list[str]:
    names = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        for flag, value in zip(words, words[1:]):
            if flag in ("-o", "--output", "--clusters", "--evidence", "--summary") and words[:2] != ["sybilgraph", "synth"]:
                names.append(value)
    return names


_BLOCK = readme_cli_block()


@pytest.mark.parametrize("block", [pytest.param(_BLOCK, id="readme", marks=[pytest.mark.slow] if _scale(_BLOCK) > 0.05 else [])])
def test_readme_cli_block_runs_as_written(block: str, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "sybilgraph"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m sybilgraph "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=work, env=env, capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, f"README block failed ({proc.returncode}):\n{block}\nstderr:\n{proc.stderr[-3000:]}"
    for name in _outputs(block):
        assert (work / name).exists(), f"the README block says it writes {name!r}, but it is not there"


def test_the_block_is_found_and_names_its_outputs() -> None:
    assert "sybilgraph cluster" in _BLOCK
    assert _outputs("sybilgraph cluster x.csv -o a.csv --clusters c.csv  # note\nsybilgraph synth -o data/\n") == ["a.csv", "c.csv"]
