"""Cross-validation's summary as a person reads it: the terminal's table and closing lines,
summary.md, and the page's section."""

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.cv.summary import IMPORTANCE_BINS, GridPoint, search_grid
from pipeline.evaluation.stats import always_answering, interval
from pipeline.page.sections import paragraphs, table, verdict_box
from pipeline.tables import markdown_table, text_table


def setting_name(point: GridPoint, searched: Sequence[str]) -> str:
    """'lr 0.0075', with the options searched over more than one value: 'lr 0.0075, l2 0.7,
    keep_prob 0.8, flip'."""
    parts = [f"lr {point.learning_rate!r}"]
    if "l2" in searched:
        parts.append(f"l2 {point.l2!r}")
    if "keep_prob" in searched:
        parts.append(f"keep_prob {point.keep_prob!r}")
    if "augment" in searched:
        parts.append(point.augment)
    return ", ".join(parts)


def shown(value: float) -> str:
    """A drawn value as it was drawn, so that it can be typed again: 3 significant digits, or
    1 minus 3 of them for a beta (0.999636, which 3 digits would show as 1)."""
    return f"{value:.12g}"


def candidate_name(candidate: Mapping[str, Any], searched: Sequence[str]) -> str:
    """A random candidate's drawn settings, as 'lr 0.00346, l2 0.0123, keep_prob 0.81'."""
    return ", ".join(f"{SHORT.get(name, name)} {shown(candidate[name])}" for name in searched)


SHORT = {"learning_rate": "lr", "keep_prob": "keep", "mini_batch_size": "batch"}
TOP_ROWS = 10  # a random search's table: its best candidates


def random_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """A random search's TOP_ROWS best candidates, best first, as table_rows: the settings'
    values alone, named once in the header (setting_header), so that a row fits 80 columns."""
    ranked = sorted((c for c in summary["candidates"] if c["val_accuracy_mean"] is not None),
                    key=lambda c: -c["val_accuracy_mean"])
    rows = [(", ".join(shown(c[name]) for name in summary["searched"])
             + (" (2)" if c["round"] == 2 else ""),
             str(c["best_at"]), f"{c['val_accuracy_mean']:.1f} ± {c['val_accuracy_sd']:.1f} %",
             f"{c['val_log_loss_mean']:.3f}") for c in ranked[:TOP_ROWS]]
    rest = len(summary["candidates"]) - len(rows)
    diverged = len(summary["candidates"]) - len(ranked)
    note = " (2): round 2" if len(set(c["round"] for c in summary["candidates"])) > 1 else ""
    return rows + ([(f"... {rest} more, {diverged} diverged{note}", "", "", "")]
                   if rest or note else [])


def table_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """Per grid point: its best candidate's iterations, mean +- sd accuracy and log-loss."""
    if summary.get("search") == "random":
        return random_rows(summary)
    rows = []
    mean_flat = np.array(summary["val_accuracy_mean"], dtype=float).reshape(-1, len(
        summary["iterations"]))
    sd_flat = np.array(summary["val_accuracy_sd"], dtype=float).reshape(mean_flat.shape)
    loss_flat = np.array(summary["val_log_loss_mean"], dtype=float).reshape(mean_flat.shape)
    grid = search_grid(summary["augment"], summary["l2"], summary["keep_prob"],
                       summary["learning_rates"])
    for g, point in enumerate(grid):
        name = setting_name(point, summary["axes"])
        if not np.isfinite(mean_flat[g]).all():
            rows.append((name, "diverged", "", ""))
            continue
        c = int(np.argmax(mean_flat[g]))  # the first of equals: the fewest iterations
        rows.append((name, str(summary["iterations"][c]),
                     f"{mean_flat[g, c]:.1f} ± {sd_flat[g, c]:.1f} %", f"{loss_flat[g, c]:.3f}"))
    return rows


COLUMNS = ("setting", "best at", "val accuracy", "val log-loss")


def setting_header(summary: Mapping[str, Any]) -> str:
    """The first column's name: "setting", or the settings a random search drew."""
    if summary.get("search") != "random":
        return COLUMNS[0]
    return ", ".join(SHORT.get(name, name) for name in summary["searched"])


def summary_text(summary: Mapping[str, Any]) -> str:
    """The terminal's table and lines (a grid's as they have always been: the figure of the
    settings and its sentence are in summary.md and on the page)."""
    extra = search_lines(summary) if summary.get("search") == "random" else []
    return "\n".join([text_table((setting_header(summary), *COLUMNS[1:]), table_rows(summary)),
                      *extra,
                      *closing_lines(summary)])


