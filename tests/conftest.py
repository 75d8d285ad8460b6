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
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent  # the checkout: Makefile, scripts, notebooks

# Tests write only into temporary folders. The home of data/ and reports/ (pipeline.config) is
# this session's own folder, set before pipeline is first imported (the home is fixed then), for
# this process and every child; removed when the session ends (pytest_sessionfinish below).
HOME = Path(tempfile.mkdtemp(prefix="catvnoncat-tests-"))
os.environ["CATVNONCAT_HOME"] = str(HOME)

from pipeline import config  # noqa: E402
from pipeline.artifacts.feature_file import load_features, write_features  # noqa: E402
from pipeline.artifacts.features import make_features  # noqa: E402
from pipeline.cli import UserError  # noqa: E402
from pipeline.stages.data import fetch  # noqa: E402

if config.HOME_DIR != HOME:  # imported before this file ran, say: the tests would write there
    shutil.rmtree(HOME)
    raise RuntimeError(f"pipeline.config's home is {config.HOME_DIR}, not the session's {HOME}")

# The .h5 files without the network: the mirror the caller set (make test, CI), else the
# checkout's own data/raw if `make data` filled it.
MIRROR = os.environ.get(config.MIRROR_ENV) or (
    str(ROOT / "data" / "raw") if (ROOT / "data" / "raw" / config.TRAIN_FILE.name).is_file()
    else None)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(HOME, ignore_errors=True)


# The course's first cost, at zeros: log 2 in every term. Its mean rounds back to log 2 only
# with NumPy's pairwise sum, so it is held to the last bit or so, not to one summation order.
LOG_2 = pytest.approx(math.log(2), rel=1e-15)

# The fetch tests serve files on 127.0.0.1: a proxy set in the environment must not take them.
# Set before the first urlopen, which reads the proxies once.
os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"

# CI runs the same examples every time (a failure there is reproducible; derandomize also means
# no example database); locally they vary.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session", autouse=True)
def home_with_data():
    """The session's home holds data/raw as a checkout after `make data` does, when the .h5 files
    are at hand without the network (a notebook's kernel or a stage's defaults read them there);
    otherwise raw_files fetches them for the tests that ask."""
    for name, sha256 in config.SHA256.items() if MIRROR else ():
        try:
            fetch(name, config.RAW_DIR, sha256, mirror=MIRROR, urls=(), quiet=True)
        except UserError:
            break
    return HOME


@pytest.fixture(scope="session")
def raw_files():
    """The real .h5 files in the session home's data/raw, fetched (mirror first) if not there."""
    for name, sha256 in config.SHA256.items():
        fetch(name, config.RAW_DIR, sha256, mirror=MIRROR, quiet=True)
    return config.TRAIN_FILE, config.TEST_FILE


@pytest.fixture(scope="session")
def features(raw_files):
    """The course's float64 arrays, built in memory: the lesson's path, and the oracle."""
    return make_features(*raw_files)


@pytest.fixture(scope="session")
def features_file(raw_files, tmp_path_factory):
    """features.npz as the features stage writes it: uint8 pixel rows."""
    path = tmp_path_factory.mktemp("features") / "features.npz"
    write_features(*raw_files, path)
    return path


def write_pixel_features(path, features, **changes):
    """A features.npz in the features stage's layout from in-memory features (float64 X, as
    make_features returns), with some arrays changed: uint8 rows (m, n_x) for X, the rest as is."""
    import zipfile

    from pipeline.artifacts.pixels import write_array_member, write_rows_member

    arrays = {**features, **changes}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            if key.startswith("X_"):
                rows = np.rint(np.asarray(value).T * 255).astype(np.uint8)  # (m, n_x)
                write_rows_member(archive, f"{key[2:]}_pixels", rows.shape, [rows])
            else:
                write_array_member(archive, key, value)
    return path


@pytest.fixture(scope="session")
def pixel_features(features_file):
    """features.npz loaded: X_train and X_test are PixelColumns read from the file."""
    return load_features(features_file)


def run_cli(*args, cwd=ROOT, env=None, **kwargs):
    """`python -m pipeline ARGS` in a child process; returns the CompletedProcess (text).

    env entries override os.environ; an entry set to None removes that variable.
    """
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)], cwd=cwd,
                          env=full_env, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def trained(features_file, tmp_path_factory):
    """params.npz and metrics.json of the course's run, made by the two stages' command lines.

    Returns (params path, metrics path, what evaluate printed).
    """
    folder = tmp_path_factory.mktemp("run")
    params, metrics = folder / "params.npz", folder / "metrics.json"
    train = run_cli("train", "--features", features_file, "--out", params)
    assert train.returncode == 0, train.stderr
    evaluate = run_cli("evaluate", "--features", features_file, "--params", params,
                       "--out", metrics)
    assert evaluate.returncode == 0, evaluate.stderr
    return params, metrics, evaluate.stdout


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


@pytest.fixture(scope="module")
def project(raw_files, tmp_path_factory):
    copy = tmp_path_factory.mktemp("project")
    for name in ("Makefile", "pyproject.toml", "requirements.lock", "README.md"):
        shutil.copy2(ROOT / name, copy / name)  # copy2 keeps mtimes: .venv stays up to date
    for folder in ("pipeline", "scripts"):
        shutil.copytree(ROOT / folder, copy / folder, copy_function=shutil.copy2,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (copy / ".venv").symlink_to(ROOT / ".venv")
    (copy / "data" / "raw").mkdir(parents=True)
    for path in raw_files:
        shutil.copy2(path, copy / "data" / "raw" / path.name)
    return copy


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
