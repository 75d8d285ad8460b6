"""The run's section of the page: its numbers and what they mean, the galleries, and the model
embedded for the photo classifier. HTML only; report.py draws the figures and writes the set."""

import base64
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from pipeline.artifacts.feature_file import Features, is_course_data
from pipeline.artifacts.params import Params, network_parameters, params_settings
from pipeline.columns import pixels_of
from pipeline.evaluation.stats import not_significant_sentence, percent
from pipeline.nn import cnn
from pipeline.nn.logistic import THRESHOLD
from pipeline.page.sections import (
    Case,
    fill,
    gallery,
    meaning,
    number,
    p_value,
    page_file,
    table,
    thumbnail_uri,
    verdict_box,
)

MODEL_NAMES = {"logistic": "one neuron", "two-layer": "a two-layer network",
               "l-layer": "an L-layer network", "cnn": "a convolutional network"}


MODEL_DESCRIPTIONS = {  # {layers}: the layer sizes, "12288 -> 1"; {start}: START_NAMES'
    "logistic": "Logistic regression ({layers}) trained from zeros",
    "two-layer": "The course's two-layer network ({layers}: LINEAR->RELU->LINEAR->SIGMOID) "
                 "trained from {start}",
    "l-layer": "The course's L-layer network ({layers}: LINEAR->RELU layers, then "
               "LINEAR->SIGMOID) trained from {start}",
    "cnn": "The course's convolutional network ({architecture}: CONV->RELU->MAXPOOL blocks, "
           "flattened, then LINEAR->SIGMOID; {layers} values layer by layer) trained from "
           "{start}",
}
START_NAMES = {"course": "its seed-1 start", "he": "He's seed-1 start"}  # by the run's init


WEIGHTS_HEADINGS = {"logistic": "What the neuron looks for",
                    "cnn": "What the first convolution's filters look for"}
SCORED = {  # how the page's script scores a photo, after "then scored as in training:"
    "logistic": "z = w.x + b",
    "two-layer": "each hidden layer relu(W a + b), then z = W a + b of the last",
    "cnn": "each convolution (stride 1, zero-padded to keep the size) with its ReLU and max-pool, "
           "the result flattened row, column, channel, then z = W a + b",
}

Metrics = Mapping[str, Any]  # metrics.json, as evaluation.metrics computes it


def run_summary(params: Params) -> str:
    """'2500 iterations at learning rate 0.0075, dropout keep_prob 0.86': the lead's second
    half, after model_description, which names the start (so it is not named again here)."""
    n, optimizer, l2 = int(params["num_iterations"]), str(params["optimizer"]), float(params["l2"])
    steps = f"{n} iterations" if optimizer == "gd" else (
        f"{int(params['num_epochs'])} epochs of {optimizer} on batches of "
        f"{int(params['mini_batch_size'])} ({n} steps)")
    tools = replace(params_settings(params), init="course").second_course_text()
    return "".join([f"{steps} at learning rate {float(params['learning_rate'])}",
                    f", L2 lambda {l2}" if l2 else "",
                    ", with mirrored images" if str(params["augment"]) == "flip" else "", tools])


def model_description(params: Params) -> str:
    """The page's lead: which model, its layers and where it started."""
    return MODEL_DESCRIPTIONS[str(params["model"])].format(
        layers=" -> ".join(str(int(d)) for d in params["layer_dims"]),
        architecture=str(params.get("architecture", "")),
        start=START_NAMES[params_settings(params).init])


def float64_json(W: np.ndarray) -> dict[str, Any]:
    """W as the page's script reads it: base64 of its little-endian float64 values in C order
    (exact, and 4/3 of 8 bytes a value), and its shape."""
    W = np.ascontiguousarray(W, dtype="<f8")
    return {"W_base64": base64.b64encode(W.tobytes()).decode("ascii"), "shape": list(W.shape)}


def same_padding(f: int) -> list[int]:
    """[before, after]: the zeros cnn.same_padded puts around an image for an f x f filter, read
    from same_padded itself (one pixel's place in its padded copy), so the page pads as it."""
    padded = cnn.same_padded(np.ones((1, 1, 1, 1)), f)[0, :, :, 0]  # (f, f)
    before = int(np.flatnonzero(padded.any(axis=1))[0])
    return [before, len(padded) - 1 - before]


