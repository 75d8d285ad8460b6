"""cv/summary.py: the choice among candidates, ties included."""

import numpy as np
import pytest

from pipeline.cv.summary import GridPoint, best_candidate, fold_statistics

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def test_ties_go_to_fewer_iterations_then_the_smaller_rate():
    grid = [GridPoint("none", 0.0, 1.0, 0.01), GridPoint("none", 0.0, 1.0, 0.001)]
    mean = np.array([[60.0, 70.0, 70.0], [65.0, 70.0, 69.0]])
    assert best_candidate(mean, grid, [100, 200, 300], ["none"]) == (1, 1)
    mean[0, 0] = np.nan  # a diverged candidate is never chosen
    assert best_candidate(mean, grid, [100, 200, 300], ["none"]) == (1, 1)


def test_a_tie_that_only_the_summation_order_breaks_is_still_a_tie():
    # Five folds of 7 validation images: 3, 4, 5, 6 and 2 right at 100 iterations, the same
    # counts on other folds at 200. Both means are 100 * 20 / 35 exactly; summed in another
    # order they differ in the last bit, which must not buy the longer run.
    right = {100: [3, 4, 5, 6, 2], 200: [3, 5, 4, 6, 2]}
    val_accuracy = np.array([[100 * right[100][f] / 7, 100 * right[200][f] / 7]
                             for f in range(5)])[:, None, :]  # (folds, 1 grid point, 2)
    result = {"val_accuracy": val_accuracy, "val_log_loss": np.zeros_like(val_accuracy)}
    mean = fold_statistics(result)[0]
    assert mean[0, 0] != mean[0, 1] and mean[0, 0] == pytest.approx(100 * 20 / 35, abs=1e-12)
    grid = [GridPoint("none", 0.0, 1.0, 0.005)]
    assert best_candidate(mean, grid, [100, 200], ["none"]) == (0, 0)
    assert best_candidate(mean[:, ::-1], grid, [100, 200], ["none"]) == (0, 0)
