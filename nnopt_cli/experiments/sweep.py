"""`nnopt sweep`: every point of a grid trained, as few populations as the shapes allow, and summarized.

    plan (grid.py) ──► tasks: runs of one population key, in chunks ──► histories (local processes or Dask)
                   ──► one outcome per run (sweep.csv) ──► cells over seeds (cells.csv) ──► pictures, summary

Runs of equal `loop.population_key` train as rows of one population, so that a grid costs a few passes per
batch instead of one per run; every row still ends bit for bit where `nnopt train` of its config ends. A
population is cut into chunks that fit in memory and keep every worker busy. Nothing here prints; the
command line reports progress through a callback.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import __version__, examples, metrics
from nnopt_cli import config as config_mod
from nnopt_cli.config import Config
from nnopt_cli.config import grid as grid_mod
from nnopt_cli.config.grid import Grid, Plan, Point, yaml_text
from nnopt_cli.core import loop, surface
from nnopt_cli.core.loop import History
from nnopt_cli.experiments import experiment, session, tasks
from nnopt_cli.experiments.tasks import SweepError, Task
from nnopt_cli.figures import report
from nnopt_cli.store import folders, runs, sweeps

TABLE_CELLS = 10  # the terminal's table shows the best cells, this many
NOT_TRAINED = "not_trained"


def default_metric(plan: Plan) -> str:
    """What a sweep ranks by without --metric: the final loss, unless its runs do not all minimise the same
    objective (their regularizers or scales differ); then the final data loss, the data alone, since a
    penalty-free run would otherwise always "win" against a regularized one."""
    objectives = {
        (p.config.regularizer, p.config.reg_scale if p.config.regularizer != "none" else 0.0)
        for p in plan.points
    }
    return "final_data_loss" if len(objectives) > 1 else "final_loss"


def check_metric(metric: str | None, plan: Plan) -> str:
    """The metric a sweep ranks by: `metric` (an old alias read as its name), or the default (see
    default_metric).

    Raises:
      SweepError: an unknown metric, or one the runs cannot give (a test metric without a test split, an
        EMA metric without EMA).
    """
    if metric is None:
        return default_metric(plan)
    name = metrics.ALIASES.get(metric, metric)
    if name not in metrics.RANKABLE:
        from nnopt_cli import checks

        raise SweepError(f"--metric {metric}: {checks.did_you_mean(name, list(metrics.RANKABLE))}")
    if name not in csv_metrics(plan):
        m = metrics.METRICS[name]
        if kind(plan) == "surface":
            raise SweepError(
                f"--metric {metric}: a path on a surface has no {name}; its metrics: "
                + ", ".join(csv_metrics(plan))
            )
        if m.kinds == ("surface",):
            raise SweepError(f"--metric {metric}: only a path on a surface (model.type surface) has it")
        if "test" in m.needs and not with_test(plan):
            raise SweepError(f"--metric {metric}: no run has a test split; set data.test_size (e.g. 0.2)")
        raise SweepError(f"--metric {metric}: no run has EMA weights; set ema.decay (e.g. 0.99)")
    return name


def check_setup(plan: Plan) -> None:
    """Load every data set and build every network shape once, so that a data file or init_from file that
    cannot be used, or a network too large for memory, is refused before anything is written.

    Raises:
      data.DataError, experiment.SetupError.
    """
    if kind(plan) == "surface":
        return  # no data, no network: the config's checks are all
    seen: dict[tuple[object, ...], Config] = {}
    for p in plan.points:
        seen.setdefault((loop.population_key(p.config), p.config.init_from, p.config.plot_features), p.config)
    experiment.prepare(list(seen.values()))


def with_folders(work: Sequence[Task], plan: Plan, root: Path) -> list[Task]:
    """The tasks, each writing a run folder per run under `root` (--save-runs)."""
    return [
        replace(t, folders=tuple(root / run_folder_name(plan.points[i]) for i in t.indices)) for t in work
    ]


def run_folder_name(point: Point) -> str:
    return sweeps.run_folder_name(point.index, point.seed)


def execute(
    work: Sequence[Task],
    *,
    jobs: int,
    cluster: tuple[Any, str] | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: tasks.Progress | None = None,
) -> list[list[History] | None]:
    """Train every task here (tasks.execute: this process or `jobs` worker processes) or on a Dask cluster
    (`cluster`: a client from cluster.connected and the scheduler's address, cluster.execute). Returns each
    task's histories, in task order; None for a task that an interruption left untrained.

    Raises:
      tasks.Lost: a worker process or the scheduler went away; the tasks finished so far are in it.
    """
    if cluster is not None:
        from nnopt_cli.experiments import cluster as cluster_mod

        client, address = cluster
        return cluster_mod.execute(work, client, address, should_stop=should_stop, progress=progress)
    return tasks.execute(work, jobs=jobs, should_stop=should_stop, progress=progress)


@dataclass
class Outcome:
    """One run of the grid as sweep.csv reports it."""

    point: Point
    status: str
    metrics: dict[str, float | None]
    epochs_done: int = 0
    diverged_epoch: int | None = None


def outcome(point: Point, h: History | surface.SurfaceHistory | None) -> Outcome:
    """A run's metrics (metrics.compute, or compute_surface for a path on a surface, without the shared
    training time): none for a run not trained. A surface's epochs are its steps."""
    if h is None:
        return Outcome(point, NOT_TRAINED, dict.fromkeys(metrics.RANKABLE))
    if isinstance(h, surface.SurfaceHistory):
        found = metrics.compute_surface(h, distance=_surface_distance(h))
        found.pop("train_seconds", None)
        return Outcome(point, h.status, found, h.steps_done, h.diverged_step)
    measured = metrics.compute(h)
    measured.pop("train_seconds", None)
    return Outcome(point, h.status, measured, h.epochs_done, h.diverged_epoch)


