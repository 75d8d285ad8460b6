"""Photos -> columns: any image file opened upright in RGB, fitted to the model's square, and
flattened and standardized as the course's images are; folders searched for photos."""

import logging
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.artifacts.features import flatten, standardize
from pipeline.artifacts.files import StrPath
from pipeline.errors import short_reason

FITS = {
    "crop": "center-crop to a square, then resize: keeps a cat's proportions (default)",
    "squash": "resize the whole photo to a square, as the course's notebook does",
}


WHITE = (255, 255, 255)


SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class PhotoError(Exception):
    """One photo could not be used; the others still are."""


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB: alpha composited on white, 16-bit scaled, CMYK converted."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in SIXTEEN_BIT_MODES:  # 0..65535 grey: scale, do not clip
        grey = np.asarray(image, dtype=np.float64) / 257.0
        image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8), "L")
    if image.mode == "F":
        image = Image.fromarray(np.clip(np.rint(np.asarray(image)), 0, 255).astype(np.uint8))
    if "A" in image.mode or "a" in image.mode:  # RGBA, LA, PA, RGBa, La
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, WHITE + (255,))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def fit_square(image: Image.Image, size: int, fit: str) -> Image.Image:
    """An RGB image -> size x size, by center-cropping or squashing."""
    if fit == "crop":
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    if image.size == (size, size):
        return image
    return image.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)


def open_upright_rgb(path: StrPath, size: int) -> Image.Image:
    """The photo as an upright RGB Pillow image; JPEGs decoded at reduced scale when large.

    Pillow's warnings and log messages are recorded, not printed: a photo that decodes needs
    none of them, and one that does not gets the first in its one line.
    """
    caught: list[Any] = []  # warnings.WarningMessage from warnings, str from Pillow's log
    try:
        with warnings.catch_warnings(record=True) as caught, pillow_log(caught):
            warnings.simplefilter("always")
            # Pillow warns between 89 and 179 megapixels and refuses above (the bomb guard):
            # a big phone photo is fine, a decompression bomb is still an error.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.draft(image.mode, (size, size))  # JPEG: decode at 1/2..1/8 scale
                return to_rgb(ImageOps.exif_transpose(image))  # convert() decodes it all
    except FileNotFoundError:
        raise PhotoError("no such file") from None
    except PermissionError:
        raise PhotoError("permission denied: cannot read it") from None
    except UnidentifiedImageError:
        raise PhotoError("not an image Pillow can read (empty, truncated or another format)"
                         + warned(caught)) from None
    except Image.DecompressionBombError as err:
        raise PhotoError(f"refused as a possible decompression bomb ({err})") from None
    except Exception as err:  # a damaged file can trip any of Pillow's plugins in its own way
        raise PhotoError(f"cannot decode it ({short_reason(err)}){warned(caught)}") from None


def warned(caught: Sequence[warnings.WarningMessage | str]) -> str:
    """'; Pillow warned: ...' for the first warning or log message recorded, or nothing."""
    if not caught:
        return ""
    first = caught[0]
    message = first.message if isinstance(first, warnings.WarningMessage) else first
    return f"; Pillow warned: {short_reason(message)}"


@contextmanager
def pillow_log(records: list[Any]) -> Iterator[None]:
    """Pillow's logged warnings and errors go into `records` (else Python's last-resort
    handler prints them on stderr, beside the photo's one line)."""

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger, handler = logging.getLogger("PIL"), Recorder(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def photo_column(image: Image.Image, image_shape: Sequence[int],
                 fit: str) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """An RGB photo -> (its model-sized pixels (px, px, 3) uint8, the column x (n_x, 1))."""
    pixels = np.asarray(fit_square(image, image_shape[0], fit), dtype=np.uint8)
    if pixels.shape != tuple(image_shape):
        raise ValueError(f"images of shape {tuple(image_shape)} are not square RGB; fitted, "
                         f"the photo is {pixels.shape}")
    return pixels, standardize(flatten(pixels[None]))  # (n_x, 1): the training path


def find_photos(paths: Iterable[StrPath],
                recursive: bool) -> Iterator[tuple[Path, str | None]]:
    """Files named, and image files in folders named; (path, None) or (path, error message)."""
    extensions = set(Image.registered_extensions())  # ".jpg", ".png", ... all Pillow opens
    for path in map(Path, paths):
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            found = sorted(p for p in path.glob(pattern)
                           if p.is_file() and p.suffix.lower() in extensions)
            if not found:
                yield path, "a folder with no image files" + ("" if recursive else
                                                              " (--recursive looks deeper)")
            yield from ((p, None) for p in found)
        elif path.exists() or path.is_symlink():
            yield path, None
        else:
            yield path, "no such file or folder"


def files_in(folder: Path, recursive: bool) -> list[Path]:
    """Every file in a class folder (deeper ones with recursive), sorted by name."""
    pattern = "**/*" if recursive else "*"
    return sorted((p for p in folder.glob(pattern) if p.is_file()),
                  key=lambda p: p.relative_to(folder).as_posix())


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in Image.registered_extensions() and not path.name.startswith(".")


def decode(task: tuple[Path, int, str]) -> tuple[NDArray[np.uint8] | None, str]:
    """One photo -> (pixels (size, size, 3) uint8, "") or (None, reason). In a worker."""
    path, size, fit = task
    try:
        image = open_upright_rgb(path, size)
        return np.asarray(fit_square(image, size, fit), dtype=np.uint8), ""
    except PhotoError as err:
        return None, str(err)
