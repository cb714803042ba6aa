"""overlay.png: past runs' curves in one picture, one colour per run (`nnopt overlay`)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import metrics
from nnopt_cli.figures import plots


@dataclass(frozen=True)
class Line:
    """One run's curves as drawn: its label, its optimizer (its colour, plots.name_colors), the column along
    x (epoch; the toy's step) and each column's values, NaN where it has none; `resumed_at`: the epoch it
    continued another run from, `joins` when that run is drawn too (the line then starts there)."""

    label: str
    optimizer: str
    x: str
    values: Mapping[str, np.ndarray]
    resumed_at: int | None = None
    joins: bool = False

    def column(self, name: str) -> np.ndarray:
        got = self.values.get(name)
        return got if got is not None else np.full(len(self.values[self.x]), np.nan)


# the panels, each with the columns drawn on it: solid the first, dashed the second (the held-out rows)
PANELS = (("loss", "test_loss"), ("accuracy", "test_accuracy"), ("w", None), ("lr", None))
TEST = "dashed: the test rows"
RESUMED = "ring: a resumed run continues its parent's line from here"
_OWN_LABELS = {"w": "the weight w", "lr": "learning rate (the epoch's last update)"}
_PER_UPDATE = {"lr": "learning rate of each update"}  # the toy's metrics.csv has a row per update


def axis_label(column: str) -> str:
    """A column's name in words: its metric's label from the metrics table (`final loss (training
    objective)` without `final`), else the few the table has no metric for."""
    for m in metrics.METRICS.values():
        if m.series == column and m.reduce == "final":
            return m.label.removeprefix("final ")
    return _OWN_LABELS.get(column, column)


def _values(c: Line, column: str | None) -> np.ndarray:
    return c.column(column) if column else np.zeros(0)


def _drawn(c: Line, x: np.ndarray, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The points of a column to draw: those after the resume point when the run continues another
    overlaid run (its earlier rows are the parent's, drawn already), the finite ones."""
    y = _values(c, column)
    keep = np.isfinite(y) & np.isfinite(x)
    if c.joins and c.resumed_at is not None:
        keep &= x >= c.resumed_at
    return x[keep], y[keep]


def draw(path: Path, curves: Sequence[Line], title: str) -> None:
    """The panels that some run has values for (loss, accuracy, the toy's w, lr), a line per run in its
    colour, the test rows dashed in the same colour; a resumed run starts where its parent's line is at the
    resume point, marked there with a ring. The loss and lr axes are logarithmic."""
    panels = [p for p in PANELS if any(np.isfinite(_values(c, p[0])).any() for c in curves)]
    n = max(len(panels), 1)
    fig = plots._figure(4.6 * n, 4.8)
    axes = [fig.add_subplot(1, n, i + 1) for i in range(n)]
    colors = plots.run_colors([c.optimizer for c in curves])
    unit = curves[0].x if curves else "epoch"
    with_test = False
    resumed = False
    for ax, (column, test) in zip(axes, panels, strict=False):
        for c, color in zip(curves, colors, strict=True):
            x = _values(c, c.x)
            xs, ys = _drawn(c, x, column)
            if column in ("loss", "lr"):
                keep = ys > 0
                xs, ys = xs[keep], ys[keep]
            ax.plot(xs, ys, color=color, linewidth=1.6, label=c.label)
            if test is not None:
                xt, yt = _drawn(c, x, test)
                if len(yt):
                    first = not with_test
                    with_test = True
                    ax.plot(xt, yt, color=color, linewidth=1.4, linestyle="--", label=TEST if first else None)
            if c.resumed_at is not None and len(xs):
                at = np.flatnonzero(xs == c.resumed_at)
                i = int(at[0]) if len(at) else 0
                ring: dict[str, Any] = {"marker": "o", "markersize": 8, "markerfacecolor": "none"}
                ring["markeredgewidth"] = 1.6
                ax.plot(
                    [xs[i]],
                    [ys[i]],
                    color=color,
                    linestyle="none",
                    label=None if resumed else RESUMED,
                    **ring,
                )
                resumed = True
        if column in ("loss", "lr"):
            plots._log_y(ax)
        if column in ("accuracy",):
            shown = [plots.Curve(np.zeros(0), _values(c, k), "") for c in curves for k in (column, test) if k]
            plots._percent_axis(ax, shown)
        words = (_PER_UPDATE.get(column) if unit == "step" else None) or axis_label(column)
        words += ", log scale" if column in ("loss", "lr") else ""
        ax.set_title(words[0].upper() + words[1:], fontsize=9.5)
        ax.set_xlabel(unit)
        ax.grid(True, which="major", alpha=0.3)
    # the runs first, then what the dashes and rings mean (each labelled once, on the first line drawn)
    found: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    labels = [c.label for c in curves if c.label in found] + [t for t in (TEST, RESUMED) if t in found]
    handles = [found[label] for label in labels]
    columns = 1 if max((len(t) for t in labels), default=0) > 60 else min(3, max(len(labels), 1))
    rows = math.ceil(len(labels) / columns)
    # a title naming many differing keys (runs of different optimizers) wraps to the figure's width
    lines = textwrap.wrap(title, max(40, int(4.6 * n / 0.1))) or [""]
    height = 4.2 + 0.19 * rows + 0.2 * (len(lines) - 1)
    fig.set_size_inches(4.6 * n, height)
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.02), ncols=columns, fontsize=8.5,
               frameon=False)  # fmt: skip
    fig.suptitle("\n".join(lines), fontsize=11.5, y=1 - 0.12 / height, va="top")
    top = 1 - (0.75 + 0.2 * (len(lines) - 1)) / height
    fig.subplots_adjust(top=top, bottom=(0.75 + 0.19 * rows) / height, right=0.98, wspace=0.3)
    plots._fit_y_labels(fig, axes)
    plots.save(fig, path)
