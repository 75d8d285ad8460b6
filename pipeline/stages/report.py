"""Stage `report`: the run's figures and its section of the page, then reports/index.html.

The figures, the run's section and the page are written as one set: drawn into a temp folder,
then moved into place together (files.staged_files), so an interrupt leaves the previous
page and every figure it names whole.
"""

import json
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from pipeline import config
from pipeline.artifacts.calibration_file import Calibration, calibration_for
from pipeline.artifacts.feature_file import Features, load_features
from pipeline.artifacts.file_sets import staged_files, write_file_list
from pipeline.artifacts.files import (
    StrPath,
    read_json,
    write_bytes,
    write_text,
)
from pipeline.artifacts.params import Params, load_params, network_parameters, split_scores
from pipeline.cli import Parser, UserError
from pipeline.columns import pixels_of, take
from pipeline.errors import remake_hint
from pipeline.evaluation.explain import colour_sum, explain, mean_image
from pipeline.evaluation.metrics import check_same_data, metrics
from pipeline.nn.logistic import THRESHOLD, sigmoid
from pipeline.page.assemble import assemble_into
from pipeline.page.calibration_section import calibration_fragment
from pipeline.page.figures import literal
from pipeline.page.run_figures import (
    FIGURES,
    evaluation_png,
    learning_curve_png,
    mislabeled_png,
    weights_png,
)
from pipeline.page.run_section import Metrics, gallery_title, run_fragment
from pipeline.page.sections import Case, made_for, write_section
from pipeline.shapes import Array

MistakeRow = tuple[str, int, int, int, float]  # (split, index, true, predicted, p_cat)


def mislabeled_cases(Z: Array, features: Features, indices: ArrayLike, split: str,
                     shown: int = config.GALLERY_SIZE) -> tuple[list[Case], list[MistakeRow]]:
    """(index, image, true, predicted, p_cat) for the `shown` most confident mistakes of a split
    whose scores are Z (1, m) (p farthest from the threshold first), and the CSV rows of all of
    them."""
    X, Y = features[f"X_{split}"], features[f"Y_{split}"]
    indices = np.asarray(indices, dtype=int)
    p_cat = sigmoid(Z[:, indices])[0]  # (len,)
    rows = [(split, int(i), int(Y[0, i]), int(p > THRESHOLD), float(p))
            for i, p in zip(indices, p_cat, strict=True)]
    order = np.argsort(-np.abs(p_cat - THRESHOLD), kind="stable")[:shown]
    images = pixels_of(X, indices[order]).reshape(-1, *features["image_shape"])
    cases = [(i, image, true, predicted, p) for (_, i, true, predicted, p), image
             in zip((rows[j] for j in order), images, strict=True)]
    return cases, rows


def mistake_maps(params: Params, features: Features, cases: Iterable[Case], split: str,
                  x_bar: Array) -> list[Array]:
    """Each case's map (h, w): every pixel's push on z from the mean training image x̄ (n_x, 1),
    its colours summed."""
    parameters, X = network_parameters(params), features[f"X_{split}"]
    return [colour_sum(explain(parameters, take(X, [case[0]]), x_bar).contributions,
                       features["image_shape"]) for case in cases]


def mistakes_csv(rows: Iterable[MistakeRow], classes: Sequence[str]) -> str:
    """Every mislabeled image: split, index, true and predicted class, p of the positive."""
    lines = [f"split,index,true,predicted,p_{classes[1]}"]
    lines += [f"{split},{i},{classes[true]},{classes[predicted]},{p!r}"
              for split, i, true, predicted, p in rows]
    return "\n".join(lines) + "\n"


