"""compare.png of a comparison of paths on a surface (`nnopt compare` with model.type surface): every entry's
path on one contour of the function (surfaceplot.draw_paths), and the loss per step beside it
(surfaceplot.draw_losses, log y), one colour per entry (plots.run_colors: an optimizer's own colour, or
matplotlib's first ten for entries all of one optimizer), one legend under both panels.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from nnopt_cli.core import surface
from nnopt_cli.core.surface import SurfaceHistory
from nnopt_cli.figures import plots, report, surfaceplot

PICTURE = report.COMPARE_PNG


def labels(names: Sequence[str], histories: Sequence[SurfaceHistory]) -> list[str]:
    """Each entry's legend label: its name and its optimizer's settings ('sgdm-lr0.001-beta0.9: sgdm
    lr=0.001 beta=0.9'; an entry named by its optimizer alone: 'sgd lr=0.001')."""
    return [
        report.titled(name, report.describe_optimizer(h.config))
        for name, h in zip(names, histories, strict=True)
    ]


def title(histories: Sequence[SurfaceHistory]) -> str:
    """What every entry shares: the function, the start and the length (or that the lengths differ)."""
    c = histories[0].config
    fn = surface.FUNCTIONS[c.function]
    formula = fn.formula.replace("c·", f"{c.condition:g}·") if c.function == "quadratic" else fn.formula
    x, y = c.start
    steps = {h.config.steps for h in histories}
    length = f"{steps.pop()} steps each" if len(steps) == 1 else "different lengths"
    return (
        f"{len(histories)} entries on {c.function}, {formula}, from ({x:g}, {y:g}): {length}, trained as one "
        "population"
    )


def jobs(folder: Path, names: Sequence[str], histories: Sequence[SurfaceHistory]) -> list[report.Job]:
    """compare.png as a drawing job (report.draw); with plot.animate, paths.gif too."""
    path = folder / PICTURE
    out = [report.Job(path, draw, (path, list(names), list(histories)))]
    if any(h.config.plot_animate for h in histories):
        gif = folder / report.PATHS_GIF
        out.append(report.Job(gif, draw_gif, (gif, list(names), list(histories))))
    return out


def draw_gif(path: Path, names: Sequence[str], histories: Sequence[SurfaceHistory]) -> None:
    """paths.gif: compare.png's paths drawn as they go, every entry in step, in compare.png's colours
    (surfaceplot.paths_gif)."""
    surfaceplot.paths_gif(
        path,
        histories,
        labels(names, histories),
        title=title(histories),
        colors=plots.run_colors([h.config.optimizer for h in histories]),
    )


def draw(path: Path, names: Sequence[str], histories: Sequence[SurfaceHistory]) -> None:
    """compare.png: the paths on one contour (left, equal axes, with its colour bar) and the loss per step
    (right), the entries in the same colours; the legend below says each entry's settings, the start and
    the minima."""
    words = labels(names, histories)
    colors = plots.run_colors([h.config.optimizer for h in histories])
    rows = -(-(len(histories) + 2) // 2)  # the legend's rows in two columns: the entries, start, minima
    fig = plots._figure(13.0, 5.6 + 0.2 * rows)
    height = fig.get_figheight()
    bottom = (0.62 + 0.2 * rows + 0.15) / height
    top = 1 - 0.6 / height
    ax = fig.add_axes((0.05, bottom, 0.4, top - bottom))
    cax = fig.add_axes((0.465, bottom, 0.011, top - bottom))
    loss_ax = fig.add_axes((0.63, bottom, 0.35, top - bottom))
    surfaceplot.draw_paths(fig, ax, cax, histories, words, colors)
    # equal axes shrink the contour inside its box: the colour bar follows it, beside it and as tall
    ax.apply_aspect()
    where = ax.get_position()
    cax.set_position((where.x1 + 0.012, where.y0, 0.011, where.height))
    left = where.x1 + 0.16  # the colour bar, its ticks and its label, then the loss panel in the rest
    loss_ax.set_position((left, bottom, 0.98 - left, top - bottom))
    surfaceplot.draw_losses(loss_ax, histories, words, colors)
    ax.set_title("Paths on the loss surface", fontsize=10)
    loss_ax.set_title("Loss per step", fontsize=10)
    handles, texts = ax.get_legend_handles_labels()
    kept = [(h, t) for h, t in zip(handles, texts, strict=True) if not t.startswith("_")]
    fig.legend(
        [h for h, _ in kept],
        [t for _, t in kept],
        loc="lower center",
        ncol=2,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    lines = textwrap.wrap(title(histories), 120) or [""]
    fig.suptitle("\n".join(lines), fontsize=11, y=1 - 0.12 / height, va="top")
    plots.save(fig, path)
