"""The `bench-table` directive: the speed page's table, made from reports/bench.json (what
`make bench` last measured) when the site is built, or a sentence saying to run it."""

import json

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from pipeline import config

BENCH_FILE = config.REPORTS_DIR / "bench.json"
logger = logging.getLogger(__name__)


def seconds(value):
    """A time as the table shows it: ms below a second, s above."""
    return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.3g} s"


def cell(text):
    """Text for one Markdown table cell, its markup kept literal."""
    text = str(text)
    for mark in "\\|*_`<[":
        text = text.replace(mark, "\\" + mark)
    return text or "-"


def table_lines(bench):
    """The Markdown table's lines for bench.json's rows (the page is MyST Markdown)."""
    lines = ["| measure | reference | faster | speedup | target |",
             "| --- | --- | --- | --- | --- |"]
    for row in bench["rows"]:
        lines.append(f"| {cell(row['measure'])} "
                     f"| {cell(row['reference'])} {seconds(row['reference_s'])} "
                     f"| {cell(row['faster'])} {seconds(row['faster_s'])} "
                     f"| {row['speedup']:.1f}x | {cell(row['target'])} |")
    return lines


def machine_line(bench):
    machine = bench.get("machine", {})
    return (f"Measured on {machine.get('cpu', 'an unnamed CPU')}, {machine.get('cores', '?')} "
            f"cores, Python {machine.get('python', '?')}, NumPy {machine.get('numpy', '?')}; "
            f"each row the median of {bench.get('repeats', '?')} alternated runs (fewer where "
            "its row says so in `reports/bench.json`).")


class BenchTable(SphinxDirective):
    has_content = False

    def run(self):
        self.env.note_dependency(str(BENCH_FILE))
        if not BENCH_FILE.is_file():
            return [nodes.paragraph(
                "", "", nodes.Text("No measurements yet: "),
                nodes.literal(text="reports/bench.json"), nodes.Text(" is written by "),
                nodes.literal(text="make bench"), nodes.Text(
                    " (about 25 minutes); build the site again after it to see the table here."))]
        try:
            bench = json.loads(BENCH_FILE.read_text())
            lines = [machine_line(bench), ""] + table_lines(bench)
        except (OSError, ValueError, KeyError, TypeError) as error:
            logger.warning(f"{BENCH_FILE} cannot be read ({error}): run `make bench` again",
                           location=(self.env.docname, self.lineno))
            return []
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=str(BENCH_FILE)), 0, container)
        return container.children


def setup(app):
    app.add_directive("bench-table", BenchTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
