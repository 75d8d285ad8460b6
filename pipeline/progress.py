"""Progress without a bar in the library: a loop calls tick(i) after each step, and the
caller's on_progress hears of the steps done about fifty times, the last time after the last
step, so that a bar fills exactly whatever the total."""

from collections.abc import Callable

PARTS = 50  # a bar update per step would cost more than a small step

# what a stage passes as on_progress: a bar's update(steps); its return value is ignored
OnProgress = Callable[[int], object]


def ticker(total: int, on_progress: OnProgress | None,
           parts: int = PARTS) -> Callable[[int], None]:
    """tick(i), to call after step i (from 0) of `total`: calls on_progress(steps since its
    last call) every total // parts steps and after the last step; nothing without on_progress."""
    if on_progress is None:
        return lambda i: None
    every = max(1, total // parts)

    def tick(i: int) -> None:
        done = i + 1
        if done % every == 0 or done == total:
            on_progress(done - (done - 1) // every * every)

    return tick
