"""Every figure nnopt draws. matplotlib is imported here only, and only when a figure is drawn.

Drawing is most of what a short run costs, so each figure is built for one cheap render: no pyplot, one Agg
canvas made with the figure, the decision boundary's shading as one image, and margins set once from the
measured width of the y-axis labels instead of a layout engine that measures every artist on each draw.
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nnopt_cli import checks
from nnopt_cli.checks import CheckError
from nnopt_cli.keys import Key, only

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CLASS_COLORS = {
    1: "#d62728",
    0: "#1f77b4",
}  # the course's colours: red inside the circle, blue outside
RAW_STYLE: dict[str, Any] = {"colors": "black", "linewidths": 2.0, "linestyles": "solid"}
EMA_STYLE: dict[str, Any] = {"colors": "#ff7f0e", "linewidths": 2.2, "linestyles": "dashed"}
# seed 001 draws its first curve red and its second green
LR_COLORS = (
    "tab:red",
    "tab:green",
    "tab:blue",
    "tab:orange",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
)
DPI = 110
# zlib level of the PNGs: 1 writes files up to 15% larger than the default 6, 30-40% sooner
PNG_COMPRESSION = 1
SCORE_LEVELS = 11  # the shading changes colour every 0.1 of the score, as the colourbar shows


def _figure(width: float, height: float) -> Figure:
    # A bare Figure on an Agg canvas needs no pyplot, no GUI and no global state; the canvas made here is the
    # one savefig draws on, so the renderer that measured the labels (_fit_y_labels) draws them too.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def warm_up() -> None:
    """Import what drawing needs and load the font, without writing anything (about 0.5 s the first time).

    A process that will draw can call this early, e.g. in a worker started while the network trains.
    """
    fig = _figure(1, 1)
    fig.text(0.5, 0.5, "0.1")
    fig.canvas.draw()


def save(fig: Figure, path: Path) -> None:
    """Write the figure through a temporary name of its own, so a PNG on disk is always whole and commands
    drawing into one folder at once never share a temporary file."""
    from nnopt_cli.files import replacing

    with replacing(path, "wb") as f:
        fig.savefig(f, dpi=DPI, format="png", pil_kwargs={"compress_level": PNG_COMPRESSION})


def _fit_y_labels(fig: Figure, row: Sequence[Axes], *, pad: float = 0.12) -> None:
    """Set the left margin and the gaps of one row of axes so that each y axis's tick labels and label fit.

    Only the y axes are measured (their labels change width with the data: 0.005 or 3×10⁻⁵); everything else
    in these figures has a fixed size. `pad` is in inches.
    """
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width = fig.bbox.width
    boxes = [ax.yaxis.get_tightbbox(renderer) for ax in row]
    need = [0.0 if box is None else (ax.bbox.x0 - box.x0) / width for ax, box in zip(row, boxes, strict=True)]
    pad_fraction = pad / fig.get_figwidth()
    left = need[0] + pad_fraction
    if len(row) == 1:
        fig.subplots_adjust(left=left)
        return
    gap = max(need[1:]) + 2 * pad_fraction
    axes_width = (fig.subplotpars.right - left - (len(row) - 1) * gap) / len(row)
    fig.subplots_adjust(left=left, wspace=gap / axes_width)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _log_label(x: float) -> str:
    """A log-axis tick in plain text: 0.06, 0.1, 20 between 0.001 and 10⁵, else 3×10⁻⁵ or 10⁶."""
    if 1e-3 <= x < 1e5:
        return f"{x:.6f}".rstrip("0").rstrip(".")
    exponent = math.floor(math.log10(x) + 1e-9)
    mantissa = f"{x / 10.0**exponent:.2g}"
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if mantissa == "1" else f"{mantissa}×{power}"


@functools.cache
def _log_formatter() -> type:
    from matplotlib.ticker import LogFormatter

    class LogLabels(LogFormatter):
        """matplotlib's choice of which log ticks to label, written by _log_label (no mathtext to parse)."""

        def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
            return _log_label(x)

    return LogLabels


def _log_y(ax: Axes) -> None:
    ax.set_yscale("log")
    labels = _log_formatter()
    ax.yaxis.set_major_formatter(labels())
    ax.yaxis.set_minor_formatter(labels(labelOnlyBase=False))


@dataclass(frozen=True)
class Curve:
    """One line on a figure: x, y and its legend label (colour optional).

    Attributes:
      marker, mark_offset: a marker drawn every tenth of the line's length, starting at `mark_offset` (a
        fraction of it), so that lines lying on each other still show each one's markers.
      width, zorder: the line's width and stacking (None: the figure's default).
      alpha: the line's opacity (None: opaque); a faint line stays behind the others it shares axes with.
      diverged_at: the x where the run blew up: the line stops before it, and the figure marks it.
    """

    x: np.ndarray
    y: np.ndarray
    label: str
    color: str | None = None
    style: str = "-"
    band: tuple[np.ndarray, np.ndarray] | None = None  # (low, high) shaded around the line
    marker: str | None = None
    mark_offset: float = 0.0
    width: float | None = None
    zorder: float | None = None
    alpha: float | None = None
    diverged_at: float | None = None


ENTRY_STYLES = ("-", "--", "-.", ":")
ENTRY_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")


# One colour per optimizer, the same in every picture and every command: sgd is blue wherever it is drawn.
OPTIMIZER_COLORS = {
    "sgd": "#1f77b4",
    "sgdm": "#ff7f0e",
    "momentum": "#2ca02c",
    "adagrad": "#d62728",
    "rmsprop": "#9467bd",
    "adam": "#8c564b",
    "adamw": "#e377c2",
    "nadam": "#bcbd22",
    "adamax": "#17becf",
    "adadelta": "#7f7f7f",
}
# for what names no optimizer, and for a second entry of one: colours none of the optimizers has
OTHER_COLORS = ("#000080", "#ff1493", "#556b2f", "#ff4500", "#4b0082", "#008080", "#b8860b", "#800000")


