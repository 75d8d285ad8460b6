"""make report through the page it assembles: no surprise reruns, and an interrupt that leaves
the previous page whole. A module of its own for a project copy of its own (conftest's project
is one a module): test_make.py's earlier targets would leave sections behind."""

import os
import shutil
import signal
import subprocess
import time

from helpers import make, recipes

from pipeline.page.run_figures import FIGURES


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
