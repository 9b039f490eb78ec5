from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sybilgraph as sg
from sybilgraph.explain import suspicion


def _ring(prefix: str, n: int) -> list[tuple[str, str, str, int]]:
    rows = []
    for i in range(n):
        a = f"{prefix}{i:02d}"
        rows += [(a, "payment", f"{prefix}card{i // 8}", 1_700_000_000 + i), (a, "device", f"{prefix}emu", 1_700_000_000 + i),
                 (a, "prompt", f"Write a complete Python implementation for: task {i}. Include tests. Context: file_{i}.py",
                  1_700_000_000 + i),
                 (a, "ip", f"203.0.113.{i % 5}", 1_700_000_000 + i)]
    return rows


def _company(n: int) -> list[tuple[str, str, str, int]]:
    rows = []
    for i in range(n):
        a = f"emp{i:02d}"
        t = 1_600_000_000 + i * 86400 * 7  # hired over months
        rows += [(a, "payment", "corporate-card", t), (a, "email", f"person{i}@acme-corp.example", t),
                 (a, "ip", f"198.51.100.{i % 4}", t), (a, "device", f"laptop-{i}", t)]
    return rows


def test_ring_is_suspicious_company_is_not() -> None:
    obs = pd.DataFrame(_ring("r", 24) + _company(30), columns=["account_id", "kind", "value", "timestamp"])
    result = sg.cluster_accounts(obs, seed=0)
    a = result.assignments.set_index("account_id")
    clusters = result.clusters.set_index("cluster_id")
    ring, company = a.loc["r00", "cluster_id"], a.loc["emp00", "cluster_id"]
    assert ring != company
    assert clusters.loc[ring, "suspicious"] and clusters.loc[ring, "score"] >= 0.5
    assert clusters.loc[company, "size"] >= 10
    assert not clusters.loc[company, "suspicious"]
    # the explanation names what holds the ring together
    ev = result.evidence[result.evidence["cluster_id"] == ring]
    assert {"device", "payment", "prompt_template"} <= set(ev["kind"])
    assert (ev.loc[ev["kind"] == "device", "value"] == "remu").all()


def test_suspicion_needs_two_hallmarks() -> None:
    f = pd.DataFrame({"templated": [1.0, 0.9, 0.0], "tooling": [0.0, 0.8, 0.0], "payment": [0.0, 0.0, 1.0],
                      "burst": [0.0, 0.1, 0.0]})
    s = suspicion(f)
    assert s[0] == 0.0 and s[2] == 0.0
    assert s[1] == pytest.approx(np.sqrt(0.72))


@pytest.mark.slow
def test_benign_population_has_no_suspicious_cluster() -> None:
    data = sg.synth.generate("benign", scale=0.3, seed=3)
    result = sg.cluster_accounts(data.observations, seed=3)
    assert not result.clusters["suspicious"].any()
