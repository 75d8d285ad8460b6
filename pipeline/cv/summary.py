"""Cross-validation's summary: the statistics over folds, the choice and the verdict, as
summary.json holds them. NumPy only; the folds and fits are in folds.py, gram.py and
minibatch.py, the text and the page's section in render.py."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from pipeline import config
from pipeline.evaluation.stats import always_answering, majority
from pipeline.page.sections import made_for
from pipeline.settings import Search, Settings, course_run
from pipeline.shapes import Array

SEARCHED = ("learning_rate", "num_iterations", "l2", "augment", "keep_prob")  # by candidate
DRAWN = ("beta", "beta1", "beta2", "mini_batch_size", "layer_dims")  # by a random candidate
IMPORTANCE_BINS = 5  # a random search's candidates, by one setting's value: five equal groups


class GridPoint(NamedTuple):
    """One setting of the search; its candidates are the checkpoints of its fit."""

    augment: str
    l2: float
    keep_prob: float
    learning_rate: float
    # a random candidate's other drawn settings ("beta", "mini_batch_size", "hidden1", ...)
    options: tuple[tuple[str, float], ...] = ()


def search_grid(augments: Sequence[str], l2s: Sequence[float], keep_probs: Sequence[float],
                learning_rates: Sequence[float]) -> list[GridPoint]:
    """Every (augment, l2, keep_prob, learning rate), the rate varying fastest: the order of
    all arrays."""
    return [GridPoint(aug, l2, keep, lr) for aug in augments for l2 in l2s
            for keep in keep_probs for lr in learning_rates]


def grid_axes(augments: Sequence[str], l2s: Sequence[float],
              keep_probs: Sequence[float]) -> list[tuple[str, int]]:
    """(name, size) of each option searched over more than one value, in the grid's order."""
    return [(name, len(values)) for name, values in
            (("augment", augments), ("l2", l2s), ("keep_prob", keep_probs)) if len(values) > 1]


def fold_statistics(result: Mapping[str, Any]) -> tuple[Array, Array, Array]:
    """Over the repeats x folds: mean and sample sd (ddof=1) of the validation accuracy, and the
    mean validation log-loss, each (g, c); NaN where a grid point diverged."""
    with np.errstate(invalid="ignore"):
        return (np.mean(result["val_accuracy"], axis=0),
                np.std(result["val_accuracy"], axis=0, ddof=1),
                np.mean(result["val_log_loss"], axis=0))


def best_candidate(mean: Array, grid: Sequence[GridPoint], iterations: Sequence[int],
                   augments: Sequence[str]) -> tuple[int, int] | None:
    """(grid index, checkpoint index) of the highest mean validation accuracy.

    Ties (within 1e-9) go to fewer iterations, then the smaller rate, the smaller l2, the
    larger keep_prob (less dropout), and no augmentation: the simpler model.
    """
    def simplicity(cg: tuple[int, int]) -> tuple[float, ...]:
        point = grid[cg[1]]
        return (iterations[cg[0]], point.learning_rate, point.l2, -point.keep_prob,
                augments.index(point.augment))

    order = sorted(((c, g) for g in range(len(grid)) for c in range(len(iterations))),
                   key=simplicity)
    best, best_value = None, -np.inf
    for c, g in order:
        if np.isfinite(mean[g, c]) and mean[g, c] > best_value + 1e-9:
            best, best_value = (g, c), mean[g, c]
    return best


def grid_list(values: Array, axes: Sequence[tuple[str, int]]) -> list[Any]:
    """(g, c) per grid point -> nested lists with one leading axis per (name, size) of axes
    (grid_axes' and the learning rates', or a random search's candidates), then iteration;
    NaN becomes None (JSON null)."""
    array = values.reshape([size for _, size in axes] + [values.shape[-1]])
    nested: list[Any] = np.where(np.isfinite(array), array, np.array(None)).tolist()  # objects
    return nested


def point_settings(point: GridPoint) -> dict[str, Any]:
    """A point's settings as a record: a random candidate's options beside the rest."""
    return {**{k: v for k, v in point._asdict().items() if k != "options"}, **dict(point.options)}


def candidate_rows(grid: Sequence[GridPoint], statistics: tuple[Array, Array, Array],
                   iterations: Sequence[int], rounds: Sequence[int] | None
                   ) -> list[dict[str, Any]]:
    """Each grid point's settings (a random candidate's drawn options too), its round, and its
    best checkpoint's mean and sd of validation accuracy and mean log-loss (None where it
    diverged)."""
    mean, sd, loss = statistics  # (g, c) each
    rows = []
    for g, point in enumerate(grid):
        ok = bool(np.isfinite(mean[g]).all())
        c = int(np.argmax(mean[g])) if ok else 0  # the first of equals: the fewest steps
        rows.append({**point_settings(point),
                     "round": rounds[g] if rounds else 1,
                     "best_at": iterations[c] if ok else None,
                     "val_accuracy_mean": float(mean[g, c]) if ok else None,
                     "val_accuracy_sd": float(sd[g, c]) if ok else None,
                     "val_log_loss_mean": float(loss[g, c]) if ok else None})
    return rows


