"""evaluation/duplicates.py: test images that are training images, found by keys read in the
same pass as the scores; the pass gives scoring's scores bit for bit."""

import sys

import numpy as np
import pytest

import pipeline.columns as columns
from pipeline.columns import PixelColumns, flipped
from pipeline.evaluation.duplicates import (
    column_keys,
    identical_columns,
    same_keys,
    scores_and_keys,
    word_sums,
)
from pipeline.nn.network import initialize_parameters_deep
from pipeline.scoring import scores

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(columns, "BLOCK_BYTES", 5 * 8 * 27)  # 5 columns of 27 pixels a block


def brute_force(rows_a, rows_b):
    return [[i, j] for i in range(len(rows_a)) for j in range(len(rows_b))
            if np.array_equal(rows_a[i], rows_b[j])]


def test_identical_columns_finds_every_pair():
    rng = np.random.default_rng(0)
    train = rng.random((5, 4))
    test = np.column_stack([rng.random(5), train[:, 2], train[:, 0], train[:, 2]])
    assert identical_columns(test, train) == [[1, 2], [2, 0], [3, 2]]


def test_the_duplicates_found_are_those_a_brute_force_search_finds(features):
    rng = np.random.default_rng(0)
    X_train = features["X_train"][:, :60].copy()
    X_test = np.hstack([features["X_test"][:, :20], X_train[:, [5, 5, 41]]])  # planted copies
    X_train[:, 7] = X_train[:, 5]  # a training image twice
    X_test[0, 3] = np.nextafter(X_test[0, 3], 2)  # one pixel one bit off is not a duplicate
    found = identical_columns(X_test, X_train)
    brute = [[i, j] for i in range(X_test.shape[1]) for j in range(X_train.shape[1])
             if np.array_equal(X_test[:, i], X_train[:, j])]
    assert found == brute and [20, 5] in found and [20, 7] in found and [22, 41] in found
    assert identical_columns(rng.random((4, 3)), rng.random((4, 5))) == []


def test_pixel_duplicates_across_blocks_and_parts_are_those_a_brute_force_search_finds(
        small_blocks):
    rng = np.random.default_rng(3)
    train = rng.integers(0, 256, size=(31, 27), dtype=np.uint8)  # (m, n_x): 7 blocks of 5
    train[29] = train[2]  # a training image twice, in another block and part
    test = rng.integers(0, 256, size=(12, 27), dtype=np.uint8)
    test[[0, 6, 11]] = train[[29, 17, 30]]
    test[4] = train[8]
    test[4, 26] ^= 1  # one pixel one value off is not a duplicate
    same_sum = train[9].copy()
    same_sum[[0, 1]] = train[9, [1, 0]]  # the same sum and sample, other pixels: no match
    test[7] = same_sum
    a, b = PixelColumns(test, (3, 3, 3)), PixelColumns(train, (3, 3, 3))
    found = identical_columns(a, b)
    assert found == brute_force(test, train)
    assert [0, 2] in found and [0, 29] in found and [6, 17] in found and [11, 30] in found
    assert not any(i in (4, 7) for i, _ in found)


def test_mirrored_pixels_have_keys_of_their_own(small_blocks):
    rows = np.random.default_rng(0).integers(0, 256, size=(6, 27), dtype=np.uint8)
    pixels = PixelColumns(rows, (3, 3, 3))
    keys = column_keys(flipped(pixels, (3, 3, 3)))
    np.testing.assert_array_equal(keys[:6], column_keys(pixels))
    assert len(np.unique(keys)) == 12


@pytest.mark.parametrize("model", ["logistic", "l-layer"])
def test_the_pass_gives_scorings_scores_bit_for_bit_and_the_keys_of_column_keys(
        small_blocks, model):
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 256, size=(23, 27), dtype=np.uint8)
    pixels = PixelColumns(rows, (3, 3, 3))
    if model == "logistic":
        params = {"model": "logistic", "w": rng.normal(size=(27, 1)), "b": 0.25}
    else:
        params = {"model": "l-layer", "layer_dims": np.array([27, 4, 3, 1]),
                  **initialize_parameters_deep([27, 4, 3, 1], seed=2)}
    for X in (pixels, rows.T / 255):
        Z, keys = scores_and_keys(params, X)
        assert Z.shape == (1, 23)
        np.testing.assert_array_equal(Z, scores(params, X))
        assert keys.shape == (23,) and keys.dtype == np.uint64 and len(set(keys)) == 23
        np.testing.assert_array_equal(keys, column_keys(X))


def test_same_keys_pairs_every_equal_key_in_order():
    a = np.array([12, 34, 12, 99], dtype=np.uint64)
    b = np.array([12, 55, 12, 34], dtype=np.uint64)
    assert same_keys(a, b) == [(0, 0), (0, 2), (1, 3), (2, 0), (2, 2)]
    assert same_keys(a[:0], b) == [] and same_keys(a, b[:0]) == []


def test_a_key_hashes_the_sum_and_the_sample_so_a_change_in_either_shows(small_blocks):
    rng = np.random.default_rng(4)
    rows = rng.integers(1, 255, size=(3, 27 * 4), dtype=np.uint8)  # n_x 108: a sample of 64
    rows[1], rows[2] = rows[0], rows[0]
    rows[1, 1] += 1  # in the sample (values 0..63 here, a step of 108 // 64 = 1)
    rows[2, 100] -= 1  # beyond it: only the sum sees this one
    keys = column_keys(PixelColumns(rows, (6, 6, 3)))
    assert len(set(keys)) == 3


@pytest.mark.parametrize("n_x", [27, 64, 7])  # words and a tail, words only, a tail only
def test_word_sums_are_the_rows_bytes_as_64_bit_words_summed_modulo_2_to_the_64(n_x):
    rows = np.random.default_rng(n_x).integers(0, 256, size=(5, n_x), dtype=np.uint8)
    rows[0] = 255  # every word at its largest: the sum wraps
    expected = [sum(int.from_bytes(row[k:k + 8].tobytes(), sys.byteorder)
                    for k in range(0, n_x // 8 * 8, 8)) % 2**64 for row in rows]
    assert word_sums(rows).tolist() == expected
    assert word_sums(np.asfortranarray(rows)).tolist() == expected  # rows not side by side
