"""The one mini-batch loop (run_epochs) and the fit's curve around it (optimize_minibatch),
against the course's model() loop, full-batch gradient descent (nn.logistic.optimize) and
its own runs on pixels. The oracles' own checks: project/test_course_oracles.py."""

import warnings

import numpy as np
import pytest
from course_oracles import (
    course_random_mini_batches,
    logistic_propagate,
    logistic_zeros,
    pixel_data,
    separable,
    two_layer_parameters,
    two_layer_propagate,
)

from pipeline.columns import take
from pipeline.engines.fit import diverged
from pipeline.engines.minibatch import optimize_minibatch, run_epochs
from pipeline.nn import logistic as model
from pipeline.nn.optimizers import (
    initialize_adam,
    mini_batch_indices,
    update_parameters_with_adam,
    update_parameters_with_gd,
)

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

# ---- the training loop -----------------------------------------------------------------------


def assert_is_full_batch_gd(X, Y, lr, epochs, l2):
    run = optimize_minibatch(logistic_zeros(X.shape[0]), logistic_propagate, X, Y,
                             optimizer="minibatch", learning_rate=lr,
                             mini_batch_size=X.shape[1] + 5, num_epochs=epochs, l2=l2)
    assert run["steps"] == epochs and run["mini_batch_size"] == X.shape[1]
    assert run["epochs"].tolist() == list(range(1, epochs + 1))
    costs, accuracies = [], []
    for k in range(epochs + 1):  # the cost after k steps = model.optimize's cost before step k
        w, b = np.zeros((X.shape[0], 1)), 0.0
        if k:
            params, _, _ = model.optimize(w, b, X, Y, k, lr, l2=l2)
            w, b = params["w"], params["b"]
        costs.append(model.propagate(w, b, X, Y, l2)[1])
        accuracies.append(model.accuracy(model.predict(w, b, X), Y))
    scale = max(np.abs(w).max(), 1e-300)
    assert np.abs(run["parameters"]["W1"].T - w).max() <= 1e-10 * scale
    assert run["parameters"]["b1"][0, 0] == pytest.approx(b, rel=1e-10, abs=1e-13)
    # epoch e's one batch is all of X under the parameters after e - 1 steps, so its running
    # mean is the whole set's cost then; the start's is the first batch's, all of X at step 0
    np.testing.assert_allclose(run["costs"], costs[:-1], rtol=1e-10)
    assert run["train_accuracies"].tolist() == accuracies[:-1]
    assert run["start_cost"] == pytest.approx(costs[0], rel=1e-12)


@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_one_batch_of_m_is_full_batch_gradient_descent(l2):
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(4, 23)), rng.integers(0, 2, size=(1, 23)).astype(float)
    assert_is_full_batch_gd(np.asfortranarray(X / 3), Y, 0.3, 12, l2)


def test_one_batch_of_m_is_full_batch_gradient_descent_on_the_real_data(features):
    assert_is_full_batch_gd(features["X_train"], features["Y_train"], 0.005, 6, 0.0)


@pytest.mark.parametrize("optimizer, lr", [("minibatch", 0.1), ("adam", 0.01)])
@pytest.mark.parametrize("which", ["logistic", "two-layer"])
def test_cost_decreases_on_a_separable_problem(optimizer, lr, which):
    X, Y = separable()
    X_test, Y_test = separable(seed=1)
    parameters, propagate = ((logistic_zeros(3), logistic_propagate) if which == "logistic"
                             else (two_layer_parameters(3), two_layer_propagate))
    run = optimize_minibatch(parameters, propagate, X, Y, optimizer=optimizer, learning_rate=lr,
                             mini_batch_size=16, num_epochs=30, X_test=X_test, Y_test=Y_test)
    assert run["steps"] == 30 * 4
    assert run["costs"].shape == run["train_accuracies"].shape == run["test_accuracies"].shape
    assert run["costs"].shape == (30,)
    assert run["costs"][-1] < 0.5 * run["start_cost"] and run["costs"][-1] < run["costs"][0]
    assert run["train_accuracies"][-1] == 100.0 and run["test_accuracies"][-1] >= 95.0
    # the start's cost is the first batch's under the initial parameters
    first = mini_batch_indices(X.shape[1], 16, 1)[0]
    assert run["start_cost"] == pytest.approx(
        propagate(parameters, X[:, first], Y[:, first], 0.0)[0], rel=1e-14)
    if which == "logistic":  # zeros: the start's cost is log 2 on any batch
        assert run["start_cost"] == pytest.approx(np.log(2), rel=1e-14)


