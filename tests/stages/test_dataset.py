"""Your own labelled photos: folders become the course's HDF5 layout through classify's own
preprocessing, with honest splits, and every bad input is one line that writes nothing."""

import csv
import html

import h5py
import numpy as np
import pytest
from helpers import assert_one_line_error, run_cli, write_course_photos
from PIL import Image

from pipeline.artifacts.features import load_split, make_features


def manifest(out):
    with open(out / "manifest.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def arrays(out, split):
    with h5py.File(out / f"{split}.h5", "r") as h5:
        return (h5[f"{split}_set_x"][()], h5[f"{split}_set_y"][()],
                [c.decode() for c in h5["list_classes"][()]])


@pytest.fixture(scope="module")
def course_photos(raw_files, tmp_path_factory):
    return write_course_photos(raw_files, tmp_path_factory.mktemp("course-photos"))


def test_the_course_round_trips_exactly_with_keep_duplicates(course_photos, raw_files, tmp_path):
    out = tmp_path / "course"
    result = run_cli("dataset", course_photos, "--out", out, "--keep-duplicates", "--quiet")
    assert result.returncode == 0, result.stderr
    for split, path in zip(("train", "test"), raw_files, strict=True):
        x, y, classes = arrays(out, split)
        course_x, course_y, course_classes = load_split(path, split)
        assert x.dtype == np.uint8 and y.dtype == np.int64
        np.testing.assert_array_equal(x, course_x)
        np.testing.assert_array_equal(y, course_y)
        assert classes == course_classes == ["non-cat", "cat"]
    rows = manifest(out)
    assert len(rows) == 259 and rows[0].keys() == {"path", "sha256", "class", "label", "split",
                                                   "index", "status"}
    test17 = next(r for r in rows if r["path"] == "test/cat/017.png")
    assert test17["status"] == "ok, duplicate of train/cat/146.png" and test17["index"] == "17"


def test_without_it_the_duplicate_is_left_out_of_test(course_photos, tmp_path):
    out = tmp_path / "honest"
    assert run_cli("dataset", course_photos, "--out", out, "--quiet").returncode == 0
    assert arrays(out, "train")[0].shape[0] == 209 and arrays(out, "test")[0].shape[0] == 49
    test17 = next(r for r in manifest(out) if r["path"] == "test/cat/017.png")
    assert test17["status"].startswith("duplicate of train/cat/146.png")
    assert test17["index"] == "" and test17["split"] == "test"


def random_photos(folder, count, seed, size=(40, 30)):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"p{i:03}.png")


@pytest.fixture
def pets(tmp_path):
    """30 dogs and 50 not-dogs, one folder per class."""
    random_photos(tmp_path / "pets" / "dog", 30, seed=1)
    random_photos(tmp_path / "pets" / "not-dog", 50, seed=2)
    return tmp_path / "pets"


def test_a_stratified_draw_keeps_the_class_shares_and_the_seed_repeats_it(pets, tmp_path):
    outs = []
    for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        outs.append(tmp_path / name)
        result = run_cli("dataset", pets, "--out", outs[-1], "--positive", "dog", "--seed", seed,
                         "--quiet")
        assert result.returncode == 0, result.stderr
    x, y, classes = arrays(outs[0], "test")
    assert classes == ["not-dog", "dog"]
    assert np.bincount(y).tolist() == [10, 6]  # 20 % of 50 and of 30
    assert np.bincount(arrays(outs[0], "train")[1]).tolist() == [40, 24]
    splits = [[r["split"] for r in manifest(out)] for out in outs]
    assert splits[0] == splits[1] and splits[0] != splits[2]


def test_duplicates_never_cross_splits(tmp_path):
    source = tmp_path / "dups"
    random_photos(source / "cat", 12, seed=3)
    random_photos(source / "other", 12, seed=4)
    first = Image.open(source / "cat" / "p000.png")
    first.save(source / "cat" / "copy-bytes.png")  # the same bytes
    first.save(source / "other" / "same-pixels.bmp")  # the same pixels, another format
    Image.open(source / "other" / "p005.png").convert("RGBA").save(source / "cat" / "alpha.png")
    for seed in range(5):
        out = tmp_path / f"out{seed}"
        result = run_cli("dataset", source, "--out", out, "--seed", str(seed), "--quiet")
        assert result.returncode == 0, result.stderr
        train = {image.tobytes() for image in arrays(out, "train")[0]}
        test = [image.tobytes() for image in arrays(out, "test")[0]]
        assert not train & set(test) and len(set(test)) == len(test)
        status = {r["path"]: r["status"] for r in manifest(out)}
        assert status["cat/copy-bytes.png"] == "duplicate of cat/copy-bytes.png (same bytes)" \
            or status["cat/p000.png"].startswith("duplicate of cat/copy-bytes.png")


