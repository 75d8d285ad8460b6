"""One fit entry point for every stage: gradient descent (the neuron's or a network's engine)
or mini-batches, one model per learning rate, from the course's start; a run that diverged is
refused in one line."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import config
from pipeline.columns import Columns, flipped, model_scores
from pipeline.engines.batches import Propagate
from pipeline.engines.logistic import gradient_descent
from pipeline.engines.minibatch import loop_options, optimize_minibatch
from pipeline.engines.network import Dropout, train_networks
from pipeline.errors import UserError
from pipeline.nn import cnn
from pipeline.nn.initialization import initialize_parameters_he
from pipeline.nn.layers import propagate
from pipeline.nn.network import initialize_parameters, initialize_parameters_deep
from pipeline.nn.optimizers import minibatch_steps
from pipeline.settings import Settings
from pipeline.shapes import Array, Parameters

Features = Mapping[str, Any]  # features.npz's content: X_train, Y_train, X_test, Y_test, ...
Weights = Mapping[str, Array | float]  # one model's: {"w", "b"} or {"W1", "b1", ...}


def training_set(features: Features, augment: str) -> tuple[Columns, Array]:
    """X (n_x, m) and Y (1, m) to train on; with augment "flip", (n_x, 2m) and (1, 2m): every
    training image and then its mirror."""
    X, Y = features["X_train"], features["Y_train"]
    if augment == "flip":
        X = flipped(X, features["image_shape"])
        Y = np.hstack([Y, Y])
    return X, Y


def initial_parameters(model: str, layer_dims: Sequence[int], init: str = config.INIT,
                       seed: int = config.NETWORK_SEED) -> Parameters:
    """The course's start in its layered layout: zeros for one neuron (the lesson's); for a
    network weights drawn layer by layer from RandomState(seed) (x 0.01 for two-layer,
    / sqrt(n_in) for L-layer, or He's sqrt(2 / n_in) for either with init "he") and zero
    biases."""
    if model == "logistic":
        return {"W1": np.zeros((1, layer_dims[0])), "b1": np.zeros((1, 1))}
    start: Parameters
    if init == "he":
        start = initialize_parameters_he(list(layer_dims), seed=seed)
    elif model == "two-layer":
        n_x, n_h, n_y = layer_dims
        start = initialize_parameters(n_x, n_h, n_y, seed=seed)
    else:
        start = initialize_parameters_deep(layer_dims, seed=seed)
    return start


def start_of(settings: Settings) -> Parameters:
    """initial_parameters for the settings' model, start and seed; the CNN's He's start for its
    architecture (nn.cnn)."""
    if settings.model == "cnn":
        return cnn.initialize_parameters_cnn(cnn.read_architecture(settings.architecture),
                                             settings.layer_dims[0], settings.seed)
    return initial_parameters(settings.model, settings.layer_dims, settings.init, settings.seed)


def pools_of(settings: Settings) -> list[int]:
    """The CNN's max-pool windows, one a convolution (1: none)."""
    return [pool for _, _, pool in cnn.read_architecture(settings.architecture)]


def propagate_of(settings: Settings) -> Propagate:
    """The step the mini-batch loop takes for the settings' model, with its dropout:
    nn.layers.propagate, or the CNN's with its pools."""
    if settings.model == "cnn":
        return partial(cnn.propagate, dropout=dropout_of(settings), pools=pools_of(settings))
    return partial(propagate, dropout=dropout_of(settings))


def model_of(settings: Settings, parameters: Parameters) -> Parameters:
    """The parameters as columns.model_scores and evaluation.explain take them: a CNN's carry
    its pools (cnn.with_pools); the others' are themselves."""
    return cnn.with_pools(parameters, pools_of(settings)) if settings.model == "cnn" \
        else parameters


def dropout_rng(seed: int = config.NETWORK_SEED) -> np.random.RandomState:
    """The dropout masks' generator for a network started from seed: their own RandomState
    (seed + 1), so the masks never repeat the start's draws."""
    return np.random.RandomState(seed + 1)


def dropout_of(settings: Settings) -> Dropout | None:
    """(keep_prob, rng) for the engines, or None when nothing is dropped. The masks come from
    dropout_rng, drawn afresh each step (the assignment reseeds at each call, so its every step
    drops the same units)."""
    if settings.keep_prob >= 1:
        return None
    return settings.keep_prob, dropout_rng(settings.seed)


def train(features: Features, settings: Settings, *, learning_rates: Sequence[float] | None = None,
          engine: str = "auto", on_progress: Callable[[int], object] | None = None
          ) -> dict[str, Any]:
    """Fit the settings' model from the course's start: full-batch gradient descent (all rates
    batched in one engine run) or, for settings.optimizer minibatch or adam, mini-batches (one
    rate after another). A run that diverged is refused with a UserError.

    learning_rates : one model per rate, in order (default: settings.learning_rate alone)
    on_progress : called with a number of steps done, total_steps() in all
    Returns a dict: weights (k dicts, {"w", "b"} or {"W1", "b1", ...}), engine, settings (as
    run: for mini-batches the steps taken and the batch used), learning_rates (k,), and the
    curves iterations (c,) (epochs for mini-batches), costs, train_accuracies,
    test_accuracies (k, c); for mini-batches also start_costs (k,), each run's before its first
    update (optimize_minibatch's start_cost).
    """
    rates = [settings.learning_rate] if learning_rates is None else list(learning_rates)
    if settings.optimizer.minibatch:
        return train_minibatch(features, settings, rates, on_progress)
    if settings.model == "cnn":
        raise UserError("the CNN trains on mini-batches: choose adam, minibatch or momentum")
    X, Y = training_set(features, settings.augment)
    X_test, Y_test = features["X_test"], features["Y_test"]
    every = config.CHECKPOINT_EVERY
    if settings.model == "logistic":
        run = gradient_descent(X, Y, rates, settings.num_iterations, X_test, Y_test,
                               engine=engine, every=every, on_progress=on_progress,
                               l2=settings.l2)
        run["weights"] = [{"w": run["w"][:, j:j + 1], "b": run["b"][j]}
                          for j in range(len(rates))]
    else:
        run = train_networks(X, Y, start_of(settings), rates, settings.num_iterations,
                             X_test=X_test, Y_test=Y_test, l2=settings.l2, engine=engine,
                             every=every, on_progress=on_progress,
                             dropout=dropout_of(settings))
        run["weights"] = run["parameters"]
    refuse_diverged(rates, run["weights"], run["costs"])
    return {**run, "settings": settings, "learning_rates": rates}


def total_steps(features: Features, settings: Settings, k: int = 1) -> int:
    """All that train() reports to on_progress for k rates: gd's iterations (the rates run
    together), or every batch of every rate."""
    if not settings.optimizer.minibatch:
        return settings.num_iterations
    m = features["Y_train"].shape[1] * (2 if settings.augment == "flip" else 1)
    return k * int(minibatch_steps(m, settings.optimizer.mini_batch_size,
                                   settings.optimizer.num_epochs))


# A cost that grew this many times over its start has diverged even where the floats stayed
# finite. Which way a huge rate goes depends on the CPU: weights that overflow to inf, finite
# weights whose scores overflow (a NaN cost), or dead ReLUs and a bias near 1e307 (a finite cost
# near 1e307). All three are the same divergence and are refused alike.
DIVERGED_GROWTH = 1e6


def diverged(weights: Weights, costs: Array, start: float | None = None) -> bool:
    """Whether a run diverged: weights or last cost not finite, or the last cost above
    DIVERGED_GROWTH times the start's (or than DIVERGED_GROWTH, for a start below 1).

    weights : dict of arrays; costs : ndarray of shape (c,)
    start : the cost before any update; default costs[0] (gd's first point is the start)
    """
    if not (all(np.isfinite(a).all() for a in weights.values()) and np.isfinite(costs[-1])):
        return True
    return bool(costs[-1] > DIVERGED_GROWTH * max(costs[0] if start is None else start, 1.0))


def refuse_diverged(learning_rates: Sequence[float], weights: Sequence[Weights],
                    costs: Sequence[Array], starts: Sequence[float | None] | None = None
                    ) -> None:
    """One line for the first rate whose run diverged."""
    for lr, w, cost, start in zip(learning_rates, weights, costs,
                                  starts or [None] * len(costs), strict=True):
        if diverged(w, cost, start):
            raise UserError(f"learning rate {lr!r} diverged (its cost or weights blew up); "
                            "try a smaller one")


def train_minibatch(features: Features, settings: Settings, learning_rates: list[float],
                    on_progress: Callable[[int], object] | None = None) -> dict[str, Any]:
    """train() with mini-batch gradient descent or Adam: one model per rate, in turn."""
    X, Y = training_set(features, settings.augment)
    m, optimizer = X.shape[1], settings.optimizer
    batch = min(optimizer.mini_batch_size, m)
    steps = total_steps(features, settings)
    start, runs = start_of(settings), []

    def forward(parameters: Parameters, X: Columns, columns: NDArray[np.intp]) -> Array:
        return model_scores(model_of(settings, parameters), X, columns)

    for lr in learning_rates:
        step = propagate_of(settings)  # each rate's dropout masks: from one seed
        runs.append(optimize_minibatch(start, step, X, Y, learning_rate=lr, l2=settings.l2,
                                       **{**loop_options(optimizer), "mini_batch_size": batch},
                                       X_test=features["X_test"], Y_test=features["Y_test"],
                                       on_progress=on_progress, forward=forward))
    weights = [r["parameters"] for r in runs]
    refuse_diverged(learning_rates, weights, [r["costs"] for r in runs],
                    [r["start_cost"] for r in runs])
    if settings.model == "logistic":
        weights = [{"w": w["W1"].T, "b": float(w["b1"][0, 0])} for w in weights]
    as_run = replace(settings, num_iterations=steps,
                     optimizer=replace(optimizer, mini_batch_size=batch))
    return {"weights": weights, "engine": optimizer.name, "settings": as_run,
            "learning_rates": learning_rates, "iterations": runs[0]["epochs"],
            "start_costs": [r["start_cost"] for r in runs],
            **{key: np.array([r[key] for r in runs])
               for key in ("costs", "train_accuracies", "test_accuracies")}}