def test_the_start_cost_is_on_the_curves_scale_with_l2():
    """The first batch's mean log-loss plus l2/(2m) sum ||W||^2 over the whole m, as each point
    counts its penalty, not the batch's own l2/(2 m_batch)."""
    X, Y = separable()
    parameters, l2 = two_layer_parameters(3), 5.0
    run = optimize_minibatch(parameters, two_layer_propagate, X, Y, optimizer="adam",
                             learning_rate=0.01, mini_batch_size=16, num_epochs=1, l2=l2)
    first = mini_batch_indices(X.shape[1], 16, 1)[0]
    loss = two_layer_propagate(parameters, X[:, first], Y[:, first], 0.0)[0]
    squares = sum(np.sum(parameters[k] ** 2) for k in ("W1", "W2"))
    assert run["start_cost"] == pytest.approx(loss + l2 / (2 * X.shape[1]) * squares, rel=1e-12)
    assert run["start_cost"] != pytest.approx(
        two_layer_propagate(parameters, X[:, first], Y[:, first], l2)[0], rel=1e-6)


def test_pixels_in_blocks_train_as_the_float_array_in_one_piece(monkeypatch):
    """uint8 rows gathered per batch and scored 7 columns at a time give the float64 array's run;
    `forward` replaces propagate's ZL."""
    import pipeline.columns as columns

    pixels, X, Y = pixel_data(m=30, px=2)
    options = {"optimizer": "adam", "learning_rate": 0.01, "mini_batch_size": 8, "num_epochs": 3,
               "l2": 0.5}
    whole = optimize_minibatch(two_layer_parameters(12), two_layer_propagate, X, Y, **options)
    monkeypatch.setattr(columns, "BLOCK_BYTES", 7 * 8 * 12)
    seen = []

    def scaled(p, X_int, Y, l2, *, pixel_scale=1.0):  # pixels come as uint8 integers, and 255
        seen.append((X_int.dtype, pixel_scale))
        return two_layer_propagate(p, X_int / pixel_scale, Y, l2)

    blocks = optimize_minibatch(two_layer_parameters(12), scaled, pixels, Y, **options,
                                forward=lambda p, X, idx: two_layer_propagate(
                                    p, take(X, idx), np.zeros((1, len(idx))), 0)[2])
    np.testing.assert_allclose(blocks["costs"], whole["costs"], rtol=1e-12)
    for key, value in whole["parameters"].items():
        np.testing.assert_allclose(blocks["parameters"][key], value, rtol=1e-12, atol=1e-15)
    assert "test_accuracies" not in whole
    assert seen == [(np.uint8, 255.0)] * 12  # 3 epochs of 4 batches


@pytest.mark.parametrize("hidden, l2, keep_prob", [([], 0.0, 1.0), ([], 0.7, 1.0),
                                                  ([5, 3], 0.4, 1.0), ([4], 0.0, 0.8)])
