"""Stage `cv`: repeated stratified K-fold cross-validation on the training set only.

Every fold x repeat x learning rate x l2 x augment trains at once in the Gram space of the training
set (engine.masked_gram_steps): fold f's neuron keeps its dual vector zero outside its own
training images, so one (rows, M) x (M, M) product per step serves them all, and the validation
scores come out of the same product. The candidates are the neuron after 100, 200, ... steps; the
best mean validation accuracy picks the settings, and only then is the test set looked at, once,
by one fit with those settings on the whole training set.
"""

import sys
import textwrap
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.cli import (
    Parser,
    UserError,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    progress_bar,
)
from pipeline.engine import gradient_descent, masked_gram_steps
from pipeline.features import load_features, mirror
from pipeline.files import atomic_dir, write_bytes, write_json, write_text
from pipeline.model import THRESHOLD, log_loss, sigmoid
from pipeline.stats import classification_stats, majority
from pipeline.train import training_set

COURSE_CHOICE = (0.005, 2000)  # the course's learning rate and iteration count, marked on cv.png


def stratified_folds(Y, folds, repeats, seed):
    """fold_of (repeats, m): the validation fold of each example in each repeat.

    Each class is shuffled and dealt round-robin, the second class going on where the first
    stopped, so fold sizes and each fold's class counts differ by at most one.
    """
    y = np.ravel(Y)
    rng = np.random.default_rng(seed)
    fold_of = np.empty((repeats, len(y)), dtype=np.int64)
    for r in range(repeats):
        dealt = 0
        for label in (0, 1):
            members = rng.permutation(np.flatnonzero(y == label))
            fold_of[r, members] = (dealt + np.arange(len(members))) % folds
            dealt += len(members)
    return fold_of


def check_options(Y, folds, repeats, learning_rates, l2s, augments):
    """One UserError for any option that makes no sense for this training set."""
    smaller = int(min(np.sum(Y == 0), np.sum(Y == 1)))
    if folds < 2 or folds > smaller:
        raise UserError(f"--folds {folds}: need 2 to {smaller} (every fold needs one image of "
                        "the smaller class)")
    if repeats < 1:
        raise UserError(f"--repeats {repeats}: need at least 1")
    for name, values in (("--learning-rates", learning_rates), ("--l2", l2s),
                         ("--augment", augments)):
        if not values:
            raise UserError(f"{name} is empty: give at least one value")
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise UserError(f"{name}: {twice[0]!r} is given twice; list each value once")


def grid_masks(fold_of, folds, n_grid, augment_flags):
    """Train and validation masks for every row, rows ordered (repeat, fold, grid point).

    Columns are the m training images, then (when any grid point flips) their m mirrors; a
    mirror trains exactly when its image does, so a validation image's mirror never trains its
    own fold. Validation is always on the original images.
    Returns train (R, M) and val (R, M) as float 0/1, R = repeats * folds * n_grid.
    """
    repeats, m = fold_of.shape
    flipped = any(augment_flags)
    trains = fold_of[:, None, :] != np.arange(folds)[None, :, None]  # (repeats, folds, m)
    train = np.zeros((repeats, folds, n_grid, m * (2 if flipped else 1)))
    train[..., :m] = trains[:, :, None, :]
    if flipped:
        train[..., m:] = trains[:, :, None, :] * np.asarray(augment_flags)[None, None, :, None]
    val = np.zeros_like(train)
    val[..., :m] = ~trains[:, :, None, :]
    return train.reshape(-1, train.shape[-1]), val.reshape(-1, val.shape[-1])


def search_grid(augments, l2s, learning_rates):
    """Every (augment, l2, learning rate), the rate varying fastest: the order of all arrays."""
    return [(aug, l2, lr) for aug in augments for l2 in l2s for lr in learning_rates]


def fold_statistics(result):
    """Over the repeats x folds: mean and sample sd (ddof=1) of the validation accuracy, and the
    mean validation log-loss, each (g, c); NaN where a grid point diverged."""
    with np.errstate(invalid="ignore"):
        return (np.mean(result["val_accuracy"], axis=0),
                np.std(result["val_accuracy"], axis=0, ddof=1),
                np.mean(result["val_log_loss"], axis=0))


