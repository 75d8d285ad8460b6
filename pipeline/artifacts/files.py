"""Writing artifacts atomically, and reading them back safely. The only file I/O helpers."""

import hashlib
import json
import os
import secrets
import shutil
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pipeline.errors import UserError, remake_hint, short_reason

StrPath = str | os.PathLike[str]  # a file's path, as a str or a Path
# {key: (dtype kind letters, shape)}, a shape's None entries any length: what check_arrays checks
Spec = Mapping[str, tuple[str, tuple[int | None, ...]]]
CGROUP_OF_PROCESS = Path("/proc/self/cgroup")  # this process's cgroups, one line a hierarchy
CGROUPS = {  # where memory cgroups are mounted; a cgroup's limit, usage, and inactive page cache
    "v2": (Path("/sys/fs/cgroup"), "memory.max", "memory.current", "inactive_file"),
    "v1": (Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes", "memory.usage_in_bytes",
           "total_inactive_file")}


def temp_name(path: Path) -> Path:
    """A name beside path for its temp file or folder, .NAME.RANDOM.tmp, not made yet. Named
    before it is made, it is made inside the try whose finally removes it: a Ctrl-C arriving the
    instant it exists (before mkstemp or mkdtemp would have returned it) leaves nothing behind."""
    return path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"


@contextmanager
def atomic_path(path: StrPath) -> Iterator[Path]:
    """Yield a temp path beside `path`; on success rename it over `path` (atomic: a reader, or an
    interrupted run, sees the old file or the new one, never half of one); on failure remove it."""
    path = Path(path)
    tmp = temp_name(path)
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.touch(exist_ok=False)  # as open() makes a file: 0666 less the umask
        except OSError as err:
            raise UserError(f"cannot write {path}: {err.strerror}") from None
        yield tmp
        os.replace(tmp, path)
    except OSError as err:  # a full disk says only "No space left on device": name the file
        if err.filename in (None, str(tmp)):
            err.filename = str(path)
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_dir(path: StrPath) -> Iterator[Path]:
    """Yield a fresh temp folder beside `path`; on success it replaces `path` as a whole (an
    earlier folder stays whole until the new one is complete); a failure removes the temp folder."""
    path = Path(path)
    tmp = temp_name(path)
    old = tmp.with_suffix(".old")
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()  # as mkdir makes a folder: 0777 less the umask
        except OSError as err:
            raise UserError(f"cannot write {path}: {err.strerror}") from None
        yield tmp
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    except OSError as err:
        if err.filename is None:
            err.filename = str(path)
        raise
    finally:
        for leftover in (tmp, old):
            if leftover.exists():
                shutil.rmtree(leftover)


def write_bytes(path: StrPath, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: StrPath, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: StrPath, obj: object) -> None:
    write_text(path, json.dumps(obj, indent=2) + "\n")


def write_npz(path: StrPath, **arrays: ArrayLike) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, allow_pickle=False, **arrays)  # no reader here loads pickles


def read_npz(path: StrPath, keys: Sequence[str], make_hint: str) -> dict[str, NDArray[Any]]:
    """The arrays `keys` from an .npz, or a UserError naming the file and the command to rerun.
    Read with zipfile and NumPy's header functions rather than np.load, so that each array's
    declared size is checked against the bytes held and the memory left before anything is
    allocated, and object arrays (pickles) are refused."""
    path = Path(path)
    remake = remake_hint(make_hint)
    if not path.is_file():
        raise UserError(f"{path} not found; run `{make_hint}` to make it")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{path} is not an .npz archive (truncated?); {remake}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [k for k in keys if f"{k}.npy" not in names]
            if missing:
                raise UserError(f"{path} lacks {', '.join(missing)}; {remake}")
            return {k: read_npy_member(archive, f"{k}.npy") for k in keys}
    except UserError:
        raise
    except Exception as err:  # zipfile, zlib and numpy meet damage with many exception types
        raise UserError(f"{path} is damaged ({short_reason(err)}); {remake}") from None


