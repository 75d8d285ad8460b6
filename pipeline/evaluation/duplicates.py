"""Test images that are pixel for pixel training images, found by a cheap key per column, and
the model's scores read in the same pass over the pixels (evaluate needs both, and at 25,000
images the pass is most of its time)."""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.columns import Columns, Floats, Pixels, Positions, take, times
from pipeline.nn.layers import L_model_scores
from pipeline.scoring import network_parameters

KEY_VALUES = 64  # values of a column, evenly spaced, in its key
Keys = NDArray[np.uint64]  # (m,): a column's key, a hash of its bytes' sum and KEY_VALUES values
# odd multipliers, one a value hashed (the sum first): bits x multiplier, summed modulo 2^64
MULTIPLIERS = np.random.default_rng(20261205).integers(
    1, 2**63, size=1 + KEY_VALUES, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def word_sums(pixels: Pixels) -> Keys:
    """Each row's bytes read as 64-bit words and summed modulo 2^64, (b,): integers, so equal
    rows have equal sums in any order, from the uint8 rows (an eighth of the float64 block's
    bytes: a sixth of the time of ones @ block). The last n_x % 8 bytes are left out."""
    whole = pixels.shape[1] // 8 * 8
    if pixels.strides[1] != 1:  # a row's bytes must be side by side to be read as words
        pixels = np.ascontiguousarray(pixels)
    sums: Keys = pixels[:, :whole].view(np.uint64).sum(axis=1, dtype=np.uint64)
    return sums


def block_keys(block: Floats, pixels: Pixels | None) -> Keys:
    """The key of each column of block (n_x, b), (b,): a hash of the bits of KEY_VALUES of its
    values evenly spread over the image and, for pixels (their uint8 rows (b, n_x) given), of
    the word_sums of their bytes. Unequal columns may share a key: every match is compared in
    full."""
    step = max(1, block.shape[0] // KEY_VALUES)
    values = np.empty((block.shape[1], 1 + KEY_VALUES))  # (b, 1 + KEY_VALUES)
    sample = block[::step][:KEY_VALUES].T  # (b, <= KEY_VALUES)
    values[:, 1:1 + sample.shape[1]] = sample
    values[:, 1 + sample.shape[1]:] = 0
    words = values.view(np.uint64)  # (b, 1 + KEY_VALUES): the values' bits
    words[:, 0] = 0 if pixels is None else word_sums(pixels)
    keys: Keys = (words * MULTIPLIERS).sum(axis=1, dtype=np.uint64)
    return keys


def times_and_keys(W: Floats, X: Columns) -> tuple[Floats, Keys]:
    """columns.times(W, X), (r, m), and the keys of X's m columns, from one pass."""
    keys = np.empty(X.shape[1], dtype=np.uint64)

    def note(where: Positions, block: Floats, pixels: Pixels | None) -> None:
        keys[where] = block_keys(block, pixels)

    return times(W, X, each=note), keys


def scores_and_keys(params: Mapping[str, Any], X: Columns) -> tuple[Floats, Keys]:
    """scoring.scores(params, X), (1, m), and the keys of X's columns, from one pass."""
    keys: list[Keys] = []

    def first_layer(W1: Floats) -> Floats:
        product, found = times_and_keys(W1, X)
        keys.append(found)
        return product

    Z: Floats = L_model_scores(X, network_parameters(params), first_layer=first_layer)
    return Z, keys[0]


def column_keys(X: Columns) -> Keys:
    """The keys of X's columns, in order (times_and_keys without the product)."""
    return times_and_keys(np.empty((0, X.shape[0])), X)[1]


def same_keys(keys_a: Keys, keys_b: Keys) -> list[tuple[int, int]]:
    """Every (i, j) with keys_a[i] == keys_b[j], by i then j."""
    order = np.argsort(keys_b, kind="stable")  # b's columns by key, each key's in order
    low = np.searchsorted(keys_b[order], keys_a, "left")
    high = np.searchsorted(keys_b[order], keys_a, "right")
    return [(int(i), int(j)) for i in np.flatnonzero(high > low) for j in order[low[i]:high[i]]]


def identical_columns(X_a: Columns, X_b: Columns, keys_a: Keys | None = None,
                      keys_b: Keys | None = None) -> list[list[int]]:
    """Pairs [i, j] where column i of X_a equals column j of X_b exactly (a duplicate image).

    Columns are matched by their keys (given, or read: column_keys), not by their bytes (at
    m = 25,000 those would be a second copy of X); every match is then compared in full.

    Parameters
    ----------
    X_a, X_b : both arrays (n_x, m) or both PixelColumns
    """
    candidates = same_keys(column_keys(X_a) if keys_a is None else keys_a,
                           column_keys(X_b) if keys_b is None else keys_b)
    return [[i, j] for i, j in candidates if np.array_equal(take(X_a, [i]), take(X_b, [j]))]
