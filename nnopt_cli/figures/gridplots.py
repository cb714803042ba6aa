"""The figures of a grid of runs (a sweep): a heatmap of a metric over two grid keys, and its sensitivity to
one numeric key. Plain arrays in, a PNG out: nothing here knows configs or training.

Every size is worked out in inches before anything is drawn, from the measured width of the texts (tick
labels, the numbers in the cells, the notes), so that nothing overlaps whatever the labels, the number of
grid values or of lines, and no layout engine has to measure every artist on each draw (see plots.py).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nnopt_cli.figures import plots

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Axis:
    """One grid key as an axis of a figure.

    Attributes:
      key: the config key, e.g. "optimizer.lr", "optimizer.name".
      labels: one label per grid value, in grid order, e.g. ("0.001", "0.003") or ("sgd", "adam").
      values: the numeric values when the key is numeric, else None.
      log: the values are log-spaced (a learning-rate grid).
    """

    key: str
    labels: tuple[str, ...]
    values: tuple[float, ...] | None = None
    log: bool = False


@dataclass(frozen=True)
class Panel:
    """One heatmap: the metric over the (y, x) grid for one combination of the other keys.

    Attributes:
      title: "" for a single panel; else the values of the other keys, e.g. "regularizer.scale = 0.01".
      mean: (ny, nx) the metric's mean over the seeds that did not diverge; NaN where none. A cell with
        a diverged seed is drawn hatched whatever its mean.
      diverged: (ny, nx) how many seeds of the cell diverged.
      runs: (ny, nx) how many seeds the cell has (0: the cell was not trained).
    """

    title: str
    mean: np.ndarray
    diverged: np.ndarray
    runs: np.ndarray


@dataclass(frozen=True)
class Line:
    """One line of the sensitivity figure, over the grid values of x.

    Attributes:
      label: e.g. "adam" (a value of the categorical key), or "" for a single line.
      mean, low, high: (nx,) mean, min and max over the seeds that did not diverge; NaN where none.
      diverged: (nx,) how many seeds diverged; runs: (nx,) how many seeds the point has.
    """

    label: str
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    diverged: np.ndarray
    runs: np.ndarray


TITLE_SIZE = 11
LABEL_SIZE = 9
TICK_SIZE = 8
CELL_SIZE = 8  # the numbers in the cells; smaller when many columns leave narrow cells, never below MIN_CELL
MIN_CELL_SIZE = 5.5
NOTE_SIZE = 8.5
BEST_COLOR = "#e41a1c"
DIVERGED_FACE = "#d4d4d4"
DIVERGED_HATCH = "#8a8a8a"
MAX_PANELS_WIDTH = 15.0  # inches the panels of a heatmap may take side by side before a new row starts
MAX_CELLS_WIDTH = 13.0  # inches one panel's cells may take: 30 grid values get narrower cells
MAX_TICK_LABEL = 30  # characters of a tick label before it is shortened with "…"


def _is_accuracy(metric_label: str) -> bool:
    return "accuracy" in metric_label.lower()


def short_number(value: float, *, percent: bool = False, digits: int = 3) -> str:
    """A cell's value in few characters: `digits` significant digits (0.0123, 1.5, 1230; 1.23e-05 beyond
    0.001..10⁴), or a share in percent with digits − 2 decimals (0.9667 → 96.7%)."""
    if not math.isfinite(value):
        return "–"
    if percent:
        return f"{100 * value:.{max(digits - 2, 1)}f}%"
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return np.format_float_positional(float(f"{value:.{digits}g}"), trim="-")
    return f"{value:.{digits - 1}e}"


def telling_digits(values: np.ndarray, *, percent: bool = False) -> int:
    """The fewest significant digits (3 to 7) at which every two different values read differently, so
    that neighbouring cells, and the best one, can be told apart by their numbers."""
    finite = np.unique(np.asarray(values, dtype=float)[np.isfinite(values)])
    distinct = len(np.unique([f"{v:.10g}" for v in finite]))
    for digits in range(3, 7):
        if len({short_number(float(v), percent=percent, digits=digits) for v in finite}) == distinct:
            return digits
    return 7


def _number_formatter(percent: bool) -> Any:
    """Axis labels written as the cells are: 0.02, 1.5, 1230; a share as 95% or 97.5%."""
    from matplotlib.ticker import FuncFormatter

    if percent:
        return FuncFormatter(lambda v, _: f"{100 * v:.4g}%")
    return FuncFormatter(lambda v, _: short_number(v))


def _log_ticks(low: float, high: float) -> list[float]:
    """At most 7 round values between low and high (> 0): 1, 2, 5 times powers of ten, or fewer of them."""
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for steps, every in (((1, 2, 5), 1), ((1, 3), 1), ((1,), 1), ((1,), 2), ((1,), 5)):
        ticks = [m * 10.0**k for k in decades if k % every == 0 for m in steps]
        ticks = [float(f"{t:.3g}") for t in ticks if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]
        if len(ticks) <= 7:
            return ticks
    return [low, high]


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_TICK_LABEL else label[: MAX_TICK_LABEL - 1] + "…"


def _ruler(fig: Figure) -> Callable[[str, float], tuple[float, float]]:
    """size(text, fontsize) -> (width, height) in inches of the text as drawn, lines stacked."""
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    props: dict[float, Any] = {}

    def size(text: str, fontsize: float) -> tuple[float, float]:
        prop = props.setdefault(fontsize, FontProperties(size=fontsize))
        lines = text.split("\n")
        widths = [
            renderer.get_text_width_height_descent(line or " ", prop, ismath=False)[0] for line in lines
        ]
        return max(widths) / fig.dpi, len(lines) * 1.2 * fontsize / 72

    return size


def _wrap(text: str, width: float, fontsize: float, size: Callable[[str, float], tuple[float, float]]) -> str:
    """The text broken into lines no wider than `width` inches (a single long word stays whole)."""
    measured = size(text, fontsize)[0]
    if measured <= width or not text:
        return text
    chars = max(8, int(len(text) * width / measured))
    return "\n".join(textwrap.wrap(text, chars, break_long_words=False))


def _best(values: np.ndarray, usable: np.ndarray, clean: np.ndarray, higher_is_better: bool) -> int | None:
    """The flat index of the best value, among the clean points (no seed diverged) if there are any, else
    among the usable ones (a finite mean); the first in grid order on a tie; None if nothing is usable."""
    pool = clean if clean.any() else usable
    if not pool.any():
        return None
    score = np.where(pool, values if higher_is_better else -values, -np.inf)
    return int(np.argmax(score))


def _set_place(fig: Figure, artist: Any, left: float, top: float, width: float, height: float) -> None:
    """Put an axes at (left, top) inches from the figure's top-left corner, width × height inches."""
    w, h = fig.get_figwidth(), fig.get_figheight()
    artist.set_position((left / w, 1 - (top + height) / h, width / w, height / h))


