"""A learning-rate range test's folder (`nnopt lr-find`): its files, written and read back.

    <stamp>-lrfind-<name>/
      config.yaml    first: the resolved config of each range test, one YAML document each (`---` between);
                     with one test, a config `nnopt train` takes and whose trace.csv repeats the test's losses
      lr_find.csv    one row per update kept: step, lr, loss, smoothed_loss (a first column `name` with
                     several tests)
      lr_find.png    the smoothed loss against the rate, the raw loss faint, the suggestions marked
      summary.json   last: kind lrfind, status, the settings, each test's stop and suggestions

replot reads lr_find.csv and summary.json alone (`read`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli.config import Config
from nnopt_cli.core.lrrange import Curve
from nnopt_cli.store import folders, runs
from nnopt_cli.store.runs import FolderError

TABLE = "lr_find.csv"
PICTURE = "lr_find.png"
PREFIX = "lrfind-"  # the folder is <stamp>-lrfind-<name>
COLUMNS = ("step", "lr", "loss", "smoothed_loss")


def folder_name(name: str) -> str:
    return f"{PREFIX}{name}"


def write_start(folder: Path, configs: Sequence[Config]) -> None:
    """config.yaml, the folder's first file."""
    runs.write_text(folder / folders.CONFIG, "---\n".join(c.to_yaml() for c in configs))


def table_columns(names: Sequence[str], curves: Sequence[Curve]) -> dict[str, list[Any]]:
    """lr_find.csv's columns: every kept update of every test, the tests in order."""
    columns: dict[str, list[Any]] = {"name": []} if len(curves) > 1 else {}
    for column in COLUMNS:
        columns[column] = []
    for name, c in zip(names, curves, strict=True):
        if len(curves) > 1:
            columns["name"] += [name] * len(c.lr)
        columns["step"] += list(range(len(c.lr)))
        columns["lr"] += c.lr.tolist()
        columns["loss"] += c.loss.tolist()
        columns["smoothed_loss"] += c.smoothed.tolist()
    return columns


def write_table(folder: Path, names: Sequence[str], curves: Sequence[Curve]) -> None:
    runs.write_csv(folder / TABLE, table_columns(names, curves))


def _number(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def suggestions(curve: Curve) -> dict[str, float | None]:
    return {"steepest": _number(curve.steepest), "minimum_div_10": _number(curve.minimum_div_10)}


def write_summary(folder: Path, content: Mapping[str, Any]) -> None:
    """summary.json, the folder's last file."""
    folders.write_summary(folder, content, allow_nan=False)


@dataclass(frozen=True)
class Record:
    """What a range test's folder holds, read back: the tests' names and curves, and the summary."""

    names: list[str]
    curves: list[Curve]
    summary: dict[str, Any]


def read(folder: Path) -> Record:
    """lr_find.csv and summary.json, as `nnopt lr-find` wrote them.

    Raises:
      FolderError: a missing or unreadable file, or files that disagree.
    """
    summary, why = folders.read_summary(folder)
    if summary is None:
        raise FolderError(folders.summary_trouble(folder, why, "lr-find"))
    tests = summary.get("tests")
    if not isinstance(tests, list) or not tests or not all(isinstance(t, Mapping) for t in tests):
        raise FolderError(f"{folder / folders.SUMMARY}: no list of tests")
    header, rows = runs.read_rows(folder / TABLE)
    several = len(tests) > 1
    expected = (["name"] if several else []) + list(COLUMNS)
    if header != expected:
        raise FolderError(f"{folder / TABLE}: columns {', '.join(header)}; expected {', '.join(expected)}")
    names = [str(t.get("name")) for t in tests]
    by_name: dict[str, list[list[str]]] = {n: [] for n in names}
    for i, row in enumerate(rows, start=2):
        name = row[0] if several else names[0]
        if name not in by_name:
            raise FolderError(f"{folder / TABLE}, line {i}: test {name!r} is not in summary.json")
        by_name[name].append(row[1:] if several else row)
    curves = []
    for t, name in zip(tests, names, strict=True):
        try:
            values = np.array([[float(v) for v in r[1:]] for r in by_name[name]], dtype=np.float64)
        except ValueError:
            raise FolderError(f"{folder / TABLE}: a value of test {name!r} is not a number") from None
        values = values.reshape(-1, 3)
        stopped = t.get("stopped_at")
        suggested = t.get("suggestions") or {}
        curves.append(
            Curve(
                values[:, 0],
                values[:, 1],
                values[:, 2],
                stopped if isinstance(stopped, int) else None,
                suggested.get("steepest"),
                suggested.get("minimum_div_10"),
            )
        )
    return Record(names, curves, summary)
