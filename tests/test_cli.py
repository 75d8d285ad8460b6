"""cli.run: a signal is one line or nothing, never a traceback."""

import signal
import subprocess
import sys

import pytest
from helpers import ROOT

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def test_a_signal_after_the_work_is_done_is_no_traceback():
    # Make's Ctrl-C can land while the interpreter shuts down, waiting for a thread (tqdm's
    # monitor): the outputs are whole by then, and the exit says nothing more.
    # The thread signals once the main thread has stopped: the interpreter's shutdown marks it
    # stopped, then waits for the threads left.
    script = (
        "import os, signal, sys, threading\n"
        "from pipeline.cli import run\n"
        "def late():\n"
        "    threading.main_thread().join()\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "def main(argv):\n"
        "    threading.Thread(target=late).start()  # not a daemon: the shutdown waits for it\n"
        "    print('done')\n"
        "sys.exit(run(main, process=True))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "done\n", "")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_that_a_library_turns_into_another_error_is_still_one_line(signum):
    # NumPy's C extension, interrupted while it imports, raises ImportError ("PyCapsule_Import
    # could not import module datetime"), not KeyboardInterrupt: found by an interrupted make.
    script = (
        "import os, sys\n"
        "from pipeline.cli import run\n"
        "def main(argv):\n"
        "    try:\n"
        f"        os.kill(os.getpid(), {int(signum)})  # runs the handler before it returns\n"
        "        raise AssertionError('os.kill returned: no KeyboardInterrupt')\n"
        "    except KeyboardInterrupt:\n"
        "        raise ImportError('could not import module \"datetime\"') from None\n"
        "sys.exit(run(main, process=True))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines() == [
        "interrupted: nothing was written; earlier results are as they were"]
