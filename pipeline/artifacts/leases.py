"""A file's rows memory-mapped for reading, and only while a lease says nobody may write it.

A mini-batch's 64 rows read from a map are one copy; by system calls they are 64 calls, at
25,000 images a quarter of an Adam epoch. But a mapped file cut short under its reader kills
the reader (SIGBUS), where no error line can be printed. So a map is made only under a read
lease (Linux's F_SETLEASE): the kernel then holds back any program that opens the file for
writing or truncates it, and first tells this process (SIGIO). The handler here gives the lease
back at once and drops the map, and reading goes on by system calls (artifacts.pixels.RowFile),
which meet the change as one error line. Only the main thread reads a map: the handler runs in
the main thread between two bytecodes, so no read of the map is under way when it drops it.
Where a lease cannot be had (macOS, Windows, a writer already, a filesystem without leases,
another thread, another SIGIO handler), there is no map, and reading is as before. Every lease
is given back at exit (Python then sets SIGIO back to its default, which ends the process), and
a forked child drops its copies of the maps: the signal goes to the parent.
"""

import atexit
import mmap
import os
import signal
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
from numpy.typing import NDArray

try:  # Linux's leases; elsewhere there are none, and no map
    import fcntl

    LEASES = hasattr(fcntl, "F_SETLEASE") and hasattr(signal, "SIGIO")
except ImportError:
    LEASES = False

HELD: "weakref.WeakSet[LeasedRows]" = weakref.WeakSet()  # the maps whose lease this process holds
CHAINED: list[Any] = []  # a Python SIGIO handler found installed, called after ours
CGROUPS = Path("/sys/fs/cgroup")


class LeasedRows:
    """uint8 rows (m, n_x) at offset in the file open as fd, mapped under a read lease taken
    on a descriptor of its own (a dup: the lease is the open file's, as the map is)."""

    def __init__(self, fd: int, offset: int, shape: tuple[int, int]) -> None:
        self.fd = os.dup(fd)
        self.rows: NDArray[np.uint8] | None = None
        self.map: mmap.mmap | None = None
        HELD.add(self)  # before the lease: a break at any moment from here on finds it
        fcntl.fcntl(self.fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)  # OSError where none can be had
        try:
            self.map = mmap.mmap(self.fd, 0, access=mmap.ACCESS_READ)
            count = shape[0] * shape[1]
            self.rows = np.frombuffer(self.map, np.uint8, count, offset).reshape(shape)
        except BaseException:  # no map: the lease, the open file's, must not outlive this
            self.rows = None
            self.let_go()
            raise
        if self.breaking():  # a break that came while the map was being made (rows was None)
            self.give_up()

    def readable(self) -> NDArray[np.uint8] | None:
        """The mapped rows, for the main thread while the lease holds; else None. A reader
        calls settle() once done with them."""
        return self.rows if threading.current_thread() is threading.main_thread() else None

    def give_up(self) -> None:
        """Drop the map, and give the lease back once no read of it is under way."""
        self.rows = None
        self.settle()

    def settle(self) -> None:
        """Give the lease back if the map was given up and nothing holds a view of it: while a
        read holds one (the handler ran between its two bytecodes), its own settle() does."""
        if self.rows is not None or self.map is None or self.map.closed:
            return
        try:
            self.map.close()
        except BufferError:  # a read's view of it: the writer waits until that read is done
            return
        self.let_go()

    def let_go(self) -> None:
        """Give the lease back (the writer held back then goes on)."""
        try:
            fcntl.fcntl(self.fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        except OSError:  # already gone (the kernel breaks a lease kept 45 s)
            pass

    def breaking(self) -> bool:
        """Whether the lease is being broken (F_GETLEASE then names the lease it is being cut
        to, not the read lease held), or cannot be read."""
        try:
            return bool(fcntl.fcntl(self.fd, fcntl.F_GETLEASE) != fcntl.F_RDLCK)
        except OSError:
            return True

    def __del__(self) -> None:
        if getattr(self, "fd", None) is not None:
            os.close(self.fd)  # the map's own descriptor goes with the map


def on_lease_break(signum: int, frame: FrameType | None) -> None:
    """SIGIO: give up every map whose lease is being broken, then call the handler found
    before this one."""
    for leased in list(HELD):
        if leased.rows is not None and leased.breaking():
            leased.give_up()
    for handler in CHAINED:
        handler(signum, frame)


@atexit.register
def let_all_go() -> None:
    """At exit, before Python sets SIGIO back to its default (which ends the process): every
    map dropped and every lease given back, so a writer then neither waits nor kills us."""
    for leased in list(HELD):
        leased.rows = None
        leased.let_go()


def forget_in_child() -> None:
    """In a forked child: the maps are the parent's to give up (SIGIO goes to it), so the
    child drops its copies and reads by system calls; the shared lease is left alone."""
    for leased in list(HELD):
        leased.rows = None
    HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=forget_in_child)


def handling_breaks() -> bool:
    """Whether on_lease_break handles SIGIO (installing it if it can: in the main thread, in
    place of the default or after a Python handler, which it then calls)."""
    current = signal.getsignal(signal.SIGIO)
    if current is on_lease_break:
        return True
    if current is None or threading.current_thread() is not threading.main_thread():
        return False  # a handler set outside Python, or a thread that may not set one
    if callable(current):
        CHAINED.append(current)
    signal.signal(signal.SIGIO, on_lease_break)
    return True


def cgroup_files() -> list[tuple[Path, Path, Path, str]]:
    """(limit, usage, stat, the stat's key for page cache it may drop first) files of this
    process's memory cgroups, v2 or v1, and of their ancestors."""
    found = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if not controllers:
            root, names = CGROUPS, ("memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):
            root = CGROUPS / "memory"
            names = ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
        else:
            continue
        folder = root / path.lstrip("/")
        while folder != root.parent and root in (folder, *folder.parents):
            found.append((folder / names[0], folder / names[1], folder / "memory.stat", names[2]))
            folder = folder.parent
    return found


def memory_headroom() -> int | None:
    """Bytes this process may still fill: MemAvailable, or less where a memory cgroup limits
    it (its limit less its usage, whose inactive page cache counts as free, as MemAvailable
    counts it); None where /proc/meminfo cannot be read."""
    try:
        meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text()
                       .splitlines())
        headroom = int(meminfo["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError, IndexError):
        return None
    try:
        files = cgroup_files()
    except (OSError, ValueError):  # no cgroups: the machine's memory is the limit
        files = []
    for limit, usage, stat, key in files:
        try:
            left = int(limit.read_text()) - int(usage.read_text())
        except (OSError, ValueError):  # not there, or "max": no limit at that level
            continue
        try:
            stats = dict(line.split(" ", 1) for line in stat.read_text().splitlines())
            left += int(stats.get(key, 0))
        except (OSError, ValueError):
            pass
        headroom = min(headroom, left)
    return headroom


def leased_rows(fd: int, offset: int, shape: Iterable[int]) -> LeasedRows | None:
    """The rows of the file open as fd (read-only) mapped under a lease, or None where no
    lease can be had, or where the rows would fill more than half the memory left: there a map
    pages its rows in and out 4 KB at a time, slower than reading them (then the caller reads
    by system calls)."""
    m, n_x = shape
    headroom = memory_headroom() if LEASES else None
    if headroom is None or 2 * m * n_x > headroom or not handling_breaks():
        return None
    try:
        leased = LeasedRows(fd, offset, (m, n_x))
    except (OSError, ValueError):  # no lease (a writer, a filesystem without them) or no map
        return None
    return leased if leased.rows is not None else None
