"""Command line: ``sybilgraph demo | cluster | synth | evaluate | attribute``.

Errors print one line (``sybilgraph: error: ...``) and exit with status 2;
nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

from ._errors import SybilGraphError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except SybilGraphError as err:
        print(f"sybilgraph: error: {err}", file=sys.stderr)
        return 2
    except (OSError, MemoryError) as err:
        print(f"sybilgraph: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sybilgraph: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sybilgraph", description="Find the operators behind fake accounts.")
    sub = p.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="cluster a built-in synthetic campaign and print what was found")
    demo.add_argument("--scale", type=float, default=0.25,
                      help="size of the synthetic campaign (1.0 = 124k accounts); default 0.25")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_demo)

    cl = sub.add_parser("cluster", help="cluster accounts from an observations file")
    cl.add_argument("observations", help="CSV, Parquet or JSON Lines with account_id, kind, value[, timestamp]")
    cl.add_argument("-o", "--output", required=True, help="assignments file (.csv or .parquet): account_id,cluster_id")
    cl.add_argument("--clusters", help="also write the per-cluster table here")
    cl.add_argument("--evidence", help="also write the per-cluster evidence table here")
    _add_settings_args(cl)
    cl.set_defaults(func=_cluster)

    sy = sub.add_parser("synth", help="write a synthetic scenario with ground truth")
    sy.add_argument("--scenario", default="distillation")
    sy.add_argument("--scale", type=float, default=1.0)
    sy.add_argument("--seed", type=int, default=0)
    sy.add_argument("-o", "--output", required=True, help="directory to write into")
    sy.set_defaults(func=_synth)

    ev = sub.add_parser("evaluate", help="score predicted assignments against ground truth")
    ev.add_argument("truth", help="truth file (account_id, entity, role, organisation)")
    ev.add_argument("pred", help="assignments file (account_id, cluster_id)")
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.set_defaults(func=_evaluate)

    at = sub.add_parser("attribute", help="cluster, then attribute clusters to organisations")
    at.add_argument("observations")
    at.add_argument("--indicators", required=True, help="organisation, kind, value[, confidence, source]")
    at.add_argument("-o", "--output", required=True, help="account_id, cluster_id, organisation, confidence")
    at.add_argument("--summary", help="write the per-organisation table here")
    at.add_argument("--exchanges", help="optional file with account_id, exchanges for traffic shares")
    _add_settings_args(at)
    at.set_defaults(func=_attribute)
    return p


def _add_settings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resolution", type=float, default=None)
    p.add_argument("--objective", choices=("modularity", "cpm"), default=None)
    p.add_argument("--min-links", type=int, default=None)
    p.add_argument("--account-col", default="account_id")
    p.add_argument("--kind-col", default="kind")
    p.add_argument("--value-col", default="value")
    p.add_argument("--timestamp-col", default="timestamp")


def _run_cluster(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .pipeline import cluster_accounts

    overrides = {"seed": args.seed}
    for name in ("resolution", "objective", "min_links"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    return cluster_accounts(args.observations, account_col=args.account_col, kind_col=args.kind_col,
                            value_col=args.value_col, timestamp_col=args.timestamp_col, **overrides)


def _cluster(args: argparse.Namespace) -> int:
    from .results import write_table

    result = _run_cluster(args)
    write_table(result.assignments[["account_id", "cluster_id"]], args.output)
    if args.clusters:
        write_table(result.clusters, args.clusters)
    if args.evidence:
        write_table(result.evidence, args.evidence)
    print(result.summary(), file=sys.stderr)
    for note in result.report:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from . import metrics, synth
    from .pipeline import cluster_accounts

    t0 = time.perf_counter()
    data = synth.generate("distillation", scale=args.scale, seed=args.seed)
    t1 = time.perf_counter()
    print(f"synthetic campaign: {data.truth.shape[0]:,} accounts ({int((data.truth['role'] == 'operator').sum()):,} fake), "
          f"{len(data.observations):,} observations, made in {t1 - t0:.1f}s")
    result = cluster_accounts(data.observations, seed=args.seed)
    print(f"clustered in {time.perf_counter() - t1:.1f}s")
    print(result.summary())
    figures = metrics.evaluate(data.truth, result.assignments)
    keys = ("sybil_recall", "benign_fp_rate", "operator_purity", "clusters_for_90pct", "n_true_teams", "ari")
    print("\nagainst the planted truth:")
    print(metrics.format_table([{k: figures[k] for k in keys}]))
    from .attribute import attribute

    attribution = attribute(result, data.indicators, exchanges=data.exchanges)
    print("\nattributed with the known indicators (2-5% of each operator's accounts):")
    print(attribution.organisations.to_string(index=False))
    return 0


def _synth(args: argparse.Namespace) -> int:
    from . import synth

    data = synth.generate(args.scenario, scale=args.scale, seed=args.seed)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    data.write(out)
    print(f"wrote {len(data.observations):,} observations of {len(data.truth):,} accounts to {out}/", file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from . import metrics
    from .ingest import _read_file

    truth = _read_file(Path(args.truth))
    pred = _read_file(Path(args.pred))
    for frame in (truth, pred):
        if "account_id" in frame:
            frame["account_id"] = frame["account_id"].astype(str)
    figures = metrics.evaluate(truth, pred)
    if args.json:
        print(json.dumps(figures, sort_keys=True, default=float))
    else:
        print(metrics.format_table([figures]))
    return 0


def _attribute(args: argparse.Namespace) -> int:
    from .attribute import attribute_cli

    return attribute_cli(args, _run_cluster(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