def test_pixel_batches_at_the_bus_stay_within_1e_12_of_the_float64_path(hidden, l2, keep_prob,
                                                                        monkeypatch):
    """uint8 integers in a reused buffer, summed 3 images at a time (a batch of 8 is 3 + 3 + 2)
    with the 1/255 on the first layer's products (layers.propagate's pixel_scale), against the
    course's float64 columns x / 255: the same iterates to 1e-12, the last batch (7 of 39)
    included, over 4 epochs of Adam."""
    from functools import partial

    from pipeline.columns import PixelColumns, model_scores
    from pipeline.nn import layers
    from pipeline.nn.layers import propagate
    from pipeline.nn.network import initialize_parameters_deep

    monkeypatch.setattr(layers, "PART_BYTES", 3 * 8 * 27)  # 3 images of 27 float64 values

    pixels, X, Y = pixel_data(m=39, px=3)
    mirrored = PixelColumns(pixels.rows, pixels.image_shape, mirrored=True)
    X2 = np.hstack([X, X.T.reshape(39, 3, 3, 3)[:, :, ::-1, :].reshape(39, -1).T])
    start = initialize_parameters_deep([27, *hidden, 1], seed=3)
    runs = []
    for data, labels in ((X, Y), (pixels, Y), (X2, np.hstack([Y, Y])),
                         (mirrored, np.hstack([Y, Y]))):
        step = propagate if keep_prob == 1 else partial(
            propagate, dropout=(keep_prob, np.random.RandomState(5)))
        runs.append(optimize_minibatch(start, step, data, labels, optimizer="adam",
                                       learning_rate=0.02, mini_batch_size=8, num_epochs=4,
                                       l2=l2, seed=2, forward=model_scores))
    for floats, ints in (runs[:2], runs[2:]):
        for key, value in floats["parameters"].items():
            scale = np.abs(value).max()
            assert np.abs(ints["parameters"][key] - value).max() <= 1e-12 * scale, key
        np.testing.assert_allclose(ints["costs"], floats["costs"], rtol=1e-12)
        assert ints["train_accuracies"].tolist() == floats["train_accuracies"].tolist()
    assert not np.allclose(runs[0]["parameters"]["W1"], start["W1"])  # it trained


