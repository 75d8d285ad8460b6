"""engines/logistic.py against the textbook loop: same w, b and costs, one rate or several at
once, and cross-validation's masked rows."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.engines.logistic import choose_engine, gradient_descent, masked_gram_steps
from pipeline.nn.logistic import log_loss, optimize

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def textbook(X, Y, lr, n, l2=0.0):
    params, _, costs = optimize(np.zeros((X.shape[0], 1)), 0.0, X, Y, n, lr, l2=l2)
    return params["w"], params["b"], np.array(costs)


def assert_matches_textbook(run, j, X, Y, lr, n, l2=0.0):
    w, b, costs = textbook(X, Y, lr, n, l2)
    scale = max(np.abs(w).max(), 1e-300)
    assert np.abs(run["w"][:, j:j + 1] - w).max() <= 1e-9 * scale
    assert run["b"][j] == pytest.approx(b, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(run["costs"][j], costs, rtol=1e-9)


@pytest.mark.parametrize("engine", ["gram", "primal"])
def test_engines_match_the_textbook_on_the_real_data(features, engine):
    X, Y = features["X_train"], features["Y_train"]
    run = gradient_descent(X, Y, [0.005], 300, features["X_test"], features["Y_test"],
                           engine=engine)
    assert run["engine"] == engine
    assert_matches_textbook(run, 0, X, Y, 0.005, 300)


@settings(max_examples=30, deadline=None)
@given(n_x=st.integers(1, 12), m=st.integers(1, 12), seed=st.integers(0, 2**32 - 1),
       engine=st.sampled_from(["gram", "primal"]))
def test_engines_match_the_textbook_on_any_shape(n_x, m, seed, engine):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n_x, m)), rng.integers(0, 2, size=(1, m)).astype(float)
    X /= max(1.0, np.linalg.norm(X, 2))  # keeps lr 0.1 a stable step size (see below)
    run = gradient_descent(X, Y, [0.1], 250, X[:, :2], Y[:, :2], engine=engine)
    assert_matches_textbook(run, 0, X, Y, 0.1, 250)


# Where a rate is near the edge of stability (0.01 here: the course's curve wobbles early on)
# the iteration itself amplifies rounding, 1e-16 to ~1e-10 in w, in every engine including the
# textbook loop; the results still agree (test_compare). Exact-to-1e-9 checks use stable rates.
def test_batched_rates_equal_one_at_a_time_runs(features):
    X, Y, Xt, Yt = (features[k] for k in ("X_train", "Y_train", "X_test", "Y_test"))
    rates = [0.005, 0.001, 0.0001]
    batched = gradient_descent(X, Y, rates, 201, Xt, Yt)
    for j, lr in enumerate(rates):
        single = gradient_descent(X, Y, [lr], 201, Xt, Yt)
        np.testing.assert_allclose(batched["w"][:, j], single["w"][:, 0], rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(batched["costs"][j], single["costs"][0], rtol=1e-9)
        assert batched["train_accuracies"][j].tolist() == single["train_accuracies"][0].tolist()
        assert batched["test_accuracies"][j].tolist() == single["test_accuracies"][0].tolist()


def test_checkpoints_and_progress_cover_every_step():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(3, 5)), rng.integers(0, 2, size=(1, 5))
    done = []
    run = gradient_descent(X, Y, [0.1, 0.2], 1234, X, Y, on_progress=done.append)
    assert done == [1] * 1234  # a bar's update after each step (0.6 us, a step 20 us or more)
    assert run["iterations"].tolist() == list(range(0, 1234, 100))
    assert run["costs"].shape == run["test_accuracies"].shape == (2, 13)


def test_auto_picks_gram_when_m_is_at_most_n_x():
    assert choose_engine("auto", n_x=12288, m=209) == "gram"
    assert choose_engine("auto", n_x=5, m=5) == "gram"
    assert choose_engine("auto", n_x=5, m=6) == "primal"
    assert choose_engine("primal", n_x=12288, m=209) == "primal"
    with pytest.raises(ValueError, match="unknown engine 'fast'"):
        choose_engine("fast", 1, 1)


@pytest.mark.parametrize("n_x, m", [(3, 10), (1, 1), (5, 1), (1, 4)])
def test_engines_match_the_textbook_at_the_edges(n_x, m):
    """More examples than features (where auto takes primal), and a single example."""
    rng = np.random.default_rng(n_x * 7 + m)
    X, Y = rng.normal(size=(n_x, m)) / 3, rng.integers(0, 2, size=(1, m)).astype(float)
    for engine in ("gram", "primal"):
        run = gradient_descent(X, Y, [0.3, 0.05], 301, X, Y, engine=engine)
        for j, lr in enumerate([0.3, 0.05]):
            assert_matches_textbook(run, j, X, Y, lr, 301)


@pytest.mark.parametrize("engine", ["gram", "primal"])
@pytest.mark.parametrize("l2", [0.7, 25.0])
def test_engines_match_the_textbook_with_l2_on_the_real_data(features, engine, l2):
    X, Y = features["X_train"], features["Y_train"]
    run = gradient_descent(X, Y, [0.005, 0.001], 300, features["X_test"], features["Y_test"],
                           engine=engine, l2=l2)
    for j, lr in enumerate([0.005, 0.001]):
        assert_matches_textbook(run, j, X, Y, lr, 300, l2)


@settings(max_examples=20, deadline=None)
@given(n_x=st.integers(1, 10), m=st.integers(1, 10), seed=st.integers(0, 2**32 - 1),
       l2=st.floats(0.01, 5), engine=st.sampled_from(["gram", "primal"]))
def test_engines_match_the_textbook_with_l2_on_any_shape(n_x, m, seed, l2, engine):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n_x, m)), rng.integers(0, 2, size=(1, m)).astype(float)
    X /= max(1.0, np.linalg.norm(X, 2))
    run = gradient_descent(X, Y, [0.1], 200, X, Y, engine=engine, l2=l2)
    assert_matches_textbook(run, 0, X, Y, 0.1, 200, l2)


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
