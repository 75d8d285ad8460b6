"""The course's week-4 networks, [LINEAR->RELU]*(L-1) -> LINEAR->SIGMOID, in its own names.

Pure NumPy, no I/O. Shapes follow the course: X is (n_x, m), Y is (1, m); parameters holds W1, b1,
..., WL, bL with W_l of shape (n_l, n_{l-1}) and b_l of shape (n_l, 1). These functions and
`optimize` are the textbook loop: the reference that engines/network.py's fast engines are held to.
"""

from collections.abc import Sequence

import numpy as np

from pipeline.nn.logistic import THRESHOLD, log_loss, sigmoid
from pipeline.shapes import Array, Labels, Parameters

Grads = dict[str, Array]  # {"dW1", "db1", ...}, shaped as the parameters
LinearCache = tuple[Array, Array, Array]  # (A_prev, W, b)
Cache = tuple[LinearCache, Array]  # (linear cache, Z)
Trained = tuple[Parameters, list[float]]  # the parameters, the costs at i % 100 == 0


def initialize_parameters(n_x: int, n_h: int, n_y: int, *, seed: int = 1) -> Parameters:
    """The two-layer network: W = randn * 0.01 (W1 drawn first, as the notebook), b zeros."""
    rng = np.random.RandomState(seed)
    W1 = rng.randn(n_h, n_x) * 0.01  # (n_h, n_x)
    W2 = rng.randn(n_y, n_h) * 0.01  # (n_y, n_h)
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


def initialize_parameters_deep(layer_dims: Sequence[int], seed: int = 1) -> Parameters:
    """W_l = randn(n_l, n_{l-1}) / sqrt(n_{l-1}) and b_l zeros, for l = 1 .. len(layer_dims) - 1."""
    rng = np.random.RandomState(seed)
    parameters: Parameters = {}
    for layer in range(1, len(layer_dims)):
        n, n_prev = layer_dims[layer], layer_dims[layer - 1]
        parameters[f"W{layer}"] = rng.randn(n, n_prev) / np.sqrt(n_prev)
        parameters[f"b{layer}"] = np.zeros((n, 1))
    return parameters


def linear_forward(A: Array, W: Array, b: Array) -> tuple[Array, LinearCache]:
    """Z = W A + b of shape (n_l, m), and the cache (A, W, b) for the backward pass."""
    return W @ A + b, (A, W, b)


def linear_activation_forward(A_prev: Array, W: Array, b: Array,
                              activation: str) -> tuple[Array, Cache]:
    """A = g(W A_prev + b), g "relu" or "sigmoid"; the cache is (linear cache, Z)."""
    Z, linear_cache = linear_forward(A_prev, W, b)
    if activation == "sigmoid":
        A = sigmoid(Z)
    elif activation == "relu":
        A = np.maximum(0, Z)
    else:
        raise ValueError(f"unknown activation {activation!r}; choose relu or sigmoid")
    return A, (linear_cache, Z)


def L_model_forward(X: Array, parameters: Parameters) -> tuple[Array, list[Cache]]:
    """AL (1, m) = p(y = 1 | x) for each column, and the caches of the L layers."""
    L = len(parameters) // 2
    A = X
    caches: list[Cache] = []
    for layer in range(1, L + 1):
        A, cache = linear_activation_forward(A, parameters[f"W{layer}"], parameters[f"b{layer}"],
                                             "sigmoid" if layer == L else "relu")
        caches.append(cache)
    return A, caches


def l2_penalty(parameters: Parameters, lambd: float, m: int) -> float:
    """lambd / (2m) * sum_l ||W_l||^2; the b are not penalized."""
    L = len(parameters) // 2
    return lambd / (2 * m) * sum(float(np.sum(parameters[f"W{n}"] ** 2)) for n in range(1, L + 1))


def compute_cost(AL: Array, Y: Labels, parameters: Parameters | None = None,
                 lambd: float = 0.0) -> float:
    """The cross-entropy cost -1/m sum(Y log AL + (1 - Y) log(1 - AL)), plus the L2 penalty
    when lambd > 0, which needs the parameters."""
    m = Y.shape[1]
    cost = float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)
    if not lambd:
        return cost
    if parameters is None:
        raise ValueError(f"lambd = {lambd} penalizes the weights: pass the parameters too")
    return cost + l2_penalty(parameters, lambd, m)


def linear_backward(dZ: Array, cache: LinearCache,
                    lambd: float = 0.0) -> tuple[Array, Array, Array]:
    """dA_prev (n_{l-1}, m), dW (n_l, n_{l-1}) and db (n_l, 1) from dZ (n_l, m)."""
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    if lambd:
        dW = dW + lambd / m * W
    db = np.sum(dZ, axis=1, keepdims=True) / m
    return W.T @ dZ, dW, db