def cross_validate(features, folds, repeats, seed, learning_rates, num_iterations, l2s, augments,
                   on_progress=None):
    """Validation accuracy (percent) and log-loss of every candidate, every fold.

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

    def checkpoint(i, a, b):
        Z = a @ K[:, :m] + b  # (R, m): every row's scores on the original images
        right = (sigmoid(Z) > THRESHOLD) == (Y == 1)
        accuracies.append(100 * (val * right).sum(axis=1) / val_count)
        losses.append((val * log_loss(Z, Y)).sum(axis=1) / val_count)

    every_tick = max(1, num_iterations // 50)

    def tick(i):
        if on_progress and (i + 1) % every_tick == 0:
            on_progress(every_tick)

    with np.errstate(over="ignore", invalid="ignore"):
        a, b = masked_gram_steps(K, Y_all, lr, l2, train_mask, num_iterations, iterations,
                                 checkpoint, tick)
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b[:, 0])  # (R,)
    shape = (repeats * folds, len(grid), len(iterations))
    accuracy = np.where(ok[:, None], np.array(accuracies).T, np.nan).reshape(shape)
    loss = np.where(ok[:, None], np.array(losses).T, np.nan).reshape(shape)
    return {"fold_of": fold_of, "grid": grid, "iterations": iterations,
            "val_accuracy": accuracy, "val_log_loss": loss}


def best_candidate(mean, grid, iterations, l2s, augments):
    """(grid index, checkpoint index) of the highest mean validation accuracy.

    Ties (within 1e-9) go to fewer iterations, then the smaller rate, the smaller l2, and no
    augmentation: the simpler model.
    """
    order = sorted(((c, g) for g in range(len(grid)) for c in range(len(iterations))),
                   key=lambda cg: (iterations[cg[0]], grid[cg[1]][2], grid[cg[1]][1],
                                   augments.index(grid[cg[1]][0])))
    best, best_value = None, -np.inf
    for c, g in order:
        if np.isfinite(mean[g, c]) and mean[g, c] > best_value + 1e-9:
            best, best_value = (g, c), mean[g, c]
    return best


def final_fit(features, augment, l2, learning_rate, num_iterations):
    """The one fit with the chosen settings on the whole training set; its test statistics."""
    X, Y = training_set(features, augment)
    X_test, Y_test = features["X_test"], features["Y_test"]
    run = gradient_descent(X, Y, [learning_rate], num_iterations, X_test, Y_test, l2=l2)
    Z_test = run["w"][:, 0] @ X_test + run["b"][0]  # (m_test,)
    return classification_stats(Z_test.reshape(1, -1), Y_test)


def grid_list(values, augments, l2s, learning_rates):
    """(g, c) per grid point -> nested lists with one leading axis per option searched over more
    than one value, then learning_rate and iteration; NaN becomes None (JSON null)."""
    searched = [len(options) for options in (augments, l2s) if len(options) > 1]
    array = values.reshape(searched + [len(learning_rates), values.shape[-1]])
    return np.where(np.isfinite(array), array, None).tolist()


def summarize(result, features, args):
    """summary.json's content: the options, the arrays, the choice and its one test score."""
    grid, iterations = result["grid"], result["iterations"]
    mean, sd, loss_mean = fold_statistics(result)  # (g, c) each
    Y, Y_test = features["Y_train"], features["Y_test"]
    majority_label, nir = majority(int(Y.sum()), Y.shape[1])
    classes = [str(c) for c in features["classes"]]
    augments, l2s, rates = args.augment, args.l2, args.learning_rates
    axes = [name for name, values in (("augment", augments), ("l2", l2s)) if len(values) > 1]
    arrays = {key: grid_list(values, augments, l2s, rates)
              for key, values in (("val_accuracy_mean", mean), ("val_accuracy_sd", sd),
                                  ("val_log_loss_mean", loss_mean))}
    diverged = [{"augment": aug, "l2": l2, "learning_rate": lr}
                for g, (aug, l2, lr) in enumerate(grid) if not np.isfinite(mean[g]).all()]
    best = best_candidate(mean, grid, iterations, l2s, augments)
    summary = {
        "folds": args.folds, "repeats": args.repeats, "seed": args.seed,
        "learning_rates": rates, "l2": l2s, "augment": augments,
        "axes": axes + ["learning_rate", "iteration"], "iterations": iterations,
        **arrays,
        "fold_of": result["fold_of"].tolist(),
        "m_train": int(Y.shape[1]), "classes": classes,
        "no_information_rate": nir, "majority_class": classes[majority_label],
        "test_majority_class": classes[majority(int(Y_test.sum()), Y_test.shape[1])[0]],
        "diverged": diverged,
    }
    course = next((g for g, (aug, l2, lr) in enumerate(grid)
                   if (aug, l2, lr) == ("none", 0.0, COURSE_CHOICE[0])), None)
    if course is not None and COURSE_CHOICE[1] in iterations and np.isfinite(mean[course]).all():
        c = iterations.index(COURSE_CHOICE[1])
        summary["course_choice"] = {"learning_rate": COURSE_CHOICE[0],
                                    "num_iterations": COURSE_CHOICE[1],
                                    "val_accuracy_mean": float(mean[course, c]),
                                    "val_accuracy_sd": float(sd[course, c])}
    if best is None:
        summary["best"] = None
        summary["verdict"] = "Every setting diverged: try smaller learning rates."
        return summary
    g, c = best
    aug, l2, lr = grid[g]
    stats = final_fit(features, aug, l2, lr, iterations[c])
    summary["best"] = {
        "learning_rate": lr, "num_iterations": iterations[c], "l2": l2, "augment": aug,
        "val_accuracy_mean": float(mean[g, c]), "val_accuracy_sd": float(sd[g, c]),
        "val_log_loss_mean": float(loss_mean[g, c]),
        "test_accuracy": 100 * stats["correct"] / stats["n"],
        "test_accuracy_ci95": stats["accuracy_ci95"],
        "test_no_information_rate": stats["no_information_rate"],
        "test_p_value_vs_nir": stats["p_value_vs_nir"],
    }
    summary["beats_no_information_rate"] = bool(mean[g, c] > nir)
    summary["verdict"] = verdict(summary)
    return summary


