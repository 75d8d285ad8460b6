"""Pixel rows in an .npz: a programming mistake in writing or reading them is a ValueError with
the values, under python -O too (no assert)."""

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from helpers import ROOT

from pipeline.artifacts.feature_file import load_features
from pipeline.artifacts.pixels import RowFile, data_offset, read_rows_members, write_rows_member
from pipeline.columns import take
from pipeline.errors import UserError


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


@pytest.mark.portable
def test_a_features_file_changed_during_a_run_is_refused(features_file, tmp_path):
    copy = tmp_path / "features.npz"
    copy.write_bytes(features_file.read_bytes())
    pixels = load_features(copy)["X_train"]
    take(pixels, [0])
    with open(copy, "r+b") as f:  # rewritten in place: same name, other bytes
        f.seek(-100, os.SEEK_END)
        f.write(b"\0" * 100)
    with pytest.raises(UserError, match="changed while this run was reading it.*make features"):
        take(pixels, [1])


@pytest.mark.portable
def test_a_features_file_replaced_during_a_run_is_refused(features_file, tmp_path):
    path = tmp_path / "features.npz"
    path.write_bytes(features_file.read_bytes())
    pixels = load_features(path)["X_test"]
    other = tmp_path / "new.npz"
    other.write_bytes(features_file.read_bytes())
    os.replace(other, path)  # as `make features` does: a new file under the same name
    with pytest.raises(UserError, match=f"{path} changed while this run"):
        take(pixels, [0])


@pytest.mark.portable
def test_a_truncated_file_under_a_run_is_one_error_not_a_crash(features_file, tmp_path):
    copy = tmp_path / "features.npz"
    copy.write_bytes(features_file.read_bytes())
    rows = load_features(copy)["X_train"].rows
    # cut short by another program, as it would be (held back while a lease maps the rows)
    subprocess.run([sys.executable, "-c", "import os, sys; os.truncate(sys.argv[1], "
                    f"{rows.offset + 10 * rows.shape[1]})", str(copy)], check=True, timeout=60)
    rows.identity = rows.identity[:2] + (os.stat(copy).st_size, os.stat(copy).st_mtime_ns)
    with pytest.raises(UserError, match="ended before row .*make features"):
        rows[5:20]


@pytest.mark.parametrize("where", [0, 4 * 1024 * 1024 + 3, -1])  # first, the 2nd part's, last
def test_one_flipped_pixel_is_caught_by_the_crc_wherever_it_sits(tmp_path, where):
    rows = np.random.default_rng(0).integers(0, 256, (700, 12288), dtype=np.uint8)  # 8.6 MB
    path = written(tmp_path / "f.npz", rows.shape, [rows])
    assert read_rows_members(path, ("train_pixels",), "remake it")["train_pixels"][[3]].shape
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("train_pixels.npy")
    start = data_offset(path, info) + 128  # after the .npy header
    data = bytearray(path.read_bytes())
    data[start + where % rows.size] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="damaged .*Bad CRC-32.*; remake it"):
        read_rows_members(path, ("train_pixels",), "remake it")
