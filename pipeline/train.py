"""Stage `train`: gradient descent on the features (one neuron from zeros, or a week-4 network
from the course's seed-1 start); writes the weights, costs and the run's config."""

import math
import sys
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.cli import (
    Parser,
    UserError,
    below_one,
    non_negative_float,
    positive_float,
    positive_int,
    progress_bar,
)
from pipeline.engine import ENGINES, gradient_descent
from pipeline.features import load_features, mirror
from pipeline.files import write_npz
from pipeline.layers import L_model_scores, propagate
from pipeline.network import initialize_parameters, initialize_parameters_deep
from pipeline.network_engine import train_networks
from pipeline.optimizers import optimize_minibatch
from pipeline.params import params_record

CURVES = ("iterations", "costs", "train_accuracies", "test_accuracies")


def training_set(features, augment):
    """X (n_x, m) and Y (1, m) to train on; with augment "flip", (n_x, 2m) and (1, 2m): every
    training image and then its mirror."""
    X, Y = features["X_train"], features["Y_train"]
    if augment == "flip":
        X = np.hstack([X, mirror(X, features["image_shape"])])
        Y = np.hstack([Y, Y])
    return X, Y


def initial_parameters(model, layer_dims):
    """The course's start in its layered layout: zeros for one neuron (the lesson's); for a
    network seed-1 weights drawn layer by layer (x 0.01 for two-layer, / sqrt(n_in) for
    L-layer) and zero biases."""
    if model == "logistic":
        return {"W1": np.zeros((1, layer_dims[0])), "b1": np.zeros((1, 1))}
    if model == "two-layer":
        return initialize_parameters(*layer_dims, seed=config.NETWORK_SEED)
    return initialize_parameters_deep(layer_dims, seed=config.NETWORK_SEED)


def train(features, learning_rates, num_iterations, engine, quiet, desc, l2=0.0,
          augment="none", model="logistic", layer_dims=None, optimizer=None):
    """One batched gradient-descent run under a progress bar, one model per learning rate; with
    an optimizer other than gd (a dict of its settings), mini-batches instead.

    Returns a dict: weights (k dicts, {"w", "b"} or {"W1", "b1", ...}), engine, and the curves
    iterations (c,) (epochs for mini-batches), costs, train_accuracies, test_accuracies (k, c).
    """
    if optimizer and optimizer["optimizer"] != "gd":
        return train_minibatch(features, learning_rates, quiet, desc, l2, augment, model,
                               layer_dims, optimizer)
    X, Y = training_set(features, augment)
    X_test, Y_test = features["X_test"], features["Y_test"]
    every = config.CHECKPOINT_EVERY
    with progress_bar(num_iterations, desc, quiet) as bar:
        if model == "logistic":
            run = gradient_descent(X, Y, learning_rates, num_iterations, X_test, Y_test,
                                   engine=engine, every=every, on_progress=bar.update, l2=l2)
            run["weights"] = [{"w": run["w"][:, j:j + 1], "b": run["b"][j]}
                              for j in range(len(learning_rates))]
        else:
            run = train_networks(X, Y, initial_parameters(model, layer_dims), learning_rates,
                                 num_iterations, X_test, Y_test, l2=l2, engine=engine,
                                 every=every, on_progress=bar.update)
            run["weights"] = run["parameters"]
    refuse_diverged(learning_rates, run["weights"], run["costs"])
    return run


# A cost that grew this many times over its start has diverged even where the floats stayed
# finite. Which way a huge rate goes depends on the CPU: weights that overflow to inf, finite
# weights whose scores overflow (a NaN cost), or dead ReLUs and a bias near 1e307 (a finite cost
# near 1e307). All three are the same divergence and are refused alike.
DIVERGED_GROWTH = 1e6


def diverged(weights, costs):
    """Whether a run diverged: weights or last cost not finite, or the last cost above
    DIVERGED_GROWTH times the first (or than DIVERGED_GROWTH, for a first cost below 1).

    weights : dict of arrays; costs : ndarray of shape (c,), the first before any update
    """
    if not (all(np.isfinite(a).all() for a in weights.values()) and np.isfinite(costs[-1])):
        return True
    return bool(costs[-1] > DIVERGED_GROWTH * max(costs[0], 1.0))


