"""Performance at scale, measured against the alternatives a user would reach for.

For every size (accounts) the default synthetic campaign
(``sybilgraph.synth.generate("distillation")`` at the matching scale) is
written to CSV once (not timed). Then, each in a fresh subprocess on the same
CSV, so that peak memory is the process's own and nothing is cached:

``floor``
    ``pyarrow.csv.read_csv`` and ``dictionary_encode`` of every column: the
    least any tool that reads the file and tells values apart must do.
``sybilgraph``
    ``cluster_accounts(csv)`` then ``write_table`` of ``account_id,
    cluster_id`` (what ``sybilgraph cluster obs.csv -o out.csv`` does), with
    wall time, CPU time and sampled peak RSS per stage (read, normalise,
    weight, graph, components, leiden, membership, explain = scoring, write).
``networkx``
    The data scientist's approach: pandas reads the CSV, a networkx graph of
    accounts and the raw values two or more of them share, and
    ``networkx.community.louvain_communities(seed=...)``; run under
    ``--timeout-a`` and reported as timed out beyond it.
``components``
    The SQL analyst's approach: connected components over shared raw values
    (``scipy.sparse.csgraph.connected_components`` on the bipartite graph).
``projection``
    The competent engineer's approach: pandas + scipy account--account
    projection of the raw values carried by 2..200 accounts (values with more
    carriers are dropped as hubs), edge weight = number of shared values, and
    igraph's ``community_leiden`` (modularity), seeded.

Every tool goes from the CSV file to a written assignments CSV, and every one
is scored with :func:`sybilgraph.metrics.evaluate` against the planted truth
(scoring is not timed). Results go to ``--json`` and a markdown table is
printed (``--markdown`` also writes it to a file).

Run (the 1M size takes a while; keep it in the background)::

    python benchmarks/bench_scale.py --sizes 10000,100000,1000000 --seed 0 --json /tmp/bench_scale.json \\
        --markdown /tmp/bench_scale.md > /tmp/bench_scale.log 2>&1 &

Peak memory is ``ru_maxrss`` of the subprocess when the tool has written its
output (scoring comes after); per-stage peaks are sampled every 10 ms from
``/proc/self/statm``. CPU seconds are user + system time of the subprocess over
the same span (all threads), which is the steadier figure on a shared machine.
Every subprocess imports all libraries before its clock starts. The load
average is recorded before every run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ACCOUNTS_AT_SCALE_1 = 124_001
QUALITY = ("sybil_recall", "benign_fp_rate", "operator_purity", "clusters_for_90pct", "ari")
STAGES = ("read", "normalise", "weight", "graph", "components", "leiden", "membership", "explain", "write", "attribute")
TOOLS = ("floor", "sybilgraph", "networkx", "components", "projection")
HUB_CAP = 200


# --------------------------------------------------------------------------- measuring


class _RssSampler:
    """Sample this process's resident set size in a thread and keep the peak of each named stage."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.stage = "start"
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        """Current resident set size in bytes (0 where /proc is missing)."""
        try:
            with open("/proc/self/statm", "rb") as fh:
                return int(fh.read().split()[1]) * self._page
        except OSError:
            return 0

    def enter(self, stage: str) -> None:
        """Start attributing samples to ``stage``."""
        self.stage = stage
        self.peaks[stage] = max(self.peaks.get(stage, 0), self.rss())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            stage = self.stage
            self.peaks[stage] = max(self.peaks.get(stage, 0), self.rss())

    def __enter__(self) -> "_RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _peak_rss_self() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


# --------------------------------------------------------------------------- children


