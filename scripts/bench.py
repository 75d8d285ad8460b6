#!/usr/bin/env python3
"""`make bench`: what the Gram engine and vectorization buy, measured side by side in one run.

Each row times A (the reference) and B (the faster way) alternately, --repeats times each, and
reports the medians and their ratio. It also writes reports/bench.json.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import config  # noqa: E402
from pipeline.engine import gradient_descent  # noqa: E402
from pipeline.features import load_features  # noqa: E402
from pipeline.files import write_json  # noqa: E402
from pipeline.model import optimize, propagate, propagate_loops  # noqa: E402
from pipeline.train import train  # noqa: E402

# The baseline for a whole process: load the .h5 with h5py and run the textbook loop.
PLAIN_SCRIPT = """
import sys
import h5py
import numpy as np
from pipeline.model import optimize
with h5py.File(sys.argv[1], "r") as h5:
    X = h5["train_set_x"][()].reshape(209, -1).T / 255
    Y = h5["train_set_y"][()].reshape(1, -1)
optimize(np.zeros((X.shape[0], 1)), 0.0, X, Y, 2000, 0.005)
"""


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(a, b, repeats):
    """Median seconds of a and of b, run alternately so that load on the machine hits both."""
    times_a, times_b = [], []
    for _ in range(repeats):
        times_a.append(seconds(a))
        times_b.append(seconds(b))
    return statistics.median(times_a), statistics.median(times_b)


def python_dot(u, v):
    total = 0.0
    for x, y in zip(u, v, strict=True):
        total += x * y
    return total


def tree_rss(root):
    """Resident bytes of a process and all its descendants, from /proc."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines()
                       if line.startswith("VmRSS:")), 0)
    return total


