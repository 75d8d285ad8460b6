"""Stage `calibrate`: how far to trust p(cat), chosen without the test set.

The run's own settings (read from params.npz) are cross-validated on the training set, every
fold at once where gd allows (cv.held_out), and one temperature T is fitted on the out-of-fold
logits: p = sigmoid(z / T). Writes data/models/calibration.npz, named after the params.npz it
belongs to by sha256, and keeps a copy with the run in the ledger, from where the same run and
folds are restored instead of fitted again. The test set's figures are shown, never used.

Why a temperature and not Platt's (a, b): Platt's form is fitted and measured too, each held out
over the same folds, and on the course's three models its held-out log loss is lower. That gain
is its intercept learning the training set's share of cats (34 %): it moves the threshold, so it
changes the answer of many images, and a photo's p would depend on how many cats the training
set happened to hold. A temperature keeps every answer and only says how sure to be. The stage
prints both held-out losses, and how many out-of-fold answers Platt's form would change.
"""

import sys
import textwrap
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.artifacts.calibration_file import CALIBRATION_FILE, Calibration, load_calibration
from pipeline.artifacts.feature_file import load_features
from pipeline.artifacts.files import sha256_of, write_npz
from pipeline.artifacts.params import load_params, params_settings
from pipeline.cli import Parser, UserError, non_negative_int, positive_int
from pipeline.cv.held_out import calibration_record
from pipeline.errors import short_reason
from pipeline.evaluation.metrics import check_same_data
from pipeline.runs.ledger import current_id, keep_beside, kept_beside, scan
from pipeline.runs.record import code_fingerprint
from pipeline.stages.options import add_input_options, add_runs_option
from pipeline.tables import text_table

# What a calibration is made by, beyond the fit's code (the run's id covers that)
CALIBRATION_SOURCES = ("pipeline/cv", "pipeline/evaluation/calibration.py",
                       "pipeline/artifacts/calibration_file.py", "pipeline/stages/calibrate.py")


def figures_table(c: Calibration) -> str:
    """The figures before -> after, out of fold and on the test set, as an aligned table."""
    def ece(f: np.ndarray) -> str:
        return f"{f[0]:.3f} ({f[1]:.3f}-{f[2]:.3f})"

    rows = [[name, f"{ece(before)} -> {ece(after)}", f"{before[3]:.3f} -> {after[3]:.3f}",
             f"{before[4]:.3f} -> {after[4]:.3f}"]
            for name, before, after in (("out of fold", c["oof_before"], c["oof_after"]),
                                        ("test: shown, not used", c["test_before"],
                                         c["test_after"]))]
    table = text_table(["", "ECE (95% interval)", "Brier", "log loss"], rows)
    return "\n".join("  " + line for line in table.splitlines())


def summary_lines(c: Calibration, model: str) -> list[str]:
    """What the stage prints: the temperature and the figures before -> after, each line at
    most 100 columns."""
    m, folds = int(c["train_counts"][0]), int(c["folds"])
    where = f"{folds}-fold out-of-fold logits of the {m} training images"
    if str(c["method"]) == "none":
        return textwrap.wrap(f"note: no calibration could be fitted for the {model} model from "
                             f"{where} ({c['reason']}): p(cat) is shown raw", 100,
                             subsequent_indent="  ")
    temperature, platt = c["held_out_log_loss"]
    held_out = (f"held out over the folds: log loss {temperature:.3f} with a temperature, "
                f"{platt:.3f} with Platt's (a, b), which is not used: it would change "
                f"{int(c['platt_changes'])} of the {m} out-of-fold answers"
                if np.isfinite([temperature, platt]).all() else
                "held out over the folds: Platt's (a, b) could not be fitted on every fold")
    head = (f"calibrated the {model} model: T = {float(c['temperature']):.3f}, fitted on the "
            f"{where} ({float(c['seconds']):.1f} s); the test set chose nothing, and a "
            "temperature never changes the answer")
    return [*textwrap.wrap(head, 100, subsequent_indent="  "), figures_table(c),
            *textwrap.wrap(held_out, 100, initial_indent="  ", subsequent_indent="  ")]


def restored(path: Path, n_x: int, params_sha256: str) -> Calibration | None:
    """The ledger's calibration at path if it is whole and of this params.npz, else None."""
    if not path.is_file():
        return None
    try:
        c = load_calibration(path, n_x)
    except UserError as err:
        print(f"note: {short_reason(err)}: calibrating again", file=sys.stderr)
        return None
    return c if str(c["params_sha256"]) == params_sha256 else None


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=config.PARAMS_FILE)
    parser.add_argument("--out", type=Path, help="default: calibration.npz beside the params "
                        f"({CALIBRATION_FILE} for the default params)")
    parser.add_argument("--folds", type=positive_int, default=config.CV_FOLDS, metavar="K",
                        help="folds of the training set (default %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=config.CV_SEED,
                        help="seeds the folds and the bootstrap (default %(default)s)")
    add_input_options(parser)
    add_runs_option(parser)
    args = parser.parse_args(argv)
    args.out = args.out or args.params.with_name(CALIBRATION_FILE.name)
    if args.folds < 2:
        raise UserError(f"--folds {args.folds}: need at least 2")
    params, features = load_params(args.params), load_features(args.features)
    check_same_data(params, features, args.params)
    settings, digest = params_settings(params), sha256_of(args.params)
    # kept per folds, seed and the calibration's own code, which the run's id does not cover
    code = code_fingerprint(sources=CALIBRATION_SOURCES)[:config.RUN_ID_LENGTH]
    n_x = int(settings.layer_dims[0])
    name = f"calibration-{args.folds}-folds-seed-{args.seed}-code-{code}.npz"
    run_id = current_id(scan(args.runs_dir)[0], args.params)
    kept = kept_beside(args.runs_dir, run_id, name) if run_id else None
    c = restored(kept, n_x, digest) if kept else None
    if c is not None and kept is not None:
        write_npz(args.out, **c)
        print(f"restored the calibration of run {run_id and run_id[:6]}; wrote {args.out}",
              file=sys.stderr)
    else:
        c = calibration_record(params, features, settings, args.folds, args.seed, digest)
        write_npz(args.out, **c)
        if run_id:
            keep_beside(args.runs_dir, run_id, name, args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    print("\n".join(summary_lines(c, settings.model)))
