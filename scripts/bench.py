#!/usr/bin/env python3
"""`make bench`: what the Gram engine and vectorization buy, measured side by side in one run.

Each row times A (the reference) and B (the faster way) alternately, --repeats times each (fewer,
--slow-repeats, for the rows that take minutes), and reports the medians and their ratio. Rows
that share a reference time all their processes in one alternation. It writes reports/bench.json
after every row. --no-large skips the 25,000- and 100,000-image rows, whose datasets and features
are made once and kept in --cache-dir. The CNN's rows are scripts/bench_cnn.py's.
"""

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent  # the checkout: its scripts, and the package
sys.path.insert(0, str(ROOT))

from bench_cnn import cnn_rows  # noqa: E402  (scripts/, this file's folder)

from pipeline import config  # noqa: E402
from pipeline.artifacts.feature_file import load_features  # noqa: E402
from pipeline.artifacts.files import write_json  # noqa: E402
from pipeline.columns import take  # noqa: E402
from pipeline.engines.fit import train  # noqa: E402
from pipeline.engines.logistic import gradient_descent  # noqa: E402
from pipeline.nn.logistic import optimize, propagate, propagate_loops  # noqa: E402
from pipeline.settings import Optimizer, Settings  # noqa: E402
from pipeline.threads import BLAS_THREADS  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # so that a script in a temp dir finds it

# The baseline for a whole process: load the .h5 with h5py and run the textbook loop.
PLAIN_SCRIPT = """
import sys
import h5py
import numpy as np
from pipeline import config
from pipeline.nn.logistic import optimize
with h5py.File(sys.argv[1], "r") as h5:
    X = h5["train_set_x"][()].reshape(209, -1).T / 255
    Y = h5["train_set_y"][()].reshape(1, -1)
optimize(np.zeros((X.shape[0], 1)), 0.0, X, Y, config.NUM_ITERATIONS, config.LEARNING_RATE)
"""

# The week-4 notebook as a whole process: its data, its model function, its arguments.
NETWORK_SCRIPT = """
import sys
import h5py
from pipeline import config
from pipeline.nn.network import L_layer_model, two_layer_model
with h5py.File(sys.argv[1], "r") as h5:
    train_x_orig, train_y = h5["train_set_x"][()], h5["train_set_y"][()]
X = train_x_orig.reshape(train_x_orig.shape[0], -1).T / 255
Y = train_y.reshape(1, -1)
dims = [X.shape[0], *config.HIDDEN_LAYERS[sys.argv[2]], 1]
rate, iterations = config.NETWORK_LEARNING_RATE, config.NETWORK_NUM_ITERATIONS
if sys.argv[2] == "l-layer":
    L_layer_model(X, Y, dims, rate, iterations)
else:
    two_layer_model(X, Y, tuple(dims), rate, iterations)
"""

LARGE = {"train": 25000, "test": 2000, "seed": 0}  # the big-data rows' synthetic dataset
SMALL = {"train": 2000, "test": 200, "seed": 0}  # the threads rows' Adam dataset
HUGE = {"train": 100000, "test": 5000, "seed": 0}  # the scale rows' (1.3 GB of pixels)
ADAM = Optimizer("adam", config.MINI_BATCH_SIZE, config.NUM_EPOCHS, config.BETA1, config.BETA2)
LARGE_GD_STEPS = 100  # gd at 25,000 images is timed for this many steps, and for one
PIXEL_GD_STEPS = 3  # the pixels rows' gd, float64 X against uint8 pixels
MEMORY_BUDGET = 0.8e9  # bytes a 25,000-image process may hold (issue 23: pixels stay uint8)
CV_THREAD_STEPS = 500  # the threads rows' l-layer cv: its default grid, this many gd steps


class Process:
    """A command run as a whole process, imports included; each call runs it once. (Its memory
    is measured apart, by anonymous_peak: a child's ru_maxrss counts what this process held.)"""

    def __init__(self, *args):
        self.command = [sys.executable, *map(str, args)]

    def __call__(self):
        with tempfile.TemporaryFile() as err:
            child = subprocess.run(self.command, env=ENV, stdout=subprocess.DEVNULL, stderr=err,
                                   check=False)
            if child.returncode:
                err.seek(0)
                raise SystemExit(f"{' '.join(self.command)} failed:\n"
                                 f"{err.read().decode(errors='replace')[-3000:]}")


