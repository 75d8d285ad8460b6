"""Stage `cv`: repeated stratified K-fold cross-validation on the training set only.

Every fold x repeat x learning rate x dropout keep_prob x l2 x augment trains at once in the Gram
space of the training set (engines.logistic.masked_gram_steps, engines.masked_network): fold f's
model keeps its dual vector zero outside its own training images, so one (rows, M) x (M, M)
product per step serves them all, and the validation scores come out of the same product. The
candidates are the model after 100, 200, ... steps (with minibatch, momentum or adam: after each
epoch, cv.minibatch); the best mean validation accuracy picks the settings, and only then is the
test set looked at, once, by one fit with those settings (and the search's init) on the whole
training set.
"""

import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline import config
from pipeline.artifacts.feature_file import Features, load_features
from pipeline.artifacts.file_sets import write_file_list
from pipeline.artifacts.files import (
    atomic_dir,
    write_bytes,
    write_json,
    write_text,
)
from pipeline.artifacts.params import Params
from pipeline.cli import (
    Parser,
    UserError,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    progress_bar,
)
from pipeline.cv.figure import cv_png
from pipeline.cv.folds import check_options, stratified_folds
from pipeline.cv.gram import cross_validate, final_fit
from pipeline.cv.minibatch import (
    cross_validate_minibatch,
    estimate_seconds,
    stacked,
    trains_rates_together,
)
from pipeline.cv.render import section_fragment, summary_markdown, summary_text
from pipeline.cv.summary import search_grid, summarize
from pipeline.engines.fit import initial_parameters
from pipeline.nn.optimizers import minibatch_steps
from pipeline.page.assemble import refresh
from pipeline.page.sections import write_section
from pipeline.runs.ledger import keep_run
from pipeline.runs.record import identity, run_record
from pipeline.settings import Search, Settings
from pipeline.stages.options import (
    add_input_options,
    add_model_options,
    add_optimizer_options,
    add_runs_option,
    search_of,
)


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline cv", description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=config.CV_FOLDS, metavar="K",
                        help="folds per repeat (default %(default)s)")
    parser.add_argument("--repeats", type=int, metavar="N",
                        help=f"fresh fold assignments (default {config.CV_REPEATS}; 1 above "
                        f"{config.CV_LARGE_M} training images)")
    parser.add_argument("--seed", type=non_negative_int, default=config.CV_SEED,
                        help="seeds the folds (default %(default)s)")
    add_model_options(parser, search=True)
    parser.add_argument("--learning-rates", type=positive_float, nargs="*", metavar="X",
                        help="the rates to search (default: "
                        f"{' '.join(map(str, config.CV_LEARNING_RATES))} for logistic, "
                        f"{' '.join(map(str, config.CV_NETWORK_LEARNING_RATES))} for a network, "
                        f"{' '.join(map(str, config.CV_MINIBATCH_LEARNING_RATES))} with "
                        "minibatch or adam)")
    parser.add_argument("--num-iterations", type=positive_int, default=config.CV_NUM_ITERATIONS,
                        metavar="N", help="gd's longest run; candidates every "
                        f"{config.CHECKPOINT_EVERY} steps (default %(default)s)")
    add_optimizer_options(parser, None, f"gd (default up to {config.CV_LARGE_M} training "
                          "images), or minibatch or adam (default above): candidates after "
                          "each epoch")
    parser.add_argument("--l2", type=non_negative_float, nargs="*", default=[config.L2],
                        metavar="LAMBDA", help="L2 strengths to search (default %(default)s)")
    parser.add_argument("--augment", nargs="*", default=[config.AUGMENT], metavar="{none,flip}",
                        help="augmentations to search (default %(default)s)")
    add_input_options(parser)
    add_runs_option(parser)
    parser.add_argument("--out-dir", type=Path, default=config.CV_DIR)
    args = parser.parse_args(argv)
    unknown = [a for a in args.augment if a not in config.AUGMENTS]
    if unknown:
        raise UserError(f"--augment {unknown[0]!r}: choose from {', '.join(config.AUGMENTS)}")
    if args.num_iterations < config.CHECKPOINT_EVERY:
        raise UserError(f"--num-iterations {args.num_iterations}: need at least "
                        f"{config.CHECKPOINT_EVERY}, the first candidate")
    features = load_features(args.features)
    search, notes = search_of(args, features["X_train"].shape)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    check_options(features["Y_train"], search.folds, search.repeats, search.learning_rates,
                  search.l2s, search.augments, keep_probs=search.keep_probs)
    fits = search.folds * search.repeats * len(search.learning_rates) * len(search.l2s) * \
        len(search.keep_probs) * len(search.augments)
    if search.optimizer.name == "gd":
        with progress_bar(search.num_iterations, f"cv {fits} fits", args.quiet) as bar:
            result = cross_validate(features, folds=search.folds, repeats=search.repeats,
                                    seed=search.seed, learning_rates=search.learning_rates,
                                    num_iterations=search.num_iterations, l2s=search.l2s,
                                    augments=search.augments, on_progress=bar.update,
                                    model=search.model, layer_dims=search.layer_dims,
                                    keep_probs=search.keep_probs, init=search.init)
    else:
        result = minibatch_run(features, search, fits, args.quiet)
    def kept_final_fit(features: Features, settings: Settings) -> dict[str, Any]:
        """The chosen setting's one fit, kept in the ledger as a run of cv."""
        def keep(run: Mapping[str, Any], params: Params, seconds: float) -> None:
            finished = datetime.now(UTC)
            keep_run(args.runs_dir, run_record(
                identity(settings, config.ENGINE, features), run["settings"], run["engine"],
                params, features, command="cv", started=finished - timedelta(seconds=seconds),
                finished=finished, data_path=args.features), params)

        return final_fit(features, settings, keep)

    summary = summarize(result, features, search, kept_final_fit)
    figure = cv_png(summary, result)
    with atomic_dir(args.out_dir) as tmp:
        write_json(tmp / "summary.json", summary)
        write_text(tmp / "summary.md", summary_markdown(summary))
        write_bytes(tmp / "cv.png", figure)
        write_section(tmp, section_fragment(summary), "Settings chosen without the test set",
                      "cross-validation", "make cv", summary["made_for"])
        write_file_list(tmp, "files.txt")
    print(f"{search.folds}-fold x {search.repeats} cross-validation on {summary['m_train']} "
          "training images (the test set chose nothing)")
    print(summary_text(summary))
    print(f"wrote {args.out_dir}/", file=sys.stderr)
    refresh(args.out_dir.parent)


