"""Per-layer statistics (core/layerstats.py, layers.csv, layers.png): against a torch float64 replay
(tests/data/make_torch_layers.py), against values derived by hand, and through the run folder."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from figure_checks import problems

from nnopt_cli import config as config_mod
from nnopt_cli.cli import cli
from nnopt_cli.core import layerstats, loop, mlp
from nnopt_cli.experiments import experiment
from nnopt_cli.figures import layersplot, plots
from nnopt_cli.store import runs

ROOT = Path(__file__).resolve().parent.parent
TORCH = json.loads((Path(__file__).parent / "data" / "torch_layers.json").read_text())
FRACTIONS = (layerstats.DEAD, layerstats.SATURATED)


def trained(path: str, *sets: str) -> loop.History:
    c = config_mod.load(ROOT / "configs" / path, list(sets))
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    return h


@pytest.mark.parametrize("case", TORCH["cases"], ids=[c["id"] for c in TORCH["cases"]])
def test_the_statistics_equal_a_torch_replay(case: dict[str, Any]) -> None:
    """Norms to 1e-10 relative (a few ulps per operation, grown by the epochs of training both replay); the
    fractions, counts of units, exactly."""
    h = trained(case["config"], *case["sets"], f"train.epochs={case['epochs']}")
    assert h.status == "completed"
    ours = np.stack(h.layer_stats)
    theirs = np.array(
        [[[np.nan if v is None else v for v in row] for row in epoch] for epoch in case["layers"]]
    )
    assert ours.shape == theirs.shape
    for j in (layerstats.WEIGHT_NORM, layerstats.GRAD_NORM, layerstats.UPDATE_RATIO):
        np.testing.assert_allclose(ours[..., j], theirs[..., j], rtol=1e-10, atol=0)
    for j in FRACTIONS:
        assert np.array_equal(ours[..., j], theirs[..., j], equal_nan=True), layerstats.COLUMNS[j]


def test_the_torch_cases_show_dead_and_saturated_units() -> None:
    """The replay covers what the fractions are for: units that die, units that saturate, in a deeper net."""
    found = {c["id"]: np.array([[[np.nan if v is None else v for v in r] for r in e] for e in c["layers"]])
             for c in TORCH["cases"]}  # fmt: skip
    assert np.nanmax(found["dot-relu-dying"][..., layerstats.DEAD]) > 0.5
    assert found["dot-relu-dying"].shape[1] == 3
    assert np.nanmax(found["iris-hidden-adam"][..., layerstats.DEAD]) > 0
    assert 0 < np.nanmin(found["dot-sigmoid-saturating"][..., layerstats.SATURATED]) < 1


# --- by hand -------------------------------------------------------------------------------------------


def tiny(tmp_path: Path, *sets: str) -> loop.History:
    """A 1-2-1 relu network on two points, x = 1 (class 1) and x = −1 (class 0), from known weights:

        w1 = [1, −1], b1 = [0, −5], w2 = [1, 1]ᵀ, b2 = 0.5, one full-batch sgd update per epoch.

    z1(x=1) = [1, −6], z1(x=−1) = [−1, −4]: outputs 1.5 and 0.5, both 0.5 above their targets, so
    d mse/d out = 2·0.5/2 = 0.5 on each point; unit 2 gets no gradient and is dead (z < 0 on both).
    """
    (tmp_path / "two.csv").write_text("x,y\n1.0,1\n-1.0,0\n")
    weights = {
        "w1": np.array([[1.0, -1.0]]),
        "b1": np.array([0.0, -5.0]),
        "w2": np.array([[1.0], [1.0]]),
        "b2": np.array([0.5]),
    }
    np.savez(tmp_path / "start.npz", **weights)  # type: ignore[arg-type]
    base = [
        f"data.path={tmp_path / 'two.csv'}",
        "data.batch_size=2",
        "model.hidden=2",
        f"model.init_from={tmp_path / 'start.npz'}",
        "optimizer.name=sgd",
        "optimizer.lr=0.1",
        "train.epochs=1",
    ]
    c = config_mod.from_dict({}, [*base, *sets], name="tiny")
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    return h


def test_a_tiny_network_by_hand(tmp_path: Path) -> None:
    """g_w2 = Σ 0.5·a1 = [0.5, 0]; g_w1 = Σ 0.5·w2·[z1 > 0]·x = [0.5, 0]; with l2 scale 0.1 each gets 0.1·w:
    g_w1 = [0.6, −0.1], g_w2 = [0.6, 0.1], both of norm √0.37. After w ← w − 0.1·g: w1 = [0.94, −0.99],
    b1 = [−0.05, −5]: unit 1 is still alive (z = 0.89 at x = 1), unit 2 still dead."""
    h = tiny(tmp_path, "regularizer.type=l2", "regularizer.scale=0.1")
    (stats,) = h.layer_stats
    w1_after, w2_after = np.hypot(0.94, 0.99), np.hypot(0.94, 0.99)
    expected_grad = math.sqrt(0.37)
    # a few operations of round-off each; the update ratio's difference w(end) − w(start) = 0.06 loses the
    # digits of 1 it was taken from (relative 1e-16 / 0.06)
    np.testing.assert_allclose(stats[:, layerstats.WEIGHT_NORM], [w1_after, w2_after], rtol=1e-15)
    np.testing.assert_allclose(stats[:, layerstats.GRAD_NORM], [expected_grad] * 2, rtol=1e-15)
    np.testing.assert_allclose(
        stats[:, layerstats.UPDATE_RATIO], [0.1 * expected_grad / math.sqrt(2)] * 2, rtol=1e-14
    )
    assert stats[0, layerstats.DEAD] == 0.5 and math.isnan(stats[1, layerstats.DEAD])
    assert np.isnan(stats[:, layerstats.SATURATED]).all()


def test_the_gradient_norm_is_taken_before_clipping(tmp_path: Path) -> None:
    """clip_norm 0.01 shrinks every update, not the gradient recorded: the same grad_norm as unclipped."""
    free = tiny(tmp_path, "regularizer.type=l2", "regularizer.scale=0.1")
    clipped = tiny(tmp_path, "regularizer.type=l2", "regularizer.scale=0.1", "optimizer.clip_norm=0.01")
    assert np.array_equal(free.layer_stats[0][:, 1], clipped.layer_stats[0][:, 1])
    assert (clipped.layer_stats[0][:, 2] < free.layer_stats[0][:, 2] / 10).all()


def recorder(activation: str, points: int) -> tuple[layerstats.Recorder, np.ndarray]:
    net = mlp.MLP((1, 3, 1), activation=activation)
    theta = np.ones((2, net.n_params))  # two rows: w1 (3), b1 (3), w2 (3), b2 (1)
    return layerstats.Recorder(net, theta, per_epoch=3, points=points), theta


def ended(stats: layerstats.Recorder) -> np.ndarray:
    """The statistics (P, L, 5) of the epoch that ends now."""
    ready = stats.end_epoch([True, True]) + stats.finish()
    ((out, measured),) = ready
    assert measured == [True, True]
    return out


def test_the_mean_gradient_norm_is_the_mean_of_the_updates_norms() -> None:
    stats, theta = recorder("relu", points=4)
    g = np.zeros_like(theta)
    for w1_entry in (3.0, 0.0, 6.0):  # ‖g_w1‖ of the three updates: 3, 0, 6; their mean 3
        g[:] = 0.0
        g[:, 0] = w1_entry  # one entry of w1
        g[:, 3] = 100.0  # a bias: never counted
        g[:, 6:9] = 2.0  # w2: norm √12
        stats.keep(g)
    z = np.array([[[-1.0, -2.0, -0.0, -3.0], [1.0, -1.0, -1.0, -1.0], [0.0, 0.0, 0.0, 0.0]]] * 2)
    stats.watch(0, z, True)
    theta[:, 0] = 2.0  # w1 = [2, 1, 1]: Δ = [1, 0, 0] against ‖w1(start)‖ = √3
    out = ended(stats)
    np.testing.assert_allclose(out[:, 0, layerstats.GRAD_NORM], 3.0, rtol=1e-16)
    np.testing.assert_allclose(out[:, 1, layerstats.GRAD_NORM], math.sqrt(12.0), rtol=2e-16)
    np.testing.assert_allclose(out[:, 0, layerstats.WEIGHT_NORM], math.sqrt(6.0), rtol=2e-16)
    np.testing.assert_allclose(out[:, 0, layerstats.UPDATE_RATIO], 1 / math.sqrt(3.0), rtol=2e-16)
    assert out[0, 1, layerstats.UPDATE_RATIO] == 0.0
    # units 1 and 3 output 0 everywhere (z ≤ 0, −0.0 and 0 included); unit 2 is alive on one row
    assert out[0, 0, layerstats.DEAD] == 2 / 3
    # the next epoch starts from the parameters this one ended with, and counts again
    stats.keep(np.zeros_like(theta))
    stats.watch(0, np.ones((2, 3, 4)), True)
    again = ended(stats)
    assert again[0, 0, layerstats.UPDATE_RATIO] == 0.0 and again[0, 0, layerstats.DEAD] == 0.0


def test_saturation_counts_rows_beyond_4_on_95_percent() -> None:
    """20 rows: a unit is saturated with 19 of them beyond |z| = 4 (95%), not with 18, and 4 itself is not
    beyond. Chunks of rows add up."""
    stats, _ = recorder("tanh", points=20)
    z = np.zeros((2, 3, 20))
    z[:, 0, :19] = 4.5  # 19 rows beyond: saturated
    z[:, 1, :18] = -7.0  # 18: not
    z[:, 2, :] = 4.0  # on the edge: not beyond
    z[:, 2, :10] = -5.0
    stats.keep(np.zeros((2, 10)))
    stats.watch(0, z[..., :12], True)
    stats.watch(0, z[..., 12:], False)
    out = ended(stats)
    assert out[0, 0, layerstats.SATURATED] == 1 / 3 and out[1, 0, layerstats.SATURATED] == 1 / 3
    assert np.isnan(out[:, :, layerstats.DEAD]).all() and np.isnan(out[:, 1, layerstats.SATURATED]).all()


def test_rows_of_a_population_equal_each_run_alone() -> None:
    """The statistics of a run do not depend on the rows it trains beside (nnopt compare, sweeps)."""
    path = ROOT / "configs" / "l2.yaml"
    configs = [
        config_mod.load(path, ["train.epochs=4", f"optimizer.name={name}", "data.batch_size=7"])
        for name in ("sgd", "adam", "rmsprop")
    ]
    (group,) = experiment.prepare(configs)
    together = loop.run(configs, group.prepared)
    for c, h in zip(configs, together, strict=True):
        (alone,) = loop.run([c], experiment.prepare([c])[0].prepared)
        assert np.array_equal(np.stack(h.layer_stats), np.stack(alone.layer_stats), equal_nan=True)


@pytest.mark.parametrize(
    ("kept_bytes", "kept_most"),
    [(8 * 45 * 11 * 3, 0), (8 * 45 * 4, 8 * 45 * 11), (8 * 45 * 4, 0), (8 * 45 * 2, 0)],
)
def test_how_the_gradients_are_buffered_changes_no_bit(
    monkeypatch: pytest.MonkeyPatch, kept_bytes: int, kept_most: int
) -> None:
    """Buffers of three whole epochs, of one, and of less than one (4 rows, 2 rows: epochs cut across
    buffers)."""
    sets = ("train.epochs=7", "optimizer.name=adam", "optimizer.lr=0.05", "data.batch_size=30")
    whole = trained("l2.yaml", *sets)
    monkeypatch.setattr(layerstats, "KEPT_BYTES", kept_bytes)
    monkeypatch.setattr(layerstats, "KEPT_MOST", kept_most)
    cut = trained("l2.yaml", *sets)
    assert len(cut.layer_stats) == 7
    assert np.array_equal(np.stack(whole.layer_stats), np.stack(cut.layer_stats), equal_nan=True)


def test_an_interrupted_run_keeps_the_statistics_of_its_whole_epochs() -> None:
    c = config_mod.load(ROOT / "configs" / "l2.yaml", ["train.epochs=9"])
    calls = iter(range(10**6))
    (h,) = loop.run([c], experiment.prepare([c])[0].prepared, should_stop=lambda: next(calls) == 45)
    assert h.status == "interrupted" and h.epochs_done == 4
    (whole,) = loop.run([c.replace(epochs=4)], experiment.prepare([c.replace(epochs=4)])[0].prepared)
    assert np.array_equal(np.stack(h.layer_stats), np.stack(whole.layer_stats), equal_nan=True)


def test_a_diverged_run_keeps_a_row_per_epoch_of_metrics_csv() -> None:
    h = trained("sgd.yaml", "optimizer.lr=50", "train.epochs=5")
    assert h.status == "diverged"
    assert len(h.layer_stats) == h.epochs_done


# --- the run folder ------------------------------------------------------------------------------------


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def only_folder(root: Path) -> Path:
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    return folder


def test_layers_csv_has_a_row_per_epoch_and_layer_and_reads_back(tmp_path: Path) -> None:
    result = invoke(
        "train", str(ROOT / "configs" / "l2.yaml"), "--epochs", "3", "--runs-root", str(tmp_path), "-q"
    )
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path)
    lines = (folder / "layers.csv").read_text().splitlines()
    assert lines[0] == "epoch,layer,weight_norm,grad_norm,update_ratio,dead_fraction,saturated_fraction"
    assert [line.split(",")[:2] for line in lines[1:]] == [
        [str(epoch), str(layer)] for epoch in (1, 2, 3) for layer in (1, 2)
    ]
    for line in lines[1:]:
        cells = line.split(",")
        assert cells[6] == ""  # relu: no saturation
        assert (cells[5] == "") == (cells[1] == "2")  # the output layer has no dead units
    h = runs.read_history(folder)
    c = config_mod.load(folder / "config.yaml")
    (again,) = loop.run([c], experiment.prepare([c])[0].prepared)
    assert np.array_equal(np.stack(h.layer_stats), np.stack(again.layer_stats), equal_nan=True)


def test_a_folder_with_a_broken_layers_csv_is_refused(tmp_path: Path) -> None:
    invoke("train", str(ROOT / "configs" / "sgd.yaml"), "--epochs", "2", "--runs-root", str(tmp_path), "-q")
    folder = only_folder(tmp_path)
    path = folder / "layers.csv"
    good = path.read_text()
    path.write_text(good.replace("\n2,1,", "\n2,3,", 1))
    with pytest.raises(
        runs.FolderError, match=r"layers.csv, line 4: epoch 2, layer 3; expected epoch 2, layer 1"
    ):
        runs.read_history(folder)
    path.write_text("\n".join(good.splitlines()[:3]) + "\n")
    with pytest.raises(runs.FolderError, match=r"layers.csv: 2 rows; metrics.csv's 2 epochs .* make 4"):
        runs.read_history(folder)


def test_the_quadratic_toy_writes_no_layers(tmp_path: Path) -> None:
    result = invoke("train", str(ROOT / "configs" / "quadratic.yaml"), "--runs-root", str(tmp_path), "-q")
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path)
    assert not (folder / "layers.csv").exists() and not (folder / "layers.png").exists()


def test_a_run_resumed_from_a_folder_without_layers_csv_writes_none(tmp_path: Path) -> None:
    """Its earlier epochs' statistics are gone: a layers.csv of the later epochs alone would mislead."""
    invoke(
        "train", str(ROOT / "configs" / "sgd.yaml"), "--epochs", "2", "--runs-root", str(tmp_path / "a"), "-q"
    )
    part = only_folder(tmp_path / "a")
    (part / "layers.csv").unlink()
    result = invoke("train", "--resume", str(part), "--epochs", "4", "--runs-root", str(tmp_path / "b"), "-q")
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path / "b")
    assert (folder / "metrics.csv").exists()
    assert not (folder / "layers.csv").exists() and not (folder / "layers.png").exists()


