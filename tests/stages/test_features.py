"""The features stage through its command line: a bad file is one line and keeps the previous
output."""

import numpy as np
from helpers import assert_one_line_error, run_cli, write_h5


def test_features_cli_bad_file_keeps_the_previous_output(tmp_path):
    good_train = write_h5(tmp_path / "train.h5", "train")
    test = write_h5(tmp_path / "test.h5", "test")
    out = tmp_path / "features.npz"
    assert run_cli("features", "--train-file", good_train, "--test-file", test,
                   "--out", out).returncode == 0
    before = out.read_bytes()
    bad = write_h5(tmp_path / "bad.h5", "train", labels=np.array([0, 1, 7, 1, 0, 1]))
    result = run_cli("features", "--train-file", bad, "--test-file", test, "--out", out)
    assert_one_line_error(result, "bad.h5", "labels must be 0 or 1")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5", "features.npz", "test.h5",
                                                          "train.h5"]
