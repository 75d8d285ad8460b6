"""Installed anywhere: `pip install .` puts the package in site-packages, and its stages write
data/ and reports/ into the current folder (or $CATVNONCAT_HOME), never beside themselves."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

from pipeline import config


def listing(folder):
    """Every file under folder with its size and mtime, __pycache__ left out (Python's own)."""
    return {(str(path.relative_to(folder)), path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts}


def child_env(site, **extra):
    """os.environ with only the installed copy importable, and the home unset unless given."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", config.HOME_ENV)}
    return {**env, "PYTHONPATH": str(site), **extra}


def run(command, cwd, env):
    result = subprocess.run(list(map(str, command)), cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"{command}: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory, raw_files):
    """The package as `pip install .` installs it, into a fresh --target folder: no network, no
    dependencies (the venv has them), built from a copy so the checkout gets no build/."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "pipeline", source / "pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--no-cache-dir", "--disable-pip-version-check", "--quiet", "--target", tmp / "site",
         "."], source, os.environ)
    return tmp / "site"


def test_installed_stages_write_into_the_current_folder_and_nowhere_else(site, raw_files,
                                                                         trained, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    env = child_env(site, **{config.MIRROR_ENV: str(raw_files[0].parent)})
    where = run([sys.executable, "-c", "import pipeline; print(pipeline.__file__)"], work, env)
    assert where.strip() == str(site / "pipeline" / "__init__.py")  # not the checkout's copy
    before = listing(site)
    for stage in ("data", "features", "train", "evaluate", "report"):
        out = run([sys.executable, "-m", "pipeline", stage], work, env)
        if stage == "evaluate":  # the installed copy's run is the checkout's
            assert out == trained[2]
    assert listing(site) == before  # the install is as pip left it
    for path in ("data/raw/train_catvnoncat.h5", "data/raw/test_catvnoncat.h5",
                 "data/processed/features.npz", "data/models/params.npz",
                 "reports/metrics.json", "reports/index.html", "reports/learning_curve.png"):
        assert (work / path).is_file(), path
    assert sorted(p.name for p in work.iterdir()) == ["data", "reports"]
    page = (work / "reports" / "index.html").read_text()  # its templates came from site
    metrics = json.loads((work / "reports" / "metrics.json").read_text())
    assert f"{metrics['train_accuracy']} %" in page and "{{" not in page


def test_the_console_script_writes_into_catvnoncat_home(site, raw_files, trained, tmp_path):
    script = site / "bin" / "catvnoncat"
    elsewhere, home = tmp_path / "elsewhere", tmp_path / "home"
    elsewhere.mkdir()
    env = child_env(site, **{config.MIRROR_ENV: str(raw_files[0].parent),
                             config.HOME_ENV: str(home)})
    assert "train" in run([script, "--help"], elsewhere, env)
    before = listing(site)
    for stage in ("data", "features", "train", "evaluate"):
        out = run([script, stage], elsewhere, env)
    assert out == trained[2]  # evaluate's lines, as the checkout's run prints them
    assert list(elsewhere.iterdir()) == []
    assert (home / "data" / "models" / "params.npz").is_file()
    assert (home / "reports" / "metrics.json").is_file()
    assert listing(site) == before


def home_of(cwd, env_home=None, code="print(config.HOME_DIR)"):
    """What pipeline.config (the checkout's) makes of a folder and $CATVNONCAT_HOME."""
    env = {**child_env(ROOT), **({config.HOME_ENV: env_home} if env_home is not None else {})}
    return subprocess.run([sys.executable, "-c", f"from pipeline import config; {code}"],
                          cwd=cwd, env=env, capture_output=True, text=True)


def test_the_home_is_the_current_folder_or_catvnoncat_home_fixed_at_import(tmp_path):
    (tmp_path / "a").mkdir()
    assert home_of(tmp_path).stdout.strip() == str(tmp_path)
    assert home_of(tmp_path, "").stdout.strip() == str(tmp_path)  # empty is unset
    assert home_of(tmp_path, "a").stdout.strip() == str(tmp_path / "a")  # made absolute
    assert home_of(tmp_path / "a", str(tmp_path)).stdout.strip() == str(tmp_path)
    moved = home_of(tmp_path, code="import os; os.chdir('a'); print(config.FEATURES_FILE)")
    assert moved.stdout.strip() == str(tmp_path / "data" / "processed" / "features.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]  # importing wrote nothing
    assert list((tmp_path / "a").iterdir()) == []


def test_a_deleted_current_folder_is_one_line(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read(); "
                              "from pipeline.__main__ import cli; sys.exit(cli(['train']))"],
                             cwd=gone, env=child_env(ROOT), stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    gone.rmdir()  # while the child sits in it, as a shell whose folder was removed
    _, stderr = child.communicate("", timeout=60)
    assert child.returncode == 1
    assert stderr.strip() == (f"error: the current folder no longer exists; cd into one or set "
                              f"{config.HOME_ENV}")
