"""X, the (n_x, m) columns, wherever it lives: the float64 array the course builds, or the pixels
themselves, uint8 rows (m, n_x) in memory or read from features.npz a block at a time.

Pixels become floats only a block at a time, so a stage holds a few MB of float64 whatever m is,
never a float64 copy of X. The course's flatten makes this free: images.reshape(m, -1) is X in
Fortran order, so column j of X is row j of the pixels, and a mini-batch is a gather of
contiguous rows. Columns handed out (take: a mini-batch) are x / 255 in float64, the course's
values bit for bit; a product over all of X (W @ X, X.T @ X2) divides its outputs by 255.

Every function takes either kind. An array goes through the plain NumPy expression in one piece
(W @ X, X.T @ X2, ...), exactly as before; pixels go by blocks of rows.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pipeline.nn.layers import L_model_scores
from pipeline.shapes import dims
from pipeline.threads import stream_workers

PIXEL_SCALE = 255.0  # x / 255: the course's standardization
BLOCK_BYTES = 8 << 20  # float64 per block: large enough for BLAS, small beside the data
PARTS = 2  # ranges of pixel columns a pass sums separately, in parallel (over_blocks)


class PixelColumns:
    """The columns X (n_x, m) of uint8 pixel rows, standardized block by block.

    rows : (m0, n_x) uint8 rows: an array, or a RowFile (artifacts.pixels) read on demand
    image_shape : (px, px, 3), for the mirrored half
    mirrored : if True, X has 2 m0 columns: the m0 images, then each one flipped left-right
    """

    def __init__(self, rows, image_shape, *, mirrored=False):
        self.rows, self.mirrored = rows, mirrored
        self.image_shape = tuple(int(s) for s in image_shape)
        m0, n_x = rows.shape
        if n_x != int(np.prod(self.image_shape)):
            raise ValueError(f"rows of shape {dims(rows.shape)} are not images of shape "
                             f"{self.image_shape}: expected {int(np.prod(self.image_shape))} "
                             "values a row")
        self.shape = (n_x, m0 * (2 if mirrored else 1))

    def pixels(self, idx, out=None):
        """uint8 rows (len, n_x) of the columns idx (a slice or an index array); rows read from
        a file go into out if given (a reused buffer of at least len rows)."""
        if not self.mirrored:
            return self.rows[idx] if isinstance(self.rows, np.ndarray) else \
                self.rows.take(idx, out)
        m0 = self.rows.shape[0]
        idx = np.arange(*idx.indices(self.shape[1])) if isinstance(idx, slice) else np.asarray(idx)
        out = np.asarray(self.rows[idx % m0])  # (len, n_x), a copy
        flip = idx >= m0
        if flip.any():
            images = out[flip].reshape(-1, *self.image_shape)
            out[flip] = images[:, :, ::-1, :].reshape(int(flip.sum()), -1)
        return out

    def block_columns(self):
        return max(1, BLOCK_BYTES // (8 * self.shape[0]))


def is_pixels(X):
    return isinstance(X, PixelColumns)


def scale_of(X):
    """What raw_blocks' values are divided by to be X's: 255 for pixels, 1 for an array."""
    return PIXEL_SCALE if is_pixels(X) else 1.0


def take(X, idx):
    """The float64 columns X[:, idx] (n_x, len): for pixels x / 255, the course's values."""
    if is_pixels(X):
        return (X.pixels(idx) / PIXEL_SCALE).T
    return X[:, idx]


def gathered(X, batches):
    """(batch, take(X, batch)) for each index array in turn. For pixels a second thread reads
    and divides the next batch while the caller works on this one (reading and dividing
    release the GIL): an Adam step then costs about the larger of the two, not their sum."""
    batches = list(batches)
    if not is_pixels(X) or not batches:
        yield from ((batch, X[:, batch]) for batch in batches)
        return
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(take, X, batches[0])
        for k, batch in enumerate(batches):
            X_batch = pending.result()
            if k + 1 < len(batches):
                pending = pool.submit(take, X, batches[k + 1])
            yield batch, X_batch


def pixels_of(X, idx):
    """uint8 pixels (len, n_x) of the columns idx: what an image shows."""
    if is_pixels(X):
        return np.asarray(X.pixels(idx))
    return np.rint(X[:, idx].T * PIXEL_SCALE).astype(np.uint8)


def raw_blocks(X, idx=None):
    """(positions, block) over the columns idx (default all) of X times scale_of(X): block
    (n_x, b) float64 holds those of columns idx[positions]. An array is one block, itself;
    pixels are their integers 0..255 as floats (converting them is exact and twice as fast as
    dividing each by 255), in one reused buffer, so a block is valid only until the next.

    A linear map takes the 1/255 on its few outputs instead: (W @ block) / 255 is W @ X's
    columns up to rounding in the last bit, which is all that summing in another order moves."""
    count = X.shape[1] if idx is None else len(idx)
    if not is_pixels(X):
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


