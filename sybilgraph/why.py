"""Why an account is in its cluster or not, and what holds a cluster together.

:func:`explain_account` works the membership rule of :mod:`sybilgraph.cluster`
(``docs/concepts.md`` §3) through for one account, value by value;
:func:`explain_cluster` names the few values that hold a cluster together,
the members that hang on one link and the value whose loss would split it.
Both start from what a :class:`~sybilgraph.ClusterResult` holds: the value
weights and the account–value graph are rebuilt once from
``result.observations`` and ``result.settings`` (the same functions the
pipeline ran, so the figures are the ones that decided) and kept with the
result for the next call.

The rule, for an account ``a`` judged against a cluster ``C`` of ``|C|``
accounts:

* a value ``v`` carried by ``d_v`` accounts *links* ``a`` to ``C`` when the
  share of its other carriers in ``C`` reaches ``link_share``;
* ``a`` earns a place when ``min_links`` independent values link it (a
  derived ``ip_prefix`` adds nothing beside an ``ip`` that links; derived
  values alone never bind), or one link weighs ``strong_link`` or more, or one
  linking value of a kind that stands alone is carried by ``exclusive_link``
  accounts or more, mostly (``link_share``) members of the cluster's *core*
  (members there by several values or a strong one) — *and* its coverage
  (evidence per other member) reaches ``min_density``.

Members are judged against their own cluster (the figures count them among
its carriers); an account outside every cluster is judged as the pipeline's
last step judged it (each value counts for the cluster holding most of its
carriers), for the cluster it touched (``periphery_of``) or else the cluster
it shares most evidence per member with. The pipeline also judges *groups* (a household
inside an operator's cluster must earn its place as a group): an account that
passes the account rule against a cluster yet stands outside it was taken out
with its group, and the verdict says so.

Limit: when two clusters hold exactly as many carriers of one value, the
pipeline's last step counts the value for one of them in its working order,
which the result does not keep; here it counts for the smaller cluster id.
``tests/test_why.py`` checks the explanations against the clustering's own
functions on synthetic scenarios.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _html
from ._errors import ParameterError
from .cluster import _earned, _Edges, _link_counts
from .graph import BipartiteGraph, build_graph
from .normalise import DERIVED_FROM, stands_alone
from .settings import Settings
from .weights import WeightedObservations, weight_values

if TYPE_CHECKING:  # pragma: no cover
    from .results import ClusterResult

__all__ = ["AccountExplanation", "ClusterExplanation", "explain_account", "explain_cluster"]

#: Columns of :attr:`AccountExplanation.values`.
VALUE_COLUMNS = ("kind", "value", "carriers", "in_cluster", "share", "weight", "link", "counts_as", "coverage",
                 "value_id")

#: Most values :func:`explain_cluster` lists as holding a cluster together.
MAX_COVER = 50


# --------------------------------------------------------------------------- state rebuilt from a result


@dataclass(frozen=True)
class _State:
    """What the explanations need, rebuilt once per result from its observations and settings."""

    wobs: WeightedObservations
    graph: BipartiteGraph
    edges: _Edges
    labels: np.ndarray
    """Final cluster of each account (as in ``result.assignments``)."""
    size: np.ndarray
    index: pd.Index
    """Account id -> account number."""
    obs_order: np.ndarray
    obs_ptr: np.ndarray
    """Observations (``wobs.obs_*``) of account ``i``: ``obs_order[obs_ptr[i]:obs_ptr[i + 1]]``."""
    carriers: np.ndarray
    carriers_ptr: np.ndarray
    """Accounts carrying value node ``j``: ``carriers[carriers_ptr[j]:carriers_ptr[j + 1]]``."""
    core: np.ndarray
    """Members that earn their place by links (several values or a strong one), not by one value alone."""
    template_text: dict[str, str]
    settings: Settings


def _state(result: ClusterResult) -> _State:
    cache = result._cache
    if "why" not in cache:
        cache["why"] = _build_state(result)
    state = cache["why"]
    assert isinstance(state, _State)
    return state


def _build_state(result: ClusterResult) -> _State:
    from ._errors import EngineError

    assignments = result.assignments
    accounts = assignments["account_id"].to_numpy(dtype=object)
    with_rows = pd.Index(pd.unique(result.observations["account_id"]))
    extra = accounts[~pd.Index(accounts).isin(with_rows)]
    wobs = weight_values(result.observations, result.settings, extra_accounts=extra)
    if len(wobs.accounts) != len(accounts) or not (wobs.accounts == accounts).all():
        raise EngineError("the result's observations do not rebuild its accounts in order; "
                          "was result.assignments or result.observations changed after clustering?")
    graph = build_graph(wobs)
    edges = _Edges.of(graph, wobs)
    labels = assignments["cluster_id"].to_numpy(dtype=np.int64)
    size = np.bincount(labels, minlength=int(labels.max()) + 1 if len(labels) else 0)
    obs_order = np.argsort(wobs.obs_account, kind="stable")
    obs_ptr = np.zeros(len(accounts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(wobs.obs_account, minlength=len(accounts)), out=obs_ptr[1:])
    node = edges.node
    by_node = np.argsort(node, kind="stable")
    carriers_ptr = np.zeros(len(graph.values) + 1, dtype=np.int64)
    np.cumsum(np.bincount(node, minlength=len(graph.values)), out=carriers_ptr[1:])
    core = np.zeros(len(accounts), dtype=bool)
    grouped = np.flatnonzero(size[labels] >= 2)
    if len(grouped):
        _earned(edges, edges.of_accounts(grouped), labels, result.settings, core)
    templates = result.templates
    text: dict[str, str] = {}
    if templates is not None and len(templates):
        text = {str(k): str(v) for k, v in zip(templates["template_id"].tolist(), templates["representative"].tolist())}
    return _State(wobs, graph, edges, labels, size, pd.Index(accounts), obs_order, obs_ptr, edges.src[by_node],
                  carriers_ptr, core, text, result.settings)


def _shown(state: _State, kind: str, value: str) -> str:
    """A value as an investigator reads it: a prompt template as its text with slots, not its ``tpl-`` id."""
    if kind == "prompt_template":
        return state.template_text.get(value, value)
    return value


# --------------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class AccountExplanation:
    """Why one account is in its cluster, or why not.

    Build it with :meth:`sybilgraph.ClusterResult.explain_account`.
    """

    account_id: str
    """The account."""
    cluster_id: int
    """Its cluster in the result (a singleton's own id when it is in none)."""
    cluster_size: int
    """Accounts in that cluster."""
    member: bool
    """Whether the account is in a cluster of two or more."""
    compared_with: int | None
    """The cluster it was judged against: its own for a member; for an account outside every cluster,
    the cluster it touched (``periphery_of``) or else the one it shares most evidence per member with; None
    when it shares no value with any cluster."""
    compared_size: int
    """Accounts in ``compared_with`` (0 when None)."""
    values: pd.DataFrame
    """One row per value of the account, strongest first: ``kind, value`` (a prompt template as its text),
    ``carriers`` (accounts carrying it), ``in_cluster`` (of those, in ``compared_with``), ``share`` (of its
    *other* carriers, the share in ``compared_with``), ``weight``, ``link`` (it links the account),
    ``counts_as`` (what the rule made of it, in words), ``coverage`` (its part of the coverage) and
    ``value_id`` (the normalised value, e.g. the ``tpl-…`` id)."""
    links: int
    """Independent linking values, counted as the rule counts them."""
    strong: bool
    """Whether one link weighs ``strong_link`` or more."""
    one_value_alone: bool
    """Whether one linking value is the cluster's own tooling (the one-value-alone rule)."""
    coverage: float
    """Evidence per other member of ``compared_with``."""
    passes: bool
    """Whether the account rule holds against ``compared_with``."""
    rule: str
    """What decided, in a few words: ``"links"``, ``"strong link"``, ``"one value alone"``,
    ``"too few links"``, ``"coverage below min_density"``, ``"taken out with its group"`` or ``"no shared value"``."""
    verdict: str
    """One paragraph of plain text saying all of this."""
    settings: Settings = dataclasses.field(repr=False)
    """The thresholds the rule used."""

    def __str__(self) -> str:
        return self.verdict

    def __repr__(self) -> str:
        where = f"cluster {self.cluster_id} ({self.cluster_size:,} accounts)" if self.member else "no cluster"
        return (f"<AccountExplanation {self.account_id!r}: {where}, rule={self.rule!r}, links={self.links}, "
                f"coverage={self.coverage:.3g}>")

    def _repr_html_(self) -> str:
        return (f"<div><p><b>{_html.text(self.account_id)}</b> — {_html.text(self.rule)}</p>"
                f"<p>{_html.text(self.verdict)}</p>{_html.frame_table(self.values.drop(columns='value_id'))}</div>")


def explain_account(result: ClusterResult, account_id: str) -> AccountExplanation:
    """Explain why ``account_id`` is in its cluster, or why it is in none.

    Parameters
    ----------
    result : ClusterResult
        A result of :func:`sybilgraph.cluster_accounts`.
    account_id : str
        An account of ``result.assignments``.

    Returns
    -------
    AccountExplanation

    Raises
    ------
    ParameterError
        ``account_id`` is not an account of the result.

    Examples
    --------
    >>> import pandas as pd, sybilgraph as sg
    >>> obs = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "kind": ["payment"] * 4,
    ...                     "value": ["card-1", "card-1", "card-1", "card-2"]})
    >>> why = sg.cluster_accounts(obs, seed=0).explain_account("a")
    >>> why.member, why.rule, why.values[["kind", "value", "carriers", "in_cluster", "link"]].values.tolist()
    (True, 'strong link', [['payment', 'card-1', 3, 3, True]])
    """
    state = _state(result)
    try:
        i = state.index.get_loc(account_id)
    except (KeyError, TypeError):
        i = None
    if not isinstance(i, (int, np.integer)):
        raise ParameterError(f"account_id {account_id!r} is not an account of this result "
                             f"({len(state.index):,} accounts); see result.assignments['account_id'].")
    i = int(i)
    own = int(state.labels[i])
    if state.size[own] >= 2:
        return _explain_member(state, i)
    return _explain_outsider(state, i, result)


def _account_values(state: _State, i: int) -> tuple[np.ndarray, np.ndarray]:
    """The account's distinct values (wobs value numbers) and, per value, its graph node (-1: not a linking value)."""
    obs = state.obs_order[state.obs_ptr[i]:state.obs_ptr[i + 1]]
    values = np.unique(state.wobs.obs_value[obs])
    pos = np.searchsorted(state.graph.values, values)
    pos = np.minimum(pos, max(len(state.graph.values) - 1, 0))
    node = np.where((len(state.graph.values) > 0) & (state.graph.values[pos] == values), pos, -1)
    return values, node


def _carrier_labels(state: _State, node: int) -> np.ndarray:
    return state.labels[state.carriers[state.carriers_ptr[node]:state.carriers_ptr[node + 1]]]


def _carrier_core(state: _State, node: int) -> np.ndarray:
    return state.core[state.carriers[state.carriers_ptr[node]:state.carriers_ptr[node + 1]]]


def _judge(state: _State, values: np.ndarray, node: np.ndarray, in_c: np.ndarray, share: np.ndarray,
           link: np.ndarray, core_in: np.ndarray, cover: np.ndarray,
           eligible: np.ndarray) -> tuple[pd.DataFrame, int, bool, bool]:
    """The per-value table of one account and the rule's counts (links, strong, one value alone)."""
    s = state.settings
    w = state.wobs
    kinds = w.value_kind[values].astype(str)
    degree = w.degree[values]
    weight = w.weight[values]
    alone = np.array([stands_alone(k) for k in kinds], dtype=bool)
    in_graph = node >= 0
    g = np.flatnonzero(in_graph)
    if len(g):
        keys, counts, strong_pairs = _link_counts(np.zeros(len(g), dtype=np.int64), np.zeros(len(g), dtype=np.int64),
                                                  node[g], link[g], state.edges.families, state.edges.derived,
                                                  weight[g], 1, s.strong_link)
        links = int(counts[keys == 0].sum()) if len(keys) else 0
        strong = bool(strong_pairs[keys == 0].any()) if len(keys) else False
    else:
        links, strong = 0, False
    own = link & (core_in / np.maximum(degree - 1, 1) >= s.link_share) & (degree >= s.exclusive_link) & alone
    derived = np.isin(kinds, list(DERIVED_FROM))
    plain_links = link & ~derived
    plain_fams = {k for k, lk in zip(kinds, plain_links) if lk}
    counts_as = []
    for j, kind in enumerate(kinds):
        if not in_graph[j]:
            counts_as.append("no link: carried by this account alone" if degree[j] < 2
                             else "no evidence: weight 0 (its kind weighs 0, or every account carries it)")
        elif link[j]:
            if derived[j]:
                source = DERIVED_FROM[kind]
                if source in plain_fams:
                    counts_as.append(f"link, adds nothing: an {source} inside it already links")
                elif not plain_links.any():
                    counts_as.append("link, counts nothing: a derived value needs a plain link beside it")
                else:
                    counts_as.append("link")
            elif weight[j] >= s.strong_link:
                counts_as.append("strong link")
            elif own[j]:
                counts_as.append("link, the cluster's own (binds alone)")
            else:
                counts_as.append("link")
        elif not eligible[j]:
            counts_as.append("no link: most of its carriers are in another cluster")
        else:
            counts_as.append(f"no link: share {share[j]:.3g} < link_share {s.link_share:g}")
    frame = pd.DataFrame({
        "kind": kinds,
        "value": [_shown(state, k, str(v)) for k, v in zip(kinds, w.value_text[values])],
        "carriers": degree.astype(np.int64),
        "in_cluster": in_c.astype(np.int64),
        "share": share,
        "weight": weight,
        "link": link,
        "counts_as": counts_as,
        "coverage": cover,
        "value_id": w.value_text[values].astype(object),
    })
    frame = frame.sort_values(["link", "coverage", "weight", "kind", "value_id"],
                              ascending=[False, False, False, True, True], kind="stable").reset_index(drop=True)
    return frame, links, strong, bool(own.any())


def _explain_member(state: _State, i: int) -> AccountExplanation:
    s = state.settings
    c = int(state.labels[i])
    size = int(state.size[c])
    values, node = _account_values(state, i)
    n = len(values)
    in_c = np.zeros(n, dtype=np.int64)
    core_in = np.zeros(n)
    for j in np.flatnonzero(node >= 0):
        lab = _carrier_labels(state, int(node[j]))
        here = lab == c
        in_c[j] = int(here.sum())
        core_in[j] = float((_carrier_core(state, int(node[j])) & here).sum()) - float(state.core[i])
    in_c[node < 0] = 1
    degree = state.wobs.degree[values]
    share = np.where(degree >= 2, (in_c - 1) / np.maximum(degree - 1, 1), np.nan)
    link = (node >= 0) & (share >= s.link_share)
    cover = np.where(node >= 0, state.wobs.weight[values] * (in_c - 1) / max(size - 1, 1), 0.0)
    frame, links, strong, alone = _judge(state, values, node, in_c, share, link, core_in, cover, np.ones(n, dtype=bool))
    coverage = float(cover.sum())
    dense = coverage >= s.min_density
    by_links = links >= s.min_links or strong
    passes = (by_links or alone) and dense
    account_id = str(state.index[i])
    rule = ("coverage below min_density" if not dense else "links" if links >= s.min_links
            else "strong link" if strong else "one value alone" if alone else "too few links")
    head = f"Account {account_id!r} is in cluster {c} ({size:,} accounts)"
    why = _reasons(s, links, strong, alone, coverage, frame)
    if passes:
        verdict = f"{head}: {why}"
    else:
        verdict = (f"{head}, although by the account rule alone it would not keep its place ({why}). "
                   "The clustering stopped before the rule settled (it runs at most 50 rounds).")
    return AccountExplanation(account_id, c, size, True, c, size, frame, links, strong, alone, coverage, passes, rule,
                              verdict, s)


def _reasons(s: Settings, links: int, strong: bool, alone: bool, coverage: float, frame: pd.DataFrame) -> str:
    """The rule's figures in words."""
    linking = frame[frame["link"]]
    parts = [f"{links} independent value{'s' if links != 1 else ''} link{'s' if links == 1 else ''} it "
             f"({s.min_links} needed; a value links when at least {s.link_share:.0%} of its other carriers are in the "
             "cluster)"]
    if strong:
        parts.append(f"one link weighs at least strong_link {s.strong_link:g}")
    if alone:
        parts.append(f"one linking value of a kind that stands alone is carried by {s.exclusive_link} or more "
                     "accounts, mostly the cluster's core (the cluster's own tooling)")
    dense = coverage >= s.min_density
    parts.append(f"its evidence per other member (coverage) is {coverage:.3g}, "
                 f"{'reaching' if dense else 'below'} min_density {s.min_density:g}")
    best = linking.head(1) if len(linking) else frame.head(1)
    if len(best):
        r = best.iloc[0]
        parts.append(f"its {'strongest link' if len(linking) else 'best value'} is {r['kind']}={_short(r['value'])} "
                     f"({int(r['in_cluster']):,} of {int(r['carriers']):,} carriers in the cluster, "
                     f"share {r['share']:.3g}, weight {r['weight']:.3g})")
    return "; ".join(parts) + "."


def _short(text: object, limit: int = 80) -> str:
    t = str(text)
    return repr(t if len(t) <= limit else t[: limit - 1] + "…")


def _explain_outsider(state: _State, i: int, result: ClusterResult) -> AccountExplanation:
    s = state.settings
    c = int(state.labels[i])
    values, node = _account_values(state, i)
    n = len(values)
    degree = state.wobs.degree[values]
    weight = state.wobs.weight[values]
    # Each value points at the cluster (of two or more, large enough to hold link_share of its other
    # carriers) holding most of its carriers, as the pipeline's last step (``_rejoin``) counts it.
    top = np.full(n, -1, dtype=np.int64)
    labs: dict[int, np.ndarray] = {}
    evidence: dict[int, float] = {}
    for j in np.flatnonzero(node >= 0).tolist():
        lab = _carrier_labels(state, int(node[j]))
        labs[j] = lab
        sz = state.size[lab]
        ok = (sz >= 2) & (sz >= s.link_share * (degree[j] - 1))
        if ok.any():
            counts = np.bincount(lab[ok])
            top[j] = int(np.argmax(counts))
        for cl, m in zip(*np.unique(lab[state.size[lab] >= 2], return_counts=True)):
            evidence[int(cl)] = evidence.get(int(cl), 0.0) + float(weight[j]) * int(m)
    periphery = result.assignments["periphery_of"].iloc[i]
    if not pd.isna(periphery):
        target: int | None = int(periphery)
    elif evidence:
        target = min(evidence, key=lambda k: (-evidence[k] / state.size[k], k))
    else:
        target = None
    account_id = str(state.index[i])
    in_c = np.zeros(n, dtype=np.int64)
    core_in = np.zeros(n)
    eligible = np.ones(n, dtype=bool)
    if target is not None:
        for j, lab in labs.items():
            here = lab == target
            in_c[j] = int(here.sum())
            core_in[j] = float((_carrier_core(state, int(node[j])) & here).sum())
            eligible[j] = top[j] == target
    t_size = int(state.size[target]) if target is not None else 0
    share = np.where(degree >= 2, in_c / np.maximum(degree - 1, 1), np.nan)
    link = (node >= 0) & eligible & (share >= s.link_share)
    cover = np.where((node >= 0) & eligible, weight * in_c / max(t_size, 1), 0.0)
    frame, links, strong, alone = _judge(state, values, node, in_c, share, link, core_in, cover, eligible)
    coverage = float(cover.sum())
    dense = coverage >= s.min_density
    passes = target is not None and (links >= s.min_links or strong or alone) and dense
    if target is None:
        rule = "no shared value"
        what = ("it has no usable value left (see result.report)" if n == 0
                else "its only value is carried by no member of a cluster of two or more" if n == 1
                else f"none of its {n} values is carried by a member of a cluster of two or more")
        verdict = f"Account {account_id!r} is in no cluster: {what}."
    else:
        how = ("the cluster it touched (periphery_of)" if not pd.isna(periphery)
               else "the cluster it shares most evidence per member with")
        why = _reasons(s, links, strong, alone, coverage, frame)
        head = f"Account {account_id!r} is in no cluster. Judged against cluster {target} ({t_size:,} accounts), {how}: "
        if passes:
            rule = "taken out with its group"
            verdict = (head + why + " By the account rule it would join; it is outside because the group test took its "
                       "group out of that cluster (its group did not earn its place as a group), and an account never "
                       "rejoins a cluster the group test took it out of.")
        else:
            rule = "coverage below min_density" if not dense and (links >= s.min_links or strong or alone) else "too few links"
            verdict = head + why
    return AccountExplanation(account_id, c, int(state.size[c]), False, target, t_size, frame, links, strong, alone,
                              coverage, passes, rule, verdict, s)


# --------------------------------------------------------------------------- clusters


@dataclass(frozen=True)
class ClusterExplanation:
    """What holds one cluster together and what would split it.

    Build it with :meth:`sybilgraph.ClusterResult.explain_cluster`.
    """

    cluster_id: int
    """The cluster."""
    size: int
    """Its accounts."""
    score: float
    """Its suspicion score (see :func:`sybilgraph.explain.suspicion`)."""
    parts: dict[str, float]
    """The score's named parts: ``templated, tooling, payment, burst`` (share of members showing each)."""
    suspicious: bool
    """Whether the cluster is flagged."""
    holding: pd.DataFrame
    """The smallest set of values found that covers every member (greedy set cover: each step takes the value
    carried by most members not yet covered, ties by weight; values that link their carriers to the cluster
    first): ``kind, value, members, new_members, carriers, weight, links, value_id``; at most
    :data:`MAX_COVER` rows."""
    uncovered: int
    """Members no listed value covers (beyond :data:`MAX_COVER` values, or sharing none)."""
    hanging: pd.DataFrame
    """Members whose place rests on one linking value (their other values do not link them):
    ``account_id, links, kind, value, weight, rule``."""
    split: pd.DataFrame
    """Values whose removal from the cluster's own graph (its members and the values that link them to it)
    disconnects members, most first:
    ``kind, value, weight, members, cut_off, pieces, value_id``. ``cut_off`` is the members left outside the
    largest remaining piece."""
    verdict: str
    """One paragraph of plain text saying all of this."""

    def __str__(self) -> str:
        return self.verdict

    def __repr__(self) -> str:
        return (f"<ClusterExplanation {self.cluster_id}: {self.size:,} accounts, score {self.score:.2f}, "
                f"held by {len(self.holding)} value(s), {len(self.hanging)} on one link>")

    def _repr_html_(self) -> str:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in self.parts.items())
        return (f"<div><p><b>cluster {self.cluster_id}</b>: {self.size:,} accounts, score {self.score:.2f} "
                f"({_html.text(parts)}){' — <b>suspicious</b>' if self.suspicious else ''}</p>"
                f"<p>{_html.text(self.verdict)}</p>"
                f"{_html.frame_table(self.holding.drop(columns='value_id'), caption='values that hold it together')}"
                f"{_html.frame_table(self.hanging, caption='members on one link')}"
                f"{_html.frame_table(self.split.drop(columns='value_id'), max_rows=10, caption='what would split it')}"
                "</div>")


