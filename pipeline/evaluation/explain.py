"""The pixels that decided an answer: each input's push towards or away from "cat", measured
from the mean training image x̄, for any model in the course's layered layout (one neuron is
the one-layer case: pipeline.artifacts.params.network_parameters), or a CNN's (nn.cnn, its
parameters with their pools). Pure NumPy.

Integrated gradients (Sundararajan et al., 2017): the map of x is

    (x - x̄) * (the mean over α in [0, 1] of dz/dx at x̄ + α (x - x̄)),

z the last layer's pre-activation, and it sums to z(x) - z(x̄) as the mean becomes exact. For
one neuron dz/dx = w everywhere, so the map is w_j (x_j - x̄_j) exactly, whatever the steps.

The mean is taken by the trapezoid rule on K equal steps, K doubled until the map's sum is
within `tolerance` of z(x) - z(x̄). Trapezoid rather than midpoint because its points nest: the
points of 2K steps are those of K and the K midpoints between them, so each doubling costs only
the new points, and all of them are K + 1 gradients (the midpoint rule's would not nest, and
doubling it up to K would cost 2K). For a ReLU network dz/dx is piecewise constant along the
line, so both rules' errors shrink as 1/K: the midpoint's accuracy is no better here.

A CNN's first convolution is affine in x, so along the line its output is
z1(x̄) + α conv(x - x̄) (conv without b): two convolutions a photo, not one a point, and, its
backward pass being linear too, W1.T applied once to the summed dz/dz1 (cnn_line_gradient_sum).
That layer's windows are most of a point's work, so this is the same sum, up to rounding, at a
fifth of the cost (the page's JavaScript does the same).
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pipeline.columns import Columns, over_blocks, scale_of
from pipeline.nn import cnn
from pipeline.nn.convolution_fast import (
    conv_forward_fast,
    conv_input_gradient,
    pool_backward_fast,
    pool_forward_fast,
)
from pipeline.nn.layers import L_model_scores
from pipeline.nn.network import input_gradient
from pipeline.shapes import Array, Parameters
from pipeline.threads import on_blas_threads, on_cores

TOLERANCE = 0.01  # the map's sum agrees with z(x) - z(x̄) to 1 % of |z(x) - z(x̄)|
MAX_STEPS = 1024  # the doubling stops here, and says how far apart the two still are
CHUNK_BYTES = 16 << 20  # float64 path points a forward and backward pass: 170 photos at 64x64
# a CNN's z1 of a part of its points: 4 at 64x64x8, whose arrays stay in the cache (a third
# less time for the report's maps than parts of CHUNK_BYTES, measured)
CNN_PART_BYTES = 1 << 20


@dataclass(frozen=True)
class Explanation:
    """One photo's map and how closely it adds up.

    contributions : (n_x, 1), each input's push on z: positive towards the positive class
    z, z_baseline : z(x) and z(x̄), the last layer's pre-activation
    steps : trapezoid steps K taken (K + 1 gradients along the line)
    gap : |sum(contributions) - (z - z_baseline)|, what the steps leave
    """

    contributions: Array
    z: float
    z_baseline: float
    steps: int
    gap: float

    @property
    def total(self) -> float:
        """The map's sum: z - z_baseline, up to gap."""
        return float(self.contributions.sum())

    @property
    def change(self) -> float:
        """z - z_baseline, what the map shares out."""
        return self.z - self.z_baseline

    @property
    def relative_gap(self) -> float:
        """gap / |change|: 0 where both are 0 (x is x̄), inf where only the change is."""
        if self.change == 0:
            return 0.0 if self.gap == 0 else float("inf")
        return self.gap / abs(self.change)


def mean_image(X: Columns) -> Array:
    """x̄ (n_x, 1): the mean of the columns of X (n_x, m), in the model's input units (x / 255
    for pixels, summed as exact integers and divided once)."""
    m = X.shape[1]
    if m == 0:
        raise ValueError("the mean image of no columns is undefined")
    total = over_blocks(lambda _, block: block.sum(axis=1, keepdims=True), X)  # (n_x, 1)
    mean: Array = total / (scale_of(X) * m)
    return mean


def last_scores(parameters: Parameters, X: Array) -> Array:
    """z (1, k) of the columns of X (n_x, k): a CNN's, or a layered network's."""
    if cnn.POOLS in parameters:
        return cnn.scores(parameters, X)
    return L_model_scores(X, parameters)


def gradients(parameters: Parameters, X: Array) -> Array:
    """dz/dx (n_x, k) at each column of X (n_x, k): a CNN's, or a layered network's."""
    if cnn.POOLS in parameters:
        return cnn.input_gradient(parameters, X)
    return input_gradient(parameters, X)


