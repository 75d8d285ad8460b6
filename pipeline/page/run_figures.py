"""The report's figures, drawn from one run: learning curve, ROC and reliability, mislabeled
images, and what the model looks for. Each function returns PNG bytes; nothing is written here."""

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes

from pipeline.artifacts.params import Params
from pipeline.evaluation.stats import calibration_curve, roc_auc, roc_curve
from pipeline.nn.logistic import sigmoid
from pipeline.page.figures import (
    new_figure,
    plot_accuracies,
    plot_costs,
    png_bytes,
    show_signed_map,
)
from pipeline.page.sections import Case, caption, number
from pipeline.settings import Optimizer

FIGURES = ("learning_curve.png", "evaluation.png", "mislabeled.png", "mislabeled_train.png",
           "weights.png")


# A mini-batch run's training points, one an epoch from epoch 1: the running means over the
# epoch's batches, as Keras and the course's model() report them
RUNNING_MEAN = "train (running mean over the epoch's batches)"


def learning_curve_png(params: Params) -> bytes:
    fig, (cost_ax, acc_ax) = new_figure(1200, 450, ncols=2)
    unit = Optimizer(str(params["optimizer"])).unit
    train = "train" if unit == "iteration" else RUNNING_MEAN
    plot_costs(cost_ax, params["iterations"], params["costs"], unit=unit,
               label=None if unit == "iteration" else train)
    if unit != "iteration":
        cost_ax.legend(loc="upper right")
    cost_ax.set_title(f"Learning rate = {float(params['learning_rate'])}"
                      + ("" if unit == "iteration" else f" ({params['optimizer']})"))
    plot_accuracies(acc_ax, params["iterations"], params["train_accuracies"],
                    params["test_accuracies"], unit=unit, train_label=train)
    acc_ax.set_title("Train vs test accuracy (the gap is overfitting)")
    return png_bytes(fig)


def mislabeled_png(cases: Sequence[Case], classes: Sequence[str], title: str,
                   maps: Sequence[NDArray[np.float64]] | None = None) -> bytes:
    """A grid of (index, image, true, predicted, p_cat) cases, pixels kept crisp. With maps
    (one (h, w) per case: each pixel's push from the mean training image), each image has its
    map beside it, all maps on one colour scale."""
    if maps is not None and cases:
        return mistakes_with_maps_png(cases, maps, classes, title)
    ncols = max(1, min(5, len(cases)))
    nrows = max(1, math.ceil(len(cases) / ncols))
    fig, axes = new_figure(max(600, 220 * ncols), 60 + 250 * nrows, ncols=ncols, nrows=nrows)
    fig.suptitle(title)
    for ax in axes:
        ax.set_axis_off()
    for ax, (index, image, true, predicted, p_cat) in zip(axes, cases, strict=False):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(caption(index, true, predicted, p_cat, classes), fontsize=9)
    if not cases:
        axes[0].text(0.5, 0.5, "none: every image is labelled right", ha="center", va="center")
    return png_bytes(fig)


PAIRS = 3  # (image, map) pairs a row of the mistakes figure
SATURATE = 99.0  # the maps' colour scale ends at this percentile of every |push| drawn: a few
# extreme pixels would otherwise leave the rest of every map pale