def stage(*args):
    """`python -m pipeline STAGE ARGS...` as a Process."""
    return Process("-m", "pipeline", *args)


def afresh(process, runs):
    """process, run after emptying the ledger folder `runs` that it keeps its runs in: a train
    that found its run kept would restore it instead of training (what a row times)."""
    return lambda: (shutil.rmtree(runs, ignore_errors=True), process())


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(*fns, repeats):
    """Median seconds of each fn, run in turn `repeats` times so that load on the machine hits
    them all alike."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, own in zip(fns, times, strict=True):
            own.append(seconds(fn))
    return [statistics.median(own) for own in times]


class Bench:
    """The table: each row printed as it is measured, and bench.json rewritten with it."""

    def __init__(self, args):
        self.args, self.rows, self.start = args, [], time.perf_counter()

    def row(self, name, reference, faster, target, a, b, repeats=None, **extra):
        """Time a (the reference) and b (the faster way) side by side; add the row."""
        repeats = repeats or self.args.repeats
        ta, tb = side_by_side(a, b, repeats=repeats)
        self.add(name, reference, faster, target, ta, tb, repeats, **extra)

    def add(self, name, reference, faster, target, ta, tb, repeats, **extra):
        """A row whose medians were measured elsewhere (a shared alternation)."""
        self.rows.append({"measure": name, "reference": reference, "faster": faster,
                          "reference_s": ta, "faster_s": tb, "speedup": ta / tb,
                          "target": target, "repeats": repeats, **extra})
        runs = "" if repeats == self.args.repeats else f"; {repeats} run{'s' * (repeats > 1)}"
        print(f"  {name:<34} {ta:9.4f} s {tb:9.4f} s {ta / tb:8.1f}x  ({target}{runs})",
              flush=True)
        self.save()

    def save(self):
        """bench.json as it stands: the rows so far, the machine, the date and commit, the
        minutes so far (a reference for the docs is then a plain copy)."""
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip() or None
        write_json(self.args.out, {
            "date": time.strftime("%Y-%m-%d", time.gmtime()), "commit": commit,
            "minutes": round((time.perf_counter() - self.start) / 60, 1),
            "repeats": self.args.repeats, "slow_repeats": self.args.slow_repeats,
            "machine": machine(), "rows": self.rows})

    @staticmethod
    def note(text):
        print(f"  {'':<34} {text}", flush=True)


def python_dot(u, v):
    total = 0.0
    for x, y in zip(u, v, strict=True):
        total += x * y
    return total


def phone_photos(folder, count, features):
    """`count` 1600x1200 JPEGs (quality 90) made from the course's images, in two classes."""
    from PIL import Image

    from pipeline.artifacts.features import unflatten, unstandardize

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


def in_process_rows(bench, f):
    X, Y = f["X_train"], f["Y_train"]
    w0 = np.zeros((X.shape[0], 1))
    lr, steps = config.LEARNING_RATE, config.NUM_ITERATIONS
    textbook = optimize(w0, 0.0, X, Y, steps, lr)[0]
    course = Settings("logistic", (X.shape[0], 1), lr, steps)
    fast = train(f, course)
    gap = float(np.abs(fast["w"] - textbook["w"]).max())
    bench.row(f"train in-process, lr {lr}, {steps} it", "textbook optimize", "train stage (gram)",
              ">= 30x", lambda: optimize(w0, 0.0, X, Y, steps, lr),
              lambda: train(f, course),
              max_abs_w_difference=gap)
    bench.note(f"max |w_gram - w_textbook| = {gap:.1e} (target <= 1e-9)")


def make_page(reports, params, features):
    """A report and a comparison in `reports` (cv's section comes from the cv row); returns the
    report stage, which draws every figure before it assembles the page."""
    stage("evaluate", "--params", params, "--features", features,
          "--out", reports / "metrics.json")()
    report = stage("report", "--params", params, "--metrics", reports / "metrics.json",
                   "--features", features, "--out-dir", reports)
    report()
    stage("compare", "--features", features, "--out-dir", reports / "compare", "--quiet")()
    return report


