"""cv/gram.py: the batched masked folds equal a separate fit of each fold, and the progress bar
hears every iteration."""

import numpy as np
import pytest

from pipeline.columns import flipped
from pipeline.cv.gram import cross_validate
from pipeline.cv.summary import GridPoint
from pipeline.engines.logistic import gradient_descent
from pipeline.nn.logistic import log_loss

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def test_cross_validate_matches_a_separate_fit_of_each_fold_on_the_real_data(features):
    result = cross_validate(features, folds=3, repeats=1, seed=7, learning_rates=[0.005],
                            num_iterations=200, l2s=[0.0, 10.0], augments=["none", "flip"])
    X, Y = features["X_train"], features["Y_train"]
    fold_of = result["fold_of"][0]
    assert result["val_accuracy"].shape == (3, 4, 2)  # folds x grid x candidates (100, 200)
    for f in range(3):
        train, val = fold_of != f, fold_of == f
        for g, point in enumerate(result["grid"]):
            Xf, Yf = X[:, train], Y[:, train]
            if point.augment == "flip":
                Xf = flipped(Xf, features["image_shape"])
                Yf = np.hstack([Yf, Yf])
            run = gradient_descent(Xf, Yf, [point.learning_rate], 200, X[:, val], Y[:, val],
                                   engine="primal", l2=point.l2)
            Z = run["w"][:, 0] @ X[:, val] + run["b"][0]
            expected = 100 * np.mean((Z > 0) == (Y[0, val] == 1))
            assert result["val_accuracy"][f, g, 1] == pytest.approx(expected)
            assert result["val_log_loss"][f, g, 1] == pytest.approx(
                np.mean(log_loss(Z, Y[0, val])), rel=1e-9)


def test_cross_validation_reports_every_iteration_not_a_rounded_share():
    rng = np.random.default_rng(0)
    X = rng.random((6, 20))
    Y = (np.arange(20) % 2).reshape(1, 20).astype(float)
    features = {"X_train": X, "Y_train": Y, "image_shape": np.array([1, 2, 3])}
    heard = []
    cross_validate(features, folds=2, repeats=1, seed=0, learning_rates=[0.1],
                   num_iterations=1234, l2s=[0.0], augments=["none"], on_progress=heard.append)
    assert heard == [24] * 51 + [10]  # it stopped at 1225 when the remainder was dropped


def test_a_network_searches_keep_prob_and_its_rows_without_dropout_stay_as_they_were():
    rng = np.random.default_rng(2)
    X = rng.random((8, 24))
    Y = (X[:1] + 0.5 * rng.random((1, 24)) > 0.9).astype(float)
    features = {"X_train": X, "Y_train": Y, "image_shape": np.array([2, 2, 2])}
    options = dict(folds=3, repeats=1, seed=1, learning_rates=[0.05, 0.2], num_iterations=200,
                   l2s=[0.0, 0.7], augments=["none"], model="l-layer", layer_dims=[8, 5, 3, 1])
    both = cross_validate(features, keep_probs=[1.0, 0.8], **options)
    alone = cross_validate(features, keep_probs=[1.0], **options)
    assert both["val_accuracy"].shape == (3, 8, 2)  # folds x (l2, keep_prob, rate) x 2
    assert [p.keep_prob for p in both["grid"]] == [1.0, 1.0, 0.8, 0.8] * 2
    kept = [g for g, p in enumerate(both["grid"]) if p.keep_prob == 1.0]
    assert [both["grid"][g]._replace(keep_prob=1.0) for g in kept] == alone["grid"]
    for key in ("val_accuracy", "val_log_loss"):
        np.testing.assert_allclose(both[key][:, kept], alone[key], rtol=0, atol=1e-12)
    dropped = [g for g, p in enumerate(both["grid"]) if p.keep_prob == 0.8]
    assert np.abs(both["val_log_loss"][:, dropped] - alone["val_log_loss"]).max() > 1e-6
    again = cross_validate(features, keep_probs=[1.0, 0.8], **options)  # seeded: reproducible
    np.testing.assert_array_equal(again["val_log_loss"], both["val_log_loss"])
    he = cross_validate(features, keep_probs=[1.0], init="he", **options)
    assert np.abs(he["val_log_loss"] - alone["val_log_loss"]).max() > 1e-6  # another start


def test_a_random_searchs_points_train_as_the_grid_and_drawn_hidden_sizes_as_their_network():
    rng = np.random.default_rng(3)
    X = rng.random((8, 24))
    Y = (X[:1] + 0.5 * rng.random((1, 24)) > 0.9).astype(float)
    features = {"X_train": X, "Y_train": Y, "image_shape": np.array([2, 2, 2])}
    options = dict(folds=3, repeats=1, seed=1, num_iterations=200, augments=["none"],
                   model="two-layer", layer_dims=[8, 5, 1])
    points = [GridPoint("none", 0.7, 1.0, 0.2, (("hidden1", 3.0),)),
              GridPoint("none", 0.0, 1.0, 0.05),
              GridPoint("none", 0.0, 0.8, 0.2, (("hidden1", 3.0),))]
    drawn = cross_validate(features, learning_rates=(), l2s=(), grid=points, **options)
    assert drawn["grid"] == points and drawn["val_accuracy"].shape == (3, 3, 2)
    # the course-sized point, as a grid of its own
    five = cross_validate(features, learning_rates=[0.05], l2s=[0.0], **options)
    np.testing.assert_allclose(drawn["val_log_loss"][:, [1]], five["val_log_loss"],
                               rtol=0, atol=1e-12)
    # the drawn hidden size, as a grid run of that network: both of its points train together
    three = cross_validate(features, learning_rates=[0.2], l2s=[0.7, 0.0], keep_probs=[1.0],
                           **{**options, "layer_dims": [8, 3, 1]})
    np.testing.assert_allclose(drawn["val_log_loss"][:, [0]], three["val_log_loss"][:, [0]],
                               rtol=0, atol=1e-12)
    assert np.abs(drawn["val_log_loss"][:, 0] - drawn["val_log_loss"][:, 2]).max() > 1e-6


def test_a_networks_rows_in_two_halves_on_two_cores_are_the_rows_of_one_run():
    """fit_rows runs a network's rows in two halves, each drawing the dropout masks from its
    own copy of the generator: every row is what it is alone, dropout included."""
    rng = np.random.default_rng(6)
    X = rng.random((8, 24))
    Y = (X[:1] + 0.5 * rng.random((1, 24)) > 0.9).astype(float)
    features = {"X_train": X, "Y_train": Y, "image_shape": np.array([2, 2, 2])}
    options = dict(folds=3, repeats=1, seed=2, num_iterations=200, learning_rates=(), l2s=(),
                   augments=["none"], model="l-layer", layer_dims=[8, 5, 3, 1])
    points = [GridPoint("none", 0.0, 0.7, 0.2), GridPoint("none", 0.5, 0.8, 0.1),
              GridPoint("none", 0.0, 1.0, 0.05)]
    together = cross_validate(features, grid=points, **options)  # 9 rows: halves of 4 and 5
    for g, point in enumerate(points):
        alone = cross_validate(features, grid=[point], **options)  # 3 rows: 1 and 2
        np.testing.assert_array_equal(together["val_log_loss"][:, [g]], alone["val_log_loss"])
