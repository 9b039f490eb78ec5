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
import pyarrow as pa

from ._errors import EmptyInputError
from ._report import Report
from ._text import compact_codes, encode_text, sort_codes
from .ingest import Encoded
from .normalise import NormalisedCodes
from .settings import Settings

__all__ = ["WeightedObservations", "weight_values", "weight_encoded", "rarity"]

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
    return weight_encoded(_encode_normalised(obs, extra_accounts), settings, report=report)


def weight_encoded(obs: NormalisedCodes, settings: Settings, *, report: Report | None = None) -> WeightedObservations:
    """Weigh every distinct value of encoded normalised observations (see :func:`weight_values`).

    Parameters
    ----------
    obs : NormalisedCodes
        Output of :func:`sybilgraph.normalise.normalise_encoded`; every
        account of ``obs.accounts`` is numbered, with rows or without.
    settings : Settings
        Uses ``kind_weights`` and ``other_weight``.
    report : Report, optional
        Receives a note on values carried by every account.

    Returns
    -------
    WeightedObservations

    Raises
    ------
    EmptyInputError
        ``obs`` names no account (an account without rows is weighed as a singleton).
    """
    report = report if report is not None else Report()
    if len(obs.accounts) == 0:
        raise EmptyInputError("no account left to weigh after normalisation (see the report for what was skipped).")
    n_acc, n_val = len(obs.accounts), len(obs.value_text)
    kinds = np.array(obs.kinds, dtype=object)
    value_kind = kinds[obs.value_kind]
    degree = np.bincount(obs.value, minlength=n_val).astype(np.int64)
    kind_w = np.array([settings.weight_of(k) for k in obs.kinds], dtype=np.float64)[obs.value_kind]
    weight = kind_w * rarity(degree)
    constant = (degree == n_acc) & (n_acc >= 3)
    shown = np.flatnonzero(constant)[:5]
    report.add(_STAGE, "values carried by every account carry no evidence and were ignored", int(constant.sum()),
               [f"{k}={v}" for k, v in zip(value_kind[shown], obs.value_text.take(pa.array(shown, type=pa.int64())).to_pylist())])
    weight[constant] = 0.0
    ts = np.asarray(obs.timestamp, dtype=np.float64)
    first = np.full(n_acc, np.inf)
    np.fmin.at(first, obs.account, np.where(np.isnan(ts), np.inf, ts))
    first[np.isinf(first)] = np.nan
    return WeightedObservations(
        accounts=obs.accounts.to_numpy(zero_copy_only=False).astype(object, copy=False),
        first_seen=first,
        value_kind=value_kind,
        value_text=obs.value_text.to_numpy(zero_copy_only=False).astype(object, copy=False),
        degree=degree,
        weight=weight,
        obs_account=obs.account.astype(np.int64, copy=False),
        obs_value=obs.value.astype(np.int64, copy=False),
    )


def _encode_normalised(obs: pd.DataFrame, extra_accounts: np.ndarray | None) -> NormalisedCodes:
    """Encode a normalised DataFrame: accounts (with ``extra_accounts``) sorted, values sorted by kind and text."""
    enc = Encoded.from_frame(obs)
    accounts, account = enc.accounts, enc.account
    if extra_accounts is not None and len(extra_accounts):
        extra = pa.array(np.asarray(extra_accounts, dtype=object), type=pa.large_string())
        codes, accounts = sort_codes(*encode_text(pa.concat_arrays([enc.accounts, extra])))
        account = codes[: len(enc.accounts)][account]
    # Number the distinct (kind, value) pairs in sorted order of kind + "\x1f" + value.
    order = sorted(range(len(enc.kinds)), key=lambda i: enc.kinds[i] + "\x1f")
    kind_rank = np.empty(len(order), dtype=np.int64)
    kind_rank[order] = np.arange(len(order))
    value, values = sort_codes(*compact_codes(enc.value, enc.values))
    pair, number = np.unique(kind_rank[enc.kind] * len(values) + value, return_inverse=True)
    pair_kind, pair_value = np.divmod(pair, len(values))
    return NormalisedCodes(
        account=account,
        accounts=accounts,
        value=number.astype(np.int64).reshape(-1),
        timestamp=enc.timestamp,
        kinds=tuple(enc.kinds[i] for i in order),
        value_kind=pair_kind.astype(np.int64),
        value_text=values.take(pa.array(pair_value, type=pa.int64())),
        templates=None,
    )
