"""Mutation survey: do the tests notice when the course's math is wrong?

Each mutant changes one line of pipeline/ (found by an exact pattern that must occur once in its
file: a pattern that matches nothing stops the survey, so it can never silently test nothing),
runs the tests that concern that line, and restores the file's original bytes and date
whatever happens (a failure, a timeout, Ctrl-C, SIGTERM). A mutant is killed when its tests
fail, and survives when they pass.

    python scripts/mutation_survey.py            # every mutant; exit 1 if any survived
    python scripts/mutation_survey.py --list     # the mutants, their lines and tests; no run
    python scripts/mutation_survey.py kappa ...  # only the mutants named

Run it from a checkout whose tests pass. It edits files in place (one at a time): run no other
test or make in the same checkout meanwhile.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# one process for a mutant's few tests (-n 0: under workers, -x ends pytest with exit 2, not 1)
PYTEST = ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0"]
TIMEOUT = 300  # seconds a mutant's tests may take (each takes a few; all pass unmutated in 30)


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the checkout
    pattern: str  # exact text, on one line only of the file
    replacement: str  # what that text becomes
    tests: tuple  # pytest arguments: files or node ids that concern this line
    what: str


MUTANTS = (
    Mutant("gradient", "pipeline/nn/logistic.py",
           "dw = X @ dZ.T / m", "dw = X @ dZ.T / (m + 1)",
           ("tests/nn/test_logistic.py",),
           "the neuron's dw divided by m + 1"),
    Mutant("adam", "pipeline/nn/optimizers.py",
           "s_corrected[d] = new_s[d] / (1 - beta2**t)",
           "s_corrected[d] = new_s[d] / (1 - beta2**(t + 1))",
           ("tests/nn/test_optimizers.py",),
           "Adam's second-moment bias correction one step late"),
    Mutant("scale", "pipeline/columns.py",
           "scale, parts = config.PIXEL_SCALE, PARTS", "scale, parts = 256.0, PARTS",
           ("tests/test_columns.py",),
           "pixel columns taken as x / 256, not x / 255"),
    Mutant("standardize", "pipeline/artifacts/features.py",
           "return X / config.PIXEL_SCALE", "return X / 256.0",
           ("tests/artifacts/test_features.py",),
           "the course's features as x / 256, not x / 255"),
    Mutant("mirror", "pipeline/columns.py",
           "out[flip] = images[:, :, ::-1, :]", "out[flip] = images[:, ::-1, :, :]",
           ("tests/test_columns.py",),
           "the flip augmentation mirrors top-bottom, not left-right"),
    Mutant("relu", "pipeline/nn/layers.py",
           "dZ = dA * (Zs[layer - 2] > 0)", "dZ = dA * (Zs[layer - 2] != 0)",
           ("tests/nn/test_layers.py",),
           "ReLU's derivative 1 for Z < 0 too (a linear unit's), not dZ[Z <= 0] = 0"),
    Mutant("interval", "pipeline/evaluation/stats.py",
           "binomial_upper_tail(k, n, p), alpha / 2)", "binomial_upper_tail(k, n, p), alpha)",
           ("tests/evaluation/test_stats.py",),
           "Clopper-Pearson's lower end at alpha, not alpha / 2"),
    Mutant("tie", "pipeline/cv/summary.py",
           "mean[g, c] > best_value + 1e-9", "mean[g, c] > best_value",
           ("tests/cv/test_summary.py::test_ties_go_to_fewer_iterations_then_the_smaller_rate",
            "tests/cv/test_summary.py::test_a_tie_that_only_the_summation_order_breaks_is_still_a_tie"),
           "no tie margin: a candidate ahead by rounding alone wins"),
    Mutant("kappa", "pipeline/evaluation/stats.py",
           "chance = np.mean(p) * np.mean(y) + np.mean(~p) * np.mean(~y)",
           "chance = np.mean(p) * np.mean(y)",
           ("tests/evaluation/test_stats.py",),
           "kappa's chance agreement without the negative class"),
    Mutant("folds", "pipeline/cv/folds.py",
           "fold_of[r, members] = (dealt + np.arange(len(members))) % folds",
           "fold_of[r, members] = np.arange(len(members)) % folds",
           ("tests/cv/test_folds.py::test_folds_are_stratified_and_the_seed_repeats_them",),
           "each class dealt from fold 0 (folds then differ by up to two)"),
    Mutant("threshold", "pipeline/nn/logistic.py",
           "return (predict_proba(w, b, X) > THRESHOLD).astype(float)",
           "return (predict_proba(w, b, X) >= THRESHOLD).astype(float)",
           ("tests/nn/test_logistic.py",),
           "predict 1 where A >= 0.5 (the course: A > 0.5, strictly)"),
    Mutant("threshold-scores", "pipeline/nn/logistic.py",
           "return (sigmoid(Z) > THRESHOLD).astype(float)",
           "return (sigmoid(Z) >= THRESHOLD).astype(float)",
           ("tests/nn/test_logistic.py::"
            "test_predictions_from_scores_are_predicts_a_score_of_zero_is_not_a_cat",),
           "the stages' predictions from scores: 1 where A >= 0.5"),
    Mutant("threshold-stats", "pipeline/evaluation/stats.py",
           "prediction = sigmoid(Z) > threshold", "prediction = sigmoid(Z) >= threshold",
           ("tests/evaluation/test_stats.py",),
           "the report's statistics: a prediction of 1 where A >= 0.5"),
    Mutant("exif", "pipeline/artifacts/photos.py",
           "return to_rgb(ImageOps.exif_transpose(image))", "return to_rgb(image)",
           ("tests/stages/test_classify.py::"
            "test_exif_rotation_gives_exactly_the_upright_probability",),
           "a photo's EXIF orientation ignored"),
    Mutant("run-id", "pipeline/runs/record.py",
           '"code": fingerprint}, sort_keys=True)', "}, sort_keys=True)",
           ("tests/runs/test_record.py",),
           "a run's id without its code: an edit of the fit would restore the old run"),
    Mutant("restore-check", "pipeline/runs/ledger.py",
           'if sha256_of(folder / PARAMS_NPZ) != record["params_sha256"]:', "if False:",
           ("tests/runs/test_ledger.py",),
           "a kept run's params.npz restored without checking its sha256"),
    Mutant("momentum", "pipeline/nn/momentum.py",
           "new_v[d] = beta * v[d] + (1 - beta) * grads[d]", "new_v[d] = beta * v[d] + grads[d]",
           ("tests/nn/test_momentum.py",),
           "momentum's average without its (1 - beta)"),
    Mutant("decay", "pipeline/nn/momentum.py",
           "math.floor(epoch_num / time_interval)", "(epoch_num / time_interval)",
           ("tests/nn/test_momentum.py",),
           "scheduled decay lowered smoothly, not in steps of time_interval epochs"),
    Mutant("dropout-mask", "pipeline/nn/dropout.py",
           "A = A * D / keep_prob", "A = A * D",
           ("tests/nn/test_dropout.py",),
           "dropout not inverted: the kept units not scaled by 1 / keep_prob"),
    Mutant("running-mean", "pipeline/engines/minibatch.py",
           'record["costs"].append(loss / m + running[1] / m)',
           'record["costs"].append(loss / (m - 1) + running[1] / m)',
           ("tests/engines/test_minibatch.py",),
           "an epoch's running-mean cost divided by m - 1, not the m images it saw"),
)


def locate(mutant):
    """(original bytes, mutated bytes, 1-based line): the pattern must be on exactly one line."""
    path = ROOT / mutant.path
    original = path.read_bytes()
    lines = original.decode().splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if mutant.pattern in line]
    if len(hits) != 1 or lines[hits[0]].count(mutant.pattern) != 1:
        sys.exit(f"error: mutant {mutant.name}: the pattern {mutant.pattern!r} is on "
                 f"{len(hits)} lines of {mutant.path}, not one; update it in {__file__}")
    i = hits[0]
    lines[i] = lines[i].replace(mutant.pattern, mutant.replacement)
    return original, "".join(lines).encode(), i + 1


def command(tests):
    return [sys.executable, *PYTEST, *tests]


def run_tests(tests):
    """(pytest's exit code or None on timeout, the first test that failed or ""), run in its
    own process group so that a timeout or Ctrl-C ends the children it started too. No .pyc is
    written: a mutant's bytecode must never outlive it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    child = subprocess.Popen(command(tests), cwd=ROOT, env=env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = child.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, ""
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    failed = [line.split()[1] for line in out.splitlines() if line.startswith(("FAILED ",
                                                                                "ERROR "))]
    return child.returncode, failed[0] if failed else ""


def survey(mutant):
    """(verdict, line, seconds, the test that failed), the file restored byte for byte and
    date for date."""
    path = ROOT / mutant.path
    original, mutated, line = locate(mutant)
    dates = path.stat()
    start = time.monotonic()
    try:
        path.write_bytes(mutated)
        code, failed = run_tests(mutant.tests)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(dates.st_atime_ns, dates.st_mtime_ns))
    seconds = time.monotonic() - start
    verdict = {None: "killed (timeout)", 0: "SURVIVED", 1: "killed"}.get(
        code, f"error (pytest exit {code})")
    return verdict, line, seconds, failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these mutants (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants; run nothing")
    args = parser.parse_args(argv)
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        sys.exit(f"error: no mutant named {sorted(unknown)[0]!r}; see --list")
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    for mutant in chosen:  # every pattern found before anything runs
        locate(mutant)
    if args.list:
        for m in chosen:
            print(f"{m.name:<12} {m.path}:{locate(m)[2]}  {m.what}\n"
                  f"{'':<12} {m.pattern!r} -> {m.replacement!r}\n"
                  f"{'':<12} {' '.join(command(m.tests)[1:])}")
        return 0
    # Ctrl-C and SIGTERM (even where the shell started us ignoring SIGINT) raise
    # KeyboardInterrupt: survey's finally restores the file being mutated either way
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    total = time.monotonic()
    # a mutant is killed only if its tests fail because of it: they must pass without it
    everything = list(dict.fromkeys(t for m in chosen for t in m.tests))
    if run_tests(everything)[0] != 0:
        sys.exit("error: the tests fail without any mutant; make them pass first: "
                 + " ".join(command(everything)[1:]))
    print(f"The tests pass unmutated ({time.monotonic() - total:.0f} s).\n", flush=True)
    rows = []
    print("| mutant | file:line | result | seconds | first test that failed |\n"
          "|---|---|---|---|---|", flush=True)
    for mutant in chosen:
        verdict, line, seconds, failed = survey(mutant)
        rows.append(verdict)
        print(f"| {mutant.name} | {mutant.path}:{line} | {verdict} | {seconds:.0f} | "
              f"{failed.removeprefix('tests/')} |",
              flush=True)
    killed = sum(v.startswith("killed") for v in rows)
    print(f"\n{killed} of {len(rows)} killed in {time.monotonic() - total:.0f} s. "
          "Each ran: python -m pytest -x -q -p no:cacheprovider TESTS (see --list).")
    return 0 if killed == len(rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # survey's finally has restored the file it had changed
        sys.exit("interrupted: the file being mutated is restored; nothing else was changed")