def _cluster_edges(state: _State, c: int) -> tuple[np.ndarray, np.ndarray]:
    """Members of cluster ``c`` and the indices of their graph edges."""
    members = np.flatnonzero(state.labels == c)
    return members, state.edges.of_accounts(members)


def member_rule(state: _State, c: int) -> pd.DataFrame:
    """Per member of cluster ``c``: ``links, strong, one_value_alone, coverage, passes`` as the rule counts them."""
    s = state.settings
    e = state.edges
    members, idx = _cluster_edges(state, c)
    size = len(members)
    src, node, weight, degree = e.src[idx], e.node[idx], e.weight[idx], e.degree[idx]
    codes, uniq = pd.factorize(node, sort=False)
    inside = np.bincount(codes, minlength=len(uniq))[codes]
    core_in = np.bincount(codes, weights=state.core[src], minlength=len(uniq))[codes] - state.core[src]
    share = (inside - 1) / (degree - 1)
    link = share >= s.link_share
    local = np.searchsorted(members, src)
    keys, counts, strong = _link_counts(local, np.zeros(len(idx), dtype=np.int64), node, link, e.families, e.derived,
                                        weight, 1, s.strong_link)
    links = np.zeros(size, dtype=np.int64)
    links[keys] = counts
    is_strong = np.zeros(size, dtype=bool)
    is_strong[keys] = strong
    own = link & (core_in / (degree - 1) >= s.link_share) & (degree >= s.exclusive_link) & e.alone[node]
    alone = np.bincount(local[own], minlength=size) > 0
    coverage = np.bincount(local, weights=weight * (inside - 1), minlength=size) / max(size - 1, 1)
    passes = ((links >= s.min_links) | is_strong | alone) & (coverage >= s.min_density)
    return pd.DataFrame({"account": members, "links": links, "strong": is_strong, "one_value_alone": alone,
                         "coverage": coverage, "passes": passes})


