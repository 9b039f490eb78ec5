"""Stage 7 — attribute: name the organisation behind each operator cluster.

Investigators hold *indicators* — a payment instrument, an office network
range, a corporate mail domain, a few known account ids — that touch only a
small share of an operator's accounts. The clusters carry that knowledge to
the rest of the operation: a cluster whose members carry an organisation's
indicators is attributed to that organisation, with a confidence, the
evidence behind it and any conflicting claim.

Scoring in brief (the reasoning is in ``docs/attribution.md``). For indicator
``i`` of organisation ``X`` matched by ``n`` accounts of cluster ``C``::

    p(i, C) = c_i * k_i * max(r(d_i), e(i, C)) * phi(n)

``c_i``
    the indicator's own confidence (column ``confidence``, default 1);
``k_i``
    the kind weight ``settings.weight_of(kind)`` capped at 1 (``account``
    indicators 1; a mail domain takes the weight of ``email``, a range that of
    ``ip``);
``d_i``, ``r``
    the indicator's carriers (distinct accounts matching it anywhere) and the
    rarity ``1 / log2 d`` of :func:`sybilgraph.weights.rarity` (1 for ``d <= 2``),
    so ``k_i * r(d_i)`` is the clustering's value weight: a value only a few
    accounts carry cannot be shared infrastructure and counts whatever else
    carries it;
``e(i, C)``
    the *exclusivity*: the share of the indicator's carriers inside ``C``. When
    ``C`` is *corroborated* — an indicator of ``X`` from another family of
    kinds also matches in it — the carriers in ``X``'s other corroborated
    clusters count as inside too, so a card spread over an organisation's six
    team clusters is exclusive to each of them, while a proxy exit shared with
    other clusters and ordinary customers is exclusive to none;
``phi(n)``
    ``n / (n + 2)`` for a cluster of two or more accounts (one matching member
    may be a stray the clustering let in; two make even odds), 1 for a single
    account (the account itself matched).

Evidence for ``X`` in ``C`` accumulates over indicators,
``R = 1 - prod(1 - p)``; competing organisations share it out in proportion
to their evidence ``E = -log(1 - R)``: ``confidence = R * E_X / sum(E)``.
A cluster is attributed when its leading organisation reaches
``min_confidence``. An account that matched an indicator itself is also
scored alone (``phi = 1``); it is attributed on that evidence when it reaches
``min_confidence`` and its cluster is unattributed, a single account, or
attributed to another organisation.

Before scoring, indicators too broad to be one organisation's (``0.0.0.0/0``,
``gmail.com``: more than ``max_share`` of all accounts, or spread over the
clusters like accounts at large) are ignored, listed in ``unmatched`` and named
in a note; see :func:`attribute`.

Examples
--------
>>> import pandas as pd, sybilgraph as sg
>>> from sybilgraph.attribute import attribute
>>> obs = pd.DataFrame({
...     "account_id": ["a1", "a2", "a3", "a1", "a2", "a3", "b1"],
...     "kind": ["payment"] * 3 + ["device"] * 3 + ["payment"],
...     "value": ["card-1"] * 3 + ["emu-7"] * 3 + ["card-9"]})
>>> result = sg.cluster_accounts(obs, seed=0)
>>> ind = pd.DataFrame({"organisation": ["Acme"], "kind": ["payment"], "value": ["card-1"]})
>>> att = attribute(result, ind)
>>> att.accounts[["account_id", "organisation", "confidence"]].fillna({"organisation": ""}).values.tolist()
[['a1', 'Acme', 0.6], ['a2', 'Acme', 0.6], ['a3', 'Acme', 0.6], ['b1', '', 0.0]]
"""

from __future__ import annotations

from .command import attribute_cli
from .core import attribute
from .indicators import INDICATOR_COLUMNS, SPECIAL_KINDS, read_indicators
from .result import Attribution

__all__ = [
    "Attribution",
    "attribute",
    "attribute_cli",
    "read_indicators",
    "INDICATOR_COLUMNS",
    "SPECIAL_KINDS",
]
