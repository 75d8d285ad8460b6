"""The course-2 optimizers against their oracles: hand-computed Adam steps, the notebook's literal
random_mini_batches and Adam loop, and full-batch gradient descent (model.optimize)."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.columns import PixelColumns, take
from pipeline.engines.fit import diverged
from pipeline.nn import logistic as model
from pipeline.nn.logistic import log_loss, sigmoid
from pipeline.nn.optimizers import (
    initialize_adam,
    mini_batch_indices,
    optimize_minibatch,
    random_mini_batches,
    update_parameters_with_adam,
    update_parameters_with_gd,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

# ---- two small models in the optimizers' calling convention --------------------------------


def logistic_propagate(parameters, X, Y, l2):
    """Logistic regression as a one-layer network: W1 (1, n_x) = w.T, b1 (1, 1)."""
    W1, b1 = parameters["W1"], parameters["b1"]
    m = X.shape[1]
    # forward
    Z1 = W1 @ X + b1  # (1, m)
    cost = float(np.mean(log_loss(Z1, Y))) + l2 / (2 * m) * float(np.sum(W1 * W1))
    # backward
    dZ1 = sigmoid(Z1) - Y  # (1, m)
    grads = {"dW1": dZ1 @ X.T / m + l2 / m * W1, "db1": np.sum(dZ1, axis=1, keepdims=True) / m}
    return cost, grads, Z1


def two_layer_propagate(parameters, X, Y, l2):
    """LINEAR -> RELU -> LINEAR -> SIGMOID, the course's week-4 shape, written out."""
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    m = X.shape[1]
    # forward
    Z1 = W1 @ X + b1  # (n_h, m)
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2  # (1, m)
    cost = float(np.mean(log_loss(Z2, Y))) + l2 / (2 * m) * (np.sum(W1**2) + np.sum(W2**2))
    # backward
    dZ2 = sigmoid(Z2) - Y  # (1, m)
    dA1 = W2.T @ dZ2  # (n_h, m)
    dZ1 = dA1 * (Z1 > 0)
    grads = {"dW2": dZ2 @ A1.T / m + l2 / m * W2, "db2": np.sum(dZ2, axis=1, keepdims=True) / m,
             "dW1": dZ1 @ X.T / m + l2 / m * W1, "db1": np.sum(dZ1, axis=1, keepdims=True) / m}
    return float(cost), grads, Z2


def two_layer_parameters(n_x, n_h=4, seed=1):
    rng = np.random.RandomState(seed)
    return {"W1": rng.randn(n_h, n_x) * 0.5, "b1": np.zeros((n_h, 1)),
            "W2": rng.randn(1, n_h) * 0.5, "b2": np.zeros((1, 1))}


def pixel_data(m, px, seed=0):
    """PixelColumns over random uint8 rows (m, px*px*3), the same columns as a float64 array
    (x / 255), and labels that a plane through the pixels' mean separates."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, size=(m, px * px * 3), dtype=np.uint8)
    X = rows.T / 255  # (n_x, m)
    Y = (X.sum(axis=0, keepdims=True) > X.sum(axis=0).mean()).astype(float)
    return PixelColumns(rows, (px, px, 3)), X, Y


def separable(m=60, n_x=3, seed=0):
    """Two clusters either side of a plane through the origin, labels 0/1."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((1, m)) < 0.5).astype(float)
    X = rng.normal(size=(n_x, m)) * 0.5 + (2 * Y - 1) * 1.5  # (n_x, m)
    return np.asfortranarray(X), Y


@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_logistic_propagate_is_model_propagate(l2):
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(5, 9)), rng.integers(0, 2, size=(1, 9)).astype(float)
    w, b = rng.normal(size=(5, 1)), 0.3
    grads, cost = model.propagate(w, b, X, Y, l2)
    cost1, grads1, Z1 = logistic_propagate({"W1": w.T, "b1": np.array([[b]])}, X, Y, l2)
    assert cost1 == pytest.approx(cost, rel=1e-14)
    np.testing.assert_allclose(grads1["dW1"], grads["dw"].T, rtol=1e-13)
    assert grads1["db1"][0, 0] == pytest.approx(grads["db"], rel=1e-13)
    np.testing.assert_allclose(Z1, w.T @ X + b)


