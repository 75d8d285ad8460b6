"""classify's maps: each photo's push from the mean training image, its sum beside z - z(x̄)
in the terminal and in --json, and --explain DIR writing one figure a photo, or one line and
nothing when it cannot."""

import json

import numpy as np
import pytest
from helpers import run_cli
from PIL import Image

from pipeline.artifacts.features import load_split
from pipeline.artifacts.params import load_params
from pipeline.cli import run
from pipeline.evaluation.explain import MAX_STEPS
from pipeline.stages import calibrate, classify


def calibrated_copy(params, features_file, folder):
    """folder/params.npz, a copy of params, with its calibration.npz beside it."""
    (folder / "params.npz").write_bytes(params.read_bytes())
    assert run(calibrate.main, ["--params", str(folder / "params.npz"), "--features",
                                str(features_file), "--runs-dir", str(folder / "runs")]) == 0
    return folder / "params.npz"


@pytest.fixture(scope="module")
def neuron(trained, features_file, tmp_path_factory):
    return calibrated_copy(trained[0], features_file, tmp_path_factory.mktemp("neuron"))


@pytest.fixture(scope="module")
def network(features_file, tmp_path_factory):
    """An l-layer network, trained briefly, and calibrated."""
    folder = tmp_path_factory.mktemp("network")
    result = run_cli("train", "--model", "l-layer", "--num-iterations", "100", "--features",
                     features_file, "--out", folder / "trained.npz", "--runs-dir", folder / "runs")
    assert result.returncode == 0, result.stderr
    return calibrated_copy(folder / "trained.npz", features_file, folder)


@pytest.fixture(scope="module")
def photos(raw_files, tmp_path_factory):
    """Three test images as photos, two of them named cat.png in different folders."""
    root = tmp_path_factory.mktemp("photos")
    images, _, _ = load_split(raw_files[1], "test")
    for j, path in zip((0, 5, 13), ("a/cat.png", "b/cat.png", "b/butterfly.jpg"), strict=True):
        (root / path).parent.mkdir(exist_ok=True)
        Image.fromarray(images[j]).resize((120, 90)).save(root / path)
    return root


