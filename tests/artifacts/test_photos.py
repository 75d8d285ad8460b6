"""Photos -> columns: a photo fitted to the model's square, and a model's image shape that is
not square RGB a ValueError with the shapes."""

import numpy as np
import pytest
from PIL import Image

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
