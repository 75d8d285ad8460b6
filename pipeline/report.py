"""Stage `report`: learning curve, mislabeled images, the weights, and reports/index.html."""

import base64
import html
import io
import json
import math
import re
import sys
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline import config
from pipeline.cli import Parser, UserError, short_reason
from pipeline.evaluate import check_same_data
from pipeline.evaluate import metrics as evaluation_metrics
from pipeline.features import load_features, unflatten, unstandardize
from pipeline.figures import (
    literal,
    new_figure,
    plot_accuracies,
    plot_costs,
    png_bytes,
    show_signed_map,
)
from pipeline.files import read_json, write_bytes, write_text
from pipeline.model import THRESHOLD, predict_proba, sigmoid
from pipeline.stats import calibration_curve, not_significant_sentence, roc_auc, roc_curve
from pipeline.train import load_params

FIGURES = ("learning_curve.png", "evaluation.png", "mislabeled.png", "mislabeled_train.png",
           "weights.png")


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


def weights_png(w, image_shape, classes):
    fig, axes = new_figure(1300, 380, ncols=4)
    W = w.reshape(image_shape)  # (px, px, 3): w in the image's own layout
    for channel, name in enumerate(("red", "green", "blue")):
        show_signed_map(fig, axes[channel], W[:, :, channel], f"w, {name} channel")
    show_signed_map(fig, axes[3], W.sum(axis=2), "w, summed over channels")
    fig.suptitle(f"What the neuron looks for: red pixels push towards {classes[1]}, "
                 "blue away from it")
    return png_bytes(fig)


