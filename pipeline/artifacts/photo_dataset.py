"""Folders of one's own labelled photos -> train.h5, test.h5 (the course's layout) and
manifest.csv (what became of every file), through exactly classify's preprocessing.

The source holds one folder per class (exactly two; split by a stratified draw), or train/ and
test/ holding them (the split kept). Byte-identical photos are kept once; a test photo whose
pixels equal a training photo's is left out of test (keep_duplicates keeps the split as given).
plan_dataset, then write_dataset, in a photo_pool: workers hash and decode the photos, a batch
at a time, streamed into resizable HDF5 datasets in a temp folder renamed at the end."""

import csv
import hashlib
import itertools
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

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
TASKS_AT_ONCE = 64  # a batch given to the pool: memory holds two batches' items and results
OnSkip = Callable[[str, str], object] | None  # hears (path, reason) of a photo left out
Result = TypeVar("Result")


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
    """Every file met under source, file i at position i of each column (the manifest's rows,
    in order). classes: [negative, positive] names; a file's class is classes[labels[i]]."""

    source: Path
    classes: list[str]
    paths: list[str]  # relative to source, with "/"
    sha256: list[bytes]  # the digest of the file's bytes (32 bytes, half its hex)
    labels: list[int]  # 0 or 1
    splits: list[str]  # "train", "test", or "" for a file in no split
    statuses: list[str]  # "" for a photo still to decode; "ok..." for one written
    indexes: NDArray[np.int64] = np.zeros(0, np.int64)  # (n,) place in its split's .h5, or -1


@contextmanager
def photo_pool() -> Iterator[ProcessPoolExecutor]:
    """A process pool for hashing and decoding; on an error or Ctrl-C, the work not yet done is
    dropped instead of waited for. Workers ignore Ctrl-C: the main process alone answers it."""
    pool = ProcessPoolExecutor(max_workers=min(os.cpu_count() or 1, 8),
                               initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))
    try:
        pool.submit(int).result()  # fork the workers now, while this process is small
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def in_batches(pool: Executor, work: Callable[[Any], Result], items: Iterator[Any],
               chunk: int) -> Iterator[Result]:
    """pool.map(work, items, chunksize=chunk) in batches of TASKS_AT_ONCE tasks, two out at most."""
    previous: Iterator[Result] = iter(())
    while batch := list(itertools.islice(items, TASKS_AT_ONCE * chunk)):
        queued = pool.map(work, batch, chunksize=chunk)  # so no worker waits at a batch's end
        yield from previous
        previous = queued
    yield from previous


def class_folders(folder: Path) -> list[Path]:
    """The class sub-folders of a folder (hidden ones ignored): exactly two, or a UserError."""
    found = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(found) != 2:
        names = ", ".join(p.name for p in found) or "none"
        raise UserError(f"{folder} needs exactly two class folders, found {len(found)}: {names}")
    return found


def layout(source: Path) -> dict[str | None, list[Path]]:
    """{split or None: [class folder, class folder]} for one of the two layouts."""
    if not source.is_dir():
        raise UserError(f"{source} is not a folder: give a folder with one sub-folder per class "
                        "(or train/ and test/ holding them)")
    if (source / "train").is_dir() and (source / "test").is_dir():
        train, test = class_folders(source / "train"), class_folders(source / "test")
        if [p.name for p in train] != [p.name for p in test]:
            raise UserError(f"{source}/train has classes {', '.join(p.name for p in train)} but "
                            f"{source}/test has {', '.join(p.name for p in test)}; they must match")
        return {"train": train, "test": test}
    return {None: class_folders(source)}


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
    classes = list(positive_class([p.name for p in next(iter(folders.values()))],
                                  recipe.positive))
    plan = Plan(source, classes, paths=[], sha256=[], labels=[], splits=[], statuses=[])
    rng = np.random.default_rng(recipe.seed)
    seen: dict[bytes, int] = {}  # sha256 -> the first file with those bytes
    for split, class_dirs in folders.items():
        for folder in class_dirs:
            start = len(plan.paths)
            found = [p.relative_to(source).as_posix() for p in files_in(folder, recipe.recursive)]
            plan.paths.extend(found)
            plan.labels.extend([classes.index(folder.name)] * len(found))
            plan.splits.extend([split or ""] * len(found))
            plan.statuses.extend([""] * len(found))
            candidates: list[int] = []
            hashes = in_batches(pool, sha256_of, (source / p for p in found), chunk=16)
            for i, sha256 in enumerate(map(bytes.fromhex, hashes), start):
                plan.sha256.append(sha256)
                if not is_image_name(file := Path(plan.paths[i])):
                    plan.statuses[i] = f"not an image ({file.suffix or 'no extension'})"
                elif sha256 in seen and not recipe.keep_duplicates:
                    plan.statuses[i] = f"duplicate of {plan.paths[seen[sha256]]} (same bytes)"
                else:
                    seen.setdefault(sha256, i)
                    candidates.append(i)
            if split is None and candidates:  # the stratified draw, per class
                chosen = stratified_test_draw(len(candidates), recipe.test_fraction, rng)
                for i, to_test in zip(candidates, chosen, strict=True):
                    plan.splits[i] = "test" if to_test else "train"
    return plan._replace(indexes=np.full(len(plan.paths), -1))


