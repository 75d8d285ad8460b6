"""Stage `report`: learning curve, mislabeled images, the weights, and reports/index.html."""

import base64
import html
import io
import json
import math
import sys
from pathlib import Path

from PIL import Image

from pipeline import config
from pipeline.cli import Parser, UserError
from pipeline.evaluate import check_same_data
from pipeline.features import load_features, unflatten, unstandardize
from pipeline.figures import (
    new_figure,
    plot_accuracies,
    plot_costs,
    png_bytes,
    show_signed_map,
)
from pipeline.files import read_json, write_bytes, write_text
from pipeline.model import THRESHOLD, predict_proba
from pipeline.train import load_params

FIGURES = ("learning_curve.png", "mislabeled.png", "mislabeled_train.png", "weights.png")


def learning_curve_png(params):
    fig, (cost_ax, acc_ax) = new_figure(1200, 450, ncols=2)
    plot_costs(cost_ax, params["iterations"], params["costs"])
    cost_ax.set_title(f"Learning rate = {float(params['learning_rate'])}")
    plot_accuracies(acc_ax, params["iterations"], params["train_accuracies"],
                    params["test_accuracies"])
    acc_ax.set_title("Train vs test accuracy (the gap is overfitting)")
    return png_bytes(fig)


def caption(index, true, predicted, p_cat, classes):
    return (f"#{index}  true: {classes[true]}\n"
            f"predicted: {classes[predicted]}  p({classes[1]}) = {p_cat:.2f}")


def mislabeled_png(cases, classes, title):
    """A grid of (index, image, true, predicted, p_cat) cases, pixels kept crisp."""
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


def weights_png(w, image_shape):
    fig, axes = new_figure(1300, 380, ncols=4)
    W = w.reshape(image_shape)  # (px, px, 3): w in the image's own layout
    for channel, name in enumerate(("red", "green", "blue")):
        show_signed_map(fig, axes[channel], W[:, :, channel], f"w, {name} channel")
    show_signed_map(fig, axes[3], W.sum(axis=2), "w, summed over channels")
    fig.suptitle("What the neuron looks for: red pixels push towards cat, blue away from it")
    return png_bytes(fig)


