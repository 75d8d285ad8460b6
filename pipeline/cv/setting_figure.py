"""Cross-validation's second figure: validation accuracy against each searched setting, one
panel a setting on the scale it is searched on (log axes for a rate, an l2, a beta's 1 - beta),
every candidate a point with its folds' sd, the chosen one and the majority guess marked."""

import math
from collections.abc import Mapping
from typing import Any

from matplotlib.axes import Axes

from pipeline import config
from pipeline.evaluation.stats import always_answering
from pipeline.page.figures import literal, new_figure, png_bytes

COLUMNS = 3  # panels a row


def settings_png(summary: Mapping[str, Any]) -> bytes:
    names = list(summary["searched"]) or ["learning_rate"]  # a grid of one point: its rate
    rows = math.ceil(len(names) / COLUMNS)
    columns = min(len(names), COLUMNS)
    fig, axes = new_figure(420 * columns, 340 * rows, ncols=columns, nrows=rows)
    scored = [c for c in summary["candidates"] if c["val_accuracy_mean"] is not None]
    best = summary["best"]
    chosen = summary["candidates"][best["candidate"]] if best and "candidate" in best else None
    nir = summary["no_information_rate"]
    for ax, name in zip(axes, names, strict=False):
        scale = summary.get("scales", {}).get(name) or config.SEARCH_SPACE.get(
            "hidden" if name.startswith("hidden") else name, ("linear", None))[0]
        for round_, colour in ((1, "tab:blue"), (2, "tab:orange")):
            points = [c for c in scored if c["round"] == round_]
            if points:
                ax.errorbar([x_of(c[name], scale) for c in points],
                            [c["val_accuracy_mean"] for c in points],
                            yerr=[c["val_accuracy_sd"] for c in points], fmt="o",
                            color=colour, alpha=0.7, markersize=4, capsize=2,
                            label=f"round {round_}" if summary.get("search") == "random"
                            else "a setting's best checkpoint")
        if chosen is not None:
            ax.plot([x_of(chosen[name], scale)], [chosen["val_accuracy_mean"]], marker="o",
                    markersize=12, markerfacecolor="none", color="red", linestyle="none",
                    label="chosen by validation")
        ax.axhline(nir, color="black", linestyle="--", linewidth=1,
                   label=literal(always_answering(summary["majority_class"], nir)))
        axis_scale(ax, scale, [x_of(c[name], scale) for c in scored])
        share = summary.get("importance", {}).get(name)
        ax.set_title(literal(name) + (f": explains {100 * share:.0f} % of the spread"
                                      if share is not None else ""), fontsize=10)
        ax.set_xlabel(literal("1 - " + name if scale == "1-log" else name))
        ax.set_ylabel("validation accuracy (%)")
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].legend(loc="lower left", fontsize=7)
    png: bytes = png_bytes(fig)
    return png


def x_of(value: float | str, scale: str) -> float | str:
    """Where a value is drawn: a beta at 1 - beta, on a log axis."""
    return 1 - value if scale == "1-log" and not isinstance(value, str) else value


def axis_scale(ax: Axes, scale: str, values: list[float | str]) -> None:
    """The axis the setting is sampled on: log (symlog where 0 is among the values: l2),
    base 2 for a batch size, linear otherwise; a text setting keeps its categories."""
    if any(isinstance(v, str) for v in values):
        return
    if scale == "pow2":
        ax.set_xscale("log", base=2)
    elif scale in ("log", "1-log", "log-int"):
        positive = [abs(v) for v in values if v and not isinstance(v, str)]
        if len(positive) < len(values):  # 0 drawn: linear just around it
            ax.set_xscale("symlog", linthresh=min(positive, default=1e-3))
            ax.set_xlim(left=0)
        else:
            ax.set_xscale("log")
