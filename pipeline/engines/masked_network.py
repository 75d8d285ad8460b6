"""The week-4 networks for cross-validation: R networks on masked columns, in one product a step.

Every row starts from the same parameters; row r trains on the columns where train_mask[r] is 1,
with its own m_r, learning rate, L2 strength and dropout keep_prob. The first layer lives in the
Gram space (see pipeline.engines.network): W1 = c W1_0 + A X.T, with A zero outside the row's
columns, since dZL is masked and every gradient is a combination of the masked columns. So a
row's iterates are those of a separate textbook fit on its columns, while the scores cover all M
columns, the held-out ones included. Dropout keeps this form (dZ1 is still masked): each step
draws one uniform array per hidden layer over all M columns, and row r keeps the units below its
keep_prob, so its masks are those of a separate fit fed that draw on its columns. Pure NumPy, no
I/O.
"""

from collections.abc import Callable, Iterable

import numpy as np

from pipeline.engines.first_layer import Net, gram_first_layer
from pipeline.engines.logistic import Tick
from pipeline.engines.network import descend, stack_network, unstack_network
from pipeline.shapes import Array, Parameters, check_shape


def masked_network_steps(K: Array, P: Array, Y: Array, parameters: Parameters, *,
                         lr: Array, l2: Array, train_mask: Array, num_iterations: int,
                         at: Iterable[int], checkpoint: Callable[[int, Array], None],
                         tick: Tick | None = None, keep_prob: Array | None = None,
                         rng: np.random.RandomState | None = None) -> Net:
    """R networks in the Gram space, row r trained on the columns where train_mask[r] is 1.

    Parameters
    ----------
    K : ndarray of shape (M, M), X.T X over all the columns any row may see
    P : ndarray of shape (n_h, M), W1_0 X with W1_0 = parameters["W1"]
    Y : ndarray of shape (1, M)
    parameters : the course's dict W1, b1, ..., WL, bL, every row's start (W1 enters via P)
    lr, l2 : ndarrays of shape (R, 1), each row's learning rate and L2 strength
    train_mask : ndarray of shape (R, M), 0/1; row r's m is its row sum
    at : the step counts i (0 <= i <= num_iterations) at which checkpoint(i, ZL) is called with
        ZL (R, M), every row's last pre-activation on all M columns, before step i
        (i = num_iterations: after the last step)
    tick : called with i after step i, if given
    keep_prob : optional ndarray of shape (R, 1), each row's inverted dropout on the hidden
        layers (1: none, bit for bit); rng draws the masks, and is needed when any is below 1

    Returns
    -------
    dict with A (R, n_h, M), c (R,), W (list of (R, n_l, n_{l-1}) for l = 2..L), b (list of
    (R, n_l, 1) for l = 1..L) and W1_0: row r's W1 is c[r] W1_0 + A[r] X.T (see row_parameters)
    """
    R, M = train_mask.shape
    for name, array, expected in (("K", K, (M, M)), ("P", P, (P.shape[0], M)), ("Y", Y, (1, M))):
        check_shape(name, array, expected, of=("train_mask", train_mask))
    m = np.maximum(train_mask.sum(axis=1), 1).reshape(R, 1, 1)  # (R, 1, 1): each row's m_r
    lr = np.asarray(lr, dtype=float).reshape(R, 1, 1)
    decay = 1 - lr * np.asarray(l2, dtype=float).reshape(R, 1, 1) / m  # (R, 1, 1)
    weight = train_mask[:, None, :] / m  # (R, 1, M): dZL = mask / m_r * (AL - Y)
    keep = None if keep_prob is None else np.asarray(keep_prob, dtype=float).reshape(R, 1, 1)
    dropout = None
    if keep is not None and (keep < 1).any():
        if rng is None:
            raise ValueError("keep_prob below 1 needs an rng to draw the dropout masks")
        dropout = (keep, rng)
    net = stack_network(parameters, R)
    forward_first, step_first = gram_first_layer(net, K, P)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging row goes non-finite
        descend(net, forward_first, step_first, Y, lr=lr, decay=decay, weight=weight,
                num_iterations=num_iterations, at=at,
                checkpoint=lambda i, ZL: checkpoint(i, ZL[:, 0]), tick=tick, dropout=dropout)
    return {"A": net["A"], "c": net["c"][:, 0, 0], "W": net["W"], "b": net["b"],
            "W1_0": np.asarray(parameters["W1"], dtype=float)}


def row_parameters(state: Net, r: int, X: Array) -> Parameters:
    """Row r of masked_network_steps' state as a course parameters dict; X (n_x, M)."""
    W1 = state["c"][r] * state["W1_0"] + state["A"][r] @ X.T  # (n_h, n_x)
    return unstack_network(W1, state, r)
