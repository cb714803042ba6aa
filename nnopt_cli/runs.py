"""The run folder: its name, and every file a run writes into it.

A folder is made only after the config, the data and the starting parameters have been checked, its
config.yaml is written first and summary.json last, and every file goes through a temporary name, so a folder
without summary.json is a run that did not finish writing, and no file is ever half-written.
"""

from __future__ import annotations

import csv
import io
import json
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import __version__, losses, plots, schedules
from nnopt_cli.data import Dataset
from nnopt_cli.quadratic import QuadraticHistory
from nnopt_cli.train import History, network


class RunFolderError(OSError):
    """The runs root cannot be used; one line."""


def _stamped(root: str | Path, name: str, suffix: str, now: datetime | None) -> Iterator[Path]:
    """`<root>/<YYYYmmdd-HHMMSS>-<name><suffix>`, then the same with `-2`, `-3`, ... before the suffix;
    creates root first."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"--runs-root {root}: cannot create the folder ({exc.strerror})") from None
    base = f"{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}-{name}"
    for n in range(1, 10_000):
        yield root / (f"{base}{suffix}" if n == 1 else f"{base}-{n}{suffix}")
    raise RunFolderError(f"--runs-root {root}: too many runs named {base}")


def make_folder(root: str | Path, name: str, *, now: datetime | None = None) -> Path:
    """Create `<root>/<YYYYmmdd-HHMMSS>-<name>/`, never reusing a folder: a second run started in the same
    second gets `-2`, then `-3`, ..."""
    for folder in _stamped(root, name, "", now):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunFolderError(f"--runs-root {root}: cannot create a run folder ({exc.strerror})") from None
        return folder
    raise AssertionError("unreachable")  # _stamped raises when it runs out of names


def new_file(root: str | Path, name: str, suffix: str, *, now: datetime | None = None) -> Path:
    """A path `<root>/<YYYYmmdd-HHMMSS>-<name><suffix>` naming no existing file, as run folders are named."""
    return next(path for path in _stamped(root, name, suffix, now) if not path.exists())


def write_text(path: Path, text: str) -> None:
    """Write a text file through a temporary name in the same folder."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_csv(path: Path, columns: Mapping[str, Sequence[Any]]) -> None:
    """Columns of equal length as CSV, floats in shortest round-trip form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(columns))
    for row in zip(*columns.values(), strict=True):
        writer.writerow([_cell(v) for v in row])
    write_text(path, buffer.getvalue())


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    os.replace(tmp, path)


def _json_number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def summary(history: History, *, total_seconds: float) -> dict[str, Any]:
    """The content of summary.json (non-finite numbers written as null)."""
    h = history
    finite = [v for v in h.loss if math.isfinite(v)]
    out: dict[str, Any] = {
        "name": h.config.name,
        "status": h.status,
        "message": h.message,
        "epochs": h.config.epochs,
        "epochs_done": h.epochs_done,
        "steps": h.steps_done,
        "final_loss": _json_number(h.loss[-1] if h.loss else None),
        "final_data_loss": _json_number(h.data_loss[-1] if h.data_loss else None),
        "final_accuracy": _json_number(h.accuracy[-1] if h.accuracy else None),
        "best_loss": min(finite) if finite else None,
        "diverged_epoch": h.diverged_epoch,
        "train_seconds": round(h.train_seconds, 6),
        "total_seconds": round(total_seconds, 6),
        "nnopt_version": __version__,
        "numpy_version": np.__version__,
    }
    if h.config.ema_decay is not None:
        out["final_ema_loss"] = _json_number(h.ema_loss[-1] if h.ema_loss else None)
        out["final_ema_accuracy"] = _json_number(h.ema_accuracy[-1] if h.ema_accuracy else None)
    return out


def describe_optimizer(config: Any) -> str:
    """A short label of the optimizer and its hyperparameters, e.g. 'adam lr=0.01 beta1=0.9 ...'."""
    params = " ".join(f"{k}={_short(v)}" for k, v in config.optimizer_params.items())
    decay = f" decay={_short(config.lr_decay)}" if config.lr_decay else ""
    return f"{config.optimizer} lr={_short(config.lr)}{decay}" + (f" {params}" if params else "")


def describe_run(config: Any) -> str:
    """Optimizer, schedule, regularizer and EMA in one line, for titles."""
    parts = [describe_optimizer(config)]
    if config.schedule != "constant":
        parts.append(schedules.describe(config.schedule, config.schedule_params))
    if config.regularizer != "none" and config.reg_scale > 0:
        parts.append(f"{config.regularizer} scale={_short(config.reg_scale)}")
    if config.ema_decay is not None:
        parts.append(f"EMA decay={_short(config.ema_decay)}")
    return ", ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def score_label(loss: str) -> str:
    return "network output ŷ" if loss == "mse" else "sigmoid(output) = P(y_c = 1)"


def decision_boundary(history: History) -> plots.Boundary:
    """The run's score on the plot grid, for its final and (with EMA) shadow parameters."""
    config = history.config
    net = network(config)
    xx, _, points = plots.decision_grid()

    def score(arrays: dict[str, np.ndarray]) -> np.ndarray:
        out = net.output(net.from_arrays(arrays)[None], points)[0, :, 0]
        return np.asarray(losses.score(config.loss, out)).reshape(xx.shape)

    with np.errstate(all="ignore"):
        raw = score(history.params)
        shadow = score(history.params_ema) if history.params_ema is not None else None
    acc = f"accuracy {history.accuracy[-1]:.1%}" if history.accuracy else "no epoch finished"
    if history.params_ema is not None and history.ema_accuracy:
        acc += f", EMA {history.ema_accuracy[-1]:.1%}"
    label = f"{config.name}: {acc} after {history.epochs_done} epochs"
    return plots.Boundary(score=raw, label=label, ema_score=shadow)


