"""Optimizer paths on 2-D surfaces: the toy grown to two parameters (x, y), with the same update path as a
network.

A run minimises a function f(x, y) of the registry below from `model.start`, one update per step for
`train.steps` steps. The P runs given train as one population (population.py) of P rows of two parameters:
the gradient of every row is written into the population's gradient buffer, and `Population.step` applies
the clipping, the optimizer's rule with each row's rate, and the moving average, exactly as for a network.
A run alone is a population of one, and ends bit for bit where its row of a larger population ends (every
operation is elementwise per row).

    function    f(x, y)                                                       minima
    quadratic   ½(x² + c·y²), c = model.condition (default 10)                (0, 0)
    rosenbrock  (1 − x)² + 100(y − x²)²                                       (1, 1)
    beale       (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²      (3, 0.5)
    himmelblau  (x² + y − 11)² + (x + y² − 7)²                                (3, 2) and three others
    rastrigin   2A + Σ (x_i² − A·cos 2πx_i), A = 10                          (0, 0), among many local ones
    saddle      x² − y²                                                       none: a saddle point at (0, 0)

Every minimum is a global one with the value 0; the saddle has no minimum and is unbounded below.

Rows of a history (`SurfaceHistory`): step 0 is the start, before any update; row k ≥ 1 is the point after
update k (which used rate lr[k]); lr[0] is NaN: no update led to the start.

Divergence: a row stops as diverged when its loss is not finite or |loss| exceeds DIVERGENCE_FACTOR times
max(|loss at the start|, 1), the rule of the one-parameter toy (quadratic.py) with an absolute value: the
saddle x² − y² falls without bound once a path leaves it, and a loss a million times below its start is a
path that has gone (the saddle's message says so). The other rows go on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nnopt_cli import checks
from nnopt_cli.checks import CheckError
from nnopt_cli.core import ema as ema_mod
from nnopt_cli.core.population import Population
from nnopt_cli.keys import Key, only

if TYPE_CHECKING:
    from nnopt_cli.config import Config


DIVERGENCE_FACTOR = 1e6  # as quadratic.DIVERGENCE_FACTOR
RASTRIGIN_A = 10.0
DEFAULT_CONDITION = 10.0

# --- the functions ---------------------------------------------------------------------------------
# Each value and gradient works on the columns x = xy[:, 0], y = xy[:, 1] with elementwise operations only
# (no reduction across rows), so that a row's numbers do not depend on the rows beside it.

ValueFn = Callable[[np.ndarray, np.ndarray, float], np.ndarray]
GradFn = Callable[[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray], None]


def _quadratic_value(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    return 0.5 * (x * x + c * (y * y))


def _quadratic_grad(x: np.ndarray, y: np.ndarray, c: float, gx: np.ndarray, gy: np.ndarray) -> None:
    # d/dx ½x² = x; d/dy ½c·y² = c·y
    gx[...] = x
    np.multiply(y, c, out=gy)


def _rosenbrock_value(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * (b * b)


def _rosenbrock_grad(x: np.ndarray, y: np.ndarray, c: float, gx: np.ndarray, gy: np.ndarray) -> None:
    # with b = y − x²: ∂/∂x = −2(1 − x) − 2x·200b, ∂/∂y = 200b
    b200 = 200.0 * (y - x * x)
    gy[...] = b200
    gx[...] = -2.0 * (1.0 - x) - 2.0 * x * b200


def _beale_terms(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    y2 = y * y
    y3 = y2 * y
    a = 1.5 - x + x * y
    b = 2.25 - x + x * y2
    d = 2.625 - x + x * y3
    return y2, y3, a, b, d


def _beale_value(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    _, _, a, b, d = _beale_terms(x, y)
    return a * a + b * b + d * d


def _beale_grad(x: np.ndarray, y: np.ndarray, c: float, gx: np.ndarray, gy: np.ndarray) -> None:
    # ∂/∂x = 2a(y − 1) + 2b(y² − 1) + 2d(y³ − 1); ∂/∂y = 2a·x + 2b·2xy + 2d·3xy²
    y2, y3, a, b, d = _beale_terms(x, y)
    gx[...] = 2.0 * a * (y - 1.0) + 2.0 * b * (y2 - 1.0) + 2.0 * d * (y3 - 1.0)
    gy[...] = 2.0 * a * x + 2.0 * b * (2.0 * x * y) + 2.0 * d * (3.0 * x * y2)


def _himmelblau_value(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    return a * a + b * b


def _himmelblau_grad(x: np.ndarray, y: np.ndarray, c: float, gx: np.ndarray, gy: np.ndarray) -> None:
    # with a = x² + y − 11, b = x + y² − 7: ∂/∂x = 2a·2x + 2b, ∂/∂y = 2a + 2b·2y
    a2 = 2.0 * (x * x + y - 11.0)
    b2 = 2.0 * (x + y * y - 7.0)
    gx[...] = a2 * (2.0 * x) + b2
    gy[...] = a2 + b2 * (2.0 * y)


def _rastrigin_value(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    a = RASTRIGIN_A
    tau = 2.0 * math.pi
    return 2.0 * a + (x * x - a * np.cos(tau * x)) + (y * y - a * np.cos(tau * y))


def _rastrigin_grad(x: np.ndarray, y: np.ndarray, c: float, gx: np.ndarray, gy: np.ndarray) -> None:
    # ∂/∂x = 2x + 2πA·sin 2πx, the same in y
    a = RASTRIGIN_A
    tau = 2.0 * math.pi
    gx[...] = 2.0 * x + a * np.sin(tau * x) * tau
    gy[...] = 2.0 * y + a * np.sin(tau * y) * tau


def _saddle_value(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    return x * x - y * y


def _saddle_grad(x: np.ndarray, y: np.ndarray, c: float, gx: np.ndarray, gy: np.ndarray) -> None:
    np.multiply(x, 2.0, out=gx)
    np.multiply(y, -2.0, out=gy)


@dataclass(frozen=True)
class Function:
    """One surface of the registry.

    Attributes:
      name: its model.function value.
      formula: f(x, y) as text (the pictures' titles and the README).
      minima: the global minima (x, y), each of value 0; () for the saddle.
      saddles: the saddle points worth marking ((0, 0) of x² − y²); () for the others.
      start: the default model.start.
      box: (x_low, x_high, y_low, y_high), the view drawn around the minima and the default start.
      bounded: whether the function has a minimum (False: the saddle, unbounded below).
    """

    name: str
    formula: str
    _value: ValueFn
    _grad: GradFn
    minima: tuple[tuple[float, float], ...]
    saddles: tuple[tuple[float, float], ...]
    start: tuple[float, float]
    box: tuple[float, float, float, float]
    bounded: bool = True

    def value(self, xy: np.ndarray, condition: float = DEFAULT_CONDITION) -> np.ndarray:
        """f at each row of xy (P, 2) -> (P,) float64; `condition` is only read by the quadratic."""
        return self._value(xy[..., 0], xy[..., 1], condition)

    def gradient(self, xy: np.ndarray, out: np.ndarray, condition: float = DEFAULT_CONDITION) -> np.ndarray:
        """∇f at each row of xy (P, 2), written into `out` (P, 2), which is returned."""
        self._grad(xy[..., 0], xy[..., 1], condition, out[..., 0], out[..., 1])
        return out

    @property
    def points(self) -> tuple[tuple[float, float], ...]:
        """The points to mark and measure distances to: the minima, or the saddle point."""
        return self.minima or self.saddles


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            "quadratic",
            "½(x² + c·y²)",
            _quadratic_value,
            _quadratic_grad,
            ((0.0, 0.0),),
            (),
            (-8.0, 1.0),
            (-9.0, 3.0, -2.0, 2.0),
        ),
        Function(
            "rosenbrock",
            "(1 − x)² + 100(y − x²)²",
            _rosenbrock_value,
            _rosenbrock_grad,
            ((1.0, 1.0),),
            (),
            (-1.5, 2.0),
            (-2.0, 2.0, -1.0, 3.0),
        ),
        Function(
            "beale",
            "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            _beale_value,
            _beale_grad,
            ((3.0, 0.5),),
            (),
            (1.0, 1.5),
            (-0.5, 4.0, -1.0, 2.0),
        ),
        Function(
            "himmelblau",
            "(x² + y − 11)² + (x + y² − 7)²",
            _himmelblau_value,
            _himmelblau_grad,
            (
                (3.0, 2.0),
                (-2.805118086952745, 3.131312518250573),
                (-3.779310253377747, -3.283185991286170),
                (3.584428340330492, -1.848126526964404),
            ),
            (),
            (0.0, 0.0),
            (-5.0, 5.0, -5.0, 5.0),
        ),
        Function(
            "rastrigin",
            "20 + x² − 10·cos 2πx + y² − 10·cos 2πy",
            _rastrigin_value,
            _rastrigin_grad,
            ((0.0, 0.0),),
            (),
            (-2.3, 3.2),
            (-4.0, 4.0, -4.0, 4.0),
        ),
        Function(
            "saddle",
            "x² − y²",
            _saddle_value,
            _saddle_grad,
            (),
            ((0.0, 0.0),),
            (1.0, 0.001),
            (-1.5, 1.5, -1.5, 1.5),
            bounded=False,
        ),
    )
}


def names() -> tuple[str, ...]:
    return tuple(FUNCTIONS)


def function(config: Config) -> Function:
    return FUNCTIONS[config.function]


def loss(config: Config, xy: np.ndarray) -> np.ndarray:
    """The run's function at each row of xy (P, 2) (or at one point (2,), a 0-d array)."""
    return FUNCTIONS[config.function].value(np.asarray(xy, dtype=np.float64), config.condition)


def nearest(config: Config, x: float, y: float) -> tuple[tuple[float, float], float]:
    """The minimum (the saddle point, for the saddle) nearest to (x, y), and the distance to it."""
    points = FUNCTIONS[config.function].points
    distances = [math.hypot(x - px, y - py) for px, py in points]
    i = int(np.argmin(distances))
    return points[i], distances[i]


# --- training --------------------------------------------------------------------------------------


def rates(config: Config) -> np.ndarray:
    """The planned rate of every update 1..train.steps (the schedule evaluated at k = 0..steps − 1, as
    for a network with one update per epoch: schedule.unit epoch and step agree)."""
    from nnopt_cli.core import loop

    return loop.rate_function(config, 1)(0, config.steps)


@dataclass
class SurfaceHistory:
    """What one run did, row k = 0..n: step k (0: the start, before any update), the point (x, y) after
    update k, the loss there, and lr[k], the rate of update k (NaN in row 0: no update led to the start).
    With ema.decay, the moving average of the point and its loss (row 0: the start). A diverged run's rows
    end with the row where it diverged (diverged_step); an interrupted one's with the last update made.

    Attributes:
      lr_trace: the planned rate of every update 1..train.steps (lr.png draws it; lr[1:] is its head).
      train_seconds: the loop time of the whole population the run trained in.
    """

    config: Config
    step: np.ndarray
    x: np.ndarray
    y: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    lr_trace: np.ndarray
    ema_x: np.ndarray | None = None
    ema_y: np.ndarray | None = None
    ema_loss: np.ndarray | None = None
    status: str = "running"
    message: str = ""
    diverged_step: int | None = None
    train_seconds: float = 0.0
    population_size: int = 1

    @property
    def steps_done(self) -> int:
        return int(self.step[-1]) if len(self.step) else 0

    def columns(self) -> dict[str, np.ndarray]:
        """trajectory.csv's columns, in order: step, x, y, loss, lr and, with EMA, ema_x, ema_y, ema_loss."""
        out = {"step": self.step, "x": self.x, "y": self.y, "loss": self.loss, "lr": self.lr}
        if self.ema_x is not None and self.ema_y is not None and self.ema_loss is not None:
            out.update(ema_x=self.ema_x, ema_y=self.ema_y, ema_loss=self.ema_loss)
        return out


@dataclass
class _Rows:
    """The recorded rows of the whole population (steps + 1, P), internal order, filled as it goes."""

    x: np.ndarray
    y: np.ndarray
    loss: np.ndarray
    ema: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def train(
    configs: Sequence[Config], *, should_stop: Callable[[], bool] | None = None
) -> list[SurfaceHistory]:
    """Train the surface runs of `configs` together, one population of P rows of (x, y).

    Each run uses its own function, start, optimizer, schedule, clipping, moving average and train.steps (a
    run of fewer steps stops recording after them). A run stops as diverged by the rule of the module
    docstring while the others go on; Ctrl-C or `should_stop()` (asked after every update) stops them all
    as interrupted.

    Returns:
      One SurfaceHistory per config, in order.
    Raises:
      ValueError: configs that are not surfaces.
    """
    from nnopt_cli.core import loop

    if not configs:
        return []
    if any(c.model_type != "surface" for c in configs):
        raise ValueError("surface.train needs configs of model.type surface")
    steps = max(c.steps for c in configs)
    starts = np.array([c.start for c in configs], dtype=np.float64).reshape(len(configs), 2)
    pop = Population(starts, [loop.row_spec(c) for c in configs], np.ones(2))
    ordered = [configs[i] for i in pop.order]
    p = pop.size
    # rows sharing a function (and a condition) get their gradient in one call; one group: no indexing
    groups: dict[tuple[str, float], list[int]] = {}
    for i, c in enumerate(ordered):
        groups.setdefault((c.function, c.condition if c.function == "quadratic" else 0.0), []).append(i)
    parts = [(FUNCTIONS[f], cond, np.array(rows, dtype=np.intp)) for (f, cond), rows in groups.items()]
    whole = len(parts) == 1

    def value(xy: np.ndarray) -> np.ndarray:
        if whole:
            fn, cond, _ = parts[0]
            return fn.value(xy, cond)
        out = np.empty(xy.shape[0])
        for fn, cond, rows in parts:
            out[rows] = fn.value(xy[rows], cond)
        return out

    def gradient(xy: np.ndarray, out: np.ndarray) -> None:
        if whole:
            fn, cond, _ = parts[0]
            fn.gradient(xy, out, cond)
            return
        for fn, cond, rows in parts:
            out[rows] = fn.gradient(xy[rows], np.empty((len(rows), 2)), cond)

    # each row's rates and EMA factors for its own train.steps (0 after them: the row no longer records)
    lr = np.zeros((steps, p, 1))
    traces = []
    for i, c in enumerate(ordered):
        traces.append(rates(c))
        lr[: c.steps, i, 0] = traces[-1]
    factors = None
    if pop.with_ema:
        factors = np.zeros((steps, p, 1))
        for i, c in enumerate(ordered):
            if c.ema_decay is not None:
                # update k (0-based) makes the global step k + 1
                factors[: c.steps, i, 0] = ema_mod.factors(c.ema_decay, 1, c.steps)
    rec = _Rows(
        np.full((steps + 1, p), np.nan), np.full((steps + 1, p), np.nan), np.full((steps + 1, p), np.nan)
    )
    if pop.shadow is not None:
        rec.ema = (
            np.full((steps + 1, p), np.nan),
            np.full((steps + 1, p), np.nan),
            np.full((steps + 1, p), np.nan),
        )
    active = np.ones(p, dtype=bool)
    ends = np.array([c.steps for c in ordered])
    planned = ends.copy()
    statuses = ["running"] * p
    messages = [""] * p
    diverged_at: list[int | None] = [None] * p

    with np.errstate(all="ignore"):
        start_loss = value(pop.theta)
    limit = DIVERGENCE_FACTOR * np.maximum(np.abs(start_loss), 1.0)

    def record(k: int) -> np.ndarray:
        current = value(pop.theta)
        rec.x[k] = pop.theta[:, 0]
        rec.y[k] = pop.theta[:, 1]
        rec.loss[k] = current
        if rec.ema is not None and pop.shadow is not None:
            rec.ema[0][k] = pop.shadow[:, 0]
            rec.ema[1][k] = pop.shadow[:, 1]
            rec.ema[2][k] = value(pop.shadow)
        return current

    started = time.perf_counter()
    done = 0
    try:
        with np.errstate(all="ignore"):
            record(0)
            for k in range(steps):
                gradient(pop.theta, pop.grads)
                pop.step(lr[k], None if factors is None else factors[k])
                done = k + 1
                current = record(k + 1)
                # not finite or beyond the bound (the comparison is False for NaN)
                gone = active & ~(np.abs(current) <= limit)
                for i in np.flatnonzero(gone).tolist():
                    active[i] = False
                    ends[i] = k + 1
                    statuses[i] = "diverged"
                    diverged_at[i] = k + 1
                    messages[i] = divergence_message(
                        ordered[i],
                        k + 1,
                        float(pop.theta[i, 0]),
                        float(pop.theta[i, 1]),
                        float(current[i]),
                        float(limit[i] / DIVERGENCE_FACTOR),
                        lr=float(lr[k, i, 0]),
                    )
                active &= planned > k + 1  # a run of fewer train.steps than the others is done
                if not active.any():
                    break
                if should_stop is not None and should_stop():
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        for i in np.flatnonzero(active).tolist():
            ends[i] = done
            statuses[i] = "interrupted"
            messages[i] = f"interrupted after {done} of {planned[i]} steps"
    seconds = time.perf_counter() - started

    histories: list[SurfaceHistory] = []
    for i, c in enumerate(ordered):
        n = int(ends[i]) + 1
        used = np.empty(n)
        used[0] = np.nan
        used[1:] = traces[i][: n - 1]
        h = SurfaceHistory(
            config=c,
            step=np.arange(n),
            x=rec.x[:n, i].copy(),
            y=rec.y[:n, i].copy(),
            loss=rec.loss[:n, i].copy(),
            lr=used,
            lr_trace=traces[i],
            status="completed" if statuses[i] == "running" else statuses[i],
            message=messages[i],
            diverged_step=diverged_at[i],
            train_seconds=seconds,
            population_size=p,
        )
        if rec.ema is not None and c.ema_decay is not None:
            h.ema_x, h.ema_y, h.ema_loss = (a[:n, i].copy() for a in rec.ema)
        histories.append(h)
    return [histories[j] for j in pop.position]


def divergence_message(
    config: Config, k: int, x: float, y: float, value: float, start: float, *, lr: float
) -> str:
    """Why a surface run diverged at step k (after update k, which used rate `lr`) and what to change;
    `start` is max(|loss at the start|, 1)."""
    from nnopt_cli.core.loop import scheduled_rate_cause

    if not np.isfinite(value):
        what = "the loss overflowed" if not math.isnan(value) else "the loss became NaN"
    elif value < 0:
        what = f"the loss fell to {value:.3g}, below −{DIVERGENCE_FACTOR:g} × {start:g}"
    else:
        what = f"the loss reached {value:.3g}, over {DIVERGENCE_FACTOR:g} × {start:g} (its start)"
    message = f"diverged at step {k}: {what}, at (x, y) = ({x:.4g}, {y:.4g})"
    if not FUNCTIONS[config.function].bounded and np.isfinite(value) and value < 0:
        return message + (
            f"; {config.function} {FUNCTIONS[config.function].formula} has no minimum: the path left the "
            "saddle and runs off along y for ever; to watch the escape, plan fewer train.steps "
            f"(now {config.steps}) or a smaller optimizer.lr (now {config.lr:g})"
        )
    cause = scheduled_rate_cause(config, lr)
    if cause is not None:
        return message + f"; at rate {lr:g} {cause}"
    if config.function == "quadratic" and config.optimizer == "sgd":
        c = config.condition
        return message + (
            f"; with sgd each update multiplies y by (1 − lr·{c:g}) and x by (1 − lr), so lr > 2/{c:g} = "
            f"{2 / c:.3g} makes y grow: try optimizer.lr < {2 / c:.3g} (now {config.lr:g})"
        )
    return message + f"; each step overshoots: try a smaller optimizer.lr (now {config.lr:g})"


# --- config keys ---------------------------------------------------------------------------------

_SURFACE = only("model.type", "surface")


def check_start(value: object) -> tuple[float, float]:
    """model.start: a list of two finite numbers [x, y]."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise CheckError("model.start", f"must be a list of two numbers [x, y], got {checks.excerpt(value)}")
    x, y = checks.number_list(value, "model.start")
    return (x, y)


def _default_start(resolved: Mapping[str, Any]) -> list[float]:
    """The chosen function's default start."""
    name = resolved.get("model.function")
    return list(FUNCTIONS.get(name if isinstance(name, str) else "", FUNCTIONS["rosenbrock"]).start)


KEYS: tuple[Key, ...] = (
    Key(
        "model.function",
        "rosenbrock",
        lambda v: checks.choice(v, "model.function", names()),
        (_SURFACE,),
        attr="function",
    ),
    Key(
        "model.condition",
        DEFAULT_CONDITION,
        lambda v: checks.number(v, "model.condition", low=0.0, low_open=True),
        (_SURFACE, only("model.function", "quadratic")),
        attr="condition",
    ),
    Key(
        "model.start",
        list(FUNCTIONS["rosenbrock"].start),
        check_start,
        (_SURFACE,),
        attr="start",
        show=list,
        default_of=_default_start,
    ),
)
"""The surface's keys: the function, the quadratic's condition number and where the path starts (the
length is train.steps, loop.KEYS)."""
