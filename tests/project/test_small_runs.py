"""compare and cv through their command lines with every model and optimizer, on a small
generated dataset in the course's layout."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest
from helpers import LOG_2, ROOT, run_cli
from PIL import Image

from pipeline import config
from pipeline.artifacts.features import make_features
from pipeline.artifacts.params import load_params
from pipeline.engines.minibatch import optimize_minibatch
from pipeline.nn import logistic, network
from pipeline.nn.layers import propagate
from pipeline.nn.logistic import log_loss

MODELS = ["logistic", "two-layer", "l-layer"]
RUNS = {"gd": ["--num-iterations", "200"], "adam": ["--optimizer", "adam", "--num-epochs", "2"]}
HIDDEN = {"logistic": [], "two-layer": [7], "l-layer": [20, 7, 5]}  # the course's networks
GD_SEED, ADAM_BATCH, ADAM_SEED = 1, 64, 10  # the notebooks' seed, batch size and shuffle seed


def every_fourth_pixel(source, target):
    """A copy of a course-layout .h5 file with images of a quarter of the side (64 -> 16)."""
    with h5py.File(source, "r") as h5, h5py.File(target, "w") as small:
        for key in h5:
            small[key] = h5[key][:, ::4, ::4] if key.endswith("_set_x") else h5[key][()]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """train.h5 and test.h5 of 120 and 40 images from scripts/synthetic_dataset.py, cut to 16x16
    (the stages take any image size; the oracles' loops then take seconds, not a minute);
    features.npz made from them by the features stage; and the course's float arrays (x / 255)
    of the same files, the oracles' input."""
    folder = tmp_path_factory.mktemp("small")
    subprocess.run([sys.executable, ROOT / "scripts" / "synthetic_dataset.py", folder / "64",
                    "--train", "120", "--test", "40", "--seed", "3", "--strength", "3",
                    "--quiet"], check=True, cwd=ROOT)
    for split in ("train", "test"):
        every_fourth_pixel(folder / "64" / f"{split}.h5", folder / f"{split}.h5")
    result = run_cli("features", "--train-file", folder / "train.h5", "--test-file",
                     folder / "test.h5", "--out", folder / "features.npz")
    assert result.returncode == 0, result.stderr
    return folder / "features.npz", make_features(folder / "train.h5", folder / "test.h5")


def course_fit(model, optimizer, X, Y, learning_rate, steps):
    """The course's own loop from the course's start: (parameters {"W1", "b1", ...}, costs).
    gd: the lesson's optimize (one neuron, from zeros) or the week-4 loop (seed-1 weights);
    adam: the second course's mini-batch loop with the layered propagate."""
    dims = [X.shape[0], *HIDDEN[model], 1]
    if model == "logistic":
        start = {"W1": np.zeros((1, dims[0])), "b1": np.zeros((1, 1))}
    elif model == "two-layer":
        start = network.initialize_parameters(*dims, seed=GD_SEED)
    else:
        start = network.initialize_parameters_deep(dims, seed=GD_SEED)
    if optimizer == "adam":
        run = optimize_minibatch(start, propagate, X, Y, optimizer="adam",
                                 learning_rate=learning_rate, mini_batch_size=ADAM_BATCH,
                                 num_epochs=steps, epsilon=config.EPSILON, seed=ADAM_SEED)
        return run["parameters"], list(run["costs"])
    if model == "logistic":
        params, _, costs = logistic.optimize(np.zeros((dims[0], 1)), 0.0, X, Y, steps,
                                             learning_rate)
        return {"W1": params["w"].T, "b1": np.array([[params["b"]]])}, costs
    return network.optimize(X, Y, start, learning_rate, steps)


def layered(params):
    """A params.npz's weights as {"W1", "b1", ...}: a neuron's w (n_x, 1) is W1 = w.T."""
    if "w" in params:
        return {"W1": params["w"].T, "b1": np.array([[float(params["b"])]])}
    return {k: params[k] for k in params if k[0] in "Wb" and k[1:].isdigit()}


def textbook_accuracy(parameters, X, Y):
    """100 - mean|prediction - Y| * 100, predictions 1 where the course's AL > 0.5."""
    AL, _ = network.L_model_forward(X, parameters)
    return 100 - np.mean(np.abs((AL > 0.5) - Y)) * 100


def textbook_cost(parameters, X, Y):
    """The mean cross-entropy of the course's forward pass, from its last Z (the stable form of
    -(Y log AL + (1 - Y) log(1 - AL)): a saturated AL rounds log(1 - AL) to a few digits)."""
    _, caches = network.L_model_forward(X, parameters)
    return float(np.mean(log_loss(caches[-1][1], Y)))


def assert_same_weights(got, want):
    assert got.keys() == want.keys()
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-7,
                                   atol=1e-9 * np.abs(want[key]).max(), err_msg=key)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("optimizer", RUNS)
