"""Make's guard against clock skew: one line naming a file dated in the future.

A file newer than the clock stays newer than whatever is made from it, so make would remake that
at every run. Files unpacked from an archive or on a mounted folder can be so.
`python3 scripts/clock_skew.py PATH...` prints nothing when every file under the paths is dated
now or before, else the line make stops with.
Standard library only: it runs before the venv exists.
"""

import sys
import time
from pathlib import Path

SLACK = 2.0  # seconds: a file written this instant, on a coarser clock, is not skew


def future_files(paths, now):
    """[(seconds ahead, path)] of the files under paths dated after now, most ahead first."""
    ahead = []
    for top in map(Path, paths):
        files = [top] if top.is_file() else top.rglob("*")
        for path in files:
            if "__pycache__" in path.parts or not path.is_file():
                continue
            seconds = path.stat().st_mtime - now
            if seconds > SLACK:
                ahead.append((seconds, path.as_posix()))
    return sorted(ahead, reverse=True)


def duration(seconds):
    """3599.9 -> "1 h": the largest unit that it rounds to at least one of (two for days)."""
    for unit, size, least in (("days", 86400, 2), ("h", 3600, 1), ("min", 60, 1)):
        if round(seconds / size) >= least:
            return f"{round(seconds / size)} {unit}"
    return f"{round(seconds)} s"


def message(ahead):
    """The one line for [(seconds ahead, path)], or "" when it is empty."""
    if not ahead:
        return ""
    seconds, path = ahead[0]
    others = f" (and {len(ahead) - 1} other files are too)" if len(ahead) > 1 else ""
    return (f"{path} is dated {duration(seconds)} in the future{others}: make would "
            f"remake what depends on it at every run; set the clock right or touch "
            f"{'it' if len(ahead) == 1 else 'them'}, then run make again")


if __name__ == "__main__":
    print(message(future_files(sys.argv[1:], time.time())))
