"""The Spark engine against the local engine: wall time, CPU time and peak memory.

For every size (accounts) the default campaign (``synth.generate("distillation")``
at the matching scale) is written to Parquet once (not timed). Then, each in a
fresh subprocess on that file:

``local``
    ``cluster_accounts(parquet)``.
``spark``
    ``cluster_accounts(parquet, engine="spark")`` on a ``local[2]`` session
    (started before the clock runs; its start-up is reported apart).

Memory is sampled every 0.2 s with psutil over the process tree: the Python
driver, the JVM (in local mode the driver and the executors share it) and the
Python workers Spark starts for ``mapInPandas``/``applyInPandas``. Both runs
must give the same assignments; the script checks it.

Run from the worktree root (so the worktree's copy is imported)::

    PYTHONPATH=. python benchmarks/bench_spark.py --sizes 100000 --json /tmp/bench_spark.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import _common

_CHILD = r"""
import json, sys, time, hashlib
import sybilgraph as sg
path, engine = sys.argv[1], sys.argv[2]
start_up = 0.0
if engine == "spark":
    t = time.perf_counter()
    from sybilgraph.engines.spark import spark_session
    spark = spark_session("local[2]")
    spark.sparkContext.setLogLevel("OFF")
    start_up = time.perf_counter() - t
print("READY", flush=True)
t, c = time.perf_counter(), time.process_time()
r = sg.cluster_accounts(path, seed=0, engine=engine)
wall, cpu = time.perf_counter() - t, time.process_time() - c
digest = hashlib.sha256(r.assignments[["account_id", "cluster_id"]].to_csv(index=False).encode("utf-8", "surrogatepass")).hexdigest()[:16]
print("RESULT " + json.dumps({"wall_s": wall, "driver_cpu_s": cpu, "start_up_s": start_up, "assignments": digest,
                              "timings": {k: round(v, 2) for k, v in r.timings.items()}}), flush=True)
"""


def _sample(pid: int, peaks: dict[str, float], stop: threading.Event) -> None:
    import psutil

    root = psutil.Process(pid)
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        now = {"driver_mib": 0.0, "jvm_mib": 0.0, "workers_mib": 0.0}
        for p in procs:
            try:
                rss = p.memory_info().rss / 2**20
                name = p.name()
            except psutil.Error:
                continue
            key = "driver_mib" if p.pid == pid else "jvm_mib" if "java" in name else "workers_mib"
            now[key] += rss
        for k, v in now.items():
            peaks[k] = max(peaks.get(k, 0.0), v)
        stop.wait(0.2)


def run(path: Path, engine: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), engine], stdout=subprocess.PIPE, text=True, env=env)
    peaks: dict[str, float] = {}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(proc.pid, peaks, stop), daemon=True)
    sampler.start()
    result: dict[str, Any] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
    proc.wait()
    stop.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{engine} failed with exit {proc.returncode}")
    return {"engine": engine, **result, **{k: round(v) for k, v in peaks.items()}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000", help="comma-separated account counts (default 100000)")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args()
    from sybilgraph import synth

    print(_common.version_line(_common.versions("pyspark")))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            data = synth.generate("distillation", scale=size / 124_001, seed=0)
            path = Path(tmp) / f"obs-{size}.parquet"
            data.observations.to_parquet(path, index=False)
            out = [run(path, engine) for engine in ("local", "spark")]
            for row in out:
                row["accounts"] = data.observations["account_id"].nunique()
                row["rows"] = len(data.observations)
            if out[0]["assignments"] != out[1]["assignments"]:
                raise SystemExit(f"the engines disagree at {size} accounts")
            rows += out
            print(_common.markdown_table(rows, ["accounts", "rows", "engine", "wall_s", "driver_cpu_s", "start_up_s",
                                                "driver_mib", "jvm_mib", "workers_mib"]), flush=True)
            for row in out:
                print(row["engine"], row["timings"])
    if args.json:
        Path(args.json).write_text(json.dumps({"versions": _common.versions("pyspark"), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
