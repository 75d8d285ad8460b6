"""Inverted dropout against the Regularization assignment's published outputs, and keep_prob = 1
against the week-4 network, bit for bit, at several depths.

Published numbers: the assignment's forward_propagation_with_dropout and
backward_propagation_with_dropout expected outputs (the Regularization notebook prints A3, dA1 and
dA2; its later public_tests.py the whole cache and every gradient), printed to 8 decimals. The
backward test case's cache is the assignment's testCases.py (e.g. amanchadha/coursera-deep-
learning-specialization, "C2 - .../Week 1/Regularization/testCases.py").
"""

import numpy as np
import pytest
from course_oracles import random_network

from pipeline.nn.dropout import backward_propagation_with_dropout, forward_propagation_with_dropout
from pipeline.nn.network import L_model_backward, L_model_forward

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

PRINTED = 5e-9  # half a unit of the 8th decimal
T, F = True, False


def assignment_network():
    """np.random.seed(1), then randn: X (3, 5), W1 (2, 3), b1 (2, 1), W2 (3, 2), b2 (3, 1),
    W3 (1, 3), b3 (1, 1)."""
    rng = np.random.RandomState(1)
    X = rng.randn(3, 5)
    shapes = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 2), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}
    return X, {key: rng.randn(*shape) for key, shape in shapes.items()}


def test_forward_matches_the_published_output():
    X, parameters = assignment_network()
    A3, cache = forward_propagation_with_dropout(X, parameters, keep_prob=0.7)
    np.testing.assert_allclose(A3, [[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]],
                               rtol=0, atol=PRINTED)
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3_cached, W3, b3 = cache
    np.testing.assert_array_equal(D1, [[T, F, T, T, T], [T, T, T, T, T]])
    np.testing.assert_array_equal(D2, [[T, T, T, F, T], [T, T, T, T, T], [F, F, T, T, F]])
    published = {
        "A1": (A1, [[0, 0, 3.05706487, 3.72429505, 0], [0, 5.94299915, 1.1293003, 2.09276446, 0]]),
        "Z2": (Z2, [[0.53035547, 5.88414161, 3.08385015, 4.28707196, 0.53035547],
                    [-0.69166075, -1.42199726, -2.92064114, -3.49524533, -0.69166075],
                    [-0.39675353, -1.98881216, -3.55998747, -4.44246165, -0.39675353]]),
        "A2": (A2, [[0.75765067, 8.40591658, 4.40550021, 0, 0.75765067], [0] * 5, [0] * 5]),
        "Z3": (Z3, [[-0.53330145, -5.78898099, -3.04000407, -0.0126646, -0.53330145]]),
    }
    for name, (got, value) in published.items():
        np.testing.assert_allclose(got, value, rtol=0, atol=PRINTED, err_msg=name)
    assert A3_cached is A3
    for got, key in ((W1, "W1"), (b1, "b1"), (W2, "W2"), (b2, "b2"), (W3, "W3"), (b3, "b3")):
        assert got is parameters[key]


def assignment_cache():
    """The assignment's backward test case, a keep_prob = 0.8 cache printed to 8 decimals."""
    return (
        np.array([[-1.52855314, 3.32524635, 2.13994541, 2.60700654, -0.75942115],
                  [-1.98043538, 4.1600994, 0.79051021, 1.46493512, -0.45506242]]),
        np.array([[T, F, T, T, T], [T, T, T, T, F]]),
        np.array([[0, 0, 4.27989081, 5.21401307, 0], [0, 8.32019881, 1.58102041, 2.92987024, 0]]),
        np.array([[-1.09989127, -0.17242821, -0.87785842], [0.04221375, 0.58281521, -1.10061918]]),
        np.array([[1.14472371], [0.90159072]]),
        np.array([[0.53035547, 8.02565606, 4.10524802, 5.78975856, 0.53035547],
                  [-0.69166075, -1.71413186, -3.81223329, -4.61667916, -0.69166075],
                  [-0.39675353, -2.62563561, -4.82528105, -6.0607449, -0.39675353]]),
        np.array([[T, F, T, F, T], [F, T, F, T, T], [F, F, T, F, F]]),
        np.array([[1.06071093, 0, 8.21049603, 0, 1.06071093], [0] * 5, [0] * 5]),
        np.array([[0.50249434, 0.90085595], [-0.68372786, -0.12289023],
                  [-0.93576943, -0.26788808]]),
        np.array([[0.53035547], [-0.69166075], [-0.39675353]]),
        np.array([[-0.7415562, -0.0126646, -5.65469333, -0.0126646, -0.7415562]]),
        np.array([[0.32266394, 0.49683389, 0.00348883, 0.49683389, 0.32266394]]),
        np.array([[-0.6871727, -0.84520564, -0.67124613]]),
        np.array([[-0.0126646]]),
    )


