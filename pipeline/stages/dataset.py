"""Stage `dataset`: your labelled photo folders -> train.h5 and test.h5 in the course's layout.

Through exactly the preprocessing classify uses, with an honest split, and manifest.csv.

SOURCE holds either one folder per class (exactly two; split here by a stratified draw), or
train/ and test/ each holding the same two class folders (the split is kept). Byte-identical
photos are kept once before the draw; a test photo whose pixels equal a training photo's is left
out of test (--keep-duplicates keeps the split as given). See pipeline/artifacts/photo_dataset.py.
"""

import sys
from pathlib import Path

from pipeline.artifacts.photo_dataset import (
    Recipe,
    photo_pool,
    plan_dataset,
    to_decode,
    write_dataset,
)
from pipeline.artifacts.photos import FITS
from pipeline.cli import (
    Parser,
    UserError,
    non_negative_int,
    positive_int,
    progress_bar,
    unit_interval,
)


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline dataset", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, metavar="SOURCE",
                        help="one folder per class, or train/ and test/ holding them")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="the dataset folder to write: train.h5, test.h5, manifest.csv")
    parser.add_argument("--positive", metavar="NAME", help="the class labelled 1 (default: cat)")
    parser.add_argument("--test-fraction", type=unit_interval, default=Recipe.test_fraction,
                        help="share of each class drawn for test (default %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=Recipe.seed,
                        help="seeds the draw (default %(default)s)")
    parser.add_argument("--size", type=positive_int, default=Recipe.size,
                        help="image side (default %(default)s)")
    parser.add_argument("--fit", choices=FITS, default=Recipe.fit,
                        help="as classify (default %(default)s)")
    parser.add_argument("--recursive", action="store_true", help="look inside sub-folders too")
    parser.add_argument("--keep-duplicates", action="store_true",
                        help="keep the split exactly as given; still list duplicates")
    parser.add_argument("--force", action="store_true", help="replace an existing --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.force:
        raise UserError(f"{args.out} exists; choose another --out or add --force to replace it")
    recipe = Recipe(positive=args.positive, test_fraction=args.test_fraction, seed=args.seed,
                    size=args.size, fit=args.fit, recursive=args.recursive,
                    keep_duplicates=args.keep_duplicates)
    with photo_pool() as pool:
        plan = plan_dataset(args.source, recipe, pool)
        photos = sum(map(len, to_decode(plan).values()))
        with progress_bar(photos, "photos", args.quiet, unit="photo") as bar:
            def skipped(path: str, problem: str) -> None:
                bar.clear()
                print(f"skipped: {path}: {problem}", file=sys.stderr)

            kept, left = write_dataset(plan, args.out, recipe, pool, on_progress=bar.update,
                                       on_skip=skipped)
    negative, positive = plan.classes
    print(f"{args.out}: {kept['train']} train and {kept['test']} test photos, classes "
          f"{negative} (0) and {positive} (1); {left} left out (see manifest.csv)")
    print(f"train on it: make train DATA={args.out}")
