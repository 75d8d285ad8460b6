"""The speed figures, each typed once: docs/_static/bench-reference.json is a `make bench` run's
reports/bench.json, kept with the date and commit it was measured at, the minutes it took and a
note on what else the machine ran, and the pages show its figures through

- the `bench-table` directive: the machine and date, then a table of its rows (`:match:` a
  regular expression keeps the rows whose measure it finds, a peak memory column where a row
  has one);
- the `bench` role: one figure in a sentence, {bench}`FIELD MEASURE` (the row's field, e.g.
  faster_s, reference_s, speedup, ratio or peak_anonymous_bytes.adam), or {bench}`FIELD` for
  the run's own (minutes, date).

A measure or field the file does not hold is a warning, which fails the -W build."""

import json
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

REFERENCE = Path(__file__).resolve().parents[1] / "_static" / "bench-reference.json"
logger = logging.getLogger(__name__)


def seconds(value):
    """A time as the pages show it: ms below a second, s above (whole seconds from 1,000 s)."""
    if value < 1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s" if value < 1000 else f"{value:,.0f} s"


def size(value):
    """Bytes in MB, or GB from 1 GB on; or a dict of them ("gd 60 MB, adam 63 MB")."""
    if isinstance(value, dict):
        return ", ".join(f"{name} {size(bytes_)}" for name, bytes_ in value.items())
    return f"{value / 1e9:.2f} GB" if value >= 1e9 else f"{value / 1e6:,.0f} MB"


def figure(row, field):
    """One field of a row (or of the run) as text: seconds, ratios, bytes, or as it is."""
    if field == "ratio":  # ours over the reference's: 0.81x the time
        return f"{row['faster_s'] / row['reference_s']:.2f}x"
    value = row
    for key in field.split("."):
        value = value[key]
    if field == "speedup":
        return f"{value:.1f}x"
    if field == "minutes":
        return f"{value:.0f}"
    if field.endswith("_s"):
        return seconds(value)
    if "bytes" in field:
        return size(value)
    if field.endswith("_ms"):
        return f"{value:.0f} ms"
    return f"{value:.2g}" if isinstance(value, float) else str(value)


def cell(text):
    """Text for one Markdown table cell, its markup kept literal."""
    text = str(text)
    for mark in "\\|*_`<[":
        text = text.replace(mark, "\\" + mark)
    return text or "-"


def table_lines(rows):
    """The Markdown table's lines for bench rows (the pages are MyST Markdown)."""
    memory = any("peak_anonymous_bytes" in row for row in rows)
    head = ["measure", "reference", "faster", "speedup", "runs", "target"]
    head += ["peak memory"] * memory
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in rows:
        cells = [cell(row["measure"]),
                 f"{cell(row['reference'])}: {seconds(row['reference_s'])}",
                 f"{cell(row['faster'])}: {seconds(row['faster_s'])}",
                 f"{row['speedup']:.1f}x", str(row["repeats"]), cell(row["target"])]
        if memory:
            peak = row.get("peak_anonymous_bytes")
            cells.append(cell(size(peak)) if peak is not None else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def machine_line(bench):
    machine = bench["machine"]
    return (f"Measured on {bench['date']} by `{bench.get('command', 'make bench')}` at commit "
            f"{bench['commit']}, on "
            f"{machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, NumPy "
            f"{machine['numpy']} ({machine['platform']}); each row the median of its runs, "
            f"the reference and the faster way alternated. {bench.get('note', '')}").strip()


def reference():
    """The reference run (a page that shows it is rebuilt when the file changes)."""
    return json.loads(REFERENCE.read_text())


def row_named(bench, measure):
    rows = [row for row in bench["rows"] if row["measure"] == measure]
    if not rows:
        raise KeyError(f"no row {measure!r}")
    return rows[0]


class BenchTable(SphinxDirective):
    has_content = False
    option_spec = {"match": directives.unchanged}

    def run(self):
        self.env.note_dependency(str(REFERENCE))
        try:
            bench = reference()
            pattern = re.compile(self.options.get("match", ""))
            rows = [row for row in bench["rows"] if pattern.search(row["measure"])]
            if not rows:
                raise KeyError(f"no row matches {pattern.pattern!r}")
            lines = ([machine_line(bench), ""] if "match" not in self.options else []) \
                + table_lines(rows)
        except (OSError, ValueError, KeyError, TypeError, re.error) as error:
            logger.warning(f"{REFERENCE}: {error}", location=(self.env.docname, self.lineno))
            return []
        container = nodes.container(support_smartquotes=False)  # `--optimizer`, not an en dash
        self.state.nested_parse(StringList(lines, source=str(REFERENCE)), 0, container)
        return [container]


class BenchFigure(SphinxRole):
    """{bench}`faster_s 25k images: an epoch of adam`: that row's figure as text."""

    def run(self):
        self.env.note_dependency(str(REFERENCE))
        field, _, measure = self.text.partition(" ")
        try:
            bench = reference()
            text = figure(row_named(bench, measure) if measure else bench, field)
        except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError) as error:
            logger.warning(f"{REFERENCE}: {self.text!r}: {error}", location=self.get_location())
            return [], []
        return [nodes.Text(text)], []


def setup(app):
    app.add_directive("bench-table", BenchTable)
    app.add_role("bench", BenchFigure())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
