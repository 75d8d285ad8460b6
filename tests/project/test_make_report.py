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


def wait_for(state, what, timeout=60, every=0.02):
    """Poll until state() holds, for at most timeout seconds: a bounded wait, not a race."""
    deadline = time.monotonic() + timeout
    while not state():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(every)


def handles_interrupts(group, stage):
    """A process of make's process group runs `-m pipeline STAGE` and has reached the point
    where it turns Ctrl-C and SIGTERM into one line (pipeline.cli.run): SIGTERM is caught."""
    table = subprocess.run(["ps", "-A", "-o", "pgid=,caught=,args="], capture_output=True,
                           text=True, check=True).stdout
    for row in table.splitlines():
        pgid, caught, *args = row.split(None, 2)
        if int(pgid) == group and f"-m pipeline {stage}" in " ".join(args):
            return bool(int(caught, 16) & 1 << (signal.SIGTERM - 1))
    return False


def staging(reports):
    """The report is writing its set into its temp folder (one file in it at least), to move the
    set into place next."""
    return any(True for _ in reports.glob(".staged.*/*"))


def interrupted_make_report(project, reached, sig, every):
    """`make report LR=0.004`, sent sig once reached(make's pid) holds (polled every `every`
    seconds), as a Ctrl-C reaches every process of the job; unless make ended first. Its stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    child = subprocess.Popen(["make", "--no-print-directory", "report", "LR=0.004"], cwd=project,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True,  # its own process group, pgid = its pid
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_for(lambda: reached(child.pid) or child.poll() is not None, "the point", every=every)
        if child.poll() is None:
            os.killpg(child.pid, sig)
        return child.communicate(timeout=60)[1]
    finally:
        child.kill()


def test_an_interrupted_make_report_leaves_the_previous_page_whole(project):
    reports = project / "reports"
    assert make(project, "report").returncode == 0
    old = page_set(reports)
    seen = []
    # Ctrl-C while train fits, SIGTERM while the report draws, Ctrl-C while it writes its set
    # (the last for some 40 ms: looked for more often, as ps costs more than a listing)
    points = ((lambda pid: handles_interrupts(pid, "train"), signal.SIGINT, 0.02),
              (lambda pid: handles_interrupts(pid, "report"), signal.SIGTERM, 0.02),
              (lambda pid: staging(reports), signal.SIGINT, 0.001))
    for reached, sig, every in points:
        stderr = interrupted_make_report(project, reached, sig, every)
        assert "Deleting file" not in stderr and "Traceback" not in stderr, stderr
        assert not list(reports.glob(".staged.*")), "a temp folder was left behind"
        seen.append(page_set(reports))
    assert make(project, "report", "LR=0.004").returncode == 0
    new = page_set(reports)
    assert new != old
    for state in seen:
        assert state in (old, new)  # the old set or the new one, never a mix
