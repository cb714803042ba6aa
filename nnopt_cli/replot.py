"""`nnopt replot`: a folder's pictures drawn again from the files it holds, without training.

    run folder    config.yaml, metrics.csv, lr.csv, params.npz (params_ema.npz), summary.json
                  ──► History; data and network rebuilt (not trained) ──► experiment.run_view
                  ──► report.run_jobs ──► loss.png, lr.png, boundary.png (confusion.png)
    quadratic     config.yaml, metrics.csv, summary.json ──► QuadraticHistory ──► quadratic.png, lr.png
    comparison    compare.csv (the entries' order) and one run folder per entry
                  ──► compare.png, boundaries.png (and each entry's own pictures when asked)
    sweep         nnopt_cli.sweep.redraw, when this version has it

The pictures are drawn by the functions `nnopt train` and `nnopt compare` draw them with, from the same
numbers: metrics.csv and lr.csv hold floats in round-trip form and the .npz files the float64 weights, so a
redrawn PNG is the one the command drew, byte for byte. The exception is epoch 0, which is not a row of
metrics.csv: its values come from summary.json's `start` (every measure), or, in summaries written before
it, from `start_loss` and `start_accuracy` alone, so that curves of other measures (the data loss beside a
penalty, the moving average's, the test rows') then begin at epoch 1.

A folder without summary.json (its command was killed while drawing) is redrawn too. Its status is the one
the training loop gave it, read off the files: diverged when the last loss or a weight is not finite,
completed when every planned epoch is there, interrupted otherwise, with the loop's own message. It has no
epoch 0, so loss.png and compare.png start at epoch 1. Only pictures are written, never summary.json.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import importlib
import json
import math
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import config as config_mod
from nnopt_cli import data as data_mod
from nnopt_cli import experiment, loop, mlp, quadratic, report
from nnopt_cli.config import Config
from nnopt_cli.loop import History
from nnopt_cli.quadratic import QuadraticHistory

STATUSES = ("completed", "interrupted", "diverged")
SWEEP_NAME = re.compile(r"^\d{8}-\d{6}-sweep-")  # <YYYYmmdd-HHMMSS>-sweep-<name>
BATCH_LOSS = "batch_loss"  # the History field trace.csv fills, in versions that have it
TRACE_COLUMNS = ("step", "epoch", "lr", BATCH_LOSS)


class ReplotError(ValueError):
    """A folder whose pictures cannot be drawn again; str() is one line naming the file and the problem."""


def redraw(folder: Path, *, workers: int | None = None, entry_pictures: bool = False) -> list[Path]:
    """Draw the pictures of a run, quadratic-toy, comparison or sweep folder again from its files.

    Args:
      workers: drawing processes, as report.draw takes them (None: one per core, at most 4).
      entry_pictures: a comparison folder only: also draw every entry's own pictures in its folder, as
        `nnopt compare --entry-pictures` does.
    Returns:
      The picture files written (each through a temporary name, so a PNG on disk is always whole).
    Raises:
      ReplotError: a folder that is none of those, or whose files are missing, unreadable or disagree.
    """
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "no such folder"
        raise ReplotError(f"{folder}: {what}")
    if SWEEP_NAME.match(folder.name) and not (folder / "metrics.csv").exists():
        return _redraw_sweep(folder)
    before = _pictures(folder)
    if (folder / "config.yaml").exists():
        config = _load_config(folder)
        if config.model_type == "quadratic":
            report.draw_quadratic(folder, _quadratic_history(folder, config))
        else:
            _redraw_run(folder, _history(folder, config), workers)
    elif (folder / "compare.csv").exists() or _entry_folders(folder):
        _redraw_comparison(folder, workers, entry_pictures)
    else:
        raise ReplotError(f"{folder}: not a run folder (no config.yaml) nor a comparison's (no compare.csv)")
    after = _pictures(folder)
    return sorted(path for path, stamp in after.items() if before.get(path) != stamp)


def read_history(folder: Path) -> History:
    """The History a run folder's pictures are drawn from, rebuilt from its files (see the module's
    docstring for epoch 0 and for a folder without summary.json).

    Raises:
      ReplotError: no usable config.yaml, metrics.csv, lr.csv or params.npz (params_ema.npz with ema.decay),
        a summary.json or trace.csv that cannot be read, or files that disagree with each other.
    """
    folder = Path(folder)
    config = _load_config(folder)
    if config.model_type != "mlp":
        raise ReplotError(
            f"{folder / 'config.yaml'}: model.type {config.model_type}: the quadratic toy's folder has no "
            "per-epoch history (read_quadratic reads it)"
        )
    return _history(folder, config)


def read_quadratic(folder: Path) -> QuadraticHistory:
    """The QuadraticHistory of a quadratic toy's folder, from its metrics.csv (step, w, loss, lr)."""
    folder = Path(folder)
    config = _load_config(folder)
    if config.model_type != "quadratic":
        raise ReplotError(f"{folder / 'config.yaml'}: model.type {config.model_type}, not quadratic")
    return _quadratic_history(folder, config)


