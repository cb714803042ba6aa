"""Pictures of optimizer paths on a 2-D surface (model.type surface): histories in, PNG files out.

    paths(path, histories, labels, title=...)    the paths on a filled contour of the function: log-spaced
                                                 levels of the loss (the saddle x² − y², negative on half
                                                 the plane: linear levels symmetric about 0), each path's
                                                 start and end, the minima (or the saddle point), equal axes
    losses(path, histories, labels, title=...)   the loss per step (log y; the saddle: symmetric log)
    rates(path, histories, labels, title=...)    the rate of each update
    paths_gif(path, histories, labels, title=...)  paths.png with the paths drawn as they go (plot.animate):
                                                 a frame per step of `frame_steps`, the step and the
                                                 loss in its title, the last frame held (animation.write_gif)

Every function takes several histories of one function (one colour each, an optimizer's own colour where
it has one: plots.name_colors), so that a comparison draws its entries in one picture; `draw_paths` and
`draw_losses` draw onto axes a caller lays out itself (compare.png).

A path that runs far away would shrink the function's own view to a dot: the view is the function's box (and
every start), grown to hold the paths as far as VIEW_GROWTH times the box's size on each side; a path beyond
that leaves the axes, and its legend entry says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nnopt_cli.core import surface
from nnopt_cli.core.surface import SurfaceHistory
from nnopt_cli.figures import plots

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

GRID = 240  # contour samples along each axis
VIEW_GROWTH = 1.0  # a path may widen the view by this many box widths (heights) on each side
LOG_DECADES = 7  # the log contour spans at most this many decades below the view's highest loss
SADDLE_DECADES = 3  # the saddle's levels: this many decades on each side of 0, then linear through 0
MARGIN = 0.04  # of the view's span, around it
MAX_MARKERS = 60  # dots along one path: every step up to this many, then every k-th

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class PathArtists:
    """What `draw_paths` drew of one history and an animation moves: its path, its moving average's (or
    None) and the marker of its end (None when the end is out of view or not finite)."""

    line: Line2D
    ema_line: Line2D | None
    end: Line2D | None


@dataclass(frozen=True)
class View:
    """The part of the plane drawn, and whether a path leaves it (per history)."""

    x0: float
    x1: float
    y0: float
    y1: float
    leaves: tuple[bool, ...]


def _function(histories: Sequence[SurfaceHistory]) -> tuple[surface.Function, float]:
    """The one function (and condition) all histories ran on.

    Raises:
      ValueError: histories of different functions (or quadratics of different conditions).
    """
    first = histories[0].config
    for h in histories[1:]:
        c = h.config
        if c.function != first.function or (c.function == "quadratic" and c.condition != first.condition):
            raise ValueError(
                f"paths on different surfaces ({first.function} and {c.function}) share no contour; draw "
                "each function on its own"
            )
    return surface.FUNCTIONS[first.function], first.condition


def _points(h: SurfaceHistory) -> tuple[np.ndarray, np.ndarray]:
    xs = [h.x] + ([h.ema_x] if h.ema_x is not None else [])
    ys = [h.y] + ([h.ema_y] if h.ema_y is not None else [])
    x, y = np.concatenate(xs), np.concatenate(ys)
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def view_of(histories: Sequence[SurfaceHistory]) -> View:
    """The view of `paths`: the function's box with every start, grown to the paths within the cap."""
    fn, _ = _function(histories)
    bx0, bx1, by0, by1 = fn.box
    starts = np.array([[h.x[0], h.y[0]] for h in histories])
    bx0, bx1 = min(bx0, starts[:, 0].min()), max(bx1, starts[:, 0].max())
    by0, by1 = min(by0, starts[:, 1].min()), max(by1, starts[:, 1].max())
    w, hgt = bx1 - bx0, by1 - by0
    cap = (bx0 - VIEW_GROWTH * w, bx1 + VIEW_GROWTH * w, by0 - VIEW_GROWTH * hgt, by1 + VIEW_GROWTH * hgt)
    x0, x1, y0, y1 = bx0, bx1, by0, by1
    leaves = []
    for h in histories:
        x, y = _points(h)
        inside = (x >= cap[0]) & (x <= cap[1]) & (y >= cap[2]) & (y <= cap[3])
        leaves.append(bool((~inside).any()) or len(x) < len(h.x))
        if inside.any():
            x0, x1 = min(x0, x[inside].min()), max(x1, x[inside].max())
            y0, y1 = min(y0, y[inside].min()), max(y1, y[inside].max())
    mx, my = MARGIN * (x1 - x0), MARGIN * (y1 - y0)
    return View(x0 - mx, x1 + mx, y0 - my, y1 + my, tuple(leaves))


