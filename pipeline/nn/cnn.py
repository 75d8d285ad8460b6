"""The course's convolutional network (course 4, week 1, "Convolution model - Application"):
blocks of CONV -> RELU -> MAXPOOL, flattened, then one unit with a sigmoid, on the fast engine
of convolution_fast.py. Pure NumPy, no I/O.

The architecture is a text, "4x8 p8 2x16 p4" by default: a 4x4 convolution with 8 filters, an
8x8 max-pool, a 2x2 convolution with 16 filters, a 4x4 max-pool. Every convolution has stride 1
and keeps the image's size ('same', padded as TensorFlow's: (f - 1) // 2 before, the rest
after); every pool's stride is its window, as the course's (f 8 stride 8, then f 4 stride 4).

The parameters: W1 (f, f, n_C_prev, n_C), b1 (1, 1, 1, n_C), ... for the convolutions, then the
dense unit's W (1, n), b (1, 1). The pools have no weights: the fit passes them beside the
parameters; where only the parameters travel (columns.model_scores, evaluation.explain, the
model's form: with_pools) they ride along under POOLS. X is the columns (n_x, m) of square RGB
images raveled row, column, channel (artifacts/features.flatten), float64, or the pixels' uint8
integers with pixel_scale 255 taken on the first convolution's outputs, as nn/layers.py's.
"""

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from pipeline.nn.convolution_fast import (
    ConvCache,
    conv_filter_gradients,
    conv_forward_fast,
    conv_input_gradient,
    relu_max_pool,
    relu_max_pool_backward,
)
from pipeline.nn.layers import dropout_masks
from pipeline.nn.logistic import log_loss, sigmoid
from pipeline.shapes import Array, Parameters
from pipeline.threads import on_cores

# a block (f, n_C, pool): f x f conv with n_C filters, ReLU, pool x pool max-pool (1: none)
Architecture = tuple[tuple[int, int, int], ...]
# forward's: each block's (conv cache, Z, its output A, pool), dense input (n, m), its shape
Cache = tuple[list[tuple[ConvCache, Array, Array, int]], Array, tuple[int, ...]]
T = TypeVar("T")
POOLS = "pools"  # the key of each block's pool window in the parameters as a model carries them
IMAGES_A_PART = 4  # images forward and back at a time: their im2col rows (6 MB at 64 x 64)
TOKEN = re.compile(r"(?:([1-9][0-9]*)x([1-9][0-9]*)|p([1-9][0-9]*))")


def read_architecture(text: str) -> Architecture:
    """The blocks of a text such as "4x8 p8 2x16 p4": FxC a convolution, pF a max-pool after it.
    ValueError, one sentence, for anything else."""
    blocks: list[list[int]] = []
    for token in text.split():
        match = TOKEN.fullmatch(token)
        if not match:
            raise ValueError(f"{token!r} is neither a convolution FxC (4x8: 4x4 filters, 8 of "
                             "them) nor a max-pool pF (p8: 8x8)")
        if match[3] is None:
            blocks.append([int(match[1]), int(match[2]), 1])
        elif not blocks or blocks[-1][2] != 1:
            raise ValueError(f"{token!r}: a max-pool follows a convolution, one pool each")
        else:
            blocks[-1][2] = int(match[3])
    if not blocks:
        raise ValueError("a CNN needs at least one convolution, such as 4x8")
    return tuple((f, n_C, pool) for f, n_C, pool in blocks)


def architecture_text(architecture: Architecture) -> str:
    """The text read_architecture reads: "4x8 p8 2x16 p4"."""
    return " ".join(f"{f}x{n_C}" + (f" p{pool}" if pool > 1 else "")
                    for f, n_C, pool in architecture)