# --- a run ------------------------------------------------------------------------------------------


def _redraw_run(folder: Path, history: History, workers: int | None) -> None:
    (prepared,) = _prepare([(folder, history)], folder)
    view = experiment.run_view(history, prepared)
    report.draw(report.run_jobs(folder, history, view), workers=workers)


def _history(folder: Path, config: Config) -> History:
    summary = _read_summary(folder)
    h = History(config=config, steps_per_epoch=0, with_test=config.test_size != 0)
    metrics = folder / "metrics.csv"
    columns = _read_csv(metrics, list(h.metrics_columns()), integers=("epoch", "step"), run=config)
    for key, values in columns.items():
        getattr(h, key).extend(values)
    h.steps_per_epoch = h.step[0] if h.step else _steps_per_epoch(folder, config)
    for line, (epoch, step) in enumerate(zip(h.epoch, h.step, strict=True), start=2):
        if epoch != line - 1 or step != epoch * h.steps_per_epoch:
            raise ReplotError(
                f"{metrics}, line {line}: epoch {epoch} at step {step}, expected epoch {line - 1} at step "
                f"{(line - 1) * h.steps_per_epoch} ({h.steps_per_epoch} updates per epoch)"
            )
    rates = folder / "lr.csv"
    trace = _read_csv(rates, ["step", "lr"], integers=("step",), run=config)
    if trace["step"] != list(range(h.steps_done)):
        raise ReplotError(
            f"{rates}: {len(trace['step'])} updates numbered {_span(trace['step'])}; metrics.csv says "
            f"{h.steps_done} updates were made, 0 to {h.steps_done - 1}"
        )
    h.lr_trace = np.asarray(trace["lr"], dtype=np.float64)
    h.params = _read_npz(folder / "params.npz")
    if config.ema_decay is not None:
        h.params_ema = _read_npz(folder / "params_ema.npz")
    if summary is None:
        _infer_status(h)
    else:
        _apply_summary(h, summary, folder / "summary.json")
    _read_trace(folder / "trace.csv", h)
    return h


def _steps_per_epoch(folder: Path, config: Config) -> int:
    """Updates per epoch from the data, for a run that stopped before its first epoch ended."""
    try:
        train = experiment.load_data(config).train
    except data_mod.DataError as exc:
        raise ReplotError(f"{folder / 'config.yaml'}: cannot read the run's data: {exc}") from None
    return loop.steps_per_epoch(config.batch_size, train.size)


def _apply_summary(h: History, summary: dict[str, Any], path: Path) -> None:
    status = summary.get("status")
    if status not in STATUSES:
        raise ReplotError(f"{path}: status {status!r}, expected one of {', '.join(STATUSES)}")
    h.status = status
    h.message = _typed(summary, "message", str, path, "")
    h.diverged_epoch = _typed(summary, "diverged_epoch", int, path, None)
    h.train_seconds = float(_typed(summary, "train_seconds", (int, float), path, 0.0))
    h.population_size = _typed(summary, "population_size", int, path, 1)
    start = summary.get("start")
    if start is not None:
        if not isinstance(start, dict):
            raise ReplotError(f"{path}: start is {type(start).__name__}, expected a mapping of measures")
        h.start = {str(k): _number(v, f"start.{k}", path) for k, v in start.items()}
    elif not h.with_test:
        # before summaries had `start`: the loss and accuracy alone (with a test split none, or compare.png
        # would draw the test curves against epochs that begin at 0)
        h.start = {
            key: _number(summary[f"start_{key}"], f"start_{key}", path)
            for key in ("loss", "accuracy")
            if f"start_{key}" in summary
        }


