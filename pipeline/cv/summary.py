"""Cross-validation's summary: the statistics over folds, the choice, the verdict, and the text,
markdown and page section that show them. NumPy only; the folds and fits are in
folds.py, gram.py and minibatch.py."""

import textwrap
from dataclasses import replace

import numpy as np

from pipeline.evaluation.stats import majority
from pipeline.page.sections import made_for, paragraphs, table, verdict_box
from pipeline.settings import Settings

COURSE_CHOICE = {  # the course's learning rate and iteration count per model, marked on cv.png
    "logistic": (0.005, 2000), "two-layer": (0.0075, 2500), "l-layer": (0.0075, 2500)}


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


def grid_list(values, augments, l2s, learning_rates):
    """(g, c) per grid point -> nested lists with one leading axis per option searched over more
    than one value, then learning_rate and iteration; NaN becomes None (JSON null)."""
    searched = [len(options) for options in (augments, l2s) if len(options) > 1]
    array = values.reshape(searched + [len(learning_rates), values.shape[-1]])
    return np.where(np.isfinite(array), array, None).tolist()


def summarize(result, features, search, final_fit):
    """summary.json's content: the search (a Search), the arrays, the choice and its one test
    score (final_fit(features, settings) -> its test statistics)."""
    grid, iterations = result["grid"], result["iterations"]
    mean, sd, loss_mean = fold_statistics(result)  # (g, c) each
    Y, Y_test = features["Y_train"], features["Y_test"]
    majority_label, nir = majority(int(Y.sum()), Y.shape[1])
    classes = [str(c) for c in features["classes"]]
    augments, l2s, rates = list(search.augments), list(search.l2s), list(search.learning_rates)
    optimizer = search.optimizer
    axes = [name for name, values in (("augment", augments), ("l2", l2s)) if len(values) > 1]
    arrays = {key: grid_list(values, augments, l2s, rates)
              for key, values in (("val_accuracy_mean", mean), ("val_accuracy_sd", sd),
                                  ("val_log_loss_mean", loss_mean))}
    diverged = [{"augment": aug, "l2": l2, "learning_rate": lr}
                for g, (aug, l2, lr) in enumerate(grid) if not np.isfinite(mean[g]).all()]
    best = best_candidate(mean, grid, iterations, l2s, augments)
    summary = {
        "model": search.model, "layer_dims": list(search.layer_dims), "optimizer": optimizer.name,
        "unit": "iteration" if optimizer.name == "gd" else "epoch",
        **({} if optimizer.name == "gd" else {
            "mini_batch_size": optimizer.mini_batch_size, "num_epochs": optimizer.num_epochs,
            "beta1": optimizer.beta1, "beta2": optimizer.beta2}),
        "folds": search.folds, "repeats": search.repeats, "seed": search.seed,
        "learning_rates": rates, "l2": l2s, "augment": augments,
        "axes": axes + ["learning_rate", "iteration"], "iterations": iterations,
        **arrays,
        "fold_of": result["fold_of"].tolist(),
        "m_train": int(Y.shape[1]), "classes": classes,
        "no_information_rate": nir, "majority_class": classes[majority_label],
        "test_majority_class": classes[majority(int(Y_test.sum()), Y_test.shape[1])[0]],
        "diverged": diverged, "made_for": made_for(features, search.model),
    }
    course_rate, course_n = COURSE_CHOICE[search.model]
    course = next((g for g, (aug, l2, lr) in enumerate(grid)
                   if (aug, l2, lr) == ("none", 0.0, course_rate)), None)
    if course is not None and optimizer.name == "gd" and course_n in iterations \
            and np.isfinite(mean[course]).all():
        c = iterations.index(course_n)
        summary["course_choice"] = {"learning_rate": course_rate, "num_iterations": course_n,
                                    "val_accuracy_mean": float(mean[course, c]),
                                    "val_accuracy_sd": float(sd[course, c])}
    if best is None:
        summary["best"] = None
        summary["verdict"] = "Every setting diverged: try smaller learning rates."
        return summary
    g, c = best
    aug, l2, lr = grid[g]
    gd = optimizer.name == "gd"
    stats = final_fit(features, Settings(
        model=search.model, layer_dims=search.layer_dims, learning_rate=lr,
        num_iterations=iterations[c], l2=l2, augment=aug,
        optimizer=replace(optimizer, mini_batch_size=0 if gd else optimizer.mini_batch_size,
                          num_epochs=0 if gd else iterations[c])))
    summary["best"] = {
        "learning_rate": lr, "num_iterations": iterations[c], "l2": l2, "augment": aug,
        "val_accuracy_mean": float(mean[g, c]), "val_accuracy_sd": float(sd[g, c]),
        "val_log_loss_mean": float(loss_mean[g, c]),
        "test_accuracy": 100 * stats["correct"] / stats["n"],
        "test_accuracy_ci95": stats["accuracy_ci95"],
        "test_no_information_rate": stats["no_information_rate"],
        "test_p_value_vs_nir": stats["p_value_vs_nir"],
    }
    summary["beats_no_information_rate"] = bool(mean[g, c] > nir + 1e-9)  # not by rounding
    summary["verdict"] = verdict(summary)
    return summary


