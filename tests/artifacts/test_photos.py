"""Photos -> columns: a photo fitted to the model's square, and a model's image shape that is
not square RGB a ValueError with the shapes."""

import numpy as np
import pytest
from PIL import Image

from pipeline.artifacts import photos
from pipeline.artifacts.photos import photo_column


def test_a_photo_becomes_its_pixels_and_the_standardized_column():
    photo = Image.fromarray(np.arange(60 * 40 * 3, dtype=np.uint8).reshape(40, 60, 3))
    pixels, x = photo_column(photo, (8, 8, 3), "squash")
    assert pixels.shape == (8, 8, 3) and pixels.dtype == np.uint8
    assert x.shape == (192, 1)
    np.testing.assert_array_equal(x[:, 0], pixels.ravel() / 255.0)


def test_an_image_shape_not_square_rgb_is_a_value_error():
    photo = Image.new("RGB", (30, 20))
    with pytest.raises(ValueError, match=r"images of shape \(8, 8, 1\) are not square RGB; "
                                         r"fitted, the photo is \(8, 8, 3\)"):
        photo_column(photo, (8, 8, 1), "crop")


def test_sixteen_bit_grey_is_scaled_not_clipped():
    grey = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    rgb = np.asarray(photos.to_rgb(Image.fromarray(grey)))
    assert rgb[0, :, 0].tolist() == [0, 100, 255] and rgb.shape == (1, 3, 3)


def test_alpha_is_composited_on_white():
    clear = Image.new("RGBA", (2, 2), (0, 0, 0, 0))
    assert np.asarray(photos.to_rgb(clear)).min() == 255
