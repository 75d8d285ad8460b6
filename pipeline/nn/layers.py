"""The layered model as the stages and the mini-batch optimizers use it: [LINEAR->RELU] x (L-1)
-> LINEAR->SIGMOID over the course's parameters {"W1", "b1", ..., "WL", "bL"}; one neuron is the
one-layer case (W1 = w.T). Pure NumPy.

X is the float64 columns, or a mini-batch's pixels as their uint8 integers 0..255 with the
pixel_scale (255) they are divided by. The gradients are sums over the columns, divided by m:
pixels are summed a few images at a time, each part converted to float64 once for both of its
products (image_parts, propagate).

network.py holds the course's own functions, the oracle; these differ in two ways that matter
for any learning rate and data size: the cost comes from z through the stable log_loss, and the
last layer's backward step is dZL = AL - Y, never dAL = -(Y/AL - (1-Y)/(1-AL)), which is 0/0
where AL rounds to 0 or 1.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import cast, overload

import numpy as np

from pipeline.nn.logistic import log_loss
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
    W = [parameters[f"W{layer}"] for layer in range(1, L + 1)]  # W[0] is W1, b likewise
    b = [parameters[f"b{layer}"] for layer in range(1, L + 1)]
    masks = dropout_masks([(b_l.shape[0], m) for b_l in b[:-1]], *dropout) if dropout else None
    # the gradients times m, each part's added in: dW1 still times pixel_scale
    dW = [np.zeros(W_l.shape) for W_l in W]
    db = [np.zeros(b_l.shape) for b_l in b[:-1]]  # the hidden layers'; dbL from dZL below
    ZL, dZL = np.empty((b[-1].shape[0], m)), np.empty((b[-1].shape[0], m))  # (n_L, m)
    for columns, values in image_parts(X):  # float64 X: one part; k columns below
        part_masks = [mask[..., columns] for mask in masks] if masks else None
        # forward: Zs holds Z1 ... ZL, As the layers' inputs A0 = X, A1 ... A(L-1)
        Z = W[0] @ values  # (n_1, k)
        if pixel_scale != 1:
            Z /= pixel_scale
        Z += b[0]
        Zs, As = [Z], [values]
        for layer in range(2, L + 1):  # the course's numbers: W[layer - 1] is W{layer}
            A = np.maximum(0, Zs[-1])  # (n_{layer-1}, k)
            As.append(A * part_masks[layer - 2] if part_masks else A)
            Zs.append(W[layer - 1] @ As[-1] + b[layer - 1])  # (n_layer, k)
        ZL[:, columns] = Zs[-1]
        # backward: sigmoid(z) = (1 + tanh(z / 2)) / 2, three operations where the stable
        # form of nn.logistic.sigmoid takes eight
        dZ = 0.5 + 0.5 * np.tanh(0.5 * Zs[-1])  # (n_L, k)
        dZ -= Y[:, columns]  # dJ/dZL times m
        dZL[:, columns] = dZ
        for layer in range(L, 0, -1):
            dW[layer - 1] += dZ @ As[layer - 1].T  # (n_layer, n_{layer-1})
            if layer < L:
                db[layer - 1] += dZ.sum(axis=1, keepdims=True)
            if layer > 1:
                dA = W[layer - 1].T @ dZ  # (n_{layer-1}, k)
                if part_masks:
                    dA = dA * part_masks[layer - 2]  # only the units the forward pass kept
                dZ = dA * (Zs[layer - 2] > 0)  # through the ReLU
    db.append(dZL.sum(axis=1, keepdims=True))
    cost = float(log_loss(ZL, Y).sum()) / m  # np.mean's sum and division, without its wrapper
    if l2:  # the squares only when they count: W1 alone is n_x of them a batch
        cost += l2 / (2 * m) * sum(float(np.sum(W_l ** 2)) for W_l in W)
    grads: dict[str, Array] = {}
    for layer in range(L, 0, -1):
        dW_l = dW[layer - 1] / (m * pixel_scale if layer == 1 else m)  # (n_l, n_{l-1})
        grads[f"dW{layer}"] = dW_l + l2 / m * W[layer - 1] if l2 else dW_l
        grads[f"db{layer}"] = db[layer - 1] / m
    return cost, grads, ZL
