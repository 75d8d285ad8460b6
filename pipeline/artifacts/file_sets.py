"""A set of files written as one (the report's, compare's, cv's): staged, then moved into place
together, with the list that names them for Make."""

import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.artifacts.files import StrPath, temp_name, write_text
from pipeline.errors import UserError


@contextmanager
def staged_files(folder: StrPath) -> Iterator[Path]:
    """Yield a fresh temp folder inside `folder`; on success move every file in it into `folder`
    together, with Ctrl-C and SIGTERM held back for those few renames, so an interrupt leaves the
    old set or the new one, never a mix. A failure removes the temp folder and changes nothing."""
    folder = Path(folder)
    tmp = temp_name(folder / "staged")  # folder/.staged.RANDOM.tmp
    try:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()
        except OSError as err:
            raise UserError(f"cannot write {folder}: {err.strerror}") from None
        yield tmp
        # Held back by Python's handlers, not by a signal mask: a mask holds only this thread's
        # signals, and the kernel hands a process's signal to any thread (BLAS starts some)
        held: list[int] = []
        before = {signum: signal.signal(signum, lambda signum, frame: held.append(signum))
                  for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            # index.html last: a reader who opens it finds every file it names
            for staged in sorted(tmp.iterdir(), key=lambda p: (p.name == "index.html", p.name)):
                os.replace(staged, folder / staged.name)
        finally:
            for signum, handler in before.items():
                signal.signal(signum, handler)
            if held:
                signal.raise_signal(held[0])  # a held signal lands here
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_file_list(folder: StrPath, name: str) -> None:
    """folder/name: the names of the other files in folder, one a line. A stage that writes a set
    of files writes its list last: Make's target for the set, which remakes it when one is gone."""
    names = sorted(path.name for path in Path(folder).iterdir() if path.name != name)
    write_text(Path(folder) / name, "".join(f"{n}\n" for n in names))
