"""What a run's and a comparison's pictures show: histories and arrays in, figures (plots.py) out.

Nothing here runs the model: the network's decisions arrive as arrays (experiment.run_view: the score over a
plane of two inputs, the confusion matrices). The figures of a folder are independent jobs, so they can be
drawn in any order or process.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from nnopt_cli import workers as worker_processes
from nnopt_cli.core import schedules
from nnopt_cli.core.loop import History
from nnopt_cli.core.quadratic import QuadraticHistory
from nnopt_cli.core.surface import SurfaceHistory
from nnopt_cli.data import Dataset
from nnopt_cli.figures import animation, layersplot, plots, surfaceplot

COMPARE_PNG = "compare.png"  # a comparison's pictures, beside its entry folders
BOUNDARIES_PNG = "boundaries.png"


@dataclass(frozen=True)
class Plane:
    """The plane a boundary picture spans: two inputs, their grid, and where the other inputs are held."""

    features: tuple[int, int]
    xs: np.ndarray  # (G,) grid coordinates of the first input
    ys: np.ndarray  # (G,) of the second
    held: np.ndarray  # (d,) the value of every input off the plane: its training mean
    names: tuple[str, str]
    note: str  # what the picture holds fixed, "" for two inputs


@dataclass(frozen=True)
class Animation:
    """What boundary.gif shows: the network's decisions over the plane after each of its frame epochs
    (loop.frame_epochs), as RunView.score has them for the final parameters.

    Attributes:
      epochs: (F,) the epoch of each frame, from 0 (the start) to the last epoch the run did.
      scores: (F, K', G, G) the score over the plane in each frame; ema_scores: the moving average's, or
        None.
    """

    epochs: np.ndarray
    scores: np.ndarray
    ema_scores: np.ndarray | None


@dataclass(frozen=True)
class RunView:
    """What a run's pictures show besides its history, as arrays: its decisions over a plane of two inputs
    (None with a single input), the data, and its confusion matrices."""

    plane: Plane | None
    score: np.ndarray | None
    ema_score: np.ndarray | None
    train: Dataset
    test: Dataset | None
    confusion_train: np.ndarray
    confusion_test: np.ndarray | None
    animation: Animation | None = None  # with plot.animate: the decisions at each frame's epoch


def describe_optimizer(config: Any) -> str:
    """A short label of the optimizer and its hyperparameters, e.g. 'adam lr=0.01 beta1=0.9 ...'."""
    params = " ".join(f"{k}={_short(v)}" for k, v in config.optimizer_params.items())
    decay = f" decay={_short(config.lr_decay)}" if config.lr_decay else ""
    for key in ("clip_norm", "clip_value"):
        value = getattr(config, key, None)
        params += f" {key}={_short(value)}" if value is not None else ""
    return f"{config.optimizer} lr={_short(config.lr)}{decay}" + (
        f" {params.strip()}" if params.strip() else ""
    )


def describe_run(config: Any) -> str:
    """Optimizer, schedule, regularizer and EMA in one line, for titles."""
    parts = [describe_optimizer(config)]
    if config.schedule != "constant":
        parts.append(schedules.describe(config.schedule, config.schedule_params))
    if config.regularizer != "none" and config.reg_scale > 0:
        parts.append(f"{config.regularizer} scale={_short(config.reg_scale)}")
    if config.ema_decay is not None:
        parts.append(f"EMA decay={_short(config.ema_decay)}")
    return ", ".join(parts)


def describe_network(config: Any) -> str:
    """'hidden 11 relu, linear output, mse': the hidden layers' widths and activation, and the head."""
    if not config.hidden:
        return f"no hidden layer, {config.output} output, {config.loss}"
    hidden = "-".join(map(str, config.hidden))
    return f"hidden {hidden} {config.activation}, {config.output} output, {config.loss}"


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def score_label(config: Any) -> str:
    """What the boundary picture's colour means for this head (two classes)."""
    one = "P(y_c = 1)" if config.data_name == "dot" else "P(class 1)"
    if config.loss == "bce":
        return f"sigmoid(output) = {one}"
    if config.loss == "ce":
        return f"softmax(logits)₁ = {one}"
    if config.output == "softmax":
        return f"softmax output₁ = {one}"
    if config.output == "sigmoid":
        return "sigmoid output ŷ"
    return "network output ŷ"


def _accuracy_text(h: History) -> str:
    if not h.accuracy:
        return "no epoch finished"
    if h.status == "diverged":
        return f"diverged at epoch {h.diverged_epoch}"
    text = f"accuracy {h.accuracy[-1]:.1%}"
    if h.with_test and h.test_accuracy:
        text = f"train {h.accuracy[-1]:.1%}, test {h.test_accuracy[-1]:.1%}"
    if h.params_ema is not None and h.ema_accuracy:
        text += f", EMA {h.ema_accuracy[-1]:.1%}"
    n = h.epochs_done
    return f"{text} after {n} epoch{'s' if n != 1 else ''}"


def class_names(config: Any, dataset: Dataset) -> tuple[str, ...]:
    """The legend's name of each class: the course's description for dot.csv, else the data's names."""
    if config.data_name == "dot":
        return ("y_c = 0", "y_c = 1 (x1² + x2² < 2)")
    if dataset.classes == ("0", "1"):
        return ("class 0", "class 1")
    return dataset.classes


def _boundary(h: History, view: RunView) -> plots.Boundary:
    where = view.plane
    assert where is not None and view.score is not None
    i, j = where.features
    test = view.test
    return plots.Boundary(
        score=view.score,
        label=f"{h.config.name}: {_accuracy_text(h)}",
        ema_score=view.ema_score,
        xs=where.xs,
        ys=where.ys,
        train_x=view.train.x[:, [i, j]],
        train_labels=view.train.labels,
        test_x=None if test is None else test.x[:, [i, j]],
        test_labels=None if test is None else test.labels,
        classes=class_names(h.config, view.train),
        axes=where.names,
    )


def titled(name: str, text: str) -> str:
    """'name: text', or the text alone when it already starts with the name ('sgd lr=0.005', not
    'sgd: sgd lr=0.005')."""
    return text if text == name or text.startswith(f"{name} ") else f"{name}: {text}"


def _series(h: History, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and values of one measure, from epoch 0 (before the first update) when it was measured."""
    values = getattr(h, key)
    if key in h.start:
        return np.arange(len(values) + 1, dtype=float), np.asarray([h.start[key], *values], dtype=float)
    return np.asarray(h.epoch, dtype=float), np.asarray(values, dtype=float)


BATCH_LABEL = "loss of each mini-batch (before its update)"
# the loss curve's blue (C0), pale: it stays behind the per-epoch curves and still shows in the legend
BATCH_COLOR = "#a3c8e8"


def _batch_curve(h: History) -> plots.Curve:
    """The loss of every update's mini-batch, faint and thin under the per-epoch curves, at the update's
    place in its epoch: update i ends epoch position (i + 1)/steps_per_epoch, so an epoch's last update
    sits on that epoch's point."""
    x = np.arange(1, len(h.batch_loss) + 1) / max(h.steps_per_epoch, 1)
    return plots.Curve(x, h.batch_loss, BATCH_LABEL, color=BATCH_COLOR, width=0.7, zorder=1)


def draw_loss(folder: Path, h: History) -> None:
    config = h.config
    blew_up = float(h.diverged_epoch) if h.diverged_epoch is not None else None
    reg = config.regularizer != "none" and config.reg_scale > 0
    loss_label = "loss (data loss + regularization)" if reg else f"loss ({config.loss})"
    if h.with_test:
        loss_label = f"training {loss_label}"
    loss_curves = [plots.Curve(*_series(h, "loss"), loss_label, color="C0", diverged_at=blew_up)]
    if len(h.batch_loss):
        loss_curves.append(_batch_curve(h))
    if reg:
        # with a test split the dashes are the test curves, so the training data loss is dotted
        style = ":" if h.with_test else "--"
        loss_curves.append(
            plots.Curve(*_series(h, "data_loss"), f"data loss ({config.loss})", color="C0", style=style)
        )
    acc_curves = [
        plots.Curve(
            *_series(h, "accuracy"),
            "training accuracy" if h.with_test else "accuracy",
            color="C2",
            diverged_at=blew_up,
        )
    ]
    if config.ema_decay is not None:
        loss_curves.append(plots.Curve(*_series(h, "ema_loss"), "loss of the EMA weights", color="C1"))
        acc_curves.append(plots.Curve(*_series(h, "ema_accuracy"), "accuracy of the EMA weights", color="C1"))
    if h.with_test:
        # the held-out rows: the colour of the training curve they go with, dashed
        loss_curves.append(
            plots.Curve(*_series(h, "test_loss"), f"test data loss ({config.loss})", color="C0", style="--")
        )
        acc_curves.append(plots.Curve(*_series(h, "test_accuracy"), "test accuracy", color="C2", style="--"))
        if config.ema_decay is not None:
            loss_curves.append(
                plots.Curve(
                    *_series(h, "ema_test_loss"), "test data loss, EMA weights", color="C1", style="--"
                )
            )
            acc_curves.append(
                plots.Curve(
                    *_series(h, "ema_test_accuracy"),
                    "test accuracy, EMA weights",
                    color="C1",
                    style="--",
                )
            )
    note = h.message if h.status != "completed" else ""
    title = titled(config.name, describe_run(config))
    where = "training (solid) and test rows (dashed)" if h.with_test else "the full data set"
    plots.training_curves(
        folder / "loss.png",
        title=title,
        loss=loss_curves,
        accuracy=acc_curves,
        note=note,
        measured_on=where,
        log_x=early_change(h) if getattr(config, "plot_log_x", None) is None else bool(config.plot_log_x),
        resumed_at=h.resumed_at_epoch,
    )


LONG_RUN = 1000  # epochs: a run this long may hide its first epochs in a sliver of a linear axis


def early_change(h: History) -> bool:
    """plot.log_x's default: a run of LONG_RUN epochs or more whose loss made most (80%) of its fall, on a
    log scale, within its first 5% of epochs."""
    loss = np.asarray(h.loss, dtype=float)
    if len(loss) < LONG_RUN or not np.isfinite(loss).all() or (loss <= 0).any():
        return False
    logs = np.log(loss)
    fall = logs[0] - logs.min()
    if fall <= 0:
        return False
    early = logs[0] - logs[: max(1, len(logs) // 20)].min()
    return bool(early >= 0.8 * fall)


def draw_lr(folder: Path, h: History) -> None:
    config = h.config
    steps = np.arange(len(h.lr_trace))
    title = f"{config.name}: learning rate of each update ({h.steps_per_epoch} updates per epoch)"
    schedule = schedules.describe(config.schedule, config.schedule_params)
    if config.unit == "epoch":
        schedule += ", evaluated per epoch"
    if config.lr_decay:
        schedule += f", / (1 + {config.lr_decay:g}·k)"
    curve = plots.Curve(steps, h.lr_trace, f"{schedule}, lr0={config.lr:g}")
    plots.lr_curves(folder / "lr.png", [curve], title=title)


def draw_boundary(folder: Path, h: History, view: RunView) -> None:
    assert view.plane is not None
    title = f"{describe_run(h.config)}\n{describe_network(h.config)}"
    if view.plane.note:
        title += f"\n{view.plane.note}"
    b = _diverged(h, view) if h.status == "diverged" else _boundary(h, view)
    plots.boundary(folder / "boundary.png", b, title=title, score_label=score_label(h.config))


def draw_confusion(folder: Path, h: History, view: RunView) -> None:
    matrices = [("training rows", view.confusion_train)]
    if view.confusion_test is not None:
        matrices.append(("test rows", view.confusion_test))
    n = h.epochs_done
    plots.confusion(
        folder / "confusion.png",
        matrices,
        view.train.classes,
        title=f"{h.config.name}: true and predicted classes after {n} epoch{'s' if n != 1 else ''}",
    )


class Job(NamedTuple):
    """A figure to draw: the file it writes, and a module-level function and its arguments (so that it can
    run in a worker process)."""

    file: Path
    fn: Callable[..., None]
    args: tuple[Any, ...]


def _confusion_tells(view: RunView) -> bool:
    """Whether confusion.png shows what the boundary does not: the inputs off its plane, the held-out rows'
    classes, or which of more than two classes are taken for which."""
    return view.train.x.shape[1] > 2 or view.test is not None or len(view.train.classes) > 2


def run_jobs(folder: Path, history: History, view: RunView, *, rates: bool = True) -> list[Job]:
    """A run's figures: boundary.png (with two inputs or more), loss.png, lr.png (unless `rates` is false:
    a comparison draws every entry's rates in compare.png), layers.png (the per-layer statistics) and
    confusion.png for a classification with more than two inputs (the boundary shows one plane of them
    only), a test split or more than two classes. A
    diverged run's weights decide nothing: its boundary picture shows the data and says so, and it gets no
    confusion matrix."""
    jobs: list[Job] = [Job(folder / "loss.png", draw_loss, (folder, history))]
    if rates:
        jobs.append(Job(folder / "lr.png", draw_lr, (folder, history)))
    if view.plane is not None:
        jobs.append(Job(folder / "boundary.png", draw_boundary, (folder, history, view)))
    if _confusion_tells(view) and history.status != "diverged":
        jobs.append(Job(folder / "confusion.png", draw_confusion, (folder, history, view)))
    if view.plane is not None and view.animation is not None:
        jobs.append(Job(folder / BOUNDARY_GIF, draw_boundary_gif, (folder, history, view)))
    if layersplot.drawable(history):  # per-layer statistics (layers.csv)
        described = f"{describe_network(history.config)}; {describe_run(history.config)}"
        jobs.append(Job(folder / "layers.png", layersplot.draw_layers, (folder, history, described)))
    return jobs


DIED = "the drawing process died (killed, or out of memory)"


def draw(jobs: Sequence[Job], *, workers: int | None = None) -> dict[Path, str]:
    """Draw figures, in parallel worker processes where the machine has several cores; the slowest figures
    go first, so that no worker is left alone with one at the end. A figure that fails (an exception, a
    file that cannot be written, its process killed) does not stop the others.

    matplotlib is imported and its font loaded here once, before the workers are forked, so that each
    starts drawing at once; they ignore Ctrl-C and SIGTERM (the main process decides what an interruption
    keeps) and exit if the main process is killed. Where fork is not available, or there is one core, the
    figures are drawn one after the other.

    Returns:
      The files that could not be drawn, each with why, in one line ({} when every figure was drawn).
    """
    from concurrent.futures.process import BrokenProcessPool

    ordered = sorted(jobs, key=lambda job: _COST.get(job.fn.__name__, 1.0), reverse=True)
    count = min(len(ordered), workers or os.cpu_count() or 1, 4)
    failed: dict[Path, str] = {}
    if count <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for job in ordered:
            try:
                job.fn(*job.args)
            except Exception as exc:
                failed[job.file] = _why(exc)
        return failed
    plots.warm_up()
    with worker_processes.pool(count) as pool:
        futures = [(job, pool.submit(job.fn, *job.args)) for job in ordered]
        for job, future in futures:
            try:
                future.result()
            except BrokenProcessPool:
                failed[job.file] = DIED
            except Exception as exc:
                failed[job.file] = _why(exc)
    return failed


def _why(exc: BaseException) -> str:
    """An exception in one line: an OSError as the file's problem in words, anything else by its type."""
    if isinstance(exc, OSError) and exc.strerror:
        from nnopt_cli.files import reason

        return reason(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# rough drawing cost of each figure, relative to lr.png
_COST = {
    "draw_boundaries_gif": 12.0,
    "draw_boundary_gif": 8.0,
    "draw_surface_paths_gif": 6.0,
    "draw_boundaries": 6.0,
    "draw_comparison": 4.0,
    "draw_boundary": 2.0,
    "draw_loss": 2.0,
    "draw_confusion": 1.5,
    "draw_layers": 2.5,
}


# --- comparisons ------------------------------------------------------------------------------------


def _band(series: list[np.ndarray]) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    length = min(len(s) for s in series)
    stacked = np.stack([s[:length] for s in series])
    if len(series) == 1:
        return stacked[0], None
    return stacked.mean(axis=0), (stacked.min(axis=0), stacked.max(axis=0))


def _by_name(names: Sequence[str], histories: Sequence[History]) -> dict[str, list[History]]:
    by_name: dict[str, list[History]] = {}
    for name, h in zip(names, histories, strict=True):
        by_name.setdefault(name, []).append(h)
    return by_name


def _what_is_shared(firsts: Sequence[History], seeds: int) -> str:
    """What the entries of a comparison share, as far as it is true: the network and its start (per seed
    with several seeds), the batches, the length."""

    def same(*attrs: str) -> bool:
        return len({tuple(getattr(h.config, a, None) for a in attrs) for h in firsts}) == 1

    data = ("data_name", "data_path", "data_seed", "permute_seed")
    parts = []
    if same("hidden", "activation", "output", "init", "seed", "model_type", *data):
        parts.append("same network, same start" + (" (for each seed)" if seeds > 1 else ""))
    elif same("hidden", "activation", "output", *data):
        parts.append("same network, different starts")
    else:
        parts.append("different networks or data")
    if same("batch_size", "shuffle", "seed", *data):
        parts.append("same batches")
    if not same("epochs"):
        parts.append("different lengths")
    text = ", ".join(parts)
    return text[0].upper() + text[1:]


def draw_comparison(
    folder: Path,
    names: Sequence[str],
    histories: Sequence[History],
    seeds: int,
    *,
    path: Path | None = None,
    title: str | None = None,
) -> None:
    """compare.png (or `path`): loss, accuracy and learning rate, one colour per entry (mean and band over
    seeds), from epoch 0 (the shared start). Each entry also has its own marker (and, without a test split,
    its own line style), and later entries are drawn thinner on top, so entries whose curves coincide stay
    visible."""
    by_name = _by_name(names, histories)
    with_test = any(h.with_test for h in histories)
    colors = plots.run_colors([hs[0].config.optimizer for hs in by_name.values()])
    loss_curves, acc_curves, lr_curves = [], [], []
    for i, (name, hs) in enumerate(by_name.items()):
        look = plots.entry_look(i, len(by_name), colors, solid=with_test)
        label = titled(name, describe_run(hs[0].config))
        done = [h for h in hs if h.loss]
        if not done:
            continue
        blew_up = None
        if all(h.status == "diverged" for h in done):
            blew_up = float(min(h.diverged_epoch or 0 for h in done))
            label += f" (diverged at epoch {blew_up:g})"
        elif any(h.status == "diverged" for h in done):
            # the mean and band are over the seeds that did not diverge, as every statistic over seeds is
            lost = sum(h.status == "diverged" for h in done)
            label += f" ({lost} of {len(done)} seeds diverged, not drawn)"
            done = [h for h in done if h.status != "diverged"]
        series = [_series(h, "loss") for h in done]
        epochs = series[0][0][: min(len(x) for x, _ in series)]
        loss, loss_band = _band([y for _, y in series])
        acc, acc_band = _band([_series(h, "accuracy")[1] for h in done])
        loss_curves.append(plots.Curve(epochs, loss, label, band=loss_band, diverged_at=blew_up, **look))
        acc_curves.append(plots.Curve(epochs, acc, name, band=acc_band, diverged_at=blew_up, **look))
        if done[0].with_test:  # the held-out rows, dashed in the entry's colour, out of the legend
            test_loss, _ = _band([_series(h, "test_loss")[1] for h in done])
            test_acc, _ = _band([_series(h, "test_accuracy")[1] for h in done])
            dashed = {**look, "style": "--"}
            loss_curves.append(plots.Curve(epochs, test_loss, f"_{name} test", **dashed))
            acc_curves.append(plots.Curve(epochs, test_acc, f"_{name} test", **dashed))
        lr_curves.append(plots.Curve(np.arange(len(hs[0].lr_trace)), hs[0].lr_trace, name, **look))
    spread = f"; lines: mean of {seeds} seeds, bands: min to max" if seeds > 1 else ""
    with_test = any(h.with_test for h in histories)
    plots.comparison(
        path or folder / COMPARE_PNG,
        loss=loss_curves,
        accuracy=acc_curves,
        rates=lr_curves,
        title=title
        or f"{_what_is_shared([hs[0] for hs in by_name.values()], seeds)}: {len(by_name)} entries{spread}",
        measured_on="training (solid) and test rows (dashed)" if with_test else "the full data set",
    )


def draw_boundaries(folder: Path, firsts: Sequence[tuple[History, RunView]], seeds: int) -> None:
    """boundaries.png: every entry's decision boundary (its first seed) in one grid."""
    pairs = [(h, v) for h, v in firsts if v.plane is not None]
    if not pairs:
        return
    note = pairs[0][1].plane.note if pairs[0][1].plane is not None else ""
    title = "Decision boundaries after training" + (" (first seed)" if seeds > 1 else "")
    plots.boundary_grid(
        folder / BOUNDARIES_PNG,
        [_diverged(h, view) if h.status == "diverged" else _boundary(h, view) for h, view in pairs],
        title=title + (f"; {note}" if note else ""),
        score_label=score_label(pairs[0][0].config),
    )


def _diverged(h: History, view: RunView) -> plots.Boundary:
    """A diverged entry's panel: the data, and no decisions (its weights are not finite)."""
    b = _boundary(h, view)
    return dataclasses.replace(b, score=np.full_like(b.score, np.nan), ema_score=None)


def comparison_jobs(
    folder: Path,
    names: Sequence[str],
    histories: Sequence[History],
    firsts: Sequence[tuple[History, RunView]],
    seeds: int,
) -> list[Job]:
    """compare.png from every entry's history; boundaries.png from each entry's first seed and its view."""
    jobs = [
        Job(folder / "boundaries.png", draw_boundaries, (folder, list(firsts), seeds)),
        Job(folder / "compare.png", draw_comparison, (folder, list(names), list(histories), seeds)),
    ]
    if any(v.plane is not None and v.animation is not None for _, v in firsts):
        jobs.append(Job(folder / BOUNDARIES_GIF, draw_boundaries_gif, (folder, list(firsts), seeds)))
    return jobs


# --- the boundary, animated (plot.animate) ----------------------------------------------------------

BOUNDARY_GIF = "boundary.gif"  # a run's
BOUNDARIES_GIF = "boundaries.gif"  # a comparison's, beside boundaries.png


def frame_label(h: History, epoch: int) -> str:
    """A frame's title: the run, the epoch, and the loss and accuracy after it (before the first update at
    epoch 0); a diverged run's last frame says so."""
    if h.status == "diverged" and epoch == h.diverged_epoch:
        return f"{h.config.name}: diverged at epoch {epoch}"
    text = f"{h.config.name}: epoch {epoch} of {h.config.epochs}"
    loss = h.start.get("loss") if epoch == 0 else h.loss[epoch - 1]
    accuracy = h.start.get("accuracy") if epoch == 0 else h.accuracy[epoch - 1]
    if loss is not None:
        text += f", loss {loss:.4g}"
    if accuracy is not None:
        text += f", accuracy {accuracy:.1%}"
    return text


def _panel(h: History, view: RunView, steps: np.ndarray | None = None) -> animation.Panel:
    """A run's frames as an animation panel; with `steps` (the epochs of a comparison's frames), the run's
    latest frame at or before each."""
    anim = view.animation
    assert anim is not None
    b = _diverged(h, view) if h.status == "diverged" else _boundary(h, view)
    which = np.arange(len(anim.epochs))
    if steps is not None:
        which = np.maximum(np.searchsorted(anim.epochs, steps, side="right") - 1, 0)
    return animation.Panel(
        b,
        anim.scores[which],
        None if anim.ema_scores is None else anim.ema_scores[which],
        [frame_label(h, int(anim.epochs[i])) for i in which],
    )


def draw_boundary_gif(folder: Path, h: History, view: RunView) -> None:
    """boundary.gif: boundary.png's picture at each of the run's frame epochs, the last held."""
    assert view.plane is not None
    title = f"{describe_run(h.config)}\n{describe_network(h.config)}"
    if view.plane.note:
        title += f"\n{view.plane.note}"
    animation.boundary_gif(
        folder / BOUNDARY_GIF, _panel(h, view), title=title, score_label=score_label(h.config)
    )


def draw_boundaries_gif(folder: Path, firsts: Sequence[tuple[History, RunView]], seeds: int) -> None:
    """boundaries.gif: every entry's boundary (its first seed) over training, in step: a frame per epoch any
    entry has a frame at, each entry showing its latest frame by then."""
    pairs = [(h, v) for h, v in firsts if v.plane is not None and v.animation is not None]
    if not pairs:
        return
    steps = np.unique(np.concatenate([v.animation.epochs for _, v in pairs if v.animation is not None]))
    note = pairs[0][1].plane.note if pairs[0][1].plane is not None else ""
    title = "Decision boundaries during training" + (" (first seed)" if seeds > 1 else "")
    animation.boundaries_gif(
        folder / BOUNDARIES_GIF,
        [_panel(h, v, steps) for h, v in pairs],
        title=title + (f"; {note}" if note else ""),
        score_label=score_label(pairs[0][0].config),
    )


# --- the quadratic toy ------------------------------------------------------------------------------


def _quadratic_title(config: Any) -> str:
    title = f"{config.name}: minimising (w + 1)² from w0 = {config.w0:g}"
    if config.optimizer == "sgd" and config.schedule == "constant" and not config.lr_decay:
        factor = 1 - 2 * config.lr
        title += f"; each sgd step multiplies w + 1 by 1 − 2·lr = {factor:g}"
    return title


def quadratic_jobs(folder: Path, h: QuadraticHistory) -> list[Job]:
    """The toy's figures: quadratic.png and lr.png."""
    return [
        Job(folder / "quadratic.png", draw_quadratic_path, (folder, h)),
        Job(folder / "lr.png", draw_quadratic_rates, (folder, h)),
    ]


def draw_quadratic(folder: Path, h: QuadraticHistory) -> None:
    """quadratic.png and lr.png of the toy."""
    draw_quadratic_path(folder, h)
    draw_quadratic_rates(folder, h)


def draw_quadratic_path(folder: Path, h: QuadraticHistory) -> None:
    config = h.config
    label = f"{describe_run(config)}, w0={config.w0:g}"
    plots.quadratic(
        folder / "quadratic.png",
        [(label, np.asarray(h.step), np.asarray(h.w), np.asarray(h.loss))],
        title=_quadratic_title(config),
        w0=config.w0,
    )


def draw_quadratic_rates(folder: Path, h: QuadraticHistory) -> None:
    config = h.config
    label = f"{describe_run(config)}, w0={config.w0:g}"
    plots.lr_curves(
        folder / "lr.png",
        [plots.Curve(np.asarray(h.step), np.asarray(h.lr), label)],
        title=f"{config.name}: learning rate of each update",
    )


# --- a path on a surface ----------------------------------------------------------------------------


def surface_title(config: Any) -> str:
    """What a surface run minimised, from where, and how: "rosenbrock: (1 − x)² + 100(y − x²)² from
    (−1.5, 2), 40 steps of adam lr=0.02 ..."."""
    from nnopt_cli.core import surface

    fn = surface.FUNCTIONS[config.function]
    formula = (
        fn.formula.replace("c·", f"{config.condition:g}·") if config.function == "quadratic" else fn.formula
    )
    x, y = config.start
    return f"{config.name}: {formula} from ({x:g}, {y:g}), {config.steps} steps of {describe_run(config)}"


PATHS_GIF = "paths.gif"  # a surface run's paths.png, drawn as it goes (plot.animate)


def surface_jobs(folder: Path, h: SurfaceHistory) -> list[Job]:
    """A surface run's figures: paths.png, loss.png and lr.png; with plot.animate, paths.gif (from the
    trajectory itself: every step is in it)."""
    jobs = [
        Job(folder / "paths.png", draw_surface_paths, (folder, h)),
        Job(folder / "loss.png", draw_surface_losses, (folder, h)),
        Job(folder / "lr.png", draw_surface_rates, (folder, h)),
    ]
    if h.config.plot_animate:
        jobs.append(Job(folder / PATHS_GIF, draw_surface_paths_gif, (folder, h)))
    return jobs


def _surface_label(config: Any) -> str:
    """One run's legend entry: its optimizer and rate (the title gives every setting)."""
    return f"{config.optimizer} lr={_short(config.lr)}"


def draw_surface_paths(folder: Path, h: SurfaceHistory) -> None:
    surfaceplot.paths(folder / "paths.png", [h], [_surface_label(h.config)], title=surface_title(h.config))


def draw_surface_paths_gif(folder: Path, h: SurfaceHistory) -> None:
    """paths.gif: paths.png with the path drawn as it goes, about 60 frames, the last held."""
    surfaceplot.paths_gif(folder / PATHS_GIF, [h], [_surface_label(h.config)], title=surface_title(h.config))


def draw_surface_losses(folder: Path, h: SurfaceHistory) -> None:
    surfaceplot.losses(
        folder / "loss.png", [h], [_surface_label(h.config)], title=f"{surface_title(h.config)}: the loss"
    )


def draw_surface_rates(folder: Path, h: SurfaceHistory) -> None:
    surfaceplot.rates(
        folder / "lr.png",
        [h],
        [_surface_label(h.config)],
        title=f"{h.config.name}: learning rate of each update",
    )
