"""One progress tick for every loop: a bar fills exactly, about fifty updates whatever the total."""

import numpy as np
import pytest

from pipeline.cv.gram import cross_validate
from pipeline.progress import ticker

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


@pytest.mark.parametrize("total", [1, 7, 50, 99, 1234, 100_000])
def test_the_ticks_add_up_to_the_total_in_about_fifty_calls(total):
    heard = []
    tick = ticker(total, heard.append)
    for i in range(total):
        tick(i)
    assert sum(heard) == total
    assert min(total, 50) <= len(heard) <= 100  # every total // 50 steps: 50 to 99 calls
    assert len(set(heard[:-1])) <= 1  # equal steps, then what is left


def test_no_callback_no_work():
    tick = ticker(10, None)
    assert [tick(i) for i in range(10)] == [None] * 10


def test_cross_validation_reports_every_iteration_not_a_rounded_share():
    rng = np.random.default_rng(0)
    X = rng.random((6, 20))
    Y = (np.arange(20) % 2).reshape(1, 20).astype(float)
    features = {"X_train": X, "Y_train": Y, "image_shape": np.array([1, 2, 3])}
    heard = []
    cross_validate(features, folds=2, repeats=1, seed=0, learning_rates=[0.1],
                   num_iterations=1234, l2s=[0.0], augments=["none"], on_progress=heard.append)
    assert sum(heard) == 1234  # it stopped at 1225 when the remainder was dropped
