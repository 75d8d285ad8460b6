"""Stage `cv`: repeated stratified K-fold cross-validation on the training set only.

Every fold x repeat x learning rate x l2 x augment trains at once in the Gram space of the training
set (engine.masked_gram_steps): fold f's neuron keeps its dual vector zero outside its own
training images, so one (rows, M) x (M, M) product per step serves them all, and the validation
scores come out of the same product. The candidates are the neuron after 100, 200, ... steps; the
best mean validation accuracy picks the settings, and only then is the test set looked at, once,
by one fit with those settings on the whole training set.
"""

import sys
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.assemble import refresh
from pipeline.cli import (
    Parser,
    UserError,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    progress_bar,
)
from pipeline.cv_figure import cv_png
from pipeline.cv_minibatch import minibatch_run, scale_defaults
from pipeline.cv_summary import (
    search_grid,
    section_fragment,
    summarize,
    summary_markdown,
    summary_text,
)
from pipeline.engine import masked_gram_steps
from pipeline.features import load_features, mirror
from pipeline.files import atomic_dir, write_bytes, write_json, write_text
from pipeline.folds import check_options, grid_masks, stratified_folds
from pipeline.model import THRESHOLD, log_loss, sigmoid
from pipeline.network_cv import masked_network_steps
from pipeline.params import scores
from pipeline.sections import write_section
from pipeline.stats import classification_stats
from pipeline.threads import on_blas_threads
from pipeline.train import (
    add_optimizer_options,
    initial_parameters,
    layer_dims_of,
    record,
    train,
)


