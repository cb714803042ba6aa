"""The hand-written backprop against finite differences, for every activation × loss × regularizer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nnopt_cli import losses, mlp, regularizers

CASES = list(itertools.product(mlp.ACTIVATIONS, losses.LOSSES, regularizers.REGULARIZERS))


def objective(net: mlp.MLP, loss: str, reg: str, scale: float, row: np.ndarray, x, y) -> float:
    """The full objective written straight from its definition, with no shared code path but `output`."""
    h = net.hidden
    w1 = row[: 2 * h].reshape(2, h)
    b1 = row[2 * h : 3 * h]
    w2 = row[3 * h : 4 * h].reshape(h, 1)
    b2 = row[4 * h :]
    z1 = x @ w1 + b1
    if net.activation == "relu":
        a1 = np.maximum(z1, 0)
    elif net.activation == "leaky_relu":
        a1 = np.where(z1 > 0, z1, net.leaky_alpha * z1)
    elif net.activation == "sigmoid":
        a1 = 1 / (1 + np.exp(-z1))
    else:
        a1 = np.tanh(z1)
    out = a1 @ w2 + b2
    if loss == "mse":
        data = np.mean((y - out) ** 2)
    else:
        p = 1 / (1 + np.exp(-out))
        data = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    w = np.concatenate([w1.ravel(), w2.ravel()])
    penalty = {"none": 0.0, "l2": scale * np.sum(w**2) / 2, "l1": scale * np.sum(np.abs(w))}[reg]
    return float(data + penalty)


def analytic_grad(net, loss, reg, scale, row, x, y) -> np.ndarray:
    theta = row[None].copy()
    grads = np.zeros_like(theta)
    bp = mlp.Backprop(net, loss, theta, grads)
    xa = mlp.augment(x)
    bp(xa.T.copy(), y)
    regularizers.add_grad(reg, scale * net.weight_mask(), theta, grads)
    return grads[0]


@pytest.mark.parametrize(("activation", "loss", "reg"), CASES)
def test_gradient_matches_finite_differences(activation: str, loss: str, reg: str) -> None:
    rng = np.random.default_rng(7)
    net = mlp.MLP(hidden=5, activation=activation, leaky_alpha=0.1)
    row = rng.standard_normal(net.n_params)
    x = rng.standard_normal((9, 2))
    y = (rng.random((9, 1)) < 0.5).astype(float)
    # keep away from the kinks of relu and |w| so that central differences are valid
    h = net.hidden
    z1 = x @ row[: 2 * h].reshape(2, h) + row[2 * h : 3 * h]
    assert np.min(np.abs(z1)) > 1e-4
    assert np.min(np.abs(row)) > 1e-4
    scale = 0.03
    got = analytic_grad(net, loss, reg, scale, row, x, y)
    eps = 1e-6
    want = np.empty_like(row)
    for i in range(row.size):
        up, down = row.copy(), row.copy()
        up[i] += eps
        down[i] -= eps
        want[i] = (
            objective(net, loss, reg, scale, up, x, y) - objective(net, loss, reg, scale, down, x, y)
        ) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_regularizer_never_touches_biases() -> None:
    net = mlp.MLP(hidden=4)
    mask = net.weight_mask()
    arrays = net.to_arrays(mask)
    assert np.all(arrays["w1"] == 1) and np.all(arrays["w2"] == 1)
    assert np.all(arrays["b1"] == 0) and np.all(arrays["b2"] == 0)


def test_stacked_rows_equal_single_runs_bitwise() -> None:
    rng = np.random.default_rng(3)
    net = mlp.MLP(hidden=11)
    rows = rng.standard_normal((4, net.n_params))
    x = rng.standard_normal((32, 2))
    y = (rng.random((32, 1)) < 0.5).astype(float)
    xa = mlp.augment(x)
    stacked = rows.copy()
    grads = np.zeros_like(stacked)
    mlp.Backprop(net, "mse", stacked, grads)(xa.T.copy(), y)
    for i in range(4):
        one = rows[i : i + 1].copy()
        g1 = np.zeros_like(one)
        mlp.Backprop(net, "mse", one, g1)(xa.T.copy(), y)
        assert np.array_equal(g1[0], grads[i])


def test_layout_round_trip_and_shapes() -> None:
    net = mlp.MLP(hidden=3)
    flat = np.arange(net.n_params, dtype=float)
    arrays = net.to_arrays(flat)
    assert {k: v.shape for k, v in arrays.items()} == {
        "w1": (2, 3),
        "b1": (3,),
        "w2": (3, 1),
        "b2": (1,),
    }
    assert np.array_equal(net.from_arrays(arrays), flat)


def test_output_is_the_textbook_forward_pass() -> None:
    rng = np.random.default_rng(0)
    net = mlp.MLP(hidden=11)
    row = net.init("normal", rng)
    x = rng.standard_normal((5, 2))
    a = net.to_arrays(row)
    want = np.maximum(x @ a["w1"] + a["b1"], 0) @ a["w2"] + a["b2"]
    np.testing.assert_allclose(net.output(row[None], x)[0], want, rtol=1e-14)


def test_course_init_is_standard_normal_weights_and_small_biases() -> None:
    net = mlp.MLP(hidden=11)
    a = net.to_arrays(net.init("normal", np.random.default_rng(0)))
    assert np.all(a["b1"] == 0.01) and np.all(a["b2"] == 0.01)
    big = mlp.MLP(hidden=2000).init("normal", np.random.default_rng(1))
    weights = big[big.size * 0 : 2 * 2000]
    assert abs(np.std(weights) - 1.0) < 0.05
    he = mlp.MLP(hidden=2000).to_arrays(mlp.MLP(hidden=2000).init("he", np.random.default_rng(1)))
    assert abs(np.std(he["w2"]) - np.sqrt(2 / 2000)) < 0.003
    xa = mlp.MLP(hidden=2000).to_arrays(mlp.MLP(hidden=2000).init("xavier", np.random.default_rng(1)))
    assert abs(np.std(xa["w1"]) - np.sqrt(2 / 2002)) < 0.003
