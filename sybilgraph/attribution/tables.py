"""The tables of an :class:`~sybilgraph.attribution.Attribution`: clusters, accounts, evidence, organisations, notes.

See :mod:`sybilgraph.attribution` for the model.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._arrays import text_array, unique_sorted
from .._errors import InputError
from .result import _short
from .scoring import _EPS, _reaches, _share_out

__all__: list[str] = []


def _cluster_table(ind: pd.DataFrame, scored: pd.DataFrame, matches: pd.DataFrame, size_of_cluster: np.ndarray,
                   min_confidence: float, conflict_level: float) -> pd.DataFrame:
    multi = np.flatnonzero(size_of_cluster >= 2)
    lead, second = _share_out(scored, "cluster_id")
    ids = np.union1d(multi, lead.index.to_numpy(dtype=np.int64)).astype(np.int64)
    out = pd.DataFrame({"cluster_id": ids, "size": size_of_cluster[ids].astype(np.int64)})
    cand = lead["organisation"].reindex(ids).to_numpy(dtype=object)
    conf = lead["confidence"].reindex(ids).fillna(0.0).to_numpy(dtype=np.float64)
    out["organisation"] = pd.Series(cand, dtype=object).where(_reaches(conf, min_confidence), None).to_numpy(dtype=object)
    out["confidence"] = conf
    out["candidate"] = cand
    out["runner_up"] = second["organisation"].reindex(ids).to_numpy(dtype=object)
    out["runner_up_confidence"] = second["confidence"].reindex(ids).fillna(0.0).to_numpy(dtype=np.float64)
    out["conflict"] = second["R"].reindex(ids).fillna(0.0).to_numpy(dtype=np.float64) >= conflict_level

    # matched accounts and indicators of the leading organisation, and the evidence text
    n_matched: np.ndarray = np.zeros(len(ids), dtype=np.int64)
    n_ind: np.ndarray = np.zeros(len(ids), dtype=np.int64)
    text: np.ndarray = np.full(len(ids), "", dtype=object)
    if len(lead):
        lead_org = lead["organisation"].rename("lead")
        sl = scored[scored["p"] > _EPS].join(lead_org, on="cluster_id")
        sl = sl[sl["organisation"] == sl["lead"]]
        n_ind = np.bincount(np.searchsorted(ids, sl["cluster_id"].to_numpy(dtype=np.int64)), minlength=len(ids))
        text = _evidence_text(ind, sl, ids)
        mo = pd.DataFrame({"cluster_id": matches["cluster_id"].to_numpy(dtype=np.int64),
                           "organisation": ind["organisation"].to_numpy(dtype=object)[matches["ind"].to_numpy(dtype=np.int64)],
                           "acc": matches["acc"].to_numpy(dtype=np.int64)}).drop_duplicates()
        mo = mo.join(lead_org, on="cluster_id")
        mo = mo[mo["organisation"] == mo["lead"]]
        n_matched = np.bincount(np.searchsorted(ids, mo["cluster_id"].to_numpy(dtype=np.int64)), minlength=len(ids))
    out["n_matched_accounts"] = n_matched.astype(np.int64)
    out["n_indicators"] = n_ind.astype(np.int64)
    text = np.asarray(text, dtype=object)
    hit = np.flatnonzero(out["conflict"].to_numpy())
    if len(hit):  # name the competing organisation and its own evidence R
        r2 = second["R"].reindex(ids).to_numpy(dtype=np.float64)[hit]
        text[hit] = text[hit] + np.array([f"; also {o} (evidence {r:.2f})"
                                          for o, r in zip(out["runner_up"].to_numpy(dtype=object)[hit], r2)], dtype=object)
    out["evidence"] = text
    return out[["cluster_id", "size", "organisation", "confidence", "candidate", "runner_up", "runner_up_confidence",
                "n_matched_accounts", "n_indicators", "conflict", "evidence"]].reset_index(drop=True)


def _evidence_text(ind: pd.DataFrame, sl: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """Short text per cluster: the leading organisation's three strongest indicators."""
    kinds = ind["kind"].to_numpy(dtype=object)
    label_of = (pd.Series(kinds, dtype=object) + "=" + ind["value"].map(_short).astype(object)).to_numpy(dtype=object)
    si = sl["ind"].to_numpy(dtype=np.int64)
    is_acc = kinds[si] == "account"
    items = []
    if (~is_acc).any():
        other = sl[~is_acc]
        n = other["n"].to_numpy(dtype=np.int64)
        items.append(pd.DataFrame({"cluster_id": other["cluster_id"].to_numpy(dtype=np.int64), "p": other["p"].to_numpy(),
                                   "t": label_of[si[~is_acc]], "n": n}))
    if is_acc.any():
        g = sl[is_acc].groupby("cluster_id").agg(n=("n", "sum"), p=("p", "max")).reset_index()
        items.append(pd.DataFrame({"cluster_id": g["cluster_id"].to_numpy(dtype=np.int64), "p": g["p"].to_numpy(),
                                   "t": np.where(g["n"].to_numpy() == 1, "known account", "known accounts").astype(object),
                                   "n": -g["n"].to_numpy(dtype=np.int64)}))
    out = np.full(len(ids), "", dtype=object)
    if not items:
        return out
    t = pd.concat(items, ignore_index=True)
    t = t.sort_values(["cluster_id", "p", "t"], ascending=[True, False, True], kind="stable")
    t = t[t.groupby("cluster_id").cumcount().to_numpy() < 3]
    n = t["n"].to_numpy()
    # "payment=card-1 (58)" for values, "12 known accounts" for account indicators
    piece = np.where(n >= 0, t["t"].to_numpy(dtype=object) + " (" + np.abs(n).astype(str).astype(object) + ")",
                     np.abs(n).astype(str).astype(object) + " " + t["t"].to_numpy(dtype=object))
    pos = np.searchsorted(ids, t["cluster_id"].to_numpy(dtype=np.int64))
    first = np.r_[True, pos[1:] != pos[:-1]]
    for rank in range(3):  # at most three pieces per cluster
        rank_of = np.arange(len(pos)) - np.maximum.accumulate(np.where(first, np.arange(len(pos)), 0))
        take = rank_of == rank
        sep = ": " if rank == 0 else "; "
        out[pos[take]] = out[pos[take]] + sep + piece[take]
    lead = sl.drop_duplicates("cluster_id").set_index("cluster_id")["organisation"].reindex(ids)
    has = out != ""
    out[has] = lead.to_numpy(dtype=object)[has].astype(str).astype(object) + out[has]
    return out


