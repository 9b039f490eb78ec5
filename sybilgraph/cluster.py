"""Stage 5 — cluster: Leiden proposes, membership must be earned, groups must earn it too.

Three steps, repeated until nothing changes:

1. **Leiden** (Traag, Waltman & van Eck 2019) on the bipartite graph of each
   connected component (``n_iterations`` iterations, 2 by default), seeded
   per component from ``(seed, smallest account id)`` so a component's
   result never depends on which other components are in the input. Its
   communities are *proposals*: modularity's resolution limit lets their
   size follow the size of the component.
2. **Earned membership of accounts.** A value ``v`` of account ``a``
   *links* ``a`` to its cluster ``C`` when its *link share*

   .. math:: q(a, v, C) = \\frac{|C \\cap A_v| - 1}{|A_v| - 1}

   (the share of the value's *other* carriers ``A_v`` that are in ``C``) is
   at least ``link_share``. An account keeps its place when at least
   ``min_links`` independent values link it (a derived ``ip_prefix`` adds
   nothing to an ``ip`` inside it that already links, and derived values
   alone never bind), or one link's weight reaches ``strong_link``, or one
   linking value of a kind that stands alone (a template, a device image;
   never an IP) is carried by ``exclusive_link`` accounts or more; *and* its
   evidence per other member, its *coverage*

   .. math:: \\rho(a, C) = \\frac{\\sum_v w_v \\, (|C \\cap A_v| - 1)}{|C| - 1}

   reaches ``min_density``. The others leave ``C`` and become singletons
   (their ``periphery_of`` names ``C``); what is left is split into its
   connected pieces.
3. **Earned membership of groups.** Step 2 is self-referential for groups:
   once a household is inside an operator's cluster, its own card and device
   link each of its members. So each cluster is cut into *atoms* (Leiden on
   the cluster's own subgraph, where modularity sees it at its own scale),
   and the atoms are regrouped by the Constant Potts Model on the evidence
   *between* them, :math:`X(S, T) = \\sum_v w_v |S \\cap A_v| |T \\cap A_v|`,
   at resolution ``min_density`` (CPM has no resolution limit: Traag, Van
   Dooren & Nesterov 2011). Each atom must then earn its place in its group
   by the rule of step 2, counting only what it shares with the *rest* of the
   group. Groups other than a cluster's largest leave it. Two atoms whose
   account pairs *disagree* more than they agree (Fellegi & Sunter 1969:
   bits against being one for differing single values of a kind on which
   likely matches agree, estimated from the data; see :class:`_Identity`)
   get no edge in the regrouping.

An account never rejoins a cluster that step 3 took it out of; singletons
join the cluster they earn a place in by the rule of step 2, unless its
members disagree with them more than they agree. The reported
*attachment* is :math:`e(a, C) = \\sum_v w_v \\, q(a, v, C)`. Cluster ids are
canonical: 0 is the largest cluster, ties broken by the smallest member
account id. ``docs/concepts.md`` works the rules through on a household
behind an operator's proxy exit.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import igraph as ig
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ._arrays import concatenated_ranges, unique_sorted
from ._errors import EngineError
from .graph import BipartiteGraph
from .normalise import DERIVED_FROM, family, stands_alone
from .settings import Settings
from .weights import WeightedObservations

__all__ = ["Membership", "leiden_communities", "earn_membership", "component_seed"]

_MAX_ROUNDS = 50

#: Clusters of at most this many accounts are not cut into Leiden atoms: each account is an atom.
_SMALL_CLUSTER = 3

#: Cap on Leiden iterations when running "to convergence" (``n_iterations=-1``).
MAX_ITERATIONS = 100


@dataclass(frozen=True)
class Membership:
    """Final cluster of every account, with the figures that decided it."""

    cluster: np.ndarray
    """Canonical cluster id of each account (int64), 0 = largest."""
    attachment: np.ndarray
    """Evidence each account has towards its final cluster (0 for singletons)."""
    periphery_of: np.ndarray
    """Cluster a weakly attached account touches (-1 when none)."""
    community: np.ndarray
    """Leiden community of each account before membership was checked (int64)."""
    rounds: int
    """Peel-and-split rounds until the membership stopped changing."""
    barred: np.ndarray
    """Cluster the group test took a singleton out of, which it may not rejoin alone (-1 when none)."""


def component_seed(seed: int, smallest_account: str) -> int:
    """Return the Leiden seed of the component whose smallest account id is ``smallest_account``."""
    digest = hashlib.blake2b(f"{seed}\x1f{smallest_account}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & 0x7FFFFFFF


def leiden_communities(graph: BipartiteGraph, accounts: np.ndarray, settings: Settings) -> np.ndarray:
    """Run Leiden on each connected component and return a community per account.

    Parameters
    ----------
    graph : BipartiteGraph
        Output of :func:`sybilgraph.graph.build_graph`.
    accounts : ndarray of str
        Sorted account ids (used to seed each component).
    settings : Settings
        Uses ``objective``, ``resolution``, ``n_iterations`` and ``seed``.

    Returns
    -------
    ndarray of int64
        Community label of each account; labels are unique across components.

    Notes
    -----
    Iterations are run one at a time, each from the previous partition
    (``n_iterations`` of them, 2 by default). With ``n_iterations=-1`` they go
    on until an iteration raises the quality by no more than ``tolerance``
    (relative; at most :data:`MAX_ITERATIONS` iterations). igraph's own
    ``n_iterations=-1`` waits for the membership to stop changing, which never
    happens on some graphs with tied moves (a 5-node path, for one), so it is
    not used.

    igraph's ``community_leiden`` draws from a process-wide generator; it is
    given a private :class:`random.Random` seeded per component and the
    previous generator is restored afterwards.
    """
    n_acc = graph.n_accounts
    comp = graph.component
    labels = np.full(n_acc, -1, dtype=np.int64)
    edge_comp = comp[graph.src]
    order = np.argsort(edge_comp, kind="stable")
    e_src, e_dst, e_w, e_comp = graph.src[order], graph.dst[order], graph.weight[order], edge_comp[order]
    bounds = np.flatnonzero(np.diff(e_comp)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(e_comp)]))
    # Local node ids: rank of each node within its component (accounts, numbered first, come first).
    node_order = np.argsort(comp, kind="stable")
    sorted_comp = comp[node_order]
    n_comp = int(comp.max()) + 1 if len(comp) else 0
    comp_lo = np.searchsorted(sorted_comp, np.arange(n_comp), side="left")
    comp_hi = np.searchsorted(sorted_comp, np.arange(n_comp), side="right")
    local_id = np.empty(len(comp), dtype=np.int64)
    local_id[node_order] = np.arange(len(comp)) - comp_lo[sorted_comp]
    next_label = 0
    try:
        for s, e in zip(starts, ends):
            if s == e:
                continue
            c = e_comp[s]
            nodes = node_order[comp_lo[c]:comp_hi[c]]
            acc_nodes = nodes[nodes < n_acc]
            if len(acc_nodes) <= 2:
                labels[acc_nodes] = next_label
                next_label += 1
                continue
            member = _leiden(len(nodes), local_id[e_src[s:e]], local_id[e_dst[s:e]], e_w[s:e], nodes < n_acc,
                             component_seed(settings.seed, str(accounts[acc_nodes[0]])), settings)
            acc_member = member[: len(acc_nodes)]  # nodes are sorted: accounts first
            uniq, inv = np.unique(acc_member, return_inverse=True)
            labels[acc_nodes] = next_label + inv
            next_label += len(uniq)
    finally:
        ig.set_random_number_generator(random)
    isolated = labels < 0
    labels[isolated] = next_label + np.arange(int(isolated.sum()))
    return labels


def _leiden(n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, is_account: np.ndarray, seed: int,
            settings: Settings) -> np.ndarray:
    """One component's Leiden partition; iterations are driven here (see Notes of leiden_communities)."""
    # zip of Python lists builds the graph twice as fast as a numpy (E, 2) array
    g = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist())), directed=False)
    g.es["weight"] = w.tolist()
    if settings.objective == "modularity":
        # Modularity as CPM with node weights = strength and resolution / 2m (the same
        # optimum), with 2m floored at ``modularity_floor`` so a small isolated ring is
        # judged as it would be inside a graph of realistic size.
        strength = np.bincount(src, weights=w, minlength=n) + np.bincount(dst, weights=w, minlength=n)
        scale = max(float(strength.sum()), settings.modularity_floor)
        kwargs = dict(objective_function="CPM", weights="weight", resolution=settings.resolution / scale,
                      node_weights=strength.tolist())
    else:
        kwargs = dict(objective_function="CPM", weights="weight", resolution=settings.resolution,
                      node_weights=is_account.astype(float).tolist())
    ig.set_random_number_generator(random.Random(seed))
    limit = settings.n_iterations if settings.n_iterations > 0 else MAX_ITERATIONS
    membership = None
    quality = -np.inf
    try:
        if settings.n_iterations > 0:  # igraph runs them one after the other itself
            return np.asarray(g.community_leiden(n_iterations=limit, **kwargs).membership, dtype=np.int64)
        for _ in range(limit):
            part = g.community_leiden(n_iterations=1, initial_membership=membership, **kwargs)
            gain = part.quality - quality
            membership = part.membership
            quality = part.quality
            if settings.n_iterations < 0 and gain <= settings.tolerance * max(1.0, abs(quality)):
                break
    except Exception as err:  # igraph raises its own InternalError and plain Exceptions
        raise EngineError(f"igraph's Leiden failed on a component of {n} nodes: {err}") from err
    return np.asarray(membership, dtype=np.int64)


