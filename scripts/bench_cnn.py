#!/usr/bin/env python3
"""make bench's CNN rows: an Adam epoch of MODEL=cnn (pipeline.nn.cnn, the course's week-1
network) at 25,000 generated images, its propagate through the project's mini-batch loop on
uint8 batches of 64, against two things measured in the same run, alternated:

- the BLAS's own limit: np.matmul on exactly the shapes of the epoch's convolution products
  (im2col, a part of cnn.IMAGES_A_PART images at a time: each convolution's forward product,
  its dW product and, past the first layer, its dA_prev product), every one of the epoch's
  products in turn, dealt out to one thread a core with one BLAS thread each (as the model
  deals a batch's parts to its threads). The epoch's share of that limit is its conv FLOPs
  per second over the BLAS's rate on those shapes; the same per CPU second (the products' CPU
  time over the epoch's) is what load on the machine does not move;
- JAX on the CPU (jax[cpu], the optional extra `bench`): the same network, start, batch size,
  batch count and Adam step, jit-compiled, float64 as ours; its compile and one warm-up step of
  each batch shape are not timed.

Each epoch runs in a process of its own (this file, --side ours|jax), under
scripts/peak_memory.py, and prints its seconds. Both sides run on the same cores: the process
is pinned to them (os.sched_setaffinity, as taskset); ours runs as pipeline.threads sets it
(a batch's parts on two threads, each product on one BLAS thread, by threadpoolctl), XLA
on intra_op_parallelism_threads (XLA_FLAGS). Each side also reports its CPU seconds over its
wall seconds: the cores it used.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import config  # noqa: E402
from pipeline.nn import cnn  # noqa: E402

ARCHITECTURE = cnn.read_architecture(config.CNN_ARCHITECTURE)  # ((f, n_C, pool), ...)
IMAGE = (64, 64, 3)
N_X = IMAGE[0] * IMAGE[1] * IMAGE[2]
BATCH = config.MINI_BATCH_SIZE
JAX_INSTALL = "make bench BENCH_EXTRA=1 (pip install --require-hashes -r requirements-bench.lock)"


def part_sizes(m):
    """The images of each part a batch of m goes forward and back in (cnn.in_parts)."""
    return cnn.in_parts(lambda part: part.stop - part.start, m)


def conv_products(m, image=IMAGE):
    """The convolution products of one batch of m images, forward and backward, as
    (name, rows, inner, columns, transposed): (rows, inner) @ (inner, columns), the left one a
    transposed view (dZ.T @ cols) where transposed; one entry a part (part_sizes)."""
    products = []
    for b in part_sizes(m):
        side, n_C_prev = image[0], image[2]
        for layer, (f, n_C, pool) in enumerate(ARCHITECTURE, start=1):
            M, K = b * side * side, f * f * n_C_prev  # 'same': the image's size
            products += [(f"conv{layer} Z = cols W", M, K, n_C, False),
                         (f"conv{layer} dW.T = dZ.T cols", n_C, M, K, True)]
            if layer > 1:  # the first layer's input needs no gradient
                products.append((f"conv{layer} dcols = dZ W.T", M, n_C, K, False))
            side, n_C_prev = side // pool, n_C
    return products


def flops(products):
    return sum(2 * rows * inner * columns for _, rows, inner, columns, _ in products)


def batch_sizes(m, size=BATCH):
    return [size] * (m // size) + [m % size] * bool(m % size)


def operands(rows, inner, columns, transposed, rng):
    A = rng.standard_normal((inner, rows)).T if transposed else rng.standard_normal((rows, inner))
    return A, rng.standard_normal((inner, columns))


def gemm_seconds(products, threads, seed=0):
    """(wall, CPU) seconds of np.matmul on every product in turn (float64, random operands, one
    pair a distinct shape), dealt out to `threads` threads of one BLAS thread each, as the model
    deals a batch's parts to its threads. As long as the epoch's own products, it meets the
    same load."""
    from threadpoolctl import threadpool_limits

    rng, shapes = np.random.default_rng(seed), [tuple(shape) for _, *shape in products]
    pairs = {shape: operands(*shape, rng) for shape in dict.fromkeys(shapes)}

    def run(share):
        for shape in share:
            A, B = pairs[shape]
            A @ B

    with threadpool_limits(1, "blas"), ThreadPoolExecutor(threads) as pool:
        run(list(pairs) * 3)  # pages touched, BLAS warmed
        wall, cpu = time.perf_counter(), time.process_time()
        list(pool.map(run, [shapes[k::threads] for k in range(threads)]))
        return time.perf_counter() - wall, time.process_time() - cpu


def initial_parameters():
    """MODEL=cnn's start: He's, from RandomState(config.NETWORK_SEED)."""
    return cnn.initialize_parameters_cnn(ARCHITECTURE, N_X, config.NETWORK_SEED)


def pin(threads):
    """This process on its first `threads` cores (taskset's way): returns the cores."""
    cores = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cores)
    return cores


