"""gridplots.py: the heatmap and the sensitivity figure of a grid of runs show what a reader needs.

Figures are checked through their artists (cell texts, patches, lines, scales, legends), found by the gid
each mark is given, and for overlap through the rendered extents of their texts, not through pixels.
"""

from __future__ import annotations

import itertools
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnopt_cli.figures import gridplots, plots
from nnopt_cli.figures.gridplots import Axis, Line, Panel

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"

LRS = (0.001, 0.003, 0.01, 0.03, 0.1)
LR = Axis("optimizer.lr", ("0.001", "0.003", "0.01", "0.03", "0.1"), LRS, log=True)
OPT = Axis("optimizer.name", ("sgd", "sgdm", "adam"))
NAN = float("nan")

# final loss of 3 optimizers × 5 rates × 5 seeds: sgdm and adam diverge at 0.1 (all 5 seeds), adam loses 2
# of 5 at 0.03; the best cell where no seed diverged is adam at 0.003 (0.012), and the lowest mean of all is
# adam at 0.03 (0.005, from its 3 surviving seeds)
LOSS = np.array(
    [
        [0.4, 0.25, 0.12, 0.06, 0.03],
        [0.15, 0.06, 0.025, 0.02, NAN],
        [0.02, 0.012, 0.015, 0.005, NAN],
    ]
)
DIVERGED = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 5], [0, 0, 0, 2, 5]])
RUNS = np.full((3, 5), 5)


def png_size(path: Path) -> tuple[int, int]:
    """The width and height of a whole PNG: its signature and header first, its end chunk last."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    assert data.endswith(PNG_END), f"{path.name} is cut short"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_sensible_png(path: Path) -> None:
    width, height = png_size(path)
    assert 300 < width < 2500 and 250 < height < 2500, (path.name, width, height)


def by_gid(fig: Any, gid: str) -> list[Any]:
    return [a for a in fig.findobj() if a.get_gid() == gid]


def panels_of(fig: Any) -> list[Any]:
    return [ax for ax in fig.axes if ax.get_gid() == "panel"]


def cell_texts(ax: Any) -> dict[tuple[int, int], str]:
    """The words written in each cell, by (row, column)."""
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}


def texts_overlap_or_leave(fig: Any) -> list[str]:
    """Every pair of visible texts whose drawn boxes overlap, and every text that leaves the figure."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    hidden = set()  # the labels of ticks outside the axis's view: they exist, but are not drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            slack = 1e-9 * (high - low)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not low - slack <= tick.get_loc() <= high + slack:
                    hidden.update((id(tick.label1), id(tick.label2)))
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in hidden]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    problems = []
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        dx = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        dy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        if dx > 1 and dy > 1:
            problems.append(f"{a!r} overlaps {b!r}")
    for text, box in boxes:
        if box.x0 < -1 or box.y0 < -1 or box.x1 > fig.bbox.width + 1 or box.y1 > fig.bbox.height + 1:
            problems.append(f"{text!r} leaves the figure")
    return problems


def test_the_overlap_check_sees_overlaps_and_texts_cut_off() -> None:
    from nnopt_cli.figures import plots

    fig = plots._figure(3, 2)
    fig.text(0.5, 0.5, "one")
    fig.text(0.52, 0.5, "two")
    fig.text(0.98, 0.1, "cut off")
    assert texts_overlap_or_leave(fig) == ["'one' overlaps 'two'", "'cut off' leaves the figure"]