def over_blocks(step, X, idx=None):
    """The sum of step(positions, block) over raw_blocks(X, idx), None counting as nothing.

    Pixels go in PARTS ranges of positions, each summed on its own, by as many threads as there
    are cores (up to PARTS; converting to float64 and the BLAS release the GIL): the same sums
    in the same order on every machine. An array is one block and one call."""
    count = X.shape[1] if idx is None else len(idx)
    if not is_pixels(X):
        return step(slice(0, count), X if idx is None else X[:, idx])

    caller = np.geterr()  # np.errstate is per thread: the caller's holds in the workers too

    def part_sum(positions):
        total = None
        with np.errstate(**caller):
            for where, block in raw_blocks(X, positions if idx is None else
                                           np.asarray(idx)[positions]):
                result = step(positions[where], block)
                total = result if total is None else total if result is None else total + result
        return total

    with ThreadPoolExecutor(stream_workers(PARTS)) as pool:
        sums = [s for s in pool.map(part_sum, np.array_split(np.arange(count), PARTS))
                if s is not None]
    return sum(sums[1:], sums[0]) if sums else None


def times(W, X, idx=None):
    """W @ X[:, idx]: (r, n_x) @ (n_x, m) -> (r, m), by blocks."""
    out = np.empty((W.shape[0], X.shape[1] if idx is None else len(idx)))

    def step(where, block):
        out[:, where] = W @ block

    over_blocks(step, X, idx)
    out /= scale_of(X)
    return out


def times_transposed(D, X):
    """D @ X.T: (r, m) @ (m, n_x) -> (r, n_x), summed over blocks of columns."""
    if not is_pixels(X):
        return D @ X.T
    return over_blocks(lambda where, block: D[:, where] @ block.T, X) / PIXEL_SCALE


def model_scores(parameters, X, idx=None):
    """zL (1, m) of the course's parameters {"W1", "b1", ..., "WL", "bL"} (one neuron: W1 (1,
    n_x)) on the columns idx of X: the first layer by blocks, the rest on its (n_1, m) output."""
    return L_model_scores(X, parameters, first_layer=lambda W1: times(W1, X, idx))


def gram(X, X2):
    """X.T @ X2: (m, n_x) @ (n_x, m2) -> (m, m2).

    For pixels the products of the integers 0..255 are summed exactly in float64 (at most
    n_x * 255^2, far below 2^53), then divided by 255^2 once: each entry is the exact value
    rounded once, whatever the summation order (X.T @ X in float64 rounds every product)."""
    if not is_pixels(X):
        return X.T @ X2
    if not is_pixels(X2):
        raise ValueError(f"gram of pixels needs pixels on both sides, got {type(X2).__name__}")
    out = np.empty((X.shape[1], X2.shape[1]))
    size = X.block_columns()
    for start in range(0, X.shape[1], size):
        rows = X.pixels(slice(start, start + size)).astype(float)  # (b, n_x), integer values
        for where, block2 in raw_blocks(X2):
            out[start:start + len(rows), where] = rows @ block2
    out /= PIXEL_SCALE * PIXEL_SCALE
    return out


def flipped(X, image_shape):
    """X and then every column's image mirrored left-right: (n_x, m) -> (n_x, 2m)."""
    if is_pixels(X):
        return PixelColumns(X.rows, image_shape, mirrored=True)
    images = X.T.reshape(X.shape[1], *image_shape)[:, :, ::-1, :]
    return np.hstack([X, images.reshape(X.shape[1], -1).T])


KEY_VALUES = 64  # values of a column, evenly spaced, in its key


def column_keys(X):
    """A cheap key for each column, in order: KEY_VALUES of its values evenly spread over the
    image (pixels: of its uint8 row, and their exact sum), from one pass by blocks. Equal
    columns have equal keys; columns with equal keys are to be compared in full (hashing every
    row took 1 s at 25,000 images). Floats are not summed: the order of a sum moves its bits."""
    def keys(rows):  # (b, n_x), one column a row
        sample = np.ascontiguousarray(rows[:, ::max(1, rows.shape[1] // KEY_VALUES)])
        sums = rows.sum(axis=1, dtype=np.int64).tolist() if rows.dtype == np.uint8 else \
            [0] * len(rows)
        return [(total, values.tobytes()) for total, values in zip(sums, sample, strict=True)]

    if not is_pixels(X):
        return keys(X.T)
    size = X.block_columns()
    return [key for start in range(0, X.shape[1], size)
            for key in keys(np.asarray(X.pixels(slice(start, start + size))))]
