"""Gradient descent for train and compare: the textbook iterates, for k learning rates at once.

- "primal" is the textbook loop, batched: Z = W.T X + b, then W -= lr * X dZ.T / m. Each step
  reads all of X (12288 x 209 here, 20 MB) twice.
- "gram" gives the same iterates without touching X in the loop. Fold the bias in as the weight
  of a constant feature: X1 = [X; 1], w1 = [w; b]. w1 starts at zero and every update adds a
  combination of X1's columns, so w1 = X1 a.T with a of shape (1, m). Then Z = a X1.T X1 = a K1
  with the Gram matrix K1 = X.T X + 1 (m, m), built once, and the update is a -= lr/m * dZ.
  A step costs O(m^2) instead of O(n_x m); at the end w = X a.T and b = sum(a).
  Several learning rates train together as the rows of one (k, m) matrix a.
- With L2 (cost + l2/(2m) ||w||^2, b not penalized) the bias cannot ride in K1, since decaying a
  would decay b too: `masked_gram_steps` keeps b apart, Z = a K + b with K = X.T X, and
  a -= lr/m * (dZ + l2 * a). It also trains each row on its own subset of the columns (a 0/1
  mask, m counted per row), so cross-validation trains every fold, rate and l2 in one product.

"auto" takes gram where m <= n_x (here m = 209, n_x = 12288), primal otherwise.
The course-vocabulary `nn.logistic.optimize` stays the plain textbook loop: the reference for both.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from pipeline.columns import (
    Columns,
    Positions,
    gram,
    matmul,
    matmul_transposed,
    over_blocks,
    scale_of,
)
from pipeline.nn.logistic import accuracy, log_loss, predict_from_scores, sigmoid
from pipeline.shapes import Array, check_sets
from pipeline.threads import on_blas_threads

ENGINES = ("auto", "gram", "primal")
Tick = Callable[[int], None]  # tick(i) after step i
# checkpoint(i, Z (k, m), Z_test (k, m_test), ||w||^2 (k,) or 0.0 without l2): one record
Checkpoint = Callable[[int, Array, Array, Array | float], None]


def choose_engine(engine: str, n_x: int, m: int) -> str:
    if engine == "auto":
        return "gram" if m <= n_x else "primal"
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine


def row_accuracies(Z: Array, Y: Array) -> list[float]:
    """Accuracy in percent of each row of scores Z (k, m) against labels Y (1, m)."""
    return [accuracy(row[None, :], Y) for row in predict_from_scores(Z)]


def sigmoid_via_tanh(S: Array) -> Array:
    """The sigmoid through tanh, in place: S = z / 2 becomes tanh(z / 2) = 2 sigmoid(z) - 1, as
    sigmoid(z) = (1 + tanh(z / 2)) / 2 (the steps fold the 1/2's into their constants)."""
    return np.tanh(S, out=S)


def primal_steps(X: Columns, Y: Array, X_test: Columns, *, lr: Array, l2: float,
                 num_iterations: int, every: int, checkpoint: Checkpoint, tick: Tick
                 ) -> tuple[Array, Array]:
    """The textbook loop for k rates at once; lr is (k, 1). Returns w (n_x, k), b (k,).

    Pixels are read once a step, each block's forward and backward pass done while it is in
    cache, on its integers: the 1/255 goes on W.T @ block and on dW (see columns.raw_blocks)."""
    n_x, m = X.shape
    W, b = np.zeros((n_x, lr.shape[0])), np.zeros((lr.shape[0], 1))  # (n_x, k), (k, 1)
    Z, dZ = np.empty((lr.shape[0], m)), np.empty((lr.shape[0], m))  # (k, m)
    pixel_scale = scale_of(X)  # 255 for pixels; 1 for an array, one block: the textbook's

    def forward_backward(columns: Positions, block: Array) -> Array:
        """Z and dZ on some columns; returns their share of dW * m * pixel_scale (n_x, k)."""
        # forward
        Z[:, columns] = W.T @ block / pixel_scale + b  # (k, b)
        # backward
        dZ[:, columns] = sigmoid(Z[:, columns]) - Y[:, columns]  # (k, b)
        return block @ dZ[:, columns].T  # (n_x, k)

    for i in range(num_iterations):
        dW = over_blocks(forward_backward, X)  # (n_x, k)
        if i % every == 0:
            checkpoint(i, Z, matmul(W.T, X_test) + b, np.sum(W * W, axis=0) if l2 else 0.0)
        dW /= pixel_scale * m
        if l2:
            dW += l2 / m * W
        db = np.sum(dZ, axis=1, keepdims=True) / m  # (k, 1)
        # update
        W -= lr.T * dW
        b -= lr * db
        tick(i)
    return W, b[:, 0]


def gram_steps(X: Columns, Y: Array, X_test: Columns, *, lr: Array, l2: float,
               num_iterations: int, every: int, checkpoint: Checkpoint, tick: Tick
               ) -> tuple[Array, Array]:
    """The same iterates in the Gram space, one row of a (k, m) per rate. Each step is one (m, m)
    matvec per rate and four in-place operations, so the loop allocates nothing.
    Returns w (n_x, k), b (k,)."""
    if l2:
        return l2_gram_steps(X, Y, X_test, lr=lr, l2=l2, num_iterations=num_iterations, every=every,
                             checkpoint=checkpoint, tick=tick)
    m = X.shape[1]
    # sigmoid(z) = (1 + tanh(z / 2)) / 2: with half of K1 the matvec gives z / 2 directly, and
    # lr/m * (A - Y) = lr/(2m) * tanh(z / 2) + lr/m * (1/2 - Y).
    K1_half = gram(X, X)  # (m, m), symmetric; made in place: at m = 12,288 each copy is 1.2 GB
    K1_half += 1
    K1_half *= 0.5
    K1_half_test = 0.5 * (gram(X, X_test) + 1)  # (m, m_test)
    half_step = lr / (2 * m)  # (k, 1)
    shift = lr / m * (0.5 - Y)  # (k, m)
    a = np.zeros((lr.shape[0], m))  # (k, m)
    S = np.empty_like(a)  # (k, m), reused every step
    for i in range(num_iterations):
        # forward: S = Z / 2. One matvec per rate: for a handful of rows OpenBLAS's gemm is
        # slower than that many gemvs (make bench shows the batched total).
        for j in range(len(a)):
            np.dot(K1_half, a[j], out=S[j])
        if i % every == 0:
            checkpoint(i, 2 * S, 2 * (a @ K1_half_test), 0.0)
        sigmoid_via_tanh(S)
        # backward: S = lr/m * (A - Y)
        S *= half_step
        S += shift
        # update
        a -= S
        tick(i)
    return matmul_transposed(a, X).T, a.sum(axis=1)


def l2_gram_steps(X: Columns, Y: Array, X_test: Columns, *, lr: Array, l2: float,
                  num_iterations: int, every: int, checkpoint: Checkpoint, tick: Tick
                  ) -> tuple[Array, Array]:
    """gram_steps with the bias kept apart, as L2 needs: every row trains on all m columns."""
    K_test = gram(X, X_test)  # (m, m_test)

    def scores(i: int, a: Array, b: Array) -> None:
        aK = a @ K  # (k, m)
        checkpoint(i, aK + b, a @ K_test + b, np.sum(aK * a, axis=1))  # ||w||^2 = a K a.T

    K = gram(X, X)  # (m, m)
    train_mask = np.ones((lr.shape[0], X.shape[1]))  # (k, m)
    a, b = masked_gram_steps(K, Y, lr=lr, l2=np.full_like(lr, l2), train_mask=train_mask,
                             num_iterations=num_iterations, at=range(0, num_iterations, every),
                             checkpoint=scores, tick=tick)
    return matmul_transposed(a, X).T, b[:, 0]


def masked_gram_steps(K: Array, Y: Array, *, lr: Array, l2: Array, train_mask: Array,
                      num_iterations: int, at: Iterable[int],
                      checkpoint: Callable[[int, Array, Array], None], tick: Tick | None = None
                      ) -> tuple[Array, Array]:
    """R neurons in the Gram space, row r trained on the columns where train_mask[r] is 1.

    Parameters
    ----------
    K : ndarray of shape (M, M), X.T X over all the columns any row may see
    Y : ndarray of shape (1, M)
    lr, l2 : ndarrays of shape (R, 1), each row's learning rate and L2 strength
    train_mask : ndarray of shape (R, M), 0/1; row r's m is its row sum
    at : the step counts i (0 <= i <= num_iterations) after which checkpoint(i, a, b) is called

    Returns a (R, M) and b (R, 1): row r's neuron is w = X a[r].T, b[r]. a stays zero outside
    row r's columns, so its iterates are those of a separate fit on those columns alone.
    """
    at = set(at)
    step = lr / np.maximum(train_mask.sum(axis=1, keepdims=True), 1)  # (R, 1): lr / m_r
    # As gram_steps: S = Z / 2, and lr/m * (A - Y) = half_step * tanh(S) + shift.
    half_step = train_mask * (step / 2)  # (R, M)
    shift = train_mask * step * (0.5 - Y)  # (R, M)
    decay = 1 - step * l2  # (R, 1): a -= lr/m * l2 * a
    a = np.zeros(train_mask.shape)  # (R, M)
    b = np.zeros((train_mask.shape[0], 1))  # (R, 1)
    S = np.empty_like(a)  # (R, M), reused every step
    for i in range(num_iterations):
        if i in at:
            checkpoint(i, a, b)
        # forward: S = Z / 2
        np.dot(a, K, out=S)
        S *= 0.5  # exact: a K / 2 equals a (K / 2) bit for bit, without a second (M, M) matrix
        S += b / 2
        sigmoid_via_tanh(S)
        # backward: S = lr/m * mask * (A - Y)
        S *= half_step
        S += shift
        # update
        if l2.any():
            a *= decay
        a -= S
        b -= S.sum(axis=1, keepdims=True)
        if tick:
            tick(i)
    if num_iterations in at:
        checkpoint(num_iterations, a, b)
    return a, b


@on_blas_threads("neuron")
def gradient_descent(X: Columns, Y: Array, learning_rates: Sequence[float], num_iterations: int,
                     X_test: Columns, Y_test: Array, *, engine: str = "auto", every: int = 100,
                     on_progress: Callable[[int], object] | None = None, l2: float = 0.0
                     ) -> dict[str, Any]:
    """Train k neurons from zeros, one per learning rate, for num_iterations steps each.

    Parameters
    ----------
    X : ndarray of shape (n_x, m), or PixelColumns;  Y : ndarray of shape (1, m)
    learning_rates : sequence of k floats
    X_test : ndarray of shape (n_x, m_test);  Y_test : ndarray of shape (1, m_test)
        Scored at each checkpoint, for reporting only: nothing is chosen by it.
    every : record cost and accuracies at iteration i when i % every == 0 (before that step)
    l2 : the cost gains l2/(2m) ||w||^2 (b is not penalized); 0 is the course's plain cost
    on_progress : called with 1 after each step (a tqdm bar's update)

    Returns
    -------
    dict with w (n_x, k), b (k,), engine, learning_rates (k,), and per checkpoint:
    iterations (c,), costs (k, c), train_accuracies (k, c), test_accuracies (k, c)
    """
    n_x, m = X.shape
    check_sets(X, Y, X_test, Y_test)
    lr = np.asarray(learning_rates, dtype=float).reshape(-1, 1)  # (k, 1)
    engine = choose_engine(engine, n_x, m)
    iterations, costs, train_acc, test_acc = [], [], [], []

    def checkpoint(i: int, Z: Array, Z_test: Array, w_squared: Array | float = 0.0) -> None:
        """Record iteration i's cost and accuracies from its scores Z (k, m), Z_test (k, m_test)
        and, with l2, each neuron's ||w||^2 (k,)."""
        iterations.append(i)
        costs.append(np.mean(log_loss(Z, Y), axis=1) + l2 / (2 * m) * w_squared)
        train_acc.append(row_accuracies(Z, Y))
        test_acc.append(row_accuracies(Z_test, Y_test))

    def tick(i: int) -> None:  # after step i: a bar's update
        if on_progress:
            on_progress(1)

    steps = gram_steps if engine == "gram" else primal_steps
    with np.errstate(over="ignore", invalid="ignore"):  # an absurd rate overflows: train says so
        w, b = steps(X, Y, X_test, lr=lr, l2=l2, num_iterations=num_iterations, every=every,
                     checkpoint=checkpoint, tick=tick)
    return {"w": w, "b": b, "engine": engine, "learning_rates": lr[:, 0],
            "iterations": np.array(iterations),
            "costs": np.array(costs).T, "train_accuracies": np.array(train_acc).T,
            "test_accuracies": np.array(test_acc).T}
