"""The terminal: one Rich console per stream, the epoch progress reporter, and result tables."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from nnopt_cli.train import History


def console(stream: TextIO | None = None) -> Console:
    """A console on `stream` (stdout by default); colours and bars only when it is a terminal."""
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=False)


class EpochReporter:
    """Reports training progress: a Rich bar on a terminal, a plain line every `every` epochs otherwise,
    nothing when quiet. Used as the `on_epoch` callback of the training loop."""

    def __init__(
        self, label: str, epochs: int, *, every: int, quiet: bool = False, out: Console | None = None
    ) -> None:
        self.out = out or console(sys.stderr)
        self.epochs = epochs
        self.every = every
        self.label = label
        self.mode = "quiet" if quiet else ("bar" if self.out.is_terminal else "lines")
        self.progress: Progress | None = None
        self.task = None

    def __enter__(self) -> EpochReporter:
        if self.mode == "bar":
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("epochs"),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.out,
                transient=False,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task(self.label, total=self.epochs, status="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.__exit__(exc_type, exc, tb)

    def __call__(self, epoch: int, histories: Sequence[History]) -> None:
        if self.mode == "quiet":
            return
        status = "  ".join(_status(h) for h in histories if h.loss)
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=epoch, status=status)
        elif epoch % self.every == 0 or epoch == self.epochs or any(
            h.status == "diverged" and h.diverged_epoch == epoch for h in histories
        ):
            self.out.print(f"epoch {epoch}/{self.epochs}  {status}", markup=False)


def _status(h: History) -> str:
    prefix = f"{h.config.name}: " if h.config.name else ""
    return f"{prefix}loss {h.loss[-1]:.5g}  accuracy {h.accuracy[-1]:.4f}  lr {h.lr[-1]:.4g}"


def result_table(summary: dict[str, object], folder: object) -> Table:
    """The final metrics of one run and where its folder is."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, label in (
        ("status", "status"),
        ("epochs_done", "epochs"),
        ("steps", "steps"),
        ("final_loss", "final loss"),
        ("final_data_loss", "final data loss"),
        ("final_accuracy", "final accuracy"),
        ("final_ema_loss", "final loss, EMA weights"),
        ("final_ema_accuracy", "final accuracy, EMA weights"),
        ("final_w", "final w"),
        ("train_seconds", "training time"),
    ):
        if key not in summary:
            continue
        table.add_row(label, _format(key, summary[key]))
    table.add_row("run folder", str(folder))
    return table


def _format(key: str, value: object) -> str:
    if value is None:
        return "n/a"
    if key == "train_seconds" and isinstance(value, float):
        return f"{value:.3f} s"
    if key.endswith("accuracy") and isinstance(value, float):
        return f"{value:.2%}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
