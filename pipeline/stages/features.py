"""Stage `features`: the .h5 files -> data/processed/features.npz, (n_x, m) columns, /255."""

import sys
from pathlib import Path

from pipeline import config
from pipeline.artifacts.features import make_features
from pipeline.artifacts.files import write_npz
from pipeline.cli import Parser


def main(argv=None):
    parser = Parser(prog="python -m pipeline features", description=__doc__.splitlines()[0])
    parser.add_argument("--train-file", type=Path, default=config.TRAIN_FILE)
    parser.add_argument("--test-file", type=Path, default=config.TEST_FILE)
    parser.add_argument("--out", type=Path, default=config.FEATURES_FILE)
    args = parser.parse_args(argv)
    features = make_features(args.train_file, args.test_file)
    write_npz(args.out, **features)
    n_x, m_train = features["X_train"].shape
    print(f"{args.out}: X_train ({n_x}, {m_train}), X_test {features['X_test'].shape}",
          file=sys.stderr)
