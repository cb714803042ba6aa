"""The hand-written backprop of any stack of dense layers against finite differences, and the layout."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nnopt_cli.core import losses, mlp, regularizers

# (output, loss, outputs): every pairing the head accepts, with 1 and 3 outputs
HEADS = [
    ("linear", "mse", 1),
    ("sigmoid", "mse", 1),
    ("linear", "bce", 1),
    ("linear", "mse", 3),
    ("sigmoid", "mse", 3),
    ("softmax", "mse", 3),
    ("linear", "ce", 3),
]
SHAPES = [(), (5,), (4, 3)]
CASES = list(itertools.product(mlp.ACTIVATIONS, HEADS, regularizers.REGULARIZERS, SHAPES))


def _act(name: str, z: np.ndarray, alpha: float) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, alpha * z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    return np.tanh(z)


def objective(net: mlp.MLP, head: tuple[str, str, int], reg: str, scale: float, row, x, labels) -> float:
    """The full objective written straight from its definition (points × features, one layer at a time),
    sharing no code with the library but the parameter layout documented in mlp.py."""
    output, loss, k = head
    a = x
    weights = []
    offset = 0
    for i, (fan_in, fan_out) in enumerate(zip(net.widths, net.widths[1:], strict=False)):
        w = row[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out)
        b = row[offset + fan_in * fan_out : offset + (fan_in + 1) * fan_out]
        offset += (fan_in + 1) * fan_out
        weights.append(w)
        z = a @ w + b
        a = z if i == net.depth - 1 else _act(net.activation, z, net.leaky_alpha)
    z = a  # logits (N, K)
    y = np.eye(k)[labels] if k > 1 else labels[:, None].astype(float)
    if loss == "mse":
        if output == "sigmoid":
            o = 1 / (1 + np.exp(-z))
        elif output == "softmax":
            o = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        else:
            o = z
        data = np.mean((y - o) ** 2)
    elif loss == "bce":
        p = 1 / (1 + np.exp(-z))
        data = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    else:
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        data = -np.mean(np.sum(y * np.log(p), axis=1))
    w_all = np.concatenate([w.ravel() for w in weights])
    penalty = {"none": 0.0, "l2": scale * np.sum(w_all**2) / 2, "l1": scale * np.sum(np.abs(w_all))}[reg]
    return float(data + penalty)


def analytic_grad(net: mlp.MLP, head: losses.Head, reg: str, scale: float, row, x, labels) -> np.ndarray:
    theta = row[None].copy()
    grads = np.zeros_like(theta)
    bp = mlp.Backprop(net, head, theta, grads)
    bp(mlp.inputs_t(x), head.targets(labels))
    regularizers.add_grad(reg, scale * net.weight_mask(), theta, grads)
    return grads[0]


@pytest.mark.parametrize(("activation", "head", "reg", "hidden"), CASES)
def test_gradient_matches_finite_differences(activation, head, reg, hidden) -> None:
    output, loss, k = head
    rng = np.random.default_rng(7)
    net = mlp.MLP((2, *hidden, k), activation, leaky_alpha=0.1)
    row = rng.standard_normal(net.n_params)
    x = rng.standard_normal((9, 2))
    labels = rng.integers(0, max(k, 2), size=9)
    h = 1e-6
    numeric = np.array(
        [
            (
                objective(net, head, reg, 0.3, row + e, x, labels)
                - objective(net, head, reg, 0.3, row - e, x, labels)
            )
            / (2 * h)
            for e in np.eye(net.n_params) * h
        ]
    )
    got = analytic_grad(net, losses.Head(output, loss, k), reg, 0.3, row, x, labels)
    # central differences: truncation ~h²·f''' plus round-off ~ε·|f|/h ≈ 1e-10; both far below 1e-6
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-6)


def test_relu_derivative_at_zero_is_zero() -> None:
    # a pre-activation exactly 0 passes no gradient (TensorFlow's ReluGrad), whatever the data
    net = mlp.MLP((1, 1, 1), "relu")
    theta = np.array([[1.0, 0.0, 2.0, 0.0]])  # z1 = x, a1 = relu(x), out = 2·a1
    grads = np.zeros_like(theta)
    mlp.Backprop(net, losses.Head("linear", "mse", 1), theta, grads)(
        mlp.inputs_t(np.zeros((1, 1))), np.ones((1, 1))
    )
    # d out / d w1 = 2·relu'(0)·x = 0 and d out / d b1 = 2·relu'(0) = 0
    assert grads[0, 0] == 0.0 and grads[0, 1] == 0.0


def test_regularizer_never_touches_biases() -> None:
    net = mlp.MLP((2, 5, 4, 3))
    mask = net.weight_mask()
    arrays = net.to_arrays(mask)
    for key, values in arrays.items():
        assert np.all(values == (1.0 if key.startswith("w") else 0.0)), key


def test_stacked_rows_equal_single_runs_bitwise() -> None:
    rng = np.random.default_rng(3)
    net = mlp.MLP((2, 6, 4, 3), "tanh")
    head = losses.Head("softmax", "mse", 3)
    theta = rng.standard_normal((4, net.n_params))
    x = rng.standard_normal((16, 2))
    y = head.targets(rng.integers(0, 3, 16))
    grads = np.zeros_like(theta)
    mlp.Backprop(net, head, theta, grads)(mlp.inputs_t(x), y)
    for i in range(4):
        alone = np.zeros((1, net.n_params))
        mlp.Backprop(net, head, theta[i : i + 1].copy(), alone)(mlp.inputs_t(x), y)
        assert np.array_equal(alone[0], grads[i])


def test_layout_round_trip_and_shapes() -> None:
    net = mlp.MLP((4, 16, 8, 3))
    assert net.n_params == (4 + 1) * 16 + (16 + 1) * 8 + (8 + 1) * 3
    assert net.shapes() == {"w1": (4, 16), "b1": (16,), "w2": (16, 8), "b2": (8,), "w3": (8, 3), "b3": (3,)}
    row = np.arange(net.n_params, dtype=float)
    arrays = net.to_arrays(row)
    assert {k: v.shape for k, v in arrays.items()} == net.shapes()
    assert np.array_equal(net.from_arrays(arrays), row)
    # the course's 2-H-1 layout: [w1 (2×H) | b1 (H) | w2 (H) | b2 (1)]
    old = mlp.MLP((2, 11, 1))
    a = old.to_arrays(np.arange(old.n_params, dtype=float))
    assert a["w1"].ravel().tolist() == list(range(22)) and a["b1"].tolist() == list(range(22, 33))
    assert a["w2"].ravel().tolist() == list(range(33, 44)) and a["b2"].tolist() == [44.0]


def test_no_hidden_layer_is_one_affine_map() -> None:
    net = mlp.MLP((4, 3))
    rng = np.random.default_rng(0)
    row = rng.standard_normal(net.n_params)
    x = rng.standard_normal((7, 4))
    a = net.to_arrays(row)
    expected = x @ a["w1"] + a["b1"]  # (N, K)
    got = net.logits(row[None], x)[0].T
    # each entry is a sum of 5 products: a few ulps of the largest term per addition
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=8 * 5 * np.finfo(float).eps * np.abs(expected).max()
    )


def test_output_is_the_textbook_forward_pass() -> None:
    rng = np.random.default_rng(1)
    net = mlp.MLP((2, 11, 1))
    row = rng.standard_normal(net.n_params)
    x = rng.standard_normal((50, 2))
    a = net.to_arrays(row)
    expected = np.maximum(x @ a["w1"] + a["b1"], 0) @ a["w2"] + a["b2"]
    got = net.logits(row[None], x)[0].T
    # the output sums 12 products of sums of 3: bound the round-off by the magnitudes summed, a few ulps each
    magnitude = np.abs(np.maximum(x @ a["w1"] + a["b1"], 0)) @ np.abs(a["w2"]) + np.abs(a["b2"])
    np.testing.assert_allclose(got, expected, rtol=0, atol=float(64 * np.finfo(float).eps * magnitude.max()))


def test_forward_in_chunks_equals_one_pass() -> None:
    rng = np.random.default_rng(2)
    net = mlp.MLP((2, 7, 5, 3), "sigmoid")
    theta = rng.standard_normal((3, net.n_params))
    x = rng.standard_normal((1000, 2))
    whole = mlp.Forward(net, theta, x)().copy()
    # 37 points of 3 runs in the buffers of both hidden layers (7 + 1 and 5 + 1 rows)
    forward = mlp.Forward(net, theta, x, chunk_bytes=8 * 3 * (8 + 6) * 37)
    assert forward.chunk == 37
    # a BLAS may sum a product of another shape in another order: each logit sums 6 terms of size ≤ ~|w|
    eps = np.finfo(float).eps
    np.testing.assert_allclose(forward(), whole, rtol=0, atol=32 * eps * np.abs(theta).max() * 6)


def test_course_init_is_standard_normal_weights_and_small_biases() -> None:
    net = mlp.MLP((2, 11, 1))
    rng = np.random.default_rng(0)
    arrays = net.to_arrays(net.init("normal", rng))
    z = np.random.default_rng(0)
    assert np.array_equal(arrays["w1"], z.standard_normal((2, 11)))
    assert np.array_equal(arrays["w2"], z.standard_normal((11, 1)))
    assert np.all(arrays["b1"] == 0.01) and np.all(arrays["b2"] == 0.01)


@pytest.mark.parametrize(
    ("kind", "scale"), [("he", lambda i, o: np.sqrt(2 / i)), ("xavier", lambda i, o: np.sqrt(2 / (i + o)))]
)
def test_scaled_inits_use_each_layers_fan_in(kind, scale) -> None:
    net = mlp.MLP((4, 16, 8, 3))
    arrays = net.to_arrays(net.init(kind, np.random.default_rng(5)))
    z = np.random.default_rng(5)
    for layer, (fan_in, fan_out) in enumerate([(4, 16), (16, 8), (8, 3)], start=1):
        expected = scale(fan_in, fan_out) * z.standard_normal((fan_in, fan_out))
        assert np.array_equal(arrays[f"w{layer}"], expected)
        assert np.all(arrays[f"b{layer}"] == 0.0)


def test_truncated_normal_stays_within_two_std_for_weights_and_biases() -> None:
    net = mlp.MLP((4, 300, 3))
    row = net.init("truncated_normal", np.random.default_rng(11), std=0.1)
    assert np.all(np.abs(row) <= 0.2)
    # N(0, 1) truncated to ±2 has variance 1 − 4φ(2)/(Φ(2) − Φ(−2)) = 0.773741: its sd is 0.879626·std
    phi2 = np.exp(-2.0) / np.sqrt(2 * np.pi)
    sd = 0.1 * np.sqrt(1 - 4 * phi2 / 0.9544997361036416)
    # n = 2,403 draws: the sample sd has a standard error of about sd/√(2n); 6 of those for a fixed seed
    assert abs(row.std() - sd) < 6 * sd / np.sqrt(2 * row.size)
    biases = net.to_arrays(row)["b1"]
    assert np.all(biases != 0.0)  # biases are drawn too


def test_wrong_arrays_name_the_key_and_both_shapes() -> None:
    net = mlp.MLP((2, 11, 1))
    good = net.to_arrays(np.zeros(net.n_params))
    with pytest.raises(mlp.NetworkError, match=r"w2 has shape \(11, 3\), this network needs \(11, 1\)"):
        net.check_arrays({**good, "w2": np.zeros((11, 3))}, "f.npz")
    with pytest.raises(mlp.NetworkError, match="missing array 'b2'"):
        net.check_arrays({k: v for k, v in good.items() if k != "b2"}, "f.npz")
    with pytest.raises(mlp.NetworkError, match="array 'w3' has no layer"):
        net.check_arrays({**good, "w3": np.zeros((1, 1))}, "f.npz")


def test_parameter_count_needs_no_allocation() -> None:
    assert mlp.MLP.count_params((2, 11, 10**9, 1)) == 3 * 11 + 12 * 10**9 + (10**9 + 1)


def test_the_evaluation_buffers_of_every_layer_together_stay_within_the_chunk() -> None:
    # issue 18.6: each of 10,000 layers of width 1 had a buffer of the whole 241² boundary grid: 0.9 MB each
    from nnopt_cli.core.mlp import MLP, Forward

    net = MLP((2, *([1] * 200), 1), "relu", 0.01)
    theta = net.init("normal", np.random.default_rng(0))[None]
    forward = Forward(net, theta, np.zeros((241 * 241, 2)), chunk_bytes=1 << 20)
    assert sum(a.nbytes for a in forward.a) <= 1 << 20
    assert forward().shape == (1, 1, 241 * 241)


def test_more_than_1000_hidden_layers_are_refused() -> None:
    from nnopt_cli.checks import CheckError
    from nnopt_cli.core.mlp import check_hidden

    assert check_hidden([1] * 1000) == (1,) * 1000
    with pytest.raises(CheckError, match="at most 1,000 hidden layers, got 1,001"):
        check_hidden([1] * 1001)
