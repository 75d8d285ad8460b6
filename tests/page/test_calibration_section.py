"""page/calibration_section.py: the figures side by side, and the embedded JSON holds the
temperature, the very sentences the terminal prints, and the map's mean image exactly."""

import base64
import json
import re

import numpy as np

from pipeline.evaluation.calibration import band_sentences
from pipeline.page.calibration_section import calibration_fragment


def test_the_section_embeds_the_temperature_and_the_terminals_sentences():
    f = np.array([0.2, 0.1, 0.3, 0.25, 0.7])
    c = {"train_counts": np.array([10, 4]), "folds": np.array(2), "temperature": np.array(2.5),
         "held_out_log_loss": np.array([0.6, 0.59]), "platt_changes": np.array(3),
         "bands": np.array([[6, 3], [4, 3], [0, 0], [0, 0], [0, 0]]), "oof_before": f,
         "oof_after": f / 2, "test_before": f, "test_after": f / 3,
         "mean_input": np.array([[0.1], [1 / 3]])}
    html = calibration_fragment(c, "", ["non-cat", "cat</script>"])
    embedded = json.loads(re.search(r'id="calibration">(.*?)</script>', html).group(1))
    assert embedded["temperature"] == 2.5 and embedded["band_edges"][0] == 0.5
    assert embedded["sentences"] == band_sentences(c["bands"], ["non-cat", "cat</script>"], 4,
                                                   10)
    mean = np.frombuffer(base64.b64decode(embedded["map"]["mean_input_base64"]), dtype="<f8")
    assert mean.tolist() == [0.1, 1 / 3]  # bit for bit
    assert (embedded["map"]["tolerance"], embedded["map"]["max_steps"]) == (0.01, 1024)
    assert "T = 2.50" in html and "test, raw (shown, not used)" in html
    assert "0.100 (0.050-0.150)" in html  # the calibrated ECE with its interval


def test_without_a_calibration_the_section_says_why_and_embeds_nothing():
    html = calibration_fragment(None, "calibration.npz not found: run `make calibrate`", ["a", "b"])
    assert "not found" in html and 'id="calibration"' not in html
