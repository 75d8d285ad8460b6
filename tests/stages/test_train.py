"""The train and evaluate stages as a person runs them: the course's numbers, files, errors."""

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest
from helpers import LOG_2, ROOT, assert_one_line_error, run_cli

from pipeline import config
from pipeline.__main__ import cli
from pipeline.artifacts.params import COMMON_SPEC

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def train_here(capsys, *args):
    """`python -m pipeline train ARGS` in this process, for what fails before any work (a child
    would spend a second importing): a CompletedProcess with its exit code and output."""
    try:
        code = cli(["train", *map(str, args)])
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


@pytest.fixture
def course_params(trained, tmp_path):
    """A copy of the course run's params.npz, alone in its folder, for a test to overwrite (the
    session's run is read by every test)."""
    folder = tmp_path / "model"
    folder.mkdir()
    return shutil.copy2(trained[0], folder / "params.npz")


def test_train_then_evaluate_print_the_courses_accuracies_and_what_they_mean(trained):
    _, _, stdout = trained
    assert stdout.splitlines() == [
        'train accuracy: 99.04306220095694 % (95% CI 96.6-99.9 %; always non-cat: '
        '65.6 %)',
        'test accuracy: 70.0 % (95% CI 55.4-82.1 %; always cat: 66.0 %)',
        'The test accuracy is not significantly above the majority guess (always cat: '
        '66.0 %; p = 0.33).']


def test_train_with_metrics_writes_and_prints_what_evaluate_does_trained_or_restored(
        trained, features_file, tmp_path):
    """make train's one run: --metrics gives evaluate's metrics.json and lines, whether the
    run is trained or restored from the ledger."""
    for attempt in ("trained", "restored"):
        params, metrics = tmp_path / attempt / "params.npz", tmp_path / attempt / "metrics.json"
        result = run_cli("train", "--features", features_file, "--out", params, "--metrics",
                         metrics, "--runs-dir", tmp_path / "runs")
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith("restored run ") == (attempt == "restored")
        assert result.stdout == trained[2]
        assert json.loads(metrics.read_text()) == json.loads(trained[1].read_text())
        assert params.read_bytes() == trained[0].read_bytes()


def test_params_hold_weights_curves_and_config_without_pickles(trained):
    with np.load(trained[0], allow_pickle=False) as p:
        assert set(COMMON_SPEC) | {"w", "b"} <= set(p.files)
        assert p["w"].shape == (12288, 1) and p["b"].shape == ()
        assert float(p["learning_rate"]) == 0.005 and int(p["num_iterations"]) == 2000
        assert p["costs"][0] == LOG_2 and len(p["costs"]) == 20
        assert p["costs"][-1] == pytest.approx(0.140872, abs=5e-7)
        assert p["iterations"].tolist() == list(range(0, 2000, 100))
        assert str(p["standardization"]) == "x / 255"
        assert p["image_shape"].tolist() == [64, 64, 3]
        assert p["classes"].tolist() == ["non-cat", "cat"]
        assert str(p["train_sha256"]).startswith("fbe56ab6")
        assert str(p["test_sha256"]).startswith("6a9d39ce")


def test_metrics_json(trained):
    m = json.loads(trained[1].read_text())
    assert m["learning_rate"] == 0.005 and m["num_iterations"] == 2000
    assert m["train_accuracy"] == 99.04306220095694 and m["test_accuracy"] == 70.0
    assert len(m["costs"]) == 20 and m["costs"][0] == LOG_2
    assert len(m["mislabeled_train"]) == 2 and len(m["mislabeled_test"]) == 15
    assert sum(m["confusion_test"].values()) == 50
    assert m["confusion_test"]["false_cat"] + m["confusion_test"]["missed_cat"] == 15
    checkpoints = m["checkpoints"]
    assert len(checkpoints["train_accuracies"]) == len(checkpoints["test_accuracies"]) == 20
    assert checkpoints["train_accuracies"][0] == 100 * 137 / 209  # all predicted non-cat at w=0
    assert m["l2"] == 0.0 and m["augment"] == "none"


