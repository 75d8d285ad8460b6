"""evaluation/explain.py: each input's push on z from the mean training image, held to its
oracles: w * (x - x̄) for one neuron, z(x) - z(x̄) for the map's sum, a high-step integral
computed point by point here for the networks, and for a CNN the gradient at each point of
the line (gradient_sum's, by cnn.input_gradient) against the sum from its first layer's line."""
import functools

import numpy as np
import pytest
from network_problems import random_problem

import pipeline.evaluation.explain as explain_module
from pipeline.artifacts.features import flatten
from pipeline.artifacts.params import network_parameters
from pipeline.columns import take
from pipeline.evaluation.explain import (
    MAX_STEPS,
    colour_sum,
    explain,
    gradient_sum,
    line_gradient_sum,
    mean_image,
)
from pipeline.nn.layers import L_model_scores
from pipeline.nn.network import input_gradient
from pipeline.settings import Settings, course_run

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

COURSE_DIMS = {"logistic": (12288, 1), "two-layer": (12288, 7, 1),
               "l-layer": (12288, 20, 7, 5, 1)}
SMALL_DIMS = {"two-layer": [48, 6, 1], "l-layer": [48, 8, 5, 3, 1]}


@pytest.fixture(scope="module")
def course_models(features):
    """The course's three runs in the layered layout (the gram engine: under a second)."""
    from pipeline.engines.fit import train

    models = {}
    for model, dims in COURSE_DIMS.items():
        run = train(features, Settings(model, dims, *course_run(model)))
        record = {"model": np.array(model), "layer_dims": np.array(dims), **run["weights"][0]}
        models[model] = network_parameters(record)
    return models


@pytest.fixture(scope="module")
def course_photos(features):
    """x̄ (n_x, 1) of the training columns, and the 50 test columns (n_x, 50)."""
    return mean_image(features["X_train"]), take(features["X_test"], slice(None))


def small_network(model, seed=0):
    """A random network of SMALL_DIMS, x̄ and x far enough apart that the line crosses kinks."""
    X, _, parameters = random_problem(SMALL_DIMS[model], 2, seed)
    return parameters, X[:, [0]] * 20, X[:, [1]] * 20


def change_of(parameters, x, baseline):
    return float(L_model_scores(x, parameters)[0, 0] - L_model_scores(baseline, parameters)[0, 0])


def midpoint_reference(parameters, x, baseline, steps=4096):
    """Integrated gradients by the midpoint rule, one point at a time: the oracle."""
    total = np.zeros_like(x)
    for k in range(steps):
        total += input_gradient(parameters, baseline + (k + 0.5) / steps * (x - baseline))
    return (x - baseline) * total / steps


def test_the_neurons_map_is_w_times_the_difference_and_sums_to_the_change():
    rng = np.random.default_rng(0)
    w, x, baseline = rng.normal(size=(3, 12288, 1))
    parameters = {"W1": w.T, "b1": np.array([[0.3]])}
    got = explain(parameters, x, baseline)
    assert got.contributions.shape == (12288, 1)
    np.testing.assert_array_equal(got.contributions, w * (x - baseline))
    assert got.change == pytest.approx(float((w.T @ x - w.T @ baseline)[0, 0]), abs=1e-9)
    assert abs(got.total - got.change) <= 1e-9 and got.gap <= 1e-9
    assert got.steps == 2


def test_the_course_neurons_map_is_exact_on_every_test_image(course_models, course_photos):
    parameters, (baseline, X_test) = course_models["logistic"], course_photos
    for j in range(X_test.shape[1]):
        x = X_test[:, [j]]
        got = explain(parameters, x, baseline)
        np.testing.assert_array_equal(got.contributions, parameters["W1"].T * (x - baseline))
        assert got.gap <= 1e-9 and abs(got.total - got.change) <= 1e-9


@pytest.mark.parametrize("model", SMALL_DIMS)
def test_a_networks_map_sums_to_the_change_within_the_tolerance(model):
    parameters, x, baseline = small_network(model)
    got = explain(parameters, x, baseline)
    assert got.contributions.shape == x.shape
    assert got.z - got.z_baseline == pytest.approx(change_of(parameters, x, baseline), abs=1e-12)
    assert abs(got.change) > 0.1  # a change worth sharing out
    assert got.gap == pytest.approx(abs(got.total - got.change), abs=1e-12)
    assert got.relative_gap <= 0.01 and 1 < got.steps < MAX_STEPS


