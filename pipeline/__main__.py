"""`python -m pipeline STAGE [options]`: run one stage; `--help` after a stage shows its options."""

import importlib
import sys

from pipeline.cli import run

STAGES = {
    "data": "fetch the .h5 files into data/raw, sha256-verified",
    "dataset": "your labelled photo folders -> train.h5/test.h5 in the course's layout",
    "features": "flatten the images into uint8 rows: X (n_x, m), standardized as it is read",
    "train": "gradient descent from zeros; writes data/models/params.npz",
    "evaluate": "train/test accuracy; writes reports/metrics.json",
    "calibrate": "how far to trust p(cat): a temperature fitted without the test set",
    "report": "the run's figures and section, then reports/index.html",
    "assemble": "reports/index.html from the sections that exist (draws nothing)",
    "compare": "one run per learning rate, side by side, in reports/compare/",
    "cv": "cross-validation on the training set: settings chosen without the test set",
    "classify": "classify your own photos with the trained model",
    "runs": "the ledger of runs (data/runs): a table, or runs side by side; reports/runs/",
}


def cli(argv: list[str] | None = None) -> int:
    process, argv = argv is None, sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in STAGES:
        lines = [f"  {name:<10} {what}" for name, what in STAGES.items()]
        print("usage: python -m pipeline STAGE [options]\n\nstages:\n" + "\n".join(lines))
        if argv and argv[0] not in ("-h", "--help"):
            print(f"error: unknown stage {argv[0]!r}", file=sys.stderr)
            return 2
        return 0 if argv else 2
    # The import goes inside run too, so that Ctrl-C while numpy loads is one line as well.
    # Without argv, this is the process's command line: the stage is its whole job.
    stage = f"pipeline.stages.{argv[0]}"
    return run(lambda args: importlib.import_module(stage).main(args), argv[1:], process=process)


if __name__ == "__main__":
    sys.exit(cli())