def _surface_distance(h: surface.SurfaceHistory) -> float:
    """From a path's last point to the nearest minimum; NaN for the saddle (no minimum)."""
    if not surface.FUNCTIONS[h.config.function].minima:
        return math.nan
    return surface.nearest(h.config, float(h.x[-1]), float(h.y[-1]))[1]


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

    def stats(self, metric: str) -> metrics.Stats:
        """The metric over the cell's trained seeds: mean, std, min and max over those that did not diverge,
        NaN when one of them has no value or none is left (metrics.aggregate)."""
        trained = [o for o in self.outcomes if o.status != NOT_TRAINED]
        return metrics.aggregate(
            [o.metrics.get(metric) for o in trained], [o.status == "diverged" for o in trained]
        )


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
    higher = metrics.get(metric).higher
    with_value = [(c.stats(metric).mean, i, c) for i, c in enumerate(found)]
    with_value = [t for t in with_value if not math.isnan(t[0])]
    with_value.sort(key=lambda t: (t[2].diverged > 0, -t[0] if higher else t[0], t[1]))
    return [c for _, _, c in with_value]


# --- files ------------------------------------------------------------------------------------------


def with_test(plan: Plan) -> bool:
    return any(p.config.test_size for p in plan.points)


def with_ema(plan: Plan) -> bool:
    return any(p.config.ema_decay is not None for p in plan.points)


def kind(plan: Plan) -> str:
    """ "surface" for a sweep of paths on a surface (model.type surface), else "network".

    Raises:
      SweepError: a grid that mixes surfaces and networks.
    """
    types = {p.config.model_type == "surface" for p in plan.points}
    if len(types) > 1:
        raise SweepError(
            "sweep: the grid mixes surfaces (model.type surface) and networks; sweep one or the other"
        )
    return "surface" if types == {True} else "network"


def csv_metrics(plan: Plan) -> list[str]:
    """The metrics of sweep.csv and cells.csv (metrics.py's, but the shared training time): the test ones
    when any run has a test split, the EMA ones when any has EMA; for surfaces, theirs (compute_surface)."""
    if kind(plan) == "surface":
        return metrics.names(test=False, ema=False, kind="surface")
    return metrics.names(test=with_test(plan), ema=with_ema(plan))


