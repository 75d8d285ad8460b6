"""The test oracles' own checks (tests/course_oracles.py): the course's code written out for
the mini-batch tests has the course's propagate and the finite-difference gradients."""

import numpy as np
import pytest
from course_oracles import logistic_propagate, two_layer_parameters, two_layer_propagate

from pipeline.nn import logistic as model


@pytest.mark.portable
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


@pytest.mark.portable
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
