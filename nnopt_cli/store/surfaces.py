"""A surface run's folder (`nnopt train` of a config with model.type surface): its files, written and read
back.

    <stamp>-<name>/
      config.yaml      first: the resolved config
      trajectory.csv   one row per step: step, x, y, loss, lr, and with ema.decay ema_x, ema_y, ema_loss;
                       step 0 is the start (its lr empty: no update led there), row k the point after
                       update k, made with rate lr
      paths.png, loss.png, lr.png   the pictures (figures/surfaceplot.py), drawn after summary.json; with
                       plot.animate also paths.gif (paths.png drawn as it goes, from the same rows)
      summary.json     last: kind surface, status, the final point and loss, the nearest minimum and the
                       distance to it, ...

replot reads trajectory.csv and summary.json alone (`read`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import __version__
from nnopt_cli.config import Config
from nnopt_cli.core import surface
from nnopt_cli.core.surface import SurfaceHistory
from nnopt_cli.store import folders, runs
from nnopt_cli.store.runs import FolderError

TABLE = "trajectory.csv"
COLUMNS = ("step", "x", "y", "loss", "lr")
EMA_COLUMNS = ("ema_x", "ema_y", "ema_loss")


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def table_columns(h: SurfaceHistory) -> dict[str, list[Any]]:
    """trajectory.csv's columns; the start's lr (NaN in the history) an empty cell."""
    columns: dict[str, list[Any]] = {k: v.tolist() for k, v in h.columns().items()}
    columns["lr"] = ["", *columns["lr"][1:]]
    return columns


def summary(h: SurfaceHistory, *, total_seconds: float) -> dict[str, Any]:
    """summary.json's content (non-finite numbers written as null)."""
    c = h.config
    fn = surface.FUNCTIONS[c.function]
    x, y, value = float(h.x[-1]), float(h.y[-1]), float(h.loss[-1])
    finite = np.isfinite(h.loss)
    out: dict[str, Any] = {
        "kind": folders.SURFACE,
        "name": c.name,
        "status": h.status,
        "message": h.message,
        "function": c.function,
        "formula": fn.formula.replace("c·", f"{c.condition:g}·") if c.function == "quadratic" else fn.formula,
        "start": [float(h.x[0]), float(h.y[0])],
        "start_loss": _number(float(h.loss[0])),
        "steps": h.steps_done,  # the updates made, as a network's summary counts them
        "planned_steps": c.steps,
        "final_x": _number(x),
        "final_y": _number(y),
        "final_loss": _number(value),
        "lowest_loss": _number(float(np.min(h.loss[finite]))) if finite.any() else None,
    }
    if math.isfinite(x) and math.isfinite(y):
        point, distance = surface.nearest(c, x, y)
        key = "minimum" if fn.minima else "saddle"
        out[f"nearest_{key}"] = list(point)
        out[f"distance_to_{key}"] = distance
    if h.ema_loss is not None and h.ema_x is not None and h.ema_y is not None:
        out["final_ema_x"] = _number(float(h.ema_x[-1]))
        out["final_ema_y"] = _number(float(h.ema_y[-1]))
        out["final_ema_loss"] = _number(float(h.ema_loss[-1]))
    out.update(
        diverged_step=h.diverged_step,
        population_size=h.population_size,
        train_seconds=round(h.train_seconds, 6),
        total_seconds=round(total_seconds, 6),
        nnopt_version=__version__,
        numpy_version=np.__version__,
    )
    return out


def write_results(folder: Path, h: SurfaceHistory, *, started: float, clock: Any) -> dict[str, Any]:
    """trajectory.csv, then summary.json, the last file (config.yaml came first: runs.write_start; the
    pictures are drawn after, report.surface_jobs). Returns the summary."""
    runs.write_csv(Path(folder) / TABLE, table_columns(h))
    result = summary(h, total_seconds=clock() - started)
    folders.write_summary(folder, result)
    return result


