"""The layered model as the stages and the mini-batch optimizers use it: [LINEAR->RELU] x (L-1)
-> LINEAR->SIGMOID over the course's parameters {"W1", "b1", ..., "WL", "bL"}; one neuron is the
one-layer case (W1 = w.T). Pure NumPy.

network.py holds the course's own functions, the oracle; these differ in two ways that matter
for any learning rate and data size: the cost comes from z through the stable log_loss, and the
last layer's backward step is dZL = AL - Y, never dAL = -(Y/AL - (1-Y)/(1-AL)), which is 0/0
where AL rounds to 0 or 1.
"""

from collections.abc import Callable, Iterable
from typing import Any, cast, overload

import numpy as np
from numpy.typing import NDArray

from pipeline.nn.logistic import log_loss, sigmoid

Array = NDArray[np.float64]
Parameters = dict[str, Array]  # {"W1": (n_1, n_0), "b1": (n_1, 1), ..., "WL", "bL"}
Labels = NDArray[Any]  # 0 / 1: int64 as the features hold them, or float64 as the course's
FirstLayer = Callable[[Array], Array]  # W1 -> W1 @ X, (n_1, m)


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


def propagate(parameters: Parameters, X: Array, Y: Labels, l2: float = 0.0,
              dropout: tuple[float, np.random.RandomState] | None = None, *,
              scale: float = 1.0) -> tuple[float, dict[str, Array], Array]:
    """Cost, gradients and zL for one forward and backward pass over the columns of X.

    cost : mean cross-entropy + l2/(2m) sum_l ||W_l||^2 (the b are not penalized)
    grads : {"dW1": (n_1, n_x), "db1": (n_1, 1), ...}
    ZL : ndarray of shape (1, m)

    With dropout = (keep_prob, rng), each hidden layer's output is multiplied by a fresh mask
    D / keep_prob (dropout_masks), and its gradient by the same mask.

    scale : the columns are X / scale (pixels: X their integers 0..255, scale 255); the first
        layer's two products take the division on their outputs, (W1 @ X) / scale and
        (dZ1 @ X.T) / (scale m), so that X is never divided (columns.times does the same)
    """
    m, L = X.shape[1], len(parameters) // 2
    masks = dropout_masks([(parameters[f"b{layer}"].shape[0], m) for layer in range(1, L)],
                          *dropout) if dropout else None
    # forward: keep each layer's input A and pre-activation Z
    As: list[Array] = [X]
    Zs: list[Array] = []
    for layer in range(1, L + 1):
        product = parameters[f"W{layer}"] @ As[-1]  # (n_l, m)
        if layer == 1 and scale != 1:
            product /= scale
        Zs.append(product + parameters[f"b{layer}"])  # (n_l, m)
        if layer < L:
            A = np.maximum(0, Zs[-1])  # (n_l, m)
            As.append(A * masks[layer - 1] if masks else A)
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
        dW = dZ @ As[layer - 1].T / (m * scale if layer == 1 else m)  # (n_l, n_{l-1})
        grads[f"dW{layer}"] = dW + l2 / m * W if l2 else dW
        grads[f"db{layer}"] = dZ.sum(axis=1, keepdims=True) / m
        if layer > 1:
            dA = W.T @ dZ  # (n_{l-1}, m)
            if masks:
                dA = dA * masks[layer - 2]  # only the units the forward pass kept
            dZ = dA * (Zs[layer - 2] > 0)  # (n_{l-1}, m): through the ReLU
    return cost, grads, ZL
