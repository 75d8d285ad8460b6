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
sys.path.insert(0, str(ROOT))  # the package's own import reader, with no venv yet
from pipeline.imports import PACKAGE, closure, module_path  # noqa: E402

ENTRY = "__main__"  # every stage starts as `python -m pipeline STAGE`
STAGES = "stages"  # the subpackage that holds one module per stage


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
