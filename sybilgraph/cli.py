"""Command line: ``sybilgraph demo | cluster | synth | evaluate | attribute``.

Every argument, input path and output path is checked before any work
starts, and ``attribute`` reads and checks its indicators (and exchanges)
file then too, so a mistake comes back in well under a second instead of
after the clustering.

Errors print one line (``sybilgraph: error: ...``) and nothing prints a
traceback for bad input. Exit status:

``0``
    success;
``1``
    the run started and failed on its data: the observations cannot be used
    (a missing column, nothing left to cluster, an indicator kind that is
    not among the observations' kinds), or a file could not be written;
``2``
    usage: the command was refused before any work began — argparse's own
    errors, an option out of range, an input that does not exist, an output
    with an unknown suffix, in a missing or read-only directory, equal to an
    input file or to another output, or an indicators/exchanges file that
    fails its checks;
``130``
    interrupted (Ctrl-C);
``143``
    terminated (SIGTERM).

Outputs are written to temporaries and renamed into place together at the
end, so an interrupted or failed run leaves the previous files (or none),
never a half-written one or a mix (see ``docs/output-files.md``). Everything
printed passes through :func:`sybilgraph._write.printable`: control and
bidi-override characters in ids or values are shown escaped (``\\x1b``),
never sent to the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence, TextIO

from ._errors import ParameterError, SybilGraphError
from ._write import check_output_paths, printable, staged_writes

if TYPE_CHECKING:  # pragma: no cover
    from .results import ClusterResult
    from .settings import Settings

__all__ = ["main"]


class _UsageError(ParameterError):
    """The command cannot start: an argument, an input or an output path is wrong (exit status 2)."""


class _Terminated(BaseException):
    """SIGTERM arrived: unwind (so temporaries are removed) and exit with 143."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docstring)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    with _sigterm_raises():
        try:
            return int(args.func(args))
        except ParameterError as err:
            _say(f"sybilgraph: error: {err}")
            return 2
        except SybilGraphError as err:
            _say(f"sybilgraph: error: {err}")
            return 1
        except (OSError, MemoryError) as err:
            _say(f"sybilgraph: error: {type(err).__name__}: {err}")
            return 1
        except KeyboardInterrupt:
            _say("sybilgraph: interrupted; no output was left half-written")
            return 130
        except _Terminated:
            _say("sybilgraph: terminated; no output was left half-written")
            return 143


def _say(text: object, *, file: TextIO | None = None, lines: bool = False) -> None:
    """Print ``text`` with control characters escaped (stderr unless ``file`` is given)."""
    print(printable(text, lines=lines), file=sys.stderr if file is None else file)


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into an exception while the command runs, so ``finally`` blocks clean up."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _parser() -> argparse.ArgumentParser:
    from . import __version__
    from .synth import SCENARIOS

    p = argparse.ArgumentParser(prog="sybilgraph", description="Find the operators behind fake accounts.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="cluster a built-in synthetic campaign and print what was found")
    demo.add_argument("--scale", type=float, default=0.25,
                      help="size of the synthetic campaign (1.0 = 124k accounts); default 0.25")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_demo)

    cl = sub.add_parser("cluster", help="cluster accounts from an observations file")
    cl.add_argument("observations", help="CSV, Parquet or JSON Lines with account_id, kind, value[, timestamp]")
    cl.add_argument("-o", "--output", required=True,
                    help="assignments file (.csv, .csv.gz, .parquet or .pq): account_id, cluster_id, cluster_size, "
                         "attachment, periphery_of")
    cl.add_argument("--clusters", help="also write the per-cluster table here")
    cl.add_argument("--evidence", help="also write the per-cluster evidence table here")
    cl.add_argument("--engine", choices=("local", "spark"), default="local",
                    help="where to run: in memory (local, default) or on Apache Spark (needs the spark extra)")
    cl.add_argument("--spark-master", default=None, help="Spark master URL for --engine spark, e.g. local[2]")
    _add_settings_args(cl)
    cl.set_defaults(func=_cluster)

    sy = sub.add_parser("synth", help="write a synthetic scenario with ground truth")
    sy.add_argument("--scenario", default="distillation", choices=sorted(SCENARIOS))
    sy.add_argument("--scale", type=float, default=1.0)
    sy.add_argument("--seed", type=int, default=0)
    sy.add_argument("-o", "--output", required=True, help="directory to write into")
    sy.set_defaults(func=_synth)

    ev = sub.add_parser("evaluate", help="score predicted assignments against ground truth")
    ev.add_argument("truth", help="truth file (account_id, entity, role, organisation)")
    ev.add_argument("pred", help="assignments file written by sybilgraph cluster (account_id, cluster_id)")
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


# --------------------------------------------------------------------------- checks before any work


@contextmanager
def _before_work() -> Iterator[None]:
    """Report any problem found inside the block as a usage error (exit status 2)."""
    try:
        yield
    except _UsageError:
        raise
    except SybilGraphError as err:
        raise _UsageError(str(err)) from err
    except OSError as err:
        raise _UsageError(f"{type(err).__name__}: {err}") from err


