"""engines/network.py: the batched engines (gram, primal) against the textbook loop of
nn/network.py, on the notebook's numbers and on any shape, with and without dropout."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from network_problems import (
    L_LAYER,
    L_LAYER_COSTS,
    TWO_LAYER,
    TWO_LAYER_COSTS,
    assert_parameters_close,
    counts_right,
    random_problem,
)

from pipeline.engines.fit import diverged
from pipeline.engines.network import train_networks
from pipeline.nn.network import (
    L_layer_model,
    initialize_parameters,
    initialize_parameters_deep,
    optimize,
    predict_proba,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


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


def small_set(m=30, n_x=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    return X, (X[:1] + 0.3 * X[1:2] > 0).astype(float)


def textbook_dropout_loop(X, Y, parameters, lr, steps, keep_prob, seed):
    """Full-batch gradient descent one step at a time through the layered propagate, each
    step's masks drawn from one RandomState(seed), layer by layer."""
    from pipeline.nn.layers import propagate

    rng, parameters = np.random.RandomState(seed), dict(parameters)
    for _ in range(steps):
        _, grads, _ = propagate(parameters, X, Y, 0.0, (keep_prob, rng))
        parameters = {k: p - lr * grads[f"d{k}"] for k, p in parameters.items()}
    return parameters


@pytest.mark.parametrize("engine", ["gram", "primal"])
def test_dropout_in_the_network_engines_is_the_textbook_loop(engine):
    from pipeline.engines.network import train_networks
    from pipeline.nn.network import initialize_parameters_deep

    X, Y = small_set()
    start = initialize_parameters_deep([8, 5, 3, 1], seed=1)
    expected = textbook_dropout_loop(X, Y, start, 0.1, 40, 0.7, seed=5)
    run = train_networks(X, Y, start, [0.1, 0.1], 40, X_test=X, Y_test=Y, engine=engine,
                         dropout=(0.7, np.random.RandomState(5)))
    for got in run["parameters"]:  # both rates, one mask a step: as two separate fits
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-10)
    plain = train_networks(X, Y, start, [0.1], 40, X_test=X, Y_test=Y, engine=engine)
    assert not np.allclose(plain["parameters"][0]["W1"], expected["W1"], atol=1e-6)


@pytest.mark.parametrize("engine", ["gram", "primal"])
def test_keep_prob_one_is_no_dropout(engine):
    from pipeline.engines.network import train_networks
    from pipeline.nn.layers import propagate
    from pipeline.nn.network import initialize_parameters_deep

    X, Y = small_set(seed=3)
    start = initialize_parameters_deep([8, 5, 3, 1], seed=2)
    kept = train_networks(X, Y, start, [0.2], 30, X_test=X, Y_test=Y, engine=engine,
                          dropout=(1.0, np.random.RandomState(0)))
    plain = train_networks(X, Y, start, [0.2], 30, X_test=X, Y_test=Y, engine=engine)
    for key in plain["parameters"][0]:
        np.testing.assert_array_equal(kept["parameters"][0][key], plain["parameters"][0][key])
    with_masks = propagate(start, X, Y, 0.3, (1.0, np.random.RandomState(0)))
    without = propagate(start, X, Y, 0.3)
    assert with_masks[0] == without[0]
    for key in without[1]:
        np.testing.assert_array_equal(with_masks[1][key], without[1][key])
