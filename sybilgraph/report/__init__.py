"""The HTML report: one self-contained, offline file for an investigator (``sybilgraph report``).

:func:`render_report` returns the page as a string; :func:`write_report`
writes it atomically. See :mod:`sybilgraph.report.html` for its contents and
security model, and ``docs/report.md``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import InputError
from .._write import check_output_paths, staged_writes
from .html import render_report

if TYPE_CHECKING:  # pragma: no cover
    from ..attribute import Attribution
    from ..results import ClusterResult

__all__ = ["render_report", "write_report", "REPORT_SUFFIXES"]

#: Suffixes an HTML report's file name may end in.
REPORT_SUFFIXES = (".html", ".htm")


def write_report(result: "ClusterResult", path: str | os.PathLike[str], *, attribution: "Attribution | None" = None,
                 inputs: dict[str, str | os.PathLike[str]] | None = None, **options: Any) -> Path:
    """Write the HTML report of ``result`` to ``path``, whole or not at all.

    Parameters
    ----------
    result : ClusterResult
        Output of :func:`sybilgraph.cluster_accounts`.
    path : str or os.PathLike
        Target file, ending in ``.html`` or ``.htm``; written to a hidden
        temporary beside it and renamed into place.
    attribution : Attribution, optional
        See :func:`render_report`.
    inputs : dict of label to path, optional
        Files the run read (e.g. ``{"observations": "obs.csv"}``); ``path`` may not be one of them.
    **options
        Passed to :func:`render_report` (``top``, ``max_members``, ...).

    Returns
    -------
    Path
        The resolved target.

    Raises
    ------
    InputError
        Wrong suffix, missing or read-only directory, or ``path`` is an input.
    ParameterError
        An option out of range.

    Examples
    --------
    >>> import tempfile, sybilgraph as sg
    >>> data = sg.synth.generate("distillation", scale=0.01, seed=0)
    >>> result = sg.cluster_accounts(data.observations, seed=0)
    >>> target = write_report(result, tempfile.mkdtemp() + "/report.html", top=3)
    >>> target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    """
    if not Path(os.fspath(path)).name.lower().endswith(REPORT_SUFFIXES):
        raise InputError(f"the report {os.fspath(path)!r} must end in .html or .htm.")
    [target] = check_output_paths([("report", path)], list((inputs or {}).items()), suffixes=False)
    text = render_report(result, attribution=attribution, **options)
    with staged_writes() as out:
        out.text(text, target)
    return target
