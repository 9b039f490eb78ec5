"""Exceptions raised by sybilgraph.

Every error the library raises on purpose derives from :class:`SybilGraphError`;
each child also subclasses the matching builtin so ``except ValueError`` keeps
working::

    SybilGraphError
    ├── InputError (ValueError)          bad observations: columns, rows, values, files
    │   └── EmptyInputError              nothing left to cluster
    ├── ParameterError (ValueError)      a parameter outside its documented range
    ├── IndicatorError (ValueError)      a malformed indicators table
    ├── ModelError (ValueError)          a saved model that is corrupt, tampered with or of another version
    └── EngineError (RuntimeError)       a dependency (igraph, leidenalg, pyarrow) failed
"""

from __future__ import annotations

__all__ = [
    "SybilGraphError",
    "InputError",
    "EmptyInputError",
    "ParameterError",
    "IndicatorError",
    "EngineError",
    "ModelError",
]


class SybilGraphError(Exception):
    """Base class of every error sybilgraph raises on purpose."""


class InputError(SybilGraphError, ValueError):
    """The observations (or a file holding them) cannot be used as given."""


class EmptyInputError(InputError):
    """No usable observation is left to cluster."""


class ParameterError(SybilGraphError, ValueError):
    """A parameter is outside its documented range."""


class IndicatorError(SybilGraphError, ValueError):
    """The indicators table for attribution is malformed."""


class ModelError(SybilGraphError, ValueError):
    """A saved model cannot be loaded: a file is missing, corrupt, tampered with, or of another format version."""


class EngineError(SybilGraphError, RuntimeError):
    """A dependency (igraph, leidenalg, pyarrow, ...) failed underneath us."""
