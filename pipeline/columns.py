"""X, the (n_x, m) columns, wherever it lives: the float64 array the course builds, or the pixels
themselves, uint8 rows (m, n_x) in memory or mapped from features.npz (np.memmap).

Pixels become floats only a block at a time, so a stage holds a few MB of float64 whatever m is,
never a float64 copy of X. The course's flatten makes this free: images.reshape(m, -1) is X in
Fortran order, so column j of X is row j of the pixels, and a mini-batch is a gather of
contiguous rows. Columns handed out (take: a mini-batch) are x / 255 in float64, the course's
values bit for bit; a product over all of X (W @ X, X.T @ X2) divides its outputs by 255.
Every function takes either kind (Columns): an array goes through the plain NumPy expression in
one piece, pixels by blocks of rows.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from pipeline.nn import cnn
from pipeline.nn.layers import L_model_scores
from pipeline.shapes import dims
from pipeline.threads import blas_threads, on_cores

PIXEL_SCALE = 255.0  # x / 255: the course's standardization
BLOCK_BYTES = 8 << 20  # float64 per block: large enough for BLAS, small beside the data
PARTS = 2  # ranges of pixel columns a pass sums separately, in parallel (over_blocks)

Floats = NDArray[np.float64]
Pixels = NDArray[np.uint8]
Indices = NDArray[np.intp] | Sequence[int]  # column numbers
Index = slice | Indices  # which columns: a slice or their numbers
Positions = slice | NDArray[np.intp]  # where a block's columns go among those asked for
Parameters = dict[str, Floats]  # the course's {"W1": (n_1, n_x), "b1": (n_1, 1), ...}
Blocks = Iterator[tuple[Positions, Floats]]  # (positions, block) of raw_blocks
T = TypeVar("T")


class PixelColumns:
    """The columns X (n_x, m) of uint8 pixel rows, standardized block by block.

    rows : (m0, n_x) uint8 rows: an array in memory, or mapped from a file (np.memmap)
    image_shape : (px, px, 3), for the mirrored half
    mirrored : if True, X has 2 m0 columns: the m0 images, then each one flipped left-right
    """

    def __init__(self, rows: Pixels, image_shape: Iterable[int], *,
                 mirrored: bool = False) -> None:
        self.rows, self.mirrored = rows, mirrored
        self.image_shape = tuple(int(s) for s in image_shape)
        m0, n_x = rows.shape
        if n_x != int(np.prod(self.image_shape)):
            raise ValueError(f"rows of shape {dims(rows.shape)} are not images of shape "
                             f"{self.image_shape}: expected {int(np.prod(self.image_shape))} "
                             "values a row")
        self.shape: tuple[int, int] = (n_x, m0 * (2 if mirrored else 1))

    def pixels(self, idx: Index, out: Pixels | None = None) -> Pixels:
        """uint8 rows (len, n_x) of the columns idx (a slice or an index array): a slice of
        rows is a view, rows gathered by an index array go into out if given (a reused buffer of
        at least len rows: a fresh one costs a page fault every 4 KB)."""
        if not self.mirrored:
            if out is None or isinstance(idx, slice):
                return self.rows[idx]
            return np.take(self.rows, np.asarray(idx), axis=0, out=out[:len(idx)])
        m0 = self.rows.shape[0]
        at = np.arange(*idx.indices(self.shape[1])) if isinstance(idx, slice) else np.asarray(idx)
        out = np.asarray(self.rows[at % m0])  # (len, n_x), a copy
        flip = at >= m0
        if flip.any():
            images = out[flip].reshape(-1, *self.image_shape)
            out[flip] = images[:, :, ::-1, :].reshape(int(flip.sum()), -1)
        return out

    def block_columns(self) -> int:
        return max(1, BLOCK_BYTES // (8 * self.shape[0]))


Columns = Floats | PixelColumns  # X (n_x, m), either way


def scale_of(X: Columns) -> float:
    """What raw_blocks' values are divided by to be X's: 255 for pixels, 1 for an array."""
    return PIXEL_SCALE if isinstance(X, PixelColumns) else 1.0


def take(X: Columns, idx: Index) -> Floats:
    """The float64 columns X[:, idx] (n_x, len): for pixels x / 255, the course's values."""
    if isinstance(X, PixelColumns):
        return (X.pixels(idx) / PIXEL_SCALE).T
    return X[:, idx]


def pixels_of(X: Columns, idx: Index) -> Pixels:
    """uint8 pixels (len, n_x) of the columns idx: what an image shows."""
    if isinstance(X, PixelColumns):
        return np.asarray(X.pixels(idx))
    return np.rint(X[:, idx].T * PIXEL_SCALE).astype(np.uint8)


def raw_blocks(X: Columns, idx: Indices | None = None) -> Iterator[tuple[slice, Floats]]:
    """(positions, block) over the columns idx (default all) of X times scale_of(X): block
    (n_x, b) float64 holds those of columns idx[positions]. An array is one block, itself;
    pixels are their integers 0..255 as floats (converting them is exact and twice as fast as
    dividing each by 255), in one reused buffer, valid only until the next block.

    A linear map takes the 1/255 on its few outputs instead: (W @ block) / 255 is W @ X's
    columns up to rounding in the last bit, which is all that summing in another order moves."""
    count = X.shape[1] if idx is None else len(idx)
    if not isinstance(X, PixelColumns):
        yield slice(0, count), (X if idx is None else X[:, idx])
        return
    size = X.block_columns()
    buffer = np.empty((size, X.shape[0]))  # (b, n_x): row-major, so the block is a view
    read = np.empty((size, X.shape[0]), dtype=np.uint8)  # (b, n_x), reused as well
    for start in range(0, count, size):
        where = slice(start, min(start + size, count))
        rows = X.pixels(where if idx is None else np.asarray(idx)[where], read)
        out = buffer[:len(rows)]
        np.copyto(out, rows)
        yield where, out.T


