"""The course's one-parameter toy: minimise loss = (w + 1)² from w0 with the configured optimizer and
schedule.

One update per step for `train.steps` steps; d loss / dw = 2·(w + 1). With plain gradient descent each step
multiplies the distance to the minimum w = −1 by (1 − 2·lr): lr 0.2 converges, lr 1.0 flips sign forever
(|1 − 2| = 1), lr 0.0001 barely moves, and lr > 1 diverges.

Divergence: a run stops as diverged when the loss is not finite or exceeds DIVERGENCE_FACTOR times
max(loss(w0), 1). Waiting for overflow alone would not do: at lr 1.5 the distance |w + 1| only doubles per
step, so after the course's 40 steps w is about 6.6e12, finite, and the run would report "completed".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from nnopt_cli import checks
from nnopt_cli.core import optimizers
from nnopt_cli.keys import Key, only

if TYPE_CHECKING:
    from nnopt_cli.config import Config


MINIMUM = -1.0
# A loss a million times its starting value (6 orders of magnitude) is a run moving away from the minimum,
# never a transient: plain gradient descent on (w + 1)² with lr <= 1 never raises the loss at all.
DIVERGENCE_FACTOR = 1e6


@dataclass
class QuadraticHistory:
    """Per update k = 0..steps-1: w after the update, the loss there, the rate the update used."""

    config: Config
    lr_trace: np.ndarray
    step: list[int] = field(default_factory=list)
    w: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    status: str = "running"
    message: str = ""
    diverged_step: int | None = None
    train_seconds: float = 0.0


def loss(w: float | np.ndarray) -> np.float64 | np.ndarray:
    """(w + 1)²; inf (not OverflowError, as a Python float's ** would raise) once w passes ~1.3e154."""
    return np.square(np.float64(w) + 1.0) if isinstance(w, float) else np.square(w + 1.0)


def train(config: Config, *, should_stop: Callable[[], bool] | None = None) -> QuadraticHistory:
    """Run the toy; stops as diverged when the loss is not finite or passes
    DIVERGENCE_FACTOR × max(loss(w0), 1), and as interrupted on Ctrl-C or once `should_stop()` says so."""
    from nnopt_cli.core.loop import learning_rates

    opt = optimizers.build(config.optimizer, config.optimizer_params)
    trace = learning_rates(config, config.steps, 1)
    history = QuadraticHistory(config=config, lr_trace=trace)
    w = np.array([config.w0], dtype=np.float64)
    state = opt.init(w)
    grad = np.empty_like(w)
    start = max(float(loss(config.w0)), 1.0)
    started = time.perf_counter()
    try:
        with np.errstate(all="ignore"):
            for k in range(config.steps):
                np.multiply(w + 1.0, 2.0, out=grad)
                if config.clip_norm is not None or config.clip_value is not None:
                    optimizers.clip(grad, config.clip_norm, config.clip_value)
                opt.update(w, grad, state, float(trace[k]))
                value = float(w[0])
                history.step.append(k)
                history.w.append(value)
                history.loss.append(float(loss(value)))
                history.lr.append(float(trace[k]))
                if not history.loss[-1] <= DIVERGENCE_FACTOR * start:  # also true for NaN
                    history.status = "diverged"
                    history.diverged_step = k
                    history.message = divergence_message(
                        config, k, value, history.loss[-1], start, lr=float(trace[k])
                    )
                    break
                if should_stop is not None and should_stop():
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        history.status = "interrupted"
        history.message = f"interrupted after {len(history.step)} of {config.steps} steps"
    history.train_seconds = time.perf_counter() - started
    if history.status == "running":
        history.status = "completed"
    return history


def divergence_message(config: Config, k: int, w: float, value: float, start: float, *, lr: float) -> str:
    """Why the toy diverged at step k, where update k used rate `lr`, and what to change."""
    from nnopt_cli.core.loop import scheduled_rate_cause

    if np.isfinite(value):
        what = f"the loss reached {value:.3g}, over {DIVERGENCE_FACTOR:g} × {start:g} (its start)"
    else:
        what = "the loss overflowed"
    message = f"diverged at step {k}: {what}, w = {w:.4g}"
    cause = scheduled_rate_cause(config, lr)
    if cause is not None:
        message += f"; at rate {lr:g} {cause}"
    elif config.optimizer == "sgd":
        message += (
            "; with sgd each update multiplies w + 1 by (1 − 2·lr), so any lr > 1 makes it grow: "
            f"try optimizer.lr <= 1 (now {config.lr:g})"
        )
    else:
        message += f"; try a smaller optimizer.lr (now {config.lr:g})"
    return message


# --- config keys ---------------------------------------------------------------------------------

KEYS: tuple[Key, ...] = (
    Key("model.w0", 5.0, lambda v: checks.number(v, "model.w0"), (only("model.type", "quadratic"),)),
)
"""The toy's key: where w starts (its length is train.steps, loop.KEYS)."""