def test_unreadable_and_non_image_files_are_left_out_and_the_rest_is_built(pets, tmp_path):
    (pets / "dog" / "empty.jpg").write_bytes(b"")
    (pets / "dog" / "truncated.png").write_bytes((pets / "dog" / "p000.png").read_bytes()[:60])
    (pets / "not-dog" / "notes.txt").write_text("not a photo")
    (pets / "not-dog" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    out = tmp_path / "out"
    result = run_cli("dataset", pets, "--out", out, "--positive", "dog", "--quiet")
    assert result.returncode == 0
    skipped = result.stderr.splitlines()
    assert len(skipped) == 2 and all(line.startswith("skipped: dog/") for line in skipped)
    status = {r["path"]: r["status"] for r in manifest(out)}
    assert status["dog/empty.jpg"].startswith("skipped: not an image Pillow can read")
    assert status["dog/truncated.png"].startswith("skipped: ")
    assert status["not-dog/notes.txt"] == "not an image (.txt)"
    assert status["not-dog/.DS_Store"].startswith("not an image")
    assert sum(s == "ok" for s in status.values()) == 80


def test_phone_style_photos_build(tmp_path, raw_files):
    images, labels, _ = load_split(raw_files[1], "test")
    source = tmp_path / "phone"
    (source / "cat").mkdir(parents=True)
    (source / "non-cat").mkdir()
    for folder, picks in (("cat", np.flatnonzero(labels)[:4]),
                          ("non-cat", np.flatnonzero(labels == 0)[:4])):
        a, b, c, d = (Image.fromarray(images[j]).resize((160, 120)) for j in picks)
        exif = Image.Exif()
        exif[0x0112] = 6
        a.save(source / folder / "rotated.jpg", exif=exif.tobytes())
        b.convert("RGBA").save(source / folder / "alpha.png")
        c.convert("L").save(source / folder / "grey.jpg")
        d.convert("CMYK").save(source / folder / "cmyk.jpg")
    out = tmp_path / "out"
    result = run_cli("dataset", source, "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    assert all(r["status"] == "ok" for r in manifest(out))
    assert arrays(out, "train")[0].shape[1:] == (64, 64, 3)


def test_classify_gives_a_source_photo_its_training_columns_probability(tmp_path, raw_files):
    images, labels, _ = load_split(raw_files[0], "train")
    source = tmp_path / "src"
    for j in range(16):
        folder = source / ("cat" if labels[j] else "non-cat")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[j]).resize((150, 100)).save(folder / f"{j:02}.jpg", quality=90)
    out = tmp_path / "out"
    assert run_cli("dataset", source, "--out", out, "--quiet").returncode == 0
    features = tmp_path / "features.npz"
    params = tmp_path / "params.npz"
    for stage, args in (("features", ["--train-file", out / "train.h5", "--test-file",
                                      out / "test.h5", "--out", features]),
                        ("train", ["--features", features, "--out", params,
                                   "--num-iterations", "300", "--quiet"])):
        result = run_cli(stage, *args)
        assert result.returncode == 0, result.stderr
    row = next(r for r in manifest(out) if r["split"] == "train")
    result = run_cli_classify(source / row["path"], params)
    f = make_features(out / "train.h5", out / "test.h5")
    with np.load(params) as p:
        z = p["w"][:, 0] @ f["X_train"][:, int(row["index"])] + float(p["b"])
    assert result == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-12)


def run_cli_classify(photo, params, *options):
    import json
    import subprocess
    import sys

    from helpers import ROOT

    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "classify.py"), str(photo),
                          "--params", str(params), "--json", *map(str, options)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)[0]["probability"]


def test_a_hostile_class_name_is_text_on_the_page_and_in_the_figures(tmp_path, raw_files):
    name = "<img src=x onerror=alert(1)> $\\frac$"  # HTML, and a formula matplotlib cannot parse
    images, labels, _ = load_split(raw_files[0], "train")
    source = tmp_path / "src"
    for j in range(12):
        folder = source / ("cat" if labels[j] else name)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[j]).save(folder / f"{j:02}.png")
    out = tmp_path / "out"
    assert run_cli("dataset", source, "--out", out, "--quiet").returncode == 0
    run = tmp_path / "run"
    steps = (("features", ["--train-file", out / "train.h5", "--test-file", out / "test.h5",
                           "--out", run / "features.npz"]),
             ("train", ["--features", run / "features.npz", "--out", run / "params.npz",
                        "--num-iterations", "200", "--quiet"]),
             # 2 folds: this training set holds only 2 images of one class
             ("calibrate", ["--features", run / "features.npz", "--params", run / "params.npz",
                            "--folds", "2"]),
             ("evaluate", ["--features", run / "features.npz", "--params", run / "params.npz",
                           "--out", run / "metrics.json"]),
             ("report", ["--features", run / "features.npz", "--params", run / "params.npz",
                         "--metrics", run / "metrics.json", "--out-dir", run]))
    for stage, args in steps:
        result = run_cli(stage, *args)
        assert result.returncode == 0, result.stderr
    page = (run / "index.html").read_text()
    assert "<img src=x" not in page  # no element made of the name, anywhere
    assert html.escape(name) in page  # shown as text
    assert "\\u003cimg src=x onerror=alert(1)>" in page  # inert inside the model's JSON
    photo = tmp_path / "$\\frac$.png"
    Image.fromarray(images[0]).save(photo)
    explained = run_cli_classify(photo, run / "params.npz", "--explain", tmp_path / "why")
    assert 0 <= explained <= 1 and (tmp_path / "why" / "$\\frac$.png").stat().st_size > 10_000


