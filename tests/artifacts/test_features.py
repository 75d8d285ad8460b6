"""Loading and flattening: column j is image j, and every malformed file is refused clearly."""

import h5py
import numpy as np
import pytest
from conftest import assert_one_line_error, run_cli, write_h5

from pipeline.artifacts.features import flatten, load_split, make_features
from pipeline.cli import UserError


def test_real_data_shapes_and_range(features):
    assert features["X_train"].shape == (12288, 209)
    assert features["Y_train"].shape == (1, 209)
    assert features["X_test"].shape == (12288, 50)
    assert features["Y_test"].shape == (1, 50)
    for X in (features["X_train"], features["X_test"]):
        assert X.min() >= 0 and X.max() <= 1 and X.dtype == np.float64
    assert features["classes"].tolist() == ["non-cat", "cat"]
    assert features["image_shape"].tolist() == [64, 64, 3]


@pytest.mark.parametrize("j", [0, 1, 100, 208])
def test_column_j_is_image_j(raw_files, features, j):
    images, _, _ = load_split(raw_files[0], "train")
    np.testing.assert_array_equal(features["X_train"][:, j], images[j].ravel() / 255)


def test_flatten_keeps_each_image_in_its_own_column():
    images = np.arange(2 * 3 * 3 * 3).reshape(2, 3, 3, 3)
    X = flatten(images)
    assert X.shape == (27, 2)
    assert X[:, 1].tolist() == images[1].ravel().tolist()


def test_any_square_size_consistent_between_files_is_accepted(tmp_path):
    train = write_h5(tmp_path / "train.h5", "train", px=5, m=7)
    test = write_h5(tmp_path / "test.h5", "test", px=5, m=3)
    f = make_features(train, test)
    assert f["X_train"].shape == (75, 7) and f["X_test"].shape == (75, 3)


def test_labels_stored_as_a_row_are_accepted(tmp_path):
    path = write_h5(tmp_path / "t.h5", "train", labels=np.array([[0, 1, 1, 0, 1, 0]]))
    assert load_split(path, "train")[1].tolist() == [0, 1, 1, 0, 1, 0]


def _truncated(tmp_path):
    path = write_h5(tmp_path / "t.h5", "train", m=50, px=16)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _images(**kwargs):
    return lambda tmp_path: write_h5(tmp_path / "t.h5", "train", **kwargs)


BAD_FILES = {
    "missing": (lambda tmp_path: tmp_path / "nope.h5", "not found"),
    "not hdf5": (lambda tmp_path: (tmp_path / "t.h5").write_text("hello") and tmp_path / "t.h5",
                 "not a readable HDF5 file"),
    "truncated": (_truncated, "not a readable HDF5 file"),
    "float pixels": (_images(images=np.zeros((3, 4, 4, 3))), "expected uint8"),
    "not square": (_images(images=np.zeros((3, 4, 5, 3), np.uint8)), "square RGB"),
    "grayscale": (_images(images=np.zeros((3, 4, 4), np.uint8)), "square RGB"),
    "labels 0/1/2": (_images(labels=np.array([0, 1, 2, 1, 0, 1])), "labels must be 0 or 1"),
    "too few labels": (_images(labels=np.array([0, 1])), "one label per image"),
    "three classes": (_images(classes=(b"a", b"b", b"c")), "expected 2"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_is_refused_naming_the_file(tmp_path, case):
    make, message = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(UserError, match=message) as err:
        load_split(path, "train")
    assert str(path) in str(err.value)


def test_missing_key_names_what_is_there(tmp_path):
    path = tmp_path / "t.h5"
    with h5py.File(path, "w") as h5:
        h5["train_set_x"] = np.zeros((2, 4, 4, 3), np.uint8)
    with pytest.raises(UserError, match="has no train_set_y, list_classes"):
        load_split(path, "train")


def test_train_and_test_sizes_must_agree(tmp_path):
    train = write_h5(tmp_path / "train.h5", "train", px=4)
    test = write_h5(tmp_path / "test.h5", "test", px=6)
    with pytest.raises(UserError, match="same image size"):
        make_features(train, test)


def test_features_cli_bad_file_keeps_the_previous_output(tmp_path):
    good_train = write_h5(tmp_path / "train.h5", "train")
    test = write_h5(tmp_path / "test.h5", "test")
    out = tmp_path / "features.npz"
    assert run_cli("features", "--train-file", good_train, "--test-file", test,
                   "--out", out).returncode == 0
    before = out.read_bytes()
    bad = write_h5(tmp_path / "bad.h5", "train", labels=np.array([0, 1, 7, 1, 0, 1]))
    result = run_cli("features", "--train-file", bad, "--test-file", test, "--out", out)
    assert_one_line_error(result, "bad.h5", "labels must be 0 or 1")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5", "features.npz", "test.h5",
                                                          "train.h5"]
