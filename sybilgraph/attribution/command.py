"""``sybilgraph attribute``: the command line's thin layer over :func:`~sybilgraph.attribution.attribute`.

See :mod:`sybilgraph.attribution` for the model.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..results import ClusterResult
from .core import attribute

if TYPE_CHECKING:  # pragma: no cover
    import argparse

__all__ = ["attribute_cli"]


def attribute_cli(args: "argparse.Namespace", result: ClusterResult) -> int:
    """Run ``sybilgraph attribute``: write one row per account and, optionally, the organisations.

    Writes ``account_id, cluster_id, organisation, confidence`` to
    ``args.output`` (``organisation`` empty where unattributed) and, with
    ``--summary FILE``, the per-organisation table — both together, each
    whole or not at all, CSV cells neutralised as by
    :func:`sybilgraph.write_table`; prints the summary, the unmatched
    indicators and the notes to stderr, control characters escaped.

    Parameters
    ----------
    args : argparse.Namespace
        Uses ``indicators``, ``output``, ``summary`` and ``exchanges``.
    result : ClusterResult
        The clustering of ``args.observations``.

    Returns
    -------
    int
        The exit status, 0.

    Examples
    --------
    ``sybilgraph attribute observations.parquet --indicators indicators.csv -o attributed.csv --summary orgs.csv``
    """
    import dataclasses

    from .._write import printable, staged_writes

    att = attribute(result, args.indicators, exchanges=getattr(args, "exchanges", None))
    out = att.accounts[["account_id", "cluster_id", "organisation", "confidence"]].copy()
    out["organisation"] = out["organisation"].astype(object).where(out["organisation"].notna(), "")
    out["confidence"] = out["confidence"].round(4)
    with staged_writes() as staging:
        staging.table(out, args.output)
        if getattr(args, "summary", None):
            staging.table(att.organisations, args.summary)
    # Escape the names before the summary joins them into lines, so a name cannot forge a line.
    orgs = att.organisations.copy()
    orgs["organisation"] = orgs["organisation"].map(printable)
    print(printable(dataclasses.replace(att, organisations=orgs).summary(), lines=True), file=sys.stderr)
    for row in att.unmatched.itertuples(index=False):
        print(printable(f"unmatched indicator: {row.organisation}, {row.kind}, {row.value} ({row.reason})"), file=sys.stderr)
    for note in att.notes:
        print(printable(f"note: {note}"), file=sys.stderr)
    return 0
