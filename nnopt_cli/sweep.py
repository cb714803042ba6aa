"""`nnopt sweep`: every point of a grid trained, as few populations as the shapes allow, and summarized.

    plan (grid.py) ──► tasks: runs of one population key, in chunks ──► histories (local processes or Dask)
                   ──► one outcome per run (sweep.csv) ──► cells over seeds (cells.csv) ──► pictures, summary

Runs of equal `loop.population_key` train as rows of one population, so that a grid costs a few passes per
batch instead of one per run; every row still ends bit for bit where `nnopt train` of its config ends. A
population is cut into chunks that fit in memory and keep every worker busy. Nothing here prints; the
command line reports progress through a callback.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import __version__, experiment, loop, runs, workers
from nnopt_cli import compare as compare_mod
from nnopt_cli.config import Config
from nnopt_cli.grid import Grid, Plan, Point, yaml_text
from nnopt_cli.loop import History

# name: (what the pictures call it, whether higher is better, whether it needs a test split)
METRICS: dict[str, tuple[str, bool, bool]] = {
    "final_loss": ("final loss (training rows)", False, False),
    "best_loss": ("best loss over the epochs", False, False),
    "final_accuracy": ("final training accuracy", True, False),
    "test_accuracy": ("final test accuracy", True, True),
    "test_loss": ("final test data loss", False, True),
    "converged_epoch": ("converged epoch", False, False),
}
TABLE_CELLS = 10  # the terminal's table shows the best cells, this many
MIN_CHUNK_ROWS = 32  # below this many rows, a population's cost per run climbs steeply
# a chunk whose mini-batch activations take about this much trains fastest per run: they stay in the cache
# (2-11-1 at batch 32: about 100 rows; a population of 256 rows costs a quarter more per run)
CACHE_BYTES = 1 << 21
_ACTIVATION_ARRAYS = 6  # arrays of a pass shaped like the activations: z, a, act', dz, and their neighbours
NOT_TRAINED = "not_trained"


class SweepError(ValueError):
    """A sweep that cannot run (a metric the data cannot give, an unreachable scheduler); one line."""


def check_metric(metric: str, plan: Plan) -> None:
    if metric not in METRICS:
        from nnopt_cli import checks

        raise SweepError(f"--metric {metric}: {checks.did_you_mean(metric, list(METRICS))}")
    if METRICS[metric][2] and not any(p.config.test_size for p in plan.points):
        raise SweepError(f"--metric {metric}: no run has a test split; set data.test_size (e.g. 0.2)")


def check_setup(plan: Plan) -> None:
    """Load every data set and build every network shape once, so that a data file or init_from file that
    cannot be used, or a network too large for memory, is refused before anything is written.

    Raises:
      data.DataError, experiment.SetupError.
    """
    seen: dict[tuple[object, ...], Config] = {}
    for p in plan.points:
        seen.setdefault((loop.population_key(p.config), p.config.init_from, p.config.plot_features), p.config)
    experiment.prepare(list(seen.values()))


@dataclass(frozen=True)
class Task:
    """Rows trained together: their grid indices and configs; run folders to write with --save-runs."""

    indices: tuple[int, ...]
    configs: tuple[Config, ...]
    folders: tuple[Path, ...] | None = None

    @property
    def epochs(self) -> int:
        return self.configs[0].epochs


def tasks(plan: Plan, *, jobs: int) -> list[Task]:
    """The populations of the plan (runs of equal population key, in grid order), cut into chunks that fit
    in memory, train fastest (CACHE_BYTES) and leave no worker idle; the largest first."""
    by_key: dict[tuple[object, ...], list[Point]] = {}
    for p in plan.points:
        by_key.setdefault(loop.population_key(p.config), []).append(p)
    budget = experiment.memory_bytes() // 2 // max(1, jobs)
    loaded: dict[tuple[object, ...], experiment.Data] = {}
    out = []
    for points in by_key.values():
        first = points[0].config
        if first.data_key() not in loaded:
            loaded[first.data_key()] = experiment.load_data(first)
        d = loaded[first.data_key()]
        per_row = experiment.row_bytes(first, d.full, d.train.size)
        fit = max(1, budget // per_row)
        active = 8 * _ACTIVATION_ARRAYS * sum(experiment.layer_widths(first, d.full)) * first.batch_size
        fast = max(MIN_CHUNK_ROWS, CACHE_BYTES // active)
        count = max(
            math.ceil(len(points) / fit),
            math.ceil(len(points) / fast),
            min(jobs, len(points) // MIN_CHUNK_ROWS),
            1,
        )
        if count > jobs > 1:  # whole rounds of chunks, so that no worker is left alone at the end
            count = min(len(points), math.ceil(count / jobs) * jobs)
        size = math.ceil(len(points) / count)
        for start in range(0, len(points), size):
            chunk = points[start : start + size]
            out.append(Task(tuple(p.index for p in chunk), tuple(p.config for p in chunk)))
    return sorted(out, key=lambda t: -len(t.indices) * t.epochs)


def with_folders(work: Sequence[Task], plan: Plan, root: Path) -> list[Task]:
    """The tasks, each writing a run folder per run under `root` (--save-runs)."""
    return [
        replace(t, folders=tuple(root / run_folder_name(plan.points[i]) for i in t.indices)) for t in work
    ]


def run_folder_name(point: Point) -> str:
    return f"{point.index:05d}-seed{point.seed}"


def train_task(
    task: Task,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_epoch: loop.EpochCallback | None = None,
) -> list[History]:
    """Train one task's rows as one population and return their histories, light: per-epoch metrics kept,
    the per-update arrays and the weights dropped (with --save-runs, after its run folders are written)."""
    started = time.perf_counter()
    (group,) = experiment.prepare(list(task.configs))
    histories = loop.run(list(task.configs), group.prepared, on_epoch=on_epoch, should_stop=should_stop)
    if task.folders is not None:
        for folder, h in zip(task.folders, histories, strict=True):
            folder.mkdir(parents=True)
            runs.write_start(folder, h.config)
            runs.write_data(folder, h)
            runs.write_summary(folder, h, started=started, clock=time.perf_counter)
    return [_light(h) for h in histories]


def _light(h: History) -> History:
    h.lr_trace = np.zeros(0)
    if hasattr(h, "batch_loss"):
        h.batch_loss = np.zeros(0)
    h.params = {}
    h.params_ema = None
    return h


# Progress: (runs done, counting a run part-way trained as its fraction of its epochs).
Progress = Callable[[float], None]


def execute(
    work: Sequence[Task],
    *,
    jobs: int,
    scheduler: str | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Progress | None = None,
) -> list[list[History] | None]:
    """Train every task: in this process (jobs 1, or a single task), in `jobs` worker processes, or on a
    Dask cluster (`scheduler`: its address). Returns each task's histories, in task order; None for a task
    that an interruption left untrained. After `should_stop` says True, running tasks stop at their next
    update (their rows "interrupted", keeping their last whole epoch) and no new task starts."""
    if scheduler is not None:
        from nnopt_cli import cluster

        return cluster.execute(work, scheduler, should_stop=should_stop, progress=progress)
    if jobs <= 1 or len(work) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return _in_process(work, should_stop=should_stop, progress=progress)
    return _in_workers(work, jobs, should_stop=should_stop, progress=progress)


def _in_process(
    work: Sequence[Task], *, should_stop: Callable[[], bool] | None, progress: Progress | None
) -> list[list[History] | None]:
    out: list[list[History] | None] = []
    done = 0.0
    stopping = should_stop or (lambda: False)
    for task in work:
        if stopping():
            out.append(None)
            continue

        def on_epoch(epoch: int, histories: Sequence[History], task: Task = task, base: float = done) -> None:
            if progress is not None:
                progress(base + len(task.indices) * epoch / task.epochs)

        got = train_task(task, should_stop=should_stop, on_epoch=on_epoch)
        out.append(got)
        done += runs_done(got)
        if progress is not None:
            progress(done)
    return out


def runs_done(histories: Sequence[History] | None) -> float:
    """What a task's histories count for on the progress bar: a run that completed or diverged is done, an
    interrupted one counts as the fraction of its epochs it trained."""
    if histories is None:
        return 0.0
    return sum(
        1.0 if h.status in ("completed", "diverged") else h.epochs_done / h.config.epochs for h in histories
    )


# What a worker process shares with the main process: a stop flag it reads after every update, and the
# epochs done by the task in each slot, which the main process turns into the progress bar.
_shared: dict[str, Any] = {}


def _worker_start(stop: Any, epochs: Any) -> None:
    workers.start()  # signals are the main process's to decide on: it sets the stop flag
    _shared["stop"], _shared["epochs"] = stop, epochs


def _worker_task(slot: int, task: Task) -> list[History] | None:
    stop, epochs = _shared["stop"], _shared["epochs"]
    if stop.value:
        return None

    def on_epoch(epoch: int, histories: Sequence[History]) -> None:
        epochs[slot] = epoch

    return train_task(task, should_stop=lambda: bool(stop.value), on_epoch=on_epoch)


def _in_workers(
    work: Sequence[Task],
    jobs: int,
    *,
    should_stop: Callable[[], bool] | None,
    progress: Progress | None,
) -> list[list[History] | None]:
    """The tasks in `jobs` forked worker processes, the largest first. The workers leave when the pool is
    shut down (never by a signal, which they ignore); a worker that dies (killed, out of memory) is one
    SweepError, not a wait that never ends."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("fork")
    stop = context.RawValue("b", 0)
    epochs = context.RawArray("d", len(work))
    results: dict[int, list[History] | None] = {}
    with ProcessPoolExecutor(
        min(jobs, len(work)), mp_context=context, initializer=_worker_start, initargs=(stop, epochs)
    ) as pool:
        futures = {pool.submit(_worker_task, i, task): i for i, task in enumerate(work)}
        pending = set(futures)
        while pending:
            if should_stop is not None and should_stop():
                stop.value = 1
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for f in done:
                try:
                    results[futures[f]] = f.result()
                except BrokenProcessPool:
                    stop.value = 1
                    raise SweepError(
                        "a worker process died while training (killed, or out of memory); try fewer --jobs"
                    ) from None
            if progress is not None:
                running = [futures[f] for f in pending]
                progress(
                    sum(runs_done(got) for got in results.values())
                    + sum(len(work[i].indices) * epochs[i] / work[i].epochs for i in running)
                )
    return [results[i] for i in range(len(work))]


