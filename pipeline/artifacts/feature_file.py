"""features.npz, the features stage's file, loaded: the images as what they cost, uint8 pixel
rows (m, n_x) (row j is column j of X before / 255), with the labels, image shape, class names
and the .h5 files' sha256. Its X_train and X_test are PixelColumns over the pixel members mapped
read-only from the file (np.memmap), standardized block by block as they are used.

The archive is an ordinary .npz (np.load opens it) whose pixel members are stored, not
compressed, so each is a plain .npy inside the file at an offset NumPy can map. A map holds the
file it opened: a features file replaced under a running stage (os.replace, as every writer here
does) leaves the stage reading the old one to the end. A file truncated in place under a map
ends the process with SIGBUS; nothing here writes a file that way.
"""

import os
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from pipeline import config
from pipeline.artifacts.files import Spec, StrPath, check_arrays, read_npy_header, read_npz
from pipeline.columns import PixelColumns
from pipeline.errors import UserError, remake_hint, short_reason
from pipeline.shapes import Pixels

# The features, read only: X_train and X_test the (n_x, m) columns (float64 arrays from
# make_features, PixelColumns from features.npz), the rest arrays (Y_train, Y_test, ...)
Features = Mapping[str, Any]
LOCAL_HEADER = 30  # bytes of a zip local file header before its name and extra field
CRC_CHUNK = 16 << 20  # bytes of the map checked a call: the pages in a chunk are read ahead

FEATURE_SPEC: Spec = {  # dtype kinds and shapes of the small arrays (None: any length)
    "Y_train": ("iu", (1, None)), "Y_test": ("iu", (1, None)),
    "image_shape": ("iu", (3,)), "classes": ("U", (2,)), "standardization": ("U", ()),
    "train_sha256": ("U", ()), "test_sha256": ("U", ()),
}


def load_features(path: StrPath = config.FEATURES_FILE) -> Features:
    """features.npz as a dict: X_train, X_test as PixelColumns (n_x, m) over the mapped pixels;
    Y_train, Y_test (1, m); image_shape, classes, standardization and the sha256s.
    Every array's dtype, shape and range is checked, and the pixels' CRC."""
    remake = remake_hint("make features")
    f: dict[str, Any] = read_npz(path, tuple(FEATURE_SPEC), "make features")
    check_arrays(f, FEATURE_SPEC, path, "make features")
    shape = f["image_shape"]
    shown = tuple(shape.tolist())  # (64, 64, 3), not NumPy integers' reprs
    if (shape <= 0).any() or str(f["standardization"]) != config.STANDARDIZATION:
        raise UserError(f"{path}: image shape {shown} and standardization "
                        f"{str(f['standardization'])!r} are not what `make features` writes; "
                        f"{remake}")
    n_x = int(np.prod(shape, dtype=np.int64))
    for split in ("train", "test"):
        pixels, Y = map_pixels(path, f"{split}_pixels", remake), f[f"Y_{split}"]
        if pixels.shape[1] != n_x or Y.shape != (1, pixels.shape[0]) \
                or not np.isin(Y, (0, 1)).all():
            raise UserError(f"{path}: {split}_pixels {pixels.shape} / Y_{split} {Y.shape} are "
                            f"not rows of images of shape {shown} with 0/1 labels; "
                            f"{remake}")
        f[f"X_{split}"] = PixelColumns(pixels, shape)
    return f


def map_pixels(path: StrPath, name: str, remake: str) -> Pixels:
    """The member name.npy of the .npz at path as read-only uint8 rows (m, n_x) mapped from the
    file, after checking that it is stored, 2-d uint8, as long as its header says and inside the
    file, and that its CRC matches; or one UserError naming the file."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(f"{name}.npy")
            if info.compress_type != zipfile.ZIP_STORED:
                raise UserError(f"{path}: {name} is compressed, not what `make features` "
                                f"writes; {remake}")
            with archive.open(info) as member:
                shape, fortran_order, dtype = read_npy_header(member, name)
                header_size = member.tell()
        if dtype != np.uint8 or len(shape) != 2 or fortran_order or min(shape) < 1:
            raise UserError(f"{path}: {name} is {dtype} of shape {shape}, not uint8 pixel "
                            f"rows; {remake}")
        start = data_offset(path, info)
        held = os.path.getsize(path) - start  # bytes from the member's start to the file's end
        if header_size + shape[0] * shape[1] != info.file_size or info.file_size > held:
            raise UserError(f"{path}: {name} declares {shape[0]} rows of {shape[1]} pixels but "
                            f"holds {min(info.file_size, held) - header_size} bytes "
                            f"(truncated?); {remake}")
        mapped = np.memmap(path, np.uint8, "r", start, (info.file_size,))  # header, then rows
    except UserError:
        raise
    except Exception as err:  # zipfile, numpy and mmap meet damage with many exception types
        raise UserError(f"{path} is damaged ({short_reason(err)}); {remake}") from None
    if crc32_of(mapped) != info.CRC:  # a flipped pixel is caught here
        raise UserError(f"{path} is damaged (Bad CRC-32 for file {info.filename!r}); {remake}")
    rows: Pixels = mapped[header_size:].reshape(shape)  # (m, n_x), still mapped
    return rows


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


def crc32_of(data: Pixels) -> int:
    """zlib.crc32 of a 1-d uint8 array, as zip stores it: one pass, a chunk at a time."""
    crc = 0
    for start in range(0, len(data), CRC_CHUNK):
        crc = zlib.crc32(data[start:start + CRC_CHUNK].data, crc)
    return crc


def is_course_data(data: Mapping[str, object]) -> bool:
    """Whether features or params were made from the course's own two files (by sha256)."""
    return [str(data["train_sha256"]), str(data["test_sha256"])] == [
        config.SHA256[config.TRAIN_FILE.name], config.SHA256[config.TEST_FILE.name]]