# --- layers.png ----------------------------------------------------------------------------------------


def drawn(monkeypatch: pytest.MonkeyPatch, h: loop.History, tmp_path: Path) -> Any:
    figures: list[Any] = []
    original = plots.save

    def spy(fig: Any, path: Path) -> None:
        figures.append(fig)
        original(fig, path)

    monkeypatch.setattr(plots, "save", spy)
    layersplot.draw_layers(tmp_path, h, "a network, a run")
    (fig,) = figures
    return fig


@pytest.mark.parametrize(
    ("sets", "fraction"),
    [
        (("train.epochs=30", "optimizer.lr=0.1", "model.hidden=[8, 8]"), "Dead ReLU units"),
        (("train.epochs=30", "model.activation=sigmoid", "optimizer.lr=0.5"), "Saturated units"),
        (("train.epochs=3", "model.activation=leaky_relu"), None),
        (("train.epochs=1",), "Dead ReLU units"),
        (("train.epochs=5", "optimizer.lr=50"), "Dead ReLU units"),  # diverges
        (("train.epochs=3", "model.hidden=[3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]"), "Dead ReLU units"),
    ],
)
def test_layers_png_is_readable_and_says_what_each_panel_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sets: tuple[str, ...], fraction: str | None
) -> None:
    h = trained("sgd.yaml", *sets)
    fig = drawn(monkeypatch, h, tmp_path)
    assert problems(fig) == []
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert [t.split("\n")[0].split(" ")[0] for t in titles[:3]] == ["Weight", "Gradient", "Update"]
    assert all("\n" in t for t in titles)  # each title says what to look for
    assert (len(titles) == 4) == (fraction is not None)
    if fraction is not None:
        assert titles[3].startswith(fraction)
        ax = [a for a in fig.axes if a.axison][3]
        assert ax.get_ylim() == (-0.03, 1.03) and ax.get_yscale() == "linear"
    depth = len(h.config.hidden) + 1
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()] if h.status != "diverged" else []
    if legend:
        assert legend[0].startswith("layer 1: 2 → ") and legend[-1].endswith("(output)")
        assert len(legend) <= layersplot.MAX_LABELLED + 1
        assert len(legend) == depth or depth > layersplot.MAX_LABELLED
