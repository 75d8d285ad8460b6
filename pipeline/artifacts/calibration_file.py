"""calibration.npz: a run's calibration, made from its params.npz and the training set alone,
with the figures that judge it, the table its sentences come from, and the mean training image.

It names the params.npz it belongs to by sha256, so a calibration of another run is seen as
stale; every reader then shows the raw p as raw and says in one line how to remake it.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import config
from pipeline.artifacts.files import Spec, StrPath, check_arrays, read_npz, sha256_of
from pipeline.errors import UserError, remake_hint
from pipeline.nn.logistic import sigmoid

CALIBRATION_FILE = config.CALIBRATION_FILE
MAKE = "make calibrate"
METHODS = ("temperature", "none")  # none: the raw p, with the reason it could not be fitted
FIGURES = ("ece", "ece_low", "ece_high", "brier", "log_loss")  # a set's figures, in this order
BAND_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # bands of confidence max(p, 1 - p)
N_BANDS, N_FIGURES = len(BAND_EDGES) - 1, len(FIGURES)
SPEC: Spec = {  # dtype kinds and shapes, as cv.held_out.calibration_record writes them
    # (None: the training images' m, or the model's n_x)
    "method": ("U", ()), "reason": ("U", ()), "temperature": ("f", ()), "platt": ("f", (2,)),
    "held_out_log_loss": ("f", (2,)), "platt_changes": ("iu", ()), "folds": ("iu", ()),
    "seed": ("iu", ()), "params_sha256": ("U", ()), "oof_logits": ("f", (None,)),
    "fold_of": ("iu", (None,)), "oof_before": ("f", (N_FIGURES,)),
    "oof_after": ("f", (N_FIGURES,)), "test_before": ("f", (N_FIGURES,)),
    "test_after": ("f", (N_FIGURES,)), "bands": ("iu", (N_BANDS, 2)),
    "train_counts": ("iu", (2,)), "mean_input": ("f", (None, 1)), "seconds": ("f", ()),
}
Calibration = dict[str, NDArray[Any]]


def damaged(path: StrPath, why: str) -> UserError:
    return UserError(f"{path}: {why}; {remake_hint(MAKE)}")


def load_calibration(path: StrPath = CALIBRATION_FILE, n_x: int | None = None) -> Calibration:
    """calibration.npz as a dict, checked: every key's dtype and shape, sizes that agree (the
    images' m, n_x when given), a method it knows, finite figures of a fitted one."""
    c = read_npz(path, tuple(SPEC), MAKE)
    check_arrays(c, SPEC, path, MAKE)
    m, positives = (int(v) for v in c["train_counts"])
    if not (len(c["oof_logits"]) == len(c["fold_of"]) == m >= 2 and 0 < positives < m):
        raise damaged(path, "its out-of-fold logits, folds and counts do not agree")
    if n_x is not None and c["mean_input"].shape[0] != n_x:
        raise damaged(path, f"its mean image has {c['mean_input'].shape[0]} values, the "
                      f"model takes {n_x}")
    method, T = str(c["method"]), float(c["temperature"])
    if method not in METHODS or not (np.isfinite(T) and T > 0):
        raise damaged(path, f"unknown method {method!r} or temperature {T!r}")
    bands = c["bands"]
    if (bands < 0).any() or (bands[:, 1] > bands[:, 0]).any() or bands[:, 0].sum() != m:
        raise damaged(path, "its table of confidence bands is impossible")
    folds = int(c["folds"])
    if not 2 <= folds <= m or c["fold_of"].min() < 0 or c["fold_of"].max() >= folds:
        raise damaged(path, f"its {folds} folds do not fit its images")
    fitted = [c[k] for k in ("oof_logits", "oof_before", "oof_after", "mean_input")]
    if method == "temperature" and not all(np.isfinite(a).all() for a in fitted):
        raise damaged(path, "its logits or figures are not finite")
    return c


def calibration_for(params_path: StrPath, path: StrPath = CALIBRATION_FILE,
                    n_x: int | None = None) -> tuple[Calibration | None, str]:
    """(the calibration, "") when path holds a fitted one of params_path's model; else (None,
    one line saying why the p is shown raw and how to fix it)."""
    raw = "p(cat) is shown raw"
    if not Path(path).is_file():
        return None, f"{path} not found: {raw}; run `{MAKE}`"
    try:
        c = load_calibration(path, n_x)
    except UserError as err:
        return None, f"{err} ({raw})"
    if str(c["params_sha256"]) != sha256_of(params_path):
        return None, f"{path} is stale (made for another {Path(params_path).name}): {raw}; " \
            f"run `{MAKE}`"
    if str(c["method"]) == "none":
        return None, f"{path}: no calibration could be fitted ({c['reason']}): {raw}"
    return c, ""


def calibrated(c: Mapping[str, Any], z: float) -> float:
    """p(cat) of the logit z, calibrated: sigmoid(z / T)."""
    return float(sigmoid(z / float(c["temperature"])))
