"""Every train is kept: the same run again is restored, byte for byte, and `runs` lists,
compares, writes reports/runs and prunes."""

import json

from helpers import run_cli


def train(features_file, tmp_path, *flags):
    return run_cli("train", "--features", features_file, "--out", tmp_path / "params.npz",
                   "--runs-dir", tmp_path / "runs", "--quiet", *flags)


def runs(tmp_path, *flags):
    return run_cli("runs", "--runs-dir", tmp_path / "runs", "--params", tmp_path / "params.npz",
                   "--out-dir", tmp_path / "reports" / "runs", *flags)


def test_the_same_run_again_is_restored_byte_for_byte(features_file, tmp_path):
    first = train(features_file, tmp_path, "--num-iterations", "300")
    assert first.returncode == 0, first.stderr
    trained = (tmp_path / "params.npz").read_bytes()
    (tmp_path / "params.npz").unlink()
    again = train(features_file, tmp_path, "--num-iterations", "300")
    assert again.returncode == 0, again.stderr
    line = again.stderr.strip()
    assert line.startswith("restored run ") and "(trained " in line and " s)" in line
    assert (tmp_path / "params.npz").read_bytes() == trained
    run_id = line.split()[2]
    assert [p.name[:6] for p in (tmp_path / "runs").iterdir()] == [run_id]


def test_a_damaged_run_is_named_trained_again_and_replaced(features_file, tmp_path):
    assert train(features_file, tmp_path, "--num-iterations", "200").returncode == 0
    folder = next((tmp_path / "runs").iterdir())
    (folder / "params.npz").write_bytes(b"damaged")
    again = train(features_file, tmp_path, "--num-iterations", "200")
    assert again.returncode == 0, again.stderr
    lines = again.stderr.strip().splitlines()
    assert f"run {folder.name}" in lines[0] and "training it again" in lines[0]
    assert lines[-1].startswith("trained 200 steps")
    restored = train(features_file, tmp_path, "--num-iterations", "200")
    assert restored.stderr.startswith("restored run "), restored.stderr


def test_runs_lists_compares_writes_its_reports_and_prunes(features_file, tmp_path):
    for flags in (["--learning-rate", "0.01", "--num-iterations", "1500"], []):
        assert train(features_file, tmp_path, *flags).returncode == 0
    listed = runs(tmp_path)
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 3 and "lr" in lines[0].split() and "steps" in lines[0].split()
    assert lines[1].startswith("*") and "70.0 (55-82)" in lines[1] and "0.005" in lines[1]
    assert "68.0 (53-80)" in lines[2] and "0.01" in lines[2]
    assert max(map(len, lines)) <= 100
    ids = [line.split()[1] if line.startswith("*") else line.split()[0] for line in lines[1:]]
    both = runs(tmp_path, *ids)
    assert both.returncode == 0, both.stderr
    table = both.stdout.splitlines()
    assert table[0].split() == [*ids, "difference"]
    test_row = next(row for row in table if row.strip().startswith("test accuracy"))
    assert test_row.split()[-2:] == ["-2", "%"]  # 68 - 70
    as_json = json.loads(runs(tmp_path, "--json").stdout)
    assert [r["test_accuracy"] for r in as_json] == [70.0, 68.0]
    assert {"learning_rate", "num_iterations", "test_accuracy", "params_sha256"} <= set(
        as_json[0])
    written = tmp_path / "reports" / "runs"
    assert sorted(p.name for p in written.iterdir()) == [
        "best.png", "curves.png", "runs.json", "runs.md", "section.html", "section.json"]
    assert "| * |" in (written / "runs.md").read_text()
    pruned = runs(tmp_path, "--prune", "0")
    assert "pruned 1 runs" in pruned.stderr and "freed 0.1 MB" in pruned.stderr
    assert len(list((tmp_path / "runs").iterdir())) == 1  # the current one stays


def test_a_damaged_record_is_one_line_and_the_others_are_listed(features_file, tmp_path):
    assert train(features_file, tmp_path, "--num-iterations", "100").returncode == 0
    assert train(features_file, tmp_path, "--num-iterations", "150").returncode == 0
    damaged = sorted((tmp_path / "runs").iterdir())[0] / "run.json"
    damaged.write_text('{"id": 3')
    listed = runs(tmp_path)
    assert listed.returncode == 0
    assert len(listed.stderr.splitlines()) == 1 and str(damaged) in listed.stderr
    assert len(listed.stdout.splitlines()) == 2  # the header and the other run
    unknown = runs(tmp_path, "ffff")
    assert unknown.returncode == 1
    assert unknown.stderr.splitlines()[-1].startswith("error: run 'ffff' names no run of 1")


def test_a_ledger_that_cannot_be_written_is_one_line_and_the_model_stays(features_file,
                                                                         tmp_path):
    assert train(features_file, tmp_path, "--num-iterations", "100").returncode == 0
    before = (tmp_path / "params.npz").read_bytes()
    (tmp_path / "blocked").write_text("a file where the ledger's folder would be")
    result = run_cli("train", "--features", features_file, "--out", tmp_path / "params.npz",
                     "--runs-dir", tmp_path / "blocked", "--quiet", "--num-iterations", "150")
    assert result.returncode == 1 and result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert (tmp_path / "params.npz").read_bytes() == before


def test_a_run_kept_before_a_setting_existed_is_listed_with_its_default(features_file,
                                                                       tmp_path):
    assert train(features_file, tmp_path, "--num-iterations", "100").returncode == 0
    run_json = next((tmp_path / "runs").iterdir()) / "run.json"
    record = json.loads(run_json.read_text())
    for key in ("keep_prob", "init", "decay", "beta"):  # settings this record predates
        del record[key]
    run_json.write_text(json.dumps(record))
    listed = runs(tmp_path, "--json")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    [shown] = json.loads(listed.stdout)
    assert (shown["keep_prob"], shown["init"], shown["decay"], shown["beta"]) == (
        1.0, "course", "none", 0.9)
