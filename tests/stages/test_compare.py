"""Comparing learning rates: the course's numbers, the record format, and bad lists refused."""

import json

import pytest
from helpers import LOG_2, assert_one_line_error, run_cli
from PIL import Image

from pipeline.artifacts.params import load_params

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)

COURSE = {  # learning rate -> (train %, test %) at 1500 iterations, as the course publishes them
    0.01: (99.52153110047847, 68.0),
    0.001: (88.99521531100478, 64.0),
    0.0001: (68.42105263157895, 36.0),
}


@pytest.fixture(scope="module")
def comparison(features_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "compare"
    result = run_cli("compare", "--features", features_file, "--out-dir", out)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_the_courses_three_rates(comparison):
    records = json.loads((comparison[0] / "summary.json").read_text())
    got = {r["learning_rate"]: (r["train_accuracy"], r["test_accuracy"]) for r in records}
    assert got == COURSE


def test_record_format_and_params_usable_as_a_model(comparison):
    out, _ = comparison
    for record in json.loads((out / "summary.json").read_text()):
        assert {"learning_rate", "num_iterations", "train_accuracy", "test_accuracy",
                "final_cost", "costs"} <= set(record)
        assert record["num_iterations"] == 1500 and len(record["costs"]) == 15
        assert record["costs"][0] == LOG_2
        assert 0 < record["final_cost"] < record["costs"][0]
        params = load_params(out / record["params"])
        assert float(params["learning_rate"]) == record["learning_rate"]


def test_each_test_accuracy_comes_with_its_interval_and_the_majority_baseline(comparison):
    from pipeline.evaluation.stats import clopper_pearson

    records = json.loads((comparison[0] / "summary.json").read_text())
    for r in records:
        right = round(r["test_accuracy"] / 2)  # of 50 test images
        assert r["test_accuracy_ci95"] == pytest.approx(
            [100 * v for v in clopper_pearson(right, 50)])
        assert (r["test_no_information_rate"], r["test_majority_label"]) == (66.0, 1)
    assert "53.3-80.5 %" in comparison[1]  # 34 of 50, printed beside 68.0 %
    assert 'always cat: 66.0 % of the test images.' in (comparison[0] / "summary.md").read_text()


def test_table_printed_and_written(comparison):
    out, stdout = comparison
    lines = stdout.splitlines()
    assert lines[0].split()[:2] == ["learning", "rate"] and len(lines) == 4
    assert "99.52153110047847 %" in lines[1] and max(map(len, lines)) <= 80
    markdown = (out / "summary.md").read_text()
    assert "| 0.001 |" in markdown and "88.99521531100478 %" in markdown
    with Image.open(out / "learning_rates.png") as image:
        assert image.format == "PNG" and image.width >= 600


@pytest.mark.parametrize("args, message, code", [
    (["--learning-rates"], "expected at least one argument", 2),
    (["--learning-rates", "0.01", "0"], "must be a finite number > 0", 2),
    (["--learning-rates", "nan"], "must be a finite number > 0", 2),
    (["--learning-rates", "0.01", "slow"], "is not a number", 2),
    (["--learning-rates", "0.01", "1e-2"], "0.01 is given twice", 1),
    (["--num-iterations", "0"], "must be at least 1", 2),
    (["--learning-rates", "0.01", "1e308", "--num-iterations", "3"], "1e+308 diverged", 1),
])
def test_bad_lists_are_refused_and_the_earlier_comparison_kept(comparison, features_file, args,
                                                               message, code):
    out, _ = comparison
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = run_cli("compare", "--features", features_file, "--out-dir", out, *args)
    assert_one_line_error(result, message, code=code)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["compare"]  # no temp folders left
