"""Command line: ``sybilgraph demo | cluster | assign | synth | evaluate | attribute | explain | report``.

Every argument, input path and output path is checked before any work
starts, and ``attribute`` reads and checks its indicators (and exchanges)
file then too, so a mistake comes back in well under a second instead of
after the clustering.

Global options (before or after the subcommand): ``--version``; ``-v``
logs each stage (name, counts, seconds) to stderr, ``-vv`` adds debug
records; ``-q`` prints only errors and notes. Without either, a line per
stage shows progress when stderr is a terminal. ``cluster`` and
``attribute`` take every :class:`~sybilgraph.settings.Settings` field as an
option (generated from the dataclass, see :mod:`sybilgraph._cli_settings`)
and ``--settings FILE`` (JSON, as ``Settings.to_json`` writes), which the
options override; ``cluster --json`` prints a machine-readable summary on
stdout.

Errors print one line (``sybilgraph: error: ...``) and nothing prints a
traceback for bad input. Exit status:

``0``
    success;
``1``
    the run failed for another reason: a file could not be read or
    written (disk full, permissions), memory ran out, a dependency failed;
``2``
    usage: the command was refused before any work began — argparse's own
    errors, an option out of range, a settings file that cannot be used,
    an input that does not exist (or a directory without Parquet files, a
    glob that matches nothing), an output with an unknown suffix, in a
    missing or read-only directory, equal to an input file or to another
    output;
``3``
    data: the observations, indicators or exchanges cannot be used (a
    missing column, nothing left to cluster, a malformed indicators or
    exchanges file, an indicator kind that is not among the observations'
    kinds, a file that is not UTF-8);
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

from ._errors import IndicatorError, InputError, ParameterError, SybilGraphError
from ._write import check_output_paths, printable, staged_writes

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .results import ClusterResult
    from .settings import Settings

__all__ = ["main", "DATA_ERROR"]

#: Exit status of a run refused because of its data (observations, indicators, exchanges).
DATA_ERROR = 3


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
    with _sigterm_raises(), _logging(args):
        try:
            return int(args.func(args))
        except ParameterError as err:
            _say(f"sybilgraph: error: {err}")
            return 2
        except (InputError, IndicatorError) as err:
            _say(f"sybilgraph: error: {err}")
            return DATA_ERROR
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
def _logging(args: argparse.Namespace) -> Iterator[None]:
    """Send the "sybilgraph" logger to stderr at the level ``-v``/``-q`` ask for; show stage progress on a terminal.

    Default: warnings only, and a progress line per stage when stderr is a
    terminal. ``-v``: every stage's record (name, counts, seconds) instead of
    the progress lines; ``-vv``: debug records too. ``-q``: errors only, no
    progress, no summary.
    """
    import logging

    from ._progress import logger, show_progress

    verbose, quiet = getattr(args, "verbose", 0) or 0, bool(getattr(args, "quiet", False))
    if quiet:
        level = logging.ERROR
    else:
        level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("sybilgraph: %(message)s"))
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # the command line owns stderr: no second copy through the root logger
    isatty = getattr(sys.stderr, "isatty", None)
    progress = not quiet and verbose == 0 and callable(isatty) and bool(isatty())
    try:
        if progress:
            with show_progress(sys.stderr):
                yield
        else:
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


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

    p = argparse.ArgumentParser(prog="sybilgraph", description="Find the operators behind fake accounts.",
                                epilog="Exit status: 0 done, 1 failed (e.g. an output could not be written), 2 usage "
                                       "error, 3 data error (observations, indicators or exchanges cannot be used), "
                                       "130/143 interrupted.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_verbosity(p, argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command")

    _add_run_commands(sub)
    _add_investigation_commands(sub)
    _add_evaluation_commands(sub)
    for command in sub.choices.values():  # -v/-q after the subcommand too: `sybilgraph cluster ... -q`
        _add_verbosity(command, argparse.SUPPRESS)
    return p


def _add_run_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """``cluster`` and ``assign``: the daily work."""
    cl = sub.add_parser("cluster", help="cluster accounts from an observations file")
    cl.add_argument("observations", help=_OBSERVATIONS_HELP)
    cl.add_argument("-o", "--output", required=True,
                    help="assignments file (.csv, .csv.gz, .parquet or .pq): account_id, cluster_id, cluster_size, "
                         "attachment, periphery_of")
    cl.add_argument("--clusters", metavar="FILE", help="also write the per-cluster table here (.csv, .csv.gz, .parquet, .pq)")
    cl.add_argument("--evidence", metavar="FILE",
                    help="also write the per-cluster evidence table here (.csv, .csv.gz, .parquet, .pq)")
    cl.add_argument("--json", action="store_true",
                    help="print a machine-readable summary (JSON) on stdout: counts, outputs, notes, timings, settings")
    cl.add_argument("--engine", choices=("local", "spark"), default="local",
                    help="where to run: in memory (local, default) or on Apache Spark (needs the spark extra)")
    cl.add_argument("--spark-master", default=None, metavar="URL",
                    help="Spark master URL for --engine spark, e.g. local[2] (default: the active session or local[*])")
    _add_run_args(cl)
    _add_settings_args(cl)
    cl.set_defaults(func=_cluster)

    asg = sub.add_parser("assign", help="place the accounts of new observations into a saved model's clusters")
    asg.add_argument("observations", help="new observations: CSV, Parquet or JSON Lines")
    asg.add_argument("--model", required=True, help="a model directory saved by 'cluster --save-model'")
    asg.add_argument("-o", "--output", required=True,
                     help="assignments of the batch's accounts: account_id, cluster_id, status, links, evidence")
    asg.add_argument("--constraints", help="more analyst constraints, on top of the model's")
    asg.add_argument("--allow-other-version", action="store_true",
                     help="use a model saved by another sybilgraph version (same file format)")
    for name, default in (("--account-col", "account_id"), ("--kind-col", "kind"), ("--value-col", "value"),
                          ("--timestamp-col", "timestamp")):
        asg.add_argument(name, default=default, metavar="C", help=f"column of the new observations (default: {default})")
    asg.set_defaults(func=_assign)


def _add_evaluation_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """``demo``, ``synth`` and ``evaluate``: synthetic campaigns and their scores."""
    from .synth import SCENARIOS

    demo = sub.add_parser("demo", help="cluster a built-in synthetic campaign and print what was found")
    demo.add_argument("--scale", type=float, default=0.25,
                      help="size of the synthetic campaign (1.0 = 124k accounts); default 0.25")
    demo.add_argument("--seed", type=int, default=0, help="seed of the campaign and of Leiden (default: 0)")
    demo.set_defaults(func=_demo)

    sy = sub.add_parser("synth", help="write a synthetic scenario with ground truth")
    sy.add_argument("--scenario", default="distillation", choices=sorted(SCENARIOS),
                    help="; ".join(f"{name}: {_first_sentence(SCENARIOS[name].description)}" for name in sorted(SCENARIOS))
                    + " (default: distillation)")
    sy.add_argument("--scale", type=float, default=1.0,
                    help="size relative to the scenario's own (1.0 = about 124k accounts for distillation); default 1.0")
    sy.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    sy.add_argument("-o", "--output", required=True, metavar="DIR",
                    help="directory to write into: observations.parquet, observations.csv, truth.csv, indicators.csv, "
                         "exchanges.csv, params.json")
    sy.set_defaults(func=_synth)

    ev = sub.add_parser("evaluate", help="score predicted assignments against ground truth")
    ev.add_argument("truth", help="truth file (account_id, entity, role, organisation)")
    ev.add_argument("pred", help="assignments file written by sybilgraph cluster (account_id, cluster_id)")
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.set_defaults(func=_evaluate)


def _add_investigation_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """``explain``, ``attribute`` and ``report``: what an investigator reads."""
    ex = sub.add_parser("explain", help="cluster, then say why one account is in its cluster or not, "
                                        "or what holds one cluster together")
    ex.add_argument("observations", help=_OBSERVATIONS_HELP)
    which = ex.add_mutually_exclusive_group(required=True)
    which.add_argument("--account", help="the account id to explain")
    which.add_argument("--cluster", type=int, help="the cluster id to explain (as in the assignments)")
    _add_settings_args(ex)
    ex.set_defaults(func=_explain)

    at = sub.add_parser("attribute", help="cluster, then attribute clusters to organisations")
    at.add_argument("observations", help=_OBSERVATIONS_HELP)
    at.add_argument("--indicators", required=True, metavar="FILE",
                    help="known indicators: organisation, kind, value[, confidence, source] (CSV, Parquet or JSON Lines)")
    at.add_argument("-o", "--output", required=True, metavar="FILE",
                    help="one row per account (.csv, .csv.gz, .parquet or .pq): account_id, cluster_id, organisation, "
                         "confidence")
    at.add_argument("--summary", metavar="FILE", help="also write the per-organisation table here")
    at.add_argument("--exchanges", metavar="FILE",
                    help="optional file with account_id, exchanges: each organisation's traffic and share of it")
    _add_settings_args(at)
    at.set_defaults(func=_attribute)

    rp = sub.add_parser("report", help="cluster (and attribute) observations, then write a self-contained HTML report")
    rp.add_argument("observations", help=_OBSERVATIONS_HELP)
    rp.add_argument("-o", "--output", required=True, help="the report file (.html or .htm)")
    rp.add_argument("--indicators", help="organisation, kind, value[, confidence, source]: attribute the clusters too")
    rp.add_argument("--exchanges", help="account_id, exchanges (with --indicators): traffic shares per organisation")
    rp.add_argument("--top", type=int, default=20, help="clusters that get a section of their own; default 20")
    _add_settings_args(rp)
    rp.set_defaults(func=_report)


_OBSERVATIONS_HELP = ("observations with columns account_id, kind, value[, timestamp]: a CSV, Parquet or JSON Lines file "
                      "(.gz allowed for CSV and JSON Lines), a directory of Parquet files, or a quoted glob such as "
                      "'exports/*.parquet'")


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".").replace("%", "%%")


def _add_verbosity(p: argparse.ArgumentParser, default: object) -> None:
    """``-v``/``-q``; SUPPRESS as the default so a subcommand's copy does not reset the main parser's."""
    if "-v" in p._option_string_actions:
        return
    group = p.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", default=default,
                       help="log each stage (name, counts, seconds) to stderr instead of the progress display; "
                            "-vv adds debug records")
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="print errors and notes only: no progress, no summary")


def _add_settings_args(p: argparse.ArgumentParser) -> None:
    from ._cli_settings import add_settings_options

    cols = p.add_argument_group("columns of the observations")
    cols.add_argument("--account-col", default="account_id", metavar="C", help="account column (default: account_id)")
    cols.add_argument("--kind-col", default="kind", metavar="C", help="kind column (default: kind)")
    cols.add_argument("--value-col", default="value", metavar="C", help="value column (default: value)")
    cols.add_argument("--timestamp-col", default="timestamp", metavar="C",
                      help="timestamp column, unix seconds or ISO 8601; used when present (default: timestamp)")
    add_settings_options(p)


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--previous", help="the previous run's assignments file: clusters that keep most of their "
                                      "accounts keep their ids (docs/daily-runs.md)")
    p.add_argument("--lineage", help="with --previous: write what happened to each cluster here "
                                     "(previous_id, cluster_id, shared, previous_size, size, event)")
    p.add_argument("--constraints", help="analyst constraints file: account_a, account_b, relation (must/cannot)")
    p.add_argument("--save-model", help="save a model here (a directory) for 'sybilgraph assign'")


# --------------------------------------------------------------------------- checks before any work


def _check_run_args(args: argparse.Namespace, inputs: Sequence[tuple[str, str | None]]) -> None:
    """Read ``--previous`` now (it is small), so a bad file is refused before the clustering."""
    from ._write import OUTPUT_SUFFIXES
    from .runs import read_previous

    if getattr(args, "constraints", None):
        from .runs import read_constraints

        _check_inputs([("constraints", args.constraints)])
        args.constraints_frame = read_constraints(args.constraints)
    if getattr(args, "save_model", None):
        target = Path(args.save_model)
        if target.exists() and not target.is_dir():
            raise _UsageError(f"--save-model {args.save_model!r} is a file; a model is a directory. Give a directory name.")
        existing = next(p for p in [target, *target.absolute().parents] if p.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise _UsageError(f"--save-model {args.save_model!r}: {str(existing)!r} is not a writable directory.")
    if args.lineage and not args.previous:
        raise _UsageError("--lineage needs --previous: lineage compares this run with the previous one.")
    if args.previous:
        if not args.previous.lower().endswith(OUTPUT_SUFFIXES):
            raise _UsageError(f"--previous {args.previous!r}: give the assignments file a previous run wrote "
                              f"(.csv, .csv.gz, .parquet or .pq).")
        _check_inputs([("previous assignments", args.previous)])
        args.previous_frame = read_previous(args.previous)


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
    from ._cli_settings import settings_from_args

    return settings_from_args(args)


def _check_inputs(inputs: Sequence[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Each input exists, is readable and has a suffix the reader knows."""
    from .ingest import SUPPORTED_SUFFIXES

    from ._sources import GLOB_CHARS, check_source_path

    files: list[tuple[str, str | None]] = []  # every file read, so that no output overwrites one
    for label, raw in inputs:
        if raw is None:
            continue
        path = Path(raw)
        name = path.name.lower()
        if label == "observations" and (path.is_dir() or (not path.exists() and GLOB_CHARS & set(raw))):
            # A directory of Parquet files or a glob: something readable must be there.
            files += [(label, str(f)) for f in check_source_path(raw)]
            continue
        if not name.endswith(SUPPORTED_SUFFIXES):
            raise _UsageError(f"cannot tell the format of the {label} file {raw!r} from its suffix; "
                              f"use one of {', '.join(SUPPORTED_SUFFIXES)}.")
        if not path.exists():
            raise _UsageError(f"the {label} file {raw!r} does not exist.")
        if path.is_dir() and not name.endswith((".parquet", ".pq")):
            raise _UsageError(f"the {label} file {raw!r} is a directory.")
        if not os.access(path, os.R_OK):
            raise _UsageError(f"the {label} file {raw!r} is not readable.")
    return list(inputs) + files


