"""plots.py: every figure writes a whole PNG, and what a reader needs to see is on it.

Figures are checked through their artists (markers, limits, legend and label positions), not their pixels.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnopt_cli.figures import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the empty IEND chunk that closes every PNG


def png_size(path: Path) -> tuple[int, int]:
    """The width and height of a whole PNG: its signature and header first, its end chunk last."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    assert data.endswith(PNG_END), f"{path.name} is cut short"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


GRID = np.linspace(-3.0, 3.0, 61)
CENTERS = np.array([[-1.5, -1.0], [1.5, -1.0], [0.0, 1.6]])  # where each of three classes is surest


def points(n: int = 120, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2.5, 2.5, (n, 2))


def classes_of(x: np.ndarray, k: int) -> np.ndarray:
    """Two classes: inside the circle x1² + x2² < 2 is class 1. Three: the nearest of CENTERS."""
    if k == 2:
        return ((x**2).sum(axis=1) < 2).astype(int)
    return np.argmin(((x[:, None, :] - CENTERS[None, :k]) ** 2).sum(axis=2), axis=1)


def scores(xs: np.ndarray, ys: np.ndarray, k: int, spread: float = 2.0) -> np.ndarray:
    """(1, G, G) for two classes: P(class 1), 0.5 on the circle of radius² `spread`; (K, G, G) for K:
    each class's probability, a softmax of minus the distance² to its centre. Row i is ys[i]."""
    xx, yy = np.meshgrid(xs, ys)
    if k == 2:
        return (1.0 / (1.0 + np.exp(3.0 * (xx**2 + yy**2 - spread))))[None]
    d2 = (xx[None] - CENTERS[:k, 0, None, None]) ** 2 + (yy[None] - CENTERS[:k, 1, None, None]) ** 2
    e = np.exp(-spread * d2)
    return e / e.sum(axis=0)


def boundary_of(
    k: int = 2,
    *,
    ema: bool = False,
    test: bool = False,
    diverged: bool = False,
    xs: np.ndarray = GRID,
    ys: np.ndarray = GRID,
    label: str = "net",
) -> plots.Boundary:
    """A boundary over the grid (xs, ys) with 120 training points and, with `test`, 30 test points."""
    score = scores(xs, ys, k)
    if diverged:  # a diverged run's weights are not finite, and nor is its score
        score = np.full_like(score, np.nan)
    x = points()
    x_test = points(30, seed=1) if test else None
    return plots.Boundary(
        score=score,
        label=label,
        ema_score=scores(xs, ys, k, spread=2.5) if ema else None,
        xs=xs,
        ys=ys,
        train_x=x,
        train_labels=classes_of(x, k),
        test_x=x_test,
        test_labels=None if x_test is None else classes_of(x_test, k),
        classes=("outside", "inside") if k == 2 else tuple(f"class {c}" for c in "abcdefghij"[:k]),
        axes=("x1", "x2") if k == 2 else ("petal length", "petal width"),
    )


def contour_levels(ax: Any) -> list[list[float]]:
    return [list(c.levels) for c in ax.collections if hasattr(c, "levels")]


def scatters(ax: Any) -> list[Any]:
    return [c for c in ax.collections if not hasattr(c, "levels")]


def epochs_curves(n: int = 50) -> tuple[list[plots.Curve], list[plots.Curve]]:
    e = np.arange(1, n + 1, dtype=float)
    loss = [plots.Curve(e, 0.1 + np.exp(-e / 10), "loss", color="C0")]
    accuracy = [plots.Curve(e, 0.9 - 0.4 * np.exp(-e / 10), "accuracy", color="C2")]
    return loss, accuracy


