"""Data for the report tests: a small synthetic campaign plus one operator whose every string is an attack."""

from __future__ import annotations

import pandas as pd

import sybilgraph as sg
from sybilgraph.attribute import Attribution, attribute

#: Strings that would run script if the report put them into the page as markup or as a URL.
#: Each one, if it ran, sets ``window.__pwned`` or changes ``document.title``.
PAYLOADS = {
    "account": "<script>window.__pwned='account';document.title='pwned'</script>",
    "account_img": "<img src=x onerror=\"window.__pwned='img'\">",
    "device": "<img src=x onerror=window.__pwned='device'>",
    "payment": "javascript:window.__pwned='payment'",
    "email": "x@<svg onload=window.__pwned=1>.io",
    "ip": "\"><script>window.__pwned='ip'</script>",
    "organisation": "</td><script>window.__pwned='org'</script><a href=\"javascript:window.__pwned=2\">",
    "prompt": "</script><script>window.__pwned='prompt'</script> <b onmouseover=alert(1)>summarise</b> item",
}


def hostile_observations(scale: float = 0.01, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small campaign plus 12 hostile accounts that share a device, a card and a prompt; and indicators for them."""
    data = sg.synth.generate("distillation", scale=scale, seed=seed)
    obs = data.observations[["account_id", "kind", "value", "timestamp"]].copy()
    rows = []
    t0 = 1_700_000_000
    for i in range(12):
        acc = (PAYLOADS["account"] if i == 0 else PAYLOADS["account_img"] if i == 1 else "") + f"evil-{i:02d}"
        rows += [(acc, "device", PAYLOADS["device"], t0 + i), (acc, "payment", PAYLOADS["payment"], t0 + i),
                 (acc, "ip", "203.0.113.7", t0 + i), (acc, "email", PAYLOADS["email"].replace("x@", f"u{i}@"), t0 + i)]
        rows += [(acc, "prompt", f"{PAYLOADS['prompt']} number {i * 7 + k}", t0 + i + k) for k in range(3)]
    obs = pd.concat([obs, pd.DataFrame(rows, columns=obs.columns)], ignore_index=True)
    indicators = pd.DataFrame({"organisation": [PAYLOADS["organisation"]], "kind": ["device"],
                               "value": [PAYLOADS["device"]]})
    return obs, indicators


def hostile_run(scale: float = 0.01, seed: int = 0) -> tuple[sg.ClusterResult, Attribution]:
    """Cluster and attribute :func:`hostile_observations`."""
    obs, indicators = hostile_observations(scale, seed)
    result = sg.cluster_accounts(obs, seed=seed)
    return result, attribute(result, indicators)