# --------------------------------------------------------------------------- commands


def _run_cluster(args: argparse.Namespace, settings: "Settings") -> "ClusterResult":
    from .pipeline import cluster_accounts

    engine = getattr(args, "engine", "local")
    if engine == "spark":
        from .engines.spark import spark_session

        spark_session(args.spark_master)  # the engine then uses this session
    return cluster_accounts(args.observations, settings=settings, account_col=args.account_col, kind_col=args.kind_col,
                            value_col=args.value_col, timestamp_col=args.timestamp_col,
                            previous=getattr(args, "previous_frame", None),
                            constraints=getattr(args, "constraints_frame", None), engine=engine)


def _cluster(args: argparse.Namespace) -> int:
    with _before_work():
        settings = _settings(args)
        inputs = _check_inputs([("observations", args.observations)])
        check_output_paths([("-o", args.output), ("--clusters", args.clusters), ("--evidence", args.evidence),
                            ("--lineage", args.lineage)], inputs)
        _check_run_args(args, inputs)
    result = _run_cluster(args, settings)
    with staged_writes() as out:
        out.table(result.assignments, args.output)
        if args.clusters:
            out.table(result.clusters, args.clusters)
        if args.evidence:
            out.table(result.evidence, args.evidence)
        if args.lineage and result.lineage is not None:
            out.table(result.lineage, args.lineage)
        if args.save_model:
            from .model import build_model, stage_model

            model = build_model(result, constraints=getattr(args, "constraints_frame", None), observations=args.observations,
                                account_col=args.account_col, kind_col=args.kind_col, value_col=args.value_col,
                                timestamp_col=args.timestamp_col)
            stage_model(model, args.save_model, out)
    if not getattr(args, "quiet", False):
        _say(result.summary(), lines=True)
    for note in result.report:
        _say(f"note: {note}")
    if args.json:
        outputs = {"assignments": args.output, "clusters": args.clusters, "evidence": args.evidence}
        print(json.dumps(_cluster_summary(result, args.observations, outputs), sort_keys=True))
    return 0