def _draw_loss(folder: Path, h: History) -> None:
    config = h.config
    epochs = np.asarray(h.epoch, dtype=float)
    reg = config.regularizer != "none" and config.reg_scale > 0
    loss_label = "loss (data loss + regularization)" if reg else f"loss ({config.loss})"
    loss_curves = [plots.Curve(epochs, np.asarray(h.loss), loss_label, color="C0")]
    if reg:
        loss_curves.append(
            plots.Curve(epochs, np.asarray(h.data_loss), f"data loss ({config.loss})", color="C0", style="--")
        )
    acc_curves = [plots.Curve(epochs, np.asarray(h.accuracy), "accuracy", color="C2")]
    if config.ema_decay is not None:
        loss_curves.append(plots.Curve(epochs, np.asarray(h.ema_loss), "loss of the EMA weights", color="C1"))
        acc_curves.append(
            plots.Curve(epochs, np.asarray(h.ema_accuracy), "accuracy of the EMA weights", color="C1")
        )
    note = h.message if h.status != "completed" else ""
    title = f"{config.name}: {describe_run(config)}"
    plots.training_curves(folder / "loss.png", title=title, loss=loss_curves, accuracy=acc_curves, note=note)


def _draw_lr(folder: Path, h: History) -> None:
    config = h.config
    steps = np.arange(len(h.lr_trace))
    title = f"{config.name}: learning rate of each update ({h.steps_per_epoch} updates per epoch)"
    schedule = schedules.describe(config.schedule, config.schedule_params)
    if config.unit == "epoch":
        schedule += ", evaluated per epoch"
    if config.lr_decay:
        schedule += f", / (1 + {config.lr_decay:g}·k)"
    curve = plots.Curve(steps, h.lr_trace, f"{schedule}, lr0={config.lr:g}")
    plots.lr_curves(folder / "lr.png", [curve], title=title)


def _draw_boundary(folder: Path, h: History, dataset: Dataset) -> None:
    plots.boundary(
        folder / "boundary.png",
        dataset.x,
        dataset.y,
        decision_boundary(h),
        title=describe_run(h.config),
        score_label=score_label(h.config.loss),
    )


# A figure to draw: a module-level function and its arguments, so that it can run in a worker process.
Job = tuple[Callable[..., None], tuple[Any, ...]]


def figure_jobs(folder: Path, history: History, dataset: Dataset) -> list[Job]:
    """The run's three figures: loss.png, lr.png, boundary.png."""
    return [
        (_draw_loss, (folder, history)),
        (_draw_lr, (folder, history)),
        (_draw_boundary, (folder, history, dataset)),
    ]


