"""Pixel rows in an .npz: a programming mistake in writing or reading them is a ValueError with
the values, under python -O too (no assert)."""

import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import ROOT

from pipeline.artifacts.pixels import RowFile, read_rows_members, write_rows_member


def written(path, shape, chunks):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        write_rows_member(archive, "train_pixels", shape, chunks)
    return path


def test_rows_written_by_chunks_read_back(tmp_path):
    rows = np.arange(7 * 5, dtype=np.uint8).reshape(7, 5)
    path = written(tmp_path / "f.npz", (7, 5), [rows[:3], rows[3:]])
    got = read_rows_members(path, ("train_pixels",), "remake it")["train_pixels"]
    np.testing.assert_array_equal(got[0:7], rows)
    np.testing.assert_array_equal(got[[6, 0, 1]], rows[[6, 0, 1]])


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


def test_a_slice_with_a_step_is_a_value_error(tmp_path):
    path = written(tmp_path / "f.npz", (4, 5), [np.ones((4, 5))])
    rows = read_rows_members(path, ("train_pixels",), "remake it")["train_pixels"]
    assert isinstance(rows, RowFile)
    with pytest.raises(ValueError, match="a slice's step must be 1, not 2"):
        rows[::2]


def test_python_dash_o_keeps_the_checks(tmp_path):
    """python -O strips assert statements; these checks must stay."""
    code = f"""
import zipfile, numpy as np
from pipeline.artifacts.pixels import write_rows_member, read_rows_members
with zipfile.ZipFile({str(tmp_path / 'a.npz')!r}, "w") as archive:
    try:
        write_rows_member(archive, "x", (3, 5), [np.zeros((2, 5))])
    except ValueError as err:
        print("ValueError:", err)
with zipfile.ZipFile({str(tmp_path / 'b.npz')!r}, "w") as archive:
    write_rows_member(archive, "x", (4, 5), [np.zeros((4, 5))])
try:
    read_rows_members({str(tmp_path / 'b.npz')!r}, ("x",), "")["x"][::2]
except ValueError as err:
    print("ValueError:", err)
"""
    result = subprocess.run([sys.executable, "-O", "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ValueError: x: the chunks hold 2 rows, the shape says (3, 5)",
        "ValueError: rows are read in runs: a slice's step must be 1, not 2"]
