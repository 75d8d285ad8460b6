"""The page's building blocks, shared by every stage that writes a section of reports/index.html.

A section is two files in its stage's folder: section.html, an HTML fragment, and section.json,
what it was made for (the data's sha256 and the model) and which command remakes it. The
assembler (assemble.py) puts the sections that exist into one page; no stage renders another's.
No matplotlib, and Pillow only for thumbnails: assembling a page imports little.
"""

import base64
import html
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.artifacts.files import StrPath, write_json, write_text
from pipeline.errors import short_reason
from pipeline.evaluation.stats import accuracy_summary

SECTION_HTML, SECTION_JSON = "section.html", "section.json"
# A mislabeled image shown: (index, image (px, px, 3), true label, predicted label, p_cat)
Case = tuple[int, NDArray[np.uint8], int, int, float]


def made_for(data: Mapping[str, object], model: object = "logistic") -> dict[str, str]:
    """What a section was made for: the data (sha256 of both files, from features or params)
    and the model. A section whose made_for differs from the run's is not shown as the run's."""
    return {"train_sha256": str(data["train_sha256"]), "test_sha256": str(data["test_sha256"]),
            "model": str(model)}


def write_section(folder: StrPath, fragment: str, heading: str, section_id: str, target: str,
                  made_for_: Mapping[str, str]) -> None:
    """section.html and section.json into folder (a stage's temp folder, as a rule)."""
    write_text(Path(folder) / SECTION_HTML, fragment)
    write_json(Path(folder) / SECTION_JSON, {"heading": heading, "id": section_id,
                                             "remake": target, "made_for": made_for_})


def page_file(name: str) -> str:
    """One of the page's own files (pipeline/page/NAME), as text."""
    return (resources.files("pipeline") / "page" / name).read_text(encoding="utf-8")


def fill(template: str, values: Mapping[str, object]) -> str:
    """The template with every {{key}} replaced by its value (HTML the caller made safe), in one
    pass: a value that itself holds "{{...}}" (a class name, say) is left as it is."""
    missing = set(re.findall(r"\{\{(\w+)\}\}", template)) - set(values)
    if missing:  # a template and its caller out of step: a bug, named
        raise ValueError(f"the page template has no value for {', '.join(sorted(missing))}")
    return re.sub(r"\{\{(\w+)\}\}", lambda match: str(values[match.group(1)]), template)


def thumbnail_uri(image: NDArray[np.uint8]) -> str:
    from PIL import Image  # here: assembling the page needs no Pillow, and starts faster

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def table(rows: Iterable[Iterable[object]], header: Iterable[object] | None = None) -> str:
    head = "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>" \
        if header else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table>{head}{body}</table>"


def caption(index: int, true: int, predicted: int, p_cat: float, classes: Sequence[str]) -> str:
    return (f"#{index}  true: {classes[true]}\n"
            f"predicted: {classes[predicted]}  p({classes[1]}) = {p_cat:.2f}")


def gallery(section_id: str, cases: Iterable[Case], classes: Sequence[str]) -> str:
    """Thumbnails with captions of (index, image, true, predicted, p_cat) cases."""
    figures = []
    for index, image, true, predicted, p_cat in cases:
        text = html.escape(caption(index, true, predicted, p_cat, classes)).replace("\n", "<br>")
        figures.append(f'<figure><img src="{thumbnail_uri(image)}" alt="image {index}">'
                       f"<figcaption>{text}</figcaption></figure>")
    return f'<div class="gallery" id="{section_id}">{"".join(figures) or "none"}</div>'


def unreadable(path: StrPath, err: BaseException, make_hint: str) -> str:
    return (f"<p>{html.escape(str(path))} is unreadable ({html.escape(short_reason(err))}): "
            f"<code>{make_hint}</code> remakes it.</p>")


def number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def p_value(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def meaning(stats: Mapping[str, Any], classes: Sequence[str], escape: bool = True) -> str:
    """'(95% CI 55.4-82.1 %; always cat: 66.0 %)', as HTML unless told."""
    text = accuracy_summary(stats, classes)
    return html.escape(text) if escape else text


def verdict_box(sentence: str | None) -> str:
    return f'<p class="verdict" id="verdict">{html.escape(sentence)}</p>' if sentence else ""


def paragraphs(lines: Iterable[str]) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)


def read_section(folder: StrPath) -> tuple[dict[str, Any], str] | None:
    """(meta, fragment) of the section in folder, or None if it has none; a damaged one raises."""
    folder = Path(folder)
    if not (folder / SECTION_JSON).is_file():
        return None
    meta = json.loads((folder / SECTION_JSON).read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or not all(
            isinstance(meta.get(k), str) for k in ("heading", "id", "remake")) \
            or not isinstance(meta.get("made_for"), dict):
        raise ValueError(f"{SECTION_JSON} lacks heading, id, remake or made_for")
    return meta, (folder / SECTION_HTML).read_text(encoding="utf-8")
