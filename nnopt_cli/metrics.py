"""The metrics table: every number a run is judged by, declared once, and the one function that computes
them from a run's History.

summary.json, compare.csv, sweep.csv, cells.csv, the terminal tables, `nnopt runs` and the pictures' labels
all read these declarations, so a metric has one name, one label and one "better" everywhere.

Rules every metric follows:

- `final_*`: the value after the last epoch trained; none for a diverged run (its outputs are NaN).
- `best_*`: the lowest loss (highest accuracy) of any epoch, before a divergence too: a run's own record.
- `loss` is the training objective, what the optimizer minimised (data loss plus the regularizer's
  penalty); `data_loss` the data alone, the measure that ranks runs of different regularizers fairly.
  Test losses are data losses.
- `converged_epoch`: see `converged_epoch` below, the only definition.
- Surfaces (model.type surface, a path of steps 0..n): `final_loss` and `best_loss` over the steps,
  `final_distance` from the last point to the nearest minimum (none for the saddle, which has none), and
  `target_step`, the first step whose loss is at most the target (`--target-loss`, else SURFACE_TARGET:
  every minimum of the surfaces has the value 0). `compute_surface` computes them.
- Over seeds (a sweep's cell, a compare entry with --seeds): mean, std, min and max over the runs that did
  not diverge, every statistic over the same runs; a statistic is empty when one of those runs has no
  value (a converged epoch of a run still improving) or when every run diverged. How many runs and how
  many diverged is always said beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

CONVERGENCE_TOLERANCE = 0.01  # "within 1% of its final value"
IMPROVING_SHARE = 0.1  # "the last 10% of the epochs ..."
IMPROVING_TOLERANCE = 0.01  # "... moved it by more than 1%"

CONVERGED_DEFINITION = (
    "converged epoch: the first epoch from which the {measure} stays within 1% of its final value; empty "
    "while it is still improving (its last 10% of epochs moved it by more than 1%) and for a run that "
    "diverged or was interrupted"
)
TARGET_DEFINITION = "converged epoch: the first epoch whose loss is at most {target:g}"
AGGREGATION = "mean, std, min and max over the runs that did not diverge"
SURFACE_TARGET = 1e-3  # a surface path's target loss when --target-loss gives none (every minimum is 0)
TARGET_STEP_DEFINITION = (
    "target step: the first step whose loss is at most {target:g} (step 0 is the start); empty for a path "
    "that never gets there or diverged first. Distance: from the last point to the nearest minimum (none "
    "for the saddle, which has no minimum)"
)


@dataclass(frozen=True)
class Metric:
    """One metric.

    Attributes:
      name: its key in summary.json and every CSV, e.g. "final_data_loss".
      label: what pictures and tables call it, e.g. "final data loss (no penalty)".
      unit: "" (a loss or a distance), "share" (an accuracy, 0..1, shown in percent), "epoch", "step" or
        "s".
      better: "lower" or "higher".
      needs: what a run must have for the metric to exist: "" , "test" (data.test_size), "ema" (ema.decay)
        or "test+ema".
      kinds: the runs that have it: "network" (model.type mlp), "surface" (model.type surface) or both.
      series: the History list it is computed from (None: not a per-epoch measure).
      reduce: "final", "best", "converged" or "time".
    """

    name: str
    label: str
    unit: str
    better: Literal["lower", "higher"]
    needs: str
    series: str | None
    reduce: str
    aggregate: str = AGGREGATION
    kinds: tuple[str, ...] = ("network",)

    @property
    def higher(self) -> bool:
        return self.better == "higher"

    @property
    def header(self) -> str:
        """A table's two-line header: "final\\nloss"."""
        return self.name.replace("_", "\n", 1).replace("_", " ")

    def applies(self, *, test: bool, ema: bool, kind: str = "network") -> bool:
        """Whether a run of `kind` ("network" or "surface") with (or without) a test split and EMA has this
        metric."""
        return kind in self.kinds and ("test" not in self.needs or test) and ("ema" not in self.needs or ema)

    def format(self, value: float | None, std: float | None = None) -> str:
        """The value as tables show it ("–" for none), with "± std" when given."""
        if value is None or not math.isfinite(value):
            return "–"
        if self.unit == "share":
            text = f"{value:.2%}"
        elif self.unit == "s":
            text = f"{value:.3f} s"
        elif self.unit in ("epoch", "step"):
            text = f"{value:.0f}" if std is None else f"{value:.1f}"
        else:
            text = f"{value:.4g}"
        if std is not None and math.isfinite(std):
            if self.unit == "share":
                text += f" ± {std:.1%}"
            elif self.unit in ("epoch", "step"):
                text += f" ± {std:.0f}"
            else:
                text += f" ± {std:.2g}"
        return text

    def csv(self, value: float | None) -> Any:
        """The value as a CSV cell: empty for none, an int for an epoch."""
        if value is None or not math.isfinite(value):
            return ""
        if self.unit in ("epoch", "step") and float(value).is_integer():
            return int(value)
        return float(value)


