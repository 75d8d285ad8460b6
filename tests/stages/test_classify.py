"""Classifying one's own photos: every common format works, the preprocessing is the training
path, and each bad file gets one line while the others are still classified; each photo's push
from the mean training image, its sum beside z - z(x̄) in the terminal and in --json, and
--explain DIR writing one figure a photo, or one line and nothing when it cannot."""

import json
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli
from PIL import Image

from pipeline.artifacts import photos
from pipeline.artifacts.features import load_split
from pipeline.artifacts.params import load_params, scores
from pipeline.cli import run
from pipeline.evaluation.explain import MAX_STEPS
from pipeline.nn.logistic import predict_proba, sigmoid
from pipeline.stages import calibrate, classify


@pytest.fixture(scope="module")
def cat(raw_files):
    """A cat from the test set, as (64, 64, 3) uint8."""
    images, labels, _ = load_split(raw_files[1], "test")
    return images[int(np.flatnonzero(labels)[0])]


@pytest.fixture(scope="module")
def calibrated(trained, features_file, tmp_path_factory):
    """A copy of the course's params.npz with its calibration.npz beside it."""
    folder = tmp_path_factory.mktemp("calibrated")
    (folder / "params.npz").write_bytes(trained[0].read_bytes())
    assert run(calibrate.main, ["--params", str(folder / "params.npz"), "--features",
                                str(features_file), "--runs-dir", str(folder / "runs"),
                                "--out", str(folder / "calibration.npz")]) == 0
    return folder / "params.npz"


