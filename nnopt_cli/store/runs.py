"""The run folder: its name, and every file a run writes into it and reads back.

A folder is made only after the config, the data and the starting parameters have been checked, its
config.yaml is written first and summary.json last, and every file goes through a temporary name, so a folder
without summary.json is a run that did not finish writing, and no file is ever half-written. `read_history`
and `read_quadratic` read a folder back into the history its files were written from.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import __version__, files, metrics
from nnopt_cli import config as config_mod
from nnopt_cli.config import Config
from nnopt_cli.core import layerstats, loop, quadratic
from nnopt_cli.core.loop import History
from nnopt_cli.core.quadratic import QuadraticHistory
from nnopt_cli.files import replacing
from nnopt_cli.store import folders

DATA_DIGEST = "data_sha256"  # summary.json's key for the digest of the rows a run used (data.digest)
LAYERS_CSV = "layers.csv"  # per epoch and layer: layerstats.COLUMNS (write_layers, read_layers)


class RunFolderError(OSError):
    """The runs root cannot be used; one line."""


class FolderError(ValueError):
    """A run folder whose files cannot be read back: one missing or unreadable, or files that disagree with
    each other. str() is one line naming the file (and the line and column of a bad cell)."""


def _stamped(root: str | Path, name: str, suffix: str, now: datetime | None) -> Iterator[Path]:
    """`<root>/<YYYYmmdd-HHMMSS>-<name><suffix>`, then the same with `-2`, `-3`, ... before the suffix;
    creates root first."""
    root = Path(root)
    try:
        files.check_folder(root, "--runs-root")
    except files.OutputError as exc:
        raise RunFolderError(str(exc)) from None
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


def io_message(exc: OSError) -> str:
    """One line for a file that could not be written: which file, and why in words."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{files.reason(exc)}"


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
    measured = metrics.compute(h)
    out: dict[str, Any] = {
        "kind": folders.TRAIN,
        "name": h.config.name,
        "status": h.status,
        "message": h.message,
        "epochs": h.config.epochs,
        "epochs_done": h.epochs_done,
        "steps": h.steps_done,
        # every metric of metrics.py the run has (by its test split and EMA), in the table's order
        **{k: _json_number(v) for k, v in measured.items() if k != "train_seconds"},
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
    if h.data_digest:
        # the rows trained (and tested) on: replot and resume refuse data that changed since (check_data)
        out[DATA_DIGEST] = dict(h.data_digest)
    if h.resumed_from is not None:
        out["resumed_from"] = h.resumed_from  # the run folder this one continued, after this many epochs
        out["resumed_at_epoch"] = h.resumed_at_epoch
    return out


def write_start(folder: Path, history_config: Any) -> None:
    """What a run writes before training: its resolved config."""
    write_text(folder / "config.yaml", history_config.to_yaml())


def write_data(folder: Path, history: History) -> None:
    """metrics.csv, lr.csv and trace.csv (the updates done), params.npz, with EMA params_ema.npz,
    state.npz (what continuing the run needs, `state_arrays`) and layers.csv (`write_layers`).

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
    if h.frames is not None:
        write_frames(folder, h.frames)
    write_layers(folder, h)


# --- layers.csv: per-layer statistics -------------------------------------------------------------------

_FRACTIONS = ("dead_fraction", "saturated_fraction")  # an empty cell where the fraction does not apply


def write_layers(folder: Path, history: History) -> None:
    """layers.csv: a row per epoch trained (1..E) and layer (1..L): epoch, layer, then layerstats.COLUMNS,
    floats in round-trip form, a fraction that does not apply (NaN in the history) an empty cell. Not
    written when the history holds no statistics for some epoch (a run resumed from a folder without
    layers.csv)."""
    h = history
    if not h.epochs_done or len(h.layer_stats) != h.epochs_done:
        return
    write_csv(folder / LAYERS_CSV, layer_columns(h))


def layer_columns(history: History) -> dict[str, list[Any]]:
    """The columns of layers.csv (see write_layers)."""
    stats = np.stack(history.layer_stats)  # (E, L, 5)
    epochs, depth = stats.shape[:2]
    columns: dict[str, list[Any]] = {
        "epoch": np.repeat(history.epoch, depth).tolist(),
        "layer": np.tile(np.arange(1, depth + 1), epochs).tolist(),
    }
    for j, name in enumerate(layerstats.COLUMNS):
        values = stats[:, :, j].ravel().tolist()
        if name in _FRACTIONS:
            columns[name] = ["" if math.isnan(v) else v for v in values]
        else:
            columns[name] = values
    return columns


def read_layers(folder: Path, h: History) -> list[np.ndarray]:
    """layers.csv's statistics as History.layer_stats has them, checked against the epochs of metrics.csv
    and the layers of config.yaml's network (rows past metrics.csv's last epoch left out); [] when the folder
    has no layers.csv.

    Raises:
      FolderError: a file that is not layers.csv as write_layers writes it for this run.
    """
    path = Path(folder) / LAYERS_CSV
    if not path.is_file():
        return []
    header = ["epoch", "layer", *layerstats.COLUMNS]
    found, rows = read_rows(path)
    if found != header:
        shown = ",".join(found) if found else "no header"
        raise FolderError(f"{path}: columns {shown}; layers.csv has {','.join(header)}")
    depth = len(h.config.hidden) + 1
    if len(rows) < depth * h.epochs_done:
        raise FolderError(
            f"{path}: {len(rows)} rows; metrics.csv's {h.epochs_done} epochs of a network of {depth} layers "
            f"make {depth * h.epochs_done}"
        )
    # rows past metrics.csv's last epoch (a folder cut off while it was written) are left out, as trace.csv's
    rows = rows[: depth * h.epochs_done]
    stats = np.empty((len(rows), len(layerstats.COLUMNS)))
    for line, row in enumerate(rows, start=2):
        epoch, layer = (line - 2) // depth + 1, (line - 2) % depth + 1
        if len(row) != len(header):
            raise FolderError(f"{path}, line {line}: {len(row)} cells, the header has {len(header)}")
        if row[:2] != [str(epoch), str(layer)]:
            raise FolderError(
                f"{path}, line {line}: epoch {row[0]}, layer {row[1]}; expected epoch {epoch}, layer {layer}"
            )
        for j, (name, cell) in enumerate(zip(layerstats.COLUMNS, row[2:], strict=True)):
            try:
                stats[line - 2, j] = math.nan if cell == "" and name in _FRACTIONS else float(cell)
            except ValueError:
                raise FolderError(f"{path}, line {line}: {name} {cell!r} is not a number") from None
    return list(stats.reshape(h.epochs_done, depth, len(layerstats.COLUMNS)))


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
    folders.write_summary(folder, result)
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
        "kind": folders.TOY,
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
    folders.write_summary(folder, result)
    return result


# --- reading a folder back --------------------------------------------------------------------------


@contextlib.contextmanager
def folder_errors_as(error: Callable[[str], Exception]) -> Iterator[None]:
    """A FolderError raised inside, raised again as `error` of its line: a command's own one-line error."""
    try:
        yield
    except FolderError as exc:
        raise error(str(exc)) from None


