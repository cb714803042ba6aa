"""The run folder: its name, and every file a run writes into it.

A folder is made only after the config, the data and the starting parameters have been checked, its
config.yaml is written first and summary.json last, and every file goes through a temporary name, so a folder
without summary.json is a run that did not finish writing, and no file is ever half-written.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from nnopt_cli import __version__
from nnopt_cli.loop import History
from nnopt_cli.quadratic import QuadraticHistory


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
    return _claim(root, name, "", now, Path.mkdir, "a run folder")


def new_file(root: str | Path, name: str, suffix: str, *, now: datetime | None = None) -> Path:
    """Create `<root>/<YYYYmmdd-HHMMSS>-<name><suffix>`, empty, as run folders are named: the name is claimed
    atomically (O_EXCL), so commands started at once never get the same file. The caller replaces it."""

    def create(path: Path) -> None:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))

    return _claim(root, name, suffix, now, create, "a file")


def _claim(
    root: str | Path,
    name: str,
    suffix: str,
    now: datetime | None,
    create: Callable[[Path], object],
    what: str,
) -> Path:
    """The first stamped name that `create` makes (it fails with FileExistsError on a name already taken):
    mkdir and O_EXCL claim a name atomically, so two commands never get the same one."""
    for path in _stamped(root, name, suffix, now):
        try:
            create(path)
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunFolderError(f"--runs-root {root}: cannot create {what} ({exc.strerror})") from None
        return path
    raise AssertionError("unreachable")  # _stamped raises when it runs out of names


@contextlib.contextmanager
def replacing(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file opened under a temporary name of its own beside `path` (`.name.<pid>.<random>.tmp`), renamed
    to `path` once written; on any failure the temporary file is removed and `path` is left as it was."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None  # name the file, not its temporary
    try:
        opened = os.fdopen(fd, mode) if "b" in mode else os.fdopen(fd, mode, encoding="utf-8", newline="")
        with opened as f:
            yield f
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    """Write a text file through a temporary name in the same folder."""
    with replacing(path) as f:
        f.write(text)


def write_csv(path: Path, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> None:
    """Columns of equal length as CSV, floats in shortest round-trip form, written row by row (a column may
    be a range or an array: nothing is converted to a list first)."""
    with replacing(path) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(list(columns))
        for row in zip(*columns.values(), strict=True):
            writer.writerow([_cell(v) for v in row])


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    with replacing(path, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]


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
        "start_loss": _json_number(h.start.get("loss")),  # before the first update (epoch 0)
        "start_accuracy": _json_number(h.start.get("accuracy")),
        # every measure before the first update: a folder's pictures can be drawn from its files alone
        "start": {key: _json_number(value) for key, value in h.start.items()},
        "diverged_epoch": h.diverged_epoch,
        "train_seconds": round(h.train_seconds, 6),
        "total_seconds": round(total_seconds, 6),
        "nnopt_version": __version__,
        "numpy_version": np.__version__,
    }
    if h.population_size > 1:
        # train_seconds is then the loop time of the whole population, shared by all of its runs
        out["population_size"] = h.population_size
    if h.resumed_from is not None:
        out["resumed_from"] = h.resumed_from  # the run folder this one continued, after this many epochs
        out["resumed_at_epoch"] = h.resumed_at_epoch
    if h.config.ema_decay is not None:
        out["final_ema_loss"] = _json_number(h.ema_loss[-1] if h.ema_loss else None)
        out["final_ema_accuracy"] = _json_number(h.ema_accuracy[-1] if h.ema_accuracy else None)
    if h.with_test:
        out["final_test_loss"] = _json_number(h.test_loss[-1] if h.test_loss else None)
        out["final_test_accuracy"] = _json_number(h.test_accuracy[-1] if h.test_accuracy else None)
        out["best_test_loss"] = _best(h.test_loss, min)
        out["best_test_accuracy"] = _best(h.test_accuracy, max)
        if h.config.ema_decay is not None:
            out["final_ema_test_loss"] = _json_number(h.ema_test_loss[-1] if h.ema_test_loss else None)
            out["final_ema_test_accuracy"] = _json_number(
                h.ema_test_accuracy[-1] if h.ema_test_accuracy else None
            )
    return out


def _best(values: Sequence[float], pick: Any) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return pick(finite) if finite else None


def write_start(folder: Path, history_config: Any) -> None:
    """What a run writes before training: its resolved config."""
    write_text(folder / "config.yaml", history_config.to_yaml())


def write_data(folder: Path, history: History) -> None:
    """metrics.csv, lr.csv and trace.csv (the updates done), params.npz, with EMA params_ema.npz, and
    state.npz (what continuing the run needs, `state_arrays`).

    trace.csv has a row per update: step k (from 0), the 1-based epoch it belongs to, its rate and the loss
    of the mini-batch it was computed on (History.batch_loss). A history without batch losses (a loop run
    told not to record them) gets no trace.csv, and one without a checkpoint no state.npz.
    """
    h = history
    write_csv(folder / "metrics.csv", h.metrics_columns())
    done = h.steps_done
    write_csv(folder / "lr.csv", {"step": range(done), "lr": h.lr_trace[:done]})
    if len(h.batch_loss) >= done:
        write_csv(folder / "trace.csv", trace_columns(h))
    write_npz(folder / "params.npz", h.params)
    if h.params_ema is not None:
        write_npz(folder / "params_ema.npz", h.params_ema)
    if h.checkpoint is not None:
        write_npz(folder / "state.npz", state_arrays(h))


def trace_columns(history: History) -> dict[str, np.ndarray]:
    """The columns of trace.csv: step, epoch, lr, batch_loss, one row per update done."""
    h = history
    done = h.steps_done
    step = np.arange(done)
    per_epoch = max(h.steps_per_epoch, 1)
    return {
        "step": step,
        "epoch": step // per_epoch + 1,
        "lr": h.lr_trace[:done],
        "batch_loss": h.batch_loss[:done],
    }


def state_arrays(history: History) -> dict[str, np.ndarray]:
    """The content of state.npz: what continuing the run bit for bit needs besides params.npz and the
    history files, the state that goes with params.npz (an interrupted run's last whole epoch).

    step and epochs_done (0-d int64), optimizer (its name), the rule's state arrays by their names
    (optimizers.state_names: m, v, a; Adam's t 0-d), with EMA shadow (the flat moving average), with
    data.shuffle rng_state (the shuffling generator's bit_generator.state as JSON text).
    """
    point = history.checkpoint
    assert point is not None
    arrays: dict[str, np.ndarray] = {
        "step": np.array(point.steps, dtype=np.int64),
        "epochs_done": np.array(point.epochs, dtype=np.int64),
        "optimizer": np.array(history.config.optimizer),
    }
    arrays.update(point.moments)
    if point.shadow is not None:
        arrays["shadow"] = point.shadow
    if point.rng_state is not None:
        arrays["rng_state"] = np.array(json.dumps(point.rng_state))
    return arrays


def write_summary(folder: Path, history: History, *, started: float, clock: Any) -> dict[str, Any]:
    """summary.json, the last file of a run folder. Returns its content."""
    result = summary(history, total_seconds=clock() - started)
    write_text(folder / "summary.json", json.dumps(result, indent=2) + "\n")
    return result


def write_quadratic_results(
    folder: Path, history: QuadraticHistory, *, started: float, clock: Any
) -> dict[str, Any]:
    """The toy's files: metrics.csv (step, w, loss, lr), lr.csv, params.npz (w), and summary.json last (the
    pictures are drawn before it, by report.draw_quadratic)."""
    h = history
    config = h.config
    write_csv(folder / "metrics.csv", {"step": h.step, "w": h.w, "loss": h.loss, "lr": h.lr})
    write_csv(folder / "lr.csv", {"step": h.step, "lr": h.lr})
    write_npz(folder / "params.npz", {"w": np.array(h.w[-1:] or [config.w0])})
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
