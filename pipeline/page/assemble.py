"""The page from the sections that exist: reports/index.html, filled from the templates beside
this module, in PAGE_ORDER; it draws nothing and trains nothing."""

import html
import sys
from collections.abc import Mapping
from pathlib import Path

from pipeline.artifacts.files import StrPath, atomic_path
from pipeline.errors import UserError
from pipeline.page.sections import fill, page_file, read_section, unreadable

PAGE_ORDER = (  # (folder under reports/, heading, what the page says while it does not exist)
    ("compare", "Learning-rate comparison",
     "<p>No comparison yet: <code>make compare</code> trains one model per rate.</p>"),
    ("cv", "Settings chosen without the test set",
     "<p>Not yet: <code>make cv</code> chooses the learning rate and the number of iterations by "
     "cross-validation on the training set alone, then looks at the test set once.</p>"),
    ("runs", "Runs",
     "<p>Not yet: <code>make runs</code> lists every run kept in data/runs and draws the "
     "current one beside the best.</p>"),
)


def mismatch(section_for: Mapping[str, object], run_for: Mapping[str, str]) -> str:
    """How a section's made_for differs from the run's, in words; '' if it does not."""
    words = []
    if (section_for.get("train_sha256"), section_for.get("test_sha256")) != \
            (run_for["train_sha256"], run_for["test_sha256"]):
        words.append(f"other data (train sha256 {str(section_for.get('train_sha256'))[:12]}..., "
                     f"this run's {run_for['train_sha256'][:12]}...)")
    models = str(section_for.get("model", "")).split()
    if run_for["model"] not in models:
        words.append(f"the {' and '.join(models) or 'unknown'} model, not this run's "
                     f"{run_for['model']}")
    return " and ".join(words)


def section_html(folder: Path, name: str, heading: str, absent: str,
                 run_for: Mapping[str, str]) -> str:
    """One section of the page: its fragment, a line saying it is stale, or how to make it."""
    try:
        found = read_section(folder)
    except (OSError, ValueError, RecursionError) as err:  # a damaged optional section
        return f'<h2 id="{name}">{heading}</h2>' + unreadable(folder, err, f"make {name}")
    if found is None:
        return f'<h2 id="{name}">{heading}</h2>{absent}'
    meta, fragment = found
    differs = mismatch(meta["made_for"], run_for)
    if differs:
        model = f" MODEL={run_for['model']}" if run_for["model"] != "logistic" else ""
        fragment = (f'<p class="stale">This was made for {html.escape(differs)}: '
                    f"<code>{html.escape(meta['remake'])}{model}</code> with this run's DATA "
                    "remakes it.</p>")
    return f'<h2 id="{name}">{html.escape(meta["heading"])}</h2>{fragment}'


def page(run_dir: StrPath, reports_dir: StrPath) -> str:
    """index.html's text: the run's section from run_dir, the others from reports_dir."""
    found = read_section(run_dir)
    if found is None:
        raise UserError(f"{run_dir} holds no report yet; run `make report`")
    meta, run_fragment = found
    parts = [run_fragment] + [section_html(Path(reports_dir) / name, name, heading, absent,
                                           meta["made_for"])
                              for name, heading, absent in PAGE_ORDER]
    notebooks = notebooks_html(reports_dir)
    if notebooks:
        parts.append(notebooks)
    return fill(page_file("index.html"), {
        "title": html.escape(meta["heading"]), "style": page_file("style.css"),
        "sections": "\n".join(parts), "script": page_file("classify.js")})


def notebooks_html(reports_dir: StrPath) -> str:
    """Links to the executed notebooks `make notebooks` wrote into reports/notebooks, if any."""
    found = sorted((Path(reports_dir) / "notebooks").glob("*.html"))
    if not found:
        return ""
    items = "".join(f'<li><a href="notebooks/{html.escape(p.name)}">'
                    f'{html.escape(p.stem.replace("_", " "))}</a></li>' for p in found)
    return ('<section id="notebooks"><h2>Notebooks</h2><p>The lesson, the networks and your '
            f"photos, executed by <code>make notebooks</code>:</p><ul>{items}</ul></section>")


def assemble_into(dest_dir: StrPath, reports_dir: StrPath, run_dir: StrPath | None = None) -> Path:
    """Write dest_dir/index.html from the run section in run_dir (default: reports_dir)."""
    text = page(run_dir or reports_dir, reports_dir)
    with atomic_path(Path(dest_dir) / "index.html") as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(dest_dir) / "index.html"


def refresh(reports_dir: StrPath) -> None:
    """Reassemble an existing index.html (after cv or compare wrote their section)."""
    if (Path(reports_dir) / "index.html").exists():
        try:
            assemble_into(reports_dir, reports_dir)
        except (UserError, OSError, ValueError) as err:
            print(f"note: index.html not refreshed ({err})", file=sys.stderr)