def explain_cluster(result: ClusterResult, cluster_id: int) -> ClusterExplanation:
    """Explain what holds cluster ``cluster_id`` together and what would split it.

    Parameters
    ----------
    result : ClusterResult
    cluster_id : int
        A cluster of ``result.clusters``.

    Returns
    -------
    ClusterExplanation

    Raises
    ------
    ParameterError
        ``cluster_id`` is not a cluster of the result.

    Notes
    -----
    The cluster's own graph joins its members to the values two or more of
    them carry. *What would split it* is found from that graph's articulation
    points (Hopcroft & Tarjan 1973), in time linear in its edges.

    Examples
    --------
    >>> import pandas as pd, sybilgraph as sg
    >>> obs = pd.DataFrame({"account_id": ["a", "b", "c", "d", "a", "b"], "kind": ["payment"] * 4 + ["device"] * 2,
    ...                     "value": ["card-1"] * 3 + ["card-2"] + ["dev-1"] * 2})
    >>> why = sg.cluster_accounts(obs, seed=0).explain_cluster(0)
    >>> why.holding[["kind", "value", "members"]].values.tolist()
    [['payment', 'card-1', 3]]
    >>> why.split[["value", "cut_off"]].values.tolist()
    [['card-1', 1]]
    """
    state = _state(result)
    clusters = result.clusters
    if not isinstance(cluster_id, (int, np.integer)) or isinstance(cluster_id, bool) \
            or not 0 <= int(cluster_id) < len(state.size):
        raise ParameterError(f"cluster_id {cluster_id!r} is not a cluster of this result; "
                             f"ids run from 0 to {len(state.size) - 1} (see result.clusters).")
    c = int(cluster_id)
    row = clusters.loc[clusters["cluster_id"] == c].iloc[0]
    parts = {k: float(row[k]) for k in ("templated", "tooling", "payment", "burst") if k in row.index}
    size = int(state.size[c])
    e = state.edges
    members, idx = _cluster_edges(state, c)
    node = e.node[idx]
    codes, uniq = pd.factorize(node, sort=True)
    m = np.bincount(codes, minlength=len(uniq))[codes]
    shared = m >= 2
    # The cluster's own values: those that link their carriers to it (share of other carriers >= link_share).
    linking = shared & ((m - 1) / np.maximum(e.degree[idx] - 1, 1) >= state.settings.link_share)
    sub_local = np.searchsorted(members, e.src[idx][shared])
    sub_codes, sub_nodes = pd.factorize(node[shared], sort=True)
    holding, uncovered = _cover(state, members, sub_local, sub_codes, sub_nodes, linking[shared])
    hanging = _hanging(state, c, members, idx)
    link_local = np.searchsorted(members, e.src[idx][linking])
    link_codes, link_nodes = pd.factorize(node[linking], sort=True)
    split = _split_values(state, len(members), link_local, link_codes, link_nodes)
    score = float(row["score"])
    verdict = _cluster_verdict(state.settings, c, size, score, parts, bool(row["suspicious"]), holding, uncovered,
                               hanging, split)
    return ClusterExplanation(c, size, score, parts, bool(row["suspicious"]), holding, uncovered, hanging, split,
                              verdict)


