"""Cross-validation in the Gram space: every fold, rate, l2, dropout keep_prob and augment trained
at once, one (rows, m) x (m, m) product a step; and the final fit with the chosen settings."""

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import config
from pipeline.artifacts.params import run_params
from pipeline.columns import Columns, flipped, gram, matmul
from pipeline.cv.folds import grid_masks, stratified_folds
from pipeline.cv.summary import GridPoint, search_grid
from pipeline.engines.fit import dropout_rng, initial_parameters, train
from pipeline.engines.logistic import masked_gram_steps
from pipeline.engines.masked_network import masked_network_steps
from pipeline.evaluation.stats import classification_stats
from pipeline.nn.logistic import log_loss, predict_from_scores
from pipeline.progress import ticker
from pipeline.settings import Settings, layers_with
from pipeline.shapes import Array
from pipeline.threads import on_blas_threads, on_cores


@on_blas_threads("cv")
def cross_validate(features: Mapping[str, Any], *, folds: int, repeats: int, seed: int,
                   learning_rates: Sequence[float], num_iterations: int, l2s: Sequence[float],
                   augments: Sequence[str], on_progress: Callable[[int], object] | None = None,
                   model: str = "logistic", layer_dims: Sequence[int] | None = None,
                   keep_probs: Sequence[float] = (config.KEEP_PROB,), init: str = config.INIT,
                   grid: Sequence[GridPoint] | None = None) -> dict[str, Any]:
    """Validation accuracy (percent) and log-loss of every candidate, every fold.

    The candidates: grid (a random search's GridPoints), else every (augment, l2, keep_prob,
    learning rate). A network's folds all start from the seed-1 weights of its init (the
    course's, or He's): its first layer in the same Gram space (W1 = c W1_0 + A X.T, so
    Z1 = c W1_0 X + A K + b1), all rows of one layer shape in one product. Its keep_probs below
    1 drop hidden units while training, every row's masks cut from one draw a step, seeded as a
    train's (engines.fit.dropout_rng).

    Returns a dict: fold_of (repeats, m), grid (list of GridPoint),
    iterations (c,), and val_accuracy, val_log_loss of shape (repeats * folds, g, c), NaN where a
    row diverged.
    """
    if num_iterations < config.CHECKPOINT_EVERY:
        raise ValueError(f"num_iterations {num_iterations} is below the first candidate, "
                         f"{config.CHECKPOINT_EVERY}")
    X, Y = features["X_train"], features["Y_train"]  # (n_x, m), (1, m)
    m = X.shape[1]
    if grid is None:
        grid = search_grid(augments, l2s, keep_probs, learning_rates)
    fold_of = stratified_folds(Y, folds, repeats, seed)
    iterations = list(range(config.CHECKPOINT_EVERY, num_iterations + 1,
                            config.CHECKPOINT_EVERY))
    shape = (repeats * folds, len(grid), len(iterations))
    accuracy, loss = np.full(shape, np.nan), np.full(shape, np.nan)
    for dims, members in layer_groups(grid, layer_dims):
        part = [grid[g] for g in members]
        flags = [point.augment == "flip" for point in part]
        train_mask, val_mask = grid_masks(fold_of, folds, len(part), flags)
        columns = flipped(X, features["image_shape"]) if any(flags) else X  # (n_x, M)
        rows = train_mask.shape[0]

        def per_row(name: str, part: list[GridPoint] = part, rows: int = rows) -> Array:
            # (R, 1): rows are (repeat, fold, grid point)
            return np.tile([getattr(point, name) for point in part],
                           rows // len(part)).reshape(-1, 1)

        val = val_mask[:, :m]  # (R, m)
        val_count = val.sum(axis=1)  # (R,)
        accuracies: list[Array] = []
        losses: list[Array] = []
        last_Z: list[Array] = []  # the latest checkpoint's Z

        def score(Z: Array, val: Array = val, val_count: Array = val_count,
                  accuracies: list[Array] = accuracies, losses: list[Array] = losses,
                  last_Z: list[Array] = last_Z) -> None:
            """Z (R, m): every row's scores on the original images, at one checkpoint."""
            right = predict_from_scores(Z) == Y
            accuracies.append(100 * (val * right).sum(axis=1) / val_count)
            losses.append((val * log_loss(Z, Y)).sum(axis=1) / val_count)
            last_Z[:] = [Z]

        fit_rows(columns, Y, train_mask, {name: per_row(name) for name in
                                          ("learning_rate", "l2", "keep_prob")},
                 model=model, layer_dims=dims, init=init, num_iterations=num_iterations,
                 at=iterations, score=score, tick=ticker(num_iterations, on_progress))
        # (R,): a row that diverged scores inf or NaN
        ok: NDArray[np.bool_] = np.all(np.isfinite(last_Z[-1]), axis=1)
        part_shape = (repeats * folds, len(part), len(iterations))
        accuracy[:, members] = np.where(ok[:, None], np.array(accuracies).T, np.nan
                                        ).reshape(part_shape)
        loss[:, members] = np.where(ok[:, None], np.array(losses).T, np.nan).reshape(part_shape)
    return {"fold_of": fold_of, "grid": list(grid), "iterations": iterations,
            "val_accuracy": accuracy, "val_log_loss": loss}


def layer_groups(grid: Sequence[GridPoint], layer_dims: Sequence[int] | None
                 ) -> list[tuple[tuple[int, ...] | None, list[int]]]:
    """(layer_dims, the grid's indices with them), in order of first appearance: the points
    whose hidden layers a random search drew alike train together."""
    groups: dict[tuple[int, ...] | None, list[int]] = {}
    for g, point in enumerate(grid):
        dims = layers_with(layer_dims, dict(point.options)) if layer_dims else None
        groups.setdefault(dims, []).append(g)
    return list(groups.items())


def fit_rows(columns: Columns, Y: Array, train_mask: Array, per_row: Mapping[str, Array], *,
             model: str, layer_dims: Sequence[int] | None, init: str, num_iterations: int,
             at: Sequence[int], score: Callable[[Array], None],
             tick: Callable[[int], None] | None = None, seed: int = config.NETWORK_SEED
             ) -> None:
    """R models in the Gram space of columns (n_x, M), row r trained on the columns where
    train_mask[r] (R, M) is 1 with its own per_row learning_rate, l2 and keep_prob (R, 1); a
    network from its seed's start. score(Z) is called with every row's scores on the first m
    columns (the original images; Y (1, m) their labels), Z (R, m), after each step count in at.
    """
    m = Y.shape[1]
    K = gram(columns, columns)  # (M, M)
    Y_all = np.tile(Y, columns.shape[1] // m)  # (1, M)
    lr, l2, keep_prob = (per_row[name] for name in ("learning_rate", "l2", "keep_prob"))
    with np.errstate(over="ignore", invalid="ignore"):
        if model == "logistic":
            if (keep_prob < 1).any():
                raise ValueError("the logistic neuron has no hidden layer to drop units of")
            masked_gram_steps(K, Y_all, lr=lr, l2=l2, train_mask=train_mask,
                              num_iterations=num_iterations, at=at,
                              checkpoint=lambda i, a, b: score(a @ K[:, :m] + b), tick=tick)
        else:
            if layer_dims is None:
                raise ValueError(f"a {model} network needs its layer_dims")
            start = initial_parameters(model, layer_dims, init, seed)
            P = matmul(start["W1"], columns)  # (n_h, M)
            rng, R = dropout_rng(seed), train_mask.shape[0]
            halves = [slice(0, R // 2), slice(R // 2, R)] if R > 1 else [slice(0, R)]

            def half(rows: slice) -> list[Array]:
                """The rows' ZL at each checkpoint; each half draws the masks from its own
                copy of the generator, so every row sees the draws of one run of them all."""
                found: list[Array] = []
                masked_network_steps(K, P, Y_all, start, lr=lr[rows], l2=l2[rows],
                                     train_mask=train_mask[rows], num_iterations=num_iterations,
                                     at=at, checkpoint=lambda i, ZL: found.append(ZL[:, :m].copy()),
                                     tick=tick if rows.start == 0 else None,
                                     keep_prob=keep_prob[rows], rng=copy.deepcopy(rng))
                return found

            for Zs in zip(*on_cores(half, halves), strict=True):  # the rows' halves on two cores
                score(np.vstack(Zs))


def final_fit(features: Mapping[str, Any], settings: Settings,
              keep: Callable[[dict[str, Any], dict[str, Any], float], object] | None = None
              ) -> dict[str, Any]:
    """The one fit with the chosen settings (a Settings) on the whole training set; its test
    statistics. keep(run, params, seconds), if given, is told the fit (to keep it as a run)."""
    started = time.perf_counter()
    run = train(features, settings)
    params, Z_of = run_params(run, 0, features)
    if keep:
        keep(run, params, time.perf_counter() - started)
    return classification_stats(Z_of["test"], features["Y_test"])
