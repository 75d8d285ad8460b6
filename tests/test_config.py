"""The home of data/ and reports/: $CATVNONCAT_HOME where set, else the catvnoncat checkout the
current folder is in, else the current folder."""

import os
import subprocess
import sys

from helpers import ROOT

from pipeline import config
from pipeline.config import checkout_or_here

PYPROJECT = b'[project]\nname = "catvnoncat"\nversion = "0.1.0"\n'


def checkout(folder, pyproject=PYPROJECT):
    (folder / "pipeline").mkdir(parents=True)
    (folder / "pyproject.toml").write_bytes(pyproject)
    return folder


def test_inside_a_checkout_the_home_is_the_checkout(tmp_path):
    root = checkout(tmp_path / "clone")
    (root / "notebooks" / "deeper").mkdir(parents=True)
    assert checkout_or_here(root / "notebooks" / "deeper") == root
    assert checkout_or_here(root / "notebooks") == root
    assert checkout_or_here(root) == root


def test_the_nearest_checkout_is_the_home(tmp_path):
    outer = checkout(tmp_path)
    inner = checkout(outer / "work" / "clone")
    assert checkout_or_here(inner / "pipeline") == inner


def test_outside_any_checkout_the_home_is_the_current_folder(tmp_path):
    (tmp_path / "cats").mkdir()
    assert checkout_or_here(tmp_path / "cats") == tmp_path / "cats"


def test_a_folder_is_a_checkout_only_with_pipeline_and_catvnoncats_pyproject(tmp_path):
    others = {"another": b'[project]\nname = "another"\n',
              "no-name": b"[tool.ruff]\nline-length = 99\n",
              "not-a-table": b'project = "catvnoncat"\n',
              "not-toml": b"[project\nname = catvnoncat\n",
              "not-utf8": b'[project]\nname = "catvnoncat"\n# \xff\n'}
    for name, pyproject in others.items():
        folder = checkout(tmp_path / name, pyproject)
        assert checkout_or_here(folder / "pipeline") == folder / "pipeline", name
    no_pipeline = tmp_path / "no-pipeline"
    no_pipeline.mkdir()
    (no_pipeline / "pyproject.toml").write_bytes(PYPROJECT)
    assert checkout_or_here(no_pipeline) == no_pipeline
    no_pyproject = tmp_path / "no-pyproject"
    (no_pyproject / "pipeline").mkdir(parents=True)
    assert checkout_or_here(no_pyproject / "pipeline") == no_pyproject / "pipeline"


def home_dir(cwd, env_home=None):
    """config.HOME_DIR as a fresh interpreter in cwd makes it, with $CATVNONCAT_HOME or none."""
    env = {k: v for k, v in os.environ.items() if k != config.HOME_ENV}
    env = {**env, "PYTHONPATH": str(ROOT), **({config.HOME_ENV: env_home} if env_home else {})}
    result = subprocess.run([sys.executable, "-c", "from pipeline import config; "
                             "print(config.HOME_DIR)"], cwd=cwd, env=env, capture_output=True,
                            text=True, check=True)
    return result.stdout.strip()


def test_catvnoncat_home_wins_over_the_checkout(tmp_path):
    root = checkout(tmp_path / "clone")
    (root / "notebooks").mkdir()
    assert home_dir(root / "notebooks") == str(root)
    assert home_dir(root / "notebooks", str(tmp_path / "elsewhere")) == str(tmp_path / "elsewhere")
