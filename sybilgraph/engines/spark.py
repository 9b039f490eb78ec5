"""The Spark engine: the stages as Spark DataFrame operations, the same clusters as the local engine.

Stages (``docs/spark.md`` says what each costs and how it scales):

1. **read and normalise** — per row batch (``mapInPandas``) with the library's
   own :func:`~sybilgraph.ingest.read_encoded` and
   :func:`~sybilgraph.normalise.normalise_encoded`, so every canonical value is
   the local one. Raw prompts are sent to the driver and mined there in one
   piece (exact; costs driver memory in the number of prompt rows), then the
   rows are made distinct per (account, kind, value) with the earliest time.
2. **weight** — a ``groupBy`` counts each value's carriers; values that link
   nobody (one carrier, kind weight 0) or everybody are dropped *before* any
   join (the hub policy of :mod:`sybilgraph.weights`).
3. **components** — large-star/small-star (Kiveris et al. 2014) in plain
   DataFrame operations, checkpointed every round; GraphFrames is not needed.
4. **cluster** — ``groupBy(bucket).applyInPandas`` runs
   :func:`~sybilgraph.engines.local.cluster_component_rows`, the local engine's
   function, on buckets of whole components.
5. **number** — cluster ids made global once (0 = largest, ties by the
   smallest member id), exactly as :func:`~sybilgraph.engines.local.number_clusters`.

The result is a :class:`~sybilgraph.results.ClusterResult` (its tables are
collected to the driver). The report's notes hold the largest component's
size and the seconds per stage.

References
----------
Kiveris, R., Lattanzi, S., Mirrokni, V., Rastogi, V. & Vassilvitskii, S. (2014).
Connected components in MapReduce and beyond. SoCC '14.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from .._errors import EmptyInputError, EngineError
from .._report import Report
from ..ingest import Encoded, read_encoded
from ..normalise import normalise_encoded
from ..results import ClusterResult
from ..settings import Settings
from .local import cluster_component_rows

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["cluster_spark", "connected_components", "spark_session"]

#: Components of more rows than this are cut by the hub policy (see :func:`cluster_spark`).
MAX_COMPONENT_ROWS = 5_000_000

_ROWS = "account_id string, kind string, value string, timestamp double, note string"
_CLUSTERED = ("t string, g long, pos long, account_id string, cluster long, cluster_size long, attachment double, "
              "periphery long, kind string, value string, members long, carriers long, weight double, "
              "exclusivity double, size long, cohesion double, shared_values long, templated double, tooling double, "
              "payment double, burst double, score double, suspicious boolean, periphery_count long, "
              "top_evidence string, first_member string")


def spark_session(master: str | None = None) -> SparkSession:
    """Return the active Spark session, or start one (``master`` such as ``local[2]``).

    Raises
    ------
    EngineError
        pyspark is not installed (``pip install sybilgraph[spark]``).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise EngineError("the Spark engine needs pyspark: pip install 'sybilgraph[spark]'") from err
    builder = SparkSession.builder.appName("sybilgraph")
    if master:
        builder = builder.master(master)
        if master.startswith("local"):  # 200 shuffle partitions cost more than they give on one machine
            builder = builder.config("spark.sql.shuffle.partitions", "4").config("spark.ui.enabled", "false")
    return builder.config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate()


