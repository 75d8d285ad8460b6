"""Make is incremental: a repeat runs no recipe, a changed hyperparameter retrains.

Each test works in a copy of the project (sharing .venv and the fetched data), so the developer's
own data/ and reports/ are never touched.
"""

import importlib.util
import os
import shutil
import subprocess
import time

import pytest
from conftest import ROOT, make, recipes, write_course_photos

spec = importlib.util.spec_from_file_location("stage_deps", ROOT / "scripts" / "stage_deps.py")
stage_deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stage_deps)
stage_modules = stage_deps.stage_modules


def test_train_then_nothing_then_retrain_on_a_new_rate(project):
    first = make(project, "train")
    assert first.returncode == 0, first.stderr
    assert "train accuracy: 99.04306220095694 % (95% CI" in first.stdout
    assert "test accuracy: 70.0 % (95% CI" in first.stdout
    assert make(project, "-q", "train").returncode == 0  # up to date: no recipe to run
    assert recipes(project, "train") == []
    planned = recipes(project, "train", "LR=0.01", "ITERATIONS=1500")
    assert [line.split("-m pipeline ")[1] for line in planned] == [
        "train --learning-rate 0.01 --num-iterations 1500", "evaluate"]
    second = make(project, "train", "LR=0.01", "ITERATIONS=1500")
    assert "train accuracy: 99.52153110047847 %" in second.stdout
    assert make(project, "-q", "train", "LR=0.01", "ITERATIONS=1500").returncode == 0
    assert recipes(project, "train") != []  # back to the defaults: that is another model


def test_a_failed_train_keeps_the_model_and_make_says_so(project):
    assert make(project, "train").returncode == 0
    params = project / "data" / "models" / "params.npz"
    before = params.read_bytes()
    result = make(project, "train", "LR=-1")
    assert result.returncode != 0 and "must be a finite number > 0" in result.stderr
    assert params.read_bytes() == before


def test_help_is_the_default_and_lists_every_target(project):
    out = make(project).stdout
    for target in ("data", "features", "train", "evaluate", "report", "compare", "cv", "classify",
                   "test", "lint", "clean"):
        assert f"\n{target} " in out


def test_report_after_train_does_not_retrain_and_a_repeat_does_nothing(project):
    assert make(project, "train").returncode == 0
    assert [line.split("-m pipeline ")[1] for line in recipes(project, "report")] == ["report"]
    result = make(project, "report")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("reports/index.html")
    assert make(project, "-q", "report").returncode == 0


def test_compare_is_incremental_and_linked_from_an_existing_report(project):
    assert make(project, "report").returncode == 0
    first = make(project, "compare", "LRS=0.005 0.001", "ITERATIONS=300")
    assert first.returncode == 0, first.stderr
    assert "0.005" in first.stdout
    assert make(project, "-q", "compare", "LRS=0.005 0.001", "ITERATIONS=300").returncode == 0
    assert recipes(project, "compare", "LRS=0.005 0.001", "ITERATIONS=400") != []
    assert "compare/learning_rates.png" in (project / "reports" / "index.html").read_text()


def test_cv_is_incremental_and_remembers_its_options(project):
    options = ["REPEATS=1", "ITERATIONS=200", "LRS=0.005"]
    first = make(project, "cv", *options)
    assert first.returncode == 0, first.stderr
    assert "always answering" in first.stdout
    assert make(project, "-q", "cv", *options).returncode == 0
    assert [line.split("-m pipeline ")[1] for line in recipes(project, "cv", *options,
                                                              "L2=0 1")] == [
        "cv --repeats 1 --learning-rates 0.005 --num-iterations 200 --l2 0 1"]


