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
    (["--search", "random", "--trials", "0"], "'0' must be at least 1"),
    (["--zoom"], "--zoom is a random search's: add --search random"),
    (["--trials", "5"], "--trials is a random search's"),
    (["--learning-rates", "1e-4..1e-1"], "a range lo..hi is for a random search"),
    (["--model", "two-layer", "--layers", "4..8"], "a range lo..hi is for a random search"),
    (["--search", "random", "--learning-rates", "0..0.1"], "'0' must be a finite number > 0"),
    (["--search", "random", "--learning-rates", "0.1..0.01"], "0.1..0.01: 0.1..0.01 is reversed"),
    (["--search", "random", "--model", "l-layer", "--keep-prob", "0.5..1.2"],
     "'1.2' must be above 0 and at most 1"),
    (["--search", "random", "--optimizer", "adam", "--beta1", "0.9..1"],
     "'1' must be at least 0 and below 1"),
    (["--search", "random", "--optimizer", "adam", "--mini-batch-size", "65..100"],
     "holds no power of 2"),
    (["--search", "random", "--l2", "0", "1"], "a random search takes one value"),
    (["--search", "random", "--keep-prob", "0.5..1"], "keep_prob is not searched for logistic"),
    (["--search", "random", "--beta", "0.8..0.9"], "beta is not searched for logistic with gd"),
    (["--search", "random", "--augment", "none", "flip"], "a random search takes one augmentation"),
    (["--search", "random", "--trials", "100000000"], "would hold about"),  # sized, not allocated
    (["--search", "random", "--model", "l-layer", "--layers", "8..10000000 7 5"],
     "of 10000012 hidden units x 5 folds"),
    (["--search", "random", "--zoom", "--trials", "2", "--num-iterations", "100", "--repeats", "1",
      "--learning-rates", "1e307..1e308"], "--zoom: every candidate of the first round diverged"),
]


@pytest.mark.parametrize("args, message", BAD_OPTIONS)
def test_bad_options_are_one_line_and_touch_nothing(cv_run, features_file, args, message):
    out = cv_run[0]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = run_cli("cv", "--features", features_file, "--out-dir", out, *args)
    assert_one_line_error(result, message, code=2 if "must be" in message else 1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.fixture(scope="module")
def random_run(features_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("random") / "cv"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--search", "random",
                     "--trials", "6", "--num-iterations", "200", "--learning-rates", "1e-4..1e-2")
    assert result.returncode == 0, result.stderr
    return json.loads((out / "summary.json").read_text()), result.stdout, out


def test_a_random_search_scores_every_candidate_and_draws_each_setting(random_run):
    summary, stdout, out = random_run
    assert (summary["search"], summary["repeats"]) == ("random", 1)  # many candidates, once
    assert summary["searched"] == ["learning_rate", "l2"]
    assert summary["regions"][0]["learning_rate"] == pytest.approx([1e-4, 1e-2])
    assert summary["regions"][0]["l2"] == [0.0, 10.0]
    candidates = summary["candidates"]
    assert len(candidates) == 6 and {c["round"] for c in candidates} == {1}
    assert all(1e-4 <= c["learning_rate"] <= 1e-2 and 0 <= c["l2"] <= 10 for c in candidates)
    assert np.array(summary["val_accuracy_mean"]).shape == (6, 2)
    best = summary["best"]
    chosen = candidates[best["candidate"]]
    assert (best["learning_rate"], best["l2"]) == (chosen["learning_rate"], chosen["l2"])
    assert best["val_accuracy_mean"] == max(c["val_accuracy_mean"] for c in candidates)
    assert set(summary["importance"]) <= {"learning_rate", "l2"}
    assert (out / "settings.png").read_bytes()[:4] == b"\x89PNG"
    assert "![each setting](settings.png)" in (out / "summary.md").read_text()
    assert "Random search: 6 candidates, lr 0.0001..0.01 (log); l2 0..10 (log)." in stdout
    assert max(len(line) for line in stdout.splitlines()) <= 80


def test_an_adam_search_names_each_setting_once_and_fits_80_columns(features_file, tmp_path):
    out = tmp_path / "cv"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--search", "random",
                     "--trials", "3", "--optimizer", "adam", "--num-epochs", "1")
    assert result.returncode == 0, result.stderr
    assert "lr, l2, beta1, beta2" in result.stdout.splitlines()[1]  # the table's header
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    best = json.loads((out / "summary.json").read_text())["best"]
    assert f"beta2 {best['beta2']:.12g}," in result.stdout  # as drawn: it can be typed again