def cnn_layers(params: Params) -> list[dict[str, Any]]:
    """A CNN's layers for the page: each convolution's W (f, f, n_C_prev, n_C), b (n_C,), its
    'same' padding and the max-pool after it (1: none; stride = window), then the dense unit."""
    weights, pools = cnn.without_pools(network_parameters(params))
    layers: list[dict[str, Any]] = [
        {**float64_json(weights[f"W{layer}"]), "b": weights[f"b{layer}"].ravel().tolist(),
         "kind": "conv", "stride": 1, "pad": same_padding(weights[f"W{layer}"].shape[0]),
         "pool": pool} for layer, pool in enumerate(pools, start=1)]
    L = len(pools) + 1
    return [*layers, {**float64_json(weights[f"W{L}"]), "b": weights[f"b{L}"][:, 0].tolist(),
                      "kind": "dense"}]


def model_json(params: Params, classes: Sequence[str]) -> str:
    """The model as the page's script reads it: its layers in order, each W as float64_json and b;
    then the image shape, the class names and the threshold. A dense layer's W is (n_out, n_in),
    row by row; hidden layers are ReLU, the last is the sigmoid; one neuron is the one-layer case,
    W = w.T. A CNN's convolutions come first (cnn_layers). Safe inside <script>: "<" is escaped,
    so no name can close the element."""
    if str(params["model"]) == "cnn":
        layers = cnn_layers(params)
    else:
        weights = network_parameters(params)
        layers = [{**float64_json(weights[f"W{layer}"]), "b": weights[f"b{layer}"][:, 0].tolist(),
                   "kind": "dense"} for layer in range(1, len(weights) // 2 + 1)]
    return json.dumps({"layers": layers, "image_shape": [int(s) for s in params["image_shape"]],
                       "classes": classes, "threshold": THRESHOLD}).replace("<", "\\u003c")


def stats_table(metrics: Metrics, classes: Sequence[str], exact: bool) -> str:
    """Train, test, and test without its duplicates of training images, side by side."""
    columns = [("train", metrics["train_accuracy"], metrics["train_stats"]),
               ("test", metrics["test_accuracy"], metrics["test_stats"])]
    without = metrics["test_stats_without_duplicates"]
    if metrics["test_duplicates_of_train"] and without:
        columns.append(("test without duplicates", without["accuracy"], without))
    rows = [
        ("images", *(s["n"] for _, _, s in columns)),
        ("accuracy", *(percent(a, exact) for _, a, _ in columns)),
        ("95 % interval (exact)", *(f"{s['accuracy_ci95'][0]:.1f}-{s['accuracy_ci95'][1]:.1f} %"
                                    for _, _, s in columns)),
        ("always answering the larger class", *(
            f"{s['no_information_rate']:.1f} % ({classes[s['majority_label']]})"
            for _, _, s in columns)),
        ("p-value, accuracy > that", *(p_value(s["p_value_vs_nir"]) for _, _, s in columns)),
        ("kappa", *(number(s["kappa"]) for _, _, s in columns)),
        (f"precision ({classes[1]})", *(number(s["precision"]) for _, _, s in columns)),
        (f"recall ({classes[1]})", *(number(s["recall"]) for _, _, s in columns)),
        ("F1", *(number(s["f1"]) for _, _, s in columns)),
        ("ROC AUC", *(number(s["roc_auc"]) for _, _, s in columns)),
        ("log-loss", *(number(s["log_loss"]) for _, _, s in columns)),
    ]
    return table(rows, ("", *(name for name, _, _ in columns)))


def duplicates_note(metrics: Metrics, features: Features, exact: bool) -> str:
    pairs = metrics["test_duplicates_of_train"]
    if not pairs:
        return "<p>No test image is pixel for pixel a training image.</p>"
    images = pixels_of(features["X_test"], [i for i, _ in pairs]).reshape(
        -1, *features["image_shape"])
    names = "; ".join(f"test image {i} is pixel for pixel train image {j}" for i, j in pairs)
    without = metrics["test_stats_without_duplicates"]
    after = "" if not without else (
        f" Without {'it' if len(pairs) == 1 else 'them'}, the test accuracy is "
        f"{percent(without['accuracy'], exact)} ({without['correct']} of {without['n']}).")
    thumbnails = "".join(f'<figure><img src="{thumbnail_uri(image)}" alt="test image {i}">'
                         f"<figcaption>test {i} = train {j}</figcaption></figure>"
                         for image, (i, j) in zip(images, pairs, strict=True))
    return (f'<p id="duplicates">{html.escape(names[0].upper() + names[1:])}: '
            f"{'its answer is' if len(pairs) == 1 else 'their answers are'} remembered, not "
            f"tested.{html.escape(after)}</p>"
            f'<div class="gallery" id="duplicate-images">{thumbnails}</div>')


def gallery_title(split: str, shown: int, total: int) -> str:
    return f"Mislabeled {split} images" + ("" if shown == total else
                                           f": the {shown} most confident of {total}")


def shown_note(shown: int, total: int) -> str:
    return (f"The {shown} most confident mistakes of {total} (p farthest from 0.5); every one is "
            "listed in mislabeled.csv." if shown < total else "Every mistake, also listed in "
            "mislabeled.csv.")


def run_fragment(params: Params, metrics: Metrics, features: Features, test_cases: Sequence[Case],
                 train_cases: Sequence[Case], classes: Sequence[str]) -> str:
    """The run's section of the page: the numbers, what they mean, the photo classifier."""
    c = metrics["confusion_test"]
    run_rows = [(label, list(value) if isinstance(value, tuple) else value)
                for label, value in params_settings(params).shown()]
    run_rows += [("engine", str(params["engine"])),
                 ("standardization", str(params["standardization"])),
                 ("image shape", "x".join(str(int(s)) for s in params["image_shape"])),
                 ("classes (0, 1)", ", ".join(classes)),
                 ("train data sha256", str(params["train_sha256"])),
                 ("test data sha256", str(params["test_sha256"]))]
    exact = is_course_data(params)
    accuracy_rows = [(split, percent(metrics[f"{split}_accuracy"], exact),
                      len(metrics[f"mislabeled_{split}"])) for split in ("train", "test")]
    confusion_rows = [(f"true {classes[1]}", c["true_cat"], c["missed_cat"]),
                      (f"true {classes[0]}", c["false_cat"], c["true_non_cat"])]
    sentence = not_significant_sentence(metrics["test_stats"], classes, "test")
    if sentence:
        noun = "neuron" if str(params["model"]) == "logistic" else "network"
        sentence += (f" With {metrics['test_stats']['n']} test images, this {noun} cannot be "
                     "told apart from that guess.")
    return fill(page_file("run.html"), {
        "heading": html.escape(f"{classes[1][:1].upper()}{classes[1][1:]} vs {classes[0]}: "
                               + MODEL_NAMES[str(params["model"])]),
        "model_description": html.escape(model_description(params)),
        "run_summary": html.escape(run_summary(params)),
        "train_accuracy": percent(metrics["train_accuracy"], exact),
        "test_accuracy": percent(metrics["test_accuracy"], exact),
        "test_meaning": meaning(metrics["test_stats"], classes),
        "test_verdict": verdict_box(sentence),
        "run_table": table(run_rows),
        "accuracy_table": table(accuracy_rows, ("set", "accuracy", "mislabeled")),
        "confusion_table": table(confusion_rows,
                                 ("", f"predicted {classes[1]}", f"predicted {classes[0]}")),
        "stats_table": stats_table(metrics, classes, exact),
        "image_size": "x".join(str(int(s)) for s in params["image_shape"][:2]),
        "trust": html.escape(f"On the {metrics['test_stats']['n']} test images it was right "
                             f"{percent(metrics['test_accuracy'], exact)} of the time "
                             + meaning(metrics["test_stats"], classes, escape=False) + "."),
        "model": model_json(params, classes),
        "duplicates": duplicates_note(metrics, features, exact),
        "positive": html.escape(classes[1]),
        "weights_heading": WEIGHTS_HEADINGS.get(str(params["model"]),
                                                "What the first layer's units look for"),
        "weights_alt": "the first convolution's filters as images"
        if str(params["model"]) == "cnn" else "the first layer's weights as images",
        "scored": SCORED.get(str(params["model"]), SCORED["two-layer"]),
        "test_mislabeled_count": len(metrics["mislabeled_test"]),
        "train_mislabeled_count": len(metrics["mislabeled_train"]),
        "test_shown": html.escape(shown_note(len(test_cases), len(metrics["mislabeled_test"]))),
        "train_shown": html.escape(shown_note(len(train_cases),
                                              len(metrics["mislabeled_train"]))),
        "test_gallery": gallery("mislabeled-test", test_cases, classes),
        "train_gallery": gallery("mislabeled-train", train_cases, classes),
    })
