"""A sweep's folder (`nnopt sweep`): its files, written and read back.

<stamp>-sweep-<name>/
  config.yaml    first: the command's inputs (the base file, --set, the grid, seeds, metric) and the base
                 config as the runs were resolved from it (its top-level `grid:` marks a sweep's folder)
  sweep.csv      one row per run: its grid values, seed, status and metrics
  cells.csv      one row per grid cell: statistics over its seeds
  curves.csv     the per-epoch curves curves.png draws (so that replot draws it again)
  *.png          heatmap, sensitivity, curves
  runs/          with --save-runs: a run folder per run (store/runs.py), named by `run_folder_name`
  summary.json   last: status, counts, the best cell, timings
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from nnopt_cli.store import folders, runs
from nnopt_cli.store.runs import FolderError

RUNS_CSV = "sweep.csv"
CELLS_CSV = "cells.csv"
CURVES_CSV = "curves.csv"
SAVED_RUNS = "runs"
# what a sweep's config.yaml holds: the keys replot needs to resolve every run again
START_KEYS = ("config", "set", "grid", "log_spaced", "seeds", "metric", "base")


def run_folder_name(index: int, seed: int) -> str:
    """The folder of grid point `index` under runs/ (--save-runs): `00042-seed3`."""
    return f"{index:05d}-seed{seed}"


def write_start(folder: Path, content: Mapping[str, Any]) -> None:
    """config.yaml, the folder's first file: `content` holds START_KEYS."""
    missing = [k for k in START_KEYS if k not in content]
    assert not missing, missing
    text = yaml.safe_dump(dict(content), sort_keys=False, default_flow_style=None)
    runs.write_text(folder / folders.CONFIG, text)


def write_tables(
    folder: Path,
    *,
    outcomes: Mapping[str, Sequence[Any]],
    cells: Mapping[str, Sequence[Any]],
    curves: Mapping[str, Sequence[Any]],
) -> None:
    """sweep.csv (a row per run), cells.csv (a row per cell) and curves.csv (curves.png's data)."""
    runs.write_csv(folder / RUNS_CSV, outcomes)
    runs.write_csv(folder / CELLS_CSV, cells)
    runs.write_csv(folder / CURVES_CSV, curves)


def write_summary(folder: Path, content: Mapping[str, Any]) -> None:
    """summary.json, the folder's last file."""
    folders.write_summary(folder, content)


def read_start(folder: Path) -> dict[str, Any]:
    """config.yaml as written by write_start.

    Raises:
      FolderError: missing, unreadable, or without the keys a sweep writes.
    """
    where = folder / folders.CONFIG
    try:
        content = yaml.safe_load(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FolderError(f"{where}: not a sweep's config.yaml ({_why(exc)})") from None
    if not isinstance(content, dict):
        raise FolderError(f"{where}: not a sweep's config.yaml (not a mapping)")
    missing = [k for k in START_KEYS if k not in content and k != "log_spaced"]
    if missing:
        raise FolderError(f"{where}: not a sweep's config.yaml (KeyError: {missing[0]!r})")
    return content


def read_table(folder: Path, name: str) -> list[dict[str, str]]:
    """The rows of one of the folder's CSV files (RUNS_CSV, CELLS_CSV, CURVES_CSV), each a mapping of its
    header's names.

    Raises:
      FolderError: missing or unreadable, naming the file.
    """
    header, rows = runs.read_rows(folder / name)
    return [dict(zip(header, row, strict=False)) for row in rows]


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"{type(exc).__name__}: {exc}"
