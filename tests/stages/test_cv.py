"""Cross-validation: batched masked folds equal separate fits, folds are stratified, a mirror never
trains its own fold, and bad options are one line that touches nothing."""

import json

import numpy as np
import pytest
from conftest import assert_one_line_error, run_cli

from pipeline.artifacts.features import flatten, unflatten
from pipeline.columns import flipped
from pipeline.cv.folds import grid_masks, stratified_folds
from pipeline.cv.gram import cross_validate
from pipeline.cv.summary import best_candidate, fold_statistics
from pipeline.engines.logistic import gradient_descent, masked_gram_steps
from pipeline.nn.logistic import log_loss, optimize

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def test_masked_rows_equal_separate_textbook_fits_with_and_without_l2():
    rng = np.random.default_rng(3)
    n_x, M = 30, 14
    X = rng.normal(size=(n_x, M)) / 4
    Y = rng.integers(0, 2, size=(1, M)).astype(float)
    masks = (rng.random((4, M)) < 0.7).astype(float)
    lr = np.array([[0.1], [0.3], [0.1], [0.05]])
    l2 = np.array([[0.0], [0.0], [2.0], [0.5]])
    costs = []

    def checkpoint(i, a, b):  # each row's own textbook cost, over its own columns
        Z = a @ (X.T @ X) + b
        w_squared = np.sum((a @ X.T) ** 2, axis=1)
        m_row = masks.sum(axis=1)
        costs.append((masks * log_loss(Z, Y)).sum(axis=1) / m_row + l2[:, 0] / (2 * m_row)
                     * w_squared)

    a, b = masked_gram_steps(X.T @ X, Y, lr=lr, l2=l2, train_mask=masks, num_iterations=400,
                             at=range(0, 400, 100), checkpoint=checkpoint)
    for r in range(4):
        cols = masks[r].astype(bool)
        assert not a[r, ~cols].any()  # the row never touches columns outside its fold
        params, _, textbook_costs = optimize(np.zeros((n_x, 1)), 0.0, X[:, cols], Y[:, cols],
                                             400, lr[r, 0], l2=l2[r, 0])
        np.testing.assert_allclose(X @ a[r], params["w"][:, 0], rtol=1e-9, atol=1e-13)
        assert b[r, 0] == pytest.approx(params["b"], rel=1e-9, abs=1e-13)
        np.testing.assert_allclose(np.array(costs)[:, r], textbook_costs, rtol=1e-9)


def test_cross_validate_matches_a_separate_fit_of_each_fold_on_the_real_data(features):
    result = cross_validate(features, folds=3, repeats=1, seed=7, learning_rates=[0.005],
                            num_iterations=200, l2s=[0.0, 10.0], augments=["none", "flip"])
    X, Y = features["X_train"], features["Y_train"]
    fold_of = result["fold_of"][0]
    assert result["val_accuracy"].shape == (3, 4, 2)  # folds x grid x candidates (100, 200)
    for f in range(3):
        train, val = fold_of != f, fold_of == f
        for g, (aug, l2, lr) in enumerate(result["grid"]):
            Xf, Yf = X[:, train], Y[:, train]
            if aug == "flip":
                Xf = flipped(Xf, features["image_shape"])
                Yf = np.hstack([Yf, Yf])
            run = gradient_descent(Xf, Yf, [lr], 200, X[:, val], Y[:, val], engine="primal",
                                   l2=l2)
            Z = run["w"][:, 0] @ X[:, val] + run["b"][0]
            expected = 100 * np.mean((Z > 0) == (Y[0, val] == 1))
            assert result["val_accuracy"][f, g, 1] == pytest.approx(expected)
            assert result["val_log_loss"][f, g, 1] == pytest.approx(
                np.mean(log_loss(Z, Y[0, val])), rel=1e-9)


def test_a_validation_images_mirror_never_trains_its_own_fold():
    fold_of = stratified_folds(np.array([[0, 1] * 10]), folds=4, repeats=2, seed=1)
    train, val = grid_masks(fold_of, 4, 2, [False, True])
    m = fold_of.shape[1]
    assert train.shape == val.shape == (2 * 4 * 2, 2 * m)
    for row in range(train.shape[0]):
        validating = val[row, :m].astype(bool)
        assert validating.any() and not train[row, :m][validating].any()
        assert not train[row, m:][validating].any()  # their mirrors stay out too
        assert not val[row, m:].any()  # and mirrors are never validated on
        flips = row % 2 == 1
        assert (train[row, m:] == (train[row, :m] if flips else 0)).all()


