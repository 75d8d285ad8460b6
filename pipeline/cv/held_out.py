"""Each training image's held-out score: k-fold cross-validation with one run's own settings,
every image scored by the model of the fold that left it out. What a calibration is fitted on:
the test set is never read.

gd trains every fold at once in the Gram space (cv.gram.fit_rows, the engines cv searches
with); the mini-batch optimizers train fold after fold by the course's loop on the fold's own
columns (engines.minibatch.run_epochs, as cv.minibatch does), X never copied.
"""

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.artifacts.calibration_file import Calibration
from pipeline.artifacts.params import scores
from pipeline.columns import flipped, matmul_transposed, model_scores
from pipeline.cv.folds import grid_masks, stratified_folds
from pipeline.cv.gram import fit_rows
from pipeline.engines.fit import model_of, propagate_of, start_of, training_set
from pipeline.engines.minibatch import loop_options, run_epochs
from pipeline.evaluation import calibration as cal
from pipeline.evaluation.calibration import CannotCalibrate
from pipeline.nn.logistic import sigmoid
from pipeline.settings import Settings
from pipeline.shapes import Array
from pipeline.threads import on_blas_threads


@on_blas_threads("cv")
def held_out_scores(features: Mapping[str, Any], settings: Settings, folds: int, seed: int
                    ) -> tuple[Array, NDArray[np.int64]]:
    """(z (m,), fold_of (m,)): each training image's logit from the model trained with
    `settings` on the other folds of a seeded stratified k-fold split, and its fold."""
    Y = features["Y_train"]  # (1, m)
    m, positives = Y.shape[1], int(np.sum(Y == 1))
    if not 2 <= folds <= min(positives, m - positives):
        raise CannotCalibrate(f"{folds} folds need at least {folds} training images of each class "
                        f"(there are {positives} and {m - positives}): a fold would hold one "
                        "class")
    fold_of = stratified_folds(Y, folds, 1, seed)  # (1, m)
    held_out = held_out_minibatch if settings.optimizer.minibatch else held_out_gram
    Z = held_out(features, settings, fold_of[0], folds)  # (folds, m)
    return Z[fold_of[0], np.arange(m)], fold_of[0]


def held_out_gram(features: Mapping[str, Any], settings: Settings, fold_of: NDArray[np.int64],
                  folds: int) -> Array:
    """Every fold's full-batch model, trained at once; its scores on every image (folds, m)."""
    flip = settings.augment == "flip"
    train_mask, _ = grid_masks(fold_of[None, :], folds, 1, [flip])  # (folds, M)
    X = features["X_train"]
    columns = flipped(X, features["image_shape"]) if flip else X
    each = {name: np.full((folds, 1), float(value)) for name, value in (
        ("learning_rate", settings.learning_rate), ("l2", settings.l2),
        ("keep_prob", settings.keep_prob))}
    found: list[Array] = []
    fit_rows(columns, features["Y_train"], train_mask, each, model=settings.model,
             layer_dims=settings.layer_dims, init=settings.init,
             num_iterations=settings.num_iterations, at=[settings.num_iterations],
             score=lambda Z: found.append(Z), seed=settings.seed)
    return found[-1]


def held_out_minibatch(features: Mapping[str, Any], settings: Settings,
                       fold_of: NDArray[np.int64], folds: int) -> Array:
    """Every fold's mini-batch model, one after another (a fold's mirrors train with it); its
    scores on its own held-out images, (folds, m), NaN elsewhere."""
    X, Y = training_set(features, settings.augment)  # (n_x, m or 2m)
    m = features["Y_train"].shape[1]
    Z = np.full((folds, m), np.nan)
    options = loop_options(settings.optimizer)
    for f in range(folds):
        train_cols = np.flatnonzero(fold_of != f)
        if settings.augment == "flip":
            train_cols = np.concatenate([train_cols, train_cols + m])
        val_cols = np.flatnonzero(fold_of == f)
        parameters = run_epochs(start_of(settings), propagate_of(settings), X, Y, train_cols,
                                learning_rate=settings.learning_rate, l2=settings.l2,
                                **{**options, "mini_batch_size": min(
                                    options["mini_batch_size"], len(train_cols))})
        Z[f, val_cols] = model_scores(model_of(settings, parameters), X, val_cols)[0]
    return Z


def calibration_record(params: Mapping[str, Any], features: Mapping[str, Any],
                       settings: Settings, folds: int, seed: int, params_sha256: str
                       ) -> Calibration:
    """calibration.npz's content: the temperature fitted on the out-of-fold logits of `folds`
    fold cross-validation of the run's settings on the training set; the test set is scored
    only to show its figures. Logits that cannot be fitted give method "none", with why."""
    began = time.perf_counter()
    Y, X = features["Y_train"], features["X_train"]
    y, m = Y[0].astype(float), Y.shape[1]
    z, fold_of = held_out_scores(features, settings, folds, seed)
    z_test, y_test = scores(params, features["X_test"])[0], features["Y_test"][0]
    T, changes, reason = 1.0, 0, ""
    try:
        T = cal.fit_temperature(z, y)
    except cal.CannotCalibrate as err:
        reason = str(err)
    try:  # the form not used, measured beside it (NaN where it cannot be fitted)
        platt = cal.fit_platt(z, y)
        held_out = cal.held_out_losses(z, y, fold_of)
        changes = int(np.sum((z > 0) != (platt[0] * z + platt[1] > 0)))
    except cal.CannotCalibrate:
        platt, held_out = (np.nan, np.nan), (np.nan, np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        oof_before, test_before = cal.figures(z, y, seed=seed), cal.figures(z_test, y_test,
                                                                             seed=seed)
    return {
        "method": np.array("none" if reason else "temperature"), "reason": np.array(reason),
        "temperature": np.array(T), "platt": np.array(platt),
        "held_out_log_loss": np.array(held_out), "platt_changes": np.array(changes),
        "folds": np.array(folds), "seed": np.array(seed),
        "params_sha256": np.array(params_sha256), "oof_logits": z, "fold_of": fold_of,
        "oof_before": oof_before, "oof_after": oof_before if reason else
        cal.figures(z, y, 1 / T, seed=seed),
        "test_before": test_before, "test_after": test_before if reason else
        cal.figures(z_test, y_test, 1 / T, seed=seed),
        "bands": cal.band_table(sigmoid(z / T), y),
        "train_counts": np.array([m, int(y.sum())]),
        "mean_input": matmul_transposed(np.full((1, m), 1 / m), X).T,  # (n_x, 1)
        "seconds": np.array(time.perf_counter() - began),
    }
