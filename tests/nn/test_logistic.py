"""The lesson's math against its oracles: finite differences, the textbook formula, the course."""

import subprocess
import sys

import numpy as np
import pytest
from helpers import LOG_2, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.nn.logistic import (
    accuracy,
    initialize_with_zeros,
    log_loss,
    model,
    optimize,
    predict,
    predict_from_scores,
    predict_proba,
    propagate,
    propagate_loops,
    sigmoid,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def test_sigmoid_values_for_scalars_and_arrays():
    assert sigmoid(0) == 0.5
    assert np.ndim(sigmoid(2.0)) == 0
    np.testing.assert_allclose(sigmoid(np.array([0.0, 2.0])), [0.5, 0.88079708], rtol=1e-8)
    z = np.linspace(-30, 30, 61).reshape(1, -1)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15)


def test_sigmoid_saturates_without_overflow_warning():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert sigmoid(-1000.0) == 0.0 and sigmoid(1000.0) == 1.0


def test_initialize_with_zeros():
    w, b = initialize_with_zeros(5)
    assert w.shape == (5, 1) and w.dtype == np.float64 and not w.any()
    assert type(b) is float and b == 0.0


# Past |z| ~ 15 the textbook's log(1 - A) loses digits to rounding in A; log_loss does not.
@given(st.lists(st.floats(-15, 15), min_size=1, max_size=20), st.integers(0, 2**32 - 1))
def test_log_loss_equals_the_textbook_formula(zs, seed):
    Z = np.array(zs).reshape(1, -1)
    Y = np.random.default_rng(seed).integers(0, 2, size=Z.shape)
    A = 1 / (1 + np.exp(-Z))
    textbook = -(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    np.testing.assert_allclose(log_loss(Z, Y), textbook, rtol=1e-9, atol=1e-15)


def test_propagate_on_the_course_example():
    w, b = np.array([[1.0], [2.0]]), 2.0
    X, Y = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]]), np.array([[1, 0, 1]])
    grads, cost = propagate(w, b, X, Y)
    np.testing.assert_allclose(grads["dw"], [[0.99845601], [2.39507239]], rtol=1e-7)
    assert grads["db"] == pytest.approx(0.00145557813678)
    assert cost == pytest.approx(5.801545319394553)
    assert grads["dw"].shape == (2, 1) and type(grads["db"]) is float and type(cost) is float


@pytest.mark.parametrize("n_x, m", [(1, 1), (4, 7), (20, 3)])
def test_propagate_gradients_match_finite_differences(n_x, m):
    rng = np.random.default_rng(n_x * 100 + m)
    X = rng.normal(size=(n_x, m))
    Y = rng.integers(0, 2, size=(1, m)).astype(float)
    w, b = rng.normal(size=(n_x, 1)), float(rng.normal())
    grads, _ = propagate(w, b, X, Y)
    eps = 1e-6
    numeric = []
    for i in range(n_x + 1):  # each w_i, then b
        shift = np.zeros(n_x + 1)
        shift[i] = eps

        def cost_at(s):
            return propagate(w + s[:n_x, None], b + s[n_x], X, Y)[1]

        numeric.append((cost_at(shift) - cost_at(-shift)) / (2 * eps))
    analytic = np.append(grads["dw"].ravel(), grads["db"])
    numeric = np.array(numeric)
    rel = np.linalg.norm(numeric - analytic) / (np.linalg.norm(numeric) + np.linalg.norm(analytic))
    assert rel < 1e-7


def test_optimize_leaves_the_callers_w_untouched_and_records_every_100():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(3, 8)), rng.integers(0, 2, size=(1, 8))
    w = np.zeros((3, 1))
    params, grads, costs = optimize(w, 0.0, X, Y, num_iterations=250, learning_rate=0.1)
    assert not w.any()
    assert params["w"].shape == (3, 1) and params["w"].any()
    assert grads["dw"].shape == (3, 1) and len(costs) == 3


def test_cost_decreases():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(5, 40)), rng.integers(0, 2, size=(1, 40))
    _, _, costs = optimize(np.zeros((5, 1)), 0.0, X, Y, num_iterations=1000, learning_rate=0.05)
    assert all(later < earlier for earlier, later in zip(costs[:-1], costs[1:], strict=True))


def test_cost_stays_finite_at_learning_rate_100(features):
    X, Y = features["X_train"], features["Y_train"]
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        _, _, costs = optimize(np.zeros((X.shape[0], 1)), 0.0, X, Y, num_iterations=201,
                               learning_rate=100)
    assert np.isfinite(costs).all() and min(costs) >= 0


def test_predict_is_strictly_above_one_half():
    w, X = np.zeros((2, 1)), np.ones((2, 3))
    assert predict_proba(w, 0.0, X).tolist() == [[0.5, 0.5, 0.5]]
    assert predict(w, 0.0, X).tolist() == [[0.0, 0.0, 0.0]]
    assert predict(w, 1e-3, X).tolist() == [[1.0, 1.0, 1.0]]


