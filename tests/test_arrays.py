from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sybilgraph._arrays import unique_sorted


@given(arrays(np.int64, st.integers(0, 200), elements=st.integers(-50, 50)))
def test_unique_sorted_equals_numpy_unique(values: np.ndarray) -> None:
    got = unique_sorted(values)
    assert got.dtype == values.dtype
    np.testing.assert_array_equal(got, np.unique(values))
