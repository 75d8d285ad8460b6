"""The BLAS threads each path runs on, set per path with threadpoolctl (as scikit-learn does),
so that nobody has to export OPENBLAS_NUM_THREADS by hand.

Measured side by side by `make bench` (the "threads" rows) on 2 cores, alone and beside two
CPU-bound processes: every path here is faster on one thread. Their products are small (a
network's Gram step is 20 x 209 x 209, a batch 64 images, cv's fold rows a few hundred): a
second thread costs more to wake and join than it saves, and when other work holds the cores it
spins waiting for one, up to 10x slower. Even the 25,000-image full-batch step, which streams
X from memory, gains nothing from a second thread (0.41 s a step on one and on two): memory,
not arithmetic, sets its pace.
"""

import functools
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# threads per path; None would leave the BLAS's own choice (one per core)
BLAS_THREADS: dict[str, int | None] = {
    "neuron": 1,  # one neuron's full-batch steps: (m, m) Gram or (n_x, m) primal
    "network": 1,  # the week-4 networks' steps, Gram or primal
    "minibatch": 1,  # mini-batch gradient descent and Adam
    "cv": 1,  # cross-validation's fold rows, in one product
    "stream": 1,  # each part of a pass over the pixels (columns.in_parts: a part a core)
}


def stream_workers(parts: int) -> int:
    """Threads for a pass over pixels cut in `parts` ranges: one a core, up to parts. The
    copying of uint8 to float64 and the BLAS calls release the GIL, so two threads read and
    multiply two halves of X at once (make bench: the "large" rows)."""
    return max(1, min(parts, os.cpu_count() or 1))


def blas_threads(path: str) -> AbstractContextManager[object]:
    """A context in which the BLAS runs on the threads chosen for path (a key of BLAS_THREADS)."""
    limit = BLAS_THREADS[path]
    if limit is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits  # here: a stage that runs no BLAS skips it

    # threadpoolctl ships no annotations: its threadpool_limits is a context manager
    limits: AbstractContextManager[object] = threadpool_limits(limits=limit, user_api="blas")
    return limits


def on_blas_threads(path: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an engine's entry point: it runs in blas_threads(path)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with blas_threads(path):
                return function(*args, **kwargs)

        return run

    return decorate
