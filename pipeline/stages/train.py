"""Stage `train`: gradient descent on the features (one neuron from zeros, or a week-4 network
from the course's seed-1 start); writes the weights, costs and the run's config."""

import sys
from pathlib import Path

from pipeline import config
from pipeline.artifacts.features import load_features
from pipeline.artifacts.files import write_npz
from pipeline.cli import (
    Parser,
    positive_float,
)
from pipeline.engines.fit import record, train
from pipeline.stages.options import add_training_options, describe, settings_of


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
    run = train(features, [lr], n, engine=args.engine, quiet=args.quiet,
                desc=f"train {args.model} lr={lr}", l2=args.l2, augment=args.augment,
                model=args.model, layer_dims=settings["layer_dims"], optimizer=settings)
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
