"""Pixels as columns: uint8 rows, in memory or mapped from features.npz, read block by block give
the float64 array's columns, products, mirrors and fits."""


import numpy as np
import pytest

import pipeline.columns as columns
from pipeline.artifacts.feature_file import load_features
from pipeline.artifacts.features import flatten, unflatten
from pipeline.columns import (
    PixelColumns,
    flipped,
    gram,
    matmul,
    matmul_transposed,
    model_scores,
    pixels_of,
    take,
)
from pipeline.engines.logistic import gradient_descent
from pipeline.engines.network import train_networks
from pipeline.nn.layers import L_model_scores
from pipeline.nn.network import initialize_parameters_deep

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def pixel_pair(m=23, px=3, seed=0):
    """The same columns twice: PixelColumns over uint8 rows, and the float64 array x / 255."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, size=(m, px * px * 3), dtype=np.uint8)  # (m, n_x)
    return PixelColumns(rows, (px, px, 3)), rows.T / 255


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(columns, "BLOCK_BYTES", 5 * 8 * 27)  # 5 columns of 27 pixels a block


def test_taken_columns_are_the_courses_values_bit_for_bit(small_blocks):
    pixels, X = pixel_pair()
    idx = [7, 0, 22, 8, 9]
    np.testing.assert_array_equal(take(pixels, idx), X[:, idx])
    np.testing.assert_array_equal(pixels_of(pixels, idx), pixels_of(X, idx))


def test_products_by_blocks_match_the_array_in_one_piece(small_blocks):
    pixels, X = pixel_pair()
    rng = np.random.default_rng(1)
    W, D = rng.normal(size=(4, X.shape[0])), rng.normal(size=(4, X.shape[1]))
    np.testing.assert_allclose(matmul(W, pixels), W @ X, rtol=1e-13)
    np.testing.assert_allclose(matmul(W, pixels, [3, 1, 20]), W @ X[:, [3, 1, 20]], rtol=1e-13)
    np.testing.assert_allclose(matmul_transposed(D, pixels), D @ X.T, rtol=1e-12)
    parameters = initialize_parameters_deep([X.shape[0], 5, 3, 1], seed=1)
    np.testing.assert_allclose(model_scores(parameters, pixels), L_model_scores(X, parameters),
                               rtol=1e-12)


def test_a_cnns_scores_by_blocks_of_pixels_are_its_scores_of_the_floats(small_blocks):
    from pipeline.nn import cnn

    pixels, X = pixel_pair(px=4)  # 4x4 RGB images, 48 values: 5 images of pixels a block
    architecture = cnn.read_architecture("2x3 p2")
    model = cnn.with_pools(cnn.initialize_parameters_cnn(architecture, 48, seed=1), [2])
    whole = cnn.scores(model, X)  # (1, 23)
    np.testing.assert_allclose(model_scores(model, pixels), whole, rtol=1e-12)
    np.testing.assert_allclose(model_scores(model, pixels, [3, 1, 20]), whole[:, [3, 1, 20]],
                               rtol=1e-12)
    np.testing.assert_array_equal(model_scores(model, X, [5, 2]), cnn.scores(model, X[:, [5, 2]]))
    assert model_scores(model, pixels, []).shape == (1, 0)


def test_the_gram_matrix_of_pixels_is_the_exact_products_rounded_once(small_blocks):
    pixels, X = pixel_pair()
    exact = pixels.rows.astype(np.int64) @ pixels.rows.T.astype(np.int64)  # integers, exact
    K = gram(pixels, pixels)
    np.testing.assert_array_equal(K, exact / 255.0**2)
    np.testing.assert_allclose(K, X.T @ X, rtol=1e-14)


def test_a_callers_wrong_shapes_are_value_errors_that_name_them():
    rows = np.zeros((4, 26), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"rows of shape \(4, 26\) are not images of shape "
                                         r"\(3, 3, 3\): expected 27 values a row"):
        PixelColumns(rows, (3, 3, 3))


def test_a_gram_of_pixels_and_an_array_is_the_arrays_gram(small_blocks):
    pixels, X = pixel_pair()
    np.testing.assert_allclose(gram(pixels, X), X.T @ X, rtol=1e-14)
    np.testing.assert_allclose(gram(X, pixels), X.T @ X, rtol=1e-14)


def test_flipped_pixels_are_the_arrays_mirrors(small_blocks):
    pixels, X = pixel_pair(m=6)
    both = flipped(pixels, (3, 3, 3))
    assert both.shape == (27, 12)
    np.testing.assert_array_equal(take(both, np.arange(12)), flipped(X, (3, 3, 3)))


@pytest.mark.parametrize("engine", ["primal", "gram"])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_gradient_descent_on_pixels_follows_the_float64_iterates(small_blocks, engine, l2):
    pixels, X = pixel_pair(m=40, px=4)
    Y = (X.sum(axis=0, keepdims=True) > np.median(X.sum(axis=0))).astype(float)  # (1, m)
    args = ([0.5, 2.0], 300)
    a = gradient_descent(X, Y, *args, X[:, :9], Y[:, :9], engine=engine, l2=l2, every=50)
    b = gradient_descent(pixels, Y, *args, PixelColumns(pixels.rows[:9], (4, 4, 3)), Y[:, :9],
                         engine=engine, l2=l2, every=50)
    np.testing.assert_allclose(b["w"], a["w"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b["b"], a["b"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b["costs"], a["costs"], rtol=1e-12)
    np.testing.assert_array_equal(b["train_accuracies"], a["train_accuracies"])


@pytest.mark.parametrize("engine", ["primal", "gram"])
def test_networks_on_pixels_follow_the_float64_iterates(small_blocks, engine):
    pixels, X = pixel_pair(m=30, px=3)
    Y = (X[0:1] > 0.5).astype(float)
    start = initialize_parameters_deep([27, 4, 1], seed=1)
    runs = [train_networks(data, Y, start, [0.05], 200, X_test=data, Y_test=Y, engine=engine)
            for data in (X, pixels)]
    for key, value in runs[0]["parameters"][0].items():
        np.testing.assert_allclose(runs[1]["parameters"][0][key], value, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(runs[1]["costs"], runs[0]["costs"], rtol=1e-12)


def test_pixels_mapped_from_the_file_give_the_arrays_columns_and_products(
        features, features_file, small_blocks):
    """A pass over mapped pixels reads them on two threads (in_parts), a mini-batch gathers."""
    X = load_features(features_file)["X_train"]
    W = np.random.default_rng(2).normal(size=(2, 12288))
    np.testing.assert_allclose(matmul(W, X), W @ features["X_train"], rtol=1e-12, atol=1e-11)
    np.testing.assert_array_equal(take(X, [208, 3, 4, 5]), features["X_train"][:, [208, 3, 4, 5]])
    gathered = X.pixels(np.array([7, 2]), np.empty((4, 12288), dtype=np.uint8))
    np.testing.assert_array_equal(gathered, pixels_of(features["X_train"], [7, 2]))


def test_flipped_adds_each_image_mirrored_left_right_after_all_of_them(features):
    X = features["X_train"][:, :5]
    shape = tuple(features["image_shape"])
    images = unflatten(X, shape)
    both = flipped(X, shape)
    assert both.shape == (X.shape[0], 10)
    np.testing.assert_array_equal(both[:, :5], X)
    mirrors = both[:, 5:]
    assert (unflatten(mirrors, shape)[3, 10, 0] == images[3, 10, -1]).all()
    np.testing.assert_array_equal(flipped(mirrors, shape)[:, 5:], X)
    np.testing.assert_array_equal(flatten(images[:, :, ::-1]), mirrors)
