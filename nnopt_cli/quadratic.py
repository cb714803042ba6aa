"""The course's one-parameter toy: minimise loss = (w + 1)² from w0 with the configured optimizer and schedule.

One update per step for `train.steps` steps; d loss / dw = 2·(w + 1). With plain gradient descent each step
multiplies the distance to the minimum w = −1 by (1 − 2·lr): lr 0.2 converges, lr 1.0 flips sign forever
(|1 − 2| = 1), lr 0.0001 barely moves, and lr > 1 diverges.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from nnopt_cli import optimizers
from nnopt_cli.config import Config

MINIMUM = -1.0


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


def loss(w: float | np.ndarray) -> float | np.ndarray:
    return (w + 1.0) ** 2


def train(config: Config) -> QuadraticHistory:
    """Run the toy; stops as diverged when w or the loss stops being finite."""
    from nnopt_cli.train import learning_rates

    opt = optimizers.make_optimizer(config.optimizer, **config.optimizer_params)
    trace = learning_rates(config, config.steps, 1)
    history = QuadraticHistory(config=config, lr_trace=trace)
    w = np.array([config.w0], dtype=np.float64)
    state = opt.init(w)
    grad = np.empty_like(w)
    started = time.perf_counter()
    try:
        with np.errstate(all="ignore"):
            for k in range(config.steps):
                np.multiply(w + 1.0, 2.0, out=grad)
                opt.update(w, grad, state, float(trace[k]))
                value = float(w[0])
                history.step.append(k)
                history.w.append(value)
                history.loss.append(float(loss(value)))
                history.lr.append(float(trace[k]))
                if not np.isfinite(history.loss[-1]):
                    history.status = "diverged"
                    history.diverged_step = k
                    history.message = (
                        f"diverged at step {k}: w reached {value:g}; with sgd any lr > 1 makes |w + 1| grow "
                        f"(now lr {config.lr:g})"
                    )
                    break
    except KeyboardInterrupt:
        history.status = "interrupted"
        history.message = f"interrupted after {len(history.step)} of {config.steps} steps"
    history.train_seconds = time.perf_counter() - started
    if history.status == "running":
        history.status = "completed"
    return history
