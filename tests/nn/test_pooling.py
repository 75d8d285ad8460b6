"""The pooling loops (pipeline/nn/pooling.py) against the published expected outputs of
"Convolutional Model: Step by Step" (course 4, week 1), on the assignment's own inputs.

The version: the assignment's older notebook ("Convolution model - Step by Step - v2"), the same
as tests/nn/test_convolution.py: inputs drawn after np.random.seed(1), values read from its
"Expected Output" tables (pool_forward on A_prev (2, 4, 4, 3) with f 3, stride 2; the mask of
a (2, 3) draw; distribute_value(2, (2, 2)); pool_backward with f 2, stride 1 on A_prev
(5, 5, 3, 2) and dA (5, 4, 2, 2), dA_prev[1, 1] in both modes). Printed to 8 decimals.
"""

import numpy as np
import pytest

from pipeline.nn.pooling import (
    create_mask_from_window,
    distribute_value,
    pool_backward,
    pool_forward,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

PRINTED = 5e-9  # half a unit in the 8th decimal of the notebook's printed arrays


def test_pool_forward_gives_the_published_values_in_both_modes():
    np.random.seed(1)
    A_prev = np.random.randn(2, 4, 4, 3)
    hparameters = {"stride": 2, "f": 3}
    A, cache = pool_forward(A_prev, hparameters)
    assert A.shape == (2, 1, 1, 3) and cache[0] is A_prev and cache[1] == hparameters
    np.testing.assert_allclose(A[:, 0, 0], [[1.74481176, 0.86540763, 1.13376944],
                                            [1.13162939, 1.51981682, 2.18557541]],
                               rtol=0, atol=PRINTED)
    A, _ = pool_forward(A_prev, hparameters, mode="average")
    np.testing.assert_allclose(A[:, 0, 0], [[0.02105773, -0.20328806, -0.40389855],
                                            [-0.22154621, 0.51716526, 0.48155844]],
                               rtol=0, atol=PRINTED)


def test_create_mask_from_window_gives_the_published_mask():
    np.random.seed(1)
    x = np.random.randn(2, 3)
    np.testing.assert_allclose(x, [[1.62434536, -0.61175641, -0.52817175],
                                   [-1.07296862, 0.86540763, -2.3015387]], rtol=0, atol=PRINTED)
    np.testing.assert_array_equal(create_mask_from_window(x),
                                  [[True, False, False], [False, False, False]])


def test_create_mask_from_window_marks_every_tied_maximum():
    np.testing.assert_array_equal(create_mask_from_window(np.array([[1.0, 3.0], [3.0, 2.0]])),
                                  [[False, True], [True, False]])


def test_distribute_value_gives_the_published_matrix():
    np.testing.assert_array_equal(distribute_value(2, (2, 2)), [[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(distribute_value(3.0, (1, 3)), [[1.0, 1.0, 1.0]])


def assignment_pool_backward_inputs():
    np.random.seed(1)
    A_prev = np.random.randn(5, 5, 3, 2)
    hparameters = {"stride": 1, "f": 2}
    A, cache = pool_forward(A_prev, hparameters)
    dA = np.random.randn(5, 4, 2, 2)
    return A_prev, dA, cache


@pytest.mark.parametrize("mode, expected", [
    ("max", [[0.0, 0.0], [5.05844394, -1.68282702], [0.0, 0.0]]),
    ("average", [[0.08485462, 0.2787552], [1.26461098, -0.25749373], [1.17975636, -0.53624893]]),
])
def test_pool_backward_gives_the_published_values(mode, expected):
    A_prev, dA, cache = assignment_pool_backward_inputs()
    assert np.mean(dA) == pytest.approx(0.145713902729, abs=5e-13)
    dA_prev = pool_backward(dA, cache, mode=mode)
    assert dA_prev.shape == A_prev.shape
    np.testing.assert_allclose(dA_prev[1, 1], expected, rtol=0, atol=PRINTED)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("shape, f, stride", [((2, 5, 4, 2), 2, 1), ((1, 7, 6, 3), 3, 2),
                                              ((2, 4, 4, 1), 2, 3), ((1, 3, 3, 2), 3, 1)])
def test_pool_backward_is_the_derivative_of_a_linear_cost(mode, shape, f, stride):
    """J = sum(A * G): two-sided differences of J in each entry of A_prev (no ties in random
    floats, so the max is smooth there)."""
    rng = np.random.default_rng(f + 10 * stride + len(mode))
    A_prev, hparameters = rng.normal(size=shape), {"f": f, "stride": stride}
    A, cache = pool_forward(A_prev, hparameters, mode)
    G = rng.normal(size=A.shape)
    dA_prev = pool_backward(G, cache, mode)
    epsilon, approx = 1e-6, np.zeros(shape)
    for index in np.ndindex(shape):
        costs = []
        for sign in (1, -1):
            moved = A_prev.copy()
            moved[index] += sign * epsilon
            costs.append(np.sum(pool_forward(moved, hparameters, mode)[0] * G))
        approx[index] = (costs[0] - costs[1]) / (2 * epsilon)
    np.testing.assert_allclose(dA_prev, approx, rtol=1e-7, atol=1e-8)


def test_average_pool_forward_is_the_direct_mean_and_max_the_direct_max():
    A_prev = np.arange(2 * 4 * 6 * 3, dtype=float).reshape(2, 4, 6, 3) % 7
    windows = A_prev.reshape(2, 2, 2, 3, 2, 3)  # (m, n_H, f, n_W, f, n_C): f 2 = stride 2
    np.testing.assert_array_equal(pool_forward(A_prev, {"f": 2, "stride": 2})[0],
                                  windows.max(axis=(2, 4)))
    np.testing.assert_allclose(pool_forward(A_prev, {"f": 2, "stride": 2}, "average")[0],
                               windows.mean(axis=(2, 4)), rtol=1e-15)


@pytest.mark.parametrize("shape, hparameters, mode, message", [
    ((1, 4, 4, 3), {"f": 5, "stride": 1}, "max",
     r"a pooling window of 5x5 does not fit in images of 4x4"),
    ((1, 4, 3, 3), {"f": 4, "stride": 4}, "max", r"does not fit in images of 4x3"),
    ((1, 4, 4, 3), {"f": 2, "stride": 0}, "max", r'hparameters\["stride"\] must be a whole'),
    ((1, 4, 4, 3), {"f": 0, "stride": 1}, "max", r'hparameters\["f"\] must be .* got 0'),
    ((1, 4, 4, 3), {"stride": 1}, "max", r'hparameters needs "f"'),
    ((1, 4, 4, 3), {"f": 2, "stride": 2}, "min", r'mode must be "max" or "average", got .min.'),
    ((4, 4, 3), {"f": 2, "stride": 2}, "max", r"A_prev must have 4 dimensions"),
])
def test_pool_forward_refuses_bad_input_in_one_sentence(shape, hparameters, mode, message):
    with pytest.raises(ValueError, match=message) as error:
        pool_forward(np.zeros(shape), hparameters, mode)
    assert "\n" not in str(error.value)


def test_pool_backward_refuses_a_da_of_another_shape():
    _, dA, cache = assignment_pool_backward_inputs()
    with pytest.raises(ValueError, match=r"dA must have the shape of A, \(5, 4, 2, 2\)"):
        pool_backward(dA[:, :, :1], cache)
