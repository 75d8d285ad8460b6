"""engines/fit.py: the divergence rule every fit is refused by, the second course's start, and
the CNN's start, step and scores."""

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


def test_a_minibatch_curve_is_held_to_its_start_not_to_its_first_running_mean():
    """A mini-batch run's first point is a running mean over its first epoch, which a diverging
    rate has already blown up; the base is the first batch's cost under the start."""
    weights, costs = {"W1": np.ones((1, 3))}, np.array([1e300, 1e301])
    assert not diverged(weights, costs)
    assert diverged(weights, costs, start=0.69)


def test_a_minibatch_network_whose_cost_grew_but_stayed_finite_is_refused(features):
    """lr 1000 blows the two-layer network's cost up to a finite 1e8 and more within its first
    epoch, so its first running mean is no base: the start's cost is."""
    from pipeline.engines.fit import train
    from pipeline.errors import UserError
    from pipeline.settings import Optimizer, Settings

    settings = Settings("two-layer", (12288, 7, 1), 1000.0, 0,
                        optimizer=Optimizer("minibatch", 64, 1))
    with pytest.raises(UserError, match="learning rate 1000.0 diverged"):
        train(features, settings)


# ---- the second course's start ---------------------------------------------------------------


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


def test_the_cnn_starts_steps_and_scores_through_its_own_functions(features):
    from dataclasses import replace

    from pipeline.engines.fit import model_of, propagate_of, start_of, train
    from pipeline.errors import UserError
    from pipeline.nn import cnn
    from pipeline.settings import Optimizer, Settings

    settings = Settings("cnn", (12288, 12288 * 2 // 3, 8 * 8 * 2, 1), 0.003, 0,
                        optimizer=Optimizer("adam", 64, 1), init="he", architecture="2x2 p8")
    start = start_of(settings)
    assert start["W1"].shape == (2, 2, 3, 2) and start["W2"].shape == (1, 128)
    assert model_of(settings, start)[cnn.POOLS].tolist() == [8.0]
    assert cnn.POOLS not in model_of(Settings("l-layer", (48, 3, 1), 0.1, 1), {"W1": start["W1"]})
    X, Y = features["X_train"][:, :4], features["Y_train"][:, :4]
    cost, grads, z = propagate_of(settings)(start, X, Y, 0.0)
    assert z.shape == (1, 4) and grads.keys() == {"dW1", "db1", "dW2", "db2"} and cost > 0
    with pytest.raises(UserError, match="the CNN trains on mini-batches"):
        train(features, replace(settings, optimizer=Optimizer()))
