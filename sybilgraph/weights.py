"""Stage 3 — weight: how much evidence of common control each shared value is.

Every distinct ``(kind, value)`` gets a weight

.. math::

    w_v = \\kappa_{k(v)} \\cdot r(d_v), \\qquad r(d) = \\frac{1}{\\log_2 d}

where :math:`\\kappa_k` is the kind weight (:data:`~sybilgraph.settings.DEFAULT_KIND_WEIGHTS`)
and :math:`d_v` the number of distinct accounts that carry the value. :math:`r`
is the Adamic–Adar rarity (Adamic & Adar 2003): 1 for a value two accounts
share, 0.5 for four, 0.1 for a thousand. It depends on the value's own count
only, never on the size of the whole input, so adding unrelated accounts does
not change any weight. Values carried by one account link nobody and values
carried by *every* account (of three or more) tell nobody apart; both get
weight 0. See ``docs/concepts.md`` for why, and for the hub policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._errors import EmptyInputError
from ._report import Report
from .settings import Settings

__all__ = ["WeightedObservations", "weight_values", "rarity"]

_STAGE = "weight"


def rarity(degree: np.ndarray) -> np.ndarray:
    """Return the Adamic–Adar rarity ``1 / log2(d)`` of values carried by ``d`` accounts (0 for ``d < 2``).

    Examples
    --------
    >>> rarity(np.array([1, 2, 4, 1024])).tolist()
    [0.0, 1.0, 0.5, 0.1]
    """
    d = np.asarray(degree, dtype=np.float64)
    out = np.zeros_like(d)
    ok = d >= 2
    out[ok] = 1.0 / np.log2(d[ok])
    return out


@dataclass(frozen=True)
class WeightedObservations:
    """Observations encoded as integer arrays, with one weight per distinct value.

    Accounts and values are numbered in sorted order of their text, so the
    numbering, and everything computed from it, does not depend on row order.
    """

    accounts: np.ndarray
    """Account ids, sorted (object array of str); account ``i`` is ``accounts[i]``."""
    first_seen: np.ndarray
    """Earliest timestamp of each account (float64 unix seconds, NaN when unknown)."""
    value_kind: np.ndarray
    """Kind of each distinct value (object array of str)."""
    value_text: np.ndarray
    """Text of each distinct value (object array of str), sorted by (kind, text)."""
    degree: np.ndarray
    """Number of distinct accounts carrying each value (int64)."""
    weight: np.ndarray
    """Evidence weight of each value (float64); 0 for values that link nobody or everybody."""
    obs_account: np.ndarray
    """Account index of each observation (int64)."""
    obs_value: np.ndarray
    """Value index of each observation (int64)."""

    @property
    def n_accounts(self) -> int:
        """Number of distinct accounts."""
        return len(self.accounts)

    def value_frame(self) -> pd.DataFrame:
        """Return one row per distinct value: kind, value, degree, weight."""
        return pd.DataFrame({"kind": self.value_kind, "value": self.value_text, "degree": self.degree, "weight": self.weight})


def weight_values(
    obs: pd.DataFrame,
    settings: Settings,
    *,
    report: Report | None = None,
    extra_accounts: np.ndarray | None = None,
) -> WeightedObservations:
    """Encode normalised observations and weigh every distinct value.

    Parameters
    ----------
    obs : DataFrame
        Normalised observations (``account_id, kind, value, timestamp``), one
        row per distinct (account, kind, value).
    settings : Settings
        Uses ``kind_weights`` and ``other_weight``.
    report : Report, optional
        Receives a note on values carried by every account.
    extra_accounts : ndarray of str, optional
        Accounts without any observation left (all their rows were skipped);
        they are numbered with the rest so they come back as singletons.

    Returns
    -------
    WeightedObservations

    Raises
    ------
    EmptyInputError
        ``obs`` has no row.
    """
    report = report if report is not None else Report()
    if len(obs) == 0:
        raise EmptyInputError("no observation left to weigh after normalisation (see the report for what was skipped).")
    acc_codes, accounts = pd.factorize(obs["account_id"], sort=True)
    if extra_accounts is not None and len(extra_accounts):
        accounts = pd.Index(accounts).append(pd.Index(extra_accounts)).unique().sort_values()
        acc_codes = accounts.get_indexer(obs["account_id"])
    key = obs["kind"].astype(object) + "\x1f" + obs["value"].astype(object)
    val_codes, keys = pd.factorize(key, sort=True)
    split = pd.Series(keys, dtype=object).str.split("\x1f", n=1, expand=True)
    value_kind = split[0].to_numpy(dtype=object)
    value_text = split[1].to_numpy(dtype=object)
    n_acc, n_val = len(accounts), len(keys)
    degree = np.bincount(val_codes, minlength=n_val).astype(np.int64)
    kinds, kind_idx = np.unique(value_kind.astype(str), return_inverse=True)
    kind_w = np.array([settings.weight_of(k) for k in kinds])[kind_idx]
    weight = kind_w * rarity(degree)
    constant = (degree == n_acc) & (n_acc >= 3)
    report.add(_STAGE, "values carried by every account carry no evidence and were ignored", int(constant.sum()),
               [f"{k}={v}" for k, v in zip(value_kind[constant][:5], value_text[constant][:5])])
    weight[constant] = 0.0
    ts = obs["timestamp"].to_numpy(dtype=np.float64)
    first = np.full(n_acc, np.inf)
    np.fmin.at(first, acc_codes, np.where(np.isnan(ts), np.inf, ts))
    first[np.isinf(first)] = np.nan
    return WeightedObservations(
        accounts=np.asarray(accounts, dtype=object),
        first_seen=first,
        value_kind=value_kind,
        value_text=value_text,
        degree=degree,
        weight=weight,
        obs_account=acc_codes.astype(np.int64),
        obs_value=val_codes.astype(np.int64),
    )