def test_metrics_say_what_the_accuracies_mean(trained):
    m = json.loads(trained[1].read_text())
    keys = {"accuracy_ci95", "no_information_rate", "p_value_vs_nir", "kappa", "precision",
            "recall", "f1", "roc_auc", "log_loss"}
    assert keys <= set(m["train_stats"]) and keys <= set(m["test_stats"])
    test = m["test_stats"]
    assert test["accuracy_ci95"] == pytest.approx([55.3917674, 82.1382154], abs=1e-6)
    assert test["no_information_rate"] == 66.0
    assert test["p_value_vs_nir"] == pytest.approx(0.3320631, abs=1e-7)
    c = m["confusion_test"]  # precision and recall from the confusion counts
    assert test["precision"] == pytest.approx(c["true_cat"] / (c["true_cat"] + c["false_cat"]))
    assert test["recall"] == pytest.approx(c["true_cat"] / (c["true_cat"] + c["missed_cat"]))
    assert m["train_stats"]["no_information_rate"] == pytest.approx(100 * 137 / 209)
    assert m["test_duplicates_of_train"] == [[17, 146]]
    without = m["test_stats_without_duplicates"]
    assert without["accuracy"] == 69.38775510204081 and without["n"] == 49
    assert keys <= set(without)


@pytest.mark.parametrize("args", [["--l2", "5"], ["--augment", "flip"]])
def test_l2_and_augment_are_recorded_and_change_the_model(trained, features_file, tmp_path, args):
    out = tmp_path / "params.npz"
    result = run_cli("train", "--features", features_file, "--out", out, *args,
                     "--num-iterations", "300")
    assert result.returncode == 0, result.stderr
    with np.load(out) as p, np.load(trained[0]) as course:
        assert float(p["l2"]) == (5.0 if "--l2" in args else 0.0)
        assert str(p["augment"]) == ("flip" if "flip" in args else "none")
        assert not np.allclose(p["w"], course["w"])


BAD_HYPERPARAMETERS = [
    (["--learning-rate", "0"], "must be a finite number > 0"),
    (["--learning-rate", "-0.1"], "must be a finite number > 0"),
    (["--learning-rate", "nan"], "must be a finite number > 0"),
    (["--learning-rate", "inf"], "must be a finite number > 0"),
    (["--learning-rate", "fast"], "is not a number"),
    (["--num-iterations", "0"], "must be at least 1"),
    (["--num-iterations", "2.5"], "is not a whole number"),
    (["--engine", "quantum"], "invalid choice"),
    (["--l2", "-1"], "must be a finite number >= 0"),
    (["--l2", "inf"], "must be a finite number >= 0"),
    (["--augment", "rotate"], "invalid choice"),
    (["--model", "resnet"], "invalid choice"),
    (["--model", "l-layer", "--layers", "20", "0", "5"], "'0' must be at least 1"),
    (["--model", "l-layer", "--layers", "abc"], "'abc' is not a whole number"),
    (["--optimizer", "sgd2"], "invalid choice"),
    (["--optimizer", "adam", "--mini-batch-size", "0"], "'0' must be at least 1"),
    (["--optimizer", "adam", "--num-epochs", "-1"], "'-1' must be at least 1"),
    (["--optimizer", "adam", "--beta1", "1"], "'1' must be at least 0 and below 1"),
    (["--optimizer", "momentum", "--beta", "1"], "'1' must be at least 0 and below 1"),
    (["--optimizer", "momentum", "--beta", "-0.1"], "'-0.1' must be at least 0 and below 1"),
    (["--model", "l-layer", "--keep-prob", "0"], "'0' must be above 0 and at most 1"),
    (["--model", "l-layer", "--keep-prob", "1.5"], "'1.5' must be above 0 and at most 1"),
    (["--optimizer", "adam", "--decay", "inverse", "--decay-rate", "-1"],
     "'-1' must be a finite number >= 0"),
    (["--optimizer", "adam", "--decay", "scheduled", "--decay-interval", "0"],
     "'0' must be at least 1"),
    (["--optimizer", "adam", "--decay", "linear"], "invalid choice"),
    (["--model", "l-layer", "--init", "xavier"], "invalid choice"),
    (["--model", "cnn", "--layers", "4x"], "'4x' is not a whole number"),
]

