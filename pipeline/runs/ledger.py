"""The ledger of runs: data/runs/<id>/run.json and params.npz, one folder per finished run.

A run is written into a temp folder and renamed when whole (artifacts/files.atomic_dir), so an
interrupt, a crash or a full disk leaves no finished record, at most a temp folder that a
listing shows as interrupted. Listing reads run.json alone; restoring checks params.npz against
the sha256 its run.json holds.
"""

import json
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from numpy.typing import ArrayLike

from pipeline import config
from pipeline.artifacts.files import (
    StrPath,
    atomic_dir,
    atomic_path,
    sha256_of,
    write_json,
    write_npz,
)
from pipeline.errors import UserError, short_reason
from pipeline.settings import RECORD_KEYS, Settings, record_defaults

Record = dict[str, Any]  # a run's run.json: its settings, data, code, times and outcome
RUN_JSON, PARAMS_NPZ = "run.json", "params.npz"
NUMBER = (int, float)
# run.json's keys besides the settings, and the types they must hold
FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str, "command": str, "status": str, "started": str, "finished": str,
    "duration_s": NUMBER, "engine": str, "train_sha256": str, "test_sha256": str,
    "data_path": str, "code_fingerprint": str, "python": str, "numpy": str,
    "train_accuracy": NUMBER, "test_accuracy": NUMBER, "test_accuracy_ci95": list,
    "final_cost": NUMBER, "iterations": list, "costs": list, "train_accuracies": list,
    "test_accuracies": list, "params_sha256": str,
}


def check_record(record: object) -> Record:
    """The record if it is whole: every key with its type, settings that make a Settings, one
    curve length; else ValueError naming what is wrong."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    for key, kind in FIELDS.items():
        value = record.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{key} is missing or not a {getattr(kind, '__name__', 'number')}")
    if not re.fullmatch(f"[0-9a-f]{{{config.RUN_ID_LENGTH}}}", record["id"]):
        raise ValueError(f"its id is not {config.RUN_ID_LENGTH} hex digits")
    # a run kept before a setting existed ran as its default does: read it so
    record = {**record_defaults(), **record}
    missing = [key for key in RECORD_KEYS if key not in record]
    if missing:
        raise ValueError(f"settings {', '.join(missing)} missing")
    try:
        Settings.from_record(record)
    except (TypeError, ValueError) as err:
        raise ValueError(f"settings unreadable ({short_reason(err)})") from None
    if len({len(record[k]) for k in ("iterations", "costs", "train_accuracies",
                                     "test_accuracies")}) != 1 \
            or len(record["test_accuracy_ci95"]) != 2:
        raise ValueError("its curves or interval do not fit together")
    return record


def read_record(folder: StrPath) -> Record:
    """run.json of the run in folder, checked; OSError or ValueError when it is not whole."""
    record = check_record(json.loads((Path(folder) / RUN_JSON).read_text(encoding="utf-8")))
    if record["id"] != Path(folder).name:
        raise ValueError(f"its id {record['id']!r} is not its folder's name")
    return record


def scan(runs_dir: StrPath) -> tuple[list[Record], list[str], list[str]]:
    """(finished records newest first, one line per damaged record, ids of interrupted runs)."""
    records: list[Record] = []
    problems: list[str] = []
    interrupted: list[str] = []
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return records, problems, interrupted
    for entry in sorted(runs_dir.iterdir()):
        if entry.name.startswith("."):
            if entry.name.endswith(".tmp") and entry.is_dir():  # atomic_dir's, never renamed
                interrupted.append(entry.name.split(".")[1])
            continue
        if not entry.is_dir():
            continue
        try:
            records.append(read_record(entry))
        except (OSError, ValueError, RecursionError) as err:
            problems.append(f"{entry / RUN_JSON}: damaged ({short_reason(err)}); not listed")
    records.sort(key=lambda r: (r["finished"], r["id"]), reverse=True)
    return records, problems, interrupted


def intact_run(runs_dir: StrPath, run_id: str) -> tuple[Record | None, str | None]:
    """(record, None) when run_id is finished and its params.npz matches its sha256;
    (None, None) when the ledger has no such run; (None, why) when it is damaged."""
    folder = Path(runs_dir) / run_id
    if not folder.exists():
        return None, None
    try:
        record = read_record(folder)
        if sha256_of(folder / PARAMS_NPZ) != record["params_sha256"]:
            raise ValueError(f"{PARAMS_NPZ} does not match the sha256 its {RUN_JSON} holds")
    except (OSError, ValueError, RecursionError) as err:
        return None, f"run {run_id} in {folder} is damaged ({short_reason(err)})"
    return record, None


def save_run(runs_dir: StrPath, record: Mapping[str, Any],
             params: StrPath | Mapping[str, ArrayLike]) -> Record:
    """Write the run as one folder: its record (params_sha256 added) and its params.npz, a copy
    of the file `params` names (byte for byte what a restore gives back) or, for a dict, those
    arrays. Replaces a damaged run of the same id; returns the record as written."""
    with atomic_dir(Path(runs_dir) / record["id"]) as tmp:
        if isinstance(params, Mapping):
            write_npz(tmp / PARAMS_NPZ, **params)
        else:
            shutil.copyfile(params, tmp / PARAMS_NPZ)
        record = {**record, "params_sha256": sha256_of(tmp / PARAMS_NPZ)}
        write_json(tmp / RUN_JSON, record)
    return record


def keep_run(runs_dir: StrPath, record: Mapping[str, Any],
             params: StrPath | Mapping[str, ArrayLike]) -> bool:
    """save_run, unless the ledger holds this run whole already (the same id: the same run, made
    by another command or earlier). Returns whether it was written."""
    if intact_run(runs_dir, record["id"])[0] is not None:
        return False
    save_run(runs_dir, record, params)
    return True


def copy_params(runs_dir: StrPath, record: Mapping[str, Any], out: StrPath) -> None:
    """Copy the run's params.npz over out, atomically: byte for byte what its training wrote."""
    # opened by hand: a full disk is then an error of out's (atomic_path names it), not of
    # the file read, as shutil.copyfile would say
    with open(Path(runs_dir) / record["id"] / PARAMS_NPZ, "rb") as source, \
            atomic_path(out) as tmp, open(tmp, "wb") as target:
        shutil.copyfileobj(source, target)