def linear_activation_backward(dA: Array, cache: Cache, activation: str,
                               lambd: float = 0.0) -> tuple[Array, Array, Array]:
    """linear_backward after the activation's own: dZ = dA g'(Z)."""
    linear_cache, Z = cache
    if activation == "sigmoid":
        s = sigmoid(Z)
        dZ = dA * s * (1 - s)
    elif activation == "relu":
        dZ = np.where(Z > 0, dA, 0.0)  # the course's dZ[Z <= 0] = 0
    else:
        raise ValueError(f"unknown activation {activation!r}; choose relu or sigmoid")
    return linear_backward(dZ, linear_cache, lambd)


def L_model_backward(AL: Array, Y: Labels, caches: Sequence[Cache],
                     lambd: float = 0.0) -> Grads:
    """grads dA{l-1}, dW{l}, db{l} of the cost (with its L2 penalty when lambd > 0)."""
    Y = Y.reshape(AL.shape)
    dA = -(Y / AL - (1 - Y) / (1 - AL))  # dJ/dAL times m, as the course writes it
    L = len(caches)
    grads: Grads = {}
    for layer in range(L, 0, -1):
        dA, grads[f"dW{layer}"], grads[f"db{layer}"] = linear_activation_backward(
            dA, caches[layer - 1], "sigmoid" if layer == L else "relu", lambd)
        grads[f"dA{layer - 1}"] = dA
    return grads


def update_parameters(parameters: Parameters, grads: Grads,
                      learning_rate: float) -> Parameters:
    """One gradient step, into a new dict: the caller's parameters stay as they were."""
    return {key: value - learning_rate * grads["d" + key] for key, value in parameters.items()}


def optimize(X: Array, Y: Labels, parameters: Parameters, learning_rate: float,
             num_iterations: int, *, print_cost: bool = False,
             lambd: float = 0.0) -> Trained:
    """The textbook loop from the given parameters. Returns (parameters, costs at i % 100 == 0).

    The cost comes from ZL by log_loss: compute_cost(AL, Y) where that is finite, and finite
    where AL rounds to 0 or 1.
    """
    m = X.shape[1]
    costs: list[float] = []
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        cost = float(np.mean(log_loss(caches[-1][1], Y)))
        if lambd:
            cost += l2_penalty(parameters, lambd, m)
        grads = L_model_backward(AL, Y, caches, lambd)
        parameters = update_parameters(parameters, grads, learning_rate)
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print(f"Cost after iteration {i}: {cost}")
    return parameters, costs


def two_layer_model(X: Array, Y: Labels, layers_dims: Sequence[int],
                    learning_rate: float = 0.0075, num_iterations: int = 3000,
                    print_cost: bool = False, *, lambd: float = 0.0) -> Trained:
    """LINEAR->RELU->LINEAR->SIGMOID from initialize_parameters. Returns (parameters, costs)."""
    n_x, n_h, n_y = layers_dims
    return optimize(X, Y, initialize_parameters(n_x, n_h, n_y), learning_rate, num_iterations,
                    print_cost=print_cost, lambd=lambd)


def L_layer_model(X: Array, Y: Labels, layers_dims: Sequence[int],
                  learning_rate: float = 0.0075, num_iterations: int = 3000,
                  print_cost: bool = False, *, lambd: float = 0.0) -> Trained:
    """The L-layer network from initialize_parameters_deep. Returns (parameters, costs)."""
    return optimize(X, Y, initialize_parameters_deep(layers_dims), learning_rate, num_iterations,
                    print_cost=print_cost, lambd=lambd)


def predict_proba(X: Array, parameters: Parameters) -> Array:
    """AL = p(y = 1 | x) for each column of X: ndarray of shape (1, m)."""
    return L_model_forward(X, parameters)[0]


def predict(X: Array, parameters: Parameters) -> Array:
    """Labels 0.0 / 1.0 of shape (1, m): 1 where AL > 0.5, strictly."""
    return (predict_proba(X, parameters) > THRESHOLD).astype(float)


def input_gradient(parameters: Parameters, X: Array) -> Array:
    """d zL / d x for each column of X, (n_x, m): zL = the last layer's pre-activation.

    Backprop of dzL = 1 through the ReLUs. With one layer it is W1.T in every column, so input *
    gradient is the week-2 map w * x.
    """
    _, caches = L_model_forward(X, parameters)
    dZ = np.ones((1, X.shape[1]))  # (1, m): d zL / d zL
    for layer in range(len(caches), 0, -1):
        (_, W, _), _ = caches[layer - 1]
        dA = W.T @ dZ  # (n_{l-1}, m)
        if layer > 1:
            dZ = np.where(caches[layer - 2][1] > 0, dA, 0.0)  # through the ReLU
    return dA
