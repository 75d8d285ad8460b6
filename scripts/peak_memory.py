#!/usr/bin/env python3
"""Run a command and report the peak memory of its whole process tree, as the machine feels it.

    python scripts/peak_memory.py [--interval 0.02] [--json FILE] [--limit-memory 600M] -- CMD...

Every --interval seconds it sums, over the command and all its descendants, figures of
/proc/PID/status and keeps the peak of each (MB = 10**6 bytes):
  - RssAnon + RssShmem: heap, NumPy arrays, stacks, and shared memory. Only swap can free
    these (often there is none), so this is the memory the run really needs.
  - RssFile: pages of memory-mapped files (interpreter, libraries, mmap-ed data): page cache
    the OS drops and reads again when memory is short.
`/usr/bin/time -f %M` differs: the max RSS (anon + file together) of the largest single process,
not the tree's sum (`make train` runs Python under make). Sampling misses spikes shorter than
the interval, and pages shared by forked processes count once per process.

--limit-memory SIZE runs the command in a new memory cgroup limited to SIZE (K, M, G are KiB,
MiB, GiB) without swap: v2 (memory.max, memory.swap.max = 0) if /sys/fs/cgroup/cgroup.controllers
lists memory, else v1 under our own cgroup or the root of /sys/fs/cgroup/memory (limit_in_bytes,
and memsw.limit_in_bytes where swap is counted). It reports the cgroup's peak (v2 memory.peak, v1
max_usage_in_bytes) and any OOM kill. Page cache counts against the limit too, but the kernel
reclaims it before it kills. It needs root.
"""

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text):
    number, unit = (text[:-1], text[-1].upper()) if text[-1:].isalpha() else (text, "")
    if unit not in UNITS or not number.isdigit():
        raise argparse.ArgumentTypeError(f"not a size like 600M or 1G: {text!r}")
    return int(number) * UNITS[unit]


def process_tree(root):
    """The pid `root` and the pids of all its descendants, from the ppid field of /proc/*/stat."""
    children = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # it ended since the listing
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])  # the name before ")" may hold spaces
        children.setdefault(ppid, []).append(int(entry.name))
    tree = [root]
    for pid in tree:
        tree.extend(children.get(pid, []))
    return tree


def rss(pid):
    """(anonymous + shmem, file) resident bytes of one process; zeros if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    kb = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("RssAnon", "RssFile", "RssShmem"):
            kb[name] = int(value.split()[0])
    return (kb.get("RssAnon", 0) + kb.get("RssShmem", 0)) * 1024, kb.get("RssFile", 0) * 1024


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def make_cgroup(limit):
    """A new memory cgroup limited to `limit` bytes, no swap: (path, is v2); exit 2 if none."""
    controllers, v1 = CGROUP_ROOT / "cgroup.controllers", CGROUP_ROOT / "memory"
    v2 = controllers.exists() and "memory" in controllers.read_text().split()
    if v2:
        parents, limit_file, swap_file, swap = [CGROUP_ROOT], "memory.max", "memory.swap.max", 0
    elif (v1 / "memory.limit_in_bytes").exists():  # under our own v1 cgroup, else at the root
        lines = [line.split(":", 2) for line in Path("/proc/self/cgroup").read_text().splitlines()]
        own = [v1 / path.lstrip("/") for _, names, path in lines if "memory" in names.split(",")]
        parents, limit_file = dict.fromkeys([*own, v1]), "memory.limit_in_bytes"
        swap_file, swap = "memory.memsw.limit_in_bytes", limit  # the limit of memory + swap
    else:
        fail(f"--limit-memory: no memory controller in cgroup v2 or v1 (at {v1})")
    for parent in parents:
        group = parent / f"peak_memory.{os.getpid()}"
        try:
            subtree = parent / "cgroup.subtree_control"
            if v2 and "memory" not in subtree.read_text().split():
                subtree.write_text("+memory")
            group.mkdir()
            (group / limit_file).write_text(str(limit))
        except OSError as error:
            problem = error
            with suppress(FileNotFoundError):
                group.rmdir()
            continue
        with suppress(OSError):  # no such file, or refused, where the kernel does not count swap
            (group / swap_file).write_text(str(swap))
        return group, v2
    fail(f"--limit-memory: cannot set up a cgroup: {problem}")


def report_cgroup(group, v2):
    """Print the cgroup's peak and OOM kills, then remove it; True if the limit killed."""
    peak = group / ("memory.peak" if v2 else "memory.max_usage_in_bytes")
    if peak.exists():
        note = "with page cache, which the kernel reclaims under the limit before it kills"
        print(f"cgroup peak {int(peak.read_text()) / 1e6:.0f} MB ({note})", file=sys.stderr)
    events = (group / ("memory.events" if v2 else "memory.oom_control")).read_text()
    killed = int(dict(line.split()[:2] for line in events.splitlines()).get("oom_kill", 0)) > 0
    for _ in range(50):  # the kernel may take a moment to empty it after the last exit
        try:
            group.rmdir()
            return killed
        except OSError:
            time.sleep(0.02)
    print(f"warning: could not remove {group} (processes left in it?)", file=sys.stderr)
    return killed


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between samples")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--limit-memory", type=parse_size, metavar="SIZE", help="e.g. 600M, 1G")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (put it after --)")

    group, v2 = make_cgroup(args.limit_memory) if args.limit_memory else (None, False)
    join_group = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()))) if group else None
    start = time.monotonic()
    try:
        child = subprocess.Popen(command, preexec_fn=join_group)
    except OSError as error:
        if group:
            group.rmdir()
        fail(f"cannot run {command[0]}: {error}")

    def forward(signum, _frame):
        # Ctrl-C in a terminal already reaches the child, which is in our foreground group.
        try:
            on_terminal = os.tcgetpgrp(0) == os.getpgrp()
        except OSError:  # stdin is no terminal
            on_terminal = False
        if signum != signal.SIGINT or not on_terminal:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    peak_anon = peak_file = 0
    while child.poll() is None:
        sizes = [rss(pid) for pid in process_tree(child.pid)]
        peak_anon = max(peak_anon, sum(anon for anon, _ in sizes))
        peak_file = max(peak_file, sum(file for _, file in sizes))
        time.sleep(args.interval)
    seconds = time.monotonic() - start

    summary = f"anonymous {peak_anon / 1e6:.0f} MB, file pages {peak_file / 1e6:.0f} MB"
    print(
        f"peak memory: {summary} (the OS can drop these), {seconds:.1f} s: {shlex.join(command)}",
        file=sys.stderr,
    )
    if group and report_cgroup(group, v2):
        print(f"killed by the memory limit ({args.limit_memory >> 20} MiB)", file=sys.stderr)
    if args.json:  # returncode -N: killed by signal N
        figures = {
            "command": command,
            "seconds": round(seconds, 3),
            "peak_rss_anon_bytes": peak_anon,
            "peak_rss_file_bytes": peak_file,
            "returncode": child.returncode,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    code = child.returncode
    sys.exit(code if code >= 0 else 128 - code)  # as a shell reports a signal


if __name__ == "__main__":
    main()
