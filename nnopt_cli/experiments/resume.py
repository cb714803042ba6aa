"""Continuing a run where it stopped: `nnopt train --resume RUN [--set train.epochs=N]`.

Besides its history and weights (runs.read_history reads them back), a run folder keeps the state its updates
carry from one to the next (state.npz, `runs.state_arrays`). `load` reads all of it and `prepare` rebuilds the
data and the network, so that a run stopped after epoch e and continued to E ends bit for bit where one run
of E epochs ends: the same weights, metrics.csv, lr.csv, trace.csv, layers.csv and summary.json (timing
aside). Only what cannot change the numbers may change on the way: the length, the progress lines, the name
and the pictures (ALLOWED).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import data as data_mod
from nnopt_cli.config import Config
from nnopt_cli.core import loop, mlp, optimizers
from nnopt_cli.experiments import experiment
from nnopt_cli.store import folders, runs

# the config keys a resumed run may change ("plot.*": every key of the plot section)
ALLOWED = ("train.epochs", "train.log_every", "name", "plot.*")


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
    with runs.folder_errors_as(ResumeError):
        old, summary = _continuable(folder)
        config = _overridden(old, sets, folder)
        history = runs.read_history(folder, config)
        done = history.epochs_done
        if config.epochs < done:
            raise ResumeError(
                f"train.epochs {config.epochs}: {folder} has done {done} epochs already; resume to {done} "
                "or more"
            )
        point = _checkpoint(folder, config, history)
    # params_ema.npz and the shadow are written from the same array: a difference means mixed-up files
    shadow = None if history.params_ema is None else _flat(history.params_ema, folder / "params_ema.npz")
    if shadow is not None and point.shadow is not None and not np.array_equal(shadow, point.shadow):
        raise ResumeError(f"{folder}: params_ema.npz and the shadow in state.npz differ")
    theta = _flat(history.params, folder / "params.npz")
    return config, loop.Start(theta, point, history, source=str(folder.resolve()))


def _continuable(folder: Path) -> tuple[Config, dict[str, Any]]:
    """The config and summary.json of a run folder that can be continued: a network's run that completed
    or was interrupted, with the state.npz and trace.csv continuing needs."""
    _check_run_folder(folder)
    config = runs.read_config(folder)
    if config.model_type != "mlp":
        raise ResumeError(
            f"--resume {folder}: the quadratic toy's runs are not resumed; run it again, longer"
        )
    summary = _continuable_summary(folder)
    if not (folder / "state.npz").is_file():
        raise ResumeError(
            f"--resume {folder}: no state.npz (the optimizer state a run needs to continue; folders of older "
            "nnopt versions lack it)"
        )
    if not (folder / "trace.csv").is_file():
        raise ResumeError(
            f"--resume {folder}: no trace.csv (the batch loss of every update, which the continued run's "
            "trace.csv begins with)"
        )
    return config, summary


def _check_run_folder(folder: Path) -> None:
    """Refuse a path that is not a run folder, pointing to the run folders inside it if there are some."""
    if not folder.is_dir():
        raise ResumeError(f"--resume {folder}: no such run folder")
    kind = folders.kind_of(folder)
    if kind == folders.SWEEP:
        saved = sorted((folder / "runs").glob("*/config.yaml"))
        example = f", e.g. {saved[0].parent}" if saved else " (a sweep run with --save-runs keeps them)"
        raise ResumeError(
            f"--resume {folder}: a sweep, not a run; its saved runs in runs/ can be resumed{example}"
        )
    if kind == folders.LRFIND:
        raise ResumeError(f"--resume {folder}: a learning-rate range test, not a run; nothing to continue")
    if kind == folders.SURFACE:
        raise ResumeError(
            f"--resume {folder}: a path on a surface is not resumed (it keeps no optimizer state); run it "
            "again with more train.steps"
        )
    if kind in (folders.TRAIN, folders.TOY) and (folder / folders.CONFIG).is_file():
        return
    inside = sorted(p.parent.name for p in folder.glob("*/config.yaml"))
    if inside:
        raise ResumeError(
            f"--resume {folder}: a folder of run folders (a comparison's, or a runs root), not a run; "
            f"resume one of them, e.g. {folder / inside[0]}"
        )
    raise ResumeError(f"--resume {folder}: not a run folder (no config.yaml)")


def _continuable_summary(folder: Path) -> dict[str, Any]:
    """summary.json of a run that completed or was interrupted, with `start`, the measures before the first
    update (a continued run's summary.json repeats them)."""
    summary = runs.read_summary(folder)
    path = folder / folders.SUMMARY
    if summary is None:
        raise ResumeError(
            f"--resume {folder}: incomplete, no summary.json (the run was cut off before its folder was "
            "complete)"
        )
    status = summary.get("status")
    if status == "diverged":
        raise ResumeError(
            f"--resume {folder}: the run diverged at epoch {summary.get('diverged_epoch')} and its weights "
            "are not finite; start it again (nnopt train) with a smaller optimizer.lr"
        )
    if status not in ("completed", "interrupted"):
        raise ResumeError(f"{path}: status {status!r}, not a run that can be continued")
    if not isinstance(summary.get("start"), dict):
        raise ResumeError(f"{path}: no start (the measures before the first update)")
    return summary


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
    with runs.folder_errors_as(ResumeError):
        runs.check_data(
            Path(where),
            start.history.data_digest,
            prepared.data_digest,
            source=data_mod.source(config.data_name, config.data_path),
        )
    per_epoch = loop.steps_per_epoch(config.batch_size, prepared.train.size)
    point = start.checkpoint
    if point.steps != point.epochs * per_epoch:
        raise ResumeError(
            f"{where}: {point.steps} updates in {point.epochs} epochs, but the data now gives {per_epoch} "
            f"updates per epoch ({prepared.train.size} training rows): the data changed since"
        )
    prepared = loop.Prepared(
        prepared.net, prepared.head, prepared.train, prepared.test, start.theta[None], prepared.data_digest
    )
    return experiment.Group(group.indices, [config], prepared)


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
    arrays = runs.read_npz(path, holding="a run's state")
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