def timed(epoch):
    """(wall seconds, CPU seconds of this process) of epoch()."""
    wall, cpu = time.perf_counter(), time.process_time()
    epoch()
    return time.perf_counter() - wall, time.process_time() - cpu


def ours_epoch(features):
    """One Adam epoch of MODEL=cnn: cnn.propagate through the project's mini-batch loop
    (run_epochs: the course's batches of 64, uint8 with pixel_scale 255), timed."""
    from pipeline.artifacts.feature_file import load_features
    from pipeline.engines.minibatch import run_epochs

    f = load_features(features)
    X, Y = f["X_train"], f["Y_train"]
    propagate = partial(cnn.propagate, pools=[pool for _, _, pool in ARCHITECTURE])
    return timed(lambda: run_epochs(
        initial_parameters(), propagate, X, Y, np.arange(Y.shape[1]), optimizer="adam",
        learning_rate=config.CNN_LEARNING_RATE, mini_batch_size=BATCH, num_epochs=1,
        seed=config.MINIBATCH_SEED))


def jax_network(dtype="float64"):
    """(step, value_and_grad): step(p, v, s, t, images, Y) -> (p, v, s, cost), one Adam step
    of the network in JAX, jit-compiled, in dtype (float64 as ours; float32 JAX's default);
    images (m, 64, 64, 3) uint8, Y (1, m). Adam as the course's update_parameters_with_adam
    (bias-corrected, epsilon outside the square root)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    jax.config.update("jax_enable_x64", dtype == "float64")
    b1, b2, eps, rate = config.BETA1, config.BETA2, config.EPSILON, config.CNN_LEARNING_RATE
    L = len(ARCHITECTURE) + 1

    def forward(p, images):  # ZL (1, m)
        A = images.astype(dtype) / 255
        for layer, (f, _, pool) in enumerate(ARCHITECTURE, start=1):
            same = ((f - 1) // 2, f - 1 - (f - 1) // 2)  # cnn.same_padded's
            Z = lax.conv_general_dilated(A, p[f"W{layer}"], (1, 1), [same, same],
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
            A = jnp.maximum(Z + p[f"b{layer}"], 0)
            if pool > 1:
                A = lax.reduce_window(A, -jnp.inf, lax.max, (1, pool, pool, 1),
                                      (1, pool, pool, 1), "VALID")
        return p[f"W{L}"] @ A.reshape(A.shape[0], -1).T + p[f"b{L}"]

    def cost(p, images, Y):  # the mean of log_loss
        Z = forward(p, images)
        return jnp.mean(Y * jnp.logaddexp(0, -Z) + (1 - Y) * jnp.logaddexp(0, Z))

    @jax.jit
    def step(p, v, s, t, images, Y):
        loss, g = jax.value_and_grad(cost)(p, images, Y)
        v = {k: b1 * v[k] + (1 - b1) * g[k] for k in p}
        s = {k: b2 * s[k] + (1 - b2) * g[k] ** 2 for k in p}
        p = {k: p[k] - rate * (v[k] / (1 - b1 ** t)) / (jnp.sqrt(s[k] / (1 - b2 ** t)) + eps)
             for k in p}
        return p, v, s, loss

    return step, jax.value_and_grad(cost)


def jax_epoch(features, dtype="float64"):
    """One Adam epoch of the same network in JAX, on the same batches in the same order (the
    course's, shuffled as run_epochs' first epoch), timed after each batch shape's step was
    compiled and run once."""
    import jax
    import jax.numpy as jnp

    from pipeline.artifacts.feature_file import load_features
    from pipeline.engines.batches import gathered
    from pipeline.nn.optimizers import mini_batch_indices

    step, _ = jax_network(dtype)
    f = load_features(features)
    X, Y = f["X_train"], f["Y_train"].astype(dtype)
    m = Y.shape[1]
    start = {k: jnp.asarray(value, dtype=dtype) for k, value in initial_parameters().items()}
    zeros = {k: jnp.zeros_like(value) for k, value in start.items()}
    for size in sorted(set(batch_sizes(m))):  # the warm-up: compile, then run once
        images = jnp.zeros((size, *IMAGE), dtype=jnp.uint8)
        jax.block_until_ready(step(start, zeros, zeros, 1.0, images,
                                   jnp.zeros((1, size), dtype=dtype)))

    def epoch():
        p, v, s = start, zeros, zeros
        batches = gathered(X, mini_batch_indices(m, BATCH, seed=config.MINIBATCH_SEED + 1))
        for t, (batch, columns) in enumerate(batches, start=1):
            images = jnp.array(columns.T.reshape(len(batch), *IMAGE))  # a copy: buffer reused
            p, v, s, _ = step(p, v, s, float(t), images, jnp.asarray(Y[:, batch]))
        jax.block_until_ready(p)

    return timed(epoch)


def worker(args):
    """One epoch of one side in this process; prints its seconds and the cores it used."""
    cores = pin(args.threads)
    epoch = {"ours": ours_epoch, "jax": jax_epoch,
             "jax-float32": partial(jax_epoch, dtype="float32")}[args.side]
    seconds, cpu = epoch(args.features)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "cores": cores}))


def has_jax():
    return subprocess.run([sys.executable, "-c", "import jax"], capture_output=True).returncode == 0


def run_side(side, features, threads, report):
    """One epoch of one side as its own process under scripts/peak_memory.py:
    (seconds, CPU seconds, peak anonymous bytes of the process)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen={str(threads > 1).lower()} "
                        f"intra_op_parallelism_threads={threads}"}
    command = [sys.executable, ROOT / "scripts" / "peak_memory.py", "--json", report, "--",
               sys.executable, Path(__file__).resolve(), "--side", side, "--features", features,
               "--threads", threads]
    child = subprocess.run(list(map(str, command)), env=env, capture_output=True, text=True)
    if child.returncode:
        raise SystemExit(f"the CNN epoch ({side}) failed:\n{child.stderr[-3000:]}")
    epoch = json.loads(child.stdout.strip().splitlines()[-1])
    return epoch["seconds"], epoch["cpu_seconds"], json.loads(
        Path(report).read_text())["peak_rss_anon_bytes"]


