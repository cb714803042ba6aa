"""Exponential moving average of the parameters, as tf.train.ExponentialMovingAverage.

Each parameter has a shadow that starts at its initial value and trails it:

    d = min(decay, (1 + n)/(10 + n))
    shadow ← d·shadow + (1 − d)·param

where n is the global step after the optimizer update (1 after the first), TF's `num_updates`.
The ramp (1 + n)/(10 + n) keeps early shadows from clinging to the random initial weights.
"""

from __future__ import annotations

import numbers

import numpy as np


class EMAError(ValueError):
    """An ema.decay nnopt cannot use; the message is one line."""


def check_decay(decay: object) -> float | None:
    """ema.decay validated: None (EMA off) or a float in [0, 1)."""
    if decay is None:
        return None
    if not isinstance(decay, numbers.Real) or isinstance(decay, (bool, np.bool_)):
        raise EMAError(f"ema.decay must be a number in [0, 1) or null (off), got {decay!r}")
    d = float(decay)
    if not 0.0 <= d < 1.0:
        raise EMAError(f"ema.decay must be in [0, 1) or null (off), got {d!r}")
    return d


def ema_decay(decay: float, n: int) -> float:
    """The decay used at global step n: min(decay, (1 + n)/(10 + n))."""
    return min(decay, (1.0 + n) / (10.0 + n))


def ema_update(shadow: np.ndarray, params: np.ndarray, decay: float, n: int) -> None:
    """One moving-average step in place: shadow ← d·shadow + (1 − d)·params, d = ema_decay(decay, n).

    Args:
      shadow: the averages, any shape; updated in place.
      params: the current parameters, same shape.
      decay: the configured decay, in [0, 1).
      n: the global step after this step's optimizer update (1 after the first update).
    """
    ema_step(shadow, params, 1.0 - ema_decay(decay, n))


def ema_step(
    shadow: np.ndarray,
    params: np.ndarray,
    one_minus_d: float | np.ndarray,
    scratch: np.ndarray | None = None,
) -> None:
    """shadow −= (shadow − params)·(1 − d), as TF's assign_moving_average computes it: it rounds like TF
    and leaves a shadow equal to params unchanged exactly. `one_minus_d` may be a (P, 1) column, one factor
    per row of stacked runs; `scratch`, an array shaped like shadow, saves an allocation."""
    delta = np.subtract(shadow, params, out=scratch)
    delta *= one_minus_d
    shadow -= delta


def factors(decay: float, updates: int) -> list[float]:
    """1 − d for the updates that make the global step 1, 2, ..., `updates`: the factors `ema_update` uses."""
    return [1.0 - ema_decay(decay, n) for n in range(1, updates + 1)]