def _account_table(assign: pd.DataFrame, table: pd.DataFrame, own: pd.DataFrame,
                   min_confidence: float) -> pd.DataFrame:
    """One row per account: its cluster's organisation, else its own when it matched."""
    cluster = assign["cluster_id"].to_numpy(dtype=np.int64)
    n = len(cluster)
    k = int(cluster.max()) + 1 if n else 0
    org_of = np.full(k, None, dtype=object)
    conf_of = np.zeros(k)
    hit = table[table["organisation"].notna()]
    org_of[hit["cluster_id"].to_numpy(dtype=np.int64)] = hit["organisation"].to_numpy(dtype=object)
    conf_of[hit["cluster_id"].to_numpy(dtype=np.int64)] = hit["confidence"].to_numpy(dtype=np.float64)
    org = org_of[cluster] if n else np.zeros(0, dtype=object)
    conf = conf_of[cluster] if n else np.zeros(0)
    multi = np.bincount(cluster, minlength=k)[cluster] >= 2 if n else np.zeros(0, dtype=bool)
    via = np.where(pd.isna(org), "", np.where(multi, "cluster", "self")).astype(object)
    matched = np.zeros(n, dtype=bool)
    matched[unique_sorted(own["acc"].to_numpy(dtype=np.int64))] = True
    # Accounts that matched themselves: their own evidence, where their cluster is left
    # unattributed or names another organisation (what is known of the account itself
    # outranks what is inferred through its cluster).
    lead, _ = _share_out(own, "acc")
    if len(lead):
        a = lead.index.to_numpy(dtype=np.int64)
        own_org = lead["organisation"].to_numpy(dtype=object)
        take = _reaches(lead["confidence"].to_numpy(dtype=np.float64), min_confidence) & (
            pd.isna(org[a]) | (org[a] != own_org))
        org[a[take]] = lead["organisation"].to_numpy(dtype=object)[take]
        conf[a[take]] = lead["confidence"].to_numpy(dtype=np.float64)[take]
        via[a[take]] = "self"
    return pd.DataFrame({
        "account_id": assign["account_id"].to_numpy(dtype=object),
        "cluster_id": cluster,
        "organisation": text_array(org),
        "confidence": conf,
        "matched": matched,
        "via": text_array(via),
    })


