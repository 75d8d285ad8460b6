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


@pytest.mark.parametrize("layer_dims", [[27, 1], [27, 4, 1], [27, 5, 3, 1]])
@pytest.mark.parametrize("l2, keep_prob", [(0.0, 1.0), (0.7, 1.0), (0.0, 0.6)])
def test_pixel_integers_in_parts_are_the_courses_pass_on_x_over_255(layer_dims, l2, keep_prob,
                                                                     monkeypatch):
    """A batch's uint8 pixels summed 2 images at a time (9 = 4 x 2 + 1, a short last part),
    the 1/255 on the first layer's products, against the course's own forward and backward on
    the float64 columns x / 255, and against propagate on those columns in one part: the same
    dropout masks, the sums only reordered."""
    from pipeline.nn import layers

    monkeypatch.setattr(layers, "PART_BYTES", 2 * 8 * 27)  # 2 images of 27 float64 values
    rng = np.random.default_rng(len(layer_dims))
    rows = rng.integers(0, 256, size=(9, 27), dtype=np.uint8)  # a batch: 9 images' rows
    pixels, X = rows.T, rows.T / 255  # (n_x, m): uint8 and the course's values
    Y = rng.integers(0, 2, size=(1, 9)).astype(float)
    parameters = initialize_parameters_deep(layer_dims, seed=4)
    dropout = (keep_prob, np.random.RandomState(2)) if keep_prob < 1 else None
    cost, grads, ZL = propagate(parameters, pixels, Y, l2, dropout, pixel_scale=255.0)
    if keep_prob == 1:
        AL, caches = L_model_forward(X, parameters)
        assert cost == pytest.approx(compute_cost(AL, Y, parameters, l2), rel=1e-12)
        np.testing.assert_allclose(ZL, L_model_scores(X, parameters), rtol=1e-12)
        expected = L_model_backward(AL, Y, caches, l2)
        for key, value in grads.items():
            np.testing.assert_allclose(value, expected[key], rtol=1e-9, atol=1e-15, err_msg=key)
    dropout = (keep_prob, np.random.RandomState(2)) if keep_prob < 1 else None
    float_cost, float_grads, float_ZL = propagate(parameters, X, Y, l2, dropout)
    assert cost == pytest.approx(float_cost, rel=1e-13)
    np.testing.assert_allclose(ZL, float_ZL, rtol=1e-13)
    assert grads.keys() == float_grads.keys()
    for key, value in float_grads.items():
        np.testing.assert_allclose(grads[key], value, rtol=1e-12, atol=1e-17, err_msg=key)


def test_image_parts_are_the_pixels_values_a_few_images_at_a_time(monkeypatch):
    from pipeline.nn import layers

    monkeypatch.setattr(layers, "PART_BYTES", 4 * 8 * 11)  # 4 images of 11 values
    rows = np.random.default_rng(0).integers(0, 256, size=(10, 11), dtype=np.uint8)
    parts = [(columns, values.copy(), values) for columns, values in layers.image_parts(rows.T)]
    assert [columns for columns, _, _ in parts] == [slice(0, 4), slice(4, 8), slice(8, 10)]
    for columns, values, view in parts:
        assert values.dtype == float
        np.testing.assert_array_equal(values, rows[columns].T)  # exact: integers
        assert view.base is parts[0][2].base  # one buffer, overwritten part after part
    X = rows.T / 255
    (columns, values), = layers.image_parts(X)  # float64: one part, X itself
    assert columns == slice(0, 10) and values is X
