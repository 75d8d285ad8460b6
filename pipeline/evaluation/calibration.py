"""How far to trust p(cat): a temperature (or Platt's a, b) fitted on out-of-fold logits, the
figures that judge a calibration, and the answer in words. Pure NumPy, no I/O.

A calibration maps a logit z to p = sigmoid(a z + b): a temperature T is a = 1/T, b = 0, which
never moves z across 0, so it never changes the answer at the threshold 0.5; Platt's (a, b) may.
Both minimize the mean log loss of the out-of-fold logits (convex: one dimension, or two).
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pipeline.artifacts.calibration_file import BAND_EDGES
from pipeline.errors import UserError
from pipeline.evaluation.stats import clopper_pearson
from pipeline.nn.logistic import THRESHOLD, log_loss, sigmoid
from pipeline.shapes import Array

N_BINS = 10  # equal-width bins of p for the calibration error
BOOTSTRAP_DRAWS = 1000  # resamples of the images for the calibration error's interval
FEW = 5  # a bin or band with fewer images than this says too little to draw or to judge by


class CannotCalibrate(UserError):
    """Logits no calibration can be fitted on: the caller shows the raw p as raw."""


def checked(Z: ArrayLike, Y: ArrayLike) -> tuple[Array, Array]:
    """z (m,) and y (m,) as floats, or CannotCalibrate saying why they cannot be fitted."""
    z, y = np.ravel(np.asarray(Z, dtype=float)), np.ravel(np.asarray(Y, dtype=float))
    if not np.isfinite(z).all():
        raise CannotCalibrate("some out-of-fold logits are not finite (a fold diverged)")
    if len(z) == 0 or y.min() == y.max():
        raise CannotCalibrate("the images to calibrate on hold only one class")
    if z.min() == z.max():
        raise CannotCalibrate("every out-of-fold logit is the same: nothing to scale")
    return z, y


def mean_log_loss(Z: ArrayLike, Y: ArrayLike, a: float = 1.0, b: float = 0.0) -> float:
    """The mean log loss of p = sigmoid(a z + b), computed from the logit (stable)."""
    return float(np.mean(log_loss(a * np.asarray(Z, dtype=float) + b, np.asarray(Y, float))))


def fit_temperature(Z: ArrayLike, Y: ArrayLike) -> float:
    """T > 0 minimizing the mean log loss of sigmoid(z / T): bisection on the derivative in
    s = 1/T, mean((sigmoid(s z) - y) z), which grows with s (the loss is convex in s). The
    logits are scaled to at most 1 in size first (T scales with them), so nothing overflows."""
    z, y = checked(Z, Y)
    scale = float(np.max(np.abs(z)))
    z = z / scale

    def slope(s: float) -> float:
        return float(np.mean((sigmoid(s * z) - y) * z))

    if np.all(z[y == 1] >= 0) and np.all(z[y == 0] <= 0):
        raise CannotCalibrate("the out-of-fold logits separate the classes perfectly: "
                              "no finite temperature is best")
    if slope(0.0) >= 0:
        raise CannotCalibrate("the out-of-fold logits do not lean towards the right class: "
                              "the best temperature is infinite (p = 0.5 for every image)")
    low, high = 0.0, 1.0
    while slope(high) < 0:  # doubling until the minimum is bracketed
        low, high = high, 2 * high
        if high > 1e12:
            raise CannotCalibrate("the out-of-fold logits separate the classes perfectly: "
                                  "no finite temperature is best")
    while high - low > 1e-15 * high:
        middle = (low + high) / 2
        if middle in (low, high):
            break
        low, high = (middle, high) if slope(middle) < 0 else (low, middle)
    return float(scale / ((low + high) / 2))


def fit_platt(Z: ArrayLike, Y: ArrayLike) -> tuple[float, float]:
    """(a, b) minimizing the mean log loss of sigmoid(a z + b): Newton's method from the
    temperature's (1/T, 0), each step halved until the loss does not grow."""
    z, y = checked(Z, Y)
    if z[y == 1].min() > z[y == 0].max():
        raise CannotCalibrate("the out-of-fold logits separate the classes perfectly: "
                              "no finite (a, b) is best")
    scale = float(np.max(np.abs(z)))
    z = z / scale  # as fit_temperature: a scales back below
    ab = np.array([1.0 / fit_temperature(z, y), 0.0])
    loss = mean_log_loss(z, y, *ab)
    for _ in range(100):
        p = sigmoid(ab[0] * z + ab[1])
        gradient = np.array([np.mean((p - y) * z), np.mean(p - y)])
        w = p * (1 - p)
        hessian = np.array([[np.mean(w * z * z), np.mean(w * z)], [np.mean(w * z), np.mean(w)]])
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        shrink = 1.0
        while mean_log_loss(z, y, *(ab - shrink * step)) > loss and shrink > 1e-10:
            shrink /= 2
        ab, previous = ab - shrink * step, loss
        loss = mean_log_loss(z, y, *ab)
        if not np.isfinite(ab).all() or abs(ab[0]) > 1e12:
            raise CannotCalibrate("the out-of-fold logits separate the classes perfectly: "
                                  "no finite (a, b) is best")
        if previous - loss <= 1e-15 * max(loss, 1e-300):
            break
    return float(ab[0] / scale), float(ab[1])


