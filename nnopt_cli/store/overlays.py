"""An overlay's folder (`nnopt overlay`): past runs' curves in one picture; its files, written and read back.

    <stamp>-overlay/
      overlay.csv    the curves drawn: one row per run and epoch (the toy: per update, a surface: per
                     step), `run, epoch, ...`: each run's metrics.csv rows (a surface's trajectory.csv
                     rows) as they are, behind the run's folder; a column a run
                     does not have (test_loss without a test split) is empty in its rows
      overlay.png    loss, accuracy, test curves where there are any, and lr, one colour per run
      summary.json   last: kind overlay, the runs (folder, label, optimizer, where a resumed run joins its
                     parent), what the picture's title and labels say

replot reads overlay.csv and summary.json alone (`read`). The runs are read with `read_run`: a run folder's
config.yaml (runs.read_config), metrics.csv (as text, so that overlay.csv holds its cells unchanged) and
summary.json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnopt_cli.config import Config
from nnopt_cli.store import folders, runs, surfaces
from nnopt_cli.store.runs import FolderError

TABLE = folders.OVERLAY_TABLE
PICTURE = "overlay.png"
NAME = "overlay"  # the folder is <stamp>-overlay
RUN = "run"  # overlay.csv's first column: the run's folder
METRICS = "metrics.csv"


@dataclass(frozen=True)
class Curves:
    """One run's curves: its folder, its metrics.csv (header and rows as text), and what is known of it."""

    run: str
    header: list[str]
    rows: list[list[str]]
    optimizer: str = ""
    label: str = ""
    resumed_from: str | None = None  # the folder of another overlaid run this one continues
    resumed_at: int | None = None  # ... after this many epochs

    @property
    def x(self) -> str:
        """The column along the x axis: epoch for a network, step for the toy (one row per update)."""
        return "epoch" if "epoch" in self.header else "step"

    def column(self, name: str) -> list[float]:
        """A column as numbers (NaN for an empty or unreadable cell, or a column the run does not have)."""
        if name not in self.header:
            return [math.nan] * len(self.rows)
        i = self.header.index(name)
        return [_float(r[i]) if i < len(r) else math.nan for r in self.rows]


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


@dataclass(frozen=True)
class Run:
    """A run folder read for an overlay: its resolved config, its curves and its summary ({}: none)."""

    folder: Path
    config: Config
    curves: Curves
    summary: dict[str, Any]


def read_run(folder: Path) -> Run:
    """A run folder's config.yaml, metrics.csv (a surface's trajectory.csv) and summary.json.

    Raises:
      FolderError: a missing or unreadable file, or a metrics.csv without rows.
    """
    folder = Path(folder)
    config = runs.read_config(folder)
    # a path on a surface keeps its curves in trajectory.csv, one row per step (step, x, y, loss, lr)
    table = folder / (surfaces.TABLE if config.model_type == "surface" else METRICS)
    header, rows = runs.read_rows(table)
    if not header or ("epoch" not in header and "step" not in header):
        raise FolderError(f"{table}: no epoch or step column")
    summary = runs.read_summary(folder) or {}
    return Run(folder, config, Curves(str(folder), header, rows, optimizer=config.optimizer), summary)


def table_columns(curves: Sequence[Curves]) -> list[str]:
    """overlay.csv's header: run, then every column of the runs' metrics.csv in the order first met."""
    out = [RUN]
    for c in curves:
        out += [name for name in c.header if name not in out]
    return out


def write_table(path: Path, curves: Sequence[Curves]) -> None:
    """overlay.csv (or the CSV beside an --out picture): every run's rows, the runs in order."""
    header = table_columns(curves)
    lines = [",".join(header)]
    for c in curves:
        where = {name: i for i, name in enumerate(c.header)}
        for row in c.rows:
            cells = [c.run] + [
                row[where[n]] if n in where and where[n] < len(row) else "" for n in header[1:]
            ]
            lines.append(",".join(_csv(cell) for cell in cells))
    runs.write_text(path, "\n".join(lines) + "\n")


def _csv(cell: str) -> str:
    return f'"{cell.replace(chr(34), chr(34) * 2)}"' if any(ch in cell for ch in ',"\n\r') else cell


def write_summary(folder: Path, content: Mapping[str, Any]) -> None:
    """summary.json, the folder's last file."""
    folders.write_summary(folder, content, allow_nan=False)


def summary_runs(curves: Sequence[Curves]) -> list[dict[str, Any]]:
    """summary.json's `runs`: what replot needs besides overlay.csv to draw the picture again."""
    return [
        {
            "run": c.run,
            "label": c.label,
            "optimizer": c.optimizer,
            "resumed_from": c.resumed_from,
            "resumed_at_epoch": c.resumed_at,
        }
        for c in curves
    ]


@dataclass(frozen=True)
class Record:
    """What an overlay's folder holds, read back: each run's curves, and the summary."""

    curves: list[Curves]
    summary: dict[str, Any]


def read(folder: Path) -> Record:
    """overlay.csv and summary.json, as `nnopt overlay` wrote them.

    Raises:
      FolderError: a missing or unreadable file, or files that disagree.
    """
    summary, why = folders.read_summary(folder)
    if summary is None:
        raise FolderError(folders.summary_trouble(folder, why, "overlay"))
    listed = summary.get("runs")
    if not isinstance(listed, list) or not listed or not all(isinstance(r, Mapping) for r in listed):
        raise FolderError(f"{folder / folders.SUMMARY}: no list of runs")
    header, rows = runs.read_rows(folder / TABLE)
    if not header or header[0] != RUN:
        raise FolderError(f"{folder / TABLE}: its first column is not {RUN}")
    by_run: dict[str, list[list[str]]] = {str(r.get("run")): [] for r in listed}
    for i, row in enumerate(rows, start=2):
        if not row or row[0] not in by_run:
            raise FolderError(f"{folder / TABLE}, line {i}: a run summary.json does not list")
        by_run[row[0]].append(row[1:])
    curves = []
    for r in listed:
        run = str(r.get("run"))
        kept = [i for i, name in enumerate(header[1:]) if any(i < len(x) and x[i] for x in by_run[run])]
        at = r.get("resumed_at_epoch")
        curves.append(
            Curves(
                run,
                [header[1:][i] for i in kept],
                [[x[i] for i in kept] for x in by_run[run]],
                optimizer=str(r.get("optimizer") or ""),
                label=str(r.get("label") or run),
                resumed_from=r.get("resumed_from") if isinstance(r.get("resumed_from"), str) else None,
                resumed_at=at if isinstance(at, int) and not isinstance(at, bool) else None,
            )
        )
    return Record(curves, summary)