def test_a_second_make_in_the_same_tree_refuses_and_the_flags_stay_with_the_artifacts(project):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    first = subprocess.Popen(["make", "--no-print-directory", "train", "LR=0.01",
                              "ITERATIONS=100000"], cwd=project, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = project / "data" / ".make.lock"
    deadline = time.monotonic() + 120
    while not lock.is_symlink() or os.readlink(lock) != str(first.pid):
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "make never took the lock"
        time.sleep(0.01)
    second = make(project, "train", "LR=0.001")
    assert second.returncode == 2
    assert second.stderr.count("\n") == 1 and "another make" in second.stderr
    assert f"(pid {first.pid})" in second.stderr
    assert first.wait(timeout=300) == 0
    assert (project / "data" / "models" / "train-args.txt").read_text().strip() == \
        "--learning-rate 0.01 --num-iterations 100000"
    assert make(project, "-q", "train", "LR=0.01", "ITERATIONS=100000").returncode == 0
    after = make(project, "train", "LR=0.001")  # the lock of a finished make is taken over
    assert after.returncode == 0 and "learning-rate 0.001" in after.stdout


def test_your_own_dataset_through_make_and_back_to_the_course(project, raw_files):
    write_course_photos(raw_files, project / "photos")
    assert "PHOTOS=folder" in make(project, "dataset").stderr  # nothing to build from
    built = make(project, "dataset", "PHOTOS=photos", "NAME=course")
    assert built.returncode == 0, built.stderr
    assert "209 train and 49 test photos" in built.stdout
    mine = make(project, "train", "DATA=data/datasets/course")
    assert mine.returncode == 0, mine.stderr
    # other data than the course's files: accuracies rounded (metrics.json keeps every digit)
    assert "train accuracy: 99.04 % (95% CI" in mine.stdout
    assert "test accuracy: 69.39 % (95% CI" in mine.stdout
    assert make(project, "-q", "train", "DATA=data/datasets/course").returncode == 0
    again = make(project, "dataset", "PHOTOS=photos", "NAME=course")
    assert again.returncode != 0 and "exists; choose another --out or add --force" in again.stderr
    missing = make(project, "train", "DATA=data/datasets/nowhere")
    assert missing.returncode != 0
    assert "error: data/datasets/nowhere/train.h5 not found" in missing.stderr
    course = make(project, "train")
    assert "test accuracy: 70.0 % (95% CI" in course.stdout


# The artifact that names each stage's run in Make, and what `make -n` shows for it.
STAGE_TARGETS = {"features": "data/processed/features.npz", "train": "data/models/params.npz",
                 "evaluate": "reports/metrics.json", "report": "reports/index.html",
                 "compare": "reports/compare/summary.json", "cv": "reports/cv/summary.json"}


@pytest.fixture
def up_to_date(tmp_path, raw_files):
    """A copy of the project whose every artifact is newer than its inputs (empty stand-ins:
    `make -n` only reads their times), so that a plan names exactly what an edit made stale.

    Times are set in the past, never the future: a module newer than the clock would make the
    included stage-deps.mk look stale at every restart of make."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, copy / name)
    for folder in ("pipeline", "scripts"):
        shutil.copytree(ROOT / folder, copy / folder, copy_function=shutil.copy2,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (copy / ".venv").symlink_to(ROOT / ".venv")
    assert make(copy, "-n", "report").returncode == 0  # writes the remembered flags, the deps
    now = time.time()
    for path in copy.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (now - 1000, now - 1000))
    artifacts = [*(f"data/raw/{p.name}" for p in raw_files), *STAGE_TARGETS.values(),
                 "reports/.assembled", "reports/compare/section.html", "reports/cv/section.html",
                 *(f"reports/{name}" for name in ("learning_curve.png", "evaluation.png",
                   "mislabeled.png", "mislabeled_train.png", "weights.png", "mislabeled.csv",
                   "section.html", "section.json"))]
    for name in artifacts:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).touch()
        os.utime(copy / name, (now - 500, now - 500))
    assert recipes(copy, *STAGE_TARGETS.values()) == []
    return copy


def planned_stages(project):
    """The stages `make -n` would run to bring every stage's artifact up to date."""
    return {line.split("-m pipeline ")[1].split()[0]
            for line in recipes(project, *STAGE_TARGETS.values())}


def test_editing_any_module_a_stage_runs_replans_that_stage_and_only_what_follows(up_to_date):
    runs = {stage: set(stage_modules(stage, up_to_date)) for stage in STAGE_TARGETS}
    # the modules the hand-typed lists missed before these were computed
    assert {"pipeline/nn/layers.py", "pipeline/engines/network.py",
            "pipeline/artifacts/features.py", "pipeline/artifacts/files.py"} <= runs["train"]
    assert {"pipeline/cv/minibatch.py", "pipeline/cv/folds.py",
            "pipeline/engines/masked_network.py", "pipeline/nn/optimizers.py"} <= runs["cv"]
    upstream = {"features": [], "train": ["features"], "evaluate": ["train", "features"],
                "report": ["evaluate", "train", "features"], "compare": ["features"],
                "cv": ["features"]}
    edited = time.time() - 100  # after the artifacts were made
    for path in sorted((up_to_date / "pipeline").rglob("*.py")):
        module = path.relative_to(up_to_date).as_posix()
        before = path.stat().st_mtime
        os.utime(path, (edited, edited))
        stale = {stage for stage, before_it in upstream.items()
                 if any(module in runs[s] for s in [stage, *before_it])}
        assert planned_stages(up_to_date) == stale, module
        os.utime(path, (before, before))


def test_a_new_module_is_followed_from_the_import_that_brings_it_in(up_to_date):
    (up_to_date / "pipeline" / "extra.py").write_text("VALUE = 1\n")
    stage = up_to_date / "pipeline" / "stages" / "evaluate.py"
    stage.write_text(stage.read_text() + "\n\ndef uses_extra():\n"
                     "    from pipeline.extra import VALUE\n    return VALUE\n")
    assert "pipeline/extra.py" in stage_modules("evaluate", up_to_date)
    users = {s for s in STAGE_TARGETS
             if "pipeline/stages/evaluate.py" in stage_modules(s, up_to_date)}
    assert planned_stages(up_to_date) == users | {"report"}  # and what follows evaluate
    (up_to_date / "pipeline" / "extra.py").unlink()  # gone again: recomputed, no missing rule
    stage.write_text(stage.read_text().split("\n\ndef uses_extra")[0])
    assert make(up_to_date, "-n", "reports/metrics.json").returncode == 0
