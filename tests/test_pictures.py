"""Every picture nnopt draws, at the edges a student reaches: checked on the figure objects (figure_checks).

Each case runs the real command once (few epochs, small data) and keeps every figure it saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from figure_checks import problems

from nnopt_cli.cli import cli
from nnopt_cli.figures import plots, report

GROWING = ("--set", "schedule.type=exponential", "--set", "schedule.decay_steps=100")
GROWING += ("--set", "schedule.decay_rate=1.5")
EIGHT = ("sgd", "sgdm", "momentum", "adagrad", "rmsprop", "adam", "adamw", "nadam")


def three_classes(folder: Path) -> Path:
    """150 points on 2 inputs, 3 classes, with a test split."""
    rng = np.random.default_rng(0)
    centers = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    labels = np.repeat(np.arange(3), 50)
    x = centers[labels] + rng.normal(size=(150, 2))
    rows = "\n".join(
        f"{a:.3f},{b:.3f},{['setosa', 'versicolor', 'virginica'][k]}"
        for (a, b), k in zip(x, labels, strict=True)
    )
    csv = folder / "three.csv"
    csv.write_text("x1,x2,species\n" + rows + "\n")
    return csv


def cases(tmp: Path) -> dict[str, tuple[str, ...]]:
    csv = three_classes(tmp)
    return {
        "one epoch": ("train", "configs/sgd.yaml", "--epochs", "1"),
        "diverged at epoch 1": ("train", "configs/sgd.yaml", "--lr", "50", "--epochs", "5"),
        "diverged late": ("train", "configs/sgd.yaml", *GROWING),
        "3 classes on 2 inputs": (
            "train", "configs/adam.yaml", "--set", f"data.path={csv}", "--set", "data.permute_seed=0",
            "--set", "data.test_size=0.2", "--set", "model.output=softmax", "--epochs", "30",
        ),
        "8 compare entries": ("compare", *EIGHT, "--epochs", "20"),
        "sweep of one key": ("sweep", "configs/sgd.yaml", "--grid", "optimizer.lr=0.003,0.01,0.03",
                             "--set", "train.epochs=20"),
        "sweep of three keys": (
            "sweep", "configs/sgd.yaml", "--grid", "optimizer.name=sgd,adam",
            "--grid", "optimizer.lr=0.01,0.1", "--grid", "data.batch_size=16,32", "--set", "train.epochs=20",
        ),
        "sweep of a non-numeric key": ("sweep", "configs/sgd.yaml", "--grid", "optimizer.name=sgd,sgdm,adam",
                                       "--set", "train.epochs=20"),
    }  # fmt: skip


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """For each case, the figures it saved by file name (and its output under "output")."""
    tmp = tmp_path_factory.mktemp("pictures")
    out: dict[str, dict[str, Any]] = {}
    with pytest.MonkeyPatch.context() as mp:
        figures: dict[str, Any] = {}
        original = plots.save

        def spy(fig: Any, path: Path) -> None:
            figures[Path(path).name] = fig
            original(fig, path)

        mp.setattr(plots, "save", spy)
        mp.setattr(report.os, "cpu_count", lambda: 1)  # drawn here, where the spy sees them
        for name, args in cases(tmp).items():
            figures.clear()
            result = CliRunner().invoke(cli, [*args, "--runs-root", str(tmp / "runs"), "--quiet"])
            assert result.exit_code in (0, 3), (name, result.output)
            out[name] = {**figures, "output": result.output}
    return out


CASES = (
    "one epoch", "diverged at epoch 1", "diverged late", "3 classes on 2 inputs", "8 compare entries",
    "sweep of one key", "sweep of three keys", "sweep of a non-numeric key",
)  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_every_picture_of_the_edge_cases_is_readable(drawn: dict[str, dict[str, Any]], case: str) -> None:
    figures = {k: v for k, v in drawn[case].items() if k.endswith(".png")}
    assert figures
    found = {name: problems(fig) for name, fig in figures.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_a_three_class_run_on_two_inputs_gets_its_confusion_matrices(
    drawn: dict[str, dict[str, Any]],
) -> None:
    assert "confusion.png" in drawn["3 classes on 2 inputs"]
    assert (
        "confusion.png" not in drawn["one epoch"]
    )  # two classes, two inputs, no test rows: the boundary says it


def test_a_sweep_without_a_numeric_key_says_why_it_draws_no_sensitivity(
    drawn: dict[str, dict[str, Any]],
) -> None:
    case = drawn["sweep of a non-numeric key"]
    assert "sensitivity.png" not in case
    assert "no sensitivity.png: no grid key is numeric" in case["output"]
    assert "no sensitivity.png" not in drawn["sweep of one key"]["output"]


def colors_of(fig: Any) -> dict[str, Any]:
    """Each legend entry's colour in a compare.png."""
    (legend,) = fig.legends
    return {
        t.get_text().split(" ")[0]: h.get_color()
        for h, t in zip(legend.legend_handles, legend.get_texts(), strict=True)
    }


