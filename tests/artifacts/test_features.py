"""Loading and flattening: column j is image j, and every malformed file is refused clearly."""

import h5py
import numpy as np
import pytest
from helpers import write_h5

from pipeline.artifacts.features import flatten, load_split, make_features
from pipeline.artifacts.split_writer import write_features
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


def test_flatten_of_no_images_is_empty_columns_and_a_non_array_of_images_is_a_value_error():
    assert flatten(np.zeros((0, 4, 4, 3), np.uint8)).shape == (48, 0)
    with pytest.raises(ValueError, match=r"images \(m, \.\.\.\), not an array of shape \(5,\)"):
        flatten(np.zeros(5))


# The bomb guard: declared pixels against the bytes stored for them.

def chunked(path, m, written, px=4, **options):
    """A course .h5 of m images in chunks of one image, only the first `written` stored."""
    with h5py.File(path, "w") as h5:
        x = h5.create_dataset("train_set_x", shape=(m, px, px, 3), dtype=np.uint8,
                              chunks=(1, px, px, 3), **options)
        x[:written] = 200
        h5["train_set_y"] = np.zeros(m, np.int64)
        h5["list_classes"] = np.array([b"non-cat", b"cat"])
    return path


def test_a_file_storing_a_thousandth_of_its_pixels_passes_and_one_image_less_is_refused(
        tmp_path):
    assert load_split(chunked(tmp_path / "a.h5", 1000, 1), "train")[0].shape == (1000, 4, 4, 3)
    with pytest.raises(UserError) as err:
        load_split(chunked(tmp_path / "b.h5", 1001, 1), "train")
    assert str(err.value) == (
        f"{tmp_path / 'b.h5'}: train_set_x declares 1,001 images (48,048 bytes of pixels) but "
        "stores 48 bytes of them (1,001 times fewer, over the 1,000x limit: chunks never written "
        "read as zeros); write its images, or add --allow-sparse if that is what you mean")


def test_a_sparse_file_is_read_as_zeros_when_allowed(tmp_path):
    path = chunked(tmp_path / "sparse.h5", 5000, 2)
    with pytest.raises(UserError, match="stores 96 bytes of them .2,500 times fewer"):
        load_split(path, "train")
    images, labels, _ = load_split(path, "train", allow_sparse=True)
    assert (images[:2] == 200).all() and not images[2:].any() and len(labels) == 5000


def test_nothing_stored_is_an_unbounded_ratio(tmp_path):
    with h5py.File(tmp_path / "t.h5", "w") as h5:  # contiguous, never written: no storage
        h5.create_dataset("train_set_x", shape=(400, 64, 64, 3), dtype=np.uint8)
        h5["train_set_y"] = np.zeros(400, np.int64)
        h5["list_classes"] = np.array([b"non-cat", b"cat"])
    with pytest.raises(UserError, match=r"400 images \(4,915,200 bytes of pixels\) but stores "
                                        r"0 bytes of them \(an unbounded ratio"):
        load_split(tmp_path / "t.h5", "train")


def copy_of(path, target, **options):
    """The course file at path rewritten with its images stored with h5py options."""
    images, labels, classes = load_split(path, "train")
    with h5py.File(target, "w") as h5:
        h5.create_dataset("train_set_x", data=images, **options)
        h5["train_set_y"] = labels
        h5["list_classes"] = np.array([c.encode() for c in classes])
    return target


def test_the_course_contiguous_and_compressed_files_pass(raw_files, tmp_path):
    gzip = {"chunks": (1, 64, 64, 3), "compression": "gzip", "compression_opts": 9}
    files = [*raw_files, copy_of(raw_files[0], tmp_path / "contiguous.h5"),
             copy_of(raw_files[0], tmp_path / "gzip.h5", **gzip),
             copy_of(raw_files[0], tmp_path / "lzf.h5", chunks=(64, 64, 64, 3),
                     compression="lzf")]
    with h5py.File(tmp_path / "black.h5", "w") as h5:  # one colour, gzip: 351x
        h5.create_dataset("train_set_x", data=np.zeros((209, 64, 64, 3), np.uint8), **gzip)
        h5["train_set_y"], h5["list_classes"] = np.zeros(209, int), np.array([b"a", b"b"])
    for path in [*files, tmp_path / "black.h5"]:
        split = "test" if path == raw_files[1] else "train"
        assert len(load_split(path, split)[0]) in (209, 50)
    np.testing.assert_array_equal(load_split(tmp_path / "gzip.h5", "train")[0],
                                  load_split(raw_files[0], "train")[0])


# One home for the format: make_features (in memory) and write_features (the file) share the
# pair's rules (the arrays beside the pixels: artifacts/test_feature_file.py).


def build_in_memory(train, test, tmp_path):
    make_features(train, test)


def build_the_file(train, test, tmp_path):
    write_features(train, test, tmp_path / "out" / "features.npz")


PAIRS = {
    "sizes": (dict(px=4), dict(px=6), "train images are (4, 4, 3) but test images are (6, 6, 3);"
              " both files must hold the same image size"),
    "classes": (dict(), dict(classes=(b"cat", b"non-cat")),
                "train classes ['non-cat', 'cat'] differ from test classes ['cat', 'non-cat']"),
    "no test image": (dict(), dict(images=np.zeros((0, 4, 4, 3), np.uint8)),
                      "test.h5: test_set_x holds no images; it needs at least one"),
}


@pytest.mark.parametrize("build", [build_in_memory, build_the_file])
@pytest.mark.parametrize("case", PAIRS)
def test_both_builders_refuse_a_bad_pair_in_the_same_words(tmp_path, case, build):
    train_options, test_options, message = PAIRS[case]
    train = write_h5(tmp_path / "train.h5", "train", **train_options)
    test = write_h5(tmp_path / "test.h5", "test", **test_options)
    with pytest.raises(UserError) as err:
        build(train, test, tmp_path)
    assert str(err.value).endswith(message)
    assert not (tmp_path / "out").exists()  # refused before anything was written
