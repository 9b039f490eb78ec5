"""Evaluation of a clustering against ground truth.

Two families of figures:

* label-agreement scores over any two labelings of the same items --
  :func:`adjusted_rand_index`, :func:`normalized_mutual_info`,
  :func:`pairwise_scores` and :func:`bcubed_scores`;
* investigator figures from :func:`evaluate`, which joins a truth table
  (as produced by :mod:`sybilgraph.synth`) with cluster assignments and
  reports how much of the operation was found, how many ordinary accounts
  were caught with it and how many clusters an analyst has to read.

Every function builds the sparse contingency table of the two labelings
(one hash pass, O(n) time and memory); nothing is quadratic in the number
of items.  Labels may be any hashable values (strings, ints, tuples ...);
``NaN``/``None`` counts as one ordinary label in the pure score functions.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from sybilgraph._arrays import factorize_text, unique_sorted
from sybilgraph._errors import InputError, ParameterError

__all__ = [
    "Contingency",
    "contingency",
    "adjusted_rand_index",
    "normalized_mutual_info",
    "pairwise_scores",
    "bcubed_scores",
    "roc_auc",
    "evaluate",
    "format_table",
]

LabelArray = Sequence[Hashable] | np.ndarray | pd.Series | pd.Index


class Contingency(NamedTuple):
    """Sparse contingency table of two labelings.

    Attributes
    ----------
    n : int
        Number of items.
    cells : numpy.ndarray
        int64 count of every non-empty cell (items sharing a true label and
        a predicted label).
    row : numpy.ndarray
        True-label code of every cell.
    col : numpy.ndarray
        Predicted-label code of every cell.
    true_sizes : numpy.ndarray
        int64 size of every true class (indexed by true-label code).
    pred_sizes : numpy.ndarray
        int64 size of every predicted cluster (indexed by predicted code).
    """

    n: int
    cells: np.ndarray
    row: np.ndarray
    col: np.ndarray
    true_sizes: np.ndarray
    pred_sizes: np.ndarray


def _codes(labels: Any, name: str) -> np.ndarray:
    """Integer codes 0..k-1 of a label array (NaN is a label like any other)."""
    if isinstance(labels, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
        values: Any = labels
    elif isinstance(labels, np.ndarray):
        if labels.ndim != 1:
            raise InputError(f"The {name!r} labels must be one-dimensional. Got shape {labels.shape}.")
        values = labels
    else:
        items = list(labels)
        values = np.empty(len(items), dtype=object)  # keeps tuples as single labels
        values[:] = items
    codes, _ = factorize_text(values, na_sentinel=False)
    return codes


def contingency(true: LabelArray, pred: LabelArray) -> Contingency:
    """Build the sparse contingency table of two labelings.

    Parameters
    ----------
    true, pred : array-like of hashable
        Labels of the same items, in the same order.

    Returns
    -------
    Contingency
        Non-empty cells with their row / column codes and the marginals.

    Raises
    ------
    InputError
        If the two labelings differ in length or are not one-dimensional.
    """
    t = _codes(true, "true")
    p = _codes(pred, "pred")
    if len(t) != len(p):
        raise InputError(
            f"The 'true' and 'pred' labelings must have the same length. Got {len(t)} and {len(p)}."
        )
    n = len(t)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Contingency(0, empty, empty, empty, empty, empty)
    k_pred = int(p.max()) + 1
    pair = t * k_pred + p  # < n * n, fits int64 for any realistic n
    codes, uniques = pd.factorize(pair)  # hashing: O(n), no sort
    cells = np.bincount(codes)
    row, col = np.divmod(np.asarray(uniques, dtype=np.int64), k_pred)
    true_sizes = np.bincount(t).astype(np.int64)
    pred_sizes = np.bincount(p, minlength=k_pred).astype(np.int64)
    return Contingency(n, cells.astype(np.int64), row, col, true_sizes, pred_sizes)


def _comb2(x: np.ndarray) -> float:
    """Sum of C(x, 2) over an array of counts, as a float."""
    xf = x.astype(np.float64)
    return float(np.sum(xf * (xf - 1.0)) / 2.0)


def adjusted_rand_index(true: LabelArray, pred: LabelArray) -> float:
    """Adjusted Rand index (Hubert and Arabie, 1985).

    The share of item pairs on which the two labelings agree (same group in
    both, or different groups in both), corrected for chance so that random
    labelings score about 0 and identical ones 1::

        ARI = (sum_ij C(n_ij, 2) - E) / ((sum_i C(a_i, 2) + sum_j C(b_j, 2)) / 2 - E)
        E   = sum_i C(a_i, 2) * sum_j C(b_j, 2) / C(n, 2)

    Parameters
    ----------
    true, pred : array-like of hashable
        Labels of the same items.

    Returns
    -------
    float
        In [-1, 1] (negative values are rare and mean worse than chance).
        When the denominator vanishes -- both labelings put everything in
        one group, or both put every item alone, or there are fewer than two
        items -- the labelings are identical and the score is 1.0.
    """
    return _ari(contingency(true, pred))


def _ari(c: Contingency) -> float:
    if c.n < 2:
        return 1.0
    index = _comb2(c.cells)
    sum_a = _comb2(c.true_sizes)
    sum_b = _comb2(c.pred_sizes)
    total = c.n * (c.n - 1) / 2.0
    expected = sum_a * sum_b / total
    maximum = (sum_a + sum_b) / 2.0
    denominator = maximum - expected
    if denominator == 0.0:
        return 1.0
    return float((index - expected) / denominator)


def _entropy(counts: np.ndarray, n: int) -> float:
    p = counts[counts > 0].astype(np.float64) / n
    return float(-np.sum(p * np.log(p)))


def normalized_mutual_info(true: LabelArray, pred: LabelArray) -> float:
    """Normalised mutual information, arithmetic-mean normalisation.

    ``NMI = I(T; P) / ((H(T) + H(P)) / 2)`` with natural logarithms; the same
    definition as scikit-learn's default (``average_method="arithmetic"``).

    Parameters
    ----------
    true, pred : array-like of hashable
        Labels of the same items.

    Returns
    -------
    float
        In [0, 1].  1.0 when both labelings have a single group (or there
        are no items); 0.0 when exactly one of them has a single group.
    """
    return _nmi(contingency(true, pred))


def _nmi(c: Contingency) -> float:
    if c.n == 0:
        return 1.0
    h_true = _entropy(c.true_sizes, c.n)
    h_pred = _entropy(c.pred_sizes, c.n)
    if h_true == 0.0 and h_pred == 0.0:
        return 1.0
    if h_true == 0.0 or h_pred == 0.0:
        return 0.0
    nij = c.cells.astype(np.float64)
    a = c.true_sizes[c.row].astype(np.float64)
    b = c.pred_sizes[c.col].astype(np.float64)
    mi = float(np.sum(nij / c.n * (np.log(nij) + math.log(c.n) - np.log(a) - np.log(b))))
    mi = max(mi, 0.0)
    return float(min(1.0, mi / ((h_true + h_pred) / 2.0)))


def _f1(precision: float, recall: float) -> float:
    if precision + recall == 0.0:
        return 0.0
    return 2.0 * precision * recall / (precision + recall)


def pairwise_scores(true: LabelArray, pred: LabelArray) -> tuple[float, float, float]:
    """Pair-counting precision, recall and F1.

    Over all unordered pairs of items: a pair is *predicted* if both items
    share a predicted cluster and *true* if they share a true label.
    ``precision = |predicted and true| / |predicted|``,
    ``recall = |predicted and true| / |true|``, F1 their harmonic mean.
    Large groups weigh quadratically.

    Parameters
    ----------
    true, pred : array-like of hashable
        Labels of the same items.

    Returns
    -------
    (float, float, float)
        ``(precision, recall, f1)``.  With no predicted pair the precision is
        1.0 (nothing wrong was claimed); with no true pair the recall is 1.0
        (nothing was missed).
    """
    return _pairwise(contingency(true, pred))


def _pairwise(c: Contingency) -> tuple[float, float, float]:
    together = _comb2(c.cells)
    predicted = _comb2(c.pred_sizes)
    actual = _comb2(c.true_sizes)
    precision = together / predicted if predicted > 0 else 1.0
    recall = together / actual if actual > 0 else 1.0
    return float(precision), float(recall), float(_f1(precision, recall))


def bcubed_scores(true: LabelArray, pred: LabelArray) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga and Baldwin, 1998).

    For each item ``i`` with predicted cluster ``C(i)`` and true class
    ``L(i)``: precision_i = |C(i) ∩ L(i)| / |C(i)| and recall_i =
    |C(i) ∩ L(i)| / |L(i)| (the item itself included).  Precision and recall
    are the means over items; F1 is their harmonic mean.

    Parameters
    ----------
    true, pred : array-like of hashable
        Labels of the same items.

    Returns
    -------
    (float, float, float)
        ``(precision, recall, f1)``; all 1.0 for empty input.
    """
    return _bcubed(contingency(true, pred))