def _infer_status(h: History) -> None:
    """The status the loop gave a run whose summary.json was never written (loop.run's rules)."""
    finite = all(np.all(np.isfinite(a)) for a in h.params.values())
    if h.loss and not (math.isfinite(h.loss[-1]) and finite):
        h.status = "diverged"
        h.diverged_epoch = h.epoch[-1]
        h.message = loop._divergence_message(h.config, h.epoch[-1], h.loss[-1])
    elif h.epochs_done >= h.config.epochs:
        h.status = "completed"
    else:
        h.status = "interrupted"
        h.message = f"interrupted after {loop._epochs(h.epochs_done)} of {h.config.epochs}"


def _read_trace(path: Path, h: History) -> None:
    """trace.csv's per-update batch loss, in versions whose History keeps it."""
    if not path.is_file() or BATCH_LOSS not in {f.name for f in dataclasses.fields(History)}:
        return
    columns = _read_csv(path, list(TRACE_COLUMNS), integers=("step", "epoch"), run=h.config)
    setattr(h, BATCH_LOSS, np.asarray(columns[BATCH_LOSS], dtype=np.float64))


def _prepare(runs: Sequence[tuple[Path, History]], folder: Path) -> list[loop.Prepared]:
    """Each run's data and network, rebuilt without training and checked against its files: its updates per
    epoch and the shapes of its weights. The starting weights are drawn, never read: model.init_from may
    be gone, and the pictures show the final weights only."""
    configs = [h.config.replace(init_from=None) for _, h in runs]
    try:
        groups = experiment.prepare(configs)
    except (data_mod.DataError, experiment.SetupError) as exc:
        where = folder / "config.yaml" if len(runs) == 1 else folder
        raise ReplotError(f"{where}: cannot rebuild the run's data and network: {exc}") from None
    prepared = {i: g.prepared for g in groups for i in g.indices}
    out = []
    for i, (run, h) in enumerate(runs):
        p = prepared[i]
        per_epoch = loop.steps_per_epoch(h.config.batch_size, p.train.size)
        if h.steps_per_epoch != per_epoch:
            raise ReplotError(
                f"{run / 'metrics.csv'}: {h.steps_per_epoch} updates per epoch, but config.yaml's data has "
                f"{p.train.size} training rows, {per_epoch} batches of {h.config.batch_size}: config.yaml or "
                "its data changed since the run"
            )
        try:
            p.net.check_arrays(h.params, str(run / "params.npz"))
            if h.params_ema is not None:
                p.net.check_arrays(h.params_ema, str(run / "params_ema.npz"))
        except mlp.NetworkError as exc:
            raise ReplotError(str(exc)) from None
        out.append(p)
    return out


# --- the quadratic toy ------------------------------------------------------------------------------


def _quadratic_history(folder: Path, config: Config) -> QuadraticHistory:
    metrics = folder / "metrics.csv"
    columns = _read_csv(metrics, ["step", "w", "loss", "lr"], integers=("step",), run=config)
    if columns["step"] != list(range(len(columns["step"]))):
        raise ReplotError(f"{metrics}: steps {_span(columns['step'])}, expected 0, 1, 2, ... one per row")
    h = QuadraticHistory(
        config=config,
        lr_trace=np.asarray(columns["lr"], dtype=np.float64),
        step=columns["step"],
        w=columns["w"],
        loss=columns["loss"],
        lr=columns["lr"],
    )
    summary = _read_summary(folder)
    path = folder / "summary.json"
    if summary is not None:
        status = summary.get("status")
        if status not in STATUSES:
            raise ReplotError(f"{path}: status {status!r}, expected one of {', '.join(STATUSES)}")
        h.status = status
        h.message = _typed(summary, "message", str, path, "")
        h.diverged_step = _typed(summary, "diverged_step", int, path, None)
        h.train_seconds = float(_typed(summary, "train_seconds", (int, float), path, 0.0))
        return h
    start = max(float(quadratic.loss(config.w0)), 1.0)
    if h.loss and not h.loss[-1] <= quadratic.DIVERGENCE_FACTOR * start:  # quadratic.train's rule
        k = h.step[-1]
        h.status, h.diverged_step = "diverged", k
        h.message = quadratic._divergence_message(config, k, h.w[-1], h.loss[-1], start)
    elif len(h.step) >= config.steps:
        h.status = "completed"
    else:
        h.status = "interrupted"
        h.message = f"interrupted after {len(h.step)} of {config.steps} steps"
    return h


