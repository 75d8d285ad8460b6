"""What an accuracy means: intervals, baselines and scores, as R caret's confusionMatrix and
scikit-learn's metrics define them. Pure NumPy, no I/O.

The positive class is label 1 ("cat" in the course). Labels Y and scores Z are (1, m) rows, as
everywhere in the pipeline; a value that is undefined for the data (precision with no positive
prediction, AUC with one class) is None, which JSON writes as null.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pipeline.nn.logistic import THRESHOLD, log_loss, sigmoid
from pipeline.shapes import Array


@functools.lru_cache(maxsize=8)
def log_choose(n: int) -> Array:
    """log C(n, i) for i = 0..n, (n + 1,), read-only: kept for the bisections' many p's."""
    i = np.arange(1, n + 1)
    # a running sum of log((n - j + 1) / j), exact enough for any n we meet
    logs: Array = np.concatenate(([0.0], np.cumsum(np.log(n - i + 1) - np.log(i))))
    logs.flags.writeable = False
    return logs


def log_binomial_pmf(n: int, p: float, k: int = 0) -> Array:
    """log P(X = i) for i = k..n, X ~ Binomial(n, p): ndarray of shape (n + 1 - k,)."""
    i = np.arange(k, n + 1)
    if p in (0, 1):  # all the mass on i = 0 or i = n (log 0 would give 0 * -inf = nan)
        log_pmf: Array = np.where(i == n * p, 0.0, -np.inf)
    else:
        log_pmf = log_choose(n)[k:] + i * np.log(p) + (n - i) * np.log1p(-p)
    return log_pmf


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the one-sided p-value of k successes against rate p."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return float(min(1.0, np.exp(log_binomial_pmf(n, p, k)).sum()))


def bisect_increasing(f: Callable[[float], float], target: float) -> float:
    """The p in [0, 1] where f, increasing in p, reaches target: to the last bit of a double."""
    low, high = 0.0, 1.0
    while (mid := (low + high) / 2) not in (low, high):
        low, high = (mid, high) if f(mid) < target else (low, mid)
    return mid


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact two-sided interval for a proportion k/n, as R's binom.test: (low, high) in [0, 1].

    low solves P(X >= k | low) = alpha/2 and high solves P(X <= k | high) = alpha/2, that is
    P(n - X >= n - k | 1 - high) = alpha/2: the same tail, for the failures.
    """
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    alpha = 1 - confidence
    low = bisect_increasing(lambda p: binomial_upper_tail(k, n, p), alpha / 2) if k else 0.0
    high = 1 - bisect_increasing(lambda q: binomial_upper_tail(n - k, n, q), alpha / 2) \
        if k < n else 1.0
    return low, high


def cohen_kappa(prediction: ArrayLike, Y: ArrayLike) -> float | None:
    """Agreement beyond chance: (p_o - p_e) / (1 - p_e); None when chance agreement is total."""
    p, y = np.ravel(prediction).astype(bool), np.ravel(Y).astype(bool)
    observed = np.mean(p == y)
    chance = np.mean(p) * np.mean(y) + np.mean(~p) * np.mean(~y)
    return None if chance == 1 else float((observed - chance) / (1 - chance))


def average_ranks(values: ArrayLike) -> Array:
    """1-based ranks of values, ties sharing the mean of their ranks (as scipy's rankdata)."""
    values = np.ravel(values)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks[order] = np.repeat((starts + 1 + ends) / 2, ends - starts)  # each tie's mean rank
    return ranks


def roc_auc(scores: ArrayLike, Y: ArrayLike) -> float | None:
    """Area under the ROC curve, as the Mann-Whitney statistic (ties count one half)."""
    y = np.ravel(Y).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    rank_sum = average_ranks(scores)[y].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(scores: ArrayLike, Y: ArrayLike) -> tuple[Array, Array]:
    """False and true positive rates at every distinct threshold, from (0, 0) to (1, 1)."""
    scores, y = np.ravel(scores), np.ravel(Y).astype(bool)
    order = np.argsort(-scores, kind="mergesort")
    scores, y = scores[order], y[order]
    last_of_each = np.r_[np.flatnonzero(scores[1:] != scores[:-1]), len(scores) - 1]
    tp, fp = np.cumsum(y)[last_of_each], np.cumsum(~y)[last_of_each]
    fpr = np.r_[0.0, fp / max(1, (~y).sum())]
    tpr = np.r_[0.0, tp / max(1, y.sum())]
    return fpr, tpr


