"""The report's mistakes figure: each wrong image beside its map from the mean training image,
the calibration's x̄ or else the training set's, and a figure bounded however many are wrong."""

import numpy as np
import pytest
from rendered import pixels

from pipeline.artifacts.params import load_params
from pipeline.columns import take
from pipeline.evaluation.explain import mean_image
from pipeline.page.run_figures import mislabeled_png
from pipeline.page.sections import Case
from pipeline.stages.report import mislabeled_cases, mistake_maps


def test_each_mistakes_map_sums_to_z_minus_z_of_the_mean_training_image(trained, pixel_features):
    params = load_params(trained[0])
    w, b = params["w"], float(params["b"])
    x_bar = mean_image(pixel_features["X_train"])  # what the calibration keeps, too
    Z = w.T @ take(pixel_features["X_test"], slice(None)) + b  # (1, 50)
    wrong = np.flatnonzero((Z[0] > 0) != (pixel_features["Y_test"][0] == 1))
    cases, _ = mislabeled_cases(Z, pixel_features, wrong, "test")
    maps = mistake_maps(params, pixel_features, cases, "test", x_bar)
    assert len(maps) == len(cases) == 15 and maps[0].shape == (64, 64)
    for (index, *_), values in zip(cases, maps, strict=True):
        x = take(pixel_features["X_test"], [index])
        assert values.sum() == pytest.approx(float((w.T @ (x - x_bar))[0, 0]), abs=1e-9)
        expected = (w * (x - x_bar)).reshape(64, 64, 3).sum(axis=2)
        assert np.allclose(values, expected, rtol=0, atol=1e-15)


def test_the_mistakes_figure_is_bounded_and_draws_every_map(tmp_path):
    rng = np.random.default_rng(0)
    classes = ["non-cat", "cat"]
    cases: list[Case] = [(j, rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), 1, 0, 0.2)
                         for j in range(40)]  # the report shows 40 at most (GALLERY_SIZE)
    maps = [rng.normal(size=(8, 8)) for _ in cases]
    (tmp_path / "many.png").write_bytes(mislabeled_png(cases, classes, "many", maps))
    image, size = pixels(tmp_path / "many.png")
    assert size == (1300, 110 + 215 * 14)  # 3 pairs a row
    rgb = image.astype(int)
    assert (rgb[..., 0] > rgb[..., 2] + 60).sum() > 40 * 100  # red and blue in every map
    assert (rgb[..., 2] > rgb[..., 0] + 60).sum() > 40 * 100
    (tmp_path / "none.png").write_bytes(mislabeled_png([], classes, "none", []))
    assert pixels(tmp_path / "none.png")[1] == (600, 310)  # the empty gallery's own figure
