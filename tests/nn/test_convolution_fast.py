"""The fast engine (pipeline/nn/convolution_fast.py) against the course's loops, its oracle:
the same values to 1e-10 on random shapes, strides, pads and filter sizes (hypothesis), forward
and backward, the convolution and both pooling modes; pixels given as uint8 with their scale
equal to the floats x / 255; and a network of fast layers (conv, ReLU, pooling, twice, then one
sigmoid unit) passing gradient checking's 2e-7 (two-sided differences, epsilon 1e-7, the
difference of pipeline/nn/gradient_check.py; its gradient_check_n reads only (n, n_prev)
matrices, so the loop over theta is written here with the same formula and THRESHOLD).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.nn.convolution import conv_backward, conv_forward
from pipeline.nn.convolution_fast import (
    conv_backward_fast,
    conv_filter_gradients,
    conv_forward_fast,
    conv_input_gradient,
    pool_backward_fast,
    pool_forward_fast,
    relu_max_pool,
    relu_max_pool_backward,
)
from pipeline.nn.gradient_check import THRESHOLD
from pipeline.nn.pooling import pool_backward, pool_forward

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

EXACT = 1e-10  # the loops and the products sum in other orders; nothing else may differ


@st.composite
def conv_problems(draw):
    """(A_prev, W, b, hparameters, dZ): any shape the course's formula accepts, small."""
    m, n_C_prev, n_C = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n_H_prev, n_W_prev = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    pad, stride = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    f = draw(st.integers(1, min(4, min(n_H_prev, n_W_prev) + 2 * pad)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A_prev = rng.normal(size=(m, n_H_prev, n_W_prev, n_C_prev))
    W, b = rng.normal(size=(f, f, n_C_prev, n_C)), rng.normal(size=(1, 1, 1, n_C))
    n_H, n_W = (n_H_prev - f + 2 * pad) // stride + 1, (n_W_prev - f + 2 * pad) // stride + 1
    return A_prev, W, b, {"pad": pad, "stride": stride}, rng.normal(size=(m, n_H, n_W, n_C))


@st.composite
def pool_problems(draw):
    """(A_prev, hparameters, dA): any window that fits, overlapping or not, small."""
    m, n_C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n_H_prev, n_W_prev = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    f, stride = draw(st.integers(1, min(n_H_prev, n_W_prev))), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A_prev = rng.normal(size=(m, n_H_prev, n_W_prev, n_C))
    if draw(st.booleans()):  # ties: few distinct values, as after a ReLU
        A_prev = np.maximum(0, np.round(A_prev))
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1
    return A_prev, {"f": f, "stride": stride}, rng.normal(size=(m, n_H, n_W, n_C))


@settings(max_examples=40, deadline=None)
@given(conv_problems())
def test_the_fast_convolution_is_the_loops_forward_and_backward(problem):
    A_prev, W, b, hparameters, dZ = problem
    Z, cache = conv_forward(A_prev, W, b, hparameters)
    fast_Z, fast_cache = conv_forward_fast(A_prev, W, b, hparameters)
    np.testing.assert_allclose(fast_Z, Z, rtol=EXACT, atol=EXACT)
    for fast, loop in zip(conv_backward_fast(dZ, fast_cache), conv_backward(dZ, cache),
                          strict=True):
        assert fast.shape == loop.shape
        np.testing.assert_allclose(fast, loop, rtol=EXACT, atol=EXACT)


@settings(max_examples=40, deadline=None)
@given(pool_problems(), st.sampled_from(["max", "average"]))
def test_the_fast_pooling_is_the_loops_forward_and_backward(problem, mode):
    """Ties included: max pooling passes the gradient to every entry equal to the maximum."""
    A_prev, hparameters, dA = problem
    A, cache = pool_forward(A_prev, hparameters, mode)
    fast_A, fast_cache = pool_forward_fast(A_prev, hparameters, mode)
    np.testing.assert_allclose(fast_A, A, rtol=EXACT, atol=EXACT)
    assert fast_cache[0] is A_prev and fast_cache[1] == hparameters  # the course's cache
    np.testing.assert_allclose(pool_backward_fast(dA, fast_cache, mode),
                               pool_backward(dA, cache, mode), rtol=EXACT, atol=EXACT)


@settings(max_examples=30, deadline=None)
@given(conv_problems())
def test_pixels_with_their_scale_are_the_floats_divided_by_255(problem):
    """Z and dW within 1e-12 of each entry's size: the same sum with |W|, |x| and |b|."""
    A_prev, W, b, hparameters, dZ = problem
    pixels = np.random.default_rng(A_prev.size).integers(0, 256, A_prev.shape, dtype=np.uint8)
    Z, cache = conv_forward_fast(pixels, W, b, hparameters, pixel_scale=255.0)
    float_Z, float_cache = conv_forward_fast(pixels / 255, W, b, hparameters)
    assert cache.cols.dtype == np.float64 and cache.A_prev is pixels
    size_Z, _ = conv_forward_fast(pixels / 255, np.abs(W), np.abs(b), hparameters)
    assert np.all(np.abs(Z - float_Z) <= 1e-12 * size_Z)
    dW, db = conv_filter_gradients(dZ, cache)
    float_dW, float_db = conv_filter_gradients(dZ, float_cache)
    size_dW, _ = conv_filter_gradients(np.abs(dZ), float_cache)  # cols of x / 255 >= 0
    assert np.all(np.abs(dW - float_dW) <= 1e-12 * size_dW)
    np.testing.assert_array_equal(db, float_db)
    # the gradient with respect to the input x / 255 does not depend on how x is stored
    np.testing.assert_array_equal(conv_input_gradient(dZ, cache),
                                  conv_input_gradient(dZ, float_cache))


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("shape, f", [((2, 17, 13, 3), 4), ((3, 65, 65, 8), 8), ((1, 2, 2, 1), 2),
                                      ((2, 9, 9, 16), 4)])
def test_windows_that_tile_the_input_are_the_loops_ties_included(shape, f, mode):
    """stride = f, the week-1 model's pooling, with rows and columns past the last window."""
    rng = np.random.default_rng(f)
    A_prev = np.maximum(0, np.round(rng.normal(size=shape), 1))  # zeros and other ties
    hparameters = {"f": f, "stride": f}
    A, cache = pool_forward(A_prev, hparameters, mode)
    dA = rng.normal(size=A.shape)
    np.testing.assert_allclose(pool_forward_fast(A_prev, hparameters, mode)[0], A, rtol=EXACT,
                               atol=EXACT)
    np.testing.assert_allclose(pool_backward_fast(dA, cache, mode), pool_backward(dA, cache, mode),
                               rtol=EXACT, atol=EXACT)


@pytest.mark.parametrize("shape, f", [((2, 17, 13, 3), 4), ((3, 65, 65, 8), 8), ((1, 2, 2, 1), 2),
                                      ((2, 9, 9, 16), 4), ((2, 8, 8, 2), 3)])
def test_the_cnn_relu_and_max_pool_are_the_loops_ties_included(shape, f):
    """relu_max_pool (the ReLU on the pooled maxima) and its backward pass are the course's
    pooling of max(Z, 0), with the ReLU's mask (Z > 0): windows of zeros, ties among positive
    values, all-negative windows, rows and columns past the last window."""
    rng = np.random.default_rng(f + shape[0])
    Z = np.round(rng.normal(size=shape), 1)  # negatives, zeros and ties
    Z[:, :f, :f, 0] = -1.0  # a window with no positive entry
    hparameters = {"f": f, "stride": f}
    A, cache = pool_forward(np.maximum(Z, 0), hparameters, "max")
    dA = rng.normal(size=A.shape)
    P = relu_max_pool(Z, f)
    np.testing.assert_array_equal(P, A)
    np.testing.assert_array_equal(relu_max_pool_backward(dA, Z, P, f),
                                  pool_backward(dA, cache, "max") * (Z > 0))


def test_a_reused_buffer_holds_the_windows_and_gives_the_same_layer():
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (2, 6, 6, 3), dtype=np.uint8)
    W, b, hparameters = rng.normal(size=(3, 3, 3, 4)), rng.normal(size=(1, 1, 1, 4)), {
        "pad": 1, "stride": 1}
    buffer = np.full(2 * 36 * 27 + 5, np.nan)
    Z, cache = conv_forward_fast(pixels, W, b, hparameters, pixel_scale=255.0, buffer=buffer)
    fresh_Z, fresh_cache = conv_forward_fast(pixels, W, b, hparameters, pixel_scale=255.0)
    np.testing.assert_array_equal(Z, fresh_Z)
    assert np.shares_memory(cache.cols, buffer)
    np.testing.assert_array_equal(cache.cols, fresh_cache.cols)
    with pytest.raises(ValueError, match=r"buffer must be a contiguous float64 array of at "
                                         r"least 1944 values, got float64 of 100"):
        conv_forward_fast(pixels, W, b, hparameters, buffer=np.zeros(100))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


LAYERS = ({"pad": 1, "stride": 1}, {"f": 2, "stride": 2}, {"pad": 1, "stride": 1},
          {"f": 2, "stride": 2})  # conv 3x3, pool 2, conv 2x2, pool 2: the week-1 model, small


def small_network(seed):
    """X: 3 images of 8 x 8 x 3 pixels, uint8; W1 (3, 3, 3, 4), W2 (2, 2, 4, 5), dense (1, 20)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    Y = np.array([[1.0, 0.0, 1.0]])
    parameters = {"W1": rng.normal(size=(3, 3, 3, 4)) * 0.5, "b1": rng.normal(size=(1, 1, 1, 4)),
                  "W2": rng.normal(size=(2, 2, 4, 5)) * 0.5, "b2": rng.normal(size=(1, 1, 1, 5)),
                  "W3": rng.normal(size=(1, 20)) * 0.5, "b3": rng.normal(size=(1, 1))}
    return X, Y, parameters


def network_cost_and_gradients(X, Y, parameters, mode):
    """Mean cross-entropy of conv -> ReLU -> pool -> conv -> ReLU -> pool -> dense -> sigmoid,
    and its gradients, by the fast layers (the pixels' 1/255 taken by the first product)."""
    m = X.shape[0]
    Z1, conv1 = conv_forward_fast(X, parameters["W1"], parameters["b1"], LAYERS[0],
                                  pixel_scale=255.0)
    P1, pool1 = pool_forward_fast(np.maximum(0, Z1), LAYERS[1], mode)
    Z2, conv2 = conv_forward_fast(P1, parameters["W2"], parameters["b2"], LAYERS[2])
    P2, pool2 = pool_forward_fast(np.maximum(0, Z2), LAYERS[3], mode)
    flat = P2.reshape(m, -1).T  # (20, m)
    Z3 = parameters["W3"] @ flat + parameters["b3"]  # (1, m)
    # cross-entropy from z (log(1 + e^-z) for a cat, log(1 + e^z) else), not from log(1 - A),
    # whose rounding near A = 1 the differences divided by 2 epsilon would blow up
    cost = np.mean(Y * np.logaddexp(0, -Z3) + (1 - Y) * np.logaddexp(0, Z3))
    dZ3 = (sigmoid(Z3) - Y) / m
    dP2 = (parameters["W3"].T @ dZ3).T.reshape(P2.shape)
    dZ2 = pool_backward_fast(dP2, pool2, mode) * (Z2 > 0)
    dP1, dW2, db2 = conv_backward_fast(dZ2, conv2)
    dZ1 = pool_backward_fast(dP1, pool1, mode) * (Z1 > 0)
    dW1, db1 = conv_filter_gradients(dZ1, conv1)  # the pixels need no gradient
    return cost, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dZ3 @ flat.T,
                  "b3": dZ3.sum(axis=1, keepdims=True)}


@pytest.mark.parametrize("mode", ["max", "average"])
def test_the_fast_network_passes_gradient_checking(mode):
    X, Y, parameters = small_network(seed=3)
    _, grads = network_cost_and_gradients(X, Y, parameters, mode)
    keys = list(parameters)
    theta = np.concatenate([parameters[key].ravel() for key in keys])
    grad = np.concatenate([grads[key].ravel() for key in keys])
    sizes = np.cumsum([parameters[key].size for key in keys])[:-1]

    def J(values):
        pieces = np.split(values, sizes)
        moved = {key: piece.reshape(parameters[key].shape)
                 for key, piece in zip(keys, pieces, strict=True)}
        return network_cost_and_gradients(X, Y, moved, mode)[0]

    epsilon, gradapprox = 1e-7, np.zeros_like(theta)
    for i in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += epsilon
        minus[i] -= epsilon
        gradapprox[i] = (J(plus) - J(minus)) / (2 * epsilon)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad)
                                                      + np.linalg.norm(gradapprox))
    assert difference < THRESHOLD, difference