def minibatch_run(features: Features, search: Search, fits: int, quiet: bool) -> dict[str, Any]:
    """cross_validate_minibatch under a progress bar, after saying how long it should take."""
    optimizer = search.optimizer
    X, Y = features["X_train"], features["Y_train"]
    start = initial_parameters(search.model, search.layer_dims, search.init)
    rates = len(search.learning_rates)
    probe, passes = (stacked(start, rates), fits // rates) if trains_rates_together(start) \
        else (start, fits)  # one neuron: one pass over the batches for all its rates
    seconds = estimate_seconds(X, Y, probe, {"folds": search.folds, "count": passes}, optimizer)
    print(f"cv: {fits} fits of {optimizer.num_epochs} epochs of {optimizer.name}, estimated "
          f"{seconds / 60:.1f} minutes", file=sys.stderr)
    fold_of = stratified_folds(Y, search.folds, search.repeats, search.seed)
    grid = search_grid(search.augments, search.l2s, search.keep_probs, search.learning_rates)
    m_row = X.shape[1] - X.shape[1] // search.folds
    batches = fits * minibatch_steps(m_row, optimizer.mini_batch_size, optimizer.num_epochs)
    with progress_bar(batches, f"cv {fits} fits", quiet, unit="batch") as bar:
        result = cross_validate_minibatch(features, fold_of=fold_of, folds=search.folds,
                                          grid=grid, start=start, optimizer=optimizer,
                                          on_progress=bar.update)
    return {"fold_of": fold_of, "grid": grid, **result}
