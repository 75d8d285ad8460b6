"""X, the (n_x, m) columns, wherever it lives: the float64 array the course builds, or the pixels
themselves, uint8 rows (m, n_x) in memory or mapped from features.npz (np.memmap).

Both kinds answer the same few questions (ArrayColumns, PixelColumns): the values stored for some
columns, their scale (X is stored / scale: 1, or 255 for the course's x / 255), and their walk in
float64 blocks; the functions below ask only those. An array is one block, itself: the plain
NumPy expression. Pixels become floats a block at a time, so a stage holds a few MB of float64
whatever m is. The course's flatten makes this free: images.reshape(m, -1) is X in Fortran
order, so column j of X is row j of the pixels, and a mini-batch is a gather of rows. A product
over pixels (W @ X, X.T @ X2) is taken on their integers, its few outputs divided by the scale.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from pipeline import config
from pipeline.nn import cnn
from pipeline.nn.layers import L_model_scores
from pipeline.shapes import Array, Pixels, dims
from pipeline.threads import blas_threads, on_cores

BLOCK_BYTES = 8 << 20  # float64 per block: large enough for BLAS, small beside the data
PARTS = 2  # ranges of pixel columns a pass sums separately, in parallel (over_blocks)

Indices = NDArray[np.intp] | Sequence[int]  # column numbers
Index = slice | Indices  # which columns: a slice or their numbers
Positions = slice | NDArray[np.intp]  # where a block's columns go among those asked for
Blocks = Iterator[tuple[slice, Array]]  # (positions, block) of raw_blocks
T = TypeVar("T")


def count(idx: Index, m: int) -> int:  # how many columns idx selects out of m
    return len(range(*idx.indices(m))) if isinstance(idx, slice) else len(idx)


class ArrayColumns:
    """The columns X (n_x, m) as the course builds them: a float64 array (scale 1), one block."""

    scale, parts = 1.0, 1

    def __init__(self, X: Array) -> None:
        self.X, self.shape = X, X.shape

    def stored(self, idx: Index, out: Pixels | None = None) -> Array:
        return self.X[:, idx]  # (n_x, len): a view for a slice

    def pixels(self, idx: Index, out: Pixels | None = None) -> Pixels:
        """The uint8 rows (len, n_x) an image of each column shows."""
        return np.rint(self.X[:, idx].T * config.PIXEL_SCALE).astype(np.uint8)

    def blocks(self, idx: Index) -> Blocks:
        yield slice(0, count(idx, self.shape[1])), self.X[:, idx]  # one block, X[:, idx] itself

    def block_columns(self) -> int:
        return max(1, int(self.shape[1]))

    def flipped(self, image_shape: Iterable[int]) -> Array:
        images = self.X.T.reshape(self.shape[1], *image_shape)[:, :, ::-1, :]
        return np.hstack([self.X, images.reshape(self.shape[1], -1).T])


class PixelColumns:
    """The columns X (n_x, m) of uint8 pixel rows, standardized block by block (scale 255).

    rows : (m0, n_x) uint8 rows: an array in memory, or mapped from a file (np.memmap)
    image_shape : (px, px, 3), for the mirrored half
    mirrored : if True, X has 2 m0 columns: the m0 images, then each one flipped left-right
    """

    scale, parts = config.PIXEL_SCALE, PARTS

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

    def stored(self, idx: Index, out: Pixels | None = None) -> Pixels:
        """The uint8 columns (n_x, len), a view of pixels(idx, out)."""
        return self.pixels(idx, out).T

    def blocks(self, idx: Index) -> Blocks:
        """Blocks of block_columns() columns as their integers 0..255 in float64 (converting
        is exact and twice as fast as dividing each by 255), in one reused buffer, valid only
        until the next block."""
        size, n_x = self.block_columns(), self.shape[0]
        buffer = np.empty((size, n_x))  # (b, n_x): row-major, so the block is a view
        read = np.empty((size, n_x), dtype=np.uint8)  # (b, n_x), reused as well
        total = count(idx, self.shape[1])
        first = (idx.start or 0) if isinstance(idx, slice) else 0
        for start in range(0, total, size):  # a slice idx has step 1 (in_parts' parts)
            where = slice(start, min(start + size, total))
            rows = self.pixels(slice(first + start, first + where.stop) if isinstance(
                idx, slice) else np.asarray(idx)[where], read)
            out = buffer[:len(rows)]
            np.copyto(out, rows)
            yield where, out.T

    def block_columns(self) -> int:
        return max(1, BLOCK_BYTES // (8 * self.shape[0]))

    def flipped(self, image_shape: Iterable[int]) -> "PixelColumns":
        return PixelColumns(self.rows, image_shape, mirrored=True)


Columns = Array | PixelColumns  # X (n_x, m), either way
Stored = ArrayColumns | PixelColumns


def as_columns(X: Columns) -> Stored:
    """X as one of the two kinds, which the functions below walk alike: an array is wrapped."""
    return X if isinstance(X, PixelColumns) else ArrayColumns(X)


def scale_of(X: Columns) -> float:
    """What raw_blocks' values are divided by to be X's: 255 for pixels, 1 for an array."""
    return as_columns(X).scale


def take(X: Columns, idx: Index) -> Array:
    """The float64 columns X[:, idx] (n_x, len): for pixels x / 255, the course's values."""
    C = as_columns(X)
    return C.stored(idx) / C.scale


