"""Momentum and learning-rate decay against the Optimization assignment's published outputs, and
their invariants: beta = 0 is gradient descent, decay_rate = 0 is no decay.

Published numbers: the Optimization assignment's expected outputs (Optimization_methods.ipynb and
its public_tests.py, e.g. greyhatguy007/deep-learning-specialization, "C2-.../week2/pogramming
assignments/W2A1/public_tests.py"), printed to 8 decimals: held to half a unit of the last one.
"""

import numpy as np
import pytest

from pipeline.nn.momentum import (
    initialize_velocity,
    schedule_lr_decay,
    update_lr,
    update_parameters_with_momentum,
)
from pipeline.nn.network import L_model_backward, L_model_forward, update_parameters

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

PRINTED = 5e-9  # half a unit of the 8th decimal


def assignment_parameters_and_grads():
    """The assignment's test case: np.random.seed(1), then randn draws in this order:
    W1 (2, 3), b1 (2, 1), W2 (3, 3), b2 (3, 1), then dW1, db1, dW2, db2 of the same shapes."""
    rng = np.random.RandomState(1)  # the same draws as np.random.seed(1)
    shapes = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 3), "b2": (3, 1)}
    parameters = {key: rng.randn(*shape) for key, shape in shapes.items()}
    grads = {"d" + key: rng.randn(*shape) for key, shape in shapes.items()}
    return parameters, grads


def test_initialize_velocity_is_zeros_under_the_gradients_keys():
    parameters, _ = assignment_parameters_and_grads()
    v = initialize_velocity(parameters)
    assert list(v) == ["dW1", "db1", "dW2", "db2"]
    for key, p in parameters.items():
        assert v["d" + key].shape == p.shape and v["d" + key].dtype == np.float64
        assert not v["d" + key].any()


def test_momentum_step_matches_the_published_output():
    parameters, grads = assignment_parameters_and_grads()
    v = initialize_velocity(parameters)
    before = {key: p.copy() for key, p in parameters.items()}

    new, v = update_parameters_with_momentum(parameters, grads, v, beta=0.9, learning_rate=0.01)

    expected = {
        "W1": [[1.62544598, -0.61290114, -0.52907334], [-1.07347112, 0.86450677, -2.30085497]],
        "b1": [[1.74493465], [-0.76027113]],
        "W2": [[0.31930698, -0.24990073, 1.4627996], [-2.05974396, -0.32173003, -0.38320915],
               [1.13444069, -1.0998786, -0.1713109]],
        "b2": [[-0.87809283], [0.04055394], [0.58207317]],
        "dW1": [[-0.11006192, 0.11447237, 0.09015907], [0.05024943, 0.09008559, -0.06837279]],
        "db1": [[-0.01228902], [-0.09357694]],
        "dW2": [[-0.02678881, 0.05303555, -0.06916608], [-0.03967535, -0.06871727, -0.08452056],
                [-0.06712461, -0.00126646, -0.11173103]],
        "db2": [[0.02344157], [0.16598022], [0.07420442]],
    }
    for key, value in expected.items():
        got = v[key] if key.startswith("d") else new[key]
        np.testing.assert_allclose(got, value, rtol=0, atol=PRINTED, err_msg=key)
    for key, p in parameters.items():  # the caller's dicts are left as they were
        np.testing.assert_array_equal(p, before[key])


def test_velocity_under_a_constant_gradient_is_the_bias_corrected_fraction():
    # v_t = beta v_{t-1} + (1 - beta) g from v_0 = 0 is (1 - beta^t) g
    parameters, grads = assignment_parameters_and_grads()
    v = initialize_velocity(parameters)
    for _ in range(5):
        parameters, v = update_parameters_with_momentum(parameters, grads, v, 0.8, 0.1)
    for key, g in grads.items():
        np.testing.assert_allclose(v[key], (1 - 0.8**5) * g, rtol=1e-14)


def test_momentum_with_beta_zero_is_gradient_descent():
    rng = np.random.default_rng(4)
    layer_dims, m = [6, 5, 3, 1], 16
    X = rng.normal(size=(layer_dims[0], m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    start = {}
    for layer in range(1, len(layer_dims)):
        start[f"W{layer}"] = rng.normal(size=(layer_dims[layer], layer_dims[layer - 1])) * 0.5
        start[f"b{layer}"] = rng.normal(size=(layer_dims[layer], 1)) * 0.1
    momentum, plain = dict(start), dict(start)
    v = initialize_velocity(start)
    for step in range(30):
        batch = np.arange(step % 4, m, 4)  # four mini-batches in turn
        AL, caches = L_model_forward(X[:, batch], momentum)
        grads = L_model_backward(AL, Y[:, batch], caches)
        momentum, v = update_parameters_with_momentum(momentum, grads, v, 0.0, 0.3)
        AL, caches = L_model_forward(X[:, batch], plain)
        plain = update_parameters(plain, L_model_backward(AL, Y[:, batch], caches), 0.3)
    for key in start:
        np.testing.assert_allclose(momentum[key], plain[key], rtol=0, atol=1e-12)
        assert not np.allclose(momentum[key], start[key])  # it moved


def test_update_lr_matches_the_published_outputs():
    assert update_lr(0.5, 2, 1) == 0.16666666666666666  # the notebook's printed value
    assert update_lr(1, 2, 1) == 0.3333333333333333  # an earlier public_tests.py's


@pytest.mark.parametrize("learning_rate0, epoch_num, decay_rate, time_interval, expected", [
    (0.5, 10, 0.3, 100, 0.5),  # the notebook's printed values
    (0.5, 100, 0.3, 100, 0.3846153846153846),
    (0.5, 100, 1, 100, 0.25),  # public_tests.py
    (0.5, 10, 1, 100, 0.5),
    (0.3, 1000, 0.25, 100, 0.085714285),  # 0.3 / 3.5, cut (not rounded) at 9 decimals
    (0.3, 100, 0.25, 100, 0.24),
])
def test_schedule_lr_decay_matches_the_published_outputs(learning_rate0, epoch_num, decay_rate,
                                                         time_interval, expected):
    got = schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval)
    assert got == pytest.approx(expected, rel=0, abs=1e-9)


def test_schedule_lr_decay_steps_every_time_interval_epochs():
    assert schedule_lr_decay(0.5, 999, 1) == 0.5  # the default interval: 1000 epochs
    assert schedule_lr_decay(0.5, 1000, 1) == 0.25
    assert [schedule_lr_decay(1.0, e, 1, 3) for e in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 1 / 3]


@pytest.mark.parametrize("epoch_num", [0, 1, 7, 1000, 12345])
def test_a_decay_rate_of_zero_is_no_decay(epoch_num):
    assert update_lr(0.0075, epoch_num, 0) == 0.0075
    assert schedule_lr_decay(0.0075, epoch_num, 0) == 0.0075
    assert schedule_lr_decay(0.0075, epoch_num, 0, time_interval=3) == 0.0075