def test_drawing_needs_no_pyplot(tmp_path: Path) -> None:
    # a fresh interpreter: another test may have imported pyplot into this one
    code = (
        "import sys; from pathlib import Path; import numpy as np\n"
        "from nnopt_cli.figures.gridplots import Axis, Line, Panel, heatmap, sensitivity\n"
        "x = Axis('optimizer.lr', ('0.1', '1'), (0.1, 1.0), log=True)\n"
        "m = np.array([0.5, 0.2]); n = np.array([0, 0]); r = np.array([3, 3])\n"
        "common = dict(title='t', metric_label='loss', higher_is_better=False, x=x)\n"
        f"heatmap(Path({str(tmp_path / 'h.png')!r}), y=None, panels=[Panel('', m, n, r)], **common)\n"
        "line = Line('', m, m, m, n, r)\n"
        f"sensitivity(Path({str(tmp_path / 's.png')!r}), lines=[line], log_y=True, **common)\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert_sensible_png(tmp_path / "h.png")
    assert_sensible_png(tmp_path / "s.png")


def draw_heatmap(tmp_path: Path, saved: list[Any], name: str = "heatmap.png", **kw: Any) -> Any:
    args: dict[str, Any] = {
        "title": "final loss of the grid",
        "metric_label": "final loss",
        "higher_is_better": False,
        "x": LR,
        "y": OPT,
        "panels": [Panel("", LOSS, DIVERGED, RUNS)],
    }
    args.update(kw)
    gridplots.heatmap(tmp_path / name, **args)
    assert_sensible_png(tmp_path / name)
    return saved[-1]


def line_of(k: int, mean: list[float], diverged: list[int], runs: int = 5, spread: float = 0.1) -> Line:
    m = np.array(mean, dtype=float)
    return Line(
        ["sgd", "sgdm", "adam"][k] if k < 3 else f"entry {k}",
        m,
        m * (1 - spread),
        m * (1 + spread),
        np.array(diverged),
        np.full(len(mean), runs),
    )


LINES = [line_of(k, list(LOSS[k]), list(DIVERGED[k])) for k in range(3)]


def draw_sensitivity(tmp_path: Path, saved: list[Any], name: str = "sensitivity.png", **kw: Any) -> Any:
    args: dict[str, Any] = {
        "title": "final loss against the learning rate",
        "metric_label": "final loss",
        "higher_is_better": False,
        "x": LR,
        "lines": LINES,
        "log_y": True,
        "line_key": "optimizer.name",
    }
    args.update(kw)
    gridplots.sensitivity(tmp_path / name, **args)
    assert_sensible_png(tmp_path / name)
    return saved[-1]


def main_axes(fig: Any) -> Any:
    (ax,) = [ax for ax in fig.axes if ax.get_gid() == "sensitivity"]
    return ax


# ---------------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "percent", "text"),
    [
        (0.5, False, "0.5"),
        (0.012345, False, "0.0123"),
        (0.012, False, "0.012"),
        (1.0, False, "1"),
        (1234.5, False, "1230"),
        (0.00001234, False, "1.23e-05"),
        (123456.0, False, "1.23e+05"),
        (0.0, False, "0"),
        (-0.25, False, "-0.25"),
        (0.96667, True, "96.7%"),
        (1.0, True, "100.0%"),
        (NAN, False, "–"),
    ],
)
def test_short_number(value: float, percent: bool, text: str) -> None:
    assert gridplots.short_number(value, percent=percent) == text


def test_log_ticks_are_round_values_inside_the_range() -> None:
    assert gridplots._log_ticks(0.012, 0.4) == [0.02, 0.05, 0.1, 0.2]
    assert gridplots._log_ticks(0.03, 0.9) == [0.05, 0.1, 0.2, 0.5]
    # eight decades: 1, 2, 5 or 1, 3 per decade or every decade would be more than 7 ticks: every other one
    assert gridplots._log_ticks(1e-6, 10.0) == [1e-6, 1e-4, 0.01, 1.0]


# ---------------------------------------------------------------------------------------------- heatmap


def test_heatmap_writes_each_cell_s_mean_and_its_diverged_seeds(tmp_path: Path, saved: list[Any]) -> None:
    fig = draw_heatmap(tmp_path, saved)
    (ax,) = panels_of(fig)
    texts = cell_texts(ax)
    assert texts[(0, 0)] == "0.4"
    assert texts[(0, 1)] == "0.25"
    assert texts[(1, 2)] == "0.025"
    assert texts[(2, 1)] == "0.012"
    # 2 of 5 seeds diverged: the other 3 average 0.005, lower than any cell where every seed survived, so
    # the cell is hatched with its count, never coloured as the best-looking cell
    assert texts[(2, 3)] == "2/5 div."
    assert texts[(1, 4)] == "5/5 div."
    assert texts[(2, 4)] == "5/5 div."
    assert len(texts) == 15
    # a hatched patch on exactly the cells where a seed diverged
    hatched = {(round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in by_gid(fig, "diverged")}
    assert hatched == {(1, 4), (2, 3), (2, 4)}
    assert all(p.get_hatch() for p in by_gid(fig, "diverged"))
    assert not by_gid(fig, "not-run")


def test_heatmap_axes_name_the_keys_and_the_grid_values(tmp_path: Path, saved: list[Any]) -> None:
    fig = draw_heatmap(tmp_path, saved)
    (ax,) = panels_of(fig)
    assert ax.get_xlabel() == "optimizer.lr (log-spaced)"
    assert ax.get_ylabel() == "optimizer.name"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.001", "0.003", "0.01", "0.03", "0.1"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sgd", "sgdm", "adam"]
    assert ax.yaxis_inverted()  # names read top-down: sgd in the first row
    assert fig.get_suptitle() == "final loss of the grid"
    (bar,) = [a for a in fig.axes if a.get_gid() == "colorbar"]
    # every coloured cell averages all 5 of its seeds (a cell with a diverged seed is hatched)
    assert bar.get_xlabel().startswith("final loss (mean over all 5 seeds of a cell")