def mistakes_with_maps_png(cases: Sequence[Case], maps: Sequence[NDArray[np.float64]],
                           classes: Sequence[str], title: str) -> bytes:
    """Each case's image, then its map, PAIRS to a row; one colour bar for every map."""
    pairs = min(PAIRS, len(cases))
    nrows = math.ceil(len(cases) / pairs)
    fig, axes = new_figure(max(700, 100 + 400 * pairs), 110 + 215 * nrows, ncols=2 * pairs,
                           nrows=nrows)
    fig.suptitle(f"{title}\neach beside its map: every pixel's push from the mean training "
                 f"image,\nred towards {classes[1]}, blue away; z - z(mean) is the map's sum")
    for ax in axes:
        ax.set_axis_off()
    limit = float(np.percentile(np.abs(np.concatenate([m.ravel() for m in maps])), SATURATE))
    for j, ((index, image, true, predicted, p_cat), values) in enumerate(
            zip(cases, maps, strict=True)):
        ax = axes[2 * j]
        ax.imshow(image, interpolation="nearest")
        ax.set_title(caption(index, true, predicted, p_cat, classes), fontsize=8)
        drawn = show_signed_map(fig, axes[2 * j + 1], values,
                                f"z - z(mean) = {values.sum():+.2f}", limit or 1.0,
                                colorbar=False)
        axes[2 * j + 1].title.set_fontsize(8)
    fig.colorbar(drawn, ax=axes, shrink=0.5, aspect=40, extend="both")
    return png_bytes(fig)


def weights_png(W1: NDArray[np.float64], image_shape: Sequence[int],
                classes: Sequence[str]) -> bytes:
    """What the first layer looks for. One neuron (W1 (1, n_x) = w.T): w per channel and summed;
    a network: each of its n_h first-layer units as an image, summed over the channels; a CNN
    (W1 (f, f, 3, n_C)): filters_png."""
    if W1.ndim == 4:
        return filters_png(W1, classes)
    if len(W1) == 1:
        fig, axes = new_figure(1300, 380, ncols=4)
        W = W1[0].reshape(image_shape)  # (px, px, 3): w in the image's own layout
        for channel, name in enumerate(("red", "green", "blue")):
            show_signed_map(fig, axes[channel], W[:, :, channel], f"w, {name} channel")
        show_signed_map(fig, axes[3], W.sum(axis=2), "w, summed over channels")
        fig.suptitle(f"What the neuron looks for: red pixels push towards {classes[1]}, "
                     "blue away from it")
        return png_bytes(fig)
    ncols = min(5, len(W1))
    nrows = math.ceil(len(W1) / ncols)
    fig, axes = new_figure(260 * ncols + 40, 60 + 240 * nrows, ncols=ncols, nrows=nrows)
    for ax in axes:
        ax.set_axis_off()
    for unit, (ax, row) in enumerate(zip(axes, W1, strict=False)):
        show_signed_map(fig, ax, row.reshape(image_shape).sum(axis=2), f"unit {unit + 1}")
    fig.suptitle(f"The first layer's {len(W1)} units: the weights of each, summed over the "
                 "channels (red positive, blue negative)")
    return png_bytes(fig)


FILTERS_A_ROW = 8  # filters side by side; more go on further bands of rows
CHANNEL_ROWS = ("as colour", "red channel", "green channel", "blue channel")


def filter_colours(W: NDArray[np.float64], limit: float) -> NDArray[np.float64]:
    """A filter W (f, f, 3) as an RGB image in [0, 1], symmetric about 0: mid-grey is 0, and a
    channel brighter than grey is a positive weight on that colour, darker a negative one."""
    return np.clip(0.5 + 0.5 * W / limit, 0.0, 1.0)


