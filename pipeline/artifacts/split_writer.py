"""A split of a dataset in the course's layout: its images and labels appended a block at a time
to resizable HDF5 datasets, {split}_set_x (m, size, size, 3) uint8 and {split}_set_y (m,) int64."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # h5py is imported where an .h5 is written
    import h5py

BLOCK = 64  # photos per HDF5 write (and per chunk): a block of 64x64 RGB is 768 KB


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
