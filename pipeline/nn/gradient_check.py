"""Gradient checking, the Gradient Checking assignment in its own names, on the week-4 networks of
any depth: the gradients of backprop against two-sided differences of the cost.

Pure NumPy, no I/O. The cost is the project's (L_model_forward and compute_cost), optionally with
the L2 penalty and with dropout under fixed masks (the same seed on every forward pass).
"""

from collections.abc import Callable, Sequence

import numpy as np

from pipeline.nn.dropout import forward_propagation_with_dropout
from pipeline.nn.network import L_model_forward, compute_cost
from pipeline.shapes import Array, Labels, Parameters

COURSE_LAYER_DIMS = (4, 5, 3, 1)  # the assignment's network: X (4, m) -> 5 -> 3 -> 1
THRESHOLD = 2e-7  # the assignment's line between "works perfectly fine" and "a mistake"



def layer_dims_of(parameters: Parameters) -> list[int]:
    """[n_0, n_1, ..., n_L] from W1 (n_1, n_0) ... WL (n_L, n_{L-1})."""
    L = len(parameters) // 2
    return [parameters["W1"].shape[1]] + [parameters[f"W{n}"].shape[0] for n in range(1, L + 1)]


def dictionary_to_vector(parameters: Parameters) -> tuple[Array, list[str]]:
    """theta (n, 1): W1, b1, W2, b2, ... each flattened by rows; and each entry's key, a list."""
    L = len(parameters) // 2
    pieces: list[Array] = []
    keys: list[str] = []
    for layer in range(1, L + 1):
        for key in (f"W{layer}", f"b{layer}"):
            pieces.append(np.reshape(parameters[key], (-1, 1)))
            keys += [key] * pieces[-1].shape[0]
    return np.concatenate(pieces, axis=0), keys


def vector_to_dictionary(theta: Array,
                         layer_dims: Sequence[int] = COURSE_LAYER_DIMS) -> Parameters:
    """The parameters back from theta (n, 1), laid out by dictionary_to_vector for layer_dims.

    The default is the assignment's network, whose vector_to_dictionary(theta) took no sizes.
    """
    theta = np.ravel(theta)
    sizes = [(n, n_prev) for n_prev, n in zip(layer_dims[:-1], layer_dims[1:], strict=False)]
    expected = sum(n * n_prev + n for n, n_prev in sizes)
    if theta.size != expected:
        raise ValueError(f"theta has {theta.size} entries, layer_dims {list(layer_dims)} "
                         f"need {expected}")
    parameters: Parameters = {}
    start = 0
    for layer, (n, n_prev) in enumerate(sizes, start=1):
        parameters[f"W{layer}"] = theta[start:start + n * n_prev].reshape(n, n_prev)
        start += n * n_prev
        parameters[f"b{layer}"] = theta[start:start + n].reshape(n, 1)
        start += n
    return parameters


def gradients_to_vector(gradients: dict[str, Array]) -> Array:
    """grad (n, 1): dW1, db1, dW2, db2, ... in dictionary_to_vector's order; other keys ignored."""
    L = sum(1 for key in gradients if key.startswith("dW"))
    return np.concatenate([np.reshape(gradients[f"{d}{layer}"], (-1, 1))
                           for layer in range(1, L + 1) for d in ("dW", "db")], axis=0)


def gradient_check_n(parameters: Parameters, gradients: dict[str, Array], X: Array,
                     Y: Labels, epsilon: float = 1e-7, print_msg: bool = False, *,
                     lambd: float = 0.0, keep_prob: float = 1.0, seed: int = 1,
                     cost: Callable[[Parameters], float] | None = None) -> float:
    """||grad - gradapprox|| / (||grad|| + ||gradapprox||), gradapprox by two-sided differences.

    gradapprox_i = (J(theta + epsilon e_i) - J(theta - epsilon e_i)) / (2 epsilon), J being the
    cost with the L2 penalty lambd and, for keep_prob < 1, dropout with the masks of `seed` on
    every pass (so J is one smooth function of theta). Below THRESHOLD the gradients agree.

    cost : optional function parameters -> J in place of the project's, e.g. the assignment's
        lambda p: forward_propagation_n(X, Y, p)[0]. A difference near 1e-7 is mostly rounding in
        J, so two ways of summing the same cost print different digits there.

    Returns
    -------
    difference : float
    """
    dims = layer_dims_of(parameters)
    Y = np.reshape(Y, (1, -1))

    def J(theta: Array) -> float:
        candidate = vector_to_dictionary(theta, dims)
        if cost is not None:
            return cost(candidate)
        if keep_prob == 1:
            AL, _ = L_model_forward(X, candidate)
        else:
            AL, _ = forward_propagation_with_dropout(X, candidate, keep_prob, seed)
        return compute_cost(AL, Y, candidate, lambd)

    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    gradapprox = np.zeros_like(parameters_values)
    for i in range(parameters_values.shape[0]):
        theta_plus = parameters_values.copy()
        theta_plus[i, 0] += epsilon
        theta_minus = parameters_values.copy()
        theta_minus[i, 0] -= epsilon
        gradapprox[i, 0] = (J(theta_plus) - J(theta_minus)) / (2 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = float(numerator / denominator)
    if print_msg:
        if difference > THRESHOLD:
            print(f"There is a mistake in the backward propagation! difference = {difference}")
        else:
            print(f"Your backward propagation works perfectly fine! difference = {difference}")
    return difference
