"""A run's metrics: accuracies with their intervals and baselines, confusion counts, the
mislabeled images, on the data the model was trained for."""

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from pipeline.artifacts.feature_file import is_course_data
from pipeline.artifacts.params import params_settings
from pipeline.columns import Floats
from pipeline.errors import UserError
from pipeline.evaluation.duplicates import identical_columns, scores_and_keys
from pipeline.evaluation.stats import (
    accuracy_summary,
    classification_stats,
    not_significant_sentence,
    percent,
)
from pipeline.nn.logistic import accuracy, predict_from_scores


def confusion(Y_prediction: Floats, Y: Floats) -> dict[str, int]:
    """Counts of true/false positives/negatives, cat being the positive class."""
    p, y = Y_prediction.astype(bool), Y.astype(bool)
    return {"true_cat": int(np.sum(p & y)), "false_cat": int(np.sum(p & ~y)),
            "missed_cat": int(np.sum(~p & y)), "true_non_cat": int(np.sum(~p & ~y))}


def metrics(params: Mapping[str, Any], features: Mapping[str, Any]) -> dict[str, Any]:
    """Everything metrics.json holds: accuracies and what they mean, the cost curve, the
    mislabeled images, and the test images that are also training images."""
    return metrics_and_scores(params, features)[0]


def metrics_and_scores(params: Mapping[str, Any], features: Mapping[str, Any]
                       ) -> tuple[dict[str, Any], dict[str, Floats]]:
    """metrics(), and the scores it came from: {"train": Z (1, m), "test": Z (1, m_test)}, one
    pass over each split (the report draws from them too)."""
    out: dict[str, Any] = params_settings(params).record()
    Z_of, keys = {}, {}  # each split's scores (1, m) and its columns' keys, from one pass
    for split in ("train", "test"):
        X, Y = features[f"X_{split}"], features[f"Y_{split}"]  # (n_x, m), (1, m)
        Z_of[split], keys[split] = scores_and_keys(params, X)
        Z = Z_of[split]
        Y_prediction = predict_from_scores(Z)  # (1, m)
        out[f"{split}_accuracy"] = accuracy(Y_prediction, Y)
        out[f"{split}_stats"] = classification_stats(Z, Y)
        out[f"mislabeled_{split}"] = np.flatnonzero(Y_prediction != Y).tolist()
        out[f"confusion_{split}"] = confusion(Y_prediction, Y)
    # A test image that is pixel for pixel a training image is a memorized answer, not a test.
    X_test, Y_test = features["X_test"], features["Y_test"]
    duplicates = identical_columns(X_test, features["X_train"], keys["test"], keys["train"])
    kept = np.setdiff1d(np.arange(X_test.shape[1]), [i for i, _ in duplicates])
    out["test_duplicates_of_train"] = duplicates
    Z_kept = Z_of["test"][:, kept]  # (1, kept)
    out["test_stats_without_duplicates"] = None if not len(kept) else {
        "accuracy": accuracy(predict_from_scores(Z_kept), Y_test[:, kept]),
        **classification_stats(Z_kept, Y_test[:, kept])}
    out["costs"] = params["costs"].tolist()
    out["checkpoints"] = {k: params[k].tolist()
                          for k in ("iterations", "train_accuracies", "test_accuracies")}
    return out, Z_of


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
