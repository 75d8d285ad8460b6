"""Stage `evaluate`: train/test accuracy of the trained model; writes reports/metrics.json."""

from pathlib import Path

from pipeline import config
from pipeline.artifacts.feature_file import load_features
from pipeline.artifacts.files import write_json
from pipeline.artifacts.params import load_params
from pipeline.cli import Parser
from pipeline.evaluation.metrics import check_same_data, metrics, summary_lines


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=config.PARAMS_FILE)
    parser.add_argument("--features", type=Path, default=config.FEATURES_FILE)
    parser.add_argument("--out", type=Path, default=config.METRICS_FILE)
    args = parser.parse_args(argv)
    params, features = load_params(args.params), load_features(args.features)
    check_same_data(params, features, args.params)
    result = metrics(params, features)
    write_json(args.out, result)
    print("\n".join(summary_lines(result, features)))
