"""He initialization against the Initialization assignment's published outputs.

Published numbers, printed to 8 decimals: layers_dims [2, 4, 1] in the assignment notebook's
expected output, and [3, 1, 2] in its later public_tests.py (initialize_parameters_he_test).
"""

import numpy as np
import pytest

from pipeline.nn.initialization import initialize_parameters_he

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

PRINTED = 5e-9  # half a unit of the 8th decimal


def assert_parameters(parameters, expected):
    assert list(parameters) == list(expected)
    for key, value in expected.items():
        assert parameters[key].shape == np.shape(value), key
        np.testing.assert_allclose(parameters[key], value, rtol=0, atol=PRINTED, err_msg=key)


def test_he_matches_the_notebooks_published_output():
    assert_parameters(initialize_parameters_he([2, 4, 1]), {
        "W1": [[1.78862847, 0.43650985], [0.09649747, -1.8634927], [-0.2773882, -0.35475898],
               [-0.08274148, -0.62700068]],
        "b1": [[0.0], [0.0], [0.0], [0.0]],
        "W2": [[-0.03098412, -0.33744411, -0.92904268, 0.62552248]],
        "b2": [[0.0]],
    })


def test_he_matches_the_public_tests_published_output():
    assert_parameters(initialize_parameters_he([3, 1, 2]), {
        "W1": [[1.46040903, 0.3564088, 0.07878985]],
        "b1": [[0.0]],
        "W2": [[-2.63537665], [-0.39228616]],
        "b2": [[0.0], [0.0]],
    })


def test_he_draws_layer_by_layer_scaled_by_sqrt_2_over_fan_in():
    # seed 3, then one randn draw per layer in order: W_l = draw * sqrt(2 / n_{l-1})
    layers_dims = [5, 4, 3, 1]
    rng = np.random.RandomState(3)
    parameters = initialize_parameters_he(layers_dims)
    for layer in range(1, len(layers_dims)):
        draw = rng.randn(layers_dims[layer], layers_dims[layer - 1])
        np.testing.assert_array_equal(parameters[f"W{layer}"],
                                      draw * np.sqrt(2 / layers_dims[layer - 1]))
        np.testing.assert_array_equal(parameters[f"b{layer}"], np.zeros((layers_dims[layer], 1)))


def test_he_leaves_numpys_global_generator_alone():
    np.random.seed(123)
    expected = np.random.rand(3)
    np.random.seed(123)
    initialize_parameters_he([4, 3, 1])
    np.testing.assert_array_equal(np.random.rand(3), expected)
