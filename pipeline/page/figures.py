"""Drawing helpers for the stages that draw (report, compare, classify --explain).

Only those import this module, so matplotlib stays out of every stage that does not draw. It uses
matplotlib's object API (Figure, not pyplot): no display and no global state.
"""

import io
from collections.abc import Iterable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray

DPI = 100


def literal(text: object) -> str:
    """Text from outside (a class or file name) shown as it is: matplotlib would read $...$ as
    math, and a malformed formula stops the drawing."""
    return str(text).replace("$", r"\$")


def new_figure(width_px: int, height_px: int, ncols: int = 1, nrows: int = 1,
               **subplot_kw: object) -> tuple[Figure, list[Axes]]:
    """A figure of the given pixel size and its axes (a list, row by row)."""
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw=subplot_kw).ravel().tolist()
    return fig, axes


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def x_axis(ax: Axes, iterations: Iterable[float], unit: str) -> list[float]:
    """The course's x axis, iterations in hundreds; or the epochs of a mini-batch run."""
    if unit == "epoch":
        ax.set_xlabel("epochs")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.2 on a short run
        return list(iterations)
    ax.set_xlabel("iterations (per hundreds)")
    return [i / 100 for i in iterations]


# A mini-batch run's cost points: the course's model() prints the same, cost_total / m
RUNNING_COST = "cost J (each epoch's running mean)"


def plot_costs(ax: Axes, iterations: Iterable[float], costs: ArrayLike, label: str | None = None,
               unit: str = "iteration") -> None:
    """The course's learning curve: cost against iterations in hundreds (or, for mini-batches,
    its running means against epochs)."""
    ax.plot(x_axis(ax, iterations, unit), costs, marker=".", label=label)
    ax.set_ylabel(RUNNING_COST if unit == "epoch" else "cost J")
    ax.grid(alpha=0.3)


def plot_accuracies(ax: Axes, iterations: Iterable[float], train: ArrayLike, test: ArrayLike,
                    unit: str = "iteration", train_label: str = "train") -> None:
    x = x_axis(ax, iterations, unit)
    ax.plot(x, train, marker=".", label=train_label)
    ax.plot(x, test, marker=".", label="test")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 101)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")


def show_signed_map(fig: Figure, ax: Axes, values: NDArray[np.float64], title: str,
                    limit: float | None = None, colorbar: bool = True) -> AxesImage:
    """A heat map of signed values, white at zero, red positive (towards cat), blue negative.
    limit: the size drawn darkest (default the largest |value|; maps drawn to one scale share
    it, and larger values saturate); colorbar: a bar beside this map, or none (one for many)."""
    limit = limit or float(abs(values).max()) or 1.0
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()
    if colorbar:
        fig.colorbar(image, ax=ax, shrink=0.8)
    return image
