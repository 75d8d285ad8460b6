"""The package's shape is a requirement: a library below, the stages on top, no circle between
modules nor between groups, every arrow pointing down the layers of docs/architecture.md.

Read from the code's own imports (at the top of a module or inside a function), so that a new
module is checked the day it is added. The tests mirror the modules: each test file is named
after the module it tests, at the mirrored path."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from pipeline.__main__ import STAGES as STAGE_NAMES

PACKAGE = ROOT / "pipeline"
STAGES = "pipeline.stages"
# docs/architecture.md's picture, top to bottom: a group (a subpackage, or a top-level module)
# imports only groups on its own layer or below. A new group gets its place here and there.
LAYERS = (
    ("stages", "__main__"),
    ("cv", "page", "runs"),  # runs: the ledger of runs, its record and its tables
    ("engines", "evaluation"),
    ("artifacts",),  # files, and a saved model's params and z (through columns)
    ("columns",),  # X as columns; its model_scores runs nn's forward pass a block at a time
    ("nn",),  # the course's math
    ("cli", "settings", "errors", "progress", "threads", "shapes", "config", "tables"),
)
# What the course's math may import besides itself: numpy, the standard library and these.
MATH_HELPERS = {"pipeline.shapes", "pipeline.progress", "pipeline.threads"}
MAX_LINES = 250
MAX_POSITIONAL = 6
# The course's own functions keep the course's signatures, so that a learner's call from the
# notebook (print_cost, Adam's betas and epsilon given by position) works here too.
COURSE_SIGNATURES = {"pipeline.nn.logistic.optimize", "pipeline.nn.logistic.model",
                     "pipeline.nn.optimizers.update_parameters_with_adam"}


def modules():
    """Every module of the package: dotted name -> path."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(path, known):
    """The package's modules that the file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def graph():
    known = modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def is_stage(name):
    """A module `python -m pipeline` runs; the options modules the stages share are not."""
    return name.startswith(STAGES + ".") and name.removeprefix(STAGES + ".") in STAGE_NAMES


def subpackages():
    return {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}


def group_of(module):
    """pipeline.nn.layers -> "nn" (its subpackage); pipeline.columns -> "columns" (itself)."""
    parts = module.split(".")[1:]
    return parts[0] if parts else ""


def group_graph(edges):
    """The arrows between groups: group -> the other groups its modules import. The package
    itself ("from pipeline import config" names it) holds nothing, and is left out."""
    groups = {}
    for module, imported in edges.items():
        source = group_of(module)
        if source:
            groups.setdefault(source, set()).update(
                g for g in (group_of(m) for m in imported) if g and g != source)
    return groups


def find_circle(edges):
    """One import circle as a list [a, b, ..., a], or None: a depth-first search that meets a
    node still on its path."""
    done, path = set(), []

    def visit(node):
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        path.append(node)
        for other in sorted(edges.get(node, ())):
            circle = visit(other)
            if circle:
                return circle
        path.pop()
        done.add(node)
        return None

    for node in sorted(edges):
        circle = visit(node)
        if circle:
            return circle
    return None


def test_the_package_has_no_import_circle():
    circle = find_circle(graph())
    assert circle is None, "import circle: " + " -> ".join(circle)


def test_no_import_circle_between_groups():
    circle = find_circle(group_graph(graph()))
    assert circle is None, "import circle between groups: " + " -> ".join(circle)


def test_a_circle_through_a_group_is_seen_though_no_module_closes_one():
    """The circle the package once had: nn.optimizers -> columns -> nn.layers."""
    edges = {"pipeline.nn.optimizers": {"pipeline.columns", "pipeline.nn.logistic"},
             "pipeline.columns": {"pipeline.nn.layers"},
             "pipeline.nn.layers": {"pipeline.nn.logistic"}, "pipeline.nn.logistic": set()}
    assert find_circle(edges) is None
    assert find_circle(group_graph(edges)) in (["nn", "columns", "nn"],
                                                        ["columns", "nn", "columns"])


def test_every_group_imports_only_its_layer_and_below():
    layer = {group: depth for depth, groups in enumerate(LAYERS) for group in groups}
    arrows = group_graph(graph())
    placed = set(layer)
    assert set(arrows) | {g for targets in arrows.values() for g in targets} <= placed, \
        "place each new group in LAYERS and in docs/architecture.md"
    for group, targets in arrows.items():
        upward = {t for t in targets if layer[t] < layer[group]}
        assert not upward, f"{group} imports {sorted(upward)}, on a layer above it"


def test_the_courses_math_imports_only_numpy_and_small_helpers():
    allowed = sys.stdlib_module_names | {"numpy"}
    for module, path in modules().items():
        if group_of(module) != "nn":
            continue
        ours = {m for m in graph()[module] if group_of(m) != "nn"}
        assert ours <= MATH_HELPERS, f"{module} imports {sorted(ours - MATH_HELPERS)}"
        tree = ast.parse(path.read_text())
        outside = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                   for a in node.names}
        outside |= {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert outside - {"pipeline"} <= allowed, f"{module} imports {sorted(outside - allowed)}"


def test_no_stage_imports_another_stage():
    for module, imported in graph().items():
        if is_stage(module):
            assert not {m for m in imported if is_stage(m)}, module


def test_the_library_imports_no_stage_and_no_argparse():
    library = {m for m in modules() if not m.startswith(STAGES) and m != "pipeline.__main__"}
    assert {"pipeline.nn.logistic", "pipeline.engines.fit", "pipeline.cv.gram"} <= library
    edges = graph()
    for module in library:
        assert not {m for m in edges[module] if m.startswith(STAGES)}, module
        tree = ast.parse(modules()[module].read_text())
        imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for a in node.names}
        imported |= {node.module for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        if module != "pipeline.cli":  # the command line's own helpers
            assert "argparse" not in imported, module


def test_the_groups_are_folders():
    assert subpackages() == {"nn", "engines", "artifacts", "evaluation", "cv", "page", "runs",
                             "stages"}


def test_no_module_passes_250_lines():
    for name, path in modules().items():
        assert len(path.read_text().splitlines()) <= MAX_LINES, name


def test_no_function_takes_more_than_six_positional_parameters():
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                positional = len(node.args.posonlyargs) + len(node.args.args)
                if f"{name}.{node.name}" not in COURSE_SIGNATURES:
                    assert positional <= MAX_POSITIONAL, f"{name}.{node.name}: {positional}"


# Tests of the project as a whole (the Makefile, the install, the docs, the notebooks, the page
# in a browser, whole runs through the command line, this file) live in tests/project/; every
# other tests/**/test_*.py is a module's own: tests/test_<module>.py for pipeline/<module>.py,
# tests/<group>/test_<module>.py for pipeline/<group>/<module>.py.
PROJECT_TESTS = "project"


def mirror_misses(test_files, module_files):
    """The test files (paths relative to tests/) that name no module at the mirrored path
    (module_files: paths relative to pipeline/)."""
    modules = {Path(path).with_suffix("").as_posix() for path in module_files}
    misses = []
    for path in map(Path, test_files):
        if path.parts[0] == PROJECT_TESTS:
            continue
        module = path.with_name(path.name.removeprefix("test_")).with_suffix("").as_posix()
        if module not in modules:
            misses.append(path.as_posix())
    return misses


def test_the_tests_mirror_the_modules():
    tests = ROOT / "tests"
    test_files = [p.relative_to(tests).as_posix() for p in sorted(tests.rglob("test_*.py"))]
    module_files = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")]
    assert mirror_misses(test_files, module_files) == [], \
        "name each test file after the module it tests, or move it to tests/project/"
    assert mirror_misses(["engines/test_progress.py", "nn/test_layers.py", "test_shapes.py",
                          "project/test_make.py", "nn/deep/test_layers.py", "test_nn.py"],
                         ["progress.py", "nn/layers.py", "shapes.py", "nn/__init__.py"]) == [
        "engines/test_progress.py", "nn/deep/test_layers.py", "test_nn.py"]
    groups_tested = {Path(f).parts[0] for f in test_files if len(Path(f).parts) == 2}
    assert groups_tested - {PROJECT_TESTS} == subpackages()



@pytest.mark.portable
def test_stages_that_do_not_draw_import_no_drawing_library():
    code = ("import sys; import pipeline.stages.data, pipeline.stages.features, "
            "pipeline.stages.train, pipeline.stages.evaluate, pipeline.engines.logistic; "
            "print(sorted(m for m in ('matplotlib', 'PIL') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.stdout.strip() == "[]", result.stderr


# The course's run as `make train` runs it, profiled: each function called, in the files of the
# package that a learner follows from the stage to the printed accuracy (the bar of issue 36).
WALK = """
import cProfile, pstats, runpy, sys
sys.argv = ["pipeline", "train", "--features", sys.argv[1], "--out", sys.argv[2] + "/p.npz",
            "--runs-dir", sys.argv[2] + "/runs", "--metrics", sys.argv[2] + "/metrics.json"]
profile = cProfile.Profile()
try:
    profile.runcall(runpy.run_module, "pipeline", run_name="__main__", alter_sys=True)
except SystemExit as end:  # the command line's exit: 0 is a finished run
    assert not end.code, end.code
print("\\n".join(sorted({f for f, _, name in pstats.Stats(profile).stats
                         if name != "<module>"})))
"""


def test_the_courses_train_run_calls_functions_in_at_most_20_files(features_file, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CATVNONCAT_HOME"}  # as walk.py runs
    child = subprocess.run([sys.executable, "-c", WALK, str(features_file), str(tmp_path)],
                           cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    package = str(PACKAGE)
    files = [Path(f).relative_to(ROOT).as_posix() for f in child.stdout.split()
             if f.startswith(package)]
    assert "pipeline/engines/logistic.py" in files and "pipeline/nn/logistic.py" in files
    assert len(files) <= 20, files
