"""Run every mutant in a folder through one loader, as the stages do (cli.run); print one JSON line
per mutant: its name, the exit code, and what it printed on stderr.

Used by test_fuzz.py in a child process, so that a loader that crashed the interpreter would
show as a dead child rather than a dead test run, and C libraries' own stderr is seen too.
`python tests/fuzz_child.py KIND FOLDER [FIXTURE...]`
"""

import contextlib
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.artifacts import calibration_file, feature_file, features, params  # noqa: E402
from pipeline.cli import run  # noqa: E402
from pipeline.columns import raw_blocks  # noqa: E402
from pipeline.page import assemble  # noqa: E402
from pipeline.stages import classify, report  # noqa: E402
from pipeline.stages import features as features_stage  # noqa: E402


def loader(kind, fixtures):
    """The call that reads one mutant file the way its stage reads it."""
    if kind == "h5":
        return lambda path: features.load_split(path, "test")
    if kind == "photo":
        return lambda path: classify.main([str(path), "--params", fixtures[0], "--json"])
    if kind in ("params", "network", "cnn"):
        return params.load_params
    if kind == "calibration":
        return lambda path: calibration_file.load_calibration(path, n_x=12288)
    if kind == "features":  # loaded, then every pixel read as a stage reads them, by blocks
        return lambda path: [sum(X_block.sum() for _, X_block in raw_blocks(f[key]))
                             for f in [feature_file.load_features(path)]
                             for key in ("X_train", "X_test")]
    if kind == "sparse":  # the features stage on it, as train file; fixtures: test file, out
        return lambda path: features_stage.main(["--train-file", str(path), "--test-file",
                                                 fixtures[0], "--out", fixtures[1], "--quiet"])
    if kind == "metrics":
        return lambda path: report.load_inputs(fixtures[0], path, fixtures[1])
    if kind == "section":  # an optional section: the page must still be made
        run_for = {"train_sha256": "a", "test_sha256": "b", "model": "logistic"}

        def section(path):
            text = assemble.section_html(path.parent, "cv", "Cross-validation", "<p>none</p>",
                                         run_for)
            assert isinstance(text, str) and text.startswith("<")
        return section
    raise SystemExit(f"unknown kind {kind}")


def exit_code(result):
    """A stage's main returns its exit code; a loader returns what it loaded (success)."""
    return result if isinstance(result, int) else 0


def main():
    kind, folder, *fixtures = sys.argv[1:]
    load = loader(kind, fixtures)
    for path in sorted(Path(folder).rglob("mutant*")):
        if kind == "section":
            path.rename(path.with_name("section.json"))
            path = path.with_name("section.json")
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = run(lambda argv, p=path: exit_code(load(p)), [])
        print(json.dumps({"mutant": path.parent.name + "/" + path.name, "code": code,
                          "stderr": err.getvalue()}), flush=True)
        if kind == "section":
            path.unlink()


if __name__ == "__main__":
    main()
