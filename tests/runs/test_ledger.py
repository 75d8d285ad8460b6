"""The ledger keeps every finished run whole, lists what it can, and names what it cannot."""

import json
import random

import pytest
from damage import DAMAGE, structural
from helpers import record_of

from pipeline.errors import UserError
from pipeline.runs import ledger
from pipeline.runs.ledger import (
    check_record,
    copy_params,
    current_id,
    intact_run,
    prune,
    read_record,
    save_run,
    scan,
    select,
)


def saved(runs_dir, tmp_path, run_id, **kwargs):
    params = tmp_path / f"{run_id}-params.npz"
    params.write_bytes(run_id.encode() * 100)
    return save_run(runs_dir, record_of(run_id, **kwargs), params)


def test_a_saved_run_reads_back_whole_and_restores_byte_for_byte(tmp_path):
    runs = tmp_path / "runs"
    record = saved(runs, tmp_path, "0123456789ab")
    assert read_record(runs / "0123456789ab") == record
    assert intact_run(runs, "0123456789ab") == (record, None)
    assert intact_run(runs, "ffffffffffff") == (None, None)
    copy_params(runs, record, tmp_path / "out.npz")
    assert (tmp_path / "out.npz").read_bytes() == b"0123456789ab" * 100
    assert current_id([record], tmp_path / "out.npz") == "0123456789ab"
    assert current_id([record], tmp_path / "nothing.npz") is None


def test_a_damaged_params_file_is_named_not_restored(tmp_path):
    runs = tmp_path / "runs"
    saved(runs, tmp_path, "0123456789ab")
    (runs / "0123456789ab" / "params.npz").write_bytes(b"changed")
    record, why = intact_run(runs, "0123456789ab")
    assert record is None and "run 0123456789ab" in why and "sha256" in why


def test_listing_is_newest_first_skips_damage_and_shows_interrupted_runs(tmp_path):
    runs = tmp_path / "runs"
    saved(runs, tmp_path, "aaaaaaaaaaaa", finished="2026-12-01T10:00:00+00:00")
    saved(runs, tmp_path, "bbbbbbbbbbbb", finished="2026-12-03T10:00:00+00:00")
    saved(runs, tmp_path, "cccccccccccc", finished="2026-12-02T10:00:00+00:00")
    (runs / "cccccccccccc" / "run.json").write_text("{not json")
    (runs / ".dddddddddddd.x1y2.tmp").mkdir()  # a run killed before its rename
    records, problems, interrupted = scan(runs)
    assert [r["id"] for r in records] == ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]
    assert len(problems) == 1 and "cccccccccccc/run.json" in problems[0]
    assert interrupted == ["dddddddddddd"]
    assert scan(tmp_path / "none") == ([], [], [])


def test_an_interrupted_save_leaves_no_finished_record(tmp_path, monkeypatch):
    runs = tmp_path / "runs"

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ledger, "write_json", full_disk)
    with pytest.raises(OSError):
        saved(runs, tmp_path, "0123456789ab")
    assert scan(runs) == ([], [], [])
    assert list(runs.iterdir()) == []


def test_id_prefixes_choose_runs_or_say_what_is_wrong(tmp_path):
    records = [record_of("abc123000000"), record_of("abd456000000")]
    assert [r["id"] for r in select(records, ["abd", "ABC1"])] == ["abd456000000",
                                                                  "abc123000000"]
    with pytest.raises(UserError, match="'ab' names 2 runs of 2"):
        select(records, ["ab"])
    with pytest.raises(UserError, match="'zz' names no run"):
        select(records, ["zz"])


def test_prune_keeps_the_newest_and_the_current_run(tmp_path):
    runs = tmp_path / "runs"
    for day in range(1, 6):
        saved(runs, tmp_path, f"{day:012}", finished=f"2026-12-0{day}T10:00:00+00:00")
    records, _, _ = scan(runs)
    removed, freed = prune(runs, records, 2, current="000000000001")
    assert sorted(removed) == ["000000000002", "000000000003"]
    assert freed == 2 * (1200 + (runs / "000000000005" / "run.json").stat().st_size)
    assert sorted(p.name for p in runs.iterdir()) == ["000000000001", "000000000004",
                                                      "000000000005"]


def test_seeded_damage_to_run_json_gives_a_record_or_a_value_error(tmp_path):
    source = json.dumps(record_of("0123456789ab")).encode()
    rng = random.Random(29)
    outcomes = {"whole": 0, "refused": 0}
    for kind in (*DAMAGE, structural):
        for _ in range(100):
            folder = tmp_path / "0123456789ab"
            folder.mkdir(exist_ok=True)
            (folder / "run.json").write_bytes(kind(source, rng))
            try:
                read_record(folder)
                outcomes["whole"] += 1
            except (ValueError, UnicodeDecodeError, RecursionError):
                outcomes["refused"] += 1
    assert outcomes["refused"] >= 300  # and nothing else escaped: no KeyError, no TypeError


@pytest.mark.parametrize("change, message", [
    ({"test_accuracy": "70"}, "test_accuracy is missing or not a"),
    ({"duration_s": True}, "duration_s"),
    ({"learning_rate": "fast"}, "settings unreadable"),
    ({"costs": [1.0]}, "curves or interval"),
])
def test_a_record_that_is_not_whole_says_what(change, message):
    with pytest.raises(ValueError, match=message):
        check_record({**record_of("0123456789ab"), "params_sha256": "e" * 64, **change})


def test_a_file_kept_beside_a_run_is_copied_in_whole_and_never_replaces_its_own(tmp_path):
    source = tmp_path / "calibration.npz"
    source.write_bytes(b"made from the run")
    ledger.keep_beside(tmp_path / "runs", "abc", "calibration-5.npz", source)
    kept = ledger.kept_beside(tmp_path / "runs", "abc", "calibration-5.npz")
    assert kept.read_bytes() == b"made from the run" and kept.parent.name == "abc"
    for name in ("params.npz", "run.json", "../escape.npz"):
        with pytest.raises(ValueError, match="not a name"):
            ledger.kept_beside(tmp_path / "runs", "abc", name)
