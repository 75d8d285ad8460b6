"""A saved model: what params.npz holds, for every model, its checks on load, and its scores.

logistic keeps the lesson's w (n_x, 1) and b from the fit to the last score; a network keeps the
course's W1, b1, ..., WL, bL; the CNN its filters W1 (f, f, n_C_prev, n_C), b1 (1, 1, 1, n_C), ...
and its dense unit's WL (1, n), bL (1, 1), its pools in its settings' architecture. Each
carries the run's settings (every field of Settings), curves, data fingerprints and test counts
beside the weights.

Three names, three layouts, everywhere in the package:
- params: params.npz's dict, the weights and all the rest above;
- weights: a fit's weights alone, {"w", "b"} for the neuron, {"W1", "b1", ...} for a network;
- parameters: the course's layered layout {"W1", "b1", ...} its network functions take
  (network_parameters gives it for any model: the neuron is one layer, W1 = w.T).
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pipeline import config
from pipeline.artifacts.feature_file import Features
from pipeline.artifacts.files import Spec, StrPath, check_arrays, read_npz
from pipeline.columns import Columns, Indices, matmul, model_scores
from pipeline.errors import UserError, remake_hint
from pipeline.nn import cnn
from pipeline.nn.logistic import log_loss, predict_from_scores
from pipeline.settings import Settings, record_types
from pipeline.shapes import Array, Parameters

# params.npz as load_params returns it: arrays of several dtypes (float64 weights and curves,
# int settings, str names)
Params = dict[str, NDArray[Any]]

# dtype kind and shape of each setting's type (None: any length)
KIND_OF: dict[object, tuple[str, tuple[int | None, ...]]] = {
    str: ("U", ()), int: ("iu", ()), float: ("f", ()), tuple[int, ...]: ("iu", (None,))}
CURVES = ("iterations", "costs", "train_accuracies", "test_accuracies")
DATA_KEYS = ("standardization", "image_shape", "classes", "train_sha256", "test_sha256")
COMMON_SPEC: Spec = {  # dtype kinds and shapes, as params_record writes them
    **{key: KIND_OF[kind] for key, kind in record_types().items()}, "engine": ("U", ()),
    "iterations": ("iu", (None,)), "costs": ("f", (None,)), "train_accuracies": ("f", (None,)),
    "test_accuracies": ("f", (None,)), "standardization": ("U", ()), "image_shape": ("iu", (3,)),
    "classes": ("U", (2,)), "train_sha256": ("U", ()), "test_sha256": ("U", ()),
    "test_counts": ("iu", (3,)),
}


MAX_LAYERS = 20  # more layers than any run here makes: a bigger number is damage


def weight_spec(model: str, layer_dims: Sequence[int], architecture: str = "") -> Spec:
    """The weight arrays' names and shapes for this model and these layer sizes (the CNN: and
    its architecture, "4x8 p8 2x16 p4")."""
    if model == "logistic":
        return {"w": ("f", (layer_dims[0], 1)), "b": ("f", ())}
    spec: dict[str, tuple[str, tuple[int | None, ...]]] = {}
    if model == "cnn":
        blocks, n_C_prev = cnn.read_architecture(architecture), 3  # RGB
        for layer, (f, n_C, _) in enumerate(blocks, start=1):
            spec[f"W{layer}"] = ("f", (f, f, n_C_prev, n_C))
            spec[f"b{layer}"] = ("f", (1, 1, 1, n_C))
            n_C_prev = n_C
        spec[f"W{len(blocks) + 1}"] = ("f", (1, layer_dims[-2]))
        spec[f"b{len(blocks) + 1}"] = ("f", (1, 1))
        return spec
    for layer in range(1, len(layer_dims)):
        spec[f"W{layer}"] = ("f", (layer_dims[layer], layer_dims[layer - 1]))
        spec[f"b{layer}"] = ("f", (layer_dims[layer], 1))
    return spec


def remake(path: StrPath, why: str) -> UserError:
    return UserError(f"{path}: {why}; {remake_hint('make train')}")


def load_params(path: StrPath = config.PARAMS_FILE) -> Params:
    """params.npz as a dict, checked: every array's dtype and shape, layers that chain from the
    image's n_x to one output, finite weights, possible test counts."""
    p = read_npz(path, tuple(COMMON_SPEC), "make train")
    check_arrays(p, COMMON_SPEC, path, "make train")
    model, dims = str(p["model"]), [int(d) for d in p["layer_dims"]]
    shape, architecture = tuple(int(s) for s in p["image_shape"]), str(p["architecture"])
    if model not in config.MODELS:
        raise remake(path, f"unknown model {model!r}")
    if shape[2] != 3 or min(shape) < 1 or not 2 <= len(dims) <= 2 * MAX_LAYERS + 1 \
            or dims[0] != int(np.prod(shape)) or dims[-1] != 1 or min(dims) < 1 \
            or (model == "logistic") != (len(dims) == 2) \
            or (model != "cnn" and len(dims) > MAX_LAYERS + 1):
        raise remake(path, f"layers {dims} do not fit together: for images {shape} they must "
                     "run from the pixels to one output")
    if (model == "cnn") != bool(architecture) or model == "cnn" and not cnn_fits(
            architecture, dims, shape):
        raise remake(path, f"the architecture {architecture!r} does not fit its model {model} "
                     f"and layers {dims}")
    spec = weight_spec(model, dims, architecture)
    weights = read_npz(path, tuple(spec), "make train")
    check_arrays(weights, spec, path, "make train")
    if not all(np.isfinite(a).all() for a in weights.values()):
        raise remake(path, "its weights are not finite")
    p.update(weights)
    right, n, positives = (int(v) for v in p["test_counts"])
    if not (0 <= right <= n and 0 <= positives <= n and n >= 1):
        raise remake(path, f"test_counts {p['test_counts'].tolist()} are impossible")
    curves = {len(p[k]) for k in CURVES}
    if len(curves) != 1 or str(p["augment"]) not in config.AUGMENTS \
            or str(p["optimizer"]) not in config.OPTIMIZERS:
        raise remake(path, "its curves or settings do not fit together")
    if str(p["standardization"]) != config.STANDARDIZATION:
        raise remake(path, f"unknown standardization {p['standardization']}")
    return p