def _cluster_summary(result: "ClusterResult", source: str, outputs: dict[str, str | None]) -> dict[str, object]:
    """What ``cluster --json`` prints: the run's figures as plain JSON types."""
    from . import __version__

    a = result.assignments
    groups = result.groups()
    return {
        "sybilgraph": __version__,
        "observations_file": source,
        "outputs": {k: v for k, v in outputs.items() if v},
        "accounts": int(result.n_accounts),
        "observations": int(len(result.observations)),
        "clusters": int(len(groups)),
        "clustered_accounts": int(groups["size"].sum()),
        "suspicious_clusters": int(groups["suspicious"].sum()),
        "singletons": int((a["cluster_size"] == 1).sum()),
        "periphery_accounts": int(a["periphery_of"].notna().sum()),
        "largest_clusters": [{"cluster_id": int(r.cluster_id), "size": int(r.size), "score": round(float(r.score), 4),
                              "suspicious": bool(r.suspicious)}
                             for r in groups.sort_values(["size", "cluster_id"], ascending=[False, True]).head(10).itertuples()],
        "notes": [{"stage": n.stage, "count": int(n.count), "message": n.message, "examples": list(n.examples)}
                  for n in result.report],
        "seconds": {k: round(float(v), 3) for k, v in result.timings.items()},
        "settings": result.settings.to_dict(),
    }