def search_lines(summary: Mapping[str, Any]) -> list[str]:
    """What a random search drew, and which setting mattered most: wrapped to 80."""
    lines = []
    if summary.get("search") == "random":
        rounds = summary["regions"]
        drawn = "; ".join(f"{SHORT.get(name, name)} {shown(low)}..{shown(high)} "
                          f"({summary['scales'][name]})" for name, (low, high) in rounds[0].items())
        first = sum(c["round"] == 1 for c in summary["candidates"])
        lines.append(f"Random search: {first} candidates, {drawn}.")
        if len(rounds) > 1:
            zoomed = "; ".join(f"{SHORT.get(name, name)} {shown(low)}..{shown(high)}"
                               for name, (low, high) in rounds[1].items())
            lines.append(f"Round 2, around the first round's best: {zoomed}.")
        lines.append("The best of many candidates scores higher in validation than it will on "
                     "new images (it was picked for its luck too): its one test score is the "
                     "fair measure.")
        trained = sum(c["val_accuracy_mean"] is not None for c in summary["candidates"])
        if trained < 2 * IMPORTANCE_BINS:  # summary.importance leaves the drawn settings out
            lines.append(f"{trained} candidates that trained are too few to tell which setting "
                         f"mattered most: that takes {2 * IMPORTANCE_BINS} or more.")
    shares = sorted(summary.get("importance", {}).items(), key=lambda kv: -kv[1])
    if shares:
        (name, share), rest = shares[0], shares[1:]
        others = f" ({', '.join(f'{LABELS.get(n, n)} {100 * v:.0f} %' for n, v in rest)})" \
            if rest else ""
        most = " mattered most: it" if rest else ""
        lines.append(f"{LABELS.get(name, name).capitalize()}{most} explains "
                     f"{100 * share:.0f} % of the spread of validation accuracy across the "
                     f"candidates{others}.")
    return [textwrap.fill(line, 80) for line in lines]


LABELS = {"learning_rate": "the learning rate", "l2": "l2", "keep_prob": "keep_prob",
          "mini_batch_size": "the batch size", "augment": "augmentation"}


def closing_lines(summary: Mapping[str, Any]) -> list[str]:
    """The verdict, the choice and its one test score, and a shifted prior: wrapped to 80."""
    lines = [summary["verdict"]]
    best = summary["best"]
    if best:
        low, high = best["test_accuracy_ci95"]
        chosen = setting_name(GridPoint(best["augment"], best["l2"], best["keep_prob"],
                                        best["learning_rate"]), summary["axes"]) \
            if summary.get("search") != "random" else candidate_name(
                summary["candidates"][best["candidate"]], summary["searched"])
        guess = always_answering(summary["test_majority_class"],
                                 best["test_no_information_rate"])
        steps = best["num_iterations"]
        lines.append(f"Chosen: {chosen}, {steps} {unit_of(summary)}{'s' * (steps != 1)}. "
                     "Its one test score: "
                     f"{best['test_accuracy']:.1f} % ({interval(low, high)}; {guess}).")
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


def summary_markdown(summary: Mapping[str, Any]) -> str:
    repeats = f"{summary['repeats']} repeat{'s' * (summary['repeats'] != 1)}"
    lines = [f"# Cross-validation: {summary['folds']}-fold x {repeats} "
             f"on the {summary['m_train']} training images", "",
             "The test set was not used to choose anything; it is scored once, at the end.", "",
             markdown_table((setting_header(summary), *COLUMNS[1:]), table_rows(summary))]
    lines += ["", *search_lines(summary), "", *closing_lines(summary), "",
              "![validation accuracy](cv.png)", "", "![each setting](settings.png)", ""]
    return "\n".join(lines)


def unit_of(summary: Mapping[str, Any]) -> str:
    """What a candidate counts: gd's iterations or a mini-batch optimizer's epochs."""
    unit: str = summary.get("unit", "iteration")
    return unit


def section_fragment(summary: Mapping[str, Any]) -> str:
    """The page's cross-validation section, as HTML."""
    lines = [" ".join(line.split()) for line in closing_lines(summary)]
    searched = [" ".join(line.split()) for line in search_lines(summary)]
    repeated = f" repeated {summary['repeats']} times" if summary["repeats"] > 1 else ""
    head = (f"<p>{summary['folds']}-fold cross-validation{repeated} on the {summary['m_train']} "
            "training images; the test set chose nothing.</p>")
    html: str = (head + verdict_box(lines[0])
                 + table(table_rows(summary), (setting_header(summary),
                                               f"best at ({unit_of(summary)}s)",
                                               "validation accuracy, mean ± sd",
                                               "validation log-loss"))
                 + paragraphs(searched + lines[1:])
                 + '<p><img class="figure" src="cv/cv.png" alt="validation accuracy against '
                   'iterations per learning rate"></p>'
                 + '<p><img class="figure" src="cv/settings.png" alt="validation accuracy '
                   'against each searched setting"></p>'
                 + '<p>Details: <a href="cv/summary.md">cv/summary.md</a>, '
                   '<a href="cv/summary.json">cv/summary.json</a>.</p>')
    return html
