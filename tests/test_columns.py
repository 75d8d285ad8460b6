"""Pixels as columns: uint8 rows read block by block give the float64 array's columns, products
and fits, and a features.npz that is damaged, cut short or changed under a run is refused in
one line naming it."""

import os

import numpy as np
import pytest
from conftest import assert_one_line_error, run_cli, write_pixel_features

import pipeline.columns as columns
from pipeline.artifacts.feature_file import load_features
from pipeline.columns import (
    PixelColumns,
    column_keys,
    flipped,
    gram,
    model_scores,
    pixels_of,
    take,
    times,
    times_transposed,
)
from pipeline.engines.logistic import gradient_descent
from pipeline.engines.network import train_networks
from pipeline.errors import UserError
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
    np.testing.assert_allclose(times(W, pixels), W @ X, rtol=1e-13)
    np.testing.assert_allclose(times(W, pixels, [3, 1, 20]), W @ X[:, [3, 1, 20]], rtol=1e-13)
    np.testing.assert_allclose(times_transposed(D, pixels), D @ X.T, rtol=1e-12)
    parameters = initialize_parameters_deep([X.shape[0], 5, 3, 1], seed=1)
    np.testing.assert_allclose(model_scores(parameters, pixels), L_model_scores(X, parameters),
                               rtol=1e-12)


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
    pixels, X = pixel_pair()
    with pytest.raises(ValueError, match="gram of pixels needs pixels on both sides, got "
                                         "ndarray"):
        gram(pixels, X)


def test_flipped_pixels_are_the_arrays_mirrors_and_keys_tell_them_apart(small_blocks):
    pixels, X = pixel_pair(m=6)
    both = flipped(pixels, (3, 3, 3))
    assert both.shape == (27, 12)
    np.testing.assert_array_equal(take(both, np.arange(12)), flipped(X, (3, 3, 3)))
    keys = column_keys(both)
    assert keys[:6] == column_keys(pixels) and len(set(keys)) == 12


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


def test_the_stage_file_holds_uint8_rows_that_are_the_course_columns(features, features_file):
    loaded = load_features(features_file)
    assert loaded["X_train"].shape == (12288, 209) and loaded["X_test"].shape == (12288, 50)
    assert loaded["X_train"].rows.dtype == np.uint8
    np.testing.assert_array_equal(take(loaded["X_train"], np.arange(209)), features["X_train"])
    np.testing.assert_array_equal(take(loaded["X_test"], np.arange(50)), features["X_test"])
    for key in ("Y_train", "Y_test", "image_shape", "classes", "train_sha256"):
        np.testing.assert_array_equal(loaded[key], features[key])
    assert features_file.stat().st_size < 1.1 * (209 + 50) * 12288  # pixels, not float64


def test_a_cut_short_features_file_is_refused_in_one_line(features_file, tmp_path):
    cut = tmp_path / "features.npz"
    data = features_file.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    result = run_cli("train", "--features", cut, "--out", tmp_path / "params.npz")
    assert_one_line_error(result, str(cut), "make features")
    assert not (tmp_path / "params.npz").exists()


def test_a_features_file_changed_during_a_run_is_refused(features_file, tmp_path):
    copy = tmp_path / "features.npz"
    copy.write_bytes(features_file.read_bytes())
    pixels = load_features(copy)["X_train"]
    take(pixels, [0])
    with open(copy, "r+b") as f:  # rewritten in place: same name, other bytes
        f.seek(-100, os.SEEK_END)
        f.write(b"\0" * 100)
    with pytest.raises(UserError, match="changed while this run was reading it.*make features"):
        take(pixels, [1])


def test_a_features_file_replaced_during_a_run_is_refused(features_file, tmp_path):
    path = tmp_path / "features.npz"
    path.write_bytes(features_file.read_bytes())
    pixels = load_features(path)["X_test"]
    other = tmp_path / "new.npz"
    other.write_bytes(features_file.read_bytes())
    os.replace(other, path)  # as `make features` does: a new file under the same name
    with pytest.raises(UserError, match=f"{path} changed while this run"):
        take(pixels, [0])


def test_a_truncated_file_under_a_run_is_one_error_not_a_crash(features_file, tmp_path):
    copy = tmp_path / "features.npz"
    copy.write_bytes(features_file.read_bytes())
    rows = load_features(copy)["X_train"].rows
    os.truncate(copy, rows.offset + 10 * rows.shape[1])
    rows.identity = rows.identity[:2] + (os.stat(copy).st_size, os.stat(copy).st_mtime_ns)
    with pytest.raises(UserError, match="ended before row .*make features"):
        rows[5:20]


@pytest.mark.parametrize("change, says", [
    ({"Y_train": np.zeros((1, 208), dtype=np.int64)}, "(209, 12288) / Y_train (1, 208)"),
    ({"image_shape": np.array([32, 32, 3])}, "images of shape (32, 32, 3)"),
    ({"Y_test": np.full((1, 50), 2)}, "0/1 labels"),
])
def test_a_record_that_does_not_match_its_pixels_is_refused(features, tmp_path, change, says):
    path = write_pixel_features(tmp_path / "features.npz", features, **change)
    result = run_cli("train", "--features", path, "--out", tmp_path / "params.npz")
    assert_one_line_error(result, str(path), says, "make features")


def test_pixels_stored_compressed_or_as_floats_are_refused(features, tmp_path):
    import zipfile

    path = write_pixel_features(tmp_path / "features.npz", features)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(UserError, match="compressed, not what `make features` writes"):
        load_features(path)
    floats = write_pixel_features(tmp_path / "floats.npz", {
        k: v for k, v in features.items() if k != "X_train"})
    with zipfile.ZipFile(floats, "a") as archive, archive.open("train_pixels.npy", "w") as member:
        np.lib.format.write_array(member, features["X_train"].T)  # float64 rows
    with pytest.raises(UserError, match="float64 of shape .* not uint8 pixel rows"):
        load_features(floats)


@pytest.mark.parametrize("preadv", [True, False])
def test_two_threads_read_the_file_alike_with_or_without_preadv(features, features_file,
                                                               small_blocks, monkeypatch,
                                                               preadv):
    """Without os.preadv (Windows) the threads of a pass share one seek-and-read, under a lock."""
    import pipeline.artifacts.pixels as pixels

    monkeypatch.setattr(pixels, "HAS_PREADV", preadv)
    X = load_features(features_file)["X_train"]
    W = np.random.default_rng(2).normal(size=(2, 12288))
    np.testing.assert_allclose(times(W, X), W @ features["X_train"], rtol=1e-12, atol=1e-11)
    np.testing.assert_array_equal(take(X, [208, 3, 4, 5]), features["X_train"][:, [208, 3, 4, 5]])