# --- a comparison -----------------------------------------------------------------------------------


def _redraw_comparison(folder: Path, workers: int | None, entry_pictures: bool) -> None:
    """compare.png and boundaries.png (and the entries' pictures) as compare.write_results draws them."""
    entries, seeds = _comparison_entries(folder)
    histories = [_history(sub, config) for sub, config in entries]
    prepared = _prepare([(sub, h) for (sub, _), h in zip(entries, histories, strict=True)], folder)
    names = [h.config.name for h in histories]
    firsts: dict[str, int] = {}  # each entry's first seed: the one boundaries.png shows
    for j, name in enumerate(names):
        firsts.setdefault(name, j)
    drawn = range(len(histories)) if entry_pictures else firsts.values()
    views = {j: experiment.run_view(histories[j], prepared[j]) for j in drawn}
    shown = [(histories[j], views[j]) for j in firsts.values()]
    jobs = report.comparison_jobs(folder, names, histories, shown, seeds)
    if entry_pictures:
        for j, (sub, _) in enumerate(entries):
            jobs += report.run_jobs(sub, histories[j], views[j])
    report.draw(jobs, workers=workers)


def _comparison_entries(folder: Path) -> tuple[list[tuple[Path, Config]], int]:
    """The trained entries' folders and configs in the order `nnopt compare` trained them (compare.csv's
    rows, each entry's seeds in turn), and the number of seeds per entry."""
    table = folder / "compare.csv"
    if not table.is_file():
        raise ReplotError(
            f"{table}: no such file; a comparison writes it last, and only it keeps the entries' order"
        )
    header, rows = _read_rows(table)
    if not header or header[0] != "name":
        raise ReplotError(f"{table}: the first column is {header[0] if header else 'missing'}, not name")
    order = [row[0] for row in rows]
    seeds_column = "final_loss_mean" in header  # compare.csv has mean and std columns with --seeds 2 or more
    by_name: dict[str, list[tuple[int, Path, Config]]] = {}
    for sub in _entry_folders(folder):
        config = _load_config(sub)
        by_name.setdefault(config.name, []).append((config.seed, sub, config))
    if not by_name:
        raise ReplotError(f"{folder}: a comparison with no entry folder (none holds a config.yaml)")
    counts = {len(found) for found in by_name.values()}
    seeds = counts.pop()
    if counts or (seeds > 1) != seeds_column:
        raise ReplotError(
            f"{folder}: its entry folders do not match compare.csv: "
            + ", ".join(f"{name} {len(found)} seed(s)" for name, found in by_name.items())
            + (", compare.csv has mean and std columns" if seeds_column else ", compare.csv one seed per row")
        )
    entries = []
    for name, found in by_name.items():
        for seed, sub, _ in sorted(found, key=lambda item: item[0]):
            expected = name if seeds == 1 else f"{name}-seed{seed}"
            if sub.name != expected:
                raise ReplotError(
                    f"{sub / 'config.yaml'}: entry {name!r} seed {seed}, which nnopt compare writes to "
                    f"{expected}/, not {sub.name}/"
                )
            trained = (sub / "metrics.csv").exists()
            if trained != (name in order):
                said = "lists it" if name in order else "does not list it"
                has = "has" if trained else "has no"
                raise ReplotError(f"{sub}: {has} metrics.csv, but compare.csv {said}")
    for name in order:
        if name not in by_name:
            raise ReplotError(f"{table}: entry {name!r} has no folder in {folder}")
        entries += [(sub, config) for _, sub, config in sorted(by_name[name], key=lambda item: item[0])]
    return entries, seeds


def _entry_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / "config.yaml").is_file())


# --- a sweep ----------------------------------------------------------------------------------------


def _redraw_sweep(folder: Path) -> list[Path]:
    try:
        sweep = importlib.import_module("nnopt_cli.sweep")
    except ModuleNotFoundError as exc:
        if exc.name != "nnopt_cli.sweep":
            raise
        sweep = None
    redraw_sweep = getattr(sweep, "redraw", None)
    if redraw_sweep is None:
        raise ReplotError(f"{folder}: a sweep folder; this version of nnopt cannot redraw sweep folders")
    return list(redraw_sweep(folder))


