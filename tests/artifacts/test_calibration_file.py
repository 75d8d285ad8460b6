"""artifacts/calibration_file.py: the loader refuses each kind of damage in one line naming
`make calibrate`, and calibration_for says why a p is shown raw."""

import numpy as np
import pytest

from pipeline.artifacts.calibration_file import (
    SPEC,
    calibrated,
    calibration_for,
    load_calibration,
)
from pipeline.artifacts.files import sha256_of, write_npz
from pipeline.errors import UserError


def record(m=10, n_x=6):
    """A whole calibration of m images, as calibration_record writes one."""
    figures = np.array([0.2, 0.1, 0.3, 0.25, 0.7])
    return {"method": np.array("temperature"), "reason": np.array(""),
            "temperature": np.array(2.0), "platt": np.array([0.5, -0.1]),
            "held_out_log_loss": np.array([0.6, 0.59]), "platt_changes": np.array(2),
            "folds": np.array(2), "seed": np.array(0), "params_sha256": np.array("0" * 64),
            "oof_logits": np.linspace(-2, 2, m), "fold_of": np.arange(m) % 2,
            "oof_before": figures, "oof_after": figures / 2, "test_before": figures,
            "test_after": figures, "bands": np.array([[4, 2], [3, 2], [3, 3], [0, 0], [0, 0]]),
            "train_counts": np.array([m, 4]), "mean_input": np.full((n_x, 1), 0.5),
            "seconds": np.array(0.1)}


def test_a_whole_record_loads_with_every_key_of_the_spec(tmp_path):
    write_npz(tmp_path / "c.npz", **record())
    c = load_calibration(tmp_path / "c.npz", n_x=6)
    assert set(c) == set(SPEC) and float(c["temperature"]) == 2.0
    assert calibrated(c, 2.0) == pytest.approx(1 / (1 + np.exp(-1)))


@pytest.mark.parametrize(("change", "fragment"), [
    ({"temperature": np.array(0.0)}, "temperature"),
    ({"temperature": np.array(np.nan)}, "temperature"),
    ({"method": np.array("platt")}, "unknown method"),
    ({"oof_logits": np.zeros(9)}, "do not agree"),
    ({"train_counts": np.array([10, 0])}, "do not agree"),
    ({"bands": np.array([[4, 5], [3, 2], [3, 3], [0, 0], [0, 0]])}, "impossible"),
    ({"bands": np.zeros((4, 2), int)}, "make calibrate"),
    ({"fold_of": np.arange(10) % 3}, "folds do not fit"),
    ({"oof_after": np.full(5, np.inf)}, "not finite"),
    ({"mean_input": np.zeros((7, 1))}, "the model takes 6"),
    ({"seed": np.array("zero")}, "make calibrate"),
])
def test_each_kind_of_damage_is_one_line_naming_make_calibrate(tmp_path, change, fragment):
    write_npz(tmp_path / "c.npz", **{**record(), **change})
    with pytest.raises(UserError, match="make calibrate") as err:
        load_calibration(tmp_path / "c.npz", n_x=6)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_why_a_p_is_shown_raw(tmp_path):
    params = tmp_path / "params.npz"
    params.write_bytes(b"the model")
    path = tmp_path / "c.npz"
    assert "not found" in calibration_for(params, path)[1]
    write_npz(path, **{**record(), "params_sha256": np.array(sha256_of(params))})
    assert calibration_for(params, path)[1] == ""
    params.write_bytes(b"another model")
    assert "is stale" in calibration_for(params, path)[1]
    write_npz(path, **{**record(), "params_sha256": np.array(sha256_of(params)),
                       "method": np.array("none"), "reason": np.array("one class")})
    found, note = calibration_for(params, path)
    assert found is None and "no calibration could be fitted (one class)" in note
    path.write_bytes(b"damaged")
    assert "make calibrate" in calibration_for(params, path)[1]
