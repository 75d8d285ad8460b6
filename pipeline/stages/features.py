"""Stage `features`: the .h5 files -> data/processed/features.npz: the images flattened to rows of
uint8 pixels (row j is column j of X), standardized (x / 255) by every stage as it reads them."""

import sys
from pathlib import Path

from pipeline import config
from pipeline.artifacts.split_writer import images_in, write_features
from pipeline.cli import Parser, progress_bar


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline features", description=__doc__.splitlines()[0])
    parser.add_argument("--train-file", type=Path, default=config.TRAIN_FILE)
    parser.add_argument("--test-file", type=Path, default=config.TEST_FILE)
    parser.add_argument("--out", type=Path, default=config.FEATURES_FILE)
    parser.add_argument("--allow-sparse", action="store_true",
                        help="read an .h5 storing under a thousandth of the pixels it declares "
                             "(its chunks never written, read as zeros)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    images = images_in(args.train_file, args.test_file, args.out, args.allow_sparse)
    with progress_bar(images, "features", args.quiet, unit="image") as bar:
        train, test = write_features(args.train_file, args.test_file, args.out, bar.update,
                                     args.allow_sparse)
    size = args.out.stat().st_size
    print(f"{args.out}: X_train {train}, X_test {test} as uint8 pixels, {size / 1e6:.1f} MB",
          file=sys.stderr)
