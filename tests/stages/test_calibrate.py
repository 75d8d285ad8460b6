"""The calibrate stage: the course neuron's temperature and figures, written and kept with its run
in the ledger, restored from there, and refused in one line when its inputs do not fit."""

import numpy as np
import pytest
from helpers import assert_one_line_error, run_cli

from pipeline.artifacts.calibration_file import calibration_for, load_calibration
from pipeline.artifacts.files import sha256_of
from pipeline.cli import run
from pipeline.runs.record import code_fingerprint
from pipeline.stages import calibrate


@pytest.fixture(scope="module")
def course_run(features_file, tmp_path_factory):
    """The course's neuron trained into a ledger of its own, then calibrated: (folder, stdout)."""
    folder = tmp_path_factory.mktemp("course_run")
    trained = run_cli("train", "--features", features_file, "--out", folder / "params.npz",
                      "--runs-dir", folder / "runs", "--quiet")
    assert trained.returncode == 0, trained.stderr
    made = run_cli("calibrate", "--features", features_file, "--params", folder / "params.npz",
                   "--runs-dir", folder / "runs")
    assert made.returncode == 0, made.stderr
    return folder, made


def test_the_course_neurons_calibration(course_run):
    folder, made = course_run
    c = load_calibration(folder / "calibration.npz", 12288)
    assert str(c["method"]) == "temperature" and float(c["temperature"]) == pytest.approx(
        4.5525, abs=1e-4)
    assert str(c["params_sha256"]) == sha256_of(folder / "params.npz")
    assert c["oof_after"][4] <= c["oof_before"][4]  # log loss where it was fitted
    assert c["bands"][:, 0].sum() == 209 and c["train_counts"].tolist() == [209, 72]
    assert float(c["seconds"]) < 1  # the neuron's folds all at once
    lines = made.stdout.splitlines()
    assert all(len(line) <= 100 for line in lines)  # a terminal's width, continuations indented
    text = " ".join(made.stdout.split())
    assert text.startswith("calibrated the logistic model: T = 4.552, fitted on the 5-fold "
                           "out-of-fold logits of the 209 training images")
    assert any(line.startswith("  test: shown, not used  ") for line in lines)
    assert calibration_for(folder / "params.npz", folder / "calibration.npz")[1] == ""


def test_the_same_run_and_folds_are_restored_from_the_ledger(course_run, features_file):
    folder, made = course_run
    code = code_fingerprint(sources=calibrate.CALIBRATION_SOURCES)[:12]  # its own code's
    [kept] = (folder / "runs").glob(f"*/calibration-5-folds-seed-0-code-{code}.npz")
    out = folder / "again.npz"
    again = run_cli("calibrate", "--features", features_file, "--params", folder / "params.npz",
                    "--runs-dir", folder / "runs", "--out", out)
    assert again.returncode == 0 and again.stderr.startswith("restored the calibration of run")
    assert out.read_bytes() == kept.read_bytes() == (folder / "calibration.npz").read_bytes()
    assert again.stdout == made.stdout


def test_another_seed_is_fitted_again_and_a_stale_file_is_seen(course_run, features_file,
                                                               tmp_path):
    folder, _ = course_run
    code = run(calibrate.main, ["--features", str(features_file), "--params",
                                str(folder / "params.npz"), "--runs-dir", str(tmp_path / "runs"),
                                "--out", str(tmp_path / "c.npz"), "--seed", "3", "--folds", "3"])
    assert code == 0
    c = load_calibration(tmp_path / "c.npz")
    assert int(c["folds"]) == 3 and int(c["seed"]) == 3
    other = tmp_path / "params.npz"
    with np.load(folder / "params.npz") as p:
        np.savez(other, **{**dict(p), "b": np.array(0.5)})
    found, note = calibration_for(other, tmp_path / "c.npz")
    assert found is None and "is stale" in note and "make calibrate" in note


def test_bad_options_and_inputs_are_one_line(course_run, features_file, tmp_path):
    folder, _ = course_run
    args = ["--features", features_file, "--params", folder / "params.npz", "--runs-dir",
            tmp_path / "runs", "--out", tmp_path / "c.npz"]
    assert_one_line_error(run_cli("calibrate", *args, "--folds", "1"), "--folds 1")
    assert_one_line_error(run_cli("calibrate", *args, "--folds", "100"), "100 folds need",
                          "a fold would hold one class")
    assert_one_line_error(run_cli("calibrate", *args[:2], "--params", tmp_path / "none.npz"),
                          "none.npz")
    assert not (tmp_path / "c.npz").exists()