@pytest.mark.parametrize("model", SMALL_DIMS)
def test_a_networks_map_converges_to_the_high_step_integral(model):
    parameters, x, baseline = small_network(model)
    reference = midpoint_reference(parameters, x, baseline)
    scale = np.abs(reference).sum()
    errors = [np.abs(explain(parameters, x, baseline, tolerance=0, max_steps=k).contributions
                     - reference).sum() / scale for k in (4, 16, 64, 256, 1024)]
    assert errors[0] > 1e-3  # the line crosses kinks: few steps are not enough
    assert errors[-1] < errors[0] / 30 and errors[-1] < 1e-3
    assert all(later <= earlier * 1.5 for earlier, later in zip(errors, errors[1:], strict=False))


@pytest.mark.parametrize("model", ["two-layer", "l-layer"])
def test_the_course_networks_maps_add_up_on_the_test_images(model, course_models,
                                                            course_photos):
    """Within 1 % of |z - z(x̄)|, or the steps' cap reached and the gap told as it is."""
    parameters, (baseline, X_test) = course_models[model], course_photos
    capped = 0
    for j in range(X_test.shape[1]):
        got = explain(parameters, X_test[:, [j]], baseline)
        assert got.gap == pytest.approx(abs(got.total - got.change), rel=1e-9, abs=1e-12)
        assert got.relative_gap <= 0.01 or got.steps == MAX_STEPS
        capped += got.steps == MAX_STEPS
    assert capped <= 3


@pytest.mark.parametrize("model", COURSE_DIMS)
def test_a_photo_that_is_the_mean_image_has_a_zero_map(model, course_models, course_photos):
    parameters, baseline = course_models[model], course_photos[0]
    with np.errstate(all="raise"):
        got = explain(parameters, baseline.copy(), baseline)
    assert not got.contributions.any() and got.change == 0 and got.gap == 0
    assert got.relative_gap == 0 and got.steps == 2


def test_the_steps_in_chunks_give_the_map_of_one_batch(monkeypatch):
    parameters, x, baseline = small_network("l-layer")
    whole = explain(parameters, x, baseline, tolerance=0, max_steps=64)
    monkeypatch.setattr(explain_module, "CHUNK_BYTES", 8 * 48 * 5)  # 5 points a pass
    chunked = explain(parameters, x, baseline, tolerance=0, max_steps=64)
    np.testing.assert_allclose(chunked.contributions, whole.contributions, rtol=1e-12,
                               atol=1e-15)
    assert chunked.steps == whole.steps == 64


def test_the_mean_image_of_the_pixels_is_the_course_arrays_mean(features, pixel_features):
    """Summed as integers and divided once: the exact mean rounded once, which the mean of the
    float64 x / 255 (each rounded) matches to a few bits."""
    X = pixel_features["X_train"]
    got = mean_image(X)
    assert got.shape == (12288, 1)
    exact = X.rows.sum(axis=0, dtype=np.int64)[:, None] / (255 * X.shape[1])
    np.testing.assert_array_equal(got, exact)
    np.testing.assert_allclose(got, features["X_train"].mean(axis=1, keepdims=True),
                               rtol=1e-14, atol=0)
    with pytest.raises(ValueError, match="no columns"):
        mean_image(np.empty((4, 0)))


def test_the_colour_sum_puts_each_pixels_colours_at_its_place():
    images = np.random.default_rng(1).normal(size=(1, 5, 4, 3))  # one 5x4 image, not square
    contributions = flatten(images)  # (60, 1), as the training columns are raveled
    np.testing.assert_allclose(colour_sum(contributions, (5, 4, 3)), images[0].sum(axis=2),
                               rtol=1e-15)


def test_a_photo_and_a_baseline_of_other_shapes_are_refused():
    parameters = {"W1": np.ones((1, 4)), "b1": np.zeros((1, 1))}
    with pytest.raises(ValueError, match="one column each"):
        explain(parameters, np.ones((4, 1)), np.ones((4, 2)))