def test_an_optimizer_has_one_colour_in_every_picture(drawn: dict[str, dict[str, Any]]) -> None:
    from matplotlib.colors import to_hex

    eight = colors_of(drawn["8 compare entries"]["compare.png"])
    assert {name: to_hex(c) for name, c in eight.items()} == {n: plots.OPTIMIZER_COLORS[n] for n in EIGHT}
    lines = drawn["sweep of a non-numeric key"]["curves.png"]
    for handle, text in zip(lines.legends[0].legend_handles, lines.legends[0].get_texts(), strict=True):
        name = text.get_text().split(" ")[0].split("=")[-1]
        if name in plots.OPTIMIZER_COLORS:
            assert to_hex(handle.get_color()) == plots.OPTIMIZER_COLORS[name]


def test_names_keep_their_colours_whatever_their_order() -> None:
    assert plots.name_colors(["adam", "sgd"]) == [
        plots.OPTIMIZER_COLORS["adam"],
        plots.OPTIMIZER_COLORS["sgd"],
    ]
    two = plots.name_colors(["sgd", "sgd lr=0.1", "iris-net"])
    assert two[0] == plots.OPTIMIZER_COLORS["sgd"] and len(set(map(str, two))) == 3


def loss_axes(fig: Any) -> Any:
    return next(ax for ax in fig.axes if ax.get_title() == "Loss")


def test_a_late_blow_up_leaves_the_history_before_it_in_view(drawn: dict[str, dict[str, Any]]) -> None:
    fig = drawn["diverged late"]["loss.png"]
    ax = loss_axes(fig)
    low, high = ax.get_ylim()
    assert high < 1e3  # the loss before the blow-up (0.05 to 3) spans the axis, not 1e200
    (loss,) = [ln for ln in ax.lines if ln.get_label() == "loss (mse)"]
    y = np.asarray(loss.get_ydata(), dtype=float)
    assert low <= np.nanmin(y) and np.log10(high / low) < 5
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("diverged at epoch 134") for t in texts)


def test_a_run_that_diverged_at_epoch_1_spans_epochs_0_to_1(drawn: dict[str, dict[str, Any]]) -> None:
    for ax in drawn["diverged at epoch 1"]["loss.png"].axes:
        low, high = ax.get_xlim()
        assert -0.1 < low <= 0 and 1 <= high < 1.1


def test_the_compare_title_claims_only_what_the_entries_share(
    tmp_path: Path, saved: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report.os, "cpu_count", lambda: 1)
    runner = CliRunner()
    root = str(tmp_path / "runs")
    same = runner.invoke(cli, ["compare", "sgd", "adam", "--epochs", "2", "--runs-root", root, "--quiet"])
    assert same.exit_code == 0, same.output
    assert saved[-1]._suptitle.get_text().startswith("Same network, same start, same batches: 2 entries")
    seeds = ["compare", "sgd", "adam", "--epochs", "2", "--seeds", "2", "--runs-root", root, "--quiet"]
    assert runner.invoke(cli, seeds).exit_code == 0
    compare = [f for f in saved if f._suptitle.get_text().endswith("min to max")][-1]
    assert compare._suptitle.get_text().startswith("Same network, same start (for each seed), same batches")
    short, longer = tmp_path / "short.yaml", tmp_path / "longer.yaml"
    short.write_text("optimizer: {name: sgd}\ntrain: {epochs: 2}\n")
    longer.write_text("optimizer: {name: adam}\ntrain: {epochs: 4}\n")
    lengths = ["compare", str(short), str(longer), "--runs-root", root, "--quiet"]
    assert runner.invoke(cli, lengths).exit_code == 0
    title = [f for f in saved if "entries" in f._suptitle.get_text()][-1]._suptitle.get_text()
    assert "different lengths" in title


