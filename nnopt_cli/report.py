"""What a run's and a comparison's pictures show: histories and arrays in, figures (plots.py) out.

Nothing here runs the model: the decision boundary arrives as a score grid (experiment.boundary). The
figures of a folder are independent jobs, so they can be drawn in any order or process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import plots, schedules
from nnopt_cli.loop import History
from nnopt_cli.quadratic import QuadraticHistory


def describe_optimizer(config: Any) -> str:
    """A short label of the optimizer and its hyperparameters, e.g. 'adam lr=0.01 beta1=0.9 ...'."""
    params = " ".join(f"{k}={_short(v)}" for k, v in config.optimizer_params.items())
    decay = f" decay={_short(config.lr_decay)}" if config.lr_decay else ""
    return f"{config.optimizer} lr={_short(config.lr)}{decay}" + (f" {params}" if params else "")


def describe_run(config: Any) -> str:
    """Optimizer, schedule, regularizer and EMA in one line, for titles."""
    parts = [describe_optimizer(config)]
    if config.schedule != "constant":
        parts.append(schedules.describe(config.schedule, config.schedule_params))
    if config.regularizer != "none" and config.reg_scale > 0:
        parts.append(f"{config.regularizer} scale={_short(config.reg_scale)}")
    if config.ema_decay is not None:
        parts.append(f"EMA decay={_short(config.ema_decay)}")
    return ", ".join(parts)


def describe_network(config: Any) -> str:
    """'2-11-1 relu, linear output, mse' style: the layer widths between input and output, and the head."""
    hidden = "-".join(map(str, config.hidden)) or "no hidden layer"
    return f"hidden {hidden} {config.activation}, {config.output} output, {config.loss}"


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def score_label(config: Any) -> str:
    """What the boundary picture's colour means for this head."""
    if config.loss == "bce":
        return "sigmoid(output) = P(y_c = 1)"
    if config.loss == "ce":
        return "softmax(logits)₁ = P(y_c = 1)"
    if config.output == "softmax":
        return "softmax output₁ = P(y_c = 1)"
    if config.output == "sigmoid":
        return "sigmoid output ŷ"
    return "network output ŷ"


@dataclass(frozen=True)
class BoundaryView:
    """A run's decision boundary as arrays: the score grids and the data it was trained on."""

    score: np.ndarray
    ema_score: np.ndarray | None
    x: np.ndarray
    labels: np.ndarray


def _accuracy_text(h: History) -> str:
    if not h.accuracy:
        return "no epoch finished"
    if h.status == "diverged":
        return f"diverged at epoch {h.diverged_epoch}"
    text = f"accuracy {h.accuracy[-1]:.1%}"
    if h.params_ema is not None and h.ema_accuracy:
        text += f", EMA {h.ema_accuracy[-1]:.1%}"
    n = h.epochs_done
    return f"{text} after {n} epoch{'s' if n != 1 else ''}"


def _boundary(h: History, view: BoundaryView) -> plots.Boundary:
    return plots.Boundary(
        score=view.score, label=f"{h.config.name}: {_accuracy_text(h)}", ema_score=view.ema_score
    )


def draw_loss(folder: Path, h: History) -> None:
    config = h.config
    epochs = np.asarray(h.epoch, dtype=float)
    reg = config.regularizer != "none" and config.reg_scale > 0
    loss_label = "loss (data loss + regularization)" if reg else f"loss ({config.loss})"
    loss_curves = [plots.Curve(epochs, np.asarray(h.loss), loss_label, color="C0")]
    if reg:
        loss_curves.append(
            plots.Curve(epochs, np.asarray(h.data_loss), f"data loss ({config.loss})", color="C0", style="--")
        )
    acc_curves = [plots.Curve(epochs, np.asarray(h.accuracy), "accuracy", color="C2")]
    if config.ema_decay is not None:
        loss_curves.append(plots.Curve(epochs, np.asarray(h.ema_loss), "loss of the EMA weights", color="C1"))
        acc_curves.append(
            plots.Curve(epochs, np.asarray(h.ema_accuracy), "accuracy of the EMA weights", color="C1")
        )
    note = h.message if h.status != "completed" else ""
    title = f"{config.name}: {describe_run(config)}"
    plots.training_curves(folder / "loss.png", title=title, loss=loss_curves, accuracy=acc_curves, note=note)


def draw_lr(folder: Path, h: History) -> None:
    config = h.config
    steps = np.arange(len(h.lr_trace))
    title = f"{config.name}: learning rate of each update ({h.steps_per_epoch} updates per epoch)"
    schedule = schedules.describe(config.schedule, config.schedule_params)
    if config.unit == "epoch":
        schedule += ", evaluated per epoch"
    if config.lr_decay:
        schedule += f", / (1 + {config.lr_decay:g}·k)"
    curve = plots.Curve(steps, h.lr_trace, f"{schedule}, lr0={config.lr:g}")
    plots.lr_curves(folder / "lr.png", [curve], title=title)


def draw_boundary(folder: Path, h: History, view: BoundaryView) -> None:
    plots.boundary(
        folder / "boundary.png",
        view.x,
        view.labels,
        _boundary(h, view),
        title=f"{describe_run(h.config)}\n{describe_network(h.config)}",
        score_label=score_label(h.config),
    )


# A figure to draw: a module-level function and its arguments, so that it can run in a worker process.
Job = tuple[Callable[..., None], tuple[Any, ...]]