def _assign(args: argparse.Namespace) -> int:
    from .model import load_model
    from .runs import read_constraints

    with _before_work():
        inputs = _check_inputs([("observations", args.observations), ("constraints", args.constraints)])
        check_output_paths([("-o", args.output)], inputs)
        model = load_model(args.model, allow_other_version=args.allow_other_version)
        extra = read_constraints(args.constraints) if args.constraints else None
    done = model.assign(args.observations, account_col=args.account_col, kind_col=args.kind_col,
                        value_col=args.value_col, timestamp_col=args.timestamp_col, constraints=extra)
    with staged_writes() as out:
        out.table(done.assignments, args.output)
    counts = done.assignments["status"].value_counts()
    _say(f"{len(done.assignments):,} accounts: " + ", ".join(f"{int(n):,} {s}" for s, n in counts.items())
         + f" in {done.seconds:.2f}s")
    _say(f"drift: {done.drift}")
    for note in done.report:
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
    _say(_organisations_text(attribution.organisations), file=out, lines=True)
    return 0


def _organisations_text(orgs: "pd.DataFrame") -> str:
    """The organisations table for people: counts as integers with thousands separators, shares as percentages."""
    shown = orgs.copy()
    for col in shown.columns:
        kind = shown[col].dtype.kind
        if kind in "iu" or (col == "exchanges" and kind == "f"):
            shown[col] = [f"{int(round(float(v))):,}" if v == v else "" for v in shown[col]]
        elif col.startswith("share") and kind == "f":
            shown[col] = [f"{float(v):.1%}" if v == v else "" for v in shown[col]]
    return shown.to_string(index=False)


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
    if not getattr(args, "quiet", False):
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


