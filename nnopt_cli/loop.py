"""The training loop: prepared arrays and resolved configs in, histories out. No printing, no files.

Runs that share the data, the batching, the network, the head and the number of epochs train as one
population (population.py): one forward and backward pass per batch serves all of them, and one update
path steps every row. A run alone is a population of one, which is why an entry of `nnopt compare` ends
bit for bit where `nnopt train` of the same config ends.

Learning rates and moving-average factors are computed for a block of updates at a time, so memory does
not grow with the planned number of updates.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nnopt_cli import ema, losses, mlp, optimizers, schedules
from nnopt_cli.config import Config
from nnopt_cli.data import Dataset
from nnopt_cli.population import Population, RowSpec

ADAPTIVE = ("adagrad", "rmsprop", "adam")
BLOCK_UPDATES = 1 << 16  # rates and EMA factors are tabled for about this many row-updates at a time


@dataclass(frozen=True)
class Prepared:
    """Everything a population trains on, made once before training.

    Attributes:
      net, head: the network and its output and loss.
      train: the rows trained on; test: the held-out rows, measured after every epoch, or None.
      starts: (P, n) starting parameters, one row per config.
    """

    net: mlp.MLP
    head: losses.Head
    train: Dataset
    test: Dataset | None
    starts: np.ndarray


@dataclass
class History:
    """What one run did: per-epoch metrics, the rate of every update made, final parameters."""

    config: Config
    steps_per_epoch: int
    epoch: list[int] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    data_loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    ema_loss: list[float] = field(default_factory=list)
    ema_accuracy: list[float] = field(default_factory=list)
    with_test: bool = False
    test_loss: list[float] = field(default_factory=list)  # the data loss alone, no penalty
    test_accuracy: list[float] = field(default_factory=list)
    ema_test_loss: list[float] = field(default_factory=list)
    ema_test_accuracy: list[float] = field(default_factory=list)
    lr_trace: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # the same measures before the first update ("loss", "data_loss", "accuracy", and with EMA or a test
    # split their twins, keyed as the lists above): the pictures' epoch 0. Not a row of metrics.csv, whose
    # rows are the epochs trained, 1..E.
    start: dict[str, float] = field(default_factory=dict)
    params: dict[str, np.ndarray] = field(default_factory=dict)
    params_ema: dict[str, np.ndarray] | None = None
    status: str = "running"
    diverged_epoch: int | None = None
    message: str = ""
    train_seconds: float = 0.0  # the loop time of the whole population this run trained in
    population_size: int = 1

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
        if self.with_test:
            columns["test_loss"] = self.test_loss
            columns["test_accuracy"] = self.test_accuracy
            if self.config.ema_decay is not None:
                columns["ema_test_loss"] = self.ema_test_loss
                columns["ema_test_accuracy"] = self.ema_test_accuracy
        return columns


# Called after every epoch with (epoch number 1..E, the histories so far).
EpochCallback = Callable[[int, Sequence[History]], None]


def population_key(config: Config) -> tuple[object, ...]:
    """Runs whose keys are equal can be stacked in one population."""
    return (
        config.data_key(),
        config.batch_size,
        config.shuffle,
        config.model_type,
        config.hidden,
        config.activation,
        config.leaky_alpha,
        config.output,
        config.loss,
        config.epochs,
    )


def steps_per_epoch(batch_size: int, size: int) -> int:
    return -(-size // batch_size)


RateFn = Callable[[int, int], np.ndarray]


def rate_function(config: Config, per_epoch: int) -> RateFn:
    """rates(k0, k1): the rate of updates k0 .. k1−1: the schedule at k (or at the epoch index k // per_epoch
    when schedule.unit is epoch), then Keras' legacy decay lr / (1 + decay·k)."""
    schedule = schedules.build(
        config.schedule,
        config.lr,
        seed=config.seed,
        warmup_steps=config.warmup_steps,
        **config.schedule_params,
    )

    def rates(k0: int, k1: int) -> np.ndarray:
        k = np.arange(k0, k1)
        trace = np.asarray(schedule(k if config.unit == "step" else k // per_epoch), dtype=np.float64)
        return optimizers.legacy_decay(trace, config.lr_decay, k0) if config.lr_decay else trace

    return rates


def learning_rates(config: Config, total_steps: int, per_epoch: int) -> np.ndarray:
    """The rate of every update k = 0 .. total_steps − 1 of a run (for drawing a schedule)."""
    return rate_function(config, per_epoch)(0, total_steps)


def row_spec(config: Config) -> RowSpec:
    return RowSpec(
        optimizer=config.optimizer,
        hparams=config.optimizer_params,
        regularizer=config.regularizer,
        reg_scale=config.reg_scale,
        ema=config.ema_decay is not None,
    )


@dataclass
class _Row:
    """The bookkeeping of one run inside the loop (internal order)."""

    history: History
    rates: RateFn
    ema_decay: float | None
    active: bool = True
    stopped: tuple[np.ndarray, np.ndarray | None] | None = None  # where a run that stopped early stopped
    lr_blocks: list[np.ndarray] = field(default_factory=list)


def run(
    configs: Sequence[Config],
    prepared: Prepared,
    *,
    on_epoch: EpochCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[History]:
    """Train the runs of `configs` (equal `population_key`) together.

    Args:
      should_stop: asked after every update; once it says True, training stops as Ctrl-C stops it (the
        command line's answer to SIGTERM, or to a signal it holds back: no exception has to reach the loop).
    Returns:
      One History per config, in order. A run whose loss or parameters become NaN or infinite stops with
      status "diverged" and keeps the weights it stopped with; Ctrl-C stops every run with status
      "interrupted" and keeps the weights of the last whole epoch, the ones its metrics describe.
    """
    first = configs[0]
    if any(population_key(c) != population_key(first) for c in configs):
        raise ValueError("loop.run needs runs with the same data, network, loss and epochs")
    net, head = prepared.net, prepared.head
    pop = Population(prepared.starts, [row_spec(c) for c in configs], net.weight_mask())
    ordered = [configs[i] for i in pop.order]
    train, test = prepared.train, prepared.test
    per_epoch = steps_per_epoch(first.batch_size, train.size)
    epochs = first.epochs
    p = pop.size
    rows = [
        _Row(
            History(config=c, steps_per_epoch=per_epoch, population_size=p, with_test=test is not None),
            rate_function(c, per_epoch),
            c.ema_decay,
        )
        for c in ordered
    ]

    x_t = mlp.inputs_t(train.x)
    y_t = head.targets(train.labels)
    fixed_batches = None if first.shuffle else _batches(x_t, y_t, None, first.batch_size)
    shuffle_rngs = [np.random.default_rng([c.seed, 1]) for c in ordered]
    from_mlp = mlp.Backprop(net, head, pop.theta, pop.grads)
    measures = [_Measure(mlp.Forward(net, pop.values, train.x), y_t, train.labels)]
    if test is not None:
        measures.append(
            _Measure(mlp.Forward(net, pop.values, test.x), head.targets(test.labels), test.labels)
        )
    _measure_start(measures, pop, head, rows)
    block_epochs = max(1, BLOCK_UPDATES // (per_epoch * p))
    lr_block = ema_block = None
    block_start = 0
    epoch_end = pop.values.copy()
    histories = [r.history for r in rows]
    started = time.perf_counter()
    epoch = 0
    try:
        with np.errstate(all="ignore"):
            for epoch in range(1, epochs + 1):
                k = (epoch - 1) * per_epoch
                if (epoch - 1) % block_epochs == 0:
                    block_start = k
                    block_end = min(epochs, epoch - 1 + block_epochs) * per_epoch
                    lr_block, ema_block = _tables(rows, k, block_end)
                assert lr_block is not None
                batches = fixed_batches or _shuffled_batches(x_t, y_t, shuffle_rngs, first.batch_size)
                for xb, yb in batches:
                    from_mlp(xb, yb)
                    i = k - block_start
                    pop.step(lr_block[i], None if ema_block is None else ema_block[i])
                    k += 1
                    if should_stop is not None and should_stop():
                        raise KeyboardInterrupt
                _evaluate(measures, pop, head, rows, epoch, k, lr_block[k - 1 - block_start])
                np.copyto(epoch_end, pop.values)
                if on_epoch is not None:
                    on_epoch(epoch, [histories[j] for j in pop.position])
                if not any(r.active for r in rows):
                    break
    except KeyboardInterrupt:
        for i, r in enumerate(rows):
            if r.active:
                r.history.status = "interrupted"
                r.history.message = f"interrupted after {_epochs(r.history.epochs_done)} of {epochs}"
                r.active = False
                shadow = epoch_end[p + i].copy() if r.ema_decay is not None else None
                r.stopped = (epoch_end[i].copy(), shadow)
    elapsed = time.perf_counter() - started

    for i, r in enumerate(rows):
        h = r.history
        h.train_seconds = elapsed
        if h.status == "running":
            h.status = "completed"
        theta, shadow = r.stopped or (
            pop.theta[i],
            pop.shadow[i] if r.ema_decay is not None and pop.shadow is not None else None,
        )
        h.params = net.to_arrays(theta)
        if shadow is not None:
            h.params_ema = net.to_arrays(shadow)
        h.lr_trace = _rates_done(r, h.steps_done)
    return [histories[j] for j in pop.position]


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _tables(rows: list[_Row], k0: int, k1: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The rates (k1 − k0, P, 1) and, when any run keeps a moving average, the factors 1 − d (same shape) of
    updates k0 .. k1 − 1; each run's rates are also kept for its lr trace."""
    lr = np.empty((k1 - k0, len(rows), 1))
    factors = None
    for i, r in enumerate(rows):
        block = r.rates(k0, k1)
        lr[:, i, 0] = block
        r.lr_blocks.append(block)
    if any(r.ema_decay is not None for r in rows):
        factors = np.zeros_like(lr)
        for i, r in enumerate(rows):
            if r.ema_decay is not None:
                factors[:, i, 0] = ema.factors(
                    r.ema_decay, k0 + 1, k1
                )  # update k makes the global step k + 1
    return lr, factors


def _rates_done(r: _Row, steps: int) -> np.ndarray:
    trace = np.concatenate(r.lr_blocks) if r.lr_blocks else np.zeros(0)
    return trace[:steps].copy()


def _batches(
    x_t: np.ndarray, y_t: np.ndarray, order: np.ndarray | None, batch_size: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches (inputs and targets, features × batch) in data order or in `order`.

    `order` is (N,) for one order shared by every run or (P, N) for one order per run.
    """
    if order is not None:
        x_t, y_t = x_t[..., order], y_t[..., order]
        if order.ndim == 2:  # (d+1, P, N) -> (P, d+1, N)
            x_t, y_t = np.moveaxis(x_t, -2, 0), np.moveaxis(y_t, -2, 0)
    n = x_t.shape[-1]
    return [
        (
            np.ascontiguousarray(x_t[..., start : start + batch_size]),
            np.ascontiguousarray(y_t[..., start : start + batch_size]),
        )
        for start in range(0, n, batch_size)
    ]


def _shuffled_batches(
    x_t: np.ndarray, y_t: np.ndarray, rngs: list[np.random.Generator], batch_size: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    n = x_t.shape[-1]
    orders = np.stack([rng.permutation(n) for rng in rngs])
    if all(np.array_equal(orders[0], o) for o in orders[1:]):
        return _batches(x_t, y_t, orders[0], batch_size)
    return _batches(x_t, y_t, orders, batch_size)


@dataclass
class _Measure:
    """A set of points measured after every epoch (the training rows, the test rows): a forward pass bound
    to all rows of the population, the targets and the labels."""

    forward: mlp.Forward
    y_t: np.ndarray
    labels: np.ndarray

    def __call__(self, head: losses.Head) -> tuple[list[float], list[float]]:
        """The data loss and the accuracy of every row (parameters, then shadows)."""
        logits = self.forward()
        right = head.predict(logits) == self.labels
        accuracy = np.add.reduce(right, axis=1, dtype=np.float64) / self.labels.shape[0]
        return head.value(logits, self.y_t).tolist(), accuracy.tolist()


def _measure_all(
    measures: list[_Measure], pop: Population, head: losses.Head
) -> tuple[list[float], list[float], list[float], list[float], list[float]]:
    """Every row's data loss, accuracy and loss (data loss + its penalty) on the training rows, and its test
    data loss and accuracy (empty lists without a split): one forward pass over all rows per set."""
    data, accuracy = measures[0](head)
    penalty = pop.penalty(pop.theta)
    if pop.shadow is not None:
        penalty = np.concatenate([penalty, pop.penalty(pop.shadow)])
    loss = (np.array(data) + penalty).tolist()
    test_loss, test_accuracy = measures[1](head) if len(measures) > 1 else ([], [])
    return data, accuracy, loss, test_loss, test_accuracy


def _measure_start(measures: list[_Measure], pop: Population, head: losses.Head, rows: list[_Row]) -> None:
    """Every run's measures at its starting parameters, before the first update (History.start)."""
    p = pop.size
    with np.errstate(all="ignore"):
        data, accuracy, loss, test_loss, test_accuracy = _measure_all(measures, pop, head)
    for i, r in enumerate(rows):
        start = {"loss": loss[i], "data_loss": data[i], "accuracy": accuracy[i]}
        if test_loss:
            start.update(test_loss=test_loss[i], test_accuracy=test_accuracy[i])
        if r.ema_decay is not None:
            start.update(ema_loss=loss[p + i], ema_accuracy=accuracy[p + i])
            if test_loss:
                start.update(ema_test_loss=test_loss[p + i], ema_test_accuracy=test_accuracy[p + i])
        r.history.start = start


def _evaluate(
    measures: list[_Measure],
    pop: Population,
    head: losses.Head,
    rows: list[_Row],
    epoch: int,
    step: int,
    lr: np.ndarray,
) -> None:
    """Loss and accuracy of every active run (and its moving average) on the training rows and, when there
    are any, the test rows, at the end of an epoch: one forward pass over all rows per set; stops runs that
    diverged. The test loss is the data loss alone."""
    p = pop.size
    data, accuracy, loss, test_loss, test_accuracy = _measure_all(measures, pop, head)
    finite = np.all(np.isfinite(pop.theta), axis=1).tolist()
    rates = lr[:, 0].tolist()
    for i, r in enumerate(rows):
        if not r.active:
            continue
        h = r.history
        h.epoch.append(epoch)
        h.step.append(step)
        h.lr.append(rates[i])
        h.data_loss.append(data[i])
        h.loss.append(loss[i])
        diverged = not (math.isfinite(loss[i]) and finite[i])
        # the outputs of non-finite weights are NaN: their "accuracy" says nothing
        h.accuracy.append(math.nan if diverged else accuracy[i])
        if test_loss:
            h.test_loss.append(test_loss[i])
            h.test_accuracy.append(math.nan if diverged else test_accuracy[i])
        if r.ema_decay is not None:
            shadow_ok = math.isfinite(loss[p + i])
            h.ema_loss.append(loss[p + i])
            h.ema_accuracy.append(accuracy[p + i] if shadow_ok else math.nan)
            if test_loss:
                h.ema_test_loss.append(test_loss[p + i])
                h.ema_test_accuracy.append(test_accuracy[p + i] if shadow_ok else math.nan)
        if diverged:
            r.active = False
            shadow = pop.shadow[i].copy() if r.ema_decay is not None and pop.shadow is not None else None
            r.stopped = (pop.theta[i].copy(), shadow)
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
