"""The course's own code, line for line, as oracles for the mini-batch tests: its
random_mini_batches, and two small models in the loop's calling convention
propagate(parameters, X, Y, l2) -> (cost, grads, ZL)."""

import math

import numpy as np

from pipeline.columns import PixelColumns
from pipeline.nn.logistic import log_loss, sigmoid


def logistic_propagate(parameters, X, Y, l2):
    """Logistic regression as a one-layer network: W1 (1, n_x) = w.T, b1 (1, 1)."""
    W1, b1 = parameters["W1"], parameters["b1"]
    m = X.shape[1]
    # forward
    Z1 = W1 @ X + b1  # (1, m)
    cost = float(np.mean(log_loss(Z1, Y))) + l2 / (2 * m) * float(np.sum(W1 * W1))
    # backward
    dZ1 = sigmoid(Z1) - Y  # (1, m)
    grads = {"dW1": dZ1 @ X.T / m + l2 / m * W1, "db1": np.sum(dZ1, axis=1, keepdims=True) / m}
    return cost, grads, Z1


def two_layer_propagate(parameters, X, Y, l2):
    """LINEAR -> RELU -> LINEAR -> SIGMOID, the course's week-4 shape, written out."""
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    m = X.shape[1]
    # forward
    Z1 = W1 @ X + b1  # (n_h, m)
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2  # (1, m)
    cost = float(np.mean(log_loss(Z2, Y))) + l2 / (2 * m) * (np.sum(W1**2) + np.sum(W2**2))
    # backward
    dZ2 = sigmoid(Z2) - Y  # (1, m)
    dA1 = W2.T @ dZ2  # (n_h, m)
    dZ1 = dA1 * (Z1 > 0)
    grads = {"dW2": dZ2 @ A1.T / m + l2 / m * W2, "db2": np.sum(dZ2, axis=1, keepdims=True) / m,
             "dW1": dZ1 @ X.T / m + l2 / m * W1, "db1": np.sum(dZ1, axis=1, keepdims=True) / m}
    return float(cost), grads, Z2


def two_layer_parameters(n_x, n_h=4, seed=1):
    rng = np.random.RandomState(seed)
    return {"W1": rng.randn(n_h, n_x) * 0.5, "b1": np.zeros((n_h, 1)),
            "W2": rng.randn(1, n_h) * 0.5, "b2": np.zeros((1, 1))}


def pixel_data(m, px, seed=0):
    """PixelColumns over random uint8 rows (m, px*px*3), the same columns as a float64 array
    (x / 255), and labels that a plane through the pixels' mean separates."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, size=(m, px * px * 3), dtype=np.uint8)
    X = rows.T / 255  # (n_x, m)
    Y = (X.sum(axis=0, keepdims=True) > X.sum(axis=0).mean()).astype(float)
    return PixelColumns(rows, (px, px, 3)), X, Y


def separable(m=60, n_x=3, seed=0):
    """Two clusters either side of a plane through the origin, labels 0/1."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((1, m)) < 0.5).astype(float)
    X = rng.normal(size=(n_x, m)) * 0.5 + (2 * Y - 1) * 1.5  # (n_x, m)
    return np.asfortranarray(X), Y


def logistic_zeros(n_x):
    return {"W1": np.zeros((1, n_x)), "b1": np.zeros((1, 1))}


def course_random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """The notebook's random_mini_batches, line for line (its global seed made local)."""
    m = X.shape[1]
    mini_batches = []
    permutation = list(np.random.RandomState(seed).permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation].reshape((1, m))
    num_complete_minibatches = math.floor(m / mini_batch_size)
    for k in range(0, num_complete_minibatches):
        mini_batch_X = shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size]
        mini_batch_Y = shuffled_Y[:, k * mini_batch_size:(k + 1) * mini_batch_size]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    if m % mini_batch_size != 0:
        mini_batch_X = shuffled_X[:, num_complete_minibatches * mini_batch_size:]
        mini_batch_Y = shuffled_Y[:, num_complete_minibatches * mini_batch_size:]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    return mini_batches


def random_network(layer_dims, m=6, seed=0):
    """X (n_x, m), Y (1, m) of 0/1 and a network's parameters drawn at He's scale, with small
    non-zero biases: a generic small problem for gradients."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(layer_dims[0], m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    parameters = {}
    for layer in range(1, len(layer_dims)):
        n, n_prev = layer_dims[layer], layer_dims[layer - 1]
        parameters[f"W{layer}"] = rng.normal(size=(n, n_prev)) * np.sqrt(2 / n_prev)
        parameters[f"b{layer}"] = rng.normal(size=(n, 1)) * 0.1
    return X, Y, parameters