def process_rows(bench, args):
    """The one neuron as whole processes, and the page: cv and assemble beside a report."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "plain.py").write_text(PLAIN_SCRIPT)
        plain = Process(tmp / "plain.py", config.TRAIN_FILE)
        params, reports, runs = tmp / "params.npz", tmp / "reports", tmp / "runs"
        bench.row("train as a whole process", "plain h5py + textbook script",
                  "python -m pipeline train", "B <= 0.25x A, i.e. >= 4x", plain,
                  afresh(stage("train", "--quiet", "--features", args.features, "--out", params,
                               "--runs-dir", runs), runs))
        report = make_page(reports, params, args.features)
        # The default make cv: 5 folds x 10 repeats x 5 rates x 3000 iterations = 250 fits.
        bench.row("default cv (250 fits) vs ONE fit", "plain h5py + textbook script",
                  "python -m pipeline cv", "B <= 3x A, i.e. >= 0.33x", plain,
                  stage("cv", "--quiet", "--features", args.features, "--out-dir", reports / "cv",
                        "--runs-dir", runs), with_report=True)
        bench.note("(cv beside a report: it reassembles index.html after its own section)")
        # make cv SEARCH=random TRIALS=60: 60 candidates x 5 folds x 1 repeat = 300 fits
        bench.row("random cv (60 trials) vs ONE fit", "plain h5py + textbook script",
                  "python -m pipeline cv --search random", "B <= 3x A, i.e. >= 0.33x", plain,
                  stage("cv", "--quiet", "--features", args.features, "--out-dir",
                        reports / "cv", "--runs-dir", runs, "--search", "random",
                        "--trials", "60"), with_report=True)
        bench.row("assemble the page, 3 sections", "python -m pipeline report",
                  "python -m pipeline assemble", "B <= 0.5 s", report,
                  stage("assemble", "--reports-dir", reports))


def dataset_row(bench, args, f):
    with tempfile.TemporaryDirectory() as tmp:
        print(f"  (making {args.photos} 1600x1200 JPEGs for the dataset row...)", flush=True)
        paths = phone_photos(Path(tmp) / "photos", args.photos, f)
        dataset = stage("dataset", Path(tmp) / "photos", "--out", Path(tmp) / "dataset",
                        "--force", "--quiet")
        peak = anonymous_peak(dataset, Path(tmp) / "peak.json")
        bench.row(f"{args.photos} photos -> dataset", "one process: open + decode",
                  "python -m pipeline dataset", "B <= 0.5x A, i.e. >= 2x",
                  lambda: decode_all(paths), dataset, repeats=min(args.repeats, 3),
                  peak_anonymous_bytes=peak)
        bench.note(f"peak anonymous memory of the dataset stage, all processes: "
                   f"{peak / 1e6:.0f} MB (target < 300 MB)")


def lesson_rows(bench, f):
    X, Y = f["X_train"], f["Y_train"]
    w0 = np.zeros((X.shape[0], 1))
    rates, steps = list(config.COMPARE_LEARNING_RATES), config.COMPARE_NUM_ITERATIONS
    bench.row(f"compare 3 rates, {steps} it", "3 textbook runs", "one batched gram run", ">= 50x",
              lambda: [optimize(w0, 0.0, X, Y, steps, lr) for lr in rates],
              lambda: gradient_descent(X, Y, rates, steps, f["X_test"], f["Y_test"]))

    Xs, Ys, ws = X[:1000, :50], Y[:, :50], np.zeros((1000, 1)) + 0.001  # a slice: 1000 x 50
    bench.row("propagate, loops vs vectorized", "loop over m and n_x", "propagate (numpy)",
              "the lesson's point", lambda: propagate_loops(ws, 0.0, Xs, Ys),
              lambda: propagate(ws, 0.0, Xs, Ys), slice="1000 features x 50 examples")

    rng = np.random.default_rng(0)
    u, v = rng.random(1_000_000), rng.random(1_000_000)
    bench.row("dot product of 1,000,000", "Python for loop", "np.dot", "the lesson's point",
              lambda: python_dot(u.tolist(), v.tolist()), lambda: np.dot(u, v))


def network_rows(bench, args):
    """The week-4 networks: the notebook's loop against the train stage, and l-layer cv against
    one notebook fit (the same runs: the three processes take turns)."""
    n = args.slow_repeats
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "notebook.py").write_text(NETWORK_SCRIPT)

        runs = tmp / "runs"

        def pair(model):
            return (Process(tmp / "notebook.py", config.TRAIN_FILE, model),
                    afresh(stage("train", "--model", model, "--features", args.features,
                                 "--out", tmp / f"{model}.npz", "--quiet", "--runs-dir", runs),
                           runs))

        cv = afresh(stage("cv", "--model", "l-layer", "--features", args.features,
                          "--out-dir", tmp / "cv", "--quiet", "--runs-dir", runs), runs)
        random = afresh(stage("cv", "--model", "l-layer", "--features", args.features,
                              "--out-dir", tmp / "random", "--quiet", "--runs-dir", runs,
                              "--search", "random", "--trials", "60"), runs)
        print(f"  (the notebook's loop takes minutes a fit: {n} run(s) of each below)", flush=True)
        t_notebook, t_train, t_cv, t_random = side_by_side(*pair("l-layer"), cv, random,
                                                           repeats=n)
        bench.add(f"l-layer net {config.NETWORK_NUM_ITERATIONS} it, process",
                  "notebook L_layer_model script",
                  "python -m pipeline train", "B <= 0.2x A, i.e. >= 5x", t_notebook, t_train, n)
        bench.add("l-layer default cv vs ONE fit", "notebook L_layer_model script (same runs)",
                  "python -m pipeline cv --model l-layer", "B <= 2x A, i.e. >= 0.5x",
                  t_notebook, t_cv, n)
        bench.add("l-layer random cv (60) vs default", "python -m pipeline cv --model l-layer",
                  "the same, --search random --trials 60", "B <= 3x A, i.e. >= 0.33x",
                  t_cv, t_random, n)
        bench.row(f"two-layer net {config.NETWORK_NUM_ITERATIONS} it, process",
                  "notebook two_layer_model script",
                  "python -m pipeline train", "B <= 0.1x A, i.e. >= 10x", *pair("two-layer"),
                  repeats=n)


@contextmanager
def busy_cores(count):
    """`count` CPU-bound processes running beside whatever is timed inside."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def on_default_threads(path, fit):
    """fit, with the BLAS left on its own thread count for that path (one per core)."""

    def run():
        chosen, BLAS_THREADS[path] = BLAS_THREADS[path], None
        try:
            fit()
        finally:
            BLAS_THREADS[path] = chosen

    return run