def held_out_losses(Z: ArrayLike, Y: ArrayLike, fold_of: NDArray[np.int64]) -> tuple[float, float]:
    """The mean log loss of each image's logit calibrated by a temperature, and by Platt's
    (a, b), each fitted on the other folds' logits: which form is better out of fold."""
    z, y = checked(Z, Y)
    losses = np.zeros((2, len(z)))
    for f in np.unique(fold_of):
        out, kept = fold_of == f, fold_of != f
        T = fit_temperature(z[kept], y[kept])
        losses[0, out] = log_loss(z[out] / T, y[out])
        a, b = fit_platt(z[kept], y[kept])
        losses[1, out] = log_loss(a * z[out] + b, y[out])
    return float(losses[0].mean()), float(losses[1].mean())


def expected_calibration_error(P: ArrayLike, Y: ArrayLike, n_bins: int = N_BINS) -> Array:
    """Sum over equal-width bins of (count / n) |mean p - share positive|, which is
    |sum p - sum y| / n per bin. P and Y (..., m): one error per leading index."""
    p, y = np.asarray(P, dtype=float), np.asarray(Y, dtype=float)
    rows = p.reshape(-1, p.shape[-1])  # (r, m)
    bins = np.clip((rows * n_bins).astype(int), 0, n_bins - 1)  # p = 1 in the last bin
    flat = bins + n_bins * np.arange(len(rows))[:, None]  # (r, m): a bin of its own row
    size = n_bins * len(rows)
    gap = np.bincount(flat.ravel(), weights=(rows - np.broadcast_to(y, p.shape).reshape(
        rows.shape)).ravel(), minlength=size).reshape(len(rows), n_bins)
    error: Array = (np.abs(gap).sum(axis=1) / p.shape[-1]).reshape(p.shape[:-1])
    return error


def figures(Z: ArrayLike, Y: ArrayLike, a: float = 1.0, b: float = 0.0, seed: int = 0
            ) -> Array:
    """The figures of p = sigmoid(a z + b) against the labels: the calibration error with its
    95 % bootstrap interval (seeded resamples of the images), the Brier score and the log loss,
    in calibration_file.FIGURES' order."""
    z, y = np.ravel(np.asarray(Z, dtype=float)), np.ravel(np.asarray(Y, dtype=float))
    p = sigmoid(a * z + b)
    draws = np.random.default_rng(seed).integers(0, len(z), size=(BOOTSTRAP_DRAWS, len(z)))
    low, high = np.percentile(expected_calibration_error(p[draws], y[draws]), [2.5, 97.5])
    return np.array([float(expected_calibration_error(p, y)), low, high,
                     float(np.mean((p - y) ** 2)), mean_log_loss(z, y, a, b)])


def bands_of(P: ArrayLike) -> NDArray[np.intp]:
    """The band of BAND_EDGES that each confidence max(p, 1 - p) falls in (1.0 in the last)."""
    p = np.asarray(P, dtype=float)
    confidence = np.maximum(p, 1 - p)
    bands: NDArray[np.intp] = np.clip(np.searchsorted(BAND_EDGES, confidence, side="right") - 1,
                                      0, len(BAND_EDGES) - 2)
    return bands


def band_table(P: ArrayLike, Y: ArrayLike) -> NDArray[np.int64]:
    """(bands, 2): per confidence band, the out-of-fold images whose calibrated p fell in it
    and how many of their answers (p > 0.5) were right."""
    p, y = np.ravel(P), np.ravel(Y)
    bands = bands_of(p)
    right = (p > THRESHOLD) == (y == 1)
    n = len(BAND_EDGES) - 1
    return np.stack([np.bincount(bands, minlength=n),
                     np.bincount(bands, weights=right, minlength=n).astype(int)], axis=1)


def band_sentence(band: int, table: NDArray[np.int64], majority_name: str,
                  majority_rate: float, temperature: bool = True) -> str:
    """What cross-validation says about an answer whose calibrated confidence is in `band`:
    the one rule the terminal and the page both show. "The model cannot tell" where the band's
    out-of-fold accuracy is not clearly above always answering the larger class (its exact 95 %
    interval reaches down to that rate), or where too few images fell in it to say."""
    low, high = BAND_EDGES[band], BAND_EDGES[band + 1]
    count, right = (int(v) for v in table[band])
    sure = f"answers this sure ({low:.0%}-{high:.0%})"
    never = ("Calibration never changes the answer." if temperature else
             "This calibration may change the answer near p = 0.5.")
    if count < FEW:
        return (f"The model cannot tell: out of fold, only {count} of the training images got "
                f"{sure}, too few to say how often they are right. {never}")
    share = right / count
    head = "The model cannot tell" if clopper_pearson(right, count)[0] <= majority_rate \
        else "The model can tell"
    return (f"{head}: out of fold, {sure} were right {share:.0%} of the time ({right} of "
            f"{count}), against {majority_rate:.0%} for always answering {majority_name}. "
            f"{never}")


def band_sentences(table: NDArray[np.int64], classes: Sequence[str], positives: int, m: int,
                   temperature: bool = True) -> list[str]:
    """band_sentence for every band, for a training set of m images with `positives` of the
    positive class: the page embeds these and looks up the band of its calibrated p."""
    label = int(positives > m - positives)
    rate = max(positives, m - positives) / m
    return [band_sentence(band, table, classes[label], rate, temperature)
            for band in range(len(BAND_EDGES) - 1)]
