"""A saved model's scores: z of its last layer for any columns, and its cost. One neuron and
the week-4 networks alike, from the weights as params.npz holds them."""

from collections.abc import Mapping
from typing import Any

import numpy as np

from pipeline.columns import Columns, Floats, Indices, Parameters, model_scores, times
from pipeline.nn.logistic import log_loss


def network_parameters(params: Mapping[str, Any]) -> Parameters:
    """The weights in the course's layered layout {"W1": (n_1, n_x), "b1": (n_1, 1), ...}; one
    neuron is the one-layer case, W1 = w.T."""
    if str(params["model"]) == "logistic":
        return {"W1": params["w"].T, "b1": np.reshape(float(params["b"]), (1, 1))}
    layers = range(1, len(params["layer_dims"]))
    return {f"{k}{layer}": params[f"{k}{layer}"] for layer in layers for k in "Wb"}


def scores(params: Mapping[str, Any], X: Columns, idx: Indices | None = None) -> Floats:
    """z of the last layer, (1, m), for the columns idx (default all) of X (n_x, m) (an array or
    PixelColumns, read by blocks): w.T X + b for one neuron."""
    if str(params["model"]) == "logistic":
        return times(params["w"].T, X, idx) + float(params["b"])
    return model_scores(network_parameters(params), X, idx)


def cost_of_scores(params: Mapping[str, Any], Z: Floats, Y: Floats, l2: float = 0.0) -> float:
    """The mean cross-entropy of the model's scores Z (1, m) of the columns whose labels are
    Y (1, m), plus l2/(2m) times the sum of every W's squares."""
    weights = network_parameters(params)
    penalty = sum(float(np.sum(weights[k] ** 2)) for k in weights if k.startswith("W"))
    m: int = Y.shape[1]
    return float(np.mean(log_loss(Z, Y))) + l2 / (2 * m) * penalty