def pixels_of(X: Columns, idx: Index) -> Pixels:
    """uint8 pixels (len, n_x) of the columns idx: what an image shows."""
    return np.asarray(as_columns(X).pixels(idx))


def raw_blocks(X: Columns, idx: Indices | None = None) -> Blocks:
    """(positions, block) over the columns idx (default all) of X times scale_of(X): block
    (n_x, b) float64 holds those of columns idx[positions] (an array: one block, itself).
    A linear map takes the 1/255 on its few outputs instead: (W @ block) / 255 is W @ X's
    columns up to rounding in the last bit, which is all that summing in another order moves."""
    return as_columns(X).blocks(slice(None) if idx is None else idx)


def in_parts(work: Callable[[Blocks], T], X: Columns, idx: Indices | None) -> list[T]:
    """work(blocks) for X's parts, in order (pixels: PARTS ranges of the columns idx, default
    all; an array: one), blocks being raw_blocks' over the part, positions among all of idx.
    The parts run on as many threads as cores (converting to float64 and the BLAS release the
    GIL), each on one BLAS thread (threads.BLAS_THREADS["stream"]: the parts fill the cores)."""
    C = as_columns(X)
    q, r = divmod(count(slice(None) if idx is None else idx, C.shape[1]), C.parts)
    bounds = [k * q + min(k, r) for k in range(C.parts + 1)]  # np.array_split's cuts

    def run(part: slice) -> T:
        columns = part if idx is None else np.asarray(idx)[part]
        return work((slice(part.start + where.start, part.start + where.stop), block)
                    for where, block in C.blocks(columns))

    with blas_threads("stream"):
        return on_cores(run, [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])


def over_blocks(step: Callable[[Positions, Array], Array], X: Columns,
                idx: Indices | None = None) -> Array:
    """The sum of step(positions, block) over raw_blocks(X, idx): in_parts, each part summed
    on its own and then the parts in order, the same sums on every machine."""
    def part_sum(blocks: Blocks) -> Array | None:
        total = None
        for where, block in blocks:
            result = step(where, block)
            total = result if total is None else total + result
        return total

    sums = [s for s in in_parts(part_sum, X, idx) if s is not None]
    if not sums:  # no columns: the sum of nothing, in step's shape
        return step(np.arange(0), np.empty((X.shape[0], 0)))
    return sum(sums[1:], sums[0])


def matmul(W: Array, X: Columns, idx: Indices | None = None) -> Array:
    """W @ X[:, idx]: (r, n_x) @ (n_x, m) -> (r, m), by blocks (pixels in_parts)."""
    out = np.empty((W.shape[0], X.shape[1] if idx is None else len(idx)))

    def fill(blocks: Blocks) -> None:
        for where, block in blocks:
            out[:, where] = W @ block

    in_parts(fill, X, idx)
    out /= scale_of(X)
    return out


def matmul_transposed(D: Array, X: Columns) -> Array:
    """D @ X.T: (r, m) @ (m, n_x) -> (r, n_x), summed over blocks of columns."""
    return over_blocks(lambda where, block: D[:, where] @ block.T, X) / scale_of(X)


def model_scores(parameters: dict[str, Array], X: Columns, idx: Indices | None = None
                 ) -> Array:
    """zL (1, m) of the course's parameters {"W1", "b1", ..., "WL", "bL"} (one neuron: W1 (1,
    n_x)) on the columns idx of X: the first layer by blocks, the rest on its (n_1, m) output.
    A CNN's (nn.cnn.with_pools) takes blocks of images as they are stored, pixels as uint8."""
    if cnn.POOLS in parameters:
        C = as_columns(X)
        at = np.arange(C.shape[1]) if idx is None else np.asarray(idx, dtype=np.intp)
        blocks = np.array_split(at, range(C.block_columns(), len(at), C.block_columns()))
        return np.concatenate([np.empty((1, 0)), *(
            cnn.scores(parameters, C.stored(b), C.scale) for b in blocks)], axis=1)
    scores: Array = L_model_scores(X, parameters, first_layer=lambda W1: matmul(W1, X, idx))
    return scores


def gram(X: Columns, X2: Columns) -> Array:
    """X.T @ X2: (m, n_x) @ (n_x, m2) -> (m, m2), block against block (arrays: one product).
    For pixels the products of the integers 0..255 are summed exactly in float64 (at most
    n_x * 255^2, far below 2^53), then divided by 255^2 once: each entry is the exact value
    rounded once, whatever the summation order (X.T @ X in float64 rounds every product)."""
    out = np.empty((X.shape[1], X2.shape[1]))
    for where, block in raw_blocks(X):  # each walk has a buffer of its own
        for where2, block2 in raw_blocks(X2):
            out[where, where2] = block.T @ block2
    out /= scale_of(X) * scale_of(X2)
    return out


def flipped(X: Columns, image_shape: Iterable[int]) -> Columns:
    """X and then every column's image mirrored left-right: (n_x, m) -> (n_x, 2m)."""
    return as_columns(X).flipped(image_shape)  # an array stays an array, pixels pixels
