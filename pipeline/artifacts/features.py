"""The features: the .h5 images checked, flattened to (n_x, m) columns and standardized, as the
course does it in memory (make_features, the lesson's path). features.npz, the stage's file,
keeps the pixels instead: see feature_file.py. What the two share is stated here once: how a
course .h5 is opened and checked (open_split), what a train and test file must agree on
(check_pair), and the arrays beside the pixels (feature_info)."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

from pipeline import config
from pipeline.artifacts.files import StrPath, available_memory, sha256_of
from pipeline.errors import UserError, short_reason

if TYPE_CHECKING:  # imported where a file is read: train and classify import this module
    import h5py

Shape = tuple[int, ...]
S = TypeVar("S", bound=np.generic)  # an array's scalar type, kept by flatten and unflatten

# A file whose pixels are declared but never written is a bomb, as Pillow calls an image whose
# size it refuses: HDF5 reads a chunk never written as its fill value, so an 18 KB .h5 declaring
# 400,000 images reads as 4.9 GB of zeros, and the features stage writes them all. Refused
# where the declared pixels exceed the bytes stored for them more than SPARSE_LIMIT times.
# Why a thousandfold: real photos shrink a few times at most under any lossless filter (the
# course's images 1.14x under gzip -9), and deflate can never pass 1032:1, so only images of
# one colour come near it (measured: 1001x to 1024x for all-black images in gzip chunks of 64
# images or more, 351x in chunks of one); such images teach nothing, and the way out is
# --allow-sparse. A file of never-written chunks stores nothing, or a few chunks of the many it
# declares; and a file that passes makes the features stage write at most 1000 times the bytes
# it stores.
SPARSE_LIMIT = 1000

class Split(NamedTuple):
    """One open course .h5 file, checked: images(a, b) reads images a..b-1 as
    (b - a, px, px, 3) uint8; shape is (m, px, px, 3); labels (m,) int64 of 0 and 1; classes the
    two class names (str)."""

    path: Path
    name: str
    images: Callable[[int, int], NDArray[np.uint8]]
    shape: Shape
    labels: NDArray[np.int64]
    classes: list[str]


def load_split(path: StrPath, split: str, allow_sparse: bool = False
               ) -> tuple[NDArray[np.uint8], NDArray[np.int64], list[str]]:
    """Images, labels and class names from one course .h5 file, checked before use.

    Every declared shape and dtype is checked before a pixel is read, and any failure of h5py on
    a damaged file becomes one UserError naming the file.

    Returns
    -------
    images : ndarray of shape (m, px, px, 3), uint8
    labels : ndarray of shape (m,), int64, only 0 and 1
    classes : list of str, e.g. ["non-cat", "cat"]
    """
    def fits(shape: Shape) -> None:
        check_fits_in_memory(path, f"{split}_set_x", shape)

    with open_split(path, split, fits, allow_sparse) as s:
        return s.images(0, s.shape[0]), s.labels, s.classes


@contextmanager
def open_split(path: StrPath, split: str, check: Callable[[Shape], None] | None = None,
               allow_sparse: bool = False) -> Iterator[Split]:
    """The course .h5 file at path, open and checked, as a Split. check(shape), if given, may
    refuse the declared shape before anything is read; a file storing a thousandth of the
    pixels it declares is refused unless allow_sparse. A failure of h5py on a damaged file,
    while opening or reading, is one UserError naming the file."""
    path = Path(path)
    course = path.resolve().parent == config.RAW_DIR.resolve()
    fix = "run `make data` to fetch it again" if course else "rebuild it with `make dataset`"
    if not path.is_file():
        raise UserError(f"{path} not found; {fix}")
    import h5py  # here, not at the top: train and classify import this module but read no .h5

    def damaged(err: Exception) -> UserError:
        return UserError(f"{path} is not a readable HDF5 file ({short_reason(err)}); {fix}")

    try:  # h5py meets damage with any of a dozen exception types
        h5 = h5py.File(path, "r")
    except Exception as err:
        raise damaged(err) from None
    with h5:
        try:
            x, labels, classes = course_arrays(h5, path, split, check, allow_sparse)
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

        def images(start: int, stop: int) -> NDArray[np.uint8]:
            try:
                return np.asarray(x[start:stop], dtype=np.uint8)  # uint8 already: no copy
            except Exception as err:
                raise damaged(err) from None

        yield Split(path, split, images, x.shape, labels.astype(np.int64), names)


def course_arrays(h5: "h5py.File", path: Path, split: str,
                  check: Callable[[Shape], None] | None = None, allow_sparse: bool = False
                  ) -> tuple["h5py.Dataset", NDArray[Any], NDArray[Any]]:
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
    if not allow_sparse:  # first: a bomb is no reason to free memory or disk for it
        check_not_sparse(path, keys[0], x)
    if check:
        check(x.shape)
    return x, np.ravel(y[()]), np.ravel(c[()])


def check_not_sparse(path: Path, key: str, dataset: "h5py.Dataset") -> None:
    """Refuse, before reading, an HDF5 dataset storing under 1/SPARSE_LIMIT of what it declares."""
    declared = dataset.size * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()  # the bytes of its chunks written, compressed or not
    if declared > SPARSE_LIMIT * stored:
        ratio = f"{declared / stored:,.0f} times fewer" if stored else "an unbounded ratio"
        raise UserError(f"{path}: {key} declares {dataset.shape[0]:,} images "
                        f"({declared:,} bytes of pixels) but stores {stored:,} bytes of them "
                        f"({ratio}, over the {SPARSE_LIMIT:,}x limit: chunks never written read "
                        "as zeros); write its images, or add --allow-sparse if that is what you "
                        "mean")


def check_fits_in_memory(path: StrPath, key: str, shape: Shape) -> None:
    """Refuse, without allocating, images whose features would not fit in the memory left."""
    m, n_x = shape[0], int(np.prod(shape[1:], dtype=np.int64))
    needed = m * n_x * (1 + 8)  # the uint8 pixels, then the float64 columns
    available = available_memory()
    if needed > available:
        raise UserError(f"{path}: {key} declares shape {tuple(shape)}, whose features need "
                        f"{needed / 1e9:.1f} GB; only {available / 1e9:.1f} GB of memory is free")


def check_pair(train: Split, test: Split) -> None:
    """What the train and test files (Splits) must be to make features: images of one size,
    the same two classes, at least one image each."""
    if train.shape[1:] != test.shape[1:]:
        raise UserError(f"train images are {train.shape[1:]} but test images are "
                        f"{test.shape[1:]}; both files must hold the same image size")
    if train.classes != test.classes:
        raise UserError(f"train classes {train.classes} differ from test classes "
                        f"{test.classes}")
    for split in (train, test):
        if split.shape[0] < 1:
            raise UserError(f"{split.path}: {split.name}_set_x holds no images; it needs at "
                            "least one")


def feature_info(train: Split, test: Split) -> dict[str, NDArray[Any]]:
    """The arrays features hold beside X and Y, from the checked Splits: the image shape, the
    class names, the standardization and the two files' sha256."""
    return {"image_shape": np.array(train.shape[1:]), "classes": np.array(train.classes),
            "standardization": np.array(config.STANDARDIZATION),
            "train_sha256": np.array(sha256_of(train.path)),
            "test_sha256": np.array(sha256_of(test.path))}


