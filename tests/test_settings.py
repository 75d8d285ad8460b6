"""A run's settings are one frozen value that params.npz holds and gives back whole."""

import dataclasses

import numpy as np
import pytest
from conftest import run_cli

from pipeline.artifacts.params import load_params
from pipeline.settings import RECORD_KEYS, Optimizer, Settings


def test_settings_survive_params_npz_and_metrics_json(trained):
    params = load_params(trained[0])
    settings = Settings.from_record(params)
    assert settings == Settings("logistic", (12288, 1), 0.005, 2000)
    assert settings.record() == {key: params[key].tolist() for key in RECORD_KEYS}
    import json
    metrics = json.loads(trained[1].read_text())
    assert Settings.from_record({**settings.record(), **{k: metrics[k] for k in RECORD_KEYS
                                                          if k in metrics}}) == settings


def test_settings_are_frozen_and_compare_by_value():
    adam = Settings("l-layer", (12288, 20, 7, 5, 1), 0.0007, 40,
                    optimizer=Optimizer("adam", 64, 10))
    with pytest.raises(dataclasses.FrozenInstanceError):
        adam.learning_rate = 0.1
    assert adam == Settings.from_record({k: np.array(v) for k, v in adam.record().items()})
    assert adam.optimizer.minibatch and not Settings("logistic", (5, 1), 0.1, 1).optimizer.minibatch


@pytest.mark.parametrize("flags, expected", [
    ([], Settings("logistic", (12288, 1), 0.005, 2000)),
    (["--model", "l-layer", "--num-iterations", "3"],
     Settings("l-layer", (12288, 20, 7, 5, 1), 0.0075, 3)),
    (["--optimizer", "adam", "--num-epochs", "1", "--learning-rate", "0.001"],
     Settings("logistic", (12288, 1), 0.001, 4, optimizer=Optimizer("adam", 64, 1))),
])
def test_the_command_line_builds_the_settings_that_params_npz_records(features_file, tmp_path,
                                                                      flags, expected):
    out = tmp_path / "params.npz"
    result = run_cli("train", "--features", features_file, "--out", out, "--quiet", *flags)
    assert result.returncode == 0, result.stderr
    assert Settings.from_record(load_params(out)) == expected
