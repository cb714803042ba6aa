"""The head: softmax cross-entropy against the seed's worked example, outputs, predictions, pairings."""

from __future__ import annotations

import numpy as np
import pytest

from nnopt_cli.core import losses

# seed 004's example: tf.nn.softmax_cross_entropy_with_logits on these logits and labels, as it printed
LOGITS = np.array([[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]], dtype=float)
LABELS = np.array([0, 1, 2, 0, 1])
PRINTED = [1.68795487e-04, 1.03475622e-03, 6.58839038e-02, 2.58349207e00, 5.49852354e-02]


def test_cross_entropy_replays_the_seeds_example() -> None:
    head = losses.Head("linear", "ce", 3)
    y = head.targets(LABELS)
    z = LOGITS.T[None]  # (1, K, B)
    per_row = [float(head.value(z[..., i : i + 1], y[:, i : i + 1])[0]) for i in range(5)]
    # printed to 9 significant digits: half a unit in the last printed place
    np.testing.assert_allclose(per_row, PRINTED, rtol=5e-9)
    assert float(head.value(z, y)[0]) == pytest.approx(np.mean(PRINTED), rel=5e-9)


def test_cross_entropy_does_not_overflow() -> None:
    head = losses.Head("linear", "ce", 3)
    z = np.array([[[1000.0], [0.0], [-1000.0]]])
    y = head.targets(np.array([1]))
    assert float(head.value(z, y)[0]) == 1000.0  # logsumexp = 1000 exactly in float64, minus z_true = 0
    dz = np.empty_like(z)
    head.grad(z, y, dz)
    assert np.all(np.isfinite(dz))


def test_softmax_rows_sum_to_one_and_match_the_definition() -> None:
    z = LOGITS.T[None]
    s = losses.softmax(z)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=4 * np.finfo(float).eps)
    expected = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(s[0].T, expected, rtol=8 * np.finfo(float).eps)


def test_mse_is_the_mean_over_batch_and_outputs() -> None:
    head = losses.Head("softmax", "mse", 3)
    y = head.targets(LABELS)
    z = LOGITS.T[None]
    o = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    expected = np.mean((np.eye(3)[LABELS] - o) ** 2)  # tf.reduce_mean(tf.square(y_ - y))
    assert float(head.value(z, y)[0]) == pytest.approx(expected, rel=1e-14)


def test_bce_from_logits_equals_its_definition() -> None:
    head = losses.Head("linear", "bce", 1)
    z = np.array([[[-3.0, 0.5, 2.0, 8.0]]])
    y = np.array([[0.0, 1.0, 1.0, 0.0]])
    p = 1 / (1 + np.exp(-z[0, 0]))
    expected = -np.mean(y[0] * np.log(p) + (1 - y[0]) * np.log(1 - p))
    # 1 − p at z = 8 is 3.4e-4: the definition loses eps/3.4e-4 ≈ 7e-13 of relative precision there
    assert float(head.value(z, y)[0]) == pytest.approx(expected, rel=1e-11)
    # where the definition's log(1 − p) is log(0), the logit form stays exact: 40 + log1p(e^−40) = 40
    assert float(head.value(np.array([[[40.0]]]), np.array([[0.0]]))[0]) == 40.0


def test_predictions() -> None:
    assert losses.Head("linear", "ce", 3).predict(LOGITS.T[None]).tolist() == [[0, 1, 2, 1, 1]]
    one = np.array([[[0.49, 0.5, 0.51, -2.0]]])
    assert losses.Head("linear", "mse", 1).predict(one).tolist() == [[0, 1, 1, 0]]
    assert losses.Head("linear", "bce", 1).predict(one).tolist() == [[1, 1, 1, 0]]  # sigmoid(z) ≥ 0.5 ⇔ z ≥ 0
    assert losses.Head("sigmoid", "mse", 1).predict(one).tolist() == [[1, 1, 1, 0]]


def test_targets() -> None:
    assert losses.Head("linear", "mse", 1).targets(np.array([0, 1, 1])).tolist() == [[0.0, 1.0, 1.0]]
    assert losses.Head("linear", "ce", 3).targets(np.array([2, 0])).tolist() == [[0, 1], [0, 0], [1, 0]]


@pytest.mark.parametrize(
    ("output", "loss", "k", "fragment"),
    [
        ("softmax", "ce", 3, "needs model.output: linear"),
        ("sigmoid", "bce", 1, "needs model.output: linear"),
        ("linear", "bce", 3, "needs one output"),
        ("linear", "ce", 1, "at least 2 outputs"),
        ("softmax", "mse", 1, "at least 2 outputs"),
    ],
)
def test_refused_pairings(output, loss, k, fragment) -> None:
    with pytest.raises(losses.HeadError, match=fragment):
        losses.Head(output, loss, k)


def test_output_width() -> None:
    assert losses.outputs_for("mse", "linear", 2) == 1
    assert losses.outputs_for("bce", "linear", 2) == 1
    assert losses.outputs_for("mse", "softmax", 3) == 3
    assert losses.outputs_for("ce", "linear", 2) == 2
