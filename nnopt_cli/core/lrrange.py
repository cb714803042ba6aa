"""The numbers of a learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural
Networks", §3.3; fastai's `lr_find`): the rate grows geometrically each update, the loss of every update's
mini-batch is smoothed, the test stops once the smoothed loss blows up, and two rates are suggested.

    lr_k = start · r^k,  r = (end / start)^(1 / (steps − 1)),  k = 0 .. steps − 1  (the last at `end`)
    avg_k = β·avg_{k−1} + (1 − β)·loss_k,  avg_{−1} = 0;   smoothed_k = avg_k / (1 − β^(k+1))   (β = 0.98)
    stop at the first k with smoothed_k > 4 · min_{j ≤ k} smoothed_j, or smoothed_k not finite

Suggestions, as fastai's `lr_find` makes them: over the updates kept, less the first tenth of the planned
updates (steps // 10: the rate is too small there for the loss to move but with the batches) and the last
five kept (the blow-up), and less the stopping update's non-finite values:
    minimum_div_10: lr at the smallest smoothed loss, divided by 10 (at the minimum the rate is already
                    too large to keep improving; a tenth of it still learns fast)
    steepest:       the middle of the decade of rates over which the smoothed loss falls most: with w the
                    updates of one decade (round(ln 10 / ln r)), the k minimising
                    (smoothed_{k+w} − smoothed_k) / (ln lr_{k+w} − ln lr_k), reported as lr_{k + w//2}.
                    fastai takes the steepest single step (w = 1), which over 100 updates follows the noise of
                    the batches more than the rate.
No files, no printing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BETA = 0.98
DIVERGE = 4.0  # the smoothed loss above this many times its minimum ends the test


class RangeError(ValueError):
    """Range-test settings that cannot be used; one line."""


def rate_factor(start: float, end: float, steps: int) -> float:
    """r: the factor from one update's rate to the next, so that update steps − 1 runs at `end`.

    Raises:
      RangeError: start not below end, a rate not finite and > 0, or fewer than 2 steps.
    """
    for option, value in (("--start", start), ("--end", end)):
        if not (math.isfinite(value) and value > 0):
            raise RangeError(f"{option} {value:g}: a learning rate must be a finite number > 0")
    if start >= end:
        raise RangeError(
            f"--start {start:g} --end {end:g}: the rate grows from --start to --end; start < end"
        )
    if steps < 2:
        raise RangeError(f"--steps {steps}: the test needs 2 updates or more (one per rate tried)")
    return float((end / start) ** (1.0 / (steps - 1)))


def smooth(losses: np.ndarray, beta: float = BETA) -> np.ndarray:
    """The bias-corrected exponential moving average of `losses` (fastai's SmoothenValue)."""
    out = np.empty(len(losses))
    avg = 0.0
    for k, loss in enumerate(np.asarray(losses, dtype=np.float64).tolist()):
        avg = beta * avg + (1.0 - beta) * loss
        out[k] = avg / (1.0 - beta ** (k + 1))
    return out


def stop_index(smoothed: np.ndarray, factor: float = DIVERGE) -> int | None:
    """The first update whose smoothed loss exceeds `factor` × the smallest so far (that one included) or is
    not finite; None when none does."""
    best = math.inf
    for k, value in enumerate(np.asarray(smoothed, dtype=np.float64).tolist()):
        if not math.isfinite(value):
            return k
        best = min(best, value)
        if value > factor * best:
            return k
    return None


@dataclass(frozen=True)
class Curve:
    """One range test's outcome: the rate, raw and smoothed loss of each update kept (those up to the stop,
    the stopping update included), where it stopped (None: it ran every planned update) and why."""

    lr: np.ndarray
    loss: np.ndarray
    smoothed: np.ndarray
    stopped_at: int | None
    steepest: float | None
    minimum_div_10: float | None

    @property
    def reason(self) -> str:
        if self.stopped_at is None:
            return f"ran all {len(self.lr)} updates"
        value = self.smoothed[self.stopped_at]
        if not math.isfinite(value):
            return f"stopped at update {self.stopped_at}: the smoothed loss is not finite"
        return f"stopped at update {self.stopped_at}: the smoothed loss passed {DIVERGE:g}× its minimum"


SKIP_END = 5


def suggest(lr: np.ndarray, smoothed: np.ndarray) -> tuple[float | None, float | None]:
    """(steepest, minimum_div_10) over these updates, up to the first whose smoothed loss is not finite; None
    where there are too few points (2 for steepest, 1 for the minimum). The rates grow by one factor r."""
    lr = np.asarray(lr, dtype=np.float64)
    s = np.asarray(smoothed, dtype=np.float64)
    finite = np.isfinite(s)
    n = len(s) if finite.all() else int(np.argmin(finite))  # the finite points before the first that is not
    if n == 0:
        return None, None
    lr, s = lr[:n], s[:n]
    minimum = float(lr[int(np.argmin(s))] / 10.0)
    if n < 2:
        return None, minimum
    w = min(n - 1, max(1, round(math.log(10.0) / math.log(lr[1] / lr[0]))))
    slope = (s[w:] - s[:-w]) / (np.log(lr[w:]) - np.log(lr[:-w]))
    return float(lr[int(np.argmin(slope)) + w // 2]), minimum


def window(planned: int, kept: int) -> slice:
    """The updates the suggestions are taken from: the first tenth of the planned ones and the last SKIP_END
    kept left out."""
    return slice(planned // 10, max(kept - SKIP_END, 0))


def analyse(lr: np.ndarray, loss: np.ndarray, *, planned: int, beta: float = BETA) -> Curve:
    """Smooth, stop and suggest: the curve of one range test from the rates and mini-batch losses of the
    updates it ran, of `planned`."""
    lr = np.asarray(lr, dtype=np.float64)
    loss = np.asarray(loss, dtype=np.float64)
    smoothed = smooth(loss, beta)
    stop = stop_index(smoothed)
    kept = len(loss) if stop is None else stop + 1
    steepest, minimum = suggest(lr[window(planned, kept)], smoothed[window(planned, kept)])
    return Curve(lr[:kept], loss[:kept], smoothed[:kept], stop, steepest, minimum)