# Options that parse but do not fit together: one line too, exit code 1.
MISMATCHED_OPTIONS = [
    (["--layers", "5"], "the logistic model has no hidden layer"),
    (["--model", "two-layer", "--layers", "3", "4"], "the two-layer network has one hidden"),
    (["--optimizer", "adam", "--num-iterations", "10"], "adam counts --num-epochs"),
    (["--decay", "inverse"], "choose --optimizer minibatch, momentum or adam"),
    (["--optimizer", "adam", "--beta", "0.5"], "--beta is momentum's; adam has --beta1"),
    (["--keep-prob", "0.8"], "the neuron has no hidden layer"),
    (["--init", "he"], "the neuron has no hidden layer and starts at zeros"),
    (["--model", "cnn", "--layers", "4x8", "p80"], "p80 does not fit in the 64x64 images"),
    (["--model", "cnn", "--layers", "p8", "4x8"], "a max-pool follows a convolution"),
    (["--model", "cnn", "--layers", "20", "7"], "'20' is neither a convolution FxC"),
    (["--model", "l-layer", "--layers", "4x8", "p8"], "pools pF are --model cnn's"),
    (["--model", "cnn", "--optimizer", "gd"], "the CNN trains on mini-batches"),
    (["--model", "cnn", "--init", "course"], "the CNN starts from He's draw"),
]


@pytest.mark.parametrize("args, message", MISMATCHED_OPTIONS)
def test_options_that_do_not_fit_together_get_one_line(course_params, features_file, args,
                                                       message, capsys):
    before = course_params.read_bytes()
    result = train_here(capsys, "--features", features_file, "--out", course_params, *args)
    assert_one_line_error(result, message)
    assert course_params.read_bytes() == before


@pytest.mark.parametrize("optimizer", ["minibatch", "adam"])
def test_mini_batches_say_once_that_a_batch_above_m_is_m_and_a_wild_rate_is_one_line(
        course_params, features_file, tmp_path, optimizer):
    out = tmp_path / "params.npz"
    result = run_cli("train", "--features", features_file, "--out", out, "--optimizer",
                     optimizer, "--mini-batch-size", "1000", "--num-epochs", "2")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("one batch of them all per epoch") == 1
    with np.load(out) as p:
        assert int(p["mini_batch_size"]) == 209 and int(p["num_iterations"]) == 2
        assert p["iterations"].tolist() == [1, 2] and str(p["optimizer"]) == optimizer
    before = course_params.read_bytes()
    wild = run_cli("train", "--features", features_file, "--out", course_params, "--optimizer",
                   optimizer, "--learning-rate", "1e308", "--num-epochs", "1")
    assert_one_line_error(wild, "learning rate 1e+308 diverged", "try a smaller one")
    assert course_params.read_bytes() == before


@pytest.mark.parametrize("model, dims", [("two-layer", [12288, 7, 1]),
                                         ("l-layer", [12288, 20, 7, 5, 1])])
