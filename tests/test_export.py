"""Graph exports (issue 13): networkx, GraphML and GEXF; hostile strings stay data."""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx  # in the test extra: these tests run, never skip
import numpy as np
import pandas as pd
import pytest

import sybilgraph as sg
from sybilgraph.export import to_networkx, write_gexf, write_graphml

HOSTILE = "<script>alert(1)</script>\x01\x1b[2J"


def _hostile_result() -> sg.ClusterResult:
    rows = []
    for i in range(5):
        acc = f"{HOSTILE}-{i}" if i else '"><img src=x onerror=alert(1)>\x0b'
        rows += [(acc, "payment", "card\x02&<b>"), (acc, "device", "dev\uffff]]>")]
    rows += [("z", "device", "other"), ("z2", "device", "other2")]
    return sg.cluster_accounts(pd.DataFrame(rows, columns=["account_id", "kind", "value"], dtype=object), seed=0,
                               timestamp_col=None)


def test_to_networkx_is_the_clustering_graph(small_obs: pd.DataFrame) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    g = to_networkx(result)
    accounts = [n for n, d in g.nodes(data=True) if d["type"] == "account"]
    assert sorted(a for _, a in accounts) == sorted(result.assignments["account_id"])  # every account, loner too
    assert nx.is_bipartite(g)
    for (_, acc), d in ((n, d) for n, d in g.nodes(data=True) if d["type"] == "account"):
        row = result.assignments.set_index("account_id").loc[acc]
        assert d["cluster"] == row["cluster_id"] and d["cluster_size"] == row["cluster_size"]
    # one edge per (account, linking value), weighted by the value's weight
    card = g.nodes["value", "payment", "cardA0"]
    assert card["carriers"] == 2 and card["weight"] == pytest.approx(1.0)
    assert {a for _, a in g.neighbors(("value", "payment", "cardA0"))} == {"a0", "a1"}
    assert all(d["weight"] > 0 for _, _, d in g.edges(data=True))
    assert g.degree(("account", "loner")) == 0


def test_cluster_graph_holds_members_and_their_shared_values(small_obs: pd.DataFrame) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    c = int(result.assignments.set_index("account_id").loc["a0", "cluster_id"])
    g = to_networkx(result, cluster_id=c)
    members = {a for (t, *rest), d in g.nodes(data=True) if t == "account" for a in rest}
    assert members == set(result.members(c))
    values = [n for n, d in g.nodes(data=True) if d["type"] == "value"]
    assert all(g.degree(v) >= 2 for v in values)
    assert ("value", "device", "emuA") in g
    with pytest.raises(sg.ParameterError):
        to_networkx(result, cluster_id=10_000)


@pytest.mark.parametrize("writer,reader,suffix", [(write_graphml, "read_graphml", "graphml"),
                                                  (write_gexf, "read_gexf", "gexf")])
def test_hostile_strings_survive_as_data(tmp_path: Path, writer, reader, suffix: str) -> None:  # type: ignore[no-untyped-def]
    result = _hostile_result()
    path = tmp_path / f"g.{suffix}"
    report = writer(result, path)
    # the control characters were escaped, counted and named
    assert len(report) == 1 and report.notes[0].count > 0 and report.notes[0].stage == "export"
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text and "<img" not in text and "\x01" not in text and "\uffff" not in text
    back = getattr(nx, reader)(path)
    labels = {d["label"] for _, d in back.nodes(data=True)}
    assert "<script>alert(1)</script>\\x01\\x1b[2J-1" in labels
    assert '"><img src=x onerror=alert(1)>\\x0b' in labels
    assert "card\\x02&<b>" in labels and "dev\\uffff]]>" in labels
    assert back.number_of_nodes() == to_networkx(result).number_of_nodes()
    assert back.number_of_edges() == to_networkx(result).number_of_edges()
    assert not list(tmp_path.glob(".*"))  # no temporary left behind


def test_clean_graph_has_no_note_and_round_trips(small_obs: pd.DataFrame, tmp_path: Path) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    report = write_graphml(result, tmp_path / "a.graphml", cluster_id=0)
    assert len(report) == 0
    back = nx.read_graphml(tmp_path / "a.graphml")
    g = to_networkx(result, cluster_id=0)
    assert sorted(d["label"] for _, d in back.nodes(data=True)) == sorted(
        d.get("account_id", d.get("value")) for _, d in g.nodes(data=True))
    w_back = sorted(d["weight"] for _, _, d in back.edges(data=True))
    assert np.allclose(w_back, sorted(d["weight"] for _, _, d in g.edges(data=True)))


def test_failed_write_leaves_the_previous_file(small_obs: pd.DataFrame, tmp_path: Path) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    path = tmp_path / "g.gexf"
    path.write_text("previous")
    g = to_networkx(result)
    g.add_node("bad", weight=object())  # a value networkx cannot write
    with pytest.raises(Exception):
        write_gexf(g, path)
    assert path.read_text() == "previous"
    assert sorted(os.listdir(tmp_path)) == ["g.gexf"]


def test_result_method_and_tables_in_both_formats(small_obs: pd.DataFrame, tmp_path: Path) -> None:
    result = sg.cluster_accounts(small_obs, seed=0)
    assert nx.utils.graphs_equal(result.to_networkx(0), to_networkx(result, 0))
    for suffix in ("csv", "parquet"):
        sg.write_table(result.clusters, tmp_path / f"c.{suffix}")
        back = sg.read_table(tmp_path / f"c.{suffix}")
        assert back["cluster_id"].astype(int).tolist() == result.clusters["cluster_id"].tolist()
