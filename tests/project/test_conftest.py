"""The suite's own setup: it writes into a temporary home, never the checkout, its workers make a
costly setup once, and hypothesis runs its derandomized profile under CI."""

import os
import subprocess
import sys

import hypothesis
import pytest
from helpers import HOME, ROOT, made_once

from pipeline import config


def test_the_sessions_home_is_a_temporary_folder_outside_the_checkout(raw_files):
    assert HOME.is_dir() and not HOME.is_relative_to(ROOT) and not ROOT.is_relative_to(HOME)
    assert config.HOME_DIR == HOME and os.environ[config.HOME_ENV] == str(HOME)
    for path in (config.RAW_DIR, config.FEATURES_FILE, config.PARAMS_FILE, config.REPORTS_DIR,
                 config.METRICS_FILE, config.COMPARE_DIR, config.CV_DIR, *raw_files):
        assert path.is_relative_to(HOME), path


def test_a_stage_started_in_the_checkout_writes_into_the_sessions_home():
    code = "from pipeline import config; print(config.PARAMS_FILE)"
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout.strip() == str(config.PARAMS_FILE), child.stderr


def test_a_shared_setup_is_made_once_and_a_failed_one_again(tmp_path_factory):
    made = []

    def make(folder):
        made.append(folder)
        (folder / "made.txt").write_text("once")

    def fail(folder):
        (folder / "half.txt").write_text("half")
        raise RuntimeError("the setup failed")

    first = made_once(tmp_path_factory, "shared-once", make)
    assert made_once(tmp_path_factory, "shared-once", fail) == first  # not made again
    assert made == [first] and (first / "made.txt").read_text() == "once"
    with pytest.raises(RuntimeError):
        made_once(tmp_path_factory, "shared-failed", fail)
    again = made_once(tmp_path_factory, "shared-failed", make)
    assert sorted(p.name for p in again.iterdir()) == [".made", "made.txt"]


def test_hypothesis_is_derandomized_exactly_under_ci():
    assert hypothesis.settings.default.derandomize == bool(os.environ.get("CI"))


def test_ci_selects_the_derandomized_profile():
    if os.environ.get("CI"):  # the test above already holds it here
        assert hypothesis.settings.default.derandomize
        return
    test = "tests/project/test_conftest.py::test_hypothesis_is_derandomized_exactly_under_ci"
    child = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p",
                            "no:cacheprovider", test],
                           cwd=ROOT, env={**os.environ, "CI": "1"}, capture_output=True,
                           text=True, timeout=300)
    assert child.returncode == 0 and "1 passed" in child.stdout, child.stdout + child.stderr
