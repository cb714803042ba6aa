"""The training loop: resolved configs in, histories out. No printing, no files.

Runs that share the data, the batching, the network shape, the loss and the number of epochs form a
population: their parameters are stacked as the rows of one (P, n) array, so one forward and backward pass
serves every run. A run alone then applies its regularizer, optimizer and moving average to its row
(`_stepper`); a population applies all of them to all rows in one set of calls (`_PopulationStep`), which
gives each row the same bits. `nnopt compare` trains its entries this way, which is why an entry there ends
bitwise where `nnopt train` of the same config ends.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from nnopt_cli import data as data_mod
from nnopt_cli import ema, losses, mlp, optimizers, regularizers, schedules
from nnopt_cli.config import Config

ADAPTIVE = ("adagrad", "rmsprop", "adam")


class SetupError(ValueError):
    """A run that cannot start (for example an unusable model.init_from file); one line."""


@dataclass
class History:
    """What one run did: per-epoch metrics, the learning rate of every update, final parameters."""

    config: Config
    lr_trace: np.ndarray
    steps_per_epoch: int
    epoch: list[int] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    data_loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    ema_loss: list[float] = field(default_factory=list)
    ema_accuracy: list[float] = field(default_factory=list)
    params: dict[str, np.ndarray] = field(default_factory=dict)
    params_ema: dict[str, np.ndarray] | None = None
    status: str = "running"
    diverged_epoch: int | None = None
    message: str = ""
    train_seconds: float = 0.0

    @property
    def epochs_done(self) -> int:
        return len(self.epoch)

    @property
    def steps_done(self) -> int:
        return self.step[-1] if self.step else 0

    def metrics_columns(self) -> dict[str, list[float] | list[int]]:
        columns: dict[str, list[float] | list[int]] = {
            "epoch": self.epoch,
            "step": self.step,
            "lr": self.lr,
            "loss": self.loss,
            "data_loss": self.data_loss,
            "accuracy": self.accuracy,
        }
        if self.config.ema_decay is not None:
            columns["ema_loss"] = self.ema_loss
            columns["ema_accuracy"] = self.ema_accuracy
        return columns


# Called after every epoch with (epoch number 1..E, the histories so far).
EpochCallback = Callable[[int, Sequence[History]], None]


def population_key(config: Config) -> tuple[object, ...]:
    """Runs whose keys are equal can be stacked in one population."""
    return (
        config.data_path,
        config.batch_size,
        config.shuffle,
        config.model_type,
        config.hidden,
        config.activation,
        config.leaky_alpha,
        config.loss,
        config.epochs,
    )


def network(config: Config) -> mlp.MLP:
    return mlp.MLP(config.hidden, config.activation, config.leaky_alpha)


def steps_per_epoch(config: Config, dataset: data_mod.Dataset) -> int:
    return -(-dataset.size // config.batch_size)


def learning_rates(config: Config, total_steps: int, per_epoch: int) -> np.ndarray:
    """The rate used by every update k = 0..total_steps-1: the schedule evaluated at k (or at the epoch index
    k // per_epoch when schedule.unit is epoch), then Keras' legacy decay lr / (1 + decay·k)."""
    schedule = schedules.make_schedule(
        config.schedule,
        config.lr,
        seed=config.seed,
        warmup_steps=config.warmup_steps,
        **config.schedule_params,
    )
    k = np.arange(total_steps)
    index = k if config.unit == "step" else k // per_epoch
    trace = np.asarray(schedule(index), dtype=np.float64)
    if config.lr_decay:
        trace = optimizers.legacy_decay(trace, config.lr_decay)
    return trace


def initial_params(config: Config, net: mlp.MLP) -> np.ndarray:
    """The flat starting parameters: drawn from `seed` by model.init, or read from model.init_from."""
    if config.init_from is None:
        return net.init(config.init, np.random.default_rng(config.seed))
    path = config.init_from
    try:
        with np.load(path) as saved:
            arrays = {k: np.asarray(saved[k], dtype=np.float64) for k in saved.files}
    except FileNotFoundError:
        raise SetupError(f"model.init_from: {path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise SetupError(f"model.init_from: {path}: not a NumPy .npz file ({exc})") from None
    for key, shape in net.shapes().items():
        if key not in arrays:
            raise SetupError(f"model.init_from: {path}: missing array {key!r} (need w1, b1, w2, b2)")
        if arrays[key].shape != shape:
            raise SetupError(
                f"model.init_from: {path}: {key} has shape {arrays[key].shape}, expected {shape} "
                f"for model.hidden {net.hidden}"
            )
        if not np.all(np.isfinite(arrays[key])):
            raise SetupError(f"model.init_from: {path}: {key} holds NaN or infinite values")
    return net.from_arrays(arrays)


def train(
    config: Config,
    *,
    dataset: data_mod.Dataset | None = None,
    on_epoch: EpochCallback | None = None,
) -> History:
    """Train one run of the 2-H-1 network as its config says."""
    return train_population([config], dataset=dataset, on_epoch=on_epoch)[0]


@dataclass
class _Member:
    """One run's rows and state inside a population."""

    history: History
    theta: np.ndarray
    grads: np.ndarray
    shadow: np.ndarray | None
    update: Callable[[np.ndarray, np.ndarray, object, float], None]
    state: object
    reg_kind: str
    reg_vector: np.ndarray
    lr_trace: np.ndarray
    ema_decay: float
    active: bool = True
    # where a run that diverged stopped: the population goes on updating its row
    stopped: tuple[np.ndarray, np.ndarray | None] | None = None


def train_population(
    configs: Sequence[Config],
    *,
    dataset: data_mod.Dataset | None = None,
    on_epoch: EpochCallback | None = None,
) -> list[History]:
    """Train several runs together, stacked along a leading axis; see the module docstring.

    Args:
      configs: runs with equal `population_key`.
      dataset: the data (default: loaded from the first config's data.path).
      on_epoch: progress callback.
    Returns:
      One History per config, in order. A run whose loss becomes NaN or infinite stops with status
      "diverged"; Ctrl-C stops every run with status "interrupted" and keeps what was done: the metrics and
      the weights of the epochs that finished.
    """
    first = configs[0]
    if any(population_key(c) != population_key(first) for c in configs):
        raise ValueError("train_population needs runs with the same data, network, loss and epochs")
    if dataset is None:
        dataset = load_dataset(first)
    net = network(first)
    starts = [initial_params(c, net) for c in configs]

    per_epoch = steps_per_epoch(first, dataset)
    total = per_epoch * first.epochs
    p = len(configs)
    with_ema = any(c.ema_decay is not None for c in configs)
    # the weights, and after them their moving averages: one array, so each epoch's evaluation is one pass
    rows = np.empty((2 * p if with_ema else p, net.n_params))
    theta = rows[:p]
    theta[...] = np.stack(starts)
    grads = np.zeros_like(theta)
    shadows = rows[p:] if with_ema else theta.copy()
    if with_ema:
        shadows[...] = theta
    shadow_rows = shadows if with_ema else None
    backprop = mlp.Backprop(net, first.loss, theta, grads)
    mask = net.weight_mask()

    members: list[_Member] = []
    for i, config in enumerate(configs):
        opt = optimizers.make_optimizer(config.optimizer, **config.optimizer_params)
        trace = learning_rates(config, total, per_epoch)
        history = History(config=config, lr_trace=trace, steps_per_epoch=per_epoch)
        reg_kind = config.regularizer if config.reg_scale > 0 else "none"
        members.append(
            _Member(
                history=history,
                theta=theta[i],
                grads=grads[i],
                shadow=shadows[i] if config.ema_decay is not None else None,
                update=opt.update,
                state=opt.init(theta[i]),
                reg_kind=reg_kind,
                reg_vector=config.reg_scale * mask,
                lr_trace=trace,
                ema_decay=config.ema_decay or 0.0,
            )
        )

    x_aug = mlp.augment(dataset.x)
    y = dataset.y
    fixed_batches = None if first.shuffle else _batches(x_aug, y, None, first.batch_size)
    shuffle_rngs = [np.random.default_rng([c.seed, 1]) for c in configs]

    histories = [m.history for m in members]
    penalties = _Penalties(members)
    forward = mlp.Forward(net, rows, dataset.x)
    population = (
        None if len(members) == 1 else _PopulationStep(members, penalties, theta, grads, shadow_rows, total)
    )
    update = _stepper(members[0]) if population is None else population
    epoch_end, epoch_end_shadows = theta.copy(), shadows.copy()
    clock = time.perf_counter
    started = clock()
    epoch = 0
    try:
        with np.errstate(all="ignore"):
            for epoch in range(1, first.epochs + 1):
                batches = fixed_batches or _shuffled_batches(x_aug, y, shuffle_rngs, first.batch_size)
                k = (epoch - 1) * per_epoch
                for xa_t, yb in batches:
                    backprop(xa_t, yb)
                    update(k)
                    k += 1
                _evaluate(forward, members, penalties, theta, shadow_rows, y, epoch, k)
                np.copyto(epoch_end, theta)
                np.copyto(epoch_end_shadows, shadows)
                if on_epoch is not None:
                    on_epoch(epoch, histories)
                if not any(m.active for m in members):
                    break
    except KeyboardInterrupt:
        for i, m in enumerate(members):
            if m.active:
                m.history.status = "interrupted"
                m.history.message = f"interrupted after {m.history.epochs_done} of {first.epochs} epochs"
                m.active = False
                # the weights of the last whole epoch, the ones its metrics describe
                m.stopped = (epoch_end[i].copy(), None if m.shadow is None else epoch_end_shadows[i].copy())
    elapsed = clock() - started
    # a run's training time: for a run alone, the whole loop; in a population, the passes every run shares
    # plus its own updates, timed on their own, what it would have spent training alone
    train_seconds = [elapsed]
    if population is not None:
        own = _own_update_seconds(members, grads)
        shared = elapsed - population.seconds
        train_seconds = [shared + own[i] * m.history.steps_done for i, m in enumerate(members)]

    for i, m in enumerate(members):
        h = m.history
        h.train_seconds = train_seconds[i]
        if h.status == "running":
            h.status = "completed"
        row, shadow = m.stopped or (theta[i], m.shadow)
        h.params = net.to_arrays(row)
        if shadow is not None:
            h.params_ema = net.to_arrays(shadow)
    return histories


def _stepper(m: _Member) -> Callable[[int], None]:
    """A run's part of update k when it trains alone: regularizer gradient, optimizer update, moving average.

    Bound to the run's arrays once, so that the hot loop does no attribute lookups.
    """
    theta, grads, state, update = m.theta, m.grads, m.state, m.update
    rates = m.lr_trace.tolist()
    reg_kind, reg_vector, add_grad = m.reg_kind, m.reg_vector, regularizers.add_grad
    regularized = reg_kind != "none"
    shadow = m.shadow
    ema_factors = ema.factors(m.ema_decay, len(rates)) if shadow is not None else []
    ema_step, scratch = ema.ema_step, np.empty_like(theta)

    def step(k: int) -> None:
        if regularized:
            add_grad(reg_kind, reg_vector, theta, grads)
        update(theta, grads, state, rates[k])
        if shadow is not None:
            ema_step(shadow, theta, ema_factors[k], scratch)

    return step


class _Penalties:
    """The regularizers of every row: one scale matrix per kind in use (scale on a row's weights, 0 on its
    biases and on rows of another kind), so that values and gradients of all rows take one operation each."""

    def __init__(self, members: list[_Member]) -> None:
        self.scales = {
            kind: np.stack(
                [m.reg_vector if m.reg_kind == kind else np.zeros_like(m.reg_vector) for m in members]
            )
            for kind in ("l2", "l1")
            if any(m.reg_kind == kind for m in members)
        }

    def value(self, rows: np.ndarray) -> np.ndarray:
        """The penalty of each row of rows (P, n)."""
        total = np.zeros(rows.shape[0])
        for kind, scale in self.scales.items():
            total += regularizers.penalty(kind, scale, rows)
        return total

    def add_grad(self, rows: np.ndarray, grads: np.ndarray) -> None:
        for kind, scale in self.scales.items():
            regularizers.add_grad(kind, scale, rows, grads)


class _PopulationStep:
    """Update k of every run of a population with one set of ufunc calls over all rows: the regularizers
    (`_Penalties`), the optimizers (`optimizers.FusedRows`; Nesterov rows one by one) and the
    moving averages (a (P, 1) column of 1 − d per update). Each row gets the same bits as `_stepper`'s
    update of that run alone. `seconds` adds up the time spent here."""

    def __init__(
        self,
        members: list[_Member],
        penalties: _Penalties,
        theta: np.ndarray,
        grads: np.ndarray,
        shadows: np.ndarray | None,
        total: int,
    ) -> None:
        self.theta, self.grads, self.shadows = theta, grads, shadows
        configs = [m.history.config for m in members]
        self.penalties = penalties
        rules = [(c.optimizer, c.optimizer_params) for c in configs]
        self.fused = optimizers.FusedRows(rules, [m.lr_trace for m in members], theta.shape[1])
        self.nesterov = [
            _stepper(replace(m, reg_kind="none", shadow=None))
            for m, c in zip(members, configs, strict=True)
            if c.optimizer == "momentum" and c.optimizer_params.get("nesterov")
        ]
        self.ema_factors = None
        if shadows is not None:
            factors = np.zeros((total, len(members), 1))
            for i, m in enumerate(members):
                if m.shadow is not None:
                    factors[:, i, 0] = ema.factors(m.ema_decay, total)
            self.ema_factors = factors
        self._scratch = np.empty_like(theta)
        self.seconds = 0.0

    def __call__(self, k: int) -> None:
        started = time.perf_counter()
        theta, grads = self.theta, self.grads
        self.penalties.add_grad(theta, grads)
        self.fused(theta, grads, k)
        for step in self.nesterov:
            step(k)
        if self.ema_factors is not None and self.shadows is not None:
            ema.ema_step(self.shadows, theta, self.ema_factors[k], self._scratch)
        self.seconds += time.perf_counter() - started


def _own_update_seconds(members: list[_Member], grads: np.ndarray, updates: int = 100) -> list[float]:
    """Seconds one update of each run's own rule takes (regularizer, optimizer, EMA), timed alone on copies
    of its arrays: what the run would spend on updates if it trained alone."""
    out = []
    for i, m in enumerate(members):
        config = m.history.config
        theta = m.theta.copy()
        copy = replace(
            m,
            theta=theta,
            grads=grads[i].copy(),
            shadow=None if m.shadow is None else m.shadow.copy(),
            state=optimizers.make_optimizer(config.optimizer, **config.optimizer_params).init(theta),
            lr_trace=np.full(updates, 1e-12),
        )
        step, saved, scratch = _stepper(copy), copy.grads.copy(), copy.grads
        with np.errstate(all="ignore"):
            started = time.perf_counter()
            for k in range(updates):
                scratch[...] = saved
                step(k)
            middle = time.perf_counter()
            for _ in range(updates):
                scratch[...] = saved  # the refill alone, taken off again
            out.append(max(0.0, (2 * middle - started - time.perf_counter()) / updates))
    return out


def _batches(
    x_aug: np.ndarray, y: np.ndarray, order: np.ndarray | None, batch_size: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches (inputs as features × batch, labels) in file order or in `order`.

    `order` is (N,) for one order shared by every run or (P, N) for one order per run.
    """
    if order is not None:
        x_aug, y = x_aug[order], y[order]
    n = x_aug.shape[-2]
    return [
        (
            np.ascontiguousarray(np.swapaxes(x_aug[..., start : start + batch_size, :], -1, -2)),
            y[..., start : start + batch_size, :],
        )
        for start in range(0, n, batch_size)
    ]


def _shuffled_batches(
    x_aug: np.ndarray, y: np.ndarray, rngs: list[np.random.Generator], batch_size: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    n = x_aug.shape[0]
    orders = np.stack([rng.permutation(n) for rng in rngs])
    if all(np.array_equal(orders[0], o) for o in orders[1:]):
        return _batches(x_aug, y, orders[0], batch_size)
    return _batches(x_aug, y, orders, batch_size)


def _evaluate(
    forward: mlp.Forward,
    members: list[_Member],
    penalties: _Penalties,
    theta: np.ndarray,
    shadows: np.ndarray | None,
    y: np.ndarray,
    epoch: int,
    step: int,
) -> None:
    """Full-set loss and accuracy of every active run (and its EMA shadow) at the end of an epoch, in one
    forward pass over all rows; stops runs that diverged."""
    p = theta.shape[0]
    outs = forward()
    loss_name = members[0].history.config.loss
    data_loss = losses.value(loss_name, outs, y)
    penalty = penalties.value(theta)
    if shadows is not None:
        penalty = np.concatenate([penalty, penalties.value(shadows)])
    loss = (data_loss + penalty).tolist()
    right = losses.predicted_class(loss_name, outs) == (y > 0.5)
    accuracy = (np.add.reduce(right, axis=(1, 2), dtype=np.float64) / y.shape[0]).tolist()
    finite = np.all(np.isfinite(theta), axis=1).tolist()
    data = data_loss.tolist()
    for i, m in enumerate(members):
        if not m.active:
            continue
        h = m.history
        h.epoch.append(epoch)
        h.step.append(step)
        h.lr.append(float(m.lr_trace[step - 1]))
        h.loss.append(loss[i])
        h.data_loss.append(data[i])
        h.accuracy.append(accuracy[i])
        if m.shadow is not None:
            h.ema_loss.append(loss[p + i])
            h.ema_accuracy.append(accuracy[p + i])
        if not (math.isfinite(loss[i]) and finite[i]):
            m.active = False
            m.stopped = (m.theta.copy(), None if m.shadow is None else m.shadow.copy())
            h.status = "diverged"
            h.diverged_epoch = epoch
            h.message = _divergence_message(h.config, epoch, loss[i])


def _divergence_message(config: Config, epoch: int, loss: float) -> str:
    what = "NaN" if np.isnan(loss) else ("infinite" if not np.isfinite(loss) else "finite")
    message = f"diverged at epoch {epoch}: the loss became {what}"
    if what == "finite":
        message = f"diverged at epoch {epoch}: the parameters became NaN or infinite"
    eps = config.optimizer_params.get("eps")
    if config.optimizer in ADAPTIVE and eps == 0:
        message += (
            f"; with optimizer.eps 0, {config.optimizer} divides by sqrt of an accumulator that is 0 "
            "wherever a gradient entry has always been 0 (0/0 = NaN): set eps > 0, e.g. 1e-7"
        )
    else:
        message += f"; try a smaller optimizer.lr (now {config.lr:g})"
    return message


def load_dataset(config: Config) -> data_mod.Dataset:
    return data_mod.load(Path(config.data_path) if config.data_path else None)