def cluster_spark(observations: Any, *, settings: Settings, account_col: str = "account_id", kind_col: str = "kind",
                  value_col: str = "value", timestamp_col: str | None = "timestamp", spark: SparkSession | None = None,
                  buckets: int | None = None, max_component_rows: int = MAX_COMPONENT_ROWS) -> ClusterResult:
    """Cluster accounts with Spark; the same clusters and ids as the local engine.

    Parameters
    ----------
    observations : Spark DataFrame, pandas DataFrame or path
        A Spark DataFrame or a Parquet path is read by Spark; a pandas
        DataFrame or a CSV / JSON Lines file is read on the driver by
        :func:`~sybilgraph.ingest.read_encoded` and handed to Spark.
    settings : Settings
    account_col, kind_col, value_col, timestamp_col : str
        Column names, as for :func:`sybilgraph.cluster_accounts`.
    spark : SparkSession, optional
        Defaults to the active session (or a new one).
    buckets : int, optional
        Groups of whole components handed to ``applyInPandas`` (default: the
        session's shuffle partitions).
    max_component_rows : int
        Guard for a component too large for one executor: while a component
        holds more (account, value) rows than this, its most carried values
        are dropped (the hub policy) and the components are found again. A
        note says so; the clusters then differ from the local engine's.

    Returns
    -------
    ClusterResult
    """
    spark = spark or spark_session()
    report = Report()
    clock: dict[str, float] = {}
    start = time.perf_counter()
    rows, templates = _normalised(spark, observations, settings, report, account_col, kind_col, value_col, timestamp_col)
    start = _lap(clock, "normalise", start)
    edges, accounts = _weighted(rows, settings, report)
    start = _lap(clock, "weight", start)
    comp, largest = _components_with_guard(spark, edges, max_component_rows, report)
    start = _lap(clock, "components", start)
    n_buckets = buckets or int(spark.conf.get("spark.sql.shuffle.partitions") or 8)
    clustered = _clustered(comp, settings, n_buckets)
    start = _lap(clock, "cluster", start)
    assignments, clusters, evidence = _numbered(clustered, accounts)
    _lap(clock, "number", start)
    report.add("spark", f"accounts in the largest connected component (linking values: {largest[1]:,})", largest[0])
    for stage, seconds in clock.items():
        report.add("spark", f"ms in stage {stage}", max(1, round(seconds * 1000)))
    observations_table = rows.where("kind IS NOT NULL").select("account_id", "kind", "value", "timestamp") \
        .orderBy("account_id", "kind", "value").toPandas()
    return ClusterResult(assignments, clusters, evidence, observations_table, templates, report, settings, clock)


# --------------------------------------------------------------------------- 1. read and normalise


def _normalised(spark: SparkSession, observations: Any, settings: Settings, report: Report, account_col: str,
                kind_col: str, value_col: str, timestamp_col: str | None) -> tuple[DataFrame, pd.DataFrame | None]:
    """Normalised rows ``account_id, kind, value, timestamp`` (distinct); accounts without rows have kind NULL."""
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    if isinstance(observations, DataFrame) or _is_parquet(observations):
        frame = observations if isinstance(observations, DataFrame) else spark.read.parquet(str(observations))
        # Integers become text in Spark (exact); pandas would turn a nullable integer column into floats.
        frame = frame.select(*[F.col(c).cast("string").alias(c) if str(frame.schema[c].dataType) in
                               ("LongType()", "IntegerType()", "ShortType()", "ByteType()") and c != timestamp_col
                               else F.col(c) for c in frame.columns])
        names = (account_col, kind_col, value_col, timestamp_col)
        raw = frame.mapInPandas(lambda batches: _normalise_batches(batches, settings, names, read=True), _ROWS)
    else:
        enc = read_encoded(observations, account_col=account_col, kind_col=kind_col, value_col=value_col,
                           timestamp_col=timestamp_col, report=report)
        frame = spark.createDataFrame(_objects(enc.to_frame(object_columns=True)))
        raw = frame.mapInPandas(lambda batches: _normalise_batches(batches, settings, None, read=False), _ROWS)
        # Accounts every row of which the reader skipped still come back, as singletons.
        listed = pd.DataFrame({"account_id": enc.accounts.to_pylist(), "kind": None, "value": None,
                               "timestamp": np.nan, "note": "account"})
        raw = raw.unionByName(spark.createDataFrame(_objects(listed), _ROWS))
    raw = raw.localCheckpoint()
    _collect_notes(raw, report)
    prompts = raw.where("note = 'prompt'").select("account_id", "value", "timestamp").toPandas()
    templates = None
    if len(prompts):
        mined, templates = _mine_on_driver(prompts, settings, report)
        raw = raw.unionByName(spark.createDataFrame(_objects(mined), _ROWS))
    rows = raw.where("note IS NULL OR note = 'mined'").groupBy("account_id", "kind", "value") \
        .agg(F.min(F.when(~F.isnan("timestamp"), F.col("timestamp"))).alias("timestamp"))
    accounts = raw.where("note = 'account'").select("account_id").distinct()
    kept = rows.where("kind IS NOT NULL").select("account_id").distinct()
    lost = accounts.join(kept, "account_id", "left_anti").orderBy("account_id")
    n_lost = lost.count()
    report.add("normalise", "accounts had no usable value left and are returned as singletons", n_lost,
               [r.account_id for r in lost.limit(5).collect()])
    all_rows = rows.where("kind IS NOT NULL").unionByName(
        lost.select("account_id", F.lit(None).cast("string").alias("kind"), F.lit(None).cast("string").alias("value"),
                    F.lit(None).cast("double").alias("timestamp")))
    return all_rows.localCheckpoint(), templates


