"""Tests of sybilgraph.metrics against brute-force references."""

from __future__ import annotations

import math
from collections import Counter
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sybilgraph._errors import InputError, ParameterError
from sybilgraph.metrics import (
    adjusted_rand_index,
    bcubed_scores,
    contingency,
    evaluate,
    format_table,
    normalized_mutual_info,
    pairwise_scores,
)

# ---------------------------------------------------------------------------
# brute-force references (explicit pair loops / per-item loops)
# ---------------------------------------------------------------------------


def _pair_confusion(true: list[Any], pred: list[Any]) -> tuple[int, int, int, int]:
    tp = fp = fn = tn = 0
    for i, j in combinations(range(len(true)), 2):
        same_t = true[i] == true[j]
        same_p = pred[i] == pred[j]
        if same_t and same_p:
            tp += 1
        elif same_p:
            fp += 1
        elif same_t:
            fn += 1
        else:
            tn += 1
    return tp, fp, fn, tn


def brute_ari(true: list[Any], pred: list[Any]) -> float:
    tp, fp, fn, tn = _pair_confusion(true, pred)
    denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)
    if denominator == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / denominator


def brute_nmi(true: list[Any], pred: list[Any]) -> float:
    n = len(true)
    if n == 0:
        return 1.0
    ct, cp, cj = Counter(true), Counter(pred), Counter(zip(true, pred))
    h_t = -sum(c / n * math.log(c / n) for c in ct.values())
    h_p = -sum(c / n * math.log(c / n) for c in cp.values())
    if h_t == 0 and h_p == 0:
        return 1.0
    if h_t == 0 or h_p == 0:
        return 0.0
    mi = sum(c / n * math.log((c / n) / ((ct[t] / n) * (cp[p] / n))) for (t, p), c in cj.items())
    return mi / ((h_t + h_p) / 2)


def brute_pairwise(true: list[Any], pred: list[Any]) -> tuple[float, float, float]:
    tp, fp, fn, _ = _pair_confusion(true, pred)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def brute_bcubed(true: list[Any], pred: list[Any]) -> tuple[float, float, float]:
    n = len(true)
    if n == 0:
        return 1.0, 1.0, 1.0
    precisions, recalls = [], []
    for i in range(n):
        both = sum(1 for j in range(n) if true[j] == true[i] and pred[j] == pred[i])
        in_cluster = sum(1 for j in range(n) if pred[j] == pred[i])
        in_class = sum(1 for j in range(n) if true[j] == true[i])
        precisions.append(both / in_cluster)
        recalls.append(both / in_class)
    precision, recall = sum(precisions) / n, sum(recalls) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


labels = st.one_of(st.integers(0, 4), st.sampled_from(["a", "b", "c"]))
labelings = st.integers(0, 30).flatmap(
    lambda n: st.tuples(st.lists(labels, min_size=n, max_size=n), st.lists(labels, min_size=n, max_size=n))
)


