from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def small_obs() -> pd.DataFrame:
    """Two rings, a household, a hub everyone shares and a loner."""
    rows = []
    # ring A: 6 accounts, three cards, one device image
    for i in range(6):
        rows += [(f"a{i}", "payment", f"cardA{i // 2}"), (f"a{i}", "device", "emuA"), (f"a{i}", "ip", f"10.0.0.{i % 3}")]
    # ring B: 5 accounts
    for i in range(5):
        rows += [(f"b{i}", "payment", f"cardB{i // 3}"), (f"b{i}", "device", "emuB"), (f"b{i}", "ip", f"10.1.0.{i % 2}")]
    # a household of two
    rows += [("h0", "ip", "192.168.1.1"), ("h1", "ip", "192.168.1.1"), ("h0", "payment", "family"), ("h1", "payment", "family")]
    rows += [("loner", "email", "someone@example.org")]
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])