def test_flipped_adds_each_image_mirrored_left_right_after_all_of_them(features):
    X = features["X_train"][:, :5]
    shape = tuple(features["image_shape"])
    images = unflatten(X, shape)
    both = flipped(X, shape)
    assert both.shape == (X.shape[0], 10)
    np.testing.assert_array_equal(both[:, :5], X)
    mirrors = both[:, 5:]
    assert (unflatten(mirrors, shape)[3, 10, 0] == images[3, 10, -1]).all()
    np.testing.assert_array_equal(flipped(mirrors, shape)[:, 5:], X)
    np.testing.assert_array_equal(flatten(images[:, :, ::-1]), mirrors)


@pytest.mark.parametrize("folds, repeats, seed", [(5, 10, 0), (3, 2, 9), (10, 1, 4)])
def test_folds_are_stratified_and_the_seed_repeats_them(features, folds, repeats, seed):
    Y = features["Y_train"]
    fold_of = stratified_folds(Y, folds, repeats, seed)
    assert fold_of.shape == (repeats, Y.shape[1])
    share = Y.mean()
    for r in range(repeats):
        sizes = np.bincount(fold_of[r], minlength=folds)
        assert sizes.max() - sizes.min() <= 1
        for f in range(folds):
            cats = Y[0, fold_of[r] == f].sum()
            assert abs(cats - share * sizes[f]) <= 1
    np.testing.assert_array_equal(fold_of, stratified_folds(Y, folds, repeats, seed))
    assert not np.array_equal(fold_of, stratified_folds(Y, folds, repeats, seed + 1))


def test_ties_go_to_fewer_iterations_then_the_smaller_rate():
    grid = [("none", 0.0, 0.01), ("none", 0.0, 0.001)]
    mean = np.array([[60.0, 70.0, 70.0], [65.0, 70.0, 69.0]])
    assert best_candidate(mean, grid, [100, 200, 300], [0.0], ["none"]) == (1, 1)
    mean[0, 0] = np.nan  # a diverged candidate is never chosen
    assert best_candidate(mean, grid, [100, 200, 300], [0.0], ["none"]) == (1, 1)


def test_a_tie_that_only_the_summation_order_breaks_is_still_a_tie():
    # Five folds of 7 validation images: 3, 4, 5, 6 and 2 right at 100 iterations, the same
    # counts on other folds at 200. Both means are 100 * 20 / 35 exactly; summed in another
    # order they differ in the last bit, which must not buy the longer run.
    right = {100: [3, 4, 5, 6, 2], 200: [3, 5, 4, 6, 2]}
    val_accuracy = np.array([[100 * right[100][f] / 7, 100 * right[200][f] / 7]
                             for f in range(5)])[:, None, :]  # (folds, 1 grid point, 2)
    result = {"val_accuracy": val_accuracy, "val_log_loss": np.zeros_like(val_accuracy)}
    mean = fold_statistics(result)[0]
    assert mean[0, 0] != mean[0, 1] and mean[0, 0] == pytest.approx(100 * 20 / 35, abs=1e-12)
    grid = [("none", 0.0, 0.005)]
    assert best_candidate(mean, grid, [100, 200], [0.0], ["none"]) == (0, 0)
    assert best_candidate(mean[:, ::-1], grid, [100, 200], [0.0], ["none"]) == (0, 0)


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


def test_a_diverging_rate_is_reported_not_a_crash(features_file, tmp_path):
    out = tmp_path / "cv"
    result = run_cli("cv", "--features", features_file, "--out-dir", out, "--repeats", "1",
                     "--num-iterations", "200", "--learning-rates", "0.005", "1e307")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diverged"] == [{"augment": "none", "l2": 0.0, "learning_rate": 1e307}]
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
]


@pytest.mark.parametrize("args, message", BAD_OPTIONS)
def test_bad_options_are_one_line_and_touch_nothing(cv_run, features_file, args, message):
    out = cv_run[0]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = run_cli("cv", "--features", features_file, "--out-dir", out, *args)
    assert_one_line_error(result, message, code=2 if "must be" in message else 1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
