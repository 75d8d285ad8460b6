"""A random search's rounds (make cv SEARCH=random [ZOOM=1]): the candidates drawn, made into
the engines' GridPoints, trained, and with ZOOM a second round drawn inside the region of the
first round's best; both rounds scored on the same folds, so the choice looks at them alike."""

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from pipeline.cv.sampling import Axis, Candidate, draw, ends, zoomed
from pipeline.cv.summary import GridPoint, fold_statistics
from pipeline.settings import Search

PER_ROW = ("learning_rate", "l2", "keep_prob")  # what every row of an engine takes its own of


def grid_of(candidates: list[Candidate], search: Search) -> list[GridPoint]:
    """The engines' points: each candidate's rate, l2 and keep_prob (the search's where not
    drawn), its other drawn settings as options."""
    fixed = {"learning_rate": search.learning_rates[0], "l2": search.l2s[0],
             "keep_prob": search.keep_probs[0]}
    return [GridPoint(search.augments[0], float(c.get("l2", fixed["l2"])),
                      float(c.get("keep_prob", fixed["keep_prob"])),
                      float(c.get("learning_rate", fixed["learning_rate"])),
                      tuple((k, v) for k, v in c.items() if k not in PER_ROW))
            for c in candidates]


def best_scores(result: Mapping[str, Any]) -> np.ndarray:
    """(g,) each candidate's best mean validation accuracy over its checkpoints; NaN where it
    diverged."""
    mean = fold_statistics(result)[0]  # (g, c)
    ok = np.isfinite(mean).all(axis=1)  # (g,)
    return np.where(ok, np.where(np.isfinite(mean), mean, -np.inf).max(axis=1), np.nan)


def random_rounds(search: Search, axes: dict[str, Axis], trials: int, zoom: bool,
                  run: Callable[[list[GridPoint], str], dict[str, Any]]) -> dict[str, Any]:
    """run(grid, name)'s result for the drawn candidates (seed: the folds'), with the second
    round's (seed + 1) joined after them along the candidates' axis, and each round's region
    under "regions" ({setting: (from, to)}) and each candidate's round under "rounds"."""
    candidates = draw(axes, trials, search.seed)
    result = run(grid_of(candidates, search), "round 1" if zoom else "cv")
    regions = [axes]
    if zoom:
        region = zoomed(axes, candidates, best_scores(result))
        second = run(grid_of(draw(region, trials, search.seed + 1), search), "round 2")
        result = {**result, "grid": result["grid"] + second["grid"],
                  **{key: np.concatenate([result[key], second[key]], axis=1)
                     for key in ("val_accuracy", "val_log_loss")}}
        regions.append(region)
    return {**result, "rounds": [1] * trials + [2] * (len(result["grid"]) - trials),
            "regions": [{name: ends(axis) for name, axis in region.items()}
                        for region in regions],
            "scales": {name: axis.scale for name, axis in axes.items()}}
