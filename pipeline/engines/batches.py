"""A mini-batch's columns of X, gathered when it comes (pipeline.columns): from pixels each column
is one contiguous uint8 row, so a batch is a gather of rows and X is never copied.

Pixels stay uint8 here: a batch's rows are read into one of two reused buffers (64 images are
786 KB), the next batch's on a second thread while this one is used, and handed on as their
integers 0..255. The model converts them to float64 a few images at a time
(nn.layers.image_parts) and takes the 1/255 on its first layer's products (nn.layers.propagate's
pixel_scale), as the full-batch step does (columns.matmul).
"""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from pipeline.columns import Columns, as_columns
from pipeline.shapes import Array, Parameters, Pixels

Batch = NDArray[np.intp]  # column numbers
# (parameters, X, Y, l2, *, pixel_scale) -> (cost, grads, ZL) on the columns X / pixel_scale:
# nn.layers.propagate's kind. The loop passes pixel_scale (255) only for pixels' integers.
Propagate = Callable[..., tuple[float, Parameters, Array]]


def gathered(X: Columns, batches: Iterable[Batch]) -> Iterator[tuple[Batch, Array | Pixels]]:
    """(batch, columns) for each index array in turn, the columns being X[:, batch] times
    scale_of(X): for an array take(X, batch); for pixels their uint8 integers (n_x, len), a view
    of one of two buffers (use it before asking for the next batch).

    The next batch is read on a second thread while the caller works on this one: reading 64
    rows scattered over the mapped file is about a sixth of an Adam epoch at 25,000 images, and
    np.take releases the GIL. The two buffers take turns, so the one being read is never the one
    the caller holds."""
    stored, buffers = as_columns(X).stored, [np.empty((0, X.shape[0]), dtype=np.uint8)] * 2

    def read(batch: Batch, k: int) -> Array | Pixels:  # into buffer k, grown when too small
        if len(buffers[k]) < len(batch):  # (b, n_x) pixels: row-major, its .T a view
            buffers[k] = np.empty((len(batch), X.shape[0]), dtype=np.uint8)
        return stored(batch, buffers[k])  # an array's columns are a copy of their own

    batches = iter(batches)
    batch = next(batches, None)
    with ThreadPoolExecutor(1) as reader:  # on leaving, waits for a read still running
        pending, k = reader.submit(read, batch, 0) if batch is not None else None, 0
        while batch is not None and pending is not None:
            columns = pending.result()  # raises what the read raised
            following = next(batches, None)
            if following is not None:
                pending = reader.submit(read, following, 1 - k)
            yield batch, columns
            batch, k = following, 1 - k
