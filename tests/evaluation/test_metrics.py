"""evaluation/metrics.py: what metrics.json holds; among it, the test images that are training
images, found by a key per column and then compared in full."""

import json
import sys

import numpy as np
import pytest

import pipeline.evaluation.metrics as metrics_module
from pipeline.artifacts.params import split_scores
from pipeline.columns import PixelColumns, flipped
from pipeline.evaluation.metrics import column_keys, identical_columns, metrics

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(metrics_module, "KEY_BLOCK", 5)  # 5 columns a block


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


def test_a_change_of_one_pixel_changes_the_key(small_blocks):
    rng = np.random.default_rng(4)
    rows = rng.integers(1, 255, size=(3, 27 * 4), dtype=np.uint8)  # n_x 108
    rows[1], rows[2] = rows[0], rows[0]
    rows[1, 1] += 1  # in a whole word
    rows[2, 100] -= 1  # in the last whole word
    keys = column_keys(PixelColumns(rows, (6, 6, 3)))
    assert len(set(keys)) == 3


@pytest.mark.parametrize("n_x", [27, 64, 7])  # words and a tail, words only, a tail only
def test_a_key_is_the_rows_bytes_as_64_bit_words_and_the_tail_summed_modulo_2_to_the_64(
        n_x, small_blocks):
    rows = np.random.default_rng(n_x).integers(0, 256, size=(12, n_x), dtype=np.uint8)
    rows[0] = 255  # every word at its largest: the sum wraps
    whole = n_x // 8 * 8
    expected = [(sum(int.from_bytes(row[k:k + 8].tobytes(), sys.byteorder)
                     for k in range(0, whole, 8)) + int(row[whole:].sum())) % 2**64
                for row in rows]
    assert column_keys(PixelColumns(rows, (1, n_x, 1))).tolist() == expected
    assert column_keys(rows.T / 255).tolist() == expected  # float columns: their pixels


def test_metrics_from_given_scores_are_those_it_reads_itself(pixel_features, trained):
    """train hands metrics the scores its run_params read: the same metrics.json."""
    from pipeline.artifacts.params import load_params

    params = load_params(trained[0])
    own = metrics(params, pixel_features)
    given = metrics(params, pixel_features, split_scores(params, pixel_features))
    assert own == given
    assert json.loads(json.dumps(own)) == json.loads(trained[1].read_text())  # what evaluate wrote
    assert own["test_duplicates_of_train"] == identical_columns(pixel_features["X_test"],
                                                                 pixel_features["X_train"])
