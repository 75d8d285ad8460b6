"""Sphinx configuration of the documentation site: `make docs` builds it into site/ with
warnings as errors (sphinx-build -W), so a broken link or a missing page fails the build."""

import os
import sys
import tempfile
from pathlib import Path

from jupyter_cache.executors import utils as notebook_cache  # not "jupyter_cache": a setting
from nbclient import execute
from traitlets.config import Config

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]  # this checkout's pipeline, and the extension
# The run's home (data/ and reports/) is fixed here: CATVNONCAT_HOME where set, else this
# checkout, as Sphinx reads this file from docs/. The notebooks' kernels find the same home.
from pipeline import config  # noqa: E402, F401

# The notebooks run as scripts/run_notebooks.py runs them: a kernel on this venv's Python,
# importing this checkout's pipeline, reading the data of this run's home (data/raw).
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def execute_over_ipc(notebook, cwd=None, **options):
    """nbclient's execute with the kernel on Unix sockets in a private folder, as
    scripts/run_notebooks.py runs it: no TCP, so ipykernel has no unencrypted TCP to warn about."""
    with tempfile.TemporaryDirectory() as sockets:
        ipc = Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "kernel")}})
        return execute(notebook, cwd=cwd, config=ipc, **options)


# myst-nb runs each notebook through jupyter-cache's single_nb_execution, which calls this name
# and takes no kernel options of its own.
notebook_cache.executenb = execute_over_ipc

project = "catvnoncat"
author = "the catvnoncat authors"
copyright = f"2026, {author}"  # noqa: A001 (Sphinx's name)
release = version = "0.1.0"

extensions = [
    "myst_nb",  # MyST Markdown pages and the notebooks, executed
    "sphinx.ext.autodoc",
    "numpydoc",
    "bench_table",  # docs/_ext: the speed figures from docs/_static/bench-reference.json
    "plain_docstrings",  # docs/_ext: docstrings are plain text with numpydoc sections
]
default_role = "literal"  # `name` in a docstring is code, as the project writes it
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/.ipynb_checkpoints"]
suppress_warnings = []

# MyST: a page's headings get anchors, so [text](page.md#heading) is checked too.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

# The notebooks are committed without outputs: executed once when the site is built, kept in a
# cache inside the site (see setup) so a rebuild with unchanged notebooks runs none of them. A
# cell that fails fails the build (its traceback is a warning, and -W makes it an error).
nb_execution_mode = "cache"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# The API from the docstrings: numpydoc's sections where they are written, prose elsewhere.
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
numpydoc_show_class_members = False
numpydoc_validation_checks = set()  # lenient: the docstrings are read, not graded
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = "catvnoncat"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": []}
html_show_sourcelink = False
html_copy_source = False


def inside_the_site(app):
    """myst-nb puts its cache and the notebooks' images beside the output folder (the checkout's
    root, for site/): keep both inside it, so that the site is all that a build writes."""
    out = Path(app.outdir)
    app.env.mystnb_config = app.env.mystnb_config.copy(
        output_folder=str(out / ".jupyter_execute"),
        execution_cache_path=str(out / ".jupyter_cache"))


def setup(app):
    app.connect("builder-inited", inside_the_site, priority=900)  # after myst-nb's own (500)