def test_compare_trains_one_model_per_rate_with_every_model_and_optimizer(
        small_data, tmp_path, model, optimizer):
    features_file, data = small_data
    X, Y = data["X_train"], data["Y_train"]
    out = tmp_path / "compare"
    result = run_cli("compare", "--features", features_file, "--out-dir", out, "--model", model,
                     "--learning-rates", "0.001", "0.01", "--quiet", *RUNS[optimizer])
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert [row["learning_rate"] for row in summary] == [0.001, 0.01]
    steps = 200 if optimizer == "gd" else 2
    for row in summary:
        params = load_params(out / row["params"])
        assert (str(params["model"]), str(params["optimizer"])) == (model, optimizer)
        assert float(params["learning_rate"]) == row["learning_rate"]
        # gd: a checkpoint every 100 steps from 0; adam: after epochs 1 and 2
        assert params["iterations"].tolist() == ([0, 100] if optimizer == "gd" else [1, 2])
        weights = layered(params)
        # the weights are the course's loop's, run on the float arrays
        expected, costs = course_fit(model, optimizer, X, Y, row["learning_rate"], steps)
        assert_same_weights(weights, expected)
        if optimizer == "gd":  # the loop's costs at 0 and 100; a neuron starts at log 2
            np.testing.assert_allclose(row["costs"], costs, rtol=1e-9)
            if model == "logistic":
                assert row["costs"][0] == LOG_2
        assert row["final_cost"] == pytest.approx(textbook_cost(weights, X, Y), rel=1e-9)
        assert row["test_accuracy"] == textbook_accuracy(weights, data["X_test"],
                                                         data["Y_test"])
        assert row["train_accuracy"] == textbook_accuracy(weights, X, Y)
    assert_curves_drawn(out / "learning_rates.png", (1200, 450), lines=2)
    if model == "logistic" and optimizer == "gd":  # the larger rate learns more in 200 steps
        assert summary[1]["final_cost"] < summary[0]["final_cost"] < LOG_2.expected


# matplotlib's first two colours ("C0", "C1"): the first two curves of an axes
CURVE_COLOURS = [(31, 119, 180), (255, 127, 14)]


def assert_curves_drawn(path, size, lines):
    """A PNG of the size the figure asks for, whose left panel (the learning curves) holds
    each of the first `lines` curve colours, drawn over many pixels."""
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == size
        pixels = np.asarray(image.convert("RGB"))
    left = pixels[:, : size[0] // 2].reshape(-1, 3)
    assert len(np.unique(left, axis=0)) > 20  # text, axes, grid and curves, antialiased
    for colour in CURVE_COLOURS[:lines]:
        assert (left == colour).all(axis=1).sum() > 20, colour


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("optimizer", RUNS)
def test_cv_searches_with_every_model_and_optimizer_and_scores_the_test_set_once(
        small_data, tmp_path, model, optimizer):
    features_file, data = small_data
    X, Y = data["X_train"], data["Y_train"]
    out = tmp_path / "cv"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--model", model,
                     "--learning-rates", "0.001", "0.01", "--repeats", "1", "--folds", "3",
                     "--quiet", *RUNS[optimizer])
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["model"], summary["optimizer"]) == (model, optimizer)
    assert summary["unit"] == ("iteration" if optimizer == "gd" else "epoch")
    checkpoints = [100, 200] if optimizer == "gd" else [1, 2]
    assert summary["iterations"] == checkpoints
    means = np.array(summary["val_accuracy_mean"], dtype=float)  # (rates, checkpoints)
    assert means.shape == (2, 2)
    fold_of = np.array(summary["fold_of"])  # (repeats, m): each image validated once
    assert fold_of.shape == (1, 120) and sorted(set(fold_of[0])) == [0, 1, 2]
    best = summary["best"]
    r, c = [0.001, 0.01].index(best["learning_rate"]), checkpoints.index(best["num_iterations"])
    assert best["val_accuracy_mean"] == means[r, c] == np.nanmax(means)
    # the chosen setting's validation: the course's loop fitted on each fold's other images
    folds = []
    for f in range(3):
        fit, val = fold_of[0] != f, fold_of[0] == f
        weights, _ = course_fit(model, optimizer, X[:, fit], Y[:, fit], best["learning_rate"],
                                best["num_iterations"])
        folds.append(textbook_accuracy(weights, X[:, val], Y[:, val]))
    assert best["val_accuracy_mean"] == pytest.approx(np.mean(folds), abs=1e-9)
    # and its one test score: the course's loop on all 120 images, scored on the 40
    weights, _ = course_fit(model, optimizer, X, Y, best["learning_rate"],
                            best["num_iterations"])
    assert best["test_accuracy"] == pytest.approx(
        textbook_accuracy(weights, data["X_test"], data["Y_test"]), abs=1e-9)
    assert_curves_drawn(out / "cv.png", (1200, 450), lines=2 if means.size == 4 else 1)
