"""The second course's mini-batch loop, as the course's `model()` in its Optimization notebook,
over X's columns wherever they live (pipeline.columns).

One loop, `run_epochs`, serves both callers: the fit (`optimize_minibatch`: one model, and its
learning curve, a point per epoch) and cross-validation (several rates of one neuron stacked as
the rows of W1, every batch gathered once for all of them: engines.batches). A model is a
function propagate(parameters, X, Y, l2) -> (cost, grads, ZL), ZL the last pre-activation
(1, m), such as nn.layers.propagate; the updates are the course's (pipeline.nn.optimizers).
"""

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.columns import Columns, as_columns, scale_of, take
from pipeline.engines.batches import Propagate, gathered
from pipeline.nn.logistic import accuracy, log_loss, predict_from_scores
from pipeline.nn.momentum import (
    initialize_velocity,
    schedule_lr_decay,
    update_lr,
    update_parameters_with_momentum,
)
from pipeline.nn.optimizers import (
    adam_in_place,
    initialize_adam,
    mini_batch_indices,
    minibatch_steps,
    update_parameters_with_gd,
)
from pipeline.progress import ticker
from pipeline.settings import Optimizer
from pipeline.shapes import Array, Parameters, check_shape
from pipeline.threads import on_blas_threads

MINIBATCH_OPTIMIZERS = ("minibatch", "momentum", "adam")  # what run_epochs runs

Rate = float | Array  # a learning rate, or a column (k, 1) of them for k stacked neurons
Decay = Callable[[Rate, int], Rate]  # (learning_rate0, epoch_num) -> learning_rate
OnEpoch = Callable[[int, Parameters], None]  # (epoch, parameters)
# (parameters, batch, ZL): the parameters a batch's forward pass used, its column numbers, its ZL
OnBatch = Callable[[Parameters, NDArray[np.intp], Array], None]
Forward = Callable[[Parameters, Columns, NDArray[np.intp]], Array]  # (parameters, X, idx) -> ZL


def schedule(decay: str, decay_rate: float, decay_interval: int) -> Decay | None:
    """The course's decay as a function (learning_rate0, epoch_num) -> learning_rate, or None:
    "inverse" is update_lr, "scheduled" schedule_lr_decay every decay_interval epochs."""
    if decay == "inverse":
        return lambda lr0, epoch_num: update_lr(lr0, epoch_num, decay_rate)
    if decay == "scheduled":
        return lambda lr0, epoch_num: schedule_lr_decay(lr0, epoch_num, decay_rate,
                                                        decay_interval)
    if decay != "none":
        raise ValueError(f"unknown decay {decay!r}; choose none, inverse or scheduled")
    return None


def loop_options(optimizer: Optimizer) -> dict[str, Any]:
    """run_epochs' and optimize_minibatch's keywords for an Optimizer (pipeline.settings)."""
    return {"optimizer": optimizer.name, "mini_batch_size": optimizer.mini_batch_size,
            "num_epochs": optimizer.num_epochs, "beta1": optimizer.beta1,
            "beta2": optimizer.beta2, "epsilon": optimizer.epsilon, "seed": optimizer.seed,
            "beta": optimizer.beta,
            "decay": schedule(optimizer.decay, optimizer.decay_rate, optimizer.decay_interval)}


def check_hyperparameters(optimizer: str, mini_batch_size: int, num_epochs: int, beta1: float,
                          beta2: float, epsilon: float, *, beta: float = 0.9) -> None:
    if optimizer not in MINIBATCH_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                         f"{', '.join(MINIBATCH_OPTIMIZERS)}")
    if mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {num_epochs}")
    for name, value in (("beta1", beta1), ("beta2", beta2), ("beta", beta)):
        if not 0 <= value < 1:
            raise ValueError(f"{name} must be in [0, 1), got {value}")
    if not epsilon > 0:  # also refuses NaN
        raise ValueError(f"epsilon must be positive, got {epsilon}")


