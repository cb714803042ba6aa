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

from nnopt_cli import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every figure plots.save writes (still written to disk)."""
    figures: list[Any] = []
    original = plots.save

    def spy(fig: Any, path: Path) -> None:
        figures.append(fig)
        original(fig, path)

    monkeypatch.setattr(plots, "save", spy)
    return figures


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.5, 2.5, (120, 2))
    y = ((x**2).sum(axis=1) < 2).astype(float)[:, None]
    return x, y


def circle_score(radius2: float = 2.0) -> np.ndarray:
    xx, yy, _ = plots.decision_grid()
    return 1.0 / (1.0 + np.exp(3.0 * (xx**2 + yy**2 - radius2)))


def epochs_curves(n: int = 50) -> tuple[list[plots.Curve], list[plots.Curve]]:
    e = np.arange(1, n + 1, dtype=float)
    loss = [plots.Curve(e, 0.1 + np.exp(-e / 10), "loss", color="C0")]
    accuracy = [plots.Curve(e, 0.9 - 0.4 * np.exp(-e / 10), "accuracy", color="C2")]
    return loss, accuracy


def draw_every_figure(folder: Path) -> list[Path]:
    x, y = data()
    loss, accuracy = epochs_curves()
    k = np.arange(100)
    rates = [plots.Curve(k, 0.1 * 0.9 ** (k / 10), "exponential")]
    b = plots.Boundary(circle_score(), "net: accuracy 95%", ema_score=circle_score(2.2))
    plots.training_curves(folder / "loss.png", title="t", loss=loss, accuracy=accuracy, note="diverged")
    plots.lr_curves(folder / "lr.png", rates, title="t")
    plots.lr_curves(folder / "lr_log.png", rates, title="t", log=True)
    plots.boundary(folder / "boundary.png", x, y, b, title="t", score_label="network output ŷ")
    plots.boundary_grid(folder / "grid.png", x, y, [b] * 5, title="t", score_label="network output ŷ")
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
            "grid.png",
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
        "import sys; from pathlib import Path; import numpy as np; from nnopt_cli import plots\n"
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
    x, y = data()
    b = plots.Boundary(circle_score(), "net", ema_score=circle_score(2.5))
    plots.boundary(tmp_path / "b.png", x, y, b, title="t", score_label="network output ŷ")
    fig = saved[0]
    ax, cbar_ax = fig.axes
    (image,) = ax.get_images()
    assert image.get_array().shape == (plots.GRID_POINTS, plots.GRID_POINTS)
    assert image.norm.vmin == 0.0 and image.norm.vmax == 1.0
    left, right, bottom, top = image.get_extent()
    assert left < -plots.GRID_LIMIT and right > plots.GRID_LIMIT and bottom < -plots.GRID_LIMIT
    assert ax.get_xlim() == (-plots.GRID_LIMIT, plots.GRID_LIMIT)
    levels = [list(c.levels) for c in ax.collections if hasattr(c, "levels")]
    assert levels == [[0.5], [0.5]]  # the raw and the EMA boundary
    assert cbar_ax.get_ylabel() == "network output ŷ"


def test_boundary_legend_hides_no_point(tmp_path: Path, saved: list[Any]) -> None:
    x, y = data()
    b = plots.Boundary(circle_score(), "net")
    plots.boundary(tmp_path / "b.png", x, y, b, title="t", score_label="network output ŷ")
    plots.boundary_grid(tmp_path / "g3.png", x, y, [b] * 3, title="t", score_label="network output ŷ")
    plots.boundary_grid(tmp_path / "g5.png", x, y, [b] * 5, title="t", score_label="network output ŷ")
    for fig in saved:
        renderer = fig.canvas.get_renderer()
        legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
        assert len(legends) == 1
        box = legends[0].get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_images():  # an axes that shows data
                assert not box.overlaps(ax.get_window_extent(renderer))


def test_warm_up_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plots.warm_up()
    assert list(tmp_path.iterdir()) == []
