"""Pixel rows written into an .npz a chunk at a time: a programming mistake in writing them is a
ValueError with the values, under python -O too (no assert)."""

import subprocess
import sys
import zipfile

import numpy as np
import pytest
from helpers import ROOT

from pipeline.artifacts.feature_file import map_pixels
from pipeline.artifacts.split_writer import write_rows_member


def written(path, shape, chunks):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        write_rows_member(archive, "train_pixels", shape, chunks)
    return path


def test_rows_written_by_chunks_read_back(tmp_path):
    rows = np.arange(7 * 5, dtype=np.uint8).reshape(7, 5)
    path = written(tmp_path / "f.npz", (7, 5), [rows[:3], rows[3:]])
    np.testing.assert_array_equal(map_pixels(path, "train_pixels", "remake it"), rows)
    np.testing.assert_array_equal(np.load(path)["train_pixels"], rows)  # an ordinary .npz


CHUNKS = {
    "too few rows": ([np.zeros((2, 5))], r"the chunks hold 2 rows, the shape says \(3, 5\)"),
    "too many rows": ([np.zeros((2, 5)), np.zeros((2, 5))],
                      r"a chunk of shape \(2, 5\) after 2 rows does not continue rows of shape"),
    "another width": ([np.zeros((3, 4))], r"a chunk of shape \(3, 4\) after 0 rows"),
}


@pytest.mark.parametrize("case", CHUNKS)
def test_chunks_that_do_not_make_the_declared_rows_are_a_value_error(tmp_path, case):
    chunks, message = CHUNKS[case]
    with pytest.raises(ValueError, match=message):
        written(tmp_path / "f.npz", (3, 5), chunks)


def test_python_dash_o_keeps_the_checks(tmp_path):
    """python -O strips assert statements; these checks must stay."""
    code = f"""
import zipfile, numpy as np
from pipeline.artifacts.split_writer import write_rows_member
with zipfile.ZipFile({str(tmp_path / 'a.npz')!r}, "w") as archive:
    try:
        write_rows_member(archive, "x", (3, 5), [np.zeros((2, 5))])
    except ValueError as err:
        print("ValueError:", err)
"""
    result = subprocess.run([sys.executable, "-O", "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ValueError: x: the chunks hold 2 rows, the shape says (3, 5)"]