@on_blas_threads("cv")
def cross_validate(features, folds, repeats, seed, learning_rates, num_iterations, l2s, augments,
                   on_progress=None, model="logistic", layer_dims=None):
    """Validation accuracy (percent) and log-loss of every candidate, every fold.

    A network's folds all start from the course's seed-1 weights: its first layer in the same
    Gram space (W1 = c W1_0 + A X.T, so Z1 = c W1_0 X + A K + b1), all rows in one product.

    Returns a dict: fold_of (repeats, m), grid (list of (augment, l2, learning_rate)),
    iterations (c,), and val_accuracy, val_log_loss of shape (repeats * folds, g, c), NaN where a
    row diverged.
    """
    X, Y = features["X_train"], features["Y_train"]  # (n_x, m), (1, m)
    m = X.shape[1]
    grid = search_grid(augments, l2s, learning_rates)
    fold_of = stratified_folds(Y, folds, repeats, seed)
    flags = [aug == "flip" for aug, _, _ in grid]
    train_mask, val_mask = grid_masks(fold_of, folds, len(grid), flags)
    columns = np.hstack([X, mirror(X, features["image_shape"])]) if any(flags) else X
    K = columns.T @ columns  # (M, M)
    Y_all = np.tile(Y, columns.shape[1] // m)  # (1, M)
    rows = train_mask.shape[0]
    lr = np.tile([g[2] for g in grid], rows // len(grid)).reshape(-1, 1)  # (R, 1)
    l2 = np.tile([g[1] for g in grid], rows // len(grid)).reshape(-1, 1)  # (R, 1)
    val = val_mask[:, :m]  # (R, m)
    val_count = val.sum(axis=1)  # (R,)
    iterations = list(range(config.CHECKPOINT_EVERY, num_iterations + 1,
                            config.CHECKPOINT_EVERY))
    accuracies, losses = [], []

    def score(Z):
        """Z (R, m): every row's scores on the original images, at one checkpoint."""
        right = (sigmoid(Z) > THRESHOLD) == (Y == 1)
        accuracies.append(100 * (val * right).sum(axis=1) / val_count)
        losses.append((val * log_loss(Z, Y)).sum(axis=1) / val_count)
        last_Z[0] = Z

    last_Z = [None]

    every_tick = max(1, num_iterations // 50)

    def tick(i):
        if on_progress and (i + 1) % every_tick == 0:
            on_progress(every_tick)

    with np.errstate(over="ignore", invalid="ignore"):
        if model == "logistic":
            masked_gram_steps(K, Y_all, lr, l2, train_mask, num_iterations, iterations,
                              lambda i, a, b: score(a @ K[:, :m] + b), tick)
        else:
            start = initial_parameters(model, layer_dims)
            masked_network_steps(K, start["W1"] @ columns, Y_all, start, lr, l2, train_mask,
                                 num_iterations, iterations, lambda i, ZL: score(ZL[:, :m]),
                                 tick)
    ok = np.isfinite(last_Z[0]).all(axis=1)  # (R,): a row that diverged scores inf or NaN
    shape = (repeats * folds, len(grid), len(iterations))
    accuracy = np.where(ok[:, None], np.array(accuracies).T, np.nan).reshape(shape)
    loss = np.where(ok[:, None], np.array(losses).T, np.nan).reshape(shape)
    return {"fold_of": fold_of, "grid": grid, "iterations": iterations,
            "val_accuracy": accuracy, "val_log_loss": loss}


def final_fit(features, settings):
    """The one fit with the chosen settings (as params_record takes them) on the whole training
    set; its test statistics."""
    run = train(features, [settings["learning_rate"]], settings["num_iterations"], "auto", True,
                "final fit", settings["l2"], settings["augment"], settings["model"],
                settings["layer_dims"], settings)
    params = record(run, 0, features, settings)
    return classification_stats(scores(params, features["X_test"]), features["Y_test"])


def main(argv=None):
    parser = Parser(prog="python -m pipeline cv", description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=config.CV_FOLDS, metavar="K",
                        help="folds per repeat (default %(default)s)")
    parser.add_argument("--repeats", type=int, metavar="N",
                        help=f"fresh fold assignments (default {config.CV_REPEATS}; 1 above "
                        f"{config.CV_LARGE_M} training images)")
    parser.add_argument("--seed", type=non_negative_int, default=config.CV_SEED,
                        help="seeds the folds (default %(default)s)")
    parser.add_argument("--model", choices=config.MODELS, default=config.MODEL,
                        help="one neuron, or a week-4 network (default %(default)s)")
    parser.add_argument("--layers", type=positive_int, nargs="+", metavar="N",
                        help="a network's hidden sizes (default: the course's)")
    parser.add_argument("--learning-rates", type=positive_float, nargs="*", metavar="X",
                        help="the rates to search (default: "
                        f"{' '.join(map(str, config.CV_LEARNING_RATES))} for logistic, "
                        f"{' '.join(map(str, config.CV_NETWORK_LEARNING_RATES))} for a network, "
                        f"{' '.join(map(str, config.CV_MINIBATCH_LEARNING_RATES))} with "
                        "minibatch or adam)")
    parser.add_argument("--num-iterations", type=positive_int, default=config.CV_NUM_ITERATIONS,
                        metavar="N", help="gd's longest run; candidates every "
                        f"{config.CHECKPOINT_EVERY} steps (default %(default)s)")
    add_optimizer_options(parser, None, f"gd (default up to {config.CV_LARGE_M} training "
                          "images), or minibatch or adam (default above): candidates after "
                          "each epoch")
    parser.add_argument("--l2", type=non_negative_float, nargs="*", default=[config.L2],
                        metavar="LAMBDA", help="L2 strengths to search (default %(default)s)")
    parser.add_argument("--augment", nargs="*", default=[config.AUGMENT], metavar="{none,flip}",
                        help="augmentations to search (default %(default)s)")
    parser.add_argument("--features", type=Path, default=config.FEATURES_FILE)
    parser.add_argument("--out-dir", type=Path, default=config.CV_DIR)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    unknown = [a for a in args.augment if a not in config.AUGMENTS]
    if unknown:
        raise UserError(f"--augment {unknown[0]!r}: choose from {', '.join(config.AUGMENTS)}")
    if args.num_iterations < config.CHECKPOINT_EVERY:
        raise UserError(f"--num-iterations {args.num_iterations}: need at least "
                        f"{config.CHECKPOINT_EVERY}, the first candidate")
    features = load_features(args.features)
    for note in scale_defaults(args, features["X_train"].shape):
        print(f"note: {note}", file=sys.stderr)
    args.layer_dims = layer_dims_of(args, features["X_train"].shape[0])
    check_options(features["Y_train"], args.folds, args.repeats, args.learning_rates, args.l2,
                  args.augment)
    fits = args.folds * args.repeats * len(args.learning_rates) * len(args.l2) * len(args.augment)
    if args.optimizer == "gd":
        with progress_bar(args.num_iterations, f"cv {fits} fits", args.quiet) as bar:
            result = cross_validate(features, args.folds, args.repeats, args.seed,
                                    args.learning_rates, args.num_iterations, args.l2,
                                    args.augment, bar.update, args.model, args.layer_dims)
    else:
        result = minibatch_run(features, args, fits)
    summary = summarize(result, features, args, final_fit)
    figure = cv_png(summary, result)
    with atomic_dir(args.out_dir) as tmp:
        write_json(tmp / "summary.json", summary)
        write_text(tmp / "summary.md", summary_markdown(summary))
        write_bytes(tmp / "cv.png", figure)
        write_section(tmp, section_fragment(summary), "Settings chosen without the test set",
                      "cross-validation", "make cv", summary["made_for"])
    print(f"{args.folds}-fold x {args.repeats} cross-validation on {summary['m_train']} "
          "training images (the test set chose nothing)")
    print(summary_text(summary))
    print(f"wrote {args.out_dir}/", file=sys.stderr)
    refresh(args.out_dir.parent)

