"""Classify your own photos with the trained model, through exactly the training preprocessing.

A photo is opened with Pillow, turned upright by its EXIF orientation, made RGB (alpha composited
on white), brought to the model's image size, then flattened and standardized by the very
functions the features stage uses. Each answer comes with its map: every pixel's push on z from
the mean training image x̄ (kept in the calibration), which sums to z - z(x̄).
"""

import json
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pipeline import config
from pipeline.artifacts.calibration_file import Calibration, calibration_for, load_calibration
from pipeline.artifacts.files import sha256_of, temp_name, write_bytes
from pipeline.artifacts.params import load_params, network_parameters, scores
from pipeline.artifacts.photos import FITS, PhotoError, find_photos, open_upright_rgb, photo_column
from pipeline.cli import Parser, UserError, progress_bar, unit_interval
from pipeline.errors import remake_hint
from pipeline.evaluation.calibration import band_sentences, bands_of
from pipeline.evaluation.explain import Explanation, colour_sum, explain
from pipeline.evaluation.stats import always_answering, clopper_pearson, interval, majority
from pipeline.nn.logistic import THRESHOLD, sigmoid
from pipeline.shapes import Array


def explain_png(photo: Image.Image, pixels: NDArray[np.uint8], contribution: Array, *,
                path: Path, title: str, positive: str) -> bytes:
    """The photo (its path, the end of a long one), the pixels the model sees, and the map
    (h, w) of each pixel's push."""
    from pipeline.page.figures import literal, new_figure, png_bytes, show_signed_map

    fig, axes = new_figure(1300, 450, ncols=3)
    axes[0].imshow(photo)
    name = str(path)
    axes[0].set_title(literal(name if len(name) <= 48 else "..." + name[-45:]))
    axes[1].imshow(pixels, interpolation="nearest")
    axes[1].set_title(f"what the model sees ({pixels.shape[0]}x{pixels.shape[1]})")
    for ax in axes[:2]:
        ax.set_axis_off()
    show_signed_map(fig, axes[2], contribution, "push from the mean training image:\n"
                    f"red towards {literal(positive)}, blue away (sum {contribution.sum():+.3f})")
    fig.suptitle(literal(title))
    return png_bytes(fig)


def explain_folder(folder: Path) -> None:
    """Make the --explain folder if missing and check that a file can be written into it,
    before any photo is classified: a UserError otherwise, and no folder made for nothing."""
    made = next((f for f in reversed([folder, *folder.parents]) if not f.exists()), None)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = temp_name(folder / "probe")
        try:
            probe.touch(exist_ok=False)
        finally:
            probe.unlink(missing_ok=True)
    except OSError as err:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        if isinstance(err, (FileExistsError, NotADirectoryError)):
            raise UserError(f"--explain {folder}: a file is in the way; name a folder") from None
        raise UserError(f"--explain {folder}: cannot write there "
                        f"({(err.strerror or str(err)).lower()})") from None


def map_names(paths: Iterable[Path]) -> list[str]:
    """A PNG name for each photo, after its own: cat.jpg -> cat.png; a name already taken (the
    same name in another folder, or cat.jpg beside cat.png) gets -2, -3, ... in the order found.
    Compared without case, as some file systems do."""
    taken: set[str] = set()
    names = []
    for path in paths:
        name, n = f"{path.stem}.png", 1
        while name.lower() in taken:
            n += 1
            name = f"{path.stem}-{n}.png"
        taken.add(name.lower())
        names.append(name)
    return names


def mean_input(c: Calibration | None, path: Path, params_path: Path, n_x: int
               ) -> tuple[Array | None, str]:
    """(x̄ (n_x, 1), "") from this params.npz's calibration, also from one that could not be
    fitted (its mean image is still the training set's); else (None, why not)."""
    if c is not None:
        return c["mean_input"], ""
    if not path.is_file():
        return None, f"{path} not found"
    try:
        record = load_calibration(path, n_x)
    except UserError as err:
        return None, str(err)
    if str(record["params_sha256"]) != sha256_of(params_path):
        return None, f"{path} is stale (made for another {params_path.name})"
    x_bar = record["mean_input"]
    return (x_bar, "") if np.isfinite(x_bar).all() else (None, f"{path}: its mean is not finite")


