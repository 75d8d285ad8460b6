"""Stage `runs`: the ledger of runs (data/runs) as a table, newest first, or the runs named
side by side; writes reports/runs/ (runs.md, runs.json, curves.png and the page's section)."""

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline import config
from pipeline.artifacts.files import atomic_dir, write_bytes, write_text
from pipeline.cli import Parser, non_negative_int
from pipeline.page.assemble import refresh
from pipeline.page.sections import made_for, write_section
from pipeline.runs.ledger import Record, current_id, prune, scan, select
from pipeline.runs.render import (
    best_by_test,
    markdown,
    section_fragment,
    short,
    side_by_side,
    text_report,
)
from pipeline.tables import text_table


def write_reports(out_dir: Path, records: Sequence[Record], current: str | None,
                  chosen: Sequence[Record] | None) -> bool:
    """reports/runs/ as one folder: the table, the records, the curves, the page's section.
    Returns False, having written nothing, when the folder already holds this very table (the
    figures are what costs: a listing alone stays fast whatever the ledger's size)."""
    shown = chosen or records
    text, listing = markdown(records, current, chosen), json.dumps(shown, indent=1) + "\n"
    if all((out_dir / name).is_file() for name in REPORT_FILES) and \
            (out_dir / "runs.md").read_text() == text and \
            (out_dir / "runs.json").read_text() == listing:
        return False
    from pipeline.page.runs_figure import curves_png  # matplotlib only when drawing

    best = [best_by_test(records)] if records else []
    on_page = [r for r in records if r["id"] == current] + [r for r in best if r["id"] != current]
    latest = next((r for r in records if r["id"] == current), records[0] if records else None)
    with atomic_dir(out_dir) as tmp:
        write_text(tmp / "runs.md", text)
        write_text(tmp / "runs.json", listing)
        write_bytes(tmp / "curves.png", curves_png(shown, "Cost: " + (
            "the runs named" if chosen else "the latest runs")))
        write_bytes(tmp / "best.png", curves_png(on_page, "Cost: the current run and the best "
                                                          "by test accuracy"))
        write_section(tmp, section_fragment(records, current), "Runs", "runs", "make runs",
                      made_for(latest or {"train_sha256": "", "test_sha256": ""},
                               " ".join(sorted({r["model"] for r in records})) or "logistic"))
    return True


REPORT_FILES = ("runs.md", "runs.json", "curves.png", "best.png", "section.html", "section.json")


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline runs", description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", metavar="ID",
                        help="id prefixes of runs to compare side by side (default: all)")
    parser.add_argument("--all", action="store_true", help="every setting as a column")
    parser.add_argument("--json", action="store_true",
                        help="print the runs as a JSON list of run records")
    parser.add_argument("--prune", type=non_negative_int, metavar="KEEP",
                        help="remove all runs but the KEEP newest and the current one")
    parser.add_argument("--runs-dir", type=Path, default=config.RUNS_DIR)
    parser.add_argument("--params", type=Path, default=config.PARAMS_FILE,
                        help="the current model: its run is marked * (default %(default)s)")
    parser.add_argument("--out-dir", type=Path, default=config.RUNS_REPORT_DIR)
    args = parser.parse_args(argv)
    records, problems, interrupted = scan(args.runs_dir)
    for problem in problems:  # one line each; the others are listed all the same
        print(problem, file=sys.stderr)
    current = current_id(records, args.params)
    if args.prune is not None:
        removed, freed = prune(args.runs_dir, records, args.prune, current)
        records = [r for r in records if r["id"] not in removed]
        print(f"pruned {len(removed)} runs ({' '.join(map(short, removed)) or 'none'}), freed "
              f"{freed / 1e6:.1f} MB; {len(records)} kept", file=sys.stderr)
    chosen = select(records, args.ids) if args.ids else None
    if args.json:
        print(json.dumps(chosen or records, indent=1))
    elif chosen:
        print(text_table(*side_by_side(chosen)))
    else:
        print(text_report(records, current, every=args.all))
        for run_id in interrupted:
            print(f"{short(run_id)}  interrupted: never finished, no metrics", file=sys.stderr)
    sys.stdout.flush()  # the answer is out; the page's files and figures come after it
    if write_reports(args.out_dir, records, current, chosen):
        refresh(args.out_dir.parent)
