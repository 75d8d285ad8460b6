"""The report stage: figures drawn at their size from the run's numbers and images, a page that
links only what exists, and bad inputs that keep the old report; the mistakes figure's maps from
the mean training image; a CNN's report, its first convolution's filters drawn as images."""

import json
import shutil

import numpy as np
import pytest
from helpers import assert_one_line_error, cnn_report, run_cli
from rendered import C0, C1, GRAY, Page, colours, count, pixels

from pipeline.artifacts.params import load_params
from pipeline.columns import take
from pipeline.evaluation.explain import mean_image
from pipeline.page.run_figures import FIGURES, filter_colours, mislabeled_png
from pipeline.page.sections import Case
from pipeline.stages.report import mislabeled_cases, mistake_maps


@pytest.fixture(scope="module")
def report(trained, features_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    result = run_cli("report", "--params", trained[0], "--metrics", trained[1],
                     "--features", features_file, "--out-dir", out,
                     env={"DISPLAY": None, "MPLBACKEND": None})  # no display at all
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out / "index.html")
    return out


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_is_drawn_at_its_size_and_is_not_blank(report, name):
    # new_figure's sizes: 1200 x 450 for two panels, 1300 x 380 for a neuron's four weight
    # maps; the mistakes, each beside its map, are 100 + 400 px a pair (at least 700) and
    # 110 + 215 px a row, 3 pairs at most: the course's 15 test mistakes are 3 x 5, its 2
    # train mistakes 2 x 1
    sizes = {"learning_curve.png": (1200, 450), "evaluation.png": (1200, 450),
             "mislabeled.png": (1300, 1185), "mislabeled_train.png": (900, 325),
             "weights.png": (1300, 380)}
    image, size = pixels(report / name)
    assert size == sizes[name]
    height, width = image.shape[:2]
    for half in (image[:, : width // 2], image[:, width // 2:]):  # each panel drew something
        assert len(colours(half[height // 10: -height // 10])) > 50


def test_the_learning_curve_falls_and_both_accuracies_are_drawn(report):
    image, _ = pixels(report / "learning_curve.png")
    left, right = np.hsplit(image, 2)
    ys, xs = np.nonzero((left == C0).all(axis=-1))  # the cost curve and its markers
    assert len(xs) > 100
    start, end = ys[xs < xs.min() + 20].mean(), ys[xs > xs.max() - 20].mean()
    assert end - start > 100  # rows grow downwards: the cost ends far below where it began
    assert count(right, C0) > 100 and count(right, C1) > 100  # train and test


def test_the_evaluation_shows_both_splits_and_the_diagonal(report):
    image, _ = pixels(report / "evaluation.png")
    for panel in np.hsplit(image, 2):  # ROC, then reliability
        assert count(panel, C0) > 100 and count(panel, C1) > 100  # train, test
        assert count(panel, GRAY) > 30  # the dashed diagonal: guessing, or perfect calibration


@pytest.mark.parametrize("name, split", [("mislabeled.png", "test"),
                                         ("mislabeled_train.png", "train")])
def test_each_mislabeled_image_is_shown_pixel_for_pixel(report, trained, features, name,
                                                        split):
    # drawn with nearest-neighbour scaling, an image's own colours are in the figure
    shown = colours(pixels(report / name)[0])
    indices = json.loads(trained[1].read_text())[f"mislabeled_{split}"]
    assert len(indices) == {"test": 15, "train": 2}[split]
    X = features[f"X_{split}"]
    for i in indices:
        own = colours(np.rint(X[:, i] * 255).astype(np.uint8))
        assert len(own & shown) > 0.8 * len(own), i
    other = next(i for i in range(X.shape[1]) if i not in indices)  # a control: not drawn
    own = colours(np.rint(X[:, other] * 255).astype(np.uint8))
    assert len(own & shown) < 0.8 * len(own)


def test_the_weight_maps_are_red_and_blue_about_white(report):
    rgb = pixels(report / "weights.png")[0].astype(int)
    red = (rgb[..., 0] > rgb[..., 2] + 60).sum()  # RdBu_r: positive weights
    blue = (rgb[..., 2] > rgb[..., 0] + 60).sum()  # negative ones
    assert red > 2000 and blue > 2000


def test_index_links_only_files_that_exist_and_nothing_external(report):
    page = Page((report / "index.html").read_text())
    files = [link for link in page.links if not link.startswith("data:image/png;base64,")]
    assert set(FIGURES) <= set(files)
    for link in files:
        assert "//" not in link and (report / link).is_file(), link


def test_index_shows_both_accuracies_and_one_caption_per_mislabeled_image(report, trained):
    metrics = json.loads(trained[1].read_text())
    page = Page((report / "index.html").read_text())
    text = " ".join(page.text)
    assert f"{metrics['train_accuracy']} %" in text and f"{metrics['test_accuracy']} %" in text
    assert page.captions == {"mislabeled-test": len(metrics["mislabeled_test"]),
                             "mislabeled-train": len(metrics["mislabeled_train"]),
                             "duplicate-images": 1}
    assert str(metrics["mislabeled_test"][0]) in text


def test_index_says_what_the_numbers_mean(report):
    text = " ".join(" ".join(Page((report / "index.html").read_text()).text).split())
    assert "95% CI 55.4-82.1 %" in text and 'always cat: 66.0 %' in text
    assert ('The test accuracy is not significantly above the majority guess (always cat: 66.0 %; '
            'p = 0.33). '
            "With 50 test images, this neuron cannot be told apart from that guess.") in text
    assert "Test image 17 is pixel for pixel train image 146" in text
    assert "69.38775510204081 % (34 of 49)" in text
    for row in ("kappa", "ROC AUC", "log-loss", "precision (cat)", "recall (cat)", "F1"):
        assert row in text
    assert "test without duplicates" in text
    assert "make cv" in text  # not run yet: the page says how


def test_a_cross_validation_is_shown_once_it_exists(report, trained, features_file, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(report, out)
    result = run_cli("cv", "--features", features_file, "--out-dir", out / "cv", "--repeats",
                     "1", "--num-iterations", "200", "--learning-rates", "0.005", "--quiet")
    assert result.returncode == 0, result.stderr
    assert run_cli("report", "--params", trained[0], "--metrics", trained[1], "--features",
                   features_file, "--out-dir", out).returncode == 0
    page = Page((out / "index.html").read_text())
    text = " ".join(" ".join(page.text).split())
    assert "cv/cv.png" in page.links and (out / "cv" / "cv.png").is_file()
    assert 'No setting beats the majority guess (always non-cat' in text
    assert "5-fold cross-validation on the 209 training images;" in text


def test_a_comparison_is_linked_once_it_exists(report, trained, features_file, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(report, out)
    assert "make compare" in " ".join(Page((out / "index.html").read_text()).text)
    compared = run_cli("compare", "--features", features_file, "--out-dir", out / "compare",
                       "--learning-rates", "0.01", "--num-iterations", "1500", "--quiet")
    assert compared.returncode == 0, compared.stderr
    assert run_cli("report", "--params", trained[0], "--metrics", trained[1], "--features",
                   features_file, "--out-dir", out).returncode == 0
    page = Page((out / "index.html").read_text())
    assert "compare/learning_rates.png" in page.links and "68.00 %" in " ".join(page.text)


def corrupt(path):
    path.write_bytes(path.read_bytes()[:100])


@pytest.mark.parametrize("which, command", [("params", "make train"), ("metrics", "make train"),
                                            ("features", "make features")])
@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_bad_inputs_name_the_file_and_keep_the_old_report(report, trained, features_file,
                                                          tmp_path, which, command, damage):
    inputs = {"params": trained[0], "metrics": trained[1], "features": features_file}
    broken = tmp_path / inputs[which].name
    if damage == "corrupt":
        shutil.copy(inputs[which], broken)
        corrupt(broken)
    inputs[which] = broken
    out = tmp_path / "reports"
    shutil.copytree(report, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = run_cli("report", "--params", inputs["params"], "--metrics", inputs["metrics"],
                     "--features", inputs["features"], "--out-dir", out)
    assert_one_line_error(result, str(broken), command)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


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


@pytest.fixture(scope="module")
def cnn_run(features_file, tmp_path_factory):
    return cnn_report(tmp_path_factory, features_file)


def test_a_cnns_report_draws_every_figure_and_no_traceback(cnn_run):
    said = (cnn_run / "report.txt").read_text()
    assert "Traceback" not in said and said.strip() == str(cnn_run / "page" / "index.html")
    for name in FIGURES:
        image, _ = pixels(cnn_run / "page" / name)
        assert len(colours(image)) > 50, name
    # the mistakes each beside its map, red and blue pushes in them
    rgb = pixels(cnn_run / "page" / "mislabeled.png")[0].astype(int)
    assert (rgb[..., 0] > rgb[..., 2] + 60).sum() > 1000
    assert (rgb[..., 2] > rgb[..., 0] + 60).sum() > 1000
    text = " ".join(" ".join(Page((cnn_run / "page" / "index.html").read_text()).text).split())
    for said_on_page in ("Cat vs non-cat: a convolutional network", "(4x8 p8 2x16 p4: ",
                         "What the first convolution's filters look for",
                         "How far to trust one answer"):
        assert said_on_page in text


def test_a_cnns_filters_are_drawn_as_small_images_at_their_size(cnn_run):
    # 8 filters side by side, 125 px each; 4 rows: as colour, then red, green and blue weights
    image, size = pixels(cnn_run / "page" / "weights.png")
    assert size == (120 + 125 * 8, 110 + 125 * 4)
    rgb = image.astype(int)
    assert (rgb[..., 0] > rgb[..., 2] + 60).sum() > 2000  # positive weights, RdBu_r
    assert (rgb[..., 2] > rgb[..., 0] + 60).sum() > 2000  # negative ones
    colour_row = rgb[110:110 + 125]
    assert len(colours(colour_row.astype(np.uint8))) > 8 * 16  # each filter's 4x4 colours


def test_a_filters_colours_are_symmetric_about_grey():
    W = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 4.0]).reshape(1, 2, 3)
    assert filter_colours(W, 2.0).ravel().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