def draw_every_figure(folder: Path) -> list[Path]:
    loss, accuracy = epochs_curves()
    k = np.arange(100)
    rates = [plots.Curve(k, 0.1 * 0.9 ** (k / 10), "exponential")]
    b = boundary_of(ema=True, label="net: accuracy 95%")
    three = boundary_of(3, test=True, label="net: accuracy 90%")
    lost = boundary_of(diverged=True, label="net: diverged")
    label = "network output ŷ"
    plots.training_curves(folder / "loss.png", title="t", loss=loss, accuracy=accuracy, note="diverged")
    plots.lr_curves(folder / "lr.png", rates, title="t")
    plots.lr_curves(folder / "lr_log.png", rates, title="t", log=True)
    plots.boundary(folder / "boundary.png", b, title="t", score_label=label)
    plots.boundary(folder / "boundary3.png", three, title="t", score_label="P(class)")
    plots.boundary(folder / "diverged.png", lost, title="t", score_label=label)
    plots.boundary_grid(folder / "grid.png", [b, lost, b, b, b], title="t", score_label=label)
    plots.boundary_grid(folder / "grid3.png", [three, three], title="t", score_label="P(class)")
    counts = np.array([[9, 1, 0], [2, 7, 1], [0, 0, 10]])
    plots.confusion(
        folder / "confusion.png", [("train", counts), ("test", counts // 2)], ["a", "b", "c"], title="t"
    )
    plots.comparison(folder / "compare.png", loss=loss * 2, accuracy=accuracy * 2, rates=rates * 2, title="t")
    steps = np.arange(10)
    w = -1 + 2 * 0.8 ** (steps + 1)
    plots.quadratic(folder / "quadratic.png", [("sgd", steps, w, (w + 1) ** 2)], title="t", w0=1.0)
    return [
        folder / name
        for name in (
            "loss.png",
            "lr.png",
            "lr_log.png",
            "boundary.png",
            "boundary3.png",
            "diverged.png",
            "grid.png",
            "grid3.png",
            "confusion.png",
            "compare.png",
            "quadratic.png",
        )
    ]


def test_every_figure_function_writes_a_whole_png_and_no_temporary_file(tmp_path: Path) -> None:
    paths = draw_every_figure(tmp_path)
    for path in paths:
        width, height = png_size(path)
        assert width > 300 and height > 300, path.name
    assert sorted(tmp_path.iterdir()) == sorted(paths)


def test_drawing_needs_no_pyplot(tmp_path: Path) -> None:
    # a fresh interpreter: another test may have imported pyplot into this one
    code = (
        "import sys; from pathlib import Path; import numpy as np; from nnopt_cli.figures import plots\n"
        "k = np.arange(5)\n"
        f"plots.lr_curves(Path({str(tmp_path / 'a.png')!r}), [plots.Curve(k, k * 0.1, 'x')], title='t')\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert png_size(tmp_path / "a.png")[0] > 0


def test_a_one_point_curve_is_drawn_as_a_marker(tmp_path: Path, saved: list[Any]) -> None:
    one = np.array([0.0])
    plots.lr_curves(tmp_path / "lr.png", [plots.Curve(one, np.array([0.5]), "one step")], title="t")
    e = np.array([1.0])
    plots.training_curves(
        tmp_path / "loss.png",
        title="t",
        loss=[plots.Curve(e, np.array([0.3]), "loss")],
        accuracy=[plots.Curve(e, np.array([0.6]), "accuracy")],
    )
    lr_fig, loss_fig = saved
    (line,) = lr_fig.axes[0].get_lines()
    assert line.get_marker() == "o"
    assert lr_fig.axes[0].get_xlim()[0] < 0 < lr_fig.axes[0].get_xlim()[1]
    for ax in loss_fig.axes:
        assert [line.get_marker() for line in ax.get_lines()] == ["o"]


def test_longer_curves_have_no_markers(tmp_path: Path, saved: list[Any]) -> None:
    k = np.arange(3)
    plots.lr_curves(tmp_path / "lr.png", [plots.Curve(k, np.full(3, 0.1), "three steps")], title="t")
    assert saved[0].axes[0].get_lines()[0].get_marker() in (None, "None", "")


def test_negative_rates_are_on_the_lr_axis(tmp_path: Path, saved: list[Any]) -> None:
    k = np.arange(100)
    rates = plots.Curve(k, 0.1 * np.cos(k / 10), "cosine through zero")
    plots.lr_curves(tmp_path / "lr.png", [rates], title="t")
    plots.comparison(
        tmp_path / "c.png",
        loss=[plots.Curve(k + 1.0, np.exp(-k / 50.0), "a")],
        accuracy=[plots.Curve(k + 1.0, np.full(100, 0.9), "a")],
        rates=[rates],
        title="t",
    )
    bottom, top = saved[0].axes[0].get_ylim()
    assert bottom < -0.1 and top > 0.1
    bottom, top = saved[1].axes[2].get_ylim()
    assert bottom < -0.1 and top > 0.1


def test_positive_rates_start_the_axis_at_zero(tmp_path: Path, saved: list[Any]) -> None:
    k = np.arange(100)
    plots.lr_curves(tmp_path / "lr.png", [plots.Curve(k, np.full(100, 0.005), "constant")], title="t")
    bottom, top = saved[0].axes[0].get_ylim()
    assert bottom == 0.0 and 0.005 < top < 0.006


@pytest.mark.parametrize("low", [0.55, 3e-5, 0.02])
def test_y_tick_labels_and_label_stay_inside_the_figure(tmp_path: Path, saved: list[Any], low: float) -> None:
    # a loss inside one decade gets labels at 6, 7, 8 × its decade: the widest labels a log axis has
    e = np.arange(1, 801, dtype=float)
    loss = [plots.Curve(e, low * (1 + 0.5 * np.exp(-e / 100)), "loss")]
    accuracy = [plots.Curve(e, np.full(800, 0.9), "accuracy")]
    plots.training_curves(tmp_path / "loss.png", title="t", loss=loss, accuracy=accuracy)
    fig = saved[0]
    renderer = fig.canvas.get_renderer()
    ax_loss, ax_acc = fig.axes
    assert any(t.get_text() for t in ax_loss.yaxis.get_minorticklabels() + ax_loss.yaxis.get_ticklabels())
    assert ax_loss.yaxis.get_tightbbox(renderer).x0 >= 0
    # the accuracy axis's labels sit in the gap, clear of the loss axes
    assert ax_acc.yaxis.get_tightbbox(renderer).x0 > ax_loss.bbox.x1


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0.06, "0.06"),
        (0.1, "0.1"),
        (1.0, "1"),
        (20.0, "20"),
        (0.001, "0.001"),
        (3e-5, "3×10⁻⁵"),
        (1e6, "10⁶"),
    ],
)
def test_log_tick_labels_are_plain_text(value: float, label: str) -> None:
    assert plots._log_label(value) == label