def _decade(value: float) -> str:
    exponent = round(math.log10(value))
    if -3 <= exponent <= 4:
        return f"{10.0**exponent:g}"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def contour(fig: Figure, ax: Axes, cax: Axes | None, histories: Sequence[SurfaceHistory], view: View) -> None:
    """The function's filled contour over the view, with its colour bar in `cax` (None: none)."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap, LogNorm, SymLogNorm

    fn, condition = _function(histories)
    xs = np.linspace(view.x0, view.x1, GRID)
    ys = np.linspace(view.y0, view.y1, GRID)
    gx, gy = np.meshgrid(xs, ys)
    z = fn.value(np.column_stack([gx.ravel(), gy.ravel()]), condition).reshape(gx.shape)
    if fn.bounded:
        high = float(z.max())
        positive = z[z > 0]
        low = max(float(positive.min()) if positive.size else high * 1e-6, high * 10.0**-LOG_DECADES)
        levels = np.geomspace(low, high, 22)
        cmap = ListedColormap(colormaps["Greys"](np.linspace(0.0, 0.55, 256)))
        filled = ax.contourf(gx, gy, np.clip(z, low, high), levels=levels, norm=LogNorm(low, high), cmap=cmap)
        ax.contour(
            gx, gy, np.clip(z, low, high), levels=levels[::3], colors="white", linewidths=0.5, alpha=0.7
        )
        label = "loss (log scale)"
    else:
        # negative on half the plane: levels log-spaced on each side of 0 (a symmetric log scale), so that
        # the shape near the saddle shows as well as far from it
        top = float(np.abs(z).max())
        side = np.geomspace(top * 10.0**-SADDLE_DECADES, top, 4 * SADDLE_DECADES + 1)
        levels = np.concatenate([-side[::-1], [0.0], side])
        norm = SymLogNorm(linthresh=side[0], vmin=-top, vmax=top)
        cmap = ListedColormap(colormaps["RdBu_r"](np.linspace(0.22, 0.78, 256)))
        filled = ax.contourf(gx, gy, z, levels=levels, norm=norm, cmap=cmap)
        ax.contour(gx, gy, z, levels=[0.0], colors="gray", linewidths=0.8, linestyles="dotted")
        label = f"loss = {fn.formula} (symmetric log scale; 0 on the dotted lines: no minimum)"
    if cax is not None:
        bar = fig.colorbar(filled, cax=cax)
        bar.set_label(label, fontsize=9)
        low, high = (
            (levels[0], levels[-1]) if fn.bounded else (levels[-1] * 10.0**-SADDLE_DECADES, levels[-1])
        )
        decades = [10.0**e for e in range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1)]
        if fn.bounded:
            bar.set_ticks(decades, labels=[_decade(d) for d in decades])
        else:
            signed = [-d for d in decades[::-1]] + [0.0] + decades
            bar.set_ticks(
                signed, labels=[("−" if d < 0 else "") + _decade(abs(d)) if d else "0" for d in signed]
            )
        bar.ax.minorticks_off()
        bar.ax.tick_params(labelsize=8)


def _colors(
    labels: Sequence[str], histories: Sequence[SurfaceHistory], colors: Sequence[Any] | None
) -> list[Any]:
    if colors is not None:
        return list(colors)
    # an optimizer's own colour for the label that starts with it, else its run's optimizer's
    names = [
        lab if lab.split(" ")[0] in plots.OPTIMIZER_COLORS else h.config.optimizer
        for lab, h in zip(labels, histories, strict=True)
    ]
    return plots.name_colors(names)


def _point(x: float, y: float) -> str:
    return f"({x:.4g}, {y:.4g})"


def draw_paths(
    fig: Figure,
    ax: Axes,
    cax: Axes | None,
    histories: Sequence[SurfaceHistory],
    labels: Sequence[str],
    colors: Sequence[Any] | None = None,
    *,
    drawn: list[PathArtists] | None = None,
) -> View:
    """The contour, every path (its moving average dashed), the starts, the ends and the minima on `ax`,
    equal axes; the colour bar in `cax`. Returns the view drawn; with `drawn`, each history's path, moving
    average and end marker are appended to it (what an animation moves: `paths_gif`)."""
    fn, _ = _function(histories)
    view = view_of(histories)
    contour(fig, ax, cax, histories, view)
    colors = _colors(labels, histories, colors)
    starts = {(float(h.x[0]), float(h.y[0])) for h in histories}
    for i, (h, label, color) in enumerate(zip(histories, labels, colors, strict=True)):
        n = len(h.x)
        every = max(1, -(-n // MAX_MARKERS))
        text = label
        if h.status == "diverged":
            text += f" (diverged at step {h.diverged_step})"
        elif h.status == "interrupted":
            text += f" (interrupted at step {h.steps_done})"
        if view.leaves[i]:
            text += ", leaves the view"
        gid = "leaves-axis-path" if view.leaves[i] else None
        (line,) = ax.plot(
            h.x,
            h.y,
            "-",
            color=color,
            linewidth=1.6,
            marker="o",
            markersize=2.6,
            markevery=every,
            label=text,
            zorder=4 + i,
            gid=gid,
        )
        ema_line = None
        if h.ema_x is not None and h.ema_y is not None:
            (ema_line,) = ax.plot(
                h.ema_x,
                h.ema_y,
                "--",
                color=color,
                linewidth=1.3,
                label=f"{label}: moving average",
                zorder=4 + i,
                gid=gid,
            )
        end_x, end_y = float(h.x[-1]), float(h.y[-1])
        end = None
        if math.isfinite(end_x) and math.isfinite(end_y):
            inside = view.x0 <= end_x <= view.x1 and view.y0 <= end_y <= view.y1
            if inside:
                (end,) = ax.plot(
                    [end_x],
                    [end_y],
                    "X" if h.status == "diverged" else "o",
                    color=color,
                    markeredgecolor="black",
                    markersize=8,
                    zorder=20,
                    label="_end",
                )
        if drawn is not None:
            drawn.append(PathArtists(line, ema_line, end))
    xs = [p[0] for p in starts]
    ys = [p[1] for p in starts]
    start_label = f"start {_point(xs[0], ys[0])}" if len(starts) == 1 else "starts"
    ax.plot(
        xs,
        ys,
        "s",
        color="black",
        markeredgecolor="white",
        markersize=8,
        linestyle="none",
        label=start_label,
        zorder=21,
    )
    if fn.minima:
        mx = [p[0] for p in fn.minima]
        my = [p[1] for p in fn.minima]
        what = f"minimum {_point(mx[0], my[0])}" if len(mx) == 1 else f"the {len(mx)} minima (loss 0)"
        ax.plot(
            mx,
            my,
            "*",
            color="white",
            markeredgecolor="black",
            markersize=15,
            linestyle="none",
            label=what,
            zorder=22,
        )
    else:
        sx = [p[0] for p in fn.saddles]
        sy = [p[1] for p in fn.saddles]
        ax.plot(
            sx,
            sy,
            "P",
            color="white",
            markeredgecolor="black",
            markersize=11,
            linestyle="none",
            label=f"saddle point {_point(sx[0], sy[0])} (no minimum)",
            zorder=22,
        )
    ax.set_xlim(view.x0, view.x1)
    ax.set_ylim(view.y0, view.y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return view


MIN_WIDTH = 7.0  # inches: room for the legend and the title under a tall, narrow view
CHAR = 0.07  # inches: about the width of a character of the legend (8 pt)
TITLE_CHAR = 0.09  # and of the title (10 pt)


def _layout(view: View, legend_rows: int, title_lines: int) -> tuple[float, float, tuple[float, ...]]:
    """Figure width and height (inches) and the axes' rectangle (inches: left, bottom, width, height) for
    equal axes over the view, the colour bar to its right."""
    ratio = (view.y1 - view.y0) / (view.x1 - view.x0)
    width = 6.2
    height = width * ratio
    if height > 6.5:
        height, width = 6.5, 6.5 / ratio
    if height < 2.6:
        height = 2.6
        width = min(9.5, height / ratio)
        height = width * ratio
    bar = 1.35  # the colour bar, its ticks and its label
    fig_w = max(MIN_WIDTH, 0.75 + width + bar)
    left = 0.75 + (fig_w - 0.75 - width - bar) / 2
    bottom = 0.55 + 0.21 * legend_rows + 0.1
    top = 0.2 + 0.21 * title_lines
    return fig_w, bottom + height + top, (left, bottom, width, height)


def paths(
    path: Path,
    histories: Sequence[SurfaceHistory],
    labels: Sequence[str],
    *,
    title: str,
    colors: Sequence[Any] | None = None,
) -> None:
    """paths.png: every history's path on the function's contour (see `draw_paths`), one legend below
    (two columns where they fit), the figure sized to the view's equal axes."""
    fig, _, _ = _paths_figure(histories, labels, title=title, colors=colors)
    plots.save(fig, path)