def classify_cli(capsys, *args):
    """Run the script's main in-process; returns (exit code, stdout, stderr lines)."""
    code = run(classify.main, [str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


def photo(cat, size):
    return Image.fromarray(cat).resize(size, Image.Resampling.BICUBIC)


def alpha(image, mode):
    rgba = image.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(image.size))
    return rgba.convert(mode)


FORMATS = {
    "rgb.jpg": lambda c: photo(c, (300, 200)),
    "cmyk.jpg": lambda c: photo(c, (300, 200)).convert("CMYK"),
    "grey.jpg": lambda c: photo(c, (200, 300)).convert("L"),
    "rgba.png": lambda c: alpha(photo(c, (128, 128)), "RGBA"),
    "grey-alpha.png": lambda c: alpha(photo(c, (128, 96)), "LA"),
    "grey16.png": lambda c: Image.fromarray(
        np.asarray(photo(c, (90, 90)).convert("L"), np.uint16) * 257),
    "palette.png": lambda c: photo(c, (100, 100)).convert("P"),
    "bilevel.png": lambda c: photo(c, (100, 100)).convert("1"),
    "image.webp": lambda c: photo(c, (160, 120)),
    "image.tiff": lambda c: photo(c, (160, 120)),
    "image.bmp": lambda c: photo(c, (64, 64)),
    "thumbnail.png": lambda c: photo(c, (20, 20)),
    "phone.jpg": lambda c: photo(c, (4000, 3000)),  # 12 megapixels
}


def save_gif_with_transparency(cat, path):
    image = photo(cat, (100, 100)).convert("P", palette=Image.Palette.ADAPTIVE, colors=255)
    image.info["transparency"] = 0
    image.save(path, transparency=0)


@pytest.mark.parametrize("fit", ["crop", "squash"])
def test_every_mode_and_format_classifies(cat, calibrated, tmp_path, capsys, fit):
    for name, make in FORMATS.items():
        make(cat).save(tmp_path / name)
    save_gif_with_transparency(cat, tmp_path / "transparent.gif")
    code, out, err = classify_cli(capsys, tmp_path, "--params", calibrated, "--fit", fit)
    assert (code, err) == (0, [])
    *answers, trust = re.split(r"\n(?=\S)", out.strip())  # a photo's line, its indented ones
    assert len(answers) == len(FORMATS) + 1 and trust.startswith("trust: 70.0 % of 50 test")
    for line, sentence, map_line in (re.split(r"\n(?=  \S)", a) for a in answers):
        assert map_line.startswith("  map from the mean training image: sum ")
        label, p = line.split(": ")[1].split(" (p=")
        calibrated_p, raw_p = p.removesuffix(")").split(" calibrated, raw p=")
        assert label in ("cat", "non-cat") and 0 <= float(calibrated_p) <= 1
        assert (float(calibrated_p) > 0.5) == (float(raw_p) > 0.5)  # the same answer
        assert sentence.startswith("  The model c")


def test_exif_rotation_gives_exactly_the_upright_probability(cat, trained, tmp_path, capsys):
    upright = photo(cat, (120, 80))
    upright.save(tmp_path / "upright.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "rotated.png", exif=exif)
    code, out, _ = classify_cli(capsys, tmp_path / "upright.png", tmp_path / "rotated.png",
                                "--params", trained[0], "--json")
    first, second = json.loads(out)
    assert code == 0  # the same pixels; two products, each free to round its own way
    assert first["probability"] == pytest.approx(second["probability"], abs=1e-12)


@pytest.mark.parametrize("j", [0, 7, 208])
def test_a_training_image_gets_exactly_its_columns_probability(features, trained, raw_files,
                                                                tmp_path, capsys, j):
    images, _, _ = load_split(raw_files[0], "train")
    Image.fromarray(images[j]).save(tmp_path / "train.png")
    code, out, _ = classify_cli(capsys, tmp_path / "train.png", "--params", trained[0], "--json")
    with np.load(trained[0]) as p:
        expected = predict_proba(p["w"], float(p["b"]), features["X_train"][:, [j]])[0, 0]
    assert code == 0 and json.loads(out)[0]["probability"] == pytest.approx(expected, abs=1e-12)


@pytest.fixture(scope="module")
def network(features_file, tmp_path_factory):
    """An l-layer network, trained briefly by the train stage's command line, and calibrated."""
    folder = tmp_path_factory.mktemp("network")
    out = folder / "params.npz"
    result = run_cli("train", "--model", "l-layer", "--num-iterations", "100", "--features",
                     features_file, "--out", out, "--runs-dir", folder / "runs")
    assert result.returncode == 0, result.stderr
    assert run(calibrate.main, ["--params", str(out), "--features", str(features_file),
                                "--runs-dir", str(folder / "runs")]) == 0
    return out


@pytest.mark.parametrize("j", [0, 208])
def test_a_network_gives_a_training_image_exactly_its_columns_probability(
        features, network, raw_files, tmp_path, capsys, j):
    images, _, _ = load_split(raw_files[0], "train")
    Image.fromarray(images[j]).save(tmp_path / "train.png")
    code, out, _ = classify_cli(capsys, tmp_path / "train.png", "--params", network, "--json")
    params = load_params(network)
    expected = float(sigmoid(scores(params, features["X_train"][:, [j]]))[0, 0])
    assert code == 0 and json.loads(out)[0]["probability"] == pytest.approx(expected, abs=1e-12)


def test_plain_output_ends_with_how_far_to_trust_it(cat, calibrated, tmp_path, capsys):
    photo(cat, (64, 64)).save(tmp_path / "a.png")
    code, out, _ = classify_cli(capsys, tmp_path / "a.png", "--params", calibrated)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"{tmp_path / 'a.png'}: ")
    assert " calibrated, raw p=" in lines[0]
    assert lines[1].startswith("  The model c") and lines[2].startswith("    ") and lines[
        2].endswith("Calibration never changes the answer.")  # the sentence, wrapped
    assert lines[3].startswith("  map from the mean training image: sum ")
    assert lines[3].endswith("(exact for one neuron)")
    assert lines[4:] == ["trust: 70.0 % of 50 test images right (95% CI 55.4-82.1 %; "
                         'always cat: 66.0 %)']
    assert all(len(line) <= 100 for line in lines[1:])  # a terminal's width
    assert len(lines[4]) <= 80  # the trust line


def test_json_is_all_that_goes_to_stdout(cat, calibrated, tmp_path, capsys):
    photo(cat, (64, 64)).save(tmp_path / "a.png")
    code, out, err = classify_cli(capsys, tmp_path / "a.png", tmp_path / "missing.png",
                                  "--params", calibrated, "--json", "--threshold", "0.99")
    records = json.loads(out)
    assert code == 1 and [set(r) for r in records] == [{
        "path", "label", "probability", "logit", "calibrated_probability", "temperature",
        "z_mean_image", "map_sum", "map_steps", "map_gap", "map_png"}]
    record = records[0]
    assert record["label"] == "non-cat"  # p < 0.99
    assert record["probability"] == sigmoid(record["logit"])
    assert record["calibrated_probability"] == sigmoid(record["logit"] / record["temperature"])
    assert record["temperature"] == pytest.approx(4.5525, abs=1e-4)  # the course's neuron
    assert err == [f"error: {tmp_path / 'missing.png'}: no such file or folder"]


def bomb_png(path, side=20000):
    """A valid PNG header claiming side x side pixels (400 megapixels) with almost no data."""
    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", side, side)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)))
    path.write_bytes(bytes(data))


def bad_files(folder, cat):
    """name -> what the error line must say."""
    (folder / "empty.jpg").write_bytes(b"")
    photo(cat, (400, 300)).save(folder / "whole.jpg")
    whole = (folder / "whole.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    (folder / "notes.jpg").write_text("this is not a photo\n")
    (folder / "random.png").write_bytes(np.random.default_rng(0).bytes(5000))
    bomb_png(folder / "bomb.png")
    (folder / "dangling.png").symlink_to(folder / "gone.png")
    return {"empty.jpg": "not an image", "truncated.jpg": "truncated",
            "notes.jpg": "not an image", "random.png": "not an image",
            "bomb.png": "decompression bomb", "dangling.png": "no such file"}


def test_each_bad_file_gets_one_line_and_the_rest_are_classified(cat, calibrated, tmp_path, capsys):
    expected = bad_files(tmp_path, cat)
    (tmp_path / "empty-folder").mkdir()
    code, out, err = classify_cli(capsys, tmp_path, tmp_path / "empty-folder",
                                  tmp_path / "nowhere.png", tmp_path / "dangling.png",
                                  "--params", calibrated)
    assert code == 1
    assert out.splitlines()[0].startswith(f"{tmp_path / 'whole.jpg'}: ")
    answers = re.split(r"\n(?=\S)", out.strip())  # a photo's line and its indented ones
    assert len(answers) == 2 and answers[1].startswith("trust: ")
    assert len(err) == len(expected) + 2 and not any("Traceback" in line for line in err)
    for name, fragment in expected.items():
        [line] = [line for line in err if line.startswith(f"error: {tmp_path / name}: ")]
        assert fragment in line, line
    assert any("empty-folder: a folder with no image files" in line for line in err)
    assert any("nowhere.png: no such file or folder" in line for line in err)


def test_an_unreadable_file_is_named(calibrated, tmp_path, capsys, monkeypatch):
    (tmp_path / "secret.png").write_bytes(b"")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(photos.Image, "open", refuse)  # as root, chmod 000 would not stop us
    code, _, err = classify_cli(capsys, tmp_path / "secret.png", "--params", calibrated)
    assert code == 1 and err == [f"error: {tmp_path / 'secret.png'}: permission denied: "
                                 "cannot read it"]


def write_model(path, trained, **changes):
    with np.load(trained[0]) as p:
        arrays = {**dict(p), **changes}
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("damage, fragment", [
    ("missing", "not found; run `make train`"),
    ("truncated", "not an .npz archive"),
    ("pickled", "holds Python objects"),
    ("other size", "for images (32, 32, 3)"),
])
def test_a_bad_model_gets_one_line(cat, trained, tmp_path, capsys, damage, fragment):
    photo(cat, (64, 64)).save(tmp_path / "a.png")
    model = tmp_path / "params.npz"
    if damage == "truncated":
        model.write_bytes(trained[0].read_bytes()[:5000])
    elif damage == "pickled":
        write_model(model, trained, classes=np.array([{"evil": 1}, None], dtype=object))
    elif damage == "other size":
        write_model(model, trained, image_shape=np.array([32, 32, 3]))
    code, out, err = classify_cli(capsys, tmp_path / "a.png", "--params", model)
    assert code == 1 and out == "" and len(err) == 1
    assert err[0].startswith(f"error: {model}") and fragment in err[0]


@pytest.mark.parametrize("args, message", [(["--threshold", "1.5"], "between 0 and 1"),
                                           (["--fit", "stretch"], "invalid choice")])
def test_bad_options_are_one_line(trained, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        classify.main(["x.png", "--model", str(trained[0]), *args])
    err = capsys.readouterr().err.splitlines()
    assert exit_.value.code == 2 and len(err) == 1 and message in err[0]


def test_without_its_calibration_the_p_is_named_raw_in_one_line(cat, trained, calibrated,
                                                                 tmp_path, capsys):
    photo(cat, (64, 64)).save(tmp_path / "a.png")
    code, out, err = classify_cli(capsys, tmp_path / "a.png", "--params", trained[0])
    assert code == 0 and out.splitlines()[0].endswith(", not calibrated)")
    assert err == [f"note: {trained[0].with_name('calibration.npz')} not found: p(cat) is shown "
                   "raw; run `make calibrate`"]
    stale = tmp_path / "params.npz"
    stale.write_bytes(calibrated.read_bytes() + b"")
    (tmp_path / "calibration.npz").write_bytes(calibrated.with_name("calibration.npz")
                                               .read_bytes())
    write_model(stale, [calibrated], b=np.array(1.0))  # another model: its sha256 differs
    code, out, err = classify_cli(capsys, tmp_path / "a.png", "--params", stale)
    assert code == 0 and "raw p=" in out and len(err) == 1
    assert "is stale" in err[0] and "run `make calibrate`" in err[0]
    code, out, err = classify_cli(capsys, tmp_path / "a.png", "--params", stale, "--json")
    assert err == [] and json.loads(out)[0]["calibrated_probability"] is None


@pytest.fixture(scope="module")
def album(raw_files, tmp_path_factory):
    """Three test images as photos, two of them named cat.png in different folders."""
    root = tmp_path_factory.mktemp("album")
    images, _, _ = load_split(raw_files[1], "test")
    for j, path in zip((0, 5, 13), ("a/cat.png", "b/cat.png", "b/butterfly.jpg"), strict=True):
        (root / path).parent.mkdir(exist_ok=True)
        Image.fromarray(images[j]).resize((120, 90)).save(root / path)
    return root


def test_explain_writes_one_figure_a_photo_whose_sums_json_carries(calibrated, album, tmp_path,
                                                                   capsys):
    (album / "b" / "broken.png").write_bytes(b"not a photo")
    out_dir = tmp_path / "new" / "maps"  # made, parents too
    try:
        code, out, err = classify_cli(capsys, album, "--recursive", "--params", calibrated,
                                      "--explain", out_dir, "--json")
    finally:
        (album / "b" / "broken.png").unlink()
    records = json.loads(out)
    assert code == 1 and err[-1] == f"wrote 3 maps into {out_dir}"
    assert sorted(p.name for p in out_dir.iterdir()) == ["butterfly.png", "cat-2.png", "cat.png"]
    assert [r["map_png"] for r in records] == [str(out_dir / n) for n in
                                               ("cat.png", "butterfly.png", "cat-2.png")]
    params = load_params(calibrated)
    with np.load(calibrated.with_name("calibration.npz")) as c:
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


def test_the_terminal_prints_the_maps_sum_beside_z_minus_z_of_the_mean(calibrated, network, album,
                                                                        capsys):
    for params, ending in ((calibrated, "(exact for one neuron)"), (network, " %)")):
        code, out, _ = classify_cli(capsys, album / "a" / "cat.png", "--params", params)
        map_line = out.splitlines()[-2]  # the answer's last, above "trust: ..."
        assert code == 0 and map_line.startswith("  map from the mean training image: sum ")
        assert map_line.endswith(ending) and len(map_line) <= 100


def test_a_networks_map_sums_to_z_minus_z_of_the_mean_within_one_percent_or_says_its_gap(
        network, album, tmp_path, capsys):
    code, out, _ = classify_cli(capsys, album, "--recursive", "--params", network, "--json",
                                "--explain", tmp_path)
    records = json.loads(out)
    assert code == 0 and len(records) == 3 == len(list(tmp_path.glob("*.png")))
    for r in records:
        change = r["logit"] - r["z_mean_image"]
        assert abs(r["map_sum"] - change) == pytest.approx(r["map_gap"], abs=1e-12)
        assert r["map_gap"] <= 0.01 * abs(change) or r["map_steps"] == MAX_STEPS


@pytest.mark.parametrize("in_the_way", ["file", "file/below"])
def test_explain_into_a_file_is_one_line_and_writes_nothing(calibrated, album, tmp_path, capsys,
                                                            in_the_way):
    (tmp_path / "file").write_text("mine\n")
    code, out, err = classify_cli(capsys, album, "--recursive", "--params", calibrated,
                                  "--explain", tmp_path / in_the_way)
    assert (code, out) == (1, "") and err == [
        f"error: --explain {tmp_path / in_the_way}: a file is in the way; name a folder"]
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
    assert (tmp_path / "file").read_text() == "mine\n"


def test_explain_into_a_folder_it_may_not_write_is_one_line_and_leaves_nothing(
        calibrated, album, tmp_path, capsys, monkeypatch):
    touch = Path.touch

    def refuse(self, *args, **kwargs):  # as root, chmod would not stop us
        if self.name.startswith(".probe."):  # explain_folder's probe of the folder
            raise PermissionError(13, "Permission denied")
        touch(self, *args, **kwargs)

    monkeypatch.setattr(Path, "touch", refuse)
    code, out, err = classify_cli(capsys, album, "--recursive", "--params", calibrated,
                                  "--explain", tmp_path / "new" / "maps")
    assert (code, out) == (1, "") and err == [
        f"error: --explain {tmp_path / 'new' / 'maps'}: cannot write there (permission denied)"]
    assert list(tmp_path.iterdir()) == []  # the folders it made for the maps are gone


def test_explain_without_a_calibration_says_it_needs_make_calibrate(trained, calibrated, album,
                                                                    tmp_path, capsys):
    code, out, err = classify_cli(capsys, album, "--recursive", "--params", trained[0],
                                  "--explain", tmp_path / "maps")
    assert (code, out) == (1, "") and err == [
        "error: --explain needs the mean training image, which `make calibrate` keeps in "
        f"calibration.npz: {trained[0].with_name('calibration.npz')} not found"]
    stale = tmp_path / "params.npz"
    with np.load(calibrated) as p:
        np.savez(stale, **{**dict(p), "b": np.array(1.0)})  # another model: its sha256 differs
    (tmp_path / "calibration.npz").write_bytes(calibrated.with_name("calibration.npz").read_bytes())
    code, out, err = classify_cli(capsys, album, "--recursive", "--params", stale,
                                  "--explain", tmp_path / "maps")
    assert (code, out, len(err)) == (1, "", 1) and "is stale" in err[0]
    assert not (tmp_path / "maps").exists()
    # without --explain the answer is still given, raw, and without a map
    code, out, _ = classify_cli(capsys, album / "a" / "cat.png", "--params", stale, "--json")
    record = json.loads(out)[0]
    assert code == 0 and record["map_sum"] is None and record["map_png"] is None


def test_map_names_follow_the_photos_and_never_collide(tmp_path):
    paths = [tmp_path / p for p in ("a/cat.jpg", "b/cat.jpg", "a/cat.png", "a/Cat.gif",
                                    "cat-2.jpg", "dog.webp")]
    assert classify.map_names(paths) == ["cat.png", "cat-2.png", "cat-3.png", "Cat-4.png",
                                         "cat-2-2.png", "dog.png"]
