"""The boundary, animated (plot.animate, --animate): the epochs shown, the snapshots the loop keeps, the
frames equal to boundary.png at those epochs, the GIF's frames and durations, replot byte for byte,
boundaries.gif of a comparison, the memory counted, and the refusals where the key would have no effect;
and a surface run's paths.gif (the path drawn as it goes, from its trajectory)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from nnopt_cli import config
from nnopt_cli.cli import cli
from nnopt_cli.core import loop, surface
from nnopt_cli.experiments import experiment, replot
from nnopt_cli.figures import animation, report, surfaceplot

ROOT = Path(__file__).resolve().parent.parent
L2 = ROOT / "configs" / "l2.yaml"


@pytest.fixture(autouse=True)
def agg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")


def nnopt(root: Path, *args: str, code: int = 0) -> Path | None:
    """Run a command with --runs-root `root`; the one folder it made (None when it made none)."""
    result = CliRunner().invoke(cli, [*args, "--runs-root", str(root), "--quiet"])
    assert result.exit_code == code, result.output
    made = [p for p in root.iterdir() if p.is_dir()] if root.exists() else []
    assert len(made) <= 1
    return made[0] if made else None


def refused(root: Path, *args: str, quiet: bool = True) -> str:
    """The one line of a command refused as bad input (exit 2), which leaves nothing behind."""
    result = CliRunner().invoke(cli, [*args, "--runs-root", str(root), *(["--quiet"] if quiet else [])])
    assert result.exit_code == 2, result.output
    assert not root.exists() or not any(root.iterdir())
    return " ".join(result.output.split())


def gif_frames(path: Path) -> tuple[int, list[int]]:
    """A GIF's frame count and each frame's duration (ms), read back by Pillow."""
    with Image.open(path) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
        return im.n_frames, durations


# --- the epochs shown ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epochs", "first", "expected"),
    [
        (1, 0, [0, 1]),
        (5, 0, [0, 1, 2, 3, 4, 5]),
        (59, 0, list(range(60))),
        (60, 0, list(range(61))),
        # round(i·61/60) for i = 0..60, halves up: i ≤ 29 gives i (61i + 30 < 60(i + 1)), i ≥ 30 gives i + 1
        (61, 0, [*range(30), *range(31, 62)]),
        (120, 0, list(range(0, 121, 2))),
        # 800: (800i + 30) // 60 → 0, 13 (830/60), 27 (1630/60), 40 (2430/60), ..., 787 (47230/60), 800
        (800, 0, None),
        # resumed after 100 epochs of 800: 100 itself, then 107 ((8·800 + 30) // 60 = 6430 // 60), ...
        (800, 100, None),
    ],
)
def test_frame_epochs(epochs: int, first: int, expected: list[int] | None) -> None:
    got = loop.frame_epochs(epochs, first=first)
    if expected is not None:
        assert got == expected
    elif first == 0:
        assert len(got) == 61
        assert got[:4] == [0, 13, 27, 40]
        assert got[-2:] == [787, 800]
        assert sorted(set(got)) == got
        assert {b - a for a, b in zip(got, got[1:], strict=False)} == {13, 14}
    else:
        assert got[:3] == [100, 107, 120]
        assert got[-1] == 800


# --- the snapshots and the frames --------------------------------------------------------------------


def _config(*sets: str) -> config.Config:
    return config.load(L2, ["plot.animate=true", *sets])


def _trained(c: config.Config) -> tuple[loop.History, loop.Prepared]:
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    return h, group.prepared


def test_snapshots_are_the_parameters_after_their_epochs() -> None:
    """Each frame's parameters are those a run of that many epochs ends with (the rate is constant, so a
    shorter run is the same run cut off), epoch 0 the start; nothing changes for the run itself."""
    h, prepared = _trained(_config("train.epochs=7"))
    frames = h.frames
    assert frames is not None and frames.shadow is None
    assert frames.epochs.tolist() == list(range(8))
    assert np.array_equal(frames.theta[0], prepared.starts[0])
    for e in (3, 7):
        shorter, _ = _trained(_config(f"train.epochs={e}"))
        assert np.array_equal(frames.theta[e], prepared.net.from_arrays(shorter.params))
    plain, _ = _trained(config.load(L2, ["train.epochs=7"]))
    assert plain.frames is None
    for key, value in plain.params.items():
        assert np.array_equal(value, h.params[key])
    assert plain.loss == h.loss


def test_ema_snapshots_keep_the_moving_average() -> None:
    h, prepared = _trained(_config("train.epochs=4", "ema.decay=0.9"))
    assert h.frames is not None and h.frames.shadow is not None and h.params_ema is not None
    assert np.array_equal(h.frames.shadow[0], prepared.starts[0])  # the shadow starts at the weights
    assert np.array_equal(h.frames.shadow[-1], prepared.net.from_arrays(h.params_ema))


def test_frames_are_boundary_png_at_their_epochs() -> None:
    """The last frame's scores are boundary.png's, exactly; an earlier frame's are those boundary.png of a
    run of that many epochs shows."""
    h, prepared = _trained(_config("train.epochs=6"))
    view = experiment.run_view(h, prepared)
    assert view.animation is not None and view.score is not None
    assert view.animation.epochs.tolist() == list(range(7))
    assert np.array_equal(view.animation.scores[-1], view.score)
    shorter, _ = _trained(_config("train.epochs=2"))
    assert view.plane is not None
    at_two, _ = experiment.scores(shorter, prepared, view.plane)
    assert np.array_equal(view.animation.scores[2], at_two)


def test_a_diverged_run_ends_on_its_divergence() -> None:
    h, prepared = _trained(_config("train.epochs=30", "optimizer.lr=5.0", "regularizer.type=none"))
    assert h.status == "diverged" and h.frames is not None
    assert h.frames.epochs[-1] == h.diverged_epoch
    view = experiment.run_view(h, prepared)
    assert view.animation is not None
    assert np.isnan(view.animation.scores[-1]).all()  # decides nothing, as boundary.png shows it
    assert report.frame_label(h, int(h.frames.epochs[-1])).endswith(f"diverged at epoch {h.diverged_epoch}")


# --- the GIF -------------------------------------------------------------------------------------------


def test_gif_frames_durations_and_bytes(tmp_path: Path) -> None:
    """One frame per epoch shown, 1/FPS s each and the last held HOLD s; the same run draws the same
    bytes."""
    h, prepared = _trained(_config("train.epochs=12"))
    view = experiment.run_view(h, prepared)
    report.draw_boundary_gif(tmp_path, h, view)
    first = (tmp_path / "boundary.gif").read_bytes()
    count, durations = gif_frames(tmp_path / "boundary.gif")
    assert count == 13
    assert durations == [1000 // animation.FPS] * 12 + [int(animation.HOLD * 1000)]
    report.draw_boundary_gif(tmp_path, h, view)
    assert (tmp_path / "boundary.gif").read_bytes() == first


def test_train_animate_writes_frames_and_gif_and_replot_redraws_them(tmp_path: Path) -> None:
    folder = nnopt(tmp_path / "runs", "train", str(L2), "--epochs", "90", "--animate")
    assert folder is not None
    count, _ = gif_frames(folder / "boundary.gif")
    assert count == 61
    with np.load(folder / "frames.npz") as saved:
        assert sorted(saved.files) == ["epoch", "theta"]
        assert saved["epoch"].tolist() == loop.frame_epochs(90)
    drawn = (folder / "boundary.gif").read_bytes()
    (folder / "boundary.gif").unlink()
    written = replot.redraw(folder, workers=1)
    assert folder / "boundary.gif" in written
    assert (folder / "boundary.gif").read_bytes() == drawn
    replot.redraw(folder, workers=1)
    assert (folder / "boundary.gif").read_bytes() == drawn


def test_no_animation_without_the_option(tmp_path: Path) -> None:
    folder = nnopt(tmp_path / "runs", "train", str(L2), "--epochs", "5")
    assert folder is not None
    assert not (folder / "boundary.gif").exists() and not (folder / "frames.npz").exists()


def test_a_gif_that_fails_is_noted_and_the_data_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no frames today")

    monkeypatch.setattr(animation, "write_gif", broken)
    result = CliRunner().invoke(
        cli, ["train", str(L2), "--epochs", "5", "--animate", "--runs-root", str(tmp_path), "-q"]
    )
    assert result.exit_code == 4, result.output
    (folder,) = tmp_path.iterdir()
    summary = (folder / "summary.json").read_text()
    assert "boundary.gif" in summary and "no frames today" in summary
    assert (folder / "frames.npz").is_file() and (folder / "boundary.png").is_file()


# --- a comparison --------------------------------------------------------------------------------------


def test_compare_draws_boundaries_gif_in_step(tmp_path: Path) -> None:
    folder = nnopt(
        tmp_path / "runs", "compare", "sgd", "adam", "--config", str(L2), "--epochs", "8", "--animate"
    )
    assert folder is not None
    count, durations = gif_frames(folder / "boundaries.gif")
    assert count == 9 and durations[-1] == int(animation.HOLD * 1000)
    for entry in ("sgd", "adam"):
        with np.load(folder / entry / "frames.npz") as saved:
            assert saved["epoch"].tolist() == list(range(9))
    drawn = (folder / "boundaries.gif").read_bytes()
    (folder / "boundaries.gif").unlink()
    replot.redraw(folder, workers=1)
    assert (folder / "boundaries.gif").read_bytes() == drawn


def test_entries_of_different_lengths_step_together() -> None:
    """A frame per epoch any entry shows; each entry shows its latest frame by then."""
    short, prepared = _trained(_config("train.epochs=3"))
    view = experiment.run_view(short, prepared)
    steps = np.array([0, 1, 2, 3, 5, 8])
    panel = report._panel(short, view, steps)
    assert view.animation is not None
    assert [label.split(",")[0] for label in panel.labels] == [
        f"l2: epoch {e} of 3" for e in (0, 1, 2, 3, 3, 3)
    ]
    assert np.array_equal(panel.scores[4], view.animation.scores[3])


# --- refusals and memory --------------------------------------------------------------------------------


def test_refused_where_nothing_is_animated(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    line = refused(root, "train", str(ROOT / "configs" / "quadratic.yaml"), "--animate")
    assert "--animate: plot.animate has no effect while model.type is quadratic" in line
    data = tmp_path / "line.csv"
    data.write_text("x,label\n" + "".join(f"{i / 10},{int(i > 5)}\n" for i in range(12)))
    one = tmp_path / "one.yaml"
    one.write_text(f"data:\n  name: csv\n  path: {data}\n  label: label\n")
    line = refused(root, "train", str(one), "--animate")
    assert "plot.animate (--animate): the data has a single input (x): no boundary.png is drawn" in line
    line = refused(root, "sweep", str(L2), "--grid", "optimizer.lr=0.1,0.01", "--set", "plot.animate=true")
    assert "plot.animate: a sweep draws no run's boundary" in line
    line = refused(root, "lr-find", str(L2), "--set", "plot.animate=true", quiet=False)
    assert "plot.animate: a range test draws no boundary" in line


def test_memory_check_counts_the_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with just enough memory for a run is short of it once the run keeps frames."""
    plain = config.load(L2)
    d = experiment.load_data(plain)
    widths = experiment.layer_widths(plain, d.full)
    need = experiment._network_bytes(plain, widths, d.full.x.shape[0], rows=1)
    monkeypatch.setattr(experiment, "memory_bytes", lambda: 2 * need + 2)
    experiment.network(plain, d.full)
    with pytest.raises(experiment.SetupError, match="more than half of this machine's memory"):
        experiment.network(_config(), d.full)
    # the snapshots alone: a float64 copy of the 45 parameters at each of 61 epochs
    assert loop.frame_bytes(800, 45, ema=False) == 8 * 45 * 61
    assert experiment.row_bytes(_config(), d.full, d.train.size) > experiment.row_bytes(
        plain, d.full, d.train.size
    )


