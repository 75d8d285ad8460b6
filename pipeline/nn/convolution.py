"""The convolution layer of "Convolutional Model: Step by Step" (course 4, week 1), in its names:
zero_pad, conv_single_step, conv_forward, conv_backward. Pure NumPy, no I/O.

Written as the lesson writes them, with loops a learner reads beside the assignment; they are the
oracle of the fast engine (convolution_fast.py). Pooling is in pooling.py.

Arrays are (m, n_H, n_W, n_C): m images of n_H rows, n_W columns and n_C channels. A layer's
filters W are (f, f, n_C_prev, n_C), its biases b (1, 1, 1, n_C), and hparameters the course's
dict {"pad": p, "stride": s}. The output has n_H = floor((n_H_prev - f + 2 p) / s) + 1 rows.
Bad input raises ValueError, one sentence that says what was expected.
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.shapes import Array

ConvCache = tuple[Array, Array, Array, dict[str, int]]  # (A_prev, W, b, hparameters)


def check_images(A: NDArray[Any], name: str) -> None:
    """A must be a batch of images (m, n_H, n_W, n_C)."""
    if np.ndim(A) != 4:
        raise ValueError(f"{name} must have 4 dimensions (m, n_H, n_W, n_C), got shape "
                         f"{np.shape(A)}")


def check_step(hparameters: dict[str, int], key: str, least: int) -> int:
    """hparameters[key] as an int, which must be a whole number of at least `least`."""
    if key not in hparameters:
        raise ValueError(f'hparameters needs "{key}", got keys {sorted(hparameters)}')
    value = hparameters[key]
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ValueError(f'hparameters["{key}"] must be a whole number of at least {least}, '
                         f"got {value!r}")
    return int(value)


def output_size(n_prev: int, f: int, pad: int, stride: int) -> int:
    """How many windows of f, at steps of stride, fit on n_prev values padded by pad each side."""
    return (n_prev - f + 2 * pad) // stride + 1


def conv_shapes(A_prev: NDArray[Any], W: Array, b: Array, hparameters: dict[str, int]
                ) -> tuple[int, int, int, int]:
    """(pad, stride, n_H, n_W) of a convolution, after checking every shape agrees."""
    check_images(A_prev, "A_prev")
    if np.ndim(W) != 4 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square filters (f, f, n_C_prev, n_C), got shape "
                         f"{np.shape(W)}")
    (_, n_H_prev, n_W_prev, n_C_prev), (f, _, _, n_C) = A_prev.shape, W.shape
    if W.shape[2] != n_C_prev:
        raise ValueError(f"W has {W.shape[2]} input channels but A_prev has {n_C_prev}")
    if np.shape(b) != (1, 1, 1, n_C):
        raise ValueError(f"b must have shape (1, 1, 1, {n_C}), one bias a filter, got "
                         f"{np.shape(b)}")
    pad, stride = check_step(hparameters, "pad", 0), check_step(hparameters, "stride", 1)
    if f > min(n_H_prev, n_W_prev) + 2 * pad:
        raise ValueError(f"a filter of {f}x{f} is larger than the padded image of "
                         f"{n_H_prev + 2 * pad}x{n_W_prev + 2 * pad}")
    return pad, stride, output_size(n_H_prev, f, pad, stride), output_size(n_W_prev, f, pad,
                                                                           stride)


def zero_pad(X: NDArray[Any], pad: int) -> NDArray[Any]:
    """X (m, n_H, n_W, n_C) with pad zeros around each image: (m, n_H + 2 pad, n_W + 2 pad, n_C).

    Only the rows and columns are padded, never the images or the channels; X's dtype is kept.
    """
    check_images(X, "X")
    pad = check_step({"pad": pad}, "pad", 0)
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant",
                  constant_values=0)


def conv_single_step(a_slice_prev: Array, W: Array, b: Array) -> float:
    """One filter W (f, f, n_C_prev) with its bias b (1, 1, 1) on one window of the input
    a_slice_prev (f, f, n_C_prev): the sum of their elementwise products, plus b. A scalar."""
    if np.shape(a_slice_prev) != np.shape(W):
        raise ValueError(f"a_slice_prev of shape {np.shape(a_slice_prev)} and W of shape "
                         f"{np.shape(W)} must have the same shape")
    s = a_slice_prev * W  # (f, f, n_C_prev)
    Z = np.sum(s)
    return float(Z + np.sum(b))  # b holds one number; summing it makes Z a float, not (1, 1, 1)


def conv_forward(A_prev: Array, W: Array, b: Array, hparameters: dict[str, int]
                 ) -> tuple[Array, ConvCache]:
    """Every filter on every window: Z (m, n_H, n_W, n_C), and the cache (A_prev, W, b,
    hparameters) that conv_backward reads.

    A_prev : (m, n_H_prev, n_W_prev, n_C_prev), the previous layer's activations
    W : (f, f, n_C_prev, n_C); b : (1, 1, 1, n_C); hparameters : {"pad", "stride"}
    """
    pad, stride, n_H, n_W = conv_shapes(A_prev, W, b, hparameters)
    m, f, n_C = A_prev.shape[0], W.shape[0], W.shape[3]
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)  # (m, n_H_prev + 2 pad, n_W_prev + 2 pad, n_C_prev)
    for i in range(m):  # each image
        a_prev_pad = A_prev_pad[i]  # (n_H_prev + 2 pad, n_W_prev + 2 pad, n_C_prev)
        for h in range(n_H):  # each output row
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):  # each output column
                horiz_start = w * stride
                horiz_end = horiz_start + f
                # the window every filter sees at (h, w), all channels: (f, f, n_C_prev)
                a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):  # each filter
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c],
                                                     b[:, :, :, c])
    cache = (A_prev, W, b, hparameters)
    return Z, cache


def conv_backward(dZ: Array, cache: ConvCache) -> tuple[Array, Array, Array]:
    """The gradients of the cost through a convolution, from dZ (m, n_H, n_W, n_C), the gradient
    with respect to its output, and conv_forward's cache.

    Returns
    -------
    dA_prev : (m, n_H_prev, n_W_prev, n_C_prev)
    dW : (f, f, n_C_prev, n_C)
    db : (1, 1, 1, n_C)
    """
    A_prev, W, b, hparameters = cache
    pad, stride, n_H, n_W = conv_shapes(A_prev, W, b, hparameters)
    (m, n_H_prev, n_W_prev, n_C_prev), (f, _, _, n_C) = A_prev.shape, W.shape
    if np.shape(dZ) != (m, n_H, n_W, n_C):
        raise ValueError(f"dZ must have the shape of Z, {(m, n_H, n_W, n_C)}, got "
                         f"{np.shape(dZ)}")
    dW = np.zeros((f, f, n_C_prev, n_C))
    db = np.zeros((1, 1, 1, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    # the gradient of the padded input; the padding's share is dropped at the end
    dA_prev_pad = np.zeros((m, n_H_prev + 2 * pad, n_W_prev + 2 * pad, n_C_prev))
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]  # a view: adding to it adds to dA_prev_pad
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):
                    # Z[i, h, w, c] = sum(a_slice * W[..., c]) + b[c], so each window's
                    # inputs get W times dZ, the filter gets the window times dZ, b gets dZ
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += (
                        W[:, :, :, c] * dZ[i, h, w, c])
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    # the inner rows and columns: not [pad:-pad], which is empty when pad is 0
    dA_prev = dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db
