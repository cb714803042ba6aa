"""Animated GIFs: a figure drawn once, then the artists that change redrawn frame by frame over it.

`write_gif` is the one writer: given a figure and `update(i)`, which puts the figure in the state of frame i
and returns the artists that change, it draws everything else once, copies that background, and for each
frame restores it and draws only the changing artists (blitting), so that a frame costs what its changing
artists cost. The frames go through matplotlib's Pillow writer (matplotlib.animation.PillowWriter; Pillow is
a dependency of matplotlib) with one palette for all of them, computed once from the first and last frames,
each frame shown 1/fps s and the last held longer; the file is written through a temporary name.

The decision boundary over training (boundary.gif, boundaries.gif) is drawn here from boundary.png's own
figure (plots.boundary_figure, plots.boundary_grid_figure): per frame, its shading, its boundary lines and
its title change, and the points are drawn again on top.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nnopt_cli.figures import plots

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FPS = 10  # frames per second: 61 frames play in about 6 s
HOLD = 2.0  # seconds the last frame stays before the animation starts again
COLORS = 255  # the shared palette's colours (a GIF holds 256)
DPI = 80  # an animation's frames: smaller than a PNG's (plots.DPI), as quick to draw and to download

# update(i): the figure put in frame i's state; returns the artists that change, in drawing order
Update = Callable[[int], Sequence["Artist"]]


def durations(frames: int, *, fps: float = FPS, hold: float = HOLD) -> list[int]:
    """Each frame's display time in milliseconds: 1000/fps, the last `hold` seconds (GIF counts in
    hundredths of a second, so both are rounded to 10 ms)."""
    step = 10 * round(100 / fps)
    return [step] * (frames - 1) + [10 * round(100 * hold)]


def write_gif(
    path: Path,
    fig: Figure,
    update: Update,
    frames: int,
    *,
    fps: float = FPS,
    hold: float = HOLD,
    dpi: float = DPI,
) -> None:
    """Write `frames` frames of `fig` as an animated GIF that loops, frame i as `update(i)` leaves it.

    Everything `update` does not return is drawn once, so it must not change between frames; what it
    returns (artists it made anew included, which it also removes again when they go) is drawn over that, in
    the order returned. The same figure and updates write the same bytes.

    Args:
      fps: frames per second; hold: seconds the last frame is shown; dpi: the frames' pixels per inch.
    """
    from PIL import Image

    fig.set_dpi(dpi)
    canvas = fig.canvas
    last = _animated(update(frames - 1))
    canvas.draw()  # everything but the animated artists
    background = canvas.copy_from_bbox(fig.bbox)  # type: ignore[attr-defined]

    def render(artists: Sequence[Artist]) -> Any:
        canvas.restore_region(background)  # type: ignore[attr-defined]
        for artist in artists:
            fig.draw_artist(artist)
        width, height = canvas.get_width_height()
        rgba = bytes(canvas.buffer_rgba())  # type: ignore[attr-defined]
        return Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1).convert("RGB")

    # one palette for every frame: the colours of the last frame (the most structure) and of the first
    ends = [render(last), render(_animated(update(0)))]
    both = Image.new("RGB", (ends[0].width, 2 * ends[0].height))
    both.paste(ends[0], (0, 0))
    both.paste(ends[1], (0, ends[0].height))
    writer = _writer_class()(both.quantize(COLORS), durations(frames, fps=fps, hold=hold), fps=round(fps))
    writer.setup(fig, str(path), dpi=fig.dpi)
    for i in range(frames):
        writer.add(render(_animated(update(i))))
    writer.finish()


def _animated(artists: Sequence[Artist]) -> list[Artist]:
    """The artists, left out of a whole-figure draw from now on (drawn by write_gif alone)."""
    for artist in artists:
        artist.set_animated(True)
    return list(artists)


@functools.cache
def _writer_class() -> type:
    """matplotlib's PillowWriter with a palette shared by every frame (a nearest-colour lookup per frame
    instead of a palette computed per frame), a duration per frame, and the file written whole (made on
    first use: matplotlib is imported only when a figure is drawn)."""
    from matplotlib.animation import PillowWriter
    from PIL import Image

    from nnopt_cli.files import replacing

    class GifWriter(PillowWriter):
        def __init__(self, palette: Any, durations: list[int], *, fps: int) -> None:
            super().__init__(fps=fps)
            self.palette = palette
            self.durations = durations
            self.images: list[Any] = []

        def add(self, frame: Any) -> None:
            """A frame as an RGB image, mapped to the palette (no dithering: flat colours stay flat)."""
            self.images.append(frame.quantize(palette=self.palette, dither=Image.Dither.NONE))

        def finish(self) -> None:
            with replacing(Path(self.outfile), "wb") as f:
                self.images[0].save(
                    f,
                    format="GIF",
                    save_all=True,
                    append_images=self.images[1:],
                    duration=self.durations[: len(self.images)],
                    loop=0,
                )

    return GifWriter


# --- the decision boundary over training -------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """One network's decisions in every frame of an animation.

    Attributes:
      boundary: what its boundary.png would draw (the data, the grid, the classes, the legend's look).
      scores: (F, K', G, G) the score over the plane in each frame (plots.Boundary.score's layout);
        ema_scores: the same for the moving average, or None.
      labels: (F,) the panel's title in each frame (the epoch and the loss).
    """

    boundary: plots.Boundary
    scores: np.ndarray
    ema_scores: np.ndarray | None
    labels: Sequence[str]


def _decided_frame(panel: Panel) -> plots.Boundary:
    """The panel's boundary with the scores of a frame that decided something (the last one that did), so
    that the figure gets its shading, colour bar and legend; with none, the data alone."""
    finite = [i for i in range(len(panel.scores)) if np.isfinite(panel.scores[i]).any()]
    i = finite[-1] if finite else len(panel.scores) - 1
    ema = None if panel.ema_scores is None else panel.ema_scores[i]
    return replace(panel.boundary, score=panel.scores[i], ema_score=ema)


class _PanelFrames:
    """Puts one panel's axes in the state of frame i: its shading, its boundary lines and the line of its
    title that changes; returns the artists to draw over the rest of the figure (the points and the axes'
    frame too, which the shading would cover), in the order boundary.png draws them."""

    def __init__(self, ax: Axes, shade: Any, panel: Panel, title: str) -> None:
        from matplotlib.collections import LineCollection

        self.ax, self.shade, self.panel = ax, shade, panel
        b = panel.boundary
        self.colors = plots.class_colors(len(b.classes))
        gids = ("class-", "test-")
        self.points = [c for c in ax.collections if str(c.get_gid() or "").startswith(gids)]
        for built in [c for c in ax.collections if c not in self.points]:  # the built frame's lines
            built.remove()
        # the boundary lines as line collections whose segments change (what ax.contour draws, as cheaply as
        # a frame allows): the raw weights' over the moving average's, as boundary.png draws them
        self.lines = []
        for style, gid in ((plots.RAW_STYLE, "boundary"), (plots.EMA_STYLE, "ema-boundary")):
            lines = LineCollection(
                [],
                colors=style["colors"],
                linewidths=style["linewidths"],
                linestyles=style["linestyles"],
                gid=gid,
                zorder=2,
            )
            ax.add_collection(lines, autolim=False)
            self.lines.append(lines)
        # the title's fixed lines stay in the axes' title, raised by a line; the last line (the frame's) is a
        # text of its own where the title's last line was
        from matplotlib import rcParams
        from matplotlib.transforms import ScaledTranslation

        pad = float(rcParams["axes.titlepad"])  # points, as boundary.png's title has it
        size = ax.title.get_fontsize()
        if title:
            renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
            ax.title.set_text(f"{title}\n ")
            two = ax.title.get_window_extent(renderer).height
            ax.title.set_text(title)
            line = (two - ax.title.get_window_extent(renderer).height) * 72 / ax.figure.dpi
            ax.set_title(title, fontsize=size, pad=pad + line)
        else:
            ax.title.set_text("")
        self.label = ax.text(
            0.5,
            1.0,
            "",
            transform=ax.transAxes + ScaledTranslation(0, pad / 72, ax.figure.dpi_scale_trans),
            ha="center",
            va="baseline",
            fontsize=size,
            parse_math=False,  # plain words and numbers: a quarter of the time to draw
        )
        self.spines = list(ax.spines.values())

    def __call__(self, i: int) -> list[Any]:
        b, panel = self.panel.boundary, self.panel
        score = panel.scores[i]
        drawn: list[Any] = []
        if self.shade is not None and np.isfinite(score).any():
            if score.shape[0] == 1:
                self.shade.set_data(np.clip(score[0], 0.0, 1.0))
            else:
                self.shade.set_data(plots.class_image(score, self.colors))
            drawn.append(self.shade)
        ema = None if panel.ema_scores is None else panel.ema_scores[i]
        for lines, values in zip(self.lines, (score, ema), strict=True):
            lines.set_segments([] if values is None else _edges(b, values))
        self.label.set_text(panel.labels[i])
        # in boundary.png's order: shading, training points, boundary lines, axes frame, test points
        changing = [*drawn, *self.points, *self.lines, *self.spines]
        return [*sorted(changing, key=lambda artist: artist.get_zorder()), self.label]


def _edges(b: plots.Boundary, score: np.ndarray) -> list[np.ndarray]:
    """The decision boundary's lines, as plots.region_edges draws them (the 0.5 contour of the score for two
    classes, the 0 contour of each class's margin over the best other for more), as (N, 2) point arrays,
    traced by contourpy with the algorithm matplotlib's contour uses."""
    import contourpy

    if not np.isfinite(score).any():
        return []
    if score.shape[0] == 1:
        fields = [(score[0], 0.5)]
    else:
        fields = [(score[k] - np.delete(score, k, axis=0).max(axis=0), 0.0) for k in range(score.shape[0])]
    segments: list[np.ndarray] = []
    for z, level in fields:
        if np.nanmin(z) < level < np.nanmax(z):
            generator = contourpy.contour_generator(
                b.xs, b.ys, z, name="mpl2014", corner_mask=True, line_type=contourpy.LineType.SeparateCode
            )
            lines: Any = generator.lines(level)  # (points, codes); a closed line ends on its first point
            segments.extend(lines[0])
    return segments


def boundary_gif(path: Path, panel: Panel, *, title: str, score_label: str) -> None:
    """boundary.gif: boundary.png's figure, one frame per entry of `panel`, the last held."""
    fig, ax, shade = plots.boundary_figure(_decided_frame(panel), title=title, score_label=score_label)
    frame = _PanelFrames(ax, shade, panel, title)
    write_gif(path, fig, frame, len(panel.labels))


def boundaries_gif(path: Path, panels: Sequence[Panel], *, title: str, score_label: str) -> None:
    """boundaries.gif: boundaries.png's grid, every panel in step (the same number of frames each)."""
    fig, cells = plots.boundary_grid_figure(
        [_decided_frame(p) for p in panels], title=title, score_label=score_label
    )
    frames = [_PanelFrames(ax, shade, p, "") for (ax, shade), p in zip(cells, panels, strict=True)]

    def update(i: int) -> list[Any]:
        return [artist for frame in frames for artist in frame(i)]

    write_gif(path, fig, update, len(panels[0].labels))
