"""The convolution's loops (pipeline/nn/convolution.py) against the published expected outputs
of "Convolutional Model: Step by Step" (course 4, week 1), on the assignment's own inputs.

The version: the assignment's older notebook ("Convolution model - Step by Step - v2"), whose
inputs are drawn after np.random.seed(1) and whose "Expected Output" tables print
conv_single_step's Z = -6.99908945068, conv_forward's Z mean 0.0489952035289 (pad 2, stride 2)
and conv_backward's means, with dZ = Z, dA 1.45243777754, dW 1.72699145831, db 7.83923256462.
The values are read from those tables as the notebook publishes them (a copy of it, with its
tables, is e.g. the post "Convolutional Neural Networks: Step by Step" of zphilip48.github.io).
The newer notebook draws other inputs and publishes other values; it is not used here.
Printed values carry 8 decimals (arrays) or 12 significant digits (means): the tolerances say so.
Where nothing is published (pad 0, a stride that does not divide), the backward pass is held to
two-sided differences of a linear cost, and the forward pass to a direct formula.
"""

import numpy as np
import pytest

from pipeline.nn.convolution import conv_backward, conv_forward, conv_single_step, zero_pad

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

PRINTED = 5e-9  # half a unit in the 8th decimal of the notebook's printed arrays


def assignment_conv_inputs():
    """np.random.seed(1); A_prev (10, 4, 4, 3), W (2, 2, 3, 8), b (1, 1, 1, 8); pad 2, stride 2."""
    np.random.seed(1)
    A_prev = np.random.randn(10, 4, 4, 3)
    W = np.random.randn(2, 2, 3, 8)
    b = np.random.randn(1, 1, 1, 8)
    return A_prev, W, b, {"pad": 2, "stride": 2}


def test_zero_pad_gives_the_published_shapes_and_values():
    np.random.seed(1)
    x = np.random.randn(4, 3, 3, 2)
    x_pad = zero_pad(x, 2)
    assert x.shape == (4, 3, 3, 2) and x_pad.shape == (4, 7, 7, 2)
    np.testing.assert_allclose(x[1, 1], [[0.90085595, -0.68372786], [-0.12289023, -0.93576943],
                                         [-0.26788808, 0.53035547]], rtol=0, atol=PRINTED)
    np.testing.assert_array_equal(x_pad[1, 1], np.zeros((7, 2)))
    np.testing.assert_array_equal(x_pad[:, 2:5, 2:5, :], x)  # the image, untouched, inside
    border = np.ones((7, 7), dtype=bool)
    border[2:5, 2:5] = False
    assert not x_pad[:, border, :].any()  # zeros all around


def test_zero_pad_keeps_the_pixels_dtype():
    pixels = np.full((1, 2, 2, 3), 255, dtype=np.uint8)
    assert zero_pad(pixels, 1).dtype == np.uint8


def test_conv_single_step_gives_the_published_z():
    np.random.seed(1)
    a_slice_prev = np.random.randn(4, 4, 3)
    W = np.random.randn(4, 4, 3)
    b = np.random.randn(1, 1, 1)
    Z = conv_single_step(a_slice_prev, W, b)
    assert isinstance(Z, float)
    assert Z == pytest.approx(-6.99908945068, abs=5e-12)


def test_conv_forward_gives_the_published_values():
    A_prev, W, b, hparameters = assignment_conv_inputs()
    Z, cache_conv = conv_forward(A_prev, W, b, hparameters)
    assert Z.shape == (10, 4, 4, 8)
    assert np.mean(Z) == pytest.approx(0.0489952035289, abs=5e-14)
    np.testing.assert_allclose(Z[3, 2, 1], [-0.61490741, -6.7439236, -2.55153897, 1.75698377,
                                            3.56208902, 0.53036437, 5.18531798, 8.75898442],
                               rtol=0, atol=PRINTED)
    np.testing.assert_allclose(cache_conv[0][1][2][3], [-0.20075807, 0.18656139, 0.41005165],
                               rtol=0, atol=PRINTED)
    assert cache_conv[1] is W and cache_conv[2] is b and cache_conv[3] == hparameters


def test_conv_backward_gives_the_published_means():
    A_prev, W, b, hparameters = assignment_conv_inputs()
    Z, cache_conv = conv_forward(A_prev, W, b, hparameters)
    dA, dW, db = conv_backward(Z, cache_conv)  # the notebook passes Z itself as dZ
    assert dA.shape == A_prev.shape and dW.shape == W.shape and db.shape == b.shape
    assert np.mean(dA) == pytest.approx(1.45243777754, abs=5e-12)
    assert np.mean(dW) == pytest.approx(1.72699145831, abs=5e-12)
    assert np.mean(db) == pytest.approx(7.83923256462, abs=5e-12)


def direct_conv(A_prev, W, b, pad, stride):
    """Z[i, h, w, c] = sum over (p, q, k) of A_pad[i, h s + p, w s + q, k] W[p, q, k, c] + b[c],
    as one einsum per filter offset: the formula, not the loops."""
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    f = W.shape[0]
    n_H = (A_pad.shape[1] - f) // stride + 1
    n_W = (A_pad.shape[2] - f) // stride + 1
    Z = np.zeros((A_prev.shape[0], n_H, n_W, W.shape[3])) + b
    for p in range(f):
        for q in range(f):
            window = A_pad[:, p:p + stride * (n_H - 1) + 1:stride,
                           q:q + stride * (n_W - 1) + 1:stride, :]
            Z += np.einsum("ihwk,kc->ihwc", window, W[p, q])
    return Z