def read_npy_header(member: IO[bytes],
                    name: str) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """shape, fortran_order, dtype from the header of an open .npy member (versions 1 and 2)."""
    version = np.lib.format.read_magic(member)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read_header is None:
        raise ValueError(f"{name} is .npy version {version}, which this project never writes")
    return read_header(member)


def read_npy_member(archive: zipfile.ZipFile, name: str) -> NDArray[Any]:
    """One .npy file of an open archive, its header checked before its data is read."""
    info = archive.getinfo(name)
    if info.file_size > available_memory():
        raise ValueError(f"{name} declares {info.file_size} bytes, more than the memory free")
    with archive.open(info) as opened:
        member = cast(zipfile.ZipExtFile, opened)  # what open() gives for reading: readinto
        shape, fortran_order, dtype = read_npy_header(opened, name)
        if dtype.hasobject:
            raise ValueError(f"{name} holds Python objects, which are not loaded (no pickles)")
        count = int(np.prod(shape, dtype=np.int64))
        if count * dtype.itemsize > info.file_size:
            raise ValueError(f"{name} declares shape {shape} ({count * dtype.itemsize} bytes) "
                             f"but holds fewer")
        array = np.empty(count, dtype=dtype)  # (count,), reshaped below
        filled = member.readinto(array.data.cast("B"))  # zipfile reads until full or the end
        extra = member.read(1)  # read to its end, the member's CRC is checked
    if filled != count * dtype.itemsize or extra:
        raise ValueError(f"{name} declares shape {shape} ({count * dtype.itemsize} bytes) "
                         f"but holds {filled + len(extra)}")
    return array.reshape(shape, order="F" if fortran_order else "C")


def check_arrays(arrays: Mapping[str, NDArray[Any]], spec: Spec, path: StrPath,
                 make_hint: str) -> None:
    """Each array's dtype kind and shape as spec says, {key: (kinds, shape)}: kinds a string of
    numpy kind letters, shape a tuple whose None entries match any length."""
    for key, (kinds, shape) in spec.items():
        array = arrays[key]
        fits = len(array.shape) == len(shape) and all(
            want is None or want == got for want, got in zip(shape, array.shape, strict=True))
        if array.dtype.kind not in kinds or not fits:
            raise UserError(f"{path}: {key} is {array.dtype} of shape {array.shape}, not what "
                            f"`{make_hint}` writes; {remake_hint(make_hint)}")


def read_json(path: StrPath, make_hint: str) -> object:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} not found; run `{make_hint}` to make it") from None
    except (OSError, ValueError, RecursionError) as err:  # RecursionError: [[[[... nested deep
        raise UserError(f"{path} is unreadable ({short_reason(err)}); "
                        f"{remake_hint(make_hint)}") from None


def available_memory() -> int:
    """Bytes a new allocation can still have without swapping: MemAvailable, or less where a
    memory cgroup limits this process (cgroup_room)."""
    try:
        with open("/proc/meminfo") as meminfo:
            free = next(int(line.split()[1]) * 1024 for line in meminfo
                        if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError, IndexError):
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return max(0, min([free, *cgroup_room()]))


def cgroup_room() -> Iterator[int]:
    """Bytes left under each memory limit of this process's cgroup and its ancestors (v2 or v1):
    the limit less the usage, whose inactive page cache counts as free as MemAvailable counts it."""
    lines = CGROUP_OF_PROCESS.read_text().splitlines() if CGROUP_OF_PROCESS.exists() else []
    for line in lines:  # none where there are no cgroups (not Linux)
        _, controllers, path = line.split(":", 2)
        if controllers and "memory" not in controllers.split(","):
            continue
        root, limit, usage, inactive = CGROUPS["v1" if controllers else "v2"]  # v2: 0::/path
        parts = Path(path.lstrip("/")).parts
        for folder in (root.joinpath(*parts[:depth]) for depth in range(len(parts) + 1)):
            try:
                stat = (folder / "memory.stat").read_text().split()  # [key, value, key, ...]
                left = int((folder / limit).read_text()) - int((folder / usage).read_text())
                yield left + int(stat[stat.index(inactive) + 1])
            except (OSError, ValueError, IndexError):  # not there, or "max": no limit there
                continue


def sha256_of(path: StrPath) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