def classify_cli(capsys, *args):
    """Run the script's main in-process; returns (exit code, stdout, stderr lines)."""
    code = run(classify.main, [str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


def test_explain_writes_one_figure_a_photo_whose_sums_json_carries(neuron, photos, tmp_path,
                                                                   capsys):
    (photos / "b" / "broken.png").write_bytes(b"not a photo")
    out_dir = tmp_path / "new" / "maps"  # made, parents too
    try:
        code, out, err = classify_cli(capsys, photos, "--recursive", "--params", neuron,
                                      "--explain", out_dir, "--json")
    finally:
        (photos / "b" / "broken.png").unlink()
    records = json.loads(out)
    assert code == 1 and err[-1] == f"wrote 3 maps into {out_dir}"
    assert sorted(p.name for p in out_dir.iterdir()) == ["butterfly.png", "cat-2.png", "cat.png"]
    assert [r["map_png"] for r in records] == [str(out_dir / n) for n in
                                               ("cat.png", "butterfly.png", "cat-2.png")]
    params = load_params(neuron)
    with np.load(neuron.with_name("calibration.npz")) as c:
        z_mean = float((params["w"].T @ c["mean_input"])[0, 0] + params["b"])
    for r in records:
        assert r["map_sum"] == pytest.approx(r["logit"] - r["z_mean_image"], abs=1e-9)
        assert r["z_mean_image"] == pytest.approx(z_mean, abs=1e-12)
        assert r["map_gap"] < 1e-9 and r["map_steps"] == 2  # one neuron: exact
        with Image.open(r["map_png"]) as figure:
            assert figure.size == (1300, 450)
            rgb = np.asarray(figure.convert("RGB"), dtype=int)
        map_panel = rgb[:, 2 * 1300 // 3:]
        assert (map_panel[..., 0] > map_panel[..., 2] + 60).sum() > 200  # red: towards cat
        assert (map_panel[..., 2] > map_panel[..., 0] + 60).sum() > 200  # blue: away


def test_the_terminal_prints_the_maps_sum_beside_z_minus_z_of_the_mean(neuron, network, photos,
                                                                        capsys):
    for params, ending in ((neuron, "(exact for one neuron)"), (network, " %)")):
        code, out, _ = classify_cli(capsys, photos / "a" / "cat.png", "--params", params)
        map_line = out.splitlines()[2]
        assert code == 0 and map_line.startswith("  map from the mean training image: sum ")
        assert map_line.endswith(ending) and len(map_line) <= 100


def test_a_networks_map_sums_to_z_minus_z_of_the_mean_within_one_percent_or_says_its_gap(
        network, photos, tmp_path, capsys):
    code, out, _ = classify_cli(capsys, photos, "--recursive", "--params", network, "--json",
                                "--explain", tmp_path)
    records = json.loads(out)
    assert code == 0 and len(records) == 3 == len(list(tmp_path.glob("*.png")))
    for r in records:
        change = r["logit"] - r["z_mean_image"]
        assert abs(r["map_sum"] - change) == pytest.approx(r["map_gap"], abs=1e-12)
        assert r["map_gap"] <= 0.01 * abs(change) or r["map_steps"] == MAX_STEPS


@pytest.mark.parametrize("in_the_way", ["file", "file/below"])
def test_explain_into_a_file_is_one_line_and_writes_nothing(neuron, photos, tmp_path, capsys,
                                                            in_the_way):
    (tmp_path / "file").write_text("mine\n")
    code, out, err = classify_cli(capsys, photos, "--recursive", "--params", neuron,
                                  "--explain", tmp_path / in_the_way)
    assert (code, out) == (1, "") and err == [
        f"error: --explain {tmp_path / in_the_way}: a file is in the way; name a folder"]
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
    assert (tmp_path / "file").read_text() == "mine\n"


def test_explain_into_a_folder_it_may_not_write_is_one_line_and_leaves_nothing(
        neuron, photos, tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):  # as root, chmod would not stop us
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(classify.tempfile, "mkstemp", refuse)
    code, out, err = classify_cli(capsys, photos, "--recursive", "--params", neuron,
                                  "--explain", tmp_path / "new" / "maps")
    assert (code, out) == (1, "") and err == [
        f"error: --explain {tmp_path / 'new' / 'maps'}: cannot write there (permission denied)"]
    assert list(tmp_path.iterdir()) == []  # the folders it made for the maps are gone


def test_explain_without_a_calibration_says_it_needs_make_calibrate(trained, neuron, photos,
                                                                    tmp_path, capsys):
    code, out, err = classify_cli(capsys, photos, "--recursive", "--params", trained[0],
                                  "--explain", tmp_path / "maps")
    assert (code, out) == (1, "") and err == [
        "error: --explain needs the mean training image, which `make calibrate` keeps in "
        f"calibration.npz: {trained[0].with_name('calibration.npz')} not found"]
    stale = tmp_path / "params.npz"
    with np.load(neuron) as p:
        np.savez(stale, **{**dict(p), "b": np.array(1.0)})  # another model: its sha256 differs
    (tmp_path / "calibration.npz").write_bytes(neuron.with_name("calibration.npz").read_bytes())
    code, out, err = classify_cli(capsys, photos, "--recursive", "--params", stale,
                                  "--explain", tmp_path / "maps")
    assert (code, out, len(err)) == (1, "", 1) and "is stale" in err[0]
    assert not (tmp_path / "maps").exists()
    # without --explain the answer is still given, raw, and without a map
    code, out, _ = classify_cli(capsys, photos / "a" / "cat.png", "--params", stale, "--json")
    record = json.loads(out)[0]
    assert code == 0 and record["map_sum"] is None and record["map_png"] is None


def test_map_names_follow_the_photos_and_never_collide(tmp_path):
    paths = [tmp_path / p for p in ("a/cat.jpg", "b/cat.jpg", "a/cat.png", "a/Cat.gif",
                                    "cat-2.jpg", "dog.webp")]
    assert classify.map_names(paths) == ["cat.png", "cat-2.png", "cat-3.png", "Cat-4.png",
                                         "cat-2-2.png", "dog.png"]
