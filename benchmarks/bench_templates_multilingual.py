"""Template mining per script: English, Latin (de/fr/es), CJK (zh/ja), Arabic, mixed.

Each script's corpus comes from ``sybilgraph.synth.prompt_corpus`` and is
mined on its own; ``--together`` also mines all of them as one input (one
platform, every language) and scores each script inside it. Scores are
pairwise precision and recall from ``sybilgraph.metrics.pairwise_scores``
against the group of origin (template, system prompt, or the free-form
prompt itself); ``free_merged`` is the share of free-form prompts that got
an id shared with any other prompt (they share stock phrases, not templates).

Run::

    python benchmarks/bench_templates_multilingual.py --n-prompts 20000 --seed 0 --together
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sybilgraph import __version__, metrics, synth  # noqa: E402
from sybilgraph.templates import mine_templates  # noqa: E402


def score(corpus: synth.PromptCorpus, ids: np.ndarray, rows: np.ndarray) -> dict[str, object]:
    """Precision and recall over ``rows`` of the corpus, overall and on template prompts only."""
    truth, pred, kind = corpus.truth[rows], ids[rows], corpus.kind[rows]
    p, r, _ = metrics.pairwise_scores(truth, pred)
    tpl = kind == "template"
    _, r_tpl, _ = metrics.pairwise_scores(truth[tpl], pred[tpl])
    counts = pd.Series(ids).value_counts()
    free = kind == "free"
    merged = float(np.mean(counts.reindex(pred[free]).to_numpy() > 1)) if free.any() else 0.0
    return {"prompts": int(len(rows)), "precision": round(p, 4), "recall": round(r, 4),
            "recall_templates": round(r_tpl, 4), "free_merged": round(merged, 4),
            "templates_true": int(len(np.unique(truth[tpl]))), "ids_of_templates": int(len(np.unique(pred[tpl])))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-prompts", type=int, default=20_000, help="prompts per script")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scripts", default=",".join(synth.PROMPT_SCRIPTS))
    ap.add_argument("--together", action="store_true", help="also mine every script's prompts as one input")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    print(f"sybilgraph {__version__}, numpy {np.__version__}, pandas {pd.__version__}, pyarrow {pyarrow.__version__}, "
          f"python {platform.python_version()}", flush=True)

    corpora = {s: synth.prompt_corpus(s, n_prompts=args.n_prompts, seed=args.seed) for s in args.scripts.split(",")}
    rows = []
    for script, corpus in corpora.items():
        t0 = time.perf_counter()
        ids = mine_templates(corpus.texts, corpus.accounts).template_ids
        seconds = time.perf_counter() - t0
        everything = np.arange(len(corpus.texts))
        rows.append({"script": script, "language": "all", "input": "alone", **score(corpus, ids, everything),
                     "seconds": round(seconds, 2)})
        for language in sorted(set(corpus.language)) if len(set(corpus.language)) > 1 else []:
            rows.append({"script": script, "language": language, "input": "alone",
                         **score(corpus, ids, np.flatnonzero(corpus.language == language))})
    if args.together:
        # one input: shift the groups of each script apart, prefix the accounts; a system
        # prompt is one group wherever it was sent (the mixed corpus sends the others' too)
        shift = np.cumsum([0] + [int(c.truth.max()) + 1 for c in corpora.values()])
        texts = np.concatenate([c.texts for c in corpora.values()])
        truth = np.concatenate([c.truth + k for c, k in zip(corpora.values(), shift)])
        kind = np.concatenate([c.kind for c in corpora.values()])
        system = kind == "system"
        truth[system] = shift[-1] + pd.factorize(texts[system])[0]
        joint = synth.PromptCorpus(
            texts=texts, truth=truth, kind=kind,
            accounts=np.concatenate([s + "/" + c.accounts.astype(str) for s, c in corpora.items()]).astype(object),
            language=np.concatenate([np.full(len(c.texts), s, dtype=object) for s, c in corpora.items()]),
            script="together")
        t0 = time.perf_counter()
        ids = mine_templates(joint.texts, joint.accounts).template_ids
        seconds = time.perf_counter() - t0
        rows.append({"script": "together", "language": "all", "input": "together",
                     **score(joint, ids, np.arange(len(ids))), "seconds": round(seconds, 2)})
        for script in corpora:
            rows.append({"script": script, "language": "all", "input": "together",
                         **score(joint, ids, np.flatnonzero(joint.language == script))})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, na_rep=""))
    if args.json is not None:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
