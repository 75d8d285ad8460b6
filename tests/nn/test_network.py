"""The week-4 networks: gradients by finite differences, the notebook's published numbers, and the
batched engines (gram, primal, masked) against the textbook loop."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.engines.fit import diverged
from pipeline.engines.masked_network import masked_network_steps, row_parameters
from pipeline.engines.network import train_networks
from pipeline.nn.logistic import log_loss, sigmoid
from pipeline.nn.network import (
    L_layer_model,
    L_model_backward,
    L_model_forward,
    compute_cost,
    initialize_parameters,
    initialize_parameters_deep,
    input_gradient,
    optimize,
    predict,
    predict_proba,
    two_layer_model,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

TWO_LAYER = (12288, 7, 1)
L_LAYER = [12288, 20, 7, 5, 1]
# The notebook's printed costs: two-layer to all digits, L-layer to 6 decimals.
TWO_LAYER_COSTS = {0: 0.6930497356599888, 100: 0.6464320953428849, 2400: 0.048554785628770206}
L_LAYER_COSTS = {0: 0.771749, 100: 0.672053, 200: 0.648263, 2400: 0.092878}


def random_problem(layer_dims, m, seed):
    """X (n_x, m) scaled to spectral norm <= 1, so lr 0.1 is a stable step; 0/1 labels Y."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(layer_dims[0], m))
    X /= max(1.0, np.linalg.norm(X, 2))
    Y = rng.integers(0, 2, size=(1, m)).astype(float)
    return X, Y, initialize_parameters_deep(layer_dims, seed=seed % 2**32)


def assert_parameters_close(got, want, rtol=1e-9, atol=1e-15):
    """Close relative to each parameter's size, and within atol of it: weights that L2 decays
    from O(1) towards 0 (2e-13 after 201 steps) keep the absolute rounding of their O(1) past,
    which another summation order moves."""
    assert got.keys() == want.keys()
    for key in want:
        scale = np.abs(want[key]).max()
        assert np.abs(got[key] - want[key]).max() <= rtol * scale + atol, key


def counts_right(X, Y, parameters):
    return int(np.sum(predict(X, parameters) == Y))


# ---- the course's functions ----

