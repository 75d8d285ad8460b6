"""make cv SEARCH=random: candidates drawn at random, each setting uniformly on its own scale
(config.SEARCH_SPACE), and ZOOM's second round inside the region of the first round's best.

A setting's range is kept in its scale's coordinate u: a learning rate 10^u with u uniform in
[-4, -1] puts as many draws in 0.0001..0.001 as in 0.01..0.1, and a beta 1 - 10^u as many in
0.99..0.999 as in 0.9..0.99. Pure NumPy, seeded: the same draws on any machine.
"""

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from pipeline import config

Candidate = dict[str, float]  # a searched setting's name -> its value


class Axis(NamedTuple):
    """One searched setting: its scale, and the range drawn from in the scale's coordinate u."""

    scale: str  # config.SEARCH_SPACE's: "log", "linear", "1-log", "pow2", "log-int"
    low: float
    high: float
    zero_below: float = -math.inf  # a log range from 0 (l2): a u below this draws 0


def scale_of(name: str) -> str:
    """The scale of a setting; hidden1, hidden2, ... are each a hidden layer's size."""
    return config.SEARCH_SPACE["hidden" if name.startswith("hidden") else name][0]


def axis_of(name: str, low: float, high: float) -> Axis:
    """The Axis of the values low..high of setting `name`; ValueError, one sentence, if the
    range holds no value to draw (its ends' own domain is checked where they are read)."""
    scale = scale_of(name)
    if not low < high:
        raise ValueError(f"{low!r}..{high!r} is {'empty' if low == high else 'reversed'}: "
                         "give lo..hi with lo below hi, or one value to fix it")
    if scale == "log" and low == 0:  # 0 takes the decade below the L2_DECADES under the top
        top = math.log10(high)
        return Axis(scale, top - config.L2_DECADES - 1, top, top - config.L2_DECADES)
    if scale in ("log", "log-int"):
        return Axis(scale, math.log10(low), math.log10(high))
    if scale == "1-log":
        return Axis(scale, math.log10(1 - high), math.log10(1 - low))
    if scale == "pow2":
        first, last = math.ceil(math.log2(low)), math.floor(math.log2(high))
        if first > last:
            raise ValueError(f"{low!r}..{high!r} holds no power of 2")
        return Axis(scale, first - 0.5, last + 0.5)  # each power of 2 as likely
    return Axis(scale, low, high)


def value_at(axis: Axis, u: float) -> float:
    """The setting's value at u, to 3 significant digits (as printed, so that a run can be
    typed again exactly); whole numbers for a batch size or a layer's size."""
    if axis.scale == "log":
        return 0.0 if u < axis.zero_below else float(f"{10 ** u:.3g}")
    if axis.scale == "1-log":
        return float(f"{1 - float(f'{10 ** u:.3g}'):.12g}")
    if axis.scale == "pow2":  # the nearest power of 2 inside the range
        return float(2 ** min(max(math.floor(u + 0.5), axis.low + 0.5), axis.high - 0.5))
    if axis.scale == "log-int":
        return float(round(10 ** u))
    return float(f"{u:.3g}")


def u_of(axis: Axis, value: float) -> float:
    """value's coordinate on the axis; a 0 on a range from 0 sits mid-way in its decade."""
    if axis.scale == "log":
        return (axis.low + axis.zero_below) / 2 if value == 0 else math.log10(value)
    if axis.scale == "1-log":
        return math.log10(1 - value)
    if axis.scale == "pow2":
        return math.log2(value)
    return math.log10(value) if axis.scale == "log-int" else value


def ends(axis: Axis) -> tuple[float, float]:
    """The range's ends as values (a range from 0 starts at 0)."""
    low = value_at(axis, axis.low) if axis.low >= axis.zero_below else 0.0
    return (low, value_at(axis, axis.high)) if axis.scale != "1-log" else (
        value_at(axis, axis.high), value_at(axis, axis.low))


def draw(axes: Mapping[str, Axis], trials: int, seed: int) -> list[Candidate]:
    """trials candidates, each setting uniform in u on its axis; seeded, one setting after
    another in the axes' order."""
    rng = np.random.default_rng(seed)
    us = {name: rng.uniform(axis.low, axis.high, trials) for name, axis in axes.items()}
    return [{name: value_at(axes[name], float(us[name][t])) for name in axes}
            for t in range(trials)]


def zoomed(axes: Mapping[str, Axis], candidates: Sequence[Candidate],
           scores: NDArray[np.float64]) -> dict[str, Axis]:
    """The second round's region: on every axis, the span of the best ZOOM_BEST of the
    candidates (by score, NaN for one that diverged; at least two), widened by ZOOM_MARGIN of
    the axis on either side and kept inside it."""
    finite = np.flatnonzero(np.isfinite(scores))
    if finite.size == 0:
        raise ValueError("every candidate of the first round diverged: nothing to zoom in on")
    count = max(2, math.ceil(config.ZOOM_BEST * finite.size))
    best = finite[np.argsort(-scores[finite], kind="stable")[:count]]
    region = {}
    for name, axis in axes.items():
        us = [u_of(axis, candidates[i][name]) for i in best]
        margin = config.ZOOM_MARGIN * (axis.high - axis.low)
        region[name] = axis._replace(low=max(axis.low, min(us) - margin),
                                     high=min(axis.high, max(us) + margin))
    return region
