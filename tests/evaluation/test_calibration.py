"""evaluation/calibration.py against oracles: a grid's minimum, hand-computed errors and scores,
and the cases no calibration can be fitted on."""

import numpy as np
import pytest

from pipeline.evaluation import calibration as cal
from pipeline.nn.logistic import sigmoid

pytestmark = pytest.mark.portable


def noisy_logits(seed=0, m=300):
    rng = np.random.default_rng(seed)
    y = (rng.random(m) < 0.35).astype(float)
    z = 6 * (y - 0.5) + rng.normal(0, 5, m)  # overconfident: the best T is above 1
    return z, y


def test_the_temperature_is_the_minimum_a_fine_grid_finds():
    z, y = noisy_logits()
    T = cal.fit_temperature(z, y)
    grid = np.linspace(0.5, 10, 95_001)  # steps of 1e-4
    losses = [cal.mean_log_loss(z, y, 1 / t) for t in grid]
    assert T == pytest.approx(grid[int(np.argmin(losses))], abs=2e-4)
    assert cal.mean_log_loss(z, y, 1 / T) <= min(losses) + 1e-12
    assert T > 1


def test_the_log_loss_after_is_at_most_the_loss_before_on_the_data_it_was_fit_on():
    for seed in range(5):
        z, y = noisy_logits(seed, m=50)
        T = cal.fit_temperature(z, y)
        assert cal.mean_log_loss(z, y, 1 / T) <= cal.mean_log_loss(z, y)
        a, b = cal.fit_platt(z, y)
        assert cal.mean_log_loss(z, y, a, b) <= cal.mean_log_loss(z, y, 1 / T) + 1e-12


def test_platt_is_newtons_minimum_where_the_gradient_vanishes():
    z, y = noisy_logits(3)
    a, b = cal.fit_platt(z, y)
    r = sigmoid(a * z + b) - y
    assert abs(np.mean(r * z)) < 1e-9 and abs(np.mean(r)) < 1e-9


def test_a_temperature_never_changes_the_answer_at_one_half():
    z, y = noisy_logits(1)
    z = np.concatenate([z, [0.0, 1e-300, -1e-300, 700.0, -700.0]])
    y = np.concatenate([y, [0, 1, 0, 1, 0]])
    T = cal.fit_temperature(z, y)
    for t in (T, 0.01, 1.0, 1e6):
        assert np.array_equal(sigmoid(z / t) > 0.5, sigmoid(z) > 0.5)


@pytest.mark.parametrize(("z", "y", "why"), [
    ([1.0, np.nan, 2.0], [0, 1, 1], "not finite"),
    ([1.0, np.inf, 2.0], [0, 1, 1], "not finite"),
    ([1.0, 2.0, 3.0], [1, 1, 1], "only one class"),
    ([2.0, 2.0, 2.0], [0, 1, 1], "every out-of-fold logit is the same"),
    ([3.0, 1.0, -2.0], [0, 0, 1], "do not lean towards the right class"),
    ([-3.0, -1.0, 2.0], [0, 0, 1], "separate the classes perfectly"),
])
def test_logits_that_cannot_be_fitted_say_why(z, y, why):
    with pytest.raises(cal.CannotCalibrate, match=why):
        cal.fit_temperature(z, y)


def test_the_calibration_error_by_hand():
    # bins: 0.05 and 0.15 alone; 0.62 and 0.68 together (mean 0.65, one positive of two)
    p = [0.05, 0.15, 0.62, 0.68]
    y = [0, 1, 1, 0]
    by_hand = (1 * 0.05 + 1 * 0.85 + 2 * abs(0.65 - 0.5)) / 4
    assert cal.expected_calibration_error(p, y) == pytest.approx(by_hand)
    assert cal.expected_calibration_error([1.0, 0.0], [1, 0]) == 0  # p = 1 in the last bin
    rows = np.array([p, [0.5, 0.5, 0.5, 0.5]])
    assert cal.expected_calibration_error(rows, y) == pytest.approx([by_hand, 0.0])


def test_brier_log_loss_and_the_bootstrap_interval_by_hand():
    z = np.array([0.0, 2.0, -1.0, 3.0])
    y = np.array([1, 0, 0, 1])
    p = sigmoid(z)
    f = cal.figures(z, y, seed=3)
    assert f[3] == pytest.approx(np.mean((p - y) ** 2))
    assert f[4] == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    assert f[1] <= f[0] <= f[2] or f[1] <= f[2]  # an interval, from resampled images
    assert np.array_equal(f, cal.figures(z, y, seed=3))  # seeded
    halved = cal.figures(z, y, 0.5, seed=3)
    assert halved[4] == pytest.approx(cal.mean_log_loss(z / 2, y))


def test_the_bands_count_answers_by_their_confidence():
    p = np.array([0.55, 0.45, 0.61, 0.95, 0.05, 1.0, 0.5])
    y = np.array([1, 1, 0, 1, 0, 0, 0])
    assert cal.bands_of(p).tolist() == [0, 0, 1, 4, 4, 4, 0]
    table = cal.band_table(p, y)
    assert table.tolist() == [[3, 2], [1, 0], [0, 0], [0, 0], [3, 2]]


def test_the_sentence_follows_the_band():
    table = np.array([[100, 60], [50, 45], [3, 3], [0, 0], [0, 0]])
    sentences = cal.band_sentences(table, ["non-cat", "cat"], positives=70, m=200)
    assert sentences[0].startswith("The model cannot tell: out of fold, answers this sure "
                                   "(50%-60%) were right 60% of the time (60 of 100), against "
                                   "65% for always answering non-cat.")
    assert sentences[1].startswith("The model can tell: ")
    assert "only 3 of the training images" in sentences[2]
    assert all(s.endswith("Calibration never changes the answer.") for s in sentences)
