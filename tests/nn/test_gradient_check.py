"""gradient_check_n against the Gradient Checking assignment's published differences, and on the
project's networks: below 2e-7 where backprop is right (two-layer and L-layer, with and without
L2, with dropout under fixed masks), above it where a gradient is deliberately wrong.

Published numbers: the assignment's gradient_check_n test (Gradient_Checking.ipynb and its
public_tests.py, expected_values = [0.2850931567761623, 1.1890913024229996e-07]; the inputs are
its testCases.py's gradient_check_n_test_case).
"""

import numpy as np
import pytest
from course_oracles import random_network

from pipeline.nn.dropout import backward_propagation_with_dropout, forward_propagation_with_dropout
from pipeline.nn.gradient_check import (
    THRESHOLD,
    dictionary_to_vector,
    gradient_check_n,
    gradients_to_vector,
    vector_to_dictionary,
)
from pipeline.nn.network import L_model_backward, L_model_forward

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

BUGGY = 0.2850931567761623  # the assignment's backward pass with its two planted mistakes
FIXED = 1.1890913024229996e-07  # the same, corrected


def assignment_problem():
    """np.random.seed(1), then randn: X (4, 3), W1 (5, 4), b1 (5, 1), W2 (3, 5), b2 (3, 1),
    W3 (1, 3), b3 (1, 1); Y = [1, 1, 0] (a flat array, as the assignment gives it)."""
    rng = np.random.RandomState(1)
    X = rng.randn(4, 3)
    shapes = {"W1": (5, 4), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}
    return X, np.array([1, 1, 0]), {key: rng.randn(*shape) for key, shape in shapes.items()}


def backprop(X, Y, parameters, lambd=0.0):
    AL, caches = L_model_forward(X, parameters)
    return L_model_backward(AL, np.reshape(Y, (1, -1)), caches, lambd)


def planted_mistakes(gradients):
    """The assignment's backward_propagation_n as handed out: dW2 twice and db1 four times over."""
    return {**gradients, "dW2": 2 * gradients["dW2"], "db1": 4 * gradients["db1"]}


def assignment_cost(X, Y):
    """J as the assignment's forward_propagation_n sums it: 1/m * sum(-log(A3) Y - log(1-A3)(1-Y)),
    A3 = 1 / (1 + exp(-Z3)) after two ReLU layers."""
    def J(parameters):
        A = X
        for layer in (1, 2):
            A = np.maximum(0, parameters[f"W{layer}"] @ A + parameters[f"b{layer}"])
        A3 = 1 / (1 + np.exp(-(parameters["W3"] @ A + parameters["b3"])))
        return 1.0 / X.shape[1] * np.sum(-np.log(A3) * Y - np.log(1 - A3) * (1 - Y))
    return J


def test_the_planted_mistakes_give_the_published_difference():
    X, Y, parameters = assignment_problem()
    difference = gradient_check_n(parameters, planted_mistakes(backprop(X, Y, parameters)), X, Y,
                                  1e-7, False)
    assert isinstance(difference, float)
    assert difference == pytest.approx(BUGGY, rel=1e-9)
    assert difference > THRESHOLD


def test_the_corrected_gradients_pass_near_the_published_difference():
    X, Y, parameters = assignment_problem()
    difference = gradient_check_n(parameters, backprop(X, Y, parameters), X, Y)
    # ~1.2e-7 is rounding in J (divided by 2 epsilon), not a gradient error: the project's
    # compute_cost sums the same cost in another order, so the digits move at the 3rd figure.
    assert difference == pytest.approx(FIXED, rel=3e-3)
    assert difference < THRESHOLD


def test_with_the_assignments_cost_both_published_differences_come_back():
    X, Y, parameters = assignment_problem()
    J = assignment_cost(X, Y)
    gradients = backprop(X, Y, parameters)
    assert gradient_check_n(parameters, planted_mistakes(gradients), X, Y,
                            cost=J) == pytest.approx(BUGGY, rel=1e-14)
    # the rest, ~2e-10 relative, is the gradients' own rounding: L_model_backward takes the
    # sigmoid layer's step as dA * s * (1 - s), the assignment as A3 - Y
    assert gradient_check_n(parameters, gradients, X, Y, cost=J) == pytest.approx(FIXED, rel=1e-8)