def test_the_readme_shows_the_gallery_command_and_the_help_names_the_option() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gallery", ROOT / "benchmarks" / "gallery.py")
    assert spec is not None and spec.loader is not None
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The boundary, animated", 1)[1].split("\n## ", 1)[0]
    assert f"    nnopt {' '.join(gallery.ANIMATE)}\n" in section
    assert "benchmarks/figures/l2_boundary.gif" in section
    for command in ("train", "compare"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert "--animate" in result.output and "plot.animate" in result.output


def test_a_resumed_run_animates_the_epochs_it_trained(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    first = nnopt(root, "train", str(L2), "--epochs", "4", "--animate")
    assert first is not None
    result = CliRunner().invoke(
        cli, ["train", "--resume", str(first), "--epochs", "8", "--runs-root", str(root), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    (second,) = [p for p in root.iterdir() if p != first]
    with np.load(first / "frames.npz") as before, np.load(second / "frames.npz") as after:
        assert after["epoch"].tolist() == [4, 5, 6, 7, 8]
        assert np.array_equal(after["theta"][0], before["theta"][-1])
    assert gif_frames(second / "boundary.gif")[0] == 5


def test_the_readme_tells_what_the_gallery_gif_shows() -> None:
    """The numbers the README's section quotes from configs/l2.yaml's animation."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The boundary, animated", 1)[1].split("\n## ", 1)[0]
    h, _ = _trained(_config())
    assert loop.frame_epochs(800)[:4] == [0, 13, 27, 40] and 53 in loop.frame_epochs(800)
    assert f"(`{report.frame_label(h, 107)}`;" in " ".join(section.split())
    assert f"accuracy {h.start['accuracy']:.1%})" in section
    assert f"({h.accuracy[199]:.1%} at epoch 200, {h.accuracy[-1]:.1%} at 800)" in " ".join(section.split())


@pytest.mark.parametrize("sets", [(), ("ema.decay=0.9",)])
def test_the_last_frame_is_readable(
    sets: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The figure as its last frame leaves it, drawn whole: title, labels, legend, nothing overlapping."""
    from figure_checks import assert_readable

    figures = []
    original = animation.write_gif

    def keep(path: Path, fig: object, *args: object, **kwargs: object) -> None:
        original(path, fig, *args, **kwargs)  # type: ignore[arg-type]
        figures.append(fig)

    monkeypatch.setattr(animation, "write_gif", keep)
    h, prepared = _trained(_config("train.epochs=5", *sets))
    report.draw_boundary_gif(tmp_path, h, experiment.run_view(h, prepared))
    (fig,) = figures
    for artist in fig.findobj():  # type: ignore[attr-defined]
        artist.set_animated(False)
    assert_readable(fig, "boundary.gif")


# --- a path on a surface: paths.gif ---------------------------------------------------------------------

VALLEY = ROOT / "configs" / "valley.yaml"
ROSENBROCK = ROOT / "configs" / "rosenbrock.yaml"


def _surface(path: Path, *sets: str) -> surface.SurfaceHistory:
    (h,) = surface.train([config.load(path, list(sets))])
    return h


def test_the_steps_a_paths_gif_shows() -> None:
    """loop.frame_epochs' rule over train.steps, cut where a run stopped, its last step included."""
    assert surfaceplot.frame_steps([_surface(VALLEY, "train.steps=5")]) == [0, 1, 2, 3, 4, 5]
    assert surfaceplot.frame_steps([_surface(VALLEY)]) == list(range(61))  # 60 steps: every one
    # 1000 steps: (1000·i + 30) // 60 → 0, 17 (1030/60), 33 (2030/60), 50, ..., 983 (59030/60), 1000
    long = surfaceplot.frame_steps([_surface(VALLEY, "train.steps=1000")])
    assert len(long) == 61 and long[:4] == [0, 17, 33, 50] and long[-2:] == [983, 1000]
    # sgd at 0.1 on ½(x² + 50y²) multiplies y by 1 − 5 = −4: 25·16^k passes 10⁶ × 57 (the start's loss)
    # at k = 6 (16⁵ = 1.05e6 < 2.28e6 < 16⁶); of 200 steps' frames (0, 3 (230/60), 7 (430/60), ...) the
    # steps up to 6, then 6 itself
    diverged = _surface(VALLEY, "optimizer.lr=0.1", "train.steps=200")
    assert diverged.status == "diverged" and diverged.diverged_step == 6
    assert surfaceplot.frame_steps([diverged]) == [0, 3, 6]
    # several paths in step: the longest plan's frames up to the last step any made, and each one's end
    short = _surface(VALLEY, "train.steps=5")
    assert surfaceplot.frame_steps([short, diverged]) == [0, 3, 5, 6]
    assert surfaceplot.frame_label([short, diverged], ["sgd 5", "sgd 200"], 6) == (
        f"step 6 of 200\nsgd 5: loss {short.loss[5]:.4g} at step 5, its last\n"
        f"sgd 200: diverged (loss {diverged.loss[6]:.4g})"
    )


def test_several_paths_move_in_step_and_stay_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a comparison's paths.gif will call: every path up to the frame's step, each ended one whole."""
    from figure_checks import assert_readable

    calls = _captured(monkeypatch)
    short, long = surface.train(
        [
            config.load(ROSENBROCK, ["train.steps=30"]),
            config.load(ROSENBROCK, ["optimizer.name=sgd", "optimizer.lr=0.001", "train.steps=90"]),
        ]
    )
    surfaceplot.paths_gif(
        tmp_path / "paths.gif", [short, long], ["adam", "sgd"], title="rosenbrock: two paths"
    )
    ((fig, update, frames),) = calls
    assert frames == 61 and gif_frames(tmp_path / "paths.gif")[0] == 61  # 90 steps: (90i + 30) // 60
    update(20)  # step 30 = (90·20 + 30) // 60: both paths up to it
    first, second = _path_lines(fig, short)
    assert len(first.get_xdata()) == 31 and len(second.get_xdata()) == 31
    update(frames - 1)
    assert np.array_equal(first.get_ydata(), short.y) and np.array_equal(second.get_ydata(), long.y)
    for artist in fig.findobj():
        artist.set_animated(False)
    assert_readable(fig, "paths.gif of two runs")


def _captured(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The figure, update and frame count of every write_gif call (the GIF still written)."""
    calls: list[tuple] = []
    original = animation.write_gif

    def keep(path: Path, fig: object, update: object, frames: int, **kwargs: object) -> None:
        original(path, fig, update, frames, **kwargs)  # type: ignore[arg-type]
        calls.append((fig, update, frames))

    monkeypatch.setattr(animation, "write_gif", keep)
    return calls


def _path_lines(fig: object, h: surface.SurfaceHistory) -> list:
    """The paths' lines (with a moving average: the path, then the average), not the markers."""
    (ax, _) = fig.axes  # type: ignore[attr-defined]
    return [line for line in ax.lines if line.get_linestyle() in ("-", "--")]


def test_each_frame_draws_the_path_up_to_its_step_and_the_last_the_whole_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _captured(monkeypatch)
    h = _surface(ROSENBROCK, "train.steps=120", "ema.decay=0.9")
    report.draw_surface_paths_gif(tmp_path, h)
    ((fig, update, frames),) = calls
    steps = surfaceplot.frame_steps([h])
    assert frames == len(steps) == 61 and steps[:3] == [0, 2, 4]  # 120 steps: every second one
    drawn = update(frames - 1)
    line, average = _path_lines(fig, h)
    assert line in drawn and average in drawn
    assert np.array_equal(line.get_xdata(), h.x) and np.array_equal(line.get_ydata(), h.y)
    assert h.ema_x is not None and h.ema_y is not None and h.ema_loss is not None
    assert np.array_equal(average.get_xdata(), h.ema_x) and np.array_equal(average.get_ydata(), h.ema_y)
    text = drawn[-1].get_text()
    assert text == f"step 120 of 120: loss {h.loss[-1]:.4g}, moving average {h.ema_loss[-1]:.4g}"
    update(10)  # step 20: the rows 0..20
    assert np.array_equal(line.get_xdata(), h.x[:21]) and np.array_equal(average.get_ydata(), h.ema_y[:21])
    assert update(0)[-1].get_text().startswith(f"step 0 of 120 (the start): loss {h.loss[0]:.4g}")
    update(frames - 1)
    for artist in fig.findobj():  # the figure as its last frame leaves it, drawn whole
        artist.set_animated(False)
    from figure_checks import assert_readable

    assert_readable(fig, "paths.gif")


def test_a_diverged_paths_gif_ends_at_its_last_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _captured(monkeypatch)
    h = _surface(VALLEY, "optimizer.lr=0.1", "train.steps=200")
    report.draw_surface_paths_gif(tmp_path, h)
    ((fig, update, frames),) = calls
    assert frames == 3 and gif_frames(tmp_path / "paths.gif") == (3, [100, 100, 2000])
    drawn = update(frames - 1)
    (line,) = _path_lines(fig, h)
    assert len(line.get_xdata()) == 7 and np.array_equal(line.get_ydata(), h.y)
    assert drawn[-1].get_text() == f"step 6 of 200: diverged (loss {h.loss[6]:.4g})"


def test_train_animate_on_a_surface_writes_paths_gif_and_replot_redraws_it(tmp_path: Path) -> None:
    folder = nnopt(tmp_path / "runs", "train", str(ROSENBROCK), "--animate")
    assert folder is not None
    count, durations = gif_frames(folder / "paths.gif")
    assert count == 61  # train.steps 1000: steps 0, 17, 33, ..., 983, 1000
    assert durations == [1000 // animation.FPS] * 60 + [int(animation.HOLD * 1000)]
    assert not (folder / "frames.npz").exists()  # trajectory.csv holds every step
    drawn = (folder / "paths.gif").read_bytes()
    (folder / "paths.gif").unlink()
    written = replot.redraw(folder, workers=1)
    assert folder / "paths.gif" in written
    assert (folder / "paths.gif").read_bytes() == drawn
    plain = nnopt(tmp_path / "plain", "train", str(VALLEY))
    assert plain is not None and not (plain / "paths.gif").exists()


def test_a_paths_gif_that_fails_is_noted_and_the_data_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no frames today")

    monkeypatch.setattr(animation, "write_gif", broken)
    result = CliRunner().invoke(cli, ["train", str(VALLEY), "--animate", "--runs-root", str(tmp_path), "-q"])
    assert result.exit_code == 4, result.output
    (folder,) = tmp_path.iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert list(summary["pictures_missing"]) == ["paths.gif"]
    assert "no frames today" in summary["pictures_missing"]["paths.gif"]
    assert (folder / "trajectory.csv").is_file() and (folder / "paths.png").is_file()


def test_the_toy_refuses_animate_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["train", str(ROOT / "configs" / "quadratic.yaml"), "--animate", "--runs-root", str(tmp_path)]
    )
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "plot.animate has no effect while model.type is quadratic" in result.output
    assert "model.type to mlp or surface" in result.output
    assert not any(tmp_path.iterdir())


def test_the_readme_shows_the_paths_gif_and_its_command() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gallery", ROOT / "benchmarks" / "gallery.py")
    assert spec is not None and spec.loader is not None
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = f"    nnopt {' '.join(gallery.ANIMATE_PATH)}\n"
    for title in ("## The boundary, animated", "## Optimizer paths on a surface"):
        assert command in readme.split(title, 1)[1].split("\n## ", 1)[0], title
    assert "benchmarks/figures/valley_paths.gif" in readme
    assert "paths.gif" in CliRunner().invoke(cli, ["train", "--help"]).output


def test_compare_of_surfaces_draws_paths_gif_and_replot_redraws_it(tmp_path: Path) -> None:
    folder = nnopt(
        tmp_path / "runs",
        "compare",
        "sgd:lr=0.001",
        "adam:lr=0.1",
        "--config",
        str(ROSENBROCK),
        "--set",
        "train.steps=90",
        "--animate",
    )
    assert folder is not None
    count, durations = gif_frames(folder / "paths.gif")
    assert count == 61 and durations[-1] == int(animation.HOLD * 1000)  # 90 steps: (90i + 30) // 60
    drawn = (folder / "paths.gif").read_bytes()
    (folder / "paths.gif").unlink()
    replot.redraw(folder, workers=1)
    assert (folder / "paths.gif").read_bytes() == drawn