def run_jobs(jobs: Sequence[Job], *, workers: int | None = None) -> None:
    """Draw figures, in parallel worker processes where the machine has several cores.

    Workers are forked after matplotlib is imported, so that each starts drawing at once; where fork is not
    available (or there is one core) the figures are drawn one after the other.
    """
    workers = min(len(jobs), workers or os.cpu_count() or 1, 4)
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for fn, args in jobs:
            fn(*args)
        return
    import matplotlib.figure  # noqa: F401  (imported once here, inherited by the forked workers)

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for future in [pool.submit(fn, *args) for fn, args in jobs]:
            future.result()


def write_start(folder: Path, history_config: Any) -> None:
    """What a run writes before training: its resolved config."""
    write_text(folder / "config.yaml", history_config.to_yaml())


def write_data(folder: Path, history: History) -> None:
    """metrics.csv, lr.csv (the updates done), params.npz and, with EMA, params_ema.npz."""
    h = history
    write_csv(folder / "metrics.csv", h.metrics_columns())
    done = h.steps_done
    write_csv(folder / "lr.csv", {"step": list(range(done)), "lr": h.lr_trace[:done].tolist()})
    write_npz(folder / "params.npz", h.params)
    if h.params_ema is not None:
        write_npz(folder / "params_ema.npz", h.params_ema)


def write_summary(folder: Path, history: History, *, started: float, clock: Any) -> dict[str, Any]:
    """summary.json, the last file of a run folder. Returns its content."""
    result = summary(history, total_seconds=clock() - started)
    write_text(folder / "summary.json", json.dumps(result, indent=2) + "\n")
    return result


def write_results(
    folder: Path,
    history: History,
    dataset: Dataset,
    *,
    started: float,
    clock: Any,
    draw: bool = True,
) -> dict[str, Any]:
    """Everything after training; summary.json last. Returns the summary."""
    write_data(folder, history)
    if draw:
        run_jobs(figure_jobs(folder, history, dataset))
    return write_summary(folder, history, started=started, clock=clock)


def _quadratic_title(config: Any) -> str:
    title = f"{config.name}: minimising (w + 1)² from w0 = {config.w0:g}"
    if config.optimizer == "sgd" and config.schedule == "constant" and not config.lr_decay:
        factor = 1 - 2 * config.lr
        title += f"; each sgd step multiplies w + 1 by 1 − 2·lr = {factor:g}"
    return title


def write_quadratic_results(
    folder: Path, history: QuadraticHistory, *, started: float, clock: Any
) -> dict[str, Any]:
    """The toy's run folder: metrics.csv (step, w, loss, lr), lr.csv, params.npz (w), quadratic.png,
    lr.png, and summary.json last."""
    h = history
    config = h.config
    write_csv(folder / "metrics.csv", {"step": h.step, "w": h.w, "loss": h.loss, "lr": h.lr})
    write_csv(folder / "lr.csv", {"step": h.step, "lr": h.lr})
    write_npz(folder / "params.npz", {"w": np.array(h.w[-1:] or [config.w0])})
    label = f"{describe_run(config)}, w0={config.w0:g}"
    plots.quadratic(
        folder / "quadratic.png",
        [(label, np.asarray(h.step), np.asarray(h.w), np.asarray(h.loss))],
        title=_quadratic_title(config),
        w0=config.w0,
    )
    plots.lr_curves(
        folder / "lr.png",
        [plots.Curve(np.asarray(h.step), np.asarray(h.lr), label)],
        title=f"{config.name}: learning rate of each update",
    )
    result = {
        "name": config.name,
        "status": h.status,
        "message": h.message,
        "steps": len(h.step),
        "final_w": _json_number(h.w[-1] if h.w else None),
        "final_loss": _json_number(h.loss[-1] if h.loss else None),
        "diverged_step": h.diverged_step,
        "train_seconds": round(h.train_seconds, 6),
        "total_seconds": round(clock() - started, 6),
        "nnopt_version": __version__,
        "numpy_version": np.__version__,
    }
    write_text(folder / "summary.json", json.dumps(result, indent=2) + "\n")
    return result