_BOTH = ("network", "surface")


def _m(
    name: str,
    label: str,
    unit: str,
    better: str,
    needs: str,
    series: str | None,
    reduce: str,
    kinds: tuple[str, ...] = ("network",),
) -> Metric:
    return Metric(name, label, unit, better, needs, series, reduce, kinds=kinds)  # type: ignore[arg-type]


_TABLE = (
    _m("final_loss", "final loss (training objective)", "", "lower", "", "loss", "final", _BOTH),
    _m("best_loss", "best loss over the epochs (training objective)", "", "lower", "", "loss", "best", _BOTH),
    _m("final_data_loss", "final data loss (no penalty)", "", "lower", "", "data_loss", "final"),
    _m("best_data_loss", "best data loss over the epochs", "", "lower", "", "data_loss", "best"),
    _m("final_accuracy", "final training accuracy", "share", "higher", "", "accuracy", "final"),
    _m("final_test_loss", "final test data loss", "", "lower", "test", "test_loss", "final"),
    _m("best_test_loss", "best test data loss over the epochs", "", "lower", "test", "test_loss", "best"),
    _m("final_test_accuracy", "final test accuracy", "share", "higher", "test", "test_accuracy", "final"),
    _m(
        "best_test_accuracy",
        "best test accuracy over the epochs",
        "share",
        "higher",
        "test",
        "test_accuracy",
        "best",
    ),
    _m("final_ema_loss", "final loss, EMA weights", "", "lower", "ema", "ema_loss", "final"),
    _m(
        "final_ema_accuracy", "final accuracy, EMA weights", "share", "higher", "ema", "ema_accuracy", "final"
    ),
    _m(
        "final_ema_test_loss",
        "final test data loss, EMA weights",
        "",
        "lower",
        "test+ema",
        "ema_test_loss",
        "final",
    ),
    _m(
        "final_ema_test_accuracy",
        "final test accuracy, EMA weights",
        "share",
        "higher",
        "test+ema",
        "ema_test_accuracy",
        "final",
    ),
    _m("converged_epoch", "converged epoch", "epoch", "lower", "", None, "converged"),
    _m(
        "final_distance",
        "final distance to the nearest minimum",
        "",
        "lower",
        "",
        None,
        "distance",
        ("surface",),
    ),
    _m(
        "target_step",
        "first step with loss at most the target",
        "step",
        "lower",
        "",
        None,
        "target",
        ("surface",),
    ),
    _m("train_seconds", "training time", "s", "lower", "", None, "time", _BOTH),
)
METRICS: dict[str, Metric] = {m.name: m for m in _TABLE}

# names used before this table existed (sweep.csv, --metric, `nnopt runs --sort`), read as their metric
ALIASES = {
    "loss": "final_loss",
    "accuracy": "final_accuracy",
    "data_loss": "final_data_loss",
    "test_loss": "final_test_loss",
    "test_accuracy": "final_test_accuracy",
}

# what a sweep ranks by, and lists in sweep.csv and cells.csv: the per-run numbers, not the time (a
# population's time is shared by its runs)
RANKABLE = tuple(name for name in METRICS if name != "train_seconds")


def get(name: str) -> Metric:
    """The metric named `name` (or an old alias of it).

    Raises:
      KeyError: an unknown name.
    """
    return METRICS[ALIASES.get(name, name)]


def names(*, test: bool, ema: bool, among: Sequence[str] = RANKABLE, kind: str = "network") -> list[str]:
    """The metrics of `among` that runs of `kind` with (or without) a test split and EMA have, in table
    order."""
    return [n for n in among if METRICS[n].applies(test=test, ema=ema, kind=kind)]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def converged_definition(*, with_test: bool, target: float | None = None) -> str:
    """The converged epoch's definition in words, for a table's caption."""
    if target is not None:
        return TARGET_DEFINITION.format(target=target)
    measure = "test accuracy (what the course reads off its curve)" if with_test else "training loss"
    return CONVERGED_DEFINITION.format(measure=measure)


def still_improving(values: Sequence[float], *, higher: bool = False) -> bool:
    """Whether the last 10% of the epochs (at least one) moved the measure by more than 1% of its value
    there, in its better direction: values[-1] against values[-1 - k], k = max(1, ceil(n / 10)) (the first
    value when there are fewer)."""
    n = len(values)
    if n < 2:
        return False
    k = max(1, math.ceil(IMPROVING_SHARE * n))
    before, last = values[max(0, n - 1 - k)], values[-1]
    gain = last - before if higher else before - last
    return gain > IMPROVING_TOLERANCE * abs(before)


