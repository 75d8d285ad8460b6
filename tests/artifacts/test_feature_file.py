"""artifacts/feature_file.py: features.npz holds the course's columns as uint8 rows beside the
arrays make_features builds, and a file that is cut short, inconsistent, compressed or of floats
is refused in one line naming it."""

import numpy as np
import pytest
from helpers import assert_one_line_error, run_cli, write_pixel_features

from pipeline.artifacts.feature_file import load_features
from pipeline.columns import take
from pipeline.errors import UserError


@pytest.mark.portable
def test_the_stage_file_holds_uint8_rows_that_are_the_course_columns(features, features_file):
    loaded = load_features(features_file)
    assert loaded["X_train"].shape == (12288, 209) and loaded["X_test"].shape == (12288, 50)
    assert loaded["X_train"].rows.dtype == np.uint8
    np.testing.assert_array_equal(take(loaded["X_train"], np.arange(209)), features["X_train"])
    np.testing.assert_array_equal(take(loaded["X_test"], np.arange(50)), features["X_test"])
    for key in ("Y_train", "Y_test", "image_shape", "classes", "train_sha256"):
        np.testing.assert_array_equal(loaded[key], features[key])
    assert features_file.stat().st_size < 1.1 * (209 + 50) * 12288  # pixels, not float64


@pytest.mark.portable
def test_a_cut_short_features_file_is_refused_in_one_line(features_file, tmp_path):
    cut = tmp_path / "features.npz"
    data = features_file.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    result = run_cli("train", "--features", cut, "--out", tmp_path / "params.npz")
    assert_one_line_error(result, str(cut), "make features")
    assert not (tmp_path / "params.npz").exists()


@pytest.mark.portable
@pytest.mark.parametrize("change, says", [
    ({"Y_train": np.zeros((1, 208), dtype=np.int64)}, "(209, 12288) / Y_train (1, 208)"),
    ({"image_shape": np.array([32, 32, 3])}, "images of shape (32, 32, 3)"),
    ({"Y_test": np.full((1, 50), 2)}, "0/1 labels"),
])
def test_a_record_that_does_not_match_its_pixels_is_refused(features, tmp_path, change, says):
    path = write_pixel_features(tmp_path / "features.npz", features, **change)
    result = run_cli("train", "--features", path, "--out", tmp_path / "params.npz")
    assert_one_line_error(result, str(path), says, "make features")


@pytest.mark.portable
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


def test_make_features_and_the_written_file_hold_the_same_arrays(features, pixel_features):
    for key in ("Y_train", "Y_test", "image_shape", "classes", "standardization",
                "train_sha256", "test_sha256"):
        assert features[key].dtype == pixel_features[key].dtype, key
        np.testing.assert_array_equal(features[key], pixel_features[key])
    for key in ("X_train", "X_test"):
        np.testing.assert_array_equal(take(pixel_features[key], slice(None)), features[key])