@dataclass
class Outcome:
    """One run of the grid as sweep.csv reports it."""

    point: Point
    status: str
    metrics: dict[str, float | None]
    epochs_done: int = 0
    diverged_epoch: int | None = None


def outcome(point: Point, h: History | None) -> Outcome:
    """A run's final numbers: the last epoch's loss, accuracy and test measures (none for a diverged run,
    whose outputs are NaN), its best loss, and its converged epoch (as `nnopt compare` defines it)."""
    if h is None:
        return Outcome(point, NOT_TRAINED, {m: None for m in METRICS})
    usable = h.status != "diverged"
    finite = [v for v in h.loss if math.isfinite(v)]
    converged = None
    if h.status == "completed":
        converged = (
            compare_mod.settled_epoch(h.test_accuracy) if h.with_test else compare_mod.converged_epoch(h.loss)
        )
    metrics: dict[str, float | None] = {
        "final_loss": _finite(h.loss[-1]) if h.loss and usable else None,
        "best_loss": min(finite) if finite else None,
        "final_accuracy": _finite(h.accuracy[-1]) if h.accuracy and usable else None,
        "test_loss": _finite(h.test_loss[-1]) if h.test_loss and usable else None,
        "test_accuracy": _finite(h.test_accuracy[-1]) if h.test_accuracy and usable else None,
        "converged_epoch": float(converged) if converged is not None else None,
    }
    return Outcome(point, h.status, metrics, h.epochs_done, h.diverged_epoch)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass
class Cell:
    """One grid cell (one value of every grid key) over its seeds."""

    values: tuple[Any, ...]
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def runs(self) -> int:
        return sum(o.status != NOT_TRAINED for o in self.outcomes)

    @property
    def diverged(self) -> int:
        return sum(o.status == "diverged" for o in self.outcomes)

    def finite(self, metric: str) -> np.ndarray:
        return np.array([v for o in self.outcomes if (v := o.metrics[metric]) is not None], dtype=float)

    def stats(self, metric: str) -> tuple[float, float, float, float]:
        """Mean, std, min and max over the seeds that gave a value; NaN for none."""
        v = self.finite(metric)
        if v.size == 0:
            return (math.nan,) * 4
        return float(v.mean()), float(v.std()), float(v.min()), float(v.max())


def cells(plan: Plan, outcomes: Sequence[Outcome]) -> list[Cell]:
    by_values: dict[tuple[Any, ...], Cell] = {}
    for o in outcomes:
        key = tuple(yaml_text(v) for v in o.point.values)
        by_values.setdefault(key, Cell(o.point.values)).outcomes.append(o)
    return list(by_values.values())


def best_cell(found: Sequence[Cell], metric: str) -> Cell | None:
    """The first of `ranked`; None when no cell has a value."""
    order = ranked(found, metric)
    return order[0] if order else None


def ranked(found: Sequence[Cell], metric: str) -> list[Cell]:
    """The cells with a value, best first: those where no seed diverged by their mean metric, then those
    where some did (their mean is over the seeds that survived, a less reliable number), each in grid order
    among equals. heatmap.png frames the first, as the best cell."""
    higher = METRICS[metric][1]
    with_value = [(c.stats(metric)[0], i, c) for i, c in enumerate(found)]
    with_value = [t for t in with_value if not math.isnan(t[0])]
    with_value.sort(key=lambda t: (t[2].diverged > 0, -t[0] if higher else t[0], t[1]))
    return [c for _, _, c in with_value]