def run_sampling_memory(command, env):
    """Run a command; return its peak resident memory, the whole process tree, in bytes."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss(child.pid))
        time.sleep(0.02)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return peak


def phone_photos(folder, count, features):
    """`count` 1600x1200 JPEGs (quality 90) made from the course's images, in two classes."""
    from PIL import Image

    from pipeline.features import unflatten, unstandardize

    X, Y = features["X_train"], features["Y_train"][0]
    images = unstandardize(unflatten(X, tuple(features["image_shape"])))
    rng = np.random.default_rng(0)
    for i in range(count):
        j = i % X.shape[1]
        photo = Image.fromarray(images[j]).resize((1600, 1200), Image.Resampling.BICUBIC)
        noise = rng.integers(-12, 13, size=(1200, 1600, 3))  # grain, as a camera has
        pixels = np.clip(np.asarray(photo, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
        target = folder / ("cat" if Y[j] else "non-cat") / f"photo{i:04}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(target, quality=90)
    return sorted(folder.rglob("*.jpg"))


def decode_all(paths):
    """The plain baseline: one process opens and fully decodes every photo with Pillow."""
    from PIL import Image

    for path in paths:
        with Image.open(path) as image:
            image.load()


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "platform": platform.platform()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each side (median)")
    parser.add_argument("--out", type=Path, default=config.REPORTS_DIR / "bench.json")
    parser.add_argument("--photos", type=int, default=1000, help="JPEGs for the dataset row")
    args = parser.parse_args()
    f = load_features()
    X, Y = f["X_train"], f["Y_train"]
    rows = []

    def row(name, reference, faster, target, a, b, **extra):
        ta, tb = side_by_side(a, b, args.repeats)
        rows.append({"measure": name, "reference": reference, "faster": faster,
                     "reference_s": ta, "faster_s": tb, "speedup": ta / tb, "target": target,
                     **extra})
        print(f"  {name:<34} {ta:9.4f} s {tb:9.4f} s {ta / tb:8.1f}x  ({target})", flush=True)

    print(f"median of {args.repeats} alternating runs; {machine()['cpu']}, "
          f"{os.cpu_count()} cores\n  {'':<34} {'reference':>11} {'faster':>11} {'speedup':>9}")

    w0 = np.zeros((X.shape[0], 1))
    textbook = optimize(w0, 0.0, X, Y, 2000, 0.005)[0]
    fast = train(f, [0.005], 2000, "auto", True, "")
    gap = float(np.abs(fast["w"] - textbook["w"]).max())
    row("train in-process, lr 0.005, 2000 it", "textbook optimize", "train stage (gram)",
        ">= 30x", lambda: optimize(w0, 0.0, X, Y, 2000, 0.005),
        lambda: train(f, [0.005], 2000, "auto", True, ""), max_abs_w_difference=gap)
    print(f"  {'':<34} max |w_gram - w_textbook| = {gap:.1e} (target <= 1e-9)")

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "plain.py"
        script.write_text(PLAIN_SCRIPT)
        env = {**os.environ, "PYTHONPATH": str(config.ROOT)}
        plain = [sys.executable, str(script), str(config.TRAIN_FILE)]
        stage = [sys.executable, "-m", "pipeline", "train", "--quiet", "--out",
                 str(Path(tmp) / "params.npz")]
        row("train as a whole process", "plain h5py + textbook script",
            "python -m pipeline train", "B <= 0.25x A, i.e. >= 4x",
            lambda: subprocess.run(plain, env=env, check=True),
            lambda: subprocess.run(stage, env=env, check=True, capture_output=True))
        # The default make cv: 5 folds x 10 repeats x 5 rates x 3000 iterations = 250 fits.
        cv = [sys.executable, "-m", "pipeline", "cv", "--quiet", "--out-dir",
              str(Path(tmp) / "cv")]
        row("default cv (250 fits) vs ONE fit", "plain h5py + textbook script",
            "python -m pipeline cv", "B <= 3x A, i.e. >= 0.33x",
            lambda: subprocess.run(plain, env=env, check=True),
            lambda: subprocess.run(cv, env=env, check=True, capture_output=True))

    with tempfile.TemporaryDirectory() as tmp:
        print(f"  (making {args.photos} 1600x1200 JPEGs for the dataset row...)", flush=True)
        paths = phone_photos(Path(tmp) / "photos", args.photos, f)
        env = {**os.environ, "PYTHONPATH": str(config.ROOT)}
        dataset = [sys.executable, "-m", "pipeline", "dataset", str(Path(tmp) / "photos"),
                   "--out", str(Path(tmp) / "dataset"), "--force", "--quiet"]
        peak = run_sampling_memory(dataset, env)
        repeats, args.repeats = args.repeats, min(args.repeats, 3)
        row(f"{args.photos} photos -> dataset", "one process: open + decode",
            "python -m pipeline dataset", "B <= 0.5x A, i.e. >= 2x",
            lambda: decode_all(paths),
            lambda: subprocess.run(dataset, env=env, check=True, capture_output=True),
            peak_memory_bytes=peak)
        args.repeats = repeats
        print(f"  {'':<34} peak memory of the dataset stage, all processes: "
              f"{peak / 1e6:.0f} MB (target < 300 MB)")

    rates = list(config.COMPARE_LEARNING_RATES)
    row("compare 3 rates, 1500 it", "3 textbook runs", "one batched gram run", ">= 50x",
        lambda: [optimize(w0, 0.0, X, Y, 1500, lr) for lr in rates],
        lambda: gradient_descent(X, Y, rates, 1500, f["X_test"], f["Y_test"]))

    Xs, Ys, ws = X[:1000, :50], Y[:, :50], np.zeros((1000, 1)) + 0.001  # a slice: 1000 x 50
    row("propagate, loops vs vectorized", "loop over m and n_x", "propagate (numpy)",
        "the lesson's point", lambda: propagate_loops(ws, 0.0, Xs, Ys),
        lambda: propagate(ws, 0.0, Xs, Ys), slice="1000 features x 50 examples")

    rng = np.random.default_rng(0)
    u, v = rng.random(1_000_000), rng.random(1_000_000)
    row("dot product of 1,000,000", "Python for loop", "np.dot", "the lesson's point",
        lambda: python_dot(u.tolist(), v.tolist()), lambda: np.dot(u, v))

    write_json(args.out, {"repeats": args.repeats, "machine": machine(), "rows": rows})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
