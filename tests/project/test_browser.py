"""The report page classifies photos itself, in a real browser: headless Chromium from Debian's
package, driven by Playwright (no browser download). Skipped, with the reason, where either is
missing; `make test` installs Chromium when it runs as root, as CI does.

The oracle is params.scores, for one neuron and for a week-4 network alike."""

import base64
import io
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli
from PIL import Image

from pipeline.artifacts.features import load_split
from pipeline.artifacts.params import load_params, network_parameters, scores
from pipeline.artifacts.photos import open_upright_rgb, photo_column
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
    """A week-4 l-layer network (12288 -> 20 -> 7 -> 5 -> 1), trained briefly, and its report:
    (its loaded params, the page's index.html)."""
    folder = tmp_path_factory.mktemp("network")
    params, metrics, out = folder / "params.npz", folder / "metrics.json", folder / "page"
    for args in (("train", "--model", "l-layer", "--num-iterations", "200", "--quiet",
                  "--features", features_file, "--out", params),
                 ("evaluate", "--features", features_file, "--params", params, "--out", metrics),
                 ("report", "--params", params, "--metrics", metrics, "--features", features_file,
                  "--out-dir", out)):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
    return load_params(params), out / "index.html"


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


def input_x_gradient(params, x):
    """The page's explanation of one column x (n_x, 1), per pixel (64, 64): the sum over channels
    of dz/dx * x, dz/dx brought back from the last layer through the ReLUs that were on."""
    weights = network_parameters(params)
    L = len(weights) // 2
    A, Z = x, []
    for layer in range(1, L):
        Z.append(weights[f"W{layer}"] @ A + weights[f"b{layer}"])
        A = np.maximum(0, Z[-1])
    g = weights[f"W{L}"]  # (1, n_{L-1})
    for layer in range(L - 1, 0, -1):
        g = (g * (Z[layer - 1].T > 0)) @ weights[f"W{layer}"]
    return (g[0] * x[:, 0]).reshape(64, 64, 3).sum(axis=2)


def heat_map_colors(contribution):
    """RGBA (64, 64, 4) as the page draws the map: red towards cat, blue away, white nothing."""
    t = contribution / np.abs(contribution).max()
    fade = 255 * (1 - np.abs(t))
    white = np.full_like(t, 255)
    red, blue = np.stack([white, fade, fade], -1), np.stack([fade, fade, white], -1)
    rgb = np.where((t >= 0)[..., None], red, blue)
    return np.concatenate([rgb, np.full((64, 64, 1), 255.0)], axis=2)


def figures(page, name):
    """The captions of a result's figures, and its heat map's pixels as RGBA (h, w, 4)."""
    box = page.locator(f'.photo-result[data-file="{name}"]')
    captions = box.locator("figcaption").all_inner_texts()
    pixels = box.locator("figure canvas").last.evaluate(
        "canvas => Array.from(canvas.getContext('2d')"
        ".getImageData(0, 0, canvas.width, canvas.height).data)")
    return captions, np.array(pixels, dtype=float).reshape(64, 64, 4)


def outside_requests(page):
    page.wait_for_load_state("networkidle")
    assert page.requests, "the recorder saw nothing at all"
    return [url for url in page.requests if not url.startswith(("file:", "data:", "blob:"))]


def test_64x64_pngs_get_exactly_pythons_predict_proba(page, tmp_path, test_images, model,
                                                      features):
    indices = [0, 1, 17, 29, 44]
    paths = []
    for j in indices:
        paths.append(tmp_path / f"test{j}.png")
        Image.fromarray(test_images[j]).save(paths[-1])
    choose(page, paths)
    expected = probabilities(model, features["X_test"][:, indices])
    for path, p_expected in zip(paths, expected, strict=True):
        p, label = browser_probability(page, path.name)
        assert p == pytest.approx(p_expected, abs=1e-9)
        assert label == ("cat" if p_expected > 0.5 else "non-cat")
    assert len(page.locator(".photo-result").first.get_attribute("data-probability")) >= 9
    captions, colors = figures(page, "test0.png")
    assert captions[1:] == ["what the neuron sees (64x64)", "w * x: red towards cat, blue away"]
    w_times_x = (model["w"][:, 0] * features["X_test"][:, 0]).reshape(64, 64, 3).sum(axis=2)
    assert np.abs(colors - heat_map_colors(w_times_x)).max() <= 1  # rounding


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


def test_a_screenshot_of_the_section_for_a_person(page, tmp_path, test_images):
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
    photo = section.locator('.photo-result[data-file="photo0.jpg"] img').bounding_box()
    origin = section.bounding_box()
    x, y = int(photo["x"] - origin["x"]), int(photo["y"] - origin["y"])
    shown = pixels[y:y + int(photo["height"]), x:x + int(photo["width"])]
    assert shown.std() > 10  # the photo is drawn in the shot, not a blank box


def test_the_network_page_gets_pythons_probability_and_explains_it(network_page, network,
                                                                    tmp_path, test_images,
                                                                    features):
    params = network[0]
    indices = [0, 1, 5, 17, 29, 44]
    paths = []
    for j in indices:
        paths.append(tmp_path / f"test{j}.png")
        Image.fromarray(test_images[j]).save(paths[-1])
    choose(network_page, paths)
    X = features["X_test"][:, indices]
    for path, p_expected in zip(paths, probabilities(params, X), strict=True):
        p, label = browser_probability(network_page, path.name)
        assert p == pytest.approx(p_expected, abs=1e-9)
        assert label == ("cat" if p_expected > 0.5 else "non-cat")
    for j in indices[:2]:
        captions, colors = figures(network_page, f"test{j}.png")
        assert captions[1:] == ["what the network sees (64x64)",
                                "input x gradient: red towards cat, blue away"]
        expected = heat_map_colors(input_x_gradient(params, features["X_test"][:, [j]]))
        assert np.abs(colors - expected).max() <= 1  # rounding
    assert outside_requests(network_page) == []


def test_the_network_page_is_one_file_under_4_mb_with_every_layer(network):
    params, report = network
    assert len(report.read_bytes()) < 4_000_000
    embedded = embedded_model(report)
    weights = network_parameters(params)
    assert [layer["shape"] for layer in embedded["layers"]] == \
        [[20, 12288], [7, 20], [5, 7], [1, 5]]
    for number, layer in enumerate(embedded["layers"], start=1):
        W, b = embedded_weights(layer)
        assert np.array_equal(W, weights[f"W{number}"])
        assert np.array_equal(b, weights[f"b{number}"][:, 0])


def test_a_screenshot_of_the_network_pages_section(network_page, tmp_path, test_images):
    Image.fromarray(test_images[0]).resize((256, 192)).save(tmp_path / "photo0.jpg")
    choose(network_page, [tmp_path / "photo0.jpg"])
    out = screenshot_path(tmp_path, "page-network.png")
    network_page.locator("#try-your-own-photos").screenshot(path=str(out))
    with Image.open(out) as shot:
        assert shot.width >= 600 and shot.height >= 300


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
    paths = []
    for j in (0, 5, 13):
        paths.append(tmp_path / f"test{j}.png")
        Image.fromarray(test_images[j]).save(paths[-1])
    terminal = run_cli("classify", *paths, "--params", params, "--json")
    assert terminal.returncode == 0, terminal.stderr
    lines = run_cli("classify", *paths, "--params", params)
    sentences = [line.strip() for line in lines.stdout.splitlines() if line.startswith("  ")]
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
