"""The lesson's math: one logistic-regression neuron, in the course's own names. Pure NumPy, no I/O.

Shapes follow the course: X is (n_x, m), one example per column; Y is (1, m); w is (n_x, 1).
"""

from typing import Any, TypedDict, overload

import numpy as np
from numpy.typing import NDArray

from pipeline.shapes import Array, Labels, check_shape

THRESHOLD = 0.5  # predict 1 where A > 0.5, strictly (the course's rule)



class Grads(TypedDict):
    dw: Array  # (n_x, 1)
    db: float


class Params(TypedDict):
    w: Array  # (n_x, 1)
    b: float


class CourseRun(TypedDict):
    """What model() returns, the course's dict."""

    costs: list[float]
    Y_prediction_test: Array
    Y_prediction_train: Array
    w: Array
    b: float
    learning_rate: float
    num_iterations: int


@overload
def sigmoid(z: float) -> np.float64: ...
@overload
def sigmoid(z: NDArray[Any]) -> Array: ...
def sigmoid(z: float | NDArray[Any]) -> np.float64 | Array:
    """1 / (1 + e^-z), for scalars and arrays, without overflow for any finite z."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # in (0, 1]: exp never sees a large positive argument
    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    out: np.float64 | Array = s[()]  # a numpy float for a scalar z, the array otherwise
    return out


@overload
def log_loss(Z: float, Y: float) -> np.float64: ...
@overload
def log_loss(Z: NDArray[Any], Y: Labels | float) -> Array: ...
def log_loss(Z: float | NDArray[Any], Y: Labels | float) -> np.float64 | Array:
    """Cross-entropy loss per example, from the pre-activation Z = w.T X + b.

    Equals -(Y log A + (1 - Y) log(1 - A)) with A = sigmoid(Z), rewritten with log A = -softplus(-Z)
    and log(1 - A) = -softplus(Z) so that it stays finite where A rounds to 0 or 1.
    """
    loss: np.float64 | Array = Y * np.logaddexp(0, -Z) + (1 - Y) * np.logaddexp(0, Z)
    return loss


def initialize_with_zeros(dim: int) -> tuple[Array, float]:
    """w : zeros of shape (dim, 1); b : the float 0.0."""
    w = np.zeros((dim, 1))
    b = 0.0
    return w, b


def propagate(w: Array, b: float, X: Array, Y: Labels, l2: float = 0.0) -> tuple[Grads, float]:
    """Cost and its gradients for one forward and one backward pass over all m examples.

    With l2 > 0 the cost gains l2 / (2m) * ||w||^2 (b is not penalized), and dw gains l2 / m * w.

    Parameters
    ----------
    w : ndarray of shape (n_x, 1)
    b : float
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m), labels 0 or 1
    l2 : float >= 0, the weight-decay strength lambda

    Returns
    -------
    grads : dict with "dw" of shape (n_x, 1) and "db" a float
    cost : float, the mean cross-entropy loss J
    """
    n_x, m = X.shape
    check_shape("w", w, (n_x, 1), of=("X", X))
    check_shape("Y", Y, (1, m), of=("X", X))
    # forward
    Z = w.T @ X + b  # (1, m); b broadcasts across the m columns
    A = sigmoid(Z)  # (1, m)
    cost = float(np.mean(log_loss(Z, Y)))
    if l2:
        cost += l2 / (2 * m) * float(np.sum(w * w))
    # backward
    dZ = A - Y  # (1, m): dJ/dZ times m
    dw = X @ dZ.T / m  # (n_x, 1)
    if l2:
        dw = dw + l2 / m * w
    db = float(np.sum(dZ) / m)
    return {"dw": dw, "db": db}, cost


def propagate_loops(w: Array, b: float, X: Array, Y: Labels) -> tuple[Grads, float]:
    """propagate as the lesson first writes it: a loop over the m examples and the n_x features.

    Same inputs and outputs as propagate; kept as its oracle and to measure what vectorizing buys.
    """
    n_x, m = X.shape
    J, dw, db = 0.0, [0.0] * n_x, 0.0
    for i in range(m):
        z = b
        for j in range(n_x):
            z += float(w[j, 0]) * float(X[j, i])
        a = float(sigmoid(z))
        y = float(Y[0, i])
        J += float(log_loss(z, y))
        dz = a - y
        for j in range(n_x):
            dw[j] += float(X[j, i]) * dz
        db += dz
    return {"dw": np.array(dw).reshape(n_x, 1) / m, "db": db / m}, J / m


def optimize(w: Array, b: float, X: Array, Y: Labels, num_iterations: int = 100,
             learning_rate: float = 0.009, print_cost: bool = False, *,
             l2: float = 0.0) -> tuple[Params, Grads, list[float]]:
    """Gradient descent, the textbook loop: the reference every faster engine is held to.

    Returns params {"w", "b"}, the grads of the last step, and the costs recorded when
    i % 100 == 0. The caller's w is never modified.
    """
    if num_iterations < 1:
        raise ValueError(f"num_iterations must be at least 1, got {num_iterations}")
    w = np.array(w, dtype=float)  # a copy: the caller's w stays as it was
    b = float(b)
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y, l2)
        # update
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print(f"Cost after iteration {i}: {cost:f}")
    return {"w": w, "b": b}, grads, costs


def predict_proba(w: Array, b: float, X: Array) -> Array:
    """A = p(y = 1 | x) for each column of X: ndarray of shape (1, m)."""
    check_shape("w", w, (X.shape[0], 1), of=("X", X))
    return sigmoid(w.T @ X + b)


def predict(w: Array, b: float, X: Array) -> Array:
    """Labels 0.0 / 1.0 of shape (1, m): 1 where A > 0.5, strictly."""
    return (predict_proba(w, b, X) > THRESHOLD).astype(float)


def predict_from_scores(Z: NDArray[Any]) -> Array:
    """Predictions (1.0 for cat) from scores Z = w.T X + b, as predict makes them: 1 where
    sigmoid(Z) > 0.5, strictly. Any shape."""
    return (sigmoid(Z) > THRESHOLD).astype(float)


def accuracy(Y_prediction: NDArray[Any], Y: Labels) -> float:
    """Percent of labels right, the course's way: 100 - mean|prediction - Y| * 100."""
    check_shape("Y_prediction", Y_prediction, Y.shape, of=("Y", Y))
    return float(100 - np.mean(np.abs(Y_prediction - Y)) * 100)


def model(X_train: Array, Y_train: Labels, X_test: Array, Y_test: Labels,
          num_iterations: int = 2000, learning_rate: float = 0.5,
          print_cost: bool = False) -> CourseRun:
    """The whole course run: zeros init, optimize, predict on train and test."""
    w, b = initialize_with_zeros(X_train.shape[0])
    params, grads, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate,
                                    print_cost=print_cost)
    w, b = params["w"], params["b"]
    Y_prediction_test = predict(w, b, X_test)
    Y_prediction_train = predict(w, b, X_train)
    if print_cost:
        print(f"train accuracy: {accuracy(Y_prediction_train, Y_train)} %")
        print(f"test accuracy: {accuracy(Y_prediction_test, Y_test)} %")
    return {"costs": costs, "Y_prediction_test": Y_prediction_test,
            "Y_prediction_train": Y_prediction_train, "w": w, "b": b,
            "learning_rate": learning_rate, "num_iterations": num_iterations}