def test_boundary_shades_the_score_as_an_image_under_the_contour(tmp_path: Path, saved: list[Any]) -> None:
    # a grid that is not [-3, 3]², not centred and not square: the figure follows the grid it is given
    xs, ys = np.linspace(-2.0, 4.0, 61), np.linspace(-1.5, 1.5, 31)
    b = boundary_of(ema=True, xs=xs, ys=ys)
    assert b.score.shape == (1, 31, 61) and b.binary
    plots.boundary(tmp_path / "b.png", b, title="t", score_label="network output ŷ")
    fig = saved[0]
    ax, cbar_ax = fig.axes
    (image,) = ax.get_images()
    assert image.get_array().shape == (31, 61)
    assert image.norm.vmin == 0.0 and image.norm.vmax == 1.0
    # each grid point is the centre of its pixel: the image reaches half a step beyond the grid on each side
    left, right, bottom, top = image.get_extent()
    assert (left, right) == pytest.approx((-2.0 - 0.05, 4.0 + 0.05))
    assert (bottom, top) == pytest.approx((-1.5 - 0.05, 1.5 + 0.05))
    assert ax.get_xlim() == (-2.0, 4.0) and ax.get_ylim() == (-1.5, 1.5)
    assert contour_levels(ax) == [[0.5], [0.5]]  # the raw and the EMA boundary
    assert cbar_ax.get_ylabel() == "network output ŷ"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")