def test_two_layer_propagate_has_the_finite_difference_gradients():
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(3, 7)), rng.integers(0, 2, size=(1, 7)).astype(float)
    parameters = two_layer_parameters(3)
    _, grads, _ = two_layer_propagate(parameters, X, Y, 0.3)
    h = 1e-6
    for key, p in parameters.items():
        for i in np.ndindex(p.shape):
            plus = {k: v.copy() for k, v in parameters.items()}
            minus = {k: v.copy() for k, v in parameters.items()}
            plus[key][i] += h
            minus[key][i] -= h
            numeric = (two_layer_propagate(plus, X, Y, 0.3)[0]
                       - two_layer_propagate(minus, X, Y, 0.3)[0]) / (2 * h)
            assert grads["d" + key][i] == pytest.approx(numeric, abs=1e-7)


# ---- mini-batches ----------------------------------------------------------------------------


def course_random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """The notebook's random_mini_batches, line for line (its global seed made local)."""
    m = X.shape[1]
    mini_batches = []
    permutation = list(np.random.RandomState(seed).permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation].reshape((1, m))
    num_complete_minibatches = math.floor(m / mini_batch_size)
    for k in range(0, num_complete_minibatches):
        mini_batch_X = shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size]
        mini_batch_Y = shuffled_Y[:, k * mini_batch_size:(k + 1) * mini_batch_size]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    if m % mini_batch_size != 0:
        mini_batch_X = shuffled_X[:, num_complete_minibatches * mini_batch_size:]
        mini_batch_Y = shuffled_Y[:, num_complete_minibatches * mini_batch_size:]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    return mini_batches


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


# ---- the training loop -----------------------------------------------------------------------


def logistic_zeros(n_x):
    return {"W1": np.zeros((1, n_x)), "b1": np.zeros((1, 1))}


def assert_is_full_batch_gd(X, Y, lr, epochs, l2):
    run = optimize_minibatch(logistic_zeros(X.shape[0]), logistic_propagate, X, Y,
                             optimizer="minibatch", learning_rate=lr,
                             mini_batch_size=X.shape[1] + 5, num_epochs=epochs, l2=l2)
    assert run["steps"] == epochs and run["mini_batch_size"] == X.shape[1]
    assert run["epochs"].tolist() == list(range(epochs + 1))
    costs = []
    for k in range(epochs + 1):  # the cost after k steps = model.optimize's cost before step k
        w, b = np.zeros((X.shape[0], 1)), 0.0
        if k:
            params, _, _ = model.optimize(w, b, X, Y, k, lr, l2=l2)
            w, b = params["w"], params["b"]
        costs.append(model.propagate(w, b, X, Y, l2)[1])
    scale = max(np.abs(w).max(), 1e-300)
    assert np.abs(run["parameters"]["W1"].T - w).max() <= 1e-10 * scale
    assert run["parameters"]["b1"][0, 0] == pytest.approx(b, rel=1e-10, abs=1e-13)
    np.testing.assert_allclose(run["costs"], costs, rtol=1e-10)
    assert run["train_accuracies"][-1] == model.accuracy(model.predict(w, b, X), Y)


@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_one_batch_of_m_is_full_batch_gradient_descent(l2):
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(4, 23)), rng.integers(0, 2, size=(1, 23)).astype(float)
    assert_is_full_batch_gd(np.asfortranarray(X / 3), Y, 0.3, 12, l2)


def test_one_batch_of_m_is_full_batch_gradient_descent_on_the_real_data(features):
    assert_is_full_batch_gd(features["X_train"], features["Y_train"], 0.005, 6, 0.0)


