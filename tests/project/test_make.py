"""Make is incremental: a repeat runs no recipe, a changed hyperparameter retrains, a deleted
output is made again. Reading the Makefile writes nothing, one make runs at a time in a tree,
and it runs on GNU Make 3.81.

Each test works in a copy of the project (sharing .venv and the fetched data), so the developer's
own data/ and reports/ are never touched.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from helpers import ROOT, make, recipes, write_course_photos

from pipeline.page.run_figures import FIGURES
from pipeline.stages.compare import params_name


def test_train_then_nothing_then_retrain_on_a_new_rate(project):
    first = make(project, "train")
    assert first.returncode == 0, first.stderr
    assert "train accuracy: 99.04306220095694 % (95% CI" in first.stdout
    assert "test accuracy: 70.0 % (95% CI" in first.stdout
    assert make(project, "-q", "train").returncode == 0  # up to date: no recipe to run
    assert recipes(project, "train") == []
    planned = recipes(project, "train", "LR=0.01", "ITERATIONS=1500")
    assert [line.split("-m pipeline ")[1] for line in planned] == [
        "train --learning-rate 0.01 --num-iterations 1500 --metrics reports/metrics.json"]
    second = make(project, "train", "LR=0.01", "ITERATIONS=1500")
    assert "train accuracy: 99.52153110047847 %" in second.stdout
    assert make(project, "-q", "train", "LR=0.01", "ITERATIONS=1500").returncode == 0
    assert recipes(project, "train") != []  # back to the defaults: that is another model


def test_every_run_is_kept_listed_and_restored_instead_of_retrained(project):
    for flags in (["LR=0.01", "ITERATIONS=1500"], [], ["MODEL=l-layer"]):
        assert make(project, "train", *flags).returncode == 0
    listed = make(project, "runs")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines() if "course" in line]
    # (model, lr, test accuracy with its interval) of each run; the l-layer, trained last, is
    # the current one and first (the others may have been trained by an earlier test)
    assert {(row[-10], row[-7], " ".join(row[-4:-2])) for row in rows} >= {
        ("l-layer", "0.0075", "80.0 (66-90)"), ("logistic", "0.005", "70.0 (55-82)"),
        ("logistic", "0.01", "68.0 (53-80)")}
    assert rows[0][0] == "*" and "l-layer" in rows[0]
    again = make(project, "train", "LR=0.01", "ITERATIONS=1500")
    assert again.stderr.startswith("restored run ") and "steps" not in again.stderr
    assert "test accuracy: 68.0 %" in again.stdout
    refused = make(project, "runs-prune")
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1
    assert "say how many runs to keep: make runs-prune KEEP=20" in refused.stderr


def test_a_deleted_model_and_an_edit_of_the_package_are_restored_from_the_ledger(project):
    assert make(project, "train").returncode == 0
    params = project / "data" / "models" / "params.npz"
    params.unlink()  # what classify's hint then tells the user to remake with `make train`
    again = make(project, "train")
    assert again.returncode == 0, again.stderr
    assert params.is_file() and "restored run " in again.stderr
    assert "test accuracy: 70.0 %" in again.stdout
    os.utime(project / "pipeline" / "config.py")  # an edit: every stage runs again...
    edited = make(project, "train")
    assert "-m pipeline features" in edited.stdout and "-m pipeline train" in edited.stdout
    assert "restored run " in edited.stderr and "steps" not in edited.stderr  # ...no fit


def test_a_failed_train_keeps_the_model_and_make_says_so(project):
    assert make(project, "train").returncode == 0
    params = project / "data" / "models" / "params.npz"
    before = params.read_bytes()
    result = make(project, "train", "LR=-1")
    assert result.returncode != 0 and "must be a finite number > 0" in result.stderr
    assert params.read_bytes() == before


def test_help_is_the_default_and_lists_every_target(project):
    out = make(project).stdout
    for target in ("data", "features", "train", "evaluate", "calibrate", "report", "compare", "cv",
                   "classify", "bench", "test", "lint", "clean"):
        assert f"\n{target} " in out
    assert not re.search(r"\d+ min", out)  # how long the bench takes is the docs' to say


def test_report_after_train_does_not_retrain_and_a_repeat_does_nothing(project):
    assert make(project, "train").returncode == 0
    assert [line.split("-m pipeline ")[1] for line in recipes(project, "report")] == [
        "calibrate", "report"]
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
    assert "the majority guess (always non-cat: 65.6 %)" in first.stdout
    assert make(project, "-q", "cv", *options).returncode == 0
    assert [line.split("-m pipeline ")[1] for line in recipes(project, "cv", *options,
                                                              "L2=0 1")] == [
        "cv --repeats 1 --learning-rates 0.005 --num-iterations 200 --l2 0 1"]


def make_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}


def wait_for(state, what, timeout=60):
    """Poll until state() holds, for at most timeout seconds: a bounded wait, not a race."""
    deadline = time.monotonic() + timeout
    while not state():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.02)


# A goal that holds its make running until the test creates the file `release`.
HOLD = "hold:\n\t@while [ ! -e release ]; do sleep 0.05; done\n"


def holding_make(project):
    (project / "hold.mk").write_text(HOLD)
    return subprocess.Popen(["make", "--no-print-directory", "-f", "Makefile", "-f", "hold.mk",
                             "hold"], cwd=project, env=make_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_second_make_refuses_while_one_runs_and_the_lock_goes_when_it_ends(project):
    lock = project / "data" / ".make.lock"
    (project / "release").unlink(missing_ok=True)
    first = holding_make(project)
    try:
        wait_for(lambda: lock.is_symlink() and os.readlink(lock) == str(first.pid),
                 "the first make takes the lock")
        args = project / "data" / "models" / "train-args.txt"
        flags = args.read_text() if args.exists() else None
        second = make(project, "train", "LR=0.001")
        assert second.returncode == 2
        assert second.stderr.count("\n") == 1, second.stderr
        assert f"another make (pid {first.pid}) is running in {project};" in second.stderr
        assert (args.read_text() if args.exists() else None) == flags
        assert "usage: make TARGET" in make(project).stdout  # help needs no lock
        assert make(project, "-n", "train").returncode == 0  # nor does a dry run
    finally:
        (project / "release").touch()
    assert first.wait(timeout=60) == 0, first.communicate()
    wait_for(lambda: not lock.is_symlink(), "the lock is removed once its make has ended", 10)


def test_a_lock_naming_an_ended_make_or_another_program_is_taken_over(project, tmp_path):
    lock = project / "data" / ".make.lock"
    (project / "release").touch()
    ended = subprocess.Popen(["true"])
    ended.wait()
    cmake = tmp_path / "cmake"  # a running program whose name holds "make"
    shutil.copy2(shutil.which("sleep"), cmake)
    other = subprocess.Popen([cmake, "60"])
    (project / "hold.mk").write_text(HOLD)
    try:
        for holder in (ended.pid, other.pid):
            lock.unlink(missing_ok=True)
            lock.symlink_to(str(holder))
            result = make(project, "-f", "Makefile", "-f", "hold.mk", "hold")
            assert result.returncode == 0 and result.stderr == "", (holder, result.stderr)
    finally:
        other.kill()
        other.wait()


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


# The file that names each stage's run in Make: the stage's output, or the list of a set of them.
STAGE_TARGETS = {"features": "data/processed/features.npz", "train": "data/models/params.npz",
                 "calibrate": "data/models/calibration.npz", "report": "reports/report-files.txt",
                 "compare": "reports/compare/files.txt", "cv": "reports/cv/files.txt"}
METRICS = "reports/metrics.json"  # train's too: one run writes the model and its metrics
STAGES = set(STAGE_TARGETS)


def copy_project(folder, raw_files=()):
    """The project's sources copied into folder (times kept), its .venv linked, and raw_files
    copied into data/raw."""
    folder.mkdir()
    for name in ("Makefile", "pyproject.toml", "requirements.lock", "README.md"):
        shutil.copy2(ROOT / name, folder / name)
    for name in ("pipeline", "scripts"):
        shutil.copytree(ROOT / name, folder / name, copy_function=shutil.copy2,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (folder / ".venv").symlink_to(ROOT / ".venv")
    (folder / "data" / "raw").mkdir(parents=True)
    for path in raw_files:
        shutil.copy2(path, folder / "data" / "raw" / path.name)
    return folder


# The files that remember each stage's flags, and the list of other stages' sections.
FLAG_FILES = ("data/processed/features-args.txt", "data/models/train-args.txt",
              "data/models/calibrate-args.txt", "data/models/compare-args.txt",
              "data/models/cv-args.txt", "reports/.sections", "data/.package-files")


@pytest.fixture
def up_to_date(tmp_path, raw_files):
    """A copy of the project whose every artifact is newer than its inputs (empty stand-ins:
    `make -n` only reads their times; the sets' lists name no file), so that a plan names
    exactly what an edit made stale.

    Times are set in the past, never the future (make would stop: a clock skew)."""
    copy = copy_project(tmp_path / "project")
    artifacts = [*(f"data/raw/{p.name}" for p in raw_files), *STAGE_TARGETS.values(), METRICS,
                 "reports/.assembled", "reports/compare/section.html", "reports/cv/section.html"]
    for name in artifacts:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).touch()
    assert make(copy, *FLAG_FILES).returncode == 0  # a real run writes them
    now = time.time()
    for path in copy.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (now - 1000, now - 1000))
    for name in artifacts:
        os.utime(copy / name, (now - 500, now - 500))
    assert recipes(copy, *STAGE_TARGETS.values(), "report") == []
    return copy


def planned_stages(project):
    """The stages `make -n` would run to bring every stage's artifact up to date."""
    return {line.split("-m pipeline ")[1].split()[0]
            for line in recipes(project, *STAGE_TARGETS.values())}


def test_an_edit_anywhere_in_the_package_replans_every_stage(up_to_date):
    edited = time.time() - 100  # after the artifacts were made
    for name in ("pipeline/nn/logistic.py", "pipeline/page/style.css", "pipeline/__main__.py"):
        path = up_to_date / name
        before = path.stat().st_mtime
        os.utime(path, (edited, edited))
        assert planned_stages(up_to_date) == STAGES, name
        os.utime(path, (before, before))
    new = up_to_date / "pipeline" / "extra.py"
    new.write_text("VALUE = 1\n")
    assert planned_stages(up_to_date) == STAGES
    new.unlink()  # gone again: no missing rule
    assert planned_stages(up_to_date) == set()
    os.utime(up_to_date / "scripts" / "bench.py", (edited, edited))  # not the package
    assert planned_stages(up_to_date) == set()


def test_a_file_deleted_from_the_package_replans_every_stage(up_to_date):
    (up_to_date / "pipeline" / "py.typed").unlink()  # no time stamp says so: the list does
    assert planned_stages(up_to_date) == STAGES


def test_pythons_cache_in_the_package_is_no_prerequisite(up_to_date):
    cache = up_to_date / "pipeline" / "page" / "__pycache__"
    cache.mkdir()
    (cache / "assemble.cpython-311.pyc").write_bytes(b"compiled just now")
    assert planned_stages(up_to_date) == set()
    assert recipes(up_to_date, "report") == []


# Every file each stage's recipe writes, as its stage names them: after `make GOAL`, deleting
# any one of them makes `make GOAL` run that stage again.
OPTIONS = ("ITERATIONS=200", "LRS=0.005", "REPEATS=1")  # small runs, the same for every goal
OUTPUTS = {
    "features": ["data/processed/features.npz"],
    "train": ["data/models/params.npz", METRICS],
    "evaluate": ["data/models/params.npz", METRICS],
    "calibrate": ["data/models/calibration.npz"],
    "report": [*(f"reports/{name}" for name in (*FIGURES, "mislabeled.csv", "section.html",
                                                 "section.json", "index.html")),
               STAGE_TARGETS["report"]],
    "compare": [*(f"reports/compare/{name}" for name in (
        "summary.json", "summary.md", "learning_rates.png", params_name(0.005), "section.html",
        "section.json")), STAGE_TARGETS["compare"]],
    "cv": [*(f"reports/cv/{name}" for name in ("summary.json", "summary.md", "cv.png",
                                                "settings.png", "section.html", "section.json")),
           STAGE_TARGETS["cv"]],
}
STAGE_OF = {"evaluate": "train"}  # the goal whose recipe is another stage's


@pytest.fixture(scope="module")
def every_stage(tmp_path_factory, raw_files):
    """A copy of the project where every stage has run, with OPTIONS: all up to date."""
    copy = copy_project(tmp_path_factory.mktemp("every") / "project", raw_files)
    for goals in (("compare", "cv"), ("report",)):  # the page last, with both sections
        result = make(copy, *goals, *OPTIONS)
        assert result.returncode == 0, result.stderr
    assert make(copy, "-q", *OUTPUTS, *OPTIONS).returncode == 0
    return copy


def test_each_set_lists_every_file_it_writes(every_stage):
    for stage in ("report", "compare", "cv"):
        listed = every_stage / STAGE_TARGETS[stage]
        named = {f"{listed.parent.relative_to(every_stage).as_posix()}/{name}"
                 for name in listed.read_text().split()}
        assert named == set(OUTPUTS[stage]) - {STAGE_TARGETS[stage]}, stage


@pytest.mark.parametrize(("goal", "output"), [(goal, output) for goal, outputs in OUTPUTS.items()
                                              for output in outputs])
def test_a_deleted_output_is_made_again_by_its_stage(every_stage, goal, output, tmp_path):
    path, away = every_stage / output, tmp_path / "away"
    os.replace(path, away)
    try:
        assert make(every_stage, "-q", goal, *OPTIONS).returncode == 1
        planned = {line.split("-m pipeline ")[1].split()[0]
                   for line in recipes(every_stage, goal, *OPTIONS)}
        assert STAGE_OF.get(goal, goal) in planned
    finally:
        os.replace(away, path)  # its time kept: up to date again
    assert make(every_stage, "-q", goal, *OPTIONS).returncode == 0


def test_make_data_fetches_a_deleted_h5_file_again(tmp_path, raw_files):
    copy = copy_project(tmp_path / "project", raw_files)
    mirror = f"CATVNONCAT_DATA_MIRROR={raw_files[0].parent}"  # exported to the recipe
    for path in raw_files:
        (copy / "data" / "raw" / path.name).unlink()
        result = make(copy, "data", mirror)
        assert result.returncode == 0, result.stderr
        assert (copy / "data" / "raw" / path.name).read_bytes() == path.read_bytes()


def tree_state(root):
    """Every path under root but .venv, with its modification time: what a command wrote."""
    state = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if name != ".venv"]
        for name in [*dirs, *files]:
            path = Path(folder, name)
            state[path.relative_to(root).as_posix()] = path.lstat().st_mtime_ns
    return state


