"""The second course's optimizers (Improving Deep Neural Networks, week 2), in its own names.

Pure NumPy, no I/O. Parameters are the course's dict {"W1": (n_1, n_0), "b1": (n_1, 1), ...,
"WL", "bL"} and gradients {"dW1", "db1", ...}.

The course's `random_mini_batches` copies all of X shuffled (2.5 GB at m = 25,000 images);
`mini_batch_indices` draws the same batches as index arrays, so that the training loop
(pipeline.engines.minibatch) gathers each batch's columns only when it needs them.
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.shapes import Array

Arrays = dict[str, Array]  # parameters {"W1", "b1", ...}, or gradients and moments {"dW1", ...}
# a number, or a column (k, 1) of rates for k neurons trained side by side
Rate = float | Array
AdamStep = tuple[Arrays, Arrays, Arrays, Arrays, Arrays]  # parameters, v, s, v_ and s_corrected


def mini_batch_indices(m: int, mini_batch_size: int = 64,
                       seed: int = 0) -> list[NDArray[np.int64]]:
    """The columns of each of random_mini_batches' batches: a list of index arrays.

    The course's draw: np.random.seed(seed); np.random.permutation(m), then consecutive slices of
    mini_batch_size, the last one smaller when m is not a multiple of it.
    """
    if mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    permutation = np.random.RandomState(seed).permutation(m)  # = np.random.seed(seed) + draw
    return [permutation[k:k + mini_batch_size] for k in range(0, m, mini_batch_size)]


def minibatch_steps(m: int, mini_batch_size: int, num_epochs: int) -> int:
    """The updates of num_epochs epochs over m columns: epochs x len(mini_batch_indices(m,
    mini_batch_size)), a size above m being one batch of m."""
    if mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    return num_epochs * -(-m // mini_batch_size)  # the ceiling of m / mini_batch_size


def random_mini_batches(X: Array, Y: NDArray[Any], mini_batch_size: int = 64,
                        seed: int = 0) -> list[tuple[Array, NDArray[Any]]]:
    """The course's list of (mini_batch_X, mini_batch_Y), each (n_x, size) and (1, size).

    Every batch is a copy: for a large X prefer mini_batch_indices and gather one at a time.
    """
    return [(X[:, idx], Y[:, idx]) for idx in mini_batch_indices(X.shape[1], mini_batch_size, seed)]


def update_parameters_with_gd(parameters: Arrays, grads: Arrays, learning_rate: Rate) -> Arrays:
    """One gradient-descent step: param -= learning_rate * d(param). Returns new parameters.

    learning_rate : a number, or a column (k, 1) for parameters whose k rows are k neurons
    trained side by side (each row then takes its own rate)"""
    return {key: p - learning_rate * grads["d" + key] for key, p in parameters.items()}


def initialize_adam(parameters: Arrays) -> tuple[Arrays, Arrays]:
    """v, s: zeros shaped like each parameter, under the gradients' keys ("dW1", "db1", ...)."""
    v = {"d" + key: np.zeros_like(p, dtype=float) for key, p in parameters.items()}
    s = {"d" + key: np.zeros_like(p, dtype=float) for key, p in parameters.items()}
    return v, s


def update_parameters_with_adam(parameters: Arrays, grads: Arrays, v: Arrays, s: Arrays, t: int,
                                learning_rate: Rate = 0.01, beta1: float = 0.9,
                                beta2: float = 0.999, epsilon: float = 1e-8) -> AdamStep:
    """One Adam step, t (>= 1) being the number of Adam steps so far, this one included.

    v is the moving average of the gradients and s of their squares; dividing by 1 - beta^t
    undoes their start at zero (at t = 1, v_corrected = g and s_corrected = g^2, so the first step
    is `learning_rate * g / (abs(g) + epsilon)`, about learning_rate in every coordinate).
    The inputs are not modified. The step is elementwise: learning_rate may be a column (k, 1),
    one rate per row, as in update_parameters_with_gd.

    Returns
    -------
    parameters, v, s, v_corrected, s_corrected : dicts of the same shapes as the inputs
    """
    new_parameters: Arrays = {}
    new_v: Arrays = {}
    new_s: Arrays = {}
    v_corrected: Arrays = {}
    s_corrected: Arrays = {}
    for key, p in parameters.items():
        d = "d" + key
        g = grads[d]
        new_v[d] = beta1 * v[d] + (1 - beta1) * g
        new_s[d] = beta2 * s[d] + (1 - beta2) * g**2
        v_corrected[d] = new_v[d] / (1 - beta1**t)
        s_corrected[d] = new_s[d] / (1 - beta2**t)
        step = v_corrected[d] / (np.sqrt(s_corrected[d]) + epsilon)  # about +-1 per coordinate
        new_parameters[key] = p - learning_rate * step
    return new_parameters, new_v, new_s, v_corrected, s_corrected


def adam_in_place(parameters: Arrays, grads: Arrays, v: Arrays, s: Arrays, t: int, *,
                  learning_rate: Rate = 0.01, beta1: float = 0.9, beta2: float = 0.999,
                  epsilon: float = 1e-8) -> None:
    """update_parameters_with_adam's step written into parameters, v and s themselves: the same
    operations in the same order, so the same values bit for bit, without the five new arrays a
    step (a third of a one-neuron Adam step at n_x = 12288). The training loop's; the course's
    function above is its oracle (tests/nn/test_optimizers.py)."""
    for key, p in parameters.items():
        d = "d" + key
        g, v_d, s_d = grads[d], v[d], s[d]
        work = np.multiply(g, 1 - beta1)  # (1 - beta1) g
        v_d *= beta1
        v_d += work  # v = beta1 v + (1 - beta1) g
        np.multiply(g, g, out=work)
        work *= 1 - beta2
        s_d *= beta2
        s_d += work  # s = beta2 s + (1 - beta2) g^2
        step = v_d / (1 - beta1**t)  # v_corrected
        np.divide(s_d, 1 - beta2**t, out=work)  # s_corrected
        np.sqrt(work, out=work)
        work += epsilon
        step /= work
        p -= learning_rate * step
