"""Stage 6 — score and explain: what holds each cluster together, how suspicious it is.

For every cluster of two or more accounts:

* the **evidence** table lists each shared value inside it — kind, value,
  members carrying it, carriers overall, weight and *exclusivity* (the share
  of its carriers inside the cluster);
* the **cohesion** is the members' mean attachment (see
  :mod:`sybilgraph.cluster`);
* the **suspicion score** in [0, 1] combines hallmarks that separate an
  operator from an honest group that also shares values (a household, a
  company): scripted prompts, shared device images, shared payment, burst
  creation — see :func:`suspicion`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._arrays import unique_sorted
from .cluster import Membership
from .graph import BipartiteGraph
from .kinds import kinds_showing
from .weights import WeightedObservations

__all__ = ["evidence_table", "cluster_table", "suspicion", "SUSPICIOUS_SCORE", "HALLMARKS"]

#: Clusters scoring at least this are flagged ``suspicious``.
SUSPICIOUS_SCORE = 0.5


def evidence_table(graph: BipartiteGraph, wobs: WeightedObservations, membership: Membership) -> pd.DataFrame:
    """Return one row per (cluster, shared value) with at least two members carrying it.

    Columns: ``cluster_id, kind, value, members, carriers, weight, exclusivity``,
    sorted by cluster, then by ``members * weight`` descending.
    """
    labels = membership.cluster
    sizes = np.bincount(labels)
    keep = sizes[labels[graph.src]] >= 2
    value = graph.values[graph.dst[keep] - graph.n_accounts]
    lab = labels[graph.src[keep]]
    frame = pd.DataFrame({"cluster_id": lab, "v": value})
    counts = frame.groupby(["cluster_id", "v"], sort=True).size().rename("members").reset_index()
    counts = counts[counts["members"] >= 2]
    v = counts["v"].to_numpy()
    out = pd.DataFrame(
        {
            "cluster_id": counts["cluster_id"].to_numpy(),
            "kind": wobs.value_kind[v],
            "value": wobs.value_text[v],
            "members": counts["members"].to_numpy(),
            "carriers": wobs.degree[v],
            "weight": wobs.weight[v],
        }
    )
    out["exclusivity"] = out["members"] / out["carriers"]
    strength = out["members"] * out["weight"]
    out = out.assign(_s=strength).sort_values(["cluster_id", "_s", "kind", "value"], ascending=[True, False, True, True])
    return out.drop(columns="_s").reset_index(drop=True)


#: The hallmarks of an operator that the suspicion score looks for, by kind of shared value.
#: Which kinds show which hallmark is said by each kind's :attr:`~sybilgraph.kinds.Kind.hallmark`.
HALLMARKS = {name: kinds_showing(name) for name in ("templated", "tooling", "payment")}

#: A value is *shared tooling* when more members carry it than a large household would.
MIN_SHARED_BY = 6


def suspicion(features: pd.DataFrame) -> np.ndarray:
    """Combine cluster features into a suspicion score in [0, 1].

    The score is the geometric mean of the two strongest of four hallmarks
    of an operator, each the share of the cluster's members that show it:

    ``templated``
        carries a prompt template that is the cluster's own (at least half its
        carriers are in the cluster) and that at least six members send: a
        script, not a popular system prompt;
    ``tooling``
        carries a device fingerprint that is the cluster's own and carried by
        at least six members: an emulator or scripted-browser image;
    ``payment``
        pays with an instrument that is the cluster's own and used by at least
        six members;
    ``burst``
        was first seen within one day of the cluster's median first sighting
        (0 without timestamps).

    Six is more than a large household shares (a family card and a tablet
    among five people are honest). The geometric mean of the
    two strongest is 0 unless two hallmarks are present, so no single one
    condemns a cluster — a company's employees all share the corporate card,
    a family signs up on one evening — while a ring shows several at once.

    Parameters
    ----------
    features : DataFrame
        Columns ``templated, tooling, payment, burst``, each in [0, 1].

    Returns
    -------
    ndarray of float64
    """
    signals = np.nan_to_num(features[["templated", "tooling", "payment", "burst"]].to_numpy(dtype=float))
    top2 = -np.sort(-signals, axis=1)[:, :2]
    return np.sqrt(top2[:, 0] * top2[:, 1])


def _hallmarks(graph: BipartiteGraph, wobs: WeightedObservations, labels: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Share of each cluster's members showing each hallmark of :data:`HALLMARKS`."""
    node = graph.dst - graph.n_accounts
    value = graph.values[node]
    codes, uniques = pd.factorize(value.astype(np.int64) * k + labels[graph.src], sort=False)
    members = np.bincount(codes, minlength=len(uniques))[codes]
    exclusive = (members >= MIN_SHARED_BY) & (members / wobs.degree[value] >= 0.5)
    size = np.bincount(labels, minlength=k).astype(float)
    # kinds compared once per value node, not once per edge
    node_kind = wobs.value_kind[graph.values]
    out = {}
    for name, kinds in HALLMARKS.items():
        hit = exclusive & np.isin(node_kind, kinds)[node]
        accounts = unique_sorted(graph.src[hit])
        out[name] = np.bincount(labels[accounts], minlength=k) / np.maximum(size, 1.0)
    return out


