"""Test images that are pixel for pixel training images, found by a cheap key per column, and
the model's scores read in the same pass over the pixels (evaluate needs both, and at 25,000
images the pass is most of its time)."""

from collections.abc import Mapping
from typing import Any

import numpy as np

from pipeline.columns import (
    Blocks,
    Columns,
    Floats,
    PixelColumns,
    in_parts,
    scale_of,
    take,
    times,
)
from pipeline.nn.layers import L_model_scores
from pipeline.scoring import network_parameters

KEY_VALUES = 64  # values of a column, evenly spaced, in its key
Key = tuple[int, bytes]  # (exact sum of a pixel column, or 0; KEY_VALUES of its values)


def block_keys(block: Floats, integers: bool) -> list[Key]:
    """The key of each column of block (n_x, b): KEY_VALUES of its values evenly spread over the
    image and, when they are integers (pixels 0..255 as floats), their sum. Any order sums
    integers below 2^53 exactly, so equal columns have equal keys wherever they sit; other
    floats are not summed, the order of a sum moving their bits."""
    sample = np.ascontiguousarray(block[::max(1, block.shape[0] // KEY_VALUES)].T)  # (b, 64)
    sums = block.sum(axis=0).astype(np.int64).tolist() if integers else [0] * block.shape[1]
    return [(total, values.tobytes()) for total, values in zip(sums, sample, strict=True)]


def times_and_keys(W: Floats, X: Columns) -> tuple[Floats, list[Key]]:
    """columns.times(W, X), (r, m), and the key of each of X's m columns, from one pass."""
    if not isinstance(X, PixelColumns):
        return times(W, X), block_keys(X, integers=False)
    out = np.empty((W.shape[0], X.shape[1]))

    def fill(blocks: Blocks) -> list[Key]:
        keys: list[Key] = []
        for where, block in blocks:  # block: pixels' integers as floats (columns.raw_blocks)
            out[:, where] = W @ block
            keys += block_keys(block, integers=True)
        return keys

    parts = in_parts(fill, X, None)
    out /= scale_of(X)
    return out, [key for part in parts for key in part]


def scores_and_keys(params: Mapping[str, Any], X: Columns) -> tuple[Floats, list[Key]]:
    """scoring.scores(params, X), (1, m), and the keys of X's columns, from one pass."""
    keys: list[Key] = []

    def first_layer(W1: Floats) -> Floats:
        product, found = times_and_keys(W1, X)
        keys.extend(found)
        return product

    Z: Floats = L_model_scores(X, network_parameters(params), first_layer=first_layer)
    return Z, keys


def column_keys(X: Columns) -> list[Key]:
    """The key of each of X's columns, in order (times_and_keys without the product)."""
    return times_and_keys(np.empty((0, X.shape[0])), X)[1]


def identical_columns(X_a: Columns, X_b: Columns, keys_a: list[Key] | None = None,
                      keys_b: list[Key] | None = None) -> list[list[int]]:
    """Pairs [i, j] where column i of X_a equals column j of X_b exactly (a duplicate image).

    Columns are matched by their keys (given, or read: column_keys), not by their bytes (at
    m = 25,000 those would be a second copy of X); every match is then compared in full.

    Parameters
    ----------
    X_a, X_b : both arrays (n_x, m) or both PixelColumns
    """
    where_in_b: dict[Key, list[int]] = {}
    for j, key in enumerate(column_keys(X_b) if keys_b is None else keys_b):
        where_in_b.setdefault(key, []).append(j)
    return [[i, j] for i, key in enumerate(column_keys(X_a) if keys_a is None else keys_a)
            for j in where_in_b.get(key, [])
            if np.array_equal(take(X_a, [i]), take(X_b, [j]))]
