"""Inverted dropout on the week-4 networks' hidden layers, the Regularization assignment in its
own names, for any depth: [LINEAR -> RELU -> DROPOUT] x (L-1) -> LINEAR -> SIGMOID.

Pure NumPy, no I/O. The cache is the assignment's flat tuple, grown by five entries a hidden layer:
(Z1, D1, A1, W1, b1, ..., Z_{L-1}, D_{L-1}, A_{L-1}, W_{L-1}, b_{L-1}, ZL, AL, WL, bL), where A_l
is the hidden layer's output after its mask D_l and the 1 / keep_prob scaling. With keep_prob = 1
every mask keeps everything and both passes are L_model_forward and L_model_backward, bit for bit.
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.nn.logistic import sigmoid
from pipeline.nn.network import linear_activation_forward, linear_backward
from pipeline.shapes import Array, Labels, Parameters

# the flat cache: float64 arrays, and each hidden layer's mask D (bool)
DropoutCache = tuple[NDArray[Any], ...]


def check_keep_prob(keep_prob: float) -> None:
    if not 0 < keep_prob <= 1:  # also refuses NaN
        raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob}")


def forward_propagation_with_dropout(X: Array, parameters: Parameters, keep_prob: float = 0.5,
                                     seed: int = 1) -> tuple[Array, DropoutCache]:
    """AL (1, m) and the cache, each hidden layer's units kept with probability keep_prob.

    The masks are the assignment's: np.random.seed(1) on entry, then for each hidden layer in turn
    `D = np.random.rand(*A.shape) < keep_prob` (here from a RandomState(seed): the same numbers,
    NumPy's global generator left alone). So every call with the same seed draws the same masks,
    as every iteration of the assignment's model does; pass another seed for other masks.
    """
    check_keep_prob(keep_prob)
    rng = np.random.RandomState(seed)
    L = len(parameters) // 2
    A = X
    cache: list[NDArray[Any]] = []
    for layer in range(1, L):
        W, b = parameters[f"W{layer}"], parameters[f"b{layer}"]
        A, (_, Z) = linear_activation_forward(A, W, b, "relu")  # (n_l, m)
        D = rng.rand(*A.shape) < keep_prob  # (n_l, m) bool: which units this pass keeps
        A = A * D / keep_prob  # inverted dropout: the kept units' expected sum is unchanged
        cache += [Z, D, A, W, b]
    W, b = parameters[f"W{L}"], parameters[f"b{L}"]
    AL, (_, ZL) = linear_activation_forward(A, W, b, "sigmoid")  # (1, m)
    cache += [ZL, AL, W, b]
    return AL, tuple(cache)


def backward_propagation_with_dropout(X: Array, Y: Labels, cache: DropoutCache,
                                      keep_prob: float, lambd: float = 0.0) -> dict[str, Array]:
    """The gradients of the cross-entropy cost through the masks of the forward pass.

    Each hidden layer's dA is masked and scaled as its A was: dA = dA * D / keep_prob. With
    lambd > 0 each dW gains lambd / m * W, the L2 penalty's gradient.

    Returns
    -------
    dict with "dZ{l}", "dW{l}", "db{l}" for l = 1 .. L and "dA{l}" for l = 1 .. L-1 (masked)
    """
    check_keep_prob(keep_prob)
    L = (len(cache) + 1) // 5
    if len(cache) != 5 * L - 1 or L < 1:
        raise ValueError(f"a dropout cache holds 5 entries a hidden layer and 4 for the last, "
                         f"got {len(cache)}")
    hidden = [cache[5 * i:5 * i + 5] for i in range(L - 1)]  # (Z, D, A, W, b) each
    ZL, AL, WL, bL = cache[-4:]
    inputs = [X] + [A for _, _, A, _, _ in hidden]  # each layer's input, A_0 = X
    grads: dict[str, Array] = {}
    # the sigmoid layer, as L_model_backward: dAL, then dZL = dAL * s * (1 - s)
    Y = np.reshape(Y, AL.shape)
    dA = -(Y / AL - (1 - Y) / (1 - AL))  # (1, m)
    s = sigmoid(ZL)
    dZ = dA * s * (1 - s)
    dA, grads[f"dW{L}"], grads[f"db{L}"] = linear_backward(dZ, (inputs[L - 1], WL, bL), lambd)
    grads[f"dZ{L}"] = dZ
    for layer in range(L - 1, 0, -1):
        Z, D, _, W, b = hidden[layer - 1]
        dA = dA * D / keep_prob  # only the units the forward pass kept pass a gradient back
        grads[f"dA{layer}"] = dA
        dZ = np.where(Z > 0, dA, 0.0)  # through the ReLU
        grads[f"dZ{layer}"] = dZ
        dA, grads[f"dW{layer}"], grads[f"db{layer}"] = linear_backward(
            dZ, (inputs[layer - 1], W, b), lambd)
    return grads
