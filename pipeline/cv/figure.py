"""Cross-validation's figure: validation accuracy and log-loss against iterations, per rate, for
the chosen l2, keep_prob and augment (named in the title where searched)."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.cv.summary import fold_statistics
from pipeline.evaluation.stats import always_answering
from pipeline.page.figures import literal, new_figure, png_bytes


def cv_png(summary: Mapping[str, Any], result: Mapping[str, Any]) -> bytes:
    fig, (acc_ax, loss_ax) = new_figure(1200, 450, ncols=2)
    iterations = np.array(summary["iterations"])
    best = summary["best"]
    # the curves of the chosen augment and l2, one per rate (and keep_prob, where searched)
    shown = (best["augment"], best["l2"]) if best else (summary["augment"][0], summary["l2"][0])
    dropped = "keep_prob" in summary["axes"]
    mean, sd, loss = fold_statistics(result)
    for g, point in enumerate(result["grid"]):
        if (point.augment, point.l2) != shown or not np.isfinite(mean[g]).all():
            continue
        label = f"lr = {point.learning_rate!r}" + (
            f", keep_prob = {point.keep_prob!r}" if dropped else "")
        line, = acc_ax.plot(iterations, mean[g], label=label)
        acc_ax.fill_between(iterations, mean[g] - sd[g], mean[g] + sd[g], alpha=0.15,
                            color=line.get_color())
        loss_ax.plot(iterations, loss[g], label=label)
    nir = summary["no_information_rate"]
    acc_ax.axhline(nir, color="black", linestyle="--", linewidth=1,
                   label=literal(always_answering(summary["majority_class"], nir)))
    course = summary.get("course_choice")
    if course and shown == ("none", 0.0):
        acc_ax.plot([course["num_iterations"]], [course["val_accuracy_mean"]], marker="*",
                    markersize=14, color="black", linestyle="none",
                    label=f"the course's choice (lr {course['learning_rate']}, "
                          f"{course['num_iterations']})")
    if best:
        acc_ax.plot([best["num_iterations"]], [best["val_accuracy_mean"]], marker="o",
                    markersize=12, markerfacecolor="none", color="red", linestyle="none",
                    label="chosen by validation")
    extra = shown_options(shown, summary["keep_prob"], summary["axes"])
    acc_ax.set_title(f"Validation accuracy, mean ± 1 sd over {len(result['val_accuracy'])} "
                     f"folds{extra}")
    acc_ax.set_xlabel(f"{summary.get('unit', 'iteration')}s")
    acc_ax.set_ylabel("validation accuracy (%)")
    acc_ax.grid(alpha=0.3)
    acc_ax.legend(loc="lower right", fontsize=8)
    loss_ax.set_title("Validation log-loss, mean over folds")
    loss_ax.set_xlabel(f"{summary.get('unit', 'iteration')}s")
    loss_ax.set_ylabel("log-loss")
    loss_ax.grid(alpha=0.3)
    loss_ax.legend(loc="upper left", fontsize=8)
    png: bytes = png_bytes(fig)
    return png


def shown_options(shown: tuple[str, float], keep_probs: Sequence[float],
                  axes: Sequence[str]) -> str:
    """' (l2 0.7, keep_prob 0.8, augment flip)': the curves' options, each named where it was
    searched or is not the course's (no l2, no dropout, no augmentation), but keep_prob only
    where all the curves share it (else each curve's label names its own); '' for the course's.
    """
    augment, l2 = shown
    parts = [f"l2 {l2!r}"] if "l2" in axes or l2 != 0.0 else []
    if len(keep_probs) == 1 and keep_probs[0] != 1.0:
        parts.append(f"keep_prob {keep_probs[0]!r}")
    if "augment" in axes or augment != "none":
        parts.append(f"augment {augment}")
    return f" ({', '.join(parts)})" if parts else ""
