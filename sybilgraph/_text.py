"""Encoded text: integer codes into tables of distinct texts, and the helpers every stage uses on them.

A column of text is held as ``codes`` (int64) and ``texts`` (a pyarrow
large_string array of distinct entries) with ``texts[codes]`` the column.
:mod:`~sybilgraph.ingest` makes them; :mod:`~sybilgraph.normalise`,
:mod:`~sybilgraph.weights` and :mod:`~sybilgraph.templates` renumber, compact
and combine them with these functions.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["WHITESPACE", "THREADS", "encode_text", "compact_codes", "sort_codes", "first_of_repeats", "combine_codes"]

#: Every code point for which ``str.isspace()`` is true: what ``str.strip()`` removes.
#: (``"".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())``.)
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

#: Threads for the pyarrow work that can run side by side (each kernel releases the GIL).
THREADS = max(1, min(4, os.cpu_count() or 1))

_TEXT = pa.large_string()


def encode_text(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Dictionary-encode a string array with no nulls.

    Returns
    -------
    codes : ndarray of int64
        Code of each element, in order of first appearance.
    texts : pyarrow.Array
        The distinct texts (large_string); ``texts[codes]`` is the input.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if arr.type != _TEXT:
        arr = arr.cast(_TEXT)
    encoded = arr.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, encoded.dictionary


def compact_codes(codes: np.ndarray, texts: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Drop the entries of ``texts`` that no code refers to; keep the order of the others."""
    used = np.zeros(len(texts), dtype=bool)
    used[codes] = True
    if used.all():
        return codes, texts
    new = np.cumsum(used) - 1
    return new[codes], texts.filter(pa.array(used))


def sort_codes(codes: np.ndarray, texts: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Renumber texts in sorted (code point) order, merging equal ones.

    Returns the new code of every element of ``codes`` and the distinct texts,
    sorted. Equal texts are found next to each other after the sort, without a
    hash table.
    """
    order = pc.array_sort_indices(texts).to_numpy(zero_copy_only=False)
    ordered = texts.take(pa.array(order))
    if len(ordered) > 1:
        head = np.concatenate(([True], ~pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1)).to_numpy(zero_copy_only=False)))
    else:
        head = np.ones(len(ordered), dtype=bool)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.cumsum(head) - 1
    return rank[codes], ordered if head.all() else ordered.filter(pa.array(head))


def first_of_repeats(key: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows whose key occurs more than once, and which of them come first; None when every key is distinct.

    Returns
    -------
    rows : ndarray of int64
        Positions (increasing) of the rows whose key repeats.
    first : ndarray of bool
        For each of ``rows``, whether it is the first row with its key.

    Notes
    -----
    One sort of the keys finds the repeated ones (usually few); only their
    rows go through a hash table. A hash table over millions of distinct keys
    is slower than the sort: its random accesses miss the cache.
    """
    ordered = np.sort(key)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return None
    repeated = ordered[1:][same]
    repeated = repeated[np.concatenate(([True], repeated[1:] != repeated[:-1]))]
    at = np.minimum(np.searchsorted(repeated, key), len(repeated) - 1)
    rows = np.flatnonzero(repeated[at] == key)
    return rows, ~pd.Index(key[rows]).duplicated(keep="first")


def combine_codes(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int) -> np.ndarray:
    """Return one int64 code per pair ``(a[i], b[i])``; equal pairs get equal codes."""
    if n_b <= 1:
        return a.astype(np.int64, copy=False)
    if n_a * n_b < 2**62:
        return a.astype(np.int64, copy=False) * n_b + b
    # Too many pairs to number directly: number those that occur.
    a, _ = pd.factorize(a)
    b, uniques = pd.factorize(b)
    return combine_codes(a.astype(np.int64), int(a.max()) + 1, b.astype(np.int64), len(uniques))
