"""The whole pipeline in one call: :func:`cluster_accounts`.

    ingest → normalise → weight → graph → Leiden → earned membership → explain

Each stage is a function over tables and arrays in its own module; this
module only chains them and times them.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import pyarrow as pa

from ._errors import ParameterError
from ._report import Report
from .engines import get_engine
from .engines.local import cluster_components, explain_components
from .ingest import Source, read_encoded
from .normalise import normalise_encoded
from .results import ClusterResult
from .settings import Settings
from .weights import weight_encoded

__all__ = ["cluster_accounts"]


def cluster_accounts(
    observations: Source,
    *,
    settings: Settings | None = None,
    account_col: str = "account_id",
    kind_col: str = "kind",
    value_col: str = "value",
    timestamp_col: str | None = "timestamp",
    engine: str = "local",
    **overrides: Any,
) -> ClusterResult:
    """Group accounts into operator clusters by the values they share.

    Parameters
    ----------
    observations : DataFrame or path
        One row per observation ``account_id, kind, value[, timestamp]``, or a
        CSV, Parquet or JSON Lines file holding them.
    settings : Settings, optional
        All parameters; defaults to ``Settings()``.
    account_col, kind_col, value_col, timestamp_col : str
        Column names in ``observations``.
    engine : {"local", "spark"}, default "local"
        Where the stages run (see :mod:`sybilgraph.engines`); ``"spark"``
        also takes a Spark DataFrame or a Parquet path and gives the same
        clusters and ids.
    **overrides
        Any :class:`Settings` field (``seed=1``, ``resolution=0.5``, ...),
        applied on top of ``settings``.

    Returns
    -------
    ClusterResult
        ``assignments`` holds every input account exactly once.

    Raises
    ------
    InputError
        The observations cannot be read or used (the message says why and how to fix it).
    ParameterError
        A setting is out of range.

    Notes
    -----
    Leiden is randomised; the result is a function of the input (in any row
    order), the settings and ``seed``. See ``docs/reproducibility.md``.

    References
    ----------
    Traag, V. A., Waltman, L. & van Eck, N. J. (2019). From Louvain to Leiden:
    guaranteeing well-connected communities. Scientific Reports 9, 5233.

    Examples
    --------
    >>> import pandas as pd, sybilgraph as sg
    >>> obs = pd.DataFrame({
    ...     "account_id": ["a1", "a2", "a3", "b1"],
    ...     "kind": ["payment"] * 4,
    ...     "value": ["card-1", "card-1", "card-1", "card-2"]})
    >>> result = sg.cluster_accounts(obs, seed=0)
    >>> result.assignments[["account_id", "cluster_id"]].values.tolist()
    [['a1', 0], ['a2', 0], ['a3', 0], ['b1', 1]]
    """
    if settings is None:
        settings = Settings()
    elif not isinstance(settings, Settings):
        raise ParameterError(f"The 'settings' parameter of cluster_accounts must be a Settings. Got {settings!r} instead.")
    if overrides:
        try:
            settings = settings.replace(**overrides)
        except TypeError as err:
            raise ParameterError(f"cluster_accounts got an unknown setting: {err}") from err
    run = get_engine(engine) if engine != "local" else _cluster_local
    return run(observations, settings=settings, account_col=account_col, kind_col=kind_col, value_col=value_col,
               timestamp_col=timestamp_col)


def _cluster_local(observations: Source, *, settings: Settings, account_col: str, kind_col: str, value_col: str,
                   timestamp_col: str | None) -> ClusterResult:
    """The local engine: every stage in memory (see :func:`cluster_accounts`)."""
    report = Report()
    timings: dict[str, float] = {}
    with _timed(timings, "read"):
        obs = read_encoded(observations, account_col=account_col, kind_col=kind_col, value_col=value_col,
                           timestamp_col=timestamp_col, report=report)
    with _timed(timings, "normalise"):
        norm = normalise_encoded(obs, settings, report=report)
        # Accounts whose every row was skipped still come back, as singletons with no evidence.
        lost = np.flatnonzero(np.bincount(norm.account, minlength=len(norm.accounts)) == 0)
        report.add("normalise", "accounts had no usable value left and are returned as singletons", len(lost),
                   norm.accounts.take(pa.array(lost[:5], type=pa.int64())).to_pylist())
        del obs
    with _timed(timings, "weight"):
        wobs = weight_encoded(norm, settings, report=report)
    found = cluster_components(wobs, settings, timings)
    with _timed(timings, "explain"):
        assignments, clusters, evidence = explain_components(found, wobs)
    with _timed(timings, "normalise"):
        observations_table = norm.to_frame()
    return ClusterResult(assignments, clusters, evidence, observations_table, norm.templates, report, settings, timings)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start
