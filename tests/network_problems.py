"""Small network problems and comparisons shared by the tests of nn/network.py and of the
network engines (engines/network.py, engines/masked_network.py), and the notebook's numbers."""

import numpy as np

from pipeline.nn.network import initialize_parameters_deep, predict

TWO_LAYER = (12288, 7, 1)


L_LAYER = [12288, 20, 7, 5, 1]


# The notebook's printed costs: two-layer to all digits, L-layer to 6 decimals.
TWO_LAYER_COSTS = {0: 0.6930497356599888, 100: 0.6464320953428849, 2400: 0.048554785628770206}


L_LAYER_COSTS = {0: 0.771749, 100: 0.672053, 200: 0.648263, 2400: 0.092878}


def random_problem(layer_dims, m, seed):
    """X (n_x, m) scaled to spectral norm <= 1, so lr 0.1 is a stable step; 0/1 labels Y."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(layer_dims[0], m))
    X /= max(1.0, np.linalg.norm(X, 2))
    Y = rng.integers(0, 2, size=(1, m)).astype(float)
    return X, Y, initialize_parameters_deep(layer_dims, seed=seed % 2**32)


def assert_parameters_close(got, want, rtol=1e-9, atol=1e-15):
    """Close relative to each parameter's size, and within atol of it: weights that L2 decays
    from O(1) towards 0 (2e-13 after 201 steps) keep the absolute rounding of their O(1) past,
    which another summation order moves."""
    assert got.keys() == want.keys()
    for key in want:
        scale = np.abs(want[key]).max()
        assert np.abs(got[key] - want[key]).max() <= rtol * scale + atol, key


def counts_right(X, Y, parameters):
    return int(np.sum(predict(X, parameters) == Y))
