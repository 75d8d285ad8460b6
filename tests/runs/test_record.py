"""A run's id names what decides its weights, the same in any process; its record holds what
the run was and how it did."""

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT

from pipeline.runs.record import code_fingerprint, data_of, outcome, run_id, run_record
from pipeline.settings import Settings

COURSE = Settings("logistic", (12288, 1), 0.005, 2000)
DATA = {"train_sha256": "a" * 64, "test_sha256": "b" * 64, "image_shape": [64, 64, 3],
        "standardization": "x / 255"}

ID_IN_A_CHILD = """
from pipeline.runs.record import code_fingerprint, run_id
from pipeline.settings import Settings
print(run_id(Settings("logistic", (12288, 1), 0.005, 2000), "auto", {data!r},
             code_fingerprint()))
"""


def test_the_id_is_the_same_in_another_process_and_changes_with_what_decides_the_weights():
    here = run_id(COURSE, "auto", DATA, code_fingerprint())
    child = subprocess.run([sys.executable, "-c", ID_IN_A_CHILD.format(data=DATA)], cwd=ROOT,
                           capture_output=True, text=True, check=True,
                           env={"PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "123"})
    assert child.stdout.strip() == here and len(here) == 12
    others = {run_id(replace(COURSE, learning_rate=0.01), "auto", DATA, "f"),
              run_id(replace(COURSE, l2=0.1), "auto", DATA, "f"),
              run_id(COURSE, "primal", DATA, "f"),
              run_id(COURSE, "auto", {**DATA, "train_sha256": "c" * 64}, "f"),
              run_id(COURSE, "auto", DATA, "g"), run_id(COURSE, "auto", DATA, "f")}
    assert len(others) == 6 and here not in others


def test_the_fingerprint_follows_the_fit_modules_source(tmp_path):
    tree = tmp_path / "copy"
    shutil.copytree(ROOT / "pipeline", tree / "pipeline")
    before = code_fingerprint(tree)
    assert before == code_fingerprint(ROOT)
    page = tree / "pipeline" / "page" / "sections.py"  # not the fit's: the same code
    page.write_text(page.read_text() + "\n# a comment\n")
    assert code_fingerprint(tree) == before
    fit = tree / "pipeline" / "engines" / "fit.py"
    fit.write_text(fit.read_text() + "\n# a comment\n")
    assert code_fingerprint(tree) != before


# What a fit imports that cannot move its weights: paths, messages, settings' names, shapes.
NOT_THE_FIT = {"pipeline/__init__.py", "pipeline/config.py", "pipeline/errors.py",
               "pipeline/settings.py", "pipeline/shapes.py", "pipeline/progress.py",
               "pipeline/artifacts/__init__.py", "pipeline/artifacts/files.py"}


def test_every_module_a_fit_imports_is_in_the_fingerprint_or_cannot_move_its_weights():
    """A fit and its params.npz, as train runs them: each module they import is one of
    FIT_SOURCES, or one that only names, checks or says things."""
    from pipeline.runs.record import fit_files

    child = subprocess.run(
        [sys.executable, "-c", "import sys, pipeline.engines.fit, pipeline.artifacts.params; "
         "print('\\n'.join(m.__file__ for n, m in sys.modules.items() "
         "if n.startswith('pipeline') and getattr(m, '__file__', None)))"],
        cwd=ROOT, capture_output=True, text=True, check=True, env={"PYTHONPATH": str(ROOT)})
    imported = {Path(line).resolve().relative_to(ROOT).as_posix()
                for line in child.stdout.split()}
    fingerprinted = {path.relative_to(ROOT).as_posix() for path in fit_files()}
    assert "pipeline/engines/logistic.py" in imported
    assert imported - NOT_THE_FIT <= fingerprinted, imported - NOT_THE_FIT - fingerprinted


def test_the_record_holds_the_settings_data_code_times_and_outcome(features, trained):
    from pipeline.artifacts.params import load_params
    from pipeline.nn.logistic import propagate

    params = load_params(trained[0])
    started = datetime(2026, 12, 3, 14, 2, tzinfo=UTC)
    record = run_record(("0123456789ab", "f" * 64), COURSE, "gram", params, features,
                        command="train", started=started,
                        finished=started + timedelta(seconds=41.2), data_path="x.npz")
    assert record["started"] == "2026-12-03T14:02:00.000+00:00" and record["duration_s"] == 41.2
    assert {k: record[k] for k in COURSE.record()} == COURSE.record()
    written = json.loads(trained[1].read_text())  # what evaluate wrote of the same run
    assert [record[k] for k in ("train_accuracy", "test_accuracy")] == [
        written[k] for k in ("train_accuracy", "test_accuracy")]
    assert record["test_accuracy_ci95"] == pytest.approx([55.4, 82.1], abs=0.05)
    # the course's cost after step 2000, from its own propagate
    final = propagate(params["w"], float(params["b"]), features["X_train"], features["Y_train"])[1]
    assert record["final_cost"] == pytest.approx(final, rel=1e-12) and final < 0.140872
    assert record["iterations"][-1] == 1900 and len(record["costs"]) == 20
    assert record["train_sha256"] == data_of(features)["train_sha256"]
    assert record["git_commit"] is None or len(record["git_commit"]) == 40
    assert outcome(params, features)["test_accuracy"] == 70.0


def test_the_outcome_from_evaluations_scores_is_the_one_it_scores_itself(features, trained):
    """train --metrics hands the record metrics.json's scores: the same outcome, and with
    augment flip the cost still on every image and its mirror (the course's propagate)."""
    from pipeline.artifacts.params import load_params, split_scores
    from pipeline.columns import flipped
    from pipeline.nn.logistic import propagate

    params = dict(load_params(trained[0]))
    X, Y = features["X_train"], features["Y_train"]
    for augment, X_as_trained in (("none", X), ("flip", flipped(X, features["image_shape"]))):
        params["augment"] = np.array(augment)
        own = outcome(params, features)
        given = outcome(params, features, split_scores(params, features))
        cost = propagate(params["w"], float(params["b"]), X_as_trained,
                         np.hstack([Y] * (X_as_trained.shape[1] // X.shape[1])))[1]
        for result in (own, given):
            assert result["final_cost"] == pytest.approx(cost, rel=1e-12), augment
            assert {k: v for k, v in result.items() if k != "final_cost"} == {
                k: v for k, v in own.items() if k != "final_cost"}
            assert result["train_accuracy"] == json.loads(trained[1].read_text())[
                "train_accuracy"]


def test_a_setting_the_run_never_reads_leaves_its_id_alone():
    """The neuron has no network seed to draw from, gd no Adam, no decay no decay rate: a run
    with another value of those is the same run (and is restored); a network's seed is not."""
    from pipeline.settings import Optimizer

    same = run_id(COURSE, "auto", DATA, "f")
    assert run_id(replace(COURSE, seed=2), "auto", DATA, "f") == same
    assert run_id(replace(COURSE, optimizer=Optimizer(beta1=0.5, decay_rate=3.0)), "auto", DATA,
                  "f") == same
    net = Settings("l-layer", (12288, 20, 7, 5, 1), 0.0075, 2500)
    assert run_id(replace(net, seed=2), "auto", DATA, "f") != run_id(net, "auto", DATA, "f")
    adam = replace(COURSE, optimizer=Optimizer("adam", 64, 10))
    assert run_id(replace(adam, optimizer=Optimizer("adam", 64, 10, beta1=0.5)), "auto", DATA,
                  "f") != run_id(adam, "auto", DATA, "f")
    decayed = replace(adam, optimizer=Optimizer("adam", 64, 10, decay="inverse"))
    assert run_id(replace(decayed, optimizer=Optimizer("adam", 64, 10, decay="inverse",
                                                       decay_rate=2.0)), "auto", DATA, "f") \
        != run_id(decayed, "auto", DATA, "f")