def test_predictions_from_scores_are_predicts_a_score_of_zero_is_not_a_cat():
    # columns scored exactly 0 (A = 0.5), just above and below it, and far either side
    w, b = np.array([[1.0], [-1.0]]), 0.0
    X = np.array([[0.0, 2.0, 1e-3, -1e-3, 30.0], [0.0, 2.0, 0.0, 0.0, -5.0]])
    Z = w.T @ X + b
    assert Z.tolist() == [[0.0, 0.0, 1e-3, -1e-3, 35.0]]
    assert predict_from_scores(Z).tolist() == [[0.0, 0.0, 1.0, 0.0, 1.0]]
    np.testing.assert_array_equal(predict_from_scores(Z), predict(w, b, X))


def test_accuracy_is_the_courses_formula():
    assert accuracy(np.array([[1.0, 0.0, 1.0, 1.0]]), np.array([[1, 0, 0, 1]])) == 75.0


def test_model_reproduces_the_course(features):
    f = features
    d = model(f["X_train"], f["Y_train"], f["X_test"], f["Y_test"], num_iterations=2000,
              learning_rate=0.005)
    assert d["costs"][0] == LOG_2
    assert len(d["costs"]) == 20
    assert d["costs"][-1] == pytest.approx(0.140872, abs=5e-7)
    # Exact on any CPU: an accuracy is a count of predictions over m, and the scores that make
    # them lie at least 0.05 from the threshold (train; 0.07 test), while kernels that sum in
    # another order move them by about 1e-14.
    assert accuracy(d["Y_prediction_train"], f["Y_train"]) == 99.04306220095694
    assert accuracy(d["Y_prediction_test"], f["Y_test"]) == 70.0
    assert d["w"].shape == (12288, 1) and d["learning_rate"] == 0.005


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_propagate_shapes_for_any_size(n_x, m, seed):
    rng = np.random.default_rng(seed)
    grads, cost = propagate(rng.normal(size=(n_x, 1)), 0.5, rng.normal(size=(n_x, m)),
                            rng.integers(0, 2, size=(1, m)))
    assert grads["dw"].shape == (n_x, 1) and np.isfinite(cost)


@pytest.mark.parametrize("n_x, m", [(1, 1), (3, 5), (7, 2)])
def test_propagate_equals_the_lessons_loop_over_examples_and_features(n_x, m):
    rng = np.random.default_rng(n_x + 10 * m)
    w, b = rng.normal(size=(n_x, 1)), float(rng.normal())
    X, Y = rng.normal(size=(n_x, m)), rng.integers(0, 2, size=(1, m))
    (grads, cost), (loop_grads, loop_cost) = propagate(w, b, X, Y), propagate_loops(w, b, X, Y)
    np.testing.assert_allclose(grads["dw"], loop_grads["dw"], rtol=1e-12)
    assert grads["db"] == pytest.approx(loop_grads["db"], rel=1e-12, abs=1e-15)
    assert cost == pytest.approx(loop_cost, rel=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda X, Y: propagate(np.zeros((3, 1)), 0.0, X, Y),
     r"w has shape \(3, 1\), expected \(4, 1\) for X of shape \(4, 5\)"),
    (lambda X, Y: propagate(np.zeros((4, 1)), 0.0, X, Y[:, :3]),
     r"Y has shape \(1, 3\), expected \(1, 5\) for X of shape \(4, 5\)"),
    (lambda X, Y: predict_proba(np.zeros((1, 4)), 0.0, X),
     r"w has shape \(1, 4\), expected \(4, 1\) for X of shape \(4, 5\)"),
    (lambda X, Y: predict(np.zeros((5, 1)), 0.0, X),
     r"w has shape \(5, 1\), expected \(4, 1\)"),
    (lambda X, Y: optimize(np.zeros((3, 1)), 0.0, X, Y, 1),
     r"w has shape \(3, 1\), expected \(4, 1\)"),
    (lambda X, Y: accuracy(Y.T, Y),
     r"Y_prediction has shape \(5, 1\), expected \(1, 5\) for Y of shape \(1, 5\)"),
    (lambda X, Y: model(X, Y, X[:3], Y, 1),
     r"w has shape \(4, 1\), expected \(3, 1\) for X of shape \(3, 5\)"),
])
def test_wrong_shapes_are_a_value_error_naming_both(call, message):
    X, Y = np.ones((4, 5)), np.ones((1, 5))
    with pytest.raises(ValueError, match=message):
        call(X, Y)


def test_python_dash_o_still_refuses_a_wrong_shape():
    """An assert would vanish under -O, and a flat w (3,) with l2 would broadcast its decay
    into a (3, 3) dw without a word."""
    code = ("import numpy as np\n"
            "from pipeline.nn.logistic import propagate\n"
            "try:\n"
            "    propagate(np.zeros((3, 1)), 0.0, np.ones((3, 5)), np.ones((1, 5)))\n"
            "    propagate(np.zeros(3), 0.0, np.ones((3, 5)), np.ones((1, 5)), 0.1)\n"
            "except ValueError as error:\n"
            "    print(error)\n")
    done = subprocess.run([sys.executable, "-O", "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "w has shape (3,), expected (3, 1) for X of shape (3, 5)"
