"""Stage 6 — score and explain: what holds each cluster together, how suspicious it is.

For every cluster of two or more accounts:

* the **evidence** table lists each shared value inside it — kind, value,
  members carrying it, carriers overall, weight and *exclusivity* (the share
  of its carriers inside the cluster);
* the **cohesion** is the members' mean attachment (see
  :mod:`sybilgraph.cluster`);
* the **suspicion score** in [0, 1] combines signals that separate an
  operator from an honest group that also shares values (a household, a
  company) — see :func:`suspicion`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cluster import Membership
from .graph import BipartiteGraph
from .weights import WeightedObservations

__all__ = ["evidence_table", "cluster_table", "suspicion", "SUSPICIOUS_SCORE"]

#: Clusters scoring at least this are flagged ``suspicious``.
SUSPICIOUS_SCORE = 0.5

#: Kinds whose sharing costs an operator money or set-up (the infrastructure of a ring).
_INFRA_KINDS = ("payment", "device", "ip", "phone", "email", "prompt_template")


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


def suspicion(features: pd.DataFrame) -> np.ndarray:
    """Combine cluster features into a suspicion score in [0, 1].

    The score is the mean of three signals, each in [0, 1]:

    ``scale``
        ``1 - 2 / size`` capped below at 0: a pair is unremarkable, dozens of
        linked accounts are not.
    ``infrastructure``
        Exclusive shared infrastructure per member: values of the
        infrastructure kinds (payment, device, ip, phone, email, prompt
        template) found only inside the cluster (exclusivity >= 0.9),
        counted per member and capped at 1 after multiplying by 10. An
        operator's accounts share many pool values (cards, addresses, device
        images, templates); a company shares one office network, one card
        and a domain however many people it employs.
    ``burst``
        The share of members whose first observation falls within one day of
        the cluster's median (0 without timestamps). Rings are created in
        bursts; people join households and companies over months.

    Parameters
    ----------
    features : DataFrame
        Columns ``size, exclusive_infra, burst``.

    Returns
    -------
    ndarray of float64
    """
    size = features["size"].to_numpy(dtype=float)
    scale = np.clip(1.0 - 2.0 / np.maximum(size, 1.0), 0.0, 1.0)
    infra = np.clip(10.0 * features["exclusive_infra"].to_numpy(dtype=float) / np.maximum(size, 1.0), 0.0, 1.0)
    burst = np.nan_to_num(features["burst"].to_numpy(dtype=float))
    return (scale + infra + burst) / 3.0


def cluster_table(wobs: WeightedObservations, membership: Membership, evidence: pd.DataFrame,
                  *, top: int = 3) -> pd.DataFrame:
    """Return one row per cluster: size, cohesion, score and the values that hold it together.

    Columns: ``cluster_id, size, cohesion, shared_values, exclusive_infra,
    burst, score, suspicious, periphery, top_evidence``. Singletons are
    included (size 1, score 0) so every account's cluster has a row.
    """
    labels = membership.cluster
    k = int(labels.max()) + 1 if len(labels) else 0
    size = np.bincount(labels, minlength=k)
    cohesion = np.bincount(labels, weights=membership.attachment, minlength=k) / np.maximum(size, 1)
    shared = evidence.groupby("cluster_id").size().reindex(range(k), fill_value=0).to_numpy()
    infra = evidence[evidence["kind"].isin(_INFRA_KINDS) & (evidence["exclusivity"] >= 0.9)]
    exclusive = infra.groupby("cluster_id").size().reindex(range(k), fill_value=0).to_numpy()
    burst = _burst(labels, wobs.first_seen, k)
    periphery = np.bincount(membership.periphery_of[membership.periphery_of >= 0], minlength=k)[:k]
    out = pd.DataFrame(
        {
            "cluster_id": np.arange(k),
            "size": size,
            "cohesion": cohesion,
            "shared_values": shared,
            "exclusive_infra": exclusive,
            "burst": burst,
        }
    )
    score = suspicion(out)
    score[size < 2] = 0.0
    out["score"] = score
    out["suspicious"] = score >= SUSPICIOUS_SCORE
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
