"""Benchmark of :func:`sybilgraph.templates.mine_templates` against the candidates it was chosen over.

The corpus is the library's own, :func:`sybilgraph.synth.prompt_corpus`
(``--script english`` by default: prompts from instruction templates with
their slots filled and some paraphrased, free-form prompts, and popular
system prompts repeated verbatim), and the scores are the library's own
:func:`sybilgraph.metrics.pairwise_scores` against the group of origin.

Run from the repository root (so this copy of sybilgraph is imported)::

    PYTHONPATH=. python benchmarks/bench_templates.py --n-prompts 1000000 --seed 0 --json out.json
    PYTHONPATH=. python benchmarks/bench_templates.py --n-prompts 100000 --compare   # candidates

Speed is the fastest of ``--repeat`` runs; peak memory is ``ru_maxrss`` and
"extra" is that peak minus the RSS before the call (the generated corpus).

``--compare`` also runs the candidate methods measured for
``docs/prompt_templates.md`` (Drain via drain3 on sorted distinct texts,
MinHash-LSH on the whole-text shingle sets with datasketch and with a
vectorised numpy sketch, the same on frequent shingles only, and the method
the library ships). drain3 is optional: without it that candidate is skipped.
Figures in the docs measured before 2026-11-29 used the benchmark's former
private English generator; rerun for figures on this corpus.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import multiprocessing as mp
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sybilgraph import metrics, synth
from sybilgraph.synth import PromptCorpus as Corpus

__all__ = ["main"]


# --------------------------------------------------------------------------- #
# Candidates (for --compare)
# --------------------------------------------------------------------------- #


def _run_library(corpus: Corpus, args: argparse.Namespace) -> np.ndarray:
    from sybilgraph.templates import mine_templates

    default = inspect.signature(mine_templates).parameters["threshold"].default
    res = mine_templates(corpus.texts, corpus.accounts if not args.no_accounts else None,
                         threshold=default if args.threshold is None else args.threshold,
                         seed=args.seed)
    return res.template_ids


def _distinct_normalised(texts: Sequence[str] | np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes of the rows into the sorted distinct normalised texts."""
    from sybilgraph import templates as T

    codes, uniques = pd.factorize(np.asarray(texts, dtype=object))
    norm: list[str] = []
    for lo in range(0, len(uniques), 16384):
        norm.extend(T._normalise_chunk(list(uniques[lo:lo + 16384])).to_pylist())
    distinct = sorted(set(norm))  # sorted: order-independent processing
    index = {t: i for i, t in enumerate(distinct)}
    doc_of_unique = np.array([index[t] for t in norm], dtype=np.int64)
    return doc_of_unique[codes], distinct


