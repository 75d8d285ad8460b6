"""Shape contracts: a ValueError that names the shape passed and the one expected, kept under
python -O; the engines check their training and test sets with it."""

import numpy as np
import pytest

from pipeline.engines.logistic import gradient_descent
from pipeline.engines.network import train_networks
from pipeline.shapes import check_sets, check_shape, dims

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def test_dims_are_plain_ints():
    shape = dims(np.zeros((2, 3)).shape[::-1] + (np.int64(4),))
    assert shape == (3, 2, 4) and all(type(n) is int for n in shape)


def test_check_shape_names_both_shapes_and_where_the_expected_one_comes_from():
    check_shape("w", np.zeros((3, 1)), (3, 1))
    with pytest.raises(ValueError, match=r"^w has shape \(3,\), expected \(3, 1\)$"):
        check_shape("w", np.zeros(3), (3, 1))
    with pytest.raises(ValueError, match=r"^w has shape \(2, 1\), expected \(3, 1\) for X of "
                                         r"shape \(3, 5\)$"):
        check_shape("w", np.zeros((2, 1)), (3, 1), of=("X", np.zeros((3, 5))))


def test_matching_sets_pass():
    assert check_sets(np.zeros((3, 5)), np.zeros((1, 5)), np.zeros((3, 2)), np.zeros((1, 2))) \
        is None


@pytest.mark.parametrize("change, message", [
    ({"Y": np.zeros((1, 4))}, r"Y has shape \(1, 4\), expected \(1, 5\) for X of shape \(3, 5\)"),
    ({"Y": np.zeros(5)}, r"Y has shape \(5,\), expected \(1, 5\)"),
    ({"X_test": np.zeros((2, 2))}, r"X_test has shape \(2, 2\), expected \(3, 2\) for X of "),
    ({"Y_test": np.zeros((1, 3))}, r"Y_test has shape \(1, 3\), expected \(1, 2\) for X_test "),
])
def test_the_engines_refuse_sets_that_do_not_match(change, message):
    sets = {"X": np.zeros((3, 5)), "Y": np.zeros((1, 5)), "X_test": np.zeros((3, 2)),
            "Y_test": np.zeros((1, 2)), **change}
    X, Y, X_test, Y_test = sets["X"], sets["Y"], sets["X_test"], sets["Y_test"]
    with pytest.raises(ValueError, match=message):
        gradient_descent(X, Y, [0.1], 2, X_test, Y_test)
    start = {"W1": np.zeros((2, 3)), "b1": np.zeros((2, 1)), "W2": np.zeros((1, 2)),
             "b2": np.zeros((1, 1))}
    with pytest.raises(ValueError, match=message):
        train_networks(X, Y, start, [0.1], 2, X_test=X_test, Y_test=Y_test)