def filters_png(W1: NDArray[np.float64], classes: Sequence[str]) -> bytes:
    """A CNN's first convolution, W1 (f, f, 3, n_C): each filter a column, drawn as a colour
    image, then its red, green and blue weights as signed maps, all on one scale (the largest
    |weight| of the layer), so that filters can be compared."""
    f, n_C = W1.shape[0], W1.shape[3]
    across = min(FILTERS_A_ROW, n_C)
    bands = math.ceil(n_C / across)
    rows = len(CHANNEL_ROWS) * bands
    fig, axes = new_figure(120 + 125 * across, 110 + 125 * rows, ncols=across, nrows=rows)
    limit = float(np.abs(W1).max()) or 1.0
    for ax in axes:
        ax.set_axis_off()
    drawn = None
    for k in range(n_C):
        band, column = divmod(k, across)
        for row, name in enumerate(CHANNEL_ROWS):
            ax = axes[(band * len(CHANNEL_ROWS) + row) * across + column]
            if row == 0:
                ax.imshow(filter_colours(W1[:, :, :, k], limit), interpolation="nearest")
                ax.set_title(f"filter {k + 1}", fontsize=9)
            else:
                drawn = show_signed_map(fig, ax, W1[:, :, row - 1, k], "", limit, colorbar=False)
            if column == 0:  # the row's name, left of its first map
                ax.set_axis_on()
                ax.set_xticks([])
                ax.set_yticks([])
                ax.spines[:].set_visible(False)
                ax.set_ylabel(name, fontsize=9)
    if drawn is not None:
        fig.colorbar(drawn, ax=axes, shrink=0.5, aspect=40)
    fig.suptitle(f"The first convolution's {n_C} filters, {f}x{f}x3 each, on one scale: as "
                 "colour (grey 0; brighter, a positive weight on that colour),\nthen each "
                 "channel's weights (red positive, blue negative): the colours and edges the "
                 f"later layers build {classes[1]} from")
    return png_bytes(fig)


# A reliability curve: its label, the logits Z (1, m), the labels Y (1, m), and the temperature
# that divides them (1 for the raw p)
Curve = tuple[str, NDArray[np.float64], NDArray[np.int64], float]
FEW = 5  # a bin with fewer images is drawn hollow, with its count, not as a point


def reliability(ax: "Axes", curves: Sequence[Curve]) -> None:
    """Each curve's bins of 0.1: mean p against the share positive, every bin's count written
    beside it; a bin of fewer than FEW images a hollow ring, too few to be a point."""
    for label, Z, Y, temperature in curves:
        mean_p, share, counts = calibration_curve(sigmoid(Z / temperature), Y, n_bins=10)
        line, = ax.plot(mean_p, share, linewidth=1, label=label)
        color = line.get_color()
        solid = counts >= FEW
        ax.scatter(mean_p[solid], share[solid], s=30, color=color)
        ax.scatter(mean_p[~solid], share[~solid], s=30, facecolors="none", edgecolors=color,
                   label=f"{label}: under {FEW} images" if (~solid).any() else None)
        for x, y, n in zip(mean_p, share, counts, strict=True):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7,
                        color=color)


def evaluation_png(Z_by_split: Mapping[str, tuple[NDArray[np.float64], NDArray[np.int64]]],
                   classes: Sequence[str], curves: Sequence[Curve] | None = None) -> bytes:
    """ROC curves from each split's scores Z (1, m) and labels Y (Z_by_split is {split: (Z, Y)}),
    and a reliability diagram: of the given curves (the out-of-fold p before and after
    calibration), or of each split's raw p. How far to trust p(cat)."""
    fig, (roc_ax, reliability_ax) = new_figure(1200, 450, ncols=2)
    for split, (Z, Y) in Z_by_split.items():
        fpr, tpr = roc_curve(Z, Y)
        roc_ax.plot(fpr, tpr, label=f"{split} (AUC {number(roc_auc(Z, Y))})")
    reliability(reliability_ax, curves or [(split, Z, Y, 1.0)
                                           for split, (Z, Y) in Z_by_split.items()])
    for ax in (roc_ax, reliability_ax):
        ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=1)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    roc_ax.set_title(f"ROC: {classes[1]} ranked above {classes[0]}? (diagonal: guessing)")
    roc_ax.set_xlabel(f"false positive rate ({classes[0]} called {classes[1]})")
    roc_ax.set_ylabel(f"true positive rate ({classes[1]} found)")
    reliability_ax.set_title(f"Reliability: is p({classes[1]}) right that often?")
    reliability_ax.set_xlabel(f"predicted p({classes[1]}), mean per bin of 0.1 (images in "
                              "the bin beside it)")
    reliability_ax.set_ylabel(f"share that are {classes[1]}")
    return png_bytes(fig)
