"""`nnopt compare`: several optimizers (or configs) trained side by side from the same start.

Entries that share the data, the network, the loss and the number of epochs are trained as one population
(experiment.prepare, loop.run), so one forward and backward pass per batch serves all of them; each entry
still gets a complete run folder, and its parameters equal those of `nnopt train` on its resolved config, bit
for bit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import checks, experiment, loop, optimizers, report, runs
from nnopt_cli import config as config_mod

CONVERGENCE_TOLERANCE = 0.01

CONVERGED_DEFINITION = (
    "converged epoch: the first epoch from which the loss stays within 1% of its total decrease "
    "(max loss − final loss) of its final value"
)
TARGET_DEFINITION = "converged epoch: the first epoch whose loss is at most {target:g}"
TEST_DEFINITION = (
    "converged epoch: the first epoch from which the test accuracy stays at its final value (what the "
    "course reads off its test-accuracy curve)"
)


@dataclass(frozen=True)
class Entry:
    """One line of the comparison: a name, a resolved config, and which seed of the --seeds repetitions."""

    name: str
    config: config_mod.Config
    seed_index: int = 0


def _is_config_file(spec: str) -> bool:
    return spec.endswith((".yaml", ".yml")) or Path(spec).is_file()


def build_entries(
    specs: Sequence[str],
    base: config_mod.Config,
    *,
    sets: Sequence[str] = (),
    epochs: int | None = None,
    seeds: int = 1,
) -> list[Entry]:
    """Resolve each entry: an optimizer name (its defaults on top of `base`) or a YAML config file.

    Every entry runs with the base seed (plus 0..seeds-1 with --seeds), so all start from the same weights.
    Raises:
      ConfigError: an entry that is neither an optimizer nor a readable config, or any config problem.
    """
    if not specs:
        raise config_mod.ConfigError(
            f"compare: name at least one entry: an optimizer ({', '.join(optimizers.names())}) "
            "or a config file"
        )
    if seeds < 1:
        raise config_mod.ConfigError(f"--seeds: must be >= 1, got {seeds}")
    extra = list(sets) + ([f"train.epochs={epochs}"] if epochs is not None else [])
    for item in sets:
        if item.partition("=")[0].strip() in ("optimizer.name", "name"):
            # an entry's name says what it trains; a --set that changed every entry's optimizer or name
            # would leave the table, compare.csv and the legend naming what did not run
            key = item.partition("=")[0].strip()
            raise config_mod.ConfigError(
                f"--set {key}: compare's entries choose the optimizer and the name; name the optimizers "
                "as entries (nnopt compare sgd rmsprop) or give config files"
            )
    resolved = [_resolve(spec, base, extra) for spec in specs]
    names = _unique([name for name, _ in resolved])
    entries = []
    for (_, cfg), name in zip(resolved, names, strict=True):
        if cfg.model_type != "mlp":
            raise config_mod.ConfigError(f"compare: {name}: model.type must be mlp to compare")
        for s in range(seeds):
            entries.append(Entry(name, cfg.replace(name=name, seed=base.seed + s), s))
    return entries


def _resolve(spec: str, base: config_mod.Config, extra: list[str]) -> tuple[str, config_mod.Config]:
    """An entry's name and resolved config; a --set the entry refuses is reported with the entry."""
    try:
        if spec in optimizers.names():
            raw = base.to_dict()
            raw["name"] = spec
            raw["optimizer"] = {
                "name": spec,
                "lr": base.lr,
                "decay": base.lr_decay,
                "clip_norm": base.clip_norm,  # clipping applies to every optimizer: the base's stays
                "clip_value": base.clip_value,
            }
            return spec, config_mod.from_dict(raw, extra, name=spec)
        if _is_config_file(spec):
            loaded = config_mod.load(spec, extra)
            return loaded.name, loaded
    except config_mod.ConfigError as exc:
        if str(exc).startswith("--set "):  # another entry may take it (adam has beta1, sgd does not)
            raise config_mod.ConfigError(f"compare entry {spec}: {exc}") from None
        raise
    raise config_mod.ConfigError(
        f"compare: {spec!r} is neither an optimizer nor a config file; "
        f"{checks.did_you_mean(spec, optimizers.names())}"
    )


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


def start_folders(folder: Path, entries: Sequence[Entry], *, seeds: int) -> list[Path]:
    """One run folder per entry inside the comparison's folder, holding its resolved config.yaml."""
    subfolders = []
    for e in entries:
        sub = folder / (e.name if seeds == 1 else f"{e.name}-seed{e.config.seed}")
        sub.mkdir()
        runs.write_start(sub, e.config)
        subfolders.append(sub)
    return subfolders


def converged_epoch(loss: Sequence[float], target: float | None = None) -> int | None:
    """The epoch (1-based) where the loss converged; None if it never did or the run diverged.

    Without `target`: the first epoch from which every loss stays within 1% of the total decrease
    (max loss − final loss) of the final loss. With `target`: the first epoch whose loss is <= target.
    """
    values = np.asarray(loss, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)):
        return None
    if target is not None:
        hits = np.nonzero(values <= target)[0]
        return int(hits[0]) + 1 if hits.size else None
    final = values[-1]
    tolerance = CONVERGENCE_TOLERANCE * (values.max() - final)
    outside = np.nonzero(np.abs(values - final) > tolerance)[0]
    return int(outside[-1]) + 2 if outside.size else 1


def settled_epoch(accuracy: Sequence[float]) -> int | None:
    """The first epoch (1-based) from which the accuracy stays at its final value; None if it is NaN
    anywhere (a diverged run) or there is none."""
    values = np.asarray(accuracy, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)):
        return None
    changed = np.nonzero(values != values[-1])[0]
    return int(changed[-1]) + 2 if changed.size else 1