@pytest.mark.parametrize("optimizer, lr", [("minibatch", 0.1), ("adam", 0.01)])
@pytest.mark.parametrize("which", ["logistic", "two-layer"])
def test_cost_decreases_on_a_separable_problem(optimizer, lr, which):
    X, Y = separable()
    X_test, Y_test = separable(seed=1)
    parameters, propagate = ((logistic_zeros(3), logistic_propagate) if which == "logistic"
                             else (two_layer_parameters(3), two_layer_propagate))
    run = optimize_minibatch(parameters, propagate, X, Y, optimizer=optimizer, learning_rate=lr,
                             mini_batch_size=16, num_epochs=30, X_test=X_test, Y_test=Y_test)
    assert run["steps"] == 30 * 4
    assert run["costs"].shape == run["train_accuracies"].shape == run["test_accuracies"].shape
    assert run["costs"].shape == (31,)
    assert run["costs"][-1] < 0.5 * run["costs"][0]
    assert run["train_accuracies"][-1] == 100.0 and run["test_accuracies"][-1] >= 95.0
    # the initial checkpoint is the initial parameters' cost on the whole set
    assert run["costs"][0] == pytest.approx(propagate(parameters, X, Y, 0.0)[0], rel=1e-14)
    if which == "logistic":  # zeros: A = 0.5 everywhere, which predicts 0 (A > 0.5 strictly)
        assert run["train_accuracies"][0] == pytest.approx(100 * (1 - Y.mean()))


def test_pixels_in_blocks_train_as_the_float_array_in_one_piece(monkeypatch):
    """uint8 rows gathered per batch and scored 7 columns at a time give the float64 array's run;
    `forward` replaces propagate's ZL."""
    import pipeline.columns as columns

    pixels, X, Y = pixel_data(m=30, px=2)
    options = {"optimizer": "adam", "learning_rate": 0.01, "mini_batch_size": 8, "num_epochs": 3,
               "l2": 0.5}
    whole = optimize_minibatch(two_layer_parameters(12), two_layer_propagate, X, Y, **options)
    monkeypatch.setattr(columns, "BLOCK_BYTES", 7 * 8 * 12)
    blocks = optimize_minibatch(two_layer_parameters(12), two_layer_propagate, pixels, Y,
                                **options,
                                forward=lambda p, X, idx: two_layer_propagate(
                                    p, take(X, idx), np.zeros((1, len(idx))), 0)[2])
    np.testing.assert_allclose(blocks["costs"], whole["costs"], rtol=1e-12)
    for key, value in whole["parameters"].items():
        np.testing.assert_allclose(blocks["parameters"][key], value, rtol=1e-12, atol=1e-15)
    assert "test_accuracies" not in whole
    end = whole["parameters"]
    assert whole["costs"][-1] == pytest.approx(two_layer_propagate(end, X, Y, 0.5)[0], rel=1e-14)


@pytest.mark.parametrize("optimizer", ["minibatch", "adam"])
def test_the_loop_is_the_course_model_loop(optimizer):
    """The notebook's model(): seed += 1 per epoch, its batches, t += 1 before each Adam step."""
    X, Y = separable(m=45)
    parameters = two_layer_parameters(3)
    lr, size, epochs, seed = 0.02, 8, 4, 10
    run = optimize_minibatch(parameters, two_layer_propagate, X, Y, optimizer=optimizer,
                             learning_rate=lr, mini_batch_size=size, num_epochs=epochs, seed=seed,
                             l2=0.3)
    v, s = initialize_adam(parameters)
    t = 0
    for _ in range(epochs):
        seed = seed + 1
        for minibatch_X, minibatch_Y in course_random_mini_batches(X, Y, size, seed):
            _, grads, _ = two_layer_propagate(parameters, minibatch_X, minibatch_Y, 0.3)
            if optimizer == "adam":
                t = t + 1
                parameters, v, s, _, _ = update_parameters_with_adam(parameters, grads, v, s, t,
                                                                     lr)
            else:
                parameters = update_parameters_with_gd(parameters, grads, lr)
    assert run["steps"] == epochs * 6
    for key, p in parameters.items():
        np.testing.assert_allclose(run["parameters"][key], p, rtol=1e-13, atol=1e-15)