def settled_epoch(values: Sequence[float]) -> int | None:
    """The first epoch (1-based) from which every value stays within 1% of the final one (|v − f| ≤ 0.01·|f|);
    None if a value is not finite or there is none."""
    if not values or not all(math.isfinite(v) for v in values):
        return None
    final = values[-1]
    tolerance = CONVERGENCE_TOLERANCE * abs(final)
    outside = [i for i, v in enumerate(values) if abs(v - final) > tolerance]
    return outside[-1] + 2 if outside else 1


def converged_epoch(h: Any, *, target: float | None = None) -> int | None:
    """The run's converged epoch, the only definition (compare and sweep both use it).

    Without `target`: the measure monitored is the test accuracy with a test split (what the course reads
    off its test-accuracy curve), else the training loss; the converged epoch is the first epoch from which
    it stays within 1% of its final value. None for a run that did not complete (diverged, interrupted) or
    is still improving at its end (`still_improving`). With `target`: the first epoch whose training loss is
    at most `target`, None if none is.
    """
    if h.status != "completed":
        return None
    if target is not None:
        hits = [i for i, v in enumerate(h.loss) if v <= target]
        return hits[0] + 1 if hits else None
    tested = h.with_test and bool(h.test_accuracy)
    values = list(h.test_accuracy if tested else h.loss)
    if still_improving(values, higher=tested):
        return None
    return settled_epoch(values)


def compute(h: Any, *, target: float | None = None) -> dict[str, float | None]:
    """Every metric a run has (by its test split and EMA), in table order; None where it has no value."""
    diverged = h.status == "diverged"
    test, ema = bool(h.with_test), h.config.ema_decay is not None
    out: dict[str, float | None] = {}
    for m in METRICS.values():
        if not m.applies(test=test, ema=ema):
            continue
        if m.reduce == "time":
            out[m.name] = float(h.train_seconds)
        elif m.reduce == "converged":
            epoch = converged_epoch(h, target=target)
            out[m.name] = None if epoch is None else float(epoch)
        else:
            assert m.series is not None
            values: list[float] = list(getattr(h, m.series))
            if m.reduce == "final":
                out[m.name] = None if diverged or not values else _finite(values[-1])
            else:
                finite = [v for v in values if math.isfinite(v)]
                out[m.name] = (max(finite) if m.higher else min(finite)) if finite else None
    return out


def target_step(loss: Sequence[float], target: float) -> int | None:
    """The first step k (0: the start) whose loss is at most `target`; None when none is."""
    hits = [k for k, v in enumerate(loss) if v <= target]
    return hits[0] if hits else None


def compute_surface(h: Any, *, distance: float, target: float | None = None) -> dict[str, float | None]:
    """A surface path's metrics, in table order: `h` a SurfaceHistory (loss of steps 0..n, status,
    train_seconds), `distance` from its last point to the nearest minimum (core.surface.nearest; NaN for a
    function without one), `target` the loss of target_step (None: SURFACE_TARGET). A diverged path has no
    final loss and no distance."""
    diverged = h.status == "diverged"
    loss = [float(v) for v in h.loss]
    finite = [v for v in loss if math.isfinite(v)]
    step = target_step(loss, SURFACE_TARGET if target is None else target)
    values: dict[str, float | None] = {
        "final_loss": None if diverged or not loss else _finite(loss[-1]),
        "best_loss": min(finite) if finite else None,
        "final_distance": None if diverged else _finite(distance),
        "target_step": None if step is None else float(step),
        "train_seconds": float(h.train_seconds),
    }
    return {
        m.name: values[m.name] for m in METRICS.values() if m.applies(test=False, ema=False, kind="surface")
    }


def target_step_definition(target: float | None) -> str:
    """The surface table's target step and distance in words, for its caption."""
    return TARGET_STEP_DEFINITION.format(target=SURFACE_TARGET if target is None else target)


class Stats(NamedTuple):
    """A metric over a group of runs (a cell's seeds): `runs` trained, `diverged` of them, and the mean, std,
    min and max over the runs that did not diverge (NaN when one of them has no value, or none is left)."""

    runs: int
    diverged: int
    mean: float
    std: float
    low: float
    high: float


def aggregate(values: Sequence[float | None], diverged: Sequence[bool]) -> Stats:
    """`values` of one metric over runs, with which of them diverged (see Stats)."""
    kept = [v for v, d in zip(values, diverged, strict=True) if not d]
    lost = sum(bool(d) for d in diverged)
    numbers = [float(v) for v in kept if v is not None and math.isfinite(v)]
    if not numbers or len(numbers) < len(kept):
        return Stats(len(values), lost, math.nan, math.nan, math.nan, math.nan)
    mean = math.fsum(numbers) / len(numbers)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in numbers) / len(numbers))
    return Stats(len(values), lost, mean, std, min(numbers), max(numbers))


def better(metric: str, a: float, b: float) -> bool:
    """Whether value a of `metric` is strictly better than b."""
    return a > b if get(metric).higher else a < b
