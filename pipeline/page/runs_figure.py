"""The ledger's figure: runs' learning curves overlaid, cost and test accuracy, each run on its
own unit (iterations for gd, epochs for mini-batches)."""

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.page.figures import RUNNING_COST, literal, new_figure, png_bytes


def run_label(record: Mapping[str, Any]) -> str:
    unit = "iterations" if record["optimizer"] == "gd" else "epochs"
    return literal(f"{record['id'][:6]} {record['model']} {record['optimizer']} "
                   f"lr {record['learning_rate']!r} ({unit})")


def curves_png(records: Sequence[Mapping[str, Any]], title: str) -> bytes:
    """Cost and test accuracy against each run's own steps, one line a run (the first
    MAX_CURVES, so the legend stays legible)."""
    fig, (cost_ax, acc_ax) = new_figure(1200, 450, ncols=2)
    for record in records[:MAX_CURVES]:
        label = run_label(record)
        line, = cost_ax.plot(record["iterations"], record["costs"], marker=".", label=label)
        acc_ax.plot(record["iterations"], record["test_accuracies"], marker=".",
                    color=line.get_color(), label=label)
    minibatch = any(r["optimizer"] != "gd" for r in records[:MAX_CURVES])
    cost_ax.set_ylabel(f"{RUNNING_COST} for mini-batches" if minibatch else "cost J")
    cost_ax.set_title(literal(title))
    acc_ax.set_ylabel("test accuracy (%)")
    acc_ax.set_ylim(0, 101)
    acc_ax.set_title("Test accuracy at each checkpoint")
    for ax in (cost_ax, acc_ax):
        ax.set_xlabel("iteration (gd) or epoch (mini-batches): each run's own")
        ax.grid(alpha=0.3)
    if records:
        cost_ax.legend(loc="upper right", fontsize="small")
    return png_bytes(fig)


MAX_CURVES = 10  # lines on one figure
