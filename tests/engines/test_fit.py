"""engines/fit.py: the divergence rule every fit is refused by."""

import numpy as np
import pytest

from pipeline.engines.fit import diverged

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


@pytest.mark.parametrize("weights, costs, expected", [
    ({"W1": np.ones((1, 3))}, [0.69, 0.2], False),
    ({"W1": np.ones((1, 3))}, [0.69, 3.0], False),  # worse, not diverged: the curve shows it
    ({"W1": np.array([[1.0, np.inf]])}, [0.69, 0.2], True),
    ({"W1": np.array([[1.0, np.nan]])}, [0.69, 0.2], True),
    ({"W1": np.ones((1, 3))}, [0.69, np.nan], True),  # finite weights, scores overflowed
    ({"W1": np.ones((1, 3))}, [0.69, np.inf], True),
    ({"W1": np.full((1, 3), 1e299)}, [0.69, 1.6e307], True),  # finite, a millionfold and more
    ({"W1": np.ones((1, 3))}, [0.69, 0.99e6], False),
])
def test_diverged_is_any_non_finite_value_or_a_cost_grown_a_millionfold(weights, costs,
                                                                          expected):
    assert diverged(weights, np.array(costs)) is expected


# ---- the second course's start and dropout, through the fit's engines ------------------------


def small_set(m=30, n_x=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    return X, (X[:1] + 0.3 * X[1:2] > 0).astype(float)


def test_he_start_is_the_assignments_draw_for_either_network():
    from pipeline.engines.fit import initial_parameters
    from pipeline.nn.initialization import initialize_parameters_he

    for model, dims in (("two-layer", (8, 4, 1)), ("l-layer", (8, 5, 3, 1))):
        start = initial_parameters(model, dims, "he", 1)
        expected = initialize_parameters_he(list(dims), seed=1)
        assert start.keys() == expected.keys()
        for key in start:
            np.testing.assert_array_equal(start[key], expected[key])
        course = initial_parameters(model, dims, "course", 1)
        assert not np.array_equal(course["W1"], start["W1"])


def textbook_dropout_loop(X, Y, parameters, lr, steps, keep_prob, seed):
    """Full-batch gradient descent one step at a time through the layered propagate, each
    step's masks drawn from one RandomState(seed), layer by layer."""
    from pipeline.nn.layers import propagate

    rng, parameters = np.random.RandomState(seed), dict(parameters)
    for _ in range(steps):
        _, grads, _ = propagate(parameters, X, Y, 0.0, (keep_prob, rng))
        parameters = {k: p - lr * grads[f"d{k}"] for k, p in parameters.items()}
    return parameters


@pytest.mark.parametrize("engine", ["gram", "primal"])
def test_dropout_in_the_network_engines_is_the_textbook_loop(engine):
    from pipeline.engines.network import train_networks
    from pipeline.nn.network import initialize_parameters_deep

    X, Y = small_set()
    start = initialize_parameters_deep([8, 5, 3, 1], seed=1)
    expected = textbook_dropout_loop(X, Y, start, 0.1, 40, 0.7, seed=5)
    run = train_networks(X, Y, start, [0.1, 0.1], 40, X_test=X, Y_test=Y, engine=engine,
                         dropout=(0.7, np.random.RandomState(5)))
    for got in run["parameters"]:  # both rates, one mask a step: as two separate fits
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-10)
    plain = train_networks(X, Y, start, [0.1], 40, X_test=X, Y_test=Y, engine=engine)
    assert not np.allclose(plain["parameters"][0]["W1"], expected["W1"], atol=1e-6)


@pytest.mark.parametrize("engine", ["gram", "primal"])
def test_keep_prob_one_is_no_dropout(engine):
    from pipeline.engines.network import train_networks
    from pipeline.nn.layers import propagate
    from pipeline.nn.network import initialize_parameters_deep

    X, Y = small_set(seed=3)
    start = initialize_parameters_deep([8, 5, 3, 1], seed=2)
    kept = train_networks(X, Y, start, [0.2], 30, X_test=X, Y_test=Y, engine=engine,
                          dropout=(1.0, np.random.RandomState(0)))
    plain = train_networks(X, Y, start, [0.2], 30, X_test=X, Y_test=Y, engine=engine)
    for key in plain["parameters"][0]:
        np.testing.assert_array_equal(kept["parameters"][0][key], plain["parameters"][0][key])
    with_masks = propagate(start, X, Y, 0.3, (1.0, np.random.RandomState(0)))
    without = propagate(start, X, Y, 0.3)
    assert with_masks[0] == without[0]
    for key in without[1]:
        np.testing.assert_array_equal(with_masks[1][key], without[1][key])