def _is_parquet(source: Any) -> bool:
    if not isinstance(source, (str, os.PathLike)):
        return False
    path = Path(source)
    return path.suffix.lower() in (".parquet", ".pq") or (path.is_dir() and any(path.glob("*.parquet")))


def _normalise_batches(batches: Iterator[pd.DataFrame], settings: Settings, names: tuple[Any, ...] | None,
                       read: bool) -> Iterator[pd.DataFrame]:
    """Normalise each batch with the library; raw prompts and notes go out as rows marked in ``note``."""
    for batch in batches:
        report = Report()
        if read:
            assert names is not None
            enc = read_encoded(batch, account_col=names[0], kind_col=names[1], value_col=names[2],
                               timestamp_col=names[3] if names[3] in batch.columns else None, report=report)
        else:
            enc = Encoded.from_frame(batch.assign(timestamp=batch["timestamp"].astype("float64")))
        is_prompt = np.zeros(len(enc), dtype=bool)
        if "prompt" in enc.kinds:
            is_prompt = enc.kind == enc.kinds.index("prompt")
        rest = Encoded(enc.account[~is_prompt], enc.accounts, enc.kind[~is_prompt], enc.kinds, enc.value[~is_prompt],
                       enc.values, enc.timestamp[~is_prompt])
        norm = normalise_encoded(rest, settings, report=report).to_frame()
        out = [norm.assign(timestamp=norm["timestamp"].astype("float64"), note=None),
               pd.DataFrame({"account_id": enc.accounts.to_pylist(), "kind": None, "value": None,
                             "timestamp": np.nan, "note": "account"})]
        if is_prompt.any():
            out.append(pd.DataFrame({"account_id": enc.accounts.take(pa.array(enc.account[is_prompt])).to_pylist(),
                                     "kind": "prompt",
                                     "value": enc.values.take(pa.array(enc.value[is_prompt])).to_pylist(),
                                     "timestamp": enc.timestamp[is_prompt], "note": "prompt"}))
        for n in report:
            out.append(pd.DataFrame({"account_id": [n.stage], "kind": [n.message], "value": ["\x1f".join(n.examples)],
                                     "timestamp": [float(n.count)], "note": ["report"]}))
        yield _objects(pd.concat(out, ignore_index=True)[["account_id", "kind", "value", "timestamp", "note"]])


def _collect_notes(raw: DataFrame, report: Report) -> None:
    """Sum the batches' notes per (stage, message); examples from the first batches."""
    notes = raw.where("note = 'report'").toPandas()
    for (stage, message), part in notes.groupby(["account_id", "kind"], sort=False):
        examples = [e for v in part["value"] for e in v.split("\x1f") if e][:5]
        report.add(str(stage), str(message), int(part["timestamp"].sum()), examples)