# --- files ------------------------------------------------------------------------------------------


def with_test(plan: Plan) -> bool:
    return any(p.config.test_size for p in plan.points)


def csv_metrics(plan: Plan, tested: bool | None = None) -> list[str]:
    """The metrics of sweep.csv and cells.csv: the test ones when any run has a test split."""
    names = ["final_loss", "best_loss", "final_accuracy"]
    if with_test(plan) if tested is None else tested:
        names += ["test_loss", "test_accuracy"]
    return names + ["converged_epoch"]


def sweep_columns(plan: Plan, outcomes: Sequence[Outcome], *, saved: bool) -> dict[str, list[Any]]:
    """sweep.csv: one row per run: its index, each grid key's value (as YAML text: what --set takes), the
    seed, the status, every metric and the epochs done; the run folder with --save-runs."""
    columns: dict[str, list[Any]] = {"run": [o.point.index for o in outcomes]}
    for i, g in enumerate(plan.grids):
        columns[g.key] = [yaml_text(o.point.values[i]) for o in outcomes]
    columns["seed"] = [o.point.seed for o in outcomes]
    columns["status"] = [o.status for o in outcomes]
    for m in csv_metrics(plan):
        columns[m] = [_metric_text(m, o.metrics[m]) for o in outcomes]
    columns["epochs_done"] = [o.epochs_done for o in outcomes]
    columns["diverged_epoch"] = ["" if o.diverged_epoch is None else o.diverged_epoch for o in outcomes]
    if saved:
        columns["folder"] = [f"runs/{run_folder_name(o.point)}" for o in outcomes]
    return columns


def _metric_text(metric: str, value: float | None) -> Any:
    if value is None or not math.isfinite(value):
        return ""
    if metric == "converged_epoch":
        return int(value)
    return float(value)


def cell_columns(plan: Plan, found: Sequence[Cell]) -> dict[str, list[Any]]:
    """cells.csv: one row per grid cell: its grid values, the number of runs and of diverged runs, then the
    mean, std, min and max over seeds of every metric (over the seeds that gave a value)."""
    columns: dict[str, list[Any]] = {}
    for i, g in enumerate(plan.grids):
        columns[g.key] = [yaml_text(c.values[i]) for c in found]
    columns["runs"] = [c.runs for c in found]
    columns["diverged"] = [c.diverged for c in found]
    for m in csv_metrics(plan):
        stats = [c.stats(m) for c in found]
        for j, name in enumerate(("mean", "std", "min", "max")):
            columns[f"{m}_{name}"] = [_stat_text(s[j]) for s in stats]
    return columns


def _stat_text(value: float) -> Any:
    return "" if not math.isfinite(value) else float(value)


def write_start(folder: Path, plan: Plan, *, metric: str) -> None:
    """config.yaml of a sweep: the command's inputs (base file, --set, grids, seeds, metric) and the resolved
    base config."""
    import yaml

    from nnopt_cli import config as config_mod

    content = {
        "config": plan.config_file,
        "set": list(plan.sets),
        "grid": {g.key: list(g.values) for g in plan.grids},
        "log_spaced": [g.key for g in plan.grids if g.log],
        "seeds": list(plan.seeds),
        "metric": metric,
        # with the keys of no effect on the base that a grid value switches on, as the runs were resolved
        "base": config_mod.with_values(plan.base.to_dict(), plan.base_dropped),
    }
    runs.write_text(folder / "config.yaml", yaml.safe_dump(content, sort_keys=False, default_flow_style=None))