def _run_drain(corpus: Corpus, args: argparse.Namespace) -> np.ndarray:
    """Drain (drain3) over the sorted distinct normalised texts."""
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    rows, distinct = _distinct_normalised(corpus.texts)
    cfg = TemplateMinerConfig()
    cfg.profiling_enabled = False
    cfg.drain_sim_th = args.drain_sim_th
    cfg.drain_depth = 4
    miner = TemplateMiner(config=cfg)
    cluster = np.array([miner.add_log_message(t)["cluster_id"] for t in distinct], dtype=np.int64)
    return cluster[rows]


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        p = self.parent
        while p[i] != i:
            p[i] = p[p[i]]
            i = p[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _run_datasketch_lsh(corpus: Corpus, args: argparse.Namespace) -> np.ndarray:
    """datasketch MinHash + MinHashLSH on the word-trigram sets of whole texts."""
    from datasketch import MinHash, MinHashLSH

    rows, distinct = _distinct_normalised(corpus.texts)
    sets = []
    for t in distinct:
        w = [x.strip(".,:;!?()") for x in t.split()]
        w = [x for x in w if x]
        sets.append({" ".join(w[i:i + 3]).encode() for i in range(max(1, len(w) - 2))})
    hashes = MinHash.bulk(sets, num_perm=64, seed=args.seed)
    lsh = MinHashLSH(threshold=args.lsh_threshold, num_perm=64)
    for i, m in enumerate(hashes):
        lsh.insert(i, m)
    uf = _UnionFind(len(distinct))
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            uf.union(i, j)
    root = np.array([uf.find(i) for i in range(len(distinct))], dtype=np.int64)
    return root[rows]


def _numpy_lsh_groups(features: np.ndarray, doc: np.ndarray, members: np.ndarray,
                      n_docs: int, doc_hash: np.ndarray, threshold: float,
                      num_perm: int = 64, rows_per_band: int = 2) -> np.ndarray:
    """Connected components of texts whose MinHash signatures agree (vectorised)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from sybilgraph import templates as T

    order = np.argsort(doc, kind="stable")
    f, d = features[order].astype(np.uint64), doc[order]
    starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]]) if len(d) else np.empty(0, np.int64)
    rng = np.random.default_rng(0)
    mult = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    sig = np.full((n_docs, num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(num_perm):
            sig[d[starts], k] = np.minimum.reduceat(T._mix(f * mult[k]), starts)
    ea, eb = [], []
    sub = sig[members]
    with np.errstate(over="ignore"):
        for band in range(num_perm // rows_per_band):
            key = np.zeros(len(members), dtype=np.uint64)
            for j in range(rows_per_band):
                key = T._mix(key * T._M1 + sub[:, band * rows_per_band + j])
            o = np.lexsort((doc_hash[members], key))
            run = T._run_starts(key[o])
            leader = np.repeat(members[o][run], np.diff(np.r_[run, len(o)]))
            m = members[o]
            ok = (np.count_nonzero(sig[m] == sig[leader], axis=1) >= threshold * num_perm)
            ea.append(m[ok & (m != leader)])
            eb.append(leader[ok & (m != leader)])
    a, b = np.concatenate(ea), np.concatenate(eb)
    g = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_docs, n_docs))
    return connected_components(g, directed=False)[1]


def _numpy_lsh(corpus: Corpus, args: argparse.Namespace, skeleton: bool) -> np.ndarray:
    import pyarrow as pa

    from sybilgraph import templates as T

    rows, distinct = _distinct_normalised(corpus.texts)
    n_docs = len(distinct)
    feats, docs = [], []
    for lo in range(0, n_docs, 16384):
        f, d = T._shingles(pa.array(distinct[lo:lo + 16384], type=pa.string()))
        feats.append(f)
        docs.append(d + lo)
    f, d = np.concatenate(feats), np.concatenate(docs)
    doc_hash = T._hash_strings(np.asarray(distinct, dtype=object))
    members = np.arange(n_docs)
    if skeleton:  # keep the shingles found in >= MIN_TEXTS texts
        u, inv, cnt = np.unique(f, return_inverse=True, return_counts=True)
        keep = cnt[inv] >= T.MIN_TEXTS
        f, d = f[keep], d[keep]
        size = np.bincount(d, minlength=n_docs)
        members = np.flatnonzero(size >= T.MIN_SHINGLES)
    comp = _numpy_lsh_groups(f, d, members, n_docs, doc_hash, args.lsh_threshold)
    label = np.where(np.isin(np.arange(n_docs), members), comp, n_docs + np.arange(n_docs))
    return label[rows]


CANDIDATES: dict[str, Callable[[Corpus, argparse.Namespace], np.ndarray]] = {
    "sybilgraph": _run_library,
    "drain3 (sorted)": _run_drain,
    "datasketch MinHashLSH (whole text)": _run_datasketch_lsh,
    "numpy MinHash-LSH (whole text)": lambda c, a: _numpy_lsh(c, a, skeleton=False),
    "numpy MinHash-LSH (frequent shingles)": lambda c, a: _numpy_lsh(c, a, skeleton=True),
}



def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _score(name: str, corpus: Corpus, pred: np.ndarray, seconds: float,
           rss_before: float, peak: float) -> dict[str, object]:
    n = len(corpus.texts)
    row: dict[str, object] = {"method": name, "n_prompts": n}
    p, r, _ = metrics.pairwise_scores(corpus.truth, pred)
    row.update(precision=round(p, 5), recall=round(r, 5))
    tmask = corpus.kind == "template"
    p_t, r_t, _ = metrics.pairwise_scores(corpus.truth[tmask], pred[tmask])
    row.update(precision_templates=round(p_t, 5), recall_templates=round(r_t, 5))
    row.update(seconds=round(seconds, 2), prompts_per_s=round(n / seconds),
               peak_rss_mb=round(peak, 1), extra_rss_mb=round(peak - rss_before, 1),
               n_groups=int(pd.Series(pred, dtype=object).nunique()))
    return row


def _measure(name: str, corpus: Corpus, args: argparse.Namespace
             ) -> tuple[np.ndarray, float, float, float] | None:
    """Run one method: (prediction, seconds, RSS before in MB, peak RSS in MB)."""
    gc.collect()
    rss_before = _rss_mb()
    times = []
    pred = None
    for _ in range(max(1, args.repeat)):
        pred = None  # let the previous run's result go before the next run
        t0 = time.perf_counter()
        try:
            pred = CANDIDATES[name](corpus, args)
        except ImportError as exc:
            print(f"{name}: skipped ({exc})", flush=True)
            return None
        times.append(time.perf_counter() - t0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        if len(times) > 1:
            print(f"  run {len(times)}: {times[-1]:.2f} s", flush=True)
    # the fastest run is the least disturbed by other load on the machine
    return np.asarray(pred, dtype=object), min(times), rss_before, peak


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-prompts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=None,
                    help="threshold passed to mine_templates (default: its own)")
    ap.add_argument("--no-accounts", action="store_true",
                    help="call mine_templates without accounts")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each method this many times and report the fastest run")
    ap.add_argument("--compare", action="store_true",
                    help="also run the candidate methods (slow; drain3 optional)")
    ap.add_argument("--json", type=Path, default=None, help="write the rows as JSON here")
    ap.add_argument("--script", default="english", choices=list(synth.PROMPT_SCRIPTS),
                    help="the corpus of synth.prompt_corpus to mine")
    ap.add_argument("--lsh-threshold", type=float, default=0.5,
                    help="Jaccard threshold of the MinHash-LSH candidates (--compare)")
    ap.add_argument("--drain-sim-th", type=float, default=0.4,
                    help="similarity threshold of the drain3 candidate (--compare)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    corpus = synth.prompt_corpus(args.script, n_prompts=args.n_prompts, seed=args.seed)
    gen_s = time.perf_counter() - t0
    print(f"generated {args.n_prompts:,} {args.script} prompts in {gen_s:.1f} s "
          f"(kinds: {pd.Series(corpus.kind).value_counts().to_dict()})", flush=True)
    names = list(CANDIDATES) if args.compare else ["sybilgraph"]
    rows = []
    for name in names:
        if args.compare and "fork" in mp.get_all_start_methods():
            # each candidate in a forked child, so that peak memory is its own
            with mp.get_context("fork").Pool(1) as pool:
                out = pool.apply(_measure, (name, corpus, args))
        else:
            out = _measure(name, corpus, args)
        if out is None:
            continue
        pred, seconds, rss_before, peak = out
        rows.append(_score(name, corpus, pred, seconds, rss_before, peak))
        print(pd.DataFrame([rows[-1]]).to_string(index=False), flush=True)
        del pred
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False))
    if args.json is not None:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
