"""What a cluster means must not depend on how much unrelated data surrounds it (issue 10).

A household (four accounts sharing a card, a device and a home IP) that also
used a proxy exit of an operator's team must come out as itself, never inside
the team, whatever number of unrelated accounts share the proxy exit, the home
network's prefix, the mail provider and a stock device fingerprint with them.
The crowd is unrelated: its phone models, providers and networks are drawn
independently, and it is large enough (150 accounts or more) for its popular
values to be hubs; in a world of a dozen accounts a "popular" phone model
carried by six is as rare as a shared device, and nothing can tell them apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sybilgraph as sg

HOUSEHOLD = ["hh-0", "hh-1", "hh-2", "hh-3"]


def _world(team_size: int, crowd: int, proxy_users: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i, acc in enumerate(HOUSEHOLD):
        rows += [(acc, "payment", "family-card"), (acc, "device", "family-tablet"), (acc, "ip", "81.2.69.10"),
                 (acc, "email", f"member{i}@gmail.com")]
    rows.append(("hh-0", "ip", "203.0.113.7"))  # the proxy exit the team uses
    team = [f"op-{i:03d}" for i in range(team_size)]
    for i, acc in enumerate(team):
        rows += [(acc, "device", "emulator-image"), (acc, "payment", f"prepaid-{i // 3}"),
                 (acc, "email", f"bot{i}@mail.example")]
        if i % 2 == 0:
            rows.append((acc, "ip", "203.0.113.7"))
    # The crowd: popular phone models, big mail providers, home networks in a few dozen /24s
    # (the household's among them), each drawn independently.
    for i in range(crowd):
        acc = f"crowd-{i:04d}"
        provider = ("gmail.com", "outlook.com", "yahoo.com")[rng.integers(3)]
        rows += [(acc, "email", f"person{i}@{provider}"), (acc, "device", f"stock-phone-{rng.integers(5)}"),
                 (acc, "ip", f"81.2.{69 + rng.integers(30)}.{20 + i % 200}"), (acc, "payment", f"card-{i}")]
        if i < proxy_users:
            rows.append((acc, "ip", "203.0.113.7"))
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])


def _cluster_of(result: sg.ClusterResult, account: str) -> set[str]:
    a = result.assignments
    cid = a.loc[a["account_id"] == account, "cluster_id"].item()
    return set(a.loc[a["cluster_id"] == cid, "account_id"])


# derandomize: CI must not pass or fail by luck. The generated examples are fixed by the test's code;
# the known failures below are pinned as strict xfails (a fix turns them into failures to remove).
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(team_size=st.integers(12, 60), crowd=st.one_of(st.just(0), st.integers(150, 600)),
       proxy_users=st.integers(0, 40), seed=st.integers(0, 3))
# Known gap (issue 10): in a team of 53+ whose size leaves its last prepaid card shared by two
# accounts, with a crowd of 150 of whom 30 share the proxy exit, those two come out as a
# cluster of their own beside the team (found by hypothesis; a grid over sizes 12-60 found
# only 53, 56 and 59 with crowd 150 and 30 proxy users).
@example(team_size=59, crowd=150, proxy_users=30, seed=0).xfail(raises=AssertionError, reason="issue 10: team loses its last pair")
@example(team_size=53, crowd=150, proxy_users=28, seed=0).xfail(raises=AssertionError, reason="issue 10: team loses its last pair")
@example(team_size=40, crowd=0, proxy_users=0, seed=0)
@example(team_size=12, crowd=600, proxy_users=40, seed=0)
@example(team_size=12, crowd=0, proxy_users=0, seed=1)  # a household sharing one proxy exit with a team of 12
def test_household_and_team_keep_their_clusters_whatever_surrounds_them(team_size: int, crowd: int,
                                                                        proxy_users: int, seed: int) -> None:
    obs = _world(team_size, crowd, min(proxy_users, crowd), seed)
    result = sg.cluster_accounts(obs, seed=seed, timestamp_col=None)
    assert _cluster_of(result, "hh-1") == set(HOUSEHOLD)
    assert _cluster_of(result, "op-000") == {f"op-{i:03d}" for i in range(team_size)}
    # The crowd itself is not asserted on: in a world this small its popular values are carried by
    # nobody else, so it can come out as one loose cluster of its own (see docs/concepts.md).


def test_an_ip_alone_never_makes_a_cluster() -> None:
    # Twelve accounts behind one office address share nothing else: no cluster, however many.
    obs = pd.DataFrame({"account_id": [f"a{i}" for i in range(12)], "kind": "ip", "value": "198.51.100.4"})
    obs = pd.concat([obs, pd.DataFrame({"account_id": [f"a{i}" for i in range(12)], "kind": "payment",
                                        "value": [f"card-{i}" for i in range(12)]})])
    result = sg.cluster_accounts(obs, seed=0, timestamp_col=None)
    assert (result.assignments["cluster_size"] == 1).all()


def test_one_account_does_not_glue_strangers_together() -> None:
    # A hub account shares one referral code with one member of each of many unrelated pairs (each
    # pair has its own card and device): the pairs must not become one cluster through it.
    rows = []
    for i in range(30):
        a, b = f"p{i}a", f"p{i}b"
        rows += [(a, "payment", f"pair-card-{i}"), (b, "payment", f"pair-card-{i}"),
                 (a, "device", f"pair-dev-{i}"), (b, "device", f"pair-dev-{i}"),
                 ("hub", "referral", f"code-{i}"), (a, "referral", f"code-{i}")]
    result = sg.cluster_accounts(pd.DataFrame(rows, columns=["account_id", "kind", "value"]), seed=0,
                                 timestamp_col=None)
    assert result.assignments["cluster_size"].max() <= 3


@pytest.mark.parametrize("scale", [0.05, 0.1, 0.2])
def test_popular_values_never_snowball_into_a_crowd_cluster(scale: float) -> None:
    # At small scales a carrier-NAT address and popular system prompts are carried by a large share
    # of the input. One stand-alone value may carry an account into a cluster only when the
    # cluster's core (members there by links) holds most of its carriers; judged against all members
    # instead, each join raised the share the next was judged by, and at scale 0.1 a cluster of 2,982
    # mostly benign accounts formed.
    data = sg.synth.generate("distillation", scale=scale, seed=0)
    result = sg.cluster_accounts(data.observations, seed=0)
    a = result.assignments.merge(data.truth, on="account_id")
    benign = a[a["role"] == "benign"]
    largest_true_group = benign["entity"].value_counts().max()  # the largest company
    largest_cluster = benign["cluster_id"].value_counts().max()
    assert largest_cluster <= largest_true_group, (largest_cluster, largest_true_group)