BAD = {
    "missing source": (lambda t: [t / "nowhere"], "is not a folder"),
    "source is a file": (lambda t: [t / "pets" / "dog" / "p000.png"], "is not a folder"),
    "one class": (lambda t: [t / "pets" / "dog"], "needs exactly two class folders, found 0"),
    "three classes": (lambda t: (t / "pets" / "bird").mkdir() or [t / "pets"],
                      "found 3: bird, dog, not-dog"),
    "no cat, no --positive": (lambda t: [t / "pets"],
                              "name the positive one (label 1) with --positive dog"),
    "unknown --positive": (lambda t: [t / "pets", "--positive", "cat"],
                           "--positive 'cat' is not one of the classes"),
    "too few usable": (lambda t: [p.unlink() for p in sorted((t / "pets" / "dog").iterdir())[1:]]
                       and [t / "pets", "--positive", "dog"], "has 1 usable photo"),
    "fraction 0": (lambda t: [t / "pets", "--test-fraction", "0"], "between 0 and 1"),
    "fraction 1.5": (lambda t: [t / "pets", "--test-fraction", "1.5"], "between 0 and 1"),
    "negative seed": (lambda t: [t / "pets", "--seed", "-5"], "'-5' must be 0 or more"),
    "existing --out": (lambda t: (t / "out").mkdir() or [t / "pets", "--positive", "dog"],
                       "exists; choose another --out or add --force"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_and_writes_nothing(pets, tmp_path, case):
    make_args, message = BAD[case]
    args = make_args(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli("dataset", *args, "--out", tmp_path / "out", "--quiet")
    argparse_type = "between" in message or "must be" in message  # usage mistakes exit 2
    assert_one_line_error(result, message, code=2 if argparse_type else 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_train_and_test_whose_classes_differ(tmp_path):
    for split, classes in (("train", ("cat", "dog")), ("test", ("cat", "fox"))):
        for name in classes:
            random_photos(tmp_path / "src" / split / name, 3, seed=5)
    result = run_cli("dataset", tmp_path / "src", "--out", tmp_path / "out")
    assert_one_line_error(result, "has classes cat, dog but", "has cat, fox")
    assert not (tmp_path / "out").exists()


def test_an_unwritable_out_is_one_line(pets, tmp_path):
    (tmp_path / "a-file").write_text("x")
    result = run_cli("dataset", pets, "--out", tmp_path / "a-file" / "out", "--positive", "dog")
    assert_one_line_error(result, "a-file")


def test_ctrl_c_leaves_no_half_dataset(tmp_path, raw_files):
    import signal
    import subprocess
    import sys

    from helpers import ROOT

    images, labels, _ = load_split(raw_files[0], "train")
    for j in range(160):  # enough 1200x900 JPEGs that the build usually is still going
        folder = tmp_path / "src" / ("cat" if labels[j] else "non-cat")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[j]).resize((1200, 900)).save(folder / f"{j:03}.jpg")
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "pipeline", "dataset", str(tmp_path / "src"),
                              "--out", str(out), "--quiet"], cwd=ROOT, stderr=subprocess.PIPE,
                             text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        while not list(tmp_path.glob(".out.*.tmp")):  # the temp folder: the build has begun
            assert child.poll() is None, child.communicate()
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    if child.returncode == 0:  # a machine fast enough to finish first: the dataset is whole
        assert sorted(p.name for p in out.iterdir()) == ["test.h5", "train.h5"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "src"]
        return
    assert child.returncode == 130, stderr
    assert stderr.strip().startswith("interrupted") and "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # no dataset, no temp folder


def test_the_folder_make_dataset_writes_is_ignored_by_git():
    import re
    import subprocess

    from helpers import ROOT

    if subprocess.run(["git", "rev-parse"], cwd=ROOT, capture_output=True).returncode:
        pytest.skip("not a git checkout")
    folder = re.search(r"-m pipeline dataset .* --out (\S+)/\$\(NAME\)",
                       (ROOT / "Makefile").read_text()).group(1)
    for name in ("train.h5", "test.h5", "manifest.csv"):
        path = f"{folder}/mine/{name}"
        result = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT)
        assert result.returncode == 0, f"{path} is not ignored by git"