def summary(
    plan: Plan,
    outcomes: Sequence[Outcome],
    found: Sequence[Cell],
    *,
    metric: str,
    train_seconds: float,
    total_seconds: float,
    jobs: int,
    scheduler: str | None,
    task_count: int,
) -> dict[str, Any]:
    statuses = [o.status for o in outcomes]
    best = best_cell(found, metric)
    trained = len(outcomes) - statuses.count(NOT_TRAINED)
    out: dict[str, Any] = {
        "kind": "sweep",
        "name": plan.base.name,
        "status": "completed"
        if trained == len(outcomes) and "interrupted" not in statuses
        else "interrupted",
        "runs": len(outcomes),
        "completed": statuses.count("completed"),
        "diverged": statuses.count("diverged"),
        "interrupted": statuses.count("interrupted"),
        "not_trained": statuses.count(NOT_TRAINED),
        "cells": len(found),
        "seeds": len(plan.seeds),
        "grid": {g.key: list(g.values) for g in plan.grids},
        "metric": metric,
        "best": None,
        "dropped": plan.dropped,  # keys of the file or a --set that a grid value switches off, per run count
        "populations": task_count,
        "jobs": jobs,
        "scheduler": scheduler,
        "train_seconds": round(train_seconds, 6),
        "runs_per_second": round(trained / train_seconds, 3) if train_seconds > 0 else None,
        "total_seconds": round(total_seconds, 6),
        "nnopt_version": __version__,
        "numpy_version": np.__version__,
    }
    if best is not None:
        mean, std, low, high = best.stats(metric)
        out["best"] = {
            "metric": metric,
            "value": mean,
            "std": std,
            "cell": {g.key: v for g, v in zip(plan.grids, best.values, strict=True)},
            "runs": best.runs,
            "diverged": best.diverged,
        }
    return out


# --- pictures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Which grid keys the pictures put where: the heatmap's x and y (None for one key) and panels, the
    sensitivity picture's x (the first numeric key; None if there is none) and its lines (the others)."""

    heat_x: int
    heat_y: int | None
    panels: tuple[int, ...]
    line_x: int | None
    lines: tuple[int, ...]


def layout(grids: Sequence[Grid]) -> Layout:
    numeric = [i for i, g in enumerate(grids) if g.numeric and len(g.values) > 1]
    first_two = list(range(min(2, len(grids))))
    heat_x = next((i for i in first_two if i in numeric), first_two[0])
    others = [i for i in first_two if i != heat_x]
    heat_y = others[0] if others else None
    panels = tuple(range(2, len(grids)))
    line_x = numeric[0] if numeric else None
    lines = tuple(i for i in range(len(grids)) if i != line_x)
    return Layout(heat_x, heat_y, panels, line_x, lines)


def figure_jobs(
    folder: Path, plan: Plan, found: Sequence[Cell], best_runs: dict[str, History], *, metric: str
) -> list[Any]:
    """heatmap.png, sensitivity.png (with a numeric grid key) and curves.png, as report.draw jobs (each job's
    first argument is the file it writes)."""
    where = layout(plan.grids)
    label, higher, _ = METRICS[metric]
    title = _title(plan, metric)
    jobs: list[Any] = []
    x = _axis(plan.grids[where.heat_x])
    y = _axis(plan.grids[where.heat_y]) if where.heat_y is not None else None
    panels = _panels(plan, found, where, metric)
    jobs.append(
        (
            draw_heatmap,
            (
                folder / "heatmap.png",
                dict(title=title, metric_label=label, higher_is_better=higher, x=x, y=y, panels=panels),
            ),
        )
    )
    if where.line_x is not None:
        jobs.append(
            (
                draw_sensitivity,
                (
                    folder / "sensitivity.png",
                    dict(
                        title=title,
                        metric_label=label,
                        higher_is_better=higher,
                        x=_axis(plan.grids[where.line_x]),
                        lines=_lines(plan, found, where, metric),
                        log_y=not higher and metric != "converged_epoch",
                        line_key=plan.grids[where.lines[0]].key if len(where.lines) == 1 else "",
                    ),
                ),
            )
        )
    if best_runs:
        what = "line of sensitivity.png" if where.line_x is not None else "cell"
        title = f"The best run (by {metric}) of each {what}"
        jobs.append((draw_curves, (folder / "curves.png", best_runs, title)))
    return jobs


def draw_heatmap(path: Path, arguments: dict[str, Any]) -> None:
    from nnopt_cli import gridplots

    gridplots.heatmap(path, **arguments)


def draw_sensitivity(path: Path, arguments: dict[str, Any]) -> None:
    from nnopt_cli import gridplots

    gridplots.sensitivity(path, **arguments)


def draw_curves(path: Path, best_runs: dict[str, History], title: str) -> None:
    from nnopt_cli import report

    report.draw_comparison(path.parent, list(best_runs), list(best_runs.values()), 1, path=path, title=title)


def _title(plan: Plan, metric: str) -> str:
    sizes = " × ".join(f"{len(g.values)} {g.key}" for g in plan.grids)
    seeds = f" × {len(plan.seeds)} seeds" if len(plan.seeds) > 1 else ""
    return f"{plan.base.name}: {sizes}{seeds}; {METRICS[metric][0]}" + (
        ", mean over seeds" if len(plan.seeds) > 1 else ""
    )


def _axis(g: Grid) -> Any:
    from nnopt_cli import gridplots

    values = tuple(float(v) for v in g.values) if g.numeric else None
    return gridplots.Axis(g.key, g.labels, values, g.spans_decades())


