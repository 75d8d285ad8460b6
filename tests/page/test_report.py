"""The report a person looks at: figures of a sensible size, a page that links only what exists."""

import json
import shutil
from html.parser import HTMLParser

import pytest
from conftest import assert_one_line_error, run_cli
from PIL import Image

from pipeline.page.run_figures import FIGURES


class Page(HTMLParser):
    """What the test needs of index.html: links, images, captions per gallery, the text."""

    def __init__(self, text):
        super().__init__()
        self.links, self.captions, self.text, self._gallery = [], {}, [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and "gallery" in attrs.get("class", ""):
            self._gallery = attrs["id"]
            self.captions[self._gallery] = 0
        if tag == "figcaption" and self._gallery:
            self.captions[self._gallery] += 1
        link = attrs.get("src") or attrs.get("href")
        if tag in ("img", "a", "link", "script") and link is not None:  # not an inline script
            self.links.append(link)

    def handle_endtag(self, tag):
        if tag == "div":
            self._gallery = None

    def handle_data(self, data):
        self.text.append(data)


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
def test_each_figure_is_a_png_a_person_can_read(report, name):
    with Image.open(report / name) as image:
        assert image.format == "PNG"
        assert 600 <= image.width <= 2000 and 250 <= image.height <= 2000


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
    assert "99.04306220095694 %" in text and "70.0 %" in text
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
    assert "5-fold cross-validation repeated 1 times on the 209 training images" in text


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
