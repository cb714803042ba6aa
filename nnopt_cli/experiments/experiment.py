"""From resolved configs to trained histories: data, network and starting weights made once, configs of
equal shape grouped into populations, each population trained by the loop.

    configs ──► data sets (one per data section) ──► network, head, starting weights per run
            ──► groups of equal `loop.population_key` ──► loop.run ──► histories

Everything that can be refused (a data file, an init_from file, a network too large for memory) is refused
here, before anything is written or trained.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnopt_cli import checks
from nnopt_cli import data as data_mod
from nnopt_cli.config import Config
from nnopt_cli.core import loop, losses, mlp
from nnopt_cli.core.loop import EpochCallback, History
from nnopt_cli.figures.report import Plane, RunView
from nnopt_cli.store import runs

# the arrays a population keeps per parameter and row: values and shadows, gradients, two optimizer moments
# and their copies at each epoch's end, EMA scratch, the values' copies kept at each epoch's end, penalty
# scales
_ARRAYS_PER_PARAM = 12


class SetupError(ValueError):
    """A run that cannot start (an unusable model.init_from file, a network too large); one line."""


@dataclass(frozen=True)
class Data:
    """A config's data: the whole set, its training and (with data.test_size) test rows, and their digest
    (data.digest), which a run folder keeps."""

    full: data_mod.Dataset
    train: data_mod.Dataset
    test: data_mod.Dataset | None
    digest: dict[str, str]


def load_data(config: Config) -> Data:
    """Read or draw the data set of `config`, then permute and split it as data.permute_seed and
    data.test_size say. The held-out rows never reach training."""
    full = data_mod.load_set(
        config.data_name,
        path=config.data_path,
        features=config.data_features,
        label=config.data_label,
        samples=config.data_samples,
        noise=config.data_noise,
        seed=config.data_seed,
    )
    train, test = data_mod.split(full, permute_seed=config.permute_seed, test_size=config.test_size)
    return Data(full, train, test, data_mod.digest(train, test))


def layer_widths(config: Config, dataset: data_mod.Dataset) -> tuple[int, ...]:
    """The network's widths on `dataset`: its inputs, the hidden layers, and the outputs the task needs."""
    return (
        dataset.x.shape[1],
        *config.hidden,
        losses.outputs_for(config.loss, config.output, dataset.n_classes),
    )


def network(config: Config, dataset: data_mod.Dataset, *, rows: int = 1) -> tuple[mlp.MLP, losses.Head]:
    """The network and head of `config` on `dataset`: inputs from the data, outputs from the task.

    Raises:
      SetupError: an output/loss pairing the data cannot take, or parameters (of `rows` runs together) or
        activations that would not fit in this machine's memory, checked before anything is allocated.
    """
    widths = layer_widths(config, dataset)
    if widths[-1] == 1 and dataset.n_classes > 2:
        # one output tells two classes apart (a threshold): the third and later could never be predicted
        source = data_mod.source(config.data_name, config.data_path)
        raise SetupError(
            f"model.output {config.output} with loss {config.loss}: one output, which tells two classes "
            f"apart, but {source} has {dataset.n_classes} ({', '.join(dataset.classes[:5])}"
            f"{', ...' if dataset.n_classes > 5 else ''}); use model.output: softmax (one output per class), "
            "or loss: ce with model.output: linear"
        )
    try:
        head = losses.Head(config.output, config.loss, widths[-1])
    except losses.HeadError as exc:
        raise SetupError(str(exc)) from None
    n = mlp.MLP.count_params(widths)
    needed = _network_bytes(config, widths, dataset.x.shape[0], rows=rows)
    available = memory_bytes()
    if needed > available // 2:
        hidden = list(config.hidden) if len(config.hidden) <= 8 else f"of {len(config.hidden)} layers"
        raise SetupError(
            f"model.hidden {hidden}: a network of layer widths {' → '.join(map(str, widths))} has {n:,} "
            f"parameters; training {rows} such run{'s' if rows > 1 else ''} needs about {_gib(needed)}, more "
            f"than half of this machine's memory ({_gib(available)})"
        )
    return mlp.MLP(widths, config.activation, config.leaky_alpha), head


