#!/usr/bin/env python3
"""`make notebooks`: execute each notebook top to bottom in a fresh kernel of this venv, from
the notebook's own folder, and write it executed as HTML into reports/notebooks/.

The committed notebooks hold no outputs; the HTML is what a reader opens. A cell that fails
(an error, or an assert that holds a course number) is one line naming the notebook and the
cell, and exit code 1; the HTML of the notebooks that ran is still written.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import config  # noqa: E402
from pipeline.artifacts.files import write_text  # noqa: E402
from pipeline.page.assemble import refresh  # noqa: E402

OUT_DIR = config.REPORTS_DIR / "notebooks"
CELL_TIMEOUT = 600  # seconds a cell may take: a notebook's whole run takes under a minute


def failed_cell(notebook):
    """(number among the code cells, counted from 1, and the error) of the cell that failed."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return number, f"{output['ename']}: {output['evalue']}".strip().splitlines()[0]
    return None, "the kernel stopped"


def execute(path, out_dir=OUT_DIR):
    """Run one notebook; write its HTML into out_dir. Returns None, or the one-line error."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    notebook = nbformat.read(path, as_version=4)
    error = None
    # The kernel talks to us over Unix sockets in a private folder, not TCP: nothing listens on
    # a port, so ipykernel has no unencrypted TCP to warn about. The path is absolute, since the
    # kernel runs in the notebook's folder.
    with tempfile.TemporaryDirectory() as sockets:
        config = Config({"KernelManager": {"transport": "ipc",
                                           "ip": os.path.join(sockets, "kernel")}})
        client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}},
                                config=config)
        try:
            client.execute()
        except (CellExecutionError, DeadKernelError):
            number, reason = failed_cell(notebook)
            error = f"{path}, code cell {number}: {reason}"
    html, _ = HTMLExporter().from_notebook_node(notebook)
    write_text(out_dir / f"{path.stem}.html", html)
    return error


def main(paths):
    # the kernel is this venv's Python: put its bin first, for the kernel spec's "python"
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # and it runs in the notebook's folder: give it this run's home, for the same data/raw
    os.environ[config.HOME_ENV] = str(config.HOME_DIR)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    errors = []
    for path in map(Path, paths):
        start = time.perf_counter()
        error = execute(path)
        took = time.perf_counter() - start
        if error:
            errors.append(error)
            print(f"error: {error}", file=sys.stderr)
        else:
            print(f"{path}: ran in {took:.0f} s -> {OUT_DIR / (path.stem + '.html')}")
    refresh(OUT_DIR.parent)  # an existing page links them
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