@on_blas_threads("minibatch")
def run_epochs(parameters: Parameters, propagate: Propagate, X: Columns, Y: Array,
               columns: NDArray[np.intp], *, optimizer: str, learning_rate: Rate,
               mini_batch_size: int, num_epochs: int, beta1: float = 0.9, beta2: float = 0.999,
               epsilon: float = 1e-8, seed: int = 0, l2: float = 0.0,
               on_epoch: OnEpoch | None = None, on_progress: Callable[[int], object] | None = None,
               beta: float = 0.9, decay: Decay | None = None,
               on_batch: OnBatch | None = None) -> Parameters:
    """The loop: num_epochs passes over the columns `columns` of X (n_x, m) and Y (1, m), each in
    the course's batches drawn with seed + epoch (its `seed = seed + 1` per epoch), one update a
    batch. Returns the parameters after the last epoch (the caller's are not modified).

    Parameters
    ----------
    learning_rate : a number, or a column (k, 1) for parameters whose k rows are k neurons;
        learning_rate0 when decay is given
    optimizer : "minibatch", "momentum" (with beta) or "adam" (with beta1, beta2, epsilon)
    decay : optional function (learning_rate0, epoch_num) -> learning_rate (schedule()), applied
        after each epoch as the course's model() does: epoch i + 1 runs at decay(lr0, i)
    on_epoch : optional function (epoch, parameters), called after each epoch 1..num_epochs
    on_batch : optional function (parameters, batch, ZL), called with each batch's own forward
        pass before its update (the fit's running means come from these, at no extra pass)
    on_progress : called with the number of batches done since its last call, every 2 % or so"""
    check_hyperparameters(optimizer, mini_batch_size, num_epochs, beta1, beta2, epsilon, beta=beta)
    check_shape("Y", Y, (1, X.shape[1]), of=("X", X))
    m = len(columns)
    learning_rate0 = learning_rate
    tick = ticker(minibatch_steps(m, mini_batch_size, num_epochs), on_progress)
    t, done = 0, 0
    as_pixels = {"pixel_scale": scale_of(X)} if scale_of(X) != 1 else {}  # pixels: uint8 batches
    if optimizer == "adam":
        parameters = {key: np.array(p, dtype=float) for key, p in parameters.items()}  # its own
        v, s = initialize_adam(parameters)
    elif optimizer == "momentum":
        v = initialize_velocity(parameters)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging rate: non-finite, no raise
        for epoch in range(1, num_epochs + 1):
            seed = seed + 1  # a new shuffle every epoch, as the course's model()
            batches = (columns[idx] for idx in mini_batch_indices(m, mini_batch_size, seed))
            for batch, X_batch in gathered(X, batches):
                # forward and backward on this batch's columns (pixels: their integers / 255)
                _, grads, ZL = propagate(parameters, X_batch, Y[:, batch], l2, **as_pixels)
                if on_batch:
                    on_batch(parameters, batch, ZL)
                # update
                if optimizer == "adam":
                    t += 1  # before the step: the first one uses t = 1
                    adam_in_place(parameters, grads, v, s, t, learning_rate=learning_rate,
                                  beta1=beta1, beta2=beta2, epsilon=epsilon)
                elif optimizer == "momentum":
                    parameters, v = update_parameters_with_momentum(parameters, grads, v, beta,
                                                                    learning_rate)
                else:
                    parameters = update_parameters_with_gd(parameters, grads, learning_rate)
                tick(done)
                done += 1
            if decay:  # the course's model(): after epoch i (from 0), the rate is decay(lr0, i)
                learning_rate = decay(learning_rate0, epoch - 1)
            if on_epoch:
                on_epoch(epoch, parameters)
    return parameters


