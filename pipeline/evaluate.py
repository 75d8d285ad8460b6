"""Stage `evaluate`: train/test accuracy of the trained neuron; writes reports/metrics.json."""

from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.cli import Parser, UserError
from pipeline.features import load_features
from pipeline.files import write_json
from pipeline.model import accuracy, predict
from pipeline.train import load_params


def confusion(Y_prediction, Y):
    """Counts of true/false positives/negatives, cat being the positive class."""
    p, y = Y_prediction.astype(bool), Y.astype(bool)
    return {"true_cat": int(np.sum(p & y)), "false_cat": int(np.sum(p & ~y)),
            "missed_cat": int(np.sum(~p & y)), "true_non_cat": int(np.sum(~p & ~y))}


def metrics(params, features):
    """Everything metrics.json holds: accuracies, the cost curve, the mislabeled images."""
    w, b = params["w"], float(params["b"])
    out = {"learning_rate": float(params["learning_rate"]),
           "num_iterations": int(params["num_iterations"])}
    for split in ("train", "test"):
        Y = features[f"Y_{split}"]  # (1, m)
        Y_prediction = predict(w, b, features[f"X_{split}"])  # (1, m)
        out[f"{split}_accuracy"] = accuracy(Y_prediction, Y)
        out[f"mislabeled_{split}"] = np.flatnonzero(Y_prediction != Y).tolist()
        out[f"confusion_{split}"] = confusion(Y_prediction, Y)
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
    print(f"train accuracy: {result['train_accuracy']} %")
    print(f"test accuracy: {result['test_accuracy']} %")
