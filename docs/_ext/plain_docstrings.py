"""The project's docstrings are plain text (with numpydoc sections where they have them), not
reStructuredText: `w * x`, `(m, *image_shape)` and `|g|` are arithmetic, not emphasis or
substitutions, and a list may follow its sentence on the next line. Before numpydoc reads a
docstring, its inline markup characters are escaped so that Sphinx shows them as written, and a
list gets the blank line before it that reStructuredText asks for; `name` in backticks stays code
(conf.py's default_role)."""

import re

MARKUP = re.compile(r"(?<!\\)([*|])|(?<=\w)_(?=\W|$)")
BULLET = re.compile(r"^(\s*)- ")


def escape(line):
    """A docstring line with * and | (and a word's trailing _, a reference) kept literal."""
    return MARKUP.sub(lambda match: "\\" + match.group(0), line)


def indent(line):
    return len(line) - len(line.lstrip())


def spaced(lines):
    """The lines with a blank line before each list that follows a sentence directly (not
    before its next item, nor inside an item's continued lines, indented deeper)."""
    out = []
    for line in lines:
        bullet = BULLET.match(line)
        if bullet and out and out[-1].strip() and not BULLET.match(out[-1]) \
                and indent(out[-1]) <= len(bullet.group(1)):
            out.append("")
        out.append(line)
    return out


def plain(app, what, name, obj, options, lines):
    lines[:] = spaced([escape(line) for line in lines])


def setup(app):
    app.connect("autodoc-process-docstring", plain, priority=400)  # numpydoc's runs at 500
    return {"parallel_read_safe": True, "parallel_write_safe": True}
