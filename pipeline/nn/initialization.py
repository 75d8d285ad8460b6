"""He initialization, the second course's Initialization assignment in its own names. Pure NumPy."""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def initialize_parameters_he(layers_dims: Sequence[int],
                             seed: int = 3) -> dict[str, NDArray[np.float64]]:
    """W_l = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1}), b_l zeros, for l = 1 .. len(layers_dims) - 1.

    The assignment's draw: np.random.seed(3), then W1, W2, ... layer by layer (taken here from a
    RandomState(seed), the same numbers without touching NumPy's global generator). The variance
    2 / n_{l-1} keeps the ReLU layers' activations at about the same scale from layer to layer.
    """
    rng = np.random.RandomState(seed)
    parameters: dict[str, NDArray[np.float64]] = {}
    for layer in range(1, len(layers_dims)):
        n, n_prev = layers_dims[layer], layers_dims[layer - 1]
        parameters[f"W{layer}"] = rng.randn(n, n_prev) * np.sqrt(2 / n_prev)
        parameters[f"b{layer}"] = np.zeros((n, 1))
    return parameters
