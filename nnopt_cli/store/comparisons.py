"""A comparison's folder (`nnopt compare`): its entry folders, its table, and reading them back.

    <stamp>-compare/
      <entry>/ or <entry>-seed<S>/   a run folder per entry and seed (store/runs.py), config.yaml first
      dropped.json                   the keys some entries dropped (no effect there), when there are some
      compare.csv                    last: one row per trained entry, in the order the entries trained

compare.csv is what completes the folder and the only record of the entries' order, so the catalog (nnopt
runs) and replot read the order from it; the entry folders are named by folders.entry_folder_name.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nnopt_cli.config import Config
from nnopt_cli.figures import report
from nnopt_cli.store import folders, runs, surfaces
from nnopt_cli.store.runs import FolderError

DROPPED = "dropped.json"
OWN_FILES = (
    *(folders.COMPARE_CSV, DROPPED, report.COMPARE_PNG, report.BOUNDARIES_PNG, report.BOUNDARIES_GIF),
    report.PATHS_GIF,
)
"""The files of the comparison's own: no entry folder may take one of these names."""


def start(folder: Path, configs: Sequence[Config], *, seeds: int) -> list[Path]:
    """An entry folder per config (its name and seed name it) holding its config.yaml; returns them."""
    made = []
    for config in configs:
        sub = folder / folders.entry_folder_name(config.name, config.seed, seeds)
        sub.mkdir()
        runs.write_start(sub, config)
        made.append(sub)
    return made


def write_dropped(folder: Path, dropped: Mapping[str, Any]) -> None:
    """dropped.json: the keys some entries dropped because they have no effect there, with their value and
    the entries (compare.dropped_keys)."""
    folders.write_json(folder / DROPPED, dropped)


def write_table(folder: Path, columns: Mapping[str, Sequence[Any]]) -> None:
    """compare.csv, the folder's last file."""
    runs.write_csv(folder / folders.COMPARE_CSV, columns)


def read_order(folder: Path) -> tuple[list[str], list[str], bool]:
    """compare.csv's entry names in table order and their statuses; False when there is no readable file."""
    try:
        with (folder / folders.COMPARE_CSV).open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        return [], [], False
    return [r.get("name") or "" for r in rows], [r.get("status") or "" for r in rows], True


def read_entries(folder: Path) -> tuple[list[tuple[Path, Config]], int]:
    """The trained entries' folders and configs in the order `nnopt compare` trained them (compare.csv's
    rows, each entry's seeds in turn), and the number of seeds per entry.

    Raises:
      FolderError: no compare.csv, or entry folders and compare.csv that disagree.
    """
    table = folder / folders.COMPARE_CSV
    if not table.is_file():
        raise FolderError(
            f"{table}: no such file; a comparison writes it last, and only it keeps the entries' order"
        )
    header, rows = runs.read_rows(table)
    if not header or header[0] != "name":
        raise FolderError(f"{table}: the first column is {header[0] if header else 'missing'}, not name")
    order = [row[0] for row in rows]
    seeds_column = "final_loss_mean" in header  # compare.csv has mean and std columns with --seeds 2 or more
    by_name: dict[str, list[tuple[int, Path, Config]]] = {}
    for sub in folders.entry_folders(folder):
        config = runs.read_config(sub)
        by_name.setdefault(config.name, []).append((config.seed, sub, config))
    if not by_name:
        raise FolderError(f"{folder}: a comparison with no entry folder (none holds a config.yaml)")
    counts = {len(found) for found in by_name.values()}
    seeds = counts.pop()
    if counts or (seeds > 1) != seeds_column:
        raise FolderError(
            f"{folder}: its entry folders do not match compare.csv: "
            + ", ".join(f"{name} {len(found)} seed(s)" for name, found in by_name.items())
            + (", compare.csv has mean and std columns" if seeds_column else ", compare.csv one seed per row")
        )
    entries = []
    for name, found in by_name.items():
        for seed, sub, _ in sorted(found, key=lambda item: item[0]):
            expected = folders.entry_folder_name(name, seed, seeds)
            if sub.name != expected:
                raise FolderError(
                    f"{sub / 'config.yaml'}: entry {name!r} seed {seed}, which nnopt compare writes to "
                    f"{expected}/, not {sub.name}/"
                )
            data = surfaces.TABLE if config.model_type == "surface" else "metrics.csv"
            trained = (sub / data).exists()
            if trained != (name in order):
                said = "lists it" if name in order else "does not list it"
                has = "has" if trained else "has no"
                raise FolderError(f"{sub}: {has} {data}, but compare.csv {said}")
    for name in order:
        if name not in by_name:
            raise FolderError(f"{table}: entry {name!r} has no folder in {folder}")
        entries += [(sub, config) for _, sub, config in sorted(by_name[name], key=lambda item: item[0])]
    return entries, seeds