def cv_stage_in_process(args, folder):
    """make cv MODEL=l-layer's stage in this process, unprinted (its errors raise): the default grid
    (200 networks, on BLAS_THREADS["cv"]), CV_THREAD_STEPS steps."""
    from pipeline.stages import cv

    runs = folder / "runs"

    def run():
        shutil.rmtree(runs, ignore_errors=True)  # the final fit trained, not restored
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            cv.main(["--model", "l-layer", "--num-iterations", str(CV_THREAD_STEPS), "--quiet",
                     "--features", str(args.features), "--out-dir", str(folder / "cv"),
                     "--runs-dir", str(runs)])

    return run


def thread_rows(bench, args, f):
    """The threads chosen per path (pipeline/threads.py) against the BLAS's default, for
    each network fit, a 2,000-image Adam run and l-layer cv, alone and beside
    two CPU-bound processes."""
    small = load_features(synthetic_features(args.cache_dir, SMALL))
    def network(model):
        dims = (12288, *config.HIDDEN_LAYERS[model], 1)
        return lambda: train(f, Settings(model, dims, config.NETWORK_LEARNING_RATE,
                                         config.NETWORK_NUM_ITERATIONS))

    adam = Settings("logistic", (12288, 1), config.MINIBATCH_LEARNING_RATE, 0, optimizer=ADAM)
    fits = {
        "two-layer fit": ("network", network("two-layer")),
        "l-layer fit": ("network", network("l-layer")),
        f"adam {SMALL['train']:,} images": ("minibatch", lambda: train(small, adam)),
    }
    cores = os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        fits[f"l-layer cv {CV_THREAD_STEPS} it"] = ("cv", cv_stage_in_process(args, Path(tmp)))
        for busy in (0, 2):
            with busy_cores(busy):
                for name, (path, fit) in fits.items():
                    bench.row(f"{name}, {'2 busy beside' if busy else 'alone'}",
                              f"BLAS default ({cores} threads)",
                              f"{BLAS_THREADS[path]} thread(s) ({path})", "B <= A",
                              on_default_threads(path, fit), fit, repeats=3, busy_processes=busy)


