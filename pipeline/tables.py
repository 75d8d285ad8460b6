"""Tables as text: aligned for the terminal, or Markdown for a .md file."""

from collections.abc import Iterable, Sequence


def text_table(header: Sequence[object], rows: Iterable[Iterable[object]]) -> str:
    """Columns right-aligned to their widest cell, two spaces apart."""
    cells = [tuple(map(str, header)), *(tuple(map(str, row)) for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
                     for row in cells)


def markdown_table(header: Sequence[object], rows: Iterable[Iterable[object]]) -> str:
    """A GitHub-flavoured Markdown table, one line per row."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])
