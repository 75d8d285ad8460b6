"""The week-4 networks (nn/network.py): gradients by finite differences, the course's
initializations, and the textbook two-layer model's published numbers. The batched engines
against this textbook loop: engines/test_network.py, engines/test_masked_network.py."""


import numpy as np
import pytest
from network_problems import TWO_LAYER_COSTS, counts_right, random_problem

from pipeline.nn.logistic import log_loss, sigmoid
from pipeline.nn.network import (
    L_model_backward,
    L_model_forward,
    compute_cost,
    initialize_parameters,
    initialize_parameters_deep,
    input_gradient,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


# ---- the course's functions ----

def test_compute_cost_is_the_log_loss_where_finite():
    rng = np.random.default_rng(0)
    Z, Y = rng.normal(scale=5, size=(1, 50)), rng.integers(0, 2, size=(1, 50))
    assert compute_cost(sigmoid(Z), Y) == pytest.approx(np.mean(log_loss(Z, Y)), rel=1e-12)
    # Where AL rounds to 1, the textbook cost is inf or NaN; the training loops' stays finite.
    Z, Y = np.array([[40.0, -3.0]]), np.array([[0, 1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        assert not np.isfinite(compute_cost(sigmoid(Z), Y))
    assert np.isfinite(np.mean(log_loss(Z, Y)))


def test_the_initializations_draw_as_the_notebook():
    np.random.seed(1)
    W1, W2 = np.random.randn(4, 6) * 0.01, np.random.randn(1, 4) * 0.01
    parameters = initialize_parameters(6, 4, 1)
    assert np.array_equal(parameters["W1"], W1) and np.array_equal(parameters["W2"], W2)
    assert not parameters["b1"].any() and parameters["b2"].shape == (1, 1)
    np.random.seed(1)
    deep = initialize_parameters_deep([6, 4, 3, 1])
    for n, (rows, cols) in enumerate([(4, 6), (3, 4), (1, 3)], start=1):
        assert np.array_equal(deep[f"W{n}"], np.random.randn(rows, cols) / np.sqrt(cols))
        assert deep[f"b{n}"].shape == (rows, 1) and not deep[f"b{n}"].any()


def numerical_gradient(cost, parameters, key, eps=1e-6):
    grad = np.zeros_like(parameters[key])
    for index in np.ndindex(grad.shape):
        value = parameters[key][index]
        parameters[key][index] = value + eps
        plus = cost()
        parameters[key][index] = value - eps
        minus = cost()
        parameters[key][index] = value
        grad[index] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("layer_dims", [[3, 1], [4, 3, 1], [5, 4, 3, 1], [2, 6, 6, 2, 1]])
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_backward_matches_finite_differences(layer_dims, lambd):
    X, Y, parameters = random_problem(layer_dims, 7, seed=len(layer_dims))
    X *= 3  # away from the regime where every unit is near zero
    parameters = {key: value + 0.1 for key, value in parameters.items()}  # nonzero b too

    def cost():
        return compute_cost(L_model_forward(X, parameters)[0], Y, parameters, lambd)

    AL, caches = L_model_forward(X, parameters)
    grads = L_model_backward(AL, Y, caches, lambd)
    assert grads["dA0"].shape == X.shape
    for key in parameters:
        np.testing.assert_allclose(grads["d" + key], numerical_gradient(cost, parameters, key),
                                   rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("layer_dims", [[3, 1], [4, 5, 1], [6, 4, 3, 1]])
def test_input_gradient_matches_finite_differences(layer_dims):
    X, _, parameters = random_problem(layer_dims, 5, seed=3)
    parameters = {key: value + 0.05 for key, value in parameters.items()}

    def zL(X):
        return L_model_forward(X, parameters)[1][-1][1]  # (1, m)

    want, eps = np.zeros_like(X), 1e-6
    for j in range(X.shape[0]):
        step = np.zeros_like(X)
        step[j] = eps  # every column moves by eps in feature j; columns do not interact
        want[j] = ((zL(X + step) - zL(X - step)) / (2 * eps))[0]
    np.testing.assert_allclose(input_gradient(parameters, X), want, rtol=1e-6, atol=1e-9)


def test_input_gradient_of_one_layer_is_w_in_every_column():
    X, _, parameters = random_problem([5, 1], 4, seed=9)
    gradient = input_gradient(parameters, X)
    assert np.array_equal(gradient, np.broadcast_to(parameters["W1"].T, (5, 4)))


# ---- the notebook's numbers on the course data ----

def test_the_textbook_two_layer_model_gives_the_published_numbers(features, two_layer_runs):
    (parameters, costs), _ = two_layer_runs
    assert len(costs) == 25
    for i, cost in TWO_LAYER_COSTS.items():
        assert costs[i // 100] == pytest.approx(cost, abs=1e-9)
    assert counts_right(features["X_train"], features["Y_train"], parameters) == 209
    assert counts_right(features["X_test"], features["Y_test"], parameters) == 36