@pytest.mark.parametrize("optimizer", ["minibatch", "adam"])
def test_the_loop_is_the_course_model_loop(optimizer):
    """The notebook's model(): seed += 1 per epoch, its batches, t += 1 before each Adam step."""
    X, Y = separable(m=45)
    parameters = two_layer_parameters(3)
    lr, size, epochs, seed = 0.02, 8, 4, 10
    run = optimize_minibatch(parameters, two_layer_propagate, X, Y, optimizer=optimizer,
                             learning_rate=lr, mini_batch_size=size, num_epochs=epochs, seed=seed,
                             l2=0.3)
    v, s = initialize_adam(parameters)
    t = 0
    for _ in range(epochs):
        seed = seed + 1
        for minibatch_X, minibatch_Y in course_random_mini_batches(X, Y, size, seed):
            _, grads, _ = two_layer_propagate(parameters, minibatch_X, minibatch_Y, 0.3)
            if optimizer == "adam":
                t = t + 1
                parameters, v, s, _, _ = update_parameters_with_adam(parameters, grads, v, s, t,
                                                                     lr)
            else:
                parameters = update_parameters_with_gd(parameters, grads, lr)
    assert run["steps"] == epochs * 6
    for key, p in parameters.items():
        np.testing.assert_allclose(run["parameters"][key], p, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_an_epochs_point_is_the_running_mean_over_its_batches_weighted_by_their_size(l2):
    """The course's model(): cost_total / m over the epoch's batches, each under the parameters
    it saw; 45 columns in batches of 8 end with one of 5, which counts 5/45, not 1/6. The l2
    term is the recorded cost's, l2/(2m) sum ||W||^2, averaged over the batches alike."""
    X, Y = separable(m=45)
    X_test, Y_test = separable(m=11, seed=1)
    parameters = two_layer_parameters(3)
    lr, size, epochs, seed = 0.05, 8, 3, 4
    run = optimize_minibatch(parameters, two_layer_propagate, X, Y, optimizer="adam",
                             learning_rate=lr, mini_batch_size=size, num_epochs=epochs,
                             seed=seed, l2=l2, X_test=X_test, Y_test=Y_test)
    assert run["epochs"].tolist() == list(range(1, epochs + 1))
    assert len(run["costs"]) == len(run["train_accuracies"]) == len(run["test_accuracies"]) == 3
    v, s = initialize_adam(parameters)
    t, costs, accuracies, tests = 0, [], [], []
    for _ in range(epochs):
        seed = seed + 1
        weighted, right, sizes = 0.0, 0.0, []
        for minibatch_X, minibatch_Y in course_random_mini_batches(X, Y, size, seed):
            cost, grads, ZL = two_layer_propagate(parameters, minibatch_X, minibatch_Y, 0.0)
            m_b = minibatch_X.shape[1]
            W_squared = sum(np.sum(parameters[k] ** 2) for k in ("W1", "W2"))
            weighted += m_b * (cost + l2 / (2 * 45) * W_squared)
            right += np.sum((ZL > 0) == minibatch_Y)
            sizes.append(m_b)
            _, grads, _ = two_layer_propagate(parameters, minibatch_X, minibatch_Y, l2)
            t = t + 1
            parameters, v, s, _, _ = update_parameters_with_adam(parameters, grads, v, s, t, lr)
        assert sizes == [8] * 5 + [5]
        costs.append(weighted / 45)
        accuracies.append(100 * right / 45)
        ZL_test = two_layer_propagate(parameters, X_test, Y_test, 0.0)[2]
        tests.append(100 * np.mean((ZL_test > 0) == Y_test))
    np.testing.assert_allclose(run["costs"], costs, rtol=1e-12)
    np.testing.assert_allclose(run["train_accuracies"], accuracies, rtol=1e-12)
    np.testing.assert_allclose(run["test_accuracies"], tests, rtol=1e-12)
    assert not np.allclose(costs, np.mean(costs))  # the points move from epoch to epoch


def test_each_epoch_reshuffles_with_seed_plus_one():
    """Epoch e draws with seed + e: the course's `seed = seed + 1` at the top of each epoch."""
    X, Y = separable(m=20)
    seen = []

    def recording_propagate(parameters, X_batch, Y_batch, l2):
        seen.append(X_batch.copy())
        return logistic_propagate(parameters, X_batch, Y_batch, l2)

    optimize_minibatch(logistic_zeros(3), recording_propagate, X, Y, optimizer="adam",
                       learning_rate=0.01, mini_batch_size=8, num_epochs=2, seed=10,
                       forward=lambda p, X, idx: p["W1"] @ X[:, idx] + p["b1"])
    expected = [X[:, idx] for seed in (11, 12) for idx in mini_batch_indices(20, 8, seed)]
    assert len(seen) == len(expected) == 6
    for got, want in zip(seen, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_the_callers_parameters_are_left_alone():
    X, Y = separable(m=10)
    parameters = two_layer_parameters(3)
    before = {k: v.copy() for k, v in parameters.items()}
    optimize_minibatch(parameters, two_layer_propagate, X, Y, optimizer="adam", learning_rate=0.1,
                       num_epochs=2)
    for key, p in parameters.items():
        np.testing.assert_array_equal(p, before[key])


@pytest.mark.parametrize("optimizer", ["minibatch", "adam"])
def test_a_huge_rate_returns_a_run_that_the_divergence_check_refuses(optimizer):
    # Which floats go non-finite first depends on the CPU's kernels (inf weights, or finite
    # weights with NaN costs when the ReLUs die): the requirement is no exception, no warning,
    # and a run that train refuses.
    X, Y = separable(m=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning escapes either
        run = optimize_minibatch(two_layer_parameters(3), two_layer_propagate, X, Y,
                                 optimizer=optimizer, learning_rate=1e300, mini_batch_size=8,
                                 num_epochs=5)
    assert diverged(run["parameters"], run["costs"])
    sane = optimize_minibatch(two_layer_parameters(3), two_layer_propagate, X, Y,
                              optimizer=optimizer, learning_rate=0.01, mini_batch_size=8,
                              num_epochs=5)
    assert not diverged(sane["parameters"], sane["costs"])


def test_progress_counts_every_batch():
    X, Y = separable(m=50)
    done = []
    run = optimize_minibatch(logistic_zeros(3), logistic_propagate, X, Y, optimizer="minibatch",
                             learning_rate=0.1, mini_batch_size=3, num_epochs=37,
                             on_progress=done.append)
    assert run["steps"] == 37 * 17 and sum(done) == run["steps"]
    assert 50 <= len(done) <= 55 and len(set(done[:-1])) == 1  # every 2 % or so, then the rest


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "nesterov"}, "unknown optimizer 'nesterov'"),
    ({"optimizer": "momentum", "beta": 1.0}, "beta must be in"),
    ({"mini_batch_size": 0}, "mini_batch_size must be at least 1"),
    ({"num_epochs": 0}, "num_epochs must be at least 1"),
    ({"beta1": 1.0}, "beta1 must be in"),
    ({"beta1": -0.1}, "beta1 must be in"),
    ({"beta2": 1.0}, "beta2 must be in"),
    ({"beta2": float("nan")}, "beta2 must be in"),
    ({"epsilon": 0.0}, "epsilon must be positive"),
    ({"epsilon": float("nan")}, "epsilon must be positive"),
])
def test_bad_hyperparameters_are_refused(kwargs, message):
    X, Y = separable(m=10)
    args = {"optimizer": "adam", **kwargs}
    with pytest.raises(ValueError, match=message):
        optimize_minibatch(logistic_zeros(3), logistic_propagate, X, Y,
                           learning_rate=0.01, **args)