def _index(plan: Plan, found: Sequence[Cell]) -> dict[tuple[int, ...], Cell]:
    """Each cell by the positions of its values in the grids."""
    positions = [{yaml_text(v): i for i, v in enumerate(g.values)} for g in plan.grids]
    return {tuple(positions[k][yaml_text(v)] for k, v in enumerate(c.values)): c for c in found}


def _cell_at(by_position: dict[tuple[int, ...], Cell], keys: int, placed: dict[int, int]) -> Cell | None:
    """The cell whose value of grid key k is at position placed[k] (every key placed), if it was run."""
    return by_position.get(tuple(placed[k] for k in range(keys)))


def _panels(plan: Plan, found: Sequence[Cell], where: Layout, metric: str) -> list[Any]:
    import itertools

    from nnopt_cli import gridplots

    by_position = _index(plan, found)
    nx = len(plan.grids[where.heat_x].values)
    ny = len(plan.grids[where.heat_y].values) if where.heat_y is not None else 1
    out = []
    for rest in itertools.product(*(range(len(plan.grids[k].values)) for k in where.panels)):
        mean = np.full((ny, nx), np.nan)
        diverged = np.zeros((ny, nx), dtype=int)
        counts = np.zeros((ny, nx), dtype=int)
        for iy in range(ny):
            for ix in range(nx):
                placed = {where.heat_x: ix, **dict(zip(where.panels, rest, strict=True))}
                if where.heat_y is not None:
                    placed[where.heat_y] = iy
                cell = _cell_at(by_position, len(plan.grids), placed)
                if cell is None:
                    continue
                mean[iy, ix] = cell.stats(metric)[0]
                diverged[iy, ix] = cell.diverged
                counts[iy, ix] = cell.runs
        title = ", ".join(
            f"{plan.grids[k].key} = {plan.grids[k].labels[r]}"
            for k, r in zip(where.panels, rest, strict=True)
        )
        out.append(gridplots.Panel(title, mean, diverged, counts))
    return out


def line_keys(plan: Plan, where: Layout) -> tuple[int, ...]:
    """The grid keys that tell the lines of sensitivity.png (and of curves.png) apart: every key but the
    numeric one across, or, without one, every key (a line per cell)."""
    return where.lines if where.line_x is not None else tuple(range(len(plan.grids)))


def line_label(plan: Plan, keys: tuple[int, ...], values: Sequence[Any]) -> str:
    """A line's legend: the value of its one key, or key=value of each of several."""
    shown = [(plan.grids[k].key, plan.grids[k].labels[plan.grids[k].values.index(values[k])]) for k in keys]
    return ", ".join(value if len(keys) == 1 else f"{key}={value}" for key, value in shown)


def _lines(plan: Plan, found: Sequence[Cell], where: Layout, metric: str) -> list[Any]:
    import itertools

    from nnopt_cli import gridplots

    assert where.line_x is not None
    by_position = _index(plan, found)
    nx = len(plan.grids[where.line_x].values)
    out = []
    for rest in itertools.product(*(range(len(plan.grids[k].values)) for k in where.lines)):
        stats = np.full((4, nx), np.nan)
        diverged = np.zeros(nx, dtype=int)
        counts = np.zeros(nx, dtype=int)
        for ix in range(nx):
            placed = {where.line_x: ix, **dict(zip(where.lines, rest, strict=True))}
            cell = _cell_at(by_position, len(plan.grids), placed)
            if cell is None:
                continue
            stats[:, ix] = cell.stats(metric)
            diverged[ix] = cell.diverged
            counts[ix] = cell.runs
        values = [None] * len(plan.grids)
        for k, r in zip(where.lines, rest, strict=True):
            values[k] = plan.grids[k].values[r]
        name = line_label(plan, where.lines, values)
        out.append(gridplots.Line(name, stats[0], stats[2], stats[3], diverged, counts))
    return out


