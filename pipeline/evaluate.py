"""Stage `evaluate`: train/test accuracy of the trained model; writes reports/metrics.json."""

from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.cli import Parser, UserError
from pipeline.features import is_course_data, load_features
from pipeline.files import write_json
from pipeline.model import THRESHOLD, accuracy, sigmoid
from pipeline.params import load_params, scores
from pipeline.stats import (
    accuracy_summary,
    classification_stats,
    identical_columns,
    not_significant_sentence,
    percent,
)


def confusion(Y_prediction, Y):
    """Counts of true/false positives/negatives, cat being the positive class."""
    p, y = Y_prediction.astype(bool), Y.astype(bool)
    return {"true_cat": int(np.sum(p & y)), "false_cat": int(np.sum(p & ~y)),
            "missed_cat": int(np.sum(~p & y)), "true_non_cat": int(np.sum(~p & ~y))}


def metrics(params, features):
    """Everything metrics.json holds: accuracies and what they mean, the cost curve, the
    mislabeled images, and the test images that are also training images."""
    out = {"model": str(params["model"]), "layer_dims": params["layer_dims"].tolist(),
           "learning_rate": float(params["learning_rate"]),
           "num_iterations": int(params["num_iterations"]),
           "l2": float(params["l2"]), "augment": str(params["augment"]),
           "optimizer": str(params["optimizer"])}
    for split in ("train", "test"):
        X, Y = features[f"X_{split}"], features[f"Y_{split}"]  # (n_x, m), (1, m)
        Z = scores(params, X)  # (1, m)
        Y_prediction = (sigmoid(Z) > THRESHOLD).astype(float)  # (1, m)
        out[f"{split}_accuracy"] = accuracy(Y_prediction, Y)
        out[f"{split}_stats"] = classification_stats(Z, Y)
        out[f"mislabeled_{split}"] = np.flatnonzero(Y_prediction != Y).tolist()
        out[f"confusion_{split}"] = confusion(Y_prediction, Y)
    # A test image that is pixel for pixel a training image is a memorized answer, not a test.
    X_test, Y_test = features["X_test"], features["Y_test"]
    duplicates = identical_columns(X_test, features["X_train"])
    kept = np.setdiff1d(np.arange(X_test.shape[1]), [i for i, _ in duplicates])
    out["test_duplicates_of_train"] = duplicates
    Z_kept = scores(params, X_test[:, kept])  # (1, kept)
    out["test_stats_without_duplicates"] = None if not len(kept) else {
        "accuracy": accuracy((sigmoid(Z_kept) > THRESHOLD).astype(float), Y_test[:, kept]),
        **classification_stats(Z_kept, Y_test[:, kept])}
    out["costs"] = params["costs"].tolist()
    out["checkpoints"] = {k: params[k].tolist()
                          for k in ("iterations", "train_accuracies", "test_accuracies")}
    return out


def check_same_data(params, features, params_path):
    for key in ("train_sha256", "test_sha256", "image_shape"):
        if not np.array_equal(params[key], features[key]):
            raise UserError(f"{params_path} was trained on other data than the features "
                            f"({key} differs); run `make train` to retrain")


def main(argv=None):
    parser = Parser(prog="python -m pipeline evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=config.PARAMS_FILE)
    parser.add_argument("--features", type=Path, default=config.FEATURES_FILE)
    parser.add_argument("--out", type=Path, default=config.METRICS_FILE)
    args = parser.parse_args(argv)
    params, features = load_params(args.params), load_features(args.features)
    check_same_data(params, features, args.params)
    result = metrics(params, features)
    write_json(args.out, result)
    classes = [str(c) for c in features["classes"]]
    exact = is_course_data(features)
    for split in ("train", "test"):
        print(f"{split} accuracy: {percent(result[split + '_accuracy'], exact)} "
              + accuracy_summary(result[f"{split}_stats"], classes))
    sentence = not_significant_sentence(result["test_stats"], classes, "test")
    if sentence:
        print(sentence)