def read_config(folder: Path) -> Config:
    """The run's resolved config, from the folder's config.yaml.

    Raises:
      FolderError: no config.yaml, or one that is not a valid config (config.ConfigError's line).
    """
    path = Path(folder) / "config.yaml"
    if not path.exists():
        raise FolderError(f"{path}: no such file; a run folder begins with its resolved config")
    try:
        return config_mod.load(path, drop_all=True)  # keys of no effect, as older versions wrote them
    except config_mod.ConfigError as exc:
        raise FolderError(str(exc)) from None


def read_history(folder: Path, config: Config | None = None) -> History:
    """The History a run folder's files were written from.

    Per epoch metrics.csv; per update lr.csv and trace.csv (batch_loss stays empty without it); params.npz,
    with ema.decay params_ema.npz; from summary.json status, message, diverged_epoch, train_seconds,
    population_size and `start`, the measures before the first update (in summaries written before `start`,
    start_loss and start_accuracy alone, and none with a test split). A folder without summary.json, cut off
    before its last file, gets the status the loop gave it, read off the files, and no start.
    steps_per_epoch is 0 when no epoch was done (the data then says it).

    Args:
      folder: a run folder (of `nnopt train`, an entry of `nnopt compare`, a sweep's saved run).
      config: the config to read the files with (default: the folder's config.yaml); a change of it must
        not change what the run writes.
    Raises:
      FolderError: the quadratic toy's folder, a file missing or unreadable, or files that disagree.
    """
    folder = Path(folder)
    config = read_config(folder) if config is None else config
    if config.model_type != "mlp":
        raise FolderError(
            f"{folder / 'config.yaml'}: model.type {config.model_type}: the quadratic toy's folder has no "
            "per-epoch history (read_quadratic reads it)"
        )
    summary = read_summary(folder)
    h = History(config=config, steps_per_epoch=0, with_test=config.test_size != 0)
    _read_metrics(folder / "metrics.csv", h)
    h.lr_trace = _read_rates(folder / "lr.csv", h)
    h.batch_loss = _read_batch_losses(folder / "trace.csv", h)
    h.params = _read_weights(folder / "params.npz")
    h.layer_stats = read_layers(folder, h)
    if config.ema_decay is not None:
        h.params_ema = _read_weights(folder / "params_ema.npz")
    if config.plot_animate:
        h.frames = read_frames(folder, h)
    if summary is None:
        _infer_status(h)
    else:
        _apply_summary(h, summary, folder / folders.SUMMARY)
    return h


