"""The layered model the stages train (nn/layers.py) against the course's own week-4 functions
(nn/network.py): the same scores, cost and gradients for ReLU networks of any depth."""

import numpy as np
import pytest

from pipeline.nn.layers import L_model_scores, dropout_masks, propagate
from pipeline.nn.network import (
    L_model_backward,
    L_model_forward,
    compute_cost,
    initialize_parameters_deep,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def problem(layer_dims, m, seed):
    """X (n_x, m) centred on 0, so that about half of every ReLU unit's inputs are negative."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(layer_dims[0], m))
    Y = rng.integers(0, 2, size=(1, m)).astype(float)
    return X, Y, initialize_parameters_deep(layer_dims, seed=seed)


@pytest.mark.parametrize("layer_dims", [[5, 1], [5, 4, 1], [6, 5, 3, 1], [4, 7, 3, 2, 1]])
@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_propagate_is_the_courses_forward_and_backward(layer_dims, l2):
    X, Y, parameters = problem(layer_dims, 11, seed=len(layer_dims))
    AL, caches = L_model_forward(X, parameters)
    cost, grads, ZL = propagate(parameters, X, Y, l2)
    assert cost == pytest.approx(compute_cost(AL, Y, parameters, l2), rel=1e-12)
    np.testing.assert_allclose(ZL, L_model_scores(X, parameters), rtol=1e-13)
    expected = L_model_backward(AL, Y, caches, l2)
    assert grads.keys() == {k for k in expected if k.startswith(("dW", "db"))}
    for key, value in grads.items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-9, atol=1e-15, err_msg=key)


def test_negative_pre_activations_pass_no_gradient():
    # one hidden unit fed only negative values: dW1 and db1 of that unit are exactly zero
    X, Y, parameters = problem([3, 2, 1], 8, seed=5)
    X = np.abs(X)
    parameters["W1"][0] = -np.abs(parameters["W1"][0])  # unit 1: Z = W X < 0 for every X >= 0
    _, grads, _ = propagate(parameters, X, Y)
    assert (parameters["W1"][0] @ X < 0).all()
    assert grads["dW1"][0].tolist() == [0.0, 0.0, 0.0] and grads["db1"][0, 0] == 0.0
    assert (grads["dW1"][1] != 0).all()  # the other unit still learns


def test_dropout_masks_for_a_stack_cut_every_row_from_one_draw():
    keep = np.array([1.0, 0.8, 0.5]).reshape(3, 1, 1)
    masks = dropout_masks([(4, 9), (2, 9)], keep, np.random.RandomState(3))
    draws = np.random.RandomState(3)
    for mask in masks:
        U = draws.rand(*mask.shape[1:])  # one draw per layer, in order
        assert mask.shape == (3, *U.shape)
        assert (mask[0] == 1.0).all()  # keep_prob 1: exactly 1, a multiply that changes nothing
        for j in (1, 2):
            np.testing.assert_array_equal(mask[j], (U < keep[j, 0, 0]) / keep[j, 0, 0])
        assert 0 < (mask[2] == 0).sum() and (mask[2] == 0).sum() > (mask[1] == 0).sum()
    # a float keep_prob draws the same numbers as before: (n_l, m) masks
    one = dropout_masks([(4, 9), (2, 9)], 0.8, np.random.RandomState(3))
    for mask, stacked in zip(one, masks, strict=True):
        np.testing.assert_array_equal(mask, stacked[1])