def _legend_height(rows: int) -> float:
    """Inches a frameless legend of `rows` one-line entries at NOTE_SIZE takes (1.1 em of text, 0.5 apart)."""
    if rows == 0:
        return 0.0
    return (rows * 1.1 + (rows - 1) * 0.5 + 0.3) * NOTE_SIZE / 72


def _legend_width(labels: Sequence[str], size: Callable[[str, float], tuple[float, float]]) -> float:
    """Inches a one-column legend takes: its widest label, the handle and the gap between them."""
    return max((size(label, NOTE_SIZE)[0] for label in labels), default=0.0) + 3.4 * NOTE_SIZE / 72


# ---------------------------------------------------------------------------------------------- heatmap

VALUE, DIVERGED, NOT_RUN = 0, 1, 2  # what a cell shows: a colour, hatched grey, nothing


@dataclass(frozen=True)
class _Cells:
    """What each cell of one panel shows, and the words written in it."""

    kind: np.ndarray  # (ny, nx) of VALUE, DIVERGED, NOT_RUN
    text: list[list[str]]


def _cells(panel: Panel, percent: bool, digits: int = 3) -> _Cells:
    """A cell is coloured when it has runs, none of which diverged, and a finite mean; hatched grey when it
    has runs but a seed diverged (its count written in it) or no value; empty when it was never trained. A
    cell where some seeds diverged is never coloured: the others' mean would look as good as, or better
    than, a cell whose every seed survived."""
    mean, diverged, runs = panel.mean, panel.diverged, panel.runs
    kind = np.where(runs <= 0, NOT_RUN, np.where(np.isfinite(mean) & (diverged == 0), VALUE, DIVERGED))
    text = []
    for i in range(mean.shape[0]):
        row = []
        for j in range(mean.shape[1]):
            if kind[i, j] == NOT_RUN:
                row.append("not run")
            elif kind[i, j] == DIVERGED:
                row.append(f"{diverged[i, j]}/{runs[i, j]} div." if diverged[i, j] > 0 else "no value")
            else:
                row.append(short_number(mean[i, j], percent=percent, digits=digits))
        text.append(row)
    return _Cells(kind, text)


def _checked_panels(x: Axis, y: Axis | None, panels: Sequence[Panel]) -> list[Panel]:
    """The panels with (ny, nx) arrays (a single row may come as (nx,)); a wrong shape is refused."""
    if not panels:
        raise ValueError("heatmap: no panel to draw")
    if not x.labels or (y is not None and not y.labels):
        raise ValueError("heatmap: an axis has no grid value")
    shape = (1 if y is None else len(y.labels), len(x.labels))
    checked = []
    for p in panels:
        arrays = [np.asarray(a) for a in (p.mean, p.diverged, p.runs)]
        arrays = [a.reshape(1, -1) if a.ndim == 1 and shape[0] == 1 else a for a in arrays]
        for name, a in zip(("mean", "diverged", "runs"), arrays, strict=True):
            if a.shape != shape:
                raise ValueError(f"heatmap: panel {p.title!r}: {name} has shape {a.shape}, the axes {shape}")
        checked.append(Panel(p.title, arrays[0].astype(float), arrays[1].astype(int), arrays[2].astype(int)))
    return checked


def _color_norm(values: np.ndarray, higher_is_better: bool) -> Any:
    """Log for a loss whose values are all > 0 and span more than a factor of 20, else linear; a single
    value gets a small range around it."""
    from matplotlib.colors import LogNorm, Normalize

    low, high = float(values.min()), float(values.max())
    if not higher_is_better and low > 0 and high / low > 20:
        return LogNorm(low, high)
    if high == low:
        margin = abs(low) * 0.05 or 0.01
        low, high = low - margin, high + margin
    return Normalize(low, high)


def _axis_label(a: Axis, *, stacked: bool = False) -> str:
    if not a.log:
        return a.key
    return f"{a.key}\n(log-spaced)" if stacked else f"{a.key} (log-spaced)"


@dataclass(frozen=True)
class _HeatmapLayout:
    """Sizes in inches, worked out from the measured texts before anything is drawn."""

    cell_font: float  # the numbers in the cells (0: too narrow to write them)
    x_rotate: bool  # the x tick labels stand upright
    x_tick_step: int  # every how many x tick labels one is written
    panel_w: float
    panel_h: float
    left: float  # left of the first panel: the y tick labels and the y label
    below: float  # below each panel: the x tick labels and the x label
    title_h: float  # above each panel: its title
    gap: float  # between two panels side by side
    cols: int
    rows: int

    @property
    def block_h(self) -> float:
        return self.title_h + self.panel_h + self.below

    @property
    def grid_w(self) -> float:
        return self.left + self.cols * self.panel_w + (self.cols - 1) * self.gap


