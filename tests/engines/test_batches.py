"""engines/batches.py: a batch's columns, from pixels as their uint8 integers in one reused
buffer."""

import numpy as np
from course_oracles import pixel_data

from pipeline.columns import PixelColumns
from pipeline.engines.batches import gathered


def test_pixel_batches_are_their_uint8_integers_in_one_reused_buffer():
    pixels, X, _ = pixel_data(m=20, px=2)
    batches = [np.array([3, 1, 4, 15, 9]), np.array([2, 6]), np.array([5, 19, 0])]
    seen = [(batch, columns.copy(), columns) for batch, columns in gathered(pixels, batches)]
    for (batch, values, view), want in zip(seen, batches, strict=True):
        assert batch is want and values.shape == (12, len(batch)) and values.dtype == np.uint8
        np.testing.assert_array_equal(values, pixels.rows[batch].T)
        assert view.base is seen[0][2].base  # one buffer, overwritten batch after batch
    for batch, columns in gathered(X, batches):  # an array: its own columns, x / 255
        np.testing.assert_array_equal(columns, X[:, batch])


def test_mirrored_pixels_gather_their_flipped_images():
    pixels, _, _ = pixel_data(m=6, px=2)
    mirrored = PixelColumns(pixels.rows, pixels.image_shape, mirrored=True)
    (_, columns), = gathered(mirrored, [np.array([7, 1])])
    flipped = pixels.rows[1].reshape(2, 2, 3)[:, ::-1, :].reshape(-1)
    np.testing.assert_array_equal(columns, np.stack([flipped, pixels.rows[1]], axis=1))