def synthetic_features(cache, size):
    """Features of a synthetic dataset of `size` (LARGE, SMALL), made once, kept in `cache`."""
    folder = cache / "synthetic-{train}-{test}-seed{seed}".format(**size)
    features = folder / "features.npz"
    if features.exists():
        print(f"  (reusing {features})", flush=True)
        return features
    print(f"  (making the {size['train']:,}-image dataset and its features in {folder}, "
          "kept for the next run...)", flush=True)
    if not all((folder / f"{split}.h5").exists() for split in ("train", "test")):
        Process(ROOT / "scripts" / "synthetic_dataset.py", folder, "--train",
                size["train"], "--test", size["test"], "--seed", size["seed"], "--quiet")()
    stage("features", "--train-file", folder / "train.h5", "--test-file", folder / "test.h5",
          "--out", features)()
    return features


def large_rows(bench, args):
    """Adam against gd at 25,000 images, and cv's default there; gd's course run (minutes) is
    extrapolated from runs of 1 and LARGE_GD_STEPS steps, which take their turns with the rest."""
    features, n, k = synthetic_features(args.cache_dir, LARGE), args.slow_repeats, LARGE_GD_STEPS
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"

        def fit(*flags):
            return stage("train", "--features", features, "--out", Path(tmp) / "params.npz",
                         "--quiet", "--runs-dir", runs, *flags)

        gd_1, gd_k = fit("--num-iterations", 1), fit("--num-iterations", k)
        adam = fit("--optimizer", "adam")
        cv = stage("cv", "--features", features, "--out-dir", Path(tmp) / "cv", "--quiet",
                   "--runs-dir", runs)
        t_1, t_k, t_adam, t_cv = side_by_side(*(afresh(p, runs) for p in (gd_1, gd_k, adam, cv)),
                                              repeats=n)
        # once more each, untimed, under scripts/peak_memory.py: ru_maxrss would count the pages
        # this process held when it started the child (2.5 GB after the pixels rows)
        peak = {}
        for name, process in (("gd", gd_k), ("adam", adam), ("cv", cv)):
            shutil.rmtree(runs, ignore_errors=True)  # trained, not restored
            peak[name] = anonymous_peak(process, Path(tmp) / "peak.json")
    step, steps = (t_k - t_1) / (k - 1), config.NUM_ITERATIONS
    t_gd = t_1 + (steps - 1) * step
    gd = {"gd_1_step_s": t_1, f"gd_{k}_steps_s": t_k, "gd_step_s": step,
          "gd_extrapolated_from_steps": k, "gd_whole_run_scaled_s": t_k * steps / k}
    size = f"{LARGE['train'] // 1000}k images"
    bench.add(f"{size}: adam 10 epochs vs gd", f"gd {steps} it, extrapolated from {k} steps",
              "python -m pipeline train --optimizer adam", "B <= 0.1x A, i.e. >= 10x", t_gd,
              t_adam, n, **gd, peak_anonymous_bytes={"gd": peak["gd"], "adam": peak["adam"]})
    bench.note(f"gd: 1 step {t_1:.1f} s, {k} steps {t_k:.1f} s: {step:.3f} s a step; {steps} steps")
    bench.note(f"extrapolated: {t_gd:.0f} s (per-step cost is constant; the {k}-step run "
               f"x {steps // k}: {t_k * steps / k:.0f} s)")
    bench.add(f"{size}: default cv vs ONE gd", f"gd {steps} it (extrapolated, above)",
              "python -m pipeline cv (adam, 1 repeat)", "a few gd fits", t_gd, t_cv, n, **gd,
              peak_anonymous_bytes=peak["cv"])
    peaks = ", ".join(f"{name} {bytes_ / 1e6:.0f} MB" for name, bytes_ in peak.items())
    bench.note(f"peak anonymous memory of each process: {peaks} (budget "
               f"{MEMORY_BUDGET / 1e9:.1f} GB)")