def table_metrics(plan: Plan) -> list[str]:
    """The terminal table's metrics: those of sweep.csv but the best test values and the EMA ones, and the
    data losses only when a run is regularized (without a penalty they equal the losses)."""
    regularized = any(p.config.regularizer != "none" and p.config.reg_scale > 0 for p in plan.points)
    skipped = {"best_test_loss", "best_test_accuracy"} | (
        set() if regularized else {"final_data_loss", "best_data_loss"}
    )
    return [m for m in csv_metrics(plan) if m not in skipped and "ema" not in metrics.METRICS[m].needs]


def sweep_columns(plan: Plan, outcomes: Sequence[Outcome], *, saved: bool) -> dict[str, list[Any]]:
    """sweep.csv: one row per run: its index, each grid key's value (as YAML text: what --set takes), the
    seed, the status, every metric and the epochs done (a surface's: steps_done, diverged_step); the run
    folder with --save-runs."""
    columns: dict[str, list[Any]] = {"run": [o.point.index for o in outcomes]}
    for i, g in enumerate(plan.grids):
        columns[g.key] = [yaml_text(o.point.values[i]) for o in outcomes]
    columns["seed"] = [o.point.seed for o in outcomes]
    columns["status"] = [o.status for o in outcomes]
    for m in csv_metrics(plan):
        columns[m] = [metrics.METRICS[m].csv(o.metrics.get(m)) for o in outcomes]
    unit = "step" if kind(plan) == "surface" else "epoch"  # a surface's path counts steps
    columns[f"{unit}s_done"] = [o.epochs_done for o in outcomes]
    columns[f"diverged_{unit}"] = ["" if o.diverged_epoch is None else o.diverged_epoch for o in outcomes]
    if saved:
        columns["folder"] = [f"{sweeps.SAVED_RUNS}/{run_folder_name(o.point)}" for o in outcomes]
    return columns


def cell_columns(plan: Plan, found: Sequence[Cell]) -> dict[str, list[Any]]:
    """cells.csv: one row per grid cell: its grid values, the number of runs and of diverged runs, then the
    mean, std, min and max of every metric over the seeds that did not diverge (metrics.aggregate)."""
    columns: dict[str, list[Any]] = {}
    for i, g in enumerate(plan.grids):
        columns[g.key] = [yaml_text(c.values[i]) for c in found]
    columns["runs"] = [c.runs for c in found]
    columns["diverged"] = [c.diverged for c in found]
    for m in csv_metrics(plan):
        stats = [c.stats(m) for c in found]
        for j, name in enumerate(("mean", "std", "min", "max")):
            columns[f"{m}_{name}"] = [_stat_text(s[2 + j]) for s in stats]
    return columns


def _stat_text(value: float) -> Any:
    return "" if not math.isfinite(value) else float(value)


def write_start(folder: Path, plan: Plan, *, metric: str) -> None:
    """config.yaml of a sweep: the command's inputs (base file, --set, grids, seeds, metric) and the resolved
    base config."""
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
    sweeps.write_start(folder, content)


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
        "kind": folders.SWEEP,
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
        mean, std = best.stats(metric)[2:4]
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
    folder: Path, plan: Plan, found: Sequence[Cell], curves: Sequence[tuple[str, History]], *, metric: str
) -> list[report.Job]:
    """heatmap.png, sensitivity.png (with a numeric grid key) and curves.png (the runs `curves` names, each
    labelled by its cell), as report.draw jobs."""
    where = layout(plan.grids)
    m = metrics.get(metric)
    title = _title(plan, metric)
    jobs: list[report.Job] = []
    x = _axis(plan.grids[where.heat_x])
    y = _axis(plan.grids[where.heat_y]) if where.heat_y is not None else None
    panels = _panels(plan, found, where, metric)
    jobs.append(
        report.Job(
            folder / "heatmap.png",
            draw_heatmap,
            (
                folder / "heatmap.png",
                dict(title=title, metric_label=m.label, higher_is_better=m.higher, x=x, y=y, panels=panels),
            ),
        )
    )
    if where.line_x is not None:
        jobs.append(
            report.Job(
                folder / "sensitivity.png",
                draw_sensitivity,
                (
                    folder / "sensitivity.png",
                    dict(
                        title=title,
                        metric_label=m.label,
                        higher_is_better=m.higher,
                        x=_axis(plan.grids[where.line_x]),
                        lines=_lines(plan, found, where, metric),
                        log_y=not m.higher and m.unit == "",
                        line_key=plan.grids[where.lines[0]].key if len(where.lines) == 1 else "",
                    ),
                ),
            )
        )
    if curves:
        what = "line of sensitivity.png" if where.line_x is not None else "grid"
        seeds = len(plan.seeds)
        spread = f": the mean of its {seeds} seeds, a band from the lowest to the highest" * (seeds > 1)
        title = f"The best cell (by {m.name}) of each {what}{spread}"
        jobs.append(
            report.Job(folder / "curves.png", draw_curves, (folder / "curves.png", list(curves), title))
        )
    return jobs