def entry_colors(n: int) -> list[Any]:
    """n colours, none repeated: matplotlib's ten (C0..C9) up to ten entries, tab20 up to twenty, then n
    hues spread around the colour wheel."""
    if n <= 10:
        return [f"C{i}" for i in range(n)]
    from matplotlib import colormaps

    if n <= 20:
        cmap = colormaps["tab20"]
        return [cmap(i) for i in range(n)]
    hsv = colormaps["hsv"]
    return [hsv(i / n) for i in range(n)]


def name_colors(names: Sequence[str]) -> list[Any]:
    """A colour for each name, none repeated: an optimizer's own colour (OPTIMIZER_COLORS) for the first
    name that is that optimizer (or starts with it and a space), else the next colour no name has."""
    spare = [c for c in (*OTHER_COLORS, *OPTIMIZER_COLORS.values())]
    if len(names) > len(spare):
        spare += [c for c in entry_colors(len(names)) if c not in spare]
    out: list[Any] = [None] * len(names)
    taken: set[Any] = set()
    for i, name in enumerate(names):
        color = OPTIMIZER_COLORS.get(str(name).split(" ")[0])
        if color is not None and color not in taken:
            out[i] = color
            taken.add(color)
    for i in range(len(names)):
        if out[i] is None:
            out[i] = next(c for c in spare if c not in taken)
            taken.add(out[i])
    return out


def run_colors(optimizers: Sequence[str]) -> list[Any]:
    """A colour per run or entry, none repeated, from the optimizer each trained: the optimizers' own colours
    (name_colors), except for several runs all of one optimizer (adam:lr=0.001 and adam:lr=0.01), which take
    matplotlib's first ten (entry_colors): a second adam in a spare colour beside adam's brown would be hard
    to tell apart."""
    if len(optimizers) > 1 and len(set(optimizers)) == 1:
        return entry_colors(len(optimizers))
    return name_colors(optimizers)


def entry_look(i: int, n: int, colors: Sequence[Any], *, solid: bool = False) -> dict[str, Any]:
    """How entry i of n is drawn: its colour, a marker of its own placed where no other entry's is (so that
    curves lying on each other still show every entry), a line style of its own unless `solid` (when dashes
    mean test rows), and a width that shrinks from the first entry to the last, later ones on top."""
    return {
        "color": colors[i],
        "style": "-" if solid else ENTRY_STYLES[i % len(ENTRY_STYLES)],
        "marker": ENTRY_MARKERS[i % len(ENTRY_MARKERS)],
        "mark_offset": 0.1 * i / max(n, 1),
        "width": 2.6 - 1.4 * i / max(n - 1, 1),
        "zorder": 2 + i,
    }


LOG_CEILING = 1e100  # above this, a log axis's limits are set by hand, within LOG_RANGE (see _draw)
LOG_RANGE = (1e-200, 1e200)

# Points a line keeps when drawn: two per pixel column of the widest figure and more. A trace of millions
# of updates draws as fast as a short one, and looks the same.
MAX_DRAWN = 4000


