"""cv/minibatch.py: the mini-batch path scores each fold as a fit on its own columns."""

import numpy as np
import pytest

from pipeline import config
from pipeline.cv.folds import stratified_folds
from pipeline.cv.minibatch import cross_validate_minibatch
from pipeline.cv.summary import GridPoint
from pipeline.engines.minibatch import optimize_minibatch
from pipeline.nn.layers import L_model_scores, propagate
from pipeline.nn.logistic import log_loss, predict_from_scores
from pipeline.settings import Optimizer


def test_the_minibatch_path_scores_each_fold_as_a_fit_on_its_own_columns():
    rng = np.random.default_rng(4)
    X = rng.random((6, 30))
    Y = (X[:1] + 0.3 * rng.random((1, 30)) > 0.8).astype(float)
    fold_of = stratified_folds(Y, 3, 2, 0)  # (2 repeats, 30)
    grid = [GridPoint("none", 0.0, 1.0, 0.05), GridPoint("none", 0.5, 1.0, 0.2),
            GridPoint("none", 0.0, 1.0, 0.2)]  # l2 0: 2 rates at once
    start = {"W1": np.zeros((1, 6)), "b1": np.zeros((1, 1))}
    optimizer = Optimizer("adam", 4, 3)
    result = cross_validate_minibatch({"X_train": X, "Y_train": Y}, fold_of=fold_of, folds=3,
                                      grid=grid, start=start, optimizer=optimizer)
    assert result["val_accuracy"].shape == (6, 3, 3) and result["iterations"] == [1, 2, 3]
    for r in range(2):
        for f in range(3):
            fit, val = fold_of[r] != f, fold_of[r] == f
            for g, point in enumerate(grid):
                run = optimize_minibatch(start, propagate, X[:, fit], Y[:, fit],
                                         optimizer="adam", learning_rate=point.learning_rate,
                                         mini_batch_size=4, num_epochs=3,
                                         epsilon=config.EPSILON, seed=config.MINIBATCH_SEED,
                                         l2=point.l2)
                Z = L_model_scores(X[:, val], run["parameters"])  # (1, m_val)
                row = r * 3 + f
                assert result["val_accuracy"][row, g, -1] == pytest.approx(
                    100 * np.mean(predict_from_scores(Z) == Y[:, val]))
                assert result["val_log_loss"][row, g, -1] == pytest.approx(
                    np.mean(log_loss(Z, Y[:, val])), rel=1e-12)