def pixel_rows(bench, args):
    """At 25,000 images, in one process: a gd step and an epoch of Adam's gathers on the float64
    X (n_x, m) held in memory, as features.npz was until issue 23, against the uint8 pixels
    streamed from features.npz; and what each holds."""
    from pipeline.columns import model_scores
    from pipeline.engines.minibatch import optimize_minibatch
    from pipeline.nn.layers import propagate as layer_propagate

    f = load_features(synthetic_features(args.cache_dir, LARGE))
    pixels, Y, m = f["X_train"], f["Y_train"], f["Y_train"].shape[1]
    X = np.empty(pixels.shape)  # (n_x, m) float64, C order: the old layout, 2.5 GB
    for k in range(0, m, 1000):
        X[:, k:k + 1000] = take(pixels, np.arange(k, min(k + 1000, m)))
    X_test = take(f["X_test"], np.arange(f["Y_test"].shape[1]))

    def gd(data, test):
        return lambda: gradient_descent(data, Y, [config.LEARNING_RATE], PIXEL_GD_STEPS, test,
                                        f["Y_test"], engine="primal", every=1000)

    start = {"W1": np.zeros((1, X.shape[0])), "b1": np.zeros((1, 1))}

    def adam_epoch(data):
        return lambda: optimize_minibatch(start, layer_propagate, data, Y, optimizer="adam",
                                          learning_rate=config.MINIBATCH_LEARNING_RATE,
                                          num_epochs=1, forward=model_scores)
    bench.row(f"{m // 1000}k images: {PIXEL_GD_STEPS} gd steps", "float64 X in memory",
              "uint8 streamed", "B <= A, memory 1/8", gd(X, X_test), gd(pixels, f["X_test"]),
              repeats=args.slow_repeats + 2, float64_bytes=X.nbytes,
              pixel_bytes=pixels.shape[0] * m)
    step = {side: bench.rows[-1][f"{side}_s"] / PIXEL_GD_STEPS for side in ("reference", "faster")}
    bench.note(f"a full-batch step: {step['reference']:.2f} s plain NumPy on the float64 X, "
               f"{step['faster']:.2f} s ours on the pixels (each run's time / {PIXEL_GD_STEPS})")
    bench.row(f"{m // 1000}k images: an epoch of adam", "float64 columns", "uint8 rows",
              "B <= 0.3 s", adam_epoch(X), adam_epoch(pixels), repeats=args.slow_repeats + 2)
    bench.note(f"X as float64: {X.nbytes / 1e9:.2f} GB in memory; as pixels "
               f"{pixels.shape[0] * m / 1e9:.2f} GB on disk, read a block at a time")


def sklearn_rows(bench, args):
    """What a user would pick instead: scikit-learn's SGDClassifier (log loss, 10 epochs, no
    early stop) on the 25,000 generated images held in memory as float64 (m, n_x), x / 255 as
    ours (2.5 GB; making it is not timed), against make train's recipe on their features,
    `python -m pipeline train --optimizer adam --metrics`, the whole process (imports, reading,
    10 epochs, the curve, metrics.json), alternated.
    Target (issue 31): ours in at most 0.6x scikit-learn's time."""
    import warnings

    from sklearn.linear_model import SGDClassifier

    path = synthetic_features(args.cache_dir, LARGE)
    f = load_features(path)
    pixels, y = f["X_train"], f["Y_train"].ravel()
    X = np.empty((len(y), pixels.shape[0]))  # (m, n_x) float64, scikit-learn's layout
    for k in range(0, len(y), 1000):
        X[k:k + 1000] = take(pixels, slice(k, min(k + 1000, len(y)))).T  # x / 255

    def sgd():
        with warnings.catch_warnings():  # 10 epochs on purpose: no convergence warning
            warnings.simplefilter("ignore")
            SGDClassifier(loss="log_loss", max_iter=10, tol=None, random_state=0).fit(X, y)

    n = args.slow_repeats + 2
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        # what `make train OPTIMIZER=adam` runs once features.npz is made: one process
        make_train = afresh(stage("train", "--features", path, "--out", Path(tmp) / "params.npz",
                                  "--metrics", Path(tmp) / "metrics.json", "--quiet",
                                  "--optimizer", "adam", "--runs-dir", runs), runs)
        t_sgd, t_make = side_by_side(sgd, make_train, repeats=n)
    size = f"{LARGE['train'] // 1000}k images"
    bench.add(f"{size}: scikit-learn vs make train", "SGDClassifier(log_loss, 10 epochs), X "
              "float64 in memory", "train --optimizer adam --metrics (make train's recipe)",
              "B <= 0.6x A, i.e. >= 1.67x", t_sgd, t_make, n, sklearn_x_bytes=X.nbytes)
    # (no peak for the fit here: a child forked from this process holding X inherits its peak)
    bench.note(f"ours / scikit-learn: make train {t_make / t_sgd:.2f}x the time; "
               f"scikit-learn's X alone holds {X.nbytes / 1e9:.2f} GB")


