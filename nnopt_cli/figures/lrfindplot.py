"""lr_find.png: the loss of a learning-rate range test against the rate, one line per test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nnopt_cli.core.lrrange import DIVERGE, Curve
from nnopt_cli.figures import plots

SINGLE_COLOR = "tab:blue"
STEEPEST_COLOR = "tab:green"
MINIMUM_COLOR = "tab:red"


def _at(curve: Curve, lr: float) -> float:
    """The smoothed loss at rate `lr`, interpolated on the log of the rate."""
    finite = np.isfinite(curve.smoothed)
    return float(np.interp(math.log(lr), np.log(curve.lr[finite]), curve.smoothed[finite]))


def _rate(x: float) -> str:
    return f"{x:.3g}"


def _limits(curves: Sequence[Curve]) -> tuple[float, float]:
    """The loss axis: every smoothed point before the stop, with room; the raw losses and the stopping point
    beyond it are cut off (the stop is marked just below the top edge)."""
    values = np.concatenate([c.smoothed[: c.stopped_at] for c in curves] + [np.zeros(0)])
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return 1e-3, 1.0
    low, high = float(values.min()), float(values.max())
    raw = np.concatenate([c.loss[: c.stopped_at] for c in curves])
    raw = raw[np.isfinite(raw) & (raw > 0)]
    if len(raw):
        low = min(low, float(raw.min()))
    return low / 1.3, high * 2.5


def draw(
    path: Path,
    names: Sequence[str],
    curves: Sequence[Curve],
    title: str,
    note: str,
    measured: str = "mini-batch loss",
    raw_label: str = "loss of each mini-batch",
    optimizers: Sequence[str] | None = None,
) -> None:
    """Smoothed loss (log) against the rate (log), the raw mini-batch loss faint behind it, the two
    suggested rates marked and where each test stopped crossed.

    Args:
      note: a line under the title: how the rate grew and how the loss is smoothed.
      measured, raw_label: the y axis's words and the faint line's label (a surface's range test measures
        the loss at the point each update starts from).
      optimizers: the optimizer of each test: several tests take their optimizers' colours, as everywhere
        (plots.run_colors); None: a colour per test in turn.
    """
    fig = plots._figure(8.0, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    several = len(curves) > 1
    low, top = _limits(curves)
    colors = plots.run_colors(optimizers) if optimizers is not None else plots.LR_COLORS
    for i, (name, c) in enumerate(zip(names, curves, strict=True)):
        color = colors[i % len(colors)] if several else SINGLE_COLOR
        raw = None if several else raw_label
        ax.plot(c.lr, c.loss, color=color, alpha=0.25, linewidth=0.9, zorder=1, label=raw)
        label = name if several else "smoothed loss (β 0.98)"
        if several:
            found = [f"{k} {_rate(v)}" for k, v in _shown(c) if v is not None]
            label += ": " + (", ".join(found) if found else "no suggestion")
        ax.plot(c.lr, c.smoothed, color=color, linewidth=2.0, label=label, zorder=3)
        if c.steepest is not None:
            ax.plot(
                [c.steepest], [_at(c, c.steepest)], marker="v", markersize=10, linestyle="none", zorder=5,
                color=color if several else STEEPEST_COLOR, markeredgecolor="black",
                label=None if several else f"steepest descent: lr {_rate(c.steepest)}",
            )  # fmt: skip
        if c.minimum_div_10 is not None:
            at_min = c.minimum_div_10 * 10
            ax.plot(
                [c.minimum_div_10], [_at(c, c.minimum_div_10)], marker="o", markersize=9, linestyle="none",
                zorder=5, color=color if several else MINIMUM_COLOR, markeredgecolor="black",
                label=None if several else f"minimum ÷ 10: lr {_rate(c.minimum_div_10)}",
            )  # fmt: skip
            if not several:
                ax.plot(
                    [at_min], [_at(c, at_min)], marker="*", markersize=12, linestyle="none", zorder=4,
                    color="white", markeredgecolor=MINIMUM_COLOR,
                    label=f"the minimum, at lr {_rate(at_min)}",
                )  # fmt: skip
        if c.stopped_at is not None and math.isfinite(c.smoothed[c.stopped_at]):
            ax.plot(
                [c.lr[c.stopped_at]], [min(c.smoothed[c.stopped_at], top / 1.25)], marker="X", markersize=10,
                zorder=6, linestyle="none", color=color, markeredgecolor="black", clip_on=False,
                label=None if several or i else f"stopped: smoothed loss > {DIVERGE:g}× its minimum",
            )  # fmt: skip
    ax.set_xscale("log")
    plots._log_y(ax)
    labels = plots._log_formatter()
    ax.xaxis.set_major_formatter(labels())
    ax.set_ylim(low, top)
    ax.set_xlabel("learning rate (log scale; it grows every update, left to right)")
    ax.set_ylabel(f"{measured} (log scale)")
    ax.grid(True, which="major", alpha=0.3)
    if several:
        ax.plot([], [], marker="v", color="gray", markeredgecolor="black", linestyle="none", label="steepest")
        ax.plot(
            [], [], marker="o", color="gray", markeredgecolor="black", linestyle="none", label="minimum ÷ 10"
        )
        ax.plot([], [], marker="X", color="gray", markeredgecolor="black", linestyle="none", label="stopped")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    fig.suptitle(title, fontsize=12, y=0.985)
    ax.set_title(note, fontsize=8.5, color="#444444")
    fig.subplots_adjust(top=0.84, bottom=0.12, right=0.97)
    plots._fit_y_labels(fig, [ax])
    plots.save(fig, path)


def _shown(c: Curve) -> list[tuple[str, float | None]]:
    return [("steepest", c.steepest), ("min÷10", c.minimum_div_10)]
