"""Cross-validation with the second course's optimizers, for training sets too big for the Gram
space (X.T X alone is 5 GB at m = 25,000, and a gd step streams all of X).

Each fold x setting trains by the course's own mini-batch loop (optimizers.optimize_minibatch)
on its fold's training columns alone, gathered batch by batch, so X is never copied; after every
epoch its validation columns are scored. The candidates are the model after 1, 2, ... epochs.
"""

import math
import sys
import time

import numpy as np

from pipeline import config
from pipeline.cli import UserError, progress_bar
from pipeline.cv_summary import search_grid
from pipeline.files import available_memory
from pipeline.folds import stratified_folds
from pipeline.layers import L_model_scores, propagate
from pipeline.model import THRESHOLD, log_loss, sigmoid
from pipeline.optimizers import optimize_minibatch
from pipeline.train import initial_parameters


def seconds_per_batch(X, Y, start, batch, repeats=3):
    """What one forward and backward pass over one batch costs here, measured."""
    idx = np.linspace(0, X.shape[1] - 1, min(batch, X.shape[1])).astype(int)  # spread out
    began = time.perf_counter()
    for _ in range(repeats):
        propagate(start, X[:, idx], Y[:, idx], 0.0)
    return (time.perf_counter() - began) / repeats


def estimate_seconds(X, Y, start, rows, optimizer):
    """The run's time, from one measured batch: every row's batches, plus its scoring passes
    (about half a batch's cost per batch of columns, once per epoch)."""
    m_row = X.shape[1] * (1 - 1 / rows["folds"])
    batches = math.ceil(m_row / optimizer["mini_batch_size"])
    per_epoch = batches * 1.5 * seconds_per_batch(X, Y, start, optimizer["mini_batch_size"])
    return rows["count"] * optimizer["num_epochs"] * per_epoch


def cross_validate_minibatch(features, fold_of, folds, grid, start, optimizer, on_progress=None):
    """Validation accuracy (percent) and log-loss after each epoch, for every fold and setting.

    grid : list of (augment, l2, learning_rate); only augment "none" trains here
    Returns val_accuracy, val_log_loss of shape (repeats * folds, g, epochs), NaN where a row
    diverged, and iterations: the epochs 1..num_epochs.
    """
    X, Y = features["X_train"], features["Y_train"]  # (n_x, m), (1, m)
    repeats, epochs = fold_of.shape[0], optimizer["num_epochs"]
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
                    Z = L_model_scores(X[:, val_cols], parameters)  # (1, m_val)
                    y = Y[:, val_cols]
                    accuracy[row, g, epoch - 1] = 100 * np.mean((sigmoid(Z) > THRESHOLD) == y)
                    loss[row, g, epoch - 1] = np.mean(log_loss(Z, y))

                optimize_minibatch(start, propagate, X, Y, optimizer["optimizer"], lr,
                                   optimizer["mini_batch_size"], epochs, optimizer["beta1"],
                                   optimizer["beta2"], config.EPSILON, config.MINIBATCH_SEED,
                                   l2, on_progress=on_progress, columns=train_cols,
                                   on_epoch=score,
                                   forward=lambda p, X_block: L_model_scores(X_block, p))
    with np.errstate(invalid="ignore"):
        diverged = ~np.isfinite(loss[..., -1:]).all(axis=-1, keepdims=True)  # a row's last
    accuracy = np.where(diverged, np.nan, accuracy)
    loss = np.where(diverged, np.nan, loss)
    return {"iterations": list(range(1, epochs + 1)), "val_accuracy": accuracy,
            "val_log_loss": loss}


def scale_defaults(args, shape):
    """Fill the defaults that depend on the data's size; return what was chosen, in words."""
    m, large, notes = shape[1], shape[1] > config.CV_LARGE_M, []
    if args.optimizer is None:
        args.optimizer = "adam" if large else "gd"
        if large:
            notes.append(f"{m} training images: adam ({args.num_epochs} epochs, batches of "
                         f"{args.mini_batch_size}) instead of gd, so that it takes minutes "
                         "(--optimizer gd to insist)")
    if args.repeats is None:
        args.repeats = 1 if large else config.CV_REPEATS
        if large:
            notes.append(f"{m} training images: 1 repeat of the folds (--repeats to change)")
    if args.learning_rates is None:
        args.learning_rates = list(
            config.CV_LEARNING_RATES if args.optimizer == "gd" and args.model == "logistic"
            else config.CV_NETWORK_LEARNING_RATES if args.optimizer == "gd"
            else config.CV_MINIBATCH_LEARNING_RATES)
    if args.optimizer != "gd" and args.augment != ["none"]:
        raise UserError("--augment flip is searched with --optimizer gd only")
    gram_bytes = (2 if "flip" in args.augment else 1) ** 2 * m * m * 8
    if args.optimizer == "gd" and gram_bytes > available_memory() / 2:
        raise UserError(f"gd cross-validation on {m} images builds a {gram_bytes / 1e9:.1f} GB "
                        "Gram matrix, more than half the memory free: use --optimizer adam")
    return notes


def minibatch_run(features, args, fits):
    """cross_validate_minibatch under a progress bar, after saying how long it should take."""
    optimizer = {k: getattr(args, k) for k in ("optimizer", "mini_batch_size", "num_epochs",
                                                "beta1", "beta2")}
    X, Y = features["X_train"], features["Y_train"]
    start = initial_parameters(args.model, args.layer_dims)
    seconds = estimate_seconds(X, Y, start, {"folds": args.folds, "count": fits}, optimizer)
    print(f"cv: {fits} fits of {args.num_epochs} epochs of {args.optimizer}, estimated "
          f"{seconds / 60:.1f} minutes", file=sys.stderr)
    fold_of = stratified_folds(Y, args.folds, args.repeats, args.seed)
    grid = search_grid(args.augment, args.l2, args.learning_rates)
    m_row = X.shape[1] - X.shape[1] // args.folds
    batches = fits * args.num_epochs * -(-m_row // min(args.mini_batch_size, m_row))
    with progress_bar(batches, f"cv {fits} fits", args.quiet, unit="batch") as bar:
        result = cross_validate_minibatch(features, fold_of, args.folds, grid, start, optimizer,
                                          bar.update)
    return {"fold_of": fold_of, "grid": grid, **result}

