"""examples/investigation.ipynb runs top to bottom (nbclient, a fresh kernel) and is committed without outputs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "investigation.ipynb"

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra; pip install -e '.[test]'")


def test_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def test_notebook_runs(tmp_path, monkeypatch) -> None:
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra; pip install -e '.[test]'")
    pytest.importorskip("ipykernel", reason="ipykernel is in the test extra; pip install -e '.[test]'")
    pytest.importorskip("matplotlib", reason="matplotlib is in the test extra; pip install -e '.[test]'")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, sybilgraph\nprint('imported from', sybilgraph.__file__)\nprint('interpreter', sys.executable)"))
    # A kernel spec of our own runs this very interpreter (the stock "python3" spec may name whichever `python`
    # is first on PATH); the kernel gets this checkout first on its path and runs in an empty directory.
    spec = tmp_path / "jupyter" / "kernels" / "sybilgraph-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "sybilgraph test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    work = tmp_path / "work"
    work.mkdir()
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="sybilgraph-test", resources={"metadata": {"path": str(work)}})
    client.execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "report.html:" in outputs and "-> op-" in outputs
    assert f"imported from {ROOT / 'sybilgraph' / '__init__.py'}" in outputs
    assert f"interpreter {sys.executable}" in outputs
    assert list(work.iterdir()) == []  # the notebook writes its report to a temporary directory of its own