@pytest.mark.parametrize("optimizer", ["minibatch", "adam"])
def test_stacked_rows_follow_separate_runs_at_their_own_rates(optimizer):
    """cv's form of the loop: k neurons as the rows of W1, a column of k rates, one batch
    gathered for all; row r follows the fit's own run at rates[r]."""
    X, Y = separable(m=45)
    rates = [0.01, 0.05, 0.2]
    columns = np.arange(3, 45)  # a fold's training columns
    epochs_seen = []
    stacked = {"W1": np.zeros((3, 3)), "b1": np.zeros((3, 1))}
    got = run_epochs(stacked, logistic_propagate, X, Y, columns, optimizer=optimizer,
                     learning_rate=np.array(rates).reshape(3, 1), mini_batch_size=8, num_epochs=4,
                     seed=10, l2=0.3, on_epoch=lambda epoch, p: epochs_seen.append(epoch))
    assert epochs_seen == [1, 2, 3, 4]
    assert not stacked["W1"].any()  # the caller's start is left alone
    for r, lr in enumerate(rates):
        alone = optimize_minibatch(logistic_zeros(3), logistic_propagate, X, Y,
                                   optimizer=optimizer, learning_rate=lr, mini_batch_size=8,
                                   num_epochs=4, seed=10, l2=0.3, columns=columns)["parameters"]
        np.testing.assert_allclose(got["W1"][r:r + 1], alone["W1"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got["b1"][r:r + 1], alone["b1"], rtol=1e-12, atol=1e-15)


def test_labels_that_do_not_match_x_are_refused_with_both_shapes():
    X, Y = separable(m=10)
    with pytest.raises(ValueError, match=r"Y has shape \(1, 9\), expected \(1, 10\) for X of "
                                         r"shape \(3, 10\)"):
        optimize_minibatch(logistic_zeros(3), logistic_propagate, X, Y[:, 1:], optimizer="adam",
                           learning_rate=0.01)


# ---- the rest of the second course: momentum and learning-rate decay --------------------------


def three_layer(n_x=6, seed=2):
    from pipeline.nn.network import initialize_parameters_deep

    return initialize_parameters_deep([n_x, 5, 3, 1], seed=seed)


def test_momentum_with_beta_zero_is_mini_batch_descent():
    from pipeline.nn.layers import propagate

    X, Y = separable(m=70, n_x=6, seed=4)
    common = dict(learning_rate=0.3, mini_batch_size=16, num_epochs=4, seed=2)
    plain = run_epochs(three_layer(), propagate, X, Y, np.arange(70), optimizer="minibatch",
                       **common)
    momentum = run_epochs(three_layer(), propagate, X, Y, np.arange(70), optimizer="momentum",
                          beta=0.0, **common)
    for key in plain:
        np.testing.assert_allclose(momentum[key], plain[key], rtol=0, atol=1e-12)
    moved = run_epochs(three_layer(), propagate, X, Y, np.arange(70), optimizer="momentum",
                       beta=0.9, **common)
    assert not np.allclose(moved["W1"], plain["W1"], atol=1e-6)  # beta matters


def test_momentum_is_the_course_loop_with_its_velocity():
    """The course's model() with optimizer="momentum": its batches, v = beta v + (1 - beta) g,
    W -= lr v, written out here by hand."""
    from pipeline.nn.layers import propagate

    X, Y = separable(m=50, n_x=6, seed=1)
    parameters = three_layer()
    expected = {k: v.copy() for k, v in parameters.items()}
    v = {f"d{k}": np.zeros_like(p) for k, p in expected.items()}
    seed = 3
    for _ in range(3):
        seed += 1
        for batch_X, batch_Y in course_random_mini_batches(X, Y, 8, seed):
            _, grads, _ = propagate(expected, batch_X, batch_Y)
            for key in expected:
                v[f"d{key}"] = 0.8 * v[f"d{key}"] + 0.2 * grads[f"d{key}"]
                expected[key] = expected[key] - 0.1 * v[f"d{key}"]
    got = run_epochs(parameters, propagate, X, Y, np.arange(50), optimizer="momentum",
                     learning_rate=0.1, mini_batch_size=8, num_epochs=3, seed=3, beta=0.8)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-12)