def calibration_curve(probabilities: ArrayLike, Y: ArrayLike, n_bins: int = 10
                      ) -> tuple[Array, Array, NDArray[np.intp]]:
    """Reliability diagram data, as scikit-learn's (uniform bins): for each non-empty bin, the
    mean predicted probability, the observed share of positives, and the count."""
    p, y = np.ravel(probabilities), np.ravel(Y).astype(float)
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)  # p = 1 falls in the last bin
    counts = np.bincount(bins, minlength=n_bins)
    kept = counts > 0
    mean_p = np.bincount(bins, weights=p, minlength=n_bins)[kept] / counts[kept]
    share = np.bincount(bins, weights=y, minlength=n_bins)[kept] / counts[kept]
    return mean_p, share, counts[kept]


def majority(positives: int, n: int) -> tuple[int, float]:
    """(the larger class's label, its share in percent): what always answering it scores, the
    no-information rate. A tie goes to label 0."""
    return int(positives > n - positives), 100 * max(positives, n - positives) / n


def classification_stats(Z: Array, Y: ArrayLike, threshold: float = THRESHOLD
                         ) -> dict[str, Any]:
    """Everything a report says about one set, from the scores Z = w.T X + b and the labels.

    Percentages are in percent; log_loss is the mean cross-entropy (natural log).
    """
    Y = np.asarray(Y).reshape(1, -1)
    if Z.shape != Y.shape:
        raise ValueError(f"{Z.shape} scores for {Y.shape} labels")
    m = Y.shape[1]
    prediction = sigmoid(Z) > threshold  # (1, m)
    y = Y.astype(bool)
    correct = int(np.sum(prediction == y))
    positives = int(y.sum())
    majority_label, no_information_rate = majority(positives, m)
    low, high = clopper_pearson(correct, m)
    tp = int(np.sum(prediction & y))
    predicted_positive = int(prediction.sum())
    precision = tp / predicted_positive if predicted_positive else None
    recall = tp / positives if positives else None
    f1 = (2 * tp / (predicted_positive + positives)) if predicted_positive + positives else None
    return {
        "n": m, "correct": correct,
        "accuracy_ci95": [100 * low, 100 * high],
        "majority_label": majority_label,
        "no_information_rate": no_information_rate,
        "p_value_vs_nir": binomial_upper_tail(correct, m, no_information_rate / 100),
        "kappa": cohen_kappa(prediction, y),
        "precision": precision, "recall": recall, "f1": f1,
        "roc_auc": roc_auc(Z, Y),
        "log_loss": float(np.mean(log_loss(Z, Y))),
    }


def always_answering(label_name: str, rate: float) -> str:
    """'always cat: 66.0 %': what always answering the larger class scores, the line to beat.
    The one spelling of it, wherever an accuracy is shown."""
    return f"always {label_name}: {rate:.1f} %"


def interval(low: float, high: float) -> str:
    """'95% CI 55.4-82.1 %': an accuracy's exact (Clopper-Pearson) interval, the one spelling."""
    return f"95% CI {low:.1f}-{high:.1f} %"


def accuracy_summary(stats: Mapping[str, Any], classes: Sequence[str]) -> str:
    """'(95% CI 55.4-82.1 %; always cat: 66.0 %)': what an accuracy means, in one line."""
    return (f"({interval(*stats['accuracy_ci95'])}; "
            f"{always_answering(classes[stats['majority_label']], stats['no_information_rate'])})")


def not_significant_sentence(stats: Mapping[str, Any], classes: Sequence[str], set_name: str,
                             alpha: float = 0.05) -> str | None:
    """A plain sentence when an accuracy is not significantly above the no-information rate
    (one-sided exact binomial test at level alpha, as caret), else None."""
    p = stats["p_value_vs_nir"]
    if p < alpha:
        return None
    return (f"The {set_name} accuracy is not significantly above the majority guess "
            f"({always_answering(classes[stats['majority_label']], stats['no_information_rate'])}"
            f"; p = {p:.2f}).")


def percent(value: float, exact: bool) -> str:
    """An accuracy as text: as computed for the course's own data, whose published numbers it
    must print digit for digit (70.0 %, 99.04306220095694 %); to two decimals for any other data,
    where 80.46000000000001 % would read like a bug."""
    return f"{value} %" if exact else f"{value:.2f} %"
