"""The fast engine of the course's convolution and pooling: the same layers as convolution.py and
pooling.py (their loops are its oracle, to 1e-10), with the work done by whole-array operations.
Pure NumPy, no I/O.

A convolution is one matrix product per pass (im2col): every window of the padded input becomes
one row of `cols` (m n_H n_W, f f n_C_prev), copied once from a read-only strided view, and::

    forward   Z  = cols @ W2 + b        W2 = W as (f f n_C_prev, n_C)
    backward  dW = (dZ2.T @ cols).T,  db = the column sums of dZ2,  dZ2 = dZ as (m n_H n_W, n_C)
              dA_prev: dcols = dZ2 @ W2.T, each window's row added back where it was read

The first layer takes the pixels as they are stored, uint8, with pixel_scale 255: cols holds
their integers (exact in float64), and the 1/255 is taken on the few values of W before the
forward product and of dW after the backward one; the batch is never divided as a whole.

Pooling loops over the f x f offsets of the window instead of the m n_H n_W n_C windows: each
offset is one strided slice of the input, (m, n_H, n_W, n_C), compared, summed or added to as a
whole. Windows that tile the input (stride = f, the usual pooling) are done over long rows
instead: forward, the f rows of each window reduced at once, then its f columns; backward, one
pass. Max pooling's backward pass is the course's mask: every entry of a window equal to the
window's maximum gets the whole gradient, ties included (as create_mask_from_window). A CNN's
ReLU and max-pool go together (relu_max_pool): the ReLU on the pooled maxima, the forward's
maxima kept for the backward pass.
"""

from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

from pipeline.nn.convolution import conv_shapes, zero_pad
from pipeline.nn.pooling import Mode, PoolCache, pool_shapes
from pipeline.shapes import Array

# What the backward pass reads: the course's (A_prev, W, b, hparameters), then the windows as
# rows and the scale the input was divided by. (Written as a call, not a class statement: a
# class body runs at import, and the course's neuron, which imports this module through the
# stages, would count it among the files its run passes through.)
ConvCache = NamedTuple("ConvCache", [  # noqa: UP014 (the call form, as said above)
    ("A_prev", NDArray[Any]),  # (m, n_H_prev, n_W_prev, n_C_prev): float64, or uint8 pixels
    ("W", Array),  # (f, f, n_C_prev, n_C)
    ("b", Array),  # (1, 1, 1, n_C)
    ("hparameters", dict[str, int]),  # {"pad", "stride"}
    ("cols", Array),  # (m n_H n_W, f f n_C_prev): row (i, h, w) is the window of Z[i, h, w]
    ("pixel_scale", float),  # the layer's input is A_prev / pixel_scale
])


def windows(A: NDArray[Any], f: int, stride: int, n_H: int, n_W: int) -> NDArray[Any]:
    """A read-only view (m, n_H, n_W, f, f, n_C) of A (m, rows, columns, n_C): [i, h, w] is the
    f x f window whose top left corner is A[i, h stride, w stride], nothing copied."""
    s_m, s_H, s_W, s_C = A.strides
    return as_strided(A, shape=(A.shape[0], n_H, n_W, f, f, A.shape[3]),
                      strides=(s_m, s_H * stride, s_W * stride, s_H, s_W, s_C), writeable=False)


def offset(f_row: int, f_column: int, stride: int, n_H: int, n_W: int) -> tuple[slice, ...]:
    """The entries (:, f_row + h stride, f_column + w stride, :) over every window (h, w): where
    the window's entry (f_row, f_column) lies in the input, one strided slice."""
    return (slice(None), slice(f_row, f_row + stride * (n_H - 1) + 1, stride),
            slice(f_column, f_column + stride * (n_W - 1) + 1, stride), slice(None))


def conv_forward_fast(A_prev: NDArray[Any], W: Array, b: Array, hparameters: dict[str, int], *,
                      pixel_scale: float = 1.0, buffer: Array | None = None
                      ) -> tuple[Array, ConvCache]:
    """conv_forward's Z (m, n_H, n_W, n_C) as one matrix product, and the cache for
    conv_backward_fast.

    A_prev : (m, n_H_prev, n_W_prev, n_C_prev), float64; or uint8 pixels with pixel_scale 255,
        the layer's input being A_prev / 255
    buffer : optional float64 array of at least m n_H n_W f f n_C_prev values to hold cols, reused
        batch after batch (a fresh one costs a page fault every 4 KB: 10 ms for the first layer
        of a batch of 64 images of 64 x 64, measured); the cache's cols is a view of it
    """
    pad, stride, n_H, n_W = conv_shapes(A_prev, W, b, hparameters)
    m, (f, _, n_C_prev, n_C) = A_prev.shape[0], W.shape
    # the windows as rows: uint8 is padded, converted to float64 (exact), then copied window by
    # window, float to float (copying each window straight from uint8 takes half again as long)
    A = (zero_pad(A_prev, pad) if pad else A_prev).astype(np.float64, copy=False)
    cols = cols_buffer(buffer, (m * n_H * n_W, f * f * n_C_prev))
    np.copyto(cols.reshape(m, n_H, n_W, f, f, n_C_prev), windows(A, f, stride, n_H, n_W))
    W2 = W.reshape(f * f * n_C_prev, n_C)
    Z = cols @ (W2 / pixel_scale if pixel_scale != 1 else W2)  # (m n_H n_W, n_C)
    # + b as rows of n_W n_C values, each gaining b repeated n_W times: adding along rows of
    # n_C (8) values takes twice as long
    rows = Z.reshape(m * n_H, n_W * n_C)
    rows += np.tile(b.reshape(n_C), n_W)
    return Z.reshape(m, n_H, n_W, n_C), ConvCache(A_prev, W, b, hparameters, cols, pixel_scale)