def _bins(n: int, limit: int) -> tuple[int, int]:
    """(number of bins, points per bin) that cut n points into at most limit // 2 runs of consecutive ones."""
    bins = max(1, limit // 2)
    size = -(-n // bins)
    return -(-n // size), size


def thin(x: np.ndarray, y: np.ndarray, limit: int = MAX_DRAWN) -> tuple[np.ndarray, np.ndarray]:
    """At most `limit` points of a line that draw as the whole line: of each run of consecutive points, the
    lowest and the highest, in their order. Every extreme (a negative rate, a spike) is kept; a run of NaN
    stays NaN (a gap)."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n <= limit:
        return np.asarray(x), y
    bins, size = _bins(n, limit)
    padded = np.full(bins * size, np.nan)
    padded[:n] = y
    runs = padded.reshape(bins, size)
    nan = np.isnan(runs)
    low = np.where(nan, np.inf, runs).argmin(axis=1)
    high = np.where(nan, -np.inf, runs).argmax(axis=1)
    keep = np.sort(np.stack([low, high], axis=1), axis=1) + (np.arange(bins) * size)[:, None]
    keep = keep.ravel()
    return np.asarray(x)[keep], y[keep]


def _thin_band(
    x: np.ndarray, low: np.ndarray, high: np.ndarray, limit: int = MAX_DRAWN
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A band drawn with at most `limit` points: each run of points becomes its lowest low and its highest
    high."""
    n = len(x)
    if n <= limit:
        return x, low, high
    bins, size = _bins(n, limit)
    starts = np.arange(bins) * size
    return np.asarray(x)[starts], np.fmin.reduceat(low, starts), np.fmax.reduceat(high, starts)


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _marker(c: Curve) -> dict[str, Any]:
    """A line needs two points: a curve of one point is drawn as a dot (other curves keep their style)."""
    lone = np.isfinite(c.y).sum() == 1 and c.style in ("-", "--", "-.", ":")  # a style may carry its own
    if c.marker is not None:
        return {"marker": c.marker, "markevery": (c.mark_offset, 0.1), "markersize": 5}
    return {"marker": "o"} if lone else {}


def _mark_divergence(ax: Axes, c: Curve, color: Any, *, top: float | None = None) -> None:
    """Where a run blew up: a cross on its last finite value (on the top edge when that value is off the
    scale) and a dotted line at the epoch it diverged."""
    assert c.diverged_at is not None
    finite = np.nonzero(np.isfinite(c.y))[0]
    label = f"diverged at epoch {c.diverged_at:g}"
    if finite.size:
        last = finite[-1]
        y = float(c.y[last])
        if top is not None and y > top:
            y = top
            label += " (loss off the scale above)"
        ax.plot(
            [c.x[last]], [y], "X", color=color, markersize=9, markeredgecolor="black", zorder=6, clip_on=False
        )
    ax.axvline(c.diverged_at, color=color, linestyle=":", linewidth=1.3)
    ax.annotate(
        label,
        xy=(c.diverged_at, 0.98),
        xycoords=("data", "axes fraction"),
        rotation=90,
        ha="right",
        va="top",
        fontsize=8,
        color=color,
    )


def calm_top(curves: Sequence[Curve]) -> float | None:
    """The top of a log loss axis on which a run that blew up does not flatten the history before it: three
    times the highest value within 1000 times the median of the diverged curves, or None when every value
    fits under that (or nothing diverged). Lines above it leave the axis at the top."""
    diverged = [c for c in curves if c.diverged_at is not None]
    if not diverged:
        return None
    typical = np.concatenate([_finite(np.asarray(c.y, dtype=float)) for c in diverged] + [np.zeros(0)])
    typical = typical[typical > 0]
    if not typical.size:
        return None
    limit = 1e3 * float(np.median(typical))
    values = np.concatenate([_finite(np.asarray(c.y, dtype=float)) for c in curves])
    if values.max() <= limit:
        return None
    return 3.0 * float(values[values <= limit].max(initial=float(np.median(typical))))


def _draw(ax: Axes, curves: Sequence[Curve], *, log: bool = False) -> None:
    top = calm_top(curves) if log else None
    colors = []
    for c in curves:
        x, y = thin(c.x, c.y)
        options = {"linewidth": c.width or 1.6, **_marker(c)}
        if c.zorder is not None:
            options["zorder"] = c.zorder
        if c.alpha is not None:
            options["alpha"] = c.alpha
        if top is not None and np.nanmax(np.where(np.isfinite(y), y, np.nan), initial=0.0) > top:
            options["gid"] = "leaves-axis"  # blown up: the line leaves the axis at the top, on purpose
        (line,) = ax.plot(x, y, c.style, color=c.color, label=c.label, **options)
        colors.append(line.get_color())
        if c.band is not None:
            bx, low, high = _thin_band(c.x, c.band[0], c.band[1])
            ax.fill_between(bx, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    for c, color in zip(curves, colors, strict=True):
        if c.diverged_at is not None:
            _mark_divergence(ax, c, color, top=top)
    if log:
        positive = np.concatenate([_finite(c.y)[_finite(c.y) > 0] for c in curves] or [np.ones(1)])
        if top is not None:
            positive = positive[positive <= top]
        if positive.size:
            if top is not None:
                ax.set_ylim(float(positive.min()) / 1.5, top)
            elif positive.max() > LOG_CEILING:
                # a loss blowing up towards the largest float (1e90, 1e271, ...): matplotlib's limits and
                # ticks for such a span overflow, so the axis stops at LOG_RANGE and the line leaves it
                bottom = max(float(positive.min()) / 2, LOG_RANGE[0])
                ax.set_ylim(bottom, min(float(positive.max()) * 1e3, LOG_RANGE[1]))
            _log_y(ax)
    ax.grid(True, which="major", alpha=0.3)


def _epoch_x(ax: Axes, curves: Sequence[Curve]) -> None:
    """An epoch axis from the first epoch drawn to the last (or the one a run diverged at), nothing before
    epoch 0 or after the end."""
    xs = [_finite(np.asarray(c.x, dtype=float)) for c in curves]
    xs += [np.array([c.diverged_at]) for c in curves if c.diverged_at is not None]
    values = np.concatenate(xs + [np.zeros(0)])
    if not values.size:
        return
    low, high = float(values.min()), float(values.max())
    if high - low < 1:
        high = low + 1
    margin = 0.02 * (high - low)
    ax.set_xlim(low - margin, high + margin)


def _percent_axis(ax: Axes, curves: Sequence[Curve]) -> None:
    """Accuracy (a share in [0, 1]) shown in percent, the axis fitted to the values drawn (93–97% is not
    squashed into a 0–100% axis), never beyond 0% or 100% by more than a sliver."""
    from matplotlib.ticker import PercentFormatter

    values = np.concatenate([_finite(np.asarray(c.y, dtype=float)) for c in curves] + [np.zeros(0)])
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))
    if not values.size:
        ax.set_ylim(0.0, 1.0)
        return
    low, high = float(values.min()), float(values.max())
    margin = max(0.08 * (high - low), 0.01)
    ax.set_ylim(max(low - margin, -0.005), min(high + margin, 1.005))


def _rate_limits(ax: Axes, curves: Sequence[Curve]) -> None:
    """A linear rate axis from 0 (or below, for negative rates) to just above the highest rate."""
    finite = np.concatenate([_finite(np.asarray(c.y, dtype=float)) for c in curves] + [np.zeros(1)])
    low, high = float(finite.min()), float(finite.max())
    margin = 0.05 * (high - low) or 0.05
    ax.set_ylim(low - margin if low < 0 else 0.0, high + margin if high > 0 else margin)


def training_curves(
    path: Path,
    *,
    title: str,
    loss: Sequence[Curve],
    accuracy: Sequence[Curve],
    note: str = "",
    measured_on: str = "the full data set",
    log_x: bool = False,
    resumed_at: int | None = None,
) -> None:
    """Loss (log scale) and accuracy against epoch, side by side; `measured_on` says on which points.

    Args:
      log_x: the epoch axis linear up to 1, then logarithmic: the first epochs of a long run get room.
      resumed_at: the epoch this run continued another from, marked on both panels.
    """
    fig = _figure(11, 4.4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    _draw(ax_loss, loss, log=True)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel(f"loss on {measured_on} (log scale)")
    ax_loss.set_title("Loss")
    ax_loss.legend(fontsize=8)
    _draw(ax_acc, accuracy)
    _percent_axis(ax_acc, accuracy)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel(f"accuracy on {measured_on}")
    ax_acc.set_title("Accuracy (% of points classified right)")
    ax_acc.legend(fontsize=8, loc="best")
    fig.suptitle(title, fontsize=11)
    lines = textwrap.wrap(note, 170) if note else []
    if note:
        fig.text(0.5, 0.01, "\n".join(lines), ha="center", va="bottom", fontsize=8, color="firebrick")
    for ax, curves in ((ax_loss, loss), (ax_acc, accuracy)):
        if log_x:
            _epoch_x(ax, curves)
            ax.set_xscale("symlog", linthresh=1.0, linscale=0.3)
            ax.set_xlim(0, ax.get_xlim()[1])
            ax.set_xlabel("epoch (log scale)")
        else:
            _integer_x(ax)
            _epoch_x(ax, curves)
        if resumed_at is not None:
            ax.axvline(resumed_at, color="dimgray", linestyle="--", linewidth=1.0, zorder=1)
            ax.annotate(
                f"resumed after epoch {resumed_at}", xy=(resumed_at, 0.02),
                xycoords=("data", "axes fraction"), rotation=90, ha="left", va="bottom", fontsize=8,
                color="dimgray",
            )  # fmt: skip
    fig.subplots_adjust(right=0.985, bottom=0.12 + 0.028 * (len(lines) + 1 if lines else 0), top=0.86)
    _fit_y_labels(fig, [ax_loss, ax_acc])
    save(fig, path)


def lr_curves(
    path: Path,
    curves: Sequence[Curve],
    *,
    title: str,
    xlabel: str = "step (update number k, from 0)",
    log: bool = False,
    whole_x: bool = True,
) -> None:
    """Learning rate against step (or, without `whole_x`, a fraction of the run), one line per schedule."""
    n = len(curves)
    below = n > 3  # many curves: the legend goes under the axes, where it covers none of them
    strip = 0.3 + 0.2 * n if below else 0.0  # inches
    fig = _figure(8.5, 4.8 + strip)
    ax = fig.subplots()
    for i, c in enumerate(curves):
        # each update uses one rate until the next: steps; earlier curves on top, so none hides another
        drawstyle = "steps-post" if len(c.x) <= 400 else "default"
        x, y = thin(c.x, c.y)
        ax.plot(
            x,
            y,
            c.style,
            color=c.color or LR_COLORS[i % len(LR_COLORS)],
            label=c.label,
            linewidth=2.4 - 1.2 * i / max(n - 1, 1),
            drawstyle=drawstyle,
            zorder=2 + n - i,
            **_marker(c),
        )
    if log:
        _log_y(ax)
    else:
        _rate_limits(ax, curves)
    if whole_x:
        _integer_x(ax)
    else:
        ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("learning rate" + (" (log scale)" if log else ""))
    ax.set_title(title, fontsize=11)
    ax.grid(True, alpha=0.3)
    height = fig.get_figheight()
    if below:
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=1, fontsize=8, frameon=False)
    else:
        ax.legend(fontsize=8, framealpha=0.9, loc="best").set_zorder(20)
    fig.subplots_adjust(right=0.97, bottom=(0.55 + strip) / height, top=1 - 0.45 / height)
    _fit_y_labels(fig, [ax])
    save(fig, path)


def _integer_x(ax: Axes) -> None:
    """Steps and epochs are whole numbers: no tick at 0.5; a lone step is shown between its neighbours."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    low, high = ax.dataLim.intervalx
    if np.isfinite(low) and high - low < 1:
        ax.set_xlim(low - 1, high + 1)


@dataclass(frozen=True)
class Boundary:
    """One network's decisions over a plane of two inputs, and the data drawn on it.

    Attributes:
      score: (1, G, G) for two classes: the score the 0.5 threshold applies to (the output, or P(class 1));
        (K, G, G) for K classes: each class's probability (or output). Row i of the grid is ys[i].
      label: the panel's title.
      ema_score: the same for the moving average of the weights, or None.
      xs, ys: (G,) the grid's coordinates along the two inputs.
      train_x: (N, 2) the training points in the plane; train_labels: (N,) their classes.
      test_x, test_labels: the held-out points (drawn hollow), or None.
      classes: what each class is called in the legend.
      axes: the names of the two inputs.
    """

    score: np.ndarray
    label: str
    ema_score: np.ndarray | None
    xs: np.ndarray
    ys: np.ndarray
    train_x: np.ndarray
    train_labels: np.ndarray
    test_x: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    classes: tuple[str, ...] = ("0", "1")
    axes: tuple[str, str] = ("x1", "x2")

    @property
    def binary(self) -> bool:
        return self.score.shape[0] == 1


def class_colors(k: int) -> list[Any]:
    """One colour per class: the course's blue and red for two, a qualitative palette for more."""
    if k <= 2:
        return [CLASS_COLORS[0], CLASS_COLORS[1]][:k]
    palette = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
        "#7f7f7f",
    ]  # fmt: skip
    if k <= len(palette):
        return palette[:k]
    from matplotlib import colormaps

    cmap = colormaps["hsv"]
    return [cmap(i / k) for i in range(k)]


def _extent(b: Boundary) -> tuple[float, float, float, float]:
    """The image's extent: each grid point is the centre of its pixel."""
    hx = (b.xs[-1] - b.xs[0]) / (2 * (len(b.xs) - 1))
    hy = (b.ys[-1] - b.ys[0]) / (2 * (len(b.ys) - 1))
    return (b.xs[0] - hx, b.xs[-1] + hx, b.ys[0] - hy, b.ys[-1] + hy)


def class_image(score: np.ndarray, colors: list[Any]) -> np.ndarray:
    """An RGB image of the predicted class (argmax), its colour fading to white where the network is unsure:
    full colour at probability 1, white at 1/K (all classes alike)."""
    from matplotlib.colors import to_rgb

    k = score.shape[0]
    predicted = np.argmax(score, axis=0)
    top = np.max(score, axis=0)
    total = np.sum(score, axis=0)
    share = np.divide(top, total, out=np.full_like(top, 1.0 / k), where=total > 0)
    sure = np.clip((share - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    rgb = np.array([to_rgb(c) for c in colors])[predicted]  # (G, G, 3)
    weight = (0.25 + 0.45 * sure)[..., None]
    return 1.0 - weight * (1.0 - rgb)


def region_edges(ax: Axes, b: Boundary, score: np.ndarray, style: dict[str, Any], *, gid: str) -> None:
    """The decision boundary: the 0.5 contour for two classes, the borders of the argmax regions for more."""
    if not np.isfinite(score).any():
        return
    if score.shape[0] == 1:
        if score[0].min() < 0.5 < score[0].max():
            ax.contour(b.xs, b.ys, score[0], levels=[0.5], **style).set_gid(gid)
        return
    # class k wins where its margin over the best other class is positive: the 0 contour of each margin
    # traces the border of its region, smooth between grid points
    for k in range(score.shape[0]):
        margin = score[k] - np.delete(score, k, axis=0).max(axis=0)
        if (margin > 0).any() and (margin < 0).any():
            ax.contour(b.xs, b.ys, margin, levels=[0.0], **style).set_gid(f"{gid}-{k}")


def keep_gids(legend: Any, handles: Sequence[Any]) -> Any:
    """Give each entry a legend draws the gid of the handle it was made from (matplotlib copies the look, not
    the gid), so an entry made for the legend only still says which drawn artists it stands for."""
    for drawn, handle in zip(legend.legend_handles, handles, strict=False):
        if drawn is not None:
            drawn.set_gid(handle.get_gid())
    return legend


SHADE_ALPHA = 0.35


@functools.cache
def _score_colors() -> Any:
    """RdBu reversed without its darkest tenth at either end: a class's points (CLASS_COLORS) stand out on
    the shading of their own class as on the other's."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    return ListedColormap(colormaps["RdBu_r"](np.linspace(0.12, 0.88, 256)), name="scores")


def _decided(b: Boundary) -> bool:
    """Whether the network decided anything: a diverged run's score is not finite."""
    return bool(np.isfinite(b.score).any())


def _boundary_axes(ax: Axes, b: Boundary) -> Any:
    from matplotlib.colors import BoundaryNorm

    colors = class_colors(len(b.classes))
    shade = None
    if not _decided(b):
        pass  # nothing decided: the data alone, on white
    elif b.binary:
        # The score as one image in bands of 0.1 (what filled contours drew, at a fraction of the cost)
        shade = ax.imshow(
            np.clip(b.score[0], 0.0, 1.0),
            origin="lower",
            extent=_extent(b),
            cmap=_score_colors(),
            norm=BoundaryNorm(np.linspace(0.0, 1.0, SCORE_LEVELS), 256),
            alpha=SHADE_ALPHA,
            interpolation="bilinear",
            interpolation_stage="data",  # smooth band edges: the score is interpolated, then put in its band
            aspect="auto",
            gid="shade",
        )
    else:
        shade = ax.imshow(
            class_image(b.score, colors),
            origin="lower",
            extent=_extent(b),
            interpolation="nearest",
            aspect="auto",
            gid="shade",
        )
    region_edges(ax, b, b.score, RAW_STYLE, gid="boundary")
    if b.ema_score is not None:
        region_edges(ax, b, b.ema_score, EMA_STYLE, gid="ema-boundary")
    for k, color in enumerate(colors):
        on = b.train_labels == k
        # a dark rim: a point stands out on the pale shading of its own class as on the other's
        ax.scatter(
            b.train_x[on, 0], b.train_x[on, 1], s=15, c=[color], edgecolors="black", linewidths=0.5,
            gid=f"class-{k}",
        )  # fmt: skip
        if b.test_x is not None and b.test_labels is not None:
            held = b.test_labels == k
            # white inside a ring of the class's colour: seen on any shading, told apart from training points
            ax.scatter(
                b.test_x[held, 0], b.test_x[held, 1], s=30, facecolors="white", edgecolors=[color],
                linewidths=1.8, gid=f"test-{k}", zorder=3,
            )  # fmt: skip
    ax.set_xlim(b.xs[0], b.xs[-1])
    ax.set_ylim(b.ys[0], b.ys[-1])
    if _equal_aspect(b):
        ax.set_aspect("equal")
    ax.set_xlabel(b.axes[0])
    ax.set_ylabel(b.axes[1])
    ax.set_title(b.label, fontsize=9)
    return shade


def _equal_aspect(b: Boundary) -> bool:
    """Same units drawn at the same scale, unless that squashes a panel flat."""
    width, height = b.xs[-1] - b.xs[0], b.ys[-1] - b.ys[0]
    return bool(1 / 3 < width / height < 3)


def _boundary_handles(bs: Sequence[Boundary], score_label: str) -> list[Any]:
    """The legend: each class (filled: training points; ringed: test points), then what is drawn of the
    boundaries and the shading (nothing of them when no network decided anything)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    b = bs[0]
    colors = class_colors(len(b.classes))
    handles: list[Any] = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=c,
            markeredgecolor="black",
            label=name,
            gid=f"for:class-{k}",
        )
        for k, (c, name) in enumerate(zip(colors, b.classes, strict=True))
    ]
    if any(x.test_x is not None for x in bs):
        handles.append(
            Line2D(
                [], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor="gray",
                markeredgewidth=1.8, label="ringed, white inside: test point", gid="for:test",
            )
        )  # fmt: skip
    decided = [x for x in bs if _decided(x)]
    if not decided:
        return handles
    if decided[0].binary:
        shading = "shading: the score (colour bar); paler = less sure"
    else:
        shading = "shading: the predicted class; paler = less sure"
    handles.append(Patch(facecolor="#c8c8c8", edgecolor="none", label=shading, gid="for:shade"))
    what = (
        f"{score_label.split(' = ')[0]} = 0.5" if decided[0].binary else "where the predicted class changes"
    )
    handles.append(
        Line2D([], [], color="black", linewidth=2, label=f"decision boundary ({what})", gid="for:boundary")
    )
    if any(x.ema_score is not None for x in decided):
        handles.append(
            Line2D(
                [], [], color=EMA_STYLE["colors"], linestyle="--", linewidth=2.2,
                label="boundary of the EMA (shadow) weights", gid="for:ema-boundary",
            )
        )  # fmt: skip
    return handles


def boundary(path: Path, b: Boundary, *, title: str, score_label: str) -> None:
    """The data coloured by class over the network's decisions, with the decision boundary.

    Two classes: the shading is the score, the line its 0.5 contour. More: the shading is the predicted
    class, paler where the network is less sure. The legend sits below the axes, where it hides no point.
    The figure is laid out in inches around the axes' own shape, so it has no blank band, and the colour bar
    is as tall as the axes.
    """
    fig, _, _ = boundary_figure(b, title=title, score_label=score_label)
    save(fig, path)


def boundary_figure(b: Boundary, *, title: str, score_label: str) -> tuple[Figure, Axes, Any]:
    """boundary.png's figure, not yet saved: the figure, its axes and the shading (None when nothing was
    decided), so that an animation (animation.py) can change what the network decides frame by frame."""
    handles = _boundary_handles([b], score_label)
    bar = b.binary and _decided(b)
    legend_rows = -(-len(handles) // 2)
    left, right = 0.85, (1.1 if bar else 0.3)
    width = 6.8
    axes_w = width - left - right
    axes_h = axes_w * 0.8
    if _equal_aspect(b):
        axes_h = axes_w * (b.ys[-1] - b.ys[0]) / (b.xs[-1] - b.xs[0])
        if axes_h > 6.0:  # a tall plane: a narrower panel keeps the figure on a screen
            axes_w, axes_h = axes_w * 6.0 / axes_h, 6.0
    top = 0.2 + 0.17 * (title.count("\n") + 2)  # the title's lines and the panel's label
    bottom = 0.6 + 0.08 + 0.2 * legend_rows  # tick labels and the axis label, then the legend
    height = top + axes_h + bottom
    fig = _figure(width, height)
    ax = fig.add_axes((left / width, bottom / height, axes_w / width, axes_h / height))
    shade = _boundary_axes(ax, b)
    ax.set_title(f"{title}\n{b.label}", fontsize=9)
    if bar and shade is not None:
        cax = fig.add_axes(((left + axes_w + 0.15) / width, bottom / height, 0.15 / width, axes_h / height))
        fig.colorbar(shade, cax=cax).set_label(score_label)
    legend = fig.legend(
        handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0)
    )
    keep_gids(legend, handles)
    return fig, ax, shade


def boundary_grid(path: Path, boundaries: Sequence[Boundary], *, title: str, score_label: str) -> None:
    """Several decision boundaries in a grid, same axes and colours."""
    fig, _ = boundary_grid_figure(boundaries, title=title, score_label=score_label)
    save(fig, path)


def boundary_grid_figure(
    boundaries: Sequence[Boundary], *, title: str, score_label: str
) -> tuple[Figure, list[tuple[Axes, Any]]]:
    """boundaries.png's figure, not yet saved: the figure and each boundary's axes and shading (None when
    it decided nothing), in order."""
    n = len(boundaries)
    cols = min(n, 3)
    rows = -(-n // cols)
    first = boundaries[0]
    handles = _boundary_handles(boundaries, score_label)
    bar = first.binary and any(_decided(b) for b in boundaries)
    # laid out in inches around the panels' own shape: no blank band between rows, the title clear of them
    panel_w = 3.6
    panel_h = panel_w * 0.8
    if _equal_aspect(first):
        panel_h = min(panel_w * (first.ys[-1] - first.ys[0]) / (first.xs[-1] - first.xs[0]), 4.5)
    left, gap_w, right = 0.75, 0.8, (1.15 if bar else 0.25)
    above, below = 0.35, 0.6  # each panel's title; its tick labels and axis label
    top = 0.25 + 0.22 * (title.count("\n") + 1)
    spare = rows * cols - n
    legend_cols = 2 if cols == 1 else 3
    strip = 0.0 if spare else 0.15 + 0.2 * -(-len(handles) // legend_cols)
    width = max(left + cols * panel_w + (cols - 1) * gap_w + right, 7.0)
    height = top + rows * (above + panel_h + below) + strip
    fig = _figure(width, height)
    shade = None
    cells = []
    for r in range(rows):
        for c in range(cols):
            x0 = left + c * (panel_w + gap_w)
            y0 = height - top - r * (above + panel_h + below) - above - panel_h
            cells.append(fig.add_axes((x0 / width, y0 / height, panel_w / width, panel_h / height)))
    panels = []
    for ax, b in zip(cells, boundaries, strict=False):
        drawn = _boundary_axes(ax, b)
        panels.append((ax, drawn))
        shade = drawn or shade
    for ax in cells[n:]:
        ax.set_axis_off()
    if spare:  # the legend gets an empty cell of the grid, where it hides no point
        legend = cells[n].legend(handles=handles, fontsize=8, loc="center", framealpha=0.85)
    else:
        legend = fig.legend(handles=handles, loc="lower center", ncol=legend_cols, fontsize=8, frameon=False)
    keep_gids(legend, handles)
    fig.suptitle(title, fontsize=11, y=1 - 0.12 / height, va="top")
    if shade is not None and bar:
        grid_top = height - top - above
        grid_bottom = height - top - rows * (above + panel_h + below) + below
        x0 = left + cols * panel_w + (cols - 1) * gap_w + 0.2
        cax = fig.add_axes(
            (x0 / width, grid_bottom / height, 0.15 / width, (grid_top - grid_bottom) / height)
        )
        fig.colorbar(shade, cax=cax).set_label(score_label)
    return fig, panels


def confusion(
    path: Path, matrices: Sequence[tuple[str, np.ndarray]], classes: Sequence[str], *, title: str
) -> None:
    """Confusion matrices side by side (true class down, predicted class across), each cell's count written
    in it and its share of the true class's points as the shade."""
    n = len(matrices)
    k = len(classes)
    # laid out in inches around the matrices: no blank band above or below them
    longest = max(map(len, classes))
    rotate = longest > 12  # longer names stand upright under their column; shorter ones fit across it
    cell = 0.55 if rotate else max(0.55, 0.075 * longest + 0.1)
    size = cell * k
    names_w = 0.35 + 0.075 * longest  # the class names left of a matrix, and its axis label
    below = 0.55 + (0.075 * longest if rotate else 0.2)  # the class names under it, and its axis label
    panel_w = max(size, 2.6)  # room for the panel's title
    left, gap, right, top = names_w + 0.15, names_w + 0.3, 0.2, 0.75
    width = left + n * panel_w + (n - 1) * gap + right
    height = top + size + below
    fig = _figure(width, height)
    for p, (name, counts) in enumerate(matrices):
        x0 = left + p * (panel_w + gap) + (panel_w - size) / 2
        ax = fig.add_axes((x0 / width, below / height, size / width, size / height))
        totals = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        for i in range(k):
            for j in range(k):
                ax.text(
                    j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=9,
                    color="white" if share[i, j] > 0.6 else "black",
                )  # fmt: skip
        ax.set_xticks(range(k), classes, rotation=90 if rotate else 0)
        ax.set_yticks(range(k), classes)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        correct = int(np.trace(counts))
        total = int(counts.sum())
        accuracy = f"{correct / total:.1%}" if total else "no points"
        ax.set_title(f"{name}: {correct} of {total} right ({accuracy})", fontsize=9)
    fig.suptitle(title, fontsize=10, y=1 - 0.12 / height, va="top")
    save(fig, path)


def quadratic(
    path: Path,
    runs: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
    *,
    title: str,
    w0: float,
    target: float = -1.0,
) -> None:
    """The one-parameter toy: w and loss = (w + 1)² against step, one line per run (label, step, w, loss).

    The start w0 is drawn at step −1, before the first update, so that the first move is visible.
    """
    fig = _figure(11, 4.6)
    ax_w, ax_loss = fig.subplots(1, 2)
    start_loss = (w0 - target) ** 2
    for label, step, w, loss in runs:
        x = np.concatenate([[-1], step])
        (line,) = ax_w.plot(x, np.concatenate([[w0], w]), ".-", label=label, linewidth=1.4, markersize=4)
        ax_loss.plot(
            x,
            np.concatenate([[start_loss], loss]),
            ".-",
            color=line.get_color(),
            label=label,
            linewidth=1.4,
            markersize=4,
        )
    ax_w.axhline(target, color="gray", linestyle=":", linewidth=1.2, label=f"minimum w = {target:g}")
    ax_w.plot([-1], [w0], "ks", markersize=6, label=f"start w0 = {w0:g}")
    ax_w.set_xlabel("step (−1 = the start, k = after update k)")
    ax_w.set_ylabel("w")
    ax_w.set_title("The parameter w")
    ax_w.grid(True, alpha=0.3)
    finite = np.concatenate([np.asarray(r[3])[np.isfinite(r[3])] for r in runs] + [[start_loss]])
    positive = finite[finite > 0]
    if positive.size and positive.max() / positive.min() > 100:  # log only when it spans decades
        _log_y(ax_loss)
        ax_loss.set_ylabel("loss = (w + 1)² (log scale)")
    else:
        ax_loss.set_ylabel("loss = (w + 1)²")
        ax_loss.set_ylim(bottom=0.0)  # from zero, so that a crawl looks like one
    ax_loss.set_xlabel("step (−1 = the start, k = after update k)")
    ax_loss.set_title("The loss")
    ax_loss.grid(True, alpha=0.3)
    handles, labels = ax_w.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    rows = -(-len(labels) // 3)
    for ax in (ax_w, ax_loss):
        _integer_x(ax)
    fig.subplots_adjust(right=0.985, bottom=0.13 + 0.04 * rows, top=0.86)
    _fit_y_labels(fig, [ax_w, ax_loss])
    save(fig, path)


def _constant(c: Curve) -> float | None:
    """The rate of a curve that never changes, else None."""
    y = _finite(np.asarray(c.y, dtype=float))
    return float(y[0]) if y.size and np.all(y == y[0]) else None


MIN_ZOOM = 0.08  # the least span of a zoomed accuracy axis: 8 points


def _zoom_accuracy(ax: Axes, curves: Sequence[Curve]) -> bool:
    """Zoom the accuracy axis to where the entries differ once the first 30% of the run is over, when the
    early climb would otherwise squeeze them into a third of the height; the early values leave the axis
    at the bottom, and the axis's title says so. Returns whether it zoomed."""
    late = []
    for c in curves:
        x, y = np.asarray(c.x, dtype=float), np.asarray(c.y, dtype=float)
        if x.size < 10:
            return False
        after = x >= x.min() + 0.3 * (x.max() - x.min())
        late.append(y[after])
        if c.band is not None:  # the band is drawn too: it stays in view
            late += [np.asarray(c.band[0], dtype=float)[after], np.asarray(c.band[1], dtype=float)[after]]
    values = _finite(np.concatenate(late + [np.zeros(0)]))
    every = np.concatenate([_finite(np.asarray(c.y, dtype=float)) for c in curves] + [np.zeros(0)])
    if not values.size or every.min() >= values.min():
        return False
    spread = values.max() - values.min()
    if spread > 0.33 * (every.max() - every.min()):
        return False
    margin = max(0.08 * spread, 0.005)
    high = min(values.max() + margin, 1.005)
    low = max(
        min(values.min() - margin, high - MIN_ZOOM), -0.005
    )  # a point or two is not blown up to a cliff
    ax.set_ylim(low, high)
    for line in ax.lines:
        line.set_gid("leaves-axis")
    return True


def comparison(
    path: Path,
    *,
    loss: Sequence[Curve],
    accuracy: Sequence[Curve],
    rates: Sequence[Curve],
    title: str,
    measured_on: str = "the full data set",
) -> None:
    """Loss (log scale), accuracy and learning rate of several runs; one colour per run, one legend below
    (made from the loss panel's labels; a curve labelled "_..." stays out of it). When every rate is
    constant, a line of text says so and the curves get the room of the rates' panel; when the first epochs'
    climb would squeeze the accuracies together, their axis zooms to where they differ."""
    constant = [_constant(c) for c in rates]
    flat = bool(rates) and all(r is not None for r in constant)
    fig = _figure(15, 5.4)
    if flat:
        ax_loss, ax_acc = fig.subplots(1, 2)
        row = [ax_loss, ax_acc]
    else:
        ax_loss, ax_acc, ax_lr = fig.subplots(1, 3)
        row = [ax_loss, ax_acc, ax_lr]
    _draw(ax_loss, loss, log=True)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel(f"loss on {measured_on} (log scale)")
    ax_loss.set_title("Loss")
    _draw(ax_acc, accuracy)
    _percent_axis(ax_acc, accuracy)
    zoomed = _zoom_accuracy(ax_acc, accuracy)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel(f"accuracy on {measured_on}")
    ax_acc.set_title("Accuracy (%), zoomed to where the entries differ" if zoomed else "Accuracy (%)")
    if not flat:
        _draw(ax_lr, rates)
        _rate_limits(ax_lr, rates)
        ax_lr.set_xlabel("step (update number k, from 0)")
        ax_lr.set_ylabel("learning rate")
        ax_lr.set_title("Learning rate of each update")
    handles, labels = ax_loss.get_legend_handles_labels()
    rows = -(-len(labels) // 2)
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    if flat:
        values = sorted({f"{r:g}" for r in constant if r is not None}, key=float)
        rate = f"every entry's learning rate is constant ({', '.join(values)}) through the run"
        fig.text(0.5, 1 - 0.4 / 5.4, rate, ha="center", va="top", fontsize=9, color="dimgray")
    for ax in row:
        _integer_x(ax)
    fig.subplots_adjust(right=0.99, bottom=0.12 + 0.045 * rows, top=0.85 if flat else 0.88)
    _fit_y_labels(fig, row)
    save(fig, path)


# --- config keys ---------------------------------------------------------------------------------


def check_features(value: object) -> tuple[str | int, ...] | None:
    """plot.features: the two inputs a boundary picture spans, as column names or 0-based indices."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise CheckError(
            "plot.features",
            f"must be two input names or 0-based indices, e.g. [petal_length, petal_width], "
            f"got {checks.excerpt(value)}",
        )
    out: list[str | int] = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item:
            out.append(item)
        else:
            out.append(checks.integer(item, f"plot.features[{i}]", low=0, alternative="or an input's name"))
    if out[0] == out[1]:
        raise CheckError("plot.features", f"names the same input twice: {out[0]!r}")
    return tuple(out)


KEYS: tuple[Key, ...] = (
    Key(
        "plot.features",
        None,
        check_features,
        (only("model.type", "mlp"),),
        attr="plot_features",
        show=lambda v: None if v is None else list(v),
    ),
    Key(
        "plot.log_x",
        None,
        lambda v: None if v is None else checks.flag(v, "plot.log_x"),
        (only("model.type", "mlp"),),
        attr="plot_log_x",
    ),
    Key(
        "plot.animate",
        False,
        lambda v: checks.flag(v, "plot.animate"),
        (only("model.type", "mlp", "surface"),),
        attr="plot_animate",
    ),
)
"""The pictures' keys. plot.animate (the --animate option): boundary.gif, the boundary every few epochs (a
surface run: paths.gif, the path drawn as it goes)."""
