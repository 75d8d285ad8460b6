"""One page assembled from what each stage wrote: no redrawing, a removed or stale section
said so, the notebooks linked. Through make (no surprise reruns, an interrupt that leaves the
previous page whole): project/test_make.py."""

import shutil

import numpy as np
import pytest
from helpers import run_cli, write_pixel_features
from rendered import Page

from pipeline.page.run_figures import FIGURES


@pytest.fixture
def reports(trained, features_file, tmp_path):
    """A fresh report in tmp_path/reports, made by the report stage's command line."""
    out = tmp_path / "reports"
    result = run_cli("report", "--params", trained[0], "--metrics", trained[1],
                     "--features", features_file, "--out-dir", out)
    assert result.returncode == 0, result.stderr
    return out


def snapshot(folder):
    return {name: ((folder / name).read_bytes(), (folder / name).stat().st_mtime_ns)
            for name in FIGURES}


def test_cv_refreshes_the_page_without_redrawing_it(reports, features_file):
    figures = snapshot(reports)
    result = run_cli("cv", "--features", features_file, "--out-dir", reports / "cv",
                     "--repeats", "1", "--num-iterations", "200", "--learning-rates", "0.005",
                     "--quiet")
    assert result.returncode == 0, result.stderr
    assert snapshot(reports) == figures  # not one figure drawn again
    page = Page((reports / "index.html").read_text())
    assert "cv/cv.png" in page.links
    assert "5-fold cross-validation on the 209 training images" in " ".join(page.text)


def test_a_removed_section_leaves_the_page_and_a_stale_one_says_so(reports, features_file,
                                                                   features, tmp_path):
    assert run_cli("compare", "--features", features_file, "--out-dir", reports / "compare",
                   "--num-iterations", "100", "--quiet").returncode == 0
    assert "compare/learning_rates.png" in Page((reports / "index.html").read_text()).links
    shutil.rmtree(reports / "compare")
    assemble = run_cli("assemble", "--reports-dir", reports)
    assert assemble.returncode == 0, assemble.stderr
    page = Page((reports / "index.html").read_text())
    assert "compare/learning_rates.png" not in page.links
    assert "No comparison yet" in " ".join(page.text)
    # A comparison made on other data (another train file's sha256) is named as such, not shown.
    other = tmp_path / "other.npz"
    write_pixel_features(other, features, train_sha256=np.array("0" * 64))
    assert run_cli("compare", "--features", other, "--out-dir", reports / "compare",
                   "--num-iterations", "100", "--quiet").returncode == 0
    page = Page((reports / "index.html").read_text())
    text = " ".join(" ".join(page.text).split())
    assert "compare/learning_rates.png" not in page.links
    assert "This was made for other data" in text and "make compare" in text


def test_the_page_links_the_executed_notebooks_when_there_are_some(reports):
    from pipeline.page.assemble import assemble_into

    before = (reports / "index.html").read_bytes()
    assemble_into(reports, reports)
    assert (reports / "index.html").read_bytes() == before  # none: the page is as it was
    (reports / "notebooks").mkdir()
    (reports / "notebooks" / "01_one_neuron.html").write_text("<html></html>")
    assemble_into(reports, reports)
    page = Page((reports / "index.html").read_text())
    assert "notebooks/01_one_neuron.html" in page.links
