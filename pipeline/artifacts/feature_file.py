"""features.npz, the features stage's file: the images as what they cost, uint8 pixel rows
(m, n_x) (row j is column j of X before / 255), streamed from the .h5 a chunk at a time, with the
labels, image shape, class names and the .h5 files' sha256. Loaded, its X_train and X_test are
PixelColumns, read from the file a block at a time and standardized as they are used."""

import shutil
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import config
from pipeline.artifacts.features import (
    Shape,
    Split,
    check_pair,
    feature_info,
    open_split,
)
from pipeline.artifacts.files import Spec, StrPath, atomic_path, check_arrays, read_npz
from pipeline.artifacts.pixels import read_rows_members, write_array_member, write_rows_member
from pipeline.columns import PixelColumns
from pipeline.errors import UserError, remake_hint

# The features, read only: X_train and X_test the (n_x, m) columns (float64 arrays from
# make_features, PixelColumns from features.npz), the rest arrays (Y_train, Y_test, ...)
Features = Mapping[str, Any]
CHUNK = 1024  # images read from the .h5 and written at a time by write_features


def write_features(train_file: StrPath, test_file: StrPath, out: StrPath,
                   on_progress: Callable[[int], object] | None = None,
                   allow_sparse: bool = False) -> tuple[Shape, Shape]:
    """features.npz from the two .h5 files, streamed CHUNK images at a time, written atomically:
    the one writer of the format, whose members load_features reads.

    on_progress : called with a number of images written, m_train + m_test in all
    allow_sparse : read files storing under a thousandth of the pixels they declare
    Returns the shapes of X_train and X_test, (n_x, m) each."""
    def pixel_rows(split: Split) -> Iterator[NDArray[np.uint8]]:
        """The images as (b, n_x) rows, CHUNK at a time."""
        for k in range(0, split.shape[0], CHUNK):
            chunk = split.images(k, k + CHUNK)
            yield chunk.reshape(len(chunk), -1)
            if on_progress:
                on_progress(len(chunk))

    with open_checked(train_file, "train", out, allow_sparse) as train, \
            open_checked(test_file, "test", out, allow_sparse) as test:
        check_pair(train, test)
        n_x = int(np.prod(train.shape[1:]))
        with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
            for split in (train, test):
                write_rows_member(archive, f"{split.name}_pixels", (split.shape[0], n_x),
                                  pixel_rows(split))
                write_array_member(archive, f"Y_{split.name}", split.labels.reshape(1, -1))
            for name, array in feature_info(train, test).items():
                write_array_member(archive, name, array)
    return (n_x, train.shape[0]), (n_x, test.shape[0])


def images_in(train_file: StrPath, test_file: StrPath, out: StrPath,
              allow_sparse: bool = False) -> int:
    """How many images write_features(train_file, test_file, out) will write, once both files
    are checked, and their declared sizes against out's disk (before any pixel is read)."""
    with open_checked(train_file, "train", out, allow_sparse) as train, \
            open_checked(test_file, "test", out, allow_sparse) as test:
        check_pair(train, test)
        return train.shape[0] + test.shape[0]


def open_checked(path: StrPath, split: str, out: StrPath,
                 allow_sparse: bool) -> AbstractContextManager[Split]:
    """open_split, its declared pixels checked against out's free disk."""
    return open_split(path, split, lambda shape: check_fits_on_disk(
        path, f"{split}_set_x", shape, out), allow_sparse)


def check_fits_on_disk(path: StrPath, key: str, shape: Shape, out: StrPath) -> None:
    """Refuse, before writing, images whose pixels would not fit on out's disk."""
    needed = int(np.prod(shape, dtype=np.int64)) * 1 + 9 * shape[0]  # pixels, labels
    folder = Path(out).resolve().parent
    while not folder.exists():  # atomic_path makes it
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise UserError(f"{path}: {key} declares shape {tuple(shape)}, whose pixels need "
                        f"{needed / 1e9:.1f} GB; {Path(out).parent} has {free / 1e9:.1f} GB free")


FEATURE_SPEC: Spec = {  # dtype kinds and shapes of the small arrays (None: any length)
    "Y_train": ("iu", (1, None)), "Y_test": ("iu", (1, None)),
    "image_shape": ("iu", (3,)), "classes": ("U", (2,)), "standardization": ("U", ()),
    "train_sha256": ("U", ()), "test_sha256": ("U", ()),
}


def load_features(path: StrPath = config.FEATURES_FILE) -> Features:
    """features.npz as a dict: X_train, X_test as PixelColumns (n_x, m) read from the file block
    by block; Y_train, Y_test (1, m); image_shape, classes, standardization and the sha256s.
    Every array's dtype, shape and range is checked, and the pixels' CRC."""
    remake = remake_hint("make features")
    f: dict[str, Any] = read_npz(path, tuple(FEATURE_SPEC), "make features")
    check_arrays(f, FEATURE_SPEC, path, "make features")
    shape = f["image_shape"]
    shown = tuple(shape.tolist())  # (64, 64, 3), not NumPy integers' reprs
    if (shape <= 0).any() or str(f["standardization"]) != config.STANDARDIZATION:
        raise UserError(f"{path}: image shape {shown} and standardization "
                        f"{str(f['standardization'])!r} are not what `make features` writes; "
                        f"{remake}")
    rows = read_rows_members(path, ("train_pixels", "test_pixels"), remake)
    n_x = int(np.prod(shape, dtype=np.int64))
    for split in ("train", "test"):
        pixels, Y = rows[f"{split}_pixels"], f[f"Y_{split}"]
        if pixels.shape[1] != n_x or Y.shape != (1, pixels.shape[0]) \
                or not np.isin(Y, (0, 1)).all():
            raise UserError(f"{path}: {split}_pixels {pixels.shape} / Y_{split} {Y.shape} are "
                            f"not rows of images of shape {shown} with 0/1 labels; "
                            f"{remake}")
        f[f"X_{split}"] = PixelColumns(pixels, shape)
    return f


def is_course_data(data: Mapping[str, object]) -> bool:
    """Whether features or params were made from the course's own two files (by sha256)."""
    return [str(data["train_sha256"]), str(data["test_sha256"])] == [
        config.SHA256[config.TRAIN_FILE.name], config.SHA256[config.TEST_FILE.name]]
