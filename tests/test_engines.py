"""The engine seam: the per-component function, run component by component, gives the local engine's answer.

This is what lets the Spark engine (tests/test_spark.py) run the same function
per group of components: if a component's clusters depended on anything
outside it, these tests would fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sybilgraph as sg
from sybilgraph import synth
from sybilgraph.engines import ENGINES, get_engine, number_clusters
from sybilgraph.engines.local import COMPONENT_ROW_COLUMNS, cluster_component_rows
from sybilgraph.graph import graph_edges, label_components
from sybilgraph.ingest import read_encoded
from sybilgraph.normalise import normalise_encoded
from sybilgraph.settings import Settings
from sybilgraph.weights import weight_encoded


def _per_component(obs: pd.DataFrame, settings: Settings, n_groups: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cluster each of ``n_groups`` groups of whole components on its own; number the clusters once at the end."""
    wobs = weight_encoded(normalise_encoded(read_encoded(obs), settings), settings)
    graph = label_components(graph_edges(wobs))
    value = graph.values[graph.dst - graph.n_accounts]
    rows = pd.DataFrame({"account_id": wobs.accounts[graph.src], "first_seen": wobs.first_seen[graph.src],
                         "kind": wobs.value_kind[value], "value": wobs.value_text[value], "degree": wobs.degree[value]})
    assert tuple(rows.columns) == COMPONENT_ROW_COLUMNS
    group = graph.component[graph.src] % n_groups
    parts, tables = [], []
    for g in range(n_groups):
        if not (group == g).any():
            continue
        assignments, clusters, _ = cluster_component_rows(rows[group == g].reset_index(drop=True), settings)
        rank = np.searchsorted(wobs.accounts, assignments["account_id"].to_numpy())
        first = pd.Series(rank).groupby(assignments["cluster_id"].to_numpy()).min()
        parts.append(assignments.assign(g=g, rank=rank))
        tables.append(pd.DataFrame({"g": g, "local": first.index, "first": first.to_numpy(),
                                    "size": clusters["size"].to_numpy()[first.index]}))
    # Accounts without a linking value are singletons of their own.
    alone = np.setdiff1d(np.arange(wobs.n_accounts), np.unique(graph.src))
    tables.append(pd.DataFrame({"g": -1, "local": alone, "first": alone, "size": 1}))
    table = pd.concat(tables, ignore_index=True)
    table["cluster_id"] = number_clusters(table["size"].to_numpy(), table["first"].to_numpy())
    key = table.set_index(["g", "local"])["cluster_id"]
    assigned = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["g", "rank", "cluster_id"])
    out = np.full(wobs.n_accounts, -1, dtype=np.int64)
    out[assigned["rank"].to_numpy()] = key.reindex(pd.MultiIndex.from_arrays([assigned["g"], assigned["cluster_id"]])).to_numpy()
    out[alone] = key.reindex(pd.MultiIndex.from_arrays([np.full(len(alone), -1), alone])).to_numpy()
    periphery = np.full(wobs.n_accounts, -1, dtype=np.int64)
    if len(assigned):
        p = assigned["periphery_of"].to_numpy(dtype=float, na_value=np.nan)
        has = ~np.isnan(p)
        periphery[assigned["rank"].to_numpy()[has]] = key.reindex(pd.MultiIndex.from_arrays(
            [assigned["g"].to_numpy()[has], p[has].astype(np.int64)])).to_numpy()
    return pd.DataFrame({"account_id": wobs.accounts, "cluster_id": out, "periphery_of": periphery}), assigned


@pytest.mark.parametrize("scenario", sorted(synth.SCENARIOS))
def test_per_component_runs_give_the_local_answer(scenario: str) -> None:
    data = synth.generate(scenario, scale=0.05, seed=3)
    settings = Settings(seed=5)
    local = sg.cluster_accounts(data.observations, settings=settings)
    for n_groups in (1, 7):
        split, assigned = _per_component(data.observations, settings, n_groups)
        a = local.assignments
        assert split["account_id"].tolist() == a["account_id"].tolist()
        assert np.array_equal(split["cluster_id"].to_numpy(), a["cluster_id"].to_numpy()), (scenario, n_groups)
        want = a["periphery_of"].to_numpy(dtype=float, na_value=-1).astype(np.int64)
        assert np.array_equal(split["periphery_of"].to_numpy(), want), (scenario, n_groups)
        # Attachment is a sum over the account's own cluster: the same bits.
        att = a.set_index("account_id")["attachment"].reindex(assigned["account_id"]).to_numpy()
        assert np.array_equal(att, assigned["attachment"].to_numpy())


def test_number_clusters_is_largest_first_ties_by_smallest_member() -> None:
    assert number_clusters(np.array([1, 3, 3, 2]), np.array([0, 5, 2, 1])).tolist() == [3, 1, 0, 2]


def test_engines_are_named_and_unknown_names_are_refused() -> None:
    assert set(ENGINES) == {"local", "spark"}
    with pytest.raises(sg.ParameterError, match="'engine' parameter.*'locale'"):
        sg.cluster_accounts(pd.DataFrame({"account_id": ["a"], "kind": ["ip"], "value": ["1.2.3.4"]}), engine="locale")
    assert callable(get_engine("local"))
