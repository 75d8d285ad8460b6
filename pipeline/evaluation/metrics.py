"""A run's metrics: accuracies with their intervals and baselines, confusion counts, the
mislabeled images, and the test images that are training images, on the data the model was
trained for."""

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.artifacts.feature_file import is_course_data
from pipeline.artifacts.params import params_settings, split_scores
from pipeline.columns import Columns, pixels_of, take
from pipeline.errors import UserError
from pipeline.evaluation.stats import (
    accuracy_summary,
    classification_stats,
    not_significant_sentence,
    percent,
)
from pipeline.nn.logistic import accuracy, predict_from_scores
from pipeline.shapes import Array


def confusion(Y_prediction: Array, Y: Array) -> dict[str, int]:
    """Counts of true/false positives/negatives, cat being the positive class."""
    p, y = Y_prediction.astype(bool), Y.astype(bool)
    return {"true_cat": int(np.sum(p & y)), "false_cat": int(np.sum(p & ~y)),
            "missed_cat": int(np.sum(~p & y)), "true_non_cat": int(np.sum(~p & ~y))}


def metrics(params: Mapping[str, Any], features: Mapping[str, Any],
            Z_of: Mapping[str, Array] | None = None) -> dict[str, Any]:
    """Everything metrics.json holds: accuracies and what they mean, the cost curve, the
    mislabeled images, and the test images that are also training images.

    Z_of : the model's scores {"train": Z (1, m), "test": Z (1, m_test)} if the caller has them
        (artifacts.params.run_params, split_scores); else read here, one pass a split"""
    Z_of = split_scores(params, features) if Z_of is None else Z_of
    out: dict[str, Any] = params_settings(params).record()
    for split in ("train", "test"):
        Z, Y = Z_of[split], features[f"Y_{split}"]  # (1, m), (1, m)
        Y_prediction = predict_from_scores(Z)  # (1, m)
        out[f"{split}_accuracy"] = accuracy(Y_prediction, Y)
        out[f"{split}_stats"] = classification_stats(Z, Y)
        out[f"mislabeled_{split}"] = np.flatnonzero(Y_prediction != Y).tolist()
        out[f"confusion_{split}"] = confusion(Y_prediction, Y)
    # A test image that is pixel for pixel a training image is a memorized answer, not a test.
    X_test, Y_test = features["X_test"], features["Y_test"]
    duplicates = identical_columns(X_test, features["X_train"])
    kept = np.setdiff1d(np.arange(X_test.shape[1]), [i for i, _ in duplicates])
    out["test_duplicates_of_train"] = duplicates
    Z_kept = Z_of["test"][:, kept]  # (1, kept)
    out["test_stats_without_duplicates"] = None if not len(kept) else {
        "accuracy": accuracy(predict_from_scores(Z_kept), Y_test[:, kept]),
        **classification_stats(Z_kept, Y_test[:, kept])}
    out["costs"] = params["costs"].tolist()
    out["checkpoints"] = {k: params[k].tolist()
                          for k in ("iterations", "train_accuracies", "test_accuracies")}
    return out


KEY_BLOCK = 1024  # columns read at a time for their keys: 12 MB of 64x64 RGB pixels
Keys = NDArray[np.uint64]  # (m,)


def column_keys(X: Columns) -> Keys:
    """A key per column of X (m,): its pixels' bytes summed as 64-bit words (modulo 2^64).
    Equal images have equal keys; unequal ones rarely do, and every match is compared in full."""
    keys = np.empty(X.shape[1], dtype=np.uint64)
    for start in range(0, X.shape[1], KEY_BLOCK):
        rows = np.ascontiguousarray(pixels_of(X, slice(start, start + KEY_BLOCK)))  # (b, n_x)
        whole = rows.shape[1] // 8 * 8  # the bytes that fill whole words, then the rest
        keys[start:start + len(rows)] = rows[:, :whole].view(np.uint64).sum(axis=1) \
            + rows[:, whole:].sum(axis=1, dtype=np.uint64)
    return keys


def identical_columns(X_a: Columns, X_b: Columns) -> list[list[int]]:
    """Pairs [i, j] where column i of X_a equals column j of X_b exactly (a duplicate image),
    found by their keys (not a second copy of X), each match then compared in full."""
    keys_a, keys_b = column_keys(X_a), column_keys(X_b)
    order = np.argsort(keys_b, kind="stable")  # b's columns by key, each key's in order
    low = np.searchsorted(keys_b[order], keys_a, "left")
    high = np.searchsorted(keys_b[order], keys_a, "right")
    candidates = [(int(i), int(j)) for i in np.flatnonzero(high > low)
                  for j in order[low[i]:high[i]]]
    return [[i, j] for i, j in candidates if np.array_equal(take(X_a, [i]), take(X_b, [j]))]


def check_same_data(params: Mapping[str, Any], features: Mapping[str, Any],
                    params_path: str | os.PathLike[str]) -> None:
    for key in ("train_sha256", "test_sha256", "image_shape"):
        if not np.array_equal(params[key], features[key]):
            raise UserError(f"{params_path} was trained on other data than the features "
                            f"({key} differs); run `make train` to retrain")


def summary_lines(result: Mapping[str, Any], features: Mapping[str, Any]) -> list[str]:
    """What evaluate (and train, as it writes metrics.json) prints of a run's metrics: each
    split's accuracy with its interval and the majority guess beside it, then a plain sentence
    when the test set cannot tell the model from that guess."""
    classes = [str(c) for c in features["classes"]]
    exact = is_course_data(features)  # the course's numbers digit for digit
    lines = [f"{split} accuracy: {percent(result[split + '_accuracy'], exact)} "
             + accuracy_summary(result[f"{split}_stats"], classes) for split in ("train", "test")]
    sentence = not_significant_sentence(result["test_stats"], classes, "test")
    return [*lines, sentence] if sentence else lines
