"""cv/held_out.py: each image's held-out score is the score of a separate fit on the other folds,
for gd (every fold at once) and mini-batches; and the calibration made from them never reads
the test set's labels."""

import numpy as np
import pytest

from pipeline.artifacts.params import scores
from pipeline.columns import model_scores
from pipeline.cv import held_out
from pipeline.cv.held_out import calibration_record, held_out_scores
from pipeline.engines.fit import model_of, train
from pipeline.evaluation.calibration import CannotCalibrate
from pipeline.settings import Optimizer, Settings

pytestmark = pytest.mark.portable


def small(features, m=60):
    """The first m training images: quick fits, both classes in every fold."""
    return {**features, "X_train": features["X_train"][:, :m],
            "Y_train": features["Y_train"][:, :m]}


def separate_fit_scores(features, settings, fold_of, folds):
    """The oracle: one train() a fold on its training columns alone, scored on its held out."""
    z = np.empty(fold_of.shape)
    for f in range(folds):
        kept = fold_of != f
        part = {**features, "X_train": features["X_train"][:, kept],
                "Y_train": features["Y_train"][:, kept]}
        run = train(part, settings)
        model = {"model": settings.model, "layer_dims": np.array(settings.layer_dims),
                 **run["weights"][0]}
        z[~kept] = scores(model, features["X_train"][:, ~kept])[0]
    return z


@pytest.mark.parametrize(("model", "hidden", "augment"), [
    ("logistic", (), "none"), ("logistic", (), "flip"), ("two-layer", (3,), "none")])
def test_gd_folds_at_once_equal_a_separate_fit_of_each_fold(features, model, hidden, augment):
    data = small(features)
    settings = Settings(model=model, layer_dims=(12288, *hidden, 1), learning_rate=0.005,
                        num_iterations=30, augment=augment)
    z, fold_of = held_out_scores(data, settings, 3, seed=4)
    assert z.shape == fold_of.shape == (60,) and set(fold_of) == {0, 1, 2}
    np.testing.assert_allclose(z, separate_fit_scores(data, settings, fold_of, 3), rtol=1e-8,
                               atol=1e-10)


def test_mini_batch_folds_equal_a_separate_fit_of_each_fold(features):
    data = small(features)
    settings = Settings(model="logistic", layer_dims=(12288, 1), learning_rate=0.01,
                        num_iterations=4, optimizer=Optimizer("adam", mini_batch_size=16,
                                                              num_epochs=2))
    z, fold_of = held_out_scores(data, settings, 3, seed=4)
    np.testing.assert_allclose(z, separate_fit_scores(data, settings, fold_of, 3), rtol=1e-9)


def test_a_cnns_folds_equal_a_separate_fit_of_each_fold(features):
    """The CNN's folds run its own step (with its pools), scored by its own forward pass."""
    data = small(features, m=24)
    settings = Settings("cnn", (12288, 12288 * 2 // 3, 8 * 8 * 2, 1), 0.003, 0, init="he",
                        optimizer=Optimizer("adam", 8, 2), architecture="2x2 p8")
    z, fold_of = held_out_scores(data, settings, 2, seed=4)
    expected = np.empty(z.shape)
    for f in range(2):
        kept = fold_of != f
        part = {**data, "X_train": data["X_train"][:, kept], "Y_train": data["Y_train"][:, kept]}
        weights = train(part, settings)["weights"][0]
        expected[~kept] = model_scores(model_of(settings, weights), data["X_train"][:, ~kept])[0]
    np.testing.assert_allclose(z, expected, rtol=1e-9)


def test_more_folds_than_images_of_a_class_cannot_be_calibrated(features):
    data = small(features, m=12)
    positives = int(data["Y_train"].sum())
    settings = Settings(model="logistic", layer_dims=(12288, 1), learning_rate=0.005,
                        num_iterations=5)
    with pytest.raises(CannotCalibrate, match="a fold would hold one class"):
        held_out_scores(data, settings, positives + 1, seed=0)


def test_the_temperature_is_unchanged_when_the_test_labels_change(features):
    settings = Settings(model="logistic", layer_dims=(12288, 1), learning_rate=0.005,
                        num_iterations=300)
    run = train(features, settings)
    params = {"model": "logistic", "layer_dims": np.array(settings.layer_dims),
              **run["weights"][0]}
    record = calibration_record(params, features, settings, 5, 0, "0" * 64)
    flipped = {**features, "Y_test": 1 - features["Y_test"]}
    again = calibration_record(params, flipped, settings, 5, 0, "0" * 64)
    assert str(record["method"]) == "temperature" and float(record["temperature"]) > 1
    for key in ("temperature", "platt", "oof_logits", "oof_before", "oof_after", "bands"):
        np.testing.assert_array_equal(record[key], again[key])
    assert not np.array_equal(record["test_after"], again["test_after"])
    assert record["oof_after"][4] <= record["oof_before"][4]  # log loss, where it was fitted
    np.testing.assert_allclose(record["mean_input"][:, 0],
                               np.mean(features["X_train"], axis=1), rtol=1e-12)


def test_logits_that_cannot_be_fitted_give_the_method_none_and_its_reason(features,
                                                                         monkeypatch):
    settings = Settings(model="logistic", layer_dims=(12288, 1), learning_rate=0.005,
                        num_iterations=1)
    params = {"model": "logistic", "layer_dims": np.array(settings.layer_dims),
              "w": np.zeros((12288, 1)), "b": 0.0}
    data = small(features)
    def diverged(features, settings, folds, seed):
        return np.full(60, np.nan), np.arange(60) % folds

    monkeypatch.setattr(held_out, "held_out_scores", diverged)
    record = calibration_record(params, data, settings, 3, 0, "0" * 64)
    assert str(record["method"]) == "none"
    assert "not finite (a fold diverged)" in str(record["reason"])
    assert float(record["temperature"]) == 1.0