def test_constant_rates_are_said_in_words_and_their_panel_gives_its_room(
    drawn: dict[str, dict[str, Any]],
) -> None:
    fig = drawn["8 compare entries"]["compare.png"]
    assert [ax.get_title() for ax in fig.axes][:1] == ["Loss"] and len(fig.axes) == 2
    assert "every entry's learning rate is constant (0.005) through the run" in [
        t.get_text() for t in fig.texts
    ]


def test_accuracies_that_pile_up_at_the_top_are_zoomed_to_where_they_differ(
    tmp_path: Path, saved: list[Any]
) -> None:
    e = np.arange(0, 200, dtype=float)
    climb = [1 - 0.7 * np.exp(-e / 5) - d for d in (0.0, 0.01, 0.02, 0.03)]
    acc = [plots.Curve(e, y, f"e{i}") for i, y in enumerate(climb)]
    loss = [plots.Curve(e, 1 - y + 0.01, f"e{i}") for i, y in enumerate(climb)]
    rates = [plots.Curve(np.arange(10), np.linspace(0.1, 0.01, 10), f"e{i}") for i in range(4)]
    plots.comparison(tmp_path / "c.png", loss=loss, accuracy=acc, rates=rates, title="t")
    ax_acc = saved[-1].axes[1]
    low, high = ax_acc.get_ylim()
    assert low > 0.9 and high <= 1.005 and "zoomed" in ax_acc.get_title()
    assert len(saved[-1].axes) == 3  # the rates change: their panel stays


def test_a_long_run_whose_loss_falls_early_gets_a_log_epoch_axis() -> None:
    from types import SimpleNamespace

    e = np.arange(1, 2001, dtype=float)
    early = SimpleNamespace(loss=list(0.05 + 3 * np.exp(-e / 10)))
    steady = SimpleNamespace(loss=list(3 * np.exp(-e / 500)))
    short = SimpleNamespace(loss=list(0.05 + 3 * np.exp(-e[:800] / 10)))
    assert report.early_change(early) and not report.early_change(steady) and not report.early_change(short)


def test_plot_log_x_and_a_resume_show_on_loss_png(
    tmp_path: Path, saved: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report.os, "cpu_count", lambda: 1)
    root = tmp_path / "runs"
    runner = CliRunner()
    args = ["train", "configs/sgd.yaml", "--epochs", "3", "--runs-root", str(root), "--quiet"]
    assert runner.invoke(cli, [*args, "--set", "plot.log_x=true"]).exit_code == 0
    fig = next(f for f in saved if any(ax.get_title() == "Loss" for ax in f.axes))
    assert all(ax.get_xscale() == "symlog" for ax in fig.axes)
    (first,) = [p for p in root.iterdir()]
    saved.clear()
    resumed = ["train", "--resume", str(first), "--epochs", "5", "--runs-root", str(root), "--quiet"]
    result = runner.invoke(cli, resumed)
    assert result.exit_code == 0, result.output
    fig = next(f for f in saved if any(ax.get_title() == "Loss" for ax in f.axes))
    for ax in fig.axes:
        assert "resumed after epoch 3" in [t.get_text() for t in ax.texts]
        assert ax.get_xscale() == "symlog"  # the resumed run keeps its config's plot.log_x
    assert not problems(fig)


def test_runs_of_one_optimizer_take_distinct_colours_and_mixed_runs_their_optimizers() -> None:
    # adam:lr=0.001 beside adam:lr=0.01: matplotlib's first two, not adam's brown and a spare
    assert plots.run_colors(["adam", "adam"]) == plots.entry_colors(2)
    assert plots.run_colors(["adam"]) == [plots.OPTIMIZER_COLORS["adam"]]
    assert plots.run_colors(["sgd", "adam", "sgd"])[:2] == [
        plots.OPTIMIZER_COLORS["sgd"],
        plots.OPTIMIZER_COLORS["adam"],
    ]
