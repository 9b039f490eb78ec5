"""Scoring: the evidence each indicator gives about each cluster, shared out between organisations.

See :mod:`sybilgraph.attribution` for the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..weights import rarity

__all__: list[str] = []


#: Evidence below this is treated as absent when deciding what counts as a conflict.
_EPS = 1e-12


#: Cap on the per-organisation evidence so that ``-log(1 - R)`` stays finite.
_MAX_R = 1.0 - 1e-9


def _kind_weight(ind: pd.DataFrame, settings: Any) -> np.ndarray:
    """Kind weight of each indicator, capped at 1 (see the module notes)."""
    out = np.empty(len(ind))
    kinds = ind["kind"].to_numpy(dtype=object)
    modes = ind["mode"].to_numpy(dtype=object)
    for kind, mode in set(zip(kinds, modes)):  # a loop over (kind, mode) pairs
        if kind == "account":
            w = 1.0
        elif mode == "domain":
            w = settings.weight_of("email")
        elif mode == "cidr":
            w = settings.weight_of("ip")
        else:
            w = settings.weight_of(str(kind))
        out[(kinds == kind) & (modes == mode)] = min(1.0, float(w))
    return out


def _score(ind: pd.DataFrame, matches: pd.DataFrame, size_of_cluster: np.ndarray,
           settings: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every (indicator, cluster) pair and every (indicator, matching account) pair.

    Returns
    -------
    clusters : DataFrame
        One row per (indicator, cluster): ``ind, cluster_id, organisation, family, n,
        carriers, weight, exclusivity, p, corroborated``.
    accounts : DataFrame
        One row per (indicator, matching account): ``ind, acc, cluster_id, organisation,
        exclusivity, p`` — the evidence the match gives about the account alone.
    """
    if not len(matches):
        empty_c = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in (
            ("ind", np.int64), ("cluster_id", np.int64), ("organisation", object), ("family", object), ("n", np.int64),
            ("carriers", np.int64), ("weight", float), ("exclusivity", float), ("p", float), ("corroborated", bool))})
        empty_a = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in (
            ("ind", np.int64), ("acc", np.int64), ("cluster_id", np.int64), ("organisation", object),
            ("exclusivity", float), ("p", float))})
        return empty_c, empty_a
    org = ind["organisation"].to_numpy(dtype=object)
    acc = matches[["ind", "acc", "cluster_id"]].drop_duplicates(["ind", "acc"])
    carriers = acc.groupby("ind").size()
    ic = acc.groupby(["ind", "cluster_id"], sort=True).size().rename("n").reset_index()
    i = ic["ind"].to_numpy(dtype=np.int64)
    ic["organisation"] = org[i]
    ic["family"] = ind["family"].to_numpy(dtype=object)[i]
    ic["carriers"] = carriers.reindex(i).to_numpy(dtype=np.int64)

    # A cluster is *corroborated* for indicator i when an indicator of the same organisation
    # from another family of kinds also matches in it.
    fam = ic[["organisation", "cluster_id", "family"]].drop_duplicates()
    n_fam = fam.groupby(["organisation", "cluster_id"]).size().rename("n_fam")
    ic = ic.join(n_fam, on=["organisation", "cluster_id"])
    corroborated = (ic["n_fam"] >= 2).to_numpy()
    n = ic["n"].to_numpy(dtype=np.float64)
    n_corr = np.where(corroborated, n, 0.0)
    in_fp = pd.Series(n_corr).groupby(i).transform("sum").to_numpy()  # carriers in corroborated clusters
    single = size_of_cluster[ic["cluster_id"].to_numpy(dtype=np.int64)] < 2
    d = ic["carriers"].to_numpy(dtype=np.float64)
    # own share, plus the organisation's other corroborated clusters when this one is
    # corroborated too (or is a single account, which only speaks for itself)
    credit = corroborated | single
    excl = np.where(credit, n + in_fp - n_corr, n) / d
    kw = _kind_weight(ind, settings)
    r = _rarity(d)
    c = ind["confidence"].to_numpy(dtype=np.float64)
    phi = np.where(single, 1.0, n / (n + 2.0))
    ic["weight"] = kw[i] * r
    ic["exclusivity"] = excl
    ic["p"] = np.clip(c[i] * kw[i] * np.maximum(r, excl) * phi, 0.0, 1.0)
    ic["corroborated"] = corroborated
    ic = ic.drop(columns="n_fam")

    # Evidence about each matching account alone: its own carrying of the value plus the
    # organisation's corroborated footprint (the single-account case above, for any account).
    fp = pd.Series(in_fp, index=pd.MultiIndex.from_arrays([i, ic["cluster_id"].to_numpy()]))
    corr = pd.Series(corroborated, index=fp.index)
    ai = acc["ind"].to_numpy(dtype=np.int64)
    key = pd.MultiIndex.from_arrays([ai, acc["cluster_id"].to_numpy()])
    a_fp = fp.reindex(key).to_numpy()
    a_corr = corr.reindex(key).to_numpy(dtype=bool)
    a_d = carriers.reindex(ai).to_numpy(dtype=np.float64)
    a_excl = (a_fp + np.where(a_corr, 0.0, 1.0)) / a_d
    a_r = _rarity(a_d)
    accounts = pd.DataFrame({
        "ind": ai,
        "acc": acc["acc"].to_numpy(dtype=np.int64),
        "cluster_id": acc["cluster_id"].to_numpy(dtype=np.int64),
        "organisation": org[ai],
        "exclusivity": a_excl,
        "p": np.clip(c[ai] * kw[ai] * np.maximum(a_r, a_excl), 0.0, 1.0),
    })
    return ic, accounts