def gradient_sum(parameters: Parameters, x: Array, baseline: Array,
                 alphas: NDArray[np.float64]) -> Array:
    """The sum over alphas (k,) of dz/dx at x̄ + α (x - x̄), (n_x, 1): the points as columns of
    a batch, one forward and one backward pass a chunk of CHUNK_BYTES."""
    n_x = x.shape[0]
    size = max(1, CHUNK_BYTES // (8 * n_x))
    total = np.zeros((n_x, 1))
    for start in range(0, len(alphas), size):
        path = baseline + (x - baseline) * alphas[None, start:start + size]  # (n_x, c)
        total += gradients(parameters, path).sum(axis=1, keepdims=True)
    return total


def line_gradient_sum(parameters: Parameters, x: Array, baseline: Array
                      ) -> Callable[[NDArray[np.float64]], Array]:
    """gradient_sum's sum as a function of the alphas alone: a CNN's by cnn_line_gradient_sum."""
    if cnn.POOLS in parameters:
        return cnn_line_gradient_sum(parameters, x, baseline)
    return functools.partial(gradient_sum, parameters, x, baseline)


def cnn_line_gradient_sum(model: Parameters, x: Array, baseline: Array
                          ) -> Callable[[NDArray[np.float64]], Array]:
    """gradient_sum for a CNN (with_pools' dict) as a function of the alphas, from its first
    convolution's output along the line, z1(x̄) + α conv(x - x̄), both computed here once: the
    points then go on from z1, a part of CNN_PART_BYTES of z1 at a time, two parts at once on two
    cores, and their summed dz/dz1 comes back to x through W1 once a call."""
    parameters, pools = cnn.without_pools(model)
    W1, b1 = parameters["W1"], parameters["b1"]
    same = {"pad": 0, "stride": 1}
    z1_baseline = conv_forward_fast(cnn.same_padded(cnn.images_of(baseline), W1.shape[0]), W1,
                                    b1, same)[0]  # (1, h, w, n_C)
    step, cache = conv_forward_fast(cnn.same_padded(cnn.images_of(x - baseline), W1.shape[0]),
                                    W1, np.zeros_like(b1), same)  # (1, h, w, n_C), no b
    rest = {f"{key[0]}{int(key[1:]) - 1}": value for key, value in parameters.items()
            if int(key[1:]) > 1}  # the layers after the first, numbered from 1
    pool = {"f": pools[0], "stride": pools[0]}
    h, w = step.shape[1:3]
    top = (W1.shape[0] - 1) // 2  # where the image lies in the padded one

    def part_sum(part: NDArray[np.float64]) -> Array:
        """dz/dz1 (h, w, n_C) summed over the points of part (c,), as cnn.backward has it."""
        Z1 = z1_baseline + part[:, None, None, None] * step  # (c, h, w, n_C)
        A1 = np.maximum(Z1, 0)
        A, pool_cache = pool_forward_fast(A1, pool) if pools[0] > 1 else (A1, None)
        z, rest_cache = cnn.forward(rest, pools[1:], A)
        dA = np.asarray(cnn.backward(rest, np.ones_like(z), rest_cache, to_input=True)[1])
        if pool_cache is not None:
            dA = pool_backward_fast(dA, pool_cache, "max")  # (c, h, w, n_C)
        on = np.multiply(dA, A1 > 0, out=dA if dA.flags.writeable else None)  # ReLUs on
        summed: Array = on.sum(axis=0)
        return summed

    @on_blas_threads("stream")  # a part a core, each on one BLAS thread
    def sum_over(alphas: NDArray[np.float64]) -> Array:
        # at least two parts where there are two points; their number is the same on any cores
        size = max(1, min(CNN_PART_BYTES // (8 * step.size), -(-len(alphas) // 2)))
        parts = on_cores(part_sum, [alphas[s:s + size] for s in range(0, len(alphas), size)])
        summed = sum(parts, np.zeros(step.shape[1:]))  # (h, w, n_C)
        dx = conv_input_gradient(summed[None], cache)[:, top:top + h, top:top + w, :]
        return dx.reshape(-1, 1)  # (n_x, 1): raveled row, column, channel as the columns

    return sum_over


def explain(parameters: Parameters, x: Array, baseline: Array, *,
            tolerance: float = TOLERANCE, max_steps: int = MAX_STEPS) -> Explanation:
    """Integrated gradients of x (n_x, 1) from baseline x̄ (n_x, 1), the trapezoid's steps
    doubled from 1 until |sum(map) - (z(x) - z(x̄))| <= tolerance * |z(x) - z(x̄)| at two step
    counts in a row, or until max_steps (a power of two) is reached and the gap is what remains.

    Two in a row, as one can agree by chance: a line whose ends lie where the network is flat
    (every ReLU of a layer off) sums to 0 = z(x) - z(x̄) at one step, whatever lies between.
    One neuron stops at two steps, and its map is exactly w * (x - x̄): every gradient is w, and
    both trapezoids, (w + w) / 2 and ((w + w) / 2 + w) / 2, are w in floating point."""
    if x.shape != baseline.shape or x.ndim != 2 or x.shape[1] != 1:
        raise ValueError(f"x {x.shape} and baseline {baseline.shape} must be one column each, "
                         f"(n_x, 1)")
    z, z_baseline = (float(last_scores(parameters, c)[0, 0]) for c in (x, baseline))
    change, difference = z - z_baseline, x - baseline
    gradient_sum_at = line_gradient_sum(parameters, x, baseline)
    total = gradient_sum_at(np.array([0.0, 1.0])) / 2  # the ends' half
    steps, agreed = 1, 0
    while True:
        contributions = difference * (total / steps)  # (n_x, 1)
        gap = abs(float(contributions.sum()) - change)
        agreed = agreed + 1 if gap <= tolerance * abs(change) else 0
        if agreed == 2 or steps >= max_steps:
            return Explanation(contributions, z, z_baseline, steps, gap)
        # the midpoints of the K steps are the new points of 2K steps
        total = total + gradient_sum_at((np.arange(steps) + 0.5) / steps)
        steps *= 2


def colour_sum(contributions: Array, image_shape: Iterable[int]) -> Array:
    """The map (n_x, 1) as an image (h, w): each pixel's three colours summed. The columns are
    images raveled row, column, channel (features.flatten), so a C-order reshape undoes it."""
    h, w, c = (int(s) for s in image_shape)
    summed: Array = contributions.reshape(h, w, c).sum(axis=2)
    return summed
