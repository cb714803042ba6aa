"""The terminal: one Rich console per stream, the epoch progress reporter, and result tables."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.segment import Segment
from rich.table import Column, Table

from nnopt_cli import metrics
from nnopt_cli.config import Config
from nnopt_cli.core.loop import History

# spaces at the end of a line, before any colour codes that close it
_TRAILING = re.compile(r"[ ]+((?:\x1b\[[0-9;]*m)*)$", re.MULTILINE)


class _Results(Console):
    """A console whose lines end at their last character: a table's padding is not copied along with
    its lines into a report."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return _TRAILING.sub(r"\1", super()._render_buffer(buffer))


def console(stream: TextIO | None = None) -> Console:
    """A console on `stream` (stdout by default: the results, with no trailing spaces); colours and bars
    only when it is a terminal."""
    kind = Console if stream is not None else _Results
    out = kind(file=stream or sys.stdout, highlight=False, soft_wrap=False)
    if not out.is_terminal:
        # a pipe or a log file has no width: do not fold lines at Rich's default of 80 columns
        out = kind(file=stream or sys.stdout, highlight=False, soft_wrap=True, width=160)
    return out


class _Reporter:
    """A progress report: a Rich bar on a terminal (its columns and fields from the subclass), plain lines
    in a pipe or a log, nothing when quiet; a context manager around the work it reports on."""

    def __init__(self, label: str, total: float, *, quiet: bool, out: Console | None) -> None:
        self.out = out or console(sys.stderr)
        self.label = label
        self.total = total
        self.mode = "quiet" if quiet else ("bar" if self.out.is_terminal else "lines")
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def _bar(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The bar's columns after its label, and the fields they show at the start."""
        raise NotImplementedError

    def __enter__(self) -> Any:
        if self.mode == "bar":
            columns, fields = self._bar()
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), *columns, console=self.out, transient=False
            )
            self.progress.__enter__()
            self.task = self.progress.add_task(self.label, total=self.total, **fields)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.__exit__(exc_type, exc, tb)


class EpochReporter(_Reporter):
    """Reports training progress: a Rich bar on a terminal, a plain line every `every` epochs otherwise
    (and at the last epoch, and at an epoch where a run diverged), nothing when quiet. Used as the
    `on_epoch` callback of the training loop."""

    def __init__(
        self,
        label: str,
        epochs: int,
        *,
        every: int,
        quiet: bool = False,
        out: Console | None = None,
    ) -> None:
        super().__init__(label, epochs, quiet=quiet, out=out)
        self.epochs = epochs
        self.every = every
        self._last = 0.0

    def _bar(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        columns = (
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("epochs"),
            TimeElapsedColumn(),
            # the only column that wraps: on a narrow terminal the runs' losses take more lines, rather than
            # the bar, the counts and the time being cut
            TextColumn("{task.fields[status]}", table_column=Column(overflow="fold")),
        )
        return columns, {"status": ""}

    def _planned(self, histories: Sequence[History]) -> int:
        """The epochs the runs reported on are to train."""
        return self.epochs

    def _status(self, histories: Sequence[History]) -> str:
        live = [h for h in histories if h.loss]
        if len(live) == 1:
            return _status(live[0])
        # many runs: name and loss each, so the line stays readable
        return "  ".join(f"{h.config.name} {h.loss[-1]:.3g}" for h in live)

    def _task(self, histories: Sequence[History]) -> TaskID | None:
        """The bar that shows these runs."""
        return self.task

    def __call__(self, epoch: int, histories: Sequence[History]) -> None:
        if self.mode == "quiet":
            return
        planned = self._planned(histories)
        if self.mode == "bar":
            # the bar redraws ten times a second; formatting the status every epoch would only cost time
            now = time.monotonic()
            if now - self._last < 0.05 and epoch != planned:
                return
            self._last = now
        status = self._status(histories)
        task = self._task(histories)
        if self.progress is not None and task is not None:
            self.progress.update(task, completed=epoch, status=status)
        elif (
            epoch % self.every == 0
            or epoch == planned
            or any(h.status == "diverged" and h.diverged_epoch == epoch for h in histories)
        ):
            self.out.print(f"epoch {epoch}/{planned}  {status}", markup=False)


class GroupsReporter(EpochReporter):
    """Progress of runs trained group after group (`nnopt compare`: the entries of one length train
    together, the groups one after the other): each group counts its own epochs, ends with its last epoch's
    line, and names each run by `name_of` (e.g. `adam-seed3`, as its folder), so that the seeds of one
    entry stay apart. On a terminal one bar per group, labelled with its entries."""

    def __init__(
        self,
        label: str,
        name_of: Callable[[Config], str],
        *,
        every: int,
        quiet: bool = False,
        out: Console | None = None,
    ) -> None:
        super().__init__(label, 0, every=every, quiet=quiet, out=out)
        self.name_of = name_of
        self._tasks: dict[tuple[int, ...], TaskID] = {}  # a group's bar, by its runs

    def name(self, h: History) -> str:
        return self.name_of(h.config)

    def __enter__(self) -> Any:
        if self.mode == "bar":
            columns, _ = self._bar()
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), *columns, console=self.out, transient=False
            )
            self.progress.__enter__()
        return self

    def _planned(self, histories: Sequence[History]) -> int:
        return histories[0].config.epochs

    def _status(self, histories: Sequence[History]) -> str:
        live = [h for h in histories if h.loss]
        if self.progress is None:  # a line: it names its runs
            if len(live) == 1:
                return f"{self.name(live[0])}  {_status(live[0])}"
            return "  ".join(f"{self.name(h)} {h.loss[-1]:.3g}" for h in live)
        # a bar, labelled with the group's entries: its runs by what sets them apart
        if len(histories) == 1:
            return _status(live[0]) if live else ""
        entries = {h.config.name for h in histories}
        names = [self.name(h) for h in live]
        if len(entries) == 1:  # the seeds of one entry: seed0 0.0647  seed1 0.0619 ...
            names = [n.removeprefix(f"{h.config.name}-") for n, h in zip(names, live, strict=True)]
        return "  ".join(f"{n} {h.loss[-1]:.3g}" for n, h in zip(names, live, strict=True))

    def _task(self, histories: Sequence[History]) -> TaskID | None:
        if self.progress is None:
            return None
        key = tuple(id(h) for h in histories)
        if key not in self._tasks:
            names = list(dict.fromkeys(h.config.name for h in histories))
            seeds = len(histories) // len(names)
            label = " ".join(names) + (f" ({seeds} seeds)" if seeds > 1 else "")
            self._tasks[key] = self.progress.add_task(label, total=self._planned(histories), status="")
        return self._tasks[key]