def scale_rows(bench, args):
    """The stages at 25,000 and at 100,000 generated images, each a whole process, alternated:
    make train's `train --optimizer adam --metrics` (issue 31: at most 15 s at 100,000) and
    `evaluate` on its model (at most 0.5 s at 25,000), with each process's peak memory."""
    sizes = {"25k": LARGE, "100k": HUGE}
    features = {name: synthetic_features(args.cache_dir, size) for name, size in sizes.items()}
    n = args.slow_repeats + 2
    with tempfile.TemporaryDirectory() as tmp:
        runs, tmp = Path(tmp) / "runs", Path(tmp)

        fits = {name: stage("train", "--features", features[name], "--out",  # make train's
                            tmp / f"{name}.npz", "--metrics", tmp / f"{name}-train.json",
                            "--quiet", "--optimizer", "adam", "--runs-dir", runs)
                for name in sizes}
        evaluations = {name: stage("evaluate", "--params", tmp / f"{name}.npz", "--features",
                                   features[name], "--out", tmp / f"{name}.json")
                       for name in sizes}
        t_big, t_small = side_by_side(afresh(fits["100k"], runs), afresh(fits["25k"], runs),
                                      repeats=n)
        bench.add("make train, adam: 100k vs 25k images", "100k images", "25k images",
                  "A <= 15 s", t_big, t_small, n)
        bench.row("evaluate: 100k vs 25k images", "100k images", "25k images", "B <= 0.5 s",
                  evaluations["100k"], evaluations["25k"], repeats=n)
        # once more each, untimed, under scripts/peak_memory.py: the anonymous memory of the
        # process (ru_maxrss would count this process's pages, forked before the exec)
        peaks = {}
        for name in sizes:
            shutil.rmtree(runs, ignore_errors=True)  # trained, not restored
            peaks[f"train {name}"] = anonymous_peak(fits[name], tmp / "peak.json")
            peaks[f"evaluate {name}"] = anonymous_peak(evaluations[name], tmp / "peak.json")
    bench.rows[-1]["peak_anonymous_bytes"] = peaks
    bench.save()
    bench.note("peak anonymous memory: " + ", ".join(f"{k} {v / 1e6:.0f} MB"
                                                    for k, v in peaks.items()))


def anonymous_peak(process, report):
    """Run process once under scripts/peak_memory.py; its tree's peak anonymous bytes."""
    Process(ROOT / "scripts" / "peak_memory.py", "--json", report, "--", *process.command)()
    return json.loads(Path(report).read_text())["peak_rss_anon_bytes"]


def ledger_of(folder, record, count):
    """`count` runs in folder, copies of record with their own ids and times (run.json is all a
    listing reads; each params.npz is a stand-in)."""
    for i in range(count):
        rid = f"{i:012x}"
        (folder / rid).mkdir(parents=True)
        (folder / rid / "params.npz").write_bytes(b"stand-in")
        write_json(folder / rid / "run.json", {
            **record, "id": rid, "learning_rate": 0.001 * (1 + i % 7),
            "finished": f"2026-{1 + i % 12:02}-{1 + i % 28:02}T{i % 24:02}:00:00+00:00"})


