#!/usr/bin/env python3
"""A synthetic dataset of any size in the course's layout, to try every stage at scale.

    python scripts/synthetic_dataset.py OUT_DIR --train 25000 --test 2000 --seed 0

writes OUT_DIR/train.h5 and OUT_DIR/test.h5 with the keys, dtypes and classes `make dataset`
writes (train_set_x uint8 (m, 64, 64, 3), train_set_y int64 (m,), list_classes
[b"non-cat", b"cat"], and test_* likewise), so `make train DATA=OUT_DIR` and every stage after
it run on them.

Every image is smooth random colour: coarse noise, bilinearly upsampled. A "cat" (label 1, about
40 %) also holds a faint warm blob (redder, less blue) of random place and size, so a linear
model learns the task without solving it (about 82 % on test after `make train`'s default 2000
iterations on 2,000 images; --strength scales the blob). The same arguments give the same
images, and a split's first n images do not depend on how many follow: --train 2000 is the start
of --train 25000.

It streams: the datasets are created at full size and filled CHUNK images at a time, so memory
stays about 200 MB whatever m is (25,000 + 2,000 images take about 13 s). Both files are written
to temp files in OUT_DIR and renamed only when both are complete, so an interrupted run leaves
the earlier files as they were.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.artifacts.files import atomic_path  # noqa: E402
from pipeline.cli import (  # noqa: E402
    Parser,
    non_negative_int,
    positive_float,
    positive_int,
    progress_bar,
    run,
    unit_interval,
)

SIZE = 64  # image side, as the course's images
CHUNK = 1000  # images made and written at a time: about 50 MB of float32 pixels
H5_CHUNK = 64  # images per HDF5 chunk, as `make dataset` writes
CLASSES = np.array([b"non-cat", b"cat"])  # label 0, label 1
SPLITS = ("train", "test")

# What an image is made of, in pixel levels (0..255).
MEAN = 120.0  # the average level
LIGHT_SD = 25.0  # each image's overall brightness
TINT_SD = 6.0  # each image's overall tint, per channel
LUMA_GRID, LUMA_SD = 5, 40.0  # coarse light and shade, shared by the three channels
CHROMA_GRID, CHROMA_SD = 9, 12.0  # finer patches of colour, each channel its own
BLOB_PEAK = 40.0  # a cat's blob at its centre, times --strength (then +-30 % per image)
WARM = np.array([1.0, 0.4, -0.8], dtype=np.float32)  # the blob's colour: red up, blue down
BLOB_SIGMA = (8.0, 14.0)  # its spread in pixels, drawn uniformly
BLOB_MARGIN = 8  # its centre stays this far from the edges


def upsampler(grid, size=SIZE):
    """(size, grid) bilinear weights: U @ coarse @ U.T stretches a (grid, grid) field to
    (size, size), corners on corners."""
    position = np.linspace(0, grid - 1, size)  # each pixel's place on the coarse grid
    below = np.minimum(position.astype(int), grid - 2)
    frac = position - below
    U = np.zeros((size, grid))
    U[np.arange(size), below] = 1 - frac
    U[np.arange(size), below + 1] = frac
    return U.astype(np.float32)


def streams(seed, split, chunk):
    """A generator per quantity drawn for a chunk's images, each drawing one row per image, so
    that a shorter last chunk holds the first images of a full one."""
    key = [seed, SPLITS.index(split), chunk]
    return [np.random.default_rng(key + [what]) for what in range(7)]


def make_chunk(n, seed, split, chunk, positive_fraction, strength):
    """n images and their labels: the images (n, SIZE, SIZE, 3) uint8, labels (n,) int64."""
    labels_rng, chroma_rng, luma_rng, base_rng, centre_rng, sigma_rng, peak_rng = \
        streams(seed, split, chunk)
    labels = (labels_rng.random(n) < positive_fraction).astype(np.int64)  # (n,)
    # the background: patches of colour, light and shade, an overall colour per image
    U, V = upsampler(LUMA_GRID), upsampler(CHROMA_GRID)
    chroma = chroma_rng.standard_normal((n, 3, CHROMA_GRID, CHROMA_GRID), dtype=np.float32)
    images = (V @ (CHROMA_SD * chroma) @ V.T).transpose(0, 2, 3, 1)  # (n, SIZE, SIZE, 3) view
    luma = luma_rng.standard_normal((n, LUMA_GRID, LUMA_GRID), dtype=np.float32)
    images += (U @ (LUMA_SD * luma) @ U.T)[..., None]  # (n, SIZE, SIZE, 1)
    base = base_rng.standard_normal((n, 1, 1, 4), dtype=np.float32)
    images += MEAN + LIGHT_SD * base[..., :1] + TINT_SD * base[..., 1:]
    # the cats' blob: a Gaussian of random centre, spread and height, warm in colour
    centre = centre_rng.uniform(BLOB_MARGIN, SIZE - BLOB_MARGIN, (n, 2)).astype(np.float32)
    sigma = sigma_rng.uniform(*BLOB_SIGMA, (n, 1)).astype(np.float32)
    peak = BLOB_PEAK * strength * peak_rng.uniform(0.7, 1.3, n).astype(np.float32) * labels
    pixels = np.arange(SIZE, dtype=np.float32)
    gy = np.exp(-0.5 * ((pixels - centre[:, :1]) / sigma) ** 2) * peak[:, None]  # (n, SIZE)
    gx = np.exp(-0.5 * ((pixels - centre[:, 1:]) / sigma) ** 2)  # (n, SIZE)
    blob = gy[:, :, None] * gx[:, None, :]  # (n, SIZE, SIZE)
    for channel, weight in enumerate(WARM):
        images[..., channel] += weight * blob
    np.clip(np.rint(images, out=images), 0, 255, out=images)
    return images.astype(np.uint8), labels


def write_split(path, split, m, args, bar):
    """A split's m images into path (an .h5 file), CHUNK at a time. Returns the positives."""
    import h5py

    positives = 0
    with h5py.File(path, "w") as h5:
        x = h5.create_dataset(f"{split}_set_x", shape=(m, SIZE, SIZE, 3), dtype=np.uint8,
                              chunks=(min(H5_CHUNK, m), SIZE, SIZE, 3))
        y = h5.create_dataset(f"{split}_set_y", shape=(m,), dtype=np.int64)
        for chunk, start in enumerate(range(0, m, CHUNK)):
            n = min(CHUNK, m - start)
            images, labels = make_chunk(n, args.seed, split, chunk, args.positive_fraction,
                                        args.strength)
            x[start:start + n] = images
            y[start:start + n] = labels
            positives += int(labels.sum())
            bar.update(n)
        h5["list_classes"] = CLASSES
    return positives