def test_boundary_draws_every_point_in_its_class_colour(tmp_path: Path, saved: list[Any]) -> None:
    from matplotlib.colors import to_rgba

    b = boundary_of()
    plots.boundary(tmp_path / "b.png", b, title="t", score_label="network output ŷ")
    ax = saved[0].axes[0]
    blue, red = plots.class_colors(2)
    drawn = {to_rgba(blue): 0, to_rgba(red): 0}
    for c in scatters(ax):
        (face,) = {tuple(f) for f in c.get_facecolors()}
        drawn[face] += len(c.get_offsets())
    assert drawn == {to_rgba(blue): int((b.train_labels == 0).sum()), to_rgba(red): int(b.train_labels.sum())}
    assert 0 < drawn[to_rgba(red)] < len(b.train_x)


def test_three_classes_shade_the_predicted_class(tmp_path: Path, saved: list[Any]) -> None:
    from matplotlib.colors import to_rgb

    b = boundary_of(3, ema=True)
    assert not b.binary
    plots.boundary(tmp_path / "b.png", b, title="t", score_label="P(class)")
    fig = saved[0]
    (ax,) = fig.axes  # no colourbar: the shading is a class, not a score
    (image,) = ax.get_images()
    shade = np.asarray(image.get_array())
    assert shade.shape == (len(GRID), len(GRID), 3)
    colors = plots.class_colors(3)
    assert len({to_rgb(c) for c in colors}) == 3
    for center, color in zip(CENTERS, colors, strict=True):
        i, j = np.argmin(np.abs(GRID - center[1])), np.argmin(np.abs(GRID - center[0]))
        faded = 1.0 - shade[i, j]  # white faded towards the class's colour
        towards = 1.0 - np.array(to_rgb(color))
        assert faded @ towards / (np.linalg.norm(faded) * np.linalg.norm(towards)) > 0.999
    # the borders of the regions are margin-0 contours, for the raw weights (black) and the EMA's (dashed)
    levels = contour_levels(ax)
    assert levels and all(level == [0.0] for level in levels)
    assert len(levels) % 2 == 0
    assert sum(len(c.get_offsets()) for c in scatters(ax)) == len(b.train_x)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:3] == ["class a", "class b", "class c"]  # in the classes' order, as the data names them
    assert "shading: the predicted class; paler = less sure" in labels
    assert "decision boundary (where the predicted class changes)" in labels
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("petal length", "petal width")


def test_test_points_are_drawn_ringed_and_white_inside_and_named_in_the_legend(
    tmp_path: Path, saved: list[Any]
) -> None:
    b = boundary_of(3, test=True)
    assert b.test_x is not None and b.test_labels is not None
    plots.boundary(tmp_path / "b.png", b, title="t", score_label="P(class)")
    fig = saved[0]
    ax = fig.axes[0]
    ringed = [c for c in scatters(ax) if str(c.get_gid()).startswith("test-")]
    filled = [c for c in scatters(ax) if str(c.get_gid()).startswith("class-")]
    assert sum(len(c.get_offsets()) for c in ringed) == len(b.test_x)
    assert sum(len(c.get_offsets()) for c in filled) == len(b.train_x)
    # white inside (seen on the pale shading of their own class), ringed in their class's colour
    colors = plots.class_colors(3)
    for c in ringed:
        k = int(c.get_gid().split("-")[1])
        assert np.allclose(c.get_facecolors()[:, :3], 1.0)
        assert np.allclose(c.get_edgecolors()[0][:3], matplotlib_rgb(colors[k]))
    # training points have a dark rim
    assert all(np.allclose(c.get_edgecolors()[:, :3], 0.0) for c in filled if len(c.get_offsets()))
    assert "ringed, white inside: test point" in [t.get_text() for t in fig.legends[0].get_texts()]
    # without test points, no such legend entry
    plots.boundary(tmp_path / "c.png", boundary_of(3), title="t", score_label="P(class)")
    assert "ringed, white inside: test point" not in [t.get_text() for t in saved[1].legends[0].get_texts()]


def matplotlib_rgb(color: Any) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(color)