# What each layer costs beyond its arrays, whatever its width: Python objects, per-batch plans, views
_BYTES_PER_LAYER = 32 << 10
_BYTES_PER_LAYER_ROW = 16 << 10
_EVALUATION_BYTES = 2 << 26  # mlp.Forward's buffers (bounded by its chunk), the raw weights' and the EMA's


def _network_bytes(config: Config, widths: Sequence[int], data_rows: int, *, rows: int) -> int:
    """About what training `rows` runs of a network of `widths` takes: the parameters and what scales with
    them (optimizer state, gradients, copies), the activations of a mini-batch (a batch larger than the
    data is the whole data) and of the evaluation chunk, and each layer's fixed cost."""
    batch = min(config.batch_size, max(1, data_rows))
    n = mlp.MLP.count_params(widths)
    arrays = 8 * rows * (_ARRAYS_PER_PARAM * n + 3 * sum(widths) * (batch + 1024))
    layers = len(widths) - 1
    return arrays + layers * (_BYTES_PER_LAYER + rows * _BYTES_PER_LAYER_ROW) + _EVALUATION_BYTES


# What a run keeps while it trains, beyond its network: per epoch, one Python float in a list per metrics.csv
# column (a pointer and the float object, with room to spare); per update, its rate (the block tabled, the
# trace made of the blocks, the trace's copy in the history) and its mini-batch loss (the blocks and the
# trace made of them).
_BYTES_PER_EPOCH_COLUMN = 48
_BYTES_PER_UPDATE = 40


def check_length(configs: Sequence[Config], *, per_epoch: int) -> None:
    """Refuse a planned length whose history would not fit in memory, before anything is written: the
    per-epoch metrics and the rate of every update grow with train.epochs (or train.steps of the quadratic
    toy and of a surface), and a run that cannot keep them would fail hours in, or at once (epochs: 1e12).

    Raises:
      SetupError: naming the key, the planned epochs and updates, the memory they need and what there is.
    """
    first = configs[0]
    columns: float
    if first.model_type == "quadratic":
        key, length, updates, columns = "train.steps", first.steps, first.steps, 4
    elif first.model_type == "surface":
        # per step and run: x, y, loss and the rate (and the moving average's three) as float64 rows while
        # training, their copies in the history, and trajectory.csv's columns as Python floats while it is
        # written: about one _BYTES_PER_EPOCH_COLUMN per column and step, and two more columns' worth
        length = max(c.steps for c in configs)
        key, updates, columns = "train.steps", length, 6 + 3 * any(c.ema_decay is not None for c in configs)
    else:
        key, length, updates = "train.epochs", first.epochs, first.epochs * per_epoch
        columns = 6 + 2 * (first.test_size != 0)
        columns += sum(2 + 2 * (c.test_size != 0) for c in configs if c.ema_decay is not None) / len(configs)
    needed = len(configs) * (length * columns * _BYTES_PER_EPOCH_COLUMN + updates * _BYTES_PER_UPDATE)
    available = memory_bytes()
    if needed > available // 2:
        runs = f"{len(configs)} runs" if len(configs) > 1 else "a run"
        what = f"{updates:,} updates" if key == "train.steps" else f"{length:,} epochs ({updates:,} updates)"
        raise SetupError(
            f"{key} {length}: the metrics and rates of {what} of {runs} need about {_gib(int(needed))}, more "
            f"than half of this machine's memory ({_gib(available)}); plan fewer"
        )