def _child_generate(size: int, seed: int, csv: Path, truth: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from sybilgraph import synth

    data = synth.generate("distillation", scale=size / ACCOUNTS_AT_SCALE_1, seed=seed)
    pacsv.write_csv(pa.Table.from_pandas(data.observations, preserve_index=False), csv)
    data.truth.to_parquet(truth, index=False)
    data.indicators.to_csv(_indicators(csv), index=False)
    return {"accounts": int(len(data.truth)), "observations": int(len(data.observations)),
            "fake": int((data.truth["role"] == "operator").sum()), "csv_bytes": csv.stat().st_size}


def _indicators(csv: Path) -> Path:
    """Where the known indicators of a generated campaign are kept (for the attribution stage)."""
    return csv.with_suffix(".indicators.csv")


def _child_floor(csv: Path) -> dict[str, Any]:
    import pyarrow.csv as pacsv

    start = time.perf_counter()
    table = pacsv.read_csv(csv)
    read = time.perf_counter() - start
    encoded = [table.column(name).dictionary_encode() for name in table.column_names]
    total = time.perf_counter() - start
    return {"seconds": total, "read": read, "encode": total - read, "rows": table.num_rows,
            "distinct": {name: len(col.chunk(0).dictionary) if col.num_chunks else 0
                         for name, col in zip(table.column_names, encoded)}}


def _child_sybilgraph(csv: Path, out: Path, seed: int) -> dict[str, Any]:
    import sybilgraph as sg
    from sybilgraph import pipeline
    from sybilgraph.attribute import attribute

    cpu: dict[str, float] = {}
    with _RssSampler() as sampler:
        from sybilgraph._progress import timed as original
        from sybilgraph.engines import local as local_engine

        @contextmanager
        def timed(timings: dict[str, float], stage: str) -> Iterator[Any]:
            sampler.enter(stage)
            c0 = time.process_time()
            try:
                with original(timings, stage) as info:
                    yield info
            finally:
                cpu[stage] = cpu.get(stage, 0.0) + time.process_time() - c0

        # The benchmark's hook: also sample memory and CPU per stage, in the pipeline and the local engine.
        pipeline._timed = timed  # type: ignore[assignment]
        local_engine.timed = timed  # type: ignore[assignment]
        start, c0 = time.perf_counter(), time.process_time()
        result = sg.cluster_accounts(csv, seed=seed)
        sampler.enter("write")
        w0, wc0 = time.perf_counter(), time.process_time()
        sg.write_table(result.assignments[["account_id", "cluster_id"]], out)
        end = time.perf_counter()
        stages = dict(result.timings)
        stages["write"] = end - w0
        cpu["write"] = time.process_time() - wc0
        total_cpu = time.process_time() - c0
        peak = _peak_rss_self()
        # Attribution comes after the assignments are written: timed, but not part of the total.
        sampler.enter("attribute")
        a0, ac0 = time.perf_counter(), time.process_time()
        attributed = attribute(result, _indicators(csv))
        stages["attribute"] = time.perf_counter() - a0
        cpu["attribute"] = time.process_time() - ac0
    return {"seconds": end - start, "cpu_seconds": total_cpu, "peak_rss_timed": peak, "stages": stages, "stage_cpu": cpu,
            "stage_peak_bytes": dict(sampler.peaks), "n_clusters_2plus": int((result.clusters["size"] >= 2).sum()),
            "organisations_found": int(len(attributed.organisations))}


def _read_raw(csv: Path) -> Any:
    import pandas as pd

    return pd.read_csv(csv, dtype=str, keep_default_na=False)


def _write_assignments(accounts: Any, labels: Any, out: Path) -> None:
    import pandas as pd

    pd.DataFrame({"account_id": accounts, "cluster_id": labels}).to_csv(out, index=False)


def _child_networkx(csv: Path, out: Path, seed: int) -> dict[str, Any]:
    import networkx as nx
    import numpy as np

    start = time.perf_counter()
    df = _read_raw(csv)
    df["node"] = df["kind"] + ":" + df["value"]
    df = df.drop_duplicates(["account_id", "node"])
    shared = df[df.groupby("node")["account_id"].transform("size") >= 2]
    graph = nx.Graph()
    accounts = df["account_id"].unique()
    graph.add_nodes_from(accounts)
    graph.add_edges_from(zip(shared["account_id"], "v:" + shared["node"]))
    communities = nx.community.louvain_communities(graph, seed=seed)
    label = {}
    for i, members in enumerate(communities):
        for node in members:
            label[node] = i
    labels = np.array([label[a] for a in accounts])
    _write_assignments(accounts, labels, out)
    return {"seconds": time.perf_counter() - start, "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}


def _bipartite(df: Any) -> tuple[Any, Any, Any, int, int]:
    import numpy as np
    import pandas as pd

    acc, accounts = pd.factorize(df["account_id"])
    val, values = pd.factorize(df["kind"] + "\x1f" + df["value"])
    pairs = np.unique(acc.astype(np.int64) * len(values) + val)
    return pairs // len(values), pairs % len(values), accounts, len(accounts), len(values)


def _child_components(csv: Path, out: Path) -> dict[str, Any]:
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    start = time.perf_counter()
    acc, val, accounts, n_acc, n_val = _bipartite(_read_raw(csv))
    n = n_acc + n_val
    adj = sp.coo_matrix((np.ones(len(acc), dtype=np.int8), (acc, n_acc + val)), shape=(n, n)).tocsr()
    _, labels = connected_components(adj, directed=False)
    _write_assignments(accounts, labels[:n_acc], out)
    return {"seconds": time.perf_counter() - start, "components": int(len(np.unique(labels[:n_acc])))}


def _child_projection(csv: Path, out: Path, seed: int) -> dict[str, Any]:
    import igraph as ig
    import numpy as np
    import scipy.sparse as sp

    start = time.perf_counter()
    acc, val, accounts, n_acc, n_val = _bipartite(_read_raw(csv))
    carriers = np.bincount(val, minlength=n_val)
    keep = (carriers[val] >= 2) & (carriers[val] <= HUB_CAP)
    incidence = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32), (acc[keep], val[keep])), shape=(n_acc, n_val))
    shared = sp.triu(incidence @ incidence.T, k=1).tocoo()
    graph = ig.Graph(n=n_acc, edges=np.column_stack((shared.row, shared.col)), directed=False)
    ig.set_random_number_generator(random.Random(seed))
    part = graph.community_leiden(objective_function="modularity", weights=shared.data.astype(float))
    ig.set_random_number_generator(random)
    _write_assignments(accounts, np.asarray(part.membership), out)
    return {"seconds": time.perf_counter() - start, "edges": int(shared.nnz)}


