"""threads.py: each engine runs its BLAS on the threads chosen for its path, and gives them
back after."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from pipeline.engines.logistic import gradient_descent
from pipeline.engines.minibatch import optimize_minibatch
from pipeline.engines.network import train_networks
from pipeline.threads import BLAS_THREADS, blas_threads

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def blas_threads_now():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def seen_inside(run):
    """The BLAS thread counts seen from inside a fit, which calls back at each checkpoint."""
    seen = set()
    run(lambda *args: seen.update(blas_threads_now()))
    return seen


@pytest.fixture(autouse=True)
def two_threads_outside():
    """Outside the fits the BLAS may use two threads, as on a 2-core machine by default."""
    if not blas_threads_now():
        pytest.skip("threadpoolctl finds no BLAS in this NumPy")
    with threadpool_limits(limits=2, user_api="blas"):
        yield


def problem(n_x=5, m=12):
    rng = np.random.default_rng(0)
    return rng.random((n_x, m)), (rng.random((1, m)) < 0.5).astype(float)


def test_each_engine_runs_on_its_paths_threads_and_restores_them():
    X, Y = problem()
    outside = blas_threads_now()
    start = {"W1": np.zeros((3, 5)) + 0.01, "b1": np.zeros((3, 1)),
             "W2": np.zeros((1, 3)) + 0.01, "b2": np.zeros((1, 1))}
    runs = {
        "neuron": lambda tick: gradient_descent(X, Y, [0.1], 3, X, Y, every=1,
                                                on_progress=tick),
        "network": lambda tick: train_networks(X, Y, start, [0.1], 3, X_test=X, Y_test=Y, every=1,
                                               on_progress=tick),
        "minibatch": lambda tick: optimize_minibatch(
            {"W1": np.zeros((1, 5)), "b1": np.zeros((1, 1))},
            lambda p, X, Y, l2: (0.0, {"dW1": np.zeros((1, 5)), "db1": np.zeros((1, 1))},
                                 p["W1"] @ X + p["b1"]),
            X, Y, optimizer="adam", learning_rate=0.1, mini_batch_size=4, num_epochs=2,
            on_epoch=tick),
    }
    for path, run in runs.items():
        assert seen_inside(run) == {BLAS_THREADS[path]}, path
        assert blas_threads_now() == outside  # given back


def test_a_path_without_a_limit_leaves_the_blas_as_it_is(monkeypatch):
    monkeypatch.setitem(BLAS_THREADS, "neuron", None)
    with blas_threads("neuron"):
        assert blas_threads_now() == {2}
    with pytest.raises(KeyError):
        blas_threads("no such path")


def test_each_part_of_a_pixel_pass_runs_on_the_stream_threads():
    from pipeline.columns import PixelColumns, in_parts

    rows = np.random.default_rng(0).integers(0, 256, (10, 12), dtype=np.uint8)
    seen = in_parts(lambda blocks: (list(blocks), blas_threads_now())[1],
                    PixelColumns(rows, (2, 2, 3)), None)
    assert seen == [{BLAS_THREADS["stream"]}] * 2
    assert blas_threads_now() == {2}  # given back


