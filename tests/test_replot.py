"""nnopt replot's library: folders written by the real commands, their pictures deleted and drawn again from
the files alone, byte for byte; the histories it reads; the folders it refuses."""

from __future__ import annotations

import json
import math
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nnopt_cli import config
from nnopt_cli.cli import cli
from nnopt_cli.experiments import experiment, replot

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
SHORT = ("--set", "train.epochs=20")


@pytest.fixture(autouse=True)
def agg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")


def nnopt(root: Path, *args: str, code: int = 0) -> Path:
    """Run a command with --runs-root `root` and return the one folder it made."""
    result = CliRunner().invoke(cli, [*args, "--runs-root", str(root), "--quiet"])
    assert result.exit_code == code, result.output
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    return folder


def pictures(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def redrawn(folder: Path, **options: bool) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The folder's pictures as the command drew them, and as replot draws them once they are deleted."""
    drawn = pictures(folder)
    for name in drawn:
        (folder / name).unlink()
    written = replot.redraw(folder, workers=2, **options)
    again = pictures(folder)
    assert written == sorted(folder / name for name in again)
    return drawn, again


def has_start(folder: Path) -> bool:
    return "start" in json.loads((folder / "summary.json").read_text())


def assert_same(
    drawn: dict[str, bytes], again: dict[str, bytes], *, need_start: tuple[str, ...] = ()
) -> None:
    """Every picture byte for byte; those in `need_start` (epoch 0 of more than the loss and the accuracy)
    only once summary.json keeps every epoch-0 measure, else the test is skipped after the others."""
    assert again.keys() == drawn.keys()
    for name in drawn:
        if name not in need_start:
            assert again[name] == drawn[name], f"{name} differs"
    if need_start:
        pytest.skip(f"{', '.join(need_start)}: epoch 0 of every curve needs summary.json's start")


def copy(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


# Folders as the commands wrote them, made once per module; a test that changes one works on a copy.


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course's network, plain: no penalty, no moving average, no test split."""
    return nnopt(tmp_path_factory.mktemp("sgd"), "train", str(CONFIGS / "sgd.yaml"), *SHORT)


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four inputs, three classes, a test split, an L2 penalty and a moving average."""
    sets = ("--set", "ema.decay=0.9", "--set", "regularizer.type=l2")
    return nnopt(tmp_path_factory.mktemp("iris"), "train", str(CONFIGS / "iris" / "adam.yaml"), *SHORT, *sets)


@pytest.fixture(scope="module")
def diverged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("diverged")
    return nnopt(root, "train", str(CONFIGS / "sgd.yaml"), *SHORT, "--set", "optimizer.lr=40", code=3)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return nnopt(
        tmp_path_factory.mktemp("compare"), "compare", "sgd", "adam", "--epochs", "5", "--seeds", "2"
    )


def test_a_run_is_drawn_again_byte_for_byte(runs: Path, tmp_path: Path) -> None:
    drawn, again = redrawn(copy(runs, tmp_path))
    assert set(drawn) == {"loss.png", "lr.png", "boundary.png", "layers.png"}
    assert_same(drawn, again)  # no penalty, no EMA, no test split: start_loss, start_accuracy suffice


def test_a_run_with_a_test_split_ema_l2_and_four_inputs(iris: Path, tmp_path: Path) -> None:
    drawn, again = redrawn(copy(iris, tmp_path))
    assert set(drawn) == {"loss.png", "lr.png", "boundary.png", "confusion.png", "layers.png"}
    assert_same(drawn, again, need_start=() if has_start(iris) else ("loss.png",))


def test_every_epoch_0_measure_in_summary_json_makes_loss_png_the_same(iris: Path, tmp_path: Path) -> None:
    """summary.json's `start` as the loop measured it (written here when the summary does not have it yet)."""
    folder = copy(iris, tmp_path)
    path = folder / "summary.json"
    summary = json.loads(path.read_text())
    trained = experiment.train(config.load(folder / "config.yaml"))
    assert trained.start.keys() == {
        f"{ema}{test}{measure}"
        for ema in ("", "ema_")
        for test in ("", "test_")
        for measure in ("loss", "accuracy")
    } | {"data_loss"}
    summary.setdefault("start", trained.start)
    path.write_text(json.dumps(summary, indent=2) + "\n")
    assert replot.read_history(folder).start == trained.start
    drawn, again = redrawn(folder)
    assert_same(drawn, again)


def test_a_diverged_run(diverged: Path, tmp_path: Path) -> None:
    h = replot.read_history(diverged)
    assert h.status == "diverged" and h.diverged_epoch == h.epochs_done and not math.isfinite(h.loss[-1])
    drawn, again = redrawn(copy(diverged, tmp_path))
    assert set(drawn) == {"loss.png", "lr.png", "boundary.png", "layers.png"}
    assert_same(drawn, again)


def test_the_quadratic_toy(tmp_path: Path) -> None:
    folder = nnopt(tmp_path, "train", str(CONFIGS / "quadratic.yaml"))
    drawn, again = redrawn(folder)
    assert set(drawn) == {"quadratic.png", "lr.png"}
    assert_same(drawn, again)
    toy = replot.read_quadratic(folder)
    assert toy.status == "completed" and toy.step == list(range(40))
    assert toy.w[0] == pytest.approx(2.6, abs=1e-15)  # 5 − 0.2·2·(5 + 1), the course's first line


def test_a_comparison_with_seeds(comparison: Path, tmp_path: Path) -> None:
    folder = copy(comparison, tmp_path)
    drawn, again = redrawn(folder)
    assert {p.name for p in folder.iterdir() if p.is_dir()} == {
        "sgd-seed0",
        "sgd-seed1",
        "adam-seed0",
        "adam-seed1",
    }
    assert set(drawn) == {"compare.png", "boundaries.png"}
    assert_same(drawn, again)


def test_a_comparison_with_entry_pictures(tmp_path: Path) -> None:
    folder = nnopt(tmp_path, "compare", "adam", "--epochs", "5", "--entry-pictures")
    drawn, again = redrawn(folder, entry_pictures=True)
    entry = {f"adam/{name}" for name in ("loss.png", "lr.png", "boundary.png", "layers.png")}
    assert set(drawn) == {"compare.png", "boundaries.png"} | entry
    assert_same(drawn, again)
    # without entry_pictures, the comparison's own two; an entry's folder is a run folder of its own
    assert replot.redraw(folder) == [folder / "boundaries.png", folder / "compare.png"]
    assert replot.redraw(folder / "adam") == sorted(folder / name for name in entry)


def test_the_history_is_the_one_the_loop_returned(iris: Path) -> None:
    read = replot.read_history(iris)
    trained = experiment.train(config.load(iris / "config.yaml"))
    assert read.config == trained.config
    assert read.steps_per_epoch == trained.steps_per_epoch == 4
    assert read.with_test and read.metrics_columns() == trained.metrics_columns()
    np.testing.assert_array_equal(read.lr_trace, trained.lr_trace)
    assert read.params_ema is not None and trained.params_ema is not None
    for mine, theirs in ((read.params, trained.params), (read.params_ema, trained.params_ema)):
        assert mine.keys() == theirs.keys()
        for key in mine:
            np.testing.assert_array_equal(mine[key], theirs[key])
    assert (read.status, read.message, read.diverged_epoch) == ("completed", "", None)
    if has_start(iris):
        assert read.start == trained.start
    else:  # a summary.json without `start`, and a test split: no epoch 0 at all
        assert read.start == {}


def test_a_folder_whose_summary_was_never_written(runs: Path, tmp_path: Path) -> None:
    """Drawing cut off: the status is read off the files as the loop decided it; no epoch 0 to draw."""
    folder = copy(runs, tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").unlink()
    h = replot.read_history(folder)
    assert (h.status, h.message, h.start) == ("completed", "", {})
    drawn, again = redrawn(folder)
    assert again["lr.png"] == drawn["lr.png"] and again["boundary.png"] == drawn["boundary.png"]
    assert again["loss.png"] != drawn["loss.png"]  # its curves begin at epoch 1
    assert not (folder / "summary.json").exists()

    # cut off after 15 of 20 epochs: metrics.csv and lr.csv end there
    for name, keep in (("metrics.csv", 1 + 15), ("lr.csv", 1 + 15 * 10)):
        lines = (folder / name).read_text().splitlines(keepends=True)
        (folder / name).write_text("".join(lines[:keep]))
    h = replot.read_history(folder)
    assert (h.status, h.message, h.epochs_done) == ("interrupted", "interrupted after 15 epochs of 20", 15)
    assert summary["status"] == "completed"


def test_a_diverged_folder_without_its_summary_says_what_the_loop_said(
    diverged: Path, tmp_path: Path
) -> None:
    folder = copy(diverged, tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").unlink()
    h = replot.read_history(folder)
    said = (summary["status"], summary["diverged_epoch"], summary["message"])
    assert (h.status, h.diverged_epoch, h.message) == said


def test_a_run_stopped_before_its_first_epoch_ended(runs: Path, tmp_path: Path) -> None:
    folder = copy(runs, tmp_path)
    for name in ("metrics.csv", "lr.csv"):
        (folder / name).write_text((folder / name).read_text().splitlines()[0] + "\n")
    (folder / "summary.json").unlink()
    h = replot.read_history(folder)
    assert (h.epochs_done, h.steps_per_epoch, h.status) == (0, 10, "interrupted")
    assert h.message == "interrupted after 0 epochs of 20"


def test_trace_csv_fills_the_batch_loss(runs: Path, tmp_path: Path) -> None:
    folder = copy(runs, tmp_path)
    rows = [f"{k},{k // 10 + 1},0.005,{1.0 / (k + 1)!r}" for k in range(200)]
    (folder / "trace.csv").write_text("step,epoch,lr,batch_loss\n" + "\n".join(rows) + "\n")
    h = replot.read_history(folder)
    np.testing.assert_array_equal(h.batch_loss, 1.0 / np.arange(1, 201))


def test_summary_start_is_every_epoch_0_measure(runs: Path, tmp_path: Path) -> None:
    folder = copy(runs, tmp_path)
    path = folder / "summary.json"
    summary = json.loads(path.read_text())
    summary["start"] = {"loss": 2.5, "data_loss": 2.25, "accuracy": None}
    path.write_text(json.dumps(summary))
    start = replot.read_history(folder).start
    assert start.keys() == {"loss", "data_loss", "accuracy"} and math.isnan(start["accuracy"])
    assert (start["loss"], start["data_loss"]) == (2.5, 2.25)
    del summary["start"]
    path.write_text(json.dumps(summary))
    assert replot.read_history(folder).start == {
        "loss": summary["start_loss"],
        "accuracy": summary["start_accuracy"],
    }


# --- refusals ---------------------------------------------------------------------------------------


def refused(folder: Path, match: str) -> str:
    with pytest.raises(replot.ReplotError, match=match) as caught:
        replot.redraw(folder)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_refuses_an_empty_folder_and_a_missing_one(tmp_path: Path) -> None:
    refused(tmp_path, "not a run folder \\(no config.yaml\\) nor a comparison's \\(no compare.csv\\)")
    refused(tmp_path / "gone", "gone: no such folder")


def test_refuses_a_run_without_its_weights(runs: Path, tmp_path: Path) -> None:
    folder = copy(runs, tmp_path)
    (folder / "params.npz").unlink()
    assert refused(folder, "params.npz: no such file").startswith(str(folder / "params.npz"))
    (folder / "params.npz").write_bytes(b"PK\x03\x04 not a zip")
    refused(folder, "params.npz: not an .npz file of weights")
    np.savez(folder / "params.npz", w1=np.zeros((3, 11)))
    refused(folder, "params.npz: w1 has shape \\(3, 11\\), this network needs \\(2, 11\\)")


def test_refuses_a_corrupted_metrics_csv(runs: Path, tmp_path: Path) -> None:
    folder = copy(runs, tmp_path)
    metrics = folder / "metrics.csv"
    lines = metrics.read_text().splitlines()
    metrics.write_text("\n".join([lines[0], lines[1], lines[2].replace(",0.005,", ",0.0x5,")]) + "\n")
    refused(folder, "metrics.csv, line 3: lr '0.0x5' is not a number")
    metrics.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    refused(folder, "metrics.csv: not a CSV text file")
    metrics.write_text("epoch,step,lr,loss\n1,10,0.005,1.0\n")
    refused(
        folder, "metrics.csv: columns epoch,step,lr,loss; config.yaml's run .* writes epoch,step,lr,loss,"
    )
    metrics.write_text("\n".join([lines[0], lines[1], lines[3]]) + "\n")
    refused(folder, "metrics.csv, line 3: epoch 3 at step 30, expected epoch 2 at step 20")
    metrics.unlink()
    refused(folder, "metrics.csv: no such file")


def test_refuses_files_that_disagree(runs: Path, tmp_path: Path) -> None:
    folder = copy(runs, tmp_path)
    rates = (folder / "lr.csv").read_text().splitlines()
    (folder / "lr.csv").write_text("\n".join(rates[:-1]) + "\n")
    refused(folder, "lr.csv: 199 updates numbered 0 to 198; metrics.csv says 200 updates")
    (folder / "lr.csv").write_text("\n".join(rates) + "\n")
    text = (folder / "config.yaml").read_text()
    (folder / "config.yaml").write_text(text.replace("batch_size: 32", "batch_size: 16"))
    refused(folder, "metrics.csv: 10 updates per epoch, but .* 19 batches of 16: config.yaml or its data")
    (folder / "config.yaml").write_text(text.replace("type: mlp", "type: quadratic"))
    refused(folder, "metrics.csv: columns epoch,.*model.type quadratic\\) writes step,w,loss,lr")
    (folder / "config.yaml").write_text("optimizer: {name: adamm}\n")
    refused(folder, "config.yaml.*optimizer.name")
    (folder / "config.yaml").write_text(text)
    (folder / "summary.json").write_text("{")
    refused(folder, "summary.json: not valid JSON")


def test_refuses_a_comparison_it_cannot_order(comparison: Path, tmp_path: Path) -> None:
    folder = copy(comparison, tmp_path)
    (folder / "compare.csv").rename(folder / "table.csv")
    refused(folder, "compare.csv: no such file; a comparison writes it last")
    (folder / "table.csv").rename(folder / "compare.csv")
    (folder / "adam-seed1").rename(folder / "adam-seed2")
    refused(folder, "entry 'adam' seed 1, which nnopt compare writes to adam-seed1/, not adam-seed2/")
    shutil.rmtree(folder / "adam-seed2")
    refused(folder, "entry folders do not match compare.csv: adam 1 seed\\(s\\), sgd 2 seed\\(s\\)")


def test_a_sweep_folder_is_the_sweep_module_s_to_redraw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "20261201-120000-sweep-lr"
    folder.mkdir()
    (folder / "config.yaml").write_text("grid: {}\n")
    without = types.ModuleType("nnopt_cli.experiments.sweep")
    monkeypatch.setitem(sys.modules, "nnopt_cli.experiments.sweep", without)
    refused(folder, "a sweep folder; this version of nnopt cannot redraw sweep folders")
    seen = []

    def redraw(where: Path) -> list[Path]:
        seen.append(where)
        return [where / "heatmap.png"]

    with_redraw = types.ModuleType("nnopt_cli.experiments.sweep")
    with_redraw.redraw = redraw  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nnopt_cli.experiments.sweep", with_redraw)
    assert replot.redraw(folder) == [folder / "heatmap.png"] and seen == [folder]


@pytest.mark.parametrize("row, words", [(2, "its training rows"), (40, "its test rows")])
def test_data_changed_since_the_run_is_refused_by_replot_and_resume(
    tmp_path: Path, row: int, words: str
) -> None:
    # one value of the CSV edited, the row count the same: a row count or the updates per epoch cannot see it
    data = tmp_path / "points.csv"
    lines = ["a,b,y", *(f"{i / 10},{(i % 7) / 10},{i % 2}" for i in range(40))]
    data.write_text("\n".join(lines) + "\n")
    root = tmp_path / "runs"
    sets = ("--set", f"data.path={data}", "--set", "data.test_size=10", "--epochs", "3")
    folder = nnopt(root, "train", str(CONFIGS / "sgd.yaml"), *sets)
    lines[row] = lines[row].replace(",", "5,", 1)
    data.write_text("\n".join(lines) + "\n")
    for args in (["replot", str(folder)], ["train", "--resume", str(folder), "--epochs", "5"]):
        result = CliRunner().invoke(cli, [*args, "--runs-root", str(root)])
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"Error: {data}: changed since the run {folder} was made: {words} are not those the run used "
            "(its summary.json keeps their data_sha256); train a new run on it\n"
        )
    assert [p.name for p in root.iterdir()] == [folder.name]  # resume made no folder


def test_the_same_data_in_a_new_file_is_not_a_change(runs: Path, tmp_path: Path) -> None:
    summary = json.loads((runs / "summary.json").read_text())
    assert set(summary["data_sha256"]) == {"train"}  # no test split: the training rows alone
    drawn, again = redrawn(copy(runs, tmp_path))
    assert_same(drawn, again)
