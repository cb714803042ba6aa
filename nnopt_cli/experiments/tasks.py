"""A sweep's work: populations cut into chunks (tasks), trained in this process, in forked worker processes,
or on a Dask cluster (cluster.py).

A task's rows train as one population (loop.run), so each row ends bit for bit where `nnopt train` of its
config ends, wherever the task runs. Nothing here prints or writes a sweep's files; a task writes its runs'
folders only with --save-runs.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import workers
from nnopt_cli.config import Config
from nnopt_cli.config.grid import Plan, Point
from nnopt_cli.core import loop
from nnopt_cli.core.loop import History
from nnopt_cli.experiments import experiment
from nnopt_cli.store import runs

MIN_CHUNK_ROWS = 32  # below this many rows, a population's cost per run climbs steeply
# a chunk whose mini-batch activations take about this much trains fastest per run: they stay in the cache
# (2-11-1 at batch 32: about 100 rows; a population of 256 rows costs a quarter more per run)
CACHE_BYTES = 1 << 21
_ACTIVATION_ARRAYS = 6  # arrays of a pass shaped like the activations: z, a, act', dz, and their neighbours


class SweepError(ValueError):
    """A sweep that cannot run (a metric the data cannot give, an unreachable scheduler); one line."""


class Lost(Exception):
    """Training stopped part-way by a fault outside the runs (a worker process or a Dask scheduler gone):
    str() says what in one line; `results` holds each task's histories as far as they came back (None: not
    trained), so the runs finished are kept."""

    def __init__(self, message: str, results: list[list[History] | None]) -> None:
        super().__init__(message)
        self.results = results


@dataclass(frozen=True)
class Task:
    """Rows trained together: their grid indices and configs; run folders to write with --save-runs."""

    indices: tuple[int, ...]
    configs: tuple[Config, ...]
    folders: tuple[Path, ...] | None = None

    @property
    def epochs(self) -> int:
        return self.configs[0].epochs


def chunks(plan: Plan, *, jobs: int) -> list[Task]:
    """The populations of the plan (runs of equal population key, in grid order), cut into chunks that fit
    in memory, train fastest (CACHE_BYTES) and leave no worker idle; the largest first. Surfaces: one
    population of every run (surface.train), cut only where its recorded paths would not fit in memory."""
    if plan.points and plan.points[0].config.model_type == "surface":
        return _surface_chunks(plan, jobs=jobs)
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


def _surface_chunks(plan: Plan, *, jobs: int) -> list[Task]:
    """Surface runs in as few populations as memory allows: a row records x, y and loss (and their moving
    averages) at every step, in float64."""
    steps = max(p.config.steps for p in plan.points)
    per_row = 8 * 6 * (steps + 1)
    fit = max(1, experiment.memory_bytes() // 2 // max(1, jobs) // per_row)
    points = list(plan.points)
    return [
        Task(tuple(p.index for p in points[i : i + fit]), tuple(p.config for p in points[i : i + fit]))
        for i in range(0, len(points), fit)
    ]


def _train_surfaces(task: Task, *, should_stop: Callable[[], bool] | None) -> list[Any]:
    """A task of surface runs: one population (surface.train); with --save-runs, a surface run folder each."""
    from nnopt_cli.core import surface

    started = time.perf_counter()
    histories = surface.train(list(task.configs), should_stop=should_stop)
    if task.folders is not None:
        from nnopt_cli.store import surfaces

        for folder, h in zip(task.folders, histories, strict=True):
            folder.mkdir(parents=True)
            runs.write_start(folder, h.config)
            surfaces.write_results(folder, h, started=started, clock=time.perf_counter)
    return histories


def train_task(
    task: Task,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_epoch: loop.EpochCallback | None = None,
) -> list[History]:
    """Train one task's rows as one population and return their histories, light: per-epoch metrics kept,
    the per-update arrays and the weights dropped (with --save-runs, after its run folders are written)."""
    if task.configs[0].model_type == "surface":
        return _train_surfaces(task, should_stop=should_stop)
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
    should_stop: Callable[[], bool] | None = None,
    progress: Progress | None = None,
) -> list[list[History] | None]:
    """Train every task on this machine: in this process (jobs 1, or a single task), or in `jobs` worker
    processes. Returns each task's histories, in task order; None for a task that an interruption left
    untrained. After `should_stop` says True, running tasks stop at their next update (their rows
    "interrupted", keeping their last whole epoch) and no new task starts."""
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
    return sum(1.0 if h.status in ("completed", "diverged") else _share_done(h) for h in histories)


def _share_done(h: Any) -> float:
    """The fraction of its length an interrupted run trained: epochs, or a surface path's steps."""
    if h.config.model_type == "surface":
        return float(h.steps_done / h.config.steps)
    return float(h.epochs_done / h.config.epochs)


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
    shut down (never by a signal, which they ignore). A worker that dies (killed, out of memory) is a
    `Lost` at once, with the tasks finished so far; a task that fails (a run folder that cannot be written)
    stops every worker and is raised at once, as in this process."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("fork")
    stop = context.RawValue("b", 0)
    epochs = context.RawArray("d", len(work))
    results: dict[int, list[History] | None] = {}
    lost = False
    with workers.pool(min(jobs, len(work)), initializer=_worker_start, initargs=(stop, epochs)) as pool:
        futures = {pool.submit(_worker_task, i, task): i for i, task in enumerate(work)}
        pending = set(futures)
        while pending and not lost:
            if should_stop is not None and should_stop():
                stop.value = 1
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for f in done:
                try:
                    results[futures[f]] = f.result()
                except BrokenProcessPool:
                    lost = True
                except BaseException:
                    stop.value = 1
                    raise
            if progress is not None and not lost:
                running = [futures[f] for f in pending]
                progress(
                    sum(runs_done(got) for got in results.values())
                    + sum(len(work[i].indices) * epochs[i] / work[i].epochs for i in running)
                )
    got = [results.get(i) for i in range(len(work))]
    if lost:
        raise Lost("a worker process died while training (killed, or out of memory); try fewer --jobs", got)
    return got


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