def test_a_numeric_y_axis_grows_upwards(tmp_path: Path, saved: list[Any]) -> None:
    scale = Axis("regularizer.scale", ("0.001", "0.01", "0.1"), (0.001, 0.01, 0.1), log=True)
    fig = draw_heatmap(tmp_path, saved, y=scale)
    (ax,) = panels_of(fig)
    assert not ax.yaxis_inverted()
    assert ax.get_ylabel() == "regularizer.scale\n(log-spaced)"


def best_cell(fig: Any) -> tuple[int, int]:
    (box,) = by_gid(fig, "best")
    return round(box.get_y() + box.get_height() / 2), round(box.get_x() + box.get_width() / 2)


def notes_of(fig: Any) -> list[str]:
    (legend,) = by_gid(fig, "notes")
    return [t.get_text() for t in legend.get_texts()]


def test_the_best_cell_of_a_loss_is_the_lowest_where_no_seed_diverged(
    tmp_path: Path, saved: list[Any]
) -> None:
    fig = draw_heatmap(tmp_path, saved)
    assert best_cell(fig) == (2, 1)  # adam at 0.003: 0.012; adam at 0.03 (0.005) lost 2 seeds
    notes = notes_of(fig)
    assert notes[0] == (
        "best cell (among cells where no seed diverged): optimizer.name = adam, optimizer.lr = 0.003: 0.012"
    )
    assert any(n.startswith("hatched grey: n/m div.: n of the cell's m seeds diverged") for n in notes)


def test_the_best_cell_of_an_accuracy_is_the_highest(tmp_path: Path, saved: list[Any]) -> None:
    accuracy = np.array(
        [[0.6, 0.7, 0.9, 0.95, 0.97], [0.8, 0.9, 0.96, 0.98, NAN], [0.97, 0.99, 0.98, 1.0, NAN]]
    )
    fig = draw_heatmap(
        tmp_path,
        saved,
        metric_label="final accuracy",
        higher_is_better=True,
        panels=[Panel("", accuracy, DIVERGED, RUNS)],
    )
    assert best_cell(fig) == (2, 1)  # 0.99; the 1.0 at (2, 3) lost 2 of its seeds
    texts = cell_texts(panels_of(fig)[0])
    assert texts[(2, 1)] == "99.0%"
    assert texts[(0, 0)] == "60.0%"
    assert texts[(2, 3)] == "2/5 div."
    assert notes_of(fig)[0].endswith("optimizer.name = adam, optimizer.lr = 0.003: 99.0%")


def test_without_a_clean_cell_no_cell_is_the_best(tmp_path: Path, saved: list[Any]) -> None:
    # every cell lost a seed: none is coloured or framed as the best, each says how many it lost
    lost = np.maximum(DIVERGED, 1)
    fig = draw_heatmap(tmp_path, saved, panels=[Panel("", LOSS, lost, RUNS)])
    assert not by_gid(fig, "best")
    assert set(cell_texts(panels_of(fig)[0]).values()) == {"1/5 div.", "2/5 div.", "5/5 div."}
    assert len(by_gid(fig, "diverged")) == 15
    assert notes_of(fig)[-1] == "no cell has a value to colour"


def test_better_is_the_same_colour_for_a_loss_and_an_accuracy(tmp_path: Path, saved: list[Any]) -> None:
    from matplotlib import colormaps

    yellow = colormaps["viridis"](1.0)
    dark = colormaps["viridis"](0.0)
    mean = np.array([[0.1, 0.2, 0.3]])
    x = Axis("optimizer.lr", ("0.1", "0.2", "0.3"), (0.1, 0.2, 0.3))
    runs = np.array([[5, 5, 5]])
    for higher_is_better, best, worst in ((False, 0.1, 0.3), (True, 0.3, 0.1)):
        label = "final accuracy" if higher_is_better else "final loss"
        fig = draw_heatmap(
            tmp_path,
            saved,
            x=x,
            y=None,
            panels=[Panel("", mean, runs * 0, runs)],
            metric_label=label,
            higher_is_better=higher_is_better,
        )
        (image,) = panels_of(fig)[0].get_images()
        assert np.allclose(image.to_rgba(best), yellow)
        assert np.allclose(image.to_rgba(worst), dark)
        (bar,) = [a for a in fig.axes if a.get_gid() == "colorbar"]
        left, right = bar.get_xlim()
        assert (left > right) == (not higher_is_better)  # the better end of the bar is on the right
        words = {t.get_text(): t.get_position()[0] for t in bar.texts}
        assert words["worse"] < words["better"]


