"""Pixel rows in an .npz: uint8 (m, n_x) members stored uncompressed, written a chunk of rows at a
time and read back a block of rows at a time at their offset, so that neither the features stage
nor any stage after it holds more than a block, whatever m is.

The archive stays an ordinary .npz (np.load opens it); only its pixel members are read here."""

import os
import threading
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pipeline.artifacts.crc import file_crc32
from pipeline.artifacts.files import StrPath, read_npy_header
from pipeline.artifacts.leases import leased_rows
from pipeline.errors import UserError, short_reason

HAS_PREADV = hasattr(os, "preadv")
LOCAL_HEADER = 30  # bytes of a zip local file header before its name and extra field


def write_rows_member(archive: zipfile.ZipFile, name: str, shape: tuple[int, int],
                      chunks: Iterable[NDArray[np.uint8]]) -> None:
    """Write an (m, n_x) uint8 .npy member into an open ZipFile from the chunks, each (b, n_x)."""
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        header = {"descr": "|u1", "fortran_order": False, "shape": tuple(shape)}
        np.lib.format.write_array_header_1_0(member, header)
        written = 0
        for chunk in chunks:
            chunk = np.ascontiguousarray(chunk, dtype=np.uint8)
            if chunk.ndim != 2 or chunk.shape[1] != shape[1] or written + len(chunk) > shape[0]:
                raise ValueError(f"{name}: a chunk of shape {chunk.shape} after {written} rows "
                                 f"does not continue rows of shape {tuple(shape)}")
            member.write(chunk.tobytes())
            written += len(chunk)
        if written != shape[0]:  # the header is written: the member would lie about its length
            raise ValueError(f"{name}: the chunks hold {written} rows, the shape says "
                             f"{tuple(shape)}")


def write_array_member(archive: zipfile.ZipFile, name: str, array: ArrayLike) -> None:
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def open_rows_member(path: StrPath, archive: zipfile.ZipFile, name: str,
                     remake: str) -> "RowFile":
    """A RowFile on the member name.npy of an open archive at path, after checking that it is
    stored, 2-d uint8, as long as its header says, and that its CRC matches (read through, in
    parts on threads: artifacts.crc)."""
    info = archive.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        raise UserError(f"{path}: {name} is compressed, not what `make features` writes; {remake}")
    with archive.open(info) as member:
        shape, fortran_order, dtype = read_npy_header(member, name)
        header_size = member.tell()
    if dtype != np.uint8 or len(shape) != 2 or fortran_order or min(shape) < 1:
        raise UserError(f"{path}: {name} is {dtype} of shape {shape}, not uint8 pixel rows; "
                        f"{remake}")
    if header_size + shape[0] * shape[1] != info.file_size:
        raise UserError(f"{path}: {name} declares {shape[0]} rows of {shape[1]} pixels but holds "
                        f"{info.file_size - header_size} bytes (truncated?); {remake}")
    start = data_offset(path, info)
    if file_crc32(path, start, info.compress_size) != info.CRC:  # a flipped pixel is caught here
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")  # zipfile's words
    return RowFile(path, start + header_size, shape, remake)


def read_rows_members(path: StrPath, names: Iterable[str], remake: str) -> dict[str, "RowFile"]:
    """{name: RowFile} for the pixel members of the .npz at path, or one UserError naming it."""
    try:
        with zipfile.ZipFile(path) as archive:
            return {name: open_rows_member(path, archive, name, remake) for name in names}
    except UserError:
        raise
    except Exception as err:  # zipfile and numpy meet damage with many exception types
        raise UserError(f"{path} is damaged ({short_reason(err)}); {remake}") from None


def data_offset(path: StrPath, info: zipfile.ZipInfo) -> int:
    """Where a stored member's bytes start in the file: after its local header, name and extra
    field (whose lengths the local header gives, and which may differ from the central one)."""
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(LOCAL_HEADER)
    if len(local) != LOCAL_HEADER or local[:4] != b"PK\x03\x04":
        raise ValueError(f"no local header for {info.filename}")
    name_length = int.from_bytes(local[26:28], "little")
    extra_length = int.from_bytes(local[28:30], "little")
    return info.header_offset + LOCAL_HEADER + name_length + extra_length