def _paths_figure(
    histories: Sequence[SurfaceHistory],
    labels: Sequence[str],
    *,
    title: str,
    colors: Sequence[Any] | None = None,
    frame_lines: int = 0,
) -> tuple[Figure, Axes, list[PathArtists]]:
    """paths.png's figure, with room for `frame_lines` more lines of title between the title and the axes
    (an animation's frame text); the axes and what was drawn of each history."""
    import textwrap

    view = view_of(histories)
    fig = plots._figure(MIN_WIDTH, MIN_WIDTH)
    ax = fig.add_axes((0.1, 0.1, 0.6, 0.6))
    cax = fig.add_axes((0.8, 0.1, 0.05, 0.6))
    drawn: list[PathArtists] = []
    draw_paths(fig, ax, cax, histories, labels, colors, drawn=drawn)
    handles, names = ax.get_legend_handles_labels()
    fig_w, _, _ = _layout(view, 1, 1)
    entry = 0.6 + CHAR * max(len(n) for n in names)
    ncol = 2 if 2 * entry + 0.3 <= fig_w else 1
    rows = -(-len(names) // ncol)
    lines = textwrap.wrap(title, title_width(fig_w)) or [""]
    fig_w, fig_h, (left, bottom, width, height) = _layout(view, rows, len(lines) + frame_lines)
    fig.set_size_inches(fig_w, fig_h)
    ax.set_position((left / fig_w, bottom / fig_h, width / fig_w, height / fig_h))
    cax.set_position(((left + width + 0.15) / fig_w, bottom / fig_h, 0.18 / fig_w, height / fig_h))
    fig.legend(
        handles, names, loc="lower center", ncol=ncol, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0)
    )
    fig.suptitle("\n".join(lines), fontsize=10, y=1 - 0.08 / fig_h, va="top")
    return fig, ax, drawn