@on_blas_threads("minibatch")  # the scoring passes too
def optimize_minibatch(parameters: Parameters, propagate: Propagate, X: Columns, Y: Array, *,
                       optimizer: str, learning_rate: Rate, mini_batch_size: int = 64,
                       num_epochs: int = 10, beta1: float = 0.9, beta2: float = 0.999,
                       epsilon: float = 1e-8, seed: int = 0, l2: float = 0.0,
                       X_test: Columns | None = None, Y_test: Array | None = None,
                       on_progress: Callable[[int], object] | None = None,
                       forward: Forward | None = None, columns: Iterable[int] | None = None,
                       on_epoch: OnEpoch | None = None, beta: float = 0.9,
                       decay: Decay | None = None) -> dict[str, Any]:
    """Mini-batch gradient descent or Adam (run_epochs), with the learning curve as Keras and the
    course's model() draw it: after each epoch, the training cost and accuracy as running means
    over its batches' own forward passes (no extra pass; a batch counts by its size), and the
    test set scored. The whole training set is never scored here: the caller scores it once, at
    the end (run.json and metrics.json do). The caller's parameters are not modified.

    Parameters
    ----------
    parameters : dict {"W1", "b1", ...}, the initial values
    propagate : function (parameters, X, Y, l2) -> (cost, grads, ZL) on the columns given
    X : ndarray of shape (n_x, m), or PixelColumns;  Y : ndarray of shape (1, m)
    optimizer : "minibatch", "momentum" or "adam"; beta, decay: as run_epochs
    mini_batch_size : a size above m is taken as m (one batch per epoch)
    l2 : each batch's cost gains l2/(2 m_batch) sum ||W||^2; the recorded cost l2/(2m) sum ||W||^2
        (for a running mean, the mean over the batches of that term under their parameters)
    X_test : ndarray of shape (n_x, m_test);  Y_test : ndarray of shape (1, m_test)
        Scored at each point, for reporting only.
    on_progress : called with the number of batches done since its last call, every 2 % or so
    forward : optional function (parameters, X, columns) -> ZL (1, len(columns)) to score the
        test set (columns.model_scores is one); without it, propagate's ZL
    columns : optional indices of the columns of X and Y to train on (a fold's training images),
        gathered batch by batch, so that no copy of X is made; m is their number
    on_epoch : optional function (epoch, parameters) called after each point

    Returns
    -------
    dict with "parameters", "steps" (the number of updates), "mini_batch_size" (as used),
    "start_cost" (under the start, on the curve's scale: the first batch's mean log-loss plus
    l2/(2m) sum ||W||^2; what the curve falls from, fit.diverged's base) and, per point at
    epochs 1 to num_epochs: "epochs" (c,), "costs" (c,) and "train_accuracies" (c,), the
    running means, and, with X_test, "test_accuracies" (c,) in percent
    """
    check_hyperparameters(optimizer, mini_batch_size, num_epochs, beta1, beta2, epsilon, beta=beta)
    check_shape("Y", Y, (1, X.shape[1]), of=("X", X))
    idx = np.arange(X.shape[1]) if columns is None else np.asarray(columns, dtype=np.intp)
    m = len(idx)
    mini_batch_size = min(mini_batch_size, m)
    parameters = {key: np.array(p, dtype=float) for key, p in parameters.items()}  # copies
    record: dict[str, list[float]] = {"epochs": [], "costs": [], "train_accuracies": [],
                                      "test_accuracies": []}

    def scores(parameters: Parameters, X: Columns, Y: Array, columns: NDArray[np.intp]
               ) -> Array:
        """ZL (1, m) over the given columns of X: forward's, or propagate's a block at a time."""
        if forward:
            return forward(parameters, X, columns)
        size = as_columns(X).block_columns()
        return np.concatenate([propagate(parameters, take(X, part), Y[:, part], 0.0)[2]
                               for part in np.array_split(columns, range(size, len(columns),
                                                                         size))], axis=1)

    def penalty(parameters: Parameters) -> float:  # l2/(2m) sum ||W||^2
        return l2 / (2 * m) * sum(float(np.sum(p * p)) for k, p in parameters.items()
                                  if k[0] == "W") if l2 else 0.0

    # This epoch's batches so far: their ZL and columns in the order they came, and the sum of
    # m_b x penalty; summed at the epoch's end (one pass over m, not two small ones a batch)
    Z_seen, columns_seen = np.empty((1, m)), np.empty(m, dtype=np.intp)  # (1, m), (m,)
    running = [0, 0.0]  # columns seen so far this epoch, sum of m_b x penalty
    start_cost: list[float] = []  # the first batch's, under the start, as a point counts it
    def seen(parameters: Parameters, batch: NDArray[np.intp], ZL: Array) -> None:
        done, size = running[0], len(batch)
        if not start_cost:
            start_cost.append(float(np.sum(log_loss(ZL, Y[:, batch]))) / size + penalty(parameters))
        Z_seen[:, done:done + size], columns_seen[done:done + size] = ZL, batch
        running[:] = [done + size, running[1] + size * penalty(parameters)]

    def epoch_done(epoch: int, parameters: Parameters) -> None:
        """The epoch's point of the curve from its batches' passes over m; the test set scored."""
        Y_seen = Y[:, columns_seen]  # (1, m)
        loss = float(np.sum(log_loss(Z_seen, Y_seen)))
        wrong = float(np.sum(np.abs(predict_from_scores(Z_seen) - Y_seen)))
        record["epochs"].append(epoch)
        record["costs"].append(loss / m + running[1] / m)
        record["train_accuracies"].append(100 - wrong / m * 100)  # the course's accuracy()
        if X_test is not None and Y_test is not None:
            ZL_test = scores(parameters, X_test, Y_test, np.arange(X_test.shape[1]))
            record["test_accuracies"].append(accuracy(predict_from_scores(ZL_test), Y_test))
        running[:] = [0, 0.0]
        if on_epoch:
            on_epoch(epoch, parameters)

    parameters = run_epochs(parameters, propagate, X, Y, idx, optimizer=optimizer,
                            learning_rate=learning_rate, mini_batch_size=mini_batch_size,
                            num_epochs=num_epochs, beta1=beta1, beta2=beta2, epsilon=epsilon,
                            seed=seed, l2=l2, on_epoch=epoch_done, on_progress=on_progress,
                            beta=beta, decay=decay, on_batch=seen)
    run = {key: np.array(values) for key, values in record.items()}
    if not record["test_accuracies"]:  # no X_test, Y_test
        del run["test_accuracies"]
    return {"parameters": parameters, "steps": minibatch_steps(m, mini_batch_size, num_epochs),
            "mini_batch_size": mini_batch_size, "start_cost": start_cost[0], **run}