def memory_bytes() -> int:
    """This machine's physical memory (8 GiB when it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def row_bytes(config: Config, dataset: data_mod.Dataset, train_size: int) -> int:
    """About what one more run of `config` adds to a population while it trains: its rows of the network's
    arrays, its activations, and its history over the planned epochs (what `network` and `check_length`
    check)."""
    widths = layer_widths(config, dataset)
    arrays = _network_bytes(config, widths, dataset.x.shape[0], rows=1) - _EVALUATION_BYTES
    tested = config.test_size != 0
    columns = 6 + 2 * tested + (2 + 2 * tested if config.ema_decay is not None else 0)
    updates = config.epochs * loop.steps_per_epoch(config.batch_size, train_size)
    return arrays + config.epochs * columns * _BYTES_PER_EPOCH_COLUMN + updates * _BYTES_PER_UPDATE


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"


def starting_params(config: Config, net: mlp.MLP) -> np.ndarray:
    """The flat starting parameters: drawn from `seed` by model.init, or read from model.init_from."""
    if config.init_from is None:
        return net.init(config.init, np.random.default_rng(config.seed), config.init_std)
    path = config.init_from
    where = f"model.init_from: {path}"
    try:
        if zipfile.is_zipfile(path):
            runs.npz_headers(Path(path), holding="weights")  # before loading: shapes the file cannot hold
    except runs.FolderError as exc:
        raise SetupError(f"model.init_from: {exc}") from None
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
    datasets: dict[tuple[object, ...], Data] = {}
    for c in configs:
        if c.data_key() not in datasets:
            datasets[c.data_key()] = load_data(c)
    by_key: dict[tuple[object, ...], list[int]] = {}
    for i, c in enumerate(configs):
        by_key.setdefault(loop.population_key(c), []).append(i)
    groups = []
    for indices in by_key.values():
        members = [configs[i] for i in indices]
        d = datasets[members[0].data_key()]
        for c in members:
            _check_plot_features(c, d.train)
        net, head = network(members[0], d.full, rows=len(members))
        check_length(members, per_epoch=loop.steps_per_epoch(members[0].batch_size, d.train.size))
        starts = np.stack([starting_params(c, net) for c in members])
        prepared = loop.Prepared(net, head, d.train, d.test, starts, d.digest)
        groups.append(Group(indices, members, prepared))
    return groups


def train_groups(
    groups: Sequence[Group],
    *,
    on_epoch: EpochCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[History | None]:
    """Train the groups one after the other (`should_stop` as loop.run takes it). Returns one history per run
    in the caller's order; when a group is interrupted the groups after it are not trained (None)."""
    total = sum(len(g.indices) for g in groups)
    histories: list[History | None] = [None] * total
    for g in groups:
        trained = loop.run(g.configs, g.prepared, on_epoch=on_epoch, should_stop=should_stop)
        for i, h in zip(g.indices, trained, strict=True):
            histories[i] = h
        if any(h.status == "interrupted" for h in trained):
            break
    return histories


