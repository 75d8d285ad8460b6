"""Make is incremental: a repeat runs no recipe, a changed hyperparameter retrains.

Each test works in a copy of the project (sharing .venv and the fetched data), so the developer's
own data/ and reports/ are never touched.
"""

import os
import subprocess

from conftest import make, recipes, write_course_photos


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
    while not lock.is_symlink() or os.readlink(lock) != str(first.pid):
        assert first.poll() is None, first.communicate()
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
