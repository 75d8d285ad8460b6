"""cv/gram.py: the batched masked folds equal a separate fit of each fold, and the progress bar
hears every iteration."""

import numpy as np
import pytest

from pipeline.columns import flipped
from pipeline.cv.gram import cross_validate
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
