"""make compare's figure: every rate's learning curve, and the final accuracies against the
rate."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.evaluation.stats import always_answering
from pipeline.page.figures import literal, new_figure, plot_costs, png_bytes


def learning_rates_png(records: Sequence[Mapping[str, Any]], iterations: Iterable[float],
                       classes: Sequence[str], unit: str = "iteration") -> bytes:
    """Cost against steps per rate; final accuracy against the rate, with the test interval
    and the majority guess."""
    fig, (cost_ax, acc_ax) = new_figure(1200, 450, ncols=2)
    for r in records:
        plot_costs(cost_ax, iterations, r["costs"], label=f"lr = {r['learning_rate']!r}",
                   unit=unit)
    cost_ax.set_title(f"Cost per learning rate ({records[0]['num_iterations']} iterations)")
    cost_ax.legend(loc="upper right")
    by_rate = sorted(records, key=lambda r: r["learning_rate"])
    rates = [r["learning_rate"] for r in by_rate]
    acc_ax.plot(rates, [r["train_accuracy"] for r in by_rate], marker="o", label="train")
    test = np.array([r["test_accuracy"] for r in by_rate])
    low, high = np.array([r["test_accuracy_ci95"] for r in by_rate]).T
    acc_ax.errorbar(rates, test, yerr=[test - low, high - test], marker="o", capsize=4,
                    label="test, with its 95 % interval")
    nir, label = by_rate[0]["test_no_information_rate"], by_rate[0]["test_majority_label"]
    acc_ax.axhline(nir, color="black", linestyle="--", linewidth=1,
                   label=literal("test: " + always_answering(classes[label], nir)))
    acc_ax.set_xscale("log")
    acc_ax.set_xlabel("learning rate (log scale)")
    acc_ax.set_ylabel("accuracy (%)")
    acc_ax.set_ylim(0, 101)
    acc_ax.set_title("Final accuracy against the learning rate")
    acc_ax.grid(alpha=0.3, which="both")
    acc_ax.legend(loc="lower right")
    return png_bytes(fig)
