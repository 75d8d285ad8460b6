"""Seeded random damage to every file a stage reads: .h5, photos, .npz, JSON. Each mutant must
end in a result or in exactly one `error:` line with exit code 1: never a traceback, a warning,
a crash, or anything else on stderr. The seeds are fixed, so a failure here is reproducible."""

import io
import json
import random
import subprocess
import sys

import h5py
import numpy as np
import pytest
from damage import DAMAGE, structural
from helpers import ROOT, assert_one_line_error, run_cli, write_pixel_features
from PIL import Image

from pipeline.artifacts.feature_file import load_features
from pipeline.artifacts.features import load_split
from pipeline.errors import UserError

MUTANTS = 100  # of each damage kind, per source file


def write_mutants(folder, source, damage, seed, name="mutant", count=MUTANTS):
    """`count` mutants of the source bytes for each kind of damage, in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for kind in damage:
        for i in range(count):
            (folder / f"{name}-{kind.__name__}-{i:03}").write_bytes(kind(source, rng))


def run_child(kind, folder, *fixtures):
    """Every mutant through the stage's loader in one child; the outcomes, checked."""
    child = subprocess.run([sys.executable, str(ROOT / "tests" / "fuzz_child.py"), kind,
                            str(folder), *map(str, fixtures)], capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == 0, f"the {kind} loader crashed the interpreter:\n{child.stderr}"
    assert child.stderr == "", f"something wrote to stderr by itself:\n{child.stderr[:2000]}"
    outcomes = [json.loads(line) for line in child.stdout.splitlines()]
    bad = [o for o in outcomes
           if not (o["code"] == 0 and o["stderr"] == "" and kind != "photo"
                   or o["code"] == 0 and kind == "photo" and o["stderr"] == ""
                   or o["code"] == 1 and len(o["stderr"].splitlines()) == 1
                   and o["stderr"].startswith("error: ") and "Traceback" not in o["stderr"])]
    assert not bad, f"{len(bad)} of {len(outcomes)} mutants misbehaved, e.g. {bad[:3]}"
    return outcomes


def test_damaged_hdf5_files(raw_files, tmp_path):
    write_mutants(tmp_path, raw_files[1].read_bytes(), DAMAGE, seed=11)
    outcomes = run_child("h5", tmp_path)
    assert len(outcomes) == 3 * MUTANTS
    assert {o["code"] for o in outcomes} == {0, 1}  # some mutants still load, most do not


@pytest.fixture(scope="module")
def small_run(features, tmp_path_factory):
    """A features.npz of 12 train and 8 test images, and its params.npz and metrics.json: the
    same formats as the course run, small enough to load hundreds of times."""
    folder = tmp_path_factory.mktemp("small")
    small = {**features, "X_train": features["X_train"][:, :12], "Y_train":
             features["Y_train"][:, :12], "X_test": features["X_test"][:, :8],
             "Y_test": features["Y_test"][:, :8]}
    write_pixel_features(folder / "features.npz", small)
    for stage, out in (("train", "params.npz"), ("evaluate", "metrics.json")):
        args = ["--features", folder / "features.npz", "--out", folder / out]
        if stage == "evaluate":
            args += ["--params", folder / "params.npz"]
        result = run_cli(stage, *args, "--num-iterations", "50") if stage == "train" \
            else run_cli(stage, *args)
        assert result.returncode == 0, result.stderr
    network = run_cli("train", "--features", folder / "features.npz", "--out",
                      folder / "network.npz", "--model", "l-layer", "--layers", "3", "2",
                      "--num-iterations", "50")
    assert network.returncode == 0, network.stderr
    convolutional = run_cli("train", "--features", folder / "features.npz", "--out",
                            folder / "cnn.npz", "--model", "cnn", "--layers", "2x2", "p8",
                            "--num-epochs", "2")
    assert convolutional.returncode == 0, convolutional.stderr
    return folder


@pytest.mark.parametrize("kind", ["params", "network", "cnn", "features"])
def test_damaged_npz_files(small_run, tmp_path, kind):
    write_mutants(tmp_path, (small_run / f"{kind}.npz").read_bytes(), DAMAGE, seed=12)
    outcomes = run_child(kind, tmp_path)
    errors = [o["stderr"] for o in outcomes if o["code"] == 1]
    make = "make features" if kind == "features" else "make train"
    assert errors and all(make in line for line in errors)  # each says which target remakes it
    if kind == "features":  # a flipped pixel is caught before a row is used
        assert any("Bad CRC-32 for file 'train_pixels.npy'" in line for line in errors)


def test_damaged_calibration_files(small_run, tmp_path):
    made = run_cli("calibrate", "--features", small_run / "features.npz", "--params",
                   small_run / "params.npz", "--runs-dir", tmp_path / "runs", "--folds", "2",
                   "--out", tmp_path / "calibration.npz")
    assert made.returncode == 0, made.stderr
    write_mutants(tmp_path / "mutants", (tmp_path / "calibration.npz").read_bytes(), DAMAGE,
                  seed=17)
    outcomes = run_child("calibration", tmp_path / "mutants")
    errors = [o["stderr"] for o in outcomes if o["code"] == 1]
    assert len(outcomes) == 3 * MUTANTS and errors and all("make calibrate" in e for e in errors)


def test_damaged_metrics_json(small_run, tmp_path):
    source = (small_run / "metrics.json").read_bytes()
    write_mutants(tmp_path, source, DAMAGE + (structural,), seed=13)
    outcomes = run_child("metrics", tmp_path, small_run / "params.npz",
                         small_run / "features.npz")
    errors = [o["stderr"] for o in outcomes if o["code"] == 1]
    assert len(errors) >= 3 * MUTANTS and all("make train" in line for line in errors)


def test_damaged_optional_sections_leave_the_page_standing(tmp_path):
    source = {"heading": "Cross-validation", "id": "cross-validation", "remake": "make cv",
              "made_for": {"train_sha256": "a", "test_sha256": "b", "model": "logistic"}}
    write_mutants(tmp_path / "cv", json.dumps(source).encode(), DAMAGE + (structural,),
                  seed=14)
    (tmp_path / "cv" / "section.html").write_text("<p>the section</p>")
    outcomes = run_child("section", tmp_path / "cv")
    assert len(outcomes) == 4 * MUTANTS and {o["code"] for o in outcomes} == {0}


def photo_sources(cat):
    """The same cat as PNG, JPEG (with EXIF), TIFF (with tags), GIF and WebP bytes."""
    image = Image.fromarray(cat).resize((120, 90))
    exif = Image.Exif()
    exif[0x0112] = 6
    sources = {}
    for name, options in (("png", {}), ("jpeg", {"exif": exif.tobytes()}),
                          ("tiff", {"dpi": (72, 72), "description": "a cat"}), ("gif", {}),
                          ("webp", {})):
        buffer = io.BytesIO()
        image.save(buffer, format=name.upper(), **options)
        sources[name] = buffer.getvalue()
    return sources


def test_damaged_photos(trained, raw_files, tmp_path):
    images, labels, _ = load_split(raw_files[1], "test")
    for seed, (name, data) in enumerate(photo_sources(images[0]).items()):
        write_mutants(tmp_path / name, data, DAMAGE, seed=20 + seed, name=f"mutant.{name}",
                      count=60)  # 900 photos in all: the slowest loader, kept to a few seconds
    outcomes = run_child("photo", tmp_path, trained[0])
    assert len(outcomes) == 5 * 3 * 60
    assert {o["code"] for o in outcomes} == {0, 1}


def declared_only(path, m):
    """A course .h5 declaring m images and labels, chunked and compressed, never written: KBs."""
    with h5py.File(path, "w") as h5:
        h5.create_dataset("train_set_x", shape=(m, 64, 64, 3), dtype=np.uint8,
                          chunks=(1, 64, 64, 3), compression="gzip")
        h5.create_dataset("train_set_y", shape=(m,), dtype=np.int64, chunks=(1024,),
                          compression="gzip")
        h5["list_classes"] = np.array([b"non-cat", b"cat"])
    assert path.stat().st_size < 100_000
    return path


def test_an_h5_that_declares_more_images_than_the_disk_holds_is_refused_at_once(tmp_path):
    """The features stage streams, so its limit is the disk: 4e9 images are 49 TB of pixels.
    Stored in none of the bytes it declares, it is refused as sparse first; allowed, the disk
    still refuses it."""
    path = declared_only(tmp_path / "huge.h5", 4_000_000_000)
    args = ["--train-file", path, "--test-file", path, "--out", tmp_path / "features.npz"]
    assert_one_line_error(run_cli("features", *args, timeout=20), str(path),
                          "4,000,000,000 images", "an unbounded ratio", "--allow-sparse")
    assert_one_line_error(run_cli("features", *args, "--allow-sparse", timeout=20), str(path),
                          "(4000000000, 64, 64, 3)", "GB free")
    assert not list(tmp_path.glob("*.npz*"))


def test_loading_400000_declared_images_into_memory_is_refused_at_once(tmp_path):
    """load_split (the lesson's path) reads every image: it checks the memory first."""
    path = declared_only(tmp_path / "huge.h5", 400_000_000)
    with pytest.raises(UserError, match=r"\(400000000, 64, 64, 3\).* GB of memory is free"):
        load_split(path, "train", allow_sparse=True)


def sparse_file(path, rng, m):
    """A course .h5 declaring m images, chunked (1, 8 or 16 images a chunk), gzip, lzf or
    plain, of which at most three images are written (at most 590 KB stored); its labels all
    written."""
    rows = rng.choice([1, 8, 16])
    options = rng.choice([{}, {"compression": "gzip"}, {"compression": "lzf"}])
    with h5py.File(path, "w") as h5:
        x = h5.create_dataset("train_set_x", shape=(m, 64, 64, 3), dtype=np.uint8,
                              chunks=(rows, 64, 64, 3), **options)
        written = sorted(rng.sample(range(m), rng.randrange(4)))
        for k in written:
            x[k] = rng.randrange(256)
        h5.create_dataset("train_set_y", data=np.zeros(m, np.int8), chunks=(min(m, 4096),),
                          compression="gzip")
        h5["list_classes"] = np.array([b"non-cat", b"cat"])
    return written


def test_sparse_files_are_refused_by_the_features_stage_before_anything_is_written(
        raw_files, tmp_path):
    """Seeded sparse files declaring 100,000 to 400,000 images (1.2 to 4.9 GB of pixels, 18 s
    of writing for the largest) in at most 600 KB: each is one line giving the ratio and the
    way out, and the features stage writes nothing."""
    rng = random.Random(15)
    (tmp_path / "in").mkdir()
    for i in range(12):
        sparse_file(tmp_path / "in" / f"mutant-{i:02}.h5", rng, rng.randrange(100_000, 400_001))
    assert max(p.stat().st_size for p in (tmp_path / "in").iterdir()) < 600_000
    out = tmp_path / "out" / "features.npz"
    outcomes = run_child("sparse", tmp_path / "in", raw_files[1], out)
    assert len(outcomes) == 12 and {o["code"] for o in outcomes} == {1}
    for line in (o["stderr"] for o in outcomes):
        assert "bytes of pixels) but stores" in line and "--allow-sparse" in line, line
        assert "times fewer" in line or "an unbounded ratio" in line, line
    assert not (tmp_path / "out").exists()


def test_with_allow_sparse_the_features_stage_reads_the_missing_images_as_zeros(
        raw_files, tmp_path):
    path, out = tmp_path / "sparse.h5", tmp_path / "features.npz"
    written = sparse_file(path, random.Random(16), 3000)  # 37 MB declared: quick
    assert written
    args = ["--train-file", path, "--test-file", raw_files[1], "--out", out]
    assert_one_line_error(run_cli("features", *args), "declares 3,000 images", "--allow-sparse")
    assert not out.exists()
    result = run_cli("features", *args, "--allow-sparse")
    assert result.returncode == 0, result.stderr
    X = load_features(out)["X_train"]
    assert X.shape == (12288, 3000)
    pixels = X.pixels(slice(None))  # (m, n_x) uint8
    assert not np.delete(pixels, written, axis=0).any()  # the images never written: zeros
    with h5py.File(path) as h5:
        np.testing.assert_array_equal(pixels.reshape(3000, 64, 64, 3), h5["train_set_x"][()])


def test_an_npz_that_declares_more_than_it_holds_is_refused(small_run, tmp_path):
    source = (small_run / "params.npz").read_bytes()
    # w.npy's header rewritten in place (same length) to claim 999,999,999 weights: 8 GB
    patched = source.replace(b"(12288, 1)", b"(999999999", 1)
    assert patched != source
    (tmp_path / "params.npz").write_bytes(patched)
    result = run_cli("evaluate", "--params", tmp_path / "params.npz", "--features",
                     small_run / "features.npz", "--out", tmp_path / "m.json")
    assert_one_line_error(result, "params.npz", "make train")
