"""`nnopt sweep`: every run equals `nnopt train` of its config, the files say what the runs did, bad input
writes nothing."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import terminal
from click.testing import CliRunner

from nnopt_cli.cli import cli
from nnopt_cli.config import grid
from nnopt_cli.experiments import sweep, tasks

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
L2 = str(CONFIGS / "l2.yaml")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _sweep(tmp_path: Path, *args: str, root: str = "runs") -> Path:
    result = CliRunner().invoke(cli, ["sweep", *args, "--runs-root", str(tmp_path / root), "--quiet"])
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / root).iterdir()
    return folder


def _train(tmp_path: Path, config: str, sets: list[str]) -> Path:
    root = (
        tmp_path
        / "train"
        / str(len(list((tmp_path / "train").glob("*"))) if (tmp_path / "train").exists() else 0)
    )
    args = ["train", config, "--runs-root", str(root), "--quiet"]
    for s in sets:
        args += ["--set", s]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 3), result.output
    (folder,) = root.iterdir()
    return folder


GRID = ["--grid", "optimizer.name=sgd,adam", "--grid", "optimizer.lr=0.01,0.1", "--seeds", "2"]


def test_every_run_equals_train_of_its_config_bit_for_bit(tmp_path):
    folder = _sweep(tmp_path, L2, *GRID, "--set", "train.epochs=40", "--save-runs", "--jobs", "2")
    rows = _rows(folder / "sweep.csv")
    assert len(rows) == 8
    for row in (rows[0], rows[3], rows[6]):  # a sample of grid points, both optimizers, both seeds
        sets = [
            "train.epochs=40",
            f"optimizer.name={row['optimizer.name']}",
            f"optimizer.lr={row['optimizer.lr']}",
            f"seed={row['seed']}",
        ]
        alone = _train(tmp_path, L2, sets)
        saved = folder / row["folder"]
        with np.load(alone / "params.npz") as a, np.load(saved / "params.npz") as b:
            assert sorted(a.files) == sorted(b.files)
            for key in a.files:
                assert np.array_equal(a[key], b[key])
        assert (alone / "metrics.csv").read_bytes() == (saved / "metrics.csv").read_bytes()
        assert (alone / "layers.csv").read_bytes() == (saved / "layers.csv").read_bytes()
        metrics = _rows(alone / "metrics.csv")
        assert float(row["final_loss"]) == float(metrics[-1]["loss"])
        assert float(row["final_accuracy"]) == float(metrics[-1]["accuracy"])
        assert float(row["best_loss"]) == min(float(m["loss"]) for m in metrics)


def test_rows_of_the_new_rules_with_clipping_equal_train_bit_for_bit(tmp_path):
    grid = ["--grid", "optimizer.name=adamw,nadam,adamax,adadelta", "--grid", "optimizer.clip_norm=0.5,2"]
    folder = _sweep(tmp_path, L2, *grid, "--set", "train.epochs=10", "--save-runs", "--jobs", "1")
    rows = _rows(folder / "sweep.csv")
    assert len(rows) == 8
    for row in rows[::3]:
        sets = [
            "train.epochs=10",
            f"optimizer.name={row['optimizer.name']}",
            f"optimizer.clip_norm={row['optimizer.clip_norm']}",
        ]
        alone = _train(tmp_path, L2, sets)
        saved = folder / row["folder"]
        with np.load(alone / "params.npz") as a, np.load(saved / "params.npz") as b:
            for key in a.files:
                assert np.array_equal(a[key], b[key])
        assert (alone / "metrics.csv").read_bytes() == (saved / "metrics.csv").read_bytes()
        assert (alone / "layers.csv").read_bytes() == (saved / "layers.csv").read_bytes()


def test_processes_and_chunks_do_not_change_a_result(tmp_path):
    one = _sweep(tmp_path, L2, *GRID, "--set", "train.epochs=20", "--jobs", "1", root="one")
    two = _sweep(tmp_path, L2, *GRID, "--set", "train.epochs=20", "--jobs", "2", root="two")
    assert (one / "sweep.csv").read_bytes() == (two / "sweep.csv").read_bytes()
    assert (one / "cells.csv").read_bytes() == (two / "cells.csv").read_bytes()


def test_cells_are_the_seeds_statistics_and_files_are_complete(tmp_path):
    folder = _sweep(
        tmp_path, L2, "--grid", "optimizer.lr=0.01,0.05,60", "--seeds", "3", "--set", "train.epochs=30"
    )
    names = {p.name for p in folder.iterdir()}
    assert {"config.yaml", "sweep.csv", "cells.csv", "curves.csv", "summary.json", "heatmap.png"} <= names
    assert {"sensitivity.png", "curves.png"} <= names
    runs = _rows(folder / "sweep.csv")
    cells = _rows(folder / "cells.csv")
    assert [c["optimizer.lr"] for c in cells] == ["0.01", "0.05", "60"]
    for cell in cells:
        mine = [r for r in runs if r["optimizer.lr"] == cell["optimizer.lr"]]
        assert int(cell["runs"]) == 3
        assert int(cell["diverged"]) == sum(r["status"] == "diverged" for r in mine)
        values = np.array([float(r["final_loss"]) for r in mine if r["final_loss"]])
        if values.size:
            assert float(cell["final_loss_mean"]) == pytest.approx(values.mean(), rel=4 * 2.0**-52)
            assert float(cell["final_loss_std"]) == pytest.approx(values.std(), rel=1e-12, abs=1e-300)
            assert float(cell["final_loss_min"]) == values.min()
            assert float(cell["final_loss_max"]) == values.max()
        else:
            assert cell["final_loss_mean"] == ""
    # lr 60 blows up: every seed diverged, alone, and says when
    blown = [r for r in runs if r["optimizer.lr"] == "60"]
    assert all(r["status"] == "diverged" and r["diverged_epoch"] and r["final_loss"] == "" for r in blown)
    assert all(r["status"] == "completed" for r in runs if r["optimizer.lr"] != "60")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["kind"] == "sweep" and summary["status"] == "completed"
    assert summary["runs"] == 9 and summary["diverged"] == 3
    best = min((c for c in cells if c["final_loss_mean"]), key=lambda c: float(c["final_loss_mean"]))
    assert summary["best"]["cell"] == {"optimizer.lr": float(best["optimizer.lr"])}
    assert summary["best"]["value"] == float(best["final_loss_mean"])


def test_test_split_columns_and_metric(tmp_path):
    folder = _sweep(
        tmp_path,
        str(CONFIGS / "iris" / "adam.yaml"),
        "--grid",
        "optimizer.lr=0.01,0.1",
        "--set",
        "train.epochs=15",
        "--metric",
        "test_accuracy",
    )
    header = next(csv.reader((folder / "sweep.csv").open()))
    # sweep.csv names its metrics as summary.json and compare.csv do; --metric takes the old name too
    assert {"final_test_loss", "final_test_accuracy", "best_test_loss", "best_test_accuracy"} <= set(header)
    summary = json.loads((folder / "summary.json").read_text())
    rows = _rows(folder / "sweep.csv")
    assert summary["best"]["metric"] == "final_test_accuracy"
    assert summary["best"]["value"] == max(float(r["final_test_accuracy"]) for r in rows)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--grid", "optimizer.lrr=0.1"], "did you mean"),
        (["--grid", "optimizer.lr=0.1,-2"], "--grid optimizer.lr=-2"),
        (["--grid", "optimizer.lr="], "an empty value"),
        ([], "at least one --grid"),
        (["--grid", "optimizer.lr=0.1,0.2", "--seeds", "3", "--max-runs", "5"], "more than --max-runs 5"),
        (["--grid", "optimizer.lr=0.1", "--metric", "final_los"], "did you mean 'final_loss'"),
        (["--grid", "optimizer.lr=0.1", "--metric", "test_accuracy"], "no run has a test split"),
        (["--grid", "data.path=missing.csv"], "missing.csv"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, words):
    result = CliRunner().invoke(cli, ["sweep", L2, *args, "--runs-root", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], result.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def _plan(points: int, epochs: int = 10) -> grid.Plan:
    lrs = ",".join(str(0.001 * (i + 1)) for i in range(points))
    return grid.plan(L2, [f"optimizer.lr={lrs}"], sets=[f"train.epochs={epochs}"])


def test_chunks_keep_workers_busy_and_fit_in_memory(monkeypatch):
    plan = _plan(75)
    assert [len(t.indices) for t in tasks.chunks(plan, jobs=2)] == [38, 37]
    assert [len(t.indices) for t in tasks.chunks(_plan(20), jobs=2)] == [20]  # too few rows to split
    chunks = tasks.chunks(plan, jobs=1)
    assert [len(t.indices) for t in chunks] == [75]
    # a machine with room for about 10 rows: chunks of at most 10, every run once
    d = sweep.experiment.load_data(plan.base)
    per_row = sweep.experiment.row_bytes(plan.base, d.full, d.train.size)
    monkeypatch.setattr(tasks.experiment, "memory_bytes", lambda: 2 * 10 * per_row + 1)
    small = tasks.chunks(plan, jobs=1)
    assert max(len(t.indices) for t in small) <= 10
    assert sorted(i for t in small for i in t.indices) == list(range(75))


def test_interrupted_tasks_keep_their_epochs_and_later_tasks_are_not_trained(monkeypatch):
    plan = _plan(4, epochs=50)
    monkeypatch.setattr(tasks, "MIN_CHUNK_ROWS", 1)
    work = tasks.chunks(plan, jobs=4)  # one run per task
    calls = {"n": 0}

    def stop_after_some_updates() -> bool:
        calls["n"] += 1
        return calls["n"] > 10 * 25  # during the first task's 26th epoch (10 updates an epoch)

    results = sweep.execute(work, jobs=1, should_stop=stop_after_some_updates)
    first = results[0]
    assert first is not None and first[0].status == "interrupted"
    assert 0 < first[0].epochs_done < 50
    assert results[1:] == [None, None, None]
    outcomes, _ = sweep.collect(plan, work, results)
    statuses = sorted(o.status for o in outcomes)
    assert statuses == ["interrupted", "not_trained", "not_trained", "not_trained"]


def test_layout_puts_the_numeric_key_on_x():
    grids = [grid.parse("optimizer.name=sgd,adam"), grid.parse("optimizer.lr=0.1,0.2")]
    where = sweep.layout(grids)
    assert (where.heat_x, where.heat_y, where.line_x, where.lines) == (1, 0, 1, (0,))
    three = sweep.layout([*grids, grid.parse("regularizer.scale=0,0.1")])
    assert three.panels == (2,) and three.line_x == 1 and three.lines == (0, 2)
    words = sweep.layout([grid.parse("optimizer.name=sgd,adam")])
    assert words.heat_y is None and words.line_x is None


def test_ctrl_c_keeps_what_the_runs_did_and_exits_130(tmp_path):
    root = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "nnopt_cli",
        "sweep",
        L2,
        "--grid",
        "optimizer.lr=0.01,0.02",
        "--set",
        "train.epochs=1000000",
        "--runs-root",
        str(root),
        "--jobs",
        "1",
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = terminal.start(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (root.exists() and any(root.iterdir())):
        time.sleep(0.1)
    time.sleep(1.0)  # training is under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (folder,) = root.iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    rows = _rows(folder / "sweep.csv")
    assert [r["status"] for r in rows] == ["interrupted", "interrupted"]
    assert all(int(r["epochs_done"]) > 0 and math.isfinite(float(r["final_loss"])) for r in rows)


def test_dask_cluster_gives_the_local_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    args = [
        L2,
        "--grid",
        "optimizer.name=sgd,adam",
        "--grid",
        "optimizer.lr=0.01,0.1",
        "--set",
        "train.epochs=15",
    ]
    local = _sweep(tmp_path, *args, "--jobs", "1", root="local")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = _sweep(tmp_path, *args, "--scheduler", cluster.scheduler_address, root="remote")
    assert (local / "sweep.csv").read_bytes() == (remote / "sweep.csv").read_bytes()
    summary = json.loads((remote / "summary.json").read_text())
    assert summary["scheduler"] == cluster.scheduler_address


def test_unreachable_scheduler_is_one_line(tmp_path):
    pytest.importorskip("distributed")
    result = CliRunner().invoke(
        cli,
        [
            "sweep",
            L2,
            "--grid",
            "optimizer.lr=0.1",
            "--scheduler",
            "tcp://127.0.0.1:1",
            "--runs-root",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "cannot reach a Dask scheduler" in result.output
    assert not any(tmp_path.iterdir())


def test_replot_draws_the_sweeps_pictures_again_byte_for_byte(tmp_path):
    folder = _sweep(
        tmp_path,
        str(CONFIGS / "iris" / "sgd.yaml"),
        "--grid",
        "optimizer.name=sgd,sgdm",
        "--grid",
        "optimizer.lr=1e-2:1:3log",
        "--grid",
        "regularizer.scale=0,0.01",
        "--set",
        "train.epochs=12",
        "--set",
        "regularizer.type=l2",
        "--seeds",
        "2",
    )
    pictures = {p.name: p.read_bytes() for p in folder.glob("*.png")}
    assert set(pictures) == {"heatmap.png", "sensitivity.png", "curves.png"}
    for name in pictures:
        (folder / name).unlink()
    result = CliRunner().invoke(cli, ["replot", str(folder)])
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in folder.glob("*.png")} == pictures


def test_a_worker_that_dies_is_one_error_not_a_hang(monkeypatch):
    plan = _plan(4)
    monkeypatch.setattr(tasks, "MIN_CHUNK_ROWS", 1)
    work = tasks.chunks(plan, jobs=2)
    assert len(work) == 2

    def die(task, **_):
        os._exit(1)  # as the kernel's out-of-memory killer would end it

    monkeypatch.setattr(tasks, "train_task", die)
    with pytest.raises(tasks.Lost, match="a worker process died") as lost:
        sweep.execute(work, jobs=2)
    assert lost.value.results == [None, None]


def test_cells_where_a_seed_diverged_rank_after_those_where_none_did():
    plan = _plan(3)
    points = plan.points

    def outcome(i: int, status: str, loss: float | None) -> sweep.Outcome:
        metrics = {m: None for m in sweep.csv_metrics(plan)}
        metrics["final_loss"] = loss
        return sweep.Outcome(points[i], status, metrics)

    found = [
        sweep.Cell(points[0].values, [outcome(0, "completed", 0.5)]),
        sweep.Cell(points[1].values, [outcome(1, "completed", 0.1), outcome(1, "diverged", None)]),
        sweep.Cell(points[2].values, [outcome(2, "completed", 0.3)]),
    ]
    assert [c.values for c in sweep.ranked(found, "final_loss")] == [
        points[2].values,
        points[0].values,
        points[1].values,
    ]
    assert sweep.best_cell(found, "final_loss") is found[2]


def test_every_statistic_of_a_cell_is_over_the_same_runs():
    # the cell: 4 seeds, 3 diverged. The survivor ends at 0.0726 and was at best 0.07; the diverged
    # seeds' best losses before they blew up (3e15) are not averaged with it
    (point,) = _plan(1).points

    def outcome(status: str, final: float | None, best: float) -> sweep.Outcome:
        return sweep.Outcome(point, status, {"final_loss": final, "best_loss": best})

    cell = sweep.Cell(
        point.values, [outcome("completed", 0.0726, 0.07)] + [outcome("diverged", None, 3e15)] * 3
    )
    final, best = cell.stats("final_loss"), cell.stats("best_loss")
    assert (final.runs, final.diverged, final.mean) == (4, 3, 0.0726)
    assert (best.runs, best.diverged, best.mean, best.high) == (4, 3, 0.07, 0.07)
    columns = sweep.cell_columns(_plan(1), [cell])
    assert columns["runs"] == [4] and columns["diverged"] == [3]
    assert columns["best_loss_max"] == [0.07]


def _histories(plan: grid.Plan, final: dict[tuple[float, int], float]) -> dict[int, sweep.History]:
    out = {}
    for p in plan.points:
        v = final[(p.config.lr, p.seed)]
        out[p.index] = sweep.History(
            config=p.config,
            steps_per_epoch=1,
            epoch=[1, 2],
            step=[1, 2],
            lr=[p.config.lr] * 2,
            loss=[1.0, v],
            data_loss=[1.0, v],
            accuracy=[0.5, 0.5],
            status="completed",
        )
    return out


def test_curves_draw_every_seed_of_the_best_cell_not_the_best_single_run():
    plan = grid.plan(L2, ["optimizer.lr=0.01,0.1"], sets=["train.epochs=2"], seeds=2)
    # lr 0.01: 0.2 and 0.3 (mean 0.25); lr 0.1: 0.01 and 0.6 (mean 0.305). The best single run is at 0.1,
    # the best cell at 0.01
    histories = _histories(plan, {(0.01, 0): 0.2, (0.01, 1): 0.3, (0.1, 0): 0.01, (0.1, 1): 0.6})
    found = sweep.cells(plan, [sweep.outcome(p, histories[p.index]) for p in plan.points])
    chosen = sweep.curve_runs(plan, found, "final_loss", histories)
    assert [(label, histories[i].config.lr, histories[i].config.seed) for label, i, _ in chosen] == [
        ("optimizer.lr=0.01", 0.01, 0),
        ("optimizer.lr=0.01", 0.01, 1),
    ]
    columns = sweep.curves_columns(chosen, tested=False)
    assert set(columns["line"]) == {"optimizer.lr=0.01"}
    assert len(columns["run"]) == 2 * 3  # two runs, epochs 0, 1 and 2


def test_a_sweep_over_the_regularizer_ranks_by_the_data_loss_by_default():
    varied = grid.plan(L2, ["regularizer.scale=0,0.01"], sets=["train.epochs=2"])
    assert sweep.check_metric(None, varied) == "final_data_loss"
    assert sweep.check_metric("final_loss", varied) == "final_loss"  # --metric still decides
    assert (
        sweep.check_metric("test_loss", grid.plan(str(CONFIGS / "iris" / "sgd.yaml"), ["optimizer.lr=0.1"]))
        == "final_test_loss"
    )
    one_objective = grid.plan(L2, ["optimizer.lr=0.01,0.1"], sets=["train.epochs=2"])
    assert sweep.check_metric(None, one_objective) == "final_loss"


def test_a_regularized_sweep_writes_and_ranks_the_data_loss(tmp_path):
    folder = _sweep(tmp_path, L2, "--grid", "regularizer.scale=0,0.1", "--set", "train.epochs=30")
    summary = json.loads((folder / "summary.json").read_text())
    cells = _rows(folder / "cells.csv")
    assert summary["metric"] == "final_data_loss"
    data = {c["regularizer.scale"]: float(c["final_data_loss_mean"]) for c in cells}
    assert summary["best"]["value"] == min(data.values())
    runs = _rows(folder / "sweep.csv")
    # without a penalty the objective is the data loss; with one, the data loss is the smaller of the two
    for r in runs:
        if r["regularizer.scale"] == "0":
            assert r["final_loss"] == r["final_data_loss"]
        else:
            assert float(r["final_data_loss"]) < float(r["final_loss"])


def test_a_grid_key_of_no_effect_on_any_run_is_refused_and_nothing_written(tmp_path):
    # the README's example without an l2 penalty: three identical rows of the heatmap
    iris = str(CONFIGS / "iris" / "sgd.yaml")
    args = ["sweep", iris, "--grid", "optimizer.lr=1e-3:1:13log", "--grid", "regularizer.scale=0,0.01,0.03"]
    result = CliRunner().invoke(cli, [*args, "--runs-root", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert result.output == (
        "Error: --grid regularizer.scale: regularizer.scale has no effect while regularizer.type is none; "
        "set regularizer.type to l1 or l2\n"
    )
    assert not (tmp_path / "runs").exists()


def test_a_key_of_the_file_a_grid_value_switches_off_is_listed_on_the_terminal_and_in_summary(tmp_path):
    base = tmp_path / "adam.yaml"
    base.write_text("optimizer:\n  name: adam\n  lr: 0.02\n  beta1: 0.8\ntrain:\n  epochs: 2\n")
    args = ["sweep", str(base), "--grid", "optimizer.name=adam,sgd", "--runs-root", str(tmp_path / "runs")]
    result = CliRunner().invoke(cli, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    assert "dropped where it has no effect: optimizer.beta1: 0.8 (1 of 2 runs)" in result.output
    (folder,) = (tmp_path / "runs").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["dropped"] == {"optimizer.beta1": {"value": 0.8, "runs": 1}}


def test_a_set_only_some_grid_values_use_replots_byte_for_byte(tmp_path):
    # the base (constant) has no use for decay_steps and decay_rate; the exponential runs do, and a replot
    # resolves them again from config.yaml as the sweep did
    folder = _sweep(
        tmp_path,
        L2,
        "--grid",
        "schedule.type=constant,exponential",
        "--set",
        "schedule.decay_steps=10",
        "--set",
        "schedule.decay_rate=0.5",
        "--set",
        "train.epochs=6",
    )
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["dropped"] == {
        "schedule.decay_steps": {"value": 10, "runs": 1},
        "schedule.decay_rate": {"value": 0.5, "runs": 1},
    }
    pictures = {p.name: p.read_bytes() for p in folder.glob("*.png")}
    for name in pictures:
        (folder / name).unlink()
    result = CliRunner().invoke(cli, ["replot", str(folder)])
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in folder.glob("*.png")} == pictures


# --- issue 18: workers, pictures and schedulers ---------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc for the worker processes")
def test_kill_9_of_a_worker_is_one_error_not_a_hang(tmp_path):
    # issue 18.1: the executor sent SIGTERM to the other worker, which ignores it, and waited for ever
    root = tmp_path / "runs"
    args = ["--grid", "optimizer.lr=1e-3:1e-1:32log", "--seeds", "4", "--set", "train.epochs=100000"]
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nnopt_cli",
            "sweep",
            L2,
            *args,
            "--jobs",
            "2",
            "--runs-root",
            str(root),
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        for _ in range(600):  # until both workers are up (at most a minute)
            workers = _children(child.pid)
            if len(workers) >= 2 or child.poll() is not None:
                break
            time.sleep(0.1)
        assert len(workers) >= 2, "the workers did not start"
        os.kill(workers[0], signal.SIGKILL)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            for pid in _children(child.pid):
                os.kill(pid, signal.SIGKILL)
            child.kill()
            child.communicate()
    assert child.returncode == 4, err
    (line,) = err.strip().splitlines()
    assert line.startswith("Error: a worker process died while training") and "not_trained" in line
    (folder,) = root.iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted" and "a worker process died" in summary["failure"]
    with (folder / "sweep.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 128 and summary["not_trained"] == sum(r["status"] == "not_trained" for r in rows) > 0


def test_a_failed_write_in_a_worker_stops_every_worker_at_once(monkeypatch):
    # issue 18.4: a full disk in one task used to let every queued task train first
    import errno

    work = [tasks.Task((p.index,), (p.config,)) for p in _plan(6).points]
    first = work[0].indices

    def full_or_long(task, **_):
        if task.indices == first:
            raise OSError(errno.ENOSPC, "No space left on device", "runs/00000-seed0/metrics.csv")
        time.sleep(30)  # a task that trains for a long time
        return []

    monkeypatch.setattr(tasks, "train_task", full_or_long)
    started = time.perf_counter()
    with pytest.raises(OSError, match="No space left"):
        sweep.execute(work, jobs=2)
    assert time.perf_counter() - started < 25  # not after the queued tasks (2 rounds of 30 s)


def test_a_sensitivity_picture_that_fails_keeps_the_sweep(tmp_path, monkeypatch):
    # issue 18.2: the whole sweep folder was removed for one picture
    from nnopt_cli.figures import gridplots

    def overflow(*args, **kwargs):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(gridplots, "sensitivity", overflow)
    root = tmp_path / "runs"
    args = ["sweep", L2, "--grid", "optimizer.lr=0.01,0.1", "--set", "train.epochs=2", "--jobs", "1"]
    result = CliRunner().invoke(cli, [*args, "--runs-root", str(root), "-q"])
    assert result.exit_code == 4, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert "could not draw sensitivity.png (OverflowError: cannot convert" in line
    (folder,) = root.iterdir()
    assert {"sweep.csv", "cells.csv", "curves.csv", "heatmap.png", "curves.png"} <= {
        p.name for p in folder.iterdir()
    }
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["pictures_missing"] == {
        "sensitivity.png": "OverflowError: cannot convert float infinity to integer"
    }
    listed = CliRunner().invoke(cli, ["runs", str(root), "--format", "json"])
    assert json.loads(listed.output)[0]["status"] == "completed"
    monkeypatch.undo()
    again = CliRunner().invoke(cli, ["replot", str(folder)])
    assert again.exit_code == 0, again.output
    assert (folder / "sensitivity.png").is_file()
    assert "pictures_missing" not in json.loads((folder / "summary.json").read_text())


def test_the_sweep_whose_sensitivity_picture_overflowed_completes(tmp_path):
    # issue 18.2 as found: a run at 1e307 beside one at 7.7e-16 on a log axis
    folder = _sweep(
        tmp_path, L2, "--grid", "optimizer.lr=0.2,0.266896349831", "--set", "train.epochs=1", "--jobs", "1"
    )
    assert (folder / "sensitivity.png").is_file()
    assert "pictures_missing" not in json.loads((folder / "summary.json").read_text())


@pytest.mark.parametrize("address", ["foo bar", "", "http://127.0.0.1:80", "tcp://127.0.0.1:99999"])
def test_a_malformed_scheduler_address_is_one_line_and_leaves_nothing(tmp_path, address):
    # issue 18.5
    root = tmp_path / "runs"
    args = ["sweep", L2, "--grid", "optimizer.lr=0.1", "--scheduler", address, "--runs-root", str(root)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: --scheduler") and "not a scheduler address" in line
    assert not root.exists()


def test_a_closed_scheduler_port_is_one_line_at_once_and_leaves_nothing(tmp_path):
    # issue 18.5: Dask's 10 s of retries, then "Exception ignored in Client.__del__", and an empty runs root
    pytest.importorskip("distributed")
    root = tmp_path / "runs"
    args = ["--grid", "optimizer.lr=0.1", "--scheduler", "tcp://127.0.0.1:1", "--runs-root", str(root)]
    done = subprocess.run(
        [sys.executable, "-m", "nnopt_cli", "sweep", L2, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("Error: --scheduler tcp://127.0.0.1:1: cannot reach a Dask scheduler there")
    assert not root.exists()


def test_a_scheduler_that_goes_away_keeps_the_tasks_finished():
    # issue 18.5: a scheduler killed mid-sweep was 40 lines of tracebacks blaming "a task failed on a worker"
    from nnopt_cli.experiments import cluster

    plan = _plan(2)
    work = [tasks.Task((p.index,), (p.config,)) for p in plan.points]

    class Future:
        def __init__(self, done: bool) -> None:
            self.status = "finished" if done else "pending"

        def done(self) -> bool:
            return self.status == "finished"

        def result(self, timeout=None):
            return [done]

    class Client:
        status = "running"
        submitted = 0

        def submit(self, fn, task, **_):
            self.submitted += 1
            return Future(done=self.submitted == 1)

    done = types.SimpleNamespace(status="completed")
    client = Client()

    def lose_the_scheduler(done: float) -> None:
        client.status = "closed"

    with pytest.raises(tasks.Lost, match="the Dask scheduler went away") as lost:
        cluster.execute(work, client, "tcp://127.0.0.1:8786", progress=lose_the_scheduler)
    assert lost.value.results == [[done], None]


ROSENBROCK = str(CONFIGS / "rosenbrock.yaml")


def test_a_surface_sweep_is_one_population_whose_rows_equal_train_bit_for_bit(tmp_path):
    grid = ["--grid", "optimizer.lr=0.0003,0.001,0.003", "--grid", "optimizer.beta=0.5,0.9"]
    args = [ROSENBROCK, "--set", "optimizer.name=sgdm", "--set", "train.steps=300", *grid, "--save-runs"]
    folder = _sweep(tmp_path, *args)
    rows = _rows(folder / "sweep.csv")
    assert len(rows) == 6 and {r["status"] for r in rows} == {"completed"}
    assert list(rows[0])[5:] == [
        "final_loss",
        "best_loss",
        "final_distance",
        "target_step",
        "steps_done",
        "diverged_step",
        "folder",
    ]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["populations"] == 1 and summary["metric"] == "final_loss"
    for row in (rows[0], rows[5]):
        sets = ["optimizer.name=sgdm", "train.steps=300"]
        sets += [f"optimizer.lr={row['optimizer.lr']}", f"optimizer.beta={row['optimizer.beta']}"]
        alone = _train(tmp_path, ROSENBROCK, sets)
        trajectory = (alone / "trajectory.csv").read_bytes()
        assert (folder / row["folder"] / "trajectory.csv").read_bytes() == trajectory
        last = _rows(alone / "trajectory.csv")[-1]
        assert float(row["final_loss"]) == float(last["loss"]) and row["steps_done"] == last["step"]
        assert float(row["final_distance"]) == math.hypot(float(last["x"]) - 1, float(last["y"]) - 1)
    assert {p.name for p in folder.glob("*.png")} == {"heatmap.png", "sensitivity.png"}
    before = (folder / "heatmap.png").read_bytes()
    result = CliRunner().invoke(cli, ["replot", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "heatmap.png").read_bytes() == before


def test_a_surface_sweep_refuses_a_networks_metric_in_one_line(tmp_path):
    args = ["sweep", ROSENBROCK, "--grid", "optimizer.lr=0.01,0.1", "--metric", "final_accuracy"]
    result = CliRunner().invoke(cli, [*args, "--runs-root", str(tmp_path)])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith(
        "Error: --metric final_accuracy: a path on a surface has no final_accuracy; its metrics: final_loss, "
        "best_loss, final_distance, target_step"
    )
    assert not list(tmp_path.iterdir())
