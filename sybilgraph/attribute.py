"""The same as :mod:`sybilgraph.attribution`, under the name it had when attribution was one module.

``from sybilgraph.attribute import attribute, read_indicators, Attribution``
keeps working; new code imports from :mod:`sybilgraph.attribution`, or calls
``sybilgraph.attribute(result, indicators)`` at the top level.

Importing this module makes Python set ``sybilgraph.attribute`` to it,
hiding the top-level function of the same name; so the module is callable
and calling it calls :func:`~sybilgraph.attribution.attribute`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .attribution import INDICATOR_COLUMNS, SPECIAL_KINDS, Attribution, attribute, attribute_cli, read_indicators
from .attribution.tables import _read_exchanges  # the command line reads the exchanges file with it

__all__ = ["Attribution", "attribute", "attribute_cli", "read_indicators", "INDICATOR_COLUMNS", "SPECIAL_KINDS"]


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`~sybilgraph.attribution.attribute`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Attribution:
        return attribute(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