def map_entry(e: Explanation | None, one_neuron: bool) -> tuple[dict[str, object], str]:
    """The map's figures for the JSON entry, and its line: its sum beside z - z(x̄), and for a
    network the trapezoid's steps and the gap they leave."""
    if e is None:
        return {"z_mean_image": None, "map_sum": None, "map_steps": None, "map_gap": None}, ""
    how = "exact for one neuron" if one_neuron else \
        f"{e.steps} steps, gap {e.gap:.2g} = {100 * e.relative_gap:.2g} %"
    return ({"z_mean_image": e.z_baseline, "map_sum": e.total, "map_steps": e.steps,
             "map_gap": e.gap},
            f"\n  map from the mean training image: sum {e.total:+.4f}, z - z(mean) "
            f"{e.change:+.4f} ({how})")


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
            f"{path}: {label} (p={p:.3f} calibrated, raw p={raw:.3f})\n"
            + textwrap.fill(sentences[int(bands_of(p))], 100, initial_indent="  ",
                            subsequent_indent="    "))


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="scripts/classify.py", description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="+", metavar="PHOTO", help="image files or folders")
    parser.add_argument("--params", type=Path, default=config.PARAMS_FILE,
                        help="the trained model, a params.npz (default %(default)s)")
    parser.add_argument("--calibration", type=Path, metavar="PATH",
                        help="its calibration (default: calibration.npz beside the params)")
    parser.add_argument("--json", action="store_true",
                        help='print a JSON list of {"path", "label", "probability" (raw), '
                        '"logit" (z), "calibrated_probability", "temperature", "z_mean_image", '
                        '"map_sum", "map_steps", "map_gap", "map_png"}, nothing else')
    parser.add_argument("--threshold", type=unit_interval, default=THRESHOLD,
                        help="call it a cat where p > this (default %(default)s)")
    parser.add_argument("--fit", choices=FITS, default=config.PHOTO_FIT,
                        help="; ".join(f"{k}: {v}" for k, v in FITS.items()))
    parser.add_argument("--recursive", action="store_true", help="look inside sub-folders too")
    parser.add_argument("--explain", type=Path, metavar="DIR",
                        help="write into DIR (made if missing), for each photo, a PNG named "
                        "after it: the photo, the model's input, and each pixel's push from "
                        "the mean training image")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    image_shape = tuple(int(s) for s in params["image_shape"])
    if image_shape[0] != image_shape[1]:
        raise UserError(f"{args.params}: images of shape {image_shape} are not square; "
                        + remake_hint("make train"))
    classes = [str(c) for c in params["classes"]]
    n_x = int(params["layer_dims"][0])
    calibration_path = args.calibration or args.params.with_name("calibration.npz")
    c, note = calibration_for(args.params, calibration_path, n_x)
    x_bar, why = mean_input(c, calibration_path, args.params, n_x)
    if args.explain and x_bar is None:
        raise UserError(f"--explain needs the mean training image, which `make calibrate` "
                        f"keeps in {calibration_path.name}: {why}")
    if note and not args.json:
        print(f"note: {note}", file=sys.stderr)
    m, positives = (int(v) for v in c["train_counts"]) if c is not None else (2, 1)
    sentences = band_sentences(c["bands"], classes, positives, m) if c is not None else []
    photos = list(find_photos(args.photos, args.recursive))
    if args.explain:
        explain_folder(args.explain)
    names = map_names(path for path, _ in photos)
    parameters = network_parameters(params)
    results: list[dict[str, object]] = []
    failed = 0
    with progress_bar(len(photos), "classify", quiet=len(photos) < 10) as bar:
        for (path, problem), name in zip(photos, names, strict=True):
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
            label = classes[1] if sigmoid(z) > args.threshold else classes[0]
            entry, lines = answer(path, label, z, c, sentences)
            e = None if x_bar is None else explain(parameters, x, x_bar)
            figures, map_line = map_entry(e, len(parameters) == 2)
            written = args.explain / name if args.explain and e is not None else None
            results.append({**entry, **figures, "map_png": written and str(written)})
            if written and e is not None:
                p = entry["calibrated_probability"]
                title = f"{label} (" + (f"p = {p:.3f} calibrated, " if isinstance(p, float)
                                        else "") + f"raw p = {sigmoid(z):.3f})"
                write_bytes(written, explain_png(
                    photo, pixels, colour_sum(e.contributions, image_shape), path=path,
                    title=title, positive=classes[1]))
            if not args.json:
                bar.clear()
                print(lines + map_line)
    if args.json:
        print(json.dumps(results, indent=2))
    elif results:
        print(trust_line(params["test_counts"], classes))
    if args.explain:
        written_count = sum(r["map_png"] is not None for r in results)
        print(f"wrote {written_count} map{'s' * (written_count != 1)} into {args.explain}",
              file=sys.stderr)
    return 1 if failed else 0