@pytest.mark.parametrize("k", [2, 3])
def test_a_diverged_panel_draws_its_points_and_no_contour(tmp_path: Path, saved: list[Any], k: int) -> None:
    lost = boundary_of(k, diverged=True, test=True, label="diverged")
    assert np.isnan(lost.score).all()
    plots.boundary(tmp_path / "b.png", lost, title="t", score_label="network output ŷ")
    plots.boundary_grid(tmp_path / "g.png", [boundary_of(k), lost], title="t", score_label="network output ŷ")
    alone, grid = saved
    ax = alone.axes[0]
    # nothing decided: no shading, no colour bar, no boundary, and no legend entry for them
    assert not ax.get_images() and contour_levels(ax) == [] and len(alone.axes) == 1
    labels = [t.get_text() for t in alone.legends[0].get_texts()]
    assert not [t for t in labels if "boundary" in t or "shading" in t]
    assert sum(len(c.get_offsets()) for c in scatters(ax)) == len(lost.train_x) + 30
    good, bad = grid.axes[:2]
    assert contour_levels(good) != [] and contour_levels(bad) == []
    assert bad.get_title() == "diverged" and not bad.get_images() and good.get_images()
    for path in (tmp_path / "b.png", tmp_path / "g.png"):
        assert png_size(path)[0] > 300


LAYOUTS = [
    pytest.param("one", 2, 0, id="boundary"),
    pytest.param("one", 3, 0, id="boundary-3-classes"),
    *[pytest.param("grid", k, n, id=f"grid-{k}-classes-{n}") for k in (2, 3) for n in (1, 2, 3, 4, 5, 6)],
]


@pytest.mark.parametrize(("kind", "k", "n"), LAYOUTS)
def test_boundary_legend_hides_no_point_and_nothing_is_cut_off(
    tmp_path: Path, saved: list[Any], kind: str, k: int, n: int
) -> None:
    b = boundary_of(k, test=k > 2, ema=True)  # the largest legends: every entry there is
    label = "network output ŷ" if k == 2 else "P(class)"
    if kind == "one":
        plots.boundary(tmp_path / "b.png", b, title="t", score_label=label)
    else:
        plots.boundary_grid(tmp_path / "g.png", [b] * n, title="t", score_label=label)
    (fig,) = saved
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert len(legends) == 1
    box = legends[0].get_window_extent(renderer)
    data_axes = [ax for ax in fig.axes if ax.get_images()]
    assert len(data_axes) == (1 if kind == "one" else n)
    for ax in data_axes:
        assert not box.overlaps(ax.get_window_extent(renderer))
    # the legend and every axes with its labels (the colourbar's too) lie inside the figure
    inside = [box] + [ax.get_tightbbox(renderer) for ax in fig.axes if ax.axison]
    for bb in inside:
        assert bb.x0 >= 0 and bb.y0 >= 0 and bb.x1 <= fig.bbox.width and bb.y1 <= fig.bbox.height


def test_class_colors() -> None:
    from matplotlib.colors import to_rgb

    assert plots.class_colors(2) == [plots.CLASS_COLORS[0], plots.CLASS_COLORS[1]]
    for k in (3, 10, 12):
        colors = plots.class_colors(k)
        assert len(colors) == k and len({to_rgb(c) for c in colors}) == k


def test_confusion_writes_counts_and_shades_shares(tmp_path: Path, saved: list[Any]) -> None:
    train = np.array([[8, 2, 0], [1, 6, 3], [0, 0, 10]])
    empty = np.zeros((3, 3), dtype=int)
    classes = ["setosa", "versicolor", "virginica"]
    plots.confusion(tmp_path / "c.png", [("train", train), ("test", empty)], classes, title="iris")
    fig = saved[0]
    ax_train, ax_test = fig.axes
    assert ax_train.get_title() == "train: 24 of 30 right (80.0%)"
    assert ax_test.get_title() == "test: 0 of 0 right (no points)"
    (image,) = ax_train.get_images()
    np.testing.assert_allclose(image.get_array(), train / train.sum(axis=1, keepdims=True))
    assert sorted(int(t.get_text()) for t in ax_train.texts) == sorted(train.ravel().tolist())
    assert [t.get_text() for t in ax_train.get_xticklabels()] == classes
    assert [t.get_text() for t in ax_train.get_yticklabels()] == classes
    assert (ax_train.get_xlabel(), ax_train.get_ylabel()) == ("predicted class", "true class")
    width, height = png_size(tmp_path / "c.png")
    assert width > 300 and height > 200
    assert sorted(tmp_path.iterdir()) == [tmp_path / "c.png"]


