"""Folders of one's own labelled photos -> train.h5, test.h5 (the course's layout) and
manifest.csv (what became of every file), through exactly classify's preprocessing.

The source holds one folder per class (exactly two; split by a stratified draw), or train/ and
test/ holding them (the split kept). Byte-identical photos are kept once; a test photo whose
pixels equal a training photo's is left out of test (keep_duplicates keeps the split as given).
plan_dataset, then write_dataset, in a photo_pool: photos are hashed and decoded in worker
processes and streamed into resizable HDF5 datasets, in a temp folder renamed at the end."""

import csv
import hashlib
import io
import itertools
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from pipeline import config
from pipeline.artifacts.files import StrPath, atomic_dir, sha256_of
from pipeline.artifacts.photos import decode, files_in, is_image_name
from pipeline.artifacts.split_writer import SplitWriter
from pipeline.errors import UserError
from pipeline.progress import ticker

MANIFEST_COLUMNS = ("path", "sha256", "class", "label", "split", "index", "status")
SPLITS = ("train", "test")
Row = dict[str, Any]  # a file's manifest row, MANIFEST_COLUMNS and its "file" (a Path)
OnSkip = Callable[[str, str], object] | None  # hears (path, reason) of a photo left out


@dataclass(frozen=True)
class Recipe:
    """How photos become a dataset."""

    positive: str | None = None  # the class labelled 1; None: a folder named cat
    test_fraction: float = config.DATASET_TEST_FRACTION  # of each class, drawn for test
    seed: int = config.DATASET_SEED  # seeds that draw
    size: int = config.DATASET_IMAGE_SIZE  # the images' side, in pixels
    fit: str = config.PHOTO_FIT  # how a photo becomes square, as classify does (photos.FITS)
    recursive: bool = False  # look inside sub-folders of the class folders too
    keep_duplicates: bool = False  # keep the split exactly as given (duplicates still listed)


class Plan(NamedTuple):
    """Every file met under source as manifest rows (dicts), the photos to decode marked with
    their split; classes: [negative, positive] names."""

    source: Path
    rows: list[Row]
    classes: list[str]


