"""artifacts/feature_file.py: features.npz holds the course's columns as uint8 rows beside the
arrays make_features builds, mapped from the file; a file that is cut short, inconsistent,
compressed, of floats or with a flipped pixel is refused in one line naming it."""

import cProfile
import os
import pstats
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, assert_one_line_error, run_cli, write_pixel_features

from pipeline.artifacts import feature_file
from pipeline.artifacts.feature_file import data_offset, load_features, map_pixels
from pipeline.artifacts.split_writer import write_rows_member
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


def test_the_pixels_are_the_files_bytes_mapped_read_only(features_file):
    rows = load_features(features_file)["X_train"].rows
    assert isinstance(rows, np.memmap) and not rows.flags.writeable
    assert rows.filename == features_file.resolve()


def test_a_features_file_replaced_under_a_run_is_read_to_the_end_as_it_was(features,
                                                                          tmp_path):
    """Every writer here replaces a file (os.replace): the map holds the file it opened."""
    path = write_pixel_features(tmp_path / "features.npz", features)
    X = load_features(path)["X_train"]
    new = {**features, "X_train": features["X_train"][:, ::-1]}  # the images in another order
    os.replace(write_pixel_features(tmp_path / "new.npz", new), path)
    np.testing.assert_array_equal(take(X, slice(None)), features["X_train"])
    np.testing.assert_array_equal(take(load_features(path)["X_train"], [0, 208]),
                                  new["X_train"][:, [0, 208]])


@pytest.mark.parametrize("where", [0, 5 * 1000 + 3, -1])  # the first byte, a later chunk's, last
def test_one_flipped_pixel_is_caught_by_the_crc_wherever_it_sits(tmp_path, monkeypatch, where):
    monkeypatch.setattr(feature_file, "CRC_CHUNK", 1000)  # 15 chunks of the 15,000 pixels
    rows = np.random.default_rng(0).integers(0, 256, (50, 300), dtype=np.uint8)  # (m, n_x)
    path = tmp_path / "f.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        write_rows_member(archive, "train_pixels", rows.shape, [rows])
    np.testing.assert_array_equal(map_pixels(path, "train_pixels", "remake it"), rows)
    with zipfile.ZipFile(path) as archive:
        start = data_offset(path, archive.getinfo("train_pixels.npy")) + 128  # the .npy header
    data = bytearray(path.read_bytes())
    data[start + where % rows.size] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="f.npz is damaged .*Bad CRC-32.*; remake it"):
        map_pixels(path, "train_pixels", "remake it")


def test_pixels_that_declare_more_rows_than_they_hold_are_refused(features, tmp_path):
    path = write_pixel_features(tmp_path / "features.npz", features)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"(209, 12288)", b"(999, 12288)", 1))  # in place, same length
    with pytest.raises(UserError, match=r"train_pixels declares 999 rows of 12288 pixels but "
                                        r"holds 2568192 bytes \(truncated\?\); run `make feat"):
        load_features(path)


def test_loading_calls_functions_in_five_files_of_the_package(features_file):
    """The way a learner reads from features.npz to the columns: the loader, the file helpers,
    the columns, the errors and the config, nothing else."""
    profile = cProfile.Profile()
    profile.runcall(load_features, features_file)
    package = str(ROOT / "pipeline")
    called = {Path(file).relative_to(ROOT).as_posix()
              for file, _, name in pstats.Stats(profile).stats  # type: ignore[attr-defined]
              if file.startswith(package) and name != "<module>"}
    assert called <= {"pipeline/artifacts/feature_file.py", "pipeline/artifacts/files.py",
                      "pipeline/columns.py", "pipeline/errors.py", "pipeline/config.py"}, called
