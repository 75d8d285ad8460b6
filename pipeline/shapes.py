"""Shape contracts between a caller and the library: a ValueError that names the shape passed and
the shape expected. Never an assert, which `python -O` strips."""

from collections.abc import Iterable
from typing import Any, Protocol, SupportsInt

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]  # float64 arrays: X's columns, weights, gradients, scores
Pixels = NDArray[np.uint8]  # pixel integers 0..255, as features.npz stores them
Labels = NDArray[Any]  # 0 / 1: int64 as the features hold them, or float64 as the course's
Parameters = dict[str, Array]  # the course's {"W1": (n_1, n_0), "b1": (n_1, 1), ..., "WL", "bL"}


class Shaped(Protocol):
    """Anything with a shape: an ndarray, or columns.PixelColumns."""

    @property
    def shape(self) -> tuple[int, ...]: ...


def dims(shape: Iterable[SupportsInt]) -> tuple[int, ...]:
    """A shape as plain ints: (3, 1), never (np.int64(3), 1)."""
    return tuple(int(n) for n in shape)


def check_shape(name: str, array: Shaped, expected: Iterable[SupportsInt],
                of: tuple[str, Shaped] | None = None) -> None:
    """Raise ValueError unless array.shape == expected.

    of : optional (name, array) the expected shape comes from, named in the message too
    """
    if dims(array.shape) != dims(expected):
        origin = f" for {of[0]} of shape {dims(of[1].shape)}" if of else ""
        raise ValueError(f"{name} has shape {dims(array.shape)}, expected {dims(expected)}"
                         f"{origin}")


def check_sets(X: Shaped, Y: Shaped, X_test: Shaped, Y_test: Shaped) -> None:
    """Y (1, m) labels X (n_x, m); X_test (n_x, m_test), Y_test (1, m_test) likewise."""
    check_shape("Y", Y, (1, X.shape[1]), of=("X", X))
    check_shape("X_test", X_test, (X.shape[0], X_test.shape[1]), of=("X", X))
    check_shape("Y_test", Y_test, (1, X_test.shape[1]), of=("X_test", X_test))