def spread(values):
    return [round(min(values), 3), round(max(values), 3)]


def cnn_rows(bench, features, repeats, threads=None):
    """The CNN's rows: an epoch of ours against the GEMM limit on its products' shapes and
    against JAX's epoch, alternated `repeats` times, each epoch a process of its own."""
    from pipeline.artifacts.feature_file import load_features

    threads = threads or os.cpu_count()
    m = load_features(features)["Y_train"].shape[1]
    sides = ["ours", "jax", "jax-float32"] if has_jax() else ["ours"]
    if "jax" not in sides:
        bench.note(f"(no JAX row: jax is not installed; {JAX_INSTALL})")
    products = [product for size in batch_sizes(m) for product in conv_products(size)]
    epoch_flops = flops(products)
    runs = {side: [] for side in [*sides, "gemm"]}
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for side in sides:
                runs[side].append(run_side(side, features, threads, Path(tmp) / "peak.json"))
            runs["gemm"].append((*gemm_seconds(products, threads), 0))
            load.append(os.getloadavg()[0])
    seconds = {side: [run[0] for run in own] for side, own in runs.items()}
    median = {side: statistics.median(own) for side, own in seconds.items()}
    cpu = {side: statistics.median(run[1] for run in own) for side, own in runs.items()}
    cores_used = {side: round(cpu[side] / median[side], 2) for side in runs}
    peak = {side: max(run[2] for run in runs[side]) for side in sides}
    share = median["gemm"] / median["ours"]
    cpu_share = cpu["gemm"] / cpu["ours"]  # the same per CPU second: load aside
    common = {"threads": threads, "load_average_1min": [round(x, 2) for x in load],
              "spread_s": {side: spread(own) for side, own in seconds.items()},
              "cores_used": cores_used}
    size = f"{m // 1000}k images" if m >= 1000 else f"{m} images"
    bench.add(f"{size}: CNN epoch vs GEMM limit", "np.matmul, its conv products' shapes",
              "an Adam epoch of MODEL=cnn", "B <= 2.5x A, i.e. >= 0.4x", median["gemm"],
              median["ours"], repeats, gemm_share=share, gemm_share_of_cpu_time=cpu_share,
              cpu_s=cpu, conv_flops_per_epoch=epoch_flops,
              blas_gflops=epoch_flops / median["gemm"] / 1e9,
              epoch_gflops=epoch_flops / median["ours"] / 1e9,
              peak_anonymous_bytes=peak["ours"], **common)
    bench.note(f"share of the GEMM limit {share:.0%} (target >= 40 %): "
               f"{epoch_flops / 1e9:.0f} GFLOP of conv products an epoch, "
               f"{epoch_flops / median['ours'] / 1e9:.2f} GFLOP/s against the BLAS's "
               f"{epoch_flops / median['gemm'] / 1e9:.2f} on the same shapes, {threads} cores")
    bench.note(f"per CPU second: {cpu_share:.0%} (the epoch's {cpu['ours']:.1f} CPU s against "
               f"{cpu['gemm']:.1f} CPU s of its products)")
    bench.note(f"peak anonymous memory of the epoch's process {peak['ours'] / 1e6:.0f} MB "
               f"(target < 300 MB); load average {min(load):.1f} to {max(load):.1f} on "
               f"{os.cpu_count()} cores")
    if "jax" in sides:
        import importlib.metadata

        version = importlib.metadata.version("jax")
        bench.add(f"{size}: CNN epoch, JAX vs ours", f"JAX {version} jit, float64 (compiled)",
                  "an Adam epoch of MODEL=cnn", "B <= 2x A", median["jax"], median["ours"],
                  repeats, jax_version=version, peak_anonymous_bytes=peak, **common)
        ours, jax32 = median["ours"], median["jax-float32"]
        bench.note(f"ours / JAX: {ours / median['jax']:.2f}x the time of an epoch (target <= "
                   f"2x); JAX in its default float32 {jax32:.1f} s, ours {ours / jax32:.2f}x that")
        bench.note("cores used (CPU s / s): "
                   + ", ".join(f"{side} {used:.2f}" for side, used in cores_used.items()))


def parse_args():
    parser = argparse.ArgumentParser(description="One timed epoch of one side of make bench's "
                                                 "CNN rows (scripts/bench.py runs it)")
    parser.add_argument("--side", choices=("ours", "jax", "jax-float32"), required=True)
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    return parser.parse_args()


if __name__ == "__main__":
    worker(parse_args())
