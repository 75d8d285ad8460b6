"""What every stage's command line shares: one-line errors, argument checks, progress bars."""

import argparse
import math
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, TypeVar

from pipeline.errors import UserError

if TYPE_CHECKING:  # tqdm is imported where a bar is made, for a faster start
    from tqdm import tqdm

T = TypeVar("T")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (and exit code 2) instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def number_type(convert: Callable[[str], T], kind: str, fits: Callable[[T], bool],
                requirement: str) -> Callable[[str], T]:
    """An argparse type: the text converted, and checked, each failure one clear message."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not fits(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be {requirement}")
        return value

    return parse


# A learning rate; an L2 strength; a probability or a share; a decay rate; a count; a seed.
positive_float = number_type(float, "a number", lambda v: math.isfinite(v) and v > 0,
                             "a finite number > 0")
non_negative_float = number_type(float, "a number", lambda v: math.isfinite(v) and v >= 0,
                                 "a finite number >= 0")
unit_interval = number_type(float, "a number", lambda v: 0 < v < 1, "between 0 and 1")
below_one = number_type(float, "a number", lambda v: 0 <= v < 1, "at least 0 and below 1")
up_to_one = number_type(float, "a number", lambda v: 0 < v <= 1, "above 0 and at most 1")
positive_int = number_type(int, "a whole number", lambda v: v >= 1, "at least 1")
non_negative_int = number_type(int, "a whole number", lambda v: v >= 0, "0 or more")


SIGNALLED: list[int] = []  # the signals run's handler has seen in this process


def interrupted(signum: int, frame: FrameType | None) -> NoReturn:
    SIGNALLED.append(signum)
    raise KeyboardInterrupt


INTERRUPTED = "interrupted: nothing was written; earlier results are as they were"


def run(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None, *,
        process: bool = False) -> int:
    """Call a stage's main(argv); turn a UserError or Ctrl-C into one line and an exit code.

    SIGTERM (a `kill`, Make stopping) is taken as Ctrl-C, so temp files are removed either way.
    process: main is this process's whole job, which ends when run returns. Ctrl-C is then
    recorded too: a library may turn the KeyboardInterrupt into another error (NumPy's C
    extension, interrupted while it imports, raises ImportError), which is still an interrupt.
    Once main is done, Ctrl-C and SIGTERM are ignored: one arriving while the interpreter shuts
    down (waiting for a thread) would otherwise be raised there as a traceback, after the work
    was whole.
    """
    signal.signal(signal.SIGTERM, interrupted)
    if process:
        signal.signal(signal.SIGINT, interrupted)
    try:
        try:
            return main(argv) or 0
        finally:
            if process:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader left (`| head`): nothing more to say to it
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the exit's flush is quiet too
        return 0
    except OSError as err:  # a folder we cannot write to, a full disk: say which file, and why
        if SIGNALLED:
            print(INTERRUPTED, file=sys.stderr)
            return 130
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {where}{err.strerror or err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except Exception:
        if not SIGNALLED:
            raise
        print(INTERRUPTED, file=sys.stderr)  # an interrupt that a library turned into an error
        return 130


def progress_bar(total: float | None, desc: str, quiet: bool = False,
                 **options: object) -> "tqdm":
    """A tqdm bar on stderr, silent when asked or when stderr is not a terminal."""
    from tqdm import tqdm  # here: a stage that shows no bar (assemble) starts faster

    options = {"unit": "it", **options}
    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True,
                disable=quiet or not sys.stderr.isatty(), **options)
