"""features.npz, the features stage's file: the images as what they cost, uint8 pixel rows
(m, n_x) (row j is column j of X before / 255), streamed from the .h5 a chunk at a time, with the
labels, image shape, class names and the .h5 files' sha256. Loaded, its X_train and X_test are
PixelColumns, read from the file a block at a time and standardized as they are used."""

import shutil
import zipfile
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.artifacts.features import read_split
from pipeline.artifacts.files import atomic_path, check_arrays, read_npz, sha256_of
from pipeline.artifacts.pixels import read_rows_members, write_array_member, write_rows_member
from pipeline.columns import PixelColumns
from pipeline.errors import UserError

CHUNK = 1024  # images read from the .h5 and written at a time by write_features


def write_features(train_file, test_file, out, on_progress=None):
    """features.npz from the two .h5 files, streamed CHUNK images at a time, written atomically.

    on_progress : called with a number of images written, m_train + m_test in all
    Returns the shapes of X_train and X_test, (n_x, m) each."""
    def pixel_rows(images, shape):
        """The images as (b, n_x) rows, CHUNK at a time."""
        for k in range(0, shape[0], CHUNK):
            chunk = images(k, k + CHUNK)
            yield chunk.reshape(len(chunk), -1)
            if on_progress:
                on_progress(len(chunk))

    def write_split(archive, split, path, train=None):
        def write(images, shape, labels, classes):
            if train and shape[1:] != train[0][1:]:
                raise UserError(f"train images are {train[0][1:]} but test images are "
                                f"{shape[1:]}; both files must hold the same image size")
            if train and classes != train[1]:
                raise UserError(f"train classes {train[1]} differ from test classes {classes}")
            if shape[0] < 1:
                raise UserError(f"{path}: {split}_set_x holds no images; it needs at least one")
            n_x = int(np.prod(shape[1:]))
            write_rows_member(archive, f"{split}_pixels", (shape[0], n_x),
                              pixel_rows(images, shape))
            write_array_member(archive, f"Y_{split}", labels.reshape(1, -1))  # (1, m)
            return shape, classes

        return read_split(path, split, write,
                          lambda shape: check_fits_on_disk(path, f"{split}_set_x", shape, out))

    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        train_shape, classes = write_split(archive, "train", train_file)
        test_shape, _ = write_split(archive, "test", test_file, (train_shape, classes))
        small = {"image_shape": np.array(train_shape[1:]), "classes": np.array(classes),
                 "standardization": np.array(config.STANDARDIZATION),
                 "train_sha256": np.array(sha256_of(train_file)),
                 "test_sha256": np.array(sha256_of(test_file))}
        for name, array in small.items():
            write_array_member(archive, name, array)
    n_x = int(np.prod(train_shape[1:]))
    return (n_x, train_shape[0]), (n_x, test_shape[0])


def images_in(train_file, test_file, out):
    """How many images write_features(train_file, test_file, out) will write, once each file's
    declared size is checked against out's disk (before any label or pixel is read)."""
    def declared(path, split):
        return read_split(path, split, lambda _, shape, *rest: shape[0],
                          lambda shape: check_fits_on_disk(path, f"{split}_set_x", shape, out))

    return declared(train_file, "train") + declared(test_file, "test")


def check_fits_on_disk(path, key, shape, out):
    """Refuse, before writing, images whose pixels would not fit on out's disk."""
    needed = int(np.prod(shape, dtype=np.int64)) * 1 + 9 * shape[0]  # pixels, labels
    folder = Path(out).resolve().parent
    while not folder.exists():  # atomic_path makes it
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise UserError(f"{path}: {key} declares shape {tuple(shape)}, whose pixels need "
                        f"{needed / 1e9:.1f} GB; {Path(out).parent} has {free / 1e9:.1f} GB free")


FEATURE_SPEC = {  # dtype kinds and shapes of the small arrays (None: any length)
    "Y_train": ("iu", (1, None)), "Y_test": ("iu", (1, None)),
    "image_shape": ("iu", (3,)), "classes": ("U", (2,)), "standardization": ("U", ()),
    "train_sha256": ("U", ()), "test_sha256": ("U", ()),
}


def load_features(path=config.FEATURES_FILE):
    """features.npz as a dict: X_train, X_test as PixelColumns (n_x, m) read from the file block
    by block; Y_train, Y_test (1, m); image_shape, classes, standardization and the sha256s.
    Every array's dtype, shape and range is checked, and the pixels' CRC."""
    remake = "run `make features` to remake it"
    f = read_npz(path, tuple(FEATURE_SPEC), "make features")
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
