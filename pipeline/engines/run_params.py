"""params.npz's content for one model of a fit: its weights, curves and settings, with the
test counts that say how far to trust it."""

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from pipeline.artifacts.params import CURVES, params_record
from pipeline.nn.logistic import predict_from_scores
from pipeline.scoring import scores


def test_counts(params: Mapping[str, Any], features: Mapping[str, Any]) -> list[int]:
    """[right, images, positives] on the test set, for a params dict."""
    Y_test = features["Y_test"]  # (1, m_test)
    predicted = predict_from_scores(scores(params, features["X_test"]))  # (1, m_test)
    return [int(np.sum(predicted == Y_test)), Y_test.size, int(Y_test.sum())]


def run_params(run: Mapping[str, Any], j: int, features: Mapping[str, Any]) -> dict[str, Any]:
    """params.npz's content for model j of a train() run (engines/fit.py)."""
    settings = replace(run["settings"], learning_rate=run["learning_rates"][j])
    curves = {k: run[k] if k == "iterations" else run[k][j] for k in CURVES}
    weights = run["weights"][j]
    params = {"model": settings.model, "layer_dims": np.array(settings.layer_dims), **weights}
    record: dict[str, Any] = params_record(weights, curves, settings, run["engine"], features,
                                           test_counts(params, features))
    return record