def _mine_on_driver(prompts: pd.DataFrame, settings: Settings, report: Report) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Mine the prompt templates of all prompt rows on the driver, as the local engine does."""
    enc = Encoded.from_frame(prompts.assign(kind="prompt"))
    norm = normalise_encoded(enc, settings, report=report)
    frame = norm.to_frame()
    return frame.assign(timestamp=frame["timestamp"].astype("float64"), note="mined"), norm.templates


# --------------------------------------------------------------------------- 2. weight


def _weighted(rows: DataFrame, settings: Settings, report: Report) -> tuple[DataFrame, DataFrame]:
    """Linking edges ``account_id, first_seen, kind, value, degree`` and every account with its first sighting."""
    from pyspark.sql import functions as F

    accounts = rows.groupBy("account_id").agg(F.min("timestamp").alias("first_seen"))
    n_acc = accounts.count()
    if n_acc == 0:
        raise EmptyInputError("no account left to weigh after normalisation (see the report for what was skipped).")
    values = rows.where("kind IS NOT NULL").groupBy("kind", "value").agg(F.count("*").alias("degree"))
    kinds = [r.kind for r in values.select("kind").distinct().collect()]
    weighed = [k for k in kinds if settings.weight_of(k) > 0]
    everybody = values.where((F.col("degree") == n_acc) & F.lit(n_acc >= 3))
    shown = everybody.orderBy("kind", "value").limit(5).collect()
    report.add("weight", "values carried by every account carry no evidence and were ignored", everybody.count(),
               [f"{r.kind}={r.value}" for r in shown])
    # The hub policy before any join: values that link nobody or everybody never reach the graph.
    linking = values.where((F.col("degree") >= 2) & F.col("kind").isin(weighed) & ~((F.col("degree") == n_acc) & F.lit(n_acc >= 3)))
    edges = rows.join(linking, ["kind", "value"]).join(accounts, "account_id")
    return edges.select("account_id", "first_seen", "kind", "value", "degree").localCheckpoint(), accounts


# --------------------------------------------------------------------------- 3. connected components


def connected_components(edges: DataFrame, *, max_rounds: int = 100) -> DataFrame:
    """Label the connected components of an undirected graph by its smallest node (large-star/small-star).

    Parameters
    ----------
    edges : Spark DataFrame
        Columns ``src, dst`` (long node ids).
    max_rounds : int
        Rounds of large-star then small-star; each round is checkpointed.

    Returns
    -------
    Spark DataFrame
        ``node, component`` for every node of an edge; ``component`` is the
        smallest node of its component.

    Raises
    ------
    EngineError
        No convergence within ``max_rounds`` (it takes O(log^2 n) rounds).

    References
    ----------
    Kiveris et al. (2014), Connected components in MapReduce and beyond.
    """
    from pyspark.sql import functions as F

    e = edges.select(F.least("src", "dst").alias("u"), F.greatest("src", "dst").alias("v")).where("u != v").distinct()
    e = e.localCheckpoint()
    before = _checksum(e)
    for _ in range(max_rounds):
        # Large star: every node links its larger neighbours to the smallest node it sees.
        both = e.select("u", "v").unionByName(e.select(F.col("v").alias("u"), F.col("u").alias("v")))
        low = both.groupBy("u").agg(F.min("v").alias("m")).select("u", F.least("u", "m").alias("m"))
        large = both.join(low, "u").where("v > u").select(F.col("v").alias("u"), F.col("m").alias("v"))
        large = large.select(F.least("u", "v").alias("u"), F.greatest("u", "v").alias("v")).where("u != v").distinct()
        # Small star: every node links itself and its smaller neighbours to the smallest of them.
        low = large.groupBy("v").agg(F.min("u").alias("m"))
        small = large.join(low, "v").select(F.col("u"), F.col("m")).unionByName(low.select(F.col("v").alias("u"), "m"))
        small = small.select(F.least("u", "m").alias("u"), F.greatest("u", "m").alias("v")).where("u != v").distinct()
        small = small.localCheckpoint()
        # One job per round: the edge sets are compared by size and a 64-bit hash sum (distinct rows).
        now = _checksum(small)
        e = small
        if now == before:
            break
        before = now
    else:
        raise EngineError(f"connected components did not converge in {max_rounds} rounds")
    # Converged: stars around each component's smallest node.
    return e.select(F.col("v").alias("node"), F.col("u").alias("component")).unionByName(
        e.select(F.col("u").alias("node"), F.col("u").alias("component"))).distinct()


def _checksum(edges: DataFrame) -> tuple[Any, ...]:
    """Size and 64-bit hash sum of a set of edges ``u, v``."""
    from pyspark.sql import functions as F

    row = edges.agg(F.count("*"), F.sum(F.xxhash64("u", "v").cast("decimal(38,0)"))).first()
    return tuple(row) if row is not None else ()


def _components(edges: DataFrame) -> DataFrame:
    """Edges with ``component`` (the smallest account rank in it) and the account's rank."""
    from pyspark.sql import functions as F

    acc = edges.select("account_id").distinct()
    acc = acc.rdd.map(lambda r: r.account_id).sortBy(lambda a: a.encode("utf-8", "surrogatepass")).zipWithIndex() \
        .toDF("account_id string, node long")
    n = acc.count()
    val = edges.select("kind", "value").distinct().rdd.zipWithIndex() \
        .map(lambda r: (r[0].kind, r[0].value, n + r[1])).toDF("kind string, value string, vnode long")
    ids = edges.join(acc, "account_id").join(val, ["kind", "value"])
    labels = connected_components(ids.select(F.col("node").alias("src"), F.col("vnode").alias("dst")))
    return ids.join(labels.withColumnRenamed("component", "c"), "node").withColumnRenamed("c", "component")


