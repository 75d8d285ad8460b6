"""Stage `compare`: one model per learning rate, trained together; table, figure, params."""

import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import config
from pipeline.artifacts.feature_file import Features, load_features
from pipeline.artifacts.file_sets import write_file_list
from pipeline.artifacts.files import (
    atomic_dir,
    write_bytes,
    write_json,
    write_npz,
    write_text,
)
from pipeline.artifacts.params import Params, params_settings, run_params
from pipeline.cli import Parser, UserError, positive_float
from pipeline.engines.fit import train
from pipeline.evaluation.stats import always_answering, majority
from pipeline.page.assemble import refresh
from pipeline.page.sections import made_for, paragraphs, table, write_section
from pipeline.runs.ledger import keep_run
from pipeline.runs.record import code_fingerprint, data_of, outcome, run_id, run_record
from pipeline.stages.options import add_training_options, fit_progress, settings_of
from pipeline.tables import markdown_table, text_table

Summary = Mapping[str, Any]  # one rate's row of summary.json (summary_record)


def params_name(learning_rate: float) -> str:
    return f"params_lr{learning_rate!r}.npz"


def summary_record(params: Params, features: Features, scored: Mapping[str, Any]
                   ) -> dict[str, Any]:
    """One row of summary.json, for the model in `params` (a params.npz dict) and what it
    scores (runs.record.outcome: the numbers its run.json keeps)."""
    label, rate = majority(int(features["Y_test"].sum()), features["Y_test"].shape[1])
    return {**params_settings(params).record(),
            **{key: scored[key] for key in ("train_accuracy", "test_accuracy",
                                            "test_accuracy_ci95", "final_cost", "costs")},
            "test_no_information_rate": rate, "test_majority_label": label,
            "params": params_name(float(params["learning_rate"]))}


COLUMNS = ("learning rate", "final cost", "train accuracy", "test accuracy", "test 95% CI")


def table_rows(records: Sequence[Summary]) -> list[tuple[str, ...]]:
    return [(repr(r["learning_rate"]), f"{r['final_cost']:.6f}", f"{r['train_accuracy']} %",
             f"{r['test_accuracy']} %", "{:.1f}-{:.1f} %".format(*r["test_accuracy_ci95"]))
            for r in records]


def majority_note(records: Sequence[Summary], classes: Sequence[str]) -> str:
    """What always answering the test set's larger class scores: the line to beat."""
    r = records[0]
    return (always_answering(classes[r["test_majority_label"]], r["test_no_information_rate"])
            + " of the test images")


def summary_markdown(records: Sequence[Summary], classes: Sequence[str]) -> str:
    n = records[0]["num_iterations"]
    lines = [f"# Learning rates compared ({n} iterations each, from zeros)", "",
             markdown_table(COLUMNS, table_rows(records))]
    lines += ["", majority_note(records, classes) + ".", "",
              "![cost per learning rate](learning_rates.png)", ""]
    return "\n".join(lines)


def section_fragment(records: Sequence[Summary], classes: Sequence[str]) -> str:
    """The page's comparison section, as HTML."""
    rows = [(r["learning_rate"], r["num_iterations"], f"{r['final_cost']:.6f}",
             f"{r['train_accuracy']:.2f} %", f"{r['test_accuracy']:.2f} %",
             "{:.1f}-{:.1f} %".format(*r["test_accuracy_ci95"])) for r in records]
    return (table(rows, ("learning rate", "iterations", "final cost", "train", "test",
                         COLUMNS[-1]))
            + paragraphs([majority_note(records, classes) + "."])
            + '<p><img class="figure" src="compare/learning_rates.png" '
              'alt="learning curves for each learning rate"></p>'
            + '<p>Details: <a href="compare/summary.md">compare/summary.md</a>, '
              '<a href="compare/summary.json">compare/summary.json</a>.</p>')


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline compare", description=__doc__.splitlines()[0])
    parser.add_argument("--learning-rates", type=positive_float, nargs="+", metavar="X",
                        help="the rates to compare (default: the course's "
                        f"{' '.join(map(str, config.COMPARE_LEARNING_RATES))} for logistic, "
                        f"{' '.join(map(str, config.COMPARE_NETWORK_LEARNING_RATES))} "
                        "for a network)")
    add_training_options(parser)
    parser.add_argument("--out-dir", type=Path, default=config.COMPARE_DIR)
    args = parser.parse_args(argv)
    network = args.model != "logistic"
    rates = args.learning_rates or list(config.COMPARE_NETWORK_LEARNING_RATES if network
                                        else config.COMPARE_LEARNING_RATES)
    twice = sorted({r for r in rates if rates.count(r) > 1})
    if twice:
        raise UserError(f"learning rate {twice[0]!r} is given twice; list each rate once")
    features = load_features(args.features)
    settings = settings_of(args, features["X_train"].shape[0], rates[0],
                           config.COMPARE_NUM_ITERATIONS)
    started = datetime.now(UTC)
    with fit_progress(features, settings, f"compare {len(rates)} rates", args.quiet,
                      len(rates)) as bar:
        run = train(features, settings, learning_rates=rates, engine=args.engine,
                    on_progress=bar.update)
    fitted = [run_params(run, j, features) for j in range(len(rates))]  # (params, scores)
    all_params = [params for params, _ in fitted]
    shared = (datetime.now(UTC) - started) / len(rates)  # the rates trained together
    scored = [outcome(params, features, Z_of) for params, Z_of in fitted]
    records = [summary_record(p, features, o) for p, o in zip(all_params, scored, strict=True)]
    classes = [str(c) for c in features["classes"]]
    # imported here, not at the top: a refused option answers before matplotlib's half second
    from pipeline.page.compare_figure import learning_rates_png

    figure = learning_rates_png(records, run["iterations"], classes, settings.optimizer.unit)
    # each rate kept as a run first: a ledger that cannot be written leaves reports/compare
    fingerprint, data = code_fingerprint(), data_of(features)  # the same for every rate
    for lr, params, result in zip(rates, all_params, scored, strict=True):
        rid = run_id(replace(settings, learning_rate=lr), args.engine, data, fingerprint)
        keep_run(args.runs_dir, run_record(
            (rid, fingerprint), replace(run["settings"], learning_rate=lr), run["engine"],
            params, features, command="compare", started=started, finished=started + shared,
            data_path=args.features, scored=result), params)
    with atomic_dir(args.out_dir) as tmp:
        for lr, params in zip(rates, all_params, strict=True):
            write_npz(tmp / params_name(lr), **params)
        write_json(tmp / "summary.json", records)
        write_text(tmp / "summary.md", summary_markdown(records, classes))
        write_bytes(tmp / "learning_rates.png", figure)
        write_section(tmp, section_fragment(records, classes), "Learning-rate comparison",
                      "comparison", "make compare", made_for(features, args.model))
        write_file_list(tmp, "files.txt")
    print(text_table(COLUMNS, table_rows(records)))
    print(majority_note(records, classes), file=sys.stderr)
    print(f"wrote {args.out_dir}/", file=sys.stderr)
    refresh(args.out_dir.parent)
