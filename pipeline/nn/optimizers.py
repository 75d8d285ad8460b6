"""The second course's optimizers (Improving Deep Neural Networks, week 2), in its own names.

Pure NumPy, no I/O. Parameters are the course's dict {"W1": (n_1, n_0), "b1": (n_1, 1), ...,
"WL", "bL"} and gradients {"dW1", "db1", ...}. A model reaches `optimize_minibatch` as a function
propagate(parameters, X, Y, l2) -> (cost, grads, ZL), ZL being the last pre-activation (1, m).

The course's `random_mini_batches` copies all of X shuffled (2.5 GB at m = 25,000 images);
the training loop here draws the same batches as index arrays and gathers each batch's columns
when it needs them: from pixels (pipeline.columns) each column is one contiguous uint8 row,
divided by 255 as it is gathered.
"""

import math

import numpy as np

from pipeline.columns import gathered, is_pixels, take
from pipeline.nn.logistic import accuracy, log_loss, predict_from_scores
from pipeline.progress import ticker
from pipeline.threads import on_blas_threads

MINIBATCH_OPTIMIZERS = ("minibatch", "adam")  # what optimize_minibatch runs


def mini_batch_indices(m, mini_batch_size=64, seed=0):
    """The columns of each of random_mini_batches' batches: a list of index arrays.

    The course's draw: np.random.seed(seed); np.random.permutation(m), then consecutive slices of
    mini_batch_size, the last one smaller when m is not a multiple of it.
    """
    if mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    permutation = np.random.RandomState(seed).permutation(m)  # = np.random.seed(seed) + draw
    return [permutation[k:k + mini_batch_size] for k in range(0, m, mini_batch_size)]


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """The course's list of (mini_batch_X, mini_batch_Y), each (n_x, size) and (1, size).

    Every batch is a copy: for a large X prefer mini_batch_indices and gather one at a time.
    """
    return [(X[:, idx], Y[:, idx]) for idx in mini_batch_indices(X.shape[1], mini_batch_size, seed)]


def update_parameters_with_gd(parameters, grads, learning_rate):
    """One gradient-descent step: param -= learning_rate * d(param). Returns new parameters."""
    return {key: p - learning_rate * grads["d" + key] for key, p in parameters.items()}


def initialize_adam(parameters):
    """v, s: zeros shaped like each parameter, under the gradients' keys ("dW1", "db1", ...)."""
    v = {"d" + key: np.zeros_like(p, dtype=float) for key, p in parameters.items()}
    s = {"d" + key: np.zeros_like(p, dtype=float) for key, p in parameters.items()}
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9,
                                beta2=0.999, epsilon=1e-8):
    """One Adam step, t (>= 1) being the number of Adam steps so far, this one included.

    v is the moving average of the gradients and s of their squares; dividing by 1 - beta^t
    undoes their start at zero (at t = 1, v_corrected = g and s_corrected = g^2, so the first step
    is learning_rate * g / (|g| + epsilon), about learning_rate in every coordinate).
    The inputs are not modified.

    Returns
    -------
    parameters, v, s, v_corrected, s_corrected : dicts of the same shapes as the inputs
    """
    new_parameters, new_v, new_s, v_corrected, s_corrected = {}, {}, {}, {}, {}
    for key, p in parameters.items():
        d = "d" + key
        g = grads[d]
        new_v[d] = beta1 * v[d] + (1 - beta1) * g
        new_s[d] = beta2 * s[d] + (1 - beta2) * g**2
        v_corrected[d] = new_v[d] / (1 - beta1**t)
        s_corrected[d] = new_s[d] / (1 - beta2**t)
        step = v_corrected[d] / (np.sqrt(s_corrected[d]) + epsilon)  # about +-1 per coordinate
        new_parameters[key] = p - learning_rate * step
    return new_parameters, new_v, new_s, v_corrected, s_corrected


def check_hyperparameters(optimizer, mini_batch_size, num_epochs, beta1, beta2, epsilon):
    if optimizer not in MINIBATCH_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                         f"{', '.join(MINIBATCH_OPTIMIZERS)}")
    if mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {num_epochs}")
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1:
            raise ValueError(f"{name} must be in [0, 1), got {beta}")
    if not epsilon > 0:  # also refuses NaN
        raise ValueError(f"epsilon must be positive, got {epsilon}")


