"""The layered model as the stages and the mini-batch optimizers use it: [LINEAR->RELU] x (L-1)
-> LINEAR->SIGMOID over the course's parameters {"W1", "b1", ..., "WL", "bL"}; one neuron is the
one-layer case (W1 = w.T). Pure NumPy.

X is the float64 columns, or a mini-batch's pixels as their uint8 integers 0..255 with the
pixel_scale (255) they are divided by. The gradients are sums over the columns, divided by m:
pixels are summed a few images at a time, each part converted to float64 once for both of its
products (image_parts, gradient_sums).

network.py holds the course's own functions, the oracle; these differ in two ways that matter
for any learning rate and data size: the cost comes from z through the stable log_loss, and the
last layer's backward step is dZL = AL - Y, never dAL = -(Y/AL - (1-Y)/(1-AL)), which is 0/0
where AL rounds to 0 or 1.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import cast, overload

import numpy as np

from pipeline.nn.logistic import log_loss, sigmoid
from pipeline.shapes import Array, Labels, Parameters, Pixels

FirstLayer = Callable[[Array], Array]  # W1 -> W1 @ X, (n_1, m)

# float64 values converted from pixels at a time: 768 KB, 8 images of 64 x 64 x 3, which stay
# in a core's L2 cache from their conversion through both of their products (a batch of 64
# images as float64, 6.3 MB, does not).
PART_BYTES = 768 << 10


def image_parts(X: Array | Pixels) -> Iterator[tuple[slice, Array]]:
    """(columns, values) over the columns of X (n_x, m): a float64 X in one part, itself;
    pixels a few images at a time (PART_BYTES), their float64 values in one buffer that the
    next part overwrites."""
    if X.dtype != np.uint8:
        yield slice(0, X.shape[1]), cast(Array, X)
        return
    n_x, m = X.shape
    size = max(1, PART_BYTES // (8 * n_x))
    buffer = np.empty((size, n_x)).T  # (n_x, size): each image's pixels contiguous, as in X
    for start in range(0, m, size):
        columns = slice(start, min(start + size, m))
        values = buffer[:, :columns.stop - start]
        np.copyto(values, X[:, columns])  # exact: integers
        yield columns, values


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
    ZLs: list[Array] = []
    sums: dict[str, Array] = {}
    for columns, values in image_parts(X):  # float64 X: one part
        part_masks = [mask[..., columns] for mask in masks] if masks else None
        ZL, part = gradient_sums(parameters, values, Y[:, columns], part_masks, pixel_scale)
        ZLs.append(ZL)
        for key, value in part.items():
            if key in sums:
                sums[key] += value  # in place, in the first part's own arrays
            else:
                sums[key] = value
    ZL = np.concatenate(ZLs, axis=1)  # (1, m)
    cost = float(log_loss(ZL, Y).sum()) / m  # np.mean's sum and division, without its wrapper
    if l2:  # the squares only when they count: W1 alone is n_x of them a batch
        cost += l2 / (2 * m) * sum(float(np.sum(parameters[f"W{layer}"] ** 2))
                                   for layer in range(1, L + 1))
    grads: dict[str, Array] = {}
    for layer in range(L, 0, -1):
        dW = sums[f"dW{layer}"] / (m * pixel_scale if layer == 1 else m)  # (n_l, n_{l-1})
        grads[f"dW{layer}"] = dW + l2 / m * parameters[f"W{layer}"] if l2 else dW
        grads[f"db{layer}"] = sums[f"db{layer}"] / m
    return cost, grads, ZL


def gradient_sums(parameters: Parameters, X: Array, Y: Labels, masks: list[Array] | None,
                  pixel_scale: float) -> tuple[Array, dict[str, Array]]:
    """zL (1, m) and the gradients times m over the columns of X (n_x, m), the columns being
    X / pixel_scale: {"dW1": dZ1 @ X.T (still times pixel_scale), "db1": dZ1 summed, ...}.
    masks : each hidden layer's dropout mask D / keep_prob for these columns, or None"""
    L = len(parameters) // 2
    # forward: keep each layer's pre-activation Z and each hidden layer's output A
    product = parameters["W1"] @ X  # (n_1, m)
    if pixel_scale != 1:
        product /= pixel_scale
    Zs = [product + parameters["b1"]]  # (n_1, m)
    As: list[Array] = []  # A1 ... A(L-1)
    for layer in range(2, L + 1):
        A = np.maximum(0, Zs[-1])  # (n_{l-1}, m)
        As.append(A * masks[layer - 2] if masks else A)
        Zs.append(parameters[f"W{layer}"] @ As[-1] + parameters[f"b{layer}"])  # (n_l, m)
    # backward
    sums: dict[str, Array] = {}
    dZ = sigmoid(Zs[-1]) - Y  # (1, m): dJ/dZL times m
    for layer in range(L, 0, -1):
        sums[f"dW{layer}"] = dZ @ (As[layer - 2] if layer > 1 else X).T  # (n_l, n_{l-1})
        sums[f"db{layer}"] = dZ.sum(axis=1, keepdims=True)
        if layer > 1:
            dA = parameters[f"W{layer}"].T @ dZ  # (n_{l-1}, m)
            if masks:
                dA = dA * masks[layer - 2]  # only the units the forward pass kept
            dZ = dA * (Zs[layer - 2] > 0)  # (n_{l-1}, m): through the ReLU
    return Zs[-1], sums
