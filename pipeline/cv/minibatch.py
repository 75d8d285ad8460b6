"""Cross-validation with the second course's optimizers, for training sets too big for the Gram
space (X.T X alone is 5 GB at m = 25,000, and a gd step streams all of X).

Each fold x setting trains by the course's own mini-batch loop on its fold's training columns
alone, gathered batch by batch, so X is never copied; after every epoch its validation columns
are scored. The candidates are the model after 1, 2, ... epochs. One neuron trains all the rates
of a fold together, one batch gathered for all (stacked: one row of W1 a rate). A network's
keep_prob below 1 drops its hidden units in training, its masks drawn as a train's are
(engines.fit.dropout_rng, fresh for each fit).
"""

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.columns import Columns, model_scores, take
from pipeline.cv.summary import GridPoint
from pipeline.engines.fit import model_of, propagate_of, start_of
from pipeline.engines.minibatch import loop_options, run_epochs
from pipeline.nn.layers import propagate
from pipeline.nn.logistic import log_loss, predict_from_scores
from pipeline.nn.optimizers import minibatch_steps
from pipeline.settings import Optimizer, Settings
from pipeline.shapes import Array, Parameters
from pipeline.threads import on_blas_threads


@on_blas_threads("minibatch")  # on the threads the run's batches will have
def seconds_per_batch(X: Columns, Y: Array, start: Parameters, batch: int,
                      repeats: int = 5, step: Callable[..., Any] = propagate) -> float:
    """What one forward and backward pass over one batch costs here (step: the model's
    propagate), measured after one to warm up (the first touches cold memory)."""
    idx = np.linspace(0, X.shape[1] - 1, min(batch, X.shape[1])).astype(int)  # spread out
    step(start, take(X, idx), Y[:, idx], 0.0)
    began = time.perf_counter()
    for _ in range(repeats):
        step(start, take(X, idx), Y[:, idx], 0.0)
    return (time.perf_counter() - began) / repeats


def estimate_seconds(X: Columns, Y: Array, start: Parameters, rows: Mapping[str, int],
                     optimizer: Optimizer, step: Callable[..., Any] = propagate) -> float:
    """The run's time, from one measured batch: every row's batches, plus its scoring passes
    (about half a batch's cost per batch of columns, once per epoch)."""
    m_row = X.shape[1] - X.shape[1] // rows["folds"]
    batches: int = minibatch_steps(m_row, optimizer.mini_batch_size, optimizer.num_epochs)
    return rows["count"] * batches * 1.5 * seconds_per_batch(
        X, Y, start, optimizer.mini_batch_size, step=step)


def trains_rates_together(start: Parameters) -> bool:
    """Whether cv trains all the rates of an l2 at once: for one neuron, whose rows stack (and
    which drops nothing: its keep_prob is 1)."""
    return set(start) == {"W1", "b1"} and np.shape(start["W1"])[0] == 1


def stacked(start: Parameters, count: int) -> Parameters:
    """One neuron's start repeated as the rows of W1 (count, n_x), b1 (count, 1): count neurons
    that the course's propagate trains at once, its formulas being row by row."""
    return {"W1": np.repeat(np.asarray(start["W1"], float), count, axis=0),
            "b1": np.repeat(np.asarray(start["b1"], float), count, axis=0)}


def cross_validate_minibatch(features: Mapping[str, Any], *, fold_of: NDArray[np.int64],
                             folds: int, grid: Sequence[GridPoint],
                             settings_of: Callable[[GridPoint], Settings],
                             on_progress: Callable[[int], object] | None = None
                             ) -> dict[str, Any]:
    """Validation accuracy (percent) and log-loss after each epoch, for every fold and setting.

    grid : list of GridPoint; only augment "none" trains here. settings_of(point) is its run's
    Settings (Search.candidate): the model (the neuron, a network or the CNN), its start, step
    and optimizer (a random search's beta, batch size or hidden sizes too), as train's.
    One neuron trains every rate of an l2 together, stacked, in one run of the mini-batch loop
    (run_epochs); a network trains each setting in its own run. Row r of a stacked run follows
    a separate run at rates[r] (up to rounding: a (k, n_x) product in place of k rows).
    Returns val_accuracy, val_log_loss of shape (repeats * folds, g, epochs), NaN where a row
    diverged, and iterations: the epochs 1..num_epochs.
    """
    X, Y = features["X_train"], features["Y_train"]  # (n_x, m), (1, m)
    repeats, epochs = fold_of.shape[0], settings_of(grid[0]).optimizer.num_epochs
    shape = (repeats * folds, len(grid), epochs)
    accuracy, loss = np.full(shape, np.nan), np.full(shape, np.nan)
    together = trains_rates_together(start_of(settings_of(grid[0])))

    def alike(point: GridPoint) -> tuple[Any, ...]:  # all but the rate
        return point.l2, point.keep_prob, point.options

    groups = ([[g for g, point in enumerate(grid) if alike(point) == value]
               for value in dict.fromkeys(alike(point) for point in grid)]
              if together else [[g] for g in range(len(grid))])
    for r in range(repeats):
        for f in range(folds):
            train_cols = np.flatnonzero(fold_of[r] != f)
            val_cols = np.flatnonzero(fold_of[r] == f)
            for group in groups:
                settings = settings_of(grid[group[0]])  # the group's l2, keep_prob, options

                def score(epoch: int, parameters: Parameters,
                          at: tuple[Any, ...] = (r * folds + f, group, val_cols, settings)
                          ) -> None:
                    row, points, cols, run = at  # this run's, bound now: the loop moves on
                    Z = model_scores(model_of(run, parameters), X, cols)  # (k, m_val)
                    accuracy[row, points, epoch - 1] = 100 * np.mean(
                        predict_from_scores(Z) == Y[:, cols], axis=1)
                    loss[row, points, epoch - 1] = np.mean(log_loss(Z, Y[:, cols]), axis=1)

                rates = [grid[g].learning_rate for g in group]
                k = len(rates)  # fits in this run: each batch counts k times on the bar
                start = start_of(settings)
                parameters, lr = (start, rates[0]) if not together else (
                    stacked(start, k), np.array(rates, float).reshape(k, 1))
                def counted(n: int, k: int = k) -> None:
                    if on_progress:
                        on_progress(n * k)

                run_epochs(parameters, propagate_of(settings), X, Y, train_cols,
                           learning_rate=lr, l2=settings.l2, **loop_options(settings.optimizer),
                           on_epoch=score, on_progress=counted if on_progress else None)
    with np.errstate(invalid="ignore"):
        diverged = ~np.isfinite(loss[..., -1:]).all(axis=-1, keepdims=True)  # a row's last
    accuracy = np.where(diverged, np.nan, accuracy)
    loss = np.where(diverged, np.nan, loss)
    return {"iterations": list(range(1, epochs + 1)), "val_accuracy": accuracy,
            "val_log_loss": loss}
