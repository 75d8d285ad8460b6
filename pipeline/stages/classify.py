"""Classify your own photos with the trained model, through exactly the training preprocessing.

A photo is opened with Pillow, turned upright by its EXIF orientation, made RGB (alpha composited
on white), brought to the model's image size, then flattened and standardized by the very
functions the features stage uses.
"""

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pipeline import config
from pipeline.artifacts.calibration_file import Calibration, calibration_for
from pipeline.artifacts.files import write_bytes
from pipeline.artifacts.params import Params, load_params, network_parameters, scores
from pipeline.artifacts.photos import FITS, PhotoError, find_photos, open_upright_rgb, photo_column
from pipeline.cli import Parser, UserError, progress_bar, unit_interval
from pipeline.errors import remake_hint
from pipeline.evaluation.calibration import band_sentences, bands_of
from pipeline.evaluation.stats import always_answering, clopper_pearson, interval, majority
from pipeline.nn.logistic import THRESHOLD, sigmoid
from pipeline.nn.network import input_gradient


def explain_png(photo: Image.Image, pixels: NDArray[np.uint8],
                contribution: NDArray[np.float64], *, p_cat: float, label: str, path: Path,
                positive: str) -> bytes:
    from pipeline.page.figures import literal, new_figure, png_bytes, show_signed_map

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


def explanation(params: Params, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Input x gradient: x (n_x, 1) times dz/dx, z the last layer's pre-activation. For one
    neuron dz/dx = w, so it is w * x, each pixel's share of z."""
    return input_gradient(network_parameters(params), x) * x  # (n_x, 1)


def trust_line(test_counts: Iterable[int], classes: Sequence[str]) -> str:
    """How far to trust the answers: the model's test accuracy, its interval, and the score of
    always answering the test set's larger class."""
    right, n, positives = (int(v) for v in test_counts)
    low, high = clopper_pearson(right, n)
    label, no_information_rate = majority(positives, n)
    return (f"trust: {100 * right / n:.1f} % of {n} test images right "
            f"({interval(100 * low, 100 * high)}; "
            f"{always_answering(classes[label], no_information_rate)})")


def answer(path: Path, label: str, z: float, c: Calibration | None,
           sentences: Sequence[str]) -> tuple[dict[str, object], str]:
    """A photo's JSON entry and its lines: the calibrated p beside the raw one and what
    cross-validation says about answers that sure, or the raw p alone, named raw."""
    raw = float(sigmoid(z))
    if c is None:
        return ({"path": str(path), "label": label, "probability": raw, "logit": z,
                 "calibrated_probability": None, "temperature": None},
                f"{path}: {label} (raw p={raw:.3f}, not calibrated)")
    T = float(c["temperature"])
    p = float(sigmoid(z / T))
    return ({"path": str(path), "label": label, "probability": raw, "logit": z,
             "calibrated_probability": p, "temperature": T},
            f"{path}: {label} (p={p:.3f} calibrated, raw p={raw:.3f})\n  "
            + sentences[int(bands_of(p))])


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="scripts/classify.py", description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="+", metavar="PHOTO", help="image files or folders")
    parser.add_argument("--params", type=Path, default=config.PARAMS_FILE,
                        help="the trained model, a params.npz (default %(default)s)")
    parser.add_argument("--calibration", type=Path, metavar="PATH",
                        help="its calibration (default: calibration.npz beside the params)")
    parser.add_argument("--json", action="store_true",
                        help='print a JSON list of {"path", "label", "probability" (raw), '
                        '"logit", "calibrated_probability", "temperature"}, nothing else')
    parser.add_argument("--threshold", type=unit_interval, default=THRESHOLD,
                        help="call it a cat where p > this (default %(default)s)")
    parser.add_argument("--fit", choices=FITS, default=config.PHOTO_FIT,
                        help="; ".join(f"{k}: {v}" for k, v in FITS.items()))
    parser.add_argument("--recursive", action="store_true", help="look inside sub-folders too")
    parser.add_argument("--explain", type=Path, metavar="OUT.png",
                        help="save the photo, the model's input and input x gradient "
                        "(w * x for one neuron; one photo only)")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    image_shape = tuple(int(s) for s in params["image_shape"])
    if image_shape[0] != image_shape[1]:
        raise UserError(f"{args.params}: images of shape {image_shape} are not square; "
                        + remake_hint("make train"))
    classes = [str(c) for c in params["classes"]]
    c, note = calibration_for(args.params, args.calibration
                              or args.params.with_name("calibration.npz"),
                              int(params["layer_dims"][0]))
    if note and not args.json:
        print(f"note: {note}", file=sys.stderr)
    m, positives = (int(v) for v in c["train_counts"]) if c is not None else (2, 1)
    sentences = band_sentences(c["bands"], classes, positives, m) if c is not None else []
    photos = list(find_photos(args.photos, args.recursive))
    if args.explain and len(photos) != 1:
        raise UserError(f"--explain takes one photo, got {len(photos)}")
    results: list[dict[str, object]] = []
    failed = 0
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
            z = float(scores(params, x)[0, 0])
            p_cat = float(sigmoid(z))
            label = classes[1] if p_cat > args.threshold else classes[0]
            entry, lines = answer(path, label, z, c, sentences)
            results.append(entry)
            if not args.json:
                bar.clear()
                print(lines)
            if args.explain:
                contribution = explanation(params, x).reshape(image_shape).sum(axis=2)
                write_bytes(args.explain, explain_png(photo, pixels, contribution, p_cat=p_cat,
                                                      label=label, path=path, positive=classes[1]))
                print(f"wrote {args.explain}", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
    elif results:
        print(trust_line(params["test_counts"], classes))
    return 1 if failed else 0
