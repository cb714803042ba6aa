"""Exponential moving average of the parameters, as tf.train.ExponentialMovingAverage.

Each parameter has a shadow that starts at its initial value and trails it:

    d = min(decay, (1 + n)/(10 + n))
    shadow ← d·shadow + (1 − d)·param

where n is the global step after the optimizer update (1 after the first), TF's `num_updates`.
The ramp (1 + n)/(10 + n) keeps early shadows from clinging to the random initial weights.
"""

from __future__ import annotations

import numpy as np

from nnopt_cli import checks
from nnopt_cli.checks import CheckError
from nnopt_cli.keys import Key, only


class EMAError(CheckError):
    """An ema.decay nnopt cannot use; ``key`` is "ema.decay", str() one line."""


def check_decay(decay: object) -> float | None:
    """ema.decay validated: None (EMA off) or a float in [0, 1)."""
    if decay is None:
        return None
    return checks.number(
        decay, "ema.decay", low=0.0, high=1.0, high_open=True, alternative="or null (off)", error=EMAError
    )


def ema_decay(decay: float, n: int) -> float:
    """The decay used at global step n: min(decay, (1 + n)/(10 + n))."""
    return min(decay, (1.0 + n) / (10.0 + n))


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


def factors(decay: float, first: int, last: int) -> list[float]:
    """1 − d for the updates that make the global step first, first + 1, ..., last: the factors `ema_step`
    takes (the first update of a run makes the global step 1)."""
    return [1.0 - ema_decay(decay, n) for n in range(first, last + 1)]


# --- config keys ---------------------------------------------------------------------------------

KEYS: tuple[Key, ...] = (
    Key("ema.decay", None, check_decay, (only("model.type", "mlp", "surface"),), attr="ema_decay"),
)
"""The moving average's key: null is off."""