def main(argv=None):
    parser = Parser(prog="scripts/synthetic_dataset.py", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, metavar="OUT_DIR",
                        help="the folder to write train.h5 and test.h5 into (made if missing)")
    parser.add_argument("--train", type=positive_int, default=25000, metavar="M",
                        help="training images (default %(default)s)")
    parser.add_argument("--test", type=positive_int, default=2000, metavar="M",
                        help="test images (default %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seeds every image (default %(default)s)")
    parser.add_argument("--positive-fraction", type=unit_interval, default=0.4, metavar="P",
                        help="chance that an image is a cat (default %(default)s)")
    parser.add_argument("--strength", type=positive_float, default=1.0, metavar="S",
                        help="scales the cats' blob: higher is easier (default %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    sizes = {"train": args.train, "test": args.test}
    paths = {split: args.out / f"{split}.h5" for split in SPLITS}
    with progress_bar(sum(sizes.values()), "images", args.quiet, unit="image") as bar, \
            atomic_path(paths["train"]) as train_tmp, atomic_path(paths["test"]) as test_tmp:
        positives = {split: write_split(tmp, split, sizes[split], args, bar)
                     for split, tmp in zip(SPLITS, (train_tmp, test_tmp), strict=True)}
    shares = ", ".join(f"{sizes[s]} {s} ({100 * positives[s] / sizes[s]:.1f} % cat)"
                       for s in SPLITS)
    print(f"{args.out}: {shares}; train on it: make train DATA={args.out}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(run(main))
