"""The same as :mod:`sybilgraph.evaluation.synth`, under the name it had before the evaluation tools got their own room.

Public names are re-exported; any other name (tests use a few private ones)
is looked up in :mod:`sybilgraph.evaluation.synth` on access.
"""

from __future__ import annotations

from typing import Any

from .evaluation import synth as _impl
from .evaluation.synth import *  # noqa: F403
from .evaluation.synth import __all__ as __all__


def __getattr__(name: str) -> Any:
    return getattr(_impl, name)