def test_the_same_seed_draws_the_same_candidates_and_another_seed_others(random_run,
                                                                         features_file,
                                                                         tmp_path):
    def candidates(*seed):
        out = tmp_path / "cv"
        result = run_cli("cv", "--features", features_file, "--out-dir", out, "--search",
                         "random", "--trials", "6", "--num-iterations", "200",
                         "--learning-rates", "1e-4..1e-2", *seed)
        assert result.returncode == 0, result.stderr
        return json.loads((out / "summary.json").read_text())["candidates"]

    assert candidates() == random_run[0]["candidates"]
    other = candidates("--seed", "1")
    assert [c["learning_rate"] for c in other] != [
        c["learning_rate"] for c in random_run[0]["candidates"]]


def test_zoom_draws_a_second_round_inside_the_first_rounds_best_region(features_file,
                                                                       tmp_path):
    out = tmp_path / "cv"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--search", "random",
                     "--trials", "5", "--zoom", "--num-iterations", "100")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert [c["round"] for c in summary["candidates"]] == [1] * 5 + [2] * 5
    first, second = summary["regions"]
    for name, (low, high) in second.items():
        assert first[name][0] <= low < high <= first[name][1]
    for c in summary["candidates"][5:]:
        assert second["learning_rate"][0] <= c["learning_rate"] <= second["learning_rate"][1]
    assert "Round 2, around the first round's best: lr " in result.stdout


def test_a_network_search_draws_its_hidden_size_and_keep_prob_and_keeps_the_final_fit(
        features_file, tmp_path):
    out, runs = tmp_path / "cv", tmp_path / "runs"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--runs-dir", runs,
                     "--search", "random", "--trials", "3", "--num-iterations", "100",
                     "--model", "two-layer", "--layers", "2..8", "--keep-prob", "0.5..1",
                     "--l2", "0")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["searched"] == ["learning_rate", "keep_prob", "hidden1"]
    candidates = summary["candidates"]
    assert all(c["l2"] == 0 and 2 <= c["hidden1"] <= 8 and 0.5 <= c["keep_prob"] <= 1
               for c in candidates)
    best = summary["best"]
    chosen = candidates[best["candidate"]]
    assert best["layer_dims"] == [12288, chosen["hidden1"], 1]
    assert best["keep_prob"] == chosen["keep_prob"]
    kept = [json.loads(p.read_text()) for p in runs.rglob("*.json")]
    assert any(run.get("command") == "cv" for run in kept), [p.name for p in runs.rglob("*")]


def test_the_cnn_is_cross_validated_on_mini_batches_and_its_choice_kept(features_file,
                                                                         tmp_path):
    out, runs = tmp_path / "cv", tmp_path / "runs"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--runs-dir", runs,
                     "--model", "cnn", "--layers", "2x4 p8", "--num-epochs", "2", "--folds", "2",
                     "--learning-rates", "0.003", "0.01")
    assert result.returncode == 0, result.stderr
    assert "the CNN: 1 repeat of the folds" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["unit"], summary["repeats"], summary["iterations"]) == ("epoch", 1, [1, 2])
    assert summary["architecture"] == "2x4 p8" and summary["optimizer"] == "adam"
    assert np.array(summary["val_accuracy_mean"]).shape == (2, 2)
    kept = [json.loads(p.read_text()) for p in runs.rglob("*.json")]
    assert any(run.get("command") == "cv" and run.get("architecture") == "2x4 p8"
               for run in kept)