def refuse_diverged(learning_rates, weights, costs):
    """One line for the first rate whose run diverged."""
    for lr, w, cost in zip(learning_rates, weights, costs, strict=True):
        if diverged(w, cost):
            raise UserError(f"learning rate {lr!r} diverged (its cost or weights blew up); "
                            "try a smaller one")


def train_minibatch(features, learning_rates, quiet, desc, l2, augment, model, layer_dims,
                    optimizer):
    """train() with mini-batch gradient descent or Adam: one model per rate, in turn."""
    X, Y = training_set(features, augment)
    m = X.shape[1]
    batch = min(optimizer["mini_batch_size"], m)
    steps = optimizer["num_epochs"] * math.ceil(m / batch)
    start = initial_parameters(model, layer_dims)
    runs = []
    with progress_bar(steps * len(learning_rates), desc, quiet, unit="batch") as bar:
        for lr in learning_rates:
            runs.append(optimize_minibatch(
                start, propagate, X, Y, optimizer["optimizer"], lr, batch,
                optimizer["num_epochs"], optimizer["beta1"], optimizer["beta2"], config.EPSILON,
                config.MINIBATCH_SEED, l2, features["X_test"], features["Y_test"],
                on_progress=bar.update, forward=lambda p, X: L_model_scores(X, p)))
    weights = [r["parameters"] for r in runs]
    refuse_diverged(learning_rates, weights, [r["costs"] for r in runs])
    if model == "logistic":
        weights = [{"w": w["W1"].T, "b": float(w["b1"][0, 0])} for w in weights]
    return {"weights": weights, "engine": optimizer["optimizer"], "steps": steps,
            "mini_batch_size": batch, "iterations": runs[0]["epochs"],
            **{key: np.array([r[key] for r in runs])
               for key in ("costs", "train_accuracies", "test_accuracies")}}


def record(run, j, features, settings):
    """params.npz's content for model j of a train() run; settings as params_record takes."""
    return params_record(run["weights"][j], {k: run[k] if k == "iterations" else run[k][j]
                                             for k in CURVES},
                         features, {**settings, "engine": run["engine"]})


def add_training_options(parser):
    parser.add_argument("--model", choices=config.MODELS, default=config.MODEL,
                        help="one neuron, or a week-4 network (default %(default)s)")
    parser.add_argument("--layers", type=positive_int, nargs="+", metavar="N",
                        help="hidden layer sizes (default: two-layer 7, l-layer 20 7 5)")
    parser.add_argument("--num-iterations", type=positive_int, metavar="N",
                        help="gradient-descent steps (default: the course's for the model)")
    parser.add_argument("--l2", type=non_negative_float, default=config.L2, metavar="LAMBDA",
                        help="cost + LAMBDA/(2m) sum ||W||^2, b unpenalized (default %(default)s)")
    parser.add_argument("--augment", choices=config.AUGMENTS, default=config.AUGMENT,
                        help="flip: also train on each image mirrored (default %(default)s)")
    add_optimizer_options(parser, config.OPTIMIZER, "gd: full batch, the course's run; "
                          "minibatch or adam: the second course's, for big data "
                          "(default %(default)s)")
    parser.add_argument("--engine", choices=ENGINES, default=config.ENGINE,
                        help="how to run the steps; all give the textbook iterates "
                             "(default %(default)s)")
    parser.add_argument("--features", type=Path, default=config.FEATURES_FILE)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_optimizer_options(parser, default, help_text):
    """--optimizer and its settings, for train, compare and cv."""
    parser.add_argument("--optimizer", choices=config.OPTIMIZERS, default=default,
                        help=help_text)
    parser.add_argument("--mini-batch-size", type=positive_int, default=config.MINI_BATCH_SIZE,
                        metavar="N", help="images per step (default %(default)s)")
    parser.add_argument("--num-epochs", type=positive_int, default=config.NUM_EPOCHS,
                        metavar="N", help="passes over the training set (default %(default)s)")
    parser.add_argument("--beta1", type=below_one, default=config.BETA1,
                        help="Adam's first-moment decay (default %(default)s)")
    parser.add_argument("--beta2", type=below_one, default=config.BETA2,
                        help="Adam's second-moment decay (default %(default)s)")