def _heatmap_layout(
    size: Callable[[str, float], tuple[float, float]],
    x: Axis,
    y: Axis | None,
    cells: Sequence[_Cells],
    titles: Sequence[str],
) -> _HeatmapLayout:
    ny, nx = cells[0].kind.shape
    line = size("0", TICK_SIZE)[1]
    # the cells: wide enough for their words and the x tick labels, narrower when there are many columns
    words = {w for c in cells for row in c.text for t in row for w in t.split("\n")}
    text_w = max(size(w, CELL_SIZE)[0] for w in words)
    x_tick_w = max(size(_shorten(label), TICK_SIZE)[0] for label in x.labels)
    cell_w = min(max(0.55, text_w + 0.16, min(x_tick_w + 0.12, 1.2)), MAX_CELLS_WIDTH / nx)
    cell_font = math.floor(2 * CELL_SIZE * min(1.0, (cell_w - 0.08) / text_w)) / 2  # in half points
    if cell_font < MIN_CELL_SIZE:
        cell_font = 0.0
    lines_in_cell = max(len(t.split("\n")) for c in cells for row in c.text for t in row)
    cell_h = max(0.42, lines_in_cell * 1.2 * cell_font / 72 + 0.16)
    x_rotate = x_tick_w + 0.06 > cell_w
    x_label_w, label_h = size(_axis_label(x), LABEL_SIZE)
    panel_w = max(nx * cell_w, x_label_w + 0.1)
    if y is not None:
        y_label_w, y_label_h = size(_axis_label(y, stacked=True), LABEL_SIZE)  # turned: its width is upright
        panel_h = max(ny * cell_h, y_label_w + 0.1)
        left = y_label_h + 0.12 + max(size(_shorten(label), TICK_SIZE)[0] for label in y.labels) + 0.12
    else:
        panel_h, left = cell_h, 0.25
    gap = 0.3
    n = len(cells)
    cols = max(1, min(n, int((MAX_PANELS_WIDTH - left + gap) // (panel_w + gap))))
    rows = -(-n // cols)
    cols = -(-n // rows)  # as even as the rows allow: 4 panels as 2 × 2, not 3 + 1
    return _HeatmapLayout(
        cell_font=cell_font,
        x_rotate=x_rotate,
        x_tick_step=max(1, math.ceil((line + 0.04) / cell_w)) if x_rotate else 1,
        panel_w=panel_w,
        panel_h=panel_h,
        left=left,
        below=0.1 + (x_tick_w if x_rotate else line) + 0.06 + label_h + 0.1,
        title_h=max((size(t, LABEL_SIZE)[1] + 0.1 for t in titles if t), default=0.0),
        gap=gap,
        cols=cols,
        rows=rows,
    )


def _heatmap_notes(
    x: Axis,
    y: Axis | None,
    panels: Sequence[Panel],
    kinds: np.ndarray,
    best: tuple[int, int, int] | None,
    percent: bool,
    digits: int = 3,
) -> tuple[list[Any], list[str]]:
    """The legend under a heatmap: a handle and a sentence for each kind of mark it shows."""
    from matplotlib.patches import Patch

    diverged = np.stack([p.diverged for p in panels])
    blank = Patch(facecolor="none", edgecolor="none", gid="note")
    handles: list[Any] = []
    notes: list[str] = []
    if best is not None:
        p, i, j = best
        where = (
            [f"{x.key} = {x.labels[j]}"]
            if y is None
            else [f"{y.key} = {y.labels[i]}, {x.key} = {x.labels[j]}"]
        )
        if panels[p].title:
            where.append(panels[p].title)
        among = " (among cells where no seed diverged)" if (diverged > 0).any() else ""
        value = short_number(panels[p].mean[i, j], percent=percent, digits=digits)
        notes.append(f"best cell{among}: {', '.join(where)}: {value}")
        handles.append(Patch(facecolor="none", edgecolor=BEST_COLOR, linewidth=2.5, gid="for:best"))
    if (kinds == DIVERGED).any():
        lost = (kinds == DIVERGED) & (diverged > 0)
        empty = (kinds == DIVERGED) & (diverged == 0)
        what = []
        if lost.any():
            what.append("n/m div.: n of the cell's m seeds diverged; not coloured, ranked after the others")
        if empty.any():
            what.append("no value: the metric is empty for a seed (e.g. no converged epoch yet)")
        notes.append("hatched grey: " + "; ".join(what))
        handles.append(
            Patch(
                facecolor=DIVERGED_FACE,
                hatch="///",
                edgecolor="none",
                hatchcolor=DIVERGED_HATCH,
                gid="for:diverged",
            )
        )
    if (kinds == NOT_RUN).any():
        notes.append("not run: no seed of the cell was trained (the sweep stopped before it)")
        handles.append(Patch(facecolor="white", edgecolor="#999999", linestyle="--", gid="for:not-run"))
    if not (kinds == VALUE).any():
        notes.append("no cell has a value to colour")
        handles.append(blank)
    return handles, notes


def _draw_cell(ax: Axes, i: int, j: int, kind: int, text: str, fontsize: float, color: str) -> None:
    from matplotlib.patches import Rectangle

    if kind == NOT_RUN:  # inset: a dashed edge on the axes' border would be cut in half
        ax.add_patch(
            Rectangle(
                (j - 0.46, i - 0.46),
                0.92,
                0.92,
                facecolor="white",
                edgecolor="#999999",
                linestyle="--",
                linewidth=0.8,
                gid="not-run",
                zorder=2,
            )
        )
    elif kind == DIVERGED:
        ax.add_patch(
            Rectangle(
                (j - 0.5, i - 0.5),
                1,
                1,
                facecolor=DIVERGED_FACE,
                hatch="///",
                hatchcolor=DIVERGED_HATCH,
                edgecolor="none",
                gid="diverged",
                zorder=2,
            )
        )
    if text and fontsize:
        # on the hatching, the words sit on a patch of plain grey
        box = {"boxstyle": "round,pad=0.15", "facecolor": DIVERGED_FACE, "edgecolor": "none"}
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=fontsize,
            color=color,
            linespacing=1.15,
            zorder=6,
            bbox=box if kind == DIVERGED else None,
        )


def _text_color(kind: int, rgba: tuple[float, float, float, float]) -> str:
    """Words readable on the cell: white on a dark colour, black on a light one, grey in an empty cell."""
    if kind == NOT_RUN:
        return "#777777"
    if kind == DIVERGED:
        return "black"
    r, g, b, _ = rgba
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else "black"


def _draw_panel(
    ax: Axes, panel: Panel, cells: _Cells, lay: _HeatmapLayout, cmap: Any, norm: Any, percent: bool
) -> None:
    from matplotlib.collections import LineCollection

    ny, nx = panel.mean.shape
    shown = np.where(cells.kind == VALUE, panel.mean, np.nan)
    image = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest", origin="lower")
    rgba = image.to_rgba(shown) if norm is not None else np.zeros((ny, nx, 4))
    for i in range(ny):
        for j in range(nx):
            kind = int(cells.kind[i, j])
            _draw_cell(ax, i, j, kind, cells.text[i][j], lay.cell_font, _text_color(kind, tuple(rgba[i, j])))
    # white lines between the cells (one collection: minor ticks would make two Tick objects per line)
    edges = [((j - 0.5, -0.5), (j - 0.5, ny - 0.5)) for j in range(1, nx)]
    edges += [((-0.5, i - 0.5), (nx - 0.5, i - 0.5)) for i in range(1, ny)]
    ax.add_collection(LineCollection(edges, colors="white", linewidths=1.5, zorder=3), autolim=False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _heatmap_figure(
    *,
    title: str,
    metric_label: str,
    higher_is_better: bool,
    x: Axis,
    y: Axis | None,
    panels: Sequence[Panel],
) -> Figure:
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

    checked = _checked_panels(x, y, panels)
    percent = _is_accuracy(metric_label)
    ny, nx = checked[0].mean.shape
    shown = np.concatenate([np.where(p.diverged == 0, p.mean, np.nan).ravel() for p in checked])
    digits = telling_digits(shown, percent=percent)
    cells = [_cells(p, percent, digits) for p in checked]
    kinds = np.stack([c.kind for c in cells])  # (P, ny, nx)
    means = np.stack([p.mean for p in checked])
    coloured = kinds == VALUE
    clean = coloured & (np.stack([p.diverged for p in checked]) == 0)
    flat = _best(means.ravel(), coloured.ravel(), clean.ravel(), higher_is_better)
    best: tuple[int, int, int] | None = None
    if flat is not None:
        at = np.unravel_index(flat, means.shape)
        best = (int(at[0]), int(at[1]), int(at[2]))

    # "better" is yellow whatever the metric: viridis for an accuracy, reversed for a loss
    cmap = colormaps["viridis" if higher_is_better else "viridis_r"].with_extremes(bad="white")
    norm = _color_norm(means[coloured], higher_is_better) if coloured.any() else None

    fig = plots._figure(1, 1)
    size = _ruler(fig)
    line = size("0", TICK_SIZE)[1]
    panel_w_guess = _heatmap_layout(size, x, y, cells, [""] * len(cells)).panel_w
    titles = [_wrap(p.title, panel_w_guess + 0.25, LABEL_SIZE, size) for p in checked]
    lay = _heatmap_layout(size, x, y, cells, titles)
    handles, notes = _heatmap_notes(x, y, checked, kinds, best, percent, digits)

    # the figure, top to bottom: the title, the panels, the colour bar, the notes
    # what a colour averages: only coloured cells count (a hatched one has no mean drawn)
    runs = sorted({int(r) for p, c in zip(checked, cells, strict=True) for r in p.runs[c.kind == VALUE]})
    seeds = (
        "one seed per cell"
        if runs == [1]
        else f"mean over {f'all {runs[0]}' if len(runs) == 1 else 'all its'} seeds of a cell"
    )
    log_colors = isinstance(norm, LogNorm)
    bar_label = f"{metric_label} ({seeds}{'; log colour scale' if log_colors else ''})"
    bar_w = min(max(lay.grid_w * 0.6, 3.2), 6.0)
    side = max(size(w, NOTE_SIZE)[0] for w in ("worse", "better")) + 0.15
    label_h = size(bar_label, LABEL_SIZE)[1]
    bar_block = 0.0 if norm is None else 0.12 + 0.18 + 0.08 + line + 0.06 + label_h + 0.15
    notes_w = _legend_width(notes, size)
    width = max(lay.grid_w + 0.35, bar_w + 2 * side + 0.4, notes_w + 0.4, 4.0)
    wrapped_title = _wrap(title, width - 0.4, TITLE_SIZE, size)
    top = 0.15 + size(wrapped_title, TITLE_SIZE)[1] + 0.15
    below = top + lay.rows * lay.block_h
    height = below + bar_block + _legend_height(len(notes)) + 0.1
    fig.set_size_inches(width, height)
    fig.suptitle(wrapped_title, fontsize=TITLE_SIZE, y=1 - 0.15 / height, va="top")

    x0 = (width - lay.grid_w) / 2 + lay.left
    for k, (panel, c) in enumerate(zip(checked, cells, strict=True)):
        r, col = divmod(k, lay.cols)
        ax: Axes = fig.add_axes((0, 0, 1, 1), gid="panel")
        left, panel_top = x0 + col * (lay.panel_w + lay.gap), top + r * lay.block_h + lay.title_h
        _set_place(fig, ax, left, panel_top, lay.panel_w, lay.panel_h)
        _draw_panel(ax, panel, c, lay, cmap, norm, percent)
        ticks = [_shorten(label) if j % lay.x_tick_step == 0 else "" for j, label in enumerate(x.labels)]
        ax.set_xticks(range(nx), ticks, rotation=90 if lay.x_rotate else 0, fontsize=TICK_SIZE)
        ax.set_xlabel(_axis_label(x), fontsize=LABEL_SIZE)
        if y is not None and col == 0:
            ax.set_yticks(range(ny), [_shorten(label) for label in y.labels], fontsize=TICK_SIZE)
            ax.set_ylabel(_axis_label(y, stacked=True), fontsize=LABEL_SIZE)
        else:  # the first panel of the row names the rows
            ax.set_yticks(range(ny), [""] * ny)
            ax.tick_params(axis="y", length=0 if y is None else 3.5)
        if y is not None and y.values is None:
            ax.invert_yaxis()  # names read top-down in grid order; numbers grow upwards
        if titles[k]:
            ax.set_title(titles[k], fontsize=LABEL_SIZE, y=1.0, pad=4)  # a fixed y: not measured on each draw
        if best is not None and best[0] == k:
            ax.add_patch(
                Rectangle(
                    (best[2] - 0.45, best[1] - 0.45),
                    0.9,
                    0.9,
                    fill=False,
                    edgecolor=BEST_COLOR,
                    linewidth=2.5,
                    zorder=5,
                    gid="best",
                )
            )

    if norm is not None:
        cax = fig.add_axes((0, 0, 1, 1), gid="colorbar")
        _set_place(fig, cax, (width - bar_w) / 2, below + 0.12, bar_w, 0.18)
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
        bar.set_label(bar_label, fontsize=LABEL_SIZE)
        if log_colors:
            values = means[coloured]
            cax.xaxis.set_major_locator(FixedLocator(_log_ticks(float(values.min()), float(values.max()))))
            cax.xaxis.set_minor_locator(NullLocator())
        else:
            cax.xaxis.set_major_locator(MaxNLocator(5))
        cax.xaxis.set_major_formatter(_number_formatter(percent))
        cax.tick_params(which="both", labelsize=TICK_SIZE)
        if not higher_is_better:
            cax.invert_xaxis()  # better to the right, as for an accuracy
        cax.text(-0.02, 0.5, "worse", transform=cax.transAxes, ha="right", va="center", fontsize=NOTE_SIZE)
        cax.text(1.02, 0.5, "better", transform=cax.transAxes, ha="left", va="center", fontsize=NOTE_SIZE)
    legend = fig.legend(
        handles,
        notes,
        loc="upper left",
        bbox_to_anchor=((width - notes_w) / 2 / width, 1 - (below + bar_block) / height),
        frameon=False,
        fontsize=NOTE_SIZE,
        borderaxespad=0.0,
    )
    plots.keep_gids(legend, handles).set_gid("notes")
    return fig


def heatmap(
    path: Path,
    *,
    title: str,
    metric_label: str,
    higher_is_better: bool,
    x: Axis,
    y: Axis | None,
    panels: Sequence[Panel],
) -> None:
    """The metric over two grid keys (x across, y up; y None: one row), one cell per pair of values.

    The colour and the number in a cell are the mean over all its seeds; "better" is the same colour
    (yellow) for a loss and an accuracy. A cell where any seed diverged is hatched grey and says "n/m div.",
    never coloured or framed as the best; one never trained is empty ("not run"); the best cell is boxed and
    named below. More than two grid keys: one panel per combination of the others, on one colour scale.
    """
    fig = _heatmap_figure(
        title=title, metric_label=metric_label, higher_is_better=higher_is_better, x=x, y=y, panels=panels
    )
    plots.save(fig, path)


# ---------------------------------------------------------------------------------------------- sensitivity


def _x_positions(x: Axis) -> tuple[np.ndarray, bool]:
    """Where the grid values sit on the x axis, and whether that axis is logarithmic: a key without numbers
    is drawn at 0, 1, 2, ... in grid order; a log grid with a value ≤ 0 on a linear axis."""
    if x.values is None:
        return np.arange(len(x.labels), dtype=float), False
    values = np.asarray(x.values, dtype=float)
    return values, x.log and bool(np.all(values > 0))


def _x_limits(positions: np.ndarray, log: bool) -> tuple[float, float]:
    low, high = float(positions.min()), float(positions.max())
    if log:
        pad = (high / low) ** 0.05 if high > low else 2.0
        return low / pad, high * pad
    pad = 0.05 * (high - low) if high > low else abs(low) * 0.5 or 1.0
    return low - pad, high + pad


def _kept_ticks(fractions: np.ndarray, width: float, footprint: float) -> list[int]:
    """The tick labels kept, left to right, so that no two are closer than `footprint` inches on an axis
    `width` inches long (the first is always kept)."""
    kept: list[int] = []
    for i in np.argsort(fractions, kind="stable"):
        if not kept or (fractions[i] - fractions[kept[-1]]) * width >= footprint:
            kept.append(int(i))
    return kept


def _checked_lines(x: Axis, lines: Sequence[Line]) -> list[Line]:
    """The lines with (nx,) float and int arrays; a wrong length is refused."""
    if not lines:
        raise ValueError("sensitivity: no line to draw")
    if not x.labels:
        raise ValueError("sensitivity: the x axis has no grid value")
    if x.values is not None and len(x.values) != len(x.labels):
        raise ValueError(f"sensitivity: {len(x.values)} values for {len(x.labels)} labels of {x.key}")
    nx = len(x.labels)
    checked = []
    for ln in lines:
        arrays = [np.asarray(a).reshape(-1) for a in (ln.mean, ln.low, ln.high, ln.diverged, ln.runs)]
        for name, a in zip(("mean", "low", "high", "diverged", "runs"), arrays, strict=True):
            if a.shape != (nx,):
                raise ValueError(f"sensitivity: line {ln.label!r}: {name} has {a.size} values, x has {nx}")
        mean, low, high = (a.astype(float) for a in arrays[:3])
        checked.append(Line(ln.label, mean, low, high, arrays[3].astype(int), arrays[4].astype(int)))
    return checked


def _sensitivity_notes(
    lines: Sequence[Line], usable: Sequence[np.ndarray], higher_is_better: bool, counts: bool
) -> tuple[list[Any], list[str]]:
    """The legend under the sensitivity figure: a handle and a sentence for each kind of mark it shows."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    notes: list[str] = []
    if any((ok & (ln.high > ln.low)).any() for ln, ok in zip(lines, usable, strict=True)):
        notes.append("band: min to max over the seeds that did not diverge")
        handles.append(
            Patch(facecolor="none", edgecolor="gray", linestyle=(0, (2, 2)), linewidth=0.9, gid="for:band")
        )
    if any(ok.any() for ok in usable):
        which = "each" if len(lines) > 1 else "the"
        better = "highest" if higher_is_better else "lowest"
        notes.append(f"best point of {which} line ({better} mean; where no seed diverged, if any)")
        handles.append(
            Line2D(
                [],
                [],
                marker="*",
                linestyle="",
                markersize=12,
                color="gray",
                markeredgecolor="k",
                gid="for:best",
            )
        )
    if any(ln.diverged.any() for ln in lines):
        notes.append(
            "in the strip above: some seeds diverged at that value"
            + (" (n/m: n of its m seeds)" if counts else "")
        )
        handles.append(
            Line2D([], [], marker="x", linestyle="", markersize=7, color="gray", gid="for:diverged")
        )
    if any(((ln.runs > 0) & ~ok).any() for ln, ok in zip(lines, usable, strict=True)):
        notes.append("no point on a line: a seed of that value diverged (or gave no value)")
        handles.append(Patch(facecolor="none", edgecolor="none", gid="note"))
    return handles, notes


def _draw_line(
    ax: Axes,
    k: int,
    ln: Line,
    ok: np.ndarray,
    positions: np.ndarray,
    color: Any,
    higher_is_better: bool,
    name: str,
    count: int = 1,
) -> None:
    """One line (k of `count`): its band, its means (a marker at each grid value, a gap where there is
    none), its best."""
    band = np.isfinite(ln.low) & np.isfinite(ln.high) & ok
    if band.any():
        # the band as its outline in the line's colour: bands lying on each other stay each its own colour
        # (filled, they would mix into one that no legend names)
        low, high = np.where(band, ln.low, 0.0), np.where(band, ln.high, 0.0)
        ax.fill_between(
            positions, low, high, where=band, facecolor="none", edgecolor=color, alpha=0.7, linewidth=0.9,
            linestyle=(0, (2, 2)), zorder=1, gid=f"band-{k}",
        )  # fmt: skip
    marker = plots.ENTRY_MARKERS[k % len(plots.ENTRY_MARKERS)]
    y = np.where(ok, ln.mean, np.nan)
    # the first line widest and lowest, each later one thinner on top with larger hollow-free markers of its
    # own: two lines on the same values still show both
    ax.plot(
        positions,
        y,
        plots.ENTRY_STYLES[k % len(plots.ENTRY_STYLES)],
        marker=marker,
        color=color,
        markersize=9 - 4 * k / max(count - 1, 1),
        linewidth=3.6 - 2.2 * k / max(count - 1, 1),
        zorder=3 + k,
        label=name,
        gid=f"line-{k}",
    )
    best = _best(ln.mean, ok, ok & (ln.diverged == 0), higher_is_better)
    if best is not None:
        ax.plot(
            [positions[best]],
            [ln.mean[best]],
            "*",
            color=color,
            markersize=14,
            markeredgecolor="black",
            markeredgewidth=0.8,
            zorder=40,
            gid=f"best-{k}",
        )


def _draw_strip(
    strip: Axes,
    lines: Sequence[Line],
    rows: Sequence[int],
    positions: np.ndarray,
    colors: Sequence[Any],
    limits: tuple[float, float],
    log_x: bool,
    counts: bool,
) -> None:
    """Above the axes, one row per line that lost seeds: an × at each grid value where some diverged."""
    from matplotlib.ticker import NullLocator

    for row, k in enumerate(reversed(rows)):  # the first line on top, as in the legend
        where = np.nonzero(lines[k].diverged > 0)[0]
        strip.plot(
            positions[where],
            np.full(where.size, row),
            "x",
            color=colors[k],
            markersize=7,
            markeredgewidth=1.8,
            gid=f"diverged-{k}",
        )
        for i in where if counts else ():
            strip.annotate(
                f"{lines[k].diverged[i]}/{lines[k].runs[i]}",
                (positions[i], row),
                xytext=(5, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color=colors[k],
            )
    strip.set_ylim(-0.6, len(rows) - 0.4)
    strip.set_yticks(range(len(rows)), [lines[k].label for k in reversed(rows)], fontsize=TICK_SIZE)
    for tick, k in zip(strip.get_yticklabels(), reversed(rows), strict=True):
        tick.set_color(colors[k])
    strip.tick_params(axis="y", length=3.5 if any(lines[k].label for k in rows) else 0)
    strip.set_xlim(*limits)
    if log_x:
        strip.set_xscale("log")
    # not sharing the main x axis: ticks of its own would cost as much to draw as the main axes'
    strip.xaxis.set_major_locator(NullLocator())
    strip.xaxis.set_minor_locator(NullLocator())
    strip.vlines(
        positions,
        0,
        1,
        transform=strip.get_xaxis_transform(),
        colors="#b0b0b0",
        linewidth=0.8,
        alpha=0.3,
        zorder=0,
    )
    strip.set_title("seeds that diverged", fontsize=LABEL_SIZE, loc="left", y=1.0, pad=3)


def _left_margin(fig: Figure, axes: Sequence[Axes]) -> float:
    """Inches the widest y axis (its tick labels and label) takes left of its axes."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    need = 0.3
    for a in axes:
        box = a.yaxis.get_tightbbox(renderer)
        if box is not None:
            need = max(need, (a.bbox.x0 - box.x0) / fig.dpi)
    return need


def _best_tick(ax: Axes, values: np.ndarray, higher_is_better: bool) -> None:
    """Round ticks on a log y axis, and one at the best value when no tick is near it, so that the best
    value can be read off the axis."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ax.autoscale_view()
    low, high = ax.get_ylim()
    ticks = _log_ticks(low, high)
    if len(ticks) < 3:  # less than a decade: finer round values
        decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        finer = [float(f"{m * 10.0**k:.3g}") for k in decades for m in (1, 1.5, 2, 3, 4, 5, 6, 8)]
        finer = [t for t in finer if low <= t <= high]
        ticks = finer if len(finer) <= 8 else ticks
    best = float(values.max() if higher_is_better else values.min())
    span = math.log10(high / low)
    if not any(abs(math.log10(t / best)) < 0.06 * span for t in ticks):
        ticks = [t for t in ticks if abs(math.log10(t / best)) > 0.04 * span] + [best]
    ax.yaxis.set_major_locator(FixedLocator(sorted(ticks)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: short_number(v, digits=3)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(low, high)


def _sensitivity_figure(
    *,
    title: str,
    metric_label: str,
    higher_is_better: bool,
    x: Axis,
    lines: Sequence[Line],
    log_y: bool,
    line_key: str = "",
) -> Figure:
    from matplotlib.ticker import FixedLocator, NullLocator

    checked = _checked_lines(x, lines)
    nx = len(x.labels)
    positions, log_x = _x_positions(x)
    colors = plots.name_colors([ln.label for ln in checked])
    usable = [(ln.runs > 0) & np.isfinite(ln.mean) & (ln.diverged < ln.runs) for ln in checked]
    strip_rows = [k for k, ln in enumerate(checked) if ln.diverged.any()]
    # a line's name in the legend; "_" keeps an unnamed line out of it
    names = [
        (ln.label + (" (all seeds diverged)" if not ok.any() and (ln.runs > 0).any() else ""))
        if ln.label
        else "_"
        for ln, ok in zip(checked, usable, strict=True)
    ]
    named = [name for name in names if name != "_"]

    fig = plots._figure(1, 1)
    size = _ruler(fig)
    line = size("0", TICK_SIZE)[1]
    axes_w, axes_h = 6.2, 4.0

    # the x ticks: at the grid values, turned upright when they do not fit side by side, thinned if need be
    limits = _x_limits(positions, log_x)
    if log_x:
        fractions = np.log(positions / limits[0]) / math.log(limits[1] / limits[0])
    else:
        fractions = (positions - limits[0]) / (limits[1] - limits[0])
    ticks = [_shorten(label) for label in x.labels]
    tick_w = max(size(t, TICK_SIZE)[0] for t in ticks)
    kept = _kept_ticks(fractions, axes_w, tick_w + 0.1)
    upright = len(kept) < nx
    if upright:
        kept = _kept_ticks(fractions, axes_w, line + 0.03)

    counts = axes_w / nx >= size("5/5", 7)[0] + 0.22  # room to write n/m beside each ×
    handles, notes = _sensitivity_notes(checked, usable, higher_is_better, counts)
    per_row = _legend_height(2) - _legend_height(1)
    legend_cols = max(1, math.ceil(len(named) / max(1, int((axes_h - 0.3) / per_row))))
    legend_w = 0.0
    if named:
        legend_w = 0.3 + max(
            legend_cols * (_legend_width(named, size) + 0.1), size(line_key, LABEL_SIZE)[0] + 0.2
        )

    # the figure, top to bottom: the title, the strip, the axes, the x ticks and label, the notes
    y_label = metric_label + (" (log scale)" if log_y else "")
    x_label = x.key + (" (log scale)" if log_x else "")
    strip_h = 0.18 * len(strip_rows) + 0.14 + 0.12 if strip_rows else 0.0  # the rows and the gap below
    wrapped_title = _wrap(title, 1.2 + axes_w + legend_w - 0.2, TITLE_SIZE, size)
    top = 0.15 + size(wrapped_title, TITLE_SIZE)[1] + 0.2
    below = 0.1 + (tick_w if upright else line) + 0.06 + size(x_label, LABEL_SIZE)[1] + 0.15
    height = top + strip_h + axes_h + below + _legend_height(len(notes)) + 0.1
    fig.set_size_inches(1.2 + axes_w + legend_w + 0.25, height)

    ax: Axes = fig.add_axes((0, 0, 1, 1), gid="sensitivity")
    for k, (ln, ok) in enumerate(zip(checked, usable, strict=True)):
        _draw_line(ax, k, ln, ok, positions, colors[k], higher_is_better, names[k], len(checked))
    ax.set_xlim(*limits)
    if log_x:
        ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([float(positions[i]) for i in kept]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([ticks[i] for i in kept], rotation=90 if upright else 0, fontsize=TICK_SIZE)
    ax.set_xlabel(x_label, fontsize=LABEL_SIZE)
    finite = np.concatenate([ln.mean[ok] for ln, ok in zip(checked, usable, strict=True)])
    if log_y and not (finite > 0).any():
        y_label = metric_label  # nothing positive to put on a log axis
        log_y = False
    if finite.size:  # set before the scale: autoscaling a loss of 1e307 overflows
        bands = [
            np.concatenate([ln.low[keep], ln.high[keep]])
            for ln, ok in zip(checked, usable, strict=True)
            for keep in [np.isfinite(ln.low) & np.isfinite(ln.high) & ok]
        ]
        ax.set_ylim(*_y_limits(np.concatenate([finite, *bands]), log=log_y))
    if log_y:
        plots._log_y(ax)
    if _is_accuracy(metric_label):
        ax.yaxis.set_major_formatter(_number_formatter(True))
    if not finite.size:
        ax.set_ylim(0.0, 1.0)
        ax.set_yticks([])
        why = ": every seed diverged" if strip_rows else ""
        ax.text(
            0.5,
            0.5,
            f"no value to draw{why}",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=NOTE_SIZE,
        )
    if log_y and (finite > 0).any():
        _best_tick(ax, finite[finite > 0], higher_is_better)
    ax.set_ylabel(y_label, fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(True, which="major", alpha=0.3)
    strip: Axes | None = None
    if strip_rows:
        strip = fig.add_axes((0, 0, 1, 1), gid="diverged-strip")
        _draw_strip(strip, checked, strip_rows, positions, colors, limits, log_x, counts)

    # the left margin is measured once the axes have their final height (it sets the y ticks)
    def place(left: float) -> None:
        _set_place(fig, ax, left, top + strip_h, axes_w, axes_h)
        if strip is not None:
            _set_place(fig, strip, left, top, axes_w, strip_h - 0.12)

    place(1.2)
    left = _left_margin(fig, [ax] if strip is None else [ax, strip]) + 0.15
    width = max(left + axes_w + legend_w + 0.25, _legend_width(notes, size) + 0.4)
    width = max(width, size(wrapped_title, TITLE_SIZE)[0] + 0.4)
    fig.set_size_inches(width, height)
    place(left)
    fig.suptitle(wrapped_title, fontsize=TITLE_SIZE, y=1 - 0.15 / height, va="top")
    if named:
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.0 + 0.3 / axes_w, 1.0),
            ncol=legend_cols,
            fontsize=NOTE_SIZE,
            title=line_key or None,
            title_fontsize=LABEL_SIZE,
            frameon=False,
            borderaxespad=0.0,
        ).set_gid("lines")
    if notes:
        notes_left = max(0.1, left + (axes_w - _legend_width(notes, size)) / 2)
        notes_top = _legend_height(len(notes)) + 0.1  # inches above the figure's bottom
        legend = fig.legend(
            handles,
            notes,
            loc="upper left",
            bbox_to_anchor=(notes_left / width, notes_top / height),
            frameon=False,
            fontsize=NOTE_SIZE,
            borderaxespad=0.0,
        )
        plots.keep_gids(legend, handles).set_gid("notes")
    return fig


# the y axis stays within ±this (1/this to this on a log axis): beyond, the tick locators overflow
Y_SPAN = 1e200


def _y_limits(values: np.ndarray, *, log: bool) -> tuple[float, float]:
    """The y axis's range around the finite `values`, with a margin, within what matplotlib can draw: a
    diverging run's loss of 1e307 beside a converged one of 1e-15 fits, where autoscaling overflows."""
    if log:
        positive = values[values > 0]
        lo, hi = np.log10(positive.min()), np.log10(positive.max())
        pad = 0.05 * max(hi - lo, 0.2)
        edge = math.log10(Y_SPAN)
        return 10 ** max(lo - pad, -edge), 10 ** min(hi + pad, edge)
    lo, hi = float(np.clip(values.min(), -Y_SPAN, Y_SPAN)), float(np.clip(values.max(), -Y_SPAN, Y_SPAN))
    pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi) * 0.05, 0.05)
    return max(lo - pad, -Y_SPAN), min(hi + pad, Y_SPAN)


def sensitivity(
    path: Path,
    *,
    title: str,
    metric_label: str,
    higher_is_better: bool,
    x: Axis,
    lines: Sequence[Line],
    log_y: bool,
    line_key: str = "",
) -> None:
    """The metric against the numeric grid key x, one line per value of another key.

    Each line joins the means at the grid values (a marker at each) over a band from the lowest to the
    highest seed; ★ marks its best point; a strip above the axes puts an × where seeds diverged, and a value
    where all did leaves a gap. `line_key` (e.g. "optimizer.name") titles the legend of the lines' labels.
    """
    fig = _sensitivity_figure(
        title=title,
        metric_label=metric_label,
        higher_is_better=higher_is_better,
        x=x,
        lines=lines,
        log_y=log_y,
        line_key=line_key,
    )
    plots.save(fig, path)