def _explain(args: argparse.Namespace) -> int:
    with _before_work():
        settings = _settings(args)
        _check_inputs([("observations", args.observations)])
    result = _run_cluster(args, settings)
    out = sys.stdout
    if args.account is not None:
        why = result.explain_account(args.account)
        _say(why.verdict, file=out)
        table = why.values.drop(columns="value_id")
    else:
        cwhy = result.explain_cluster(args.cluster)
        _say(cwhy.verdict, file=out)
        _say("\nvalues that hold it together:", file=out, lines=True)
        _say(_frame_text(cwhy.holding.drop(columns="value_id")), file=out, lines=True)
        if len(cwhy.hanging):
            _say("\nmembers on one link:", file=out, lines=True)
            _say(_frame_text(cwhy.hanging), file=out, lines=True)
        if len(cwhy.split):
            _say("\nwhat would split it:", file=out, lines=True)
            _say(_frame_text(cwhy.split.drop(columns="value_id").head(10)), file=out, lines=True)
        return 0
    _say("", file=out)
    _say(_frame_text(table), file=out, lines=True)
    return 0


def _frame_text(frame: "pd.DataFrame") -> str:
    """A table as aligned text, every cell made printable first (so a cell cannot forge extra lines)."""
    shown = frame.copy()
    for col in shown.columns:
        if shown[col].dtype == object or str(shown[col].dtype).startswith(("str", "string")):
            shown[col] = shown[col].map(lambda v: printable(v)[:80])
    return shown.to_string(index=False, float_format=lambda x: f"{x:.3g}")


