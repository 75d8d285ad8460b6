"""Cross-validation with the second course's optimizers, for training sets too big for the Gram
space (X.T X alone is 5 GB at m = 25,000, and a gd step streams all of X).

Each fold x setting trains by the course's own mini-batch loop on its fold's training columns
alone, gathered batch by batch, so X is never copied; after every epoch its validation columns
are scored. The candidates are the model after 1, 2, ... epochs. One neuron trains all the rates
of a fold together, one batch gathered for all (train_rates_together).
"""

import math
import time

import numpy as np

from pipeline import config
from pipeline.columns import gathered, model_scores, take
from pipeline.nn.layers import propagate
from pipeline.nn.logistic import log_loss, predict_from_scores
from pipeline.nn.optimizers import (
    initialize_adam,
    mini_batch_indices,
    optimize_minibatch,
    update_parameters_with_adam,
    update_parameters_with_gd,
)
from pipeline.progress import ticker


def seconds_per_batch(X, Y, start, batch, repeats=5):
    """What one forward and backward pass over one batch costs here, measured after one to
    warm up (the first touches cold memory)."""
    idx = np.linspace(0, X.shape[1] - 1, min(batch, X.shape[1])).astype(int)  # spread out
    propagate(start, take(X, idx), Y[:, idx], 0.0)
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


def trains_rates_together(start):
    """Whether cv trains all the rates of an l2 at once: for one neuron, whose rows stack."""
    return set(start) == {"W1", "b1"} and np.shape(start["W1"])[0] == 1


def stacked(start, count):
    """One neuron's start repeated as the rows of W1 (count, n_x), b1 (count, 1): count neurons
    that the course's propagate trains at once, its formulas being row by row."""
    return {"W1": np.repeat(np.asarray(start["W1"], float), count, axis=0),
            "b1": np.repeat(np.asarray(start["b1"], float), count, axis=0)}


def train_rates_together(X, Y, train_cols, *, start, rates, l2, optimizer, on_epoch, tick):
    """optimize_minibatch's loop for one neuron per rate, stacked: each batch is gathered once
    and serves every rate in one propagate; Adam's update is elementwise, lr a (k, 1) column.
    Row r follows a separate optimize_minibatch run at rates[r] (up to rounding: a (k, n_x)
    product in place of k rows). No checkpoint on the training columns: cv scores only its
    validation columns, by on_epoch(epoch, parameters)."""
    parameters, lr = stacked(start, len(rates)), np.array(rates, float).reshape(-1, 1)
    size, seed, t = min(optimizer.mini_batch_size, len(train_cols)), config.MINIBATCH_SEED, 0
    v, s = initialize_adam(parameters)
    done = 0
    for epoch in range(1, optimizer.num_epochs + 1):
        seed += 1  # as optimize_minibatch: a new shuffle every epoch
        batches = (train_cols[idx] for idx in mini_batch_indices(len(train_cols), size, seed))
        for batch, X_batch in gathered(X, batches):
            _, grads, _ = propagate(parameters, X_batch, Y[:, batch], l2)
            if optimizer.name == "adam":
                t += 1
                parameters, v, s, _, _ = update_parameters_with_adam(
                    parameters, grads, v, s, t, lr, beta1=optimizer.beta1, beta2=optimizer.beta2,
                    epsilon=config.EPSILON)
            else:
                parameters = update_parameters_with_gd(parameters, grads, lr)
            tick(done)
            done += 1
        on_epoch(epoch, parameters)


def cross_validate_minibatch(features, *, fold_of, folds, grid, start, optimizer, on_progress=None):
    """Validation accuracy (percent) and log-loss after each epoch, for every fold and setting.

    grid : list of (augment, l2, learning_rate); only augment "none" trains here
    One neuron trains every rate of an l2 together (train_rates_together); a network trains each
    setting by optimize_minibatch.
    Returns val_accuracy, val_log_loss of shape (repeats * folds, g, epochs), NaN where a row
    diverged, and iterations: the epochs 1..num_epochs.
    """
    X, Y = features["X_train"], features["Y_train"]  # (n_x, m), (1, m)
    repeats, epochs = fold_of.shape[0], optimizer.num_epochs
    shape = (repeats * folds, len(grid), epochs)
    accuracy, loss = np.full(shape, np.nan), np.full(shape, np.nan)
    together = trains_rates_together(start)
    groups = ([[g for g, (_, l2, _) in enumerate(grid) if l2 == value]
               for value in dict.fromkeys(l2 for _, l2, _ in grid)] if together
              else [[g] for g in range(len(grid))])
    for r in range(repeats):
        for f in range(folds):
            train_cols = np.flatnonzero(fold_of[r] != f)
            val_cols = np.flatnonzero(fold_of[r] == f)
            for group in groups:
                def score(epoch, parameters, row=r * folds + f, group=group, val_cols=val_cols,
                          y=Y[:, val_cols]):
                    if epoch == 0:
                        return
                    Z = model_scores(parameters, X, val_cols)  # (k, m_val)
                    accuracy[row, group, epoch - 1] = 100 * np.mean(
                        predict_from_scores(Z) == y, axis=1)
                    loss[row, group, epoch - 1] = np.mean(log_loss(Z, y), axis=1)

                l2, rates = grid[group[0]][1], [grid[g][2] for g in group]
                with np.errstate(over="ignore", invalid="ignore"):  # a diverging rate: NaN
                    if together:
                        total = epochs * math.ceil(len(train_cols) / min(
                            optimizer.mini_batch_size, len(train_cols)))
                        k = len(group)
                        tick = ticker(total, on_progress and (lambda n, k=k: on_progress(n * k)))
                        train_rates_together(X, Y, train_cols, start=start, rates=rates, l2=l2,
                                             optimizer=optimizer, on_epoch=score, tick=tick)
                    else:
                        optimize_minibatch(start, propagate, X, Y, optimizer=optimizer.name,
                                           learning_rate=rates[0],
                                           mini_batch_size=optimizer.mini_batch_size,
                                           num_epochs=epochs, beta1=optimizer.beta1,
                                           beta2=optimizer.beta2, epsilon=config.EPSILON,
                                           seed=config.MINIBATCH_SEED, l2=l2,
                                           on_progress=on_progress, columns=train_cols,
                                           on_epoch=score, forward=model_scores)
    with np.errstate(invalid="ignore"):
        diverged = ~np.isfinite(loss[..., -1:]).all(axis=-1, keepdims=True)  # a row's last
    accuracy = np.where(diverged, np.nan, accuracy)
    loss = np.where(diverged, np.nan, loss)
    return {"iterations": list(range(1, epochs + 1)), "val_accuracy": accuracy,
            "val_log_loss": loss}