def title_width(fig_w: float) -> int:
    """Characters of a 10-pt title line across a figure `fig_w` inches wide."""
    return max(40, int((fig_w - 0.3) / TITLE_CHAR))


# --- the paths, drawn as they go (plot.animate) ------------------------------------------------------


def frame_steps(histories: Sequence[SurfaceHistory]) -> list[int]:
    """The steps an animation of the paths shows: loop.frame_epochs of the longest planned run (about 60,
    evenly spread, from 0 to train.steps; every step of a run under 60 steps), up to the last step any
    history recorded, and the last step of each history (a diverged or interrupted run ends where it
    stopped, between two of them)."""
    from nnopt_cli.core import loop

    planned = max(h.config.steps for h in histories)
    done = [h.steps_done for h in histories]
    chosen = {s for s in loop.frame_epochs(planned) if s <= max(done)}
    return sorted(chosen | set(done))


def _loss_text(h: SurfaceHistory, k: int) -> str:
    """The loss at row k, and the moving average's with EMA; how the run ended at its last row."""
    text = f"loss {float(h.loss[k]):.4g}"
    if h.ema_loss is not None:
        text += f", moving average {float(h.ema_loss[k]):.4g}"
    if k == h.steps_done and h.status == "diverged":
        text = f"diverged ({text})"
    elif k == h.steps_done and h.status == "interrupted":
        text += " (interrupted here)"
    return text


