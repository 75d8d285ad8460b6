"""A run's record, run.json: its id, its settings, the data and code it ran on, when and how
long, and how it did. Flat, under the keys params.npz and metrics.json already use.

The id is a digest of what decides the weights: the settings, the engine asked for, the data's
sha256s and the source of the fit's code (FIT_SOURCES). The same setting on the same data and
code is the same run, in any process on any day.
"""

import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import config
from pipeline.artifacts.feature_file import Features
from pipeline.artifacts.files import StrPath
from pipeline.artifacts.params import CURVES, Params, cost_of_scores, scores
from pipeline.engines.fit import training_set
from pipeline.evaluation.stats import clopper_pearson
from pipeline.nn.logistic import accuracy, predict_from_scores
from pipeline.runs.ledger import Record
from pipeline.settings import Settings
from pipeline.shapes import Array

ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the package
# The source that decides a fit's weights, folders and files under ROOT: the math, the engines,
# how X is read and how a fit becomes params.npz. Editing any of it is another code, so another
# run (tests/runs/test_record.py holds that the fit imports nothing else that could).
FIT_SOURCES = ("pipeline/nn", "pipeline/engines", "pipeline/columns.py", "pipeline/threads.py",
               "pipeline/artifacts/feature_file.py", "pipeline/artifacts/params.py")
DATA_KEYS = ("train_sha256", "test_sha256", "image_shape", "standardization")


def fit_files(root: Path = ROOT, sources: tuple[str, ...] = FIT_SOURCES) -> list[Path]:
    """The sources' .py files (FIT_SOURCES': the fit's), in sorted order."""
    found = [path for source in sources for path in
             ([root / source] if source.endswith(".py") else (root / source).rglob("*.py"))]
    return sorted(found)


def code_fingerprint(root: Path = ROOT, sources: tuple[str, ...] = FIT_SOURCES) -> str:
    """sha256 of the sources (the fit's by default), each file's path and bytes, sorted."""
    digest = hashlib.sha256()
    for path in fit_files(root, sources):
        relative = path.relative_to(root).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def git_state(root: Path = ROOT) -> dict[str, str | bool | None]:
    """{"git_commit": sha or None, "git_dirty": bool or None}: None outside a checkout."""
    if not (root / ".git").exists():
        return {"git_commit": None, "git_dirty": None}
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                  text=True, timeout=10, check=True).stdout.strip()

        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):  # no git, or not a repository after all
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": dirty}


def data_of(features: Mapping[str, object]) -> dict[str, Any]:
    """The data's fingerprint as plain values: sha256s, image shape, standardization."""
    return {key: np.asarray(features[key]).tolist() for key in DATA_KEYS}


def run_id(settings: Settings, engine: str, data: Mapping[str, object], fingerprint: str) -> str:
    """RUN_ID_LENGTH hex digits naming what decides the weights (see the module's doc)."""
    text = json.dumps({"settings": settings.that_matter(), "engine": engine, "data": data,
                       "code": fingerprint}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:config.RUN_ID_LENGTH]


def identity(settings: Settings, engine: str, features: Features) -> tuple[str, str]:
    """(run id, code fingerprint) of a fit of these settings on these features."""
    fingerprint = code_fingerprint()
    return run_id(settings, engine, data_of(features), fingerprint), fingerprint


def outcome(params: Params, features: Features,
            Z_of: Mapping[str, Array] | None = None) -> dict[str, Any]:
    """What the run scores, from one pass over each split: train and test accuracy (as
    metrics.json computes them, on the images), the test interval, the cost J after the last
    step (on the training set as trained, mirrors too with augment flip, l2 included), and the
    learning curve.

    Z_of : the scores {"train": Z (1, m), "test": Z (1, m_test)} if the caller has them
        (artifacts.params.run_params): then only a flip's mirrors are scored here"""
    X, Y = training_set(features, str(params["augment"]))  # (n_x, m or 2m), (1, m or 2m)
    m = features["Y_train"].shape[1]
    if Z_of is None:
        Z_of = {"train": scores(params, features["X_train"]),  # X's first m columns
                "test": scores(params, features["X_test"])}
    Z_train = Z_of["train"] if X.shape[1] == m else np.hstack(  # (1, m or 2m)
        [Z_of["train"], scores(params, X, np.arange(m, X.shape[1]))])
    Y_test = features["Y_test"]
    test_predicted = predict_from_scores(Z_of["test"])  # (1, m_test)
    right = int(np.sum(test_predicted == Y_test))
    return {"train_accuracy": accuracy(predict_from_scores(Z_of["train"]), Y[:, :m]),
            "final_cost": cost_of_scores(params, Z_train, Y, float(params["l2"])),
            "test_accuracy": accuracy(test_predicted, Y_test),
            "test_accuracy_ci95": [100 * p for p in clopper_pearson(right, Y_test.shape[1])],
            **{key: np.asarray(params[key]).tolist() for key in CURVES}}


def run_record(identity: tuple[str, str], settings: Settings, engine: str, params: Params,
               features: Features, *, command: str, started: datetime, finished: datetime,
               data_path: StrPath, scored: Mapping[str, Any] | None = None) -> Record:
    """run.json's content but for params_sha256, which the ledger adds as it writes params.

    identity: (run id, code fingerprint); started, finished: datetime in UTC; scored: the
    run's outcome() if the caller has it already."""
    rid, fingerprint = identity
    return {
        "id": rid, "command": command, "status": "finished",
        "started": started.isoformat(timespec="milliseconds"),
        "finished": finished.isoformat(timespec="milliseconds"),
        "duration_s": round((finished - started).total_seconds(), 3),
        **settings.record(), "engine": engine,
        **data_of(features), "data_path": str(data_path),
        "code_fingerprint": fingerprint, **git_state(),
        "python": platform.python_version(), "numpy": np.__version__,
        **(outcome(params, features) if scored is None else scored),
    }