def test_a_params_file_whose_layers_do_not_fit_is_one_line(features, tmp_path, model, dims):
    from pipeline.artifacts.files import write_npz
    from pipeline.artifacts.params import params_record
    from pipeline.engines.fit import initial_parameters
    from pipeline.settings import Settings

    curves = {k: np.zeros(1) for k in ("iterations", "costs", "train_accuracies",
                                      "test_accuracies")}
    record = params_record(initial_parameters(model, dims), curves,
                           Settings(model, tuple(dims), 0.1, 1), "gram", features, [0, 50, 33])
    for name, damage in (("chain", {"layer_dims": np.array([12288, 3, 1])}),
                         ("image", {"layer_dims": np.array([100, *dims[1:]])}),
                         ("shape", {"W2": np.zeros((2, 2))})):
        path = tmp_path / f"{name}.npz"
        write_npz(path, **{**record, **damage})
        result = run_cli("evaluate", "--params", path, "--features", tmp_path / "none.npz",
                         "--out", tmp_path / "m.json")
        assert_one_line_error(result, str(path), "make train")


CNN_ARGS = ("--model", "cnn", "--layers", "2x2", "p8", "--num-epochs", "2")  # a tiny one


def test_a_cnn_trains_end_to_end_and_is_kept_restored_and_evaluated(features_file, tmp_path):
    out, metrics, runs = tmp_path / "params.npz", tmp_path / "metrics.json", tmp_path / "runs"
    args = ["--features", features_file, "--out", out, "--metrics", metrics, "--runs-dir", runs,
            *CNN_ARGS]
    result = run_cli("train", *args)
    assert result.returncode == 0, result.stderr
    assert f"the CNN 2x2 p8, lr {config.CNN_LEARNING_RATE}, adam on batches of 64, He's start" \
        in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("train accuracy: ") and "95% CI" in lines[0]
    assert lines[1].startswith("test accuracy: ") and "always cat: 66.0 %" in lines[1]
    with np.load(out) as p:
        assert str(p["model"]) == "cnn" and str(p["architecture"]) == "2x2 p8"
        assert p["W1"].shape == (2, 2, 3, 2) and p["W2"].shape == (1, 8 * 8 * 2)
        assert p["layer_dims"].tolist() == [12288, 64 * 64 * 2, 8 * 8 * 2, 1]
        assert str(p["optimizer"]) == "adam" and str(p["init"]) == "he"
        assert p["iterations"].tolist() == [1, 2]
    written = json.loads(metrics.read_text())
    again = run_cli("train", *args)
    assert again.returncode == 0 and "restored run" in again.stderr, again.stderr
    assert again.stdout == result.stdout
    evaluated = run_cli("evaluate", "--params", out, "--features", features_file, "--out",
                        tmp_path / "evaluated.json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout == result.stdout
    assert json.loads((tmp_path / "evaluated.json").read_text()) == written


def test_a_damaged_cnn_record_is_one_line(features_file, tmp_path):
    source = tmp_path / "params.npz"
    result = run_cli("train", "--features", features_file, "--out", source, "--runs-dir",
                     tmp_path / "runs", *CNN_ARGS)
    assert result.returncode == 0, result.stderr
    with np.load(source) as p:
        record = dict(p)
    for name, damage in (("architecture", {"architecture": np.array("4x8 p8 2x16 p4")}),
                         ("unreadable", {"architecture": np.array("p8 2x2")}),
                         ("none", {"architecture": np.array("")}),
                         ("neuron", {"model": np.array("l-layer")}),
                         ("filters", {"W1": np.zeros((3, 3, 3, 2))}),
                         ("dense", {"W2": np.zeros((1, 64))})):
        path = tmp_path / f"{name}.npz"
        np.savez(path, **{**record, **damage})
        evaluated = run_cli("evaluate", "--params", path, "--features", features_file,
                            "--out", tmp_path / "m.json")
        assert_one_line_error(evaluated, str(path), "make train")
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("args, message", BAD_HYPERPARAMETERS)
def test_nonsense_hyperparameters_get_one_line_and_lose_nothing(course_params, features_file,
                                                                args, message, capsys):
    before = course_params.read_bytes()
    result = train_here(capsys, "--features", features_file, "--out", course_params, *args)
    assert_one_line_error(result, message, code=2)
    assert course_params.read_bytes() == before


def test_a_diverging_rate_is_one_line_and_loses_nothing(course_params, features_file):
    before = course_params.read_bytes()
    result = run_cli("train", "--features", features_file, "--out", course_params,
                     "--learning-rate", "1e308", "--num-iterations", "3")
    assert_one_line_error(result, "learning rate 1e+308 diverged", "try a smaller one")
    assert course_params.read_bytes() == before


@pytest.mark.parametrize("content", [None, b"", b"PK\x03\x04 not really a zip"])
def test_missing_or_corrupt_features_name_the_file_and_the_fix(tmp_path, content):
    features = tmp_path / "features.npz"
    if content is not None:
        features.write_bytes(content)
    result = run_cli("train", "--features", features, "--out", tmp_path / "params.npz")
    assert_one_line_error(result, str(features), "make features")
    assert not (tmp_path / "params.npz").exists()


def test_evaluate_without_params_says_to_train(tmp_path, features_file):
    result = run_cli("evaluate", "--params", tmp_path / "none.npz", "--features", features_file,
                     "--out", tmp_path / "m.json")
    assert_one_line_error(result, "none.npz not found", "make train")


def read_terminal(fd, until=None, timeout=120):
    """What a child wrote to the terminal whose other end is fd: until the pattern (bytes) shows,
    or else until the child closes it; at most timeout seconds of silence."""
    text = b""
    while until is None or not re.search(until, text):
        if not select.select([fd], [], [], timeout)[0]:
            raise TimeoutError(f"no output for {timeout} s after {text[-300:]!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # Linux: EIO once every copy of the child's end is closed
            chunk = b""
        if not chunk:
            break
        text += chunk
    return text


def test_ctrl_c_exits_130_and_keeps_the_previous_params(course_params, features_file):
    params = course_params
    before = params.read_bytes()
    # stderr on a terminal, as from a shell, so that the bar shows: once it counts a step, the
    # run is in its loop
    ours, theirs = pty.openpty()
    fcntl.ioctl(theirs, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "train", "--features", str(features_file),
         "--out", str(params), "--engine", "primal", "--num-iterations", "20000"],
        cwd=ROOT, stderr=theirs,
        # as from a terminal: a shell without job control starts background jobs (a test run
        # among them) with SIGINT ignored, and Python would then never raise KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(theirs)
    try:
        stderr = read_terminal(ours, until=rb"\| *[1-9][0-9]*/20000 ")
        child.send_signal(signal.SIGINT)
        stderr = (stderr + read_terminal(ours)).decode()
        child.wait(timeout=60)
    finally:
        child.kill()  # whatever happened above, no long run is left behind
        os.close(ours)
    assert child.returncode == 130
    said = [line.strip() for line in re.split(r"[\r\n]", stderr) if line.strip()]
    assert said[-1].startswith("interrupted") and "Traceback" not in stderr, stderr
    assert params.read_bytes() == before
    assert [p.name for p in params.parent.iterdir()] == ["params.npz"]


def test_an_unwritable_output_is_one_line(features_file, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "params.npz"
    result = run_cli("train", "--features", features_file, "--out", out, "--num-iterations", "1")
    assert_one_line_error(result, f"cannot write {out}: ")


@pytest.fixture
def full_disk(tmp_path):
    """A 600 KB file system with about 40 KB left: too little for a model (100 KB)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()})")
    (folder / "filler").write_bytes(b"\0" * 560_000)
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_names_the_file_and_leaves_the_old_one_and_no_temp_file(trained,
                                                                           features_file,
                                                                           full_disk):
    params = full_disk / "params.npz"
    params.write_bytes(b"the earlier model")
    result = run_cli("train", "--features", features_file, "--out", params,
                     "--num-iterations", "1", "--quiet")
    assert_one_line_error(result, f"{params}: No space left on device")
    assert params.read_bytes() == b"the earlier model"
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler", "params.npz"]
