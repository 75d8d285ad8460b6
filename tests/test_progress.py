"""progress.py: one progress tick for every loop: a bar fills exactly, about fifty updates
whatever the total."""

import numpy as np
import pytest

from pipeline.engines.logistic import gradient_descent
from pipeline.progress import ticker

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def heard_after_each_step(total, parts=50):
    """[(step i, count heard right after tick(i))], the calls in the order they came."""
    heard, calls = [], []
    tick = ticker(total, heard.append, parts)
    for i in range(total):
        tick(i)
        calls.extend((i, count) for count in heard[len(calls):])
    return calls


@pytest.mark.parametrize("total, parts, expected", [
    (10, 3, [(2, 3), (5, 3), (8, 3), (9, 1)]),  # every 3 steps, then the 1 left
    (9, 3, [(2, 3), (5, 3), (8, 3)]),  # the last step ends a part: no empty call
    (7, 50, [(i, 1) for i in range(7)]),  # fewer steps than parts: every step
    (1, 50, [(0, 1)]),
    (120, 50, [(i, 2) for i in range(1, 120, 2)]),  # 120 // 50 = 2
    (1234, 50, [(i, 24) for i in range(23, 1224, 24)] + [(1233, 10)]),  # 51 x 24, then 10
])
def test_the_counts_by_hand(total, parts, expected):
    assert heard_after_each_step(total, parts) == expected


@pytest.mark.parametrize("total", [1, 2, 49, 50, 51, 99, 100, 101, 1234, 100_000])
def test_the_counts_sum_to_the_total_in_about_fifty_calls_the_last_after_the_last_step(total):
    calls = heard_after_each_step(total)
    steps, counts = zip(*calls, strict=True)
    every = max(1, total // 50)
    # a call after each step that ends a run of `every` steps, and after the last one; each
    # says how many steps were done since the previous call
    ends = sorted({i for i in range(total) if (i + 1) % every == 0} | {total - 1})
    assert list(steps) == ends
    assert list(counts) == np.diff([0] + [i + 1 for i in ends]).tolist()
    assert sum(counts) == total and steps[-1] == total - 1
    assert min(total, 50) <= len(calls) <= 100


def test_without_a_callback_the_run_is_the_same():
    rng = np.random.default_rng(1)
    X, Y = rng.random((4, 30)), (np.arange(30) % 2).reshape(1, 30).astype(float)
    heard = []
    quiet = gradient_descent(X, Y, [0.1], 150, X, Y, engine="primal", on_progress=None)
    told = gradient_descent(X, Y, [0.1], 150, X, Y, engine="primal", on_progress=heard.append)
    assert heard == [1] * 150  # a bar's update after each step
    for key in ("w", "b", "costs", "train_accuracies", "iterations"):
        np.testing.assert_array_equal(quiet[key], told[key])
    tick = ticker(10, None)
    assert all(tick(i) is None for i in range(10))  # and any i is fine: it does nothing
