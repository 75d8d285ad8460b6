"""Rows are read from a memory map only while a lease holds writers back: another program that
writes the file waits until the map is given up, and the run then meets the change as one error
line, never a crash."""

import subprocess
import sys
import threading
import time
import zipfile

import numpy as np
import pytest

from pipeline.artifacts import leases
from pipeline.artifacts.leases import LEASES
from pipeline.artifacts.pixels import read_rows_members, write_rows_member
from pipeline.errors import UserError

if LEASES:
    import fcntl

pytestmark = pytest.mark.skipif(not LEASES, reason="no file leases on this system: no map")

ROWS = np.random.default_rng(0).integers(0, 256, (300, 96), dtype=np.uint8)  # (m, n_x)
WRITE_IN_PLACE = ("import sys\nwith open(sys.argv[1], 'r+b') as f:\n"
                  "    f.seek(-100, 2)\n    f.write(bytes(100))\n")


def written(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        write_rows_member(archive, "train_pixels", ROWS.shape, [ROWS])
    return path


@pytest.fixture
def row_file(tmp_path):
    path = written(tmp_path / "f.npz")
    rows = read_rows_members(path, ("train_pixels",), "remake it")["train_pixels"]
    if rows.leased is None:
        pytest.skip(f"no lease on a file in {tmp_path} (its filesystem has none)")
    return path, rows


def lease_of(rows):
    return fcntl.fcntl(rows.leased.fd, fcntl.F_GETLEASE)


def test_rows_come_from_the_map_as_they_would_by_system_calls(row_file):
    _, rows = row_file
    assert lease_of(rows) == fcntl.F_RDLCK
    picked = [299, 0, 1, 2, 150, 7]
    np.testing.assert_array_equal(rows[picked], ROWS[picked])
    np.testing.assert_array_equal(rows[10:60], ROWS[10:60])
    in_a_thread = []  # another thread reads by system calls, never the map
    thread = threading.Thread(target=lambda: in_a_thread.append(
        (rows.leased.readable(), rows[picked])))
    thread.start()
    thread.join()
    assert in_a_thread[0][0] is None
    np.testing.assert_array_equal(in_a_thread[0][1], ROWS[picked])


def test_a_program_that_writes_the_file_waits_for_the_map_to_be_given_up(row_file):
    path, rows = row_file
    # held back by the lease until this process's handler gives the map up; were the handler
    # missing, the kernel would hold it 45 s (lease-break-time) and the timeout would fire
    subprocess.run([sys.executable, "-c", WRITE_IN_PLACE, str(path)], check=True, timeout=30)
    assert rows.leased.rows is None and lease_of(rows) == fcntl.F_UNLCK
    with pytest.raises(UserError, match="changed while this run was reading it; remake it"):
        rows[[0, 5]]


def test_a_read_under_way_keeps_the_lease_until_it_is_done(row_file):
    _, rows = row_file
    leased = rows.leased
    view = leased.readable()  # a read holds the map when the handler runs
    leased.give_up()
    assert lease_of(rows) == fcntl.F_RDLCK  # the writer still waits
    np.testing.assert_array_equal(view[3], ROWS[3])  # the read finishes safely
    del view
    leased.settle()  # as the read does once it is done
    assert lease_of(rows) == fcntl.F_UNLCK and leased.map.closed
    np.testing.assert_array_equal(rows[[3]], ROWS[[3]])  # by system calls from now on


CHAINED = """
import signal, subprocess, sys
from pipeline.artifacts.pixels import read_rows_members
called = []
signal.signal(signal.SIGIO, lambda signum, frame: called.append(signum))  # someone's own
rows = read_rows_members(sys.argv[1], ("train_pixels",), "remake it")["train_pixels"]
subprocess.run([sys.executable, "-c", sys.argv[2], sys.argv[1]], check=True, timeout=30)
print(rows.leased is not None, rows.leased.rows is None, called == [signal.SIGIO])
"""


def test_a_sigio_handler_found_installed_is_still_called(row_file):
    path, _ = row_file
    result = subprocess.run([sys.executable, "-c", CHAINED, str(path), WRITE_IN_PLACE],
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["True", "True", "True"], result.stderr


def test_rows_that_would_fill_half_the_memory_left_are_read_by_system_calls(
        tmp_path, monkeypatch, row_file):
    path, _ = row_file  # a lease can be had here
    for headroom, mapped in ((2 * ROWS.size - 1, False), (2 * ROWS.size, True), (None, False)):
        monkeypatch.setattr(leases, "memory_headroom", lambda headroom=headroom: headroom)
        rows = read_rows_members(path, ("train_pixels",), "remake it")["train_pixels"]
        assert (rows.leased is not None) == mapped, headroom
        np.testing.assert_array_equal(rows[[5, 1]], ROWS[[5, 1]])


def test_the_memory_left_is_at_most_the_machines_memory():
    meminfo = dict(line.split(":", 1) for line in open("/proc/meminfo").read().splitlines())
    assert 0 < leases.memory_headroom() <= int(meminfo["MemTotal"].split()[0]) * 1024


def test_a_break_that_comes_while_the_map_is_made_is_not_lost(tmp_path, monkeypatch, row_file):
    path, _ = row_file  # a lease can be had here
    real_mmap, writers = leases.mmap.mmap, []

    def mmap_then_a_writer(*args, **kwargs):  # the lease is held, the map not yet kept
        made = real_mmap(*args, **kwargs)
        writers.append(subprocess.Popen([sys.executable, "-c", WRITE_IN_PLACE, str(path)]))
        time.sleep(0.5)  # its SIGIO comes meanwhile, and finds no map to give up
        return made

    monkeypatch.setattr(leases.mmap, "mmap", mmap_then_a_writer)
    rows = read_rows_members(path, ("train_pixels",), "remake it")["train_pixels"]
    assert writers[0].wait(timeout=30) == 0  # not held 45 s: the lease was given back
    assert rows.leased is None


def test_a_map_that_cannot_be_made_leaves_no_lease(tmp_path, monkeypatch, row_file):
    path, _ = row_file

    def no_memory(*args, **kwargs):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(leases.mmap, "mmap", no_memory)
    rows = read_rows_members(path, ("train_pixels",), "remake it")["train_pixels"]
    assert rows.leased is None
    subprocess.run([sys.executable, "-c", WRITE_IN_PLACE, str(path)], check=True, timeout=30)


AT_EXIT = """
import atexit, fcntl, sys
atexit.register(lambda: print(fcntl.fcntl(rows.leased.fd, fcntl.F_GETLEASE) == fcntl.F_UNLCK))
from pipeline.artifacts.pixels import read_rows_members  # its exit handler runs before ours
rows = read_rows_members(sys.argv[1], ("train_pixels",), "remake it")["train_pixels"]
print(rows.leased is not None)
"""


def test_every_lease_is_given_back_before_python_exits(row_file):
    """Python sets SIGIO back to its default (end the process) as it finalizes: a writer then
    would kill a run that has done its work, so no lease may outlive the exit handlers."""
    path, _ = row_file
    result = subprocess.run([sys.executable, "-c", AT_EXIT, str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.split() == ["True", "True"], result.stderr
