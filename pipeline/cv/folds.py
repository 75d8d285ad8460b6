"""The folds of cross-validation: stratified assignments, option checks, and each row's train
and validation columns. NumPy only."""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from pipeline.errors import UserError


def stratified_folds(Y: NDArray[np.float64], folds: int, repeats: int, seed: int
                     ) -> NDArray[np.int64]:
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


def check_options(Y: NDArray[np.float64], folds: int, repeats: int,
                  learning_rates: Sequence[float], l2s: Sequence[float],
                  augments: Sequence[str], *, keep_probs: Sequence[float] = (1.0,)) -> None:
    """One UserError for any option that makes no sense for this training set."""
    smaller = int(min(np.sum(Y == 0), np.sum(Y == 1)))
    if folds < 2 or folds > smaller:
        raise UserError(f"--folds {folds}: need 2 to {smaller} (every fold needs one image of "
                        "the smaller class)")
    if repeats < 1:
        raise UserError(f"--repeats {repeats}: need at least 1")
    for name, values in (("--learning-rates", learning_rates), ("--l2", l2s),
                         ("--keep-prob", keep_probs), ("--augment", augments)):
        if not values:
            raise UserError(f"{name} is empty: give at least one value")
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise UserError(f"{name}: {twice[0]!r} is given twice; list each value once")


def grid_masks(fold_of: NDArray[np.int64], folds: int, n_grid: int,
               augment_flags: Sequence[bool]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
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