def test_compute_cost_is_the_log_loss_where_finite():
    rng = np.random.default_rng(0)
    Z, Y = rng.normal(scale=5, size=(1, 50)), rng.integers(0, 2, size=(1, 50))
    assert compute_cost(sigmoid(Z), Y) == pytest.approx(np.mean(log_loss(Z, Y)), rel=1e-12)
    # Where AL rounds to 1, the textbook cost is inf or NaN; the training loops' stays finite.
    Z, Y = np.array([[40.0, -3.0]]), np.array([[0, 1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        assert not np.isfinite(compute_cost(sigmoid(Z), Y))
    assert np.isfinite(np.mean(log_loss(Z, Y)))


def test_the_initializations_draw_as_the_notebook():
    np.random.seed(1)
    W1, W2 = np.random.randn(4, 6) * 0.01, np.random.randn(1, 4) * 0.01
    parameters = initialize_parameters(6, 4, 1)
    assert np.array_equal(parameters["W1"], W1) and np.array_equal(parameters["W2"], W2)
    assert not parameters["b1"].any() and parameters["b2"].shape == (1, 1)
    np.random.seed(1)
    deep = initialize_parameters_deep([6, 4, 3, 1])
    for n, (rows, cols) in enumerate([(4, 6), (3, 4), (1, 3)], start=1):
        assert np.array_equal(deep[f"W{n}"], np.random.randn(rows, cols) / np.sqrt(cols))
        assert deep[f"b{n}"].shape == (rows, 1) and not deep[f"b{n}"].any()


def numerical_gradient(cost, parameters, key, eps=1e-6):
    grad = np.zeros_like(parameters[key])
    for index in np.ndindex(grad.shape):
        value = parameters[key][index]
        parameters[key][index] = value + eps
        plus = cost()
        parameters[key][index] = value - eps
        minus = cost()
        parameters[key][index] = value
        grad[index] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("layer_dims", [[3, 1], [4, 3, 1], [5, 4, 3, 1], [2, 6, 6, 2, 1]])
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_backward_matches_finite_differences(layer_dims, lambd):
    X, Y, parameters = random_problem(layer_dims, 7, seed=len(layer_dims))
    X *= 3  # away from the regime where every unit is near zero
    parameters = {key: value + 0.1 for key, value in parameters.items()}  # nonzero b too

    def cost():
        return compute_cost(L_model_forward(X, parameters)[0], Y, parameters, lambd)

    AL, caches = L_model_forward(X, parameters)
    grads = L_model_backward(AL, Y, caches, lambd)
    assert grads["dA0"].shape == X.shape
    for key in parameters:
        np.testing.assert_allclose(grads["d" + key], numerical_gradient(cost, parameters, key),
                                   rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("layer_dims", [[3, 1], [4, 5, 1], [6, 4, 3, 1]])
def test_input_gradient_matches_finite_differences(layer_dims):
    X, _, parameters = random_problem(layer_dims, 5, seed=3)
    parameters = {key: value + 0.05 for key, value in parameters.items()}

    def zL(X):
        return L_model_forward(X, parameters)[1][-1][1]  # (1, m)

    want, eps = np.zeros_like(X), 1e-6
    for j in range(X.shape[0]):
        step = np.zeros_like(X)
        step[j] = eps  # every column moves by eps in feature j; columns do not interact
        want[j] = ((zL(X + step) - zL(X - step)) / (2 * eps))[0]
    np.testing.assert_allclose(input_gradient(parameters, X), want, rtol=1e-6, atol=1e-9)


def test_input_gradient_of_one_layer_is_w_in_every_column():
    X, _, parameters = random_problem([5, 1], 4, seed=9)
    gradient = input_gradient(parameters, X)
    assert np.array_equal(gradient, np.broadcast_to(parameters["W1"].T, (5, 4)))


# ---- the notebook's numbers on the course data ----

@pytest.fixture(scope="session")
def two_layer_runs(features):
    """The textbook two-layer fit and the gram engine's, 2500 steps each: run once, as the
    textbook's steps are the slowest part of this file."""
    X, Y = features["X_train"], features["Y_train"]
    textbook = two_layer_model(X, Y, TWO_LAYER, num_iterations=2500)
    gram = train_networks(X, Y, initialize_parameters(*TWO_LAYER), [0.0075], 2500,
                          X_test=features["X_test"], Y_test=features["Y_test"], engine="gram")
    return textbook, gram


def test_the_textbook_two_layer_model_gives_the_published_numbers(features, two_layer_runs):
    (parameters, costs), _ = two_layer_runs
    assert len(costs) == 25
    for i, cost in TWO_LAYER_COSTS.items():
        assert costs[i // 100] == pytest.approx(cost, abs=1e-9)
    assert counts_right(features["X_train"], features["Y_train"], parameters) == 209
    assert counts_right(features["X_test"], features["Y_test"], parameters) == 36


def test_the_gram_engine_is_the_textbook_loop_over_2500_steps(features, two_layer_runs):
    (parameters, costs), run = two_layer_runs
    assert run["engine"] == "gram" and run["iterations"].tolist() == list(range(0, 2500, 100))
    np.testing.assert_allclose(run["costs"][0], costs, rtol=1e-9, atol=0)
    assert_parameters_close(run["parameters"][0], parameters)
    for X in (features["X_train"], features["X_test"]):
        np.testing.assert_allclose(predict_proba(X, run["parameters"][0]),
                                   predict_proba(X, parameters), rtol=1e-9, atol=1e-12)
    for i, cost in TWO_LAYER_COSTS.items():
        assert run["costs"][0][i // 100] == pytest.approx(cost, abs=1e-9)
    assert counts_right(features["X_test"], features["Y_test"], run["parameters"][0]) == 36


def test_the_l_layer_model_gives_the_published_numbers(features):
    """Gram for all 2500 steps; the textbook loop for the first 201 (its 2500 take ~30 s)."""
    X, Y, Xt, Yt = (features[k] for k in ("X_train", "Y_train", "X_test", "Y_test"))
    run = train_networks(X, Y, initialize_parameters_deep(L_LAYER), [0.0075], 2500, X_test=Xt,
                         Y_test=Yt, engine="gram")
    for i, cost in L_LAYER_COSTS.items():
        assert run["costs"][0][i // 100] == pytest.approx(cost, abs=5e-7)
    assert counts_right(X, Y, run["parameters"][0]) == 206
    assert counts_right(Xt, Yt, run["parameters"][0]) == 40
    parameters, costs = L_layer_model(X, Y, L_LAYER, num_iterations=201)
    np.testing.assert_allclose(run["costs"][0][:3], costs, rtol=1e-9, atol=0)
    for i in (0, 100, 200):
        assert costs[i // 100] == pytest.approx(L_LAYER_COSTS[i], abs=5e-7)
    short = train_networks(X, Y, initialize_parameters_deep(L_LAYER), [0.0075], 201, X_test=Xt,
                           Y_test=Yt, engine="gram")
    assert_parameters_close(short["parameters"][0], parameters)


def test_the_primal_engine_on_the_real_data(features):
    X, Y, Xt, Yt = (features[k] for k in ("X_train", "Y_train", "X_test", "Y_test"))
    start = initialize_parameters(*TWO_LAYER)
    runs = {engine: train_networks(X, Y, start, [0.0075, 0.003], 61, X_test=Xt, Y_test=Yt,
                                   engine=engine, every=20) for engine in ("primal", "gram")}
    assert runs["primal"]["engine"] == "primal"
    for j in range(2):
        assert_parameters_close(runs["primal"]["parameters"][j], runs["gram"]["parameters"][j])
    np.testing.assert_allclose(runs["primal"]["costs"], runs["gram"]["costs"], rtol=1e-9)
    for key in ("train_accuracies", "test_accuracies"):
        assert runs["primal"][key].tolist() == runs["gram"][key].tolist()


def test_batched_rates_equal_one_at_a_time_runs_on_the_real_data(features):
    X, Y, Xt, Yt = (features[k] for k in ("X_train", "Y_train", "X_test", "Y_test"))
    start, rates = initialize_parameters_deep(L_LAYER), [0.0075, 0.005, 0.001]
    batched = train_networks(X, Y, start, rates, 201, X_test=Xt, Y_test=Yt, l2=0.5)
    assert batched["engine"] == "gram" and batched["costs"].shape == (3, 3)
    for j, lr in enumerate(rates):
        single = train_networks(X, Y, start, [lr], 201, X_test=Xt, Y_test=Yt, l2=0.5)
        assert_parameters_close(batched["parameters"][j], single["parameters"][0])
        np.testing.assert_allclose(batched["costs"][j], single["costs"][0], rtol=1e-9)
        assert batched["train_accuracies"][j].tolist() == single["train_accuracies"][0].tolist()
        assert batched["test_accuracies"][j].tolist() == single["test_accuracies"][0].tolist()


# ---- the engines against the textbook loop on any shape ----

hidden_layers = st.lists(st.integers(1, 5), min_size=0, max_size=3)


@settings(max_examples=30, deadline=None)
@given(n_x=st.integers(1, 8), m=st.integers(1, 8), hidden=hidden_layers,
       seed=st.integers(0, 2**32 - 1), l2=st.sampled_from([0.0, 0.3, 4.0]))
def test_gram_and_primal_equal_the_textbook_on_any_shape(n_x, m, hidden, seed, l2):
    layer_dims = [n_x, *hidden, 1]
    X, Y, start = random_problem(layer_dims, m, seed)
    rates = [0.1, 0.03]
    runs = [train_networks(X, Y, start, rates, 201, X_test=X[:, :3], Y_test=Y[:, :3], l2=l2,
                           engine=engine)
            for engine in ("gram", "primal")]
    for j, lr in enumerate(rates):
        parameters, costs = optimize(X, Y, start, lr, 201, lambd=l2)
        for run in runs:
            assert_parameters_close(run["parameters"][j], parameters)
            np.testing.assert_allclose(run["costs"][j], costs, rtol=1e-9)


@pytest.mark.parametrize("engine", ["gram", "primal"])
def test_batched_rates_equal_one_at_a_time_runs(engine):
    X, Y, start = random_problem([6, 4, 3, 1], 9, seed=5)
    rates = [0.2, 0.1, 0.01]
    batched = train_networks(X, Y, start, rates, 150, X_test=X, Y_test=Y, engine=engine, every=25)
    for j, lr in enumerate(rates):
        single = train_networks(X, Y, start, [lr], 150, X_test=X, Y_test=Y, engine=engine, every=25)
        assert_parameters_close(batched["parameters"][j], single["parameters"][0])
        np.testing.assert_allclose(batched["costs"][j], single["costs"][0], rtol=1e-9)


def test_checkpoints_progress_and_the_auto_engine():
    X, Y, start = random_problem([3, 2, 1], 5, seed=0)
    done = []
    run = train_networks(X, Y, start, [0.1, 0.2], 1234, X_test=X, Y_test=Y, on_progress=done.append)
    assert run["engine"] == "primal"  # m = 5 > n_x = 3
    assert sum(done) == 1234 and len(done) <= 52
    assert run["iterations"].tolist() == list(range(0, 1234, 100))
    assert run["costs"].shape == run["train_accuracies"].shape == run["test_accuracies"].shape
    assert run["costs"].shape == (2, 13) and run["learning_rates"].tolist() == [0.1, 0.2]
    assert train_networks(X[:, :3], Y[:, :3], start, [0.1], 2, X_test=X,
                          Y_test=Y)["engine"] == "gram"
    with pytest.raises(ValueError, match="unknown engine"):
        train_networks(X, Y, start, [0.1], 2, X_test=X, Y_test=Y, engine="fast")


@pytest.mark.parametrize("engine", ["gram", "primal"])
def test_a_diverging_rate_gives_a_diverged_run_not_an_error(engine):
    X, Y, start = random_problem([4, 3, 1], 6, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = train_networks(X, Y, start, [0.1, 1e308], 20, X_test=X, Y_test=Y, engine=engine,
                             every=5)
    # inf weights, or finite weights with a NaN cost: the CPU's kernels decide which
    assert [diverged(p, c) for p, c in zip(run["parameters"], run["costs"], strict=True)] == [
        False, True]
    assert all(np.isfinite(value).all() for value in run["parameters"][0].values())


# ---- cross-validation: rows on masked columns ----

@pytest.mark.parametrize("layer_dims", [[7, 1], [7, 4, 1], [12, 5, 3, 1]])
@pytest.mark.parametrize("with_l2", [False, True])
def test_masked_rows_are_separate_textbook_fits_on_their_columns(layer_dims, with_l2):
    M, n = 10, 150
    X, Y, start = random_problem(layer_dims, M, seed=len(layer_dims))
    rng = np.random.default_rng(1)
    train_mask = (rng.random((5, M)) < 0.6).astype(float)
    train_mask[:, 0] = 1  # every row trains on something
    train_mask[4] = 1  # and one on everything
    lr = np.array([[0.1], [0.05], [0.2], [0.1], [0.15]])
    l2 = np.array([[0.5], [0.0], [2.0], [0.1], [1.0]]) if with_l2 else np.zeros((5, 1))
    seen = {}
    state = masked_network_steps(X.T @ X, start["W1"] @ X, Y, start, lr=lr, l2=l2,
                                 train_mask=train_mask, num_iterations=n, at=[0, 7, n],
                                 checkpoint=lambda i, ZL: seen.setdefault(i, ZL.copy()))
    assert sorted(seen) == [0, 7, n] and seen[n].shape == (5, M)
    assert state["A"].shape == (5, layer_dims[1], M) and state["c"].shape == (5,)
    for r in range(5):
        columns = train_mask[r] == 1
        assert not state["A"][r][:, ~columns].any()  # A stays zero outside the row's columns
        for i in (0, 7, n):
            parameters, _ = optimize(X[:, columns], Y[:, columns], start, lr[r, 0], i,
                                     lambd=l2[r, 0])
            ZL = L_model_forward(X, parameters)[1][-1][1]  # (1, M): on all the columns
            np.testing.assert_allclose(seen[i][r], ZL[0], rtol=1e-9, atol=1e-12)
        assert_parameters_close(row_parameters(state, r, X), parameters)