def test_print_msg_prints_the_assignments_verdict(capsys):
    X, Y, parameters = assignment_problem()
    gradients = backprop(X, Y, parameters)
    gradient_check_n(parameters, planted_mistakes(gradients), X, Y, 1e-7, True)
    assert "There is a mistake in the backward propagation! difference = 0.28509315" in \
        capsys.readouterr().out
    gradient_check_n(parameters, gradients, X, Y, print_msg=True)
    assert "Your backward propagation works perfectly fine!" in capsys.readouterr().out
    gradient_check_n(parameters, gradients, X, Y)
    assert capsys.readouterr().out == ""


def test_the_vector_layout_is_the_assignments():
    _, _, parameters = assignment_problem()
    theta, keys = dictionary_to_vector(parameters)
    assert theta.shape == (47, 1)
    assert keys == ["W1"] * 20 + ["b1"] * 5 + ["W2"] * 15 + ["b2"] * 3 + ["W3"] * 3 + ["b3"]
    np.testing.assert_array_equal(theta[:20, 0], parameters["W1"].ravel())  # by rows
    np.testing.assert_array_equal(theta[43:46, 0], parameters["W3"].ravel())
    back = vector_to_dictionary(theta)  # the assignment's sizes by default
    assert list(back) == list(parameters)
    for key, p in parameters.items():
        np.testing.assert_array_equal(back[key], p)
    grads = {"d" + key: p for key, p in parameters.items()}
    grads.update(dA1=np.ones((5, 3)), dZ2=np.ones((3, 3)))  # not parameters' gradients: ignored
    np.testing.assert_array_equal(gradients_to_vector(grads), theta)


def test_vector_to_dictionary_takes_any_depth_and_refuses_a_wrong_length():
    dims = [3, 4, 2, 2, 1]
    rng = np.random.default_rng(0)
    parameters = {}
    for layer in range(1, len(dims)):
        parameters[f"W{layer}"] = rng.normal(size=(dims[layer], dims[layer - 1]))
        parameters[f"b{layer}"] = rng.normal(size=(dims[layer], 1))
    theta, _ = dictionary_to_vector(parameters)
    back = vector_to_dictionary(theta, dims)
    for key, p in parameters.items():
        np.testing.assert_array_equal(back[key], p)
    message = r"theta has 34 entries, layer_dims \[3, 4, 2, 2, 1\] need 35"
    with pytest.raises(ValueError, match=message):
        vector_to_dictionary(theta[:-1], dims)


NETWORKS = {"two-layer": [5, 4, 1], "l-layer": [5, 4, 3, 3, 1]}


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_backprop_passes_the_check(network, lambd):
    X, Y, parameters = random_network(NETWORKS[network])
    difference = gradient_check_n(parameters, backprop(X, Y, parameters, lambd), X, Y, lambd=lambd)
    assert difference < THRESHOLD


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_dropout_under_fixed_masks_passes_the_check(network, lambd):
    X, Y, parameters = random_network(NETWORKS[network], m=8, seed=1)
    _, cache = forward_propagation_with_dropout(X, parameters, keep_prob=0.7, seed=4)
    assert not all(D.all() for D in cache[1:-4:5])  # some unit is dropped
    gradients = backward_propagation_with_dropout(X, Y, cache, 0.7, lambd)
    difference = gradient_check_n(parameters, gradients, X, Y, lambd=lambd, keep_prob=0.7, seed=4)
    assert difference < THRESHOLD


@pytest.mark.parametrize("network", NETWORKS)
def test_a_wrong_gradient_fails_the_check(network):
    X, Y, parameters = random_network(NETWORKS[network])
    gradients = backprop(X, Y, parameters, 0.7)
    assert gradient_check_n(parameters, gradients, X, Y, lambd=0.7) < THRESHOLD
    # the L2 term left out of the cost the check differentiates
    assert gradient_check_n(parameters, gradients, X, Y) > THRESHOLD
    # one entry off by 1e-4
    wrong = {**gradients, "dW1": gradients["dW1"].copy()}
    wrong["dW1"][0, 0] += 1e-4
    assert gradient_check_n(parameters, wrong, X, Y, lambd=0.7) > THRESHOLD
    # dropout's gradients checked against the cost with other masks
    _, cache = forward_propagation_with_dropout(X, parameters, keep_prob=0.7, seed=4)
    gradients = backward_propagation_with_dropout(X, Y, cache, 0.7)
    assert gradient_check_n(parameters, gradients, X, Y, keep_prob=0.7, seed=5) > THRESHOLD
