"""One page assembled from what each stage wrote: no import circle, no redrawing, no surprise
reruns, and an interrupt that leaves the previous page whole."""

import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
from conftest import make, recipes, run_cli, write_pixel_features
from test_report import Page

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
    assert "5-fold cross-validation repeated 1 times" in " ".join(page.text)


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


def test_make_report_never_reruns_cv_and_reassembles_when_a_section_goes(project):
    assert make(project, "report").returncode == 0
    assert make(project, "cv", "REPEATS=1", "ITERATIONS=200", "LRS=0.005").returncode == 0
    os.utime(project / "data" / "processed" / "features.npz")  # cv is now out of date
    planned = [line.split("-m pipeline ")[1].split()[0] for line in recipes(project, "report")]
    assert "cv" not in planned and "report" in planned
    assert make(project, "report").returncode == 0
    assert make(project, "-q", "report").returncode == 0  # a repeat does nothing
    shutil.rmtree(project / "reports" / "cv")
    assert [line.split("-m pipeline ")[1] for line in recipes(project, "report")] == ["assemble"]
    assert make(project, "report").returncode == 0
    assert "cv/cv.png" not in (project / "reports" / "index.html").read_text()


def page_set(folder):
    """index.html and every figure it names, as bytes."""
    names = ["index.html", "mislabeled.csv", *FIGURES]
    return {name: (folder / name).read_bytes() for name in names if (folder / name).exists()}


def test_an_interrupted_make_report_leaves_the_previous_page_whole(project):
    reports = project / "reports"
    assert make(project, "report").returncode == 0
    old = page_set(reports)
    seen = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    for delay, sig in ((1.5, signal.SIGINT), (3.5, signal.SIGTERM), (5.5, signal.SIGINT)):
        child = subprocess.Popen(["make", "--no-print-directory", "report", "LR=0.004"],
                                 cwd=project, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            time.sleep(delay)
            os.killpg(child.pid, sig)  # as a Ctrl-C reaches every process of the job
            _, stderr = child.communicate(timeout=60)
        finally:
            child.kill()
        assert "Deleting file" not in stderr and "Traceback" not in stderr, stderr
        assert not list(reports.glob(".staged.*")), "a temp folder was left behind"
        seen.append(page_set(reports))
    assert make(project, "report", "LR=0.004").returncode == 0
    new = page_set(reports)
    assert new != old
    for state in seen:
        assert state in (old, new)  # the old set or the new one, never a mix


def test_a_template_value_missing_is_named_not_asserted():
    from pipeline.page.sections import fill

    assert fill("<p>{{a}}</p>", {"a": "{{b}}"}) == "<p>{{b}}</p>"
    with pytest.raises(ValueError, match="no value for b, c"):
        fill("{{a}} {{c}} {{b}}", {"a": 1})