def test_the_fast_layers_refuse_what_the_loops_refuse():
    with pytest.raises(ValueError, match=r"a filter of 5x5 is larger than the padded image"):
        conv_forward_fast(np.zeros((1, 4, 4, 3)), np.zeros((5, 5, 3, 2)), np.zeros((1, 1, 1, 2)),
                          {"pad": 0, "stride": 1})
    with pytest.raises(ValueError, match=r'hparameters\["stride"\] must be'):
        pool_forward_fast(np.zeros((1, 4, 4, 3)), {"f": 2, "stride": 0})
    _, cache = conv_forward_fast(np.zeros((2, 4, 4, 3)), np.zeros((2, 2, 3, 2)),
                                 np.zeros((1, 1, 1, 2)), {"pad": 0, "stride": 1})
    with pytest.raises(ValueError, match=r"dZ must have the shape of Z, \(2, 3, 3, 2\)"):
        conv_backward_fast(np.zeros((2, 3, 3, 1)), cache)
    _, pool_cache = pool_forward_fast(np.zeros((1, 4, 4, 3)), {"f": 2, "stride": 2}, "average")
    with pytest.raises(ValueError, match=r"dA must have the shape of A, \(1, 2, 2, 3\)"):
        pool_backward_fast(np.zeros((1, 2, 3, 3)), pool_cache, "average")