def read_quadratic(folder: Path, config: Config | None = None) -> QuadraticHistory:
    """The quadratic toy's history, from its metrics.csv (step, w, loss, lr: one row per update) and
    summary.json; without summary.json, the status quadratic.train gave it, read off metrics.csv.

    Raises:
      FolderError: not the toy's folder, a file missing or unreadable, or steps that are not 0, 1, 2, ...
    """
    folder = Path(folder)
    config = read_config(folder) if config is None else config
    if config.model_type != "quadratic":
        raise FolderError(f"{folder / 'config.yaml'}: model.type {config.model_type}, not quadratic")
    metrics = folder / "metrics.csv"
    columns = _read_columns(metrics, ["step", "w", "loss", "lr"], integers=("step",), run=config)
    if columns["step"] != list(range(len(columns["step"]))):
        raise FolderError(f"{metrics}: steps {_span(columns['step'])}, expected 0, 1, 2, ... one per row")
    h = QuadraticHistory(
        config=config,
        lr_trace=np.asarray(columns["lr"], dtype=np.float64),
        step=columns["step"],
        w=columns["w"],
        loss=columns["loss"],
        lr=columns["lr"],
    )
    summary = read_summary(folder)
    if summary is None:
        _infer_quadratic_status(h)
    else:
        path = folder / folders.SUMMARY
        h.status, h.message, h.train_seconds = _outcome(summary, path)
        h.diverged_step = _typed(summary, "diverged_step", int, path, None)
    return h


def read_summary(folder: Path) -> dict[str, Any] | None:
    """summary.json's content, or None when the run never wrote it.

    Raises:
      FolderError: not readable, not JSON, or JSON that is not a mapping.
    """
    content, problem = folders.read_summary(Path(folder))
    if problem:
        raise FolderError(f"{Path(folder) / problem}")
    return content


