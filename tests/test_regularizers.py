"""The weight penalties as the course defines them (tf.nn.l2_loss; scale·Σ|w|), on weights only."""

from __future__ import annotations

import numpy as np

from nnopt_cli.core import regularizers

MASK = np.array([1.0, 1.0, 0.0, 1.0, 0.0])  # three weights, two biases
ROWS = np.array([[3.0, -4.0, 100.0, 0.0, -7.0], [0.5, 0.5, 1.0, -0.5, 2.0]])


def test_l2_is_half_the_sum_of_squares_times_scale() -> None:
    # 0.1·(9 + 16 + 0)/2 and 0.1·(0.25·3)/2, by hand
    got = regularizers.penalty("l2", 0.1 * MASK, ROWS)
    np.testing.assert_allclose(got, [1.25, 0.0375], rtol=4 * np.finfo(float).eps)


def test_l1_is_the_sum_of_magnitudes_times_scale() -> None:
    got = regularizers.penalty("l1", 0.5 * MASK, ROWS)
    assert got.tolist() == [3.5, 0.75]


def test_gradients_touch_weights_only() -> None:
    grads = np.zeros_like(ROWS)
    regularizers.add_grad("l2", 0.1 * MASK, ROWS, grads)
    np.testing.assert_allclose(grads, 0.1 * ROWS * MASK, rtol=0, atol=0)
    grads = np.zeros_like(ROWS)
    regularizers.add_grad("l1", 0.5 * MASK, ROWS, grads)
    assert grads.tolist() == [[0.5, -0.5, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, -0.5, 0.0]]  # sign(0) = 0


def test_none_is_zero_and_adds_nothing() -> None:
    assert regularizers.penalty("none", 0.1 * MASK, ROWS).tolist() == [0.0, 0.0]
    grads = np.ones_like(ROWS)
    regularizers.add_grad("none", 0.1 * MASK, ROWS, grads)
    assert np.all(grads == 1.0)
