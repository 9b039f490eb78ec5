"""The declared dependencies are what the package imports, and CI tests at their floors."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")


def _requirement(text: str) -> tuple[str, str, tuple[int, ...]]:
    """``("numpy", ">=", (1, 23, 5))`` from ``"numpy>=1.23.5"``: the one specifier each of ours has."""
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(>=|==)\s*([0-9][0-9.]*)", text.strip())
    assert match, f"{text!r}: declare one floor (name>=version) or one pin (name==version)"
    return match[1].lower(), match[2], _version(match[3])


def _version(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in text.strip().split(".")]
    while len(parts) > 1 and parts[-1] == 0:  # 2.0 == 2.0.0
        parts.pop()
    return tuple(parts)


def _project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]


def _type_checking_only(tree: ast.AST) -> set[ast.AST]:
    """Nodes inside ``if TYPE_CHECKING:`` blocks: read by type checkers, never imported at run time."""
    inside: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                inside.update(ast.walk(stmt))
    return inside


def _imported_distributions() -> set[str]:
    """Top-level third-party modules imported anywhere in sybilgraph/ at run time, lazy imports included."""
    names: set[str] = set()
    for path in sorted((ROOT / "sybilgraph").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _type_checking_only(tree)
        for node in ast.walk(tree):
            if node in skip:
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("sybilgraph", "__future__")}


def test_runtime_dependencies_are_exactly_the_imports() -> None:
    project = _project()
    declared = {_requirement(r)[0] for r in project["dependencies"]}
    # Optional extras are imported lazily, inside the functions that need them, with a message naming
    # the extra (sybilgraph.export: networkx; sybilgraph.plot: matplotlib; sybilgraph.engines.spark: pyspark).
    optional = {_requirement(r)[0] for extra in ("export", "plot", "spark")
                for r in project["optional-dependencies"][extra]}
    # import name = distribution name for every dependency (python-igraph ships as "igraph")
    assert declared == _imported_distributions() - optional
    assert optional <= _imported_distributions()
    assert not optional & _top_level_imports()


def _top_level_imports() -> set[str]:
    """Third-party modules imported at the top of a module of sybilgraph/ (not inside a function)."""
    names: set[str] = set()
    for path in sorted((ROOT / "sybilgraph").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _pins() -> dict[str, tuple[int, ...]]:
    pins = {}
    for line in (ROOT / ".ci" / "constraints-lowest.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints-lowest.txt pins with ==: {line!r}"
            pins[name.strip().lower()] = _version(version)
    return pins


def test_lowest_constraints_pin_every_declared_floor() -> None:
    project = _project()
    pins = _pins()
    for text in project["dependencies"] + project["optional-dependencies"]["test"]:
        name, op, version = _requirement(text)
        if op == "==":  # pinned in pyproject itself (mypy, pandas-stubs)
            assert pins.get(name, version) == version, text
        else:
            assert pins.get(name) == version, f"{text}: .ci/constraints-lowest.txt pins {pins.get(name)}"