def cnn_fits(architecture: str, layer_dims: Sequence[int], image_shape: Sequence[int]) -> bool:
    """Whether a CNN's architecture reads, has at most MAX_LAYERS convolutions, and gives
    layer_dims on square images of image_shape."""
    try:
        blocks = cnn.read_architecture(architecture)
        return image_shape[0] == image_shape[1] and len(blocks) <= MAX_LAYERS and list(
            cnn.layer_sizes(blocks, layer_dims[0])) == list(layer_dims)
    except ValueError:
        return False


def params_record(weights: Mapping[str, ArrayLike], curves: Mapping[str, ArrayLike],
                  settings: Settings, engine: str, features: Features,
                  test_counts: Sequence[int]) -> Params:
    """What params.npz holds: the weights ({"w", "b"} or {"W1", "b1", ...}), the curves
    (iterations, costs, train_accuracies, test_accuracies), the settings (a Settings, every
    field) and the engine that ran them, the data's fingerprints, and test_counts [right,
    images, positives], so that the model says how far to trust it."""
    return {
        **{k: np.asarray(v, dtype=float) for k, v in weights.items()},
        **{k: np.asarray(curves[k]) for k in CURVES},
        **{k: np.array(v) for k, v in settings.record().items()}, "engine": np.array(engine),
        **{k: features[k] for k in DATA_KEYS},
        "test_counts": np.array(test_counts),
    }


def params_settings(params: Mapping[str, object]) -> Settings:
    """The Settings a params.npz (as load_params returns it) was trained with."""
    return Settings.from_record(params)


def run_params(run: Mapping[str, Any], j: int, features: Features
               ) -> tuple[Params, dict[str, Array]]:
    """params.npz's content for model j of a fit (engines.fit.train's run), and its scores
    {"train": Z (1, m), "test": Z (1, m_test)}: one pass over each split, which the run's
    test counts, its record and its metrics all read."""
    settings = replace(run["settings"], learning_rate=run["learning_rates"][j])
    weights = run["weights"][j]
    model = {"model": settings.model, "layer_dims": np.array(settings.layer_dims),
             "architecture": settings.architecture, **weights}
    Z_of = split_scores(model, features)
    right = int(np.sum(predict_from_scores(Z_of["test"]) == features["Y_test"]))
    test_counts = [right, features["Y_test"].size, int(features["Y_test"].sum())]
    curves = {k: run[k] if k == "iterations" else run[k][j] for k in CURVES}
    return params_record(weights, curves, settings, run["engine"], features, test_counts), Z_of


def network_parameters(params: Mapping[str, Any]) -> Parameters:
    """The weights in the course's layered layout {"W1": (n_1, n_x), "b1": (n_1, 1), ...}, for
    what draws or differentiates every model alike; one neuron is the one-layer case, W1 = w.T."""
    if str(params["model"]) == "logistic":
        return {"W1": params["w"].T, "b1": np.reshape(float(params["b"]), (1, 1))}
    if str(params["model"]) == "cnn":  # its weights, and its pools for whoever reads them
        blocks = cnn.read_architecture(str(params["architecture"]))
        weights = {f"{k}{layer}": params[f"{k}{layer}"] for layer in range(1, len(blocks) + 2)
                   for k in "Wb"}
        return cnn.with_pools(weights, [pool for _, _, pool in blocks])
    layers = range(1, len(params["layer_dims"]))
    return {f"{k}{layer}": params[f"{k}{layer}"] for layer in layers for k in "Wb"}


def scores(params: Mapping[str, Any], X: Columns, idx: Indices | None = None) -> Array:
    """z of the last layer, (1, m), for the columns idx (default all) of X (n_x, m): w.T X + b
    for one neuron, the forward pass for a network."""
    if str(params["model"]) == "logistic":
        return matmul(params["w"].T, X, idx) + float(params["b"])
    return model_scores(network_parameters(params), X, idx)


def split_scores(params: Mapping[str, Any], features: Features) -> dict[str, Array]:
    """{"train": Z (1, m), "test": Z (1, m_test)}: the model's scores on each split."""
    return {split: scores(params, features[f"X_{split}"]) for split in ("train", "test")}


def cost_of_scores(params: Mapping[str, Any], Z: Array, Y: Array, l2: float = 0.0) -> float:
    """The mean cross-entropy of the model's scores Z (1, m) of the columns whose labels are
    Y (1, m), plus l2/(2m) times the sum of every weight's square (biases not penalized)."""
    parameters = network_parameters(params)  # the neuron's W1 is w.T
    penalty = sum(float(np.sum(parameters[k] ** 2)) for k in parameters if k[0] == "W")
    m: int = Y.shape[1]
    return float(np.mean(log_loss(Z, Y))) + l2 / (2 * m) * penalty