def verdict(summary):
    """The finding in one plain sentence."""
    best, nir = summary["best"], summary["no_information_rate"]
    guess = f"always answering \"{summary['majority_class']}\" ({nir:.1f} %)"
    if not summary["beats_no_information_rate"]:
        return (f"No setting beats {guess} in validation: on these images the neuron does no "
                "better than guessing the majority class.")
    return (f"The best setting scores {best['val_accuracy_mean']:.1f} % in validation, "
            f"{best['val_accuracy_mean'] - nir:.1f} points above {guess}.")


def setting_name(aug, l2, lr, searched):
    parts = [f"lr {lr!r}"]
    if "l2" in searched:
        parts.append(f"l2 {l2!r}")
    if "augment" in searched:
        parts.append(aug)
    return ", ".join(parts)


def table_rows(summary):
    """Per grid point: its best candidate's iterations, mean +- sd accuracy and log-loss."""
    rows = []
    mean_flat = np.array(summary["val_accuracy_mean"], dtype=float).reshape(-1, len(
        summary["iterations"]))
    sd_flat = np.array(summary["val_accuracy_sd"], dtype=float).reshape(mean_flat.shape)
    loss_flat = np.array(summary["val_log_loss_mean"], dtype=float).reshape(mean_flat.shape)
    grid = search_grid(summary["augment"], summary["l2"], summary["learning_rates"])
    for g, (aug, l2, lr) in enumerate(grid):
        name = setting_name(aug, l2, lr, summary["axes"])
        if not np.isfinite(mean_flat[g]).all():
            rows.append((name, "diverged", "", ""))
            continue
        c = int(np.argmax(mean_flat[g]))  # the first of equals: the fewest iterations
        rows.append((name, str(summary["iterations"][c]),
                     f"{mean_flat[g, c]:.1f} ± {sd_flat[g, c]:.1f} %", f"{loss_flat[g, c]:.3f}"))
    return rows


COLUMNS = ("setting", "best at", "val accuracy", "val log-loss")


def summary_text(summary):
    rows = [COLUMNS, *table_rows(summary)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]
    return "\n".join(lines + closing_lines(summary))


def closing_lines(summary):
    """The verdict, the choice and its one test score, and a shifted prior: wrapped to 80."""
    lines = [summary["verdict"]]
    best = summary["best"]
    if best:
        low, high = best["test_accuracy_ci95"]
        chosen = setting_name(best["augment"], best["l2"], best["learning_rate"], summary["axes"])
        guess = f"always {summary['test_majority_class']}: {best['test_no_information_rate']:.1f} %"
        lines.append(f"Chosen: {chosen}, {best['num_iterations']} iterations. Its one test score: "
                     f"{best['test_accuracy']:.1f} % (95% CI {low:.1f}-{high:.1f} %; {guess}).")
    course = summary.get("course_choice")
    if course:
        lines.append(f"The course's choice (lr {course['learning_rate']}, "
                     f"{course['num_iterations']} iterations) scores "
                     f"{course['val_accuracy_mean']:.1f} ± {course['val_accuracy_sd']:.1f} % "
                     "in validation.")
    if summary["test_majority_class"] != summary["majority_class"]:
        lines.append(f"The split shifts the prior: the majority is {summary['majority_class']} "
                     f"in training but {summary['test_majority_class']} in test, so a neuron "
                     "tuned to the training set's balance is tuned against the test set's.")
    return [textwrap.fill(line, 80) for line in lines]