def _components_with_guard(spark: SparkSession, edges: DataFrame, limit: int,
                           report: Report) -> tuple[DataFrame, tuple[int, int]]:
    """Components of the linking edges; a component of more than ``limit`` rows loses its most carried values."""
    from pyspark.sql import functions as F

    while True:
        comp = _components(edges).localCheckpoint()
        sizes = comp.groupBy("component").agg(F.count("*").alias("rows"), F.countDistinct("account_id").alias("n"),
                                              F.countDistinct("kind", "value").alias("nv"))
        top = sizes.orderBy(F.desc("rows"), "component").first()
        if top is None:
            return comp, (0, 0)
        if top.rows <= limit:
            return comp, (int(top.n), int(top.nv))
        big = sizes.where(F.col("rows") > limit).select("component")
        top_degree = comp.join(big, "component").agg(F.max("degree")).first()
        cap = int(top_degree[0]) // 2 if top_degree is not None else 0
        if cap < 2:
            raise EngineError(f"a component of {top.rows} rows cannot be cut below max_component_rows={limit}")
        dropped = comp.join(big, "component").where(F.col("degree") > cap).select("kind", "value").distinct()
        report.add("spark", f"values carried by more than {cap} accounts dropped from components of more than "
                            f"{limit} rows (the hub policy; these clusters may differ from the local engine's)",
                   dropped.count(), [f"{r.kind}={r.value}" for r in dropped.limit(5).collect()])
        edges = edges.join(dropped, ["kind", "value"], "left_anti")


# --------------------------------------------------------------------------- 4. cluster, 5. number


def _clustered(comp: DataFrame, settings: Settings, n_buckets: int) -> DataFrame:
    """Run the local engine's function on buckets of whole components."""
    from pyspark.sql import functions as F

    grouped = comp.withColumn("g", F.col("component") % n_buckets) \
        .select("g", "account_id", "first_seen", "kind", "value", "degree")
    return grouped.groupBy("g").applyInPandas(lambda frame: _cluster_bucket(frame, settings), _CLUSTERED).localCheckpoint()


def _cluster_bucket(frame: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """One bucket of components through :func:`cluster_component_rows`, as one long table of three kinds of rows."""
    g = int(frame["g"].iloc[0])
    rows = frame.drop(columns="g").reset_index(drop=True)
    rows["first_seen"] = rows["first_seen"].astype("float64")
    assignments, clusters, evidence = cluster_component_rows(rows, settings)
    first = assignments.groupby("cluster_id", sort=True)["account_id"].first()  # accounts are sorted
    a = pd.DataFrame({"t": "a", "account_id": assignments["account_id"], "cluster": assignments["cluster_id"],
                      "cluster_size": assignments["cluster_size"], "attachment": assignments["attachment"],
                      "periphery": assignments["periphery_of"].astype("float64")})
    c = clusters.rename(columns={"cluster_id": "cluster", "periphery": "periphery_count"}).assign(
        t="c", first_member=first.reindex(clusters["cluster_id"]).to_numpy())
    e = evidence.rename(columns={"cluster_id": "cluster"}).assign(t="e", pos=np.arange(len(evidence)))
    out = pd.concat([a, c, e], ignore_index=True)
    out["g"] = g
    cols = [f.split(" ")[0] for f in _CLUSTERED.split(", ")]
    return _objects(out.reindex(columns=cols))


def _objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as object dtype: PySpark (4.3) cannot yet convert pandas 3's ``str`` columns."""
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col].dtype):
            frame[col] = frame[col].to_numpy(dtype=object)
    return frame


