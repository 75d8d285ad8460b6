"""Writing splits a block of images at a time, so that memory holds a block whatever m is: a
photo dataset's split into the course's .h5 layout (SplitWriter: {split}_set_x (m, size, size,
3) uint8 and {split}_set_y (m,) int64, appended to resizable HDF5 datasets), and the course's two
.h5 splits into features.npz (write_features: uint8 pixel rows (m, n_x) stored uncompressed, the
layout artifacts.feature_file maps)."""

import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pipeline.artifacts.features import Shape, Split, check_pair, feature_info, open_split
from pipeline.artifacts.files import StrPath, atomic_path
from pipeline.errors import UserError

if TYPE_CHECKING:  # h5py is imported where an .h5 is written
    import h5py

BLOCK = 64  # photos per HDF5 write (and per chunk): a block of 64x64 RGB is 768 KB
CHUNK = 1024  # images read from the .h5 and written at a time by write_features


class SplitWriter:
    """A split's images and labels, appended in blocks to resizable HDF5 datasets."""

    def __init__(self, h5: "h5py.File", split: str, size: int) -> None:
        self.x = h5.create_dataset(f"{split}_set_x", shape=(0, size, size, 3), dtype=np.uint8,
                                   maxshape=(None, size, size, 3), chunks=(BLOCK, size, size, 3))
        self.y = h5.create_dataset(f"{split}_set_y", shape=(0,), dtype=np.int64,
                                   maxshape=(None,), chunks=(BLOCK,))
        self.images: list[NDArray[np.uint8]] = []
        self.labels: list[int] = []
        self.count = 0

    def append(self, pixels: NDArray[np.uint8], label: int) -> None:
        self.images.append(pixels)
        self.labels.append(label)
        self.count += 1
        if len(self.images) == BLOCK:
            self.flush()

    def flush(self) -> None:
        if not self.images:
            return
        start, n = self.x.shape[0], len(self.images)
        self.x.resize(start + n, axis=0)
        self.y.resize(start + n, axis=0)
        self.x[start:] = np.stack(self.images)  # (n, size, size, 3)
        self.y[start:] = self.labels
        self.images, self.labels = [], []


def write_features(train_file: StrPath, test_file: StrPath, out: StrPath,
                   on_progress: Callable[[int], object] | None = None,
                   allow_sparse: bool = False) -> tuple[Shape, Shape]:
    """features.npz from the two .h5 files, streamed CHUNK images at a time, written atomically:
    the one writer of the format, whose members feature_file.load_features reads.

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


def write_rows_member(archive: zipfile.ZipFile, name: str, shape: tuple[int, int],
                      chunks: Iterable[NDArray[np.uint8]]) -> None:
    """Write an (m, n_x) uint8 .npy member into an open ZipFile from the chunks, each (b, n_x)."""
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        header = {"descr": "|u1", "fortran_order": False, "shape": tuple(shape)}
        np.lib.format.write_array_header_1_0(member, header)
        written = 0
        for chunk in chunks:
            chunk = np.ascontiguousarray(chunk, dtype=np.uint8)
            if chunk.ndim != 2 or chunk.shape[1] != shape[1] or written + len(chunk) > shape[0]:
                raise ValueError(f"{name}: a chunk of shape {chunk.shape} after {written} rows "
                                 f"does not continue rows of shape {tuple(shape)}")
            member.write(chunk.tobytes())
            written += len(chunk)
        if written != shape[0]:  # the header is written: the member would lie about its length
            raise ValueError(f"{name}: the chunks hold {written} rows, the shape says "
                             f"{tuple(shape)}")


def write_array_member(archive: zipfile.ZipFile, name: str, array: ArrayLike) -> None:
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
