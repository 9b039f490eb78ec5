"""Matching indicators to observed values: exact values, CIDR ranges, e-mail domains.

See :mod:`sybilgraph.attribution` for the model.
"""

from __future__ import annotations

import bisect
import ipaddress
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._arrays import concatenated_ranges, factorize_text
from ..kinds import kind as kind_of

__all__: list[str] = []


def _arrow(column: pd.Series) -> pa.ChunkedArray:
    """The column as a pyarrow string array (zero-copy for pyarrow-backed strings)."""
    arr = pa.chunked_array([pa.array(column, from_pandas=True)]) if not isinstance(column.array, pd.arrays.ArrowStringArray) \
        else pa.chunked_array(column.array.__arrow_array__())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.large_string())
    return arr


# Longer than 80 lines: its three local helpers (want, mask_of, distinct_values) share the kind masks and the
# lookups they fill; split into a class when a fourth matching mode (e.g. ASN ranges) arrives.
def _match(ind: pd.DataFrame, obs: pd.DataFrame, acc_index: pd.Index) -> pd.DataFrame:
    """Return the matches: one row per (indicator, account, observed value).

    Columns ``ind`` (indicator position), ``account_id``, ``acc`` (position in
    ``acc_index``) and ``matched_value``; sorted by indicator and account. Values are
    looked up with hash sets over the whole column (pyarrow ``index_in``); ranges over
    the sorted distinct addresses; domains over the distinct addresses.
    """
    mode = ind["mode"].to_numpy(dtype=object)
    kinds = ind["kind"].to_numpy(dtype=object)
    keys = ind["key"].to_numpy(dtype=object)
    ids = np.arange(len(ind), dtype=np.int64)
    lookups: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}  # observed kind -> (indicator ids, values)

    def want(kind: str, ind_ids: np.ndarray, values: np.ndarray) -> None:
        if len(ind_ids):
            lookups.setdefault(kind, []).append((np.asarray(ind_ids, dtype=np.int64), np.asarray(values, dtype=object)))

    sel = mode == "exact"
    for k in pd.unique(kinds[sel]):  # a loop over kinds
        s = sel & (kinds == k)
        want(kind_of(str(k)).matched_in, ids[s], keys[s])
    sel = mode == "address"
    want("email", ids[sel], keys[sel])

    need_obs = bool(lookups) or bool((mode == "cidr").any()) or bool((mode == "domain").any())
    val_col = _arrow(obs["value"]) if need_obs else None
    kind_codes, kind_names = factorize_text(obs["kind"]) if need_obs else (np.zeros(0, np.int64), np.zeros(0, object))
    code_of_kind = {name: code for code, name in enumerate(kind_names)}
    kind_codes = pa.array(np.asarray(kind_codes, dtype=np.int32))
    masks: dict[str, Any] = {}

    def mask_of(kind: str) -> Any:
        if kind not in masks:
            code = code_of_kind.get(kind)
            masks[kind] = (pc.equal(kind_codes, pa.scalar(code, pa.int32())) if code is not None
                           else pa.array(np.zeros(len(kind_codes), dtype=bool)))
        return masks[kind]

    def distinct_values(kind: str) -> np.ndarray:
        values = pc.unique(pc.filter(val_col, mask_of(kind)))  # type: ignore[arg-type]
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)

    sel = np.flatnonzero(mode == "cidr")
    if len(sel):
        hit_ind, hit_val = _match_ranges(keys[sel], sel, distinct_values("ip"))
        want("ip", hit_ind, hit_val)
    sel = np.flatnonzero(mode == "domain")
    if len(sel):
        addr = distinct_values("email")
        if len(addr):
            found = pc.extract_regex(pa.array(addr, type=pa.large_string()), r"@(?P<domain>[^@]*)$")
            dom = np.asarray(pc.struct_field(found, [0]).to_numpy(zero_copy_only=False), dtype=object)
            a_codes, a_keys = _lookup(dom, keys[sel])
            want("email", sel[a_keys], addr[a_codes])

    out_ind: list[np.ndarray] = []
    out_acc: list[np.ndarray] = []
    out_val: list[np.ndarray] = []
    acc_col = _arrow(obs["account_id"]) if lookups else None
    for kind, wanted in lookups.items():  # a loop over kinds
        w_ind = np.concatenate([w[0] for w in wanted])
        w_val = np.concatenate([w[1] for w in wanted])
        codes, uniques = factorize_text(w_val)
        pos = pc.index_in(val_col, value_set=pa.array(np.asarray(uniques, dtype=object), type=val_col.type))  # type: ignore[union-attr]
        hit = pc.and_(pc.is_valid(pos), mask_of(kind))
        rows = np.flatnonzero(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool))
        if not len(rows):
            continue
        take = pa.array(rows)
        code = np.asarray(pc.take(pos, take).to_numpy(zero_copy_only=False), dtype=np.int64)
        accounts = np.asarray(pc.take(acc_col, take).to_numpy(zero_copy_only=False), dtype=object)  # type: ignore[arg-type]
        # every (hit row, wanted pair with the same value) — a value may belong to several indicators
        rep, pair = _equal_pairs(code, codes)
        out_ind.append(w_ind[pair])
        out_acc.append(accounts[rep])
        out_val.append(np.asarray(uniques, dtype=object)[code[rep]])
    sel = np.flatnonzero(mode == "account")
    if len(sel):
        known = acc_index.get_indexer(pd.Index(keys[sel])) >= 0
        out_ind.append(sel[known])
        out_acc.append(keys[sel][known])
        out_val.append(keys[sel][known])
    if not out_ind:
        return pd.DataFrame({"ind": np.zeros(0, np.int64), "account_id": np.zeros(0, object),
                             "acc": np.zeros(0, np.int64), "matched_value": np.zeros(0, object)})
    account_id = np.concatenate(out_acc)
    out = pd.DataFrame({"ind": np.concatenate(out_ind).astype(np.int64), "account_id": account_id,
                        "acc": acc_index.get_indexer(pd.Index(account_id)).astype(np.int64),
                        "matched_value": np.concatenate(out_val)})
    out = out[out["acc"] >= 0]
    out = out.drop_duplicates(["ind", "acc", "matched_value"])
    order = np.lexsort((out["acc"].to_numpy(), out["ind"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def _lookup(values: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` with ``values[i] == wanted[j]`` (hash join)."""
    codes, _ = factorize_text(np.concatenate([np.asarray(wanted, dtype=object), np.asarray(values, dtype=object)]))
    return _equal_pairs(codes[len(wanted):], codes[: len(wanted)])


def _equal_pairs(v_codes: np.ndarray, w_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` with ``v_codes[i] == w_codes[j]``, by ``i`` then ``j`` (a sort join over integer codes)."""
    order = np.argsort(w_codes, kind="stable")
    sorted_w = w_codes[order]
    start = np.searchsorted(sorted_w, v_codes, side="left")
    count = np.searchsorted(sorted_w, v_codes, side="right") - start
    i = np.repeat(np.arange(len(v_codes)), count)
    j = order[concatenated_ranges(start, count)]
    return i.astype(np.int64), j.astype(np.int64)


def _match_ranges(nets: np.ndarray, ind_ids: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Match CIDR ranges to distinct canonical addresses; return (indicator id, address) pairs."""
    out_ind: list[np.ndarray] = []
    out_val: list[np.ndarray] = []
    if not len(distinct):
        return np.zeros(0, np.int64), np.zeros(0, object)
    arr = pa.array(distinct, type=pa.large_string())
    is_v6 = np.asarray(pc.match_substring(arr, ":").to_numpy(zero_copy_only=False), dtype=bool)
    v4_text = distinct[~is_v6]
    is_v4_net = np.array([isinstance(n, ipaddress.IPv4Network) for n in nets], dtype=bool)
    if is_v4_net.any() and len(v4_text):
        octets = pc.list_flatten(pc.split_pattern(pa.array(v4_text, type=pa.large_string()), "."))
        o = np.asarray(pc.cast(octets, pa.int64()).to_numpy(), dtype=np.int64).reshape(-1, 4)
        ints = (o[:, 0] << 24) | (o[:, 1] << 16) | (o[:, 2] << 8) | o[:, 3]
        order = np.argsort(ints, kind="stable")
        sorted_ints = ints[order]
        v4n = nets[is_v4_net]
        lo = np.array([int(n.network_address) for n in v4n], dtype=np.int64)
        hi = np.array([int(n.broadcast_address) for n in v4n], dtype=np.int64)
        a = np.searchsorted(sorted_ints, lo, side="left")
        b = np.searchsorted(sorted_ints, hi, side="right")
        counts = b - a
        if counts.sum():
            which = np.repeat(np.arange(len(v4n)), counts)
            pos = concatenated_ranges(a, counts)
            out_ind.append(ind_ids[is_v4_net][which])
            out_val.append(v4_text[order[pos]])
    if (~is_v4_net).any() and is_v6.any():
        v6_text = distinct[is_v6]
        v6_int = [int(ipaddress.IPv6Address(t)) for t in v6_text]  # distinct IPv6 values only
        v6_order = sorted(range(len(v6_int)), key=v6_int.__getitem__)
        sorted_v6 = [v6_int[i] for i in v6_order]
        for ind_id, net in zip(ind_ids[~is_v4_net], nets[~is_v4_net]):  # a loop over IPv6 indicators
            lo6 = bisect.bisect_left(sorted_v6, int(net.network_address))
            hi6 = bisect.bisect_right(sorted_v6, int(net.broadcast_address))
            if hi6 > lo6:
                out_ind.append(np.full(hi6 - lo6, ind_id, dtype=np.int64))
                out_val.append(v6_text[np.asarray(v6_order[lo6:hi6], dtype=np.int64)])
    if not out_ind:
        return np.zeros(0, np.int64), np.zeros(0, object)
    return np.concatenate(out_ind).astype(np.int64), np.concatenate(out_val).astype(object)
