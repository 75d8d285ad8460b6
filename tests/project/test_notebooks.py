"""The notebooks: committed without outputs, on the library, and a lesson a learner can change.

`make test` runs every notebook as it is (scripts/run_notebooks.py); these tests hold what that
run cannot: that a changed setting gives new numbers rather than an AssertionError, and that a
failing cell is one line naming the notebook and the cell."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT, one_page_site

from pipeline import config

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

spec = importlib.util.spec_from_file_location("run_notebooks",
                                              ROOT / "scripts" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_notebooks)


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_hold_no_outputs(path):
    for cell in code_cells(path):
        assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_call_the_library_not_the_pipeline(path):
    code = "".join("".join(cell["source"]) for cell in code_cells(path))
    assert "from pipeline" in code
    assert "python -m pipeline" not in code and "!make" not in code and "subprocess" not in code


def checkout_copy(folder, raw_files):
    """A checkout as a learner's clone holds it after `make data`: its pyproject.toml and
    pipeline/, a notebooks/ folder and the .h5 files in data/raw."""
    folder.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", folder / "pyproject.toml")
    shutil.copytree(ROOT / "pipeline", folder / "pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "notebooks").mkdir()
    (folder / "data" / "raw").mkdir(parents=True)
    for path in raw_files:
        shutil.copy2(path, folder / "data" / "raw" / path.name)
    return folder


def test_a_learner_who_opens_the_lesson_in_its_folder_and_changes_the_rate_sees_new_numbers(
        tmp_path, raw_files, monkeypatch):
    """As Jupyter and VS Code run it: the kernel in notebooks/, no CATVNONCAT_HOME set. The home
    is the checkout above, whichever pipeline the kernel imports (here the real one)."""
    pytest.importorskip("nbclient")
    checkout = checkout_copy(tmp_path / "checkout", raw_files)
    lesson = json.loads((ROOT / "notebooks" / "01_one_neuron.ipynb").read_text())
    settings = [c for c in lesson["cells"] if "".join(c["source"]).startswith("learning_rate =")]
    assert len(settings) == 1
    settings[0]["source"] = ["learning_rate = 0.01\n", "num_iterations = 300\n"]
    lesson["cells"].append({"cell_type": "code", "id": "home", "metadata": {}, "outputs": [],
                            "execution_count": None, "source": ["print(config.RAW_DIR)\n"]})
    changed = checkout / "notebooks" / "lesson.ipynb"
    changed.write_text(json.dumps(lesson))
    monkeypatch.delenv(config.HOME_ENV)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    assert run_notebooks.execute(changed, tmp_path) is None  # no AssertionError, no missing data
    page = (tmp_path / "lesson.html").read_text()
    assert str(checkout / "data" / "raw") in page  # the copy's data, not ROOT's
    printed = re.findall(r"train accuracy: ([0-9.]+) %", page)  # the output, not the code
    assert len(printed) == 1 and float(printed[0]) != 99.04306220095694
    assert "300 iterations at learning rate 0.01" in page  # the curve's line follows it


def test_a_failing_cell_is_one_line_naming_the_notebook_and_the_cell(tmp_path, capfd):
    pytest.importorskip("nbclient")
    broken = {"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "outputs": [],
                         "execution_count": None, "source": ["x = 1\n"]},
                        {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [],
                         "execution_count": None, "source": ["assert x == 2, 'not the course'\n"]}],
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                          "language": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps(broken))
    error = run_notebooks.execute(path, tmp_path)
    assert error == f"{path}, code cell 2: AssertionError: not the course"
    assert (tmp_path / "broken.html").exists()  # the executed page shows where it stopped
    # capfd, not capsys: the kernel is a child process, writing to this process's descriptor 2
    assert "without encryption" not in capfd.readouterr().err


def test_the_sites_notebooks_run_without_the_tcp_warning(tmp_path):
    """docs/conf.py sends myst-nb's kernels over IPC, as run_notebooks.py does: a one-notebook
    copy of the site builds under -W and says nothing about TCP."""
    pytest.importorskip("myst_nb")
    site = one_page_site(tmp_path, "# A page\n\n```{toctree}\nanswer\n```\n")
    answer = {"cells": [{"cell_type": "markdown", "id": "a", "metadata": {},
                         "source": ["# The answer\n"]},
                        {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [],
                         "execution_count": None, "source": ["print(6 * 7)\n"]}],
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                          "language": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "docs" / "answer.ipynb").write_text(json.dumps(answer))
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", *site],
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "without encryption" not in result.stderr, result.stderr
    assert re.search(r">42\s*<", (tmp_path / "site" / "answer.html").read_text())  # it ran
