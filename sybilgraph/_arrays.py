"""Array helpers shared by the stages."""

from __future__ import annotations

from typing import Union

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["text_array", "unique_sorted"]


def text_array(values: Union[np.ndarray, pa.Array, pa.ChunkedArray]) -> Union[pd.api.extensions.ExtensionArray, np.ndarray]:
    """Return text ``values`` (missing as None or NaN) as pandas' default text column.

    From pandas 3 (and pandas 2 with ``future.infer_string``) that is the
    ``"str"`` dtype. Before, ``dtype="str"`` means NumPy's fixed-width unicode:
    it writes a missing value as the text ``"None"`` or ``"nan"``, so the values
    come back as an object array instead, missing values left missing.

    Examples
    --------
    >>> a = text_array(np.array(["x", None], dtype=object))
    >>> [bool(pd.isna(v)) for v in a]
    [False, True]
    """
    if isinstance(pd.api.types.pandas_dtype("str"), pd.StringDtype):
        return pd.array(values, dtype="str")
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
    return np.asarray(values, dtype=object)


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
