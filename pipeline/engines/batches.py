"""A mini-batch's columns of X, gathered when it comes (pipeline.columns): from pixels each column
is one contiguous uint8 row, so a batch is a gather of rows and X is never copied.

Pixels come at the memory bus: a batch's rows are read into a reused uint8 buffer and converted
to float64 in a reused buffer, as their integers 0..255 (exact, and half the cost of dividing
each by 255). The model takes the 1/255 on its first layer's products (nn.layers.propagate's
scale), as the full-batch step does (columns.times).
"""

from collections.abc import Iterable, Iterator
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from pipeline.columns import Columns, Floats, Parameters, PixelColumns, take

Batch = NDArray[np.intp]  # column numbers


class Propagate(Protocol):
    """(parameters, X, Y, l2) -> (cost, grads, ZL) on the columns X / scale: nn.layers.propagate's
    kind. The loop passes scale (255) only for pixels, whose batches come as integers."""
    def __call__(self, parameters: Parameters, X: Floats, Y: Floats, l2: float, /, *,
                 scale: float = ...) -> tuple[float, Parameters, Floats]: ...


def gathered(X: Columns, batches: Iterable[Batch]) -> Iterator[tuple[Batch, Floats]]:
    """(batch, columns) for each index array in turn, the columns being X[:, batch] times
    scale_of(X): for an array take(X, batch); for pixels their integers as float64 (n_x, len),
    a view of a buffer that the next batch overwrites (use it before asking for the next)."""
    if not isinstance(X, PixelColumns):
        yield from ((batch, take(X, batch)) for batch in batches)
        return
    read: NDArray[np.uint8] | None = None
    values: Floats | None = None
    for batch in batches:
        if values is None or len(values) < len(batch):  # (b, n_x): row-major, its .T a view
            read = np.empty((len(batch), X.shape[0]), dtype=np.uint8)
            values = np.empty((len(batch), X.shape[0]))
        out = values[:len(batch)]
        np.copyto(out, X.pixels(batch, read))
        yield batch, out.T