def flatten(images: NDArray[S]) -> NDArray[S]:
    """(m, px, px, 3) images -> (n_x, m) columns; column j is image j raveled."""
    if images.ndim < 2:
        raise ValueError(f"flatten takes images (m, ...), not an array of shape {images.shape}")
    m = images.shape[0]
    return images.reshape(m, int(np.prod(images.shape[1:]))).T  # (n_x, m)


def unflatten(X: NDArray[S], image_shape: Sequence[int]) -> NDArray[S]:
    """(n_x, m) columns -> images of shape ``(m, *image_shape)``: the inverse of flatten."""
    return X.T.reshape(X.shape[1], *image_shape)


def standardize(X: NDArray[Any]) -> NDArray[np.float64]:
    """Pixel values 0..255 -> floats in [0, 1], as the course does."""
    return X / config.PIXEL_SCALE


def unstandardize(X: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Floats in [0, 1] back to uint8 pixels (exact for standardized uint8 values)."""
    return np.rint(X * config.PIXEL_SCALE).astype(np.uint8)


def make_features(train_file: StrPath, test_file: StrPath,
                  allow_sparse: bool = False) -> dict[str, Any]:
    """In memory, the arrays features.npz holds, from the two .h5 files: X as float64 columns."""
    def open_(path: StrPath, split: str) -> AbstractContextManager[Split]:
        return open_split(path, split, lambda shape: check_fits_in_memory(
            path, f"{split}_set_x", shape), allow_sparse)

    with open_(train_file, "train") as train, open_(test_file, "test") as test:
        check_pair(train, test)
        arrays: dict[str, NDArray[Any]] = {}
        for s in (train, test):
            arrays[f"X_{s.name}"] = standardize(flatten(s.images(0, s.shape[0])))  # (n_x, m)
            arrays[f"Y_{s.name}"] = s.labels.reshape(1, -1)  # (1, m)
        return {**arrays, **feature_info(train, test)}

