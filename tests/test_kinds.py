"""Tests of :mod:`sybilgraph.kinds`: one registry says what each evidence kind means.

``asn`` was added by one entry in :data:`sybilgraph.kinds.KINDS` and nothing
else; these tests show every stage honouring it.
"""

from __future__ import annotations

import pandas as pd
import pytest

import sybilgraph as sg
from sybilgraph import kinds
from sybilgraph.attribute import attribute, read_indicators
from sybilgraph.explain import HALLMARKS


def test_registry_feeds_every_stage() -> None:
    assert dict(sg.DEFAULT_KIND_WEIGHTS) == {k.name: k.weight for k in kinds.KINDS.values() if k.weight is not None}
    assert sg.synth.KINDS == ("ip", "email", "payment", "device", "prompt")
    assert HALLMARKS == {"templated": ("prompt_template",), "tooling": ("device",), "payment": ("payment",)}
    for k in kinds.KINDS.values():
        if k.derived_from is not None:
            assert k.derived_from in kinds.KINDS, k.name
        for d in k.derives:
            assert kinds.KINDS[d.kind].derived_from == k.name


def test_unregistered_kind_is_opaque() -> None:
    k = kinds.kind("card_bin")
    assert (k.canonical, k.derives, k.weight, k.stands_alone, k.family) == (None, (), None, True, "card_bin")


@pytest.mark.parametrize("text, expected", [
    ("AS13335", "AS13335"), ("as13335", "AS13335"), (" ASN 13335 ", "AS13335"), ("13335", "AS13335"),
    ("AS013335", "AS13335"), ("AS4294967295", "AS4294967295"),
    ("AS4294967296", None), ("AS-1", None), ("", None), ("AS", None), ("١٣٣٣٥", None), ("AS1 2", None),
])
def test_canonical_asn(text: str, expected: str | None) -> None:
    assert kinds.canonical_asn(text) == expected


def test_asn_spellings_meet_and_invalid_ones_are_counted() -> None:
    obs = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "kind": ["asn"] * 4,
                        "value": ["AS64500", "asn 64500", "64500", "not-an-asn"]})
    result = sg.cluster_accounts(obs, seed=0)
    assert sorted(result.observations["value"]) == ["AS64500"] * 3
    notes = [n for n in result.report.notes if "autonomous system" in n.message]
    assert [(n.count, n.examples) for n in notes] == [(1, ("'not-an-asn'",))]
    # every account comes back, the one with the invalid value too
    assert sorted(result.assignments["account_id"]) == ["a", "b", "c", "d"]


def test_asn_never_binds_alone_and_is_one_family_with_ip() -> None:
    assert not kinds.stands_alone("asn")
    assert kinds.family("asn") == "ip"
    # Twelve accounts on one ASN and nothing else: a network is not a ring.
    obs = pd.DataFrame({"account_id": [f"u{i}" for i in range(12)], "kind": "asn", "value": "AS64500"})
    result = sg.cluster_accounts(obs, seed=0)
    assert (result.assignments["cluster_size"] == 1).all()


def test_asn_indicator_is_read_and_matched() -> None:
    rows = []
    for i in range(6):
        rows += [(f"x{i}", "payment", f"card{i % 2}"), (f"x{i}", "device", "emu"), (f"x{i}", "asn", "AS64500")]
    rows += [(f"b{i}", "asn", f"AS{i}") for i in range(40)]  # strangers elsewhere, so the indicator is not too broad
    result = sg.cluster_accounts(pd.DataFrame(rows, columns=["account_id", "kind", "value"]), seed=0)
    ind = pd.DataFrame({"organisation": ["Acme"], "kind": ["asn"], "value": ["asn 64500"]})
    assert read_indicators(ind)[["mode", "key", "family"]].values.tolist() == [["exact", "AS64500", "ip"]]
    att = attribute(result, ind)
    assert set(att.accounts.loc[att.accounts["matched"], "account_id"]) == {f"x{i}" for i in range(6)}
    # one ASN is weak evidence (weight 0.2): matched, but not enough to name the ring at the default threshold
    assert att.organisations["matched_accounts"].tolist() == [6]
    assert att.organisations["accounts"].tolist() == [0]
    with pytest.raises(sg.IndicatorError, match="not an autonomous system number"):
        read_indicators(pd.DataFrame({"organisation": ["Acme"], "kind": ["asn"], "value": ["AS-x"]}))