def read(folder: Path, config: Config | None = None) -> SurfaceHistory:
    """The history a surface folder's files were written from: trajectory.csv and summary.json (without
    summary.json, cut off before its last file: the status surface.train gave it, read off the rows).

    Raises:
      FolderError: not a surface's folder, a file missing or unreadable, columns other than the config's,
        steps that are not 0, 1, 2, ...
    """
    folder = Path(folder)
    config = runs.read_config(folder) if config is None else config
    if config.model_type != "surface":
        raise FolderError(f"{folder / folders.CONFIG}: model.type {config.model_type}, not surface")
    path = folder / TABLE
    header, rows = runs.read_rows(path)
    expected = [*COLUMNS, *(EMA_COLUMNS if config.ema_decay is not None else ())]
    if header != expected:
        shown = ",".join(header) if header else "no header"
        raise FolderError(
            f"{path}: columns {shown}; config.yaml's surface run"
            f"{' (with ema)' if config.ema_decay is not None else ''} writes {','.join(expected)}"
        )
    columns: dict[str, list[float]] = {k: [] for k in header}
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise FolderError(f"{path}, line {line}: {len(row)} cells, the header has {len(header)}")
        for key, cell in zip(header, row, strict=True):
            if key == "lr" and line == 2 and cell == "":
                columns[key].append(math.nan)
                continue
            try:
                columns[key].append(int(cell) if key == "step" else float(cell))
            except ValueError:
                kind = "an integer" if key == "step" else "a number"
                raise FolderError(f"{path}, line {line}: {key} {cell!r} is not {kind}") from None
    steps = columns["step"]
    if not steps or steps != list(range(len(steps))):
        raise FolderError(f"{path}: steps must be 0, 1, 2, ... one per row (0: the start)")
    if len(steps) > config.steps + 1:
        raise FolderError(f"{path}: {len(steps) - 1} steps, more than train.steps {config.steps}")
    lr = np.array(columns["lr"])
    trace = surface.rates(config)
    h = SurfaceHistory(
        config=config,
        step=np.array(steps),
        x=np.array(columns["x"]),
        y=np.array(columns["y"]),
        loss=np.array(columns["loss"]),
        lr=lr,
        lr_trace=trace,
    )
    if config.ema_decay is not None:
        h.ema_x, h.ema_y, h.ema_loss = (np.array(columns[k]) for k in EMA_COLUMNS)
    content = runs.read_summary(folder)
    if content is None:
        _infer_status(h)
        return h
    where = folder / folders.SUMMARY
    status = content.get("status")
    if status not in folders.RUN_STATUSES:
        raise FolderError(f"{where}: status {status!r}, expected one of {', '.join(folders.RUN_STATUSES)}")
    h.status = str(status)
    h.message = _typed(content, "message", str, where, "")
    h.diverged_step = _typed(content, "diverged_step", int, where, None)
    h.train_seconds = float(_typed(content, "train_seconds", (int, float), where, 0.0))
    h.population_size = int(_typed(content, "population_size", int, where, 1))
    return h


def _typed(content: dict[str, Any], key: str, kind: Any, path: Path, default: Any) -> Any:
    value = content.get(key, default)
    if value is default or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise FolderError(
        f"{path}: {key} is {type(value).__name__}, expected {getattr(kind, '__name__', 'a number')}"
    )


def _infer_status(h: SurfaceHistory) -> None:
    """The status surface.train gave a run whose summary.json was never written, by its rules."""
    c = h.config
    limit = surface.DIVERGENCE_FACTOR * max(abs(float(h.loss[0])), 1.0)
    if len(h.loss) > 1 and not abs(float(h.loss[-1])) <= limit:
        k = int(h.step[-1])
        h.status, h.diverged_step = "diverged", k
        h.message = surface.divergence_message(
            c,
            k,
            float(h.x[-1]),
            float(h.y[-1]),
            float(h.loss[-1]),
            limit / surface.DIVERGENCE_FACTOR,
            lr=float(h.lr[-1]),
        )
    elif h.steps_done >= c.steps:
        h.status = "completed"
    else:
        h.status = "interrupted"
        h.message = f"interrupted after {h.steps_done} of {c.steps} steps"