NO_SENSITIVITY = (
    "no sensitivity.png: no grid key is numeric (it draws the metric against a numeric key, "
    "e.g. --grid optimizer.lr=0.001:0.1:5log); heatmap.png and curves.png are drawn"
)


def draw_heatmap(path: Path, arguments: dict[str, Any]) -> None:
    from nnopt_cli.figures import gridplots

    gridplots.heatmap(path, **arguments)


def draw_sensitivity(path: Path, arguments: dict[str, Any]) -> None:
    from nnopt_cli.figures import gridplots

    gridplots.sensitivity(path, **arguments)


def draw_curves(path: Path, curves: Sequence[tuple[str, History]], title: str) -> None:
    """curves.png: one colour per cell, its seeds' mean and band (report.draw_comparison)."""
    names = [label for label, _ in curves]
    histories = [h for _, h in curves]
    report.draw_comparison(path.parent, names, histories, 1, path=path, title=title)


def _title(plan: Plan, metric: str) -> str:
    sizes = " × ".join(f"{len(g.values)} {g.key}" for g in plan.grids)
    seeds = f" × {len(plan.seeds)} seeds" if len(plan.seeds) > 1 else ""
    return f"{plan.base.name}: {sizes}{seeds}; {metrics.get(metric).label}" + (
        ", mean over the seeds of a cell" if len(plan.seeds) > 1 else ""
    )


def _axis(g: Grid) -> Any:
    from nnopt_cli.figures import gridplots

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

    from nnopt_cli.figures import gridplots

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
                mean[iy, ix] = cell.stats(metric).mean
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

    from nnopt_cli.figures import gridplots

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
            got = cell.stats(metric)
            if cell.diverged == 0:  # a point where a seed diverged is never drawn as a value, only marked
                stats[:, ix] = (got.mean, got.std, got.low, got.high)
            diverged[ix] = cell.diverged
            counts[ix] = cell.runs
        values = [None] * len(plan.grids)
        for k, r in zip(where.lines, rest, strict=True):
            values[k] = plan.grids[k].values[r]
        name = line_label(plan, where.lines, values)
        out.append(gridplots.Line(name, stats[0], stats[2], stats[3], diverged, counts))
    return out


def curve_cells(plan: Plan, found: Sequence[Cell], metric: str) -> list[tuple[str, Cell]]:
    """What curves.png draws: the best cell of each line of sensitivity.png (the cells ranked by
    `ranked`: one where no seed diverged before one where some did), the best lines (at most CURVE_LINES) in
    the lines' order (so that each keeps its colour of sensitivity.png), each labelled with its keys and
    values."""
    where = layout(plan.grids)
    keys = line_keys(plan, where)
    best: dict[tuple[int, ...], Cell] = {}
    for cell in ranked(found, metric):
        place = tuple(plan.grids[k].values.index(cell.values[k]) for k in keys)
        best.setdefault(place, cell)
    chosen = sorted(list(best.items())[:CURVE_LINES], key=lambda item: item[0])
    return [(cell_label(plan, cell.values), cell) for _, cell in chosen]


def cell_label(plan: Plan, values: Sequence[Any]) -> str:
    """A cell named by its keys and values: "optimizer.name=adam, optimizer.lr=0.01"."""
    shown = [f"{g.key}={g.labels[g.values.index(v)]}" for g, v in zip(plan.grids, values, strict=True)]
    return ", ".join(shown) or plan.base.name


CURVE_LINES = 12  # curves.png draws the best lines, at most this many