def _settings(args: argparse.Namespace) -> "Settings":
    from .settings import Settings

    overrides = {"seed": args.seed}
    for name in ("resolution", "objective", "min_links"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    return Settings().replace(**overrides)


def _check_inputs(inputs: Sequence[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Each input exists, is readable and has a suffix the reader knows."""
    from .ingest import SUPPORTED_SUFFIXES

    for label, raw in inputs:
        if raw is None:
            continue
        path = Path(raw)
        name = path.name.lower()
        if not name.endswith(SUPPORTED_SUFFIXES):
            raise _UsageError(f"cannot tell the format of the {label} file {raw!r} from its suffix; "
                              f"use one of {', '.join(SUPPORTED_SUFFIXES)}.")
        if not path.exists():
            raise _UsageError(f"the {label} file {raw!r} does not exist.")
        if path.is_dir() and not name.endswith((".parquet", ".pq")):
            raise _UsageError(f"the {label} file {raw!r} is a directory.")
        if not os.access(path, os.R_OK):
            raise _UsageError(f"the {label} file {raw!r} is not readable.")
    return list(inputs)


# --------------------------------------------------------------------------- commands


def _run_cluster(args: argparse.Namespace, settings: "Settings") -> "ClusterResult":
    from .pipeline import cluster_accounts

    engine = getattr(args, "engine", "local")
    if engine == "spark":
        from .engines.spark import spark_session

        spark_session(args.spark_master)  # the engine then uses this session
    return cluster_accounts(args.observations, settings=settings, account_col=args.account_col, kind_col=args.kind_col,
                            value_col=args.value_col, timestamp_col=args.timestamp_col, engine=engine)


def _cluster(args: argparse.Namespace) -> int:
    with _before_work():
        settings = _settings(args)
        inputs = _check_inputs([("observations", args.observations)])
        check_output_paths([("-o", args.output), ("--clusters", args.clusters), ("--evidence", args.evidence)], inputs)
    result = _run_cluster(args, settings)
    with staged_writes() as out:
        out.table(result.assignments, args.output)
        if args.clusters:
            out.table(result.clusters, args.clusters)
        if args.evidence:
            out.table(result.evidence, args.evidence)
    _say(result.summary(), lines=True)
    for note in result.report:
        _say(f"note: {note}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from . import metrics, synth
    from .attribute import attribute
    from .pipeline import cluster_accounts

    out = sys.stdout
    t0 = time.perf_counter()
    data = synth.generate("distillation", scale=args.scale, seed=args.seed)
    t1 = time.perf_counter()
    _say(f"synthetic campaign: {data.truth.shape[0]:,} accounts ({int((data.truth['role'] == 'operator').sum()):,} fake), "
         f"{len(data.observations):,} observations, made in {t1 - t0:.1f}s", file=out)
    result = cluster_accounts(data.observations, seed=args.seed)
    _say(f"clustered in {time.perf_counter() - t1:.1f}s", file=out)
    _say(result.summary(), file=out, lines=True)
    figures = metrics.evaluate(data.truth, result.assignments)
    keys = ("sybil_recall", "benign_fp_rate", "operator_purity", "clusters_for_90pct", "n_true_teams", "ari")
    _say("\nagainst the planted truth:", file=out, lines=True)
    _say(metrics.format_table([{k: figures[k] for k in keys}]), file=out, lines=True)
    attribution = attribute(result, data.indicators, exchanges=data.exchanges)
    _say("\nattributed with the known indicators (2-5% of each operator's accounts):", file=out, lines=True)
    _say(attribution.organisations.to_string(index=False), file=out, lines=True)
    return 0


def _synth(args: argparse.Namespace) -> int:
    from . import synth

    with _before_work():
        out = Path(args.output)
        if out.exists() and not out.is_dir():
            raise _UsageError(f"-o {args.output!r} is a file; synth writes a directory of files. Give a directory name.")
        existing = next(p for p in [out, *out.absolute().parents] if p.exists())
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise _UsageError(f"-o {args.output!r}: {str(existing)!r} is not a writable directory.")
    data = synth.generate(args.scenario, scale=args.scale, seed=args.seed)
    data.write(out)
    _say(f"wrote {len(data.observations):,} observations of {len(data.truth):,} accounts to {out}/")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from . import metrics
    from ._write import OUTPUT_SUFFIXES
    from .ingest import _read_file
    from .results import read_table

    with _before_work():
        _check_inputs([("truth", args.truth), ("predictions", args.pred)])
    truth = _read_file(Path(args.truth))
    # The predictions are sybilgraph's own output: read them back exactly (CSV escapes undone).
    pred = read_table(args.pred) if args.pred.lower().endswith(OUTPUT_SUFFIXES) else _read_file(Path(args.pred))
    for frame in (truth, pred):
        if "account_id" in frame:
            frame["account_id"] = frame["account_id"].astype(str)
    figures = metrics.evaluate(truth, pred)
    if args.json:
        print(json.dumps(figures, sort_keys=True, default=float))
    else:
        _say(metrics.format_table([figures]), file=sys.stdout, lines=True)
    return 0


def _attribute(args: argparse.Namespace) -> int:
    import pandas as pd

    from .attribute import _read_exchanges, attribute_cli, read_indicators

    with _before_work():
        settings = _settings(args)
        inputs = _check_inputs([("observations", args.observations), ("indicators", args.indicators),
                                ("exchanges", args.exchanges)])
        check_output_paths([("-o", args.output), ("--summary", args.summary)], inputs)
        # Read and check the indicators (and exchanges) now, not after the clustering;
        # their kinds are checked against the observations' kinds once those are read.
        read_indicators(args.indicators)
        if args.exchanges:
            _read_exchanges(args.exchanges, pd.Index([], dtype=object), [])
    return attribute_cli(args, _run_cluster(args, settings))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
