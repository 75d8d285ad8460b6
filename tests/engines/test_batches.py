"""engines/batches.py: a batch's columns, from pixels as their uint8 integers in two reused
buffers, the next batch read on a second thread."""

import threading

import numpy as np
import pytest
from course_oracles import pixel_data

from pipeline.columns import PixelColumns
from pipeline.engines.batches import gathered


def test_pixel_batches_are_their_uint8_integers_in_two_buffers_in_turn():
    pixels, X, _ = pixel_data(m=20, px=2)
    batches = [np.array([3, 1, 4, 15, 9]), np.array([2, 6]), np.array([5, 19, 0]),
               np.array([8, 7])]
    seen = []
    for batch, columns in gathered(pixels, batches):
        seen.append((batch, columns.copy(), columns))
        # while the caller holds this batch, the next one is read into the other buffer
        np.testing.assert_array_equal(columns, pixels.rows[batch].T)
    for (batch, values, _), want in zip(seen, batches, strict=True):
        assert batch is want and values.shape == (12, len(batch)) and values.dtype == np.uint8
        np.testing.assert_array_equal(values, pixels.rows[batch].T)
    bases = [view.base for _, _, view in seen]
    assert bases[0] is bases[2] and bases[1] is bases[3] and bases[0] is not bases[1]
    for batch, columns in gathered(X, batches):  # an array: its own columns, x / 255
        np.testing.assert_array_equal(columns, X[:, batch])


def test_mirrored_pixels_gather_their_flipped_images():
    pixels, _, _ = pixel_data(m=6, px=2)
    mirrored = PixelColumns(pixels.rows, pixels.image_shape, mirrored=True)
    (_, columns), = gathered(mirrored, [np.array([7, 1])])
    flipped = pixels.rows[1].reshape(2, 2, 3)[:, ::-1, :].reshape(-1)
    np.testing.assert_array_equal(columns, np.stack([flipped, pixels.rows[1]], axis=1))


class Unreadable(Exception):
    pass


def test_a_failed_read_reaches_the_caller_and_no_reader_is_left_running(monkeypatch):
    pixels, _, _ = pixel_data(m=20, px=2)
    real = pixels.stored

    def stored(batch, out=None):
        if 13 in batch:
            raise Unreadable("batch with column 13")
        return real(batch, out)

    monkeypatch.setattr(pixels, "stored", stored)
    threads = threading.active_count()
    batches = gathered(pixels, [np.array([1, 2]), np.array([13, 4]), np.array([5])])
    batch, _ = next(batches)
    assert batch.tolist() == [1, 2]
    with pytest.raises(Unreadable):
        next(batches)
    assert threading.active_count() == threads  # the reader joined, not left behind
    stopped = gathered(pixels, [np.array([1]), np.array([2]), np.array([3])])
    next(stopped)
    stopped.close()  # a caller that stops early (Ctrl-C) waits for the read in flight
    assert threading.active_count() == threads
