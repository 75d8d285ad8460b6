"""Gradient descent for train and compare: the textbook iterates, for k learning rates at once.

Two engines give the same iterates (up to rounding):

- "primal", the textbook loop: Z = W.T X + b, then W -= lr * X dZ.T / m. Each step reads all of X.
- "gram": w starts at zero and every update adds a combination of X's columns, so w = X a with
  a of shape (m, 1). Then W.T X = a.T K with the Gram matrix K = X.T X (m, m), built once, and
  the update is a -= lr * dZ.T / m. A step costs O(m^2) instead of O(n_x m); w = X a at the end.

"auto" takes gram where m <= n_x (here m = 209, n_x = 12288), primal otherwise.
The course-vocabulary `model.optimize` stays the plain textbook loop: the reference for both.
"""

import numpy as np

from pipeline.model import THRESHOLD, accuracy, log_loss, sigmoid

ENGINES = ("auto", "gram", "primal")


def choose_engine(engine, n_x, m):
    if engine == "auto":
        return "gram" if m <= n_x else "primal"
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine


def row_accuracies(A, Y):
    """Accuracy in percent of each row of probabilities A (k, m) against labels Y (1, m)."""
    return [accuracy((row[None, :] > THRESHOLD).astype(float), Y) for row in A]


def gradient_descent(X, Y, learning_rates, num_iterations, X_test, Y_test, engine="auto",
                     every=100, on_progress=None):
    """Train k neurons from zeros, one per learning rate, for num_iterations steps each.

    Parameters
    ----------
    X : ndarray of shape (n_x, m);  Y : ndarray of shape (1, m)
    learning_rates : sequence of k floats
    X_test : ndarray of shape (n_x, m_test);  Y_test : ndarray of shape (1, m_test)
        Scored at each checkpoint, for reporting only: nothing is chosen by it.
    every : record cost and accuracies at iteration i when i % every == 0 (before that step)
    on_progress : called with a number of steps done, every 2 % or so (a tqdm bar's update)

    Returns
    -------
    dict with w (n_x, k), b (k,), engine, and per checkpoint: iterations (c,), costs (k, c),
    train_accuracies (k, c), test_accuracies (k, c)
    """
    n_x, m = X.shape
    assert Y.shape == (1, m) and X_test.shape[0] == n_x and Y_test.shape == (1, X_test.shape[1])
    lr = np.asarray(learning_rates, dtype=float).reshape(-1, 1)  # (k, 1)
    k = lr.shape[0]
    engine = choose_engine(engine, n_x, m)
    if engine == "gram":
        F, F_test = X.T @ X, X.T @ X_test  # (m, m), (m, m_test)
        coef = np.zeros((m, k))  # w = X @ coef
    else:
        F, F_test = X, X_test  # (n_x, m), (n_x, m_test)
        coef = np.zeros((n_x, k))  # w itself
    b = np.zeros((k, 1))
    iterations, costs, train_acc, test_acc = [], [], [], []
    tick, reported = max(1, num_iterations // 50), 0  # a bar update per step would cost more
    for i in range(num_iterations):
        # forward
        Z = coef.T @ F + b  # (k, m) = W.T @ X + b
        A = sigmoid(Z)  # (k, m)
        if i % every == 0:
            iterations.append(i)
            costs.append(np.mean(log_loss(Z, Y), axis=1))
            train_acc.append(row_accuracies(A, Y))
            test_acc.append(row_accuracies(sigmoid(coef.T @ F_test + b), Y_test))
        # backward
        dZ = A - Y  # (k, m)
        step = dZ.T / m if engine == "gram" else X @ dZ.T / m  # (m, k) or (n_x, k)
        # update
        coef -= lr.T * step
        b -= lr * (np.sum(dZ, axis=1, keepdims=True) / m)
        if on_progress and ((i + 1) % tick == 0 or i + 1 == num_iterations):
            on_progress(i + 1 - reported)
            reported = i + 1
    W = X @ coef if engine == "gram" else coef  # (n_x, k)
    return {"w": W, "b": b[:, 0], "engine": engine, "iterations": np.array(iterations),
            "costs": np.array(costs).T, "train_accuracies": np.array(train_acc).T,
            "test_accuracies": np.array(test_acc).T}
