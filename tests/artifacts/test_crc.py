"""The CRC-32 of a file's bytes, read in parts on threads and joined, is zlib's of the whole."""

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.artifacts.crc import CHUNK, crc32_combine, file_crc32, range_crc32

pytestmark = pytest.mark.portable


@given(st.binary(max_size=300), st.binary(max_size=300), st.integers(0, 2**32 - 1))
@settings(max_examples=200, deadline=None)
def test_combining_two_crcs_is_the_crc_of_the_two_together(a, b, start):
    crc_a, crc_b = zlib.crc32(a, start), zlib.crc32(b)
    assert crc32_combine(crc_a, crc_b, len(b)) == zlib.crc32(a + b, start)


def test_a_long_second_part_combines_too():
    a, b = b"cat" * 7, bytes(range(256)) * 4099  # len(b) has many bits set
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


@pytest.mark.parametrize("length", [0, 1, CHUNK - 1, CHUNK + 1, 2 * CHUNK, 5 * CHUNK + 7])
def test_a_ranges_crc_in_parts_is_zlibs_of_its_bytes(tmp_path, length):
    data = np.random.default_rng(length).integers(0, 256, length + 40, dtype=np.uint8).tobytes()
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert file_crc32(path, 13, length) == zlib.crc32(data[13:13 + length])


def test_a_file_that_ends_early_says_so(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    with pytest.raises(EOFError, match="ended 50 bytes early"):
        range_crc32(path, 50, 100)
    with pytest.raises(EOFError):
        file_crc32(path, 0, 3 * CHUNK)
