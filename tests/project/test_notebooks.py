"""The notebooks: committed without outputs, on the library, and a lesson a learner can change.

`make test` runs every notebook as it is (scripts/run_notebooks.py); these tests hold what that
run cannot: that a changed setting gives new numbers rather than an AssertionError, and that a
failing cell is one line naming the notebook and the cell."""

import importlib.util
import json
import re

import pytest
from helpers import ROOT

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


def test_a_learner_who_changes_the_rate_sees_new_numbers(tmp_path):
    pytest.importorskip("nbclient")
    lesson = json.loads((ROOT / "notebooks" / "01_one_neuron.ipynb").read_text())
    settings = [c for c in lesson["cells"] if "".join(c["source"]).startswith("learning_rate =")]
    assert len(settings) == 1
    settings[0]["source"] = ["learning_rate = 0.01\n", "num_iterations = 300\n"]
    changed = tmp_path / "lesson.ipynb"
    changed.write_text(json.dumps(lesson))
    assert run_notebooks.execute(changed, tmp_path) is None  # no AssertionError
    page = (tmp_path / "lesson.html").read_text()
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
