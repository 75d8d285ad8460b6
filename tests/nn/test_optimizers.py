"""The course-2 optimizers against their oracles: hand-computed Adam steps and the notebook's
literal random_mini_batches. The loop that runs them: tests/engines/test_minibatch.py."""

import math

import numpy as np
import pytest
from course_oracles import course_random_mini_batches
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.nn.optimizers import (
    adam_in_place,
    initialize_adam,
    mini_batch_indices,
    minibatch_steps,
    random_mini_batches,
    update_parameters_with_adam,
    update_parameters_with_gd,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


# ---- mini-batches ----------------------------------------------------------------------------


def assert_same_batches(X, Y, size, seed):
    expected = course_random_mini_batches(X, Y, size, seed)
    indices = mini_batch_indices(X.shape[1], size, seed)
    assert len(indices) == len(expected) == math.ceil(X.shape[1] / size)
    for idx, (batch_X, batch_Y) in zip(indices, expected, strict=True):
        np.testing.assert_array_equal(X[:, idx], batch_X)
        np.testing.assert_array_equal(Y[:, idx], batch_Y)
    for (got_X, got_Y), (batch_X, batch_Y) in zip(random_mini_batches(X, Y, size, seed),
                                                  expected, strict=True):
        np.testing.assert_array_equal(got_X, batch_X)
        np.testing.assert_array_equal(got_Y, batch_Y)


@pytest.mark.parametrize("m, size, sizes", [
    (148, 64, [64, 64, 20]),  # the notebook's own example: the last batch is smaller
    (128, 64, [64, 64]),  # m a multiple of the size: no empty or short batch
    (5, 64, [5]),  # a size above m: one batch of m
    (7, 1, [1] * 7),
])
def test_mini_batch_indices_are_the_course_batches(m, size, sizes):
    X = np.asfortranarray(np.arange(3 * m, dtype=float).reshape(3, m))
    Y = (np.arange(m) % 2).reshape(1, m).astype(float)
    assert [len(idx) for idx in mini_batch_indices(m, size, seed=0)] == sizes
    assert_same_batches(X, Y, size, seed=0)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 300), size=st.integers(1, 80), seed=st.integers(0, 2**32 - 1))
def test_mini_batch_indices_are_the_course_batches_for_any_size(m, size, seed):
    X = np.random.default_rng(seed).normal(size=(2, m))
    Y = np.random.default_rng(seed + 1).integers(0, 2, size=(1, m)).astype(float)
    assert_same_batches(X, Y, size, seed)
    assert np.sort(np.concatenate(mini_batch_indices(m, size, seed))).tolist() == list(range(m))


def test_the_draw_is_the_courses_global_seed_draw():
    state = np.random.get_state()
    try:
        np.random.seed(10)
        expected = np.random.permutation(148)
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(np.concatenate(mini_batch_indices(148, 64, 10)), expected)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 300), size=st.integers(1, 400), epochs=st.integers(1, 5))
def test_minibatch_steps_counts_the_batches_drawn(m, size, epochs):
    assert minibatch_steps(m, size, epochs) == epochs * len(mini_batch_indices(m, size, 0))


def test_minibatch_steps_refuses_an_empty_batch():
    with pytest.raises(ValueError, match="mini_batch_size must be at least 1, got 0"):
        minibatch_steps(10, 0, 3)


# ---- the updates -----------------------------------------------------------------------------