def _key_counts(key: np.ndarray) -> np.ndarray:
    """For each entry of ``key``, how often its value occurs in ``key`` (hash-based, O(n))."""
    codes, uniques = pd.factorize(key, sort=False)
    return np.bincount(codes, minlength=len(uniques))[codes]


def _link_counts(src: np.ndarray, target: np.ndarray, node: np.ndarray, link: np.ndarray, families: np.ndarray,
                 derived: np.ndarray, weight: np.ndarray, n_targets: int,
                 strong_link: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count independent links per (account, target cluster).

    Each distinct linking value is one link, except that a derived value (an
    ``ip_prefix``) adds one link for its family only when no value of the
    source kind (an ``ip``) already links the account to the same target: a
    network prefix is not evidence independent of the address inside it. And
    derived links count only next to at least one plain link: the same mail
    provider and the same /24 network are a coincidence, not a tie.

    Returns the (account, target) pairs as one int64 key ``account * n_targets + target``
    (in no particular order), their link counts and whether one of their links weighs at
    least ``strong_link``.
    """
    width = int(families.max()) + 1 if len(families) else 1
    pair = src[link].astype(np.int64) * n_targets + target[link]
    is_derived = derived[node[link]]
    fam = families[node[link]]
    plain = pair[~is_derived]
    # derived links: one per (pair, family), dropped where the family's source already links the pair
    src_keys = pd.unique(plain * width + fam[~is_derived])
    der_keys = pd.unique(pair[is_derived] * width + fam[is_derived])
    der_keys = der_keys[~pd.Index(der_keys).isin(src_keys)]
    codes, keys = pd.factorize(np.concatenate((plain, der_keys // width)), sort=False)
    counts = np.bincount(codes, minlength=len(keys))
    # Coarse values corroborate; they never bind alone: without a plain link, derived ones count nothing.
    has_plain = np.zeros(len(keys), dtype=bool)
    has_plain[codes[: len(plain)]] = True
    counts[~has_plain] = 0
    strong = pd.Index(keys).isin(pd.unique(pair[weight[link] >= strong_link]))
    return keys, counts, strong


@dataclass(frozen=True)
class _Edges:
    """The graph's edges as the membership rounds read them, computed once.

    Edges are sorted by account (as :func:`sybilgraph.graph.graph_edges` gives
    them), so the edges of any set of accounts are found through ``indptr``.
    """

    src: np.ndarray
    node: np.ndarray
    """Value node of each edge, counted from 0."""
    weight: np.ndarray
    degree: np.ndarray
    """Number of accounts carrying each edge's value."""
    families: np.ndarray
    """Family code of each value node (``ip`` and ``ip_prefix`` share one)."""
    derived: np.ndarray
    """Whether each value node is of a derived kind (``ip_prefix``, ``email_domain``)."""
    alone: np.ndarray
    """Whether each value node is of a kind that can bind a group alone (see :func:`~sybilgraph.normalise.stands_alone`)."""
    indptr: np.ndarray

    @classmethod
    def of(cls, graph: BipartiteGraph, wobs: WeightedObservations) -> _Edges:
        kinds, kind_code = np.unique(wobs.value_kind[graph.values].astype(str), return_inverse=True)
        _, fam_of_kind = np.unique([family(k) for k in kinds], return_inverse=True)
        families = fam_of_kind[kind_code] if len(kinds) else np.zeros(0, dtype=np.int64)
        derived = np.isin(kinds, list(DERIVED_FROM))[kind_code] if len(kinds) else np.zeros(0, dtype=bool)
        alone = np.array([stands_alone(k) for k in kinds], dtype=bool)[kind_code] if len(kinds) else np.zeros(0, dtype=bool)
        node = (graph.dst - graph.n_accounts).astype(np.int64)
        indptr = np.zeros(graph.n_accounts + 1, dtype=np.int64)
        np.cumsum(np.bincount(graph.src, minlength=graph.n_accounts), out=indptr[1:])
        return cls(graph.src, node, graph.weight, wobs.degree[graph.values[node]], families, derived, alone, indptr)

    def of_accounts(self, accounts: np.ndarray) -> np.ndarray:
        """Indices of the edges of ``accounts`` (sorted account indices), in edge order."""
        starts = self.indptr[accounts]
        lens = self.indptr[accounts + 1] - starts
        total = int(lens.sum())
        if total == len(self.src):
            return np.arange(total)
        return concatenated_ranges(starts, lens)



#: A kind is *single-valued* when at least this share of the accounts that carry it carry one value of it.
SINGLE_VALUED_SHARE = 0.9

#: Fewer sample pairs than this and a kind's agreement rate among likely matches is not estimated (no disagreement weight).
_MIN_SAMPLE_PAIRS = 20


@dataclass(frozen=True)
class _Identity:
    """What two accounts' single values of a kind say when they differ (Fellegi & Sunter 1969).

    For each *single-valued* kind ``k`` (not a network place, not derived),
    ``m_k`` is the share of likely matches that agree on ``k`` and ``u_k``
    the share of random pairs that do. Two accounts that each carry exactly
    one value of ``k`` and differ weigh ``D_k = log2((1 - u_k) / (1 - m_k))``
    bits *against* being one (0 when ``m_k <= u_k``: a kind on which even
    matches differ, such as operators' e-mail addresses, says nothing). The
    likely matches are the pairs of accounts that share two values (of kinds
    other than ``k``) that only the two of them carry; one such value can be
    a coincidence, two rarely are. Estimated from the data, not set.
    """

    single_value: np.ndarray
    """(accounts, identity kinds): the one value each account carries of each identity kind, -1 if not exactly one."""
    penalty: np.ndarray
    """``D_k`` of each identity kind, bits (> 0)."""
    bits: np.ndarray
    """Agreement information ``log2(N_k / d_v)`` of each graph value node, bits."""
    node_kind: np.ndarray
    """Identity-kind column of each graph value node, -1 for other kinds."""

    @classmethod
    def of(cls, graph: BipartiteGraph, wobs: WeightedObservations) -> _Identity | None:
        """Estimate the model; None when no kind's disagreement weighs anything."""
        n_acc = len(wobs.accounts)
        kind_of_value, kinds = pd.factorize(wobs.value_kind, sort=True)  # a hash, not a sort of strings
        kinds = np.asarray(kinds, dtype=str)
        # Rows are distinct (account, value) pairs (normalise keeps one row per pair); were one repeated,
        # its account would count as carrying two values of the kind: no disagreement, the safe side.
        acc, val = wobs.obs_account.astype(np.int64, copy=False), wobs.obs_value
        kk = kind_of_value[val]
        ak = acc * len(kinds) + kk
        if n_acc * len(kinds) <= 4 * len(ak) + 1_000_000:  # a dense count table is cheaper than a hash
            counts = np.bincount(ak, minlength=n_acc * len(kinds))
            single = counts[ak] == 1
            table = counts.reshape(n_acc, len(kinds))
            carriers, singles = (table > 0).sum(axis=0), (table == 1).sum(axis=0)
        else:
            ak_codes, ak_keys = pd.factorize(ak, sort=False)
            per_ak = np.bincount(ak_codes, minlength=len(ak_keys))
            single = per_ak[ak_codes] == 1
            carriers = np.bincount(ak_keys % len(kinds), minlength=len(kinds))
            singles = np.bincount(ak_keys[per_ak == 1] % len(kinds), minlength=len(kinds))
        eligible = np.array([stands_alone(k) for k in kinds], dtype=bool) & (
            singles >= SINGLE_VALUED_SHARE * np.maximum(carriers, 1)) & (carriers >= 2)
        if not eligible.any():
            return None
        # Likely matches: pairs of accounts that share values carried by those two alone.
        two = (wobs.degree[val] == 2) & (wobs.weight[val] > 0)
        by_value = unique_sorted(val[two].astype(np.int64) * n_acc + acc[two])  # each such value: its two carriers
        a2, v2 = by_value % n_acc, by_value // n_acc
        first, second, link_kind = a2[0::2], a2[1::2], kind_of_value[v2[0::2]]
        ident = np.flatnonzero(eligible)
        single_value = np.full((n_acc, len(ident)), -1, dtype=np.int64)
        penalty = np.zeros(len(ident))
        for j, k in enumerate(ident.tolist()):
            mine = single & (kk == k)
            single_value[acc[mine], j] = val[mine]
            sv = single_value[:, j]
            sel = link_kind != k  # a pair found through kind k agrees on it by construction
            found, times = np.unique(np.minimum(first[sel], second[sel]) * n_acc + np.maximum(first[sel], second[sel]),
                                     return_counts=True)
            pairs = found[times >= 2]  # two values that only the two carry: a match, not a coincidence
            pa, pb = sv[pairs // n_acc], sv[pairs % n_acc]
            both = (pa >= 0) & (pb >= 0)
            n_pairs = int(both.sum())
            if n_pairs < _MIN_SAMPLE_PAIRS:
                continue
            m = (float((pa[both] == pb[both]).sum()) + 1.0) / (n_pairs + 2.0)
            freq = np.bincount(sv[sv >= 0]).astype(np.float64)
            u = float(((freq / freq.sum()) ** 2).sum())
            if m > u:
                penalty[j] = np.log2((1.0 - u) / (1.0 - m))
        keep = penalty > 0
        if not keep.any():
            return None
        col = np.full(len(kinds), -1, dtype=np.int64)
        col[ident[keep]] = np.arange(int(keep.sum()))
        value_of_node = graph.values
        node_kind = col[kind_of_value[value_of_node]]
        bits = np.log2(np.maximum(carriers[kind_of_value[value_of_node]], 1) / np.maximum(wobs.degree[value_of_node], 1))
        return cls(single_value[:, keep], penalty[keep], np.maximum(bits, 0.0), node_kind)


def _earned(edges: _Edges, idx: np.ndarray, labels: np.ndarray, settings: Settings,
            core: np.ndarray | None = None) -> np.ndarray:
    """Return whether each account of the edges ``idx`` has earned its place in its cluster.

    ``idx`` must hold every edge of every member of the clusters it touches:
    a value's exclusivity counts its carriers in the cluster among these
    edges. Answers for accounts without edges in ``idx`` are False. When
    ``core`` is given, it is set for the accounts of ``idx``: whether they
    earn their place by links (several values or a strong one), not by one
    stand-alone value alone.
    """
    k = int(labels.max()) + 1
    size = np.bincount(labels, minlength=k)
    lab = labels[edges.src[idx]]
    evaluated = edges.src[idx]
    pair, _ = pd.factorize(edges.node[idx] * k + lab, sort=False)  # one code per (value, cluster)
    inside = np.bincount(pair)[pair]  # carriers of the edge's value in the edge's cluster
    # Coverage: the mean evidence the account shares with each other member of its cluster.
    density = np.bincount(edges.src[idx], weights=edges.weight[idx] * (inside - 1), minlength=len(labels))
    density = density / np.maximum(size[labels] - 1, 1)
    # A value can link only when its cluster could hold link_share of its other carriers, so an
    # edge from a cluster smaller than that (a household next to a hub) is left out: exact, and
    # most hub edges go.
    usable = size[lab] - 1 >= settings.link_share * (edges.degree[idx] - 1)
    idx, lab, inside, pair = idx[usable], lab[usable], inside[usable], pair[usable]
    src, node, weight, degree = edges.src[idx], edges.node[idx], edges.weight[idx], edges.degree[idx]
    share = (inside - 1) / (degree - 1)
    link = share >= settings.link_share
    earned = np.zeros(len(labels), dtype=bool)
    if len(src) < 2 or bool(np.all(src[1:] >= src[:-1])):  # edges by account (as of_accounts gives them)
        earned[_linked_accounts(src, node, link, weight, edges, settings)] = True
    else:
        keys, counts, strong = _link_counts(src, lab, node, link, edges.families, edges.derived, weight, k,
                                            settings.strong_link)
        earned[keys[(counts >= settings.min_links) | strong] // k] = True
    dense = density >= settings.min_density
    by_links = earned & dense
    if core is not None:
        core[evaluated] = by_links[evaluated]
    # A value of a kind that stands alone (tooling, not a network place), carried by many accounts
    # most of which are in the cluster's core (members that earn their place by links), is the
    # cluster's own (a team's template or device image).
    core_inside = np.bincount(pair, weights=by_links[src])[pair] - by_links[src]
    own = link & (core_inside / (degree - 1) >= settings.link_share) & (degree >= settings.exclusive_link) & edges.alone[node]
    earned[src[own]] = True
    return earned & dense


def _linked_accounts(src: np.ndarray, node: np.ndarray, link: np.ndarray, weight: np.ndarray, edges: _Edges,
                     settings: Settings) -> np.ndarray:
    """The accounts that :func:`_link_counts` finds linked (``min_links`` links or a strong one) to their own cluster.

    For edges sorted by account whose target is the account's own cluster,
    so that an (account, target) pair is just the account: the counts are
    taken over runs of one account and a dense (account, family) table, not
    hashes. The same rule: every plain linking edge is one link, a derived
    family adds one when no plain value of the family links, and derived
    links count nothing without a plain one.
    """
    src, node, weight = src[link], node[link], weight[link]
    if not len(src):
        return src
    start = np.r_[True, src[1:] != src[:-1]]
    local = np.cumsum(start) - 1
    accounts = src[start]
    n_local = len(accounts)
    width = int(edges.families.max()) + 1
    is_derived = edges.derived[node]
    cell = local * width + edges.families[node]
    plain_fam = np.zeros(n_local * width, dtype=bool)
    plain_fam[cell[~is_derived]] = True
    der_fam = np.zeros(n_local * width, dtype=bool)
    der_fam[cell[is_derived]] = True
    n_plain = np.bincount(local[~is_derived], minlength=n_local)
    counts = n_plain + (der_fam & ~plain_fam).reshape(n_local, width).sum(axis=1)
    counts[n_plain == 0] = 0
    strong = np.zeros(n_local, dtype=bool)
    strong[local[weight >= settings.strong_link]] = True
    return accounts[(counts >= settings.min_links) | strong]


def _rejoin(edges: _Edges, labels: np.ndarray, barred: np.ndarray, core: np.ndarray, settings: Settings,
            identity: _Identity | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Let singletons join the cluster they earn membership in, if any.

    Leiden sometimes seats an account in a hub's community rather than with the
    accounts that share its rarer values; the peel then leaves it alone. A
    singleton joins cluster ``B`` when its values link it to ``B`` by the same
    rule that keeps members in place (``min_links`` linking values, one strong
    link, or one value carried only by ``B`` and by at least
    ``exclusive_link`` accounts, and at least ``min_density`` evidence per
    member of ``B``). Each value points at the cluster holding most of its
    carriers. Returns the accounts that join and their clusters, or
    None when nobody joins.
    """
    k = int(labels.max()) + 1
    size = np.bincount(labels, minlength=k)
    edge_size = size[labels[edges.src]]
    alone = np.flatnonzero(edge_size == 1)  # the singletons' edges
    if not len(alone):
        return None
    node = edges.node
    # For each value, the cluster (of 2+ accounts) holding most of its carriers. Only a cluster
    # that could hold link_share of them can link it, so smaller ones are not counted (exact).
    grouped = (edge_size >= 2) & (edge_size >= settings.link_share * (edges.degree - 1))
    key = node[grouped] * k + labels[edges.src[grouped]]
    inverse, uk = pd.factorize(key, sort=False)  # a hash: the lexsort below fixes the order
    m = np.bincount(inverse, minlength=len(uk))
    m_core = np.bincount(inverse, weights=core[edges.src[grouped]], minlength=len(uk))  # carriers in the core
    v_of, c_of = uk // k, uk % k
    order = np.lexsort((c_of, -m, v_of))
    v_of, c_of, m, m_core = v_of[order], c_of[order], m[order], m_core[order]
    first = np.concatenate(([True], v_of[1:] != v_of[:-1])) if len(v_of) else np.zeros(0, dtype=bool)
    top = np.full(len(edges.families), -1, dtype=np.int64)
    top_m = np.zeros(len(edges.families), dtype=np.int64)
    top_core = np.zeros(len(edges.families))
    top[v_of[first]] = c_of[first]
    top_m[v_of[first]] = m[first]
    top_core[v_of[first]] = m_core[first]
    alone = alone[top[node[alone]] >= 0]  # only values some cluster of two or more carries can link (exact)
    src, node, degree = edges.src[alone], node[alone], edges.degree[alone]
    target = top[node]
    q = top_m[node] / np.maximum(degree - 1, 1)
    q_core = top_core[node] / np.maximum(degree - 1, 1)
    link = (target >= 0) & (q >= settings.link_share)
    if not link.any():
        return None
    keys, counts, strong = _link_counts(src, np.maximum(target, 0), node, link, edges.families,
                                        edges.derived, edges.weight[alone], k, settings.strong_link)
    ok = (counts >= settings.min_links) | strong
    own = link & (q_core >= settings.link_share) & (degree >= settings.exclusive_link) & edges.alone[node]
    extra = unique_sorted(src[own].astype(np.int64) * k + target[own])
    extra = extra[~pd.Index(extra).isin(keys[ok])]
    by_links = np.concatenate((np.ones(int(ok.sum()), dtype=bool), np.zeros(len(extra), dtype=bool)))
    keys = np.concatenate((keys[ok], extra))
    score = np.concatenate((counts[ok], np.ones(len(extra), dtype=counts.dtype)))
    # The same coverage as members need: the account's evidence per member of the cluster it joins
    # (counted through the values whose largest cluster that is).
    # Only the candidate joins' own rows count towards their coverage and agreement: the others are
    # left out before the sorts (exact; what is left keeps its order).
    has = target >= 0
    has[has] = pd.Index(src[has].astype(np.int64) * k + target[has]).isin(keys)
    pairs, inverse = np.unique(src[has].astype(np.int64) * k + target[has], return_inverse=True)
    evidence = np.bincount(inverse.reshape(-1), weights=edges.weight[alone][has] * top_m[node[has]], minlength=len(pairs))
    at = np.minimum(np.searchsorted(pairs, keys), max(len(pairs) - 1, 0))
    dense = evidence[at] >= settings.min_density * size[keys % k] if len(pairs) else np.zeros(len(keys), dtype=bool)
    keys, score, by_links = keys[dense], score[dense], by_links[dense]
    if identity is not None and len(keys):
        agrees = _joins_agree(identity, keys, k, labels, src[has], target[has], node[has], top_m[node[has]])
        keys, score, by_links = keys[agrees], score[agrees], by_links[agrees]
    allowed = barred[keys // k] != keys % k
    keys, score, by_links = keys[allowed], score[allowed], by_links[allowed]
    if not len(keys):
        return None
    acc, tgt = keys // k, keys % k
    best = np.lexsort((tgt, -score, acc))
    acc, tgt, by_links = acc[best], tgt[best], by_links[best]
    first_acc = np.concatenate(([True], acc[1:] != acc[:-1]))
    return acc[first_acc], tgt[first_acc], by_links[first_acc]


def _joins_agree(identity: _Identity, keys: np.ndarray, k: int, labels: np.ndarray, src: np.ndarray,
                 target: np.ndarray, node: np.ndarray, carriers: np.ndarray) -> np.ndarray:
    """Whether each candidate join ``account * k + cluster`` agrees more than it disagrees, in bits.

    The test of :func:`_disagreeing_dropped` between one account ``a`` and
    the members of the cluster ``B`` it would join: each value of ``a`` whose
    largest cluster is ``B`` adds ``log2(N_k / d_v)`` bits per carrier in
    ``B`` (``carriers``: the edges' values' carriers there; counted as the
    coverage of a join is), and each member of ``B`` that carries one value
    of an identity kind of which ``a`` carries one other takes ``D_k`` bits.
    """
    pair_key = src.astype(np.int64) * k + target
    nk = identity.node_kind[node]
    acc_single = nk >= 0
    acc_single[acc_single] = identity.single_value[src[acc_single], nk[acc_single]] >= 0
    gain = carriers * (identity.bits[node] + np.where(acc_single, identity.penalty[np.maximum(nk, 0)], 0.0))
    uk, inverse = np.unique(pair_key, return_inverse=True)
    agree = np.bincount(inverse.reshape(-1), weights=gain, minlength=len(uk))
    at = np.minimum(np.searchsorted(uk, keys), max(len(uk) - 1, 0))
    bits = np.where(uk[at] == keys, agree[at], 0.0) if len(uk) else np.zeros(len(keys))
    acc, tgt = keys // k, keys % k
    grouped = np.flatnonzero(np.bincount(labels, minlength=k)[labels] >= 2)
    counts = _column_counts(labels[grouped], identity.single_value[grouped] >= 0, k)
    mine = (identity.single_value[acc] >= 0).astype(np.float64)
    return bits - (mine * identity.penalty * counts[tgt]).sum(axis=1) >= 0


def _column_counts(group: np.ndarray, flags: np.ndarray, n_groups: int) -> np.ndarray:
    """(groups, columns) float table: how many rows of each group have each column's flag set.

    The same table as ``np.add.at`` on a zero table, without its slow per-row path (counts are exact in float).
    """
    counts = np.zeros((n_groups, flags.shape[1]))
    for j in range(flags.shape[1]):
        counts[:, j] = np.bincount(group[flags[:, j]], minlength=n_groups)
    return counts


def _atoms(edges: _Edges, idx: np.ndarray, labels: np.ndarray, accounts: np.ndarray,
           settings: Settings) -> np.ndarray:
    """Split each cluster touched by the edges ``idx`` into its tight groups (*atoms*) with Leiden.

    Leiden (modularity on the cluster's own subgraph: the values two or more
    members share) is seeded per cluster from ``(seed, smallest member id)``,
    so a cluster's atoms depend on nothing outside it. ``idx`` holds every
    edge of every member of those clusters. Returns an atom number per account
    (-1 for accounts without edges in ``idx``); numbers are unique across
    clusters.
    """
    k = int(labels.max()) + 1
    lab = labels[edges.src[idx]]
    shared = _key_counts(edges.node[idx] * k + lab) >= 2
    idx, lab = idx[shared], lab[shared]
    src, node = edges.src[idx], edges.node[idx]
    # Local numbers of accounts and values within their cluster, for all clusters at once.
    acc_keys, acc_local = np.unique(lab * len(labels) + src, return_inverse=True)
    val_keys, val_local = np.unique(lab * (int(node.max()) + 1) + node, return_inverse=True)
    acc_start = np.searchsorted(acc_keys // len(labels), np.arange(k))
    val_start = np.searchsorted(val_keys // (int(node.max()) + 1), np.arange(k))
    acc_local, val_local = acc_local.reshape(-1) - acc_start[lab], val_local.reshape(-1) - val_start[lab]
    order = np.argsort(lab, kind="stable")
    bounds = np.flatnonzero(np.diff(lab[order])) + 1
    atom = np.full(len(labels), -1, dtype=np.int64)
    next_atom = 0
    plain = settings.replace(objective="modularity", modularity_floor=0.0, resolution=1.0)
    try:
        for s, e in zip(np.concatenate(([0], bounds)).tolist(), np.concatenate((bounds, [len(lab)])).tolist()):
            if s == e:
                continue
            c = int(lab[order[s]])
            members = acc_keys[acc_start[c]:acc_start[c + 1] if c + 1 < k else len(acc_keys)] - c * len(labels)
            if len(members) <= _SMALL_CLUSTER:  # every account is an atom: tested one by one below
                atom[members] = next_atom + np.arange(len(members))
                next_atom += len(members)
                continue
            n_values = (val_start[c + 1] if c + 1 < k else len(val_keys)) - val_start[c]
            here = order[s:e]
            member = _leiden(len(members) + n_values, acc_local[here], val_local[here] + len(members),
                             edges.weight[idx[here]], np.arange(len(members) + n_values) < len(members),
                             component_seed(settings.seed, str(accounts[members[0]])), plain)
            _, inverse = np.unique(member[: len(members)], return_inverse=True)
            atom[members] = next_atom + inverse.reshape(-1)
            next_atom += int(inverse.max()) + 1
    finally:
        ig.set_random_number_generator(random)
    return atom


# Long (about 90 lines): one pass over the clusters to check — atoms, the between-atom evidence, the
# disagreement filter, CPM regrouping, the leave-group-out test — sharing its index arrays; splitting it
# would pass those arrays through five signatures. To be split with the engine's Leiden seam.
def _split(edges: _Edges, labels: np.ndarray, check: np.ndarray, accounts: np.ndarray, known: np.ndarray,
           known_size: np.ndarray, settings: Settings,
           identity: _Identity | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Regroup the tight groups of each cluster in ``check`` so that groups stay together only when dense.

    Membership must not be self-referential: a household's own card and
    device tie each of its members to the household, wherever Leiden put the
    household. So each cluster is cut into its atoms (see :func:`_atoms`) and
    the atoms are grouped again by the Constant Potts Model on the evidence
    *between* them: atoms ``S`` and ``T`` share ``X(S, T) = sum_v w_v |S ∩ A_v|
    |T ∩ A_v|``, the evidence of the account pairs across them, and a group
    of atoms is worth keeping together when its pairs across atoms share at
    least ``min_density`` each on average (Traag, Van Dooren & Nesterov 2011:
    CPM has no resolution limit, so the answer for a group does not depend on
    the size of the graph around it). Returns the accounts whose group is
    not their cluster's largest and a group number for each, or None when
    every cluster stays whole.

    ``known`` holds the atom of each account from earlier calls (-1: none)
    and is updated in place, with ``known_size``, the size of the cluster an
    account's atom was cut in. A cluster that lost a few accounts, or gained
    some, keeps the atoms it had (an account that joined it is an atom of its
    own); a group that left, or a cluster left with less than half of the
    accounts it was cut with, is cut into atoms again on its own subgraph,
    where modularity sees it at its own scale (as hierarchical Leiden
    recurses).
    """
    size = np.bincount(labels)
    acc = np.flatnonzero(check[labels] & (size[labels] >= 3))
    if not len(acc):
        return None
    idx = edges.of_accounts(acc)
    # A cluster that kept at least half the accounts it had when it was cut keeps its atoms.
    seen = np.zeros(len(size), dtype=bool)
    cut_size = np.zeros(len(size), dtype=np.int64)
    np.maximum.at(cut_size, labels[acc], known_size[acc])
    seen[labels[acc[known[acc] >= 0]]] = True
    seen &= 2 * size >= cut_size
    fresh = acc[~seen[labels[acc]]]
    atom = _atoms(edges, edges.of_accounts(fresh), labels, accounts, settings) if len(fresh) else np.full(len(labels), -1)
    old = acc[seen[labels[acc]]]
    if len(old):
        mark = np.where(known[old] >= 0, known[old], -1 - old)  # an account without an atom is one
        kept, _ = pd.factorize((mark - mark.min()) * len(size) + labels[old], sort=True)
        atom[old] = int(atom.max()) + 1 + kept
    loose = acc[atom[acc] < 0]  # members sharing nothing within the cluster: atoms of their own
    atom[loose] = int(atom.max()) + 1 + np.arange(len(loose))
    known[acc] = int(known.max()) + 1 + atom[acc]
    known_size[fresh] = size[labels[fresh]]
    n_atoms = int(atom.max()) + 1
    atom_size = np.bincount(atom[acc], minlength=n_atoms)
    cluster_of = np.zeros(n_atoms, dtype=np.int64)
    cluster_of[atom[acc]] = labels[acc]
    first_member = np.full(n_atoms, len(labels), dtype=np.int64)
    np.minimum.at(first_member, atom[acc], acc)
    # Evidence between atoms of one cluster: columns are (value, cluster) pairs, so only atoms of the
    # same cluster meet, and the product costs what the clusters hold, not what hubs hold.
    at = atom[edges.src[idx]]
    column, _ = pd.factorize(edges.node[idx] * len(size) + labels[edges.src[idx]], sort=False)
    carriers = sp.csr_matrix((np.ones(len(idx)), (at, column)), shape=(n_atoms, int(column.max()) + 1))
    weight = np.zeros(carriers.shape[1])
    weight[column] = edges.weight[idx]
    between = sp.triu(carriers @ sp.diags(weight) @ carriers.T, k=1).tocoo()
    if identity is not None and between.nnz:
        between = _disagreeing_dropped(between, carriers, edges, idx, column, atom, acc, n_atoms, identity)
    group = np.arange(n_atoms, dtype=np.int64)
    order = np.lexsort((first_member, cluster_of))  # atoms of a cluster together, by smallest member
    bounds = np.flatnonzero(np.diff(cluster_of[order])) + 1
    e_order = np.argsort(cluster_of[between.row], kind="stable")
    e_row, e_col, e_val = between.row[e_order], between.col[e_order], between.data[e_order]
    e_cluster = cluster_of[e_row]
    e_lo = np.searchsorted(e_cluster, np.arange(len(size)), side="left")  # each cluster's edges: e_lo[c]:e_hi[c]
    e_hi = np.searchsorted(e_cluster, np.arange(len(size)), side="right")
    local = np.empty(n_atoms, dtype=np.int64)
    try:
        for s, e in zip(np.concatenate(([0], bounds)).tolist(), np.concatenate((bounds, [n_atoms])).tolist()):
            members = order[s:e]
            if len(members) < 2:
                continue
            c = cluster_of[members[0]]
            lo, hi = int(e_lo[c]), int(e_hi[c])
            n_pairs = len(members) * (len(members) - 1) // 2
            if hi - lo == n_pairs and np.all(e_val[lo:hi] >= settings.min_density * atom_size[e_row[lo:hi]] * atom_size[e_col[lo:hi]]):
                group[members] = members[0]  # every pair of atoms is dense: together is the best partition
                continue
            local[members] = np.arange(len(members))
            g = ig.Graph(n=len(members), edges=list(zip(local[e_row[lo:hi]].tolist(), local[e_col[lo:hi]].tolist())))
            g.es["weight"] = e_val[lo:hi].tolist()
            ig.set_random_number_generator(random.Random(component_seed(settings.seed, str(accounts[first_member[members[0]]]))))
            part = g.community_leiden(objective_function="CPM", weights="weight", resolution=settings.min_density,
                                      node_weights=atom_size[members].astype(float).tolist(),
                                      n_iterations=settings.n_iterations if settings.n_iterations > 0 else 10)
            group[members] = members[np.asarray(part.membership, dtype=np.int64)]  # any member atom names the group
    except Exception as err:  # igraph raises its own InternalError and plain Exceptions
        raise EngineError(f"igraph's Leiden failed while regrouping a cluster's atoms: {err}") from err
    finally:
        ig.set_random_number_generator(random)
    loner = ~_atoms_earn(edges, idx, atom, group, atom_size, settings)
    group[loner] = n_atoms + np.flatnonzero(loner)  # an atom that does not earn its place is a group of its own
    group_cluster = np.concatenate((cluster_of, cluster_of))
    # The largest group of each cluster (ties: smallest member) keeps the cluster; the others leave it.
    g_size = np.bincount(group[atom[acc]], minlength=2 * n_atoms)
    g_first = np.full(2 * n_atoms, len(labels), dtype=np.int64)
    np.minimum.at(g_first, group[atom[acc]], acc)
    groups = np.flatnonzero(g_size > 0)
    ranked = groups[np.lexsort((g_first[groups], -g_size[groups], group_cluster[groups]))]
    lead = ranked[np.r_[True, group_cluster[ranked][1:] != group_cluster[ranked][:-1]]]
    stays = np.zeros(2 * n_atoms, dtype=bool)
    stays[lead] = True
    leaves = ~stays[group[atom[acc]]]
    if not leaves.any():
        return None
    return acc[leaves], group[atom[acc[leaves]]]


def _disagreeing_dropped(between: sp.coo_matrix, carriers: sp.csr_matrix, edges: _Edges, idx: np.ndarray,
                         column: np.ndarray, atom: np.ndarray, acc: np.ndarray, n_atoms: int,
                         identity: _Identity) -> sp.coo_matrix:
    """Drop the atom pairs whose account pairs disagree more than they agree (in bits, Fellegi–Sunter).

    For atoms ``S`` and ``T`` the log-likelihood ratio of "one" over "not one"
    summed over their account pairs: every value both carry adds
    ``log2(N_k / d_v)`` bits per pair (the information of agreeing on it, as
    if matches always agreed: an upper bound, so the drop errs towards
    keeping), every pair that carries one value each of an identity kind and
    differs on it takes ``D_k`` bits (see :class:`_Identity`). A pair of atoms
    with a negative sum has no edge in the regrouping.
    """
    src, node = edges.src[idx], edges.node[idx]
    n_cols = carriers.shape[1]
    bits = np.zeros(n_cols)
    bits[column] = identity.bits[node]
    nk = identity.node_kind[node]
    single = nk >= 0
    single[single] = identity.single_value[src[single], nk[single]] >= 0
    penalty = np.zeros(n_cols)
    penalty[column[single]] = identity.penalty[nk[single]]
    agree = carriers @ sp.diags(bits) @ carriers.T
    ones = sp.csr_matrix((np.ones(int(single.sum())), (atom[src[single]], column[single])), shape=carriers.shape)
    agree = (agree + ones @ sp.diags(penalty) @ ones.T).tocsr()
    agree.sum_duplicates()  # sorted indices: sampling searches each row instead of scanning it
    counts = _column_counts(atom[acc], identity.single_value[acc] >= 0, n_atoms)
    r, c = between.row, between.col
    llr = np.asarray(agree[r, c]).reshape(-1) - ((counts[r] * identity.penalty) * counts[c]).sum(axis=1)
    keep = llr >= 0
    return sp.coo_matrix((between.data[keep], (r[keep], c[keep])), shape=between.shape)


def _atoms_earn(edges: _Edges, idx: np.ndarray, atom: np.ndarray, group: np.ndarray, atom_size: np.ndarray,
                settings: Settings) -> np.ndarray:
    """Whether each atom earns its place in its group by what it shares with the rest of the group.

    The rule single accounts follow, applied to an atom ``G`` and the rest
    ``R`` of its group, counting only what ``G`` shares with ``R``:
    ``min_links`` independent values whose carriers outside ``G`` lie mostly
    (``link_share``) in ``R``, or one strong value, or one value of a kind
    that stands alone carried by ``exclusive_link`` accounts or more, mostly
    in ``R``; and at least half of ``G``'s accounts must carry one of those
    linking values, so that one member's link (a household member who used a
    team's template) does not carry the whole group. Density is not tested
    here: the grouping already asked for it. Atoms alone in their group pass.
    """
    n_atoms = len(atom_size)
    src, node, weight, degree = edges.src[idx], edges.node[idx], edges.weight[idx], edges.degree[idx]
    at = atom[src]
    codes, uniques = pd.factorize(node * n_atoms + at, sort=False)
    in_atom = np.bincount(codes, minlength=len(uniques))[codes]
    in_rest = _key_counts(node * n_atoms + group[at]) - in_atom
    share = in_rest / np.maximum(degree - in_atom, 1)
    link = (in_rest > 0) & (share >= settings.link_share)
    # One row per (atom, value): its first. factorize numbers keys in order of first appearance,
    # so a row is the first of its key where its code exceeds every earlier code.
    first = codes > np.concatenate(([-1], np.maximum.accumulate(codes)[:-1])) if len(codes) else np.zeros(0, dtype=bool)
    keys, counts, strong = _link_counts(at[first], np.zeros(int(first.sum()), dtype=np.int64), node[first], link[first],
                                        edges.families, edges.derived, weight[first], 1, settings.strong_link)
    earned = np.zeros(n_atoms, dtype=bool)
    earned[keys[(counts >= settings.min_links) | strong]] = True
    earned[at[link & (degree >= settings.exclusive_link) & edges.alone[node]]] = True
    # The links must tie the group, not one of its members: most of the atom's accounts carry one.
    linked = np.bincount(atom[pd.unique(src[link])], minlength=n_atoms)
    earned &= 2 * linked >= atom_size
    group_size = np.bincount(group, weights=atom_size, minlength=n_atoms)
    return earned | (group_size[group] == atom_size)


def _attachment(edges: _Edges, labels: np.ndarray) -> np.ndarray:
    """Each account's evidence towards its own cluster: the sum of w_v times the value's exclusivity.

    The exclusivity of edge (a, v) is the share of v's other carriers that are
    in a's cluster. Singletons get 0; only members' edges are counted, which
    is exact, since only a cluster's members carry values into it.
    """
    grouped = np.flatnonzero(np.bincount(labels)[labels] >= 2)
    idx = edges.of_accounts(grouped)
    src = edges.src[idx]
    share = (_key_counts(edges.node[idx] * (int(labels.max()) + 1) + labels[src]) - 1) / (edges.degree[idx] - 1)
    return np.bincount(src, weights=edges.weight[idx] * share, minlength=len(labels)).astype(np.float64)


def _pieces(edges: _Edges, idx: np.ndarray, accounts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Connected piece of each of ``accounts`` within its cluster, through the values in ``idx``.

    Two accounts of one cluster are in one piece when a chain of values that
    members of the cluster share joins them. ``idx`` holds the edges of
    ``accounts`` (and of no one else). Returns one piece number per account
    (0 .. pieces-1), in no particular order.
    """
    n = len(accounts)
    local = np.searchsorted(accounts, edges.src[idx])
    pair, _ = pd.factorize(edges.node[idx] * (int(labels.max()) + 1) + labels[edges.src[idx]], sort=False)
    m = n + (int(pair.max()) + 1 if len(pair) else 0)
    adj = sp.coo_matrix((np.ones(len(idx), dtype=np.int8), (local, n + pair)), shape=(m, m)).tocsr()
    _, comp = connected_components(adj, directed=False)
    return comp[:n].astype(np.int64)


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Renumber labels: largest cluster first, ties by smallest member (accounts are sorted by id)."""
    uniq, first, inv, sizes = np.unique(labels, return_index=True, return_inverse=True, return_counts=True)
    order = np.lexsort((first, -sizes))
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return rank[inv]


# Long (about 110 lines): the round loop of the three membership steps (peel, split groups, rejoin) keeps
# ten arrays of per-cluster state in step; the Notes below walk it. A state object would let it split.
def earn_membership(graph: BipartiteGraph, wobs: WeightedObservations, community: np.ndarray,
                    settings: Settings) -> Membership:
    """Peel weakly attached accounts off their communities and split what is left.

    Parameters
    ----------
    graph : BipartiteGraph
    wobs : WeightedObservations
    community : ndarray of int64
        Leiden community of each account.
    settings : Settings
        Uses ``min_links``, ``link_share``, ``strong_link`` and ``exclusive_link``.

    Returns
    -------
    Membership

    Notes
    -----
    Whether an account has earned its place depends only on the member set of
    its cluster, so each round looks only at the clusters that changed in the
    previous one (and at their edges): the cost of a round follows what moved,
    not the size of the graph. The first round looks at every cluster.
    """
    n = graph.n_accounts
    edges = _Edges.of(graph, wobs)
    identity = _Identity.of(graph, wobs)
    labels = pd.factorize(community, sort=False)[0].astype(np.int64)  # working ids; canonical at the end
    next_id = int(labels.max()) + 1 if n else 0
    dirty = np.ones(next_id, dtype=bool)  # clusters to evaluate in this round
    unsplit = np.ones(next_id, dtype=bool)  # clusters whose atoms have not been tested since they changed
    recut = np.zeros(next_id, dtype=bool)  # clusters to cut into connected pieces in the next round
    atoms = np.full(n, -1, dtype=np.int64)  # tight groups found so far (see _split)
    atom_base = np.zeros(n, dtype=np.int64)  # the size of the cluster each atom was cut in
    barred = np.full(n, -1, dtype=np.int64)  # the cluster the group test took each account out of
    core = np.zeros(n, dtype=bool)  # members that earned their place by links (see _rejoin)
    forward: dict[int, int] = {}  # split cluster -> its largest piece of two or more (-1: none)
    touched = np.full(n, -1, dtype=np.int64)
    rounds = 0
    for rounds in range(1, _MAX_ROUNDS + 1):
        size = np.bincount(labels, minlength=next_id)
        acc = np.flatnonzero(dirty[labels] & (size[labels] >= 2))
        earned = _earned(edges, edges.of_accounts(acc), labels, settings, core)
        peeled = acc[~earned[acc]]
        # Clusters to cut into connected pieces: those that lost members (every cluster in round 1).
        hit = recut.copy()
        hit[labels[peeled] if rounds > 1 else labels[acc]] = True
        touched[peeled] = labels[peeled]
        keep = acc[hit[labels[acc]] & earned[acc]]
        old = labels[keep]
        piece = _pieces(edges, edges.of_accounts(keep), keep, labels)
        labels[peeled] = next_id + np.arange(len(peeled))
        next_id += len(peeled)
        n_pieces = int(piece.max()) + 1 if len(piece) else 0
        piece_size = np.bincount(piece, minlength=n_pieces)
        piece_old = np.zeros(n_pieces, dtype=np.int64)
        piece_old[piece] = old
        same = piece_size == size[piece_old]  # the piece is its whole old cluster: nothing changed
        if not len(peeled) and same.all():
            # Every account has earned its place: now every tight group must, too.
            split = _split(edges, labels, unsplit, wobs.accounts, atoms, atom_base, settings, identity)
            unsplit[:] = False
            if split is not None:
                leavers, group = split
                touched[leavers] = labels[leavers]
                barred[leavers] = labels[leavers]
                atoms[leavers] = -1  # a group that leaves is cut into atoms of its own, in its own context
                _, group = np.unique(group, return_inverse=True)
                cut = np.zeros(next_id, dtype=bool)
                cut[labels[leavers]] = True
                labels[leavers] = next_id + group.reshape(-1)
                next_id += int(group.max()) + 1
                dirty = np.zeros(next_id, dtype=bool)
                dirty[labels[leavers]] = True
                dirty[: len(cut)] |= cut
                unsplit = dirty.copy()
                recut = np.zeros(next_id, dtype=bool)
                recut[: len(cut)] = cut
                continue
            joined = _rejoin(edges, labels, barred, core, settings, identity)
            if joined is None:
                break
            joiners, targets, core[joiners] = joined
            labels[joiners] = targets
            dirty = np.zeros(next_id, dtype=bool)
            dirty[targets] = True
            unsplit = dirty.copy()
            recut = np.zeros(next_id, dtype=bool)
            continue
        new_id = np.where(same, piece_old, next_id + np.arange(n_pieces))
        labels[keep] = new_id[piece]
        next_id += n_pieces
        # The largest piece (ties: the one with the smallest account) carries the old cluster on.
        first = np.full(n_pieces, n, dtype=np.int64)
        np.minimum.at(first, piece, keep)
        order = np.lexsort((first, -piece_size, piece_old))
        lead = order[np.r_[True, piece_old[order][1:] != piece_old[order][:-1]]] if n_pieces else order
        for cut_id in np.flatnonzero(hit).tolist():
            forward[cut_id] = -1  # unless a piece of two or more is left, below
        for cut_id, p in zip(piece_old[lead].tolist(), lead.tolist()):
            if same[p]:
                del forward[cut_id]
            elif piece_size[p] >= 2:
                forward[cut_id] = int(new_id[p])
        dirty = np.zeros(next_id, dtype=bool)
        dirty[new_id[~same]] = True
        grown = np.zeros(next_id, dtype=bool)
        grown[: len(unsplit)] = unsplit
        unsplit = grown | dirty
        recut = np.zeros(next_id, dtype=bool)
    size = np.bincount(labels, minlength=next_id)
    canonical = _canonical(labels)
    canonical_of = np.full(next_id, -1, dtype=np.int64)
    canonical_of[labels] = canonical
    final_sizes = np.bincount(canonical)
    att = _attachment(edges, canonical)
    alone = final_sizes[canonical] < 2

    def heirs(working: np.ndarray) -> np.ndarray:
        """Singletons' working cluster ids → canonical id of what the cluster became (-1: gone)."""
        out = np.full(n, -1, dtype=np.int64)
        chosen = np.flatnonzero(alone & (working >= 0))
        ids, inverse = np.unique(working[chosen], return_inverse=True)
        heir = np.empty(len(ids), dtype=np.int64)
        for i, c in enumerate(ids.tolist()):
            while c >= 0 and c in forward:
                c = forward[c]
            heir[i] = canonical_of[c] if c >= 0 and size[c] >= 2 else -1
        out[chosen] = heir[inverse]
        return out

    return Membership(canonical, att, heirs(touched), community, rounds, heirs(barred))
