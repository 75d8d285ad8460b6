"""Training the week-4 networks fast: `train_networks` trains k copies at once, one per
learning rate, with one of two engines.

- "primal" is the textbook loop, batched: the k first layers are one (k n_h, n_x) @ X product.
- "gram" keeps the first layer in the Gram space. Every step adds -lr/m dZ1 X.T to W1 (with L2
  it first scales W1 by d = 1 - lr l2/m), so W1 = c W1_0 + A X.T with a scalar c and A (n_h, m).
  Then Z1 = c P + A K + b1 with P = W1_0 X and K = X.T X, both built once: a step costs
  n_h m^2 instead of n_h n_x m, and dA0 is never formed. The later layers are small as they are.

"auto" takes gram where m <= n_x, primal otherwise, as pipeline.engines.logistic does (the two
first layers: pipeline.engines.first_layer). Both are held to network.optimize, the textbook
loop. Cross-validation trains many such networks on masked columns in one product: see
pipeline.engines.masked_network. Pure NumPy, no I/O.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from pipeline.columns import Columns, gram, matmul, matmul_transposed
from pipeline.engines.first_layer import (
    ForwardFirst,
    Net,
    StepFirst,
    gram_first_layer,
    primal_first_layer,
)
from pipeline.engines.logistic import Tick, choose_engine, row_accuracies
from pipeline.nn.layers import dropout_masks
from pipeline.nn.logistic import log_loss, sigmoid
from pipeline.progress import ticker
from pipeline.shapes import Array, Parameters, check_sets
from pipeline.threads import on_blas_threads

Dropout = tuple[float, np.random.RandomState]  # (keep_prob, rng); descend's: also (k, 1, 1)


def stack_network(parameters: Parameters, k: int) -> Net:
    """k copies of parameters as the dict {"W": [...], "b": [...]} the engines update."""
    def copies(key: str) -> Array:  # (k, ...): one contiguous block the engines update in place
        return np.repeat(np.asarray(parameters[key], dtype=float)[None], k, axis=0)

    L = len(parameters) // 2
    return {"W": [copies(f"W{n}") for n in range(2, L + 1)],
            "b": [copies(f"b{n}") for n in range(1, L + 1)]}


def unstack_network(W1: Array, net: Net, j: int) -> Parameters:
    """Network j of the stack as a course parameters dict, given its W1 (n_h, n_x)."""
    parameters = {"W1": W1, "b1": net["b"][0][j].copy()}
    for n, (W, b) in enumerate(zip(net["W"], net["b"][1:], strict=True), start=2):
        parameters[f"W{n}"], parameters[f"b{n}"] = W[j].copy(), b[j].copy()
    return parameters


def forward_rest(Z1: Array, W: Sequence[Array], b: Sequence[Array],
                 masks: Sequence[Array] | None = None) -> tuple[list[Array], list[Array]]:
    """Layers 2..L of k networks from Z1 (k, n_h, m): the Z's (Z1 first) and the ReLU outputs,
    each times its dropout mask D / keep_prob (n_{l-1}, m) where masks are given."""
    Zs, As = [Z1], []
    for j, (W_l, b_l) in enumerate(zip(W, b, strict=True)):
        A = np.maximum(Zs[-1], 0)  # (k, n_{l-1}, m)
        if masks:
            A *= masks[j]
        As.append(A)
        Z = W_l @ A  # (k, n_l, m)
        Z += b_l  # in place: at cv's 200 networks a step's arrays are MBs each
        Zs.append(Z)
    return Zs, As


def backward_rest(dZL: Array, Zs: Sequence[Array], As: Sequence[Array], W: Sequence[Array],
                  masks: Sequence[Array] | None = None
                  ) -> tuple[Array, list[Array], list[Array]]:
    """From dZL (k, 1, m) back to dZ1 (k, n_h, m); dW for layers 2..L and db for 1..L; with
    dropout masks, each hidden layer's gradient passes its mask as its output did.

    dZL already holds the 1/m (or a row's mask / m_r), so nothing here divides.
    """
    dW: list[Array] = []  # from the last layer down, reversed at the end
    db: list[Array] = []
    dZ = dZL
    for j in reversed(range(len(W))):
        dW.append(dZ @ As[j].transpose(0, 2, 1))  # (k, n_l, n_{l-1})
        db.append(dZ.sum(axis=2, keepdims=True))  # (k, n_l, 1)
        dZ = W[j].transpose(0, 2, 1) @ dZ  # dA (k, n_{l-1}, m), then in place:
        if masks:
            dZ *= masks[j]
        dZ *= Zs[j] > 0  # through the ReLU (np.where is four times slower here)
    db.append(dZ.sum(axis=2, keepdims=True))
    return dZ, dW[::-1], db[::-1]


def descend(net: Net, forward_first: ForwardFirst, step_first: StepFirst, Y: Array, *, lr: Array,
            decay: Array, weight: Array | float, num_iterations: int, at: Iterable[int],
            checkpoint: Callable[[int, Array], None], tick: Tick | None = None,
            dropout: tuple[float | Array, np.random.RandomState] | None = None) -> None:
    """The step loop both engines share; they differ only in the first layer.

    forward_first() gives Z1 (k, n_h, m) and step_first(dZ1, lr, decay) updates the first layer;
    lr and decay (= 1 - lr l2 / m) are (k, 1, 1), weight (k or 1, 1, m) turns AL - Y into dZL
    (1/m, or a mask over m_r). checkpoint(i, ZL) is called for i in at, 0 <= i <= num_iterations,
    before step i (i = num_iterations: after the last step), with the whole network's ZL. With
    dropout = (keep_prob, rng), each step draws fresh masks for the hidden layers, the same for
    all k networks, as k separate fits from one seed would draw them (a keep_prob (k, 1, 1):
    network j keeps the units of that one draw below keep_prob[j], dropout_masks)."""
    at = set(at)
    for i in range(num_iterations + 1):
        if i == num_iterations and i not in at:
            break
        Z1 = forward_first()
        Zs, As = forward_rest(Z1, net["W"], net["b"][1:])
        if i in at:
            checkpoint(i, Zs[-1])
        if i == num_iterations:
            break
        masks = None
        if dropout:  # the step's forward pass again, its hidden units dropped
            masks = dropout_masks([(b_l.shape[1], Z1.shape[2]) for b_l in net["b"][:-1]],
                                  *dropout)
            Zs, As = forward_rest(Z1, net["W"], net["b"][1:], masks)
        dZ1, dW, db = backward_rest((sigmoid(Zs[-1]) - Y) * weight, Zs, As, net["W"], masks)
        step_first(dZ1, lr, decay)
        for W_l, dW_l in zip(net["W"], dW, strict=True):
            W_l *= decay
            W_l -= lr * dW_l
        for b_l, db_l in zip(net["b"], db, strict=True):
            b_l -= lr * db_l
        if tick:
            tick(i)


@on_blas_threads("network")
def train_networks(X: Columns, Y: Array, parameters: Parameters, learning_rates: Sequence[float],
                   num_iterations: int, *, X_test: Columns, Y_test: Array, l2: float = 0.0,
                   engine: str = "auto", every: int = 100,
                   on_progress: Callable[[int], object] | None = None,
                   dropout: Dropout | None = None) -> dict[str, Any]:
    """Train k networks from the same parameters, one per learning rate, num_iterations steps.

    Parameters
    ----------
    X : ndarray of shape (n_x, m);  Y : ndarray of shape (1, m)
    parameters : the course's dict W1, b1, ..., WL, bL, the common start
    learning_rates : sequence of k floats
    X_test : ndarray of shape (n_x, m_test);  Y_test : ndarray of shape (1, m_test)
        Scored at each checkpoint, for reporting only: nothing is chosen by it.
    l2 : the cost gains l2/(2m) sum_l ||W_l||^2 (the b are not penalized); 0: the course's cost
    every : record cost and accuracies at iteration i when i % every == 0 (before that step)
    on_progress : called with a number of steps done, every 2 % or so (a tqdm bar's update)
    dropout : optional (keep_prob, rng), inverted dropout on the hidden layers in training; the
        checkpoints score the whole network, as prediction does

    Returns
    -------
    dict with parameters (k dicts), engine, learning_rates (k,), and per checkpoint:
    iterations (c,), costs (k, c), train_accuracies (k, c), test_accuracies (k, c)
    """
    n_x, m = X.shape
    check_sets(X, Y, X_test, Y_test)
    lr = np.asarray(learning_rates, dtype=float).reshape(-1, 1, 1)  # (k, 1, 1)
    engine = choose_engine(engine, n_x, m)
    net, W1_0 = stack_network(parameters, len(lr)), np.asarray(parameters["W1"], float)
    if engine == "gram":
        P, K, P_test = matmul(W1_0, X), gram(X, X), matmul(W1_0, X_test)
        K_test = gram(X, X_test)
        forward_first, step_first = gram_first_layer(net, K, P)
        A: Array = net["A"]
        c: Array = net["c"]

        def forward_first_test() -> Array:
            return c * P_test + (A.reshape(-1, m) @ K_test).reshape(*A.shape[:2], -1)

        def W1_squared() -> Array:  # ||c W1_0 + A X.T||^2 = c^2 ||W1_0||^2 + 2c <P, A> + <A K, A>
            squares: Array = (c[:, 0, 0] ** 2 * np.sum(W1_0 * W1_0)
                               + 2 * c[:, 0, 0] * np.sum(P * A, (1, 2))
                               + np.sum(net["AK"] * A, axis=(1, 2)))  # (k,)
            return squares
    else:
        forward_first, step_first = primal_first_layer(net, X, W1_0)
        W1 = net["W1"]

        def forward_first_test() -> Array:
            return matmul(W1.reshape(-1, n_x), X_test).reshape(*W1.shape[:2], -1)

        def W1_squared() -> Array:
            squares: Array = np.sum(W1 * W1, axis=(1, 2))  # (k,)
            return squares

    iterations, costs, train_acc, test_acc = [], [], [], []

    def checkpoint(i: int, ZL: Array) -> None:
        ZL_test = forward_rest(forward_first_test() + net["b"][0], net["W"], net["b"][1:])[0][-1]
        cost = np.mean(log_loss(ZL[:, 0], Y), axis=1)  # (k,)
        if l2:
            cost += l2 / (2 * m) * (W1_squared() + sum(np.sum(W * W, (1, 2)) for W in net["W"]))
        iterations.append(i)
        costs.append(cost)
        train_acc.append(row_accuracies(ZL[:, 0], Y))
        test_acc.append(row_accuracies(ZL_test[:, 0], Y_test))

    tick = ticker(num_iterations, on_progress)

    with np.errstate(over="ignore", invalid="ignore"):  # an absurd rate overflows: train says so
        descend(net, forward_first, step_first, Y, lr=lr, decay=1 - lr * l2 / m, weight=1 / m,
                num_iterations=num_iterations, at=range(0, num_iterations, every),
                checkpoint=checkpoint, tick=tick, dropout=dropout)
        if engine == "gram":  # back to the input space: W1 = c W1_0 + A X.T
            W1 = c * W1_0 + matmul_transposed(A.reshape(-1, m), X).reshape(*A.shape[:2], n_x)
    return {"parameters": [unstack_network(W1[j], net, j) for j in range(len(lr))],
            "engine": engine, "learning_rates": lr[:, 0, 0],
            "iterations": np.array(iterations, dtype=int).reshape(-1),
            "costs": np.array(costs).T.reshape(len(lr), -1),
            "train_accuracies": np.array(train_acc).T.reshape(len(lr), -1),
            "test_accuracies": np.array(test_acc).T.reshape(len(lr), -1)}