def test_backward_matches_the_published_output():
    X = np.random.RandomState(1).randn(3, 5)  # np.random.seed(1); randn(3, 5)
    Y = np.array([[1, 1, 0, 1, 0]])
    gradients = backward_propagation_with_dropout(X, Y, assignment_cache(), keep_prob=0.8)
    expected = {
        "dZ3": [[-0.67733606, -0.50316611, 0.00348883, -0.50316611, 0.32266394]],
        "dW3": [[-0.06951191, 0, 0]],
        "db3": [[-0.2715031]],
        "dA2": [[0.58180856, 0, -0.00299679, 0, -0.27715731],
                [0, 0.53159854, 0, 0.53159854, -0.34089673],
                [0, 0, -0.00292733, 0, 0]],
        "dZ2": [[0.58180856, 0, -0.00299679, 0, -0.27715731], [0] * 5, [0] * 5],
        "dW2": [[-0.00256518, -0.0009476], [0, 0], [0, 0]],
        "db2": [[0.06033089], [0], [0]],
        "dA1": [[0.36544439, 0, -0.00188233, 0, -0.17408748],
                [0.65515713, 0, -0.00337459, 0, 0]],
        "dZ1": [[0, 0, -0.00188233, 0, 0], [0, 0, -0.00337459, 0, 0]],
        "dW1": [[0.00019884, 0.00028657, 0.00012138], [0.00035647, 0.00051375, 0.00021761]],
        "db1": [[-0.00037647], [-0.00067492]],
    }
    assert set(gradients) == set(expected)
    # One unit of the 8th decimal, not half: the cache's Z3 and A3 are each rounded to 8 decimals,
    # and the sigmoid layer's step here (as L_model_backward's) takes s = sigmoid(Z3), which is
    # up to 2.3e-9 off the printed A3 the assignment used; through W3 and 1 / 0.8 that moves dA1
    # by 6.0e-9.
    for key, value in expected.items():
        np.testing.assert_allclose(gradients[key], value, rtol=0, atol=2 * PRINTED, err_msg=key)


@pytest.mark.parametrize("layer_dims", [[4, 1], [5, 3, 1], [6, 5, 4, 1], [7, 6, 5, 4, 3, 1]])
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_keep_prob_one_is_the_week4_network_exactly(layer_dims, lambd):
    X, Y, parameters = random_network(layer_dims, 9, seed=len(layer_dims))
    AL, cache = forward_propagation_with_dropout(X, parameters, keep_prob=1.0)
    AL_ref, caches = L_model_forward(X, parameters)
    np.testing.assert_array_equal(AL, AL_ref)
    grads = backward_propagation_with_dropout(X, Y, cache, 1.0, lambd)
    grads_ref = L_model_backward(AL_ref, Y, caches, lambd)
    L = len(layer_dims) - 1
    for layer in range(1, L + 1):
        for key in (f"dW{layer}", f"db{layer}"):
            np.testing.assert_array_equal(grads[key], grads_ref[key], err_msg=key)
    for layer in range(1, L):  # the hidden layers' dA
        np.testing.assert_array_equal(grads[f"dA{layer}"], grads_ref[f"dA{layer}"])


def test_the_masks_drop_units_and_scale_the_rest():
    X, Y, parameters = random_network([6, 400, 300, 1], 50, seed=3)
    AL, cache = forward_propagation_with_dropout(X, parameters, keep_prob=0.6, seed=5)
    Z1, D1, A1 = cache[:3]
    np.testing.assert_array_equal(A1, np.maximum(0, Z1) * D1 / 0.6)
    assert D1.mean() == pytest.approx(0.6, abs=0.01)  # 20,000 draws: within 3 standard deviations
    # masks from the seed, layer by layer; the same seed gives the same masks
    rng = np.random.RandomState(5)
    np.testing.assert_array_equal(D1, rng.rand(400, 50) < 0.6)
    np.testing.assert_array_equal(cache[6], rng.rand(300, 50) < 0.6)
    again, cache_again = forward_propagation_with_dropout(X, parameters, keep_prob=0.6, seed=5)
    np.testing.assert_array_equal(again, AL)
    other, cache_other = forward_propagation_with_dropout(X, parameters, keep_prob=0.6, seed=6)
    assert not np.array_equal(cache_other[1], D1)
    # the backward pass passes no gradient through a dropped unit
    grads = backward_propagation_with_dropout(X, Y, cache, 0.6)
    assert not grads["dA1"][~D1].any() and not grads["dA2"][~cache[6]].any()


def test_dropout_leaves_numpys_global_generator_alone():
    X, _, parameters = random_network([4, 3, 1], 5, seed=0)
    np.random.seed(7)
    expected = np.random.rand(2)
    np.random.seed(7)
    forward_propagation_with_dropout(X, parameters, keep_prob=0.5)
    np.testing.assert_array_equal(np.random.rand(2), expected)


@pytest.mark.parametrize("keep_prob", [0.0, -0.1, 1.5, float("nan")])
def test_keep_prob_outside_zero_one_is_refused(keep_prob):
    X, Y, parameters = random_network([4, 3, 1], 5, seed=0)
    with pytest.raises(ValueError, match="keep_prob must be in"):
        forward_propagation_with_dropout(X, parameters, keep_prob)
    _, cache = forward_propagation_with_dropout(X, parameters, 0.5)
    with pytest.raises(ValueError, match="keep_prob must be in"):
        backward_propagation_with_dropout(X, Y, cache, keep_prob)


def test_a_cache_of_the_wrong_length_is_refused():
    X, Y, parameters = random_network([4, 3, 1], 5, seed=0)
    _, cache = forward_propagation_with_dropout(X, parameters, 0.5)
    with pytest.raises(ValueError, match="5 entries a hidden layer"):
        backward_propagation_with_dropout(X, Y, cache[1:], 0.5)
