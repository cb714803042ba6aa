"""The training loop: prepared arrays and resolved configs in, histories out. No printing, no files.

Runs that share the data, the batching, the network, the head and the number of epochs train as one
population (population.py): one forward and backward pass per batch serves all of them, and one update
path steps every row. A run alone is a population of one, which is why an entry of `nnopt compare` ends
bit for bit where `nnopt train` of the same config ends.

Learning rates and moving-average factors are computed for a block of updates at a time, so memory does
not grow with the planned number of updates; so is the loss of every mini-batch (History.batch_loss).

A run can continue where another stopped (`Start`, which resume.py reads from a run folder): with the
other's weights, optimizer state, moving average, shuffling generator and history, and the rates and
factors tabled from its global step on, it ends bit for bit where one uninterrupted run ends.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nnopt_cli import checks
from nnopt_cli.core import ema, layerstats, losses, mlp, optimizers, schedules
from nnopt_cli.core.population import Population, RowSpec
from nnopt_cli.keys import Key, only

if TYPE_CHECKING:
    from nnopt_cli.config import Config
    from nnopt_cli.data import Dataset


BLOCK_UPDATES = 1 << 16  # rates and EMA factors are tabled for about this many row-updates at a time
# bytes of batch logits (and, under a weight penalty, of parameters) kept until their losses are computed
TRACE_BYTES = 1 << 21
# the per-epoch lists of a History, as metrics.csv has them (a run without EMA or a test split leaves some
# empty)
METRICS = (
    "epoch",
    "step",
    "lr",
    "loss",
    "data_loss",
    "accuracy",
    "ema_loss",
    "ema_accuracy",
    "test_loss",
    "test_accuracy",
    "ema_test_loss",
    "ema_test_accuracy",
)


@dataclass(frozen=True)
class Prepared:
    """Everything a population trains on, made once before training.

    Attributes:
      net, head: the network and its output and loss.
      train: the rows trained on; test: the held-out rows, measured after every epoch, or None.
      starts: (P, n) starting parameters, one row per config.
      data_digest: the digest of the training and test rows (data.digest), handed to every History so that
        the run folder can keep it; the loop does not read it.
    """

    net: mlp.MLP
    head: losses.Head
    train: Dataset
    test: Dataset | None
    starts: np.ndarray
    data_digest: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Checkpoint:
    """What continuing a run bit for bit needs besides its parameters and its history (a run folder's
    state.npz): the state after `epochs` epochs, `steps` updates.

    Attributes:
      moments: the optimizer's state of the run by the names of its rule (`optimizers.state_names`: m, v,
        a; Adam's step count t a 0-d array), each shaped like the flat parameters.
      shadow: (n,) the moving average of the parameters, with ema.decay; else None.
      rng_state: the shuffling generator's `bit_generator.state`, with data.shuffle; else None.
    """

    epochs: int
    steps: int
    moments: dict[str, np.ndarray]
    shadow: np.ndarray | None = None
    rng_state: Mapping[str, Any] | None = None


@dataclass
class History:
    """What one run did: per-epoch metrics, the rate and mini-batch loss of every update made, final
    parameters and the state to continue from."""

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
    # the loss of the mini-batch each update was computed on, one per update done (float64, like lr_trace):
    # the objective whose gradient the update took, at the parameters before it: the batch's data loss, from
    # the logits of the backward pass, plus the weight penalty. That is the `loss` the course's loop
    # computes on each batch and prints (seed 004: loss_mse + regularizer·loss_regularization); without a
    # regularizer, the data loss alone.
    batch_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
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
    checkpoint: Checkpoint | None = None  # the state that goes with params (the last whole epoch's)
    resumed_from: str | None = None  # the run folder this run continued, and after how many epochs
    resumed_at_epoch: int | None = None
    data_digest: dict[str, str] = field(default_factory=dict)  # the rows trained and tested on (Prepared's)
    frames: Frames | None = None  # with plot.animate: the parameters at the epochs boundary.gif shows
    # per epoch trained, a (L, 5) array: each layer's statistics, columns as layerstats.COLUMNS (NaN where a
    # fraction does not apply); layers.csv
    layer_stats: list[np.ndarray] = field(default_factory=list)

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


@dataclass
class Frames:
    """A run's parameters at the epochs its animation shows (plot.animate; `frame_epochs`).

    Attributes:
      epochs: (F,) int64, increasing: the epochs after which the parameters were copied (0: the start).
      theta: (F, n) the flat parameters after each of those epochs.
      shadow: (F, n) the moving average of the parameters then, with ema.decay; else None.
    """

    epochs: np.ndarray
    theta: np.ndarray
    shadow: np.ndarray | None = None


@dataclass
class Start:
    """Where a run continues: the flat parameters `theta` (n,) and `checkpoint` of a run after
    `checkpoint.epochs` epochs, and its history until then (the per-epoch lists, lr_trace, batch_loss and
    start; `resume.load` reads all of it from a run folder). `source` names where it came from
    (History.resumed_from)."""

    theta: np.ndarray
    checkpoint: Checkpoint
    history: History
    source: str = ""


# Called after every epoch with (epoch number 1..E, the histories so far).
EpochCallback = Callable[[int, Sequence[History]], None]


def population_key(config: Config) -> tuple[object, ...]:
    """Runs whose keys are equal can be stacked in one population."""
    return config.population_key()


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
        clip_norm=config.clip_norm,
        clip_value=config.clip_value,
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
    losses_before: np.ndarray = field(default_factory=lambda: np.zeros(0))  # batch losses of a Start


def run(
    configs: Sequence[Config],
    prepared: Prepared,
    *,
    on_epoch: EpochCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: Sequence[Start] | None = None,
    trace: bool = True,
    layers: bool = True,
) -> list[History]:
    """Train the runs of `configs` (equal `population_key`) together.

    Args:
      should_stop: asked after every update; once it says True, training stops as Ctrl-C stops it (the
        command line's answer to SIGTERM, or to a signal it holds back: no exception has to reach the loop).
      resume: one Start per config, all after the same number of epochs: each run continues from its start
        (whose theta replaces its row of prepared.starts) up to its train.epochs, and ends bit for bit where
        an uninterrupted run of that length ends. None: every run starts at epoch 0.
      trace: False leaves History.batch_loss empty; only for measuring what recording it costs
        (benchmarks/bench_trace.py).
      layers: False leaves History.layer_stats empty; only for measuring what the per-layer statistics cost
        (benchmarks/bench_layers.py).
    Returns:
      One History per config, in order. A run whose loss or parameters become NaN or infinite stops with
      status "diverged" and keeps the weights it stopped with; Ctrl-C stops every run with status
      "interrupted" and keeps the weights of the last whole epoch, the ones its metrics describe. Each
      history's checkpoint goes with the weights it keeps.
    Raises:
      ValueError: configs that cannot train together, or starts that do not fit them.
    """
    first = configs[0]
    if any(population_key(c) != population_key(first) for c in configs):
        raise ValueError("loop.run needs runs with the same data, network, loss and epochs")
    net, head = prepared.net, prepared.head
    train, test = prepared.train, prepared.test
    per_epoch = steps_per_epoch(first.batch_size, train.size)
    epochs = first.epochs
    done = 0 if resume is None else _check_resume(configs, resume, per_epoch, net.n_params, trace)
    starts = prepared.starts if resume is None else np.stack([s.theta for s in resume])
    pop = Population(starts, [row_spec(c) for c in configs], net.weight_mask())
    ordered = [configs[i] for i in pop.order]
    p = pop.size
    rows = [
        _Row(
            History(
                config=c,
                steps_per_epoch=per_epoch,
                population_size=p,
                with_test=test is not None,
                data_digest=dict(prepared.data_digest),
            ),
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
    stats = _layer_recorder(net, pop, per_epoch, train.size) if layers else None
    watch = None if stats is None else stats.watch
    measures = [_Measure(mlp.Forward(net, pop.values, train.x, watch=watch), y_t, train.labels)]
    if test is not None:
        measures.append(
            _Measure(mlp.Forward(net, pop.values, test.x), head.targets(test.labels), test.labels)
        )
    if resume is None:
        _measure_start(measures, pop, head, rows)
    else:
        _restore(pop, rows, shuffle_rngs, [resume[i] for i in pop.order])
    batch_losses = _BatchLosses(pop, head, first.batch_size, train.size) if trace else None
    block_epochs = max(1, BLOCK_UPDATES // (per_epoch * p))
    lr_block = ema_block = None
    block_start = 0
    # what an interruption keeps: the parameters, optimizer states and generators of the last whole epoch
    epoch_end = pop.values.copy()
    pop.keep_state()
    snapshots = _Snapshots(rows, pop, epochs, done) if any(c.plot_animate for c in ordered) else None
    if snapshots is not None:
        snapshots.keep(done, pop.values)
    rng_states = _rng_states(shuffle_rngs) if first.shuffle else None

    def rng_state(i: int) -> Mapping[str, Any] | None:
        return shuffle_rngs[i].bit_generator.state if first.shuffle else None

    histories = [r.history for r in rows]
    started = time.perf_counter()
    try:
        with np.errstate(all="ignore"):
            for epoch in range(done + 1, epochs + 1):
                k = (epoch - 1) * per_epoch
                if (epoch - 1 - done) % block_epochs == 0:
                    block_start = k
                    block_end = min(epochs, epoch - 1 + block_epochs) * per_epoch
                    lr_block, ema_block = _tables(rows, k, block_end)
                assert lr_block is not None
                if fixed_batches is None:
                    batches, order = _shuffled_batches(x_t, y_t, shuffle_rngs, first.batch_size)
                else:
                    batches, order = fixed_batches, None
                if batch_losses is not None:
                    batch_losses.start_epoch(y_t, order)
                for xb, yb in batches:
                    logits = from_mlp(xb, yb)
                    if batch_losses is not None:
                        batch_losses.keep(logits)
                    i = k - block_start
                    pop.step(lr_block[i], None if ema_block is None else ema_block[i])
                    k += 1
                    if should_stop is not None and should_stop():
                        raise KeyboardInterrupt
                measured = [r.active for r in rows]
                for i in _evaluate(measures, pop, head, rows, epoch, k, lr_block[k - 1 - block_start]):
                    rows[i].history.checkpoint = _checkpoint(pop, i, rows[i], rng_state(i))
                if stats is not None:
                    _record_layers(stats.end_epoch(measured), rows)
                np.copyto(epoch_end, pop.values)
                if snapshots is not None:
                    snapshots.keep(epoch, pop.values)
                pop.keep_state()
                if rng_states is not None:
                    rng_states = _rng_states(shuffle_rngs)
                if on_epoch is not None:
                    on_epoch(epoch, [histories[j] for j in pop.position])
                if not any(r.active for r in rows):
                    break
    except KeyboardInterrupt:
        for i, r in enumerate(rows):
            if r.active:
                r.history.status = "interrupted"
                r.history.message = interrupted_message(r.history.epochs_done, epochs)
                r.active = False
                shadow = epoch_end[p + i].copy() if r.ema_decay is not None else None
                r.stopped = (epoch_end[i].copy(), shadow)
                state = None if rng_states is None else rng_states[i]
                r.history.checkpoint = _checkpoint(pop, i, r, state, kept=True)
    elapsed = time.perf_counter() - started
    if stats is not None:
        with np.errstate(all="ignore"):
            _record_layers(stats.finish(), rows)
    with np.errstate(all="ignore"):
        traced = batch_losses.all() if batch_losses is not None else None

    for i, r in enumerate(rows):
        h = r.history
        h.train_seconds = elapsed
        if h.status == "running":
            h.status = "completed"
            h.checkpoint = _checkpoint(pop, i, r, rng_state(i))
        theta, shadow = r.stopped or (
            pop.theta[i],
            pop.shadow[i] if r.ema_decay is not None and pop.shadow is not None else None,
        )
        h.params = net.to_arrays(theta)
        if shadow is not None:
            h.params_ema = net.to_arrays(shadow)
        h.lr_trace = _rates_done(r, h.steps_done)
        if snapshots is not None:
            h.frames = snapshots.frames(i, h.epochs_done, theta, shadow)
        if traced is not None:
            h.batch_loss = np.concatenate([r.losses_before, traced[:, i]])[: h.steps_done]
    return [histories[j] for j in pop.position]


# --- animation snapshots (plot.animate) -------------------------------------------------------------

FRAME_STEPS = 60  # an animation shows the start and FRAME_STEPS more epochs, evenly spread


def frame_epochs(epochs: int, *, first: int = 0) -> list[int]:
    """The epochs an animation of a run of `epochs` epochs shows: epoch round(i·E/60) for i = 0, 1, ..., 60
    (halves rounded up: (i·E + 30) // 60), which are 61 distinct epochs from 0 to E when E ≥ 60, and every
    epoch 0, 1, ..., E when E < 60. A run continued from epoch `first` (resume) shows `first`, where it
    starts, then those after it."""
    if epochs < FRAME_STEPS:
        chosen = list(range(epochs + 1))
    else:
        chosen = [(i * epochs + FRAME_STEPS // 2) // FRAME_STEPS for i in range(FRAME_STEPS + 1)]
    return [first, *(e for e in chosen if e > first)]


def frame_bytes(epochs: int, n_params: int, *, ema: bool) -> int:
    """What the snapshots of one animated run take (a float64 copy of its parameters, and of their moving
    average, per frame): what the memory checks count for plot.animate."""
    return 8 * n_params * len(frame_epochs(epochs)) * (2 if ema else 1)


class _Snapshots:
    """Copies of the animated runs' rows (their parameters and, with EMA, their moving averages) after the
    epochs `frame_epochs` chooses; made only when some run of the population has plot.animate."""

    def __init__(self, rows: list[_Row], pop: Population, epochs: int, done: int) -> None:
        p = pop.size
        self.epochs = frame_epochs(epochs, first=done)
        animated = [i for i, r in enumerate(rows) if r.history.config.plot_animate]
        with_ema = [i for i in animated if rows[i].ema_decay is not None]
        self.rows = {i: j for j, i in enumerate(animated)}  # internal row -> its place in a copy
        self.shadow_of = {i: len(animated) + j for j, i in enumerate(with_ema)}
        self.take = np.array([*animated, *(p + i for i in with_ema)], dtype=np.intp)
        self.kept = np.empty((len(self.epochs), len(self.take), pop.theta.shape[1]))
        self.filled = 0

    def keep(self, epoch: int, values: np.ndarray) -> None:
        """After `epoch` (0: before the first update): a copy of the rows, when the animation shows it."""
        if self.filled < len(self.epochs) and self.epochs[self.filled] == epoch:
            np.take(values, self.take, axis=0, out=self.kept[self.filled])
            self.filled += 1

    def frames(self, i: int, done: int, theta: np.ndarray, shadow: np.ndarray | None) -> Frames | None:
        """Internal row i's frames up to the `done` epochs it kept; a run that stopped between two chosen
        epochs (diverged, interrupted) ends on the parameters it stopped with, `theta` and `shadow`."""
        if i not in self.rows:
            return None
        count = sum(1 for e in self.epochs[: self.filled] if e <= done)
        epochs = self.epochs[:count]
        j, s = self.rows[i], self.shadow_of.get(i)
        kept = self.kept[:count]
        thetas, shadows = kept[:, j], None if s is None else kept[:, s]
        if not epochs or epochs[-1] != done:
            epochs = [*epochs, done]
            thetas = np.concatenate([thetas, theta[None]])
            if shadows is not None and shadow is not None:
                shadows = np.concatenate([shadows, shadow[None]])
        return Frames(
            np.array(epochs, dtype=np.int64),
            np.array(thetas),
            None if shadows is None else np.array(shadows),
        )


def _layer_recorder(net: mlp.MLP, pop: Population, per_epoch: int, points: int) -> layerstats.Recorder:
    """The per-layer statistics of the population's rows (History.layer_stats): shown every update's gradient
    by Population.step and the hidden layers' z by the end-of-epoch forward pass on the training rows."""
    stats = layerstats.Recorder(net, pop.theta, per_epoch, points)
    pop.tap = stats.keep
    return stats


def _record_layers(ready: list[tuple[np.ndarray, list[bool]]], rows: list[_Row]) -> None:
    """Epochs' per-layer statistics (Recorder.end_epoch's, .finish's) into the history of every run measured
    at each epoch's end (those active when it began: a run that diverged in it gets its last row, as in
    metrics.csv)."""
    for found, measured in ready:
        for i, r in enumerate(rows):
            if measured[i]:
                r.history.layer_stats.append(found[i])


def _check_resume(
    configs: Sequence[Config], resume: Sequence[Start], per_epoch: int, n: int, trace: bool
) -> int:
    """The epochs the starts have done (the same for all), after checking that each fits its config."""
    if len(resume) != len(configs):
        raise ValueError(f"{len(resume)} starts for {len(configs)} runs")
    done = resume[0].checkpoint.epochs
    for c, s in zip(configs, resume, strict=True):
        point, h = s.checkpoint, s.history
        problem = ""
        if point.epochs != done:
            problem = f"after {point.epochs} epochs, another after {done}: runs continue together"
        elif done > c.epochs:
            problem = f"after {done} epochs, more than train.epochs {c.epochs}"
        elif point.steps != done * per_epoch:
            problem = f"{point.steps} updates in {done} epochs of {per_epoch}"
        elif s.theta.shape != (n,):
            problem = f"parameters of shape {s.theta.shape}, the network has ({n},)"
        elif set(point.moments) != set(optimizers.state_names(c.optimizer)):
            problem = f"optimizer state {sorted(point.moments)}, {c.optimizer} keeps "
            problem += f"{list(optimizers.state_names(c.optimizer))}"
        elif "t" in point.moments and int(point.moments["t"]) != point.steps:
            problem = f"Adam's step count {int(point.moments['t'])} after {point.steps} updates"
        elif (point.shadow is None) != (c.ema_decay is None):
            problem = "a moving average where ema.decay has none, or none where it has one"
        elif (point.rng_state is None) == c.shuffle:
            problem = "a shuffling generator where data.shuffle is off, or none where it is on"
        elif any(len(getattr(h, key)) != done for key in _ALWAYS):
            problem = f"a history of {h.epochs_done} epochs"
        elif len(h.lr_trace) < point.steps or (trace and len(h.batch_loss) < point.steps):
            problem = f"rates or batch losses of fewer than its {point.steps} updates"
        if problem:
            raise ValueError(f"loop.run: the start of {c.name} does not fit it: {problem}")
    return done


_ALWAYS = ("epoch", "step", "lr", "loss", "data_loss", "accuracy")  # the lists every run fills


def _restore(pop: Population, rows: list[_Row], rngs: list[np.random.Generator], starts: list[Start]) -> None:
    """Put each start's optimizer state, moving average, generator and history in place (internal order)."""
    for i, (r, s) in enumerate(zip(rows, starts, strict=True)):
        point, old, h = s.checkpoint, s.history, r.history
        pop.set_state(i, point.moments)
        if pop.shadow is not None:
            pop.shadow[i] = point.shadow if point.shadow is not None else s.theta
        if point.rng_state is not None:
            rngs[i].bit_generator.state = dict(point.rng_state)
        for key in METRICS:
            getattr(h, key).extend(getattr(old, key))
        h.start = dict(old.start)
        h.resumed_from, h.resumed_at_epoch = s.source or None, point.epochs
        r.lr_blocks.append(np.asarray(old.lr_trace[: point.steps], dtype=np.float64))
        r.losses_before = np.asarray(old.batch_loss[: point.steps], dtype=np.float64)
        if len(old.layer_stats) == point.epochs:
            # without them (a folder written before layers.csv) the run's statistics stay incomplete, and
            # its folder gets no layers.csv
            h.layer_stats.extend(old.layer_stats)


def _rng_states(rngs: list[np.random.Generator]) -> list[Mapping[str, Any]]:
    return [rng.bit_generator.state for rng in rngs]


def _checkpoint(
    pop: Population, i: int, r: _Row, rng_state: Mapping[str, Any] | None, *, kept: bool = False
) -> Checkpoint:
    """The state that goes with the parameters internal row i keeps: its optimizer state now or, with
    `kept`, as `Population.keep_state` last copied it (a whole epoch's); its moving average (the one it
    stopped with, if it stopped early); its generator's state, given (None without data.shuffle)."""
    h = r.history
    shadow = None
    if r.ema_decay is not None:
        shadow = r.stopped[1] if r.stopped is not None else None if pop.shadow is None else pop.shadow[i]
    return Checkpoint(
        epochs=h.epochs_done,
        steps=h.steps_done,
        moments=pop.state_of(i, kept=kept),
        shadow=None if shadow is None else np.array(shadow),
        rng_state=rng_state,
    )


class _BatchLosses:
    """The loss of the mini-batch of every update (History.batch_loss), computed a block of updates at a
    time. Per update the loop only copies the batch's logits from the backward pass and, under a weight
    penalty, the parameters the update starts from into buffers of TRACE_BYTES at most (the targets are
    the epoch's, kept once per epoch); full buffers, and the last ones, become losses in a few calls over
    all their updates (the full batches in one, the smaller last batches of the epochs in another): one or
    two copies per update instead of a dozen small NumPy calls. Each loss is computed from its own batch's
    entries alone, so a row's losses depend neither on where the blocks end nor on the other rows."""

    def __init__(self, pop: Population, head: losses.Head, batch_size: int, size: int) -> None:
        p, n = pop.theta.shape
        k = head.outputs
        self.slots = max(1, TRACE_BYTES // (8 * p * (k * batch_size + (n if pop.penalized else 0))))
        self.pop, self.head, self.batch = pop, head, batch_size
        self.per_epoch = steps_per_epoch(batch_size, size)
        self.full_batches = size // batch_size  # an epoch's batches of batch_size rows; then a smaller one
        last = size - self.full_batches * batch_size
        self.logits = np.empty((self.slots if self.full_batches else 0, p, k, batch_size))
        self.last_logits = np.empty((self.slots // self.per_epoch + 1 if last else 0, p, k, last))
        self.theta = np.empty((self.slots, p, n)) if pop.penalized else None
        self.filled = self.n_last = 0  # updates in the block, and how many of them on a smaller last batch
        # per epoch in the block: its first update in the block, that update's batch, the epoch's targets
        # by batch: (full batches, P or 1, K, B) and the last, smaller batch's (P or 1, K, rows) or None
        self.epochs: list[tuple[int, int, tuple[np.ndarray, np.ndarray | None]]] = []
        self._fixed: tuple[np.ndarray, tuple[np.ndarray, np.ndarray | None]] | None = None  # y_t's
        self.blocks: list[np.ndarray] = []  # (updates, P) losses, internal order

    def start_epoch(self, y_t: np.ndarray, order: np.ndarray | None) -> None:
        """An epoch begins, on the targets y_t (K, N) in data order or in `order` ((N,) or (P, N))."""
        if order is None:
            if self._fixed is None or self._fixed[0] is not y_t:
                self._fixed = (y_t, _by_batch(y_t, self.batch))
            targets = self._fixed[1]
        else:
            permuted = y_t[..., order]
            targets = _by_batch(permuted if order.ndim == 1 else np.moveaxis(permuted, -2, 0), self.batch)
        self.epochs.append((self.filled, 0, targets))

    def keep(self, logits: np.ndarray) -> None:
        """Record an update before it is made: its batch's logits (P, K, B)."""
        j = self.filled
        if logits.shape[-1] == self.batch:
            self.logits[j - self.n_last] = logits
        else:
            self.last_logits[self.n_last] = logits
            self.n_last += 1
        if self.theta is not None:
            self.theta[j] = self.pop.theta
        self.filled = j + 1
        if j + 1 == self.slots:
            self._flush()

    def _flush(self) -> None:
        m = self.filled
        if not m:
            return
        batch = (self.epochs[0][1] + np.arange(m)) % self.per_epoch  # each update's batch in its epoch
        last = batch == self.full_batches  # the smaller last batches (none when every batch is full)
        fixed = self.epochs[0][2]
        if all(targets is fixed for _, _, targets in self.epochs):  # data order: the same every epoch
            y, y_last = fixed[0][batch[~last]], None if fixed[1] is None else fixed[1][None]
        else:
            y, y_last = self._shuffled_targets(m)
        values = np.empty((m, self.logits.shape[1]))
        values[~last] = self.head.value(self.logits[: m - self.n_last], y)
        if self.n_last:
            assert y_last is not None
            values[last] = self.head.value(self.last_logits[: self.n_last], y_last)
        if self.theta is not None:
            values += self.pop.penalties(self.theta[:m])
        self.blocks.append(values)
        first, b, current = self.epochs[-1]
        following = b + m - first  # the batch of the epoch under way that the next update is made on
        self.epochs = [(0, following, current)] if following < self.per_epoch else []
        self.filled = self.n_last = 0

    def _shuffled_targets(self, m: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The targets of the block's full batches and of its smaller last batches, epoch by epoch."""
        full_shape, last_shape = self.logits.shape[1:], self.last_logits.shape[1:]
        fulls, lasts = [], []
        ends = [first for first, _, _ in self.epochs[1:]] + [m]
        for (first, b, (full, smaller)), end in zip(self.epochs, ends, strict=True):
            stop = b + end - first
            upto = min(stop, self.full_batches)
            fulls.append(np.broadcast_to(full[b:upto], (max(upto - b, 0), *full_shape)))
            if smaller is not None and b <= self.full_batches < stop:
                lasts.append(np.broadcast_to(smaller, last_shape))
        return np.concatenate(fulls), np.stack(lasts) if lasts else None

    def all(self) -> np.ndarray:
        """(updates recorded, P): the loss of every update's batch, internal order."""
        self._flush()
        return np.concatenate(self.blocks) if self.blocks else np.zeros((0, self.logits.shape[1]))


def _by_batch(y_t: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray | None]:
    """An epoch's targets (K, N) or (P, K, N) batch by batch: the full batches' (N // B, 1 or P, K, B) and
    the smaller last batch's (1 or P, K, N mod B), or None when N is a multiple of B."""
    y = y_t if y_t.ndim == 3 else y_t[None]
    p, k, n = y.shape
    q = n // batch_size
    full = y[..., : q * batch_size].reshape(p, k, q, batch_size).transpose(2, 0, 1, 3)
    return full, (y[..., q * batch_size :] if n % batch_size else None)


def interrupted_message(done: int, planned: int) -> str:
    """What an interrupted run says: "interrupted after 3 epochs of 800"."""
    return f"interrupted after {done} epoch{'' if done == 1 else 's'} of {planned}"


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
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """An epoch's batches in a new order per run, and the order: (N,) when every run drew the same one,
    else (P, N)."""
    n = x_t.shape[-1]
    orders = np.stack([rng.permutation(n) for rng in rngs])
    order = orders[0] if all(np.array_equal(orders[0], o) for o in orders[1:]) else orders
    return _batches(x_t, y_t, order, batch_size), order


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
) -> list[int]:
    """Loss and accuracy of every active run (and its moving average) on the training rows and, when there
    are any, the test rows, at the end of an epoch: one forward pass over all rows per set; stops runs that
    diverged, and returns their internal rows. The test loss is the data loss alone."""
    p = pop.size
    diverged_now = []
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
            h.message = divergence_message(
                h.config, epoch, loss[i], lr=rates[i], start_loss=h.start.get("loss", 0.0)
            )
            diverged_now.append(i)
    return diverged_now


# the schedule keys that let each type raise the rate above optimizer.lr, and the values that never do (the
# other types, with their checked ranges, never raise it)
_GROWTH = {
    "exponential": (("decay_rate",), "decay_rate 1 or less"),
    "polynomial": (("end_lr",), "end_lr at most optimizer.lr"),
    "cosine_restarts": (("m_mul",), "m_mul 1 or less"),
    "linear_cosine": (("alpha", "beta"), "alpha and beta 0"),
    "noisy_linear_cosine": (("alpha", "beta", "initial_variance"), "alpha, beta and initial_variance 0"),
}


def divergence_message(config: Config, epoch: int, loss: float, *, lr: float, start_loss: float) -> str:
    """Why a run diverged and what to change.

    Args:
      lr: the rate of the last update before the divergence (the rate the run had reached).
      start_loss: the loss at the starting weights, before any update: when it is not finite already, no
        rate is to blame, and the message points at the data's scale.
    """
    what = "NaN" if np.isnan(loss) else ("infinite" if not np.isfinite(loss) else "finite")
    message = f"diverged at epoch {epoch}: the loss became {what}"
    if what == "finite":
        message = f"diverged at epoch {epoch}: the parameters became NaN or infinite"
    if not math.isfinite(start_loss):
        at_start = "NaN" if math.isnan(start_loss) else "infinite"
        return (
            f"diverged at epoch {epoch}: the loss was already {at_start} at the starting weights, before any "
            "update, so no learning rate is to blame: look at the data's scale (inputs so large that the "
            "network's outputs overflow; standardize the input columns) or at model.init_from"
        )
    eps = config.optimizer_params.get("eps")
    if eps == 0:  # the rules with an eps divide by a running size of g, which eps keeps off 0
        size = (
            "the running maximum of |g|" if config.optimizer == "adamax" else "sqrt of an accumulator of g²"
        )
        message += (
            f"; with optimizer.eps 0, {config.optimizer} divides by {size}, which is 0 "
            "wherever a gradient entry has always been 0 (0/0 = NaN): set eps > 0, e.g. 1e-7"
        )
    else:
        message += f" at rate {lr:g}; " + (
            scheduled_rate_cause(config, lr) or f"try a smaller optimizer.lr (now {config.lr:g})"
        )
    return message


def scheduled_rate_cause(config: Config, lr: float) -> str | None:
    """What to change when a run diverged at rate `lr` that its schedule, not optimizer.lr, set: the
    values of a piecewise_constant schedule, or the growth of a schedule that raised the rate above
    optimizer.lr. None when optimizer.lr is the rate to lower."""
    if config.schedule == "piecewise_constant":
        values = ", ".join(f"{v:g}" for v in config.schedule_params["values"])
        return f"try smaller schedule.values (now {values})"
    if lr <= config.lr * (1 + 1e-9):
        return None
    keys, never = _GROWTH.get(config.schedule, ((), "a schedule that does not grow"))
    now = ", ".join(f"schedule.{k} {config.schedule_params[k]:g}" for k in keys)
    return (
        f"the {config.schedule} schedule had grown it from optimizer.lr {config.lr:g}"
        f"{f' ({now})' if now else ''}: the growth is the cause; make the schedule grow the rate less "
        f"({never} never grows it)"
    )


# --- config keys ---------------------------------------------------------------------------------

KEYS: tuple[Key, ...] = (
    Key(
        "train.epochs",
        800,
        lambda v: checks.integer(v, "train.epochs", low=1),
        (only("model.type", "mlp"),),
        shape=True,
    ),
    Key(
        "train.steps",
        40,
        lambda v: checks.integer(v, "train.steps", low=1),
        (only("model.type", "quadratic", "surface"),),
    ),
    Key(
        "train.log_every",
        100,
        lambda v: checks.integer(v, "train.log_every", low=1),
        (only("model.type", "mlp"),),
    ),
)
"""The length of training: epochs for a network, steps for the one-parameter toy and a surface."""
