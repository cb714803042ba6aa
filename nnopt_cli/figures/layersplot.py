"""layers.png: a run's per-layer statistics (layers.csv) against the epoch, one panel per statistic and a
line per layer."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nnopt_cli.core import layerstats
from nnopt_cli.figures import plots

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from nnopt_cli.core.loop import History

MAX_LABELLED = 10  # layers named in a panel's legend; deeper networks name every k-th

# each statistic: its panel's title (what it is), what to look for in it, its y label and whether its axis is
# logarithmic (the fractions are shares of a layer's units, on 0..1)
PANELS = {
    "weight_norm": (
        "Weight norm ‖W‖ at the end of each epoch",
        "the size of the layer's weights (biases not counted)",
        "Frobenius norm (log scale)",
        True,
    ),
    "grad_norm": (
        "Gradient norm ‖∂loss/∂W‖, mean over the epoch's updates",
        "far smaller near the input: vanishing gradients; soaring: exploding",
        "Frobenius norm (log scale)",
        True,
    ),
    "update_ratio": (
        "Update ratio ‖W(end) − W(start)‖ / ‖W(start)‖ over the epoch",
        "how much one epoch changed the weights, relative to their size",
        "ratio (log scale)",
        True,
    ),
    "dead_fraction": (
        "Dead ReLU units: output 0 on every training row",
        "it passes no gradient back: its incoming weights stop learning",
        "share of the layer's units",
        False,
    ),
    "saturated_fraction": (
        f"Saturated units: |z| > {layerstats.SATURATED_Z:g} on {layerstats.SATURATED_PERCENT}% of the rows",
        "on the flat part of sigmoid/tanh the gradient is nearly 0",
        "share of the layer's units",
        False,
    ),
}


def layer_names(widths: Sequence[int]) -> list[str]:
    """'layer 1: 2 → 11', ..., the last '(output)'."""
    last = len(widths) - 2
    return [
        f"layer {i + 1}: {widths[i]} → {widths[i + 1]}" + (" (output)" if i == last else "")
        for i in range(len(widths) - 1)
    ]


def draw(
    path: Path,
    stats: np.ndarray,
    epochs: Sequence[int],
    *,
    names: Sequence[str],
    title: str,
    activation: str,
) -> None:
    """The panels of layers.png.

    Args:
      stats: (E, L, 5) per epoch and layer, columns as layerstats.COLUMNS (NaN: does not apply).
      epochs: the E epochs (1, 2, ...).
      names: a legend label per layer.
      activation: the hidden layers' activation, which decides the fraction panel (none for leaky_relu or a
        network without hidden layers).
    """
    depth = stats.shape[1]
    shown = ["weight_norm", "grad_norm", "update_ratio"]
    if depth > 1 and activation in layerstats.DEAD_ACTIVATIONS:
        shown.append("dead_fraction")
    if depth > 1 and activation in layerstats.SATURATING_ACTIVATIONS:
        shown.append("saturated_fraction")
    rows = (len(shown) + 1) // 2
    fig = plots._figure(12.0, 1.0 + 3.6 * rows)
    axes = fig.subplots(rows, 2, squeeze=False)
    x = np.asarray(epochs, dtype=float)
    colors = _colors(depth)
    step = -(-depth // MAX_LABELLED)
    labelled = {0, depth - 1, *range(0, depth, step)}
    for k, name in enumerate(shown):
        ax = axes.flat[k]
        heading, hint, ylabel, log = PANELS[name]
        column = stats[:, :, layerstats.COLUMNS.index(name)]
        layers = range(depth - 1) if name in ("dead_fraction", "saturated_fraction") else range(depth)
        drawn = 0
        for layer in layers:
            y = np.where(np.isfinite(column[:, layer]), column[:, layer], np.nan)
            if log:
                y = np.where(y > 0, y, np.nan)
            if not np.isfinite(y).any():
                continue
            ax.plot(
                x,
                y,
                color=colors[layer],
                linewidth=1.8,
                marker="o" if len(x) <= 30 else None,
                markersize=3.5,
                label=names[layer] if layer in labelled else None,
                zorder=3 + depth - layer,
            )
            drawn += 1
        if not drawn:
            ax.text(
                0.5, 0.5, "no finite value above 0 to draw", ha="center", va="center", transform=ax.transAxes
            )
        elif log:
            plots._log_y(ax)
        if not log:
            ax.set_ylim(-0.03, 1.03)
        ax.set_title(f"{heading}\n{hint}", fontsize=9.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel if drawn else ylabel.replace(" (log scale)", ""))
        ax.grid(True, alpha=0.3)
        plots._integer_x(ax)
        if len(x) == 1:
            ax.set_xlim(x[0] - 1, x[0] + 1)
        if drawn:
            ax.legend(fontsize=7.5, framealpha=0.9, loc="best").set_zorder(20)
    for ax in axes.flat[len(shown) :]:
        ax.set_axis_off()
        ax.text(0.5, 0.5, _no_fractions(depth, activation), ha="center", va="center", fontsize=9.5,
                transform=ax.transAxes, wrap=True)  # fmt: skip
    fig.suptitle("\n".join(textwrap.wrap(title, 130)), fontsize=11)
    height, gap = fig.get_figheight(), 1.0  # inches between rows: the x label and the next row's titles
    axes_height = (height - 1.5 - (rows - 1) * gap) / rows
    fig.subplots_adjust(right=0.98, bottom=0.55 / height, top=1 - 0.95 / height, hspace=gap / axes_height)
    for row in axes:
        _fit_columns(fig, row)
    plots.save(fig, path)


def _no_fractions(depth: int, activation: str) -> str:
    """Why a network's picture has no panel of dead or saturated units."""
    if depth == 1:
        return "no hidden layer:\nno dead or saturated units to count"
    return (
        f"{activation}: no dead or saturated units to count\n(a leaky unit outputs αz, never 0 for z < 0,\n"
        "and its gradient α keeps it learning)"
    )


def _fit_columns(fig: Any, row: Sequence[Axes]) -> None:
    """plots._fit_y_labels for a row, when both of its axes are shown."""
    visible = [ax for ax in row if ax.get_visible()]
    plots._fit_y_labels(fig, visible if len(visible) == len(row) else row)


def _colors(n: int) -> list[Any]:
    """A colour per layer: matplotlib's ten for a few, then viridis from the input side (dark) to the
    output (light)."""
    if n <= 10:
        return [f"C{i}" for i in range(n)]
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.9 * i / (n - 1)) for i in range(n)]


def draw_layers(folder: Path, h: History, described: str) -> None:
    """layers.png of a run from its History (layer_stats, one per epoch trained); `described`: the network
    and the run in words, for the title."""
    stats = np.stack(h.layer_stats[: h.epochs_done])
    widths = [h.params[f"w{i + 1}"].shape[0] for i in range(stats.shape[1])]
    widths.append(h.params[f"w{stats.shape[1]}"].shape[1])
    title = f"{h.config.name}: each layer during training — {described}"
    draw(
        folder / "layers.png",
        stats,
        h.epoch[: h.epochs_done],
        names=layer_names(widths),
        title=title,
        activation=h.config.activation,
    )


def drawable(h: History) -> bool:
    """Whether the run has statistics for every epoch it trained (a run resumed from a folder written before
    layers.csv has not)."""
    return bool(h.epochs_done) and len(h.layer_stats) == h.epochs_done and bool(h.params)
