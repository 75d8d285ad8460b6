"""The ledger as a person reads it: the table of runs (only the settings that differ among
them, unless every column is asked for), two or more runs side by side with their differences,
runs.md, and the page's Runs section."""

from collections.abc import Sequence

from pipeline import config
from pipeline.page.sections import table
from pipeline.runs.ledger import Record
from pipeline.settings import RECORD_KEYS, Settings, record_labels
from pipeline.tables import markdown_table, text_table

ALWAYS_SHOWN = ("model", "optimizer")  # columns of their own, whether they differ or not
METRICS = (("train_accuracy", "train accuracy", "%"), ("test_accuracy", "test accuracy", "%"),
           ("final_cost", "final cost", ""), ("duration_s", "duration", "s"))
Table = tuple[tuple[str, ...], list[tuple[str, ...]]]  # (header, rows) of text cells


def short(run_id: str) -> str:
    return run_id[:6]


def started_at(record: Record) -> str:
    """'2026-12-03 14:02': when a run started, in UTC, to the minute."""
    started: str = record["started"]
    return started[:16].replace("T", " ")


def data_name(record: Record) -> str:
    """'course' for the course's two files, else the first digits of the train file's sha256."""
    course = (config.SHA256[config.TRAIN_FILE.name], config.SHA256[config.TEST_FILE.name])
    return "course" if (record["train_sha256"], record["test_sha256"]) == course \
        else record["train_sha256"][:6]


def value_text(value: object) -> str:
    if isinstance(value, list):  # layer sizes: the hidden ones ("-" for one neuron)
        return "-".join(map(str, value[1:-1])) or "-"
    return repr(value) if isinstance(value, float) else str(value)


def read_by(record: Record) -> set[str]:
    """The settings' record keys this run reads (Settings.that_matter): no decay rate without
    decay, no Adam's betas for gd."""
    return set(Settings.from_record(record).that_matter())


def differing(records: Sequence[Record], every: bool = False,
              reads: Sequence[set[str]] | None = None) -> list[str]:
    """The settings' record keys to show: those whose values differ among the records that read
    them (all of them with every), model and optimizer apart. reads: each record's read_by, if
    the caller has them."""
    keys = [k for k in RECORD_KEYS if k not in ALWAYS_SHOWN]
    if every:
        return keys
    reads = reads or [read_by(r) for r in records]
    return [k for k in keys
            if len({value_text(r[k]) for r, read in zip(records, reads, strict=True)
                    if k in read}) > 1]


def cells(record: Record, keys: Sequence[str], read: set[str]) -> tuple[str, ...]:
    """The record's values under keys, "-" for a setting this run never reads (read_by)."""
    return tuple(value_text(record[k]) if k in read else "-" for k in keys)


def test_text(record: Record) -> str:
    low, high = record["test_accuracy_ci95"]
    return f"{record['test_accuracy']:.1f} ({low:.0f}-{high:.0f})"


def runs_table(records: Sequence[Record], current: str | None, every: bool = False) -> Table:
    """(header, rows): newest first, one row a run; '*' marks the current one."""
    reads = [read_by(r) for r in records]
    keys = differing(records, every, reads)
    labels = record_labels("short")
    header = ("", "id", "UTC", "data", "model", *(labels[k] for k in keys), "train %",
              "test % (95% CI)", "cost", "secs")
    rows = [("*" if r["id"] == current else "", short(r["id"]), started_at(r)[5:], data_name(r),
             f"{r['model']} {r['optimizer']}", *cells(r, keys, read),
             f"{r['train_accuracy']:.1f}", test_text(r), f"{r['final_cost']:.4f}",
             f"{r['duration_s']:.1f}") for r, read in zip(records, reads, strict=True)]
    return header, rows


def side_by_side(records: Sequence[Record]) -> Table:
    """(header, rows): the settings that differ, then each metric, one column a run, and the
    last run's difference from the first."""
    labels = record_labels()
    reads = [read_by(r) for r in records]
    keys = [*[k for k in ALWAYS_SHOWN if len({r[k] for r in records}) > 1],
            *differing(records, reads=reads)]
    header = ("", *(short(r["id"]) for r in records), "difference")
    columns = [cells(r, keys, read) for r, read in zip(records, reads, strict=True)]
    rows = [(labels[k], *(column[i] for column in columns), "") for i, k in enumerate(keys)]
    for key, label, unit in METRICS:
        values = [r[key] for r in records]
        rows.append((label, *(f"{v:.4g} {unit}".strip() for v in values),
                     f"{values[-1] - values[0]:+.4g} {unit}".strip()))
    rows.append(("test 95% CI", *("{:.1f}-{:.1f} %".format(*r["test_accuracy_ci95"])
                                  for r in records), ""))
    return header, rows


def text_report(records: Sequence[Record], current: str | None, every: bool = False) -> str:
    """What `make runs` prints: the table of runs, newest first."""
    if not records:
        return "no runs yet: `make train` records one"
    return text_table(*runs_table(records, current, every))


def markdown(records: Sequence[Record], current: str | None,
             chosen: Sequence[Record] | None = None) -> str:
    lines = [f"# Runs ({len(records)}, newest first; * is the current one)", ""]
    if records:
        lines.append(markdown_table(*runs_table(records, current)))
    if chosen and len(chosen) > 1:
        lines += ["", "## Side by side", "", markdown_table(*side_by_side(chosen))]
    if records:
        lines += ["", "![learning curves](curves.png)"]
    return "\n".join(lines) + "\n"


def best_by_test(records: Sequence[Record]) -> Record:
    """The run with the highest test accuracy (ties: the newest) of one run or more."""
    return max(records, key=lambda r: r["test_accuracy"])


def section_fragment(records: Sequence[Record], current: str | None) -> str:
    """The page's Runs section: the latest RUNS_ON_PAGE runs, and the current run's curve beside
    the best test accuracy's."""
    if not records:
        return "<p>No runs yet: <code>make train</code> records one in data/runs.</p>"
    shown = records[:config.RUNS_ON_PAGE]
    header, rows = runs_table(shown, current)
    best = best_by_test(records)
    more = "" if len(records) <= len(shown) else \
        f" ({len(records) - len(shown)} older ones in runs/runs.md)"
    notes = [f"The latest {len(shown)} of {len(records)} runs kept in data/runs{more}; "
             "* marks the current run. <code>make runs</code> prints them, "
             "<code>make runs RUNS=\"id id\"</code> puts runs side by side.",
             f"Beside the current run: {short(best['id'])}, the highest test accuracy "
             f"({best['test_accuracy']:.1f} %). Picked by looking at the test set, so its "
             "score is an optimistic estimate, not a fair one."]
    return (table(rows, header) + "".join(f"<p>{note}</p>" for note in notes)
            + '<p><img class="figure" src="runs/best.png" alt="learning curves of the current '
              'run and the best by test accuracy"></p>'
            + '<p>Details: <a href="runs/runs.md">runs/runs.md</a>, '
              '<a href="runs/runs.json">runs/runs.json</a>.</p>')
