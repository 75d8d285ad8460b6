"""What params.npz holds, for every model, and what any stage asks of it: the scores z.

logistic keeps the lesson's w (n_x, 1) and b; a network keeps the course's W1, b1, ..., WL, bL.
Both carry the run's settings, curves, data fingerprints and test counts beside the weights.
"""

import numpy as np

from pipeline import config
from pipeline.artifacts.files import check_arrays, read_npz
from pipeline.columns import model_scores, times
from pipeline.errors import UserError
from pipeline.nn.logistic import log_loss, predict_from_scores

COMMON_SPEC = {  # dtype kinds and shapes, as params_record writes them (None: any length)
    "model": ("U", ()), "layer_dims": ("iu", (None,)),
    "learning_rate": ("f", ()), "num_iterations": ("iu", ()), "l2": ("f", ()),
    "augment": ("U", ()), "engine": ("U", ()), "optimizer": ("U", ()),
    "mini_batch_size": ("iu", ()), "num_epochs": ("iu", ()), "beta1": ("f", ()),
    "beta2": ("f", ()),
    "iterations": ("iu", (None,)), "costs": ("f", (None,)), "train_accuracies": ("f", (None,)),
    "test_accuracies": ("f", (None,)), "standardization": ("U", ()), "image_shape": ("iu", (3,)),
    "classes": ("U", (2,)), "train_sha256": ("U", ()), "test_sha256": ("U", ()),
    "test_counts": ("iu", (3,)),
}


MAX_LAYERS = 20  # more layers than any run here makes: a bigger number is damage


def weight_spec(model, layer_dims):
    """The weight arrays' names and shapes for this model and these layer sizes."""
    if model == "logistic":
        return {"w": ("f", (layer_dims[0], 1)), "b": ("f", ())}
    spec = {}
    for layer in range(1, len(layer_dims)):
        spec[f"W{layer}"] = ("f", (layer_dims[layer], layer_dims[layer - 1]))
        spec[f"b{layer}"] = ("f", (layer_dims[layer], 1))
    return spec


def remake(path, why):
    return UserError(f"{path}: {why}; run `make train` to remake it")


def load_params(path=config.PARAMS_FILE):
    """params.npz as a dict, checked: every array's dtype and shape, layers that chain from the
    image's n_x to one output, finite weights, possible test counts."""
    p = read_npz(path, tuple(COMMON_SPEC), "make train")
    check_arrays(p, COMMON_SPEC, path, "make train")
    model, dims = str(p["model"]), [int(d) for d in p["layer_dims"]]
    shape = tuple(int(s) for s in p["image_shape"])
    if model not in config.MODELS:
        raise remake(path, f"unknown model {model!r}")
    if shape[2] != 3 or min(shape) < 1 or not 2 <= len(dims) <= MAX_LAYERS + 1 \
            or dims[0] != int(np.prod(shape)) or dims[-1] != 1 or min(dims) < 1 \
            or (model == "logistic") != (len(dims) == 2):
        raise remake(path, f"layers {dims} do not fit together: for images {shape} they must "
                     "run from the pixels to one output")
    spec = weight_spec(model, dims)
    weights = read_npz(path, tuple(spec), "make train")
    check_arrays(weights, spec, path, "make train")
    if not all(np.isfinite(a).all() for a in weights.values()):
        raise remake(path, "its weights are not finite")
    p.update(weights)
    right, n, positives = (int(v) for v in p["test_counts"])
    if not (0 <= right <= n and 0 <= positives <= n and n >= 1):
        raise remake(path, f"test_counts {p['test_counts'].tolist()} are impossible")
    curves = {len(p[k]) for k in ("iterations", "costs", "train_accuracies", "test_accuracies")}
    if len(curves) != 1 or str(p["augment"]) not in config.AUGMENTS \
            or str(p["optimizer"]) not in config.OPTIMIZERS:
        raise remake(path, "its curves or settings do not fit together")
    if str(p["standardization"]) != config.STANDARDIZATION:
        raise remake(path, f"unknown standardization {p['standardization']}")
    return p


def network_parameters(params):
    """The weights in the course's layered layout {"W1": (n_1, n_x), "b1": (n_1, 1), ...}; one
    neuron is the one-layer case, W1 = w.T."""
    if str(params["model"]) == "logistic":
        return {"W1": params["w"].T, "b1": np.reshape(float(params["b"]), (1, 1))}
    return {k: params[k] for k in weight_spec(str(params["model"]), params["layer_dims"])}


def scores(params, X, idx=None):
    """z of the last layer, (1, m), for the columns idx (default all) of X (n_x, m) (an array or
    PixelColumns, read by blocks): w.T X + b for one neuron."""
    if str(params["model"]) == "logistic":
        return times(params["w"].T, X, idx) + float(params["b"])
    return model_scores(network_parameters(params), X, idx)


def cost(params, X, Y, l2=0.0):
    """The mean cross-entropy, plus l2/(2m) times the sum of every W's squares."""
    weights = network_parameters(params)
    penalty = sum(float(np.sum(weights[k] ** 2)) for k in weights if k.startswith("W"))
    return float(np.mean(log_loss(scores(params, X), Y))) + l2 / (2 * X.shape[1]) * penalty


def params_record(weights, curves, features, settings):
    """What params.npz holds: the weights ({"w", "b"} or {"W1", "b1", ...}), the curves
    (iterations, costs, train_accuracies, test_accuracies), the settings (model, layer_dims,
    learning_rate, num_iterations, l2, augment, engine, optimizer, mini_batch_size, num_epochs,
    beta1, beta2), the data's fingerprints, and
    test_counts [right, images, positives], so that the model says how far to trust it."""
    record = {
        **{k: np.asarray(v, dtype=float) for k, v in weights.items()},
        **{k: np.asarray(curves[k]) for k in ("iterations", "costs", "train_accuracies",
                                              "test_accuracies")},
        "model": np.array(settings["model"]), "layer_dims": np.array(settings["layer_dims"]),
        "learning_rate": np.array(float(settings["learning_rate"])),
        "num_iterations": np.array(int(settings["num_iterations"])),
        "l2": np.array(float(settings["l2"])), "augment": np.array(settings["augment"]),
        "engine": np.array(settings["engine"]),
        **{k: np.array(settings[k]) for k in ("optimizer", "mini_batch_size", "num_epochs",
                                              "beta1", "beta2")},
        **{k: features[k] for k in ("standardization", "image_shape", "classes",
                                   "train_sha256", "test_sha256")},
    }
    Y_test = features["Y_test"]
    predicted = predict_from_scores(scores(record, features["X_test"]))  # (1, m_test)
    right = int(np.sum(predicted == Y_test))
    record["test_counts"] = np.array([right, Y_test.size, int(Y_test.sum())])
    return record
