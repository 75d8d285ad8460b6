#!/usr/bin/env python3
"""Classify your own photos with the trained neuron: `scripts/classify.py PHOTO_OR_FOLDER ...`.

`--help` lists the options. Run it with the project's Python (`.venv/bin/python`, which
`make train` sets up) from anywhere; the model defaults to data/models/params.npz.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # works without installing too
os.environ.setdefault("CATVNONCAT_HOME", str(ROOT))  # from anywhere: this checkout's model

from pipeline.cli import run  # noqa: E402
from pipeline.stages.classify import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run(main, process=True))
