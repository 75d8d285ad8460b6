"""One fit entry point for every stage: gradient descent (the neuron's or a network's engine)
or mini-batches, one model per learning rate, from the course's start; a run that diverged is
refused in one line."""

from dataclasses import replace

import numpy as np

from pipeline import config
from pipeline.columns import flipped, model_scores
from pipeline.engines.logistic import gradient_descent
from pipeline.engines.minibatch import optimize_minibatch
from pipeline.engines.network import train_networks
from pipeline.errors import UserError
from pipeline.nn.layers import propagate
from pipeline.nn.network import initialize_parameters, initialize_parameters_deep
from pipeline.nn.optimizers import minibatch_steps


def training_set(features, augment):
    """X (n_x, m) and Y (1, m) to train on; with augment "flip", (n_x, 2m) and (1, 2m): every
    training image and then its mirror."""
    X, Y = features["X_train"], features["Y_train"]
    if augment == "flip":
        X = flipped(X, features["image_shape"])
        Y = np.hstack([Y, Y])
    return X, Y


def initial_parameters(model, layer_dims):
    """The course's start in its layered layout: zeros for one neuron (the lesson's); for a
    network seed-1 weights drawn layer by layer (x 0.01 for two-layer, / sqrt(n_in) for
    L-layer) and zero biases."""
    if model == "logistic":
        return {"W1": np.zeros((1, layer_dims[0])), "b1": np.zeros((1, 1))}
    if model == "two-layer":
        return initialize_parameters(*layer_dims, seed=config.NETWORK_SEED)
    return initialize_parameters_deep(layer_dims, seed=config.NETWORK_SEED)


def train(features, settings, *, learning_rates=None, engine="auto", on_progress=None):
    """Fit the settings' model from the course's start: full-batch gradient descent (all rates
    batched in one engine run) or, for settings.optimizer minibatch or adam, mini-batches (one
    rate after another). A run that diverged is refused with a UserError.

    learning_rates : one model per rate, in order (default: settings.learning_rate alone)
    on_progress : called with a number of steps done, total_steps() in all
    Returns a dict: weights (k dicts, {"w", "b"} or {"W1", "b1", ...}), engine, settings (as
    run: for mini-batches the steps taken and the batch used), learning_rates (k,), and the
    curves iterations (c,) (epochs for mini-batches), costs, train_accuracies,
    test_accuracies (k, c).
    """
    rates = [settings.learning_rate] if learning_rates is None else list(learning_rates)
    if settings.optimizer.minibatch:
        return train_minibatch(features, settings, rates, on_progress)
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
        start = initial_parameters(settings.model, settings.layer_dims)
        run = train_networks(X, Y, start, rates, settings.num_iterations, X_test=X_test,
                             Y_test=Y_test, l2=settings.l2, engine=engine, every=every,
                             on_progress=on_progress)
        run["weights"] = run["parameters"]
    refuse_diverged(rates, run["weights"], run["costs"])
    return {**run, "settings": settings, "learning_rates": rates}


def total_steps(features, settings, k=1):
    """All that train() reports to on_progress for k rates: gd's iterations (the rates run
    together), or every batch of every rate."""
    if not settings.optimizer.minibatch:
        return settings.num_iterations
    m = features["Y_train"].shape[1] * (2 if settings.augment == "flip" else 1)
    return k * minibatch_steps(m, settings.optimizer.mini_batch_size, settings.optimizer.num_epochs)


# A cost that grew this many times over its start has diverged even where the floats stayed
# finite. Which way a huge rate goes depends on the CPU: weights that overflow to inf, finite
# weights whose scores overflow (a NaN cost), or dead ReLUs and a bias near 1e307 (a finite cost
# near 1e307). All three are the same divergence and are refused alike.
DIVERGED_GROWTH = 1e6


def diverged(weights, costs):
    """Whether a run diverged: weights or last cost not finite, or the last cost above
    DIVERGED_GROWTH times the first (or than DIVERGED_GROWTH, for a first cost below 1).

    weights : dict of arrays; costs : ndarray of shape (c,), the first before any update
    """
    if not (all(np.isfinite(a).all() for a in weights.values()) and np.isfinite(costs[-1])):
        return True
    return bool(costs[-1] > DIVERGED_GROWTH * max(costs[0], 1.0))


def refuse_diverged(learning_rates, weights, costs):
    """One line for the first rate whose run diverged."""
    for lr, w, cost in zip(learning_rates, weights, costs, strict=True):
        if diverged(w, cost):
            raise UserError(f"learning rate {lr!r} diverged (its cost or weights blew up); "
                            "try a smaller one")


def train_minibatch(features, settings, learning_rates, on_progress=None):
    """train() with mini-batch gradient descent or Adam: one model per rate, in turn."""
    X, Y = training_set(features, settings.augment)
    m, optimizer = X.shape[1], settings.optimizer
    batch = min(optimizer.mini_batch_size, m)
    steps = total_steps(features, settings)
    start = initial_parameters(settings.model, settings.layer_dims)
    runs = []
    for lr in learning_rates:
        runs.append(optimize_minibatch(start, propagate, X, Y, optimizer=optimizer.name,
                                       learning_rate=lr, mini_batch_size=batch,
                                       num_epochs=optimizer.num_epochs, beta1=optimizer.beta1,
                                       beta2=optimizer.beta2, epsilon=config.EPSILON,
                                       seed=config.MINIBATCH_SEED, l2=settings.l2,
                                       X_test=features["X_test"], Y_test=features["Y_test"],
                                       on_progress=on_progress,
                                       forward=model_scores))
    weights = [r["parameters"] for r in runs]
    refuse_diverged(learning_rates, weights, [r["costs"] for r in runs])
    if settings.model == "logistic":
        weights = [{"w": w["W1"].T, "b": float(w["b1"][0, 0])} for w in weights]
    as_run = replace(settings, num_iterations=steps,
                     optimizer=replace(optimizer, mini_batch_size=batch))
    return {"weights": weights, "engine": optimizer.name, "settings": as_run,
            "learning_rates": learning_rates, "iterations": runs[0]["epochs"],
            **{key: np.array([r[key] for r in runs])
               for key in ("costs", "train_accuracies", "test_accuracies")}}