@contextmanager
def photo_pool() -> Iterator[ProcessPoolExecutor]:
    """A process pool for hashing and decoding; on an error or Ctrl-C, the work not yet done is
    dropped instead of waited for. Workers ignore Ctrl-C: the main process alone answers it."""
    pool = ProcessPoolExecutor(max_workers=min(os.cpu_count() or 1, 8),
                               initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def class_folders(folder: Path, where: Path) -> list[Path]:
    """The class sub-folders of a folder (hidden ones ignored): exactly two, or a UserError."""
    found = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(found) != 2:
        names = ", ".join(p.name for p in found) or "none"
        raise UserError(f"{where} needs exactly two class folders, found {len(found)}: {names}")
    return found


def layout(source: Path) -> dict[str | None, list[Path]]:
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


def positive_class(names: Sequence[str], positive: str | None) -> tuple[str, str]:
    """(negative, positive) class names: positive if given, else a folder named cat."""
    if positive is None:
        if "cat" not in names:
            raise UserError(f"found classes {names[0]!r} and {names[1]!r}: name the positive one "
                            f"(label 1) with --positive {names[0]} or --positive {names[1]}")
        positive = "cat"
    if positive not in names:
        raise UserError(f"--positive {positive!r} is not one of the classes found: "
                        f"{names[0]!r}, {names[1]!r}")
    return (names[1] if names[0] == positive else names[0]), positive


def stratified_test_draw(count: int, fraction: float,
                         rng: np.random.Generator) -> NDArray[np.bool_]:
    """Which of a class's `count` photos go to test: round(fraction * count), at least one and
    at least one left for training (so a lone photo trains)."""
    n_test = min(max(1, round(fraction * count)), count - 1)
    chosen = np.zeros(count, dtype=bool)
    chosen[rng.permutation(count)[:n_test]] = True
    return chosen


def plan_dataset(source: StrPath, recipe: Recipe, pool: Executor) -> Plan:
    """The Plan for the photo folders at source. The pool hashes the files (a photo's sha256 is
    read in full: it is worth two cores)."""
    source = Path(source)
    folders = layout(source)
    names = [p.name for p in next(iter(folders.values()))]
    negative, positive = positive_class(names, recipe.positive)
    label_of = {negative: 0, positive: 1}
    rng = np.random.default_rng(recipe.seed)
    rows: list[Row] = []
    seen: dict[str, str] = {}  # sha256 -> the first path with those bytes
    for split, classes in folders.items():
        for folder in classes:
            candidates: list[Row] = []
            paths = files_in(folder, recipe.recursive)
            for path, sha256 in zip(paths, pool.map(sha256_of, paths, chunksize=16), strict=True):
                row: Row = {"path": path.relative_to(source).as_posix(), "file": path,
                       "sha256": sha256, "class": folder.name,
                       "label": label_of[folder.name], "split": split or "", "index": "",
                       "status": ""}
                rows.append(row)
                if not is_image_name(path):
                    row["status"] = f"not an image ({path.suffix or 'no extension'})"
                elif row["sha256"] in seen and not recipe.keep_duplicates:
                    row["status"] = f"duplicate of {seen[row['sha256']]} (same bytes)"
                else:
                    seen.setdefault(row["sha256"], row["path"])
                    candidates.append(row)
            if split is None and candidates:  # the stratified draw, per class
                chosen = stratified_test_draw(len(candidates), recipe.test_fraction, rng)
                for row, to_test in zip(candidates, chosen, strict=True):
                    row["split"] = "test" if to_test else "train"
    return Plan(source, rows, [negative, positive])


def to_decode(plan: Plan) -> dict[str, list[Row]]:
    """{split: the rows of the photos to decode}, in the order they are written."""
    return {split: sorted((r for r in plan.rows if r["split"] == split and not r["status"]),
                          key=lambda r: (Path(r["path"]).name, r["path"]))
            for split in SPLITS}


def write_dataset(plan: Plan, out: StrPath, recipe: Recipe, pool: Executor, *,
                  on_progress: Callable[[int], object] | None = None,
                  on_skip: OnSkip = None) -> tuple[dict[str, int], int]:
    """out/{train,test}.h5 and out/manifest.csv from the plan, replacing out as a whole, or a
    UserError and nothing written. on_progress(n) hears of photos decoded (len of to_decode's
    rows in all); on_skip(path, reason) of each photo that could not be decoded.
    Returns the photos kept, {"train": n, "test": n}, and the files left out."""
    todo = to_decode(plan)
    tick, step = ticker(sum(map(len, todo.values())), on_progress), itertools.count()
    pixels_seen: dict[bytes, tuple[str, str]] = {}  # a kept photo's pixels -> (path, split)
    with atomic_dir(out) as tmp:
        for split, planned in todo.items():
            stream_split(pool, tmp / f"{split}.h5", split, planned, plan.classes, recipe,
                         pixels_seen=pixels_seen, decoded=lambda: tick(next(step)),
                         on_skip=on_skip)
        check_usable(plan)
        (tmp / "manifest.csv").write_text(manifest_text(plan.rows), encoding="utf-8")
    kept = {s: sum(r["split"] == s and r["status"].startswith("ok") for r in plan.rows)
            for s in SPLITS}
    return kept, sum(not r["status"].startswith("ok") for r in plan.rows)


def check_usable(plan: Plan) -> None:
    for label, name in enumerate(plan.classes):
        usable = [r for r in plan.rows if r["label"] == label and r["status"].startswith("ok")]
        if len(usable) < 2:
            raise UserError(f"class {name!r} has {len(usable)} usable photo(s); each class "
                            "needs at least 2 (see the skipped lines); nothing was written")
    for split in SPLITS:
        if not any(r["split"] == split and r["status"].startswith("ok") for r in plan.rows):
            raise UserError(f"no usable photo is left for {split}; nothing was written")


def stream_split(pool: Executor, path: Path, split: str, planned: list[Row],
                 classes: Sequence[str], recipe: Recipe, *,
                 pixels_seen: dict[bytes, tuple[str, str]], decoded: Callable[[], object],
                 on_skip: OnSkip) -> None:
    """One split's photos, decoded by the pool in order, appended to path (an .h5 file);
    decoded() after each photo."""
    import h5py

    with h5py.File(path, "w") as h5:
        writer = SplitWriter(h5, split, recipe.size)
        tasks = ((r["file"], recipe.size, recipe.fit) for r in planned)
        for row, (pixels, problem) in zip(planned, pool.map(decode, tasks, chunksize=4),
                                          strict=True):
            decoded()
            if pixels is None:
                row["status"] = f"skipped: {problem}"
                if on_skip:
                    on_skip(row["path"], problem)
                continue
            digest = hashlib.blake2b(pixels.tobytes(), digest_size=16).digest()
            twin = pixels_seen.get(digest)
            if twin and not recipe.keep_duplicates:
                row["status"] = f"duplicate of {twin[0]} (same {recipe.size}x{recipe.size} " \
                                f"pixels, in {twin[1]})"
                continue
            pixels_seen.setdefault(digest, (row["path"], split))
            row["index"] = writer.count
            row["status"] = "ok" if not twin else f"ok, duplicate of {twin[0]}"
            writer.append(pixels, row["label"])
        writer.flush()
        h5["list_classes"] = np.array([c.encode("utf-8") for c in classes])


def manifest_text(rows: Iterable[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, MANIFEST_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
