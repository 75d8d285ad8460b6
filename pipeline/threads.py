"""The BLAS threads each path runs on, set per path with threadpoolctl (as scikit-learn does),
so that nobody has to export OPENBLAS_NUM_THREADS by hand.

Every path runs its products on one thread (BLAS_THREADS). Their products are small: a
network's Gram step is 20 x 209 x 209, a mini-batch 64 images, cv's fold rows a few hundred.
A second thread costs more to wake and join than it saves, and when other work holds the cores
it spins waiting for one. A full-batch step over many images streams X from memory, whose speed,
not arithmetic, sets its pace. A pass over pixels (columns.in_parts) reads its parts on
threads of its own, one a core, each on one BLAS thread (stream_workers), and a CNN's batch
deals its 4-image parts to the cores the same way (nn.cnn.in_parts; on_cores). A dense
mini-batch does not: its work, about 0.6 ms for 64 images, is too little to hand to a second
thread (measured: an Adam epoch at 25,000 images took 0.41 s on two threads against 0.34 s on
one).
The widest product, cv's week-4 networks' Gram product (350 MFLOP a step), stays on one thread
too: every core halved it on a quiet machine, but beside busy processes the step took 1.8x as
long (a BLAS thread spins waiting for a core). cv's networks run their rows in two halves on
threads of their own instead (cv.gram.fit_rows).
`make bench` (its "threads" rows) times each path against the BLAS's default.
"""

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import ParamSpec, Protocol, TypeVar

import numpy as np

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

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


def on_cores(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """[work(item) for item in items], the items on as many threads as cores (copying uint8
    to float64 and the BLAS release the GIL), each under the caller's np.errstate (NumPy's is a
    thread's own). The results are those of the loop on any number of cores: each item is the
    same work, only where it runs changes."""
    caller = np.geterr()

    def run(item: T) -> R:
        with np.errstate(**caller):
            return work(item)

    workers = stream_workers(len(items))
    if workers < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:  # started per call: well under a CNN batch's 40 ms
        return list(pool.map(run, items))


class Controller(Protocol):  # threadpoolctl's ThreadpoolController, which ships no annotations
    def limit(self, *, limits: int, user_api: str) -> AbstractContextManager[object]: ...


@functools.cache
def controller() -> Controller:
    """threadpoolctl's view of the BLAS loaded, made once (making it scans every library, about
    a millisecond; its limit() then costs microseconds, so a step can change the threads)."""
    from threadpoolctl import ThreadpoolController  # here: a stage that runs no BLAS skips it

    made: Controller = ThreadpoolController()
    return made


def blas_threads(path: str) -> AbstractContextManager[object]:
    """A context in which the BLAS runs on the threads chosen for path (a key of BLAS_THREADS)."""
    limit = BLAS_THREADS[path]
    if limit is None:
        return nullcontext()
    return controller().limit(limits=limit, user_api="blas")


def on_blas_threads(path: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an engine's entry point: it runs in blas_threads(path)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with blas_threads(path):
                return function(*args, **kwargs)

        return run

    return decorate