def in_parts(work: Callable[[Blocks], T], X: PixelColumns, idx: Indices | None) -> list[T]:
    """work(blocks) for PARTS ranges of the columns idx (default all), in order, blocks being
    raw_blocks' over that range: on as many threads as cores, up to PARTS (converting to
    float64 and the BLAS release the GIL), each under the caller's np.errstate (per thread) and
    on one BLAS thread of its own (threads.BLAS_THREADS["stream"]: the parts fill the cores)."""
    def run(positions: NDArray[np.intp]) -> T:
        return work((positions[where], block) for where, block in
                    raw_blocks(X, positions if idx is None else np.asarray(idx)[positions]))

    count = X.shape[1] if idx is None else len(idx)
    with blas_threads("stream"):
        return on_cores(run, np.array_split(np.arange(count), PARTS))


def over_blocks(step: Callable[[Positions, Floats], Floats], X: Columns,
                idx: Indices | None = None) -> Floats:
    """The sum of step(positions, block) over raw_blocks(X, idx): pixels in_parts, each part
    summed on its own and then the parts in order, the same sums on every machine."""
    def part_sum(blocks: Blocks) -> Floats | None:
        total = None
        for where, block in blocks:
            result = step(where, block)
            total = result if total is None else total + result
        return total

    if not isinstance(X, PixelColumns):
        return step(*next(raw_blocks(X, idx)))  # an array is one block
    sums = [s for s in in_parts(part_sum, X, idx) if s is not None]
    if not sums:  # no columns: the sum of nothing, in step's shape
        return step(np.arange(0), np.empty((X.shape[0], 0)))
    return sum(sums[1:], sums[0])


def matmul(W: Floats, X: Columns, idx: Indices | None = None) -> Floats:
    """W @ X[:, idx]: (r, n_x) @ (n_x, m) -> (r, m), by blocks (pixels in_parts)."""
    out = np.empty((W.shape[0], X.shape[1] if idx is None else len(idx)))

    def fill(blocks: Blocks) -> None:
        for where, block in blocks:
            out[:, where] = W @ block

    if isinstance(X, PixelColumns):
        in_parts(fill, X, idx)
    else:
        fill(raw_blocks(X, idx))
    out /= scale_of(X)
    return out


def matmul_transposed(D: Floats, X: Columns) -> Floats:
    """D @ X.T: (r, m) @ (m, n_x) -> (r, n_x), summed over blocks of columns."""
    if not isinstance(X, PixelColumns):
        return D @ X.T
    return over_blocks(lambda where, block: D[:, where] @ block.T, X) / PIXEL_SCALE


def model_scores(parameters: dict[str, Floats], X: Columns, idx: Indices | None = None
                 ) -> Floats:
    """zL (1, m) of the course's parameters {"W1", "b1", ..., "WL", "bL"} (one neuron: W1 (1,
    n_x)) on the columns idx of X: the first layer by blocks, the rest on its (n_1, m) output.
    A CNN's (nn.cnn.with_pools) takes blocks of images as they are stored, pixels as uint8."""
    if cnn.POOLS in parameters:
        at = np.arange(X.shape[1]) if idx is None else np.asarray(idx, dtype=np.intp)
        size = X.block_columns() if isinstance(X, PixelColumns) else max(len(at), 1)
        blocks = np.array_split(at, range(size, len(at), size))
        return np.concatenate([np.empty((1, 0)), *(  # pixels: uint8 (n_x, b), as stored
            cnn.scores(parameters, X.pixels(b).T if isinstance(X, PixelColumns) else X[:, b],
                       scale_of(X)) for b in blocks)], axis=1)
    scores: Floats = L_model_scores(X, parameters, first_layer=lambda W1: matmul(W1, X, idx))
    return scores


def gram(X: Columns, X2: Columns) -> Floats:
    """X.T @ X2: (m, n_x) @ (n_x, m2) -> (m, m2).

    For pixels the products of the integers 0..255 are summed exactly in float64 (at most
    n_x * 255^2, far below 2^53), then divided by 255^2 once: each entry is the exact value
    rounded once, whatever the summation order (X.T @ X in float64 rounds every product)."""
    if not isinstance(X, PixelColumns) and not isinstance(X2, PixelColumns):
        return X.T @ X2
    if not (isinstance(X, PixelColumns) and isinstance(X2, PixelColumns)):
        other = X if isinstance(X2, PixelColumns) else X2  # the array
        raise ValueError(f"gram of pixels needs pixels on both sides, got {type(other).__name__}")
    out = np.empty((X.shape[1], X2.shape[1]))
    size = X.block_columns()
    for start in range(0, X.shape[1], size):
        rows = X.pixels(slice(start, start + size)).astype(float)  # (b, n_x), integer values
        for where, block2 in raw_blocks(X2):
            out[start:start + len(rows), where] = rows @ block2
    out /= PIXEL_SCALE * PIXEL_SCALE
    return out


def flipped(X: Columns, image_shape: Iterable[int]) -> Columns:
    """X and then every column's image mirrored left-right: (n_x, m) -> (n_x, 2m)."""
    if isinstance(X, PixelColumns):
        return PixelColumns(X.rows, image_shape, mirrored=True)
    images = X.T.reshape(X.shape[1], *image_shape)[:, :, ::-1, :]
    return np.hstack([X, images.reshape(X.shape[1], -1).T])