def train(
    config: Config,
    *,
    on_epoch: EpochCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> History:
    """One run, prepared and trained."""
    (group,) = prepare([config])
    return loop.run([config], group.prepared, on_epoch=on_epoch, should_stop=should_stop)[0]


GRID_POINTS = 241  # grid points per axis of a boundary picture


def plane(config: Config, prepared: loop.Prepared) -> Plane | None:
    """The plane of two inputs a boundary picture draws: plot.features, or else the two with the largest
    spread over the training rows; the other inputs held at their training mean. None for a single input.

    Raises:
      SetupError: a plot.features entry that names no input.
    """
    train, test = prepared.train, prepared.test
    d = train.x.shape[1]
    if d < 2:
        return None
    names = _input_names(train)
    if config.plot_features is not None:
        chosen = tuple(_feature_index(f, names, i) for i, f in enumerate(config.plot_features))
    elif d == 2:
        chosen = (0, 1)
    else:
        spread = train.x.std(axis=0)
        chosen = tuple(sorted(int(i) for i in np.argsort(-spread, kind="stable")[:2]))
    i, j = chosen
    points = train.x if test is None else np.concatenate([train.x, test.x])
    held = train.x.mean(axis=0)
    others = [k for k in range(d) if k not in (i, j)]
    note = ""
    if others:
        values = ", ".join(f"{names[k]} {held[k]:.3g}" for k in others)
        note = f"other inputs held at their training mean: {values}"
    return Plane((i, j), _axis(points[:, i]), _axis(points[:, j]), held, (names[i], names[j]), note)


def _input_names(train: data_mod.Dataset) -> tuple[str, ...]:
    return train.feature_names or tuple(f"x{i + 1}" for i in range(train.x.shape[1]))


def _check_plot_features(config: Config, train: data_mod.Dataset) -> None:
    """plot.features must name inputs the data has, and there must be two or more of them."""
    if config.plot_features is None:
        return
    names = _input_names(train)
    if len(names) < 2:
        raise SetupError(f"plot.features: the data has a single input ({names[0]}), no plane to draw")
    for i, feature in enumerate(config.plot_features):
        _feature_index(feature, names, i)


def _feature_index(feature: str | int, names: tuple[str, ...], position: int) -> int:
    if isinstance(feature, int):
        if feature >= len(names):
            raise SetupError(
                f"plot.features[{position}]: input {feature} does not exist; the inputs are "
                f"0 .. {len(names) - 1} ({', '.join(names)})"
            )
        return feature
    if feature not in names:
        raise SetupError(
            f"plot.features[{position}]: no input named {feature!r}; "
            f"{checks.did_you_mean(feature, list(names))}"
        )
    return names.index(feature)


def _axis(values: np.ndarray) -> np.ndarray:
    """GRID_POINTS coordinates over the values' range, widened by 5% at each end (data.padded_range)."""
    return np.linspace(*data_mod.padded_range(values), GRID_POINTS)


def scores(history: History, prepared: loop.Prepared, where: Plane) -> tuple[np.ndarray, np.ndarray | None]:
    """What the network says over the plane, for the final and (with EMA) moving-average parameters:
    (1, G, G) the score the 0.5 threshold applies to, or the probability of class 1, for two classes;
    (K, G, G) the K class probabilities (or outputs) for more."""
    net, head = prepared.net, prepared.head
    xx, yy = np.meshgrid(where.xs, where.ys)
    points = np.tile(where.held, (xx.size, 1))
    points[:, where.features[0]] = xx.ravel()
    points[:, where.features[1]] = yy.ravel()

    def score(arrays: dict[str, np.ndarray]) -> np.ndarray:
        s = head.score(net.logits(net.from_arrays(arrays)[None], points))[0]  # (K, G·G)
        if s.shape[0] == 2:
            s = s[1:]
        return s.reshape(s.shape[0], *xx.shape)

    with np.errstate(all="ignore"):
        raw = score(history.params)
        shadow = score(history.params_ema) if history.params_ema is not None else None
    return raw, shadow


def confusion(history: History, prepared: loop.Prepared) -> tuple[np.ndarray, np.ndarray | None]:
    """Confusion matrices (true class × predicted class, counts) of the final parameters on the training
    rows and (with a split) the test rows."""
    net, head = prepared.net, prepared.head
    k = prepared.train.n_classes

    def matrix(ds: data_mod.Dataset) -> np.ndarray:
        with np.errstate(all="ignore"):
            predicted = head.predict(net.logits(net.from_arrays(history.params)[None], ds.x))[0]
        counts = np.zeros((k, k), dtype=np.int64)
        np.add.at(counts, (ds.labels, np.clip(predicted, 0, k - 1)), 1)
        return counts

    return matrix(prepared.train), None if prepared.test is None else matrix(prepared.test)


def run_view(history: History, prepared: loop.Prepared) -> RunView:
    """Evaluate the trained network where its pictures need it."""
    where = plane(history.config, prepared)
    score, ema_score = scores(history, prepared, where) if where is not None else (None, None)
    train_cm, test_cm = confusion(history, prepared)
    return RunView(where, score, ema_score, prepared.train, prepared.test, train_cm, test_cm)
