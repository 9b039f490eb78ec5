"""Array helpers shared by the stages."""

from __future__ import annotations

import numpy as np

__all__ = ["unique_sorted"]


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Return the sorted distinct values of a 1-d numeric array.

    Same result as ``np.unique(values)``, by sorting. NumPy 2.3+ answers a bare
    ``np.unique`` call with a hash table that is an order of magnitude slower
    than a sort on millions of distinct integers (1.8 s against 0.1 s for 2M
    int64 here).

    Examples
    --------
    >>> unique_sorted(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    out = np.sort(np.asarray(values).ravel())
    if len(out) < 2:
        return out
    keep = np.empty(len(out), dtype=bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]
