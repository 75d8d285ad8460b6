"""engines/masked_network.py: cross-validation's rows of networks on masked columns are
separate textbook fits, each on its own columns, with dropout too (the masks cut from one draw)."""

import numpy as np
import pytest
from network_problems import assert_parameters_close, random_problem

from pipeline.engines.masked_network import masked_network_steps, row_parameters
from pipeline.nn.dropout import backward_propagation_with_dropout
from pipeline.nn.network import (
    L_model_forward,
    linear_activation_forward,
    optimize,
    update_parameters,
)

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


def textbook_fit_with_masks(X, Y, parameters, lr, l2, n, draws, keep_prob):
    """The course's loop with dropout (nn.dropout's backward, nn.network's forward and update)
    on X's columns, its masks D = U < keep_prob from the given U's, one per hidden layer a step."""
    L = len(parameters) // 2
    for step in range(n):
        A, cache = X, []
        for layer in range(1, L):
            W, b = parameters[f"W{layer}"], parameters[f"b{layer}"]
            A, (_, Z) = linear_activation_forward(A, W, b, "relu")
            D = draws[step][layer - 1] < keep_prob
            A = A * D / keep_prob
            cache += [Z, D, A, W, b]
        W, b = parameters[f"W{L}"], parameters[f"b{L}"]
        AL, (_, ZL) = linear_activation_forward(A, W, b, "sigmoid")
        grads = backward_propagation_with_dropout(X, Y, (*cache, ZL, AL, W, b), keep_prob, l2)
        parameters = update_parameters(parameters, grads, lr)
    return parameters


@pytest.mark.parametrize("layer_dims", [[7, 4, 1], [12, 5, 3, 1]])
def test_a_masked_row_with_dropout_is_the_textbook_loop_fed_its_columns_of_each_draw(layer_dims):
    M, n, keep = 10, 60, 0.8
    X, Y, start = random_problem(layer_dims, M, seed=len(layer_dims))
    train_mask = np.ones((3, M))
    train_mask[0, [2, 5, 7]] = 0  # row 0 holds out three columns
    train_mask[1, [0, 1]] = 0
    lr, l2 = np.array([[0.1], [0.1], [0.05]]), np.array([[0.3], [0.0], [0.0]])
    keep_prob = np.array([[keep], [1.0], [0.5]])
    state = masked_network_steps(X.T @ X, start["W1"] @ X, Y, start, lr=lr, l2=l2,
                                 train_mask=train_mask, num_iterations=n, at=[n],
                                 checkpoint=lambda i, ZL: None, keep_prob=keep_prob,
                                 rng=np.random.RandomState(5))
    rng = np.random.RandomState(5)  # the engine's draws again: U (n_l, M) per hidden layer
    draws = [[rng.rand(n_l, M) for n_l in layer_dims[1:-1]] for _ in range(n)]
    columns = train_mask[0] == 1
    mine = [[U[:, columns] for U in step] for step in draws]
    want = textbook_fit_with_masks(X[:, columns], Y[:, columns], start, 0.1, 0.3, n, mine, keep)
    got = row_parameters(state, 0, X)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-10, err_msg=key)
    assert not np.allclose(got["W2"], optimize(X[:, columns], Y[:, columns], start, 0.1, n,
                                               lambd=0.3)[0]["W2"])  # the masks mattered


def test_a_row_without_dropout_is_the_same_beside_rows_with_dropout():
    M, n = 12, 80
    X, Y, start = random_problem([9, 6, 4, 1], M, seed=3)
    train_mask = np.ones((4, M))
    train_mask[:, :3] = 0
    train_mask[1::2, 3:6] = 0
    lr, l2 = np.full((4, 1), 0.1), np.array([[0.0], [0.0], [0.5], [0.5]])

    def run(keep_prob, rows=slice(None)):
        seen = {}
        state = masked_network_steps(X.T @ X, start["W1"] @ X, Y, start, lr=lr[rows],
                                     l2=l2[rows], train_mask=train_mask[rows], num_iterations=n,
                                     at=[n], checkpoint=lambda i, ZL: seen.setdefault(i, ZL),
                                     keep_prob=keep_prob, rng=np.random.RandomState(2))
        return state, seen[n]

    state, ZL = run(np.array([[1.0], [0.8], [1.0], [0.8]]))
    alone, ZL_alone = run(None, slice(0, None, 2))  # rows 0 and 2, no dropout at all
    for j, r in enumerate((0, 2)):
        np.testing.assert_allclose(ZL[r], ZL_alone[j], rtol=0, atol=1e-12)
        for key, value in row_parameters(alone, j, X).items():
            np.testing.assert_allclose(row_parameters(state, r, X)[key], value, rtol=0,
                                       atol=1e-12, err_msg=key)
    assert np.abs(ZL[1] - run(None)[1][1]).max() > 1e-3  # row 1 dropped units