@settings(max_examples=200, deadline=None)
@given(labelings)
def test_ari_matches_brute_force(pair: tuple[list[Any], list[Any]]) -> None:
    true, pred = pair
    assert adjusted_rand_index(true, pred) == pytest.approx(brute_ari(true, pred), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(labelings)
def test_nmi_matches_brute_force(pair: tuple[list[Any], list[Any]]) -> None:
    true, pred = pair
    value = normalized_mutual_info(true, pred)
    assert value == pytest.approx(brute_nmi(true, pred), abs=1e-9)
    assert 0.0 <= value <= 1.0


@settings(max_examples=200, deadline=None)
@given(labelings)
def test_pairwise_matches_brute_force(pair: tuple[list[Any], list[Any]]) -> None:
    true, pred = pair
    assert pairwise_scores(true, pred) == pytest.approx(brute_pairwise(true, pred), abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(labelings)
def test_bcubed_matches_brute_force(pair: tuple[list[Any], list[Any]]) -> None:
    true, pred = pair
    assert bcubed_scores(true, pred) == pytest.approx(brute_bcubed(true, pred), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(labelings)
def test_scores_ignore_label_names(pair: tuple[list[Any], list[Any]]) -> None:
    true, pred = pair
    renamed = [("x", p) for p in pred]  # tuples are single labels
    assert adjusted_rand_index(true, renamed) == pytest.approx(adjusted_rand_index(true, pred))
    assert normalized_mutual_info(true, renamed) == pytest.approx(normalized_mutual_info(true, pred))
    assert adjusted_rand_index(true, pred) == pytest.approx(adjusted_rand_index(pred, true))
    assert adjusted_rand_index(true, true) == 1.0


def test_known_values() -> None:
    # values documented for scikit-learn's implementations
    assert adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == pytest.approx(1.0)
    assert adjusted_rand_index([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(0.5714285714)
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    assert adjusted_rand_index([0, 0, 0, 0], [0, 1, 2, 3]) == pytest.approx(0.0)
    assert normalized_mutual_info([0, 0, 1, 1], [1, 1, 0, 0]) == pytest.approx(1.0)
    assert normalized_mutual_info([0, 0, 0, 0], [0, 1, 2, 3]) == pytest.approx(0.0)
    assert pairwise_scores(["a", "a", "b"], [1, 1, 1]) == pytest.approx((1 / 3, 1.0, 0.5))
    p, r, _ = bcubed_scores(["a", "a", "b"], [1, 1, 1])
    assert (p, r) == pytest.approx((5 / 9, 1.0))


def test_inputs_accept_arrays_series_and_nan() -> None:
    true = pd.Series(["x", "x", None, None])
    pred = np.array([1, 1, 2, 2])
    assert adjusted_rand_index(true, pred) == pytest.approx(1.0)
    assert normalized_mutual_info(list(true), pd.Index(pred)) == pytest.approx(1.0)
    c = contingency(["a", "b", "a"], [5, 5, 5])
    assert c.n == 3 and sorted(c.cells.tolist()) == [1, 2]
    assert sorted(c.true_sizes.tolist()) == [1, 2] and c.pred_sizes.tolist() == [3]


def test_length_mismatch_raises() -> None:
    with pytest.raises(InputError, match="same length"):
        adjusted_rand_index([1, 2], [1])
    with pytest.raises(InputError, match="one-dimensional"):
        bcubed_scores(np.zeros((2, 2)), [1, 2])


def test_large_input_is_fast() -> None:
    # A million accounts in a second or two of CPU: the scores count pairs through contingency
    # tables, never pair by pair (which would take hours). CPU time, so other processes on the
    # machine do not make it fail; the bound is ~10x what it takes.
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    true = rng.integers(0, 50_000, n)
    pred = true // 2
    start = time.process_time()
    ari = adjusted_rand_index(true, pred)
    precision, recall, _ = pairwise_scores(true, pred)
    elapsed = time.process_time() - start
    assert ari > 0.4
    assert recall == pytest.approx(1.0) and precision == pytest.approx(0.5, abs=0.01)
    assert elapsed < 10.0, f"{elapsed:.1f} s of CPU for a million accounts"


# ---------------------------------------------------------------------------
# investigator figures
# ---------------------------------------------------------------------------


def _truth(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "entity", "role", "organisation"])


@pytest.fixture()
def small_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [(f"a{i}", "op-A/team-1", "operator", "op-A") for i in range(10)]
    rows += [(f"b{i}", "op-B/team-1", "operator", "op-B") for i in range(3)]
    rows += [("u0", "hh-0", "benign", ""), ("u1", "hh-0", "benign", "")]
    rows += [(f"u{i}", f"benign-u{i}", "benign", "") for i in range(2, 5)]
    truth = _truth(rows)
    assign: dict[str, str | int] = {f"a{i}": "c1" for i in range(10)}
    assign["u0"] = "c1"
    assign |= {"b0": 2, "b1": 2, "b2": 2, "u1": 2, "u2": "s2", "u3": "s3", "u4": "s4"}
    assignments = pd.DataFrame({"account_id": list(assign), "cluster_id": list(assign.values())})
    return truth, assignments.iloc[::-1].reset_index(drop=True)  # order must not matter


def test_evaluate_hand_case(small_case: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    truth, assignments = small_case
    r = evaluate(truth, assignments)
    assert r["sybil_recall"] == pytest.approx(10 / 13)  # op-B's cluster of 4 is too small
    assert r["benign_fp_rate"] == pytest.approx(2 / 5)  # u0 and u1 sit in sybil-dominated clusters
    assert r["clusters_for_90pct"] == 2  # 10 + 3 fake accounts; 90% of 13 needs both
    assert r["n_true_teams"] == 2
    assert r["operator_purity"] == pytest.approx(1.0)
    assert r["n_accounts"] == 18 and r["n_fake"] == 13 and r["n_benign"] == 5
    assert r["n_clusters"] == 5 and r["n_sybil_clusters"] == 1
    entity, cluster = truth["entity"].tolist(), [dict(zip(assignments.account_id, assignments.cluster_id))[a]
                                                 for a in truth.account_id]
    assert r["ari"] == pytest.approx(brute_ari(entity, cluster))
    assert r["nmi"] == pytest.approx(brute_nmi(entity, cluster))
    assert (r["pairwise_precision"], r["pairwise_recall"], r["pairwise_f1"]) == pytest.approx(
        brute_pairwise(entity, cluster))
    assert (r["bcubed_precision"], r["bcubed_recall"], r["bcubed_f1"]) == pytest.approx(
        brute_bcubed(entity, cluster))
    r3 = evaluate(truth, assignments, min_cluster_size=3)
    assert r3["sybil_recall"] == pytest.approx(1.0) and r3["n_sybil_clusters"] == 2


def test_evaluate_mixed_cluster_and_purity() -> None:
    rows = [(f"a{i}", "op-A/team-1", "operator", "op-A") for i in range(6)]
    rows += [(f"b{i}", "op-B/team-1", "operator", "op-B") for i in range(5)]
    rows += [(f"u{i}", f"benign-u{i}", "benign", "") for i in range(4)]
    truth = _truth(rows)
    clusters = ["m"] * 11 + ["n", "n", "n", "solo"]  # cluster n: 3 benign, no fake
    r = evaluate(truth, pd.DataFrame({"account_id": truth.account_id, "cluster_id": clusters}))
    assert r["sybil_recall"] == pytest.approx(6 / 11)  # op-A holds 6 of 11: a strict majority
    assert r["operator_purity"] == pytest.approx(6 / 11)
    assert r["benign_fp_rate"] == 0.0
    assert r["clusters_for_90pct"] == 1
    # 5 of 10 is not a strict majority
    clusters = ["m"] * 5 + ["x"] + ["m"] * 5 + ["n", "n", "n", "solo"]
    r = evaluate(truth, pd.DataFrame({"account_id": truth.account_id, "cluster_id": clusters}))
    assert r["sybil_recall"] == 0.0


def test_evaluate_benign_only_and_singletons() -> None:
    truth = _truth([(f"u{i}", f"benign-u{i}", "benign", "") for i in range(5)])
    assignments = pd.DataFrame({"account_id": truth.account_id, "cluster_id": [np.nan] * 5})
    r = evaluate(truth, assignments)
    assert math.isnan(r["sybil_recall"]) and math.isnan(r["operator_purity"])
    assert r["benign_fp_rate"] == 0.0 and r["clusters_for_90pct"] == 0 and r["n_true_teams"] == 0
    assert r["n_clusters"] == 5  # each NaN is a singleton of its own
    assert r["ari"] == 1.0 and r["bcubed_f1"] == 1.0


def test_evaluate_matches_int_and_str_ids() -> None:
    truth = _truth([("1", "op-A/team-1", "operator", "op-A"), ("2", "op-A/team-1", "operator", "op-A")])
    r = evaluate(truth, pd.DataFrame({"account_id": [2, 1], "cluster_id": [7, 7]}), min_cluster_size=2)
    assert r["sybil_recall"] == 1.0


def test_evaluate_errors(small_case: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    truth, assignments = small_case
    with pytest.raises(InputError, match=r"no assignment: 'u4'"):
        evaluate(truth, assignments[assignments.account_id != "u4"])
    extra = pd.concat([assignments, pd.DataFrame({"account_id": ["zz"], "cluster_id": [1]})])
    with pytest.raises(InputError, match=r"not in the truth: 'zz'"):
        evaluate(truth, extra)
    with pytest.raises(InputError, match="more than once"):
        evaluate(truth, pd.concat([assignments, assignments.iloc[:1]]))
    with pytest.raises(InputError, match="cluster_id"):
        evaluate(truth, assignments.rename(columns={"cluster_id": "cluster"}))
    with pytest.raises(InputError, match="role"):
        evaluate(truth.assign(role="fake"), assignments)
    with pytest.raises(ParameterError, match="min_cluster_size"):
        evaluate(truth, assignments, min_cluster_size=0)


def test_evaluate_on_synthetic_truth() -> None:
    from sybilgraph.synth import generate

    data = generate(scale=0.02, seed=5)
    truth = data.truth
    perfect = pd.DataFrame({"account_id": truth.account_id, "cluster_id": truth.entity})
    r = evaluate(truth, perfect)
    assert r["ari"] == pytest.approx(1.0) and r["bcubed_f1"] == pytest.approx(1.0)
    assert r["benign_fp_rate"] == 0.0 and r["operator_purity"] == 1.0
    assert r["n_true_teams"] == 10
    # every fake account of a team of >= 10 accounts is found
    team_size = truth.groupby("entity")["account_id"].transform("size")
    fake = truth.role == "operator"
    assert r["sybil_recall"] == pytest.approx(float((team_size[fake] >= 10).mean()))


# ---------------------------------------------------------------------------
# format_table
# ---------------------------------------------------------------------------


def test_format_table() -> None:
    text = format_table([
        {"scenario": "distillation", "ari": 0.91234, "n": 1200},
        {"scenario": "benign", "ari": float("nan"), "extra": "x"},
    ])
    lines = text.split("\n")
    assert lines[0].split() == ["scenario", "ari", "n", "extra"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["distillation", "0.9123", "1200"]
    assert lines[3].split() == ["benign", "nan", "x"]
    assert len(lines[0]) == len(lines[1])  # fixed width (trailing blanks trimmed)
    assert lines[2].index("0.9123") + len("0.9123") == lines[0].index(" ari") + len(" ari")  # numbers right-aligned
    assert format_table([]) == ""
    assert format_table([{"a": 1}], columns=["b", "a"]).split("\n")[0].split() == ["b", "a"]
    assert format_table([{"v": 1.5}], float_format="{:.1f}").split("\n")[2].strip() == "1.5"


@pytest.mark.parametrize("sep", ["|", "\x00"])
def test_evaluate_tells_apart_strings_that_differ_after_a_nul(sep: str) -> None:
    # pandas before 3.1 hashes object strings as C strings: "a0" and "a0\x00x" were one account
    # (a "duplicate"), one entity and one cluster to its factorize.
    rows = [(f"a{i}", "op-A/team-1", "operator", "op-A") for i in range(4)]
    rows += [(f"a{i}{sep}x", f"op-A/team-1{sep}x", "operator", "op-A") for i in range(4)]
    truth = _truth(rows)
    clusters = ["c"] * 4 + [f"c{sep}x"] * 4
    r = evaluate(truth, pd.DataFrame({"account_id": truth.account_id, "cluster_id": clusters}), min_cluster_size=2)
    assert r["n_accounts"] == 8 and r["n_clusters"] == 2 and r["n_true_teams"] == 2
    assert r["ari"] == 1.0 and r["sybil_recall"] == 1.0