def _bcubed(c: Contingency) -> tuple[float, float, float]:
    if c.n == 0:
        return 1.0, 1.0, 1.0
    nij = c.cells.astype(np.float64)
    precision = float(np.sum(nij * nij / c.pred_sizes[c.col]) / c.n)
    recall = float(np.sum(nij * nij / c.true_sizes[c.row]) / c.n)
    return precision, recall, float(_f1(precision, recall))


# ---------------------------------------------------------------------------
# Investigator figures
# ---------------------------------------------------------------------------

_TRUTH_COLUMNS = ("account_id", "entity", "role", "organisation")
_ASSIGNMENT_COLUMNS = ("account_id", "cluster_id")
_ROLES = ("operator", "benign")


def roc_auc(positive: Any, score: Any) -> float:
    """Return the area under the ROC curve of ``score`` for telling ``positive`` items from the rest.

    The probability that a random positive item scores above a random
    negative one, ties counting one half (the Mann–Whitney U statistic over
    ``n_pos * n_neg``), computed from the ranks of the scores in
    O(n log n).

    Parameters
    ----------
    positive : array-like of bool
    score : array-like of float
        Same length; NaN is not allowed.

    Returns
    -------
    float
        In [0, 1]; NaN when there is no positive or no negative item.

    Raises
    ------
    ParameterError
        The lengths differ or a score is NaN.

    Examples
    --------
    >>> roc_auc([True, True, False, False], [0.9, 0.5, 0.5, 0.1])
    0.875
    """
    pos = np.asarray(positive, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    if pos.shape != s.shape or pos.ndim != 1:
        raise ParameterError(f"roc_auc needs two 1-d arrays of one length; got shapes {pos.shape} and {s.shape}.")
    if np.isnan(s).any():
        raise ParameterError(f"roc_auc: {int(np.isnan(s).sum())} scores are NaN; drop or fill them first.")
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    u = float(ranks[pos].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def _require_columns(frame: Any, columns: Sequence[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"The {name!r} table must be a pandas DataFrame. Got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"The {name!r} table lacks column(s) {missing}; it needs {list(columns)}. "
            f"Got columns {list(frame.columns)}."
        )


def _sample(values: Any, k: int = 5) -> str:
    items = [str(v) for v in list(values)[:k]]
    more = len(values) - len(items)
    return ", ".join(repr(i) for i in items) + (f" and {more} more" if more > 0 else "")


def _account_keys(column: pd.Series, name: str) -> np.ndarray:
    """Account ids as strings (no missing values allowed)."""
    if column.isna().any():
        raise InputError(f"The {name!r} table has {int(column.isna().sum())} missing account_id value(s).")
    return np.asarray(column.astype(str).to_numpy(dtype=object))


def _align(t_keys: np.ndarray, a_keys: np.ndarray) -> np.ndarray:
    """Row of ``assignments`` for every row of ``truth`` (one hash pass over both).

    Raises :class:`InputError` on duplicates and on accounts missing from
    either table.
    """
    n_t = len(t_keys)
    codes, uniques = factorize_text(np.concatenate([t_keys, a_keys]))
    t_codes, a_codes = codes[:n_t], codes[n_t:]
    for name, own, keys in (("truth", t_codes, t_keys), ("assignments", a_codes, a_keys)):
        counts = np.bincount(own, minlength=len(uniques))
        if (counts > 1).any():
            twice = np.asarray(uniques)[counts > 1]
            raise InputError(f"The {name!r} table lists account(s) more than once: {_sample(twice)}.")
    # truth ids are unique and come first, so their codes are 0 .. n_t - 1 in order
    extra = a_keys[a_codes >= n_t]
    covered = np.bincount(a_codes[a_codes < n_t], minlength=n_t) > 0
    missing = t_keys[~covered]
    if len(extra) or len(missing):
        parts = []
        if len(missing):
            parts.append(f"{len(missing)} account(s) of the truth have no assignment: {_sample(missing)}")
        if len(extra):
            parts.append(f"{len(extra)} assigned account(s) are not in the truth: {_sample(extra)}")
        raise InputError("The 'assignments' table must cover exactly the accounts of 'truth'; "
                         + "; ".join(parts) + ".")
    order = np.empty(n_t, dtype=np.int64)
    order[a_codes] = np.arange(len(a_codes))
    return order


def _cluster_codes(cluster: pd.Series) -> np.ndarray:
    """Cluster codes; every missing cluster id becomes a singleton of its own."""
    codes, uniques = factorize_text(cluster)
    missing = codes < 0
    if missing.any():
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes


def evaluate(truth: pd.DataFrame, assignments: pd.DataFrame, *,
             min_cluster_size: int = 10) -> dict[str, float | int]:
    """Score cluster assignments against ground truth, as an investigator would.

    Parameters
    ----------
    truth : pandas.DataFrame
        One row per account with ``account_id``, ``entity`` (operator team or
        benign group / loner id), ``role`` (``"operator"`` for a fake
        account, ``"benign"`` otherwise) and ``organisation`` (the operator's
        name; ignored for benign accounts).
    assignments : pandas.DataFrame
        One row per account with ``account_id`` and ``cluster_id`` (strings
        or ints).  Accounts left out of any cluster should carry a singleton
        id of their own; a missing (NaN) ``cluster_id`` is treated as such a
        singleton.
    min_cluster_size : int, default 10
        Smallest cluster that counts as found for ``sybil_recall``.

    Returns
    -------
    dict of str to float or int
        ``sybil_recall``
            Share of fake accounts placed in a cluster of at least
            ``min_cluster_size`` accounts in which their own organisation's
            fake accounts are a strict majority of all accounts.
        ``benign_fp_rate``
            Share of benign accounts placed in a sybil-dominated cluster (at
            least 2 accounts, strict majority fake).
        ``clusters_for_90pct``
            Fewest clusters that together hold 90% of the fake accounts
            (clusters taken by decreasing number of fake accounts); 0 when
            there are no fake accounts.
        ``n_true_teams``
            Distinct entities of fake accounts in the truth.
        ``operator_purity``
            Over sybil-dominated clusters, the share of their fake accounts
            that belong to each cluster's majority organisation.
        ``ari``, ``nmi``, ``pairwise_precision``, ``pairwise_recall``, ``pairwise_f1``, ``bcubed_precision``, ``bcubed_recall``, ``bcubed_f1``
            Agreement of ``entity`` with ``cluster_id`` over all accounts
            (see the functions of the same names).
        ``n_accounts``, ``n_fake``, ``n_benign``, ``n_clusters``, ``n_sybil_clusters``
            Counts; ``n_sybil_clusters`` counts sybil-dominated clusters of
            at least ``min_cluster_size`` accounts.

        Rates whose denominator is empty (``sybil_recall`` without fake
        accounts, ``benign_fp_rate`` without benign accounts,
        ``operator_purity`` without sybil-dominated clusters) are NaN.

    Raises
    ------
    InputError
        If a table is not a DataFrame, lacks a column, lists an account
        twice, has an unknown role, or if the two tables do not cover the
        same accounts (the message names missing and extra accounts).
    ParameterError
        If ``min_cluster_size`` is not an int >= 1.

    Notes
    -----
    Account ids are compared as strings, so ``12`` and ``"12"`` match.
    """
    if (not isinstance(min_cluster_size, (int, np.integer)) or isinstance(min_cluster_size, bool)
            or min_cluster_size < 1):
        raise ParameterError(
            f"The 'min_cluster_size' parameter of evaluate must be an int >= 1. "
            f"Got {min_cluster_size!r} instead."
        )
    _require_columns(truth, _TRUTH_COLUMNS, "truth")
    _require_columns(assignments, _ASSIGNMENT_COLUMNS, "assignments")
    order = _align(_account_keys(truth["account_id"], "truth"),
                   _account_keys(assignments["account_id"], "assignments"))
    role = truth["role"].astype(str).to_numpy(dtype=object)
    bad_roles = sorted(set(pd.unique(role)) - set(_ROLES))
    if bad_roles:
        raise InputError(f"The 'truth' table's role column must hold 'operator' or 'benign'. Got {bad_roles}.")

    cluster = _cluster_codes(assignments["cluster_id"].iloc[order].reset_index(drop=True))
    entity_codes = _codes(truth["entity"], "entity")
    fake = role == "operator"
    org = _codes(truth["organisation"].astype(str).where(fake, ""), "organisation")

    n = len(truth)
    n_fake = int(fake.sum())
    n_benign = n - n_fake
    n_clusters = int(cluster.max()) + 1 if n else 0
    size = np.bincount(cluster, minlength=n_clusters)
    fake_count = np.bincount(cluster[fake], minlength=n_clusters)

    # fake accounts per (cluster, organisation): one hash pass over fake accounts
    n_orgs = int(org.max()) + 1 if n else 1
    fake_cluster = cluster[fake]
    key_codes, keys = pd.factorize(fake_cluster * n_orgs + org[fake])
    key_counts = np.bincount(key_codes).astype(np.int64)
    own_org_count = key_counts[key_codes]  # per fake account: its organisation's fakes in its cluster
    majority_org_count = np.zeros(n_clusters, dtype=np.int64)
    np.maximum.at(majority_org_count, np.asarray(keys, dtype=np.int64) // n_orgs, key_counts)

    sybil_cluster = (size >= 2) & (2 * fake_count > size)
    fake_size = size[fake_cluster]
    found = (fake_size >= min_cluster_size) & (2 * own_org_count > fake_size)
    sybil_recall = float(found.mean()) if n_fake else math.nan
    benign_fp = float(sybil_cluster[cluster[~fake]].mean()) if n_benign else math.nan
    if n_fake:
        by_fake = np.sort(fake_count[fake_count > 0])[::-1]
        covered = np.cumsum(by_fake)
        clusters_90 = int(np.searchsorted(10 * covered, 9 * n_fake, side="left")) + 1
    else:
        clusters_90 = 0
    sybil_fake = int(fake_count[sybil_cluster].sum())
    purity = float(majority_org_count[sybil_cluster].sum() / sybil_fake) if sybil_fake else math.nan

    table = contingency(entity_codes, cluster)
    ari = _ari(table)
    nmi = _nmi(table)
    pp, pr, pf = _pairwise(table)
    bp, br, bf = _bcubed(table)
    return {
        "sybil_recall": sybil_recall,
        "benign_fp_rate": benign_fp,
        "clusters_for_90pct": clusters_90,
        "n_true_teams": int(unique_sorted(entity_codes[fake]).size),
        "operator_purity": purity,
        "ari": ari,
        "nmi": nmi,
        "pairwise_precision": pp,
        "pairwise_recall": pr,
        "pairwise_f1": pf,
        "bcubed_precision": bp,
        "bcubed_recall": br,
        "bcubed_f1": bf,
        "n_accounts": n,
        "n_fake": n_fake,
        "n_benign": n_benign,
        "n_clusters": n_clusters,
        "n_sybil_clusters": int((sybil_cluster & (size >= min_cluster_size)).sum()),
    }


# ---------------------------------------------------------------------------
# Text table
# ---------------------------------------------------------------------------


def _cell(value: Any, float_format: str) -> tuple[str, bool]:
    """Text of a cell and whether it is numeric (right-aligned)."""
    if value is None:
        return "", False
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)), False
    if isinstance(value, (int, np.integer)):
        return str(int(value)), True
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "nan", True
        return float_format.format(float(value)), True
    return str(value), False


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, *,
                 float_format: str = "{:.4f}") -> str:
    """Render dictionaries as a fixed-width text table.

    Parameters
    ----------
    rows : sequence of dict
        One dict per table row.  Missing keys give empty cells.
    columns : sequence of str, optional
        Columns to show, in order.  Default: every key, in order of first
        appearance.
    float_format : str, default "{:.4f}"
        ``str.format`` pattern for floats.

    Returns
    -------
    str
        A header line, a line of dashes and one line per row, columns
        separated by two spaces; numbers right-aligned, text left-aligned.
        No trailing newline; ``""`` when there are no rows and no columns.

    Examples
    --------
    >>> print(format_table([{"scenario": "benign", "ari": 0.5, "n": 3}]))
    scenario     ari  n
    --------  ------  -
    benign    0.5000  3
    """
    if columns is None:
        seen: dict[str, None] = {}
        for r in rows:
            for key in r:
                seen.setdefault(str(key), None)
        columns = list(seen)
    columns = [str(c) for c in columns]
    if not columns:
        return ""
    cells = [[_cell(r.get(c), float_format) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i][0]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [bool(cells) and all(row[i][1] or row[i][0] == "" for row in cells) for i in range(len(columns))]

    def line(texts: list[str]) -> str:
        out = [t.rjust(w) if num else t.ljust(w) for t, w, num in zip(texts, widths, numeric)]
        return "  ".join(out).rstrip()

    lines = [line(columns), line(["-" * w for w in widths])]
    lines += [line([text for text, _ in row]) for row in cells]
    return "\n".join(lines)
