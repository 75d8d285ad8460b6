"""The package's shape is a requirement: a library below, the stages on top, no circle.

Read from the code's own imports (at the top of a module or inside a function), so that a new
module is checked the day it is added."""

import ast

from conftest import ROOT

PACKAGE = ROOT / "pipeline"
STAGES = "pipeline.stages"
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
    return name.startswith(STAGES + ".") and name != f"{STAGES}.options"


def test_the_package_has_no_import_circle():
    edges = graph()

    def visit(module, trail):
        assert module not in trail, "import circle: " + " -> ".join([*trail, module])
        for other in edges[module]:
            visit(other, [*trail, module])

    for module in edges:
        visit(module, [])


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
    groups = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert groups == {"nn", "engines", "artifacts", "evaluation", "cv", "page", "stages"}


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


def test_the_tests_mirror_the_groups():
    groups = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    tested = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and any(p.glob("test_*.py"))}
    assert tested == groups