def _attribute(args: argparse.Namespace) -> int:
    import pandas as pd

    from .attribute import _read_exchanges, attribute_cli, read_indicators

    with _before_work():
        settings = _settings(args)
        inputs = _check_inputs([("observations", args.observations), ("indicators", args.indicators),
                                ("exchanges", args.exchanges)])
        check_output_paths([("-o", args.output), ("--summary", args.summary)], inputs)
    # Read and check the indicators (and exchanges) now, not after the clustering; a problem in
    # them is a data error (exit 3). Their kinds are checked against the observations' once those are read.
    read_indicators(args.indicators)
    if args.exchanges:
        _read_exchanges(args.exchanges, pd.Index([], dtype=object), [])
    return attribute_cli(args, _run_cluster(args, settings))


def _report(args: argparse.Namespace) -> int:
    import pandas as pd

    from .attribute import _read_exchanges, attribute, read_indicators
    from .report import REPORT_SUFFIXES, render_report

    with _before_work():
        settings = _settings(args)
        if args.top < 0:
            raise _UsageError(f"--top must be an int >= 0; got {args.top}.")
        if args.exchanges and not args.indicators:
            raise _UsageError("--exchanges needs --indicators (exchanges are reported per organisation).")
        if not args.output.lower().endswith(REPORT_SUFFIXES):
            raise _UsageError(f"-o {args.output!r}: the report must end in .html or .htm.")
        inputs = _check_inputs([("observations", args.observations), ("indicators", args.indicators),
                                ("exchanges", args.exchanges)])
        check_output_paths([("-o", args.output)], inputs, suffixes=False)
        if args.indicators:
            read_indicators(args.indicators)
        if args.exchanges:
            _read_exchanges(args.exchanges, pd.Index([], dtype=object), [])
    result = _run_cluster(args, settings)
    attribution = attribute(result, args.indicators, exchanges=args.exchanges) if args.indicators else None
    text = render_report(result, attribution=attribution, top=args.top)
    with staged_writes() as out:
        out.text(text, args.output)
    _say(result.summary(top=5), lines=True)
    _say(f"wrote the report to {args.output} ({len(text.encode('utf-8')):,} bytes)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