def verdict(summary):
    """The finding in one plain sentence."""
    best, nir = summary["best"], summary["no_information_rate"]
    guess = f"always answering \"{summary['majority_class']}\" ({nir:.1f} %)"
    if not summary["beats_no_information_rate"]:
        return (f"No setting beats {guess} in validation: on these images the model does no "
                "better than guessing the majority class.")
    gain, sd = best["val_accuracy_mean"] - nir, best["val_accuracy_sd"]
    if not gain > sd:  # within the folds' own spread: a lucky draw of folds could do as well
        return (f"The best setting scores {best['val_accuracy_mean']:.1f} % in validation, "
                f"{gain:.1f} points above {guess}: less than the folds' spread "
                f"(sd {sd:.1f}), so no clear gain over guessing the majority class.")
    return (f"The best setting scores {best['val_accuracy_mean']:.1f} % in validation, "
            f"{gain:.1f} points above {guess}.")


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
        lines.append(f"Chosen: {chosen}, {best['num_iterations']} {unit_of(summary)}s. "
                     "Its one test score: "
                     f"{best['test_accuracy']:.1f} % (95% CI {low:.1f}-{high:.1f} %; {guess}).")
    course = summary.get("course_choice")
    if course:
        lines.append(f"The course's choice (lr {course['learning_rate']}, "
                     f"{course['num_iterations']} iterations) scores "
                     f"{course['val_accuracy_mean']:.1f} ± {course['val_accuracy_sd']:.1f} % "
                     "in validation.")
    if summary["test_majority_class"] != summary["majority_class"]:
        lines.append(f"The split shifts the prior: the majority is {summary['majority_class']} "
                     f"in training but {summary['test_majority_class']} in test, so a model "
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


def unit_of(summary):
    """What a candidate counts: gd's iterations or a mini-batch optimizer's epochs."""
    return summary.get("unit", "iteration")


def section_fragment(summary):
    """The page's cross-validation section, as HTML."""
    lines = [" ".join(line.split()) for line in closing_lines(summary)]
    head = (f"<p>{summary['folds']}-fold cross-validation repeated {summary['repeats']} times "
            f"on the {summary['m_train']} training images; the test set chose nothing.</p>")
    return (head + verdict_box(lines[0])
            + table(table_rows(summary), ("setting", f"best at ({unit_of(summary)}s)",
                                          "validation accuracy, mean ± sd",
                                          "validation log-loss"))
            + paragraphs(lines[1:])
            + '<p><img class="figure" src="cv/cv.png" alt="validation accuracy against '
              'iterations per learning rate"></p>'
            + '<p>Details: <a href="cv/summary.md">cv/summary.md</a>, '
              '<a href="cv/summary.json">cv/summary.json</a>.</p>')
