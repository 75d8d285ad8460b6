"""Stage `train`: gradient descent on the features (one neuron from zeros, or a week-4 network
from the course's seed-1 start); writes the weights, costs and the run's config, and keeps the
run in the ledger (data/runs), from where the same run is restored instead of trained again.
With --metrics it also writes what `evaluate` would (make train does): each split is scored once
after the fit, and those scores serve the params' test counts, the record and the metrics."""

import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import config
from pipeline.artifacts.feature_file import Features, load_features
from pipeline.artifacts.files import write_json
from pipeline.artifacts.params import load_params, run_params
from pipeline.cli import Parser, positive_float
from pipeline.engines.fit import train
from pipeline.evaluation.metrics import metrics, summary_lines
from pipeline.runs.ledger import copy_params, intact_run, save_run
from pipeline.runs.record import identity, outcome, run_record
from pipeline.runs.render import started_at
from pipeline.stages.options import add_training_options, fit_progress, settings_of


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline train", description=__doc__.splitlines()[0])
    parser.add_argument("--learning-rate", type=positive_float, metavar="X",
                        help="alpha (default: the course's for the model)")
    add_training_options(parser)
    parser.add_argument("--out", type=Path, default=config.PARAMS_FILE)
    parser.add_argument("--metrics", type=Path, metavar="PATH",
                        help="also write the run's metrics there, as evaluate does")
    args = parser.parse_args(argv)
    features = load_features(args.features)
    settings = settings_of(args, features["X_train"].shape[0], config.LEARNING_RATE,
                           config.NUM_ITERATIONS)
    if args.learning_rate is not None:
        settings = replace(settings, learning_rate=args.learning_rate)
    started = datetime.now(UTC)
    rid, fingerprint = identity(settings, args.engine, features)
    kept, damage = intact_run(args.runs_dir, rid)
    if kept:
        copy_params(args.runs_dir, kept, args.out)
        print(f"restored run {rid[:6]} (trained {started_at(kept)}, {kept['duration_s']:.1f} s); "
              f"wrote {args.out}", file=sys.stderr)
        if args.metrics:
            write_metrics(args.metrics, metrics(load_params(args.out), features), features)
        return
    if damage:
        print(f"{damage}: training it again", file=sys.stderr)
    with fit_progress(features, settings, f"train {args.model} lr={settings.learning_rate}",
                      args.quiet) as bar:
        run = train(features, settings, engine=args.engine, on_progress=bar.update)
    if run["settings"].optimizer.mini_batch_size < settings.optimizer.mini_batch_size:
        print(f"note: a batch of {settings.optimizer.mini_batch_size} is more than the "
              f"{run['settings'].optimizer.mini_batch_size} training images: one batch of "
              "them all per epoch", file=sys.stderr)
    params, Z_of = run_params(run, 0, features)  # Z_of: each split's scores, (1, m)
    record = run_record((rid, fingerprint), run["settings"], run["engine"], params, features,
                        command="train", started=started, finished=datetime.now(UTC),
                        data_path=args.features, scored=outcome(params, features, Z_of))
    # the run is kept first and --out is a copy of it: a ledger that cannot be written leaves
    # the previous model as it was, and a restore gives the very bytes trained here
    copy_params(args.runs_dir, save_run(args.runs_dir, record, params), args.out)
    print(f"trained {run['settings'].num_iterations} steps, {run['settings'].described()} "
          f"({run['engine']}): cost {cost_change(run, params, record['final_cost'])}; "
          f"run {rid[:6]}; wrote {args.out}", file=sys.stderr)
    if args.metrics:
        write_metrics(args.metrics, metrics(params, features, Z_of), features)


def write_metrics(path: Path, result: Mapping[str, Any], features: Features) -> None:
    """metrics.json written (atomically) and its lines printed, as the evaluate stage does."""
    write_json(path, result)
    print("\n".join(summary_lines(result, features)))


def cost_change(run: Mapping[str, Any], params: Mapping[str, Any], final: float) -> str:
    """How the cost went: for gd its first point, its curve's last (the course prints the cost
    every 100 steps) and after the last step; for mini-batches, from the first batch's to the
    last epoch's running mean."""
    costs, steps = params["costs"], run["settings"].num_iterations
    if "start_costs" in run:
        return (f"{run['start_costs'][0]:.6f} (the first batch's, at the start) -> "
                f"{costs[-1]:.6f} (the last epoch's running mean)")
    last = int(params["iterations"][-1])
    points = [f"{costs[0]:.6f} at step 0", *([f"{costs[-1]:.6f} at step {last}"] if last else []),
              f"{final:.6f} after step {steps}"]
    return ", ".join(points)