@dataclass
class Row:
    """One entry of compare.csv and of the terminal table, aggregated over seeds."""

    name: str
    rule: str
    values: dict[str, list[float]]
    statuses: list[str]

    def mean(self, key: str) -> float:
        finite = [v for v in self.values[key] if v is not None and math.isfinite(v)]
        return float(np.mean(finite)) if finite else math.nan

    def std(self, key: str) -> float:
        finite = [v for v in self.values[key] if v is not None and math.isfinite(v)]
        return float(np.std(finite)) if finite else math.nan


METRICS = ("final_loss", "final_accuracy", "best_loss", "converged_epoch", "train_seconds")
TEST_METRICS = ("final_test_loss", "final_test_accuracy")


def summarize(
    entries: Sequence[Entry], histories: Sequence[loop.History], *, target: float | None = None
) -> list[Row]:
    rows: dict[str, Row] = {}
    with_test = any(h.with_test for h in histories)
    for entry, h in zip(entries, histories, strict=True):
        if entry.name not in rows:
            rows[entry.name] = Row(
                name=entry.name,
                rule=optimizers.rule(entry.config.optimizer, entry.config.optimizer_params),
                values={k: [] for k in METRICS + (TEST_METRICS if with_test else ())},
                statuses=[],
            )
        row = rows[entry.name]
        finite = [v for v in h.loss if math.isfinite(v)]
        epoch = None
        if h.status == "completed":
            by_test = h.with_test and target is None
            epoch = settled_epoch(h.test_accuracy) if by_test else converged_epoch(h.loss, target)
        if with_test:
            usable_test = h.test_loss and h.status != "diverged"
            row.values["final_test_loss"].append(h.test_loss[-1] if usable_test else math.nan)
            row.values["final_test_accuracy"].append(h.test_accuracy[-1] if usable_test else math.nan)
        row.values["final_loss"].append(h.loss[-1] if h.loss else math.nan)
        # a diverged network's outputs are NaN: its last "accuracy" says nothing
        usable = h.accuracy and h.status != "diverged"
        row.values["final_accuracy"].append(h.accuracy[-1] if usable else math.nan)
        row.values["best_loss"].append(min(finite) if finite else math.nan)
        row.values["converged_epoch"].append(float(epoch) if epoch is not None else math.nan)
        row.values["train_seconds"].append(h.train_seconds)
        row.statuses.append(h.status)
    return list(rows.values())


def csv_columns(rows: Sequence[Row], seeds: int) -> dict[str, list[Any]]:
    """compare.csv: one row per entry; with several seeds, a mean and a std column per metric."""
    columns: dict[str, list[Any]] = {"name": [r.name for r in rows]}
    for key in [k for k in METRICS + TEST_METRICS if rows and k in rows[0].values]:
        if seeds == 1:
            columns[key] = [_csv_value(key, r.values[key][0]) for r in rows]
        else:
            columns[f"{key}_mean"] = [_csv_value(key, r.mean(key)) for r in rows]
            columns[f"{key}_std"] = [_csv_value(key, r.std(key)) for r in rows]
    columns["status"] = [";".join(sorted(set(r.statuses))) for r in rows]
    return columns


def _csv_value(key: str, value: float) -> Any:
    if value is None or not math.isfinite(value):
        return ""
    if key == "converged_epoch" and float(value).is_integer():
        return int(value)
    return float(value)


def write_results(
    folder: Path,
    entries: Sequence[Entry],
    histories: Sequence[loop.History | None],
    subfolders: Sequence[Path],
    groups: Sequence[experiment.Group],
    *,
    seeds: int,
    entry_pictures: bool = False,
    target: float | None,
    started: float,
) -> list[Row]:
    """Complete every trained entry's run folder (its pictures only with `entry_pictures`), draw compare.png
    and boundaries.png (all figures as independent jobs), and write compare.csv last. Entries left untrained
    (None) keep a folder with config.yaml only. Returns the table's rows."""
    prepared = {i: g.prepared for g in groups for i in g.indices}
    done = [i for i, h in enumerate(histories) if h is not None]
    trained = [h for h in histories if h is not None]
    names = [entries[i].name for i in done]
    firsts: dict[str, int] = {}  # each entry's first seed: the one boundaries.png shows
    for j, name in enumerate(names):
        firsts.setdefault(name, j)
    drawn = range(len(done)) if entry_pictures else firsts.values()
    views = {j: experiment.run_view(trained[j], prepared[done[j]]) for j in drawn}
    shown = [(trained[j], views[j]) for j in firsts.values()]
    jobs = report.comparison_jobs(folder, names, trained, shown, seeds)
    for j, (h, i) in enumerate(zip(trained, done, strict=True)):
        runs.write_data(subfolders[i], h)
        if entry_pictures:
            jobs += report.run_jobs(subfolders[i], h, views[j])
    report.draw(jobs)
    for h, i in zip(trained, done, strict=True):
        runs.write_summary(subfolders[i], h, started=started, clock=time.perf_counter)
    rows = summarize([entries[i] for i in done], trained, target=target)
    runs.write_csv(folder / "compare.csv", csv_columns(rows, seeds))
    return rows


def caption(target: float | None, *, with_test: bool = False) -> str:
    """What the table's converged epoch and train time mean."""
    definition = TARGET_DEFINITION.format(target=target) if target is not None else CONVERGED_DEFINITION
    if with_test and target is None:
        definition = TEST_DEFINITION
    return (
        f"{definition}. Train time: the training loop of the population the entry trained in (entries of "
        "one network shape train together, one pass per batch, and share it). Best of each column in green."
    )