def _quality(truth: Path, assignments: Path) -> dict[str, Any]:
    import pandas as pd

    from sybilgraph import metrics

    t = pd.read_parquet(truth)
    a = pd.read_csv(assignments, dtype={"account_id": str})
    figures = metrics.evaluate(t, a)
    return {k: (float(figures[k]) if isinstance(figures[k], float) else int(figures[k])) for k in QUALITY + ("n_clusters",)}


def _child_main(args: argparse.Namespace) -> int:
    paths = json.loads(args.child_args)
    kind = args.child
    csv, out = Path(paths.get("csv", "")), Path(paths.get("out", ""))
    # Import every library first so that no tool's time includes imports.
    import igraph  # noqa: F401
    import networkx  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import scipy.sparse.csgraph  # noqa: F401

    import sybilgraph  # noqa: F401

    c0 = time.process_time()
    if kind == "generate":
        result = _child_generate(paths["size"], paths["seed"], csv, Path(paths["truth"]))
    elif kind == "floor":
        result = _child_floor(csv)
    elif kind == "sybilgraph":
        result = _child_sybilgraph(csv, out, paths["seed"])
    elif kind == "networkx":
        result = _child_networkx(csv, out, paths["seed"])
    elif kind == "components":
        result = _child_components(csv, out)
    elif kind == "projection":
        result = _child_projection(csv, out, paths["seed"])
    else:
        raise SystemExit(f"unknown child {kind!r}")
    result.setdefault("cpu_seconds", time.process_time() - c0)
    result.setdefault("peak_rss_timed", _peak_rss_self())  # before scoring, which is not part of any tool
    if kind not in ("generate", "floor"):
        result["quality"] = _quality(Path(paths["truth"]), out)
    Path(paths["result"]).write_text(json.dumps(result))
    return 0