def _value_rows(state: _State, nodes: np.ndarray) -> dict[str, Any]:
    w = state.wobs
    v = state.graph.values[nodes]
    kinds = w.value_kind[v].astype(str)
    texts = w.value_text[v]
    return {"kind": kinds, "value": [_shown(state, k, str(t)) for k, t in zip(kinds, texts)],
            "carriers": w.degree[v].astype(np.int64), "weight": w.weight[v], "value_id": texts.astype(object)}


def _cover(state: _State, members: np.ndarray, local: np.ndarray, codes: np.ndarray, nodes: np.ndarray,
           linking: np.ndarray) -> tuple[pd.DataFrame, int]:
    """Greedy set cover of the members by the values they share: the cluster's own (linking) values first."""
    import scipy.sparse as sp

    n = len(members)
    columns = ["kind", "value", "members", "new_members", "carriers", "weight", "links", "value_id"]
    if not len(codes):
        return pd.DataFrame({c: [] for c in columns}), n
    mat = sp.csr_matrix((np.ones(len(codes)), (codes, local)), shape=(len(nodes), n))
    weight = state.wobs.weight[state.graph.values[nodes]]
    is_link = np.zeros(len(nodes), dtype=bool)
    is_link[codes[linking]] = True
    total = np.asarray(mat.sum(axis=1)).ravel()
    uncovered = np.ones(n)
    picked: list[int] = []
    gained: list[int] = []
    while uncovered.any() and len(picked) < MAX_COVER:
        gain = mat @ uncovered
        # a linking value first, then the most members not yet covered, then the heaviest
        best = int(np.lexsort((np.arange(len(gain)), -weight, -gain, ~(is_link & (gain > 0))))[0])
        if gain[best] <= 0:
            break
        picked.append(best)
        gained.append(int(gain[best]))
        uncovered[mat[best].indices] = 0
    rows = _value_rows(state, nodes[picked])
    frame = pd.DataFrame({"kind": rows["kind"], "value": rows["value"], "members": total[picked].astype(np.int64),
                          "new_members": np.array(gained, dtype=np.int64), "carriers": rows["carriers"],
                          "weight": rows["weight"], "links": is_link[picked], "value_id": rows["value_id"]})
    return frame, int(uncovered.sum())