def cluster_table(graph: BipartiteGraph, wobs: WeightedObservations, membership: Membership,
                  evidence: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """Return one row per cluster: size, cohesion, score and the values that hold it together.

    Columns: ``cluster_id, size, cohesion, shared_values, templated,
    tooling, payment, burst, score, suspicious, periphery, top_evidence``.
    Singletons are included (size 1, score 0) so every account's cluster has
    a row. ``suspicious`` needs a score of at least :data:`SUSPICIOUS_SCORE`
    and at least three members.
    """
    labels = membership.cluster
    k = int(labels.max()) + 1 if len(labels) else 0
    size = np.bincount(labels, minlength=k)
    cohesion = np.bincount(labels, weights=membership.attachment, minlength=k) / np.maximum(size, 1)
    shared = evidence.groupby("cluster_id").size().reindex(range(k), fill_value=0).to_numpy()
    hallmarks = _hallmarks(graph, wobs, labels, k)
    burst = _burst(labels, wobs.first_seen, k)
    periphery = np.bincount(membership.periphery_of[membership.periphery_of >= 0], minlength=k)[:k]
    out = pd.DataFrame(
        {
            "cluster_id": np.arange(k),
            "size": size,
            "cohesion": cohesion,
            "shared_values": shared,
            **hallmarks,
            "burst": burst,
        }
    )
    score = suspicion(out)
    score[size < 2] = 0.0
    out["score"] = score
    out["suspicious"] = (score >= SUSPICIOUS_SCORE) & (size >= 3)
    out["periphery"] = periphery
    head = evidence.groupby("cluster_id", sort=True).head(top)
    text = head.assign(t=head["kind"] + "=" + head["value"].map(_short) + " (" + head["members"].astype(str) + ")")
    joined = text.groupby("cluster_id")["t"].agg("; ".join)
    out["top_evidence"] = joined.reindex(range(k), fill_value="").to_numpy()
    return out


def _burst(labels: np.ndarray, first_seen: np.ndarray, k: int) -> np.ndarray:
    known = ~np.isnan(first_seen)
    if not known.any():
        return np.zeros(k)
    frame = pd.DataFrame({"c": labels[known], "t": first_seen[known]})
    median = frame.groupby("c")["t"].transform("median")
    near = (np.abs(frame["t"] - median) <= 86400.0).astype(float)
    share = near.groupby(frame["c"]).sum() / frame.groupby("c").size()
    return share.reindex(range(k), fill_value=0.0).to_numpy()


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
