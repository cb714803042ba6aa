"""Continuing a run where it stopped: `nnopt train --resume RUN [--set train.epochs=N]`.

Besides its history and weights, a run folder keeps the state its updates carry from one to the next
(state.npz, `runs.state_arrays`). `load` reads all of it back and `prepare` rebuilds the data and the network,
so that a run stopped after epoch e and continued to E ends bit for bit where one run of E epochs ends: the
same weights, metrics.csv, lr.csv, trace.csv and summary.json (timing aside). Only what cannot change the
numbers may change on the way: the length, the progress lines, the name and the pictures (ALLOWED).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import config as config_mod
from nnopt_cli import experiment, loop, mlp, optimizers
from nnopt_cli.config import Config

# the config keys a resumed run may change ("plot.*": every key of the plot section)
ALLOWED = ("train.epochs", "train.log_every", "name", "plot.*")
_INTEGERS = ("epoch", "step")  # the integer columns of the csv files


class ResumeError(ValueError):
    """A folder that cannot be continued, or a change that would break the bit-for-bit promise; one line."""


def load(folder: str | Path, sets: Sequence[str] = ()) -> tuple[Config, loop.Start]:
    """The config and start of a run continuing the run in `folder`.

    Args:
      folder: a run folder (of `nnopt train`, or an entry of `nnopt compare`) with its state.npz.
      sets: `KEY.PATH=VALUE` overrides of the folder's config.yaml; only the ALLOWED keys may change, and
        train.epochs (default: the folder's) may not fall below the epochs already done.
    Returns:
      The config of the continued run, and its loop.Start (for loop.run's `resume`; `prepare` makes the
      data and network to go with it).
    Raises:
      ResumeError: not a run folder, or one that cannot be continued (cut off before summary.json, no
        state.npz, diverged, the quadratic toy, a comparison's folder), files that do not agree, or an
        override that changes anything but ALLOWED.
      config.ConfigError: an override that is not a valid config.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ResumeError(f"--resume {folder}: no such run folder")
    config_file = folder / "config.yaml"
    if not config_file.is_file():
        inside = sorted(p.parent.name for p in folder.glob("*/config.yaml"))
        if inside:
            raise ResumeError(
                f"--resume {folder}: a folder of run folders (a comparison's, or a runs root), not a run; "
                f"resume one of them, e.g. {folder / inside[0]}"
            )
        raise ResumeError(f"--resume {folder}: not a run folder (no config.yaml)")
    old = config_mod.load(config_file)
    if old.model_type != "mlp":
        raise ResumeError(
            f"--resume {folder}: the quadratic toy's runs are not resumed; run it again, longer"
        )
    summary = _summary(folder)
    status = summary.get("status")
    if status == "diverged":
        raise ResumeError(
            f"--resume {folder}: the run diverged at epoch {summary.get('diverged_epoch')} and its weights "
            "are not finite; start it again (nnopt train) with a smaller optimizer.lr"
        )
    if status not in ("completed", "interrupted"):
        raise ResumeError(f"{folder / 'summary.json'}: status {status!r}, not a run that can be continued")
    if not (folder / "state.npz").is_file():
        raise ResumeError(
            f"--resume {folder}: no state.npz (the optimizer state a run needs to continue; folders of older "
            "nnopt versions lack it)"
        )
    config = _overridden(old, sets, folder)
    history = read_history(folder, config, summary)
    done = history.epochs_done
    if config.epochs < done:
        raise ResumeError(
            f"train.epochs {config.epochs}: {folder} has done {done} epochs already; resume to {done} or more"
        )
    point = _checkpoint(folder, config, history)
    # params_ema.npz and the shadow are written from the same array: a difference means mixed-up files
    shadow = None if history.params_ema is None else _flat(history.params_ema, folder / "params_ema.npz")
    if shadow is not None and point.shadow is not None and not np.array_equal(shadow, point.shadow):
        raise ResumeError(f"{folder}: params_ema.npz and the shadow in state.npz differ")
    theta = _flat(history.params, folder / "params.npz")
    return config, loop.Start(theta, point, history, source=str(folder.resolve()))


def prepare(config: Config, start: loop.Start) -> experiment.Group:
    """The data and network of a continued run, checked as a new run's are, with its start's weights (so
    model.init_from is not read again).

    Raises:
      ResumeError: weights that do not fit the network, or data that no longer gives the updates per epoch
        the run made.
      data.DataError, experiment.SetupError: as for a new run.
    """
    (group,) = experiment.prepare([config.replace(init_from=None)])
    prepared = group.prepared
    where = start.source or "the resumed run"
    try:
        prepared.net.check_arrays(start.history.params, f"{where}/params.npz")
    except mlp.NetworkError as exc:
        raise ResumeError(str(exc)) from None
    per_epoch = loop.steps_per_epoch(config.batch_size, prepared.train.size)
    point = start.checkpoint
    if point.steps != point.epochs * per_epoch:
        raise ResumeError(
            f"{where}: {point.steps} updates in {point.epochs} epochs, but the data now gives {per_epoch} "
            f"updates per epoch ({prepared.train.size} training rows): the data changed since"
        )
    prepared = loop.Prepared(prepared.net, prepared.head, prepared.train, prepared.test, start.theta[None])
    return experiment.Group(group.indices, [config], prepared)


def read_history(folder: Path, config: Config, summary: dict[str, Any] | None = None) -> loop.History:
    """The History of a run folder's files: metrics.csv, lr.csv, trace.csv, params.npz, params_ema.npz and
    summary.json (status, message and `start`), with `config` as its config."""
    summary = _summary(folder) if summary is None else summary
    h = loop.History(config=config, steps_per_epoch=0, with_test=config.test_size != 0)
    metrics = _read_csv(folder / "metrics.csv", list(h.metrics_columns()))
    for key, values in metrics.items():
        getattr(h, key).extend(values)
    if h.epoch != list(range(1, len(h.epoch) + 1)):
        raise ResumeError(f"{folder / 'metrics.csv'}: the epochs are not 1, 2, 3, ...")
    h.steps_per_epoch = h.step[0] if h.step else 0
    if h.step != [e * h.steps_per_epoch for e in h.epoch]:
        raise ResumeError(f"{folder / 'metrics.csv'}: the steps are not {h.steps_per_epoch} per epoch")
    done = h.steps_done
    rates = _read_csv(folder / "lr.csv", ["step", "lr"])
    trace = _read_csv(folder / "trace.csv", ["step", "epoch", "lr", "batch_loss"])
    for name, table in (("lr.csv", rates), ("trace.csv", trace)):
        if table["step"] != list(range(done)):
            raise ResumeError(f"{folder / name}: {len(table['step'])} updates; metrics.csv says {done}")
    h.lr_trace = np.array(rates["lr"], dtype=np.float64)
    h.batch_loss = np.array(trace["batch_loss"], dtype=np.float64)
    h.params = _read_npz(folder / "params.npz")
    if config.ema_decay is not None:
        h.params_ema = _read_npz(folder / "params_ema.npz")
    for key in ("epochs_done", "steps"):
        wanted = h.epochs_done if key == "epochs_done" else done
        if summary.get(key) != wanted:
            raise ResumeError(
                f"{folder / 'summary.json'}: {key} {summary.get(key)}, metrics.csv says {wanted}"
            )
    start = summary.get("start")
    if not isinstance(start, dict):
        raise ResumeError(f"{folder / 'summary.json'}: no start (the measures before the first update)")
    h.start = {str(k): math.nan if v is None else float(v) for k, v in start.items()}
    h.status, h.message = str(summary.get("status")), str(summary.get("message", ""))
    h.diverged_epoch = summary.get("diverged_epoch")
    return h


def _summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResumeError(
            f"--resume {folder}: incomplete, no summary.json (the run was cut off before its folder was "
            "complete)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResumeError(f"{path}: cannot read: {exc}") from None
    if not isinstance(summary, dict):
        raise ResumeError(f"{path}: not a run's summary")
    return summary


def _overridden(old: Config, sets: Sequence[str], folder: Path) -> Config:
    """The folder's config with `sets` applied; any change beyond ALLOWED is refused, naming its key."""
    if not sets:
        return old
    new = old.with_overrides(list(sets))
    before, after = dict(_keys(old.to_dict())), dict(_keys(new.to_dict()))
    missing = object()
    for key in dict.fromkeys([*before, *after]):
        if before.get(key, missing) == after.get(key, missing) or _allowed(key):
            continue
        allowed = ", ".join(ALLOWED)
        raise ResumeError(
            f"{key}: a resumed run continues {folder} bit for bit, so only {allowed} may change; to change "
            f"{key}, start a new run"
        )
    return new


def _allowed(key: str) -> bool:
    return any(key == a or (a.endswith(".*") and key.startswith(a[:-1])) for a in ALLOWED)


def _keys(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a config's nested dict as (dotted key, value)."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _checkpoint(folder: Path, config: Config, history: loop.History) -> loop.Checkpoint:
    """state.npz as a loop.Checkpoint, checked against the config and the history."""
    path = folder / "state.npz"
    arrays = _read_npz(path)
    names = optimizers.state_names(config.optimizer)
    wanted = ["step", "epochs_done", "optimizer", *names]
    wanted += ["shadow"] if config.ema_decay is not None else []
    wanted += ["rng_state"] if config.shuffle else []
    for key in wanted:
        if key not in arrays:
            keeps = f" ({config.optimizer} keeps {', '.join(names)})" if key in names else ""
            raise ResumeError(f"{path}: no array {key!r}{keeps}")
    if str(arrays["optimizer"]) != config.optimizer:
        raise ResumeError(
            f"{path}: the state of {arrays['optimizer']}, but optimizer.name is {config.optimizer}"
        )
    steps, epochs = int(arrays["step"]), int(arrays["epochs_done"])
    if (steps, epochs) != (history.steps_done, history.epochs_done):
        raise ResumeError(
            f"{path}: step {steps} after {epochs} epochs; metrics.csv says {history.steps_done} after "
            f"{history.epochs_done}"
        )
    rng_state = None
    if config.shuffle:
        try:
            rng_state = json.loads(str(arrays["rng_state"]))
        except json.JSONDecodeError:
            raise ResumeError(f"{path}: rng_state is not the JSON of a generator's state") from None
    return loop.Checkpoint(
        epochs=epochs,
        steps=steps,
        moments={name: arrays[name] for name in names},
        shadow=arrays["shadow"] if config.ema_decay is not None else None,
        rng_state=rng_state,
    )


def _flat(arrays: dict[str, np.ndarray], path: Path) -> np.ndarray:
    """Layer arrays w1, b1, w2, b2, ... as one flat vector, in the order of `mlp.MLP.from_arrays`."""
    depth = sum(1 for key in arrays if key.startswith("w"))
    order = [f"{kind}{i}" for i in range(1, depth + 1) for kind in ("w", "b")]
    if sorted(order) != sorted(arrays):
        raise ResumeError(f"{path}: arrays {', '.join(sorted(arrays))}, expected w1, b1, w2, b2, ...")
    return np.concatenate([np.ravel(arrays[key]) for key in order]).astype(np.float64)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as saved:
            return {key: np.asarray(saved[key]) for key in saved.files}
    except FileNotFoundError:
        raise ResumeError(f"{path}: missing") from None
    except (OSError, ValueError, EOFError, AttributeError):
        raise ResumeError(f"{path}: not a readable .npz file") from None


def _read_csv(path: Path, columns: list[str]) -> dict[str, list[Any]]:
    """The columns of a csv file nnopt wrote, exactly (floats as written, in shortest round-trip form)."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            if header != columns:
                raise ResumeError(f"{path}: columns {', '.join(header)}, expected {', '.join(columns)}")
            out: dict[str, list[Any]] = {c: [] for c in columns}
            for line, row in enumerate(reader, start=2):
                if len(row) != len(columns):
                    raise ResumeError(f"{path}, line {line}: {len(row)} cells, expected {len(columns)}")
                for c, cell in zip(columns, row, strict=True):
                    out[c].append(_number(cell, c, path, line))
    except FileNotFoundError:
        raise ResumeError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResumeError(f"{path}: cannot read: {exc}") from None
    return out


def _number(cell: str, column: str, path: Path, line: int) -> int | float:
    try:
        return int(cell) if column in _INTEGERS else float(cell)
    except ValueError:
        raise ResumeError(f"{path}, line {line}: {column} {cell!r} is not a number") from None