def thumbnail_uri(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


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


def unreadable(path, err, make_hint):
    return (f"<p>{html.escape(str(path))} is unreadable ({html.escape(short_reason(err))}): "
            f"<code>{make_hint}</code> remakes it.</p>")


def comparison_section(out_dir):
    summary = Path(out_dir) / "compare" / "summary.json"
    try:
        records = json.loads(summary.read_text(encoding="utf-8"))
        rows = [(r["learning_rate"], r["num_iterations"], f"{r['final_cost']:.6f}",
                 f"{r['train_accuracy']:.2f} %", f"{r['test_accuracy']:.2f} %",
                 "{:.1f}-{:.1f} %".format(*r["test_accuracy_ci95"])) for r in records]
    except FileNotFoundError:
        return "<p>No comparison yet: <code>make compare</code> trains one neuron per rate.</p>"
    except Exception as err:  # a damaged optional summary must not stop the report
        return unreadable(summary, err, "make compare")
    return (table(rows, ("learning rate", "iterations", "final cost", "train", "test",
                         "test, 95 % interval"))
            + '<p><img class="figure" src="compare/learning_rates.png" '
              'alt="learning curves for each learning rate"></p>'
            + '<p>Details: <a href="compare/summary.md">compare/summary.md</a>, '
              '<a href="compare/summary.json">compare/summary.json</a>.</p>')


def page_file(name):
    """One of the page's own files (pipeline/page/NAME), as text."""
    return (resources.files("pipeline") / "page" / name).read_text(encoding="utf-8")


def fill(template, values):
    """The template with every {{key}} replaced by its value (HTML the caller made safe), in one
    pass: a value that itself holds "{{...}}" (a class name, say) is left as it is."""
    missing = set(re.findall(r"\{\{(\w+)\}\}", template)) - set(values)
    assert not missing, f"the page template has no value for {', '.join(sorted(missing))}"
    return re.sub(r"\{\{(\w+)\}\}", lambda match: str(values[match.group(1)]), template)


def model_json(params, classes):
    """The neuron as the page's script reads it: w as base64 of little-endian float64 (exact,
    and 4/3 of 8 bytes a weight), b, the image shape, the class names and the threshold. Safe
    inside <script>: "<" is escaped, so no name can close the element."""
    w = np.ascontiguousarray(params["w"][:, 0], dtype="<f8")  # (n_x,)
    return json.dumps({"w_base64": base64.b64encode(w.tobytes()).decode("ascii"),
                       "b": float(params["b"]),
                       "image_shape": [int(s) for s in params["image_shape"]],
                       "classes": classes, "threshold": THRESHOLD}).replace("<", "\\u003c")


def number(value, digits=3):
    return "n/a" if value is None else f"{value:.{digits}f}"


def p_value(value):
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def meaning(stats, classes, escape=True):
    """'(95 % interval 55.4-82.1 %; always answering "cat": 66.0 %)', as HTML unless told."""
    low, high = stats["accuracy_ci95"]
    text = (f"(95 % interval {low:.1f}-{high:.1f} %; always answering "
            f"\"{classes[stats['majority_label']]}\": {stats['no_information_rate']:.1f} %)")
    return html.escape(text) if escape else text


def stats_table(metrics, classes):
    """Train, test, and test without its duplicates of training images, side by side."""
    columns = [("train", metrics["train_accuracy"], metrics["train_stats"]),
               ("test", metrics["test_accuracy"], metrics["test_stats"])]
    without = metrics["test_stats_without_duplicates"]
    if metrics["test_duplicates_of_train"] and without:
        columns.append(("test without duplicates", without["accuracy"], without))
    rows = [
        ("images", *(s["n"] for _, _, s in columns)),
        ("accuracy", *(f"{a} %" for _, a, _ in columns)),
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


def duplicates_note(metrics, features):
    pairs = metrics["test_duplicates_of_train"]
    if not pairs:
        return "<p>No test image is pixel for pixel a training image.</p>"
    images = unstandardize(unflatten(features["X_test"][:, [i for i, _ in pairs]],
                                     features["image_shape"]))
    names = "; ".join(f"test image {i} is pixel for pixel train image {j}" for i, j in pairs)
    without = metrics["test_stats_without_duplicates"]
    after = "" if not without else (
        f" Without {'it' if len(pairs) == 1 else 'them'}, the test accuracy is "
        f"{without['accuracy']} % ({without['correct']} of {without['n']}).")
    thumbnails = "".join(f'<figure><img src="{thumbnail_uri(image)}" alt="test image {i}">'
                         f"<figcaption>test {i} = train {j}</figcaption></figure>"
                         for image, (i, j) in zip(images, pairs, strict=True))
    return (f'<p id="duplicates">{html.escape(names[0].upper() + names[1:])}: '
            f"{'its answer is' if len(pairs) == 1 else 'their answers are'} remembered, not "
            f"tested.{html.escape(after)}</p>"
            f'<div class="gallery" id="duplicate-images">{thumbnails}</div>')


def verdict_box(sentence):
    return f'<p class="verdict" id="verdict">{html.escape(sentence)}</p>' if sentence else ""


def cross_validation_section(out_dir):
    summary_path = Path(out_dir) / "cv" / "summary.json"
    try:
        from pipeline.cv import closing_lines, table_rows  # numpy only; cv imports no report

        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        rows = table_rows(summary)
        lines = [" ".join(line.split()) for line in closing_lines(summary)]
    except FileNotFoundError:
        return ("<p>Not yet: <code>make cv</code> chooses the learning rate and the number of "
                "iterations by cross-validation on the training set alone, then looks at the "
                "test set once.</p>")
    except Exception as err:  # a damaged optional summary must not stop the report
        return unreadable(summary_path, err, "make cv")
    head = (f"<p>{summary['folds']}-fold cross-validation repeated {summary['repeats']} times "
            f"on the {summary['m_train']} training images; the test set chose nothing.</p>")
    return (head + verdict_box(lines[0])
            + table(rows, ("setting", "best at (iterations)", "validation accuracy, mean ± sd",
                           "validation log-loss"))
            + "".join(f"<p>{html.escape(line)}</p>" for line in lines[1:])
            + '<p><img class="figure" src="cv/cv.png" alt="validation accuracy against '
              'iterations per learning rate"></p>'
            + '<p>Details: <a href="cv/summary.md">cv/summary.md</a>, '
              '<a href="cv/summary.json">cv/summary.json</a>.</p>')


def index_html(params, metrics, features, test_cases, train_cases, classes, out_dir):
    lr, n = float(params["learning_rate"]), int(params["num_iterations"])
    l2, augment = float(params["l2"]), str(params["augment"])
    c = metrics["confusion_test"]
    run_rows = [("learning rate", lr), ("iterations", n), ("L2 lambda", l2),
                ("augmentation", augment), ("engine", str(params["engine"])),
                ("standardization", str(params["standardization"])),
                ("image shape", "x".join(str(int(s)) for s in params["image_shape"])),
                ("classes (0, 1)", ", ".join(classes)),
                ("train data sha256", str(params["train_sha256"])),
                ("test data sha256", str(params["test_sha256"]))]
    accuracy_rows = [("train", f"{metrics['train_accuracy']} %", len(train_cases)),
                     ("test", f"{metrics['test_accuracy']} %", len(test_cases))]
    confusion_rows = [(f"true {classes[1]}", c["true_cat"], c["missed_cat"]),
                      (f"true {classes[0]}", c["false_cat"], c["true_non_cat"])]
    extras = "".join([f", L2 lambda {l2}" if l2 else "",
                      ", with mirrored images" if augment == "flip" else ""])
    sentence = not_significant_sentence(metrics["test_stats"], classes, "test")
    if sentence:
        sentence += (f" With {metrics['test_stats']['n']} test images, this neuron cannot be "
                     "told apart from that guess.")
    return fill(page_file("index.html"), {
        "title": html.escape(f"catvnoncat: lr {lr}, {n} iterations"),
        "heading": html.escape(f"{classes[1][:1].upper()}{classes[1][1:]} vs {classes[0]}: "
                               "one neuron"),
        "style": page_file("style.css"),
        "run_summary": html.escape(f"{n} iterations at learning rate {lr}{extras}"),
        "train_accuracy": f"{metrics['train_accuracy']} %",
        "test_accuracy": f"{metrics['test_accuracy']} %",
        "test_meaning": meaning(metrics["test_stats"], classes),
        "test_verdict": verdict_box(sentence),
        "run_table": table(run_rows),
        "accuracy_table": table(accuracy_rows, ("set", "accuracy", "mislabeled")),
        "confusion_table": table(confusion_rows,
                                 ("", f"predicted {classes[1]}", f"predicted {classes[0]}")),
        "stats_table": stats_table(metrics, classes),
        "image_size": "x".join(str(int(s)) for s in params["image_shape"][:2]),
        "trust": html.escape(f"On the {metrics['test_stats']['n']} test images it was right "
                             f"{metrics['test_accuracy']} % of the time "
                             + meaning(metrics["test_stats"], classes, escape=False) + "."),
        "model": model_json(params, classes),
        "script": page_file("classify.js"),
        "duplicates": duplicates_note(metrics, features),
        "positive": html.escape(classes[1]),
        "test_mislabeled_count": len(test_cases),
        "train_mislabeled_count": len(train_cases),
        "test_gallery": gallery("mislabeled-test", test_cases, classes),
        "train_gallery": gallery("mislabeled-train", train_cases, classes),
        "comparison": comparison_section(out_dir),
        "cross_validation": cross_validation_section(out_dir),
    })


def evaluation_png(params, features, classes):
    """ROC curves (train and test) and a reliability diagram: how far to trust p(cat)."""
    fig, (roc_ax, reliability_ax) = new_figure(1200, 450, ncols=2)
    w, b = params["w"], float(params["b"])
    for split in ("train", "test"):
        X, Y = features[f"X_{split}"], features[f"Y_{split}"]
        Z = w.T @ X + b  # (1, m)
        fpr, tpr = roc_curve(Z, Y)
        auc = roc_auc(Z, Y)
        roc_ax.plot(fpr, tpr, label=f"{split} (AUC {number(auc)})")
        mean_p, share, counts = calibration_curve(sigmoid(Z), Y, n_bins=10)
        line, = reliability_ax.plot(mean_p, share, linewidth=1, label=split)
        reliability_ax.scatter(mean_p, share, s=12 * counts, alpha=0.6, color=line.get_color())
    for ax in (roc_ax, reliability_ax):
        ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=1)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    roc_ax.set_title(f"ROC: {classes[1]} ranked above {classes[0]}? (diagonal: guessing)")
    roc_ax.set_xlabel(f"false positive rate ({classes[0]} called {classes[1]})")
    roc_ax.set_ylabel(f"true positive rate ({classes[1]} found)")
    reliability_ax.set_title(f"Reliability: is p({classes[1]}) right that often? "
                             "(area: images per bin)")
    reliability_ax.set_xlabel(f"predicted p({classes[1]}), mean per bin of 0.1")
    reliability_ax.set_ylabel(f"share that are {classes[1]}")
    return png_bytes(fig)


def mislabeled_cases(params, features, indices, split):
    """(index, image, true, predicted, p_cat) for each mislabeled image of a split."""
    X, Y = features[f"X_{split}"], features[f"Y_{split}"]
    images = unstandardize(unflatten(X[:, indices], features["image_shape"]))
    p_cat = predict_proba(params["w"], float(params["b"]), X[:, indices])[0]
    return [(i, image, int(Y[0, i]), int(p > THRESHOLD), float(p))
            for i, image, p in zip(indices, images, p_cat, strict=True)]


def same_numbers(a, b, rel=1e-9):
    """JSON values equal, floats to a relative 1e-9 (BLAS may sum in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_numbers(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_numbers(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def load_inputs(params_path, metrics_path, features_path):
    """params, metrics, features and the mislabeled indices, all checked against each other.

    metrics.json is recomputed from params and features (it takes milliseconds) and must match:
    a damaged or stale file is refused in one line, and no value read from it reaches a figure.
    """
    params, features = load_params(params_path), load_features(features_path)
    check_same_data(params, features, params_path)
    stored = read_json(metrics_path, "make train")
    metrics = json.loads(json.dumps(evaluation_metrics(params, features)))
    if not same_numbers(stored, metrics):
        raise UserError(f"{metrics_path} does not match {params_path} (damaged, or from another "
                        "run); run `make train` to remake it")
    return params, metrics, features, metrics["mislabeled_test"], metrics["mislabeled_train"]


def write_report(params, metrics, features, test_idx, train_idx, out_dir):
    """Draw everything first, then write: a failure halfway leaves the old report whole."""
    classes = [str(c) for c in features["classes"]]
    drawn = [literal(c) for c in classes]  # the names as the figures must be given them
    test_cases = mislabeled_cases(params, features, test_idx, "test")
    train_cases = mislabeled_cases(params, features, train_idx, "train")
    pngs = {
        "learning_curve.png": learning_curve_png(params),
        "evaluation.png": evaluation_png(params, features, drawn),
        "mislabeled.png": mislabeled_png(test_cases, drawn, "Mislabeled test images"),
        "mislabeled_train.png": mislabeled_png(train_cases, drawn, "Mislabeled train images"),
        "weights.png": weights_png(params["w"], tuple(features["image_shape"]), drawn),
    }
    page = index_html(params, metrics, features, test_cases, train_cases, classes, out_dir)
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