def thumbnail_uri(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; }
main { max-width: 1100px; margin: auto; padding: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
td, th { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }
th { background: #eee; }
img.figure { max-width: 100%; border: 1px solid #ddd; background: white; }
.gallery { display: flex; flex-wrap: wrap; gap: 12px; }
.gallery figure { margin: 0; width: 160px; font-size: 0.85em; }
.gallery img { width: 160px; height: 160px; image-rendering: pixelated; }
code { font-size: 0.85em; }
"""


def table(rows, header=None):
    head = "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>" \
        if header else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table>{head}{body}</table>"


def gallery(section_id, cases, classes):
    figures = []
    for index, image, true, predicted, p_cat in cases:
        text = html.escape(caption(index, true, predicted, p_cat, classes)).replace("\n", "<br>")
        figures.append(f'<figure><img src="{thumbnail_uri(image)}" alt="image {index}">'
                       f"<figcaption>{text}</figcaption></figure>")
    return f'<div class="gallery" id="{section_id}">{"".join(figures) or "none"}</div>'


def comparison_section(out_dir):
    summary = Path(out_dir) / "compare" / "summary.json"
    try:
        records = json.loads(summary.read_text(encoding="utf-8"))
        rows = [(r["learning_rate"], r["num_iterations"], f"{r['final_cost']:.6f}",
                 f"{r['train_accuracy']:.2f} %", f"{r['test_accuracy']:.2f} %") for r in records]
    except (OSError, ValueError, KeyError, TypeError):
        return "<p>No comparison yet: <code>make compare</code> trains one neuron per rate.</p>"
    return (table(rows, ("learning rate", "iterations", "final cost", "train", "test"))
            + '<p><img class="figure" src="compare/learning_rates.png" '
              'alt="learning curves for each learning rate"></p>'
            + '<p>Details: <a href="compare/summary.md">compare/summary.md</a>, '
              '<a href="compare/summary.json">compare/summary.json</a>.</p>')


def index_html(params, metrics, test_cases, train_cases, classes, out_dir):
    lr, n = float(params["learning_rate"]), int(params["num_iterations"])
    c = metrics["confusion_test"]
    run_rows = [("learning rate", lr), ("iterations", n), ("engine", str(params["engine"])),
                ("standardization", str(params["standardization"])),
                ("image shape", "x".join(str(int(s)) for s in params["image_shape"])),
                ("train data sha256", str(params["train_sha256"])),
                ("test data sha256", str(params["test_sha256"]))]
    accuracy_rows = [("train", f"{metrics['train_accuracy']} %", len(train_cases)),
                     ("test", f"{metrics['test_accuracy']} %", len(test_cases))]
    confusion_rows = [(f"true {classes[1]}", c["true_cat"], c["missed_cat"]),
                      (f"true {classes[0]}", c["false_cat"], c["true_non_cat"])]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>catvnoncat: lr {lr}, {n} iterations</title><style>{STYLE}</style></head>
<body><main>
<h1>Cat vs non-cat: one neuron</h1>
<p>Logistic regression trained by gradient descent from zeros, {n} iterations at learning rate
{lr}: train accuracy <strong>{metrics['train_accuracy']} %</strong>, test accuracy
<strong>{metrics['test_accuracy']} %</strong>.</p>
<h2>Run</h2>{table(run_rows)}
<h2>Accuracy</h2>{table(accuracy_rows, ("set", "accuracy", "mislabeled"))}
<h3>Test set, confusion counts</h3>
{table(confusion_rows, ("", f"predicted {classes[1]}", f"predicted {classes[0]}"))}
<h2>Learning curve</h2>
<p><img class="figure" src="learning_curve.png" alt="cost and accuracy against iterations"></p>
<h2>What the neuron looks for</h2>
<p><img class="figure" src="weights.png" alt="the weights w as images"></p>
<h2>Mislabeled test images ({len(test_cases)})</h2>
{gallery("mislabeled-test", test_cases, classes)}
<p>As one figure: <a href="mislabeled.png">mislabeled.png</a></p>
<h2>Mislabeled train images ({len(train_cases)})</h2>
{gallery("mislabeled-train", train_cases, classes)}
<p>As one figure: <a href="mislabeled_train.png">mislabeled_train.png</a></p>
<h2>Learning-rate comparison</h2>
{comparison_section(out_dir)}
</main></body></html>
"""


def mislabeled_cases(params, features, indices, split):
    """(index, image, true, predicted, p_cat) for each mislabeled image of a split."""
    X, Y = features[f"X_{split}"], features[f"Y_{split}"]
    images = unstandardize(unflatten(X[:, indices], features["image_shape"]))
    p_cat = predict_proba(params["w"], float(params["b"]), X[:, indices])[0]
    return [(i, image, int(Y[0, i]), int(p > THRESHOLD), float(p))
            for i, image, p in zip(indices, images, p_cat, strict=True)]


def load_inputs(params_path, metrics_path, features_path):
    params, features = load_params(params_path), load_features(features_path)
    check_same_data(params, features, params_path)
    metrics = read_json(metrics_path, "make train")
    needed = ("learning_rate", "num_iterations", "train_accuracy", "test_accuracy",
              "mislabeled_test", "mislabeled_train", "confusion_test")
    if not isinstance(metrics, dict) or any(key not in metrics for key in needed):
        raise UserError(f"{metrics_path} lacks what a report needs; run `make train` "
                        "to remake it")
    if (metrics["learning_rate"] != float(params["learning_rate"])
            or metrics["num_iterations"] != int(params["num_iterations"])):
        raise UserError(f"{metrics_path} is from another run than {params_path}; "
                        "run `make train` to remake it")
    test_idx, train_idx = metrics["mislabeled_test"], metrics["mislabeled_train"]
    return params, metrics, features, test_idx, train_idx


def write_report(params, metrics, features, test_idx, train_idx, out_dir):
    """Draw everything first, then write: a failure halfway leaves the old report whole."""
    classes = [str(c) for c in features["classes"]]
    test_cases = mislabeled_cases(params, features, test_idx, "test")
    train_cases = mislabeled_cases(params, features, train_idx, "train")
    pngs = {
        "learning_curve.png": learning_curve_png(params),
        "mislabeled.png": mislabeled_png(test_cases, classes, "Mislabeled test images"),
        "mislabeled_train.png": mislabeled_png(train_cases, classes, "Mislabeled train images"),
        "weights.png": weights_png(params["w"], tuple(features["image_shape"])),
    }
    page = index_html(params, metrics, test_cases, train_cases, classes, out_dir)
    for name, data in pngs.items():
        write_bytes(Path(out_dir) / name, data)
    write_text(Path(out_dir) / "index.html", page)  # last: it links the others
    return Path(out_dir) / "index.html"


def main(argv=None):
    parser = Parser(prog="python -m pipeline report", description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=config.PARAMS_FILE)
    parser.add_argument("--metrics", type=Path, default=config.METRICS_FILE)
    parser.add_argument("--features", type=Path, default=config.FEATURES_FILE)
    parser.add_argument("--out-dir", type=Path, default=config.REPORTS_DIR)
    args = parser.parse_args(argv)
    inputs = load_inputs(args.params, args.metrics, args.features)
    print(write_report(*inputs, args.out_dir))


def refresh_index(reports_dir):
    """Redraw an existing reports/index.html so that it links a new comparison or cross-validation.
    """
    if not (Path(reports_dir) / "index.html").exists():
        return
    try:
        write_report(*load_inputs(config.PARAMS_FILE, config.METRICS_FILE, config.FEATURES_FILE),
                     reports_dir)
    except UserError as err:
        print(f"note: index.html not refreshed ({err})", file=sys.stderr)