def read_npz(path: Path, *, holding: str = "named arrays") -> dict[str, np.ndarray]:
    """The named arrays of an .npz file `write_npz` wrote (params.npz, state.npz, ...).

    Args:
      holding: what the file holds, for the error's words ("weights", "a run's state").
    Raises:
      FolderError: no such file, not an .npz file, or a single .npy array.
    """
    if not path.is_file():
        raise FolderError(_missing(path))
    if zipfile.is_zipfile(path):
        npz_headers(path, holding=holding)
    arrays = None
    try:
        saved = np.load(path, allow_pickle=False)
        if hasattr(saved, "files"):
            with contextlib.closing(saved):
                arrays = {key: np.asarray(saved[key]) for key in saved.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise FolderError(f"{path}: not an .npz file of {holding} ({exc})") from None
    if arrays is None:
        raise FolderError(f"{path}: a single array, not an .npz file of {holding}")
    return arrays


_DEFLATE_RATIO = 1100  # deflate never expands data by more than about 1032 times


def npz_headers(path: Path, *, holding: str = "named arrays") -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The shape and dtype of every array of an .npz file, read from the headers before any array is: a
    header that claims more data than the file can hold (a shape of 10¹⁰ rows in a file of 500 bytes) is
    refused here, where loading it would first allocate what it claims.

    Raises:
      FolderError: not an .npz file, or an array that claims more than the file holds, naming it.
    """
    from numpy.lib import format as npy

    found: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename.removesuffix(".npy")
                with archive.open(info) as f:
                    version = npy.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = npy.read_array_header_1_0(f)
                    elif version == (2, 0):
                        shape, _, dtype = npy.read_array_header_2_0(f)
                    else:
                        raise ValueError(f"{name}: .npy format version {version}")
                claimed = math.prod(shape) * dtype.itemsize
                room = info.file_size
                if info.compress_type != zipfile.ZIP_STORED:
                    room = min(room, info.compress_size * _DEFLATE_RATIO)
                if claimed > room:
                    raise FolderError(
                        f"{path}: {name} claims shape {tuple(shape)} ({claimed:,} bytes), but the file holds "
                        f"{room:,} bytes for it: not an .npz file of {holding} as nnopt writes them"
                    )
                found[name] = (tuple(shape), dtype)
    except FolderError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, RuntimeError) as exc:
        raise FolderError(f"{path}: not an .npz file of {holding} ({exc})") from None
    return found


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """A CSV file's header and rows, as text (no header: an empty file).

    Raises:
      FolderError: no such file, or not readable as CSV text.
    """
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise FolderError(_missing(path)) from None
    except UnicodeDecodeError:
        raise FolderError(f"{path}: not a CSV text file") from None
    except (OSError, csv.Error) as exc:
        raise FolderError(f"{path}: cannot read: {exc}") from None
    return (rows[0], rows[1:]) if rows else ([], [])


def _missing(path: Path) -> str:
    return f"{path}: no such file; the run stopped before writing it"


def _read_columns(
    path: Path, header: list[str], *, integers: Sequence[str], run: Config
) -> dict[str, list[Any]]:
    """The columns of a CSV file `write_csv` wrote for `run`: `header` exactly, integers in the `integers`
    columns and floats (their repr, 'nan' and 'inf' included) in the others."""
    found, rows = read_rows(path)
    if found != header:
        shown = ",".join(found) if found else "no header"
        raise FolderError(
            f"{path}: columns {shown}; config.yaml's run (model.type {run.model_type}"
            f"{', ema' if run.ema_decay is not None else ''}"
            f"{', a test split' if run.test_size != 0 else ''}) writes {','.join(header)}"
        )
    columns: dict[str, list[Any]] = {key: [] for key in header}
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise FolderError(f"{path}, line {line}: {len(row)} cells, the header has {len(header)}")
        for key, cell in zip(header, row, strict=True):
            try:
                columns[key].append(int(cell) if key in integers else float(cell))
            except ValueError:
                kind = "an integer" if key in integers else "a number"
                raise FolderError(f"{path}, line {line}: {key} {cell!r} is not {kind}") from None
    return columns


def _read_metrics(path: Path, h: History) -> None:
    """metrics.csv into h's per-epoch lists: epochs 1, 2, 3, ..., the same number of updates apart."""
    columns = _read_columns(path, list(h.metrics_columns()), integers=("epoch", "step"), run=h.config)
    for key, values in columns.items():
        getattr(h, key).extend(values)
    h.steps_per_epoch = h.step[0] if h.step else 0
    for line, (epoch, step) in enumerate(zip(h.epoch, h.step, strict=True), start=2):
        if epoch != line - 1 or step != epoch * h.steps_per_epoch:
            raise FolderError(
                f"{path}, line {line}: epoch {epoch} at step {step}, expected epoch {line - 1} at step "
                f"{(line - 1) * h.steps_per_epoch} ({h.steps_per_epoch} updates per epoch)"
            )


def _read_rates(path: Path, h: History) -> np.ndarray:
    """lr.csv: the rate of every update metrics.csv counts."""
    columns = _read_columns(path, ["step", "lr"], integers=("step",), run=h.config)
    _check_updates(path, columns["step"], h.steps_done, exact=True)
    return np.asarray(columns["lr"], dtype=np.float64)


def _read_batch_losses(path: Path, h: History) -> np.ndarray:
    """trace.csv's batch loss of every update metrics.csv counts; none when the run kept no trace."""
    if not path.is_file():
        return np.zeros(0)
    header = ["step", "epoch", "lr", "batch_loss"]
    columns = _read_columns(path, header, integers=("step", "epoch"), run=h.config)
    _check_updates(path, columns["step"], h.steps_done, exact=False)
    # a trace.csv that runs past metrics.csv's last epoch is cut there: a History holds one batch loss per
    # update done, as the loop returns it
    return np.asarray(columns["batch_loss"][: h.steps_done], dtype=np.float64)


def _check_updates(path: Path, steps: list[int], done: int, *, exact: bool) -> None:
    """A per-update file's steps are 0, 1, 2, ... covering the `done` updates metrics.csv counts (`exact`:
    and no more)."""
    numbered = steps == list(range(len(steps)))
    if not numbered or len(steps) < done or (exact and len(steps) != done):
        raise FolderError(
            f"{path}: {len(steps)} updates numbered {_span(steps)}; metrics.csv says {done} updates were "
            f"made, numbered {'0 to ' + str(done - 1) if done else 'none'}"
        )


def _span(steps: list[int]) -> str:
    return f"{steps[0]} to {steps[-1]}" if steps else "none"


def _read_weights(path: Path) -> dict[str, np.ndarray]:
    """params.npz or params_ema.npz: the named weight arrays, all of them numbers."""
    arrays = read_npz(path, holding="weights")
    for key, value in arrays.items():
        if not np.issubdtype(value.dtype, np.number):
            raise FolderError(f"{path}: {key} holds {value.dtype} values, not numbers")
    return arrays


def _apply_summary(h: History, summary: dict[str, Any], path: Path) -> None:
    """summary.json's status, message, timing and epoch 0 into h, its counts checked against metrics.csv."""
    h.status, h.message, h.train_seconds = _outcome(summary, path)
    h.diverged_epoch = _typed(summary, "diverged_epoch", int, path, None)
    h.population_size = _typed(summary, "population_size", int, path, 1)
    for key, counted in (("epochs_done", h.epochs_done), ("steps", h.steps_done)):
        if key in summary and summary[key] != counted:
            raise FolderError(f"{path}: {key} {summary[key]!r}, metrics.csv says {counted}")
    h.start = _start(summary, path, with_test=h.with_test)
    h.data_digest = _digest(summary, path)


def _digest(summary: dict[str, Any], path: Path) -> dict[str, str]:
    """summary.json's digest of the rows used ({} for runs written before nnopt kept it)."""
    recorded = summary.get(DATA_DIGEST, {})
    if not isinstance(recorded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in recorded.items()
    ):
        raise FolderError(f"{path}: {DATA_DIGEST} is {recorded!r}, not a mapping of parts to digests")
    return dict(recorded)


def check_data(folder: Path, recorded: Mapping[str, str], now: Mapping[str, str], *, source: str) -> None:
    """Refuse data whose rows differ from those the run in `folder` used: `recorded` is the digest its
    summary.json keeps, `now` that of the data its config.yaml gives today (data.digest), `source` the file
    or data set they come from. A run written before digests were kept (recorded empty) is not checked.

    Raises:
      FolderError: one line naming the data's file and which rows differ.
    """
    for part, words in (("train", "training"), ("test", "test")):
        if part in recorded and recorded[part] != now.get(part):
            raise FolderError(
                f"{source}: changed since the run {folder} was made: its {words} rows are not those the run "
                f"used (its {folders.SUMMARY} keeps their {DATA_DIGEST}); train a new run on it"
            )


def _outcome(summary: dict[str, Any], path: Path) -> tuple[str, str, float]:
    """A summary's status, message and train_seconds, as every kind of run writes them."""
    status = summary.get("status")
    if status not in folders.RUN_STATUSES:
        raise FolderError(f"{path}: status {status!r}, expected one of {', '.join(folders.RUN_STATUSES)}")
    message = _typed(summary, "message", str, path, "")
    seconds = float(_typed(summary, "train_seconds", (int, float), path, 0.0))
    return status, message, seconds


def _start(summary: dict[str, Any], path: Path, *, with_test: bool) -> dict[str, float]:
    """The measures before the first update: summary.json's `start`, else start_loss and start_accuracy."""
    start = summary.get("start")
    if start is not None:
        if not isinstance(start, dict):
            raise FolderError(f"{path}: start is {type(start).__name__}, expected a mapping of measures")
        return {str(k): _measure(v, f"start.{k}", path) for k, v in start.items()}
    if with_test:
        # a summary from before `start`: with a test split no epoch 0 at all, or compare.png would draw
        # the test curves against epochs that begin at 0
        return {}
    return {
        key: _measure(summary[f"start_{key}"], f"start_{key}", path)
        for key in ("loss", "accuracy")
        if f"start_{key}" in summary
    }


def _typed(summary: dict[str, Any], key: str, kind: Any, path: Path, default: Any) -> Any:
    """summary[key], or `default` when absent; anything but a `kind` (a bool included) is refused."""
    value = summary.get(key, default)
    if value is not default and (not isinstance(value, kind) or isinstance(value, bool)):
        name = {str: "text", int: "an integer"}.get(kind, "a number")
        raise FolderError(f"{path}: {key} is {value!r}, not {name}")
    return value


def _measure(value: Any, key: str, path: Path) -> float:
    """A measure of summary.json: a number, or null for one that was NaN or infinite (read as NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FolderError(f"{path}: {key} is {value!r}, not a number")
    return float(value)


def _infer_status(h: History) -> None:
    """The status loop.run gave a run whose summary.json was never written, by its rules."""
    finite = all(np.all(np.isfinite(a)) for a in h.params.values())
    if h.loss and not (math.isfinite(h.loss[-1]) and finite):
        h.status = "diverged"
        h.diverged_epoch = h.epoch[-1]
        h.message = loop.divergence_message(
            h.config, h.epoch[-1], h.loss[-1], lr=h.lr[-1], start_loss=h.start.get("loss", 0.0)
        )
    elif h.epochs_done >= h.config.epochs:
        h.status = "completed"
    else:
        h.status = "interrupted"
        h.message = loop.interrupted_message(h.epochs_done, h.config.epochs)


def _infer_quadratic_status(h: QuadraticHistory) -> None:
    """The status quadratic.train gave a toy run whose summary.json was never written, by its rules."""
    config = h.config
    start = max(float(quadratic.loss(config.w0)), 1.0)
    if h.loss and not h.loss[-1] <= quadratic.DIVERGENCE_FACTOR * start:  # also true for NaN
        k = h.step[-1]
        h.status, h.diverged_step = "diverged", k
        h.message = quadratic.divergence_message(config, k, h.w[-1], h.loss[-1], start, lr=h.lr[-1])
    elif len(h.step) >= config.steps:
        h.status = "completed"
    else:
        h.status = "interrupted"
        h.message = f"interrupted after {len(h.step)} of {config.steps} steps"


# --- animation frames (plot.animate) ----------------------------------------------------------------

FRAMES_NPZ = "frames.npz"
"""An animated run's parameters at the epochs boundary.gif shows (loop.Frames): `epoch` (F,) int64, `theta`
(F, n) float64, with EMA `shadow` (F, n). Written with the run's data, read back by replot."""


def write_frames(folder: Path, frames: loop.Frames) -> None:
    """frames.npz: the parameters boundary.gif is drawn from, at the epochs it shows."""
    arrays = {"epoch": frames.epochs, "theta": frames.theta}
    if frames.shadow is not None:
        arrays["shadow"] = frames.shadow
    write_npz(folder / FRAMES_NPZ, arrays)


def read_frames(folder: Path, history: History) -> loop.Frames:
    """frames.npz of a run of plot.animate, checked against the run's other files: increasing epochs from
    0 (or the epoch it resumed from) to the epochs metrics.csv counts, one parameter row per epoch, as many
    parameters as params.npz has, a shadow row per epoch with EMA.

    Raises:
      FolderError: no frames.npz, or one that does not fit the run.
    """
    path = Path(folder) / FRAMES_NPZ
    arrays = read_npz(path, holding="a run's frames")
    n = sum(int(np.size(a)) for a in history.params.values())
    wanted = ["epoch", "theta"] + (["shadow"] if history.config.ema_decay is not None else [])
    if sorted(arrays) != sorted(wanted):
        raise FolderError(f"{path}: arrays {', '.join(sorted(arrays))}; the run writes {', '.join(wanted)}")
    epochs, theta, shadow = arrays["epoch"], arrays["theta"], arrays.get("shadow")
    f = len(epochs) if epochs.ndim == 1 else -1
    problem = ""
    if epochs.ndim != 1 or not np.issubdtype(epochs.dtype, np.integer) or f < 1:
        problem = f"epoch of shape {epochs.shape} and type {epochs.dtype}, expected epochs (F,) as integers"
    elif np.any(np.diff(epochs) <= 0) or epochs[0] < 0 or epochs[-1] != history.epochs_done:
        problem = f"epochs {epochs[0]} .. {epochs[-1]}, expected increasing to {history.epochs_done}"
    elif any(
        a.shape != (f, n) or a.dtype != np.float64 for a in (theta, *([] if shadow is None else [shadow]))
    ):
        problem = f"theta of shape {theta.shape}, expected ({f}, {n}) float64 (a row of params.npz per epoch)"
    if problem:
        raise FolderError(f"{path}: {problem}")
    return loop.Frames(epochs.astype(np.int64), theta, shadow)
