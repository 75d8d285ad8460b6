"""The suite's fixtures. Its helpers and the session's home are in helpers.py, imported first:
the home must be set before pipeline is imported."""

import os
import pickle
import shutil

import pytest
from helpers import HOME, MIRROR, ROOT, made_once, run_cli
from hypothesis import settings
from network_problems import TWO_LAYER
from threadpoolctl import threadpool_limits

from pipeline import config
from pipeline.artifacts.feature_file import load_features
from pipeline.artifacts.features import make_features
from pipeline.artifacts.split_writer import write_features
from pipeline.cli import UserError
from pipeline.engines.network import train_networks
from pipeline.nn.network import initialize_parameters, two_layer_model
from pipeline.stages.data import fetch


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(HOME, ignore_errors=True)


# The files whose tests read the two-layer fits (two_layer_runs, below): one unit of work for
# pytest-xdist, so that one worker fits them while the other runs other files instead of waiting.
TWO_LAYER_FILES = ("tests/nn/test_network.py", "tests/engines/test_network.py")


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile (pyproject's addopts), with TWO_LAYER_FILES as one file."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Files(LoadFileScheduling):
        def _split_scope(self, nodeid):
            scope = super()._split_scope(nodeid)
            return TWO_LAYER_FILES[0] if scope in TWO_LAYER_FILES else scope

    return Files(config, log)


# CI runs the same examples every time (a failure there is reproducible; derandomize also means
# no example database); locally they vary.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """The tests' own products run on one BLAS thread: the suite's workers take a core each,
    and a second thread waiting for a busy core spins (pipeline/threads.py). The textbook's
    two-layer loop took 8x longer on two threads beside other work."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


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
    folder = made_once(tmp_path_factory, "features",
                       lambda folder: write_features(*raw_files, folder / "features.npz"))
    return folder / "features.npz"


@pytest.fixture(scope="session")
def pixel_features(features_file):
    """features.npz loaded: X_train and X_test are PixelColumns read from the file."""
    return load_features(features_file)


@pytest.fixture(scope="session")
def trained(features_file, tmp_path_factory):
    """params.npz and metrics.json of the course's run, made once by the two stages' command
    lines, for every test to read (a test that writes copies them first).

    Returns (params path, metrics path, what evaluate printed).
    """
    def train_and_evaluate(folder):
        params, metrics = folder / "params.npz", folder / "metrics.json"
        train = run_cli("train", "--features", features_file, "--out", params,
                        "--runs-dir", folder / "runs")
        assert train.returncode == 0, train.stderr
        evaluate = run_cli("evaluate", "--features", features_file, "--params", params,
                           "--out", metrics)
        assert evaluate.returncode == 0, evaluate.stderr
        (folder / "evaluate.txt").write_text(evaluate.stdout)

    folder = made_once(tmp_path_factory, "trained", train_and_evaluate)
    return (folder / "params.npz", folder / "metrics.json",
            (folder / "evaluate.txt").read_text())


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


@pytest.fixture(scope="session")
def two_layer_runs(features, tmp_path_factory):
    """The textbook two-layer fit and the gram engine's, 2500 steps each: run once for the
    whole suite, as the textbook's steps are its slowest single part."""
    def fit(folder):
        X, Y = features["X_train"], features["Y_train"]
        textbook = two_layer_model(X, Y, TWO_LAYER, num_iterations=2500)
        gram = train_networks(X, Y, initialize_parameters(*TWO_LAYER), [0.0075], 2500,
                              X_test=features["X_test"], Y_test=features["Y_test"],
                              engine="gram")
        (folder / "runs.pickle").write_bytes(pickle.dumps((textbook, gram)))

    folder = made_once(tmp_path_factory, "two-layer", fit)
    return pickle.loads((folder / "runs.pickle").read_bytes())