# --------------------------------------------------------------------------- parent


def _run_child(kind: str, payload: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; return its result with ``peak_rss`` and ``cpu_seconds`` from ``wait4``."""
    result_path = Path(payload["result"])
    result_path.unlink(missing_ok=True)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, "--child-args", json.dumps(payload)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True)
    status, usage = 0, None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if timeout is not None and time.perf_counter() - start > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            return {"status": "timeout", "timeout": timeout, "load_before": load,
                    "wall_until_killed": time.perf_counter() - start}
        time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not result_path.exists():
        return {"status": f"failed (exit {proc.returncode})", "load_before": load}
    result = json.loads(result_path.read_text())
    result.update(status="ok", load_before=load, process_seconds=time.perf_counter() - start,
                  peak_rss=int(usage.ru_maxrss) * 1024, cpu_total=usage.ru_utime + usage.ru_stime)
    return result


def _machine() -> dict[str, Any]:
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for name in ("sybilgraph", "numpy", "scipy", "pandas", "pyarrow", "igraph", "leidenalg", "networkx"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "missing"
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"versions": versions, "cores": os.cpu_count(), "ram_bytes": ram, "cpu_model": cpu_model,
            "platform": platform.platform(), "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def _gib(n: float | None) -> str:
    return "–" if n is None else f"{n / 2**30:.2f}"


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return "nan" if x != x else f"{x:.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def markdown(results: dict[str, Any]) -> str:
    """Return the markdown tables of a results dict (as written to ``--json``)."""
    lines = []
    m = results["machine"]
    v = m["versions"]
    lines.append(f"Machine: {m['cores']} cores, {_gib(m['ram_bytes'])} GiB RAM, {m['cpu_model']}; "
                 + ", ".join(f"{k} {val}" for k, val in v.items()) + f"; seed {results['seed']}.")
    lines.append("")
    lines.append("| accounts | observations | tool | wall s | CPU s | peak GiB | ÷ floor | ÷ sybilgraph "
                 "| sybil_recall | benign_fp_rate | operator_purity | clusters_for_90pct | ARI |")
    lines.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results["sizes"]:
        floor = row["runs"].get("floor", {})
        ours = row["runs"].get("sybilgraph", {})
        for tool in TOOLS:
            run = row["runs"].get(tool)
            if run is None:
                continue
            if run.get("status") != "ok":
                label = f"{run.get('status')}"
                if run.get("status") == "timeout":
                    label = f"> {run['timeout']:.0f} (timed out)"
                lines.append(f"| {row['accounts']:,} | {row['observations']:,} | {tool} | {label} | | | | | | | | | |")
                continue
            q = run.get("quality", {})
            ratio = f"{run['seconds'] / floor['seconds']:.1f}" if floor.get("status") == "ok" and tool != "floor" else ""
            faster = (f"{run['seconds'] / ours['seconds']:.2f}" if ours.get("status") == "ok" and tool not in ("floor", "sybilgraph")
                      else "")
            lines.append(
                f"| {row['accounts']:,} | {row['observations']:,} | {tool} | {run['seconds']:.1f} | {run['cpu_seconds']:.1f} "
                f"| {_gib(run['peak_rss_timed'])} | {ratio} | {faster} | {_fmt(q.get('sybil_recall'))} | {_fmt(q.get('benign_fp_rate'), 5)} "
                f"| {_fmt(q.get('operator_purity'))} | {_fmt(q.get('clusters_for_90pct'))} | {_fmt(q.get('ari'))} |"
            )
    lines.append("")
    lines.append("÷ floor: wall time over the floor's (read + dictionary-encode the CSV with pyarrow). ÷ sybilgraph: wall time "
                 "over sybilgraph's at the same size (above 1: sybilgraph is faster).")
    lines.append("")
    lines.append("sybilgraph per stage: wall seconds (CPU seconds) / sampled peak RSS GiB. `attribute` "
                 "(`sybilgraph.attribute.attribute` with the campaign's known indicators) runs after the assignments are written "
                 "and is not in the total.")
    lines.append("")
    lines.append("| accounts | " + " | ".join(STAGES) + " | total |")
    lines.append("|---:|" + "---:|" * (len(STAGES) + 1))
    for row in results["sizes"]:
        ours = row["runs"].get("sybilgraph", {})
        if ours.get("status") != "ok":
            continue
        cells = []
        for stage in STAGES:
            sec = ours["stages"].get(stage)
            cpu = ours["stage_cpu"].get(stage)
            peak = ours["stage_peak_bytes"].get(stage)
            cells.append("–" if sec is None else f"{sec:.2f} ({cpu:.2f}) / {_gib(peak)}")
        cells.append(f"{ours['seconds']:.1f} ({ours['cpu_seconds']:.1f}) / {_gib(ours['peak_rss_timed'])}")
        lines.append(f"| {row['accounts']:,} | " + " | ".join(cells) + " |")
    growth = [r for r in results["sizes"] if r["runs"].get("sybilgraph", {}).get("status") == "ok"]
    if len(growth) >= 2:
        lines.append("")
        for a, b in zip(growth, growth[1:]):
            ta, tb = a["runs"]["sybilgraph"]["seconds"], b["runs"]["sybilgraph"]["seconds"]
            lines.append(f"Growth {a['accounts']:,} → {b['accounts']:,} accounts ({b['accounts'] / a['accounts']:.1f}×): "
                         f"time {tb / ta:.1f}×.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated numbers of accounts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write all results here")
    p.add_argument("--markdown", help="also write the markdown tables here")
    p.add_argument("--skip-alternatives", action="store_true", help="measure only the floor and sybilgraph")
    p.add_argument("--timeout-a", type=float, default=600.0, help="seconds allowed to the networkx approach (a)")
    p.add_argument("--timeout", type=float, default=7200.0, help="seconds allowed to every other run")
    p.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "sybilgraph-bench"),
                   help="where the CSV files are written (reused when present)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--child-args", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return _child_main(args)

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    machine = _machine()
    print(json.dumps(machine, indent=1), file=sys.stderr, flush=True)
    results: dict[str, Any] = {"machine": machine, "seed": args.seed, "sizes": [], "hub_cap": HUB_CAP,
                               "timeout_a": args.timeout_a}
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        stem = work / f"distillation-{size}-seed{args.seed}"
        csv, truth, meta = stem.with_suffix(".csv"), stem.with_suffix(".truth.parquet"), stem.with_suffix(".json")
        if not (csv.exists() and truth.exists() and meta.exists() and _indicators(csv).exists()):
            info = _run_child("generate", {"size": size, "seed": args.seed, "csv": str(csv), "truth": str(truth),
                                           "result": str(meta) + ".tmp"}, args.timeout)
            if info.get("status") != "ok":
                print(f"generating {size} accounts failed: {info}", file=sys.stderr)
                return 1
            meta.write_text(json.dumps(info))
        info = json.loads(meta.read_text())
        row: dict[str, Any] = {"size": size, "accounts": info["accounts"], "observations": info["observations"],
                               "fake": info["fake"], "csv_bytes": info["csv_bytes"], "runs": {}}
        results["sizes"].append(row)
        tools = ("floor", "sybilgraph") if args.skip_alternatives else TOOLS
        for tool in tools:
            payload = {"csv": str(csv), "truth": str(truth), "out": str(stem) + f".{tool}.assignments.csv",
                       "seed": args.seed, "result": str(stem) + f".{tool}.result.json"}
            print(f"[{time.strftime('%H:%M:%S')}] {info['accounts']:,} accounts: {tool} ...", file=sys.stderr, flush=True)
            run = _run_child(tool, payload, args.timeout_a if tool == "networkx" else args.timeout)
            row["runs"][tool] = run
            summary = {k: run.get(k) for k in ("status", "seconds", "cpu_seconds", "peak_rss_timed", "load_before")}
            print(f"    {summary} {run.get('quality', '')}", file=sys.stderr, flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=1))
    table = markdown(results)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
