"""A mini-batch's columns of X, gathered when it comes (pipeline.columns): from pixels each column
is one contiguous uint8 row, so a batch is a gather of rows and X is never copied."""

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from pipeline.columns import Columns, Floats, PixelColumns, take


def gathered(X: Columns, batches: Iterable[NDArray[np.intp]]
             ) -> Iterator[tuple[NDArray[np.intp], Floats]]:
    """(batch, take(X, batch)) for each index array in turn. For pixels a second thread reads
    and divides the next batch while the caller works on this one (reading and dividing
    release the GIL): an Adam step then costs about the larger of the two, not their sum."""
    listed = list(batches)
    if not isinstance(X, PixelColumns) or not listed:
        yield from ((batch, take(X, batch)) for batch in listed)
        return
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(take, X, listed[0])
        for k, batch in enumerate(listed):
            X_batch = pending.result()
            if k + 1 < len(listed):
                pending = pool.submit(take, X, listed[k + 1])
            yield batch, X_batch
