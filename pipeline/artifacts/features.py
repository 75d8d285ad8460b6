"""The features: the .h5 images checked, flattened to (n_x, m) columns and standardized, as the
course does it in memory (make_features, the lesson's path). features.npz, the stage's file,
keeps the pixels instead: see feature_file.py."""

from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.artifacts.files import available_memory, sha256_of
from pipeline.errors import UserError, short_reason


def load_split(path, split):
    """Images, labels and class names from one course .h5 file, checked before use.

    Every declared shape and dtype is checked before a pixel is read, and any failure of h5py on
    a damaged file becomes one UserError naming the file.

    Returns
    -------
    images : ndarray of shape (m, px, px, 3), uint8
    labels : ndarray of shape (m,), int64, only 0 and 1
    classes : list of str, e.g. ["non-cat", "cat"]
    """
    def read_all(images, shape, labels, names):
        return images(0, shape[0]), labels, names

    return read_split(path, split, read_all,
                      lambda shape: check_fits_in_memory(path, f"{split}_set_x", shape))


def read_split(path, split, use, check=None):
    """use(images, shape, labels, names) on an open course .h5 file, after its checks:
    images(a, b) reads images a..b-1 (b - a, px, px, 3) uint8; shape is (m, px, px, 3); labels
    (m,) int64 of 0 and 1; names the 2 class names. check(shape), if given, may refuse the
    declared shape before anything is read. A failure of h5py on a damaged file, while opening
    or reading, is one UserError naming the file."""
    path = Path(path)
    course = path.resolve().parent == config.RAW_DIR.resolve()
    fix = "run `make data` to fetch it again" if course else "rebuild it with `make dataset`"
    if not path.is_file():
        raise UserError(f"{path} not found; {fix}")
    import h5py  # here, not at the top: train and classify import this module but read no .h5

    def damaged(err):
        return UserError(f"{path} is not a readable HDF5 file ({short_reason(err)}); {fix}")

    try:  # h5py meets damage with any of a dozen exception types
        h5 = h5py.File(path, "r")
    except Exception as err:
        raise damaged(err) from None
    with h5:
        try:
            x, labels, classes = course_arrays(h5, path, split, check)
        except UserError:
            raise
        except Exception as err:
            raise damaged(err) from None
        if not np.isin(labels, (0, 1)).all():
            bad = sorted({str(v) for v in np.unique(labels) if v not in (0, 1)})
            raise UserError(f"{path}: {split}_set_y holds {', '.join(bad[:5])}; labels must be "
                            "0 or 1")
        names = [c.decode("utf-8", "replace") if isinstance(c, bytes) else str(c)
                 for c in classes]

        def images(start, stop):
            try:
                return x[start:stop]
            except Exception as err:
                raise damaged(err) from None

        return use(images, x.shape, labels.astype(np.int64), names)


def course_arrays(h5, path, split, check=None):
    """An open course file's images dataset, labels and class names, their declared shapes
    checked before anything is read."""
    import h5py

    keys = (f"{split}_set_x", f"{split}_set_y", "list_classes")
    missing = [k for k in keys if k not in h5]
    if missing:
        raise UserError(f"{path} has no {', '.join(missing)} (it has "
                        f"{', '.join(map(str, h5.keys())) or 'nothing'}); "
                        f"expected the course's {split} file")
    x, y, c = (h5[k] for k in keys)
    for key, dataset in zip(keys, (x, y, c), strict=True):
        if not isinstance(dataset, h5py.Dataset):
            raise UserError(f"{path}: {key} is not an array")
    if x.dtype != np.uint8:
        raise UserError(f"{path}: {keys[0]} holds {x.dtype}, expected uint8 pixels")
    if x.ndim != 4 or x.shape[3] != 3 or x.shape[1] != x.shape[2]:
        raise UserError(f"{path}: {keys[0]} has shape {x.shape}, "
                        "expected (m, px, px, 3): square RGB images")
    m = x.shape[0]
    if y.shape not in ((m,), (1, m), (m, 1)) or y.dtype.kind not in "iub":
        raise UserError(f"{path}: {keys[1]} is {y.dtype} of shape {y.shape}, expected ({m},) "
                        "whole numbers: one label per image")
    if c.size != 2 or c.dtype.kind not in "SUO":
        raise UserError(f"{path}: list_classes is {c.dtype} of shape {c.shape}, expected 2 names")
    if check:
        check(x.shape)
    return x, np.ravel(y[()]), np.ravel(c[()])


def check_fits_in_memory(path, key, shape):
    """Refuse, without allocating, images whose features would not fit in the memory left."""
    m, n_x = shape[0], int(np.prod(shape[1:], dtype=np.int64))
    needed = m * n_x * (1 + 8)  # the uint8 pixels, then the float64 columns
    available = available_memory()
    if needed > available:
        raise UserError(f"{path}: {key} declares shape {tuple(shape)}, whose features need "
                        f"{needed / 1e9:.1f} GB; only {available / 1e9:.1f} GB of memory is free")


def flatten(images):
    """(m, px, px, 3) images -> (n_x, m) columns; column j is image j raveled."""
    m = images.shape[0]
    X = images.reshape(m, -1).T  # (n_x, m)
    assert X.shape == (images[0].size, m)
    return X


def unflatten(X, image_shape):
    """(n_x, m) columns -> (m, *image_shape) images: the inverse of flatten."""
    return X.T.reshape(X.shape[1], *image_shape)


def standardize(X):
    """Pixel values 0..255 -> floats in [0, 1], as the course does."""
    return X / 255.0


def unstandardize(X):
    """Floats in [0, 1] back to uint8 pixels (exact for standardized uint8 values)."""
    return np.rint(X * 255.0).astype(np.uint8)


def make_features(train_file, test_file):
    """The arrays features.npz holds, from the two .h5 files."""
    train_images, train_labels, classes = load_split(train_file, "train")
    test_images, test_labels, test_classes = load_split(test_file, "test")
    if train_images.shape[1:] != test_images.shape[1:]:
        raise UserError(f"train images are {train_images.shape[1:]} but test images are "
                        f"{test_images.shape[1:]}; both files must hold the same image size")
    if classes != test_classes:
        raise UserError(f"train classes {classes} differ from test classes {test_classes}")
    X_train = standardize(flatten(train_images))  # (n_x, m_train)
    X_test = standardize(flatten(test_images))  # (n_x, m_test)
    Y_train = train_labels.reshape(1, -1)  # (1, m_train)
    Y_test = test_labels.reshape(1, -1)  # (1, m_test)
    assert X_train.shape[0] == X_test.shape[0] and Y_train.shape == (1, X_train.shape[1])
    return {
        "X_train": X_train, "Y_train": Y_train, "X_test": X_test, "Y_test": Y_test,
        "image_shape": np.array(train_images.shape[1:]), "classes": np.array(classes),
        "standardization": np.array(config.STANDARDIZATION),
        "train_sha256": np.array(sha256_of(train_file)),
        "test_sha256": np.array(sha256_of(test_file)),
    }


def is_course_data(data):
    """Whether features or params were made from the course's own two files (by sha256)."""
    return [str(data["train_sha256"]), str(data["test_sha256"])] == [
        config.SHA256[config.TRAIN_FILE.name], config.SHA256[config.TEST_FILE.name]]
