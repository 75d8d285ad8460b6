"""A run's settings are one frozen value that params.npz holds and gives back whole."""

import dataclasses

import numpy as np
import pytest
from helpers import run_cli

from pipeline.artifacts.params import load_params
from pipeline.settings import RECORD_KEYS, Optimizer, Settings

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def test_settings_survive_params_npz_and_metrics_json(trained):
    params = load_params(trained[0])
    settings = Settings.from_record(params)
    assert settings == Settings("logistic", (12288, 1), 0.005, 2000)
    assert settings.record() == {key: params[key].tolist() for key in RECORD_KEYS}
    import json
    metrics = json.loads(trained[1].read_text())
    assert Settings.from_record(metrics) == settings


def test_settings_compare_by_value_and_only_those_a_run_reads_decide_it():
    adam = Settings("l-layer", (12288, 20, 7, 5, 1), 0.0007, 40,
                    optimizer=Optimizer("adam", 64, 10))
    gd = Settings("logistic", (5, 1), 0.1, 1)
    assert adam == Settings.from_record({k: np.array(v) for k, v in adam.record().items()})
    assert adam.optimizer.minibatch and not gd.optimizer.minibatch

    def changed(settings, **optimizer):
        return dataclasses.replace(settings, optimizer=dataclasses.replace(settings.optimizer,
                                                                           **optimizer))

    # momentum's beta and a decay rate without decay are not adam's; beta1 is
    assert changed(adam, beta=0.5, decay_rate=3.0).that_matter() == adam.that_matter()
    assert changed(adam, beta1=0.8).that_matter() != adam.that_matter()
    # a neuron starts at zeros: no initialization seed, no mini-batch settings
    assert dataclasses.replace(gd, seed=7).that_matter() == gd.that_matter()
    assert changed(gd, mini_batch_size=32, seed=5).that_matter() == gd.that_matter()
    assert dataclasses.replace(gd, learning_rate=0.2).that_matter() != gd.that_matter()


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


def test_every_setting_has_one_home_that_every_record_derives_from(trained, tmp_path):
    """A field of Settings (or of its Optimizer) reaches params.npz's spec, params.npz,
    metrics.json and the page's table with no other edit: each derives its keys from it."""
    from pipeline.artifacts.params import COMMON_SPEC
    from pipeline.settings import record_types

    flat = [f for kind in (Settings, Optimizer) for f in dataclasses.fields(kind)
            if f.type is not Optimizer]
    assert len(RECORD_KEYS) == len(flat) == len(record_types())
    assert set(RECORD_KEYS) <= set(COMMON_SPEC)
    assert {"epsilon", "minibatch_seed", "network_seed"} <= set(RECORD_KEYS)
    params = load_params(trained[0])
    import json
    metrics = json.loads(trained[1].read_text())
    assert set(RECORD_KEYS) <= set(params) and set(RECORD_KEYS) <= set(metrics)
    labels = [label for label, _ in Settings.from_record(params).shown()]
    assert "learning rate" in labels and "epochs" not in labels  # gd: no mini-batch rows
    adam = Settings("l-layer", (4, 3, 1), 0.1, 2, optimizer=Optimizer("adam", 64, 1))
    assert {"epochs", "epsilon", "shuffle seed", "initialization seed"} <= {
        label for label, _ in adam.shown()}


def test_the_second_courses_tools_are_named_once_for_the_train_line_and_the_page():
    dims = (12288, 20, 7, 5, 1)
    plain = Settings("l-layer", dims, 0.0075, 2500)
    tools = Settings("l-layer", dims, 0.0007, 40, init="he", keep_prob=0.86,
                     optimizer=Optimizer("momentum", 64, 10, decay="scheduled", decay_rate=0.5))
    assert plain.second_course_text() == ""
    assert tools.second_course_text() == (", He's start, dropout keep_prob 0.86, beta 0.9, "
                                          "scheduled decay at rate 0.5")
    assert Settings("logistic", (12288, 1), 0.0007, 40, optimizer=Optimizer(
        "adam", 64, 10, decay="inverse")).second_course_text() == ", inverse decay at rate 1.0"