def test_each_epoch_reshuffles_with_seed_plus_one():
    """Epoch e draws with seed + e: the course's `seed = seed + 1` at the top of each epoch."""
    X, Y = separable(m=20)
    seen = []

    def recording_propagate(parameters, X_batch, Y_batch, l2):
        seen.append(X_batch.copy())
        return logistic_propagate(parameters, X_batch, Y_batch, l2)

    optimize_minibatch(logistic_zeros(3), recording_propagate, X, Y, optimizer="adam",
                       learning_rate=0.01, mini_batch_size=8, num_epochs=2, seed=10,
                       forward=lambda p, X, idx: p["W1"] @ X[:, idx] + p["b1"])
    expected = [X[:, idx] for seed in (11, 12) for idx in mini_batch_indices(20, 8, seed)]
    assert len(seen) == len(expected) == 6
    for got, want in zip(seen, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_the_callers_parameters_are_left_alone():
    X, Y = separable(m=10)
    parameters = two_layer_parameters(3)
    before = {k: v.copy() for k, v in parameters.items()}
    optimize_minibatch(parameters, two_layer_propagate, X, Y, optimizer="adam", learning_rate=0.1,
                       num_epochs=2)
    for key, p in parameters.items():
        np.testing.assert_array_equal(p, before[key])


@pytest.mark.parametrize("optimizer", ["minibatch", "adam"])
def test_a_huge_rate_returns_a_run_that_the_divergence_check_refuses(optimizer):
    # Which floats go non-finite first depends on the CPU's kernels (inf weights, or finite
    # weights with NaN costs when the ReLUs die): the requirement is no exception, no warning,
    # and a run that train refuses.
    X, Y = separable(m=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning escapes either
        run = optimize_minibatch(two_layer_parameters(3), two_layer_propagate, X, Y,
                                 optimizer=optimizer, learning_rate=1e300, mini_batch_size=8,
                                 num_epochs=5)
    assert diverged(run["parameters"], run["costs"])
    sane = optimize_minibatch(two_layer_parameters(3), two_layer_propagate, X, Y,
                              optimizer=optimizer, learning_rate=0.01, mini_batch_size=8,
                              num_epochs=5)
    assert not diverged(sane["parameters"], sane["costs"])


@pytest.mark.parametrize("weights, costs, expected", [
    ({"W1": np.ones((1, 3))}, [0.69, 0.2], False),
    ({"W1": np.ones((1, 3))}, [0.69, 3.0], False),  # worse, not diverged: the curve shows it
    ({"W1": np.array([[1.0, np.inf]])}, [0.69, 0.2], True),
    ({"W1": np.array([[1.0, np.nan]])}, [0.69, 0.2], True),
    ({"W1": np.ones((1, 3))}, [0.69, np.nan], True),  # finite weights, scores overflowed
    ({"W1": np.ones((1, 3))}, [0.69, np.inf], True),
    ({"W1": np.full((1, 3), 1e299)}, [0.69, 1.6e307], True),  # finite, a millionfold and more
    ({"W1": np.ones((1, 3))}, [0.69, 0.99e6], False),
])
def test_diverged_is_any_non_finite_value_or_a_cost_grown_a_millionfold(weights, costs,
                                                                          expected):
    assert diverged(weights, np.array(costs)) is expected


def test_progress_counts_every_batch():
    X, Y = separable(m=50)
    done = []
    run = optimize_minibatch(logistic_zeros(3), logistic_propagate, X, Y, optimizer="minibatch",
                             learning_rate=0.1, mini_batch_size=3, num_epochs=37,
                             on_progress=done.append)
    assert run["steps"] == 37 * 17 and sum(done) == run["steps"]
    assert 50 <= len(done) <= 55 and len(set(done[:-1])) == 1  # every 2 % or so, then the rest


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "momentum"}, "unknown optimizer 'momentum'"),
    ({"mini_batch_size": 0}, "mini_batch_size must be at least 1"),
    ({"num_epochs": 0}, "num_epochs must be at least 1"),
    ({"beta1": 1.0}, "beta1 must be in"),
    ({"beta1": -0.1}, "beta1 must be in"),
    ({"beta2": 1.0}, "beta2 must be in"),
    ({"beta2": float("nan")}, "beta2 must be in"),
    ({"epsilon": 0.0}, "epsilon must be positive"),
    ({"epsilon": float("nan")}, "epsilon must be positive"),
])
def test_bad_hyperparameters_are_refused(kwargs, message):
    X, Y = separable(m=10)
    args = {"optimizer": "adam", **kwargs}
    with pytest.raises(ValueError, match=message):
        optimize_minibatch(logistic_zeros(3), logistic_propagate, X, Y,
                           learning_rate=0.01, **args)