def curve_runs(
    plan: Plan, found: Sequence[Cell], metric: str, histories: dict[int, History]
) -> list[tuple[str, int, History]]:
    """The runs curves.png draws: every trained seed of each cell of curve_cells, as (label, run index,
    history), their rates recomputed from their configs. A cell where some seeds diverged shows the others,
    and says how many it leaves out."""
    out: list[tuple[str, int, History]] = []
    if kind(plan) == "surface":
        return out  # curves.png draws a network's curves per epoch
    for label, cell in curve_cells(plan, found, metric):
        trained = [o for o in cell.outcomes if o.point.index in histories]
        kept = [o for o in trained if o.status != "diverged"] or trained
        lost = len(trained) - len(kept)
        name = label + (f" ({lost} of {len(trained)} seeds diverged, not drawn)" if lost else "")
        for o in kept:
            h = histories[o.point.index]
            h.lr_trace = loop.learning_rates(h.config, h.steps_done, h.steps_per_epoch)
            out.append((name, o.point.index, h))
    return out


def collect(
    plan: Plan, work: Sequence[Task], results: Sequence[list[History] | None]
) -> tuple[list[Outcome], dict[int, History]]:
    """Every run's outcome in grid order, and the histories by run index."""
    histories: dict[int, History] = {}
    for task, got in zip(work, results, strict=True):
        if got is not None:
            histories.update(zip(task.indices, got, strict=True))
    return [outcome(p, histories.get(p.index)) for p in plan.points], histories


CURVE_MEASURES = ("loss", "data_loss", "accuracy", "test_loss", "test_accuracy")


def curves_columns(chosen: Sequence[tuple[str, int, History]], *, tested: bool) -> dict[str, list[Any]]:
    """curves.csv: the per-epoch measures of the runs curves.png draws, so that the picture can be drawn
    again from the folder: one row per run and epoch, from epoch 0 (before the first update, no step or rate
    yet), with the line's label (the same for every seed of a cell), the run's index in sweep.csv, its status
    and diverged epoch."""
    names = [m for m in CURVE_MEASURES if tested or not m.startswith("test_")]
    columns: dict[str, list[Any]] = {
        k: [] for k in ("line", "run", "status", "diverged_epoch", "epoch", "step", "lr", *names)
    }
    for label, index, h in chosen:
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
    failure: str = "",
) -> tuple[dict[str, Any], list[Cell], list[report.Job]]:
    """sweep.csv, cells.csv, curves.csv and summary.json. Returns the summary, the cells and the pictures to
    draw then (report.Job)."""
    outcomes, histories = collect(plan, work, results)
    found = cells(plan, outcomes)
    chosen = curve_runs(plan, found, metric, histories)
    sweeps.write_tables(
        folder,
        outcomes=sweep_columns(plan, outcomes, saved=saved),
        cells=cell_columns(plan, found),
        curves=curves_columns(chosen, tested=with_test(plan)),
    )
    curves = [(label, h) for label, _, h in chosen]
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
    if failure:
        content["failure"] = failure  # what stopped the sweep part-way, besides a signal
    sweeps.write_summary(folder, content)
    return content, found, figure_jobs(folder, plan, found, curves, metric=metric)


# --- drawing a finished sweep again ----------------------------------------------------------------