def kept_beside(runs_dir: StrPath, run_id: str, name: str) -> Path:
    """Where a file made from the run (its calibration, say) is kept: beside its params.npz.
    Such a file is optional: a listing, a restore and a prune read run.json alone."""
    if name in (RUN_JSON, PARAMS_NPZ) or Path(name).name != name:
        raise ValueError(f"{name!r} is not a name for a file kept beside a run")
    return Path(runs_dir) / run_id / name


def keep_beside(runs_dir: StrPath, run_id: str, name: str, source: StrPath) -> None:
    """Copy source into the run's folder as name, atomically (kept_beside)."""
    with open(source, "rb") as data, atomic_path(kept_beside(runs_dir, run_id, name)) as tmp, \
            open(tmp, "wb") as target:
        shutil.copyfileobj(data, target)


def current_id(records: Iterable[Mapping[str, Any]], params_file: StrPath) -> str | None:
    """The id of the run whose params.npz is params_file's (by sha256), or None."""
    if not Path(params_file).is_file():
        return None
    digest = sha256_of(params_file)
    return next((r["id"] for r in records if r["params_sha256"] == digest), None)


def select(records: Sequence[Record], prefixes: Iterable[str]) -> list[Record]:
    """The records named by id prefixes, in the order given; a prefix that names no run, or
    several, is a UserError."""
    chosen = []
    for prefix in prefixes:
        found = [r for r in records if r["id"].startswith(prefix.lower())]
        if len(found) != 1:
            what = "no run" if not found else f"{len(found)} runs"
            raise UserError(f"run {prefix!r} names {what} of {len(records)}; "
                            "`make runs` lists their ids")
        chosen.append(found[0])
    return chosen


def prune(runs_dir: StrPath, records: Sequence[Mapping[str, Any]], keep: int,
          current: str | None) -> tuple[list[str], int]:
    """Remove all finished runs but the `keep` newest and the current one; (removed ids,
    bytes freed)."""
    kept = {r["id"] for r in records[:keep]} | {current}
    removed, freed = [], 0
    for record in records:
        if record["id"] in kept:
            continue
        folder = Path(runs_dir) / record["id"]
        freed += sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        shutil.rmtree(folder)
        removed.append(record["id"])
    return removed, freed