def test_first_adam_step_by_hand():
    parameters = {"W1": np.array([[0.5]]), "b1": np.array([[-0.2]])}
    grads = {"dW1": np.array([[0.1]]), "db1": np.array([[-0.3]])}
    v, s = initialize_adam(parameters)
    p, v, s, v_hat, s_hat = update_parameters_with_adam(parameters, grads, v, s, t=1,
                                                        learning_rate=0.01)
    # v = 0.1 g, s = 0.001 g^2; at t = 1 the corrections divide by 0.1 and 0.001 exactly
    assert v["dW1"][0, 0] == pytest.approx(0.01) and v["db1"][0, 0] == pytest.approx(-0.03)
    assert s["dW1"][0, 0] == pytest.approx(1e-5) and s["db1"][0, 0] == pytest.approx(9e-5)
    assert v_hat["dW1"][0, 0] == pytest.approx(0.1, rel=1e-14)
    assert v_hat["db1"][0, 0] == pytest.approx(-0.3, rel=1e-14)
    assert s_hat["dW1"][0, 0] == pytest.approx(0.01, rel=1e-12)
    assert s_hat["db1"][0, 0] == pytest.approx(0.09, rel=1e-12)
    # step = lr * g / (|g| + eps): about lr whatever the gradient's size
    assert p["W1"][0, 0] == pytest.approx(0.5 - 0.01 * 0.1 / (0.1 + 1e-8), rel=1e-14)
    assert p["b1"][0, 0] == pytest.approx(-0.2 + 0.01 * 0.3 / (0.3 + 1e-8), rel=1e-14)
    assert p["W1"][0, 0] == pytest.approx(0.490000001, rel=1e-12)
    assert p["b1"][0, 0] == pytest.approx(-0.1900000003333, rel=1e-12)
    # the inputs are left as they were
    assert parameters["W1"][0, 0] == 0.5 and grads["dW1"][0, 0] == 0.1

    # a second step, t = 2, with gradients 0.2 and 0.1:
    # v = 0.9 (0.01, -0.03) + 0.1 (0.2, 0.1) = (0.029, -0.017)
    # s = 0.999 (1e-5, 9e-5) + 0.001 (0.04, 0.01) = (4.999e-5, 9.991e-5)
    # corrections 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999
    grads = {"dW1": np.array([[0.2]]), "db1": np.array([[0.1]])}
    p2, v, s, v_hat, s_hat = update_parameters_with_adam(p, grads, v, s, t=2, learning_rate=0.01)
    np.testing.assert_allclose([v["dW1"][0, 0], v["db1"][0, 0]], [0.029, -0.017], rtol=1e-13)
    np.testing.assert_allclose([s["dW1"][0, 0], s["db1"][0, 0]], [4.999e-5, 9.991e-5],
                               rtol=1e-13)
    np.testing.assert_allclose([v_hat["dW1"][0, 0], v_hat["db1"][0, 0]],
                               [0.029 / 0.19, -0.017 / 0.19], rtol=1e-13)
    np.testing.assert_allclose([s_hat["dW1"][0, 0], s_hat["db1"][0, 0]],
                               [4.999e-5 / 0.001999, 9.991e-5 / 0.001999], rtol=1e-12)
    step_W = 0.01 * (0.029 / 0.19) / (math.sqrt(4.999e-5 / 0.001999) + 1e-8)  # 0.0096518...
    step_b = 0.01 * (-0.017 / 0.19) / (math.sqrt(9.991e-5 / 0.001999) + 1e-8)  # -0.0040021...
    assert p2["W1"][0, 0] == pytest.approx(0.490000001 - step_W, rel=1e-12)
    assert p2["b1"][0, 0] == pytest.approx(-0.1900000003333 - step_b, rel=1e-12)
    assert step_W == pytest.approx(0.0096518196, rel=1e-8)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 12),
       lr=st.floats(1e-4, 0.5), beta1=st.floats(0, 0.99), beta2=st.floats(0, 0.9999))
def test_adam_steps_equal_the_literal_loop(seed, steps, lr, beta1, beta2):
    rng = np.random.default_rng(seed)
    parameters = {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=(3, 1)),
                  "W2": rng.normal(size=(1, 3)), "b2": rng.normal(size=(1, 1))}
    all_grads = [{"d" + k: rng.normal(size=p.shape) for k, p in parameters.items()}
                 for _ in range(steps)]
    v, s = initialize_adam(parameters)
    got = parameters
    for t, grads in enumerate(all_grads, start=1):
        got, v, s, _, _ = update_parameters_with_adam(got, grads, v, s, t, lr, beta1=beta1,
                                                      beta2=beta2)
    for key, p in parameters.items():
        # the textbook loop, one scalar at a time
        for i in np.ndindex(p.shape):
            theta, m1, m2 = float(p[i]), 0.0, 0.0
            for t, grads in enumerate(all_grads, start=1):
                g = float(grads["d" + key][i])
                m1 = beta1 * m1 + (1 - beta1) * g
                m2 = beta2 * m2 + (1 - beta2) * g * g
                theta -= lr * (m1 / (1 - beta1**t)) / (math.sqrt(m2 / (1 - beta2**t)) + 1e-8)
            assert got[key][i] == pytest.approx(theta, rel=1e-12, abs=1e-14)


def test_gd_update():
    parameters = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([[3.0]])}
    grads = {"dW1": np.array([[0.5, -1.0]]), "db1": np.array([[2.0]])}
    p = update_parameters_with_gd(parameters, grads, 0.1)
    np.testing.assert_allclose(p["W1"], [[0.95, 2.1]])
    np.testing.assert_allclose(p["b1"], [[2.8]])
    assert parameters["W1"][0, 0] == 1.0


@pytest.mark.parametrize("learning_rate", [0.01, np.array([[0.01], [0.003], [0.1]])])
def test_adam_in_place_is_the_courses_step_bit_for_bit(learning_rate):
    """The training loop's Adam writes into its arrays what the course's function returns:
    the same operations in the same order, step after step (t counts from 1)."""
    rng = np.random.default_rng(3)
    parameters = {"W1": rng.standard_normal((3, 7)), "b1": rng.standard_normal((3, 1))}
    course = {key: p.copy() for key, p in parameters.items()}
    v, s = initialize_adam(parameters)
    course_v, course_s = initialize_adam(parameters)
    for t in range(1, 6):
        grads = {"dW1": rng.standard_normal((3, 7)), "db1": rng.standard_normal((3, 1))}
        course, course_v, course_s, _, _ = update_parameters_with_adam(
            course, grads, course_v, course_s, t, learning_rate, beta1=0.8, epsilon=1e-7)
        adam_in_place(parameters, grads, v, s, t, learning_rate=learning_rate, beta1=0.8,
                      epsilon=1e-7)
        for mine, theirs in ((parameters, course), (v, course_v), (s, course_s)):
            for key, value in theirs.items():
                np.testing.assert_array_equal(mine[key], value, err_msg=f"{key} at t = {t}")