def test_warm_up_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plots.warm_up()
    assert list(tmp_path.iterdir()) == []


def test_thin_keeps_every_extreme_of_a_long_trace() -> None:
    # a million rates with one negative dip, one spike and a NaN stretch (cosine_restarts past its end)
    k = np.arange(1_000_000)
    y = 0.01 + 0.001 * np.sin(k / 5000.0)
    y[123_457] = -0.0017
    y[654_321] = 0.5
    y[900_000:] = np.nan
    x, thinned = plots.thin(k, y)
    assert len(thinned) <= plots.MAX_DRAWN
    assert np.nanmin(thinned) == -0.0017 and np.nanmax(thinned) == 0.5
    assert x[np.nanargmin(thinned)] == 123_457 and x[np.nanargmax(thinned)] == 654_321
    assert np.all(np.diff(x) >= 0)  # in order (a flat run gives its one point twice)
    assert np.isnan(thinned[x >= 900_000]).all() and np.isnan(thinned).any()  # the gap stays a gap
    short = np.arange(10.0)
    assert np.array_equal(plots.thin(short, short)[1], short)  # a short line is drawn as it is


def test_a_long_trace_is_drawn_from_few_points(tmp_path: Path, saved: list[Any]) -> None:
    k = np.arange(2_000_000)
    rates = np.where(k % 1000 == 0, -0.001, 0.01)
    plots.lr_curves(tmp_path / "lr.png", [plots.Curve(k, rates, "noisy")], title="t")
    (line,) = saved[0].axes[0].get_lines()
    assert len(line.get_ydata()) <= plots.MAX_DRAWN
    assert min(line.get_ydata()) == -0.001
    assert saved[0].axes[0].get_ylim()[0] < -0.001


def test_a_divergence_is_marked_where_it_happened(tmp_path: Path, saved: list[Any]) -> None:
    e = np.arange(0.0, 6.0)
    loss = np.array([1.0, 0.8, 0.9, 5.0, 40.0, np.nan])  # epoch 5 blew up
    plots.training_curves(
        tmp_path / "loss.png",
        title="t",
        loss=[plots.Curve(e, loss, "loss", diverged_at=5.0)],
        accuracy=[plots.Curve(e, np.array([0.4, 0.5, 0.5, 0.5, 0.5, np.nan]), "accuracy", diverged_at=5.0)],
    )
    ax = saved[0].axes[0]
    curve, cross, edge = ax.get_lines()
    assert np.array_equal(curve.get_xdata()[:5], e[:5])  # the losses up to the divergence are drawn
    assert cross.get_marker() == "X" and (cross.get_xdata()[0], cross.get_ydata()[0]) == (4.0, 40.0)
    assert list(edge.get_xdata()) == [5.0, 5.0]
    assert any("diverged at epoch 5" in t.get_text() for t in ax.texts)


def test_accuracy_is_in_percent_on_an_axis_fitted_to_the_data(tmp_path: Path, saved: list[Any]) -> None:
    from matplotlib.ticker import PercentFormatter

    e = np.arange(0.0, 101.0)
    acc = 0.93 + 0.04 * e / 100  # 93% to 97%
    plots.training_curves(
        tmp_path / "loss.png",
        title="t",
        loss=[plots.Curve(e, np.exp(-e / 50), "loss")],
        accuracy=[plots.Curve(e, acc, "accuracy")],
    )
    ax = saved[0].axes[1]
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    low, high = ax.get_ylim()
    assert 0.9 < low < 0.93 and 0.97 < high < 1.0


def test_entries_get_distinct_colours_and_looks() -> None:
    from matplotlib.colors import to_rgba

    for n in (3, 10, 12, 20, 25):
        colors = {to_rgba(c) for c in plots.entry_colors(n)}
        assert len(colors) == n
    looks = [plots.entry_look(i, 12, plots.entry_colors(12)) for i in range(12)]
    assert len({(lk["marker"], lk["mark_offset"]) for lk in looks}) == 12
    assert [lk["width"] for lk in looks] == sorted((lk["width"] for lk in looks), reverse=True)