def redraw(folder: Path) -> list[Path]:
    """Draw a sweep folder's heatmap.png, sensitivity.png and curves.png again from its config.yaml,
    sweep.csv and curves.csv, without training: the same figures the sweep drew. Those drawn are no longer
    noted missing in summary.json.

    Raises:
      SweepError: a file missing or unreadable, naming it; a picture that could not be drawn (noted).
    """
    where = folder / folders.CONFIG
    try:
        content = sweeps.read_start(folder)
        base_raw = content["base"]
        base = config_mod.from_dict(base_raw, name=base_raw["name"], drop_all=True)
        log = set(content.get("log_spaced") or ())
        grids = tuple(
            Grid(key, tuple(values), tuple(yaml_text(v) for v in values), key in log)
            for key, values in content["grid"].items()
        )
        metric = metrics.get(content["metric"]).name
        plan_seeds = tuple(content["seeds"])
        file, sets = content["config"], tuple(content["set"])
    except runs.FolderError as exc:
        raise SweepError(str(exc)) from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise SweepError(f"{where}: not a sweep's config.yaml ({_why(exc)})") from None
    except config_mod.ConfigError as exc:
        raise SweepError(f"{where}: base: {exc}") from None

    def rows_of(name: str) -> list[dict[str, str]]:
        try:
            return sweeps.read_table(folder, name)
        except runs.FolderError as exc:
            raise SweepError(str(exc)) from None

    runs_rows = rows_of(sweeps.RUNS_CSV)
    tested = bool(runs_rows) and any(k in runs_rows[0] for k in ("final_test_loss", "test_loss"))
    known = set(metrics.RANKABLE) | set(metrics.ALIASES)
    points, outcomes = [], []
    try:
        for row in runs_rows:
            values = tuple(g.values[g.texts.index(row[g.key])] for g in grids)
            point = Point(int(row["run"]), values, int(row["seed"]), base)
            # an old sweep.csv names its test metrics test_loss and test_accuracy: read as their metric
            measured = {metrics.get(k).name: (float(v) if v else None) for k, v in row.items() if k in known}
            unit = "step" if "diverged_step" in row else "epoch"  # a surface's sweep counts steps
            diverged = int(row[f"diverged_{unit}"]) if row[f"diverged_{unit}"] else None
            points.append(point)
            outcomes.append(Outcome(point, row["status"], measured, int(row[f"{unit}s_done"]), diverged))
    except (KeyError, ValueError) as exc:
        raise SweepError(
            f"{folder / sweeps.RUNS_CSV}: a row does not fit the grid of config.yaml ({_why(exc)})"
        ) from None
    plan = Plan(file, sets, base, grids, plan_seeds, tuple(points))
    found = cells(plan, outcomes)
    curves = _read_curves(rows_of(sweeps.CURVES_CSV), plan, base_raw, tested=tested)
    jobs = figure_jobs(folder, plan, found, curves, metric=metric)
    failed = session.draw_noted(jobs)
    if failed:
        raise SweepError(session.pictures_line(folder, failed))
    return [job.file for job in jobs]


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"{type(exc).__name__}: {exc}"


def _read_curves(
    rows: list[dict[str, str]], plan: Plan, base_raw: dict[str, Any], *, tested: bool
) -> list[tuple[str, History]]:
    """The runs curves.png draws, from curves.csv, each with its line's label; each run's config resolved
    again from the base and its grid values, as the sweep resolved it."""
    from nnopt_cli import config as config_mod

    by_index = {p.index: p for p in plan.points}
    names = [m for m in CURVE_MEASURES if tested or not m.startswith("test_")]
    by_run: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        by_run.setdefault(int(row["run"]), []).append(row)
    out = []
    for index, mine in by_run.items():
        point = by_index[index]
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
        out.append((mine[0]["line"], h))
    return out


@dataclass(frozen=True)
class Swept:
    """A finished sweep: its folder and status, and the best cells for the terminal's table."""

    finished: session.Finished
    keys: list[str]
    best: list[Cell]
    metric: str
    columns: list[str]


