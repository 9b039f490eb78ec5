"""The whole pipeline in one call: :func:`cluster_accounts`.

    ingest → normalise → weight → graph → Leiden → earned membership → explain

Each stage is a function over tables and arrays in its own module; this
module only chains them and times them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ._errors import ParameterError
from ._progress import show_progress
from ._progress import timed as _timed
from ._report import Report
from .engines import get_engine
from .engines.local import ComponentClusters, cluster_components, explain_components
from .ingest import Source, read_encoded
from .normalise import normalise_encoded
from .results import ClusterResult
from .settings import Settings
from .weights import weight_encoded

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

    from .settings import SettingsOverrides

__all__ = ["cluster_accounts"]


def cluster_accounts(
    observations: Source,
    *,
    settings: Settings | None = None,
    account_col: str = "account_id",
    kind_col: str = "kind",
    value_col: str = "value",
    timestamp_col: str | None = "timestamp",
    progress: bool = False,
    previous: Any = None,
    constraints: Any = None,
    engine: str = "local",
    **overrides: Unpack[SettingsOverrides],
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
    progress : bool, default False
        Write a line per finished stage to stderr (on a terminal the running
        stage ticks in place). Each stage also logs to the ``"sybilgraph"``
        logger (INFO: name, counts, seconds) whatever this says; configure
        :mod:`logging` to see those records instead.
    previous : DataFrame or path, optional
        The assignments of the previous run (``account_id, cluster_id`` and,
        from the second run on, ``first_seen, run, next_id``). Clusters that
        keep most of their accounts keep their ids; see
        :func:`sybilgraph.runs.stabilise` and ``docs/daily-runs.md``.
    constraints : DataFrame or path, optional
        Analyst constraints ``account_a, account_b, relation`` (``must`` or
        ``cannot``), honoured in the output; see
        :func:`sybilgraph.runs.honour_constraints`.
    engine : {"local", "spark"}, default "local"
        Where the stages run (see :mod:`sybilgraph.engines`); ``"spark"``
        also takes a Spark DataFrame or a Parquet path and gives the same
        clusters and ids.
    **overrides
        Any :class:`Settings` field (``seed=1``, ``resolution=0.5``, ...),
        applied on top of ``settings``; typed by
        :class:`~sybilgraph.settings.SettingsOverrides`, so a misspelt name is a
        type error (and a :class:`ParameterError` at run time).

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
    if progress:
        with show_progress():
            return cluster_accounts(observations, settings=settings, account_col=account_col, kind_col=kind_col,
                                    value_col=value_col, timestamp_col=timestamp_col, previous=previous,
                                    constraints=constraints, engine=engine, **overrides)
    if settings is None:
        settings = Settings()
    elif not isinstance(settings, Settings):
        raise ParameterError(f"The 'settings' parameter of cluster_accounts must be a Settings. Got {settings!r} instead.")
    if overrides:
        try:
            settings = settings.replace(**overrides)
        except TypeError as err:
            raise ParameterError(f"cluster_accounts got an unknown setting: {err}") from err
    # Files of earlier runs and of analysts are read before the work: a bad one fails in well under a second.
    prev = rules = None
    if previous is not None:
        from .runs import read_previous

        prev = read_previous(previous)
    if constraints is not None:
        if engine != "local":
            raise ParameterError(f"constraints= is honoured by the local engine only, not engine={engine!r}; "
                                 "run without constraints or with engine='local'.")
        from .runs import read_constraints

        rules = read_constraints(constraints)
    if engine == "local":
        result = _cluster_local(observations, settings=settings, account_col=account_col, kind_col=kind_col,
                                value_col=value_col, timestamp_col=timestamp_col, rules=rules)
    else:
        result = get_engine(engine)(observations, settings=settings, account_col=account_col, kind_col=kind_col,
                                    value_col=value_col, timestamp_col=timestamp_col)
    if prev is not None:
        from .runs import stabilise

        with _timed(result.timings, "stable ids"):
            result = stabilise(result, prev)
    return result


def _cluster_local(observations: Source, *, settings: Settings, account_col: str, kind_col: str, value_col: str,
                   timestamp_col: str | None, rules: Any = None) -> ClusterResult:
    """The local engine: every stage in memory (see :func:`cluster_accounts`)."""
    report = Report()
    timings: dict[str, float] = {}
    with _timed(timings, "read") as stage:
        obs = read_encoded(observations, account_col=account_col, kind_col=kind_col, value_col=value_col,
                           timestamp_col=timestamp_col, report=report)
        stage.count(rows=len(obs), accounts=len(obs.accounts))
    with _timed(timings, "normalise") as stage:
        norm = normalise_encoded(obs, settings, report=report)
        stage.count(rows=len(norm.account), accounts=len(norm.accounts))
        # Accounts whose every row was skipped still come back, as singletons with no evidence.
        lost = np.flatnonzero(np.bincount(norm.account, minlength=len(norm.accounts)) == 0)
        report.add("normalise", "accounts had no usable value left and are returned as singletons", len(lost),
                   norm.accounts.take(pa.array(lost[:5], type=pa.int64())).to_pylist())
        del obs
    with _timed(timings, "weight") as stage:
        wobs = weight_encoded(norm, settings, report=report)
        stage.count(values=len(wobs.value_kind))
    found = cluster_components(wobs, settings, timings)
    if rules is not None:
        from .runs import honour_membership

        with _timed(timings, "constraints"):
            found = ComponentClusters(found.graph, honour_membership(found.graph, wobs, found.membership, rules, report))
    with _timed(timings, "explain") as stage:
        assignments, clusters, evidence = explain_components(found, wobs)
        stage.count(clusters=len(clusters), evidence_rows=len(evidence))
    with _timed(timings, "to_frame"):  # the normalised codes as the observations table of the result
        observations_table = norm.to_frame()
    return ClusterResult(assignments, clusters, evidence, observations_table, norm.templates, report, settings, timings)