def run_jobs(folder: Path, history: History, view: BoundaryView) -> list[Job]:
    """A run's three figures: loss.png, lr.png, boundary.png."""
    return [
        (draw_loss, (folder, history)),
        (draw_lr, (folder, history)),
        (draw_boundary, (folder, history, view)),
    ]


def draw(jobs: Sequence[Job], *, workers: int | None = None) -> None:
    """Draw figures, in parallel worker processes where the machine has several cores.

    Workers are forked after matplotlib is imported, so that each starts drawing at once; where fork is not
    available (or there is one core) the figures are drawn one after the other.
    """
    from concurrent.futures import ProcessPoolExecutor

    workers = min(len(jobs), workers or os.cpu_count() or 1, 4)
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for fn, args in jobs:
            fn(*args)
        return
    import matplotlib.figure  # noqa: F401  (imported once here, inherited by the forked workers)

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for future in [pool.submit(fn, *args) for fn, args in jobs]:
            future.result()


# --- comparisons ------------------------------------------------------------------------------------


def _band(series: list[np.ndarray]) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    length = min(len(s) for s in series)
    stacked = np.stack([s[:length] for s in series])
    if len(series) == 1:
        return stacked[0], None
    return stacked.mean(axis=0), (stacked.min(axis=0), stacked.max(axis=0))


def _by_name(names: Sequence[str], histories: Sequence[History]) -> dict[str, list[History]]:
    by_name: dict[str, list[History]] = {}
    for name, h in zip(names, histories, strict=True):
        by_name.setdefault(name, []).append(h)
    return by_name


def draw_comparison(folder: Path, names: Sequence[str], histories: Sequence[History], seeds: int) -> None:
    """compare.png: loss, accuracy and learning rate, one colour per entry (mean and band over seeds)."""
    by_name = _by_name(names, histories)
    loss_curves, acc_curves, lr_curves = [], [], []
    for i, (name, hs) in enumerate(by_name.items()):
        color = f"C{i % 10}"
        described = describe_run(hs[0].config)
        label = described if described.split(" ")[0] == name else f"{name}: {described}"
        done = [h for h in hs if h.loss]
        if not done:
            continue
        epochs = np.asarray(done[0].epoch[: min(len(h.epoch) for h in done)], dtype=float)
        loss, loss_band = _band([np.asarray(h.loss) for h in done])
        acc, acc_band = _band([np.asarray(h.accuracy) for h in done])
        loss_curves.append(plots.Curve(epochs, loss, label, color=color, band=loss_band))
        acc_curves.append(plots.Curve(epochs, acc, name, color=color, band=acc_band))
        lr_curves.append(plots.Curve(np.arange(len(hs[0].lr_trace)), hs[0].lr_trace, name, color=color))
    spread = f"; lines: mean of {seeds} seeds, bands: min to max" if seeds > 1 else ""
    plots.comparison(
        folder / "compare.png",
        loss=loss_curves,
        accuracy=acc_curves,
        rates=lr_curves,
        title=f"Same network, same start, same batches: {len(by_name)} entries{spread}",
    )


def draw_boundaries(
    folder: Path,
    names: Sequence[str],
    histories: Sequence[History],
    views: Sequence[BoundaryView],
    seeds: int,
) -> None:
    """boundaries.png: every entry's decision boundary (its first seed) in one grid."""
    firsts: dict[str, tuple[History, BoundaryView]] = {}
    for name, h, view in zip(names, histories, views, strict=True):
        firsts.setdefault(name, (h, view))
    pairs = list(firsts.values())
    first_view = pairs[0][1]
    plots.boundary_grid(
        folder / "boundaries.png",
        first_view.x,
        first_view.labels,
        [_boundary(h, view) for h, view in pairs],
        title="Decision boundaries after training" + (" (first seed)" if seeds > 1 else ""),
        score_label=score_label(pairs[0][0].config),
    )


def comparison_jobs(
    folder: Path,
    names: Sequence[str],
    histories: Sequence[History],
    views: Sequence[BoundaryView],
    seeds: int,
) -> list[Job]:
    return [
        (draw_comparison, (folder, list(names), list(histories), seeds)),
        (draw_boundaries, (folder, list(names), list(histories), list(views), seeds)),
    ]


# --- the quadratic toy ------------------------------------------------------------------------------


def _quadratic_title(config: Any) -> str:
    title = f"{config.name}: minimising (w + 1)² from w0 = {config.w0:g}"
    if config.optimizer == "sgd" and config.schedule == "constant" and not config.lr_decay:
        factor = 1 - 2 * config.lr
        title += f"; each sgd step multiplies w + 1 by 1 − 2·lr = {factor:g}"
    return title


def draw_quadratic(folder: Path, h: QuadraticHistory) -> None:
    """quadratic.png and lr.png of the toy."""
    config = h.config
    label = f"{describe_run(config)}, w0={config.w0:g}"
    plots.quadratic(
        folder / "quadratic.png",
        [(label, np.asarray(h.step), np.asarray(h.w), np.asarray(h.loss))],
        title=_quadratic_title(config),
        w0=config.w0,
    )
    plots.lr_curves(
        folder / "lr.png",
        [plots.Curve(np.asarray(h.step), np.asarray(h.lr), label)],
        title=f"{config.name}: learning rate of each update",
    )