@on_blas_threads("minibatch")
def optimize_minibatch(parameters, propagate, X, Y, *, optimizer, learning_rate, mini_batch_size=64,
                       num_epochs=10, beta1=0.9, beta2=0.999, epsilon=1e-8, seed=0, l2=0.0,
                       X_test=None, Y_test=None, on_progress=None, forward=None, columns=None,
                       on_epoch=None):
    """Mini-batch gradient descent or Adam, as the course's `model()` in its Optimization notebook.

    Each epoch draws its batches with seed + epoch (the course's `seed = seed + 1` per epoch).
    The caller's parameters are not modified.

    Parameters
    ----------
    parameters : dict {"W1", "b1", ...}, the initial values
    propagate : function (parameters, X, Y, l2) -> (cost, grads, ZL) on the columns given
    X : ndarray of shape (n_x, m), or PixelColumns;  Y : ndarray of shape (1, m)
    optimizer : "minibatch" or "adam"
    mini_batch_size : a size above m is taken as m (one batch per epoch)
    l2 : each batch's cost gains l2/(2 m_batch) sum ||W||^2; the recorded cost l2/(2m) sum ||W||^2
    X_test : ndarray of shape (n_x, m_test);  Y_test : ndarray of shape (1, m_test)
        Scored at each checkpoint, for reporting only.
    on_progress : called with the number of batches done since its last call, every 2 % or so
    forward : optional function (parameters, X, columns) -> ZL (1, len(columns)) for the
        checkpoints (columns.model_scores is one); without it they take propagate's ZL, paying
        for a backward pass they do not use
    columns : optional indices of the columns of X and Y to train on (a fold's training images),
        gathered batch by batch, so that no copy of X is made; m is their number
    on_epoch : optional function (epoch, parameters) called after each checkpoint

    Returns
    -------
    dict with "parameters", "steps" (the number of updates), "mini_batch_size" (as used) and, per
    checkpoint at epochs 0 (before any update) to num_epochs: "epochs" (c,), "costs" (c,) on the
    whole training set, "train_accuracies" (c,) and, with X_test, "test_accuracies" (c,) in percent
    """
    check_hyperparameters(optimizer, mini_batch_size, num_epochs, beta1, beta2, epsilon)
    assert Y.shape == (1, X.shape[1]), f"Y has shape {Y.shape}, expected (1, {X.shape[1]})"
    columns = np.arange(X.shape[1]) if columns is None else np.asarray(columns)
    m = len(columns)
    mini_batch_size = min(mini_batch_size, m)
    parameters = {key: np.array(p, dtype=float) for key, p in parameters.items()}  # copies
    record = {"epochs": [], "costs": [], "train_accuracies": [], "test_accuracies": []}

    def scores(X, Y, columns):
        """ZL (1, m) over the given columns of X: forward's, or propagate's a block at a time."""
        if forward:
            return forward(parameters, X, columns)
        size = X.block_columns() if is_pixels(X) else len(columns)
        return np.concatenate([propagate(parameters, take(X, part), Y[:, part], 0.0)[2]
                               for part in np.array_split(columns, range(size, len(columns),
                                                                         size))], axis=1)

    def checkpoint(epoch):
        ZL = scores(X, Y, columns)  # (1, m)
        Y_train = Y[:, columns]  # (1, m)
        W_squared = sum(float(np.sum(p * p)) for key, p in parameters.items() if key[0] == "W")
        record["epochs"].append(epoch)
        record["costs"].append(float(np.mean(log_loss(ZL, Y_train))) + l2 / (2 * m) * W_squared)
        record["train_accuracies"].append(
            accuracy(predict_from_scores(ZL), Y_train))
        if X_test is not None:
            ZL_test = scores(X_test, Y_test, np.arange(X_test.shape[1]))  # (1, m_test)
            record["test_accuracies"].append(
                accuracy(predict_from_scores(ZL_test), Y_test))
        if on_epoch:
            on_epoch(epoch, parameters)

    total = num_epochs * math.ceil(m / mini_batch_size)
    tick = ticker(total, on_progress)
    t, done = 0, 0
    if optimizer == "adam":
        v, s = initialize_adam(parameters)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging rate: non-finite, no raise
        checkpoint(0)
        for epoch in range(1, num_epochs + 1):
            seed = seed + 1  # a new shuffle every epoch, as the course's model()
            batches = (columns[idx] for idx in mini_batch_indices(m, mini_batch_size, seed))
            for batch, X_batch in gathered(X, batches):
                # forward and backward on this batch's columns, gathered as they come
                _, grads, _ = propagate(parameters, X_batch, Y[:, batch], l2)
                # update
                if optimizer == "adam":
                    t += 1  # before the step: the first one uses t = 1
                    parameters, v, s, _, _ = update_parameters_with_adam(parameters, grads, v, s, t,
                                                                         learning_rate, beta1=beta1,
                                                                         beta2=beta2,
                                                                         epsilon=epsilon)
                else:
                    parameters = update_parameters_with_gd(parameters, grads, learning_rate)
                tick(done)
                done += 1
            checkpoint(epoch)
    run = {key: np.array(values) for key, values in record.items()}
    if X_test is None:
        del run["test_accuracies"]
    return {"parameters": parameters, "steps": total, "mini_batch_size": mini_batch_size, **run}
