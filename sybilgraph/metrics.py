"""The same as :mod:`sybilgraph.evaluation.metrics`, under the name it had before the evaluation tools got their own room.

Public names are re-exported; any other name (tests use a few private ones)
is looked up in :mod:`sybilgraph.evaluation.metrics` on access.
"""

from __future__ import annotations

from typing import Any

from .evaluation import metrics as _impl
from .evaluation.metrics import *  # noqa: F403
from .evaluation.metrics import __all__ as __all__


def __getattr__(name: str) -> Any:
    return getattr(_impl, name)