def to_decode(plan: Plan) -> dict[str, list[int]]:
    """{split: the photos to decode, as places in the plan}, in the order they are written."""
    by_name = sorted(range(len(plan.paths)),
                     key=lambda i: (plan.paths[i].rpartition("/")[2], plan.paths[i]))
    return {split: [i for i in by_name if plan.splits[i] == split and not plan.statuses[i]]
            for split in SPLITS}


def write_dataset(plan: Plan, out: StrPath, recipe: Recipe, pool: Executor, *,
                  on_progress: Callable[[int], object] | None = None,
                  on_skip: OnSkip = None) -> tuple[dict[str, int], int]:
    """out/{train,test}.h5 and out/manifest.csv from the plan, replacing out as a whole, or a
    UserError and nothing written. on_progress(n) hears of photos decoded (len of to_decode's
    lists in all); on_skip(path, reason) of each photo that could not be decoded.
    Returns the photos kept, {"train": n, "test": n}, and the files left out."""
    todo = to_decode(plan)
    tick, step = ticker(sum(map(len, todo.values())), on_progress), itertools.count()
    pixels_seen: dict[bytes, int] = {}  # a kept photo's pixels -> the file
    with atomic_dir(out) as tmp:
        for split, planned in todo.items():
            stream_split(pool, tmp / f"{split}.h5", split, planned, plan, recipe,
                         pixels_seen=pixels_seen, decoded=lambda: tick(next(step)),
                         on_skip=on_skip)
        check_usable(plan)
        write_manifest(tmp / "manifest.csv", plan)
    kept = Counter(itertools.compress(plan.splits, plan.indexes >= 0))
    return {s: kept[s] for s in SPLITS}, len(plan.paths) - kept.total()


def check_usable(plan: Plan) -> None:
    usable = Counter(itertools.compress(plan.labels, plan.indexes >= 0))
    for label, name in enumerate(plan.classes):
        if usable[label] < 2:
            raise UserError(f"class {name!r} has {usable[label]} usable photo(s); each class "
                            "needs at least 2 (see the skipped lines); nothing was written")
    kept = set(itertools.compress(plan.splits, plan.indexes >= 0))
    for split in SPLITS:
        if split not in kept:
            raise UserError(f"no usable photo is left for {split}; nothing was written")


def stream_split(pool: Executor, path: Path, split: str, planned: list[int], plan: Plan,
                 recipe: Recipe, *, pixels_seen: dict[bytes, int], decoded: Callable[[], object],
                 on_skip: OnSkip) -> None:
    """One split's photos, decoded by the pool in order, appended to path; decoded() after each."""
    import h5py

    with h5py.File(path, "w") as h5:
        writer = SplitWriter(h5, split, recipe.size)
        tasks = ((plan.source / plan.paths[i], recipe.size, recipe.fit) for i in planned)
        for i, (pixels, problem) in zip(planned, in_batches(pool, decode, tasks, 4), strict=True):
            decoded()
            if pixels is None:
                plan.statuses[i] = f"skipped: {problem}"
                if on_skip:
                    on_skip(plan.paths[i], problem)
                continue
            digest = hashlib.blake2b(pixels.tobytes(), digest_size=16).digest()
            twin = pixels_seen.get(digest)
            if twin is not None and not recipe.keep_duplicates:
                plan.statuses[i] = f"duplicate of {plan.paths[twin]} (same {recipe.size}x" \
                                   f"{recipe.size} pixels, in {plan.splits[twin]})"
                continue
            pixels_seen.setdefault(digest, i)
            plan.indexes[i] = writer.count
            plan.statuses[i] = "ok" if twin is None else f"ok, duplicate of {plan.paths[twin]}"
            writer.append(pixels, plan.labels[i])
        writer.flush()
        h5["list_classes"] = np.array([c.encode("utf-8") for c in plan.classes])


def write_manifest(path: Path, plan: Plan) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for i, (label, index) in enumerate(zip(plan.labels, plan.indexes, strict=True)):
            writer.writerow((plan.paths[i], plan.sha256[i].hex(), plan.classes[label], label,
                             plan.splits[i], "" if index < 0 else index, plan.statuses[i]))
