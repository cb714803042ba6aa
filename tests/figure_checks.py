"""What every picture nnopt draws must satisfy, checked on the figure object (never on pixels).

`problems(fig)` lists what is wrong, in words; `assert_readable(fig)` fails with that list. Conventions the
figures keep so that these checks can be made:

- a legend entry stands for something drawn: the artist itself (its label), or, for a proxy handle made
  for the legend only, the artists that carry the proxy's gid;
- an artist whose data may lie beyond the axes on purpose (a loss blowing up past the top) has a gid that
  starts with "leaves-axis".
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

SLACK = 1.0  # pixels: extents are rounded


def _texts(fig: Any) -> list[Any]:
    from matplotlib.text import Text

    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        # a tick label matplotlib keeps for a tick outside the view is not drawn
        out.append(t)
    return out


def _drawn_ticklabels(fig: Any, renderer: Any) -> set[int]:
    ids = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():
                for label in (tick.label1, tick.label2):
                    if label.get_visible():
                        ids.add(id(label))
    return ids


def _has_data(artist: Any) -> bool:
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not artist.get_visible():
        return False
    if isinstance(artist, Line2D):
        x, y = (np.asarray(v, dtype=float) for v in artist.get_data())
        return bool((np.isfinite(x) & np.isfinite(y)).any())
    if isinstance(artist, Collection):
        if len(artist.get_paths()) == 0:
            return False
        offsets = np.asarray(artist.get_offsets())
        return bool(len(artist.get_paths()) > 1 or offsets.size == 0 or np.isfinite(offsets).any())
    if isinstance(artist, AxesImage):
        a = np.asarray(artist.get_array(), dtype=float)
        return bool(np.isfinite(a).any())
    if isinstance(artist, Patch):
        return True
    return True


def _drawn(ax: Any) -> list[Any]:
    return [a for a in (*ax.lines, *ax.collections, *ax.images, *ax.patches) if _has_data(a)]


def problems(fig: Any) -> list[str]:
    """Everything wrong with the figure, one line each."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found: list[str] = []
    frame = fig.bbox
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    drawn_everywhere = [a for ax in fig.axes for a in _drawn(ax)]

    # no empty axes (a colour bar counts as drawn)
    for ax in axes:
        is_colorbar = hasattr(ax, "_colorbar")
        if not _drawn(ax) and not is_colorbar and not [t for t in ax.texts if t.get_text().strip()]:
            found.append(f"empty axes: {ax.get_title()!r}")

    # limits finite and covering the data
    for ax in axes:
        for name, (low, high) in (("x", ax.get_xlim()), ("y", ax.get_ylim())):
            if not (np.isfinite(low) and np.isfinite(high)) or low == high:
                found.append(f"axes {ax.get_title()!r}: {name} limits {low}, {high}")
        if hasattr(ax, "_colorbar"):
            continue
        xlow, xhigh = sorted(ax.get_xlim())
        ylow, yhigh = sorted(ax.get_ylim())
        for line in ax.lines:
            if not line.get_visible() or str(line.get_gid() or "").startswith("leaves-axis"):
                continue
            x, y = (np.asarray(v, dtype=float) for v in line.get_data())
            if x.size != y.size or line.get_transform() != ax.transData:
                continue
            ok = np.isfinite(x) & np.isfinite(y)
            if not ok.any():
                continue
            tol_x = 1e-6 * (xhigh - xlow)
            tol_y = 1e-6 * (yhigh - ylow)
            if x[ok].min() < xlow - tol_x or x[ok].max() > xhigh + tol_x:
                found.append(f"axes {ax.get_title()!r}: line {line.get_label()!r} beyond the x limits")
            if y[ok].min() < ylow - tol_y or y[ok].max() > yhigh + tol_y:
                found.append(f"axes {ax.get_title()!r}: line {line.get_label()!r} beyond the y limits")

    # every legend entry drawn
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    for legend in legends:
        if not legend.get_visible():
            continue
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=False):
            label = text.get_text()
            gid = handle.get_gid() if handle is not None else None
            if gid == "note":
                continue
            if gid and gid.startswith("for:"):
                gid = gid[4:]
                stands_for = [a for a in drawn_everywhere if str(a.get_gid()) in (gid, *_numbered(gid, a))]
            else:
                stands_for = [a for a in drawn_everywhere if a.get_label() == label]
            if not stands_for:
                found.append(f"legend entry {label!r} stands for nothing drawn")

    # nothing outside the figure, no text over another text
    ticks = _drawn_ticklabels(fig, renderer)
    texts = [t for t in _texts(fig) if not _is_ticklabel(t) or id(t) in ticks]
    boxes = []
    for t in texts:
        box = t.get_window_extent(renderer)
        boxes.append((t, box))
        if (
            box.x0 < frame.x0 - SLACK
            or box.y0 < frame.y0 - SLACK
            or box.x1 > frame.x1 + SLACK
            or box.y1 > frame.y1 + SLACK
        ):
            found.append(f"text {t.get_text()!r} outside the figure")
    for ax in axes:
        box = ax.get_window_extent(renderer)
        if box.x0 < -SLACK or box.y0 < -SLACK or box.x1 > frame.x1 + SLACK or box.y1 > frame.y1 + SLACK:
            found.append(f"axes {ax.get_title()!r} outside the figure")
    band = blank_band(fig, renderer, [box for _, box in boxes])
    if band > BLANK_BAND:
        found.append(f"a blank band {band:.2f} inches high across the figure")
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        if _overlap(box_a, box_b) > 1.0:
            found.append(f"text {a.get_text()!r} overlaps {b.get_text()!r}")
    return found


def _numbered(gid: str, artist: Any) -> tuple[str, ...]:
    """A proxy's gid "best" stands for "best-0", "best-1", ... too."""
    own = str(artist.get_gid())
    return (own,) if own.startswith(f"{gid}-") else ()


BLANK_BAND = 0.5  # inches: a taller band across the whole figure with nothing in it is wasted height


def blank_band(fig: Any, renderer: Any, text_boxes: list[Any]) -> float:
    """The height in inches of the tallest horizontal band of the figure that no axes, legend or text
    touches (the margins above and below included)."""
    spans = [(b.y0, b.y1) for b in text_boxes]
    for ax in fig.axes:
        if ax.get_visible() and (ax.axison or ax.get_legend() is not None):
            box = ax.get_window_extent(renderer) if ax.axison else ax.get_legend().get_window_extent(renderer)
            spans.append((box.y0, box.y1))
    for legend in fig.legends:
        box = legend.get_window_extent(renderer)
        spans.append((box.y0, box.y1))
    spans.sort()
    widest, reached = 0.0, 0.0
    for low, high in spans:
        widest = max(widest, low - reached)
        reached = max(reached, high)
    widest = max(widest, fig.bbox.height - reached)
    return widest / fig.dpi


def _is_ticklabel(t: Any) -> bool:
    from matplotlib.axis import Tick

    parent = getattr(t, "_nnopt_tick", None)
    if parent is not None:
        return True
    for ax in t.figure.axes if t.figure is not None else ():
        for axis in (ax.xaxis, ax.yaxis):
            for tick in (*axis.majorTicks, *axis.minorTicks):
                if isinstance(tick, Tick) and t in (tick.label1, tick.label2):
                    return True
    return False


def _overlap(a: Any, b: Any) -> float:
    """The side in pixels of the region two boxes share (0 when apart)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return min(w, h) if w > 0 and h > 0 else 0.0


def assert_readable(fig: Any, name: str = "") -> None:
    found = problems(fig)
    assert not found, f"{name}: " + "; ".join(found)