@pytest.mark.parametrize("shape, f, n_C, pad, stride", [
    ((2, 5, 7, 3), 3, 4, 0, 1),  # pad 0: dA_prev is all of the padded gradient
    ((1, 6, 5, 2), 2, 3, 1, 3),  # a stride that leaves the last rows unread
    ((3, 4, 4, 1), 4, 2, 2, 2),
    ((1, 1, 1, 1), 1, 1, 0, 1),
])
def test_conv_forward_is_the_direct_formula(shape, f, n_C, pad, stride):
    rng = np.random.default_rng(sum(shape) + f)
    A_prev, W = rng.normal(size=shape), rng.normal(size=(f, f, shape[3], n_C))
    b = rng.normal(size=(1, 1, 1, n_C))
    Z, _ = conv_forward(A_prev, W, b, {"pad": pad, "stride": stride})
    np.testing.assert_allclose(Z, direct_conv(A_prev, W, b, pad, stride), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("shape, f, n_C, pad, stride", [
    ((2, 5, 4, 2), 3, 2, 0, 1), ((1, 6, 5, 2), 2, 3, 1, 3), ((2, 3, 3, 1), 2, 2, 2, 2)])
def test_conv_backward_is_the_derivative_of_a_linear_cost(shape, f, n_C, pad, stride):
    """J = sum(Z * G) for a fixed G: dJ/dZ = G, so conv_backward(G, cache) is J's gradient, and
    J is linear in each of A_prev, W and b (two-sided differences are exact up to rounding)."""
    rng = np.random.default_rng(7 * f + stride)
    A_prev, W = rng.normal(size=shape), rng.normal(size=(f, f, shape[3], n_C))
    b, hparameters = rng.normal(size=(1, 1, 1, n_C)), {"pad": pad, "stride": stride}
    Z, cache = conv_forward(A_prev, W, b, hparameters)
    G = rng.normal(size=Z.shape)
    grads = dict(zip(("A_prev", "W", "b"), conv_backward(G, cache), strict=True))
    values = {"A_prev": A_prev, "W": W, "b": b}
    epsilon = 1e-6
    for name, value in values.items():
        approx = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            costs = []
            for sign in (1, -1):
                moved = {**values, name: value.copy()}
                moved[name][index] += sign * epsilon
                costs.append(np.sum(conv_forward(moved["A_prev"], moved["W"], moved["b"],
                                                 hparameters)[0] * G))
            approx[index] = (costs[0] - costs[1]) / (2 * epsilon)
        np.testing.assert_allclose(grads[name], approx, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "W": np.zeros((5, 5, 3, 8))},
     r"a filter of 5x5 is larger than the padded image of 4x4"),
    (lambda a: {**a, "hp": {"pad": 0, "stride": 0}}, r'hparameters\["stride"\] must be a whole '
     r"number of at least 1, got 0"),
    (lambda a: {**a, "hp": {"pad": 0, "stride": -2}}, r"at least 1, got -2"),
    (lambda a: {**a, "hp": {"pad": -1, "stride": 1}}, r'hparameters\["pad"\] must be .* got -1'),
    (lambda a: {**a, "hp": {"pad": 0, "stride": 1.5}}, r"got 1.5"),
    (lambda a: {**a, "hp": {"stride": 1}}, r'hparameters needs "pad"'),
    (lambda a: {**a, "A": np.zeros((4, 4, 3))}, r"A_prev must have 4 dimensions"),
    (lambda a: {**a, "W": np.zeros((2, 2, 2, 8))}, r"W has 2 input channels but A_prev has 3"),
    (lambda a: {**a, "W": np.zeros((2, 3, 3, 8))}, r"W must be square filters"),
    (lambda a: {**a, "b": np.zeros(8)}, r"b must have shape \(1, 1, 1, 8\)"),
])
def test_conv_forward_refuses_bad_input_in_one_sentence(change, message):
    args = change({"A": np.zeros((1, 4, 4, 3)), "W": np.zeros((2, 2, 3, 8)),
                   "b": np.zeros((1, 1, 1, 8)), "hp": {"pad": 0, "stride": 1}})
    with pytest.raises(ValueError, match=message) as error:
        conv_forward(args["A"], args["W"], args["b"], args["hp"])
    assert "\n" not in str(error.value)


def test_conv_backward_refuses_a_dz_of_another_shape():
    A_prev, W, b, hparameters = assignment_conv_inputs()
    Z, cache = conv_forward(A_prev, W, b, hparameters)
    with pytest.raises(ValueError, match=r"dZ must have the shape of Z, \(10, 4, 4, 8\)"):
        conv_backward(Z[:, :3], cache)


def test_zero_pad_and_conv_single_step_refuse_bad_input():
    with pytest.raises(ValueError, match=r"X must have 4 dimensions"):
        zero_pad(np.zeros((3, 3)), 1)
    with pytest.raises(ValueError, match=r'hparameters\["pad"\] must be'):
        zero_pad(np.zeros((1, 3, 3, 1)), -1)
    with pytest.raises(ValueError, match=r"must have the same shape"):
        conv_single_step(np.zeros((2, 2, 3)), np.zeros((3, 3, 3)), np.zeros((1, 1, 1)))
