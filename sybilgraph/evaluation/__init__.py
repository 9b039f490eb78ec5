"""Tools that measure the library, not needed to run it.

:mod:`~sybilgraph.evaluation.synth`
    Synthetic sybil campaigns with ground truth, and labelled prompt corpora.
:mod:`~sybilgraph.evaluation.metrics`
    Scores of a clustering against ground truth.

They import only the package's foundations (and :mod:`sybilgraph.kinds`),
never a pipeline stage, so they can judge the stages. ``sybilgraph.synth``
and ``sybilgraph.metrics`` are the same modules under their older names.
"""

from __future__ import annotations

from . import metrics, synth

__all__ = ["metrics", "synth"]
