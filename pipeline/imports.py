"""The package's own imports, read from its source: which modules running a module imports.

Standard library only, and nothing of the package is imported: scripts/stage_deps.py runs it
before the venv exists (to make each stage's prerequisites), and a run's record fingerprints
the source of the modules its fit runs (pipeline/runs).
"""

# annotations unevaluated: scripts/stage_deps.py may run this on a system python3 older than 3.10
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the folder that holds the package
PACKAGE = "pipeline"


def module_path(name: str, root: Path = ROOT) -> Path | None:
    """pipeline/a/b.py or pipeline/a/b/__init__.py for the dotted name "pipeline.a.b"; None when
    it is no module of the package (a name imported from one)."""
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


# Import statements, read as text (a regular expression is ten times faster than walking the
# syntax tree, and a run's record reads about 25 modules): `from pipeline.x import a, b` (also
# parenthesized over lines) and `import pipeline.x`, at any indentation, since stages import
# inside functions. An import quoted in a docstring counts too: one module too many, never one
# too few.
FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(pipeline[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)",
                         re.MULTILINE)
PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]*)", re.MULTILINE)


def imported_names(text: str) -> list[str]:
    """The dotted names a module's text imports: modules, and names taken from them."""
    def aliases(listed: str) -> list[str]:
        cleaned = re.sub(r"#[^\n]*", "", listed).strip("() \t\n")
        return [part.split()[0] for part in cleaned.split(",") if part.split()]

    names: list[str] = []
    for module, listed in FROM_IMPORT.findall(text):
        # `from pipeline import config` names a module; `from pipeline.x import f` does not
        names += [module, *(f"{module}.{alias}" for alias in aliases(listed))]
    for listed in PLAIN_IMPORT.findall(text):
        names += aliases(listed)
    return names


def imported_modules(path: Path, root: Path = ROOT) -> set[Path]:
    """The package's modules that the file at path imports, anywhere in it."""
    found: set[Path] = set()
    for name in imported_names(path.read_text()):
        parts = name.split(".")
        if parts[0] != PACKAGE:
            continue
        # a module's parent packages run their __init__.py first
        for depth in range(1, len(parts) + 1):
            module = module_path(".".join(parts[:depth]), root)
            if module is not None:
                found.add(module)
    return found - {path}


def closure(names: Iterable[str], root: Path = ROOT) -> list[str]:
    """Every package module that running the dotted module names imports, with themselves."""
    todo = [module_path(name, root) for name in names]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path is None or path in seen:
            continue
        seen.add(path)
        todo.extend(imported_modules(path, root))
    return sorted(p.relative_to(root).as_posix() for p in seen)