def runs_rows(bench, args, f):
    """What the ledger costs: on a train (in-process), and `runs` over 1,000 records."""
    from datetime import UTC, datetime

    from pipeline.artifacts.params import run_params
    from pipeline.runs.ledger import save_run
    from pipeline.runs.record import identity, run_record

    course = Settings("logistic", (f["X_train"].shape[0], 1), config.LEARNING_RATE,
                      config.NUM_ITERATIONS)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        params_file = tmp / "params.npz"

        def fit():
            params, _ = run_params(train(f, course), 0, f)  # (params, each split's scores)
            write_json(tmp / "fit.json", {"cost": float(params["costs"][-1])})
            return params

        def fit_and_keep():
            started = datetime.now(UTC)
            rid, fingerprint = identity(course, config.ENGINE, f)
            params = fit()
            np.savez(params_file, **params)
            record = run_record((rid, fingerprint), course, "gram", params, f, command="train",
                                started=started, finished=datetime.now(UTC),
                                data_path=args.features)
            kept.append(save_run(tmp / "runs" / str(len(kept)), record, params_file))

        kept = []

        ta, tb = side_by_side(fit_and_keep, fit, repeats=args.repeats)
        bench.add("train, with its run kept", "fit + ledger", "fit alone", "ledger <= 50 ms",
                  ta, tb, args.repeats, ledger_ms=1000 * (ta - tb))
        bench.note(f"the ledger adds {1000 * (ta - tb):.0f} ms to a train of the course's run")
        for count in (10, 1000):
            ledger_of(tmp / f"ledger{count}", kept[-1], count)
        few, many = (stage("runs", "--runs-dir", tmp / f"ledger{count}", "--out-dir",
                           tmp / f"report{count}", "--params", tmp / "none.npz")
                     for count in (10, 1000))
        bench.row("make runs: 1,000 runs against 10", "1,000 runs", "10 runs", "1,000 <= 1 s",
                  many, few)
        bench.note("the 1,000-run listing (reference) with reports/runs current: the figures are "
                   "drawn only when the table changes")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each side (median)")
    parser.add_argument("--slow-repeats", type=int, default=1,
                        help="runs of each side for the rows that take minutes (default 1)")
    parser.add_argument("--out", type=Path, default=config.REPORTS_DIR / "bench.json")
    parser.add_argument("--features", type=Path, default=config.FEATURES_FILE,
                        help="the course's features (default: what make features writes)")
    parser.add_argument("--photos", type=int, default=1000, help="JPEGs for the dataset row")
    parser.add_argument("--only", nargs="+", metavar="GROUP",
                        choices=("in-process", "process", "dataset", "lesson", "network",
                                 "threads", "pixels", "large", "sklearn", "scale", "runs",
                                 "cnn"),
                        help="measure only these groups of rows (default: all)")
    parser.add_argument("--no-large", dest="large", action="store_false",
                        help="skip the 25,000- and 100,000-image rows")
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "catvnoncat-bench",
                        help="keeps the 25,000- and 100,000-image datasets and features "
                             "(3 GB) between runs (default %(default)s; delete it to remake "
                             "them)")
    return parser.parse_args()


def main():
    args, start = parse_args(), time.perf_counter()
    stored = load_features(args.features)  # pixels; the course's 209 images as float64 columns:
    f = {**stored, **{f"X_{split}": take(stored[f"X_{split}"], np.arange(stored[f"Y_{split}"].size))
                      for split in ("train", "test")}}
    bench = Bench(args)
    print(f"median of {args.repeats} alternating runs ({args.slow_repeats} for the slow rows); "
          f"{machine()['cpu']}, {os.cpu_count()} cores\n"
          f"  {'':<34} {'reference':>11} {'faster':>11} {'speedup':>9}")
    groups = {"in-process": lambda: in_process_rows(bench, f),
              "process": lambda: process_rows(bench, args),
              "dataset": lambda: dataset_row(bench, args, f),
              "lesson": lambda: lesson_rows(bench, f),
              "network": lambda: network_rows(bench, args),
              "threads": lambda: thread_rows(bench, args, f),
              "pixels": lambda: pixel_rows(bench, args),
              "large": lambda: large_rows(bench, args),
              "sklearn": lambda: sklearn_rows(bench, args),
              "scale": lambda: scale_rows(bench, args),
              "runs": lambda: runs_rows(bench, args, f),
              "cnn": lambda: cnn_rows(bench, synthetic_features(args.cache_dir, LARGE),
                                      args.slow_repeats + 2)}
    for name, rows in groups.items():
        if (name in args.only if args.only else
                name not in ("large", "pixels", "sklearn", "scale", "cnn") or args.large):
            rows()
    bench.save()
    print(f"wrote {args.out} ({(time.perf_counter() - start) / 60:.1f} minutes)")


if __name__ == "__main__":
    main()
