"""The course's convolutional network (pipeline/nn/cnn.py): its architecture's text, its shapes,
its gradients against two-sided differences (gradient checking's 2e-7), the uint8 pixels equal
to the floats x / 255, the images in the columns' flatten order, and dz/dx for the maps."""

import numpy as np
import pytest

from pipeline import config
from pipeline.nn import cnn
from pipeline.nn.gradient_check import THRESHOLD

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

SMALL = "3x2 p2 2x3 p2"  # 8x8 images -> 8x8x2 -> 4x4x2 -> 4x4x3 -> 2x2x3 -> 1
N_X = 8 * 8 * 3


def small_problem(m=6, seed=0):
    """(parameters, pools, pixels (n_x, m) uint8, Y (1, m)) of the small CNN."""
    architecture = cnn.read_architecture(SMALL)
    parameters = cnn.initialize_parameters_cnn(architecture, N_X, seed=1)
    rng = np.random.RandomState(seed)
    pixels = rng.randint(0, 256, size=(m, N_X)).astype(np.uint8).T  # rows, as features hold
    Y = np.array([[1, 0, 1, 1, 0, 0, 1, 0][:m]], dtype=float)
    return parameters, [pool for _, _, pool in architecture], pixels, Y


def difference(parameters, grads, cost):
    """gradient checking's difference over every entry of every parameter."""
    approx, exact = [], []
    for key, value in parameters.items():
        for index in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in parameters.items()}
            minus = {k: v.copy() for k, v in parameters.items()}
            plus[key][index] += 1e-7
            minus[key][index] -= 1e-7
            approx.append((cost(plus) - cost(minus)) / 2e-7)
            exact.append(grads["d" + key][index])
    approx, exact = np.array(approx), np.array(exact)
    return np.linalg.norm(exact - approx) / (np.linalg.norm(exact) + np.linalg.norm(approx))


def test_the_course_architecture_reads_and_has_the_course_shapes():
    architecture = cnn.read_architecture(config.CNN_ARCHITECTURE)
    assert architecture == ((4, 8, 8), (2, 16, 4))
    assert cnn.architecture_text(architecture) == config.CNN_ARCHITECTURE
    assert cnn.layer_sizes(architecture, 12288) == (12288, 64 * 64 * 8, 8 * 8 * 8, 8 * 8 * 16,
                                                    2 * 2 * 16, 1)
    parameters = cnn.initialize_parameters_cnn(architecture, 12288, seed=1)
    assert {k: v.shape for k, v in parameters.items()} == {
        "W1": (4, 4, 3, 8), "b1": (1, 1, 1, 8), "W2": (2, 2, 8, 16), "b2": (1, 1, 1, 16),
        "W3": (1, 64), "b3": (1, 1)}
    assert np.std(parameters["W1"]) == pytest.approx(np.sqrt(2 / 48), rel=0.15)  # He's
    assert cnn.read_architecture(" 5x4   3x2 p2 ") == ((5, 4, 1), (3, 2, 2))


@pytest.mark.parametrize("text, message", [
    ("", "at least one convolution"),
    ("p8", "a max-pool follows a convolution"),
    ("4x8 p8 p4", "a max-pool follows a convolution"),
    ("4x0", "neither a convolution"),
    ("4*8", "neither a convolution"),
    ("4x8 q2", "neither a convolution"),
])
def test_an_unreadable_architecture_is_one_sentence(text, message):
    with pytest.raises(ValueError, match=message):
        cnn.read_architecture(text)


def test_a_pool_larger_than_its_images_and_an_image_that_is_not_square_rgb_are_refused():
    with pytest.raises(ValueError, match="p16 does not fit in the 8x8 images"):
        cnn.layer_sizes(cnn.read_architecture("3x2 p16"), N_X)
    with pytest.raises(ValueError, match="no square RGB image"):
        cnn.layer_sizes(cnn.read_architecture("3x2"), 100)


def test_the_images_are_the_columns_in_the_flatten_order():
    images = np.arange(5 * 8 * 8 * 3).reshape(5, 8, 8, 3)
    X = images.reshape(5, -1).T  # features.flatten: column j is image j raveled
    np.testing.assert_array_equal(cnn.images_of(X), images)


@pytest.mark.parametrize("f", [1, 2, 3, 4, 5])
def test_same_padding_keeps_the_image_size_for_odd_and_even_filters(f):
    padded = cnn.same_padded(np.ones((2, 8, 8, 3)), f)
    assert padded.shape[1] - f + 1 == 8 and padded.shape[2] - f + 1 == 8


@pytest.mark.parametrize("l2, keep_prob", [(0.0, 1.0), (0.7, 1.0), (0.0, 0.6)])
def test_gradients_match_two_sided_differences(l2, keep_prob):
    parameters, pools, pixels, Y = small_problem()
    X = pixels / 255.0

    def run(p):  # the same dropout masks on every pass: a fresh generator from one seed
        dropout = (keep_prob, np.random.RandomState(5)) if keep_prob < 1 else None
        return cnn.propagate(p, X, Y, l2, dropout, pools=pools)

    cost, grads, _ = run(parameters)
    assert difference(parameters, grads, lambda p: run(p)[0]) < THRESHOLD


def test_pixels_as_uint8_equal_the_floats_divided_by_255():
    parameters, pools, pixels, Y = small_problem(m=8)
    cost, grads, z = cnn.propagate(parameters, pixels, Y, 0.3, pixel_scale=255.0, pools=pools)
    cost_f, grads_f, z_f = cnn.propagate(parameters, pixels / 255.0, Y, 0.3, pools=pools)
    assert cost == pytest.approx(cost_f, rel=1e-12)
    np.testing.assert_allclose(z, z_f, rtol=1e-12, atol=1e-12 * np.abs(z_f).max())
    for key, value in grads_f.items():
        np.testing.assert_allclose(grads[key], value, rtol=1e-12,
                                   atol=1e-12 * np.abs(value).max())
    model = cnn.with_pools(parameters, pools)
    np.testing.assert_array_equal(cnn.scores(model, pixels, 255.0), z)  # the forward pass alone


def test_the_input_gradient_matches_differences_of_the_scores():
    parameters, pools, pixels, _ = small_problem(m=3)
    model = cnn.with_pools(parameters, pools)
    X = pixels / 255.0
    gradient = cnn.input_gradient(model, X)  # (n_x, 3)
    assert gradient.shape == X.shape
    for j in range(3):
        steps = np.eye(N_X) * 1e-6  # every input moved at once: one column each
        plus = cnn.scores(model, X[:, [j]] + steps)
        minus = cnn.scores(model, X[:, [j]] - steps)
        np.testing.assert_allclose(gradient[:, j], ((plus - minus) / 2e-6)[0], atol=1e-7)


def test_the_parameters_travel_with_their_pools_and_come_back():
    parameters, pools, _, _ = small_problem()
    weights, back = cnn.without_pools(cnn.with_pools(parameters, pools))
    assert back == pools and weights.keys() == parameters.keys()
