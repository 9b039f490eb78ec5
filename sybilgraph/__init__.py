"""sybilgraph — find the operators behind fake accounts.

Observations (account, kind, value[, timestamp]) go in; operator clusters,
their evidence and their attribution come out::

    ingest → normalise → weight → graph → cluster → explain → attribute

>>> import sybilgraph as sg
>>> data = sg.synth.generate("distillation", scale=0.02, seed=0)   # doctest: +SKIP
>>> result = sg.cluster_accounts(data.observations, seed=0)        # doctest: +SKIP
"""

from __future__ import annotations

from ._errors import (
    EmptyInputError,
    EngineError,
    IndicatorError,
    InputError,
    ModelError,
    ParameterError,
    SybilGraphError,
)
from . import metrics, synth
from ._report import Note, Report
from .ingest import from_wide, read_observations
from .pipeline import cluster_accounts
from . import runs
from .model import build_model, load_model
from .attribution import Attribution, attribute
from .results import ClusterResult, read_table, write_table
from .settings import DEFAULT_KIND_WEIGHTS, Settings

__version__ = "0.1.0"

__all__ = [
    "cluster_accounts",
    "attribute",
    "Attribution",
    "read_observations",
    "from_wide",
    "write_table",
    "read_table",
    "ClusterResult",
    "Settings",
    "DEFAULT_KIND_WEIGHTS",
    "Report",
    "Note",
    "SybilGraphError",
    "InputError",
    "EmptyInputError",
    "ParameterError",
    "IndicatorError",
    "EngineError",
    "ModelError",
    "build_model",
    "load_model",
    "runs",
    "__version__",
    "metrics",
    "synth",
]