def cols_buffer(buffer: Array | None, shape: tuple[int, int]) -> Array:
    """A float64 array of the given shape: the first values of buffer, or a new one."""
    if buffer is None:
        return np.empty(shape)
    if buffer.dtype != np.float64 or not buffer.flags.c_contiguous or buffer.size < np.prod(
            shape):
        raise ValueError(f"buffer must be a contiguous float64 array of at least "
                         f"{int(np.prod(shape))} values, got {buffer.dtype} of {buffer.size}")
    return buffer.reshape(-1)[:shape[0] * shape[1]].reshape(shape)


def rows_of(dZ: Array, cache: ConvCache) -> Array:
    """dZ (m, n_H, n_W, n_C) as (m n_H n_W, n_C), the rows of cache.cols, after checking it."""
    _, _, n_H, n_W = conv_shapes(cache.A_prev, cache.W, cache.b, cache.hparameters)
    expected = (cache.A_prev.shape[0], n_H, n_W, cache.W.shape[3])
    if np.shape(dZ) != expected:
        raise ValueError(f"dZ must have the shape of Z, {expected}, got {np.shape(dZ)}")
    return np.reshape(dZ, (-1, expected[3]))


def conv_filter_gradients(dZ: Array, cache: ConvCache) -> tuple[Array, Array]:
    """dW (f, f, n_C_prev, n_C) and db (1, 1, 1, n_C) of conv_backward, dW as one product."""
    dZ2 = rows_of(dZ, cache)  # (m n_H n_W, n_C)
    dW = (dZ2.T @ cache.cols).T  # (f f n_C_prev, n_C); cols.T @ dZ2 takes a third longer
    if cache.pixel_scale != 1:
        dW /= cache.pixel_scale
    m, n_H, n_W, n_C = np.shape(dZ)  # db: long rows added, then their n_W pieces of n_C
    db = dZ2.reshape(m * n_H, n_W * n_C).sum(axis=0).reshape(n_W, n_C).sum(axis=0)
    return dW.reshape(cache.W.shape), db.reshape(1, 1, 1, n_C)


def conv_input_gradient(dZ: Array, cache: ConvCache) -> Array:
    """dA_prev (m, n_H_prev, n_W_prev, n_C_prev) of conv_backward: the gradient with respect to
    the layer's input A_prev / pixel_scale. One product, then each window's row of dcols added
    back where it was read, one strided slice per filter entry (col2im)."""
    dZ2 = rows_of(dZ, cache)
    A_prev, W, hparameters = cache.A_prev, cache.W, cache.hparameters
    (m, n_H_prev, n_W_prev, n_C_prev), (f, _, _, n_C) = A_prev.shape, W.shape
    pad, stride = hparameters["pad"], hparameters["stride"]
    n_H, n_W = dZ.shape[1:3]
    dcols = (dZ2 @ W.reshape(f * f * n_C_prev, n_C).T).reshape(m, n_H, n_W, f, f, n_C_prev)
    dA_prev_pad = np.zeros((m, n_H_prev + 2 * pad, n_W_prev + 2 * pad, n_C_prev))
    for p in range(f):
        for q in range(f):
            # within one offset no two windows share an entry, so += adds every window's share
            dA_prev_pad[offset(p, q, stride, n_H, n_W)] += dcols[:, :, :, p, q, :]
    return dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]


def conv_backward_fast(dZ: Array, cache: ConvCache) -> tuple[Array, Array, Array]:
    """conv_backward's (dA_prev, dW, db). A first layer needs no dA_prev: call
    conv_filter_gradients alone there."""
    return conv_input_gradient(dZ, cache), *conv_filter_gradients(dZ, cache)