def _status(h: History) -> str:
    accuracy = h.accuracy[-1]
    shown = f"{accuracy:.2%}" if accuracy == accuracy else "–"  # NaN: the weights are not finite
    return f"loss {h.loss[-1]:.5g}  accuracy {shown}  lr {h.lr[-1]:.4g}"


def result_table(summary: dict[str, object], folder: object) -> Table:
    """The final metrics of one run and where its folder is."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, label in (
        ("status", "status"),
        ("epochs_done", "epochs"),
        ("steps", "steps"),
        *((m, metrics.METRICS[m].label) for m in _RESULT_METRICS),
        ("final_w", "final w"),
        ("final_x", "final x"),
        ("final_y", "final y"),
        ("distance_to_minimum", "distance to the nearest minimum"),
        ("distance_to_saddle", "distance to the saddle point"),
        ("train_seconds", "training time"),
    ):
        if key not in summary:
            continue
        if key == "converged_epoch" and summary[key] is None and summary.get("status") == "completed":
            table.add_row(label, "none yet: still improving at the end")
            continue
        table.add_row(label, _format(key, summary[key]))
    table.add_row("run folder", str(folder))
    return table


# the metrics one run's table shows (those its summary has)
_RESULT_METRICS = (
    "final_loss",
    "final_data_loss",
    "final_accuracy",
    "final_ema_loss",
    "final_ema_accuracy",
    "final_test_loss",
    "final_test_accuracy",
    "final_ema_test_accuracy",
    "converged_epoch",
)


def _format(key: str, value: object) -> str:
    if value is None:
        return "n/a"
    known = metrics.METRICS.get(key)
    if known is not None and known.unit and isinstance(value, int | float) and not isinstance(value, bool):
        return known.format(float(value))  # a loss keeps its 6 digits here: the table of one run
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def compare_table(rows: Sequence[Any], *, seeds: int) -> Table:
    """The course's comparison table: entry (and its status, when it did not complete), update rule, time,
    converged epoch, final loss (and data loss, with a regularized entry) and accuracy (surfaces: target
    step, final and best loss, final distance to the nearest minimum); the best value of each column in bold
    green. With --seeds, mean ± std over the seeds that did not diverge."""
    table = Table(title="Optimizers side by side", box=box.SIMPLE_HEAD)
    table.add_column("entry", no_wrap=True)
    table.add_column("update rule", min_width=16)
    present = rows[0].values if rows else {}
    columns: tuple[str, ...] = ("train_seconds", "converged_epoch", "final_loss")
    headers = ["train\ntime", "converged\nepoch", "final\nloss"]
    if "final_distance" in present:  # surfaces: the path's loss and how far it ends from a minimum
        columns = ("train_seconds", "target_step", "final_loss", "best_loss", "final_distance")
        headers = ["train\ntime", "target\nstep", "final\nloss", "best\nloss", "final\ndistance"]
    elif "final_data_loss" in present:
        columns += ("final_data_loss",)
        headers.append("final\ndata loss")
    if "final_accuracy" in present:
        columns += ("final_accuracy",)
        headers.append("final\naccuracy")
    if "final_test_accuracy" in present:
        columns += ("final_test_accuracy",)
        headers[-1] = "train\naccuracy"
        headers.append("test\naccuracy")
    for name in headers:
        table.add_column(name, justify="right", no_wrap=True)

    stats = {key: [r.stats(key) for r in rows] for key in columns}
    # an entry where a seed diverged is never the best of a column while one without exists
    clean = [("diverged" not in r.statuses) for r in rows]
    pool = clean if any(clean) else [True] * len(rows)
    best = {}
    for key, found in stats.items():
        finite = [s.mean for s, ok in zip(found, pool, strict=True) if ok and s.mean == s.mean]
        if finite:
            best[key] = max(finite) if metrics.METRICS[key].higher else min(finite)
    for i, r in enumerate(rows):
        cells = []
        for key in columns:
            s = stats[key][i]
            text = metrics.METRICS[key].format(s.mean, s.std if seeds > 1 else None)
            top = pool[i] and best.get(key) == s.mean
            cells.append(f"[bold green]{text}[/]" if top else text)
        trouble = sorted(set(r.statuses) - {"completed"})
        if seeds > 1 and "diverged" in trouble:
            trouble[trouble.index("diverged")] = f"{r.statuses.count('diverged')}/{len(r.statuses)} diverged"
        name = r.name + (f"\n[red]({', '.join(trouble)})[/]" if trouble else "")
        table.add_row(name, r.rule, *cells)
    return table


class RunsReporter(_Reporter):
    """Progress over the runs of a sweep: a Rich bar on a terminal, a plain line at every tenth of the runs
    otherwise, nothing when quiet. Called with the runs done (a run part-way counts as its fraction)."""

    def __init__(self, label: str, runs: int, *, quiet: bool = False, out: Console | None = None) -> None:
        super().__init__(label, runs, quiet=quiet, out=out)
        self.runs = runs
        self._shown = 0

    def _bar(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        columns = (
            BarColumn(bar_width=30),
            TextColumn("{task.fields[done]}/{task.total:.0f} runs"),
            TimeElapsedColumn(),
        )
        return columns, {"done": "0"}

    def __call__(self, done: float) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=done, done=f"{done:.0f}")
        elif self.mode == "lines":
            tenth = int(10 * done / self.runs) if self.runs else 10
            if tenth > self._shown:
                self._shown = tenth
                self.out.print(f"{self.label}: {done:.0f}/{self.runs} runs", markup=False)


def sweep_table(keys: Sequence[str], cells: Sequence[Any], *, metric: str, columns: Sequence[str]) -> Table:
    """The best cells of a sweep, best first: their grid values, runs and diverged seeds, then the mean ± std
    of each metric over the seeds that did not diverge; the ranking metric's column in bold."""
    m = metrics.get(metric)
    table = Table(
        title=f"Best cells by {m.name} ({'highest' if m.higher else 'lowest'} first; {metrics.AGGREGATION})",
        box=box.SIMPLE_HEAD,
    )
    for key in keys:
        table.add_column(key, no_wrap=True)
    table.add_column("seeds\n(diverged)", justify="right")
    for name in columns:
        header = metrics.METRICS[name].header
        table.add_column(f"[bold]{header}[/]" if name == m.name else header, justify="right", no_wrap=True)
    for cell in cells:
        values = [_grid_label(v) for v in cell.values]
        seeds = f"{cell.runs}" + (f" ([red]{cell.diverged}[/])" if cell.diverged else "")
        shown = []
        for name in columns:
            s = cell.stats(name)
            text = metrics.METRICS[name].format(s.mean, s.std if cell.runs - cell.diverged > 1 else None)
            shown.append(f"[bold]{text}[/]" if name == m.name else text)
        table.add_row(*values, seeds, *shown)
    return table


def _grid_label(value: object) -> str:
    from nnopt_cli.config.grid import label

    return label(value)
