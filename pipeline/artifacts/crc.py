"""The CRC-32 of a byte range of a file, as zip stores it, read in parts on as many threads as
cores: zlib.crc32 and the reads release the GIL, and the parts' CRCs are joined as zlib's
crc32_combine joins them (which Python's zlib does not offer). At 25,000 images the check of
features.npz's 0.3 GB takes half the time it takes on one thread."""

import zlib
from concurrent.futures import ThreadPoolExecutor

from pipeline.artifacts.files import StrPath
from pipeline.threads import stream_workers

CHUNK = 1 << 20  # bytes a read: a reused buffer of 1 MB stays in cache, a fresh one page-faults
PARTS = 2  # at most, one a core
CRC32_POLYNOMIAL = 0xEDB88320  # zlib's, reflected


def gf2_times(matrix: list[int], vector: int) -> int:
    """matrix (32 columns, each an int of 32 bits) times vector over GF(2)."""
    total, column = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[column]
        vector >>= 1
        column += 1
    return total


def gf2_square(matrix: list[int]) -> list[int]:
    return [gf2_times(matrix, column) for column in matrix]


def crc32_combine(crc_a: int, crc_b: int, length_b: int) -> int:
    """zlib.crc32(a + b) from crc_a = zlib.crc32(a), crc_b = zlib.crc32(b) and len(b): crc_a
    run through length_b zero bytes (the operator for 2^k zero bits squared up from one bit's),
    then xor crc_b, as zlib's crc32_combine."""
    if length_b <= 0:
        return crc_a
    odd = [CRC32_POLYNOMIAL] + [1 << n for n in range(31)]  # one zero bit
    even = gf2_square(odd)  # two zero bits
    odd = gf2_square(even)  # four
    while length_b:
        even = gf2_square(odd)  # the first pass: one zero byte
        if length_b & 1:
            crc_a = gf2_times(even, crc_a)
        length_b >>= 1
        if not length_b:
            break
        odd = gf2_square(even)
        if length_b & 1:
            crc_a = gf2_times(odd, crc_a)
        length_b >>= 1
    return crc_a ^ crc_b


def range_crc32(path: StrPath, start: int, length: int) -> int:
    """zlib.crc32 of length bytes of the file at path from start; EOFError if it ends first.
    Each call opens the file for itself, so that parts on threads need no shared position."""
    buffer = memoryview(bytearray(max(1, min(CHUNK, length))))
    crc, done = 0, 0
    with open(path, "rb", buffering=0) as f:
        f.seek(start)
        while done < length:
            got = f.readinto(buffer[:min(CHUNK, length - done)])
            if not got:
                raise EOFError(f"the file ended {length - done} bytes early")
            crc = zlib.crc32(buffer[:got], crc)
            done += got
    return crc


def file_crc32(path: StrPath, start: int, length: int) -> int:
    """zlib.crc32 of length bytes of the file at path from start, in parts on threads."""
    parts = stream_workers(PARTS) if length >= 2 * CHUNK else 1
    bounds = [start + length * k // parts for k in range(parts + 1)]  # each part's first byte
    with ThreadPoolExecutor(parts) as pool:
        crcs = list(pool.map(lambda a, b: range_crc32(path, a, b - a), bounds[:-1], bounds[1:]))
    crc = crcs[0]
    for crc_b, a, b in zip(crcs[1:], bounds[1:-1], bounds[2:], strict=True):
        crc = crc32_combine(crc, crc_b, b - a)
    return crc