def same_numbers(a: object, b: object, rel: float = 1e-9) -> bool:
    """JSON values equal, floats to a relative 1e-9 (BLAS may sum in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_numbers(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_numbers(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    return type(a) is type(b) and a == b


Inputs = tuple[Params, dict[str, Any], Features, dict[str, Array]]


def load_inputs(params_path: StrPath, metrics_path: StrPath, features_path: StrPath) -> Inputs:
    """params, metrics and features, checked against each other, and each split's scores.

    metrics.json is recomputed from params and features (one pass over each split, whose scores
    the figures use too) and must match: a damaged or stale file is refused in one line, and no
    value read from it reaches a figure.
    """
    params, features = load_params(params_path), load_features(features_path)
    check_same_data(params, features, params_path)
    stored = read_json(metrics_path, "make train")
    Z_of = split_scores(params, features)  # each split's scores, (1, m)
    computed = json.loads(json.dumps(metrics(params, features, Z_of)))  # as JSON holds it
    if not same_numbers(stored, computed):
        raise UserError(f"{metrics_path} does not match {params_path} (damaged, or from another "
                        f"run); {remake_hint('make train')}")
    return params, computed, features, Z_of


def write_report(params: Params, metrics: Metrics, features: Features, Z_of: dict[str, Array],
                 out_dir: StrPath, calibration: tuple[Calibration | None, str] = (None, "")
                 ) -> Path:
    """Draw everything into a temp folder, then move the set into out_dir at once. Z_of: each
    split's scores (load_inputs); calibration: calibration_for's (record, why there is none)."""
    classes = [str(c) for c in features["classes"]]
    drawn = [literal(c) for c in classes]  # the names as the figures must be given them
    test_cases, test_rows = mislabeled_cases(Z_of["test"], features, metrics["mislabeled_test"],
                                             "test")
    train_cases, train_rows = mislabeled_cases(Z_of["train"], features,
                                               metrics["mislabeled_train"], "train")
    by_split = {split: (Z_of[split], features[f"Y_{split}"]) for split in ("train", "test")}
    c, note = calibration
    x_bar = mean_image(features["X_train"]) if c is None else c["mean_input"]  # (n_x, 1)
    curves = None if c is None else [
        (f"out of fold, {name}", c["oof_logits"][None, :], features["Y_train"], T)
        for name, T in (("raw", 1.0), (f"T = {float(c['temperature']):.2f}",
                                       float(c["temperature"])))]
    pngs = dict(zip(FIGURES, (  # drawn in FIGURES' order
        learning_curve_png(params),
        evaluation_png(by_split, drawn, curves),
        mislabeled_png(test_cases, drawn, gallery_title("test", len(test_cases), len(test_rows)),
                       mistake_maps(params, features, test_cases, "test", x_bar)),
        mislabeled_png(train_cases, drawn, gallery_title("train", len(train_cases),
                                                         len(train_rows)),
                       mistake_maps(params, features, train_cases, "train", x_bar)),
        weights_png(network_parameters(params)["W1"], tuple(features["image_shape"]), drawn),
    ), strict=True))
    fragment = run_fragment(params, metrics, features, test_cases, train_cases, classes) \
        + calibration_fragment(c, note, classes)
    lr, n = float(params["learning_rate"]), int(params["num_iterations"])
    with staged_files(out_dir) as tmp:
        for name, data in pngs.items():
            write_bytes(tmp / name, data)
        write_text(tmp / "mislabeled.csv", mistakes_csv(test_rows + train_rows, classes))
        write_section(tmp, fragment, f"catvnoncat: lr {lr}, {n} iterations", "run",
                      "make report", made_for(params, params["model"]))
        assemble_into(tmp, out_dir, run_dir=tmp)
        write_file_list(tmp, "report-files.txt")
    return Path(out_dir) / "index.html"


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline report", description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=config.PARAMS_FILE)
    parser.add_argument("--metrics", type=Path, default=config.METRICS_FILE)
    parser.add_argument("--features", type=Path, default=config.FEATURES_FILE)
    parser.add_argument("--calibration", type=Path,
                        help="default: calibration.npz beside the params")
    parser.add_argument("--out-dir", type=Path, default=config.REPORTS_DIR)
    args = parser.parse_args(argv)
    inputs = load_inputs(args.params, args.metrics, args.features)
    calibration = calibration_for(args.params, args.calibration
                                  or args.params.with_name("calibration.npz"),
                                  int(inputs[0]["layer_dims"][0]))
    if calibration[1]:
        print(f"note: {calibration[1]}", file=sys.stderr)
    print(write_report(*inputs, args.out_dir, calibration))
