"""The pooling layer of "Convolutional Model: Step by Step" (course 4, week 1), in its names:
pool_forward, create_mask_from_window, distribute_value, pool_backward. Pure NumPy, no I/O.

Loops as the lesson writes them, the oracle of the fast engine (convolution_fast.py). Arrays are
(m, n_H, n_W, n_C), hparameters the course's {"f": window, "stride": s}; pooling pads nothing, so
n_H = floor((n_H_prev - f) / s) + 1, and each channel is pooled on its own.
"""

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from pipeline.nn.convolution import check_images, check_step, output_size
from pipeline.shapes import Array

Mode = Literal["max", "average"]
PoolCache = tuple[Array, dict[str, int]]  # (A_prev, hparameters)
MODES = ("max", "average")


def pool_shapes(A_prev: NDArray[Any], hparameters: dict[str, int], mode: str
                ) -> tuple[int, int, int, int]:
    """(f, stride, n_H, n_W) of a pooling, after checking the window fits the images."""
    check_images(A_prev, "A_prev")
    if mode not in MODES:
        raise ValueError(f'mode must be "max" or "average", got {mode!r}')
    f, stride = check_step(hparameters, "f", 1), check_step(hparameters, "stride", 1)
    n_H_prev, n_W_prev = A_prev.shape[1:3]
    if f > min(n_H_prev, n_W_prev):
        raise ValueError(f"a pooling window of {f}x{f} does not fit in images of "
                         f"{n_H_prev}x{n_W_prev}")
    return f, stride, output_size(n_H_prev, f, 0, stride), output_size(n_W_prev, f, 0, stride)


def pool_forward(A_prev: Array, hparameters: dict[str, int], mode: Mode = "max"
                 ) -> tuple[Array, PoolCache]:
    """The max or the mean of each f x f window of each channel: A (m, n_H, n_W, n_C), and the
    cache (A_prev, hparameters) that pool_backward reads.

    A_prev : (m, n_H_prev, n_W_prev, n_C); hparameters : {"f", "stride"}; mode : "max" or
        "average"
    """
    f, stride, n_H, n_W = pool_shapes(A_prev, hparameters, mode)
    m, n_C = A_prev.shape[0], A_prev.shape[3]
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):  # each image
        for h in range(n_H):  # each output row
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):  # each output column
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):  # each channel, on its own
                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                    if mode == "max":
                        A[i, h, w, c] = np.max(a_prev_slice)
                    else:
                        A[i, h, w, c] = np.mean(a_prev_slice)
    cache = (A_prev, hparameters)
    return A, cache


def create_mask_from_window(x: Array) -> NDArray[np.bool_]:
    """True where x (f, f) holds its maximum: max pooling's output came from there.

    Every entry equal to the maximum is True, so a window with a tie passes the whole gradient
    to each of them (the course's mask, kept so in the fast engine)."""
    mask: NDArray[np.bool_] = x == np.max(x)
    return mask


def distribute_value(dz: float, shape: tuple[int, int]) -> Array:
    """dz spread evenly over a window of shape (n_H, n_W): each of its entries held 1 / (n_H n_W)
    of the average, so each gets that share of its gradient."""
    (n_H, n_W) = shape
    average = dz / (n_H * n_W)
    return np.ones(shape) * average


def pool_backward(dA: Array, cache: PoolCache, mode: Mode = "max") -> Array:
    """dA_prev (m, n_H_prev, n_W_prev, n_C): the gradient dA (m, n_H, n_W, n_C) of pool_forward's
    output, passed back to its input; overlapping windows add their shares."""
    A_prev, hparameters = cache
    f, stride, n_H, n_W = pool_shapes(A_prev, hparameters, mode)
    m, n_C = A_prev.shape[0], A_prev.shape[3]
    if np.shape(dA) != (m, n_H, n_W, n_C):
        raise ValueError(f"dA must have the shape of A, {(m, n_H, n_W, n_C)}, got "
                         f"{np.shape(dA)}")
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        a_prev = A_prev[i]  # (n_H_prev, n_W_prev, n_C)
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    window = (i, slice(vert_start, vert_end), slice(horiz_start, horiz_end), c)
                    if mode == "max":
                        # only the maximum reached the output: it alone gets the gradient
                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                        mask = create_mask_from_window(a_prev_slice)
                        dA_prev[window] += mask * dA[i, h, w, c]
                    else:
                        dA_prev[window] += distribute_value(dA[i, h, w, c], (f, f))
    return dA_prev
