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
from pipeline.cv.folds import check_options, stratified_folds
from pipeline.cv.gram import cross_validate, final_fit, layer_groups
from pipeline.cv.minibatch import (
    cross_validate_minibatch,
    estimate_seconds,
    stacked,
    trains_rates_together,
)
from pipeline.cv.render import section_fragment, summary_markdown, summary_text
from pipeline.cv.rounds import random_rounds
from pipeline.cv.summary import GridPoint, search_grid, summarize
from pipeline.engines.fit import propagate_of, start_of
from pipeline.nn.optimizers import minibatch_steps
from pipeline.page.assemble import refresh
from pipeline.page.sections import write_section
from pipeline.runs.ledger import keep_run
from pipeline.runs.record import identity, run_record
from pipeline.settings import Search, Settings
from pipeline.stages.cv_options import or_range, search_of
from pipeline.stages.options import (
    add_input_options,
    add_model_options,
    add_optimizer_options,
    add_runs_option,
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
    parser.add_argument("--search", choices=("grid", "random"), default="grid",
                        help="grid: every combination of the values given (default); random: "
                        "--trials candidates drawn on each setting's scale (config.SEARCH_SPACE),"
                        " each option a range lo..hi or one value")
    parser.add_argument("--trials", type=positive_int, metavar="N", help="a random search's "
                        f"candidates a round (default {config.CV_TRIALS})")
    parser.add_argument("--zoom", action="store_true", help="a random search's second round, "
                        "drawn inside the region of the first round's best candidates")
    add_model_options(parser, search=or_range)
    parser.add_argument("--learning-rates", type=or_range(positive_float), nargs="*",
                        metavar="X",
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
                          "each epoch", read=or_range)
    parser.set_defaults(beta1=None, beta2=None, mini_batch_size=None)  # cv_options.fixed's
    parser.add_argument("--l2", type=or_range(non_negative_float), nargs="*", metavar="LAMBDA",
                        help=f"L2 strengths to search (default {config.L2})")
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
    search, axes, notes = search_of(args, features["X_train"].shape)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    check_options(features["Y_train"], search.folds, search.repeats, search.learning_rates,
                  search.l2s, search.augments, keep_probs=search.keep_probs)
    def run(grid: list[GridPoint], name: str = "cv") -> dict[str, Any]:
        return (gram_run if search.optimizer.name == "gd" else minibatch_run)(
            features, search, grid, args.quiet, name)

    if axes:
        try:
            result = random_rounds(search, axes, args.trials or config.CV_TRIALS, args.zoom, run)
        except ValueError as err:  # ZOOM with nothing to zoom in on
            raise UserError(f"--zoom: {err}; narrow the ranges or lower the rates") from None
    else:
        result = run(search_grid(search.augments, search.l2s, search.keep_probs,
                                 search.learning_rates))
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
    # imported here, not at the top: a refused option answers before matplotlib's half second
    from pipeline.cv.figure import cv_png
    from pipeline.cv.setting_figure import settings_png

    figure, settings_figure = cv_png(summary, result), settings_png(summary)
    with atomic_dir(args.out_dir) as tmp:
        write_json(tmp / "summary.json", summary)
        write_text(tmp / "summary.md", summary_markdown(summary))
        write_bytes(tmp / "cv.png", figure)
        write_bytes(tmp / "settings.png", settings_figure)
        write_section(tmp, section_fragment(summary), "Settings chosen without the test set",
                      "cross-validation", "make cv", summary["made_for"])
        write_file_list(tmp, "files.txt")
    print(f"{search.folds}-fold x {search.repeats} cross-validation on {summary['m_train']} "
          "training images (the test set chose nothing)")
    print(summary_text(summary))
    print(f"wrote {args.out_dir}/", file=sys.stderr)
    refresh(args.out_dir.parent)


def gram_run(features: Features, search: Search, grid: list[GridPoint], quiet: bool,
             name: str) -> dict[str, Any]:
    """cross_validate on the grid's points under a progress bar: gd, every fold and point of a
    layer shape at once."""
    fits = search.folds * search.repeats * len(grid)
    total = search.num_iterations * len(layer_groups(grid, search.layer_dims))
    with progress_bar(total, f"{name} {fits} fits", quiet) as bar:
        return cross_validate(features, folds=search.folds, repeats=search.repeats,
                              seed=search.seed, learning_rates=(), num_iterations=
                              search.num_iterations, l2s=(), augments=(), grid=grid,
                              on_progress=bar.update, model=search.model,
                              layer_dims=search.layer_dims, init=search.init)


def minibatch_run(features: Features, search: Search, grid: list[GridPoint], quiet: bool,
                  name: str) -> dict[str, Any]:
    """cross_validate_minibatch under a progress bar, after saying how long it should take."""
    X, Y = features["X_train"], features["Y_train"]

    def settings_of(point: GridPoint) -> Settings:
        return search.candidate(point.learning_rate, point.l2, point.augment,
                                search.optimizer.num_epochs, point.keep_prob,
                                options=dict(point.options))

    first = settings_of(grid[0])
    optimizer, start = first.optimizer, start_of(first)
    fits, per_fold = len(grid) * search.folds * search.repeats, search.folds * search.repeats
    runs = len({(p.l2, p.keep_prob, p.options) for p in grid}) if trains_rates_together(
        start) else len(grid)  # one neuron: one pass over the batches for all its rates
    probe = stacked(start, len(grid) // runs) if runs < len(grid) else start
    seconds = estimate_seconds(X, Y, probe, {"folds": search.folds, "count": runs * per_fold},
                               optimizer, step=propagate_of(first))
    print(f"{name}: {fits} fits of {optimizer.num_epochs} epochs of {optimizer.name}, "
          f"estimated {seconds / 60:.1f} minutes", file=sys.stderr)
    fold_of = stratified_folds(Y, search.folds, search.repeats, search.seed)
    m_row = X.shape[1] - X.shape[1] // search.folds
    batches = per_fold * sum(minibatch_steps(m_row, settings_of(point).optimizer.mini_batch_size,
                                             optimizer.num_epochs) for point in grid)
    with progress_bar(batches, f"{name} {fits} fits", quiet, unit="batch") as bar:
        result = cross_validate_minibatch(features, fold_of=fold_of, folds=search.folds,
                                          grid=grid, settings_of=settings_of,
                                          on_progress=bar.update)
    return {"fold_of": fold_of, "grid": grid, **result}
