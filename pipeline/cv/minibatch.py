"""Cross-validation with the second course's optimizers, for training sets too big for the Gram
space (X.T X alone is 5 GB at m = 25,000, and a gd step streams all of X).

Each fold x setting trains by the course's own mini-batch loop (optimizers.optimize_minibatch)
on its fold's training columns alone, gathered batch by batch, so X is never copied; after every
epoch its validation columns are scored. The candidates are the model after 1, 2, ... epochs.
"""

import math
import time

import numpy as np

from pipeline import config
from pipeline.columns import model_scores, take
from pipeline.nn.layers import propagate
from pipeline.nn.logistic import log_loss, predict_from_scores
from pipeline.nn.optimizers import optimize_minibatch


def seconds_per_batch(X, Y, start, batch, repeats=3):
    """What one forward and backward pass over one batch costs here, measured."""
    idx = np.linspace(0, X.shape[1] - 1, min(batch, X.shape[1])).astype(int)  # spread out
    began = time.perf_counter()
    for _ in range(repeats):
        propagate(start, take(X, idx), Y[:, idx], 0.0)
    return (time.perf_counter() - began) / repeats


def estimate_seconds(X, Y, start, rows, optimizer):
    """The run's time, from one measured batch: every row's batches, plus its scoring passes
    (about half a batch's cost per batch of columns, once per epoch)."""
    m_row = X.shape[1] * (1 - 1 / rows["folds"])
    batches = math.ceil(m_row / optimizer.mini_batch_size)
    per_epoch = batches * 1.5 * seconds_per_batch(X, Y, start, optimizer.mini_batch_size)
    return rows["count"] * optimizer.num_epochs * per_epoch


def cross_validate_minibatch(features, *, fold_of, folds, grid, start, optimizer, on_progress=None):
    """Validation accuracy (percent) and log-loss after each epoch, for every fold and setting.

    grid : list of (augment, l2, learning_rate); only augment "none" trains here
    Returns val_accuracy, val_log_loss of shape (repeats * folds, g, epochs), NaN where a row
    diverged, and iterations: the epochs 1..num_epochs.
    """
    X, Y = features["X_train"], features["Y_train"]  # (n_x, m), (1, m)
    repeats, epochs = fold_of.shape[0], optimizer.num_epochs
    shape = (repeats * folds, len(grid), epochs)
    accuracy, loss = np.full(shape, np.nan), np.full(shape, np.nan)
    for r in range(repeats):
        for f in range(folds):
            train_cols = np.flatnonzero(fold_of[r] != f)
            val_cols = np.flatnonzero(fold_of[r] == f)
            for g, (_, l2, lr) in enumerate(grid):
                def score(epoch, parameters, row=r * folds + f, g=g, val_cols=val_cols):
                    if epoch == 0:
                        return
                    Z = model_scores(parameters, X, val_cols)  # (1, m_val)
                    y = Y[:, val_cols]
                    accuracy[row, g, epoch - 1] = 100 * np.mean(predict_from_scores(Z) == y)
                    loss[row, g, epoch - 1] = np.mean(log_loss(Z, y))

                optimize_minibatch(start, propagate, X, Y, optimizer=optimizer.name,
                                   learning_rate=lr, mini_batch_size=optimizer.mini_batch_size,
                                   num_epochs=epochs, beta1=optimizer.beta1,
                                   beta2=optimizer.beta2, epsilon=config.EPSILON,
                                   seed=config.MINIBATCH_SEED, l2=l2, on_progress=on_progress,
                                   columns=train_cols, on_epoch=score,
                                   forward=model_scores)
    with np.errstate(invalid="ignore"):
        diverged = ~np.isfinite(loss[..., -1:]).all(axis=-1, keepdims=True)  # a row's last
    accuracy = np.where(diverged, np.nan, accuracy)
    loss = np.where(diverged, np.nan, loss)
    return {"iterations": list(range(1, epochs + 1)), "val_accuracy": accuracy,
            "val_log_loss": loss}