class RowFile:
    """uint8 rows (m, n_x) at an offset of a file, read on demand: rows[a:b] and rows[index_array]
    give arrays, from a memory map while a lease holds writers back (artifacts.leases), else
    each run of consecutive rows one read. A file that ends early or changes while this is open
    gives a UserError naming it (never a crash: the map is given up before any write)."""

    dtype = np.dtype(np.uint8)

    def __init__(self, path: StrPath, offset: int, shape: Iterable[int], remake: str) -> None:
        self.path, self.offset, self.shape, self.remake = Path(path), offset, tuple(shape), remake
        self.file = open(path, "rb", buffering=0)  # noqa: SIM115 (open while the object lives)
        self.identity = identity(os.fstat(self.file.fileno()))
        self.seeking = threading.Lock()
        # mapped only under a lease that holds any writer back (artifacts.leases), or not at all
        self.leased = leased_rows(self.file.fileno(), offset, self.shape) \
            if offset + self.shape[0] * self.shape[1] <= self.identity[2] else None

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx: slice | ArrayLike) -> NDArray[np.uint8]:
        return self.take(idx)

    def take(self, idx: slice | ArrayLike,
             out: NDArray[np.uint8] | None = None) -> NDArray[np.uint8]:
        """The rows idx (a slice or an index array) as (len, n_x) uint8, into out if given (a
        reused buffer: a fresh one costs a page fault every 4 KB)."""
        m, n_x = self.shape
        if isinstance(idx, slice):
            start, stop, step = idx.indices(m)
            if step != 1:
                raise ValueError(f"rows are read in runs: a slice's step must be 1, not {step}")
            count = max(stop - start, 0)
            runs: Iterable[tuple[int, int, int]] = [(0, count, start)]
        else:
            rows = np.asarray(idx, dtype=np.int64).reshape(-1)
            if len(rows) and (rows.min() < 0 or rows.max() >= m):
                raise IndexError(f"rows {rows.min()}..{rows.max()} of {m}")
            starts = [0, *(np.flatnonzero(np.diff(rows) != 1) + 1).tolist()]
            count = len(rows)
            runs = zip(starts, [*starts[1:], count], rows[starts].tolist(), strict=True) \
                if count else ()
        out = np.empty((count, n_x), dtype=np.uint8) if out is None else out[:count]
        self.check_unchanged()
        if not count:
            return out
        if self.leased is not None and (mapped := self.leased.readable()) is not None:
            try:  # one copy from the page cache, no system call a row
                if isinstance(idx, slice):
                    np.copyto(out, mapped[start:start + count])
                else:
                    np.take(mapped, rows, axis=0, out=out)
            finally:
                del mapped
                self.leased.settle()
            return out
        view, fd, offset = out.data.cast("B"), self.file.fileno(), self.offset  # out's bytes
        for a, b, row in runs:  # one read a run: a mini-batch's 64 rows are 64 reads
            part, position = view[a * n_x:b * n_x], offset + row * n_x
            # os.preadv, where there is one (Linux, macOS, BSD), needs no seek and no lock
            if not HAS_PREADV or os.preadv(fd, [part], position) != len(part):
                self.read_rest(fd, part, position, row + b - a)
        return out

    def read_at(self, fd: int, part: memoryview, position: int) -> int:
        """Bytes read into part from position: os.preadv where there is one (Linux, macOS,
        BSD), which needs no seek; elsewhere seek and read."""
        if HAS_PREADV:
            return os.preadv(fd, [part], position)
        with self.seeking:  # two threads may read at once (columns.over_blocks)
            self.file.seek(position)
            return self.file.readinto(part) or 0  # None only for a non-blocking file

    def read_rest(self, fd: int, part: memoryview, position: int, end_row: int) -> None:
        """Read part from position (again, after a short read) until it is full, or say where
        the file ended."""
        done = 0
        while done < len(part):
            got = self.read_at(fd, part[done:], position + done)
            if not got:
                raise UserError(f"{self.path} ended before row {end_row} of {self.shape[0]} "
                                f"(truncated while in use?); {self.remake}")
            done += got

    def check_unchanged(self) -> None:
        """The path still names the file opened, unchanged (size and time of last change)."""
        now: tuple[int, int, int, int] | None
        try:
            now = identity(os.stat(self.path))
        except OSError:
            now = None
        if now != self.identity or identity(os.fstat(self.file.fileno())) != self.identity:
            raise UserError(f"{self.path} changed while this run was reading it; "
                            f"{self.remake}, then run this again")

    def __del__(self) -> None:
        if getattr(self, "file", None):
            self.file.close()


def identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns
