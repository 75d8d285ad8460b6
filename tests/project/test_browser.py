"""The report page classifies photos itself, in a real browser: headless Chromium from Debian's
package, driven by Playwright (no browser download). Skipped, with the reason, where either is
missing; `make test` installs Chromium when it runs as root, as CI does.

The oracle is params.scores for p, evaluation.explain for the map beside each photo (from the
mean training image that the calibration embeds), and classify --json for the calibrated p, for
one neuron, a week-4 network and the course's convolutional network alike."""

import base64
import io
import json
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from helpers import cnn_report, run_cli
from PIL import Image

from pipeline.artifacts.calibration_file import load_calibration
from pipeline.artifacts.features import load_split
from pipeline.artifacts.params import load_params, network_parameters, scores
from pipeline.artifacts.photos import open_upright_rgb, photo_column
from pipeline.evaluation.explain import colour_sum, explain
from pipeline.nn.logistic import sigmoid

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="Playwright for Python is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no chromium on PATH: `apt-get install "
                                "chromium` (make test does it when run as root)")

# As the machine notes advise: no background traffic on a closed network, no sandbox as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def saved(images, indices, folder):
    """The course's test images of these indices as PNG files in folder: their paths."""
    paths = [folder / f"test{j}.png" for j in indices]
    for j, path in zip(indices, paths, strict=True):
        Image.fromarray(images[j]).save(path)
    return paths


@pytest.fixture(scope="module")
def report(trained, features_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("page")
    result = run_cli("report", "--params", trained[0], "--metrics", trained[1],
                     "--features", features_file, "--out-dir", out)
    assert result.returncode == 0, result.stderr
    return out / "index.html"


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def network(features_file, tmp_path_factory):
    """The course's week-4 l-layer run (12288 -> 20 -> 7 -> 5 -> 1, 2500 iterations: a second
    in the Gram engine), its calibration and its report: (its loaded params, the page's
    index.html, params.npz)."""
    folder = tmp_path_factory.mktemp("network")
    params, metrics, out = folder / "params.npz", folder / "metrics.json", folder / "page"
    for args in (("train", "--model", "l-layer", "--quiet", "--features", features_file,
                  "--out", params, "--runs-dir", folder / "runs"),
                 ("calibrate", "--params", params, "--features", features_file, "--quiet",
                  "--runs-dir", folder / "runs"),
                 ("evaluate", "--features", features_file, "--params", params, "--out", metrics),
                 ("report", "--params", params, "--metrics", metrics, "--features", features_file,
                  "--out-dir", out)):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
    return load_params(params), out / "index.html", params


@contextmanager
def opened(browser, report):
    """The report opened from file://, with every request it makes and every dialog recorded."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.requests, tab.dialogs = [], []
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.goto(report.as_uri())
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(browser, report):
    with opened(browser, report) as tab:
        yield tab


@pytest.fixture
def network_page(browser, network):
    with opened(browser, network[1]) as tab:
        yield tab


@pytest.fixture(scope="module")
def model(trained):
    return load_params(trained[0])


@pytest.fixture(scope="module")
def test_images(raw_files):
    images, labels, _ = load_split(raw_files[1], "test")
    return images


def screenshot_path(tmp_path, name):
    """Where a screenshot goes: tmp_path, or CATVNONCAT_SCREENSHOTS=folder to keep it and look."""
    folder = Path(os.environ.get("CATVNONCAT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def choose(page, paths):
    """Give the page's file input these files; wait until each has its result or error."""
    boxes = page.locator(".photo-result, .photo-error")
    before = boxes.count()
    page.set_input_files("#photo-input", [str(p) for p in paths])
    boxes.nth(before + len(paths) - 1).wait_for()  # a locator: the page's CSP forbids eval


def browser_probability(page, name):
    box = page.locator(f'.photo-result[data-file="{name}"]')
    assert box.count() == 1, f"no single result for {name}"
    return float(box.get_attribute("data-probability")), box.get_attribute("data-label")


def probabilities(params, X):
    """p(cat) for each column of X (n_x, m), as every stage computes it: (m,)."""
    return sigmoid(scores(params, X))[0]


def python_probability(path, params):
    """What scripts/classify.py answers for the photo: the same functions, default crop fit."""
    pixels, x = photo_column(open_upright_rgb(path, 64), (64, 64, 3), "crop")
    return float(sigmoid(scores(params, x))[0, 0])


def heat_map_colors(contribution):
    """RGBA (64, 64, 4) as the page draws the map: red towards cat, blue away, white nothing."""
    t = contribution / np.abs(contribution).max()
    fade = 255 * (1 - np.abs(t))
    white = np.full_like(t, 255)
    red, blue = np.stack([white, fade, fade], -1), np.stack([fade, fade, white], -1)
    rgb = np.where((t >= 0)[..., None], red, blue)
    return np.concatenate([rgb, np.full((64, 64, 1), 255.0)], axis=2)


def figures(page, name):
    """The captions of a result's figures, and its map's pixels as RGBA (h, w, 4)."""
    box = page.locator(f'.photo-result[data-file="{name}"]')
    captions = box.locator("figcaption").all_inner_texts()
    pixels = box.locator("canvas[data-map]").evaluate(
        "canvas => Array.from(canvas.getContext('2d')"
        ".getImageData(0, 0, canvas.width, canvas.height).data)")
    return captions, np.array(pixels, dtype=float).reshape(64, 64, 4)


def page_map(page, name):
    """The map the page drew for a result, (64, 64), exactly (its float64 bytes), and the
    result's numbers: z, z(x̄), the map's sum, the steps and the gap."""
    box = page.locator(f'.photo-result[data-file="{name}"]')
    values = np.frombuffer(base64.b64decode(box.locator("canvas[data-map]").get_attribute(
        "data-map")), dtype="<f8").reshape(64, 64)
    numbers = {key: float(box.get_attribute(f"data-{key}"))
               for key in ("z", "z-baseline", "map-sum", "steps", "gap")}
    return values, numbers


def assert_the_maps_are_explains(page, paths, columns, params, baseline):
    """Each photo's map on the page is explain's with the page's step count, to 1e-9 in every
    pixel (colour-summed), drawn in its colours; the page stopped where explain stops; the map
    sums to z - z(x̄) up to the gap it shows. Returns the largest difference."""
    weights, largest = network_parameters(params), 0.0
    for path, x in zip(paths, columns.T, strict=True):
        values, numbers = page_map(page, path.name)
        steps = int(numbers["steps"])
        assert steps == explain(weights, x[:, None], baseline).steps
        expected = explain(weights, x[:, None], baseline, tolerance=0, max_steps=steps)
        python_map = colour_sum(expected.contributions, (64, 64, 3))
        largest = max(largest, float(np.abs(values - python_map).max()))
        assert np.abs(values - python_map).max() <= 1e-9, path.name
        assert numbers["z"] == pytest.approx(expected.z, abs=1e-9)
        assert numbers["z-baseline"] == pytest.approx(expected.z_baseline, abs=1e-9)
        assert numbers["gap"] == pytest.approx(expected.gap, abs=1e-9)
        assert abs(numbers["map-sum"] - (numbers["z"] - numbers["z-baseline"])) == \
            pytest.approx(numbers["gap"], abs=1e-9)
        assert np.abs(figures(page, path.name)[1] - heat_map_colors(python_map)).max() <= 1
    return largest


def outside_requests(page):
    page.wait_for_load_state("networkidle")
    assert page.requests, "the recorder saw nothing at all"
    return [url for url in page.requests if not url.startswith(("file:", "data:", "blob:"))]


def test_64x64_pngs_get_exactly_pythons_predict_proba(page, tmp_path, test_images, model,
                                                      features):
    indices = [0, 1, 17, 29, 44]
    paths = saved(test_images, indices, tmp_path)
    choose(page, paths)
    expected = probabilities(model, features["X_test"][:, indices])
    for path, p_expected in zip(paths, expected, strict=True):
        p, label = browser_probability(page, path.name)
        assert p == pytest.approx(p_expected, abs=1e-9)
        assert label == ("cat" if p_expected > 0.5 else "non-cat")
    assert len(page.locator(".photo-result").first.get_attribute("data-probability")) >= 9
    # without a calibration there is no mean image, so no map: the box says how to get one
    box = page.locator('.photo-result[data-file="test0.png"]')
    assert box.locator("figcaption").all_inner_texts() == ["your photo",
                                                          "what the neuron sees (64x64)"]
    assert box.locator("canvas[data-map]").count() == 0
    assert "make calibrate" in box.locator(".map-sum").inner_text()


def exif_orientation_6(image):
    """The photo stored turned a quarter, with EXIF orientation 6 saying how to turn it back."""
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = image.transpose(Image.Transpose.ROTATE_90)
    buffer = io.BytesIO()
    stored.save(buffer, format="PNG", exif=exif.tobytes())
    return buffer.getvalue()


def test_an_exif_rotated_photo_gets_the_upright_ones_probability(page, tmp_path, test_images,
                                                                  model):
    # 64 wide, 96 tall: the center crop is rows 16..79, so no resampling anywhere
    upright = np.vstack([test_images[3][:16], test_images[5], test_images[7][:16]])
    Image.fromarray(upright).save(tmp_path / "upright.png")
    (tmp_path / "rotated.png").write_bytes(exif_orientation_6(Image.fromarray(upright)))
    assert np.array_equal(np.asarray(open_upright_rgb(tmp_path / "rotated.png", 64)), upright)
    choose(page, [tmp_path / "upright.png", tmp_path / "rotated.png"])
    p_upright, _ = browser_probability(page, "upright.png")
    p_rotated, _ = browser_probability(page, "rotated.png")
    assert p_rotated == pytest.approx(p_upright, abs=1e-9)
    assert p_upright == pytest.approx(python_probability(tmp_path / "upright.png", model),
                                      abs=1e-9)


def test_a_file_the_browser_cannot_decode_is_one_error_and_the_rest_still_work(page, tmp_path,
                                                                              test_images):
    (tmp_path / "notes.jpg").write_text("not a photo at all\n")
    Image.fromarray(test_images[2]).save(tmp_path / "good.png")
    choose(page, [tmp_path / "notes.jpg", tmp_path / "good.png"])
    error = page.locator('.photo-error[data-file="notes.jpg"]')
    assert error.count() == 1 and "cannot read this file as an image" in error.inner_text()
    assert page.locator(".photo-error").count() == 1
    assert 0 <= browser_probability(page, "good.png")[0] <= 1


def test_a_hostile_file_name_is_text_and_runs_nothing(page, tmp_path, test_images):
    name = "<img src=x onerror=alert(1)>.png"
    Image.fromarray(test_images[4]).save(tmp_path / name)
    images_before = page.locator("img").count()
    choose(page, [tmp_path / name])
    page.wait_for_timeout(300)  # time for an injected onerror to fire, if there were one
    box = page.locator(".photo-result").first
    assert box.get_attribute("data-file") == name
    assert name in box.inner_text()
    assert box.locator("img").count() == 1  # the photo itself, nothing injected
    assert page.locator("img").count() == images_before + 1
    assert page.dialogs == []


def test_dropping_photos_uses_the_same_path(page, tmp_path, test_images, model, features):
    buffer = io.BytesIO()
    Image.fromarray(test_images[9]).save(buffer, format="PNG")
    transfer = page.evaluate_handle(
        """bytes => { const transfer = new DataTransfer();
                      transfer.items.add(new File([new Uint8Array(bytes)], 'dropped.png',
                                                  {type: 'image/png'}));
                      return transfer; }""", list(buffer.getvalue()))
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    page.wait_for_selector('.photo-result[data-file="dropped.png"]')
    expected = probabilities(model, features["X_test"][:, [9]])[0]
    assert browser_probability(page, "dropped.png")[0] == pytest.approx(expected, abs=1e-9)


def test_ordinary_photos_stay_within_a_few_hundredths_of_pillows_answer(page, tmp_path,
                                                                       test_images, model):
    paths = []
    for j, size in [(0, (400, 300)), (6, (300, 400)), (11, (640, 480)), (20, (256, 256)),
                    (33, (1024, 768))]:
        paths.append(tmp_path / f"photo{j}.jpg")
        Image.fromarray(test_images[j]).resize(size, Image.Resampling.BICUBIC).save(
            paths[-1], quality=92)
    choose(page, paths)
    for path in paths:
        gap = abs(browser_probability(page, path.name)[0] - python_probability(path, model))
        assert gap < 0.05, f"{path.name}: browser and Pillow differ by {gap:.3f}"


def test_no_request_leaves_the_page(page, tmp_path, test_images):
    Image.fromarray(test_images[1]).save(tmp_path / "one.png")
    choose(page, [tmp_path / "one.png"])
    assert outside_requests(page) == []


def embedded_model(report):
    text = report.read_text()
    assert '<script src' not in text and "http://" not in text and "https://" not in text
    start = text.index('<script type="application/json" id="model">') + 43
    return json.loads(text[start:text.index("</script>", start)])


def embedded_weights(layer):
    W = np.frombuffer(base64.b64decode(layer["W_base64"]), dtype="<f8")
    return W.reshape(layer["shape"]), np.array(layer["b"])


def test_the_page_is_one_small_file_that_embeds_the_model(report, model):
    assert len(report.read_bytes()) < 1_000_000
    embedded = embedded_model(report)
    assert embedded["classes"] == ["non-cat", "cat"] and embedded["threshold"] == 0.5
    [layer] = embedded["layers"]  # one neuron: one layer, W = w.T
    W, b = embedded_weights(layer)
    assert layer["shape"] == [1, 12288] and np.array_equal(W, model["w"].T)
    assert b.tolist() == [float(model["b"])]


def shown(pixels, shot_of, element):
    """The pixels (h, w, 3) of a screenshot of locator shot_of where element is drawn."""
    inner, origin = element.bounding_box(), shot_of.bounding_box()
    x, y = int(inner["x"] - origin["x"]), int(inner["y"] - origin["y"])
    return pixels[y:y + int(inner["height"]), x:x + int(inner["width"])]


def test_a_screenshot_of_the_section_for_a_person(calibrated_page, tmp_path, test_images):
    page = calibrated_page
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 nope")
    for j in (0, 13):
        Image.fromarray(test_images[j]).resize((256, 192)).save(tmp_path / f"photo{j}.jpg")
    choose(page, [tmp_path / "photo0.jpg", tmp_path / "photo13.jpg", tmp_path / "broken.jpg"])
    out = screenshot_path(tmp_path, "try-your-own-photos.png")
    section = page.locator("#try-your-own-photos")
    section.screenshot(path=str(out))
    assert page.locator(".photo-result").count() == 2 and page.locator(".photo-error").count() == 1
    with Image.open(out) as shot:
        assert shot.width >= 600 and shot.height >= 400
        pixels = np.asarray(shot.convert("RGB"), dtype=float)
    box = section.locator('.photo-result[data-file="photo0.jpg"]')
    for drawn in (box.locator("img"), box.locator("canvas[data-map]")):
        assert shown(pixels, section, drawn).std() > 10  # drawn in the shot, not a blank box


def assert_the_boxes_are_the_terminals(page, paths, X, params, params_path):
    """Each photo's box on the page holds what `classify --json` prints for it, within 1e-9: p
    (also against params' own scores of X, the photos' columns), its label, the calibrated p,
    the map's steps, sum and z(x̄); and each map is explain's, pixel for pixel."""
    terminal = run_cli("classify", *paths, "--params", params_path, "--json")
    assert terminal.returncode == 0, terminal.stderr
    for path, p_expected, answer in zip(paths, probabilities(params, X),
                                        json.loads(terminal.stdout), strict=True):
        p, label = browser_probability(page, path.name)
        assert p == pytest.approx(answer["probability"], abs=1e-9)
        assert p == pytest.approx(p_expected, abs=1e-9) and label == answer["label"]
        box = page.locator(f'.photo-result[data-file="{path.name}"]')
        assert float(box.get_attribute("data-calibrated")) == pytest.approx(
            answer["calibrated_probability"], abs=1e-9)
        numbers = page_map(page, path.name)[1]
        assert (numbers["steps"], numbers["map-sum"], numbers["z-baseline"]) == (
            answer["map_steps"], pytest.approx(answer["map_sum"], abs=1e-9),
            pytest.approx(answer["z_mean_image"], abs=1e-9))
    baseline = load_calibration(params_path.with_name("calibration.npz"))["mean_input"]
    assert_the_maps_are_explains(page, paths, X, params, baseline)


def test_the_network_page_gets_pythons_probability_calibration_and_map(
        network_page, network, tmp_path, test_images, features):
    params, _, params_path = network
    indices = [0, 1, 5, 17, 27, 44]  # 27: integrated gradients take the most steps, 1024
    paths = saved(test_images, indices, tmp_path)
    choose(network_page, paths)
    assert_the_boxes_are_the_terminals(network_page, paths, features["X_test"][:, indices],
                                       params, params_path)
    assert page_map(network_page, "test27.png")[1]["steps"] == 1024
    box = network_page.locator('.photo-result[data-file="test0.png"]')
    assert box.locator("figcaption").all_inner_texts()[1:] == [
        "what the network sees (64x64)", "integrated gradients from x̄: red towards cat, blue away"]
    assert "steps of integrated gradients leave a gap of" in box.locator(".map-sum").inner_text()
    assert outside_requests(network_page) == []


def test_the_network_page_is_one_file_under_4_mb_with_every_layer(network):
    params, report, _ = network
    assert len(report.read_bytes()) < 4_000_000
    embedded = embedded_model(report)
    weights = network_parameters(params)
    assert [layer["shape"] for layer in embedded["layers"]] == \
        [[20, 12288], [7, 20], [5, 7], [1, 5]]
    for number, layer in enumerate(embedded["layers"], start=1):
        W, b = embedded_weights(layer)
        assert np.array_equal(W, weights[f"W{number}"])
        assert np.array_equal(b, weights[f"b{number}"][:, 0])


def test_a_screenshot_of_the_network_pages_box_with_its_map(network_page, tmp_path,
                                                            test_images):
    Image.fromarray(test_images[0]).resize((256, 192)).save(tmp_path / "photo0.jpg")
    choose(network_page, [tmp_path / "photo0.jpg"])
    out = screenshot_path(tmp_path, "page-network.png")
    box = network_page.locator('.photo-result[data-file="photo0.jpg"]')
    box.screenshot(path=str(out))
    with Image.open(out) as shot:
        assert shot.width >= 500 and shot.height >= 200
        pixels = np.asarray(shot.convert("RGB"), dtype=float)
    map_shown = shown(pixels, box, box.locator("canvas[data-map]"))
    assert map_shown.std() > 10  # the map is drawn in the shot, not a blank box
    red, blue = map_shown[..., 0] - map_shown[..., 2], map_shown[..., 2] - map_shown[..., 0]
    assert (red > 60).any() and (blue > 60).any()  # pushes both ways


@pytest.fixture(scope="module")
def calibrated_report(trained, features_file, tmp_path_factory):
    """The course neuron's report with its calibration beside its params: (params, index.html)."""
    folder = tmp_path_factory.mktemp("calibrated_page")
    params = folder / "params.npz"
    params.write_bytes(trained[0].read_bytes())
    for args in (("calibrate", "--params", params, "--features", features_file, "--runs-dir",
                  folder / "runs"),
                 ("report", "--params", params, "--metrics", trained[1], "--features",
                  features_file, "--out-dir", folder / "page")):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
    return params, folder / "page" / "index.html"


def test_the_photo_box_shows_the_terminals_calibrated_p_and_sentence(
        browser, calibrated_report, tmp_path, test_images):
    params, index = calibrated_report
    paths = saved(test_images, (0, 5, 13), tmp_path)
    terminal = run_cli("classify", *paths, "--params", params, "--json")
    assert terminal.returncode == 0, terminal.stderr
    out = run_cli("classify", *paths, "--params", params).stdout
    answers = re.split(r"\n(?=\S)", out.strip())[:-1]  # each photo's lines; then "trust: ..."
    sentences = [" ".join(re.split(r"\n(?=  \S)", a)[1].split()) for a in answers]
    with opened(browser, index) as page:
        choose(page, paths)
        for path, answer, sentence in zip(paths, json.loads(terminal.stdout), sentences,
                                          strict=True):
            box = page.locator(f'.photo-result[data-file="{path.name}"]')
            assert float(box.get_attribute("data-calibrated")) == pytest.approx(
                answer["calibrated_probability"], abs=1e-12)
            assert float(box.get_attribute("data-probability")) == pytest.approx(
                answer["probability"], abs=1e-12)
            assert box.locator(".sentence").inner_text() == sentence
            assert f"{answer['calibrated_probability']:.3f} calibrated" in box.inner_text()


@pytest.fixture
def calibrated_page(browser, calibrated_report):
    with opened(browser, calibrated_report[1]) as tab:
        yield tab


def test_the_neuron_pages_map_is_explains_exact_one(calibrated_page, calibrated_report, tmp_path,
                                                    test_images, features, model):
    indices = [0, 1, 5, 13, 29, 44]
    paths = saved(test_images, indices, tmp_path)
    choose(calibrated_page, paths)
    X = features["X_test"][:, indices]
    baseline = load_calibration(calibrated_report[0].with_name("calibration.npz"))["mean_input"]
    assert_the_maps_are_explains(calibrated_page, paths, X, model, baseline)
    for path, x in zip(paths, X.T, strict=True):
        values, numbers = page_map(calibrated_page, path.name)
        assert numbers["steps"] == 2  # one neuron: the first two step counts agree
        exact = (model["w"][:, 0] * (x - baseline[:, 0])).reshape(64, 64, 3).sum(axis=2)
        assert np.abs(values - exact).max() <= 1e-12  # w (x - x̄), whatever the steps
        assert numbers["map-sum"] == pytest.approx(numbers["z"] - numbers["z-baseline"],
                                                   abs=1e-9)
    box = calibrated_page.locator('.photo-result[data-file="test0.png"]')
    assert box.locator("figcaption").all_inner_texts()[2] == \
        "w (x - x̄): red towards cat, blue away"
    assert box.locator(".map-sum").inner_text().endswith(": exact, w (x - x̄).")


@pytest.fixture(scope="module")
def cnn(features_file, tmp_path_factory):
    """The CNN's run and report: (its loaded params, the page's index.html, params.npz)."""
    folder = cnn_report(tmp_path_factory, features_file)
    return load_params(folder / "params.npz"), folder / "page" / "index.html", \
        folder / "params.npz"


@pytest.fixture
def cnn_page(browser, cnn):
    with opened(browser, cnn[1]) as tab:
        yield tab


def drop(page, paths):
    """Drop these files on the page's drop zone at once; wait until each has its result."""
    transfer = page.evaluate_handle(
        """files => { const transfer = new DataTransfer();
                      for (const [name, bytes] of files) {
                        transfer.items.add(new File([new Uint8Array(bytes)], name,
                                                    {type: 'image/png'}));
                      }
                      return transfer; }""",
        [[path.name, list(path.read_bytes())] for path in paths])
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    for path in paths:
        page.wait_for_selector(f'.photo-result[data-file="{path.name}"]')


def test_the_cnn_page_gets_pythons_probability_calibration_and_map(cnn_page, cnn, tmp_path,
                                                                  test_images, features):
    params, _, params_path = cnn
    indices = [0, 1, 5, 17, 27, 44]
    paths = saved(test_images, indices, tmp_path)
    drop(cnn_page, paths)
    assert_the_boxes_are_the_terminals(cnn_page, paths, features["X_test"][:, indices], params,
                                       params_path)
    assert outside_requests(cnn_page) == []


def test_the_cnn_page_embeds_each_convolution_its_padding_and_pool(cnn):
    params, report, _ = cnn
    embedded = embedded_model(report)
    weights = network_parameters(params)
    assert [(layer["kind"], layer["shape"], layer.get("pad"), layer.get("pool"))
            for layer in embedded["layers"]] == [("conv", [4, 4, 3, 8], [1, 2], 8),
                                                 ("conv", [2, 2, 8, 16], [0, 1], 4),
                                                 ("dense", [1, 64], None, None)]
    for number, layer in enumerate(embedded["layers"], start=1):
        W, b = embedded_weights(layer)
        assert np.array_equal(W, weights[f"W{number}"])
        assert np.array_equal(b, weights[f"b{number}"].ravel())


def test_a_screenshot_of_the_cnn_pages_box_with_its_map(cnn_page, tmp_path, test_images):
    Image.fromarray(test_images[0]).resize((256, 192)).save(tmp_path / "photo0.jpg")
    choose(cnn_page, [tmp_path / "photo0.jpg"])
    out = screenshot_path(tmp_path, "page-cnn.png")
    box = cnn_page.locator('.photo-result[data-file="photo0.jpg"]')
    box.screenshot(path=str(out))
    with Image.open(out) as shot:
        pixels = np.asarray(shot.convert("RGB"), dtype=float)
    map_shown = shown(pixels, box, box.locator("canvas[data-map]"))
    # drawn, not blank: a CNN's map is sparse (each max-pool passes its gradient to one entry
    # of its window), so most of it is white, as its largest push sets the scale
    red, blue = map_shown[..., 0] - map_shown[..., 2], map_shown[..., 2] - map_shown[..., 0]
    assert (map_shown.min(axis=2) < 235).sum() > 300 and (red > 30).any() and (blue > 30).any()
    assert "steps of integrated gradients leave a gap of" in box.locator(".map-sum").inner_text()