def test_a_cnns_map_sums_to_the_change_and_converges_to_the_high_step_integral():
    """A CNN's parameters (with their pools) take the CNN's forward pass and input gradient."""
    from pipeline.nn import cnn

    architecture = cnn.read_architecture("3x2 p2 2x3 p2")  # 8x8 RGB images
    model = cnn.with_pools(cnn.initialize_parameters_cnn(architecture, 192, seed=2), [2, 2])
    rng = np.random.default_rng(3)
    x, baseline = rng.uniform(0, 1, size=(2, 192, 1))
    got = explain(model, x, baseline)
    assert got.change == pytest.approx(float(cnn.scores(model, x)[0, 0]
                                             - cnn.scores(model, baseline)[0, 0]), abs=1e-12)
    assert got.relative_gap <= 0.01 and got.steps > 1
    alphas = (np.arange(4096) + 0.5) / 4096  # the midpoint rule on 4096 points, at once
    path = baseline + alphas[None, :] * (x - baseline)  # (192, 4096)
    reference = (x - baseline) * cnn.input_gradient(model, path).mean(axis=1, keepdims=True)
    scale = np.abs(reference).sum()
    errors = [np.abs(explain(model, x, baseline, tolerance=0, max_steps=k).contributions
                     - reference).sum() / scale for k in (4, 64, 1024)]
    assert errors[-1] < errors[0] / 10 and errors[-1] < 3e-3


# 8x8 RGB images: two blocks; one convolution alone; an even filter and a pool that leaves a
# row and a column out (8 = 2 * 3 + 2); three convolutions, the middle one without a pool
CNN_ARCHITECTURES = ["3x2 p2 2x3 p2", "3x2", "2x3 p3 3x2", "3x4 p2 2x3 3x2 p2"]


def small_cnn(text, seed=2):
    """A random CNN of the architecture text on 8x8 RGB images, x and x̄ in [0, 1]."""
    from pipeline.nn import cnn

    architecture = cnn.read_architecture(text)
    parameters = cnn.initialize_parameters_cnn(architecture, 192, seed=seed)
    for key in parameters:  # biases too, so that z1(x̄) carries b1 and x̄'s ReLUs differ
        if key[0] == "b":
            parameters[key] = np.random.default_rng(seed).normal(size=parameters[key].shape)
    model = cnn.with_pools(parameters, [pool for _, _, pool in architecture])
    x, baseline = np.random.default_rng(seed + 1).uniform(0, 1, size=(2, 192, 1))
    return model, x, baseline


@pytest.mark.parametrize("text", CNN_ARCHITECTURES)
def test_a_cnns_sum_from_its_first_layers_line_is_the_sum_point_by_point(text, monkeypatch):
    """z1 along the line from z1(x̄) and conv(x - x̄), W1.T once on the summed dz/dz1: the same
    sum as cnn.input_gradient at each point, in parts of any size."""
    model, x, baseline = small_cnn(text)
    alphas = np.concatenate([[0.0, 1.0], (np.arange(37) + 0.5) / 37])
    reference = gradient_sum(model, x, baseline, alphas)  # (192, 1), a point at a time
    scale = np.abs(reference).max()
    assert scale > 0
    for part_bytes in (1 << 30, 8 * 8 * 8 * 4 * 3):  # two parts, or parts of 3 points
        monkeypatch.setattr(explain_module, "CNN_PART_BYTES", part_bytes)
        got = line_gradient_sum(model, x, baseline)(alphas)
        assert got.shape == (192, 1)
        np.testing.assert_allclose(got, reference, rtol=0, atol=1e-13 * scale)
    assert not line_gradient_sum(model, x, baseline)(np.empty(0)).any()


@pytest.mark.parametrize("text", CNN_ARCHITECTURES)
def test_a_cnns_map_is_the_map_of_the_gradients_point_by_point(text, monkeypatch):
    """explain's map and steps for a CNN, against the same explain on cnn.input_gradient at each
    point of the line: equal to rounding, both at the tolerance and on 256 steps."""
    model, x, baseline = small_cnn(text, seed=5)
    for options in ({}, {"tolerance": 0, "max_steps": 256}):
        got = explain(model, x, baseline, **options)
        with monkeypatch.context() as patched:
            patched.setattr(explain_module, "line_gradient_sum",
                            lambda *arguments: functools.partial(gradient_sum, *arguments))
            reference = explain(model, x, baseline, **options)
        assert got.steps == reference.steps and (got.z, got.z_baseline) == (
            reference.z, reference.z_baseline)
        np.testing.assert_allclose(got.contributions, reference.contributions, rtol=0,
                                   atol=1e-12 * np.abs(reference.contributions).max())
        assert got.gap == pytest.approx(reference.gap, abs=1e-12 * abs(got.change))