@pytest.mark.parametrize("decay", ["inverse", "scheduled"])
def test_decay_is_applied_once_an_epoch_as_the_course_does_and_rate_zero_is_none(decay):
    from pipeline.engines.minibatch import schedule
    from pipeline.nn.momentum import schedule_lr_decay, update_lr

    X, Y = separable(m=40, n_x=3, seed=5)
    steps = []

    def counted(parameters, X_batch, Y_batch, l2):
        steps.append(X_batch.shape[1])
        return logistic_propagate(parameters, X_batch, Y_batch, l2)

    common = dict(optimizer="minibatch", learning_rate=0.5, mini_batch_size=40, num_epochs=5,
                  seed=1)
    none = run_epochs(logistic_zeros(3), logistic_propagate, X, Y, np.arange(40), **common)
    zero = run_epochs(logistic_zeros(3), logistic_propagate, X, Y, np.arange(40),
                      decay=schedule(decay, 0.0, 2), **common)
    for key in none:
        np.testing.assert_array_equal(zero[key], none[key])
    # one batch an epoch: epoch e (from 0) steps at lr0 for e = 0, then at decay(lr0, e - 1)
    parameters, expected = logistic_zeros(3), logistic_zeros(3)
    for epoch in range(5):
        lr = 0.5 if epoch == 0 else (update_lr(0.5, epoch - 1, 1.0) if decay == "inverse"
                                     else schedule_lr_decay(0.5, epoch - 1, 1.0, 2))
        _, grads, _ = logistic_propagate(expected, X, Y, 0.0)
        expected = update_parameters_with_gd(expected, grads, lr)
    got = run_epochs(parameters, counted, X, Y, np.arange(40),
                     decay=schedule(decay, 1.0, 2), **common)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-14)
    assert steps == [40] * 5
