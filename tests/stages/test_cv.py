"""The cv stage through its command line: its summary, table and figure, a searched grid, a
network's dropout searched from He's start, a diverging rate, and bad options that are one line
and touch nothing."""

import json

import numpy as np
import pytest
from helpers import assert_one_line_error, run_cli

from pipeline.engines.logistic import gradient_descent

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


@pytest.fixture(scope="module")
def cv_run(features_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("cv") / "cv"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--repeats", "2",
                     "--num-iterations", "300", "--learning-rates", "0.001", "0.005")
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_cv_writes_its_summary_table_and_figure(cv_run, features):
    out, stdout = cv_run
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["folds"], summary["repeats"], summary["seed"]) == (5, 2, 0)
    assert summary["axes"] == ["learning_rate", "iteration"]
    assert summary["iterations"] == [100, 200, 300]
    assert np.array(summary["val_accuracy_mean"]).shape == (2, 3)
    assert np.array(summary["val_accuracy_sd"]).shape == (2, 3)
    assert np.array(summary["val_log_loss_mean"]).shape == (2, 3)
    assert np.array(summary["fold_of"]).shape == (2, 209)
    assert summary["no_information_rate"] == pytest.approx(100 * 137 / 209)
    best = summary["best"]
    assert best["learning_rate"] in (0.001, 0.005) and best["num_iterations"] in (100, 200, 300)
    assert best["val_accuracy_mean"] == np.nanmax(summary["val_accuracy_mean"])
    assert len(best["test_accuracy_ci95"]) == 2 and best["l2"] == 0.0
    # the one test score is the fit with the chosen settings on all 209 training images
    run = gradient_descent(features["X_train"], features["Y_train"], [best["learning_rate"]],
                           best["num_iterations"], features["X_test"], features["Y_test"])
    Z = run["w"][:, 0] @ features["X_test"] + run["b"][0]
    assert best["test_accuracy"] == pytest.approx(100 * np.mean((Z > 0) == features["Y_test"]))
    assert (out / "cv.png").read_bytes()[:4] == b"\x89PNG"
    assert "| setting |" in (out / "summary.md").read_text()
    assert "training images (the test set chose nothing)" in stdout
    assert summary["verdict"].splitlines()[0][:40] in stdout.replace("\n", " ")
    assert max(len(line) for line in stdout.splitlines()) <= 80


def test_the_course_data_get_the_plain_sentence(cv_run):
    summary = json.loads((cv_run[0] / "summary.json").read_text())
    assert summary["beats_no_information_rate"] is False
    assert summary["verdict"].startswith(
        'No setting beats the majority guess (always non-cat: 65.6 %)')


def test_a_searched_grid_adds_leading_axes(features_file, tmp_path):
    out = tmp_path / "cv"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--repeats", "1",
                     "--folds", "2", "--num-iterations", "100", "--learning-rates", "0.005",
                     "--l2", "0", "50", "--augment", "none", "flip")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["axes"] == ["augment", "l2", "learning_rate", "iteration"]
    assert np.array(summary["val_accuracy_mean"]).shape == (2, 2, 1, 1)
    assert set(summary["best"]) >= {"l2", "augment"}


def test_a_network_searches_keep_prob_from_hes_start(features_file, tmp_path):
    out, runs = tmp_path / "cv", tmp_path / "runs"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--runs-dir", runs,
                     "--model", "l-layer", "--keep-prob", "1", "0.8", "--init", "he",
                     "--repeats", "1", "--folds", "2", "--num-iterations", "100",
                     "--learning-rates", "0.0075", "--quiet")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["axes"] == ["keep_prob", "learning_rate", "iteration"]
    assert summary["keep_prob"] == [1.0, 0.8] and summary["init"] == "he"
    assert np.array(summary["val_accuracy_mean"]).shape == (2, 1, 1)
    best = summary["best"]
    assert best["keep_prob"] in (1.0, 0.8)
    assert best["val_accuracy_mean"] == np.nanmax(summary["val_accuracy_mean"])
    assert "lr 0.0075, keep_prob 0.8 |" in (out / "summary.md").read_text()
    assert f"keep_prob {best['keep_prob']!r}" in result.stdout.split("Chosen:")[1]
    # the final fit, kept in the ledger, ran with the chosen keep_prob from He's start
    run, = [json.loads(p.read_text()) for p in runs.glob("*/run.json")]
    assert (run["command"], run["init"], run["keep_prob"]) == ("cv", "he", best["keep_prob"])


def test_a_diverging_rate_is_reported_not_a_crash(features_file, tmp_path):
    out = tmp_path / "cv"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--repeats", "1",
                     "--num-iterations", "200", "--learning-rates", "0.005", "1e307")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diverged"] == [{"augment": "none", "l2": 0.0, "keep_prob": 1.0,
                                    "learning_rate": 1e307}]
    assert summary["val_accuracy_mean"][1] == [None, None]
    assert summary["best"]["learning_rate"] == 0.005
    assert "diverged" in result.stdout


BAD_OPTIONS = [
    (["--folds", "1"], "--folds 1: need 2 to 72"),
    (["--folds", "73"], "--folds 73: need 2 to 72"),
    (["--repeats", "0"], "--repeats 0: need at least 1"),
    (["--learning-rates"], "--learning-rates is empty"),
    (["--l2"], "--l2 is empty"),
    (["--l2", "-1"], "must be a finite number >= 0"),
    (["--l2", "nan"], "must be a finite number >= 0"),
    (["--augment", "rotate"], "--augment 'rotate': choose from none, flip"),
    (["--learning-rates", "0.01", "0.01"], "0.01 is given twice"),
    (["--num-iterations", "50"], "need at least 100"),
    (["--seed", "-1"], "'-1' must be 0 or more"),
    (["--model", "l-layer", "--keep-prob", "0"], "'0' must be above 0 and at most 1"),
    (["--model", "l-layer", "--keep-prob", "1.5"], "'1.5' must be above 0 and at most 1"),
    (["--model", "l-layer", "--keep-prob", "0.8", "0.8"], "--keep-prob: 0.8 is given twice"),
    (["--keep-prob", "1", "0.8"], "--keep-prob and --init are a network's"),
    (["--init", "he"], "--keep-prob and --init are a network's"),
]


@pytest.mark.parametrize("args, message", BAD_OPTIONS)
def test_bad_options_are_one_line_and_touch_nothing(cv_run, features_file, args, message):
    out = cv_run[0]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = run_cli("cv", "--features", features_file, "--out-dir", out, *args)
    assert_one_line_error(result, message, code=2 if "must be" in message else 1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
