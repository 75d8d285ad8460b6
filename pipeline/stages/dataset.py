"""Stage `dataset`: folders of your own labelled photos -> train.h5 and test.h5 in the course's
layout, through exactly the preprocessing classify uses, with an honest split.

SOURCE holds either one folder per class (exactly two; split here by a stratified draw), or
train/ and test/ each holding the same two class folders (the split is kept). Byte-identical
photos are kept once before the draw; a test photo whose pixels equal a training photo's is left
out of test, so nothing is both trained on and tested on (--keep-duplicates keeps the split as
given). Photos are decoded in a process pool and streamed into resizable HDF5 datasets; the
whole dataset is written to a temp folder beside --out and renamed at the end.
"""

import csv
import hashlib
import io
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from pipeline.artifacts.files import atomic_dir, sha256_of
from pipeline.artifacts.photos import decode, files_in, is_image_name
from pipeline.cli import (
    Parser,
    UserError,
    non_negative_int,
    positive_int,
    progress_bar,
    unit_interval,
)

BLOCK = 64  # photos per HDF5 write (and per chunk): a block of 64x64 RGB is 768 KB


MANIFEST_COLUMNS = ("path", "sha256", "class", "label", "split", "index", "status")


def class_folders(folder, where):
    """The class sub-folders of a folder (hidden ones ignored): exactly two, or a UserError."""
    found = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(found) != 2:
        names = ", ".join(p.name for p in found) or "none"
        raise UserError(f"{where} needs exactly two class folders, found {len(found)}: {names}")
    return found


def layout(source):
    """{split or None: [class folder, class folder]} for one of the two layouts."""
    if not source.is_dir():
        raise UserError(f"{source} is not a folder: give a folder with one sub-folder per class "
                        "(or train/ and test/ holding them)")
    if (source / "train").is_dir() and (source / "test").is_dir():
        train, test = class_folders(source / "train", source / "train"), \
            class_folders(source / "test", source / "test")
        if [p.name for p in train] != [p.name for p in test]:
            raise UserError(f"{source}/train has classes {', '.join(p.name for p in train)} but "
                            f"{source}/test has {', '.join(p.name for p in test)}; they must match")
        return {"train": train, "test": test}
    return {None: class_folders(source, source)}


def positive_class(names, positive):
    """(negative, positive) class names: --positive, else a folder named cat."""
    if positive is None:
        if "cat" not in names:
            raise UserError(f"found classes {names[0]!r} and {names[1]!r}: name the positive one "
                            f"(label 1) with --positive {names[0]} or --positive {names[1]}")
        positive = "cat"
    if positive not in names:
        raise UserError(f"--positive {positive!r} is not one of the classes found: "
                        f"{names[0]!r}, {names[1]!r}")
    return (names[1] if names[0] == positive else names[0]), positive


def stratified_test_draw(count, fraction, rng):
    """Which of a class's `count` photos go to test: round(fraction * count), at least one and
    at least one left for training (so a lone photo trains)."""
    n_test = min(max(1, round(fraction * count)), count - 1)
    chosen = np.zeros(count, dtype=bool)
    chosen[rng.permutation(count)[:n_test]] = True
    return chosen


class SplitWriter:
    """A split's images and labels, appended in blocks to resizable HDF5 datasets."""

    def __init__(self, h5, split, size):
        self.x = h5.create_dataset(f"{split}_set_x", shape=(0, size, size, 3), dtype=np.uint8,
                                   maxshape=(None, size, size, 3), chunks=(BLOCK, size, size, 3))
        self.y = h5.create_dataset(f"{split}_set_y", shape=(0,), dtype=np.int64,
                                   maxshape=(None,), chunks=(BLOCK,))
        self.images, self.labels, self.count = [], [], 0

    def append(self, pixels, label):
        self.images.append(pixels)
        self.labels.append(label)
        self.count += 1
        if len(self.images) == BLOCK:
            self.flush()

    def flush(self):
        if not self.images:
            return
        start, n = self.x.shape[0], len(self.images)
        self.x.resize(start + n, axis=0)
        self.y.resize(start + n, axis=0)
        self.x[start:] = np.stack(self.images)  # (n, size, size, 3)
        self.y[start:] = self.labels
        self.images, self.labels = [], []


def plan(source, args, pool):
    """Every file met, as manifest rows (dicts), the photos to decode marked with their split.
    The pool hashes the files (a photo's sha256 is read in full: it is worth two cores)."""
    folders = layout(source)
    first = next(iter(folders.values()))
    names = [p.name for p in first]
    negative, positive = positive_class(names, args.positive)
    label_of = {negative: 0, positive: 1}
    rng = np.random.default_rng(args.seed)
    rows, seen = [], {}  # seen: sha256 -> the first path with those bytes
    for split, classes in folders.items():
        for folder in classes:
            candidates = []
            paths = files_in(folder, args.recursive)
            for path, sha256 in zip(paths, pool.map(sha256_of, paths, chunksize=16), strict=True):
                row = {"path": path.relative_to(source).as_posix(), "file": path,
                       "sha256": sha256, "class": folder.name,
                       "label": label_of[folder.name], "split": split or "", "index": "",
                       "status": ""}
                rows.append(row)
                if not is_image_name(path):
                    row["status"] = f"not an image ({path.suffix or 'no extension'})"
                elif row["sha256"] in seen and not args.keep_duplicates:
                    row["status"] = f"duplicate of {seen[row['sha256']]} (same bytes)"
                else:
                    seen.setdefault(row["sha256"], row["path"])
                    candidates.append(row)
            if split is None and candidates:  # the stratified draw, per class
                chosen = stratified_test_draw(len(candidates), args.test_fraction, rng)
                for row, to_test in zip(candidates, chosen, strict=True):
                    row["split"] = "test" if to_test else "train"
    return rows, [negative, positive]


