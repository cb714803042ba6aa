"""The run folder: names that never collide, atomic files, exact numbers, summaries with nulls."""

from __future__ import annotations

import csv
import json
import math
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from nnopt_cli import config
from nnopt_cli.core import loop
from nnopt_cli.store import runs

NOW = datetime(2026, 12, 1, 9, 30, 5)


def test_folders_get_a_suffix_in_the_same_second(tmp_path: Path) -> None:
    a = runs.make_folder(tmp_path, "l2", now=NOW)
    b = runs.make_folder(tmp_path, "l2", now=NOW)
    assert a.name == "20261201-093005-l2" and b.name == "20261201-093005-l2-2"


def test_csv_floats_read_back_exactly(tmp_path: Path) -> None:
    values = [0.1, 1 / 3, 2.0**-60, 1e300, math.pi]
    runs.write_csv(tmp_path / "x.csv", {"i": list(range(5)), "v": values})
    with (tmp_path / "x.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [float(r["v"]) for r in rows] == values
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_summary_writes_non_finite_numbers_as_null(tmp_path: Path) -> None:
    h = loop.History(config=config.from_dict({}), steps_per_epoch=10)
    h.epoch, h.step, h.lr = [1, 2], [10, 20], [0.1, 0.1]
    h.loss, h.data_loss, h.accuracy = [0.5, math.nan], [0.4, math.nan], [0.9, math.nan]
    h.status, h.diverged_epoch = "diverged", 2
    h.params = {"w1": np.zeros((2, 1))}
    h.lr_trace = np.full(20, 0.1)
    runs.write_data(tmp_path, h)
    out = runs.write_summary(tmp_path, h, started=time.perf_counter(), clock=time.perf_counter)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved == out
    assert saved["final_loss"] is None and saved["final_accuracy"] is None and saved["best_loss"] == 0.5
    assert saved["status"] == "diverged" and saved["diverged_epoch"] == 2
    assert len((tmp_path / "lr.csv").read_text().splitlines()) == 1 + 20


def test_new_file_claims_each_name_once(tmp_path: Path) -> None:
    # four plot-lr started in the same second: each gets its own file, created at once (O_EXCL)
    paths = [runs.new_file(tmp_path, "lr-exponential", ".png", now=NOW) for _ in range(4)]
    assert [p.name for p in paths] == [
        "20261201-093005-lr-exponential.png",
        "20261201-093005-lr-exponential-2.png",
        "20261201-093005-lr-exponential-3.png",
        "20261201-093005-lr-exponential-4.png",
    ]
    assert all(p.is_file() for p in paths)


def test_writers_of_one_file_never_share_a_temporary_name(tmp_path: Path) -> None:
    # two commands writing the same path at once: each writes its own temporary file and renames it whole
    target = tmp_path / "x.csv"
    with runs.replacing(target) as first:
        first.write("first\n")
        with runs.replacing(target) as second:
            second.write("second\n")
        assert target.read_text() == "second\n"
    assert target.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_a_failed_write_leaves_neither_file_nor_temporary(tmp_path: Path) -> None:
    import errno

    target = tmp_path / "params.npz"

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as info, runs.replacing(target, "wb") as f:
        f.write(b"half")
        full()
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(target)  # the file, not its temporary
    assert list(tmp_path.iterdir()) == []


def test_lr_csv_is_written_from_the_trace_without_lists(tmp_path: Path) -> None:
    c = config.from_dict({}, ["train.epochs=2"])
    h = loop.History(config=c, steps_per_epoch=2, epoch=[1, 2], step=[2, 4], lr=[0.5, 0.25])
    h.loss, h.data_loss, h.accuracy = [1.0, 0.5], [1.0, 0.5], [0.5, 0.75]
    h.lr_trace = np.array([0.5, 0.5, 0.25, 0.25])
    h.params = {"w": np.zeros(1)}
    runs.write_data(tmp_path, h)
    assert (tmp_path / "lr.csv").read_text() == "step,lr\n0,0.5\n1,0.5\n2,0.25\n3,0.25\n"


def test_trace_csv_has_a_row_per_update_with_its_epoch(tmp_path: Path) -> None:
    c = config.from_dict({}, ["train.epochs=2"])
    h = loop.History(config=c, steps_per_epoch=3, epoch=[1, 2], step=[3, 6], lr=[0.5, 0.25])
    h.loss, h.data_loss, h.accuracy = [1.0, 0.5], [1.0, 0.5], [0.5, 0.75]
    h.lr_trace = np.array([0.5, 0.5, 0.5, 0.25, 0.25, 0.25])
    h.batch_loss = np.array([2.0, 1 / 3, math.inf, 0.1, 0.2, math.nan])
    h.params = {"w": np.zeros(1)}
    runs.write_data(tmp_path, h)
    with (tmp_path / "trace.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "epoch", "lr", "batch_loss"]
    assert [int(r["step"]) for r in rows] == list(range(6))
    assert [int(r["epoch"]) for r in rows] == [1, 1, 1, 2, 2, 2]
    assert [float(r["lr"]) for r in rows] == h.lr_trace.tolist()
    back = np.array([float(r["batch_loss"]) for r in rows])
    assert np.array_equal(back, h.batch_loss, equal_nan=True)  # exact, inf and nan included
    assert not (tmp_path / "state.npz").exists()  # a history made by hand has no checkpoint


def test_a_trained_runs_folder_has_its_trace_state_and_start(tmp_path: Path) -> None:
    from nnopt_cli.experiments import experiment

    c = config.from_dict({}, ["train.epochs=3", "optimizer.name=rmsprop", "ema.decay=0.9"])
    h = experiment.train(c)
    runs.write_data(tmp_path, h)
    summary = runs.write_summary(tmp_path, h, started=time.perf_counter(), clock=time.perf_counter)
    assert len((tmp_path / "trace.csv").read_text().splitlines()) == 1 + h.steps_done == 31
    with np.load(tmp_path / "state.npz") as state:
        assert sorted(state.files) == ["epochs_done", "optimizer", "shadow", "step", "v"]
        assert str(state["optimizer"]) == "rmsprop" and int(state["step"]) == 30
    assert summary["start"] == h.start and set(summary["start"]) == {
        "loss",
        "data_loss",
        "accuracy",
        "ema_loss",
        "ema_accuracy",
    }
    assert "resumed_from" not in summary


def test_summary_start_writes_non_finite_measures_as_null() -> None:
    h = loop.History(config=config.from_dict({}), steps_per_epoch=10)
    h.start = {"loss": math.inf, "data_loss": 0.5, "accuracy": math.nan}
    h.resumed_from, h.resumed_at_epoch = "/runs/x", 4
    out = runs.summary(h, total_seconds=0.0)
    assert out["start"] == {"loss": None, "data_loss": 0.5, "accuracy": None}
    assert (out["resumed_from"], out["resumed_at_epoch"]) == ("/runs/x", 4)
    json.dumps(out, allow_nan=False)


# --- reading a folder back --------------------------------------------------------------------------


def written(folder: Path, h: loop.History) -> Path:
    """`h` written as nnopt train writes a run folder."""
    runs.write_start(folder, h.config)
    runs.write_data(folder, h)
    runs.write_summary(folder, h, started=0.0, clock=lambda: 0.0)
    return folder


def test_a_folder_reads_back_as_the_history_it_was_written_from(tmp_path: Path) -> None:
    from nnopt_cli.experiments import experiment

    sets = ["train.epochs=3", "optimizer.name=adam", "ema.decay=0.9", "data.name=iris", "data.test_size=30"]
    sets.append("model.output=softmax")  # one output per class: a single one cannot tell three apart
    h = experiment.train(config.from_dict({}, sets))
    read = runs.read_history(written(tmp_path, h))
    assert read.config == h.config and read.with_test
    assert read.metrics_columns() == h.metrics_columns()
    assert (read.steps_per_epoch, read.start) == (h.steps_per_epoch, h.start)
    assert (read.status, read.message, read.diverged_epoch) == ("completed", "", None)
    np.testing.assert_array_equal(read.lr_trace, h.lr_trace)
    np.testing.assert_array_equal(read.batch_loss, h.batch_loss)
    assert h.params_ema is not None and read.params_ema is not None
    for mine, theirs in ((read.params, h.params), (read.params_ema, h.params_ema)):
        assert mine.keys() == theirs.keys()
        assert all(np.array_equal(mine[k], theirs[k]) for k in mine)
    assert read.checkpoint is None  # state.npz is resume's to read


def test_a_bad_cell_is_one_line_naming_the_file_line_and_column(tmp_path: Path) -> None:
    from nnopt_cli.experiments import experiment

    folder = written(tmp_path, experiment.train(config.from_dict({}, ["train.epochs=2"])))
    metrics = folder / "metrics.csv"
    lines = metrics.read_text().splitlines()
    cells = lines[2].split(",")
    cells[3] = "0.1x"  # the loss of epoch 2
    metrics.write_text("\n".join([*lines[:2], ",".join(cells)]) + "\n")
    with pytest.raises(runs.FolderError) as info:
        runs.read_history(folder)
    assert str(info.value) == f"{metrics}, line 3: loss '0.1x' is not a number"


def test_files_that_disagree_are_refused(tmp_path: Path) -> None:
    from nnopt_cli.experiments import experiment

    folder = written(tmp_path, experiment.train(config.from_dict({}, ["train.epochs=2"])))
    trace = folder / "trace.csv"
    lines = trace.read_text().splitlines()
    trace.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(
        runs.FolderError, match=r"trace.csv: 19 updates numbered 0 to 18; metrics.csv says 20"
    ):
        runs.read_history(folder)
    trace.write_text("\n".join(lines) + "\n")
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps({**summary, "steps": 30}))
    with pytest.raises(runs.FolderError, match=r"summary.json: steps 30, metrics.csv says 20$"):
        runs.read_history(folder)
    (folder / "summary.json").write_text("[]")
    with pytest.raises(runs.FolderError, match=r"summary.json: holds list, not a mapping$"):
        runs.read_history(folder)


def test_read_npz_reads_a_state_and_refuses_a_single_array(tmp_path: Path) -> None:
    from nnopt_cli.experiments import experiment

    folder = written(tmp_path, experiment.train(config.from_dict({}, ["train.epochs=1"])))
    assert str(runs.read_npz(folder / "state.npz")["optimizer"]) == "sgd"
    with (folder / "params.npz").open("wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(runs.FolderError, match=r"params.npz: a single array, not an .npz file of weights$"):
        runs.read_history(folder)
    (folder / "params.npz").unlink()
    with pytest.raises(
        runs.FolderError, match=r"params.npz: no such file; the run stopped before writing it"
    ):
        runs.read_history(folder)


def test_the_quadratic_toys_folder_reads_back(tmp_path: Path) -> None:
    from nnopt_cli.core import quadratic

    c = config.from_dict({"model": {"type": "quadratic"}})
    toy = quadratic.train(c)
    runs.write_start(tmp_path, c)
    runs.write_quadratic_results(tmp_path, toy, started=0.0, clock=lambda: 0.0)
    read = runs.read_quadratic(tmp_path)
    assert (read.step, read.w, read.loss, read.lr) == (toy.step, toy.w, toy.loss, toy.lr)
    assert (read.status, read.message, read.diverged_step) == (toy.status, toy.message, toy.diverged_step)
    with pytest.raises(runs.FolderError, match=r"model.type quadratic: the quadratic toy's folder has no"):
        runs.read_history(tmp_path)
    (tmp_path / "summary.json").unlink()
    assert runs.read_quadratic(tmp_path).status == "completed"  # read off metrics.csv, as train decided it


def test_summary_holds_every_metric_of_the_table_by_its_name() -> None:
    from nnopt_cli import metrics

    c = config.from_dict({"regularizer": {"type": "l2", "scale": 0.1}})
    h = loop.History(
        config=c,
        steps_per_epoch=1,
        epoch=[1, 2],
        step=[1, 2],
        lr=[0.1, 0.1],
        loss=[1.0, 0.6],
        data_loss=[0.9, 0.5],
        accuracy=[0.5, 0.75],
        status="completed",
    )
    got = runs.summary(h, total_seconds=1.0)
    assert (got["final_loss"], got["best_loss"]) == (0.6, 0.6)
    assert (got["final_data_loss"], got["best_data_loss"]) == (0.5, 0.5)
    assert got["converged_epoch"] is None  # the loss fell by 40% in its last epoch: still improving
    assert set(metrics.names(test=False, ema=False)) <= set(got)