def test_make_help_and_dry_runs_write_nothing(tmp_path, raw_files):
    copy = copy_project(tmp_path / "project", raw_files)
    reads = [(), ("help",), ("-n", "train", "LR=0.01"), ("-q", "report"),
             ("-n", "cv", "FOLDS=3"), ("-n", "compare", "LRS=0.1")]

    def nothing_written():
        before = tree_state(copy)
        for args in reads:
            result = make(copy, *args)
            assert result.returncode in (0, 1) and "rror" not in result.stderr, result.stderr
            assert tree_state(copy) == before, args

    nothing_written()  # a fresh tree: no flags remembered
    plan = make(copy, "-n", "train", "LR=0.01").stdout
    assert "-m pipeline train --learning-rate 0.01" in plan
    assert make(copy, "train").returncode == 0
    lock = copy / "data" / ".make.lock"
    wait_for(lambda: not lock.is_symlink(), "the lock is removed once its make has ended", 10)
    nothing_written()  # now against remembered flags that the dry runs' flags differ from


def test_a_source_dated_in_the_future_stops_make_in_one_line(up_to_date):
    module = up_to_date / "pipeline" / "nn" / "layers.py"
    ahead = time.time() + 3600
    os.utime(module, (ahead, ahead))
    for args in (("-n", "train"), ("train",)):
        result = subprocess.run(["make", "--no-print-directory", *args], cwd=up_to_date,
                                env=make_env(), capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert "pipeline/nn/layers.py is dated 1 h in the future" in lines[0]
    assert make(up_to_date, "help").stderr == ""  # help reads no source


# What GNU Make 3.81 (macOS's make) lacks, in the Makefile outside its recipes: the version that
# brought it. Recipes are shell, where `!=` is a test, and comments may name them.
NEWER_MAKE = {r"&:": "4.3 (grouped targets)", r"\$\(file\s": "4.0", r"^\s*undefine\b": "3.82",
              r"^\s*\.ONESHELL\b": "3.82", r"\.RECIPEPREFIX": "3.82", r"^\s*private\s": "3.82",
              r"^[^#=]*\s(!|::)=": "4.0", r"^\s*define\s+\S+\s*[:+?!]?=": "3.82",
              r"\$\((let|intcmp)\s": "4.4", r"\.EXTRA_PREREQS|\.NOTINTERMEDIATE": "4.3",
              r"\.SHELLSTATUS": "4.2", r"\$\(guile\s": "4.0", r"^\s*-?load\s": "4.0"}


def test_the_makefile_needs_nothing_newer_than_gnu_make_3_81(tmp_path):
    lines = [line for line in (ROOT / "Makefile").read_text().splitlines()
             if not line.startswith("\t") and not line.lstrip().startswith("#")]
    for pattern, version in NEWER_MAKE.items():
        found = [line for line in lines if re.search(pattern, line)]
        assert not found, f"GNU Make {version}: {found}"
    # the two .h5 files, made by one run of one rule (a pattern rule with two targets)
    copy = copy_project(tmp_path / "project")
    assert [line.split("-m pipeline ")[1].strip() for line in recipes(copy, "features")] == [
        "data", "features"]


def test_ci_stops_at_once_without_the_data_mirror(tmp_path):
    clone = tmp_path / "work" / "clone"
    shutil.copytree(ROOT / ".ci", clone / ".ci")
    bin_dir = tmp_path / "bin"  # a make that only notes how it was called
    bin_dir.mkdir()
    (bin_dir / "make").write_text('#!/bin/sh\necho "$CI $CATVNONCAT_DATA_MIRROR $*" >> '
                                  f'{tmp_path}/calls\n')
    (bin_dir / "make").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for name in ("CATVNONCAT_DATA_MIRROR", "CI"):
        env.pop(name, None)
    missing = subprocess.run([clone / ".ci" / "run"], env=env, capture_output=True, text=True)
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: no folder ../shared/datasets beside ")
    assert missing.stderr.count("\n") == 1 and not (tmp_path / "calls").exists()
    mirror = tmp_path / "work" / "shared" / "datasets"
    mirror.mkdir(parents=True)
    ran = subprocess.run([clone / ".ci" / "run"], env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "calls").read_text().splitlines() == [
        f"true {mirror} test", f"true {mirror} test-portable PORTABLE_TESTS=-m portable"]
