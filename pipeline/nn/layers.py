"""The layered model as the stages and the mini-batch optimizers use it: [LINEAR->RELU] x (L-1)
-> LINEAR->SIGMOID over the course's parameters {"W1", "b1", ..., "WL", "bL"}; one neuron is the
one-layer case (W1 = w.T). Pure NumPy.

X is the float64 columns, or a mini-batch's pixels as their uint8 integers 0..255 with the
pixel_scale (255) they are divided by; the first layer's two products, W1 @ X and dZ1 @ X.T,
then convert them to float64 a block of pixels at a time (first_product, first_gradient).

network.py holds the course's own functions, the oracle; these differ in two ways that matter
for any learning rate and data size: the cost comes from z through the stable log_loss, and the
last layer's backward step is dZL = AL - Y, never dAL = -(Y/AL - (1-Y)/(1-AL)), which is 0/0
where AL rounds to 0 or 1.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast, overload

import numpy as np
from numpy.typing import NDArray

from pipeline.nn.logistic import log_loss, sigmoid

Array = NDArray[np.float64]
Parameters = dict[str, Array]  # {"W1": (n_1, n_0), "b1": (n_1, 1), ..., "WL", "bL"}
Labels = NDArray[Any]  # 0 / 1: int64 as the features hold them, or float64 as the course's
Pixels = NDArray[np.uint8]  # pixel integers 0..255, (n_x, m) as X
FirstLayer = Callable[[Array], Array]  # W1 -> W1 @ X, (n_1, m)

# Pixels of each image converted to float64 at a time: for a batch of 64 images a block of
# 1024 x 64 floats, 512 KB, which stays in a core's L2 cache from its conversion to its product
# (a whole batch as float64, 6.3 MB, does not; as uint8, 786 KB, it does, and is read twice).
PIXEL_BLOCK = 1024


def pixel_blocks(X: Pixels | Array) -> Iterator[tuple[slice, Array]]:
    """(rows, block) over X (n_x, m) in PIXEL_BLOCK rows: block (len, m) the float64 values
    of X[rows], in one buffer that the next block overwrites."""
    n_x, m = X.shape
    buffer = np.empty((m, PIXEL_BLOCK)).T  # (PIXEL_BLOCK, m), each image's pixels contiguous
    for start in range(0, n_x, PIXEL_BLOCK):
        rows = slice(start, min(start + PIXEL_BLOCK, n_x))
        block = buffer[:rows.stop - start]
        np.copyto(block, X[rows])  # exact: integers
        yield rows, block


def first_product(W1: Array, X: Array | Pixels) -> Array:
    """W1 @ X, (n_1, n_x) @ (n_x, m) -> (n_1, m): pixels block by block, their partial
    products summed."""
    if X.dtype != np.uint8:
        return W1 @ X
    product = np.zeros((W1.shape[0], X.shape[1]))
    for rows, block in pixel_blocks(X):
        product += W1[:, rows] @ block
    return product


def first_gradient(dZ1: Array, X: Array | Pixels) -> Array:
    """dZ1 @ X.T, (n_1, m) @ (m, n_x) -> (n_1, n_x): pixels block by block, converted again
    from their uint8 integers, still cached (a float64 copy kept from the forward pass would
    not be)."""
    if X.dtype != np.uint8:
        return dZ1 @ X.T
    gradient = np.empty((dZ1.shape[0], X.shape[0]))
    for rows, block in pixel_blocks(X):
        gradient[:, rows] = dZ1 @ block.T
    return gradient


@overload
def L_model_scores(X: Array, parameters: Parameters) -> Array: ...
@overload
def L_model_scores(X: object, parameters: Parameters, first_layer: FirstLayer) -> Array: ...
def L_model_scores(X: object, parameters: Parameters,
                   first_layer: FirstLayer | None = None) -> Array:
    """zL, the last layer's pre-activation (1, m), for the columns of X (n_x, m).

    first_layer : optional function W1 -> W1 @ X (n_1, m), for an X that is not an array
        (pipeline.columns.model_scores: pixels read and multiplied a block at a time)"""
    first = first_layer or (lambda W1: W1 @ cast(Array, X))  # without it, X is an array
    L = len(parameters) // 2
    Z = first(parameters["W1"]) + parameters["b1"]  # (n_1, m)
    for layer in range(2, L + 1):
        # LINEAR -> RELU, then the next LINEAR: (n_l, m)
        Z = parameters[f"W{layer}"] @ np.maximum(0, Z) + parameters[f"b{layer}"]
    return Z  # (1, m): LINEAR, before the sigmoid


def dropout_masks(shapes: Iterable[tuple[int, ...]], keep_prob: float | Array,
                  rng: np.random.RandomState) -> list[Array]:
    """Inverted dropout's masks, D / keep_prob, one per hidden layer of the given shapes, drawn
    layer by layer as the course does (rng.rand(n_l, m) < keep_prob).

    keep_prob : a float, or an array (k, 1, 1), one per network of a stack: each layer's one
        draw U (n_l, m) serves them all, network j keeping U < keep_prob[j] and its mask
        (k, n_l, m) scaled by 1 / keep_prob[j]; where keep_prob[j] is 1, its mask is exactly 1.
    """
    return [(rng.rand(*shape) < keep_prob) / keep_prob for shape in shapes]


def propagate(parameters: Parameters, X: Array | Pixels, Y: Labels, l2: float = 0.0,
              dropout: tuple[float, np.random.RandomState] | None = None, *,
              pixel_scale: float = 1.0) -> tuple[float, dict[str, Array], Array]:
    """Cost, gradients and zL for one forward and backward pass over the columns of X.

    cost : mean cross-entropy + l2/(2m) sum_l ||W_l||^2 (the b are not penalized)
    grads : {"dW1": (n_1, n_x), "db1": (n_1, 1), ...}
    ZL : ndarray of shape (1, m)

    With dropout = (keep_prob, rng), each hidden layer's output is multiplied by a fresh mask
    D / keep_prob (dropout_masks), and its gradient by the same mask.

    pixel_scale : the columns are X / pixel_scale: 255 for pixels, X being their uint8
        integers. The first layer's two products take the division on their outputs,
        (W1 @ X) / pixel_scale and (dZ1 @ X.T) / (pixel_scale m), so that X is never divided
    """
    m, L = X.shape[1], len(parameters) // 2
    masks = dropout_masks([(parameters[f"b{layer}"].shape[0], m) for layer in range(1, L)],
                          *dropout) if dropout else None
    # forward: keep each layer's pre-activation Z and each hidden layer's output A
    product = first_product(parameters["W1"], X)  # (n_1, m)
    if pixel_scale != 1:
        product /= pixel_scale
    Zs = [product + parameters["b1"]]  # (n_1, m)
    As: list[Array] = []  # A1 ... A(L-1)
    for layer in range(2, L + 1):
        A = np.maximum(0, Zs[-1])  # (n_{l-1}, m)
        As.append(A * masks[layer - 2] if masks else A)
        Zs.append(parameters[f"W{layer}"] @ As[-1] + parameters[f"b{layer}"])  # (n_l, m)
    ZL = Zs[-1]  # (1, m)
    cost = float(log_loss(ZL, Y).sum()) / m  # np.mean's sum and division, without its wrapper
    if l2:  # the squares only when they count: W1 alone is n_x of them a batch
        cost += l2 / (2 * m) * sum(float(np.sum(parameters[f"W{layer}"] ** 2))
                                   for layer in range(1, L + 1))
    # backward
    grads: dict[str, Array] = {}
    dZ = sigmoid(ZL) - Y  # (1, m): dJ/dZL times m
    for layer in range(L, 0, -1):
        W = parameters[f"W{layer}"]
        if layer == 1:
            dW = first_gradient(dZ, X) / (m * pixel_scale)  # (n_1, n_x)
        else:
            dW = dZ @ As[layer - 2].T / m  # (n_l, n_{l-1})
        grads[f"dW{layer}"] = dW + l2 / m * W if l2 else dW
        grads[f"db{layer}"] = dZ.sum(axis=1, keepdims=True) / m
        if layer > 1:
            dA = W.T @ dZ  # (n_{l-1}, m)
            if masks:
                dA = dA * masks[layer - 2]  # only the units the forward pass kept
            dZ = dA * (Zs[layer - 2] > 0)  # (n_{l-1}, m): through the ReLU
    return cost, grads, ZL
