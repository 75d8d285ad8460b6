"""Classify your own photos with the trained model, through exactly the training preprocessing.

A photo is opened with Pillow, turned upright by its EXIF orientation, made RGB (alpha composited
on white), brought to the model's image size, then flattened and standardized by the very
functions the features stage uses.
"""

import json
import logging
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline import config
from pipeline.cli import Parser, UserError, progress_bar, short_reason, unit_interval
from pipeline.features import flatten, standardize
from pipeline.files import write_bytes
from pipeline.model import THRESHOLD, sigmoid
from pipeline.network import input_gradient
from pipeline.params import load_params, network_parameters, scores
from pipeline.stats import clopper_pearson, majority

FITS = {
    "crop": "center-crop to a square, then resize: keeps a cat's proportions (default)",
    "squash": "resize the whole photo to a square, as the course's notebook does",
}
WHITE = (255, 255, 255)
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class PhotoError(Exception):
    """One photo could not be used; the others still are."""


def to_rgb(image):
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


def fit_square(image, size, fit):
    """An RGB image -> size x size, by center-cropping or squashing."""
    if fit == "crop":
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    if image.size == (size, size):
        return image
    return image.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)


def open_upright_rgb(path, size):
    """The photo as an upright RGB Pillow image; JPEGs decoded at reduced scale when large.

    Pillow's warnings and log messages are recorded, not printed: a photo that decodes needs
    none of them, and one that does not gets the first in its one line.
    """
    caught = []
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


def warned(caught):
    """'; Pillow warned: ...' for the first warning or log message recorded, or nothing."""
    if not caught:
        return ""
    first = caught[0]
    return f"; Pillow warned: {short_reason(getattr(first, 'message', first))}"


@contextmanager
def pillow_log(records):
    """Pillow's logged warnings and errors go into `records` (else Python's last-resort
    handler prints them on stderr, beside the photo's one line)."""

    class Recorder(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger, handler = logging.getLogger("PIL"), Recorder(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def photo_column(image, image_shape, fit):
    """An RGB photo -> (its model-sized pixels (px, px, 3) uint8, the column x (n_x, 1))."""
    pixels = np.asarray(fit_square(image, image_shape[0], fit), dtype=np.uint8)
    assert pixels.shape == tuple(image_shape), pixels.shape
    return pixels, standardize(flatten(pixels[None]))  # (n_x, 1): the training path


def find_photos(paths, recursive):
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


def explain_png(photo, pixels, contribution, p_cat, label, path, positive):
    from pipeline.figures import literal, new_figure, png_bytes, show_signed_map

    fig, axes = new_figure(1300, 430, ncols=3)
    axes[0].imshow(photo)
    axes[0].set_title(literal(path.name))
    axes[1].imshow(pixels, interpolation="nearest")
    axes[1].set_title(f"what the model sees ({pixels.shape[0]}x{pixels.shape[1]})")
    for ax in axes[:2]:
        ax.set_axis_off()
    show_signed_map(fig, axes[2], contribution,
                    f"input x gradient: red pushes towards {literal(positive)}, blue away")
    fig.suptitle(f"{literal(label)} (p = {p_cat:.3f})")
    return png_bytes(fig)


def explanation(params, x):
    """Input x gradient: x (n_x, 1) times dz/dx, z the last layer's pre-activation. For one
    neuron dz/dx = w, so it is w * x, each pixel's share of z."""
    return input_gradient(network_parameters(params), x) * x  # (n_x, 1)


def trust_line(test_counts, classes):
    """How far to trust the answers: the model's test accuracy, its interval, and the score of
    always answering the test set's larger class."""
    right, n, positives = (int(v) for v in test_counts)
    low, high = clopper_pearson(right, n)
    label, no_information_rate = majority(positives, n)
    return (f"trust: {100 * right / n:.1f} % of {n} test images right "
            f"(95% CI {100 * low:.1f}-{100 * high:.1f} %); always "
            f"{classes[label]}: {no_information_rate:.1f} %")


def main(argv=None):
    parser = Parser(prog="scripts/classify.py", description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="+", metavar="PHOTO", help="image files or folders")
    parser.add_argument("--model", type=Path, default=config.PARAMS_FILE,
                        help="a params.npz (default %(default)s)")
    parser.add_argument("--json", action="store_true",
                        help='print a JSON list of {"path", "label", "probability"}, nothing else')
    parser.add_argument("--threshold", type=unit_interval, default=THRESHOLD,
                        help="call it a cat where p > this (default %(default)s)")
    parser.add_argument("--fit", choices=FITS, default="crop",
                        help="; ".join(f"{k}: {v}" for k, v in FITS.items()))
    parser.add_argument("--recursive", action="store_true", help="look inside sub-folders too")
    parser.add_argument("--explain", type=Path, metavar="OUT.png",
                        help="save the photo, the model's input and input x gradient "
                        "(w * x for one neuron; one photo only)")
    args = parser.parse_args(argv)
    params = load_params(args.model)
    image_shape = tuple(int(s) for s in params["image_shape"])
    if image_shape[0] != image_shape[1]:
        raise UserError(f"{args.model}: images of shape {image_shape} are not square; "
                        "run `make train` to remake it")
    classes = [str(c) for c in params["classes"]]
    photos = list(find_photos(args.photos, args.recursive))
    if args.explain and len(photos) != 1:
        raise UserError(f"--explain takes one photo, got {len(photos)}")
    results, failed = [], 0
    with progress_bar(len(photos), "classify", quiet=len(photos) < 10) as bar:
        for path, problem in photos:
            bar.update()
            try:
                if problem:
                    raise PhotoError(problem)
                photo = open_upright_rgb(path, image_shape[0])
                pixels, x = photo_column(photo, image_shape, args.fit)
            except PhotoError as err:
                bar.clear()
                print(f"error: {path}: {err}", file=sys.stderr)
                failed += 1
                continue
            p_cat = float(sigmoid(scores(params, x))[0, 0])
            label = classes[1] if p_cat > args.threshold else classes[0]
            results.append({"path": str(path), "label": label, "probability": p_cat})
            if not args.json:
                bar.clear()
                print(f"{path}: {label} (p={p_cat:.3f})")
            if args.explain:
                contribution = explanation(params, x).reshape(image_shape).sum(axis=2)
                write_bytes(args.explain, explain_png(photo, pixels, contribution, p_cat, label,
                                                      path, classes[1]))
                print(f"wrote {args.explain}", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
    elif results:
        print(trust_line(params["test_counts"], classes))
    return 1 if failed else 0