def build(rows, classes, out, args, pool):
    """Decode the planned photos in the pool and stream them into out/{train,test}.h5."""
    todo = {split: sorted((r for r in rows if r["split"] == split and not r["status"]),
                          key=lambda r: (Path(r["path"]).name, r["path"]))
            for split in ("train", "test")}
    pixels_seen = {}  # a digest of a kept photo's pixels -> (its path, its split)
    with progress_bar(sum(map(len, todo.values())), "photos", args.quiet, unit="photo") as bar:
        for split, planned in todo.items():
            stream_split(pool, out / f"{split}.h5", split, planned=planned, classes=classes,
                         pixels_seen=pixels_seen, bar=bar, args=args)
    for label, name in enumerate(classes):
        usable = [r for r in rows if r["label"] == label and r["status"].startswith("ok")]
        if len(usable) < 2:
            raise UserError(f"class {name!r} has {len(usable)} usable photo(s); each class "
                            "needs at least 2 (see the skipped lines); nothing was written")
    for split in ("train", "test"):
        if not any(r["split"] == split and r["status"].startswith("ok") for r in rows):
            raise UserError(f"no usable photo is left for {split}; nothing was written")


def stream_split(pool, path, split, *, planned, classes, pixels_seen, bar, args):
    """One split's photos, decoded by the pool in order, appended to path (an .h5 file)."""
    import h5py

    with h5py.File(path, "w") as h5:
        writer = SplitWriter(h5, split, args.size)
        tasks = ((r["file"], args.size, args.fit) for r in planned)
        for row, (pixels, problem) in zip(planned, pool.map(decode, tasks, chunksize=4),
                                          strict=True):
            bar.update()
            if problem:
                row["status"] = f"skipped: {problem}"
                bar.clear()
                print(f"skipped: {row['path']}: {problem}", file=sys.stderr)
                continue
            digest = hashlib.blake2b(pixels.tobytes(), digest_size=16).digest()
            twin = pixels_seen.get(digest)
            if twin and not args.keep_duplicates:
                row["status"] = f"duplicate of {twin[0]} (same {args.size}x{args.size} " \
                                f"pixels, in {twin[1]})"
                continue
            pixels_seen.setdefault(digest, (row["path"], split))
            row["index"] = writer.count
            row["status"] = "ok" if not twin else f"ok, duplicate of {twin[0]}"
            writer.append(pixels, row["label"])
        writer.flush()
        h5["list_classes"] = np.array([c.encode("utf-8") for c in classes])


def manifest_text(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, MANIFEST_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def main(argv=None):
    from pipeline.artifacts.photos import FITS

    parser = Parser(prog="python -m pipeline dataset", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, metavar="SOURCE",
                        help="one folder per class, or train/ and test/ holding them")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="the dataset folder to write: train.h5, test.h5, manifest.csv")
    parser.add_argument("--positive", metavar="NAME", help="the class labelled 1 (default: cat)")
    parser.add_argument("--test-fraction", type=unit_interval, default=0.2,
                        help="share of each class drawn for test (default %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seeds the draw (default 0)")
    parser.add_argument("--size", type=positive_int, default=64, help="image side (default 64)")
    parser.add_argument("--fit", choices=FITS, default="crop", help="as classify (default crop)")
    parser.add_argument("--recursive", action="store_true", help="look inside sub-folders too")
    parser.add_argument("--keep-duplicates", action="store_true",
                        help="keep the split exactly as given; still list duplicates")
    parser.add_argument("--force", action="store_true", help="replace an existing --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.force:
        raise UserError(f"{args.out} exists; choose another --out or add --force to replace it")
    # Workers ignore Ctrl-C: the main process alone turns it into one line.
    pool = ProcessPoolExecutor(max_workers=min(os.cpu_count() or 1, 8),
                               initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))
    try:
        rows, classes = plan(args.source, args, pool)
        with atomic_dir(args.out) as tmp:
            build(rows, classes, tmp, args, pool)
            (tmp / "manifest.csv").write_text(manifest_text(rows), encoding="utf-8")
    finally:  # on Ctrl-C or an error, drop the work not yet done instead of waiting for it
        pool.shutdown(wait=True, cancel_futures=True)
    kept = {s: sum(r["split"] == s and r["status"].startswith("ok") for r in rows)
            for s in ("train", "test")}
    left = sum(not r["status"].startswith("ok") for r in rows)
    print(f"{args.out}: {kept['train']} train and {kept['test']} test photos, classes "
          f"{classes[0]} (0) and {classes[1]} (1); {left} left out (see manifest.csv)")
    print(f"train on it: make train DATA={args.out}")
