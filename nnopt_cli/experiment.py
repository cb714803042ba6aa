"""From resolved configs to trained histories: data, network and starting weights made once, configs of
equal shape grouped into populations, each population trained by the loop.

    configs ──► data sets (one per data.path) ──► network, head, starting weights per run
            ──► groups of equal `loop.population_key` ──► loop.run ──► histories

Everything that can be refused (a data file, an init_from file, a network too large for memory) is refused
here, before anything is written or trained.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnopt_cli import data as data_mod
from nnopt_cli import loop, losses, mlp, plots
from nnopt_cli.config import Config
from nnopt_cli.loop import EpochCallback, History

# the arrays a population keeps per parameter and row: values and shadows, gradients, two optimizer moments,
# EMA scratch, the copies kept at each epoch's end, penalty scales
_ARRAYS_PER_PARAM = 10


class SetupError(ValueError):
    """A run that cannot start (an unusable model.init_from file, a network too large); one line."""


def load_data(config: Config) -> data_mod.Dataset:
    return data_mod.load(Path(config.data_path) if config.data_path else None)


def network(config: Config, dataset: data_mod.Dataset, *, rows: int = 1) -> tuple[mlp.MLP, losses.Head]:
    """The network and head of `config` on `dataset`: inputs from the data, outputs from the task.

    Raises:
      SetupError: an output/loss pairing the data cannot take, or parameters (of `rows` runs together) or
        activations that would not fit in this machine's memory, checked before anything is allocated.
    """
    outputs = losses.outputs_for(config.loss, config.output, dataset.n_classes)
    try:
        head = losses.Head(config.output, config.loss, outputs)
    except losses.HeadError as exc:
        raise SetupError(str(exc)) from None
    widths = (dataset.x.shape[1], *config.hidden, outputs)
    n = mlp.MLP.count_params(widths)
    needed = 8 * rows * (_ARRAYS_PER_PARAM * n + 3 * sum(widths) * (config.batch_size + 1024))
    available = _memory_bytes()
    if needed > available // 2:
        hidden = list(config.hidden)
        raise SetupError(
            f"model.hidden {hidden}: a network of layer widths {' → '.join(map(str, widths))} has {n:,} "
            f"parameters; training {rows} such run{'s' if rows > 1 else ''} needs about {_gib(needed)}, more "
            f"than half of this machine's memory ({_gib(available)})"
        )
    return mlp.MLP(widths, config.activation, config.leaky_alpha), head


def _memory_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"


def starting_params(config: Config, net: mlp.MLP) -> np.ndarray:
    """The flat starting parameters: drawn from `seed` by model.init, or read from model.init_from."""
    if config.init_from is None:
        return net.init(config.init, np.random.default_rng(config.seed), config.init_std)
    path = config.init_from
    where = f"model.init_from: {path}"
    try:
        with np.load(path, allow_pickle=False) as saved:
            if not hasattr(saved, "files"):
                raise SetupError(f"{where}: not an .npz file of weights (a single .npy array)")
            arrays = {k: np.asarray(saved[k]) for k in saved.files}
    except FileNotFoundError:
        raise SetupError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise SetupError(f"{where}: is a folder, not an .npz file of weights") from None
    except (OSError, ValueError, EOFError):
        raise SetupError(
            f"{where}: not an .npz file of weights (params.npz of a run folder is one)"
        ) from None
    for key, value in arrays.items():
        if not np.issubdtype(value.dtype, np.number):
            raise SetupError(f"{where}: {key} holds {value.dtype} values, not numbers")
    try:
        net.check_arrays(arrays, where)
    except mlp.NetworkError as exc:
        raise SetupError(str(exc)) from None
    for key in net.shapes():
        if not np.all(np.isfinite(arrays[key])):
            raise SetupError(f"{where}: {key} holds NaN or infinite values")
    return net.from_arrays({k: v.astype(np.float64) for k, v in arrays.items()})


@dataclass
class Group:
    """Runs trained together: their positions in the caller's list, their configs and prepared arrays."""

    indices: list[int]
    configs: list[Config]
    prepared: loop.Prepared


def prepare(configs: Sequence[Config]) -> list[Group]:
    """Load each data set once, build each group's network and every run's starting weights, checking all of
    it. Runs with equal `loop.population_key` form one group, in order of first appearance.

    Raises:
      data.DataError, SetupError: anything that stops a run from starting.
    """
    datasets: dict[str | None, data_mod.Dataset] = {}
    for c in configs:
        if c.data_path not in datasets:
            datasets[c.data_path] = load_data(c)
    by_key: dict[tuple[object, ...], list[int]] = {}
    for i, c in enumerate(configs):
        by_key.setdefault(loop.population_key(c), []).append(i)
    groups = []
    for indices in by_key.values():
        members = [configs[i] for i in indices]
        dataset = datasets[members[0].data_path]
        net, head = network(members[0], dataset, rows=len(members))
        starts = np.stack([starting_params(c, net) for c in members])
        prepared = loop.Prepared(net, head, dataset.x, dataset.labels, starts)
        groups.append(Group(indices, members, prepared))
    return groups


def train_groups(groups: Sequence[Group], *, on_epoch: EpochCallback | None = None) -> list[History | None]:
    """Train the groups one after the other. Returns one history per run in the caller's order; when a group
    is interrupted the groups after it are not trained (None)."""
    total = sum(len(g.indices) for g in groups)
    histories: list[History | None] = [None] * total
    for g in groups:
        trained = loop.run(g.configs, g.prepared, on_epoch=on_epoch)
        for i, h in zip(g.indices, trained, strict=True):
            histories[i] = h
        if any(h.status == "interrupted" for h in trained):
            break
    return histories


def train(config: Config, *, on_epoch: EpochCallback | None = None) -> History:
    """One run, prepared and trained."""
    (group,) = prepare([config])
    return loop.run([config], group.prepared, on_epoch=on_epoch)[0]


def boundary(history: History, prepared: loop.Prepared) -> tuple[np.ndarray, np.ndarray | None]:
    """The run's score on the plot grid (plots.decision_grid) for its final and (with EMA) moving-average
    parameters: the output the 0.5 threshold applies to, or for two outputs the probability of class 1."""
    xx, _, points = plots.decision_grid()
    net, head = prepared.net, prepared.head

    def score(arrays: dict[str, np.ndarray]) -> np.ndarray:
        s = head.score(net.logits(net.from_arrays(arrays)[None], points))[0]
        value = s[0] if s.shape[0] == 1 else (s[1] if s.shape[0] == 2 else np.argmax(s, axis=0).astype(float))
        return np.asarray(value).reshape(xx.shape)

    with np.errstate(all="ignore"):
        raw = score(history.params)
        shadow = score(history.params_ema) if history.params_ema is not None else None
    return raw, shadow