# --- reading files ----------------------------------------------------------------------------------


def _load_config(folder: Path) -> Config:
    path = folder / "config.yaml"
    if not path.exists():
        raise ReplotError(f"{path}: no such file; a run folder begins with its resolved config")
    try:
        return config_mod.load(path)
    except config_mod.ConfigError as exc:
        raise ReplotError(str(exc)) from None


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise ReplotError(f"{path}: no such file; the run stopped before writing it") from None
    except UnicodeDecodeError:
        raise ReplotError(f"{path}: not a CSV text file") from None
    except (OSError, csv.Error) as exc:
        raise ReplotError(f"{path}: cannot read: {exc}") from None
    return (rows[0], rows[1:]) if rows else ([], [])


def _read_csv(path: Path, header: list[str], *, integers: Sequence[str], run: Config) -> dict[str, list[Any]]:
    """The columns of a CSV file runs.write_csv wrote: `header` exactly, integers in the `integers`
    columns and floats (their repr, 'nan' and 'inf' included) in the others."""
    found, rows = _read_rows(path)
    if found != header:
        shown = ",".join(found) if found else "no header"
        raise ReplotError(
            f"{path}: columns {shown}; config.yaml's run (model.type {run.model_type}"
            f"{', ema' if run.ema_decay is not None else ''}"
            f"{', a test split' if run.test_size != 0 else ''}) writes {','.join(header)}"
        )
    columns: dict[str, list[Any]] = {key: [] for key in header}
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ReplotError(f"{path}, line {line}: {len(row)} cells, the header has {len(header)}")
        for key, cell in zip(header, row, strict=True):
            try:
                columns[key].append(int(cell) if key in integers else float(cell))
            except ValueError:
                kind = "an integer" if key in integers else "a number"
                raise ReplotError(f"{path}, line {line}: {key} {cell!r} is not {kind}") from None
    return columns


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise ReplotError(f"{path}: no such file; the run folder has no weights to draw decisions from")
    arrays = None
    try:
        saved = np.load(path, allow_pickle=False)
        if hasattr(saved, "files"):
            with contextlib.closing(saved):
                arrays = {key: np.asarray(saved[key]) for key in saved.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ReplotError(f"{path}: not an .npz file of weights ({exc})") from None
    if arrays is None:
        raise ReplotError(f"{path}: a single array, not the named arrays w1, b1, ... of a run's weights")
    for key, value in arrays.items():
        if not np.issubdtype(value.dtype, np.number):
            raise ReplotError(f"{path}: {key} holds {value.dtype} values, not numbers")
    return arrays


def _read_summary(folder: Path) -> dict[str, Any] | None:
    """summary.json's content, or None when the run never wrote it."""
    path = folder / "summary.json"
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReplotError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(content, dict):
        raise ReplotError(f"{path}: holds {type(content).__name__}, not a mapping")
    return content


def _typed(summary: dict[str, Any], key: str, kind: Any, path: Path, default: Any) -> Any:
    value = summary.get(key, default)
    if value is not default and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ReplotError(f"{path}: {key} is {value!r}, not {_kind_name(kind)}")
    return value


def _kind_name(kind: Any) -> str:
    return {str: "text", int: "an integer"}.get(kind, "a number")


def _number(value: Any, key: str, path: Path) -> float:
    """A measure of summary.json: a number, or null for one that was NaN or infinite (read as NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReplotError(f"{path}: {key} is {value!r}, not a number")
    return float(value)


def _span(steps: list[int]) -> str:
    return f"{steps[0]} to {steps[-1]}" if steps else "none"


def _pictures(folder: Path) -> dict[Path, tuple[int, int]]:
    """The PNG files of a folder and of the folders in it, each with its inode and modification time: a
    picture written again is a new file renamed over the old one, so both change."""
    found = {}
    for path in [*folder.glob("*.png"), *folder.glob("*/*.png")]:
        with contextlib.suppress(FileNotFoundError):
            stat = path.stat()
            found[path] = (stat.st_ino, stat.st_mtime_ns)
    return found
