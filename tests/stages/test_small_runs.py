"""compare and cv through their command lines with every model and optimizer, on a small
generated dataset in the course's layout; and cv's mini-batch path against separate fits."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, run_cli

from pipeline import config
from pipeline.artifacts.params import load_params
from pipeline.cv.folds import stratified_folds
from pipeline.cv.minibatch import cross_validate_minibatch
from pipeline.engines.minibatch import optimize_minibatch
from pipeline.nn.layers import L_model_scores, propagate
from pipeline.nn.logistic import log_loss, predict_from_scores
from pipeline.settings import Optimizer

MODELS = ["logistic", "two-layer", "l-layer"]
RUNS = {"gd": ["--num-iterations", "200"], "adam": ["--optimizer", "adam", "--num-epochs", "2"]}


@pytest.fixture(scope="module")
def small_features(tmp_path_factory):
    """features.npz of 120 training and 40 test images from scripts/synthetic_dataset.py."""
    folder = tmp_path_factory.mktemp("small")
    subprocess.run([sys.executable, ROOT / "scripts" / "synthetic_dataset.py", folder,
                    "--train", "120", "--test", "40", "--seed", "3", "--strength", "3",
                    "--quiet"], check=True, cwd=ROOT)
    result = run_cli("features", "--train-file", folder / "train.h5", "--test-file",
                     folder / "test.h5", "--out", folder / "features.npz")
    assert result.returncode == 0, result.stderr
    return folder / "features.npz"


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("optimizer", RUNS)
def test_compare_trains_one_model_per_rate_with_every_model_and_optimizer(
        small_features, tmp_path, model, optimizer):
    out = tmp_path / "compare"
    result = run_cli("compare", "--features", small_features, "--out-dir", out, "--model", model,
                     "--learning-rates", "0.001", "0.01", "--quiet", *RUNS[optimizer])
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert [row["learning_rate"] for row in summary] == [0.001, 0.01]
    for row in summary:
        params = load_params(out / row["params"])
        assert (str(params["model"]), str(params["optimizer"])) == (model, optimizer)
        assert float(params["learning_rate"]) == row["learning_rate"]
        # gd: a checkpoint every 100 steps from 0; adam: epochs 0, 1 and 2
        assert params["iterations"].tolist() == ([0, 100] if optimizer == "gd" else [0, 1, 2])
        assert 0 <= row["test_accuracy"] <= 100 and np.isfinite(row["final_cost"])
    assert (out / "learning_rates.png").stat().st_size > 10_000


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("optimizer", RUNS)
def test_cv_searches_with_every_model_and_optimizer_and_scores_the_test_set_once(
        small_features, tmp_path, model, optimizer):
    out = tmp_path / "cv"
    result = run_cli("cv", "--features", small_features, "--out-dir", out, "--model", model,
                     "--learning-rates", "0.001", "0.01", "--repeats", "1", "--folds", "3",
                     "--quiet", *RUNS[optimizer])
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["model"], summary["optimizer"]) == (model, optimizer)
    assert summary["unit"] == ("iteration" if optimizer == "gd" else "epoch")
    checkpoints = [100, 200] if optimizer == "gd" else [1, 2]
    assert summary["iterations"] == checkpoints
    assert np.array(summary["val_accuracy_mean"]).shape == (2, 2)  # (rates, checkpoints)
    fold_of = np.array(summary["fold_of"])  # (repeats, m): each image validated once
    assert fold_of.shape == (1, 120) and sorted(set(fold_of[0])) == [0, 1, 2]
    best = summary["best"]
    assert best["learning_rate"] in (0.001, 0.01) and best["num_iterations"] in checkpoints
    assert 0 <= best["test_accuracy"] <= 100


def test_the_minibatch_path_scores_each_fold_as_a_fit_on_its_own_columns():
    rng = np.random.default_rng(4)
    X = rng.random((6, 30))
    Y = (X[:1] + 0.3 * rng.random((1, 30)) > 0.8).astype(float)
    fold_of = stratified_folds(Y, 3, 2, 0)  # (2 repeats, 30)
    grid = [("none", 0.0, 0.05), ("none", 0.5, 0.2), ("none", 0.0, 0.2)]  # l2 0: 2 rates at once
    start = {"W1": np.zeros((1, 6)), "b1": np.zeros((1, 1))}
    optimizer = Optimizer("adam", 4, 3)
    result = cross_validate_minibatch({"X_train": X, "Y_train": Y}, fold_of=fold_of, folds=3,
                                      grid=grid, start=start, optimizer=optimizer)
    assert result["val_accuracy"].shape == (6, 3, 3) and result["iterations"] == [1, 2, 3]
    for r in range(2):
        for f in range(3):
            fit, val = fold_of[r] != f, fold_of[r] == f
            for g, (_, l2, lr) in enumerate(grid):
                run = optimize_minibatch(start, propagate, X[:, fit], Y[:, fit],
                                         optimizer="adam", learning_rate=lr, mini_batch_size=4,
                                         num_epochs=3, epsilon=config.EPSILON,
                                         seed=config.MINIBATCH_SEED, l2=l2)
                Z = L_model_scores(X[:, val], run["parameters"])  # (1, m_val)
                row = r * 3 + f
                assert result["val_accuracy"][row, g, -1] == pytest.approx(
                    100 * np.mean(predict_from_scores(Z) == Y[:, val]))
                assert result["val_log_loss"][row, g, -1] == pytest.approx(
                    np.mean(log_loss(Z, Y[:, val])), rel=1e-12)
