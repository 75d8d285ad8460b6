"""The modules each stage runs, computed from the imports, as Make variables.

`python3 scripts/stage_deps.py` prints one line per stage, `TRAIN_MODULES := pipeline/... `,
the closure of `python -m pipeline train` over the package's imports (at the top of a module or
inside a function, since stages import lazily). The Makefile includes its output, so editing any
module a stage runs makes that stage's artifact stale, and no list of modules is typed by hand.
Standard library only: it runs before the venv exists.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "pipeline"
ENTRY = "__main__"  # every stage starts as `python -m pipeline STAGE`
STAGES = "stages"  # the subpackage that holds one module per stage


def module_path(name, root=ROOT):
    """pipeline/a/b.py or pipeline/a/b/__init__.py for the dotted name "pipeline.a.b"; None when
    it is no module of the package (a name imported from one)."""
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_modules(path, root=ROOT):
    """The package's modules that the file at path imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from pipeline import config` names a module; `from pipeline.x import f` does not
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            if name.split(".")[0] != PACKAGE:
                continue
            parts = name.split(".")
            # a module's parent packages run their __init__.py first
            for depth in range(1, len(parts) + 1):
                found.add(module_path(".".join(parts[:depth]), root))
    return found - {None, path}


def closure(names, root=ROOT):
    """Every package module that running the dotted module names imports, with themselves."""
    todo = [module_path(name, root) for name in names]
    seen = set()
    while todo:
        path = todo.pop()
        if path is None or path in seen:
            continue
        seen.add(path)
        todo.extend(imported_modules(path, root))
    return sorted(p.relative_to(root).as_posix() for p in seen)


def stage_modules(stage, root=ROOT):
    """The package's files that `python -m pipeline STAGE` runs."""
    return closure([f"{PACKAGE}.{ENTRY}", f"{PACKAGE}.{STAGES}.{stage}"], root)


def stages(root=ROOT):
    """The stage names `python -m pipeline` knows, read from its STAGES table."""
    tree = ast.parse(module_path(f"{PACKAGE}.{ENTRY}", root).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "STAGES"
                                                for t in node.targets):
            return [key.value for key in node.value.keys]
    raise SystemExit(f"error: no STAGES table in {PACKAGE}/{ENTRY}.py")


def makefile_lines(root=ROOT):
    return [f"{stage.upper()}_MODULES := {' '.join(stage_modules(stage, root))}"
            for stage in stages(root)]


if __name__ == "__main__":
    sys.stdout.write("# made by scripts/stage_deps.py: do not edit\n"
                     + "\n".join(makefile_lines()) + "\n")
