"""The honest-evaluation numbers against their definitions, on cases worked by hand."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.evaluation.stats import (
    binomial_upper_tail,
    calibration_curve,
    classification_stats,
    clopper_pearson,
    cohen_kappa,
    not_significant_sentence,
    roc_auc,
    roc_curve,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


@pytest.mark.parametrize("n", [1, 2, 10, 50, 209])
def test_clopper_pearson_at_the_ends_has_a_closed_form(n):
    # k = n: P(X >= n | p) = p^n = alpha/2; k = 0: P(X <= 0 | p) = (1-p)^n = alpha/2
    assert clopper_pearson(n, n) == pytest.approx((0.025 ** (1 / n), 1.0), abs=1e-12)
    assert clopper_pearson(0, n) == pytest.approx((0.0, 1 - 0.025 ** (1 / n)), abs=1e-12)


def test_clopper_pearson_one_of_two_and_the_course_test_set():
    # 1 of 2: 1 - (1 - p)^2 = 0.025 gives p = 1 - sqrt(0.975); the upper end mirrors it
    low, high = clopper_pearson(1, 2)
    assert low == pytest.approx(1 - math.sqrt(0.975), abs=1e-12)
    assert high == pytest.approx(math.sqrt(0.975), abs=1e-12)
    # 35 of 50, as R's binom.test(35, 50) prints it: 0.5539177 0.8213822
    assert clopper_pearson(35, 50) == pytest.approx((0.5539177, 0.8213822), abs=5e-8)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), data=st.data())
def test_clopper_pearson_bounds_are_where_the_tails_equal_alpha_over_two(n, data):
    k = data.draw(st.integers(0, n))
    low, high = clopper_pearson(k, n)
    assert 0 <= low <= k / n <= high <= 1
    if k > 0:
        assert binomial_upper_tail(k, n, low) == pytest.approx(0.025, abs=1e-9)
    if k < n:
        tail = sum(math.comb(n, i) * high**i * (1 - high) ** (n - i) for i in range(k + 1))
        assert tail == pytest.approx(0.025, abs=1e-9)


def test_binomial_tail_by_hand_and_for_the_course():
    assert binomial_upper_tail(2, 3, 0.5) == pytest.approx(0.5)  # (3 + 1) / 8
    assert binomial_upper_tail(3, 3, 0.1) == pytest.approx(0.001)
    assert binomial_upper_tail(0, 5, 0.3) == 1.0
    # R: binom.test(35, 50, p = 0.66, alternative = "greater")$p.value = 0.3320631
    assert binomial_upper_tail(35, 50, 0.66) == pytest.approx(0.3320631, abs=1e-7)
    exact = sum(math.comb(50, i) * 0.66**i * 0.34 ** (50 - i) for i in range(35, 51))
    assert binomial_upper_tail(35, 50, 0.66) == pytest.approx(exact, rel=1e-12)


def test_kappa_by_hand():
    # agreement 4/5; chance 3/5 * 2/5 + 2/5 * 3/5 = 0.48; (0.8 - 0.48) / 0.52 = 8/13
    assert cohen_kappa(np.array([1, 1, 0, 0, 1]), np.array([1, 0, 0, 0, 1])) == \
        pytest.approx(8 / 13)
    assert cohen_kappa(np.array([1, 0, 1]), np.array([1, 0, 1])) == 1.0
    assert cohen_kappa(np.array([1, 1]), np.array([1, 1])) is None  # chance agreement is total


def test_auc_by_hand_with_a_tie():
    # pairs (positive, negative): 0.5~0.5 half, 0.5>0.2, 0.9>0.5, 0.9>0.2 -> 3.5 / 4
    assert roc_auc(np.array([[0.5, 0.5, 0.2, 0.9]]), np.array([[1, 0, 0, 1]])) == 0.875
    assert roc_auc(np.array([[1.0, 2.0]]), np.array([[1, 1]])) is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=30))
def test_auc_is_the_share_of_ordered_pairs_and_the_area_under_the_curve(pairs):
    scores = np.array([s for s, _ in pairs], dtype=float)
    y = np.array([label for _, label in pairs])
    if y.all() or not y.any():
        return
    wins = [1.0 if p > n else 0.5 if p == n else 0.0
            for p, n in itertools.product(scores[y], scores[~y])]
    assert roc_auc(scores, y) == pytest.approx(np.mean(wins))
    fpr, tpr = roc_curve(scores, y)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2) == pytest.approx(np.mean(wins))


def test_calibration_bins_by_hand():
    p = np.array([0.05, 0.15, 0.12, 0.95, 1.0, 0.55])
    y = np.array([0, 1, 0, 1, 1, 0])
    mean_p, share, counts = calibration_curve(p, y, n_bins=2)  # [0, .5) and [.5, 1]
    np.testing.assert_allclose(mean_p, [(0.05 + 0.15 + 0.12) / 3, (0.95 + 1.0 + 0.55) / 3])
    np.testing.assert_allclose(share, [1 / 3, 2 / 3])
    assert counts.tolist() == [3, 3]


def test_classification_stats_by_hand():
    # scores -> predictions 1 1 0 0 1 0 against labels 1 0 0 1 1 0: tp 2, fp 1, fn 1, tn 2
    Z = np.array([[2.0, 1.0, -1.0, -3.0, 0.5, -0.2]])
    Y = np.array([[1, 0, 0, 1, 1, 0]])
    s = classification_stats(Z, Y)
    assert (s["n"], s["correct"], s["majority_label"]) == (6, 4, 0)  # a tie goes to label 0
    assert s["no_information_rate"] == 50.0
    assert s["precision"] == s["recall"] == s["f1"] == pytest.approx(2 / 3)
    assert s["p_value_vs_nir"] == pytest.approx((15 + 6 + 1) / 64)  # P(X >= 4 | 6, 1/2)
    assert s["kappa"] == pytest.approx(1 / 3)  # (4/6 - 1/2) / (1 - 1/2)
    assert s["accuracy_ci95"] == pytest.approx([100 * v for v in clopper_pearson(4, 6)])
    expected_loss = np.mean([math.log1p(math.exp(-z)) if y else math.log1p(math.exp(z))
                             for z, y in zip(Z[0], Y[0], strict=True)])
    assert s["log_loss"] == pytest.approx(expected_loss)


def test_a_score_of_exactly_zero_is_a_non_cat_prediction():
    # p(cat) = 0.5 is not above the threshold: the course predicts 0 there, and so do the stats
    s = classification_stats(np.array([[0.0, 0.0, 3.0]]), np.array([[0, 1, 1]]))
    assert (s["correct"], s["precision"], s["recall"]) == (2, 1.0, 0.5)


def test_undefined_scores_are_none_not_nan():
    s = classification_stats(np.array([[-1.0, -2.0]]), np.array([[0, 0]]))
    assert s["precision"] is None and s["recall"] is None and s["f1"] is None
    assert s["roc_auc"] is None and s["kappa"] is None
    assert s["no_information_rate"] == 100.0 and s["p_value_vs_nir"] == 1.0


def test_the_sentence_appears_only_when_the_accuracy_is_not_significant():
    classes = ["non-cat", "cat"]
    course_test = {"p_value_vs_nir": 0.332, "majority_label": 1, "no_information_rate": 66.0,
                   "n": 50}
    sentence = not_significant_sentence(course_test, classes, "test")
    assert "not significantly above the majority guess (always cat: 66.0 %" in sentence
    assert "0.33" in sentence
    assert not_significant_sentence({**course_test, "p_value_vs_nir": 1e-9}, classes, "test") \
        is None


def test_scores_and_labels_of_different_shapes_are_refused_even_under_python_O():
    with pytest.raises(ValueError, match=r"\(1, 3\) scores for \(1, 2\) labels"):
        classification_stats(np.zeros((1, 3)), np.zeros((1, 2)))