def _numbered(clustered: DataFrame, accounts: DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Global cluster ids (0 = largest, ties by smallest member), and the three tables."""
    from pyspark.sql import functions as F

    members = clustered.where("t = 'a'").select("account_id")
    outside = accounts.join(members, "account_id", "left_anti")
    table = clustered.where("t = 'c'").select("g", "cluster", "size", "first_member").unionByName(
        outside.select(F.lit(-1).cast("long").alias("g"), F.lit(None).cast("long").alias("cluster"),
                       F.lit(1).cast("long").alias("size"), F.col("account_id").alias("first_member")))
    ordered = table.orderBy(F.desc("size"), F.col("first_member").cast("binary"))
    ids = ordered.rdd.zipWithIndex().map(lambda r: (r[0].g, r[0].cluster, r[0].first_member, r[1])) \
        .toDF("g long, cluster long, first_member string, cluster_id long").localCheckpoint()
    inside = ids.where("g >= 0").select("g", "cluster", "cluster_id")
    a = clustered.where("t = 'a'").join(inside, ["g", "cluster"]) \
        .join(inside.select("g", F.col("cluster").alias("periphery"), F.col("cluster_id").alias("periphery_of")),
              ["g", "periphery"], "left") \
        .select("account_id", "cluster_id", "cluster_size", "attachment", "periphery_of")
    alone = ids.where("g < 0").select(F.col("first_member").alias("account_id"), "cluster_id",
                                      F.lit(1).cast("long").alias("cluster_size"), F.lit(0.0).alias("attachment"),
                                      F.lit(None).cast("long").alias("periphery_of"))
    assignments = a.unionByName(alone).orderBy(F.col("account_id").cast("binary")).toPandas()
    c = clustered.where("t = 'c'").join(inside, ["g", "cluster"])
    lone = ids.where("g < 0").join(accounts, F.col("first_member") == F.col("account_id")).select(
        "cluster_id", F.lit(1).cast("long").alias("size"), *[F.lit(0.0).alias(k) for k in ("cohesion",)],
        F.lit(0).cast("long").alias("shared_values"), *[F.lit(0.0).alias(k) for k in ("templated", "tooling", "payment")],
        F.when(F.col("first_seen").isNotNull() & ~F.isnan("first_seen"), 1.0).otherwise(0.0).alias("burst"),
        F.lit(0.0).alias("score"), F.lit(False).alias("suspicious"), F.lit(0).cast("long").alias("periphery"),
        F.lit("").alias("top_evidence"))
    cluster_cols = ["cluster_id", "size", "cohesion", "shared_values", "templated", "tooling", "payment", "burst",
                    "score", "suspicious", "periphery", "top_evidence"]
    clusters = c.drop("periphery").withColumnRenamed("periphery_count", "periphery").select(*cluster_cols).unionByName(lone) \
        .orderBy("cluster_id").toPandas()
    evidence = clustered.where("t = 'e'").join(inside, ["g", "cluster"]).orderBy("cluster_id", "pos") \
        .select("cluster_id", "kind", "value", "members", "carriers", "weight", "exclusivity").toPandas()
    return _typed_assignments(assignments), _typed(clusters, cluster_cols), _typed(evidence, list(evidence.columns))


def _typed_assignments(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"account_id": frame["account_id"].to_numpy(dtype=object),
                        "cluster_id": frame["cluster_id"].to_numpy(dtype=np.int64),
                        "cluster_size": frame["cluster_size"].to_numpy(dtype=np.int64),
                        "attachment": frame["attachment"].to_numpy(dtype=np.float64)})
    out["periphery_of"] = pd.array(frame["periphery_of"].to_numpy(dtype=float, na_value=np.nan), dtype="Float64") \
        .astype("Int64")
    return out


def _typed(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for col in cols:
        s = frame[col]
        if col in ("kind", "value", "top_evidence"):
            out[col] = s.to_numpy(dtype=object)
        elif col == "suspicious":
            out[col] = s.to_numpy(dtype=bool)
        elif col in ("cluster_id", "size", "shared_values", "periphery", "members", "carriers"):
            out[col] = s.to_numpy(dtype=np.int64)
        else:
            out[col] = s.to_numpy(dtype=np.float64)
    return out


def _lap(clock: dict[str, float], stage: str, start: float) -> float:
    now = time.perf_counter()
    clock[stage] = clock.get(stage, 0.0) + now - start
    return now