def _rarity(d: np.ndarray) -> np.ndarray:
    """Rarity of a value carried by ``d`` accounts, 1 for one or two carriers."""
    return np.where(d <= 2, 1.0, rarity(np.maximum(d, 2)))


def _share_out(pieces: pd.DataFrame, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Combine evidence ``p`` per (key, organisation) and share it out among organisations.

    Returns the leading and the runner-up organisation per key, each indexed by ``key``
    with columns ``organisation, R, confidence``.
    """
    cols = ["organisation", "R", "confidence"]
    pieces = pieces[pieces["p"] > _EPS]
    if not len(pieces):
        empty = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in zip(cols, (object, float, float))})
        empty.index = pd.Index([], dtype=np.int64, name=key)
        return empty, empty.copy()
    log_keep = np.log1p(-np.minimum(pieces["p"].to_numpy(dtype=np.float64), _MAX_R))
    co = pd.DataFrame({key: pieces[key].to_numpy(dtype=np.int64),
                       "organisation": pieces["organisation"].to_numpy(dtype=object), "lk": log_keep})
    co = co.groupby([key, "organisation"], sort=True)["lk"].sum().reset_index()
    co["R"] = -np.expm1(co["lk"].to_numpy())
    evidence = -co["lk"]
    co["confidence"] = co["R"] * evidence / evidence.groupby(co[key]).transform("sum")
    co = co.sort_values([key, "confidence", "organisation"], ascending=[True, False, True], kind="stable")
    rank = co.groupby(key).cumcount().to_numpy()
    lead = co.loc[rank == 0, [key] + cols].set_index(key)
    second = co.loc[rank == 1, [key] + cols].set_index(key)
    return lead, second


def _reaches(confidence: np.ndarray, threshold: float) -> np.ndarray:
    """``confidence >= threshold``, tolerant to rounding (a lone piece at exactly the threshold passes)."""
    return confidence >= threshold - 1e-9


def _broad(matches: pd.DataFrame, n_ind: int, size_of_cluster: np.ndarray, max_share: float,
           hub_spread: float | None) -> pd.DataFrame:
    """Find the indicators too broad to be one organisation's (see :func:`attribute`, Notes).

    Returns
    -------
    DataFrame
        One row per such indicator, by position: ``ind, carriers, share`` (of all
        accounts), ``spread`` (effective number of clusters of its accounts),
        ``all_spread`` (that of all accounts), ``test`` (``"share"`` or ``"hub"``)
        and ``reason`` (text for ``Attribution.unmatched``).
    """
    columns = {"ind": np.int64, "carriers": np.int64, "share": float, "spread": float, "all_spread": float,
               "test": object, "reason": object}
    n = int(size_of_cluster.sum())
    if n < 3 or not len(matches):
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    pairs = matches[["ind", "acc", "cluster_id"]].drop_duplicates(["ind", "acc"])
    i = pairs["ind"].to_numpy(dtype=np.int64)
    carriers = np.bincount(i, minlength=n_ind)
    # accounts per (indicator, cluster), then the inverse Simpson index of each indicator's accounts
    per = pd.DataFrame({"ind": i, "c": pairs["cluster_id"].to_numpy(dtype=np.int64)}).groupby(["ind", "c"], sort=False).size()
    n_ic = per.to_numpy(dtype=np.float64)
    sq = np.bincount(per.index.get_level_values(0).to_numpy(dtype=np.int64), weights=n_ic * n_ic, minlength=n_ind)
    d = carriers.astype(np.float64)
    spread = np.divide(d * d, sq, out=np.zeros(n_ind), where=sq > 0)
    sizes = size_of_cluster.astype(np.float64)
    all_spread = float(n) * n / float((sizes * sizes).sum())
    # One account, or no more accounts than the largest cluster holds, can be one organisation's;
    # an indicator matching every account tells no account apart, whatever the clusters.
    eligible = (carriers >= 2) & ((d > sizes.max()) | (carriers == n))
    by_share = eligible & (d > max_share * n)
    by_hub = np.zeros(n_ind, dtype=bool)
    if hub_spread is not None:
        by_hub = eligible & ~by_share & (spread >= hub_spread * all_spread * (1 - 1e-9))
    hit = np.flatnonzero(by_share | by_hub)
    share = d[hit] / n
    test = np.where(by_share[hit], "share", "hub").astype(object)
    reason = [f"too broad, ignored: matches {int(c):,} accounts, {sh:.1%} of all (more than max_share={max_share:g})"
              if t == "share" else
              f"too broad, ignored: a hub; its {int(c):,} accounts spread over {sp:,.0f} effective clusters, at least "
              f"hub_spread={hub_spread:g} of the {all_spread:,.0f} of all accounts"
              for c, sh, sp, t in zip(carriers[hit], share, spread[hit], test)]
    return pd.DataFrame({"ind": hit.astype(np.int64), "carriers": carriers[hit].astype(np.int64), "share": share,
                         "spread": spread[hit], "all_spread": np.full(len(hit), all_spread), "test": test,
                         "reason": np.array(reason, dtype=object)})