def test_cell_words_are_white_on_dark_cells_and_black_on_light_ones(tmp_path: Path, saved: list[Any]) -> None:
    from matplotlib.colors import to_rgba

    mean = np.array([[0.1, 0.2, 0.3]])
    runs = np.array([[5, 5, 5]])
    fig = draw_heatmap(
        tmp_path, saved, x=Axis("k", ("a", "b", "c")), y=None, panels=[Panel("", mean, runs * 0, runs)]
    )
    colours = {round(t.get_position()[0]): to_rgba(t.get_color()) for t in panels_of(fig)[0].texts}
    assert colours[0] == to_rgba("black")  # 0.1: the best loss, yellow
    assert colours[2] == to_rgba("white")  # 0.3: the worst, dark purple


@pytest.mark.parametrize(
    ("values", "higher_is_better", "log"),
    [
        ([0.01, 0.05, 0.5], False, True),  # a loss over a factor of 50
        ([0.01, 0.05, 0.15], False, False),  # a factor of 15
        ([-0.1, 0.05, 0.5], False, False),  # not all positive
        ([0.01, 0.05, 0.5], True, False),  # an accuracy-like metric: linear
    ],
)
def test_the_colour_scale_is_log_for_losses_spanning_decades(
    tmp_path: Path, saved: list[Any], values: list[float], higher_is_better: bool, log: bool
) -> None:
    from matplotlib.colors import LogNorm

    runs = np.array([[3, 3, 3]])
    fig = draw_heatmap(
        tmp_path,
        saved,
        x=Axis("k", ("a", "b", "c")),
        y=None,
        higher_is_better=higher_is_better,
        panels=[Panel("", np.array([values]), runs * 0, runs)],
    )
    (image,) = panels_of(fig)[0].get_images()
    assert isinstance(image.norm, LogNorm) == log
    (bar,) = [a for a in fig.axes if a.get_gid() == "colorbar"]
    assert ("log colour scale" in bar.get_xlabel()) == log


def test_panels_share_one_colour_scale_and_are_titled(tmp_path: Path, saved: list[Any]) -> None:
    panels = [
        Panel("regularizer.scale = 0", LOSS, DIVERGED, RUNS),
        Panel("regularizer.scale = 0.001", LOSS * 2, DIVERGED, RUNS),
        Panel("regularizer.scale = 0.01", LOSS * 0.5, DIVERGED, RUNS),
    ]
    fig = draw_heatmap(tmp_path, saved, panels=panels)
    axes = panels_of(fig)
    assert [ax.get_title() for ax in axes] == [p.title for p in panels]
    norms = {(ax.get_images()[0].norm.vmin, ax.get_images()[0].norm.vmax) for ax in axes}
    # the lowest and highest coloured mean of all three panels: 0.012 × 0.5 (0.005 × 0.5 lost 2 seeds)
    assert norms == {(0.006, 0.8)}
    assert cell_texts(axes[1])[(0, 0)] == "0.8"
    assert best_cell(fig) == (2, 1) and by_gid(axes[2], "best")  # 0.012 × 0.5 = 0.006, in the third panel
    assert notes_of(fig)[0].endswith("optimizer.lr = 0.003, regularizer.scale = 0.01: 0.006")
    assert [ax.get_ylabel() for ax in axes] == ["optimizer.name", "", ""]  # the first panel names the rows
    assert not texts_overlap_or_leave(fig)


def test_four_panels_sit_two_by_two_when_they_do_not_fit_in_a_row(tmp_path: Path, saved: list[Any]) -> None:
    # 8 columns of 0.6 inch or so: two panels fit side by side in the 15 inches allowed, three do not
    wide = Axis("optimizer.lr", tuple(f"{v:.3g}" for v in np.geomspace(1e-4, 1, 8)), None, log=True)
    mean = np.full((3, 8), 0.2)
    panels = [Panel(f"ema.decay = {d}", mean, np.zeros((3, 8), int), np.full((3, 8), 2)) for d in range(4)]
    fig = draw_heatmap(tmp_path, saved, x=wide, panels=panels)
    lefts = sorted({round(ax.get_position().x0, 3) for ax in panels_of(fig)})
    bottoms = sorted({round(ax.get_position().y0, 3) for ax in panels_of(fig)})
    assert len(lefts) == 2 and len(bottoms) == 2
    assert not texts_overlap_or_leave(fig)


