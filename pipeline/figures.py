"""Drawing helpers for the stages that draw (report, compare, classify --explain).

Only those import this module, so matplotlib stays out of every stage that does not draw. It uses
matplotlib's object API (Figure, not pyplot): no display and no global state.
"""

import io

from matplotlib.figure import Figure

DPI = 100


def literal(text):
    """Text from outside (a class or file name) shown as it is: matplotlib would read $...$ as
    math, and a malformed formula stops the drawing."""
    return str(text).replace("$", r"\$")


def new_figure(width_px, height_px, ncols=1, nrows=1, **subplot_kw):
    """A figure of the given pixel size and its axes (a list, row by row)."""
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw=subplot_kw).ravel().tolist()
    return fig, axes


def png_bytes(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def plot_costs(ax, iterations, costs, label=None):
    """The course's learning curve: cost against iterations in hundreds."""
    ax.plot([i / 100 for i in iterations], costs, marker=".", label=label)
    ax.set_xlabel("iterations (per hundreds)")
    ax.set_ylabel("cost J")
    ax.grid(alpha=0.3)


def plot_accuracies(ax, iterations, train, test):
    ax.plot([i / 100 for i in iterations], train, marker=".", label="train")
    ax.plot([i / 100 for i in iterations], test, marker=".", label="test")
    ax.set_xlabel("iterations (per hundreds)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 101)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")


def show_signed_map(fig, ax, values, title):
    """A heat map of signed values, white at zero, red positive (towards cat), blue negative."""
    limit = float(abs(values).max()) or 1.0
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()
    fig.colorbar(image, ax=ax, shrink=0.8)