def summary_markdown(summary):
    lines = [f"# Cross-validation: {summary['folds']}-fold x {summary['repeats']} repeats "
             f"on the {summary['m_train']} training images", "",
             "The test set was not used to choose anything; it is scored once, at the end.", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(summary)]
    lines += ["", *closing_lines(summary), "", "![validation accuracy](cv.png)", ""]
    return "\n".join(lines)


def cv_png(summary, result):
    from pipeline.figures import literal, new_figure, png_bytes

    fig, (acc_ax, loss_ax) = new_figure(1200, 450, ncols=2)
    iterations = np.array(summary["iterations"])
    best = summary["best"]
    shown = (best["augment"], best["l2"]) if best else (summary["augment"][0], summary["l2"][0])
    mean, sd, loss = fold_statistics(result)
    for g, (aug, l2, lr) in enumerate(result["grid"]):
        if (aug, l2) != shown or not np.isfinite(mean[g]).all():
            continue
        line, = acc_ax.plot(iterations, mean[g], label=f"lr = {lr!r}")
        acc_ax.fill_between(iterations, mean[g] - sd[g], mean[g] + sd[g], alpha=0.15,
                            color=line.get_color())
        loss_ax.plot(iterations, loss[g], label=f"lr = {lr!r}")
    nir = summary["no_information_rate"]
    acc_ax.axhline(nir, color="black", linestyle="--", linewidth=1,
                   label=f"always {literal(summary['majority_class'])} ({nir:.1f} %)")
    course = summary.get("course_choice")
    if course and shown == ("none", 0.0):
        acc_ax.plot([course["num_iterations"]], [course["val_accuracy_mean"]], marker="*",
                    markersize=14, color="black", linestyle="none",
                    label="the course's choice (lr 0.005, 2000)")
    if best:
        acc_ax.plot([best["num_iterations"]], [best["val_accuracy_mean"]], marker="o",
                    markersize=12, markerfacecolor="none", color="red", linestyle="none",
                    label="chosen by validation")
    extra = "" if shown == ("none", 0.0) else f" (l2 {shown[1]!r}, augment {shown[0]})"
    acc_ax.set_title(f"Validation accuracy, mean ± 1 sd over {len(result['val_accuracy'])} "
                     f"folds{extra}")
    acc_ax.set_xlabel("iterations")
    acc_ax.set_ylabel("validation accuracy (%)")
    acc_ax.grid(alpha=0.3)
    acc_ax.legend(loc="lower right", fontsize=8)
    loss_ax.set_title("Validation log-loss, mean over folds")
    loss_ax.set_xlabel("iterations")
    loss_ax.set_ylabel("log-loss")
    loss_ax.grid(alpha=0.3)
    loss_ax.legend(loc="upper left", fontsize=8)
    return png_bytes(fig)


def main(argv=None):
    parser = Parser(prog="python -m pipeline cv", description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=config.CV_FOLDS, metavar="K",
                        help="folds per repeat (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=config.CV_REPEATS, metavar="N",
                        help="fresh fold assignments (default %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=config.CV_SEED,
                        help="seeds the folds (default %(default)s)")
    parser.add_argument("--learning-rates", type=positive_float, nargs="*", metavar="X",
                        default=list(config.CV_LEARNING_RATES),
                        help="the rates to search (default %(default)s)")
    parser.add_argument("--num-iterations", type=positive_int, default=config.CV_NUM_ITERATIONS,
                        metavar="N", help="the longest run; candidates every "
                        f"{config.CHECKPOINT_EVERY} steps (default %(default)s)")
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
    check_options(features["Y_train"], args.folds, args.repeats, args.learning_rates, args.l2,
                  args.augment)
    fits = args.folds * args.repeats * len(args.learning_rates) * len(args.l2) * len(args.augment)
    with progress_bar(args.num_iterations, f"cv {fits} fits", args.quiet) as bar:
        result = cross_validate(features, args.folds, args.repeats, args.seed,
                                args.learning_rates, args.num_iterations, args.l2, args.augment,
                                on_progress=bar.update)
    summary = summarize(result, features, args)
    figure = cv_png(summary, result)
    with atomic_dir(args.out_dir) as tmp:
        write_json(tmp / "summary.json", summary)
        write_text(tmp / "summary.md", summary_markdown(summary))
        write_bytes(tmp / "cv.png", figure)
    print(f"{args.folds}-fold x {args.repeats} cross-validation on {summary['m_train']} "
          "training images (the test set chose nothing)")
    print(summary_text(summary))
    print(f"wrote {args.out_dir}/", file=sys.stderr)
    from pipeline.report import refresh_index  # Pillow and matplotlib: only when a page exists

    refresh_index(args.out_dir.parent)