def test_untrained_cells_are_empty_and_explained(tmp_path: Path, saved: list[Any]) -> None:
    mean = LOSS.copy()
    runs = RUNS.copy()
    runs[0, 2:] = 0
    mean[0, 2:] = NAN
    fig = draw_heatmap(tmp_path, saved, panels=[Panel("", mean, DIVERGED, runs)])
    empty = {(round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in by_gid(fig, "not-run")}
    assert empty == {(0, 2), (0, 3), (0, 4)}
    texts = cell_texts(panels_of(fig)[0])
    assert [texts[(0, j)] for j in range(5)] == ["0.4", "0.25", "not run", "not run", "not run"]
    assert any(n.startswith("not run:") for n in notes_of(fig))


def test_a_single_cell(tmp_path: Path, saved: list[Any]) -> None:
    fig = draw_heatmap(
        tmp_path,
        saved,
        x=Axis("optimizer.lr", ("0.01",), (0.01,), log=True),
        y=Axis("optimizer.name", ("adam",)),
        panels=[Panel("", np.array([[0.05]]), np.array([[0]]), np.array([[1]]))],
    )
    assert cell_texts(panels_of(fig)[0]) == {(0, 0): "0.05"}
    assert best_cell(fig) == (0, 0)
    (bar,) = [a for a in fig.axes if a.get_gid() == "colorbar"]
    assert bar.get_xlabel() == "final loss (one seed per cell)"
    assert not texts_overlap_or_leave(fig)


def test_everything_diverged(tmp_path: Path, saved: list[Any]) -> None:
    nan = np.full((3, 5), NAN)
    panels = [Panel(f"regularizer.scale = {s}", nan, RUNS, RUNS) for s in ("0.1", "1")]
    fig = draw_heatmap(tmp_path, saved, panels=panels)
    assert len(by_gid(fig, "diverged")) == 30
    assert not by_gid(fig, "best")
    assert not [a for a in fig.axes if a.get_gid() == "colorbar"]
    assert set(cell_texts(panels_of(fig)[0]).values()) == {"5/5 div."}
    assert notes_of(fig)[-1] == "no cell has a value to colour"
    assert not texts_overlap_or_leave(fig)


def test_a_single_row_heatmap(tmp_path: Path, saved: list[Any]) -> None:
    fig = draw_heatmap(tmp_path, saved, y=None, panels=[Panel("", LOSS[2], DIVERGED[2], RUNS[2])])
    (ax,) = panels_of(fig)
    assert cell_texts(ax) == {
        (0, 0): "0.02",
        (0, 1): "0.012",
        (0, 2): "0.015",
        (0, 3): "2/5 div.",
        (0, 4): "5/5 div.",
    }
    assert ax.get_ylabel() == ""
    assert not texts_overlap_or_leave(fig)


def test_thirty_values_long_labels_and_one_seed(tmp_path: Path, saved: list[Any]) -> None:
    values = tuple(float(v) for v in np.geomspace(1e-4, 1.0, 30))
    x = Axis("optimizer.lr", tuple(f"{v:.2g}" for v in values), values, log=True)
    long_name = "leaky_relu_with_a_name_far_too_long_for_a_tick_label"
    y = Axis("model.activation", ("relu", long_name, "tanh"))
    mean = np.geomspace(0.01, 3.0, 90).reshape(3, 30)
    diverged = np.zeros((3, 30), int)
    diverged[1, 7] = 1
    mean[1, 7] = NAN
    fig = draw_heatmap(
        tmp_path,
        saved,
        x=x,
        y=y,
        panels=[Panel("", mean, diverged, np.ones((3, 30), int))],
        title="a long title " * 12,
    )
    (ax,) = panels_of(fig)
    assert all(t.get_rotation() == 90 for t in ax.get_xticklabels())
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert shown[0] == "relu" and shown[1].endswith("…") and long_name.startswith(shown[1][:-1])
    assert cell_texts(ax)[(1, 7)] == "1/1 div."
    assert len(cell_texts(ax)) == 90
    assert not texts_overlap_or_leave(fig)


def test_a_panel_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"mean has shape \(2, 5\)"):
        gridplots.heatmap(
            tmp_path / "h.png",
            title="t",
            metric_label="loss",
            higher_is_better=False,
            x=LR,
            y=OPT,
            panels=[Panel("", LOSS[:2], DIVERGED, RUNS)],
        )
    assert not list(tmp_path.iterdir())