def _hanging(state: _State, c: int, members: np.ndarray, idx: np.ndarray) -> pd.DataFrame:
    """Members whose place rests on one linking value."""
    rule = member_rule(state, c)
    one = rule[rule["links"] <= 1]
    s = state.settings
    e = state.edges
    out: dict[str, list[Any]] = {"account_id": [], "links": [], "kind": [], "value": [], "weight": [], "rule": []}
    if not len(one):
        return pd.DataFrame(out)
    node = e.node[idx]
    codes, uniq = pd.factorize(node, sort=False)
    inside = np.bincount(codes, minlength=len(uniq))[codes]
    link = (inside - 1) / (e.degree[idx] - 1) >= s.link_share
    src = e.src[idx]
    for r in one.itertuples():
        mine = (src == r.account) & link
        cand = np.flatnonzero(mine & ~e.derived[node])
        if not len(cand):
            cand = np.flatnonzero(mine)
        j = int(cand[np.argmax(e.weight[idx][cand])]) if len(cand) else -1
        vals = _value_rows(state, node[[j]]) if j >= 0 else None
        out["account_id"].append(str(state.index[r.account]))
        out["links"].append(int(r.links))
        out["kind"].append(vals["kind"][0] if vals else "")
        out["value"].append(vals["value"][0] if vals else "")
        out["weight"].append(float(vals["weight"][0]) if vals else 0.0)
        out["rule"].append("strong link" if r.strong else "one value alone" if r.one_value_alone
                           else "links" if r.links >= s.min_links else "none (see explain_account)")
    return pd.DataFrame(out)


