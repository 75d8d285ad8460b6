"""The run's calibration on the page: the out-of-fold figures before and after it, the test set's
beside them (shown, not used), the confidence bands, and what the photo classifier needs from it
embedded as JSON: the temperature, the bands' sentences (classify.js looks up a band; the
sentences are evaluation.calibration's, the terminal's too) and the mean training image x̄ that
the photo's map is measured from. HTML only.

x̄ is embedded here, beside T, rather than with the model's layers: calibration.npz is its one
source (the one classify reads too), and a page whose calibration is missing or stale then has
no x̄ either, rather than one of uncertain origin."""

import base64
import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.artifacts.calibration_file import BAND_EDGES
from pipeline.evaluation.calibration import band_sentences
from pipeline.evaluation.explain import MAX_STEPS, TOLERANCE
from pipeline.page.sections import table


def calibration_json(c: Mapping[str, Any], classes: Sequence[str]) -> str:
    """{"temperature", "band_edges", "sentences", "map"}, safe inside <script> ("<" escaped).
    "map": what evaluation.explain measures from, x̄ (n_x,) as base64 of little-endian float64
    (exact, as the model's W), and its tolerance and cap on the steps."""
    m, positives = (int(v) for v in c["train_counts"])
    mean = np.ascontiguousarray(c["mean_input"][:, 0], dtype="<f8")  # (n_x,)
    return json.dumps({
        "temperature": float(c["temperature"]), "band_edges": list(BAND_EDGES),
        "sentences": band_sentences(c["bands"], classes, positives, m),
        "map": {"mean_input_base64": base64.b64encode(mean.tobytes()).decode("ascii"),
                "tolerance": TOLERANCE, "max_steps": MAX_STEPS},
    }).replace("<", "\\u003c")


def figures_rows(c: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """ECE (with its bootstrap interval), Brier and log loss: out of fold and test, raw and
    calibrated."""
    sets = [c[k] for k in ("oof_before", "oof_after", "test_before", "test_after")]
    return [("calibration error (ECE, 10 bins)",
             *(f"{f[0]:.3f} ({f[1]:.3f}-{f[2]:.3f})" for f in sets)),
            ("Brier score", *(f"{f[3]:.3f}" for f in sets)),
            ("log loss", *(f"{f[4]:.3f}" for f in sets))]


def calibration_fragment(c: Mapping[str, Any] | None, note: str, classes: Sequence[str]) -> str:
    """The section: the figures and bands of calibration c, or the note saying why there is
    none (the page then shows the raw p, named raw)."""
    heading = '<h2 id="trust-one-answer">How far to trust one answer</h2>'
    if c is None:
        return f"{heading}<p>{html.escape(note)}</p>"
    m, folds, T = int(c["train_counts"][0]), int(c["folds"]), float(c["temperature"])
    temperature, platt = c["held_out_log_loss"]
    bands = [(f"{low:.0%}-{high:.0%}", int(n), f"{right / n:.0%}" if n else "-")
             for low, high, (n, right) in zip(BAND_EDGES, BAND_EDGES[1:], c["bands"],
                                              strict=False)]
    return (f"{heading}<p>The photo box shows p({html.escape(classes[1])}) divided by one "
            f"temperature, <strong>T = {T:.2f}</strong>: p = sigmoid(z / T), fitted on the "
            f"out-of-fold logits of {folds}-fold cross-validation on the {m} training images, "
            "with this run's settings. The test set chose nothing; its figures are shown "
            "beside, not used. A temperature never changes the answer, only how sure it "
            "sounds.</p>"
            + table(figures_rows(c), ("", "out of fold, raw", "out of fold, calibrated",
                                      "test, raw (shown, not used)",
                                      "test, calibrated (shown, not used)"))
            + f"<p>Held out over the same folds, Platt's (a, b) gives a log loss of {platt:.3f} "
            f"against the temperature's {temperature:.3f}; it is not used, as its intercept "
            "learns the training set's share of each class and would change "
            f"{int(c['platt_changes'])} of the {m} out-of-fold answers.</p>"
            "<p>Out of fold, calibrated, by how sure the answer was:</p>"
            + table(bands, ("confidence", "images", "right"))
            + '<script type="application/json" id="calibration">'
            + calibration_json(c, classes) + "</script>")
