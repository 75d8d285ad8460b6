"""The first layer of k stacked week-4 networks, two ways (pipeline.engines.network): in the
Gram space, W1 = c W1_0 + A X.T, or as the textbook's W1 (k, n_h, n_x). Each gives
forward_first(), the present Z1, and step_first(dZ1, lr, decay), the update;
engines.network.descend runs the rest. Pure NumPy, no I/O."""

from collections.abc import Callable
from typing import Any

import numpy as np

from pipeline.columns import Columns, matmul, matmul_transposed
from pipeline.shapes import Array

# k networks stacked, as the batched engines hold them; arrays updated in place, so a caller's
# closure over them sees every step. Keys: W, a list of (k, n_l, n_{l-1}) for l = 2 .. L; b, a
# list of (k, n_l, 1) for l = 1 .. L; and the first layer apart: primal's W1 (k, n_h, n_x), or
# gram's A (k, n_h, M), c (k, 1, 1) and the last A K (k, n_h, M), W1 = c W1_0 + A X.T, with
# W1_0 (n_h, n_x) the common start in masked_network_steps' state.
Net = dict[str, Any]


ForwardFirst = Callable[[], Array]  # Z1 (k, n_h, m) of the present first layer
StepFirst = Callable[[Array, Array, Array], None]  # step_first(dZ1, lr, decay)


def gram_first_layer(net: Net, K: Array, P: Array) -> tuple[ForwardFirst, StepFirst]:
    """forward_first and step_first for the Gram space: net gains A (k, n_h, M) zeros and
    c (k, 1, 1) ones, W1 = c W1_0 + A X.T; the last A K is kept as net["AK"] (for ||W1||^2)."""
    k, n_h, _ = net["b"][0].shape
    A = net["A"] = np.zeros((k, n_h, K.shape[0]))
    c = net["c"] = np.ones((k, 1, 1))
    AK = net["AK"] = np.empty_like(A)
    Z1 = np.empty_like(A)  # (k, n_h, M), reused: each step's is used within that step

    def forward_first() -> Array:  # c P + A K + b1, in place: each pass over Z1 is MBs
        np.matmul(A.reshape(-1, K.shape[0]), K, out=AK.reshape(-1, K.shape[0]))  # A K
        if (c == 1).all():  # no L2 yet: c P is P, one pass fewer
            np.add(AK, P, out=Z1)
        else:
            np.multiply(c, P, out=Z1)
            Z1[...] += AK
        Z1[...] += net["b"][0]
        return Z1

    def step_first(dZ1: Array, lr: Array, decay: Array) -> None:  # W1 -> d W1 - lr/m dZ1 X.T
        if (decay != 1).any():  # without L2, d = 1: a pass that changes nothing, skipped
            A[...] *= decay  # [...]: in place
            c[...] *= decay
        dZ1 *= lr  # dZ1 is not used again
        A[...] -= dZ1

    return forward_first, step_first


def primal_first_layer(net: Net, X: Columns, W1_0: Array) -> tuple[ForwardFirst, StepFirst]:
    """forward_first and step_first for the textbook first layer: net gains W1 (k, n_h, n_x)."""
    W1: Array = np.repeat(np.asarray(W1_0, float)[None], net["b"][0].shape[0], axis=0)
    net["W1"] = W1

    b1: Array = net["b"][0]  # (k, n_h, 1)

    def forward_first() -> Array:
        return matmul(W1.reshape(-1, X.shape[0]), X).reshape(*W1.shape[:2], -1) + b1

    def step_first(dZ1: Array, lr: Array, decay: Array) -> None:
        dW1 = matmul_transposed(dZ1.reshape(-1, X.shape[1]), X).reshape(W1.shape)  # (k, n_h, n_x)
        W1[...] *= decay
        W1[...] -= lr * dW1

    return forward_first, step_first