def frame_label(histories: Sequence[SurfaceHistory], labels: Sequence[str], step: int) -> str:
    """A frame's line: the step and the loss there ("step 12 of 60: loss 0.1234"); with several histories,
    a line with the step, then a line per history with its loss (a history that ended earlier: at its last
    step)."""
    planned = max(h.config.steps for h in histories)
    head = f"step {step} of {planned}" + (" (the start)" if step == 0 else "")
    if len(histories) == 1:
        return f"{head}: {_loss_text(histories[0], min(step, histories[0].steps_done))}"
    parts = []
    for h, label in zip(histories, labels, strict=True):
        k = min(step, h.steps_done)
        parts.append(f"{label}: {_loss_text(h, k)}" + (f" at step {k}, its last" if k < step else ""))
    return "\n".join([head, *parts])


class _PathFrames:
    """Puts the paths figure in the state of a frame: each path (and moving average) up to the frame's
    step, a marker on its point there (a cross where it diverged), and the frame's line of title; returns
    them, with the markers drawn over the paths (the start, the minima), in the order paths.png draws them."""

    def __init__(
        self,
        fig: Figure,
        ax: Axes,
        drawn: Sequence[PathArtists],
        histories: Sequence[SurfaceHistory],
        steps: Sequence[int],
        texts: Sequence[str],
    ) -> None:
        self.drawn, self.histories, self.steps, self.texts = drawn, histories, steps, texts
        self.points = []
        for d in drawn:
            if d.end is not None:  # the end of the whole path: a frame shows where the path is instead
                d.end.remove()
            (point,) = ax.plot(
                [], [], "o", color=d.line.get_color(), markeredgecolor="black", markersize=8, zorder=20
            )
            self.points.append(point)
        moving = {id(a) for d in drawn for a in (d.line, d.ema_line)} | {id(p) for p in self.points}
        self.over = [a for a in ax.lines if id(a) not in moving and a.get_zorder() > 20]  # start, minima
        # the frame's line(s): between the title and the axes, as much below the title as paths.png's title
        # is below the figure's top
        left, bottom, width, height = ax.get_position().bounds
        self.label = fig.text(
            left + width / 2,
            bottom + height + 0.1 / fig.get_figheight(),
            "",
            ha="center",
            va="bottom",
            fontsize=10,
            parse_math=False,
        )

    def __call__(self, i: int) -> list[Any]:
        step = self.steps[i]
        changing: list[Any] = []
        for d, point, h in zip(self.drawn, self.points, self.histories, strict=True):
            k = min(step, h.steps_done)
            d.line.set_data(h.x[: k + 1], h.y[: k + 1])
            changing.append(d.line)
            if d.ema_line is not None and h.ema_x is not None and h.ema_y is not None:
                d.ema_line.set_data(h.ema_x[: k + 1], h.ema_y[: k + 1])
                changing.append(d.ema_line)
            x, y = float(h.x[k]), float(h.y[k])
            finite = math.isfinite(x) and math.isfinite(y)
            point.set_data([x] if finite else [], [y] if finite else [])
            point.set_marker("X" if k == h.steps_done and h.status == "diverged" else "o")
            changing.append(point)
        self.label.set_text(self.texts[i])
        return [*sorted([*changing, *self.over], key=lambda a: a.get_zorder()), self.label]


def paths_gif(
    path: Path,
    histories: Sequence[SurfaceHistory],
    labels: Sequence[str],
    *,
    title: str,
    colors: Sequence[Any] | None = None,
) -> None:
    """paths.gif: paths.png's picture with the paths drawn as they go, one frame per step of
    `frame_steps` (its step and the loss in the frame's title), the last frame (the whole paths) held.
    Several histories (of one function) move in step, a history that ended showing its last point."""
    import textwrap

    from nnopt_cli.figures import animation

    steps = frame_steps(histories)
    width = title_width(_layout(view_of(histories), 1, 1)[0])  # the figure's width: not its height's
    texts = [
        "\n".join(
            part
            for line in frame_label(histories, labels, s).split("\n")
            for part in textwrap.wrap(line, width)
        )
        for s in steps
    ]
    lines = max(t.count("\n") + 1 for t in texts)
    fig, ax, drawn = _paths_figure(histories, labels, title=title, colors=colors, frame_lines=lines)
    frames = _PathFrames(fig, ax, drawn, histories, steps, texts)
    animation.write_gif(path, fig, frames, len(steps))