def pool_forward_fast(A_prev: Array, hparameters: dict[str, int], mode: Mode = "max"
                      ) -> tuple[Array, PoolCache]:
    """pool_forward's A (m, n_H, n_W, n_C) and its cache (A_prev, hparameters), the course's."""
    f, stride, n_H, n_W = pool_shapes(A_prev, hparameters, mode)
    if stride == f:  # windows side by side
        A = tiled_pool(A_prev, f, np.maximum if mode == "max" else np.add)
        return (A if mode == "max" else A / (f * f)), (A_prev, hparameters)
    A = np.array(A_prev[offset(0, 0, stride, n_H, n_W)], dtype=float)  # each window's first
    for p in range(f):
        for q in range(f):
            if p or q:
                entry = A_prev[offset(p, q, stride, n_H, n_W)]
                if mode == "max":
                    np.maximum(A, entry, out=A)
                else:
                    A += entry
    if mode == "average":
        A /= f * f
    return A, (A_prev, hparameters)


def pool_backward_fast(dA: Array, cache: PoolCache, mode: Mode = "max") -> Array:
    """pool_backward's dA_prev (m, n_H_prev, n_W_prev, n_C): max to every entry equal to its
    window's maximum (the course's mask, ties included), average dA / f^2 to every entry."""
    A_prev, hparameters = cache
    f, stride, n_H, n_W = pool_shapes(A_prev, hparameters, mode)
    if np.shape(dA) != (A_prev.shape[0], n_H, n_W, A_prev.shape[3]):
        raise ValueError(f"dA must have the shape of A, "
                         f"{(A_prev.shape[0], n_H, n_W, A_prev.shape[3])}, got {np.shape(dA)}")
    A = pool_forward_fast(A_prev, hparameters, mode)[0] if mode == "max" else None
    if stride == f:  # windows side by side: every row of dA_prev in one pass
        return tiled_pool_backward(dA, A_prev, A, f)
    dA_prev = np.zeros(A_prev.shape)
    share = dA if mode == "max" else dA / (f * f)
    for p in range(f):
        for q in range(f):
            at = offset(p, q, stride, n_H, n_W)
            if A is not None:
                dA_prev[at] += np.where(A_prev[at] == A, dA, 0.0)
            else:
                dA_prev[at] += share
    return dA_prev


def tiled_pool(A_prev: Array, f: int, reduce: np.ufunc) -> Array:
    """reduce (np.maximum or np.add) over each f x f window of A_prev (m, rows, columns, n_C)
    that tiles it (stride f): (m, rows // f, columns // f, n_C). The f rows of a window are
    reduced at once along long runs, then its f columns."""
    m, n_H, n_W, n_C = A_prev.shape[0], A_prev.shape[1] // f, A_prev.shape[2] // f, A_prev.shape[3]
    runs = A_prev[:, :n_H * f, :n_W * f, :].reshape(m, n_H, f, n_W * f * n_C)
    rows = reduce.reduce(runs, axis=2, dtype=np.float64)  # (m, n_H, n_W f n_C)
    pooled: Array = reduce.reduce(rows.reshape(m, n_H, n_W, f, n_C), axis=3)
    return pooled


def relu_max_pool(Z: Array, f: int) -> Array:
    """A CNN's ReLU and max-pool of Z (m, rows, columns, n_C) by f x f windows side by side:
    pool_forward_fast(np.maximum(Z, 0), {"f": f, "stride": f})'s A, the ReLU taken on the
    pooled maxima (max(max(Z), 0) = max(max(Z, 0)), exactly), (m, rows // f, columns // f, n_C)."""
    P = tiled_pool(Z, f, np.maximum)
    return np.maximum(P, 0, out=P)


def relu_max_pool_backward(dP: Array, Z: Array, P: Array, f: int) -> Array:
    """dZ (m, rows, columns, n_C) of relu_max_pool, whose output was P: the course's max-pool
    mask and the ReLU's, pool_backward_fast(dP, ..., "max") * (Z > 0). Where P > 0 the entries
    equal to it are positive; where P = 0 the ReLU passes nothing back."""
    return tiled_pool_backward(dP * (P > 0), Z, P, f)


def tiled_pool_backward(dA: Array, A_prev: Array, A: Array | None, f: int) -> Array:
    """pool_backward_fast for windows that tile the input (stride = f).

    Row f_row of the windows of output row h is one contiguous run of n_W f n_C values; each
    window's dA (and its maximum A) repeated f times along the run lines up with it, so one
    comparison over long runs finds every maximum (A None: average pooling, dA / f^2 to all)."""
    m, n_H, n_W, n_C = dA.shape
    run = n_W * f * n_C
    dA_prev = np.zeros(A_prev.shape)  # rows and columns past the last window keep 0

    def runs(X: Array) -> Array:  # the tiled part of X as (m, n_H, f, run): a view of X
        return X[:, :n_H * f, :n_W * f, :].reshape(m, n_H, f, run)

    def repeated(Y: Array) -> Array:  # Y (m, n_H, n_W, n_C) repeated f times along a run
        return np.repeat(Y, f, axis=2).reshape(m, n_H, 1, run)

    if A is None:
        np.copyto(runs(dA_prev), repeated(dA / (f * f)))
    else:
        np.copyto(runs(dA_prev), repeated(dA), where=runs(A_prev) == repeated(A))
    return dA_prev