def test_the_demo_heatmap_has_no_overlapping_text(tmp_path: Path, saved: list[Any]) -> None:
    assert not texts_overlap_or_leave(draw_heatmap(tmp_path, saved))


# ---------------------------------------------------------------------------------------------- sensitivity


def test_sensitivity_draws_one_line_per_entry_with_a_gap_where_all_diverged(
    tmp_path: Path, saved: list[Any]
) -> None:
    fig = draw_sensitivity(tmp_path, saved)
    ax = main_axes(fig)
    for k in range(3):
        (line,) = by_gid(fig, f"line-{k}")
        assert list(line.get_xdata()) == list(LRS)
        expected = [v if d < 5 else NAN for v, d in zip(LOSS[k], DIVERGED[k], strict=True)]
        np.testing.assert_array_equal(line.get_ydata(), expected)
        assert line.get_marker() not in (None, "", "None")
    assert len(ax.collections) == 3  # one band per line
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "optimizer.lr (log scale)"
    assert ax.get_ylabel() == "final loss (log scale)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.001", "0.003", "0.01", "0.03", "0.1"]


def test_sensitivity_legend_is_titled_with_the_key(tmp_path: Path, saved: list[Any]) -> None:
    fig = draw_sensitivity(tmp_path, saved)
    (legend,) = by_gid(fig, "lines")
    assert legend.get_title().get_text() == "optimizer.name"
    assert [t.get_text() for t in legend.get_texts()] == ["sgd", "sgdm", "adam"]
    notes = notes_of(fig)
    assert notes[0] == "band: min to max over the seeds that did not diverge"
    assert any("n/m: n of its m seeds" in n for n in notes)
    assert any(n.startswith("no point on a line") for n in notes)
    assert not texts_overlap_or_leave(fig)


def test_sensitivity_marks_where_seeds_diverged(tmp_path: Path, saved: list[Any]) -> None:
    fig = draw_sensitivity(tmp_path, saved)
    assert not by_gid(fig, "diverged-0")  # sgd never diverged
    (sgdm,) = by_gid(fig, "diverged-1")
    (adam,) = by_gid(fig, "diverged-2")
    assert list(sgdm.get_xdata()) == [0.1]
    assert list(adam.get_xdata()) == [0.03, 0.1]
    # each line in its optimizer's own colour, as in every picture
    assert sgdm.get_marker() == "x" and sgdm.get_color() == plots.OPTIMIZER_COLORS["sgdm"]
    assert adam.get_color() == plots.OPTIMIZER_COLORS["adam"]
    (strip,) = [ax for ax in fig.axes if ax.get_gid() == "diverged-strip"]
    assert sorted(t.get_text() for t in strip.texts) == ["2/5", "5/5", "5/5"]


@pytest.mark.parametrize(
    ("higher_is_better", "expected"),
    [
        # lowest: sgd 0.03 at 0.1, sgdm 0.02 at 0.03, adam 0.012 at 0.003 (its 0.005 at 0.03 lost 2 seeds)
        (False, [0.1, 0.03, 0.003]),
        # highest: sgd 0.4, sgdm 0.15, adam 0.02, each at 0.001
        (True, [0.001, 0.001, 0.001]),
    ],
)
def test_sensitivity_marks_each_line_s_best_point(
    tmp_path: Path, saved: list[Any], higher_is_better: bool, expected: list[float]
) -> None:
    fig = draw_sensitivity(tmp_path, saved, higher_is_better=higher_is_better)
    assert [by_gid(fig, f"best-{k}")[0].get_xdata()[0] for k in range(3)] == expected
    assert [by_gid(fig, f"best-{k}")[0].get_marker() for k in range(3)] == ["*"] * 3


def test_sensitivity_of_an_accuracy_on_a_linear_axis(tmp_path: Path, saved: list[Any]) -> None:
    x = Axis("regularizer.scale", ("0", "0.01", "0.02"), (0.0, 0.01, 0.02))
    lines = [line_of(0, [0.9, 0.95, 0.93], [0, 0, 0])]
    fig = draw_sensitivity(
        tmp_path,
        saved,
        x=x,
        lines=lines,
        metric_label="test accuracy",
        higher_is_better=True,
        log_y=False,
        line_key="",
    )
    ax = main_axes(fig)
    assert ax.get_xscale() == "linear" and ax.get_yscale() == "linear"
    assert ax.get_xlabel() == "regularizer.scale"
    assert by_gid(fig, "best-0")[0].get_xdata()[0] == 0.01
    assert ax.yaxis.get_major_formatter()(0.95, 0) == "95%"
    (legend,) = by_gid(fig, "lines")
    assert legend.get_title().get_text() == ""


