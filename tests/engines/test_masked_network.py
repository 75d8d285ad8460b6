"""engines/masked_network.py: cross-validation's rows of networks on masked columns are
separate textbook fits, each on its own columns."""

import numpy as np
import pytest
from network_problems import assert_parameters_close, random_problem

from pipeline.engines.masked_network import masked_network_steps, row_parameters
from pipeline.nn.network import L_model_forward, optimize

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


@pytest.mark.parametrize("layer_dims", [[7, 1], [7, 4, 1], [12, 5, 3, 1]])
@pytest.mark.parametrize("with_l2", [False, True])
def test_masked_rows_are_separate_textbook_fits_on_their_columns(layer_dims, with_l2):
    M, n = 10, 150
    X, Y, start = random_problem(layer_dims, M, seed=len(layer_dims))
    rng = np.random.default_rng(1)
    train_mask = (rng.random((5, M)) < 0.6).astype(float)
    train_mask[:, 0] = 1  # every row trains on something
    train_mask[4] = 1  # and one on everything
    lr = np.array([[0.1], [0.05], [0.2], [0.1], [0.15]])
    l2 = np.array([[0.5], [0.0], [2.0], [0.1], [1.0]]) if with_l2 else np.zeros((5, 1))
    seen = {}
    state = masked_network_steps(X.T @ X, start["W1"] @ X, Y, start, lr=lr, l2=l2,
                                 train_mask=train_mask, num_iterations=n, at=[0, 7, n],
                                 checkpoint=lambda i, ZL: seen.setdefault(i, ZL.copy()))
    assert sorted(seen) == [0, 7, n] and seen[n].shape == (5, M)
    assert state["A"].shape == (5, layer_dims[1], M) and state["c"].shape == (5,)
    for r in range(5):
        columns = train_mask[r] == 1
        assert not state["A"][r][:, ~columns].any()  # A stays zero outside the row's columns
        for i in (0, 7, n):
            parameters, _ = optimize(X[:, columns], Y[:, columns], start, lr[r, 0], i,
                                     lambd=l2[r, 0])
            ZL = L_model_forward(X, parameters)[1][-1][1]  # (1, M): on all the columns
            np.testing.assert_allclose(seen[i][r], ZL[0], rtol=1e-9, atol=1e-12)
        assert_parameters_close(row_parameters(state, r, X), parameters)
