"""Tests of :mod:`sybilgraph.attribute`: attributing operator clusters to organisations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sybilgraph as sg
from sybilgraph import synth
from sybilgraph._report import Report
from sybilgraph.attribute import Attribution, attribute, read_indicators
from sybilgraph.cli import main
from sybilgraph.normalise import normalise_observations

COLUMNS = ["account_id", "kind", "value"]


def _obs(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def _ind(rows: list[tuple]) -> pd.DataFrame:
    cols = ["organisation", "kind", "value", "confidence", "source"][: len(rows[0])]
    return pd.DataFrame(rows, columns=cols)


def _ring(prefix: str, n: int, *, cards: int = 2, device: str | None = None, ips: list[str] | None = None,
          emails: str | None = None) -> list[tuple[str, str, str]]:
    """``n`` accounts sharing ``cards`` cards, a device image and, optionally, IPs and mail addresses."""
    rows = []
    for i in range(n):
        a = f"{prefix}{i:02d}"
        rows.append((a, "payment", f"{prefix}-card{i % cards}"))
        rows.append((a, "device", device or f"{prefix}-emu"))
        if ips:
            rows.append((a, "ip", ips[i % len(ips)]))
        if emails:
            rows.append((a, "email", f"user{i}@{emails}"))
    return rows


def _crowd(n: int, *, extra: list[tuple[str, str]] | None = None) -> list[tuple[str, str, str]]:
    """``n`` ordinary accounts sharing nothing but ``extra`` (kind, value) pairs."""
    rows = []
    for i in range(n):
        a = f"c{i:03d}"
        rows.append((a, "email", f"person{i}@home{i}.example"))
        for kind, value in extra or []:
            rows.append((a, kind, value))
    return rows


def _clustered(rows: list[tuple[str, str, str]], rings: str = "abrsxyz") -> sg.ClusterResult:
    """A ClusterResult with a fixed grouping, so these tests do not depend on the clustering.

    Accounts named by one letter of ``rings`` and digits (``r03``) form one cluster per
    letter; every other account is a singleton. Cluster ids: largest first, ties by
    smallest account id (as the pipeline numbers them).
    """
    obs = sg.read_observations(_obs(rows))
    settings = sg.Settings()
    norm = normalise_observations(obs, settings).observations
    accounts = np.array(sorted(set(obs["account_id"])), dtype=object)
    ring = np.array([a[0] in rings and a[1:].isdigit() and len(a) == 3 for a in accounts])
    label = np.where(ring, np.array([a[0] for a in accounts], dtype=object), accounts)
    groups = pd.Series(accounts).groupby(label)
    order = sorted(groups.groups, key=lambda g: (-len(groups.groups[g]), min(accounts[groups.groups[g]])))
    cid = pd.Series(range(len(order)), index=order)
    cluster = cid.reindex(label).to_numpy(dtype=np.int64)
    size = np.bincount(cluster)[cluster]
    assignments = pd.DataFrame({"account_id": accounts, "cluster_id": cluster, "cluster_size": size,
                                "attachment": np.where(size > 1, 1.0, 0.0),
                                "periphery_of": pd.array([pd.NA] * len(accounts), dtype="Int64")})
    # the clusters table the result's repr and summary read (older hypothesis reprs fixtures)
    clusters = pd.DataFrame({"cluster_id": np.arange(len(order), dtype=np.int64),
                             "size": np.bincount(cluster, minlength=len(order)).astype(np.int64),
                             "score": 0.0, "suspicious": False, "top_evidence": ""})
    return sg.ClusterResult(assignments, clusters, pd.DataFrame(), norm, None, Report(), settings)


def test_clustered_helper() -> None:
    result = _clustered(_ring("r", 3) + _ring("s", 4) + _crowd(2))
    a = result.assignments.set_index("account_id")
    assert a.loc["s00", "cluster_id"] == 0 and a.loc["r00", "cluster_id"] == 1
    assert a.loc["c000", "cluster_size"] == 1 and result.n_accounts == 9


def _org_of(att: Attribution) -> pd.Series:
    return att.accounts.set_index("account_id")["organisation"]


# --------------------------------------------------------------------------- matching


def test_ipv4_range_and_exact_address() -> None:
    rows = _ring("r", 12, ips=["198.51.100.7", "198.51.100.200"]) + _ring("s", 6, ips=["203.0.113.9"])
    result = _clustered(rows + _crowd(10))
    att = attribute(result, _ind([("Acme", "ip", "198.51.100.0/24"), ("Acme", "account", "r03"),
                                  ("Beta", "ip", "  203.0.113.9 ")]))
    org = _org_of(att)
    assert (org[[f"r{i:02d}" for i in range(12)]] == "Acme").all()
    ev = att.evidence[att.evidence["value"] == "198.51.100.0/24"]
    assert set(ev["matched_value"]) == {"198.51.100.7", "198.51.100.200"}
    assert ev["account_id"].nunique() == 12
    # an exact address alone (kind weight 0.6, 6 accounts) is matched but short of 0.5
    beta = att.clusters[att.clusters["candidate"] == "Beta"]
    assert len(beta) == 1 and beta["organisation"].isna().all() and 0.3 < beta["confidence"].iloc[0] < 0.5


def test_ipv6_range_matches_only_inside() -> None:
    rows = _ring("r", 10, ips=["2001:db8:1::5", "2001:DB8:1:0:0:0:0:9"])
    rows += [("x1", "ip", "2001:db8:2::5"), ("x1", "email", "x1@mail.example")]
    result = _clustered(rows)
    att = attribute(result, _ind([("Acme", "ip", "2001:db8:1::/48"), ("Acme", "account", "r01"),
                                  ("Acme", "ip", "2001:db8:9::/48")]))
    ev = att.evidence
    assert set(ev.loc[ev["kind"] == "ip", "matched_value"]) == {"2001:db8:1::5", "2001:db8:1::9"}
    assert "x1" not in set(ev["account_id"])
    assert (_org_of(att)[[f"r{i:02d}" for i in range(10)]] == "Acme").all()
    assert att.unmatched["value"].tolist() == ["2001:db8:9::/48"]


def test_email_domain_versus_address() -> None:
    rows = _ring("r", 8, emails="corp.example") + _ring("s", 8, emails="other.example")
    rows += [("s00", "email", "J.Boss+spam@GoogleMail.com")]
    result = _clustered(rows + _crowd(5))
    att = attribute(result, _ind([("Acme", "email", "Corp.Example"), ("Beta", "email", "jboss@gmail.com")]))
    ev = att.evidence
    acme = ev[ev["organisation"] == "Acme"]
    assert acme["account_id"].nunique() == 8 and acme["matched_value"].str.endswith("@corp.example").all()
    beta = ev[ev["organisation"] == "Beta"]
    assert beta["account_id"].tolist() == ["s00"] and beta["matched_value"].tolist() == ["jboss@gmail.com"]
    org = _org_of(att)
    assert (org[[f"r{i:02d}" for i in range(8)]] == "Acme").all()
    # one address in an 8-account cluster is a lone member: the cluster stays open, the account itself is Beta's
    assert org["s00"] == "Beta" and org[[f"s{i:02d}" for i in range(1, 8)]].isna().all()
    row = att.accounts.set_index("account_id").loc["s00"]
    assert row["via"] == "self" and bool(row["matched"])


def test_account_indicators_carry_the_cluster() -> None:
    rows = _ring("r", 10) + _ring("s", 10)
    result = _clustered(rows + _crowd(5))
    att = attribute(result, _ind([("Acme", "account", "r01"), ("Acme", "account", "r07"), ("Acme", "account", "nobody")]))
    org = _org_of(att)
    assert (org[[f"r{i:02d}" for i in range(10)]] == "Acme").all()
    assert org[[f"s{i:02d}" for i in range(10)]].isna().all()
    assert att.unmatched["reason"].tolist() == ["no such account in the observations"]
    c = att.clusters.set_index("cluster_id").loc[result.assignments.set_index("account_id").loc["r01", "cluster_id"]]
    assert c["n_matched_accounts"] == 2 and c["n_indicators"] == 2 and "2 known accounts" in c["evidence"]


def test_rare_value_counts_more_than_widely_shared_one() -> None:
    # ring r: Acme's card on two members only; ring s: Acme's IP on all members *and* 40 customers
    rows = _ring("r", 10) + [("r00", "payment", "acme-card"), ("r01", "payment", "acme-card")]
    rows += _ring("s", 10, ips=["192.0.2.50"])
    rows += _crowd(40, extra=[("ip", "192.0.2.50")])
    result = _clustered(rows)
    att = attribute(result, _ind([("Acme", "payment", "acme-card"), ("Acme", "ip", "192.0.2.50")]))
    a = result.assignments.set_index("account_id")["cluster_id"]
    c = att.clusters.set_index("cluster_id")
    assert c.loc[a["r00"], "confidence"] > 3 * c.loc[a["s00"], "confidence"]
    assert c.loc[a["r00"], "organisation"] == "Acme" and pd.isna(c.loc[a["s00"], "organisation"])


# --------------------------------------------------------------------------- scoring


def test_shared_proxy_exit_does_not_pull_strangers_in() -> None:
    proxy = "198.51.100.77"
    rows = _ring("a", 12, ips=[proxy, "10.9.0.1"])                # Acme's ring, behind the proxy
    rows += _ring("b", 15, ips=[proxy, "10.8.0.1", "10.8.0.2"])    # another operator on the same proxy
    rows += _crowd(360) + [(f"c{i:03d}", "ip", proxy) for i in range(60)]  # 60 of them customers of the proxy
    result = _clustered(rows)
    att = attribute(result, _ind([("Acme", "account", "a02"), ("Acme", "account", "a05"), ("Acme", "ip", proxy)]))
    org = _org_of(att)
    assert (org[[f"a{i:02d}" for i in range(12)]] == "Acme").all()
    assert org[[f"b{i:02d}" for i in range(15)]].isna().all()
    assert org[[f"c{i:03d}" for i in range(360)]].isna().all()
    assert len(att.unmatched) == 0  # a proxy exit is weak evidence, not too broad
    ev = att.evidence[att.evidence["kind"] == "ip"]
    assert ev["carriers"].iloc[0] == 6 + 5 + 60 and (ev["exclusivity"] < 0.3).all()


def test_organisation_spread_over_team_clusters() -> None:
    # one organisation, three team clusters; its card and its domain show up once in each team
    rows = []
    for t in "xyz":
        rows += _ring(t, 20, ips=[f"10.{ord(t)}.0.1"])
        rows += [(f"{t}00", "payment", "org-card"), (f"{t}01", "email", f"{t}01@org.example")]
    rows += _crowd(30)
    result = _clustered(rows)
    assert result.assignments["cluster_size"].max() == 20
    att = attribute(result, _ind([("Org", "payment", "org-card"), ("Org", "email", "org.example")]))
    org = _org_of(att)
    assert (org[[f"{t}{i:02d}" for t in "xyz" for i in range(20)]] == "Org").all()
    assert org[[f"c{i:03d}" for i in range(30)]].isna().all()
    assert att.organisations.set_index("organisation").loc["Org", "clusters"] == 3
    # corroborated by the other family, each team holds the whole card ...
    assert (att.evidence["exclusivity"] == 1.0).all()
    # ... while the card alone is a third in each team: candidates only
    alone = attribute(result, _ind([("Org", "payment", "org-card")]))
    top = alone.clusters.head(3)
    assert top["organisation"].isna().all() and (top["candidate"] == "Org").all()
    assert (top["confidence"] < 0.5).all()


def test_conflict_is_reported_and_lowers_confidence() -> None:
    rows = _ring("r", 12, emails="acme.example") + [("r00", "payment", "beta-card"), ("r01", "payment", "beta-card")]
    result = _clustered(rows + _crowd(5))
    alone = attribute(result, _ind([("Acme", "email", "acme.example")]))
    both = attribute(result, _ind([("Acme", "email", "acme.example"), ("Beta", "payment", "beta-card")]))
    cid = result.assignments.set_index("account_id").loc["r00", "cluster_id"]
    a = alone.clusters.set_index("cluster_id").loc[cid]
    b = both.clusters.set_index("cluster_id").loc[cid]
    assert not a["conflict"] and b["conflict"]
    assert b["candidate"] == "Acme" and b["runner_up"] == "Beta"
    assert b["confidence"] < a["confidence"]
    assert 0 < b["runner_up_confidence"] < b["confidence"]
    assert "also Beta" in b["evidence"]
    assert any("conflict" in n for n in both.notes)
    # the cluster is Acme's, but the two accounts on Beta's card (only they carry it) are Beta's
    acc = both.accounts.set_index("account_id")
    assert acc.loc[["r00", "r01"], "organisation"].tolist() == ["Beta", "Beta"]
    assert (acc.loc[["r00", "r01"], "via"] == "self").all()
    assert (acc.loc[[f"r{i:02d}" for i in range(2, 12)], "organisation"] == "Acme").all()


def test_balanced_conflict_leaves_cluster_unattributed() -> None:
    rows = _ring("r", 12) + [(f"r{i:02d}", "email", f"u{i}@acme.example") for i in range(6)]
    rows += [(f"r{i:02d}", "email", f"u{i}@beta.example") for i in range(6, 12)]
    result = _clustered(rows)
    att = attribute(result, _ind([("Acme", "email", "acme.example"), ("Beta", "email", "beta.example")]))
    c = att.clusters.iloc[0]
    assert c["conflict"] and pd.isna(c["organisation"]) and c["confidence"] < 0.5
    # nor is any member on its own: each domain is carried by six accounts of one contested cluster
    assert att.accounts["organisation"].isna().all()


def test_confidence_and_min_confidence() -> None:
    rows = _ring("r", 12) + [("r00", "payment", "acme-card"), ("r01", "payment", "acme-card")]
    result = _clustered(rows)
    sure = attribute(result, _ind([("Acme", "payment", "acme-card", 1.0)]))
    unsure = attribute(result, _ind([("Acme", "payment", "acme-card", 0.6)]))
    assert unsure.clusters["confidence"].iloc[0] < sure.clusters["confidence"].iloc[0]
    strict = attribute(result, _ind([("Acme", "payment", "acme-card")]), min_confidence=0.99)
    assert strict.clusters["organisation"].isna().all()
    # the two card carriers are still Acme's on their own match (a card only they carry)
    got = strict.accounts[strict.accounts["organisation"].notna()]
    assert got["account_id"].tolist() == ["r00", "r01"] and (got["via"] == "self").all()
    none = attribute(result, _ind([("Acme", "payment", "acme-card", 0.6)]), min_confidence=0.99)
    assert none.accounts["organisation"].isna().all()
    assert any("attributed nothing" in n for n in none.notes)
    for att in (sure, unsure, strict):
        c = att.clusters["confidence"]
        assert ((c >= 0) & (c <= 1)).all()


def test_singletons_only_on_their_own_match() -> None:
    rows = _ring("r", 10, emails="acme.example") + [("lone", "email", "boss@acme.example"), ("lone", "ip", "192.0.2.1")]
    rows += [("peer", "ip", "192.0.2.1"), ("peer", "email", "peer@mail.example")]
    result = _clustered(rows + _crowd(20))
    a = result.assignments.set_index("account_id")
    assert a.loc["lone", "cluster_size"] == 1 and a.loc["peer", "cluster_size"] == 1
    att = attribute(result, _ind([("Acme", "email", "acme.example"), ("Acme", "account", "r00")]))
    org = _org_of(att)
    assert org["lone"] == "Acme" and pd.isna(org["peer"])
    singles = att.clusters[att.clusters["size"] == 1]
    assert singles["cluster_id"].tolist() == [a.loc["lone", "cluster_id"]]


def test_every_account_exactly_once_and_unmatched_listed() -> None:
    rows = _ring("r", 10) + _crowd(20)
    result = _clustered(rows)
    ind = _ind([("Acme", "account", "r00"), ("Acme", "account", "r01"), ("Acme", "payment", "no-such-card"),
                ("Ghost", "ip", "10.0.0.0/8"), ("Ghost", "email", "ghost.example")])
    att = attribute(result, ind)
    acc = att.accounts
    assert len(acc) == result.n_accounts and acc["account_id"].is_unique
    assert acc["account_id"].tolist() == result.assignments["account_id"].tolist()
    assert list(acc.columns[:5]) == ["account_id", "cluster_id", "organisation", "confidence", "matched"]
    assert att.unmatched[["organisation", "value"]].values.tolist() == [
        ["Acme", "no-such-card"], ["Ghost", "10.0.0.0/8"], ["Ghost", "ghost.example"]]
    orgs = att.organisations.set_index("organisation")
    assert orgs.loc["Ghost", "matched_accounts"] == 0 and orgs.loc["Ghost", "unmatched_indicators"] == 2
    assert any("no match at all: Ghost" in n for n in att.notes)
    assert any("matched no account" in n for n in att.notes)
    assert repr(att).startswith("<Attribution: 10 of 30 accounts attributed to 1 of 2 organisations, 3 unmatched")


def test_exchanges_give_traffic_shares() -> None:
    rows = _ring("r", 10) + _ring("s", 10) + _crowd(10)
    result = _clustered(rows)
    exch = pd.DataFrame({"account_id": result.assignments["account_id"], "exchanges": 10})
    exch.loc[exch["account_id"].str.startswith("r"), "exchanges"] = 1000
    att = attribute(result, _ind([("Acme", "account", "r00"), ("Acme", "account", "r01")]), exchanges=exch)
    row = att.organisations.set_index("organisation").loc["Acme"]
    assert row["accounts"] == 10 and row["exchanges"] == 10_000
    assert row["share_of_traffic"] == pytest.approx(10_000 / (10_000 + 20 * 10))
    assert "10.0k exchanges" in att.summary()
    with pytest.raises(sg.InputError, match="exchanges"):
        attribute(result, _ind([("Acme", "account", "r00")]), exchanges=exch.rename(columns={"exchanges": "n"}))


def test_no_match_at_all_is_not_an_error() -> None:
    result = _clustered(_ring("r", 6))
    att = attribute(result, _ind([("Acme", "payment", "nothing")]))
    assert att.accounts["organisation"].isna().all() and len(att.evidence) == 0
    assert len(att.unmatched) == 1 and (att.clusters["confidence"] == 0).all()


# --------------------------------------------------------------------------- bad indicators


@pytest.fixture(scope="module")
def small_result() -> sg.ClusterResult:
    # a ring of six and four strangers (an indicator matching every account would be ignored)
    return _clustered(_ring("r", 6, ips=["10.0.0.1"], emails="acme.example") + _crowd(4))


@pytest.mark.parametrize(
    ("table", "pattern"),
    [
        (pd.DataFrame({"org": ["A"], "kind": ["ip"], "value": ["10.0.0.1"]}),
         r"lacks column\(s\) \['organisation'\].*rename 'org' to 'organisation'"),
        (_ind([("A", "ip", "10.0.0.0/33")]), r"row 0: '10.0.0.0/33' is not an IP address or CIDR range"),
        (_ind([("A", "ip", "10.0.0.999")]), r"'10.0.0.999' is not an IP address"),
        (_ind([("A", "ip", "fe80::/200")]), r"not an IP address or CIDR range"),
        (_ind([("A", "telephone", "123")]), r"unknown kind\(s\) \['telephone'\] in row 0.*allowed kinds"),
        (_ind([("A", "paymnet", "123")]), r"did you mean 'payment'"),
        (_ind([("A", "payment", "c1"), ("A", "Payment", " c1 ")]), r"more than once in row 0, row 1"),
        (_ind([("A", "payment", "c1", 1.5)]), r"confidence outside \[0, 1\] in row 0 \(got 1.5\)"),
        (_ind([("A", "payment", "c1", "high")]), r"confidence that is not a number in row 0"),
        (_ind([("A", "payment", "c1"), ("", "payment", "c2")]), r"empty organisation in row 1"),
        (_ind([("A", "payment", None)]), r"empty value in row 0"),
        (_ind([("A", "email", "not an address@")]), r"not an e-mail"),
        (_ind([("A", "email", "localhost")]), r"'localhost' is not an e-mail domain"),
        (pd.DataFrame({"organisation": [], "kind": [], "value": []}), r"holds no indicator"),
    ],
)
def test_bad_indicators_raise_clear_errors(small_result: sg.ClusterResult, table: pd.DataFrame, pattern: str) -> None:
    with pytest.raises(sg.IndicatorError, match=pattern):
        attribute(small_result, table)


def test_bad_parameters(small_result: sg.ClusterResult) -> None:
    ind = _ind([("A", "account", "r00")])
    with pytest.raises(sg.ParameterError, match=r"The 'min_confidence' parameter of attribute must be a float in \(0, 1\]\. Got 0 instead\."):
        attribute(small_result, ind, min_confidence=0)
    with pytest.raises(sg.ParameterError, match=r"'result' parameter of attribute must be a ClusterResult"):
        attribute(small_result.assignments, ind)  # type: ignore[arg-type]
    with pytest.raises(sg.IndicatorError, match="DataFrame or the path"):
        attribute(small_result, [("A", "account", "r00")])  # type: ignore[arg-type]


def test_same_value_for_two_organisations_is_allowed(small_result: sg.ClusterResult) -> None:
    att = attribute(small_result, _ind([("A", "email", "acme.example"), ("B", "email", "acme.example")]))
    assert any("more than one organisation" in n for n in att.notes)
    assert att.clusters["conflict"].all()


def test_read_indicators_from_file(tmp_path, small_result: sg.ClusterResult) -> None:
    path = tmp_path / "ind.csv"
    path.write_text("organisation,kind,value,confidence,source\n"
                    "Acme,IP,10.0.0.1/24,0.9,case-17\n"
                    "Acme,email,@ACME.example.,,case-17\n")
    notes: list[str] = []
    table = read_indicators(path, notes=notes)
    assert table["mode"].tolist() == ["cidr", "domain"]
    assert table["kind"].tolist() == ["ip", "email"]
    assert table["confidence"].tolist() == [0.9, 1.0]
    assert "'10.0.0.1/24' has host bits set and was read as 10.0.0.0/24" in notes[0]
    att = attribute(small_result, path)
    assert att.evidence["source"].eq("case-17").all()
    assert _org_of(att)[[f"r{i:02d}" for i in range(6)]].eq("Acme").all()
    path.write_text("organisation,kind,value\nAcme,ip,10.0.0.0/24\nAcme,payment,c1\nAcme,ip,10.0.0.1/24\n")
    with pytest.raises(sg.IndicatorError, match=r"more than once in row 0 \(line 2\), row 2 \(line 4\)"):
        attribute(small_result, path)
    with pytest.raises(sg.IndicatorError, match="does not exist"):
        attribute(small_result, tmp_path / "missing.csv")


# --------------------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def mixed_result() -> sg.ClusterResult:
    rows = _ring("r", 12, ips=["198.51.100.1", "198.51.100.2"], emails="acme.example")
    rows += _ring("s", 9, ips=["203.0.113.5"], emails="beta.example")
    rows += _crowd(25, extra=[("ip", "198.51.100.2")])
    return _clustered(rows)


_POOL = [("A", "ip", "198.51.100.0/24"), ("A", "email", "acme.example"), ("A", "account", "r03"),
         ("B", "ip", "203.0.113.5"), ("B", "email", "beta.example"), ("B", "account", "s01"),
         ("C", "ip", "198.51.100.2"), ("C", "payment", "r-card1"), ("C", "account", "c004")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(range(len(_POOL))), min_size=1, max_size=6, unique=True),
       conf=st.floats(0.05, 1.0), threshold=st.floats(0.05, 1.0))
def test_invariants(mixed_result: sg.ClusterResult, chosen: list[int], conf: float, threshold: float) -> None:
    ind = pd.DataFrame([_POOL[i] + (conf,) for i in chosen], columns=["organisation", "kind", "value", "confidence"])
    att = attribute(mixed_result, ind, min_confidence=threshold)
    acc = att.accounts
    assert acc["account_id"].tolist() == mixed_result.assignments["account_id"].tolist()
    for frame in (att.clusters, acc):
        assert ((frame["confidence"] >= 0) & (frame["confidence"] <= 1 + 1e-12)).all()
    got = acc[acc["organisation"].notna()]
    assert (got["confidence"] >= threshold - 1e-9).all()
    assert set(got["organisation"]) <= set(ind["organisation"])
    # attributed single accounts matched themselves
    assert acc.loc[acc["via"] == "self", "matched"].all()
    assert att.organisations["accounts"].sum() == len(got)


_EVERYWHERE = [("ip", "0.0.0.0/0"), ("ip", "192.0.0.0/2")]  # each matches every account of mixed_result


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(range(len(_POOL))), min_size=1, max_size=6, unique=True),
       conf=st.floats(0.05, 1.0), org=st.sampled_from(["A", "B", "C", "Z"]), hub=st.sampled_from(range(len(_EVERYWHERE))))
@example(chosen=[7], conf=1.0, org="C", hub=0)   # C's card alone, then C's 0.0.0.0/0 (changed C's confidence before)
@example(chosen=[1, 4], conf=1.0, org="Z", hub=1)  # two domains, then a stranger's range over every account
def test_indicator_matching_every_account_changes_nothing(mixed_result: sg.ClusterResult, chosen: list[int], conf: float,
                                                          org: str, hub: int) -> None:
    ind = pd.DataFrame([_POOL[i] + (conf,) for i in chosen], columns=["organisation", "kind", "value", "confidence"])
    everywhere = pd.DataFrame([(org, *_EVERYWHERE[hub], conf)], columns=ind.columns)
    before = attribute(mixed_result, ind)
    after = attribute(mixed_result, pd.concat([ind, everywhere], ignore_index=True))
    pd.testing.assert_frame_equal(after.accounts, before.accounts)
    pd.testing.assert_frame_equal(after.clusters, before.clusters)
    pd.testing.assert_frame_equal(after.evidence, before.evidence)
    ignored = after.unmatched[after.unmatched["row"] == len(ind)]
    assert ignored["reason"].str.startswith("too broad, ignored: matches 46 accounts, 100.0% of all").all() and len(ignored) == 1
    assert any(f"{org}/ip={_EVERYWHERE[hub][1]} (46 accounts" in n for n in after.notes)


# --------------------------------------------------------------------------- broad indicators


def _broad_world() -> sg.ClusterResult:
    """Acme's ring (12), Beta's ring (15) and 200 ordinary accounts, every account on its own IP address.

    80 ordinary accounts and three of Beta's use the public mail provider ``mail.example``.
    """
    rows = _ring("a", 12, ips=["198.51.100.7"], emails="acme.example")
    rows += _ring("b", 15, ips=["203.0.113.9", "203.0.113.10"])
    rows += [(f"b{i:02d}", "email", f"b{i}@mail.example") for i in range(3)]
    rows += _crowd(200) + [(f"c{i:03d}", "ip", f"100.64.{i // 100}.{i % 100 + 1}") for i in range(200)]
    rows += [(f"c{i:03d}", "email", f"p{i}@mail.example") for i in range(80)]
    return _clustered(rows)


_TRUE = [("Acme", "account", "a01"), ("Acme", "email", "acme.example"), ("Beta", "payment", "b-card0"),
         ("Beta", "account", "b03")]
_BROAD = [("X", "ip", "0.0.0.0/0"), ("X", "email", "mail.example")]


def test_broad_indicators_are_ignored_with_a_named_warning() -> None:
    result = _broad_world()
    plain = attribute(result, _ind(_TRUE))
    att = attribute(result, _ind(_TRUE + _BROAD))
    org = _org_of(att)
    # the true organisations keep all their operators, nobody else is attributed ...
    assert (org[[f"a{i:02d}" for i in range(12)]] == "Acme").all()
    assert (org[[f"b{i:02d}" for i in range(15)]] == "Beta").all()
    assert org[[f"c{i:03d}" for i in range(200)]].isna().all()
    # ... exactly as without the broad indicators
    pd.testing.assert_frame_equal(att.accounts, plain.accounts)
    pd.testing.assert_frame_equal(att.clusters, plain.clusters)
    # each is listed with its reason: every account (share), and a provider spread like everyone (hub)
    why = att.unmatched.set_index("value")["reason"]
    assert list(why.index) == ["0.0.0.0/0", "mail.example"]
    assert why["0.0.0.0/0"] == "too broad, ignored: matches 227 accounts, 100.0% of all (more than max_share=0.5)"
    assert why["mail.example"].startswith("too broad, ignored: a hub; its 83 accounts spread over 77 effective clusters")
    note = next(n for n in att.notes if "too broad" in n)
    assert note.startswith("2 indicator(s) ignored as too broad to be one organisation's")
    assert "X/ip=0.0.0.0/0 (227 accounts, 100.0% of all accounts)" in note and "X/email=mail.example (83 accounts, a hub" in note
    assert note.endswith("left with no matching indicator: X")
    assert not any("no match at all" in n for n in att.notes)
    x = att.organisations.set_index("organisation").loc["X"]
    assert (x["ignored_indicators"], x["unmatched_indicators"], x["matched_accounts"], x["accounts"]) == (2, 0, 0, 0)
    assert "organisation X: 0 accounts in 0 clusters; 2 indicators (2 ignored as too broad)" in att.summary()
    # with both tests off, the old behaviour: X takes the ordinary accounts on the provider
    off = attribute(result, _ind(_TRUE + _BROAD), max_share=1.0, hub_spread=None)
    assert len(off.unmatched) == 0 and (_org_of(off)[[f"c{i:03d}" for i in range(80)]] == "X").all()
    # the share test alone catches the range, the hub test alone both
    assert attribute(result, _ind(_TRUE + _BROAD), hub_spread=None).unmatched["value"].tolist() == ["0.0.0.0/0"]
    assert attribute(result, _ind(_TRUE + _BROAD), max_share=1.0).unmatched["value"].tolist() == ["0.0.0.0/0", "mail.example"]


def test_narrow_indicators_still_attribute() -> None:
    # an organisation in three teams; its domain on all 60 members: more accounts than the largest cluster,
    # yet concentrated in three clusters (2-3 effective clusters against ~48 for all accounts): not broad
    rows = []
    for t in "xyz":
        rows += _ring(t, 20, emails="org.example")
    rows += _crowd(200)
    result = _clustered(rows)
    att = attribute(result, _ind([("Org", "email", "org.example"), ("Org", "payment", "x-card0"),
                                  ("Org", "payment", "y-card1"), ("Org", "payment", "z-card0"),
                                  ("X", "email", "home7.example")]))
    assert len(att.unmatched) == 0 and not any("too broad" in n for n in att.notes)
    org = _org_of(att)
    assert (org[[f"{t}{i:02d}" for t in "xyz" for i in range(20)]] == "Org").all()
    assert org["c007"] == "X" and org.drop(["c007"] + [f"{t}{i:02d}" for t in "xyz" for i in range(20)]).isna().all()
    # a narrow indicator next to broad ones still attributes
    result = _broad_world()
    att = attribute(result, _ind([("Acme", "payment", "a-card1"), ("X", "ip", "0.0.0.0/0")]))
    assert (_org_of(att)[[f"a{i:02d}" for i in range(12)]] == "Acme").all()
    assert att.unmatched["value"].tolist() == ["0.0.0.0/0"]


def test_broad_parameters(small_result: sg.ClusterResult) -> None:
    ind = _ind([("A", "account", "r00")])
    with pytest.raises(sg.ParameterError, match=r"The 'max_share' parameter of attribute must be a float in \(0, 1\]\. Got 0 instead\."):
        attribute(small_result, ind, max_share=0)
    for bad in (0, 1.5, float("nan"), True, "half"):
        with pytest.raises(sg.ParameterError, match=r"The 'hub_spread' parameter of attribute must be a float in \(0, 1\] or None"):
            attribute(small_result, ind, hub_spread=bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- synthetic campaign and CLI


@pytest.fixture(scope="module")
def campaign() -> tuple[synth.SynthData, sg.ClusterResult]:
    data = synth.generate("distillation", scale=0.05, seed=0)
    return data, sg.cluster_accounts(data.observations, seed=0)


def test_synthetic_campaign_every_organisation_found(campaign: tuple[synth.SynthData, sg.ClusterResult]) -> None:
    data, result = campaign
    att = attribute(result, data.indicators, exchanges=data.exchanges)
    truth = data.truth.set_index("account_id")
    acc = att.accounts.set_index("account_id").join(truth[["role", "organisation"]].rename(columns={"organisation": "true"}))
    fake = acc["role"] == "operator"
    got = acc["organisation"].astype(object)
    # every planted organisation is found, and no fake account goes to the wrong one
    orgs = att.organisations.set_index("organisation")
    for name in data.truth.loc[data.truth["role"] == "operator", "organisation"].unique():
        assert orgs.loc[name, "clusters"] >= 1, name
    assert ((got[fake] == acc.loc[fake, "true"]) | got[fake].isna()).all()
    # fake accounts in clusters of two or more are attributed; hardly any benign account is
    sized = result.assignments.set_index("account_id")["cluster_size"] >= 2
    in_cluster = fake & sized.reindex(acc.index)
    assert (got[in_cluster] == acc.loc[in_cluster, "true"]).mean() >= 0.95
    assert got[~fake].notna().mean() <= 0.002
    assert orgs["share_of_traffic"].sum() > 0.3
    assert len(att.unmatched) == 0


def test_synthetic_campaign_with_broad_indicators(campaign: tuple[synth.SynthData, sg.ClusterResult]) -> None:
    # the case: 0.0.0.0/0 and gmail.com listed for one (true) organisation
    data, result = campaign
    broad = pd.DataFrame({"organisation": ["op-A", "op-A"], "kind": ["ip", "email"], "value": ["0.0.0.0/0", "gmail.com"]})
    plain = attribute(result, data.indicators)
    att = attribute(result, pd.concat([data.indicators, broad], ignore_index=True))
    pd.testing.assert_frame_equal(att.accounts, plain.accounts)
    assert att.unmatched["value"].tolist() == ["0.0.0.0/0", "gmail.com"]
    assert att.unmatched["reason"].str.startswith("too broad, ignored").all()
    note = next(n for n in att.notes if "too broad" in n)
    assert "op-A/ip=0.0.0.0/0" in note and "op-A/email=gmail.com" in note


def test_cli_attribute(tmp_path, capsys) -> None:
    rows = _ring("r", 10, ips=["198.51.100.4"]) + _ring("s", 8) + _crowd(6)
    _obs(rows).to_csv(tmp_path / "obs.csv", index=False)
    _ind([("Acme", "account", "r01"), ("Acme", "account", "r02"), ("Acme", "ip", "198.51.100.0/24"),
          ("Ghost", "payment", "nope")]).to_csv(tmp_path / "ind.csv", index=False)
    pd.DataFrame({"account_id": ["r00", "s00"], "exchanges": [500, 20]}).to_csv(tmp_path / "exch.csv", index=False)
    out, summary = tmp_path / "out.csv", tmp_path / "orgs.csv"
    status = main(["attribute", str(tmp_path / "obs.csv"), "--indicators", str(tmp_path / "ind.csv"), "-o", str(out),
                   "--summary", str(summary), "--exchanges", str(tmp_path / "exch.csv")])
    assert status == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == ["account_id", "cluster_id", "organisation", "confidence"]
    assert len(table) == 24 and table["account_id"].is_unique
    assert set(table.loc[table["account_id"].str.startswith("r"), "organisation"]) == {"Acme"}
    assert set(table.loc[~table["account_id"].str.startswith("r"), "organisation"]) == {""}
    orgs = pd.read_csv(summary)
    assert orgs.set_index("organisation").loc["Acme", "exchanges"] == 500
    err = capsys.readouterr().err
    assert "unmatched indicator: Ghost, payment, nope" in err and "organisation Acme: 10 accounts in 1 cluster" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("organisation,kind,value\nAcme,ip,10.0.0.0/99\n")
    assert main(["attribute", str(tmp_path / "obs.csv"), "--indicators", str(bad), "-o", str(out)]) == 3  # a data error
    assert "row 0 (line 2): '10.0.0.0/99' is not an IP address or CIDR range" in capsys.readouterr().err


def test_end_to_end_on_the_small_rings(small_obs: pd.DataFrame) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    att = attribute(result, _ind([("Acme", "account", "a1"), ("Acme", "device", "emuA"), ("Beta", "payment", "cardB0")]))
    org = _org_of(att)
    assert (org[[f"a{i}" for i in range(6)]] == "Acme").all()
    assert (org[[f"b{i}" for i in range(5)]] == "Beta").all()
    assert org[["h0", "h1", "loner"]].isna().all()




def _nul_world(sep: str) -> sg.ClusterResult:
    """Rings r and s whose cards and mail domains differ only after ``sep``."""
    rows = _ring("r", 8, emails="corp.example") + _ring("s", 8, emails=f"corp.example{sep}evil.example")
    rows = [(a, k, v.replace("s-", "r-") + f"{sep}s" if k == "payment" and a[0] == "s" else v) for a, k, v in rows]
    return _clustered(rows + _crowd(5))


@pytest.mark.parametrize("sep", ["|", "\x00"])
def test_values_that_differ_after_a_nul_stay_apart(sep: str) -> None:
    # pandas before 3.1 hashes object strings as C strings: to its factorize, "r-card0" and
    # "r-card0\x00s" were one value, so Beta's indicator also matched Acme's card.
    att = attribute(_nul_world(sep), _ind([("Acme", "payment", "r-card0"), ("Acme", "email", "corp.example"),
                                           ("Beta", "payment", f"r-card0{sep}s"), ("Beta", "payment", f"r-card1{sep}s")]))
    org = _org_of(att)
    assert (org[[f"r{i:02d}" for i in range(8)]] == "Acme").all()
    assert (org[[f"s{i:02d}" for i in range(8)]] == "Beta").all()
    ev = att.evidence
    assert set(ev.loc[ev["organisation"] == "Acme", "account_id"]) == {f"r{i:02d}" for i in range(8)}
    assert set(ev.loc[ev["organisation"] == "Beta", "matched_value"]) == {f"r-card0{sep}s", f"r-card1{sep}s"}


@pytest.mark.xfail(tuple(int(p) for p in pd.__version__.split(".")[:2]) < (3, 1), strict=True,
                   reason="known limitation: before pandas 3.1, groupby takes organisation names equal up to a NUL as one")
def test_organisation_names_that_differ_after_a_nul_stay_apart() -> None:
    beta = "Acme\x00Beta"
    att = attribute(_nul_world("|"), _ind([("Acme", "payment", "r-card0"), (beta, "payment", "r-card0|s")]))
    assert att.organisations.set_index("organisation")["accounts"].to_dict() == {"Acme": 8, beta: 8}
