"""`nnopt compare`: several optimizers (or configs) trained side by side from the same start.

Entries that share the data, the network, the loss and the number of epochs are trained as one population
(`train.train_population`), so one forward and backward pass per batch serves all of them; each entry
still gets
a complete run folder, and its parameters equal those of `nnopt train` on its resolved config, bit for bit.
"""

from __future__ import annotations

import difflib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import config as config_mod
from nnopt_cli import optimizers, plots, runs, train
from nnopt_cli.data import Dataset

CONVERGENCE_TOLERANCE = 0.01

CONVERGED_DEFINITION = (
    "converged epoch: the first epoch from which the loss stays within 1% of its total decrease "
    "(max loss − final loss) of its final value"
)
TARGET_DEFINITION = "converged epoch: the first epoch whose loss is at most {target:g}"


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
            f"compare: name at least one entry: an optimizer ({', '.join(optimizers.OPTIMIZER_NAMES)}) "
            "or a config file"
        )
    if seeds < 1:
        raise config_mod.ConfigError(f"--seeds: must be >= 1, got {seeds}")
    extra = list(sets) + ([f"train.epochs={epochs}"] if epochs is not None else [])
    resolved: list[tuple[str, config_mod.Config]] = []
    for spec in specs:
        if spec in optimizers.OPTIMIZER_NAMES:
            raw = base.to_dict()
            raw["name"] = spec
            raw["optimizer"] = {"name": spec, "lr": base.lr, "decay": base.lr_decay}
            resolved.append((spec, config_mod.from_dict(raw, extra, name=spec)))
        elif _is_config_file(spec):
            loaded = config_mod.load(spec, extra)
            resolved.append((loaded.name, loaded))
        else:
            close = difflib.get_close_matches(spec, optimizers.OPTIMIZER_NAMES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise config_mod.ConfigError(
                f"compare: {spec!r} is neither an optimizer nor a config file; {hint}"
                f"optimizers: {', '.join(optimizers.OPTIMIZER_NAMES)}"
            )
    names = _unique([name for name, _ in resolved])
    entries = []
    for (_, cfg), name in zip(resolved, names, strict=True):
        if cfg.model_type != "mlp":
            raise config_mod.ConfigError(f"compare: {name}: model.type must be mlp to compare")
        for s in range(seeds):
            entries.append(Entry(name, cfg.replace(name=name, seed=base.seed + s), s))
    return entries


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


def train_entries(
    entries: Sequence[Entry],
    datasets: dict[str | None, Dataset],
    *,
    on_epoch: train.EpochCallback | None = None,
) -> list[train.History | None]:
    """Train every entry; entries with equal `population_key` together, in one stacked population, the
    groups one after the other. `datasets` maps each data.path to its loaded data. Returns one history per
    entry, in order; when a group is interrupted the groups after it are not trained (None)."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, entry in enumerate(entries):
        groups.setdefault(train.population_key(entry.config), []).append(i)
    histories: list[train.History | None] = [None] * len(entries)
    for indices in groups.values():
        configs = [entries[i].config for i in indices]
        trained = train.train_population(configs, dataset=datasets[configs[0].data_path], on_epoch=on_epoch)
        for i, h in zip(indices, trained, strict=True):
            histories[i] = h
        if any(h.status == "interrupted" for h in trained):
            break
    return histories


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


def summarize(
    entries: Sequence[Entry], histories: Sequence[train.History], *, target: float | None = None
) -> list[Row]:
    rows: dict[str, Row] = {}
    for entry, h in zip(entries, histories, strict=True):
        if entry.name not in rows:
            rows[entry.name] = Row(
                name=entry.name,
                rule=optimizers.rule(entry.config.optimizer, entry.config.optimizer_params),
                values={k: [] for k in METRICS},
                statuses=[],
            )
        row = rows[entry.name]
        finite = [v for v in h.loss if math.isfinite(v)]
        epoch = converged_epoch(h.loss, target) if h.status == "completed" else None
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
    for key in METRICS:
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


def _band(series: list[np.ndarray]) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    length = min(len(s) for s in series)
    stacked = np.stack([s[:length] for s in series])
    if len(series) == 1:
        return stacked[0], None
    return stacked.mean(axis=0), (stacked.min(axis=0), stacked.max(axis=0))


def _by_name(entries: Sequence[Entry], histories: Sequence[train.History]) -> dict[str, list[train.History]]:
    by_name: dict[str, list[train.History]] = {}
    for entry, h in zip(entries, histories, strict=True):
        by_name.setdefault(entry.name, []).append(h)
    return by_name


def draw_comparison(
    folder: Path, entries: Sequence[Entry], histories: Sequence[train.History], seeds: int
) -> None:
    """compare.png: loss, accuracy and learning rate, one colour per entry (mean and band over seeds)."""
    by_name = _by_name(entries, histories)
    loss_curves, acc_curves, lr_curves = [], [], []
    for i, (name, hs) in enumerate(by_name.items()):
        color = f"C{i % 10}"
        described = runs.describe_run(hs[0].config)
        label = described if described.split(" ")[0] == name else f"{name}: {described}"
        done = [h for h in hs if h.loss]
        if not done:
            continue
        epochs = np.asarray(done[0].epoch[: min(len(h.epoch) for h in done)], dtype=float)
        loss, loss_band = _band([np.asarray(h.loss) for h in done])
        acc, acc_band = _band([np.asarray(h.accuracy) for h in done])
        loss_curves.append(plots.Curve(epochs, loss, label, color=color, band=loss_band))
        acc_curves.append(plots.Curve(epochs, acc, name, color=color, band=acc_band))
        lr_curves.append(plots.Curve(np.arange(len(hs[0].lr_trace)), hs[0].lr_trace, name, color=color))
    spread = f"; lines: mean of {seeds} seeds, bands: min to max" if seeds > 1 else ""
    plots.comparison(
        folder / "compare.png",
        loss=loss_curves,
        accuracy=acc_curves,
        rates=lr_curves,
        title=f"Same network, same start, same batches: {len(by_name)} entries{spread}",
    )


def draw_boundaries(
    folder: Path, entries: Sequence[Entry], histories: Sequence[train.History], dataset: Dataset, seeds: int
) -> None:
    """boundaries.png: every entry's decision boundary (its first seed) in one grid."""
    first = [hs[0] for hs in _by_name(entries, histories).values()]
    plots.boundary_grid(
        folder / "boundaries.png",
        dataset.x,
        dataset.y,
        [runs.decision_boundary(h) for h in first],
        title="Decision boundaries after training" + (" (first seed)" if seeds > 1 else ""),
        score_label=runs.score_label(first[0].config.loss),
    )


def figure_jobs(
    folder: Path, entries: Sequence[Entry], histories: Sequence[train.History], dataset: Dataset, seeds: int
) -> list[runs.Job]:
    return [
        (draw_comparison, (folder, list(entries), list(histories), seeds)),
        (draw_boundaries, (folder, list(entries), list(histories), dataset, seeds)),
    ]


def write_results(
    folder: Path,
    entries: Sequence[Entry],
    histories: Sequence[train.History | None],
    subfolders: Sequence[Path],
    datasets: dict[str | None, Dataset],
    *,
    seeds: int,
    target: float | None,
    started: float,
) -> list[Row]:
    """Complete every trained entry's run folder, draw compare.png and boundaries.png (all figures on worker
    processes), and write compare.csv last. Entries left untrained (None) keep a folder with config.yaml
    only. Returns the table's rows."""
    done = [(e, h, sub) for e, h, sub in zip(entries, histories, subfolders, strict=True) if h is not None]
    trained_entries = [e for e, _, _ in done]
    trained = [h for _, h, _ in done]
    first = datasets[entries[0].config.data_path]
    jobs = figure_jobs(folder, trained_entries, trained, first, seeds)
    for e, h, sub in done:
        runs.write_data(sub, h)
        jobs += runs.figure_jobs(sub, h, datasets[e.config.data_path])
    runs.run_jobs(jobs)
    for _, h, sub in done:
        runs.write_summary(sub, h, started=started, clock=time.perf_counter)
    rows = summarize(trained_entries, trained, target=target)
    runs.write_csv(folder / "compare.csv", csv_columns(rows, seeds))
    return rows


def caption(target: float | None) -> str:
    """What the table's converged epoch and train time mean."""
    definition = TARGET_DEFINITION.format(target=target) if target is not None else CONVERGED_DEFINITION
    return (
        f"{definition}. Train time: the passes all entries share plus the entry's own updates, timed alone. "
        "Best of each column in green."
    )
