"""The suite's shared helpers, imported by name from any test folder (pyproject's pythonpath):
the session's home, the checkout's root, a setup the workers share, a stage's command line,
small course-shaped files and make in a copy of the project. Fixtures live in conftest.py,
which imports this first.

Under `--import-mode=importlib` pytest loads conftest.py under a name of its own, so a test that
imported conftest by name would run it a second time; this module is imported once, whoever
imports it first."""

import fcntl
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent  # the checkout: Makefile, scripts, notebooks

# Tests write only into temporary folders. The home of data/ and reports/ (pipeline.config) is
# this session's own folder, set before pipeline is first imported (the home is fixed then), for
# this process and every child; removed when the session ends (conftest's pytest_sessionfinish).
HOME = Path(tempfile.mkdtemp(prefix="catvnoncat-tests-"))
os.environ["CATVNONCAT_HOME"] = str(HOME)

from pipeline import config  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

if config.HOME_DIR != HOME:  # imported before this file ran, say: the tests would write there
    shutil.rmtree(HOME)
    raise RuntimeError(f"pipeline.config's home is {config.HOME_DIR}, not the session's {HOME}")

# The .h5 files without the network: the mirror the caller set (make test, CI), else the
# checkout's own data/raw if `make data` filled it.
MIRROR = os.environ.get(config.MIRROR_ENV) or (
    str(ROOT / "data" / "raw") if (ROOT / "data" / "raw" / config.TRAIN_FILE.name).is_file()
    else None)

# The course's first cost, at zeros: log 2 in every term. Its mean rounds back to log 2 only
# with NumPy's pairwise sum, so it is held to the last bit or so, not to one summation order.
LOG_2 = pytest.approx(math.log(2), rel=1e-15)

# The fetch tests serve files on 127.0.0.1: a proxy set in the environment must not take them.
# Set before the first urlopen, which reads the proxies once.
os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"


def write_pixel_features(path, features, **changes):
    """A features.npz in the features stage's layout from in-memory features (float64 X, as
    make_features returns), with some arrays changed: uint8 rows (m, n_x) for X, the rest as is."""
    import zipfile

    from pipeline.artifacts.split_writer import write_array_member, write_rows_member

    arrays = {**features, **changes}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            if key.startswith("X_"):
                rows = np.rint(np.asarray(value).T * 255).astype(np.uint8)  # (m, n_x)
                write_rows_member(archive, f"{key[2:]}_pixels", rows.shape, [rows])
            else:
                write_array_member(archive, key, value)
    return path


def made_once(tmp_path_factory, name, make):
    """The folder `name` that make(folder) filled, once for the whole run: the suite's workers
    (pytest-xdist) share their session folders' parent, and the first to ask makes it under a
    lock while the others wait, then read it. What is made there is only read afterwards."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (folder / ".made").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".made").touch()
    return folder

CNN_EPOCHS = 3  # a few: the CNN's tests are about drawing and equality, not accuracy (and
# an untrained CNN's maps take fewer steps: its report draws the most confident 40 mistakes of
# each set, each map by integrated gradients in Python)


def cnn_report(tmp_path_factory, features_file):
    """The course's CNN trained for CNN_EPOCHS, calibrated, evaluated and reported, made once
    for the whole run (made_once): its folder holds params.npz, metrics.json, page/, and
    report.txt (the report's stdout and stderr)."""
    def make(folder):
        params, metrics, runs = folder / "params.npz", folder / "metrics.json", folder / "runs"
        for args in (("train", "--model", "cnn", "--num-epochs", CNN_EPOCHS, "--quiet",
                      "--features", features_file, "--out", params, "--runs-dir", runs),
                     ("calibrate", "--params", params, "--features", features_file, "--quiet",
                      "--runs-dir", runs),
                     ("evaluate", "--features", features_file, "--params", params, "--out",
                      metrics),
                     ("report", "--params", params, "--metrics", metrics, "--features",
                      features_file, "--out-dir", folder / "page")):
            result = run_cli(*args)
            assert result.returncode == 0, result.stderr
        (folder / "report.txt").write_text(result.stdout + result.stderr)

    return made_once(tmp_path_factory, "cnn-report", make)


def one_page_site(tmp_path, index_md):
    """tmp_path/docs: the site's own conf.py and extensions around one index page; returns the
    sphinx-build arguments that build it into tmp_path/site."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "docs" / "conf.py", docs)
    shutil.copytree(ROOT / "docs" / "_ext", docs / "_ext",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (docs / "_static").mkdir()
    (docs / "index.md").write_text(index_md)
    return ["-d", str(tmp_path / "doctrees"), str(docs), str(tmp_path / "site")]


def run_cli(*args, cwd=ROOT, env=None, **kwargs):
    """`python -m pipeline ARGS` in a child process; returns the CompletedProcess (text).

    env entries override os.environ; an entry set to None removes that variable.
    """
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)], cwd=cwd,
                          env=full_env, capture_output=True, text=True, **kwargs)


def assert_one_line_error(result, *fragments, code=1):
    """A failed command said one line `error: ...` holding every fragment, and no traceback."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write_h5(path, split, images=None, labels=None, classes=(b"non-cat", b"cat"), m=6, px=4,
             seed=0):
    """A small course-shaped .h5 file; pass images/labels to make it wrong in one way."""
    rng = np.random.default_rng(seed)
    if images is None:
        images = rng.integers(0, 256, size=(m, px, px, 3), dtype=np.uint8)
    if labels is None:
        labels = rng.integers(0, 2, size=len(images))
    with h5py.File(path, "w") as h5:
        h5[f"{split}_set_x"] = images
        h5[f"{split}_set_y"] = labels
        h5["list_classes"] = np.array(classes)
    return path


def write_course_photos(raw_files, root):
    """The course's 259 images as PNG files: train/cat/000.png ... test/non-cat/049.png, named
    by their index so that a dataset built from them keeps the course's order."""
    from PIL import Image

    from pipeline.artifacts.features import load_split

    for split, path in zip(("train", "test"), raw_files, strict=True):
        images, labels, classes = load_split(path, split)
        for j, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = root / split / classes[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{j:03}.png")
    return root


def make(project, *args):
    # make works in its own folder: the project's data/ and reports/, not the session's home
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MAKE") and k != config.HOME_ENV}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project, env=env,
                          capture_output=True, text=True)


def recipes(project, *args):
    """The commands `make -n` would run: what is out of date."""
    result = make(project, "-n", *args)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if "-m pipeline" in line]


# For the ledger's tests (runs/)

def record_of(run_id, finished="2026-12-04T10:00:00+00:00", test_accuracy=70.0):
    """A whole run record, as run_record writes it but for params_sha256."""
    return {"id": run_id, "command": "train", "status": "finished",
            "started": finished, "finished": finished, "duration_s": 1.5,
            **Settings("logistic", (12288, 1), 0.005, 2000).record(), "engine": "gram",
            "train_sha256": "a" * 64, "test_sha256": "b" * 64, "image_shape": [64, 64, 3],
            "standardization": "x / 255", "data_path": "features.npz",
            "code_fingerprint": "c" * 64, "git_commit": None, "git_dirty": None,
            "python": "3.11", "numpy": "2.4", "train_accuracy": 99.0,
            "test_accuracy": test_accuracy, "test_accuracy_ci95": [55.4, 82.1],
            "final_cost": 0.14, "iterations": [0, 100], "costs": [0.69, 0.5],
            "train_accuracies": [65.6, 90.0], "test_accuracies": [34.0, 60.0]}