def test_a_single_unnamed_line_has_no_legend_of_lines(tmp_path: Path, saved: list[Any]) -> None:
    line = Line("", LOSS[0], LOSS[0] * 0.9, LOSS[0] * 1.1, DIVERGED[0], RUNS[0])
    fig = draw_sensitivity(tmp_path, saved, lines=[line], line_key="")
    assert not by_gid(fig, "lines")
    assert not [ax for ax in fig.axes if ax.get_gid() == "diverged-strip"]
    assert not texts_overlap_or_leave(fig)


def test_one_seed_nan_bounds_and_one_value(tmp_path: Path, saved: list[Any]) -> None:
    one = Line("adam", np.array([0.2]), np.array([0.2]), np.array([0.2]), np.array([0]), np.array([1]))
    fig = draw_sensitivity(tmp_path, saved, x=Axis("optimizer.lr", ("0.01",), (0.01,), log=True), lines=[one])
    (line,) = by_gid(fig, "line-0")
    assert list(line.get_ydata()) == [0.2]
    assert by_gid(fig, "best-0")[0].get_xdata()[0] == 0.01
    assert not any(n.startswith("band") for n in notes_of(fig))  # one seed: min = max, no band to explain
    lo, hi = main_axes(fig).get_xlim()
    assert lo < 0.01 < hi
    bounds = Line(
        "adam", LOSS[2], np.array([NAN, 0.01, NAN, 0.004, NAN]), LOSS[2] * 1.1, DIVERGED[2], RUNS[2]
    )
    draw_sensitivity(tmp_path, saved, lines=[bounds], name="nan_bounds.png")


def test_everything_diverged_in_the_sensitivity(tmp_path: Path, saved: list[Any]) -> None:
    nan = np.full(5, NAN)
    lines = [Line(name, nan, nan, nan, np.full(5, 5), np.full(5, 5)) for name in ("sgd", "adam")]
    fig = draw_sensitivity(tmp_path, saved, lines=lines)
    ax = main_axes(fig)
    assert ax.get_yscale() == "linear"  # nothing positive to put on a log axis
    assert not by_gid(fig, "best-0") and not by_gid(fig, "best-1")
    (legend,) = by_gid(fig, "lines")
    assert [t.get_text() for t in legend.get_texts()] == [
        "sgd (all seeds diverged)",
        "adam (all seeds diverged)",
    ]
    assert len(by_gid(fig, "diverged-0")[0].get_xdata()) == 5
    assert not texts_overlap_or_leave(fig)


def test_fourteen_lines_over_thirty_values(tmp_path: Path, saved: list[Any]) -> None:
    values = tuple(float(v) for v in np.geomspace(1e-4, 1.0, 30))
    x = Axis("optimizer.lr", tuple(f"{v:.2g}" for v in values), values, log=True)
    lines = []
    for k in range(14):
        mean = np.geomspace(0.01, 1.0, 30) * (k + 1)
        diverged = np.zeros(30, int)
        diverged[k * 2] = 1
        lines.append(
            Line(
                f"entry number {k} with a longish name",
                mean,
                mean * 0.8,
                mean * 1.2,
                diverged,
                np.full(30, 3),
            )
        )
    fig = draw_sensitivity(tmp_path, saved, x=x, lines=lines, title="fourteen entries " * 6)
    colours = [by_gid(fig, f"line-{k}")[0].get_color() for k in range(14)]
    assert len({str(c) for c in colours}) == 14
    ax = main_axes(fig)
    shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert shown[0] == "0.0001" and set(shown) <= set(x.labels)
    assert all(t.get_rotation() == 90 for t in ax.get_xticklabels())
    assert not texts_overlap_or_leave(fig)


def test_a_key_without_numbers_is_drawn_in_grid_order(tmp_path: Path, saved: list[Any]) -> None:
    x = Axis("model.init", ("normal", "he", "xavier"))
    lines = [line_of(0, [0.3, 0.1, 0.2], [0, 0, 0])]
    fig = draw_sensitivity(tmp_path, saved, x=x, lines=lines, log_y=False)
    ax = main_axes(fig)
    assert ax.get_xscale() == "linear"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["normal", "he", "xavier"]
    assert list(by_gid(fig, "line-0")[0].get_xdata()) == [0.0, 1.0, 2.0]
    assert by_gid(fig, "best-0")[0].get_xdata()[0] == 1.0