def layer_dims_of(args, n_x):
    """[n_x, hidden..., 1] for the chosen model, the course's hidden sizes unless --layers."""
    if args.model == "logistic":
        if args.layers:
            raise UserError("--layers: the logistic model has no hidden layer; "
                            "choose --model two-layer or l-layer")
        return [n_x, 1]
    hidden = args.layers or list(config.HIDDEN_LAYERS[args.model])
    if args.model == "two-layer" and len(hidden) != 1:
        raise UserError(f"--layers {' '.join(map(str, hidden))}: the two-layer network has one "
                        "hidden layer; give one size, or choose --model l-layer")
    return [n_x, *hidden, 1]


def settings_of(args, n_x, learning_rate_default, iterations_default):
    """The run's settings from the options, with the model's and optimizer's own defaults."""
    network, gd = args.model != "logistic", args.optimizer == "gd"
    if not gd and args.num_iterations is not None:
        raise UserError(f"--num-iterations is for gd; {args.optimizer} counts --num-epochs")
    if args.num_iterations is None:
        args.num_iterations = config.NETWORK_NUM_ITERATIONS if network else iterations_default
    learning_rate = config.MINIBATCH_LEARNING_RATE if not gd else \
        config.NETWORK_LEARNING_RATE if network else learning_rate_default
    return {"model": args.model, "layer_dims": layer_dims_of(args, n_x),
            "learning_rate": learning_rate, "num_iterations": args.num_iterations, "l2": args.l2,
            "augment": args.augment, "optimizer": args.optimizer,
            "mini_batch_size": 0 if gd else args.mini_batch_size,
            "num_epochs": 0 if gd else args.num_epochs, "beta1": args.beta1, "beta2": args.beta2}


def describe(settings):
    """'lr 0.005' or 'the l-layer network [12288, 20, 7, 5, 1], lr 0.0075', with its options."""
    model = "" if settings["model"] == "logistic" else \
        f"the {settings['model']} network {settings['layer_dims']}, "
    extras = "".join([f", l2 {settings['l2']}" if settings["l2"] else "",
                      ", mirrored images too" if settings["augment"] == "flip" else "",
                      f", {settings['optimizer']} on batches of {settings['mini_batch_size']}"
                      if settings["optimizer"] != "gd" else ""])
    return f"{model}lr {settings['learning_rate']}{extras}"


def main(argv=None):
    parser = Parser(prog="python -m pipeline train", description=__doc__.splitlines()[0])
    parser.add_argument("--learning-rate", type=positive_float, metavar="X",
                        help="alpha (default: the course's for the model)")
    add_training_options(parser)
    parser.add_argument("--out", type=Path, default=config.PARAMS_FILE)
    args = parser.parse_args(argv)
    features = load_features(args.features)
    settings = settings_of(args, features["X_train"].shape[0], config.LEARNING_RATE,
                           config.NUM_ITERATIONS)
    if args.learning_rate is not None:
        settings["learning_rate"] = args.learning_rate
    lr, n = settings["learning_rate"], settings["num_iterations"]
    run = train(features, [lr], n, args.engine, args.quiet, f"train {args.model} lr={lr}",
                args.l2, args.augment, args.model, settings["layer_dims"], settings)
    if settings["optimizer"] != "gd":
        n = settings["num_iterations"] = run["steps"]
        if run["mini_batch_size"] < settings["mini_batch_size"]:
            print(f"note: a batch of {settings['mini_batch_size']} is more than the "
                  f"{run['mini_batch_size']} training images: one batch of them all per epoch",
                  file=sys.stderr)
            settings["mini_batch_size"] = run["mini_batch_size"]
    params = record(run, 0, features, settings)
    write_npz(args.out, **params)
    costs = params["costs"]
    print(f"trained {n} steps, {describe(settings)} ({run['engine']}): "
          f"cost {costs[0]:.6f} -> {costs[-1]:.6f}; wrote {args.out}", file=sys.stderr)
