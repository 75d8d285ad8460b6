"""Stage `train`: gradient descent from zeros on the features; writes w, b, costs and the config."""

import sys
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.cli import (
    Parser,
    UserError,
    non_negative_float,
    positive_float,
    positive_int,
    progress_bar,
)
from pipeline.engine import ENGINES, diverged, gradient_descent
from pipeline.features import load_features, mirror
from pipeline.files import check_arrays, read_npz, write_npz
from pipeline.model import predict

PARAM_SPEC = {  # dtype kinds and shapes, as params_record writes them (None: any length)
    "w": ("f", (None, 1)), "b": ("f", ()), "learning_rate": ("f", ()),
    "num_iterations": ("iu", ()), "l2": ("f", ()), "augment": ("U", ()), "engine": ("U", ()),
    "iterations": ("iu", (None,)), "costs": ("f", (None,)), "train_accuracies": ("f", (None,)),
    "test_accuracies": ("f", (None,)), "standardization": ("U", ()), "image_shape": ("iu", (3,)),
    "classes": ("U", (2,)), "train_sha256": ("U", ()), "test_sha256": ("U", ()),
    "test_counts": ("iu", (3,)),
}
PARAM_KEYS = tuple(PARAM_SPEC)


def load_params(path=config.PARAMS_FILE):
    """params.npz as a dict, checked: every array's dtype and shape, w (n_x, 1) for the stored
    image shape, b and w finite, the test counts possible."""
    p = read_npz(path, PARAM_KEYS, "make train")
    check_arrays(p, PARAM_SPEC, path, "make train")
    shape = tuple(int(s) for s in p["image_shape"])
    if shape[2] != 3 or min(shape) < 1 or p["w"].shape != (int(np.prod(shape)), 1):
        raise UserError(f"{path}: w has shape {p['w'].shape} for images {shape}; "
                        "run `make train` to remake it")
    if not np.isfinite(p["w"]).all() or not np.isfinite(p["b"]):
        raise UserError(f"{path}: w or b is not finite; run `make train` to remake it")
    right, n, positives = (int(v) for v in p["test_counts"])
    if not (0 <= right <= n and 0 <= positives <= n and n >= 1):
        raise UserError(f"{path}: test_counts {p['test_counts'].tolist()} are impossible; "
                        "run `make train` to remake it")
    curves = {len(p[k]) for k in ("iterations", "costs", "train_accuracies", "test_accuracies")}
    if len(curves) != 1 or str(p["augment"]) not in config.AUGMENTS:
        raise UserError(f"{path}: its curves or settings do not fit together; "
                        "run `make train` to remake it")
    if str(p["standardization"]) != config.STANDARDIZATION:
        raise UserError(f"{path}: unknown standardization {p['standardization']}; "
                        "run `make train` to remake it")
    return p


def params_record(run, j, features, learning_rate, num_iterations, l2, augment):
    """What params.npz holds for neuron j of a gradient_descent run: weights, curves, config,
    and test_counts [right, images, positives], so that the model says how far to trust it."""
    w, b = run["w"][:, j:j + 1], run["b"][j]  # (n_x, 1), scalar
    Y_test = features["Y_test"]
    right = int(np.sum(predict(w, b, features["X_test"]) == Y_test))
    return {
        "w": w, "b": np.array(b),
        "test_counts": np.array([right, Y_test.size, int(Y_test.sum())]),
        "learning_rate": np.array(learning_rate), "num_iterations": np.array(num_iterations),
        "l2": np.array(float(l2)), "augment": np.array(augment),
        "engine": np.array(run["engine"]), "iterations": run["iterations"],
        "costs": run["costs"][j], "train_accuracies": run["train_accuracies"][j],
        "test_accuracies": run["test_accuracies"][j],
        **{k: features[k] for k in ("standardization", "image_shape", "classes",
                                   "train_sha256", "test_sha256")},
    }


def training_set(features, augment):
    """X (n_x, m) and Y (1, m) to train on; with augment "flip", (n_x, 2m) and (1, 2m): every
    training image and then its mirror."""
    X, Y = features["X_train"], features["Y_train"]
    if augment == "flip":
        X = np.hstack([X, mirror(X, features["image_shape"])])
        Y = np.hstack([Y, Y])
    return X, Y


def train(features, learning_rates, num_iterations, engine, quiet, desc, l2=0.0,
          augment="none"):
    """One batched gradient-descent run under a progress bar."""
    X, Y = training_set(features, augment)
    with progress_bar(num_iterations, desc, quiet) as bar:
        run = gradient_descent(X, Y, learning_rates, num_iterations, features["X_test"],
                               features["Y_test"], engine=engine, every=config.CHECKPOINT_EVERY,
                               on_progress=bar.update, l2=l2)
    bad = diverged(run)
    if bad:
        raise UserError(f"learning rate {bad[0]!r} diverged (w is no longer finite); "
                        "try a smaller one")
    return run


def add_training_options(parser, iterations_default):
    parser.add_argument("--num-iterations", type=positive_int, default=iterations_default,
                        metavar="N", help="gradient-descent steps (default %(default)s)")
    parser.add_argument("--l2", type=non_negative_float, default=config.L2, metavar="LAMBDA",
                        help="cost + LAMBDA/(2m) ||w||^2, b unpenalized (default %(default)s)")
    parser.add_argument("--augment", choices=config.AUGMENTS, default=config.AUGMENT,
                        help="flip: also train on each image mirrored (default %(default)s)")
    parser.add_argument("--engine", choices=ENGINES, default=config.ENGINE,
                        help="how to run the steps; all give the textbook iterates "
                             "(default %(default)s)")
    parser.add_argument("--features", type=Path, default=config.FEATURES_FILE)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(argv=None):
    parser = Parser(prog="python -m pipeline train", description=__doc__.splitlines()[0])
    parser.add_argument("--learning-rate", type=positive_float, default=config.LEARNING_RATE,
                        metavar="X", help="alpha (default %(default)s)")
    add_training_options(parser, config.NUM_ITERATIONS)
    parser.add_argument("--out", type=Path, default=config.PARAMS_FILE)
    args = parser.parse_args(argv)
    features = load_features(args.features)
    lr, n = args.learning_rate, args.num_iterations
    run = train(features, [lr], n, args.engine, args.quiet, f"train lr={lr}", args.l2,
                args.augment)
    record = params_record(run, 0, features, lr, n, args.l2, args.augment)
    write_npz(args.out, **record)
    costs = record["costs"]
    extras = "".join([f", l2 {args.l2}" if args.l2 else "",
                      ", mirrored images too" if args.augment == "flip" else ""])
    print(f"trained {n} iterations at lr {lr}{extras} ({run['engine']} engine): "
          f"cost {costs[0]:.6f} -> {costs[-1]:.6f}; wrote {args.out}", file=sys.stderr)