def test_a_line_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mean has 3 values, x has 5"):
        gridplots.sensitivity(
            tmp_path / "s.png",
            title="t",
            metric_label="loss",
            higher_is_better=False,
            x=LR,
            lines=[line_of(0, [0.1, 0.2, 0.3], [0, 0, 0])],
            log_y=True,
        )
    assert not list(tmp_path.iterdir())


def test_every_figure_writes_a_png_and_no_temporary_file(tmp_path: Path) -> None:
    gridplots.heatmap(
        tmp_path / "h.png",
        title="t",
        metric_label="final loss",
        higher_is_better=False,
        x=LR,
        y=OPT,
        panels=[Panel("", LOSS, DIVERGED, RUNS)],
    )
    gridplots.sensitivity(
        tmp_path / "s.png",
        title="t",
        metric_label="final loss",
        higher_is_better=False,
        x=LR,
        lines=LINES,
        log_y=True,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.png", "s.png"]
    for name in ("h.png", "s.png"):
        assert_sensible_png(tmp_path / name)


def test_sensitivity_draws_a_loss_from_1e_minus_16_to_1e307(tmp_path: Path, saved: list[Any]) -> None:
    # issue 18.2: a run that blew up to 1e307 beside one at 7.7e-16 overflowed the log axis's ticks
    x = Axis("optimizer.lr", ("0.2", "0.267"), (0.2, 0.266896349831), log=False)
    line = line_of(0, [7.7e-16, 1e307], [0, 0], runs=1, spread=0.0)
    fig = draw_sensitivity(tmp_path, saved, x=x, lines=[line], line_key="")
    low, high = main_axes(fig).get_ylim()
    assert 0 < low <= 7.7e-16 and 1e100 < high < float("inf")
    fig = draw_sensitivity(tmp_path, saved, name="linear.png", x=x, lines=[line], line_key="", log_y=False)
    assert np.isfinite(main_axes(fig).get_ylim()).all()


def test_neighbouring_cells_that_differ_read_differently(tmp_path: Path, saved: list[Any]) -> None:
    # five rates whose losses agree to three digits: "0.125" five times would hide the best cell
    close = np.array([[0.12512, 0.12547, 0.12481, 0.12534, 0.12499]])
    fig = draw_heatmap(
        tmp_path, saved, y=None, panels=[Panel("", close, np.zeros((1, 5), int), np.full((1, 5), 5))]
    )
    texts = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("0.1")]
    assert len(texts) == 5 and len(set(texts)) == 5, texts
    notes = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(n.startswith("best cell") and n.endswith(": 0.1248") for n in notes), notes
    assert gridplots.telling_digits(np.array([0.5, 0.25, 0.125])) == 3  # no more digits than it takes
    assert gridplots.telling_digits(np.array([0.9661, 0.9664]), percent=True) == 4


def test_lines_on_the_same_values_both_show_and_bands_do_not_mix(tmp_path: Path, saved: list[Any]) -> None:
    same = [0.4, 0.2, 0.13, 0.125, 0.126]
    lines = [line_of(0, same, [0] * 5), line_of(1, same, [0] * 5)]
    fig = draw_sensitivity(tmp_path, saved, lines=lines)
    (sgd,) = by_gid(fig, "line-0")
    (sgdm,) = by_gid(fig, "line-1")
    # the one below is wider, and the one on top dashed: both can be seen on the same values
    assert sgd.get_linewidth() > sgdm.get_linewidth() + 1 and sgdm.get_linestyle() != "-"
    for k in (0, 1):
        (band,) = by_gid(fig, f"band-{k}")
        assert not band.get_facecolor()[:, 3].any()  # an outline: no colour mixed from two fills


def test_the_best_value_can_be_read_off_a_log_axis(tmp_path: Path, saved: list[Any]) -> None:
    lines = [line_of(0, [0.45, 0.2, 0.13, 0.1241, 0.126], [0] * 5)]
    fig = draw_sensitivity(tmp_path, saved, lines=lines)
    ax = by_gid(fig, "sensitivity")[0]
    fig.canvas.draw()
    low, high = ax.get_ylim()
    labels = [t for t in ax.get_yticks() if low <= t <= high]
    assert min(abs(np.log10(t / 0.1241)) for t in labels) < 0.06 * np.log10(high / low)
    assert len(labels) >= 3