def test_a_twelve_entry_comparison_keeps_its_title_clear(tmp_path: Path, saved: list[Any]) -> None:
    e = np.arange(0.0, 50.0)
    colors = plots.entry_colors(12)
    curves = [
        plots.Curve(e, np.exp(-e / (10 + i)), f"entry {i}: sgd lr=0.005", **plots.entry_look(i, 12, colors))
        for i in range(12)
    ]
    plots.comparison(tmp_path / "c.png", loss=curves, accuracy=curves, rates=curves, title="Twelve entries")
    fig = saved[0]
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_window_extent(renderer)
    for ax in fig.axes:
        assert not title.overlaps(ax.title.get_window_extent(renderer))
        assert not title.overlaps(ax.get_window_extent(renderer))
    legend = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        assert not legend.overlaps(ax.get_tightbbox(renderer))
    assert legend.y0 >= 0


def test_many_schedules_get_a_legend_outside_the_axes(tmp_path: Path, saved: list[Any]) -> None:
    k = np.arange(200)
    curves = [plots.Curve(k, 0.5 * 0.9 ** (k / (5 + i)), f"schedule {i}") for i in range(6)]
    plots.lr_curves(tmp_path / "lr.png", curves, title="t")
    fig = saved[0]
    renderer = fig.canvas.get_renderer()
    assert fig.axes[0].get_legend() is None
    legend = fig.legends[0].get_window_extent(renderer)
    assert not legend.overlaps(fig.axes[0].get_tightbbox(renderer)) and legend.y0 >= 0


def test_a_curve_can_be_faint(tmp_path: Path, saved: list[Any]) -> None:
    e = np.arange(5.0)
    plots.training_curves(
        tmp_path / "loss.png",
        title="t",
        loss=[plots.Curve(e, e + 1, "loss"), plots.Curve(e, e + 2, "faint", alpha=0.3, zorder=1, width=0.5)],
        accuracy=[plots.Curve(e, e / 10, "accuracy")],
    )
    main, faint = saved[0].axes[0].get_lines()
    assert main.get_alpha() is None and faint.get_alpha() == 0.3
    assert faint.get_zorder() == 1 and faint.get_linewidth() == 0.5


@pytest.mark.parametrize("top", [1e101, 1e271, 1.7e308])
def test_a_loss_near_the_largest_float_still_draws(tmp_path: Path, saved: list[Any], top: float) -> None:
    # matplotlib's own limits and ticks overflow for such spans: the axis stops at plots.LOG_RANGE
    x = np.arange(6.0)
    plots.training_curves(
        tmp_path / "loss.png",
        title="t",
        loss=[plots.Curve(x, np.array([4.0, 1e3, 1e30, 1e90, top, np.nan]), "loss")],
        accuracy=[plots.Curve(x, np.full(6, 0.5), "accuracy")],
    )
    low, high = saved[0].axes[0].get_ylim()
    assert low == 2.0 and high == min(top * 1e3, plots.LOG_RANGE[1])
    png_size(tmp_path / "loss.png")


def _luminance(rgb: Any) -> float:
    """WCAG relative luminance of an sRGB colour."""
    c = np.asarray(rgb[:3], dtype=float)
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def test_points_stand_out_on_the_surest_shading_of_their_own_class(tmp_path: Path, saved: list[Any]) -> None:
    from matplotlib.colors import to_rgb

    plots.boundary(tmp_path / "b.png", boundary_of(), title="t", score_label="P")
    (image,) = saved[0].axes[0].get_images()
    for score, k in ((0.0, 0), (1.0, 1)):
        shade = np.asarray(image.cmap(image.norm(score))[:3])
        alpha = image.get_alpha()
        on_white = alpha * shade + (1 - alpha)
        point = to_rgb(plots.class_colors(2)[k])
        light, dark = sorted((_luminance(on_white), _luminance(point)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 2.5, (score, on_white)