def run(
    config_file: Path,
    *,
    grids: Sequence[str] = (),
    seeds: int | None = None,
    sets: Sequence[str] = (),
    metric: str | None = None,
    jobs: int | None = None,
    max_runs: int = 10_000,
    save_runs: bool = False,
    scheduler: str | None = None,
    runs_root: Path = Path("runs"),
    reporter: Callable[[str, int], AbstractContextManager[tasks.Progress]],
    note: Callable[[str], None] = lambda line: None,
) -> Swept:
    """Train every point of the grid into `<runs_root>/<stamp>-sweep-<name>/`, ranked by `metric` (None:
    `default_metric`).

    Every point is checked, every data set loaded and every network shape built before the folder is made.
    Diverged runs are results: the sweep is completed unless interrupted (its runs keep what they did).
    `note` is told, before training, which keys some runs drop because they have no effect there, and that
    no sensitivity.png is drawn when no grid key is numeric.
    Raises:
      grid.GridError, config.ConfigError, data.DataError, experiment.SetupError, SweepError,
      runs.RunFolderError (nothing written); session.WriteError (the unfinished folder removed).
    """
    started = time.perf_counter()
    if scheduler is not None:
        from nnopt_cli.experiments import cluster

        cluster.parse(scheduler)  # a malformed address is refused before any work
    file = examples.resolve(config_file)  # a file, or the name of a shipped example
    plan = grid_mod.plan(file, list(grids), sets=list(sets), seeds=seeds, max_runs=max_runs)
    if any(p.config.plot_animate for p in plan.points):
        raise SweepError(
            "plot.animate: a sweep draws no run's boundary (its saved runs keep data only), so there is "
            "nothing to animate; nnopt train CONFIG --animate animates one run"
        )
    # config.yaml records the config as given (`l2` runs wherever nnopt is installed); its base, resolved
    plan = replace(plan, config_file=str(config_file))
    metric = check_metric(metric, plan)
    if kind(plan) == "surface" and len(plan.seeds) > 1:
        raise SweepError(
            f"{len(plan.seeds)} seeds: a surface's path starts at model.start whatever the seed, so every "
            "seed would draw the same path; leave --seeds (and --grid seed) out"
        )
    check_setup(plan)
    jobs = jobs or tasks.cpu_count()
    work = tasks.chunks(plan, jobs=jobs)
    dropped = config_mod.dropped_line(plan.dropped, total=len(plan.points))
    if dropped:
        note(dropped)
    if layout(plan.grids).line_x is None:
        note(NO_SENSITIVITY)
    with contextlib.ExitStack() as connection:
        client = None
        if scheduler is not None:  # reached before the folder is made: an address that fails leaves nothing
            from nnopt_cli.experiments import cluster

            client = connection.enter_context(cluster.connected(scheduler))
        return _run_in_folder(
            plan,
            work,
            metric=metric,
            jobs=jobs,
            save_runs=save_runs,
            scheduler=scheduler,
            client=client,
            runs_root=runs_root,
            reporter=reporter,
            started=started,
        )


def _run_in_folder(
    plan: Plan,
    work: list[Task],
    *,
    metric: str,
    jobs: int,
    save_runs: bool,
    scheduler: str | None,
    client: Any,
    runs_root: Path,
    reporter: Callable[[str, int], AbstractContextManager[tasks.Progress]],
    started: float,
) -> Swept:
    """The sweep's folder filled: its config, the runs trained, the tables, the summary, the pictures."""
    with session.filling(runs_root, f"sweep-{plan.base.name}") as s:
        write_start(s.folder, plan, metric=metric)
        if save_runs:
            work = with_folders(work, plan, s.folder / sweeps.SAVED_RUNS)
        with reporter(f"sweep {plan.base.name}", len(plan.points)) as progress:
            clock = time.perf_counter()
            failure = ""
            try:
                results = execute(
                    work,
                    jobs=jobs,
                    cluster=None if scheduler is None else (client, scheduler),
                    should_stop=s.stop_requested,
                    progress=progress,
                )
            except tasks.Lost as lost:  # the runs finished are results: kept, the others not trained
                results, failure = lost.results, str(lost)
            train_seconds = time.perf_counter() - clock
        summary, found, pictures = write_results(
            s.folder,
            plan,
            work,
            results,
            metric=metric,
            saved=save_runs,
            train_seconds=train_seconds,
            started=started,
            jobs=jobs,
            scheduler=scheduler,
            failure=failure,
        )
        s.draw(pictures)
    status, message = "completed", ""
    if summary["status"] != "completed":
        left = summary["not_trained"]
        status = "interrupted"
        message = "interrupted; the runs keep what they did" + (f", {left} not started" if left else "")
    if failure:
        left = summary["not_trained"]
        failure += f"; {s.folder} keeps the {summary['runs'] - left} runs finished, {left} marked not_trained"
        message = ""
    failure = "; ".join(line for line in (failure, s.failure()) if line)
    return Swept(
        session.Finished(s.folder, status, message, s.signum, summary, failure),
        [g.key for g in plan.grids],
        ranked(found, metric)[:TABLE_CELLS],
        metric,
        table_metrics(plan),
    )
