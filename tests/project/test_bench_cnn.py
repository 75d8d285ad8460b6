"""make bench's CNN rows (scripts/bench_cnn.py): the products they count, the network JAX trains
(MODEL=cnn's, to 1e-12 in float64), and the rows themselves on the course's 209 images."""

import sys

import numpy as np
import pytest
from helpers import ROOT

from pipeline.nn import cnn

sys.path.insert(0, str(ROOT / "scripts"))
import bench_cnn  # noqa: E402


def test_the_products_are_the_im2col_shapes_of_the_model_a_part_at_a_time():
    # conv 4x4x8 'same' on 64x64x3 -> 64x64x8, pool 8 -> 8x8x8, conv 2x2x16 'same' -> 8x8x16
    part = cnn.IMAGES_A_PART
    assert bench_cnn.part_sizes(64) == [part] * (64 // part)
    assert sum(bench_cnn.part_sizes(17)) == 17
    products = bench_cnn.conv_products(part)
    assert products == [
        ("conv1 Z = cols W", part * 64 * 64, 48, 8, False),
        ("conv1 dW.T = dZ.T cols", 8, part * 64 * 64, 48, True),
        ("conv2 Z = cols W", part * 64, 32, 16, False),
        ("conv2 dW.T = dZ.T cols", 16, part * 64, 32, True),
        ("conv2 dcols = dZ W.T", part * 64, 16, 32, False)]
    assert bench_cnn.flops(bench_cnn.conv_products(64)) == 64 // part * bench_cnn.flops(products)
    assert bench_cnn.flops([("p", 3, 4, 5, False)]) == 120
    assert bench_cnn.batch_sizes(25000) == [64] * 390 + [40]
    assert bench_cnn.batch_sizes(128) == [64, 64]


def test_the_limit_times_every_product_on_the_threads_asked():
    products = [("a", 64, 8, 4, False), ("b", 8, 64, 4, True)] * 50
    for threads in (1, 2):
        wall, cpu = bench_cnn.gemm_seconds(products, threads)
        assert wall > 0 and cpu > 0


def test_jax_trains_the_same_network():
    pytest.importorskip("jax")  # the optional extra `bench`
    import jax.numpy as jnp

    rng = np.random.default_rng(1)
    pixels, Y = rng.integers(0, 256, (3, 64 * 64 * 3), dtype=np.uint8), np.array([[1.0, 0, 1]])
    parameters = bench_cnn.initial_parameters()
    pools = [pool for _, _, pool in bench_cnn.ARCHITECTURE]
    cost, grads, _ = cnn.propagate(parameters, pixels.T, Y, pixel_scale=255, pools=pools)
    _, value_and_grad = bench_cnn.jax_network()
    jax_cost, jax_grads = value_and_grad({k: jnp.asarray(v) for k, v in parameters.items()},
                                         jnp.asarray(pixels.reshape(3, 64, 64, 3)),
                                         jnp.asarray(Y))
    assert float(jax_cost) == pytest.approx(cost, abs=1e-12)
    for key in parameters:
        np.testing.assert_allclose(np.asarray(jax_grads[key]), grads["d" + key], rtol=0,
                                   atol=1e-12)


class Table:
    """The bench's table as cnn_rows uses it: rows added, notes printed."""

    def __init__(self):
        self.rows, self.notes = [], []

    def add(self, name, reference, faster, target, ta, tb, repeats, **extra):
        self.rows.append({"measure": name, "reference_s": ta, "faster_s": tb, **extra})

    def note(self, text):
        self.notes.append(text)


def test_the_rows_on_the_course_images_without_jax(features_file, monkeypatch):
    monkeypatch.setattr(bench_cnn, "has_jax", lambda: False)
    table = Table()
    bench_cnn.cnn_rows(table, features_file, repeats=1, threads=1)
    [row] = table.rows  # the epoch against the GEMM limit; no JAX row
    assert row["measure"] == "209 images: CNN epoch vs GEMM limit"
    assert row["gemm_share"] == pytest.approx(row["reference_s"] / row["faster_s"])
    assert 0 < row["gemm_share"] < 1.5 and row["threads"] == 1
    assert 0 < row["peak_anonymous_bytes"] < 1e9
    assert row["conv_flops_per_epoch"] == sum(  # 209 images: 3 batches of 64 and one of 17
        bench_cnn.flops(bench_cnn.conv_products(size)) for size in (64, 64, 64, 17))
    assert any("jax is not installed" in note and "requirements-bench.lock" in note
               for note in table.notes)


def test_the_timed_epoch_starts_and_steps_as_make_train_model_cnn():
    from pipeline import config
    from pipeline.engines.fit import propagate_of, start_of
    from pipeline.settings import Optimizer, Settings

    settings = Settings("cnn", (12288, 1), config.CNN_LEARNING_RATE, 0,
                        optimizer=Optimizer("adam", 64, 1), architecture=config.CNN_ARCHITECTURE)
    for key, value in start_of(settings).items():
        np.testing.assert_array_equal(bench_cnn.initial_parameters()[key], value)
    step = propagate_of(settings)
    assert step.func is cnn.propagate and step.keywords["pools"] == [
        pool for _, _, pool in bench_cnn.ARCHITECTURE]