def _articulation(n_members: int, local: np.ndarray, codes: np.ndarray, n_values: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each value node of a members–values graph: members cut off by removing it, and pieces left.

    Iterative Hopcroft–Tarjan depth-first search. Returns ``cut_off`` (members
    outside the largest piece left when the value is removed, within its
    connected component), ``pieces`` (pieces its component falls into; 1 when
    it is no articulation point) and the component size of each value.
    """
    import scipy.sparse as sp

    n = n_members + n_values
    rows = np.concatenate((local, n_members + codes))
    cols = np.concatenate((n_members + codes, local))
    adj = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    indptr, indices = adj.indptr.tolist(), adj.indices.tolist()
    disc = [-1] * n
    low = [0] * n
    sub = [1] * n_members + [0] * n_values
    sep = [0] * n
    biggest = [0] * n
    nsep = [0] * n
    comp_total = [0] * n
    t = 0
    for root in range(n_members):
        if disc[root] >= 0:
            continue
        disc[root] = low[root] = t
        t += 1
        stack = [(root, -1)]
        ptr = {root: indptr[root]}
        visited = [root]
        while stack:
            v, p = stack[-1]
            i = ptr[v]
            if i < indptr[v + 1]:
                ptr[v] = i + 1
                x = indices[i]
                if disc[x] < 0:
                    disc[x] = low[x] = t
                    t += 1
                    ptr[x] = indptr[x]
                    stack.append((x, v))
                    visited.append(x)
                elif x != p and disc[x] < low[v]:
                    low[v] = disc[x]
            else:
                stack.pop()
                if p >= 0:
                    if low[v] < low[p]:
                        low[p] = low[v]
                    sub[p] += sub[v]
                    if low[v] >= disc[p]:
                        sep[p] += sub[v]
                        nsep[p] += 1
                        if sub[v] > biggest[p]:
                            biggest[p] = sub[v]
        total = sub[root]
        for x in visited:
            comp_total[x] = total
    ct = np.asarray(comp_total[n_members:], dtype=np.int64)
    sp_ = np.asarray(sep[n_members:], dtype=np.int64)
    big = np.asarray(biggest[n_members:], dtype=np.int64)
    ns = np.asarray(nsep[n_members:], dtype=np.int64)
    rest = ct - sp_
    pieces = ns + (rest > 0)
    cut_off = ct - np.maximum(big, rest)
    cut_off[pieces < 2] = 0
    return cut_off, np.maximum(pieces, 1), ct


def _split_values(state: _State, n_members: int, local: np.ndarray, codes: np.ndarray, nodes: np.ndarray) -> pd.DataFrame:
    cut_off, pieces, _ = _articulation(n_members, local, codes, len(nodes))
    hit = np.flatnonzero(cut_off > 0)
    rows = _value_rows(state, nodes[hit])
    members = np.bincount(codes, minlength=len(nodes))[hit]
    frame = pd.DataFrame({"kind": rows["kind"], "value": rows["value"], "weight": rows["weight"],
                          "members": members.astype(np.int64), "cut_off": cut_off[hit], "pieces": pieces[hit],
                          "value_id": rows["value_id"]})
    return frame.sort_values(["cut_off", "weight", "kind", "value_id"], ascending=[False, False, True, True],
                             kind="stable").reset_index(drop=True)


def _cluster_verdict(s: Settings, c: int, size: int, score: float, parts: dict[str, float], suspicious: bool,
                     holding: pd.DataFrame, uncovered: int, hanging: pd.DataFrame, split: pd.DataFrame) -> str:
    if size < 2:
        return f"Cluster {c} is a single account: nothing holds it to anyone (see explain_account)."
    ranked = sorted(parts.items(), key=lambda kv: -kv[1])
    text = [f"Cluster {c} holds {size:,} accounts; suspicion score {score:.2f}"
            + (" (flagged suspicious)" if suspicious else "")
            + (f", the geometric mean of its two strongest hallmarks, {ranked[0][0]} {ranked[0][1]:.2f} and "
               f"{ranked[1][0]} {ranked[1][1]:.2f}" if len(ranked) >= 2 else "") + "."]
    if len(holding):
        shown = "; ".join(f"{r.kind}={_short(r.value, 50)} ({int(r.members):,} members)"
                          for r in holding.head(5).itertuples())
        more = f" and {len(holding) - 5} more" if len(holding) > 5 else ""
        text.append(f"{len(holding)} value{'s' if len(holding) != 1 else ''} cover{'s' if len(holding) == 1 else ''} "
                    f"{'every member' if not uncovered else f'all but {uncovered:,} members'}: {shown}{more}.")
    if len(hanging):
        text.append(f"{len(hanging):,} member{'s hang' if len(hanging) != 1 else ' hangs'} on one link "
                    f"(in by one strong or cluster-own value, not by {s.min_links} independent ones).")
    else:
        text.append("No member hangs on one link.")
    if len(split):
        r = split.iloc[0]
        text.append(f"Removing {r['kind']}={_short(r['value'], 50)} would cut {int(r['cut_off']):,} member"
                    f"{'s' if int(r['cut_off']) != 1 else ''} off the rest ({int(r['pieces'])} pieces).")
    else:
        text.append("No single value's removal would disconnect any member.")
    return " ".join(text)