def importance(candidates: Sequence[Mapping[str, Any]], searched: Sequence[str],
               scales: Mapping[str, str]) -> dict[str, float]:
    """Each searched setting's share of the spread of validation accuracy across the candidates
    that did not diverge (eta squared: the between-groups sum of squares over the total), the
    candidates grouped by the setting's value, or for a random search's drawn setting into
    IMPORTANCE_BINS equal groups by its value, if there are two a group or more (with fewer,
    every group is one candidate and each setting would explain it all). {} when the accuracies
    do not vary."""
    rows = [c for c in candidates if c["val_accuracy_mean"] is not None]
    accuracy = np.array([c["val_accuracy_mean"] for c in rows])  # (n,)
    total = float(((accuracy - accuracy.mean()) ** 2).sum()) if rows else 0.0
    if total <= 1e-12:
        return {}
    shares = {}
    for name in searched:
        values = [c[name] for c in rows]
        if name in scales and len(rows) < 2 * IMPORTANCE_BINS:
            continue
        if name in scales:  # drawn: ranks into equal groups
            rank = np.argsort(np.argsort(np.array(values, float), kind="stable"))
            labels = list(rank * IMPORTANCE_BINS // len(rows))
        else:
            labels = values
        between = sum(len(members) * (members.mean() - accuracy.mean()) ** 2
                      for members in (accuracy[[i for i, v in enumerate(labels) if v == label]]
                                      for label in dict.fromkeys(labels)))
        shares[name] = float(between / total)
    return shares


def summarize(result: Mapping[str, Any], features: Mapping[str, Any], search: Search,
              final_fit: Callable[[Mapping[str, Any], Settings], dict[str, Any]]
              ) -> dict[str, Any]:
    """summary.json's content: the search (a Search), the arrays, the choice and its one test
    score (final_fit(features, settings) -> its test statistics)."""
    grid, iterations = result["grid"], result["iterations"]
    mean, sd, loss_mean = fold_statistics(result)  # (g, c) each
    Y, Y_test = features["Y_train"], features["Y_test"]
    majority_label, nir = majority(int(Y.sum()), Y.shape[1])
    classes = [str(c) for c in features["classes"]]
    augments, l2s, rates = list(search.augments), list(search.l2s), list(search.learning_rates)
    keep_probs = list(search.keep_probs)
    random = "rounds" in result
    axes = [("candidate", len(grid))] if random else [
        *grid_axes(augments, l2s, keep_probs), ("learning_rate", len(rates))]
    arrays = {key: grid_list(values, axes)
              for key, values in (("val_accuracy_mean", mean), ("val_accuracy_sd", sd),
                                  ("val_log_loss_mean", loss_mean))}
    searched = list(result["scales"]) if random else [
        name for name, values in (("learning_rate", rates), ("l2", l2s),
                                  ("keep_prob", keep_probs), ("augment", augments))
        if len(values) > 1]
    candidates = candidate_rows(grid, (mean, sd, loss_mean), iterations, result.get("rounds"))
    diverged = [point_settings(point) for g, point in enumerate(grid)
                if not np.isfinite(mean[g]).all()]
    best = best_candidate(mean, grid, iterations, augments)
    optimizer = search.optimizer
    common = search.candidate(rates[0], l2s[0], augments[0], iterations[-1],
                              keep_probs[0]).record()
    summary = {
        **{k: v for k, v in common.items() if k not in SEARCHED},
        "unit": optimizer.unit,
        "folds": search.folds, "repeats": search.repeats, "seed": search.seed,
        "learning_rates": rates, "l2": l2s, "keep_prob": keep_probs, "augment": augments,
        "axes": [name for name, _ in axes] + ["iteration"],
        "iterations": iterations,
        **arrays,
        "fold_of": result["fold_of"].tolist(),
        "m_train": int(Y.shape[1]), "classes": classes,
        "no_information_rate": nir, "majority_class": classes[majority_label],
        "test_majority_class": classes[majority(int(Y_test.sum()), Y_test.shape[1])[0]],
        "diverged": diverged, "made_for": made_for(features, search.model),
        "search": "random" if random else "grid", "searched": searched,
        "candidates": candidates,
        "importance": importance(candidates, searched, result.get("scales", {})),
        **({"regions": result["regions"], "scales": result["scales"]} if random else {}),
    }
    course_rate, course_n = course_run(search.model)
    course = next((g for g, point in enumerate(grid)
                   if point == GridPoint("none", 0.0, 1.0, course_rate)), None)
    if course is not None and optimizer.name == "gd" and search.init == config.INIT \
            and course_n in iterations and np.isfinite(mean[course]).all():
        c = iterations.index(course_n)
        summary["course_choice"] = {"learning_rate": course_rate, "num_iterations": course_n,
                                    "val_accuracy_mean": float(mean[course, c]),
                                    "val_accuracy_sd": float(sd[course, c])}
    if best is None:
        summary["best"] = None
        summary["verdict"] = "Every setting diverged: try smaller learning rates."
        return summary
    g, c = best
    point = grid[g]
    chosen = search.candidate(point.learning_rate, point.l2, point.augment, iterations[c],
                              point.keep_prob, options=dict(point.options))
    stats = final_fit(features, chosen)
    summary["best"] = {
        **{k: v for k, v in chosen.record().items()
           if k in SEARCHED or (random and k in DRAWN)},
        "candidate": g, "round": candidates[g]["round"],
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


def verdict(summary: Mapping[str, Any]) -> str:
    """The finding in one plain sentence."""
    best, nir = summary["best"], summary["no_information_rate"]
    guess = f"the majority guess ({always_answering(summary['majority_class'], nir)})"
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