def draw_losses(
    ax: Axes,
    histories: Sequence[SurfaceHistory],
    labels: Sequence[str],
    colors: Sequence[Any] | None = None,
) -> None:
    """The loss per step of every history on `ax`: log y, or, for the saddle (a loss below 0), a
    symmetric log scale that is linear near 0; a moving average dashed."""
    fn, _ = _function(histories)
    colors = _colors(labels, histories, colors)
    for i, (h, label, color) in enumerate(zip(histories, labels, colors, strict=True)):
        every = max(1, -(-len(h.step) // MAX_MARKERS))
        shown = label + (f" (diverged at step {h.diverged_step})" if h.status == "diverged" else "")
        ax.plot(
            h.step,
            h.loss,
            "-",
            color=color,
            linewidth=1.6,
            marker="o",
            markersize=2.4,
            markevery=every,
            label=shown,
            zorder=4 + i,
        )
        if h.ema_loss is not None:
            ax.plot(
                h.step,
                h.ema_loss,
                "--",
                color=color,
                linewidth=1.2,
                label=f"{label}: moving average",
                zorder=4 + i,
            )
    values = np.concatenate(
        [h.loss for h in histories] + [h.ema_loss for h in histories if h.ema_loss is not None]
    )
    values = values[np.isfinite(values)]
    if fn.bounded:
        plots._log_y(ax)
        zero = values.size and (values <= 0).any()
        ax.set_ylabel("loss (log scale" + ("; a loss of exactly 0 is not drawn)" if zero else ")"))
    else:
        start = max(abs(float(h.loss[0])) for h in histories)
        linear = 10.0 ** math.floor(math.log10(max(start, 1e-12) * 1e-2))
        ax.set_yscale("symlog", linthresh=linear)
        ax.axhline(0.0, color="gray", linewidth=0.8, linestyle=":")
        ax.set_ylabel(f"loss (symmetric log scale, linear within ±{linear:g})")
    ax.set_xlabel("step (0 = the start, k = after update k)")
    ax.grid(True, alpha=0.3)
    plots._integer_x(ax)


def losses(
    path: Path,
    histories: Sequence[SurfaceHistory],
    labels: Sequence[str],
    *,
    title: str,
    colors: Sequence[Any] | None = None,
) -> None:
    """loss.png: the loss per step of every history (see `draw_losses`)."""
    import textwrap

    lines = textwrap.wrap(title, 90) or [""]
    fig = plots._figure(8.5, 4.6 + 0.2 * len(lines))
    ax = fig.subplots()
    draw_losses(ax, histories, labels, colors)
    ax.legend(fontsize=8, framealpha=0.9, loc="best").set_zorder(30)
    fig.suptitle("\n".join(lines), fontsize=10)
    height = fig.get_figheight()
    fig.subplots_adjust(right=0.97, bottom=0.55 / height, top=1 - (0.3 + 0.2 * len(lines)) / height)
    plots._fit_y_labels(fig, [ax])
    plots.save(fig, path)


def rates(
    path: Path,
    histories: Sequence[SurfaceHistory],
    labels: Sequence[str],
    *,
    title: str,
    colors: Sequence[Any] | None = None,
) -> None:
    """lr.png: the rate of each update made (update k leads to step k, k = 1, 2, ...)."""
    colors = _colors(labels, histories, colors)
    plots.lr_curves(
        path,
        [
            plots.Curve(np.asarray(h.step[1:]), np.asarray(h.lr[1:]), label, color=color)
            for h, label, color in zip(histories, labels, colors, strict=True)
        ],
        title=title,
        xlabel="update k (it leads to step k of the path)",
    )
