"""The project's docstrings are plain text (with numpydoc sections where they have them), not
reStructuredText: `w * x`, `(m, *image_shape)` and `|g|` are arithmetic, not emphasis or
substitutions. Before numpydoc reads a docstring, its inline markup characters are escaped so
that Sphinx shows them as written; `name` in backticks stays code (conf.py's default_role)."""

import re

MARKUP = re.compile(r"(?<!\\)([*|])|(?<=\w)_(?=\W|$)")


def escape(line):
    """A docstring line with * and | (and a word's trailing _, a reference) kept literal."""
    return MARKUP.sub(lambda match: "\\" + match.group(0), line)


def plain(app, what, name, obj, options, lines):
    lines[:] = [escape(line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", plain, priority=400)  # numpydoc's runs at 500
    return {"parallel_read_safe": True, "parallel_write_safe": True}
