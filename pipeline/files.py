"""Writing artifacts atomically, and reading them back safely. The only file I/O helpers."""

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from pipeline.cli import UserError


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path):
    """Yield a temp path beside `path`; on success rename it over `path`, on any failure remove it.

    The rename is atomic, so a reader (or an interrupted run) only ever sees the old file or the
    new one, never half of one.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror}") from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_dir(path):
    """Yield a fresh temp folder beside `path`; on success it replaces `path` as a whole.

    An earlier folder stays whole until the new one is complete; a failure removes the temp folder.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror}") from None
    old = tmp.with_suffix(".old")
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~current_umask())
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, old):
            if leftover.exists():
                shutil.rmtree(leftover)


def write_bytes(path, data):
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path, text):
    write_bytes(path, text.encode("utf-8"))


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2) + "\n")


def write_npz(path, **arrays):
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def read_npz(path, keys, make_hint):
    """The arrays `keys` from an .npz, or a UserError naming the file and the command to rerun."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} not found; run `{make_hint}` to make it")
    if not zipfile.is_zipfile(path):  # else np.load would try, and talk of, pickles
        raise UserError(f"{path} is not an .npz archive (truncated?); "
                        f"run `{make_hint}` to remake it")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in keys if k not in npz.files]
            if missing:
                raise UserError(f"{path} lacks {', '.join(missing)}; "
                                f"run `{make_hint}` to remake it")
            return {k: npz[k] for k in keys}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        # ValueError covers "Object arrays cannot be loaded when allow_pickle=False".
        raise UserError(f"{path} is unreadable ({err}); run `{make_hint}` to remake it") from None


def read_json(path, make_hint):
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} not found; run `{make_hint}` to make it") from None
    except (OSError, ValueError) as err:
        raise UserError(f"{path} is unreadable ({err}); run `{make_hint}` to remake it") from None


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