class BestRuns:
    """The best run of each line so far, by the metric: what curves.png draws, kept while results arrive
    so that a sweep of thousands of runs never holds thousands of histories."""

    LIMIT = 12  # curves.png draws the best lines, at most this many

    def __init__(self, plan: Plan, metric: str) -> None:
        self.plan, self.metric = plan, metric
        self.where = layout(plan.grids)
        self.higher = METRICS[metric][1]
        self.best: dict[str, tuple[float, int, History]] = {}
        self._keys = line_keys(plan, self.where)
        self._places: dict[str, tuple[int, ...]] = {}

    def offer(self, o: Outcome, h: History) -> None:
        value = o.metrics[self.metric]
        if value is None:
            return
        key = line_label(self.plan, self._keys, o.point.values) or self.plan.base.name
        held = self.best.get(key)
        if held is None or (value > held[0] if self.higher else value < held[0]):
            self.best[key] = (value, o.point.index, h)
            # the line's place among the lines: its values' positions in their grids (sensitivity.png's order)
            self._places[key] = tuple(self.plan.grids[k].values.index(o.point.values[k]) for k in self._keys)

    def histories(self) -> dict[str, tuple[int, History]]:
        """The best runs of the best lines (at most LIMIT), in the lines' order (so that each keeps its colour
        of sensitivity.png), labelled, with their run index and their rates (recomputed from their
        configs)."""
        order = sorted(self.best.items(), key=lambda kv: -kv[1][0] if self.higher else kv[1][0])
        chosen = sorted(order[: self.LIMIT], key=lambda kv: self._places[kv[0]])
        out = {}
        for key, (_, index, h) in chosen:
            h.lr_trace = loop.learning_rates(h.config, h.steps_done, h.steps_per_epoch)
            out[f"{key} seed {h.config.seed}"] = (index, h)
        return out


def collect(
    plan: Plan, work: Sequence[Task], results: Sequence[list[History] | None], metric: str
) -> tuple[list[Outcome], BestRuns]:
    """Every run's outcome in grid order, and the best run of each line."""
    histories: dict[int, History] = {}
    for task, got in zip(work, results, strict=True):
        if got is not None:
            histories.update(zip(task.indices, got, strict=True))
    best = BestRuns(plan, metric)
    outcomes = []
    for p in plan.points:
        h = histories.get(p.index)
        o = outcome(p, h)
        outcomes.append(o)
        if h is not None:
            best.offer(o, h)
    return outcomes, best


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


CURVE_MEASURES = ("loss", "data_loss", "accuracy", "test_loss", "test_accuracy")


def curves_columns(best_runs: dict[str, tuple[int, History]], *, tested: bool) -> dict[str, list[Any]]:
    """curves.csv: the per-epoch measures of the runs curves.png draws, so that the picture can be drawn
    again from the folder: one row per run and epoch, from epoch 0 (before the first update, no step or rate
    yet), with the line's label, the run's index in sweep.csv, its status and diverged epoch."""
    names = [m for m in CURVE_MEASURES if tested or not m.startswith("test_")]
    columns: dict[str, list[Any]] = {
        k: [] for k in ("line", "run", "status", "diverged_epoch", "epoch", "step", "lr", *names)
    }
    for label, (index, h) in best_runs.items():
        rows: list[tuple[Any, Any, Any, dict[str, Any]]] = [
            (0, "", "", {m: h.start.get(m, "") for m in names})
        ]
        for i in range(h.epochs_done):
            rows.append((h.epoch[i], h.step[i], h.lr[i], {m: getattr(h, m)[i] for m in names}))
        for epoch, step, lr, measures in rows:
            columns["line"].append(label)
            columns["run"].append(index)
            columns["status"].append(h.status)
            columns["diverged_epoch"].append("" if h.diverged_epoch is None else h.diverged_epoch)
            columns["epoch"].append(epoch)
            columns["step"].append(step)
            columns["lr"].append(lr)
            for m in names:
                columns[m].append(measures[m])
    return columns


def write_results(
    folder: Path,
    plan: Plan,
    work: Sequence[Task],
    results: Sequence[list[History] | None],
    *,
    metric: str,
    saved: bool,
    train_seconds: float,
    started: float,
    jobs: int,
    scheduler: str | None,
) -> tuple[dict[str, Any], list[Cell]]:
    """sweep.csv, cells.csv, curves.csv, the pictures and, last, summary.json. Returns the summary and the
    cells."""
    import json

    from nnopt_cli import report

    outcomes, best = collect(plan, work, results, metric)
    found = cells(plan, outcomes)
    runs.write_csv(folder / "sweep.csv", sweep_columns(plan, outcomes, saved=saved))
    runs.write_csv(folder / "cells.csv", cell_columns(plan, found))
    best_runs = best.histories()
    runs.write_csv(folder / "curves.csv", curves_columns(best_runs, tested=with_test(plan)))
    report.draw(figure_jobs(folder, plan, found, {k: h for k, (_, h) in best_runs.items()}, metric=metric))
    content = summary(
        plan,
        outcomes,
        found,
        metric=metric,
        train_seconds=train_seconds,
        total_seconds=time.perf_counter() - started,
        jobs=jobs,
        scheduler=scheduler,
        task_count=len(work),
    )
    runs.write_text(folder / "summary.json", json.dumps(content, indent=2) + "\n")
    return content, found