def image_shape_of(n_x: int) -> tuple[int, int, int]:
    """(side, side, 3) of square RGB images of n_x values; ValueError for any other n_x."""
    side = math.isqrt(n_x // 3)
    if n_x < 3 or side * side * 3 != n_x:
        raise ValueError(f"{n_x} values are no square RGB image")
    return side, side, 3


def layer_sizes(architecture: Architecture, n_x: int) -> tuple[int, ...]:
    """(n_x, the units after each convolution and each pool, ..., 1); ValueError for a pool
    larger than the image it pools."""
    side, _, _ = image_shape_of(n_x)
    sizes = [n_x]
    for f, n_C, pool in architecture:
        sizes.append(side * side * n_C)  # 'same': the image's size
        if pool > 1:
            if pool > side:
                raise ValueError(f"a max-pool p{pool} does not fit in the {side}x{side} images "
                                 f"that the {f}x{n_C} convolution gives")
            side //= pool
            sizes.append(side * side * n_C)
    return (*sizes, 1)


def initialize_parameters_cnn(architecture: Architecture, n_x: int, seed: int = 1) -> Parameters:
    """He's start from RandomState(seed), layer by layer: W = randn(f, f, n_C_prev, n_C) *
    sqrt(2 / (f f n_C_prev)) and the dense W = randn(1, n) * sqrt(2 / n); zero biases."""
    rng, n_C_prev = np.random.RandomState(seed), image_shape_of(n_x)[2]
    parameters: Parameters = {}
    for layer, (f, n_C, _) in enumerate(architecture, start=1):
        parameters[f"W{layer}"] = rng.randn(f, f, n_C_prev, n_C) * np.sqrt(2 / (f * f * n_C_prev))
        parameters[f"b{layer}"] = np.zeros((1, 1, 1, n_C))
        n_C_prev = n_C
    n, L = layer_sizes(architecture, n_x)[-2], len(architecture) + 1
    parameters[f"W{L}"] = rng.randn(1, n) * np.sqrt(2 / n)
    parameters[f"b{L}"] = np.zeros((1, 1))
    return parameters


def with_pools(parameters: Parameters, pools: Sequence[int]) -> Parameters:
    """The parameters as a model carries them: the weights and each block's pool under POOLS."""
    return {**parameters, POOLS: np.array(pools, dtype=float)}


def without_pools(model: Parameters) -> tuple[Parameters, list[int]]:
    """(the weights, the pools) of with_pools' dict."""
    return {k: v for k, v in model.items() if k != POOLS}, [int(p) for p in model[POOLS]]


def images_of(X: NDArray[Any]) -> NDArray[Any]:
    """The columns X (n_x, m) as images (m, side, side, 3): a view where X.T is contiguous."""
    return X.T.reshape(X.shape[1], *image_shape_of(X.shape[0]))


def same_padded(A: NDArray[Any], f: int) -> Array:
    """A (m, h, w, c) as float64 padded with zeros so that an f x f convolution of stride 1
    keeps h x w: (m, h + f - 1, w + f - 1, c), uint8 converted as it is copied in."""
    (m, h, w, c), before = A.shape, (f - 1) // 2
    padded = np.zeros((m, h + f - 1, w + f - 1, c))
    padded[:, before:before + h, before:before + w, :] = A
    return padded


def forward(parameters: Parameters, pools: Sequence[int], images: NDArray[Any],
            pixel_scale: float = 1.0, mask: Array | None = None) -> tuple[Array, Cache]:
    """z (1, m) of images (m, h, w, 3) whose values are images / pixel_scale, and the cache
    backward reads. mask : the dense input's dropout mask D / keep_prob (n, m), or None."""
    A: NDArray[Any] = images
    caches: list[tuple[ConvCache, Array, Array, int]] = []
    for layer, pool in enumerate(pools, start=1):
        W, b = parameters[f"W{layer}"], parameters[f"b{layer}"]
        Z, conv_cache = conv_forward_fast(same_padded(A, W.shape[0]), W, b,
                                          {"pad": 0, "stride": 1},
                                          pixel_scale=pixel_scale if layer == 1 else 1.0)
        A = relu_max_pool(Z, pool) if pool > 1 else np.maximum(Z, 0)  # (m, h, w, n_C) pooled
        caches.append((conv_cache, Z, A, pool))
    flat = A.reshape(A.shape[0], -1).T  # (n, m): each image's raveled row, column, channel
    if mask is not None:
        flat = flat * mask
    L = len(pools) + 1
    z = parameters[f"W{L}"] @ flat + parameters[f"b{L}"]  # (1, m)
    return z, (caches, flat, A.shape)


def backward(parameters: Parameters, dz: Array, cache: Cache, mask: Array | None = None, *,
             to_input: bool = False) -> tuple[dict[str, Array], Array | None]:
    """The gradients of sum(z dz), dz (1, m), summed over the images: {"dW1", "db1", ...}; or,
    to_input, the images' gradient (m, h, w, 3) alone (in images / pixel_scale's units)."""
    caches, flat, shape = cache
    L = len(caches) + 1
    grads: dict[str, Array] = {}
    if not to_input:
        grads[f"dW{L}"] = dz @ flat.T  # (1, n)
        grads[f"db{L}"] = dz.sum(axis=1, keepdims=True)
    dflat = parameters[f"W{L}"].T @ dz  # (n, m)
    if mask is not None:
        dflat = dflat * mask  # only the inputs the forward pass kept
    dA = dflat.T.reshape(shape)
    for layer in range(L - 1, 0, -1):
        conv_cache, Z, A, pool = caches[layer - 1]
        dZ = relu_max_pool_backward(dA, Z, A, pool) if pool > 1 else dA * (Z > 0)
        if not to_input:
            grads[f"dW{layer}"], grads[f"db{layer}"] = conv_filter_gradients(dZ, conv_cache)
        if layer > 1 or to_input:
            f, (h, w) = conv_cache.W.shape[0], Z.shape[1:3]
            top = (f - 1) // 2  # the padded input's gradient, without the padding
            dA = conv_input_gradient(dZ, conv_cache)[:, top:top + h, top:top + w, :]
    return grads, dA if to_input else None


def in_parts(work: Callable[[slice], T], m: int) -> list[T]:
    """work(part) for parts of IMAGES_A_PART images, in order, the parts dealt out to the cores
    as they free up (the same results on any number of cores)."""
    return on_cores(work, [slice(s, min(s + IMAGES_A_PART, m))
                           for s in range(0, m, IMAGES_A_PART)])


def propagate(parameters: Parameters, X: NDArray[Any], Y: NDArray[Any], l2: float = 0.0,
              dropout: tuple[float, np.random.RandomState] | None = None, *,
              pixel_scale: float = 1.0, pools: Sequence[int]
              ) -> tuple[float, dict[str, Array], Array]:
    """Cost, gradients and z (1, m) for one pass over the images of X (n_x, m), as
    nn.layers.propagate: cost = mean cross-entropy + l2/(2m) sum ||W||^2 (the b unpenalized),
    grads {"dW1": (f, f, 3, n_C), ...}; dropout = (keep_prob, rng) masks the dense input."""
    m, L = X.shape[1], len(pools) + 1
    images = images_of(X)
    mask = dropout_masks([(parameters[f"W{L}"].shape[1], m)], *dropout)[0] if dropout else None

    def part_sums(part: slice) -> tuple[Array, dict[str, Array]]:
        part_mask = None if mask is None else mask[:, part]
        z, cache = forward(parameters, pools, images[part], pixel_scale, part_mask)
        dz = sigmoid(z) - Y[:, part]  # (1, b): dJ/dz times m
        return z, backward(parameters, dz, cache, part_mask)[0]

    parts = in_parts(part_sums, m)
    z = np.concatenate([p[0] for p in parts], axis=1)  # (1, m)
    cost = float(log_loss(z, Y).sum()) / m
    weights = [key for key in parameters if key[0] == "W"]
    if l2:
        cost += l2 / (2 * m) * sum(float(np.sum(parameters[k] ** 2)) for k in weights)
    grads = {key: sum((p[1][key] for p in parts[1:]), parts[0][1][key]) / m
             for key in parts[0][1]}
    for key in weights if l2 else ():
        grads["d" + key] = grads["d" + key] + l2 / m * parameters[key]
    return cost, grads, z


def scores(model: Parameters, X: NDArray[Any], pixel_scale: float = 1.0) -> Array:
    """z (1, m) of the images of X (n_x, m), the forward pass alone, a part at a time; model:
    with_pools' dict."""
    parameters, pools = without_pools(model)
    images = images_of(X)
    parts = in_parts(lambda part: forward(parameters, pools, images[part], pixel_scale)[0],
                     X.shape[1])
    return np.concatenate(parts, axis=1) if parts else np.empty((1, 0))


def input_gradient(model: Parameters, X: Array) -> Array:
    """dz/dx (n_x, k) for each column x of X (n_x, k), in x's units; model: with_pools' dict."""
    parameters, pools = without_pools(model)
    images = images_of(X)

    def part_gradient(part: slice) -> Array:
        z, cache = forward(parameters, pools, images[part])
        dA = backward(parameters, np.ones_like(z), cache, to_input=True)[1]
        return np.asarray(dA).reshape(z.shape[1], -1)  # (b, n_x): raveled as the columns

    return np.concatenate(in_parts(part_gradient, X.shape[1]), axis=0).T
