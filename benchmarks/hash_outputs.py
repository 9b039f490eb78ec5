"""Hash what the pipeline returns on every synthetic scenario, to show a refactor changes nothing.

Run from the repository root (so the working copy is imported)::

    PYTHONPATH=. python benchmarks/hash_outputs.py [--scale 1] [--seed 0]

Prints one line per scenario and table: the SHA-256 of the table written as CSV
(rows in their returned order, floats at full precision). Two runs of the same
code give the same lines; a change of layout that keeps the outputs gives the same lines too.
"""

from __future__ import annotations

import argparse
import hashlib

import pandas as pd

import sybilgraph as sg


def table_hash(frame: pd.DataFrame) -> str:
    """Return the SHA-256 of ``frame`` as CSV, columns and rows in their returned order."""
    text = frame.to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name in sorted(sg.synth.SCENARIOS):
        data = sg.synth.generate(name, scale=args.scale, seed=args.seed)
        result = sg.cluster_accounts(data.observations, seed=args.seed)
        for table in ("assignments", "clusters", "evidence"):
            print(name, table, table_hash(getattr(result, table)), flush=True)


if __name__ == "__main__":
    main()
