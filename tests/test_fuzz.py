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
from conftest import ROOT, assert_one_line_error, run_cli, write_pixel_features
from PIL import Image

from pipeline.artifacts.features import load_split
from pipeline.errors import UserError

MUTANTS = 100  # of each damage kind, per source file


def bit_flips(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 40)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return bytes(data)


def header_bytes(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 10)):
        data[rng.randrange(min(len(data), 4096))] = rng.randrange(256)
    return bytes(data)


def truncation(data, rng):
    return data[:rng.randrange(len(data))]


DAMAGE = (bit_flips, header_bytes, truncation)


def random_json_value(rng):
    return rng.choice([None, True, -1, 0, 1e308, "x", "<b>", [], {}, [[[[1]]]], {"a": None},
                       float(rng.randrange(-5, 300)), 10 ** 30])


def structural(data, rng):
    """Valid JSON with one value, anywhere in the tree, replaced by one of another kind."""
    tree = json.loads(data)
    places = []

    def walk(node):
        children = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else []
        for key, child in children:
            places.append((node, key))
            walk(child)

    walk(tree)
    for _ in range(rng.randint(1, 3)):
        node, key = rng.choice(places)
        node[key] = random_json_value(rng)
    if rng.random() < 0.1:
        tree = random_json_value(rng)
    return json.dumps(tree).encode()


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
    return folder


@pytest.mark.parametrize("kind", ["params", "network", "features"])
def test_damaged_npz_files(small_run, tmp_path, kind):
    write_mutants(tmp_path, (small_run / f"{kind}.npz").read_bytes(), DAMAGE, seed=12)
    outcomes = run_child(kind, tmp_path)
    errors = [o["stderr"] for o in outcomes if o["code"] == 1]
    make = "make features" if kind == "features" else "make train"
    assert errors and all(make in line for line in errors)  # each says which target remakes it


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
    """The features stage streams, so its limit is the disk: 4e9 images are 49 TB of pixels."""
    path = declared_only(tmp_path / "huge.h5", 4_000_000_000)
    result = run_cli("features", "--train-file", path, "--test-file", path,
                     "--out", tmp_path / "features.npz", timeout=20)
    assert_one_line_error(result, str(path), "(4000000000, 64, 64, 3)", "GB free")
    assert not list(tmp_path.glob("*.npz*"))


def test_loading_400000_declared_images_into_memory_is_refused_at_once(tmp_path):
    """load_split (the lesson's path) reads every image: it checks the memory first."""
    path = declared_only(tmp_path / "huge.h5", 400_000_000)
    with pytest.raises(UserError, match=r"\(400000000, 64, 64, 3\).* GB of memory is free"):
        load_split(path, "train")


def test_an_npz_that_declares_more_than_it_holds_is_refused(small_run, tmp_path):
    source = (small_run / "params.npz").read_bytes()
    # w.npy's header rewritten in place (same length) to claim 999,999,999 weights: 8 GB
    patched = source.replace(b"(12288, 1)", b"(999999999", 1)
    assert patched != source
    (tmp_path / "params.npz").write_bytes(patched)
    result = run_cli("evaluate", "--params", tmp_path / "params.npz", "--features",
                     small_run / "features.npz", "--out", tmp_path / "m.json")
    assert_one_line_error(result, "params.npz", "make train")
