"""A mini-batch's columns of X, gathered when it comes (pipeline.columns): from pixels each column
is one contiguous uint8 row, so a batch is a gather of rows and X is never copied.

Pixels stay uint8 here: a batch's rows are read into one reused buffer (64 images are 786 KB)
and handed on as their integers 0..255. The model converts them to float64 a few images at a
time (nn.layers.image_parts) and takes the 1/255 on its first layer's products
(nn.layers.propagate's pixel_scale), as the full-batch step does (columns.matmul).
"""

from collections.abc import Callable, Iterable, Iterator

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
    of a buffer that the next batch overwrites (use it before asking for the next)."""
    stored, read = as_columns(X).stored, None
    for batch in batches:
        if read is None or len(read) < len(batch):  # (b, n_x) pixels: row-major, its .T a view
            read = np.empty((len(batch), X.shape[0]), dtype=np.uint8)
        yield batch, stored(batch, read)  # an array's columns are a copy of their own
