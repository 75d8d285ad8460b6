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
from pipeline.engines.fit import model_of, train
from pipeline.engines.minibatch import optimize_minibatch
from pipeline.nn.layers import L_model_scores, propagate
from pipeline.nn.logistic import log_loss, predict_from_scores
from pipeline.nn.network import initialize_parameters_deep
from pipeline.settings import Optimizer, Search


def test_the_minibatch_path_scores_each_fold_as_a_fit_on_its_own_columns():
    rng = np.random.default_rng(4)
    X = rng.random((6, 30))
    Y = (X[:1] + 0.3 * rng.random((1, 30)) > 0.8).astype(float)
    fold_of = stratified_folds(Y, 3, 2, 0)  # (2 repeats, 30)
    grid = [GridPoint("none", 0.0, 1.0, 0.05), GridPoint("none", 0.5, 1.0, 0.2),
            GridPoint("none", 0.0, 1.0, 0.2)]  # l2 0: 2 rates at once
    start = {"W1": np.zeros((1, 6)), "b1": np.zeros((1, 1))}
    optimizer = Optimizer("adam", 4, 3)
    search = Search(model="logistic", layer_dims=(6, 1), learning_rates=(0.05,), l2s=(0.0,),
                    augments=("none",), num_iterations=0, optimizer=optimizer, folds=3,
                    repeats=2, seed=0)
    def settings_of(point):
        return search.candidate(point.learning_rate, point.l2, point.augment, 3)

    result = cross_validate_minibatch({"X_train": X, "Y_train": Y}, fold_of=fold_of, folds=3,
                                      grid=grid, settings_of=settings_of)
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
    search = Search(model="l-layer", layer_dims=(6, 5, 3, 1), learning_rates=(0.1,),
                    l2s=(0.0,), augments=("none",), num_iterations=0, optimizer=optimizer,
                    folds=2, repeats=1, seed=0)
    def settings_of(point):
        return search.candidate(point.learning_rate, point.l2, point.augment, 2,
                                point.keep_prob)

    result = cross_validate_minibatch({"X_train": X, "Y_train": Y}, fold_of=fold_of, folds=2,
                                      grid=grid, settings_of=settings_of)
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


def test_a_cnns_candidates_equal_a_separate_train_of_each_fold(features):
    """make cv MODEL=cnn: each fold's CNN runs its own step with its pools, from its start, and
    is scored by its own forward pass, as train() fits it on the fold alone."""
    data = {**features, "X_train": features["X_train"][:, :24],
            "Y_train": features["Y_train"][:, :24]}
    search = Search(model="cnn", layer_dims=(12288, 12288 * 2 // 3, 8 * 8 * 2, 1),
                    learning_rates=(0.003,), l2s=(0.0,), augments=("none",), num_iterations=0,
                    optimizer=Optimizer("adam", 8, 2), folds=2, repeats=1, seed=4, init="he",
                    architecture="2x2 p8")
    def settings_of(point):
        return search.candidate(point.learning_rate, point.l2, point.augment, 2,
                                point.keep_prob)

    grid = [GridPoint("none", 0.0, 1.0, 0.003), GridPoint("none", 0.0, 0.6, 0.01)]
    fold_of = stratified_folds(data["Y_train"], 2, 1, 4)
    result = cross_validate_minibatch(data, fold_of=fold_of, folds=2, grid=grid,
                                      settings_of=settings_of)
    for f in range(2):
        kept = fold_of[0] != f
        part = {**data, "X_train": data["X_train"][:, kept], "Y_train": data["Y_train"][:, kept]}
        for g, point in enumerate(grid):
            settings = settings_of(point)
            weights = train(part, settings)["weights"][0]
            Z = model_scores(model_of(settings, weights), data["X_train"][:, ~kept])
            assert result["val_log_loss"][f, g, -1] == pytest.approx(
                np.mean(log_loss(Z, data["Y_train"][:, ~kept])), rel=1e-9)
