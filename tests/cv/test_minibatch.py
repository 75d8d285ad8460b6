"""cv/minibatch.py: the mini-batch path scores each fold as a fit on its own columns, a
network's with its own keep_prob."""

from functools import partial

import numpy as np
import pytest

from pipeline import config
from pipeline.columns import model_scores
from pipeline.cv.folds import stratified_folds
from pipeline.cv.minibatch import cross_validate_minibatch
from pipeline.cv.summary import GridPoint
from pipeline.engines.minibatch import optimize_minibatch
from pipeline.nn.layers import L_model_scores, propagate
from pipeline.nn.logistic import log_loss, predict_from_scores
from pipeline.nn.network import initialize_parameters_deep
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
                                      grid=grid, start_of=lambda point: start, optimizer=optimizer)
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


def test_a_network_candidate_trains_with_its_keep_prob_as_train_would():
    rng = np.random.default_rng(5)
    X = rng.random((6, 24))
    Y = (X[:1] + 0.3 * rng.random((1, 24)) > 0.8).astype(float)
    fold_of = stratified_folds(Y, 2, 1, 0)
    grid = [GridPoint("none", 0.0, 1.0, 0.1), GridPoint("none", 0.0, 0.7, 0.1)]
    start = initialize_parameters_deep([6, 5, 3, 1], seed=1)
    optimizer = Optimizer("momentum", 8, 2)
    result = cross_validate_minibatch({"X_train": X, "Y_train": Y}, fold_of=fold_of, folds=2,
                                      grid=grid, start_of=lambda point: start, optimizer=optimizer)
    for f in range(2):
        fit, val = fold_of[0] != f, fold_of[0] == f
        for g, point in enumerate(grid):
            # train's masks: a RandomState of the network's seed + 1, fresh for each fit
            step = partial(propagate, dropout=(point.keep_prob,
                                               np.random.RandomState(config.NETWORK_SEED + 1))
                           ) if point.keep_prob < 1 else propagate
            run = optimize_minibatch(start, step, X[:, fit], Y[:, fit], optimizer="momentum",
                                     learning_rate=point.learning_rate, mini_batch_size=8,
                                     num_epochs=2, seed=config.MINIBATCH_SEED,
                                     forward=model_scores)  # as train: no draw to score
            Z = L_model_scores(X[:, val], run["parameters"])
            assert result["val_log_loss"][f, g, -1] == pytest.approx(
                np.mean(log_loss(Z, Y[:, val])), rel=1e-12)
    assert not np.allclose(result["val_log_loss"][:, 0], result["val_log_loss"][:, 1])
