"""Momentum and learning-rate decay, the second course's Optimization assignment in its own names.

Pure NumPy, no I/O. Parameters are the course's dict {"W1": (n_1, n_0), "b1": (n_1, 1), ...,
"WL", "bL"}; gradients and velocities use the gradients' keys {"dW1", "db1", ...}.
"""

import math

import numpy as np

from pipeline.shapes import Array

Arrays = dict[str, Array]  # parameters {"W1", "b1", ...}, or gradients, velocities {"dW1", ...}
# a number, or a column (k, 1) of rates for k neurons trained side by side
Rate = float | Array


def initialize_velocity(parameters: Arrays) -> Arrays:
    """v: zeros shaped like each parameter, under the gradients' keys "dW1", "db1", ..."""
    L = len(parameters) // 2
    v: Arrays = {}
    for layer in range(1, L + 1):
        v[f"dW{layer}"] = np.zeros_like(parameters[f"W{layer}"], dtype=float)
        v[f"db{layer}"] = np.zeros_like(parameters[f"b{layer}"], dtype=float)
    return v


def update_parameters_with_momentum(parameters: Arrays, grads: Arrays, v: Arrays, beta: float,
                                    learning_rate: Rate) -> tuple[Arrays, Arrays]:
    """One step of gradient descent with momentum: v = beta v + (1 - beta) g, param -= lr v.

    v is an exponentially weighted average of the gradients; with beta = 0 it is the gradient and
    the step is plain gradient descent. The inputs are not modified.

    Returns
    -------
    parameters, v : new dicts of the same keys and shapes as the inputs
    """
    new_parameters: Arrays = {}
    new_v: Arrays = {}
    for key, p in parameters.items():
        d = "d" + key
        new_v[d] = beta * v[d] + (1 - beta) * grads[d]
        new_parameters[key] = p - learning_rate * new_v[d]
    return new_parameters, new_v


def update_lr(learning_rate0: Rate, epoch_num: int, decay_rate: float) -> Rate:
    """Inverse-time decay: learning_rate0 / (1 + decay_rate * epoch_num)."""
    return learning_rate0 / (1 + decay_rate * epoch_num)


def schedule_lr_decay(learning_rate0: Rate, epoch_num: int, decay_rate: float,
                      time_interval: int = 1000) -> Rate:
    """Inverse-time decay in steps: lr0 / (1 + decay_rate * floor(epoch_num / time_interval)).

    The rate holds for time_interval epochs, then drops; the course's 1000 suits its 5,000 epochs.
    """
    return learning_rate0 / (1 + decay_rate * math.floor(epoch_num / time_interval))