def _evidence_table(ind: pd.DataFrame, matches: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    i = matches["ind"].to_numpy(dtype=np.int64)
    out = pd.DataFrame({
        "cluster_id": matches["cluster_id"].to_numpy(dtype=np.int64),
        "organisation": ind["organisation"].to_numpy(dtype=object)[i],
        "kind": ind["kind"].to_numpy(dtype=object)[i],
        "value": ind["value"].to_numpy(dtype=object)[i],
        "matched_value": matches["matched_value"].to_numpy(dtype=object),
        "account_id": matches["account_id"].to_numpy(dtype=object),
        "ind": i,
    })
    figures = scored.set_index(["ind", "cluster_id"])[["carriers", "weight", "exclusivity", "p"]]
    out = out.join(figures, on=["ind", "cluster_id"])
    out = out.rename(columns={"p": "evidence"})
    out["carriers"] = out["carriers"].fillna(0).astype(np.int64)
    out["source"] = ind["source"].to_numpy(dtype=object)[i]
    out["acc"] = matches["acc"].to_numpy(dtype=np.int64)
    out = out.sort_values(["cluster_id", "evidence", "ind", "acc"], ascending=[True, False, True, True], kind="stable")
    return out.drop(columns=["ind", "acc"]).reset_index(drop=True)


def _unmatched(ind: pd.DataFrame, matches: pd.DataFrame, broad: pd.DataFrame) -> pd.DataFrame:
    """Indicators not used: those that matched no account and those ignored as too broad, by row."""
    used = np.zeros(len(ind), dtype=bool)
    used[unique_sorted(matches["ind"].to_numpy(dtype=np.int64))] = True
    used[broad["ind"].to_numpy(dtype=np.int64)] = True
    reason = np.full(len(ind), "", dtype=object)
    kind, mode = ind["kind"].to_numpy(dtype=object), ind["mode"].to_numpy(dtype=object)
    reason[~used] = np.where(kind[~used] == "account", "no such account in the observations",
                             np.where(mode[~used] == "cidr", "no observed address in the range",
                                      np.where(mode[~used] == "domain", "no observed address at the domain",
                                               "no account carries the value")))
    reason[broad["ind"].to_numpy(dtype=np.int64)] = broad["reason"].to_numpy(dtype=object)
    u = np.flatnonzero(reason != "")
    return pd.DataFrame({"row": ind["row"].to_numpy(dtype=np.int64)[u], "organisation": ind["organisation"].to_numpy(dtype=object)[u],
                         "kind": kind[u], "value": ind["value"].to_numpy(dtype=object)[u], "reason": reason[u]})


def _read_exchanges(exchanges: Any, acc_index: pd.Index, notes: list[str]) -> np.ndarray:
    """Exchanges of every account of the result, in its order (0 where not given)."""
    if isinstance(exchanges, pd.DataFrame):
        frame, where = exchanges, "the exchanges table"
    elif isinstance(exchanges, (str, os.PathLike)):
        from ..ingest import _read_file

        frame, where = _read_file(Path(os.fspath(exchanges))), f"the exchanges file {os.fspath(exchanges)!r}"
    else:
        raise InputError(f"exchanges must be a DataFrame or the path of a CSV, Parquet or JSON Lines file. Got {type(exchanges).__name__}.")
    missing = [c for c in ("account_id", "exchanges") if c not in frame.columns]
    if missing:
        raise InputError(f"{where} lacks column(s) {missing}; it needs account_id, exchanges. Got columns {list(frame.columns)}.")
    ids = frame["account_id"].astype(str).to_numpy(dtype=object)  # ids are matched verbatim, as ingest keeps them
    values = pd.to_numeric(frame["exchanges"], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(values) | (values < 0))
    if len(bad):
        raise InputError(f"{where} has exchanges that are not non-negative numbers in row(s) "
                         f"{', '.join(str(int(b)) for b in bad[:5])} (got {frame['exchanges'].iloc[bad[0]]!r}).")
    dup = pd.Index(ids).duplicated()
    if dup.any():
        raise InputError(f"{where} lists account(s) more than once: {', '.join(repr(x) for x in ids[dup][:5])}; "
                         "give one total per account.")
    pos = acc_index.get_indexer(pd.Index(ids))
    out = np.zeros(len(acc_index))
    out[pos[pos >= 0]] = values[pos >= 0]
    unknown = int((pos < 0).sum())
    if unknown:
        notes.append(f"{unknown:,} account(s) of the exchanges table are not in the observations and were ignored "
                     f"(e.g. {', '.join(repr(x) for x in ids[pos < 0][:3])})")
    absent = len(acc_index) - int((pos >= 0).sum())
    if absent:
        notes.append(f"{absent:,} account(s) have no exchanges row and count as 0 exchanges")
    return out


def _organisation_table(ind: pd.DataFrame, table: pd.DataFrame, accounts: pd.DataFrame, matches: pd.DataFrame,
                        broad: pd.DataFrame, exch: np.ndarray | None) -> pd.DataFrame:
    orgs = pd.Index(pd.unique(ind["organisation"].to_numpy(dtype=object)))
    att = accounts["organisation"]
    has = att.notna().to_numpy()
    acc_counts = pd.Series(att[has].to_numpy(dtype=object)).value_counts()
    hit = table[table["organisation"].notna()]
    clusters = hit[hit["size"] >= 2].groupby("organisation").size()
    own = (accounts["via"] == "self").to_numpy()
    singles = pd.Series(att[own].to_numpy(dtype=object)).value_counts()
    mo = pd.DataFrame({"organisation": ind["organisation"].to_numpy(dtype=object)[matches["ind"].to_numpy(dtype=np.int64)],
                       "acc": matches["acc"].to_numpy()})
    matched = mo.drop_duplicates().groupby("organisation").size()
    n_ind = ind.groupby("organisation").size()
    org_of = ind["organisation"].to_numpy(dtype=object)
    used = np.zeros(len(ind), dtype=bool)
    used[unique_sorted(matches["ind"].to_numpy(dtype=np.int64))] = True
    is_broad = np.zeros(len(ind), dtype=bool)
    is_broad[broad["ind"].to_numpy(dtype=np.int64)] = True
    n_un = pd.Series(org_of[~used & ~is_broad]).value_counts()
    n_broad = pd.Series(org_of[is_broad]).value_counts()
    out = pd.DataFrame({
        "organisation": orgs.to_numpy(dtype=object),
        "accounts": acc_counts.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "clusters": clusters.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "single_accounts": singles.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "matched_accounts": matched.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "indicators": n_ind.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "unmatched_indicators": n_un.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
        "ignored_indicators": n_broad.reindex(orgs).fillna(0).astype(np.int64).to_numpy(),
    })
    if exch is not None:
        per = pd.Series(exch[has]).groupby(att[has].to_numpy(dtype=object)).sum()
        out["exchanges"] = per.reindex(orgs).fillna(0.0).to_numpy(dtype=np.float64)
        total = float(exch.sum())
        out["share_of_traffic"] = out["exchanges"] / total if total > 0 else 0.0
    out = out.sort_values(["accounts", "matched_accounts", "organisation"], ascending=[False, False, True], kind="stable")
    return out.reset_index(drop=True)


def _add_notes(notes: list[str], ind: pd.DataFrame, table: pd.DataFrame, organisations: pd.DataFrame,
               unmatched: pd.DataFrame, broad: pd.DataFrame, min_confidence: float) -> None:
    if len(broad):  # a warning: name every ignored indicator (up to 20; all of them are in Attribution.unmatched)
        named: list[str] = []
        for r in broad.head(20).itertuples():
            row = ind.iloc[int(r.ind)]
            why = f"{r.share:.1%} of all accounts" if r.test == "share" else "a hub, spread like accounts at large"
            named.append(f"{row['organisation']}/{row['kind']}={_short(str(row['value']))} "
                         f"({int(r.carriers):,} accounts, {why})")
        more = f" and {len(broad) - 20} more" if len(broad) > 20 else ""
        left = organisations[(organisations["ignored_indicators"] > 0) & (organisations["matched_accounts"] == 0)]
        bare = f"; left with no matching indicator: {', '.join(map(str, left['organisation'].head(10)))}" if len(left) else ""
        notes.append(f"{len(broad):,} indicator(s) ignored as too broad to be one organisation's "
                     f"(see Attribution.unmatched): {', '.join(named)}{more}{bare}")
    no_match = unmatched[~unmatched["reason"].str.startswith("too broad")]
    if len(no_match):
        shown = ", ".join(f"{r.organisation}/{r.kind}={_short(str(r.value))}" for r in no_match.head(5).itertuples())
        more = f" and {len(no_match) - 5} more" if len(no_match) > 5 else ""
        notes.append(f"{len(no_match):,} indicator(s) matched no account (see Attribution.unmatched): {shown}{more}")
    none = organisations[(organisations["matched_accounts"] == 0)
                         & (organisations["ignored_indicators"] == 0)]["organisation"].tolist()
    if none:
        notes.append(f"organisation(s) with no match at all: {', '.join(map(str, none[:10]))}"
                     + (f" and {len(none) - 10} more" if len(none) > 10 else "")
                     + "; check the indicators' spelling and kinds, or the observations' coverage")
    weak = organisations[(organisations["matched_accounts"] > 0) & (organisations["accounts"] == 0)]["organisation"].tolist()
    if weak:
        notes.append(f"organisation(s) matched but attributed nothing at min_confidence={min_confidence:g}: "
                     f"{', '.join(map(str, weak[:10]))}; their best clusters are listed in Attribution.clusters (column candidate)")
    n_conflict = int(table["conflict"].sum()) if len(table) else 0
    if n_conflict:
        examples = table[table["conflict"]].sort_values("size", ascending=False).head(3)
        shown = ", ".join(f"cluster {r.cluster_id} ({r.candidate} vs {r.runner_up})" for r in examples.itertuples())
        notes.append(f"{n_conflict:,} cluster(s) carry indicators of two or more organisations (conflict): {shown}")
    shared = ind.assign(k=ind["mode"] + "\x1f" + ind["key"].map(str)).groupby("k")["organisation"].nunique()
    if (shared > 1).any():
        notes.append(f"{int((shared > 1).sum()):,} indicator value(s) are listed for more than one organisation")