# --- drawing a finished sweep again ----------------------------------------------------------------


def redraw(folder: Path) -> list[Path]:
    """Draw a sweep folder's heatmap.png, sensitivity.png and curves.png again from its config.yaml,
    sweep.csv and curves.csv, without training: the same figures the sweep drew.

    Raises:
      SweepError: a file missing or unreadable, naming it.
    """

    import yaml

    from nnopt_cli import config as config_mod
    from nnopt_cli import report

    where = folder / "config.yaml"
    try:
        content = yaml.safe_load(where.read_text(encoding="utf-8"))
        base_raw = content["base"]
        base = config_mod.from_dict(base_raw, name=base_raw["name"], drop_all=True)
        log = set(content.get("log_spaced") or ())
        grids = tuple(
            Grid(key, tuple(values), tuple(yaml_text(v) for v in values), key in log)
            for key, values in content["grid"].items()
        )
        metric = content["metric"]
        plan_seeds = tuple(content["seeds"])
        file, sets = content["config"], tuple(content["set"])
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise SweepError(f"{where}: not a sweep's config.yaml ({_why(exc)})") from None
    except config_mod.ConfigError as exc:
        raise SweepError(f"{where}: base: {exc}") from None

    def rows_of(name: str) -> list[dict[str, str]]:
        try:
            header, rows = runs.read_rows(folder / name)
        except runs.FolderError as exc:
            raise SweepError(str(exc)) from None
        return [dict(zip(header, row, strict=False)) for row in rows]

    runs_rows = rows_of("sweep.csv")
    tested = bool(runs_rows) and "test_loss" in runs_rows[0]
    points, outcomes = [], []
    try:
        for row in runs_rows:
            values = tuple(g.values[g.texts.index(row[g.key])] for g in grids)
            point = Point(int(row["run"]), values, int(row["seed"]), base)
            metrics = {m: (float(row[m]) if row.get(m) else None) for m in METRICS}
            diverged = int(row["diverged_epoch"]) if row["diverged_epoch"] else None
            points.append(point)
            outcomes.append(Outcome(point, row["status"], metrics, int(row["epochs_done"]), diverged))
    except (KeyError, ValueError) as exc:
        raise SweepError(
            f"{folder / 'sweep.csv'}: a row does not fit the grid of config.yaml ({_why(exc)})"
        ) from None
    plan = Plan(file, sets, base, grids, plan_seeds, tuple(points))
    found = cells(plan, outcomes)
    best_runs = _read_curves(rows_of("curves.csv"), plan, base_raw, tested=tested)
    jobs = figure_jobs(folder, plan, found, best_runs, metric=metric)
    report.draw(jobs)
    return [args[0] for _, args in jobs]  # every picture job's first argument is its file


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"{type(exc).__name__}: {exc}"


def _read_curves(
    rows: list[dict[str, str]], plan: Plan, base_raw: dict[str, Any], *, tested: bool
) -> dict[str, History]:
    """The histories curves.png draws, from curves.csv; each run's config resolved again from the base and
    its grid values, as the sweep resolved it."""
    from nnopt_cli import config as config_mod

    by_index = {p.index: p for p in plan.points}
    names = [m for m in CURVE_MEASURES if tested or not m.startswith("test_")]
    lines: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        lines.setdefault(row["line"], []).append(row)
    out = {}
    for label, mine in lines.items():
        point = by_index[int(mine[0]["run"])]
        sets = [f"{g.key}={yaml_text(v)}" for g, v in zip(plan.grids, point.values, strict=True)]
        # as the sweep resolved it: a key of the base that a grid value switches off is dropped
        config = config_mod.from_dict(
            base_raw, [*sets, f"seed={point.seed}"], name=base_raw["name"], drop_all=True
        )
        epochs = mine[1:]
        h = History(
            config=config,
            steps_per_epoch=int(epochs[0]["step"]) if epochs else 1,
            with_test=tested,
            start={m: float(mine[0][m]) for m in names if mine[0][m] != ""},
            status=mine[0]["status"],
            diverged_epoch=int(mine[0]["diverged_epoch"]) if mine[0]["diverged_epoch"] else None,
        )
        h.epoch = [int(r["epoch"]) for r in epochs]
        h.step = [int(r["step"]) for r in epochs]
        h.lr = [float(r["lr"]) for r in epochs]
        for m in names:
            setattr(h, m, [float(r[m]) for r in epochs])
        h.lr_trace = loop.learning_rates(config, h.steps_done, h.steps_per_epoch)
        out[label] = h
    return out
