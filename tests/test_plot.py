"""sybilgraph.plot: the matplotlib pictures draw what the result holds (Agg backend, no display)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import sybilgraph as sg
from sybilgraph import ParameterError

matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is in the test extra; pip install -e '.[test]'")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sybilgraph.plot import plot_cluster, plot_result  # noqa: E402


@pytest.fixture(scope="module")
def result() -> sg.ClusterResult:
    data = sg.synth.generate("distillation", scale=0.01, seed=0)
    return sg.cluster_accounts(data.observations, seed=0)


def test_plot_cluster_draws_its_members_and_values(result) -> None:
    cid = int(result.groups().iloc[0]["cluster_id"])
    fig, ax = plt.subplots()
    assert plot_cluster(result, cid, ax=ax, max_accounts=10_000, max_values=10_000) is ax
    accounts = ax.collections[1].get_offsets()
    values = sum(len(c.get_offsets()) for c in ax.collections[2:])
    ev = result.evidence[result.evidence["cluster_id"] == cid]
    assert values == len(ev)
    members = set(result.members(cid))
    linked = set(result.observations.loc[result.observations["account_id"].isin(members)
                                         & result.observations["value"].isin(ev["value"]), "account_id"])
    assert len(accounts) == len(linked)
    assert f"cluster {cid}:" in ax.get_title()
    plt.close(fig)


def test_plot_cluster_is_deterministic_and_capped(result) -> None:
    cid = int(result.groups().iloc[0]["cluster_id"])
    a = plot_cluster(result, cid, max_accounts=5, max_values=3)
    b = plot_cluster(result, cid, max_accounts=5, max_values=3)
    assert len(a.collections[1].get_offsets()) == 5
    assert np.array_equal(a.collections[1].get_offsets(), b.collections[1].get_offsets())
    plt.close("all")


def test_plot_cluster_unknown_id(result) -> None:
    with pytest.raises(ParameterError, match="cluster_id 999999 is not a cluster"):
        plot_cluster(result, 999_999)


def test_plot_result_one_point_per_cluster(result) -> None:
    ax = plot_result(result)
    groups = result.groups()
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(groups)
    assert len(ax.collections[1].get_offsets()) == int(groups["suspicious"].sum())
    plt.close("all")


def test_missing_matplotlib_says_how_to_install(result, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r"sybilgraph\[plot\]"):
        plot_result(result)
