"""`nnopt lr-find`: the learning-rate range test, as the ordinary training loop with an exponential schedule.

    config(s) × --grid points ──► each resolved with schedule exponential, decay_steps 1, decay_rate r,
    optimizer.lr START, for ceil(steps / batches per epoch) epochs ──► experiment.prepare, one population per
    network shape ──► loop.run ──► the first `steps` batch losses ──► smoothed, cut at the stop, suggested
    (core/lrrange.py) ──► <stamp>-lrfind-<name>/ (store/lrfinds.py)

The loop stops runs only at an epoch's end, so every test trains its planned updates and is cut at the
stopping update afterwards: the curve is the same as if training had stopped there, since no update depends
on a later one.
"""

from __future__ import annotations

import itertools
import math
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnopt_cli import config as config_mod
from nnopt_cli import examples
from nnopt_cli.config import Config, grid
from nnopt_cli.core import loop, lrrange, surface
from nnopt_cli.core.lrrange import Curve
from nnopt_cli.experiments import experiment, session
from nnopt_cli.figures import lrfindplot, report
from nnopt_cli.store import lrfinds

START, END, STEPS = 1e-7, 10.0, 100
# keys the range test sets itself: the rate and its schedule, and the length (a surface's: train.steps)
_OWN = ("optimizer.lr", "optimizer.decay", "schedule.", "train.epochs", "train.steps")


class LrFindError(ValueError):
    """Arguments the range test cannot use; one line."""


@dataclass(frozen=True)
class Test:
    """One range test: its name (the config's, and its grid values), its resolved config, and the command
    that trains its config at a chosen rate (without --lr)."""

    name: str
    config: Config
    command: tuple[str, ...]
    dropped: tuple[tuple[str, Any], ...] = ()  # keys of the file or a --set of no effect on it, with values


def range_sets(start: float, r: float, epochs: int, *, length: str = "train.epochs") -> list[str]:
    """The --set options that make a config a range test: the rate start · r^k at update k, nothing else
    changing it (no warmup, no legacy decay, counted in updates), for `epochs` epochs (`length`
    train.steps: a surface's path of that many updates)."""
    return [
        "schedule.type=exponential",
        "schedule.decay_steps=1",
        f"schedule.decay_rate={r!r}",
        "schedule.staircase=false",
        "schedule.unit=step",
        "schedule.warmup_steps=0",
        f"optimizer.lr={start!r}",
        "optimizer.decay=0",
        f"{length}={epochs}",
    ]


def _own(key: str) -> bool:
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in _OWN)


def plan(
    config_files: Sequence[Path],
    *,
    grids: Sequence[str] = (),
    sets: Sequence[str] = (),
    start: float = START,
    end: float = END,
    steps: int = STEPS,
) -> list[Test]:
    """Every range test of the command: each config file at each grid point, resolved and checked.

    Raises:
      LrFindError, lrrange.RangeError, grid.GridError, config.ConfigError, data.DataError: nothing is
        written.
    """
    if not config_files:
        raise LrFindError("missing CONFIG (a YAML file of a network or a surface); give one or more")
    r = lrrange.rate_factor(start, end, steps)
    parsed = [grid.parse(g) for g in grids]
    for option, key in [
        *(("--set", s.partition("=")[0].strip()) for s in sets),
        *(("--grid", g.key) for g in parsed),
    ]:
        if _own(key):
            raise LrFindError(
                f"{option} {key}: lr-find sets the rate, its schedule and the length itself "
                "(--start, --end, --steps)"
            )
    keys = [g.key for g in parsed]
    for key in keys:
        if keys.count(key) > 1:
            raise grid.GridError(f"--grid {key}: given twice; put all its values in one --grid")
    tests: list[Test] = []
    sizes: dict[tuple[object, ...], int] = {}
    kinds: dict[str, Path] = {}
    for given in config_files:
        file = examples.resolve(given)  # a file, or the name of a shipped example
        # a key of no effect is dropped at the points it has none and listed; refused when it has none at any
        template = config_mod.Template(file, tuple(sets))
        base = template.base
        never: dict[str, str] | None = None
        gone_somewhere: dict[str, Any] = {}
        if base.model_type not in ("mlp", "surface"):
            raise LrFindError(
                f"{file}: model.type {base.model_type}: lr-find trains a network (model.type mlp) or a "
                "path on a surface (model.type surface); the toy has no mini-batches to test rates on"
            )
        kinds.setdefault(base.model_type, Path(given))
        if len(kinds) > 1:
            raise LrFindError(
                f"{kinds['surface']} is a surface and {kinds['mlp']} a network: give range tests of one kind"
            )
        for point in itertools.product(*(range(len(g.values)) for g in parsed)):
            chosen = [f"{g.key}={g.texts[i]}" for g, i in zip(parsed, point, strict=True)]
            label = ", ".join(g.labels[i] for g, i in zip(parsed, point, strict=True))
            point_sets = (*sets, *chosen)
            config, gone, inert = template.variant_dropping(
                {g.key: g.values[i] for g, i in zip(parsed, point, strict=True)},
                {g.key: f"--grid {g.key}={g.texts[i]}" for g, i in zip(parsed, point, strict=True)},
            )
            never = dict(inert) if never is None else {k: why for k, why in never.items() if k in inert}
            gone = {k: v for k, v in gone.items() if k not in keys}
            gone_somewhere.update(gone)
            if config.plot_animate:
                raise LrFindError(
                    f"{file}: plot.animate: a range test draws no boundary, so there is nothing to animate; "
                    "nnopt train CONFIG --animate animates a run"
                )
            if config.model_type == "surface":  # one update per step: the path is the test's length
                test_sets = range_sets(start, r, steps, length="train.steps")
            else:
                if config.data_key() not in sizes:
                    sizes[config.data_key()] = experiment.load_data(config).train.size
                per_epoch = loop.steps_per_epoch(config.batch_size, sizes[config.data_key()])
                test_sets = range_sets(start, r, -(-steps // per_epoch))
            config = config_mod.load(file, (*point_sets, *test_sets), drop_all=True)
            name = " ".join(p for p in (base.name if len(config_files) > 1 or not label else "", label) if p)
            # the config as given: an example's name runs wherever nnopt is installed
            # (without a --set this test dropped: train would refuse it)
            kept_sets = [s for s in point_sets if s.partition("=")[0].strip() not in gone]
            command = ("nnopt", "train", str(given), *(x for s in kept_sets for x in ("--set", s)))
            tests.append(Test(name, config, command, tuple(gone.items())))
        grid.refuse_unused(never or {}, gone_somewhere, parsed, template)
    seen: dict[str, int] = {}
    for i, t in enumerate(tests):
        seen[t.name] = seen.get(t.name, 0) + 1
        if seen[t.name] > 1:
            tests[i] = Test(f"{t.name} ({seen[t.name]})", t.config, t.command, t.dropped)
    return tests


def dropped_keys(tests: Sequence[Test]) -> dict[str, dict[str, Any]]:
    """The keys some tests dropped because they have no effect there: {key: {"value": ..., "runs": count}}
    (as a sweep's summary.json has them)."""
    out: dict[str, dict[str, Any]] = {}
    for t in tests:
        for key, value in t.dropped:
            item = out.setdefault(key, {"value": value, "runs": 0})
            item["runs"] += 1
    return out


@dataclass(frozen=True)
class Done:
    """How the command ended: the folder (`session.Finished`), and each test with its curve (None: not
    trained, after an interruption)."""

    finished: session.Finished
    tests: list[Test]
    curves: list[Curve | None]


def run(
    config_files: Sequence[Path],
    *,
    grids: Sequence[str] = (),
    sets: Sequence[str] = (),
    start: float = START,
    end: float = END,
    steps: int = STEPS,
    runs_root: Path = Path("runs"),
    on_epoch: Callable[[int, Sequence[loop.History]], None] | None = None,
    note: Callable[[str], None] = lambda line: None,
) -> Done:
    """Run the range tests of every config and grid point, together where they share a network shape, into
    one folder `<runs_root>/<stamp>-lrfind-<name>/`.

    `note` is told, before training, which keys some tests drop because they have no effect there (those
    are also in summary.json's `dropped`).

    Raises:
      as `plan`, and experiment.SetupError (nothing written); session.WriteError (the folder removed).
    """
    started = time.perf_counter()
    tests = plan(config_files, grids=grids, sets=sets, start=start, end=end, steps=steps)
    dropped = dropped_keys(tests)
    if dropped:
        note(config_mod.dropped_line(dropped, total=len(tests), unit="range tests"))
    on_surface = tests[0].config.model_type == "surface"
    groups = [] if on_surface else experiment.prepare([t.config for t in tests])
    r = lrrange.rate_factor(start, end, steps)
    name = tests[0].config.name
    with session.filling(runs_root, lrfinds.folder_name(name)) as s:
        lrfinds.write_start(s.folder, [t.config for t in tests])
        histories: Sequence[loop.History | surface.SurfaceHistory | None]
        if on_surface:  # every test one row of one population
            histories = surface.train([t.config for t in tests], should_stop=s.stop_requested)
        else:
            histories = experiment.train_groups(groups, on_epoch=on_epoch, should_stop=s.stop_requested)
        curves = [None if h is None else curve_of(h, steps) for h in histories]
        kept = [(t, c) for t, c in zip(tests, curves, strict=True) if c is not None]
        names, done = [t.name or name for t, _ in kept], [c for _, c in kept]
        interrupted = any(h is None or h.status == "interrupted" for h in histories)
        status = "interrupted" if interrupted else "completed"
        message = ""
        if interrupted:
            message = (
                f"interrupted: {len(done)} of {len(tests)} range tests kept, up to their last whole epoch"
            )
        summary = _summary(name, status, message, tests, histories, curves, start, end, steps, r)
        # a population's runs share its loop time
        trained = histories[:1] if on_surface else [histories[g.indices[0]] for g in groups]
        summary["train_seconds"] = round(sum(h.train_seconds for h in trained if h is not None), 6)
        if done:
            lrfinds.write_table(s.folder, names, done)
        summary["total_seconds"] = round(time.perf_counter() - started, 6)
        lrfinds.write_summary(s.folder, summary)
        if done:
            s.draw(jobs(s.folder, names, done, summary))
    finished = session.Finished(s.folder, status, message, s.signum, summary, s.failure())
    return Done(finished, tests, curves)


def curve_of(history: loop.History | surface.SurfaceHistory, steps: int) -> Curve:
    """A trained run's range test: its first `steps` updates, smoothed and cut at the stop. A network's
    loss of update k is its mini-batch's (before the update); a surface's, the loss at the point the update
    starts from (row k − 1 of its path: row 0 the start)."""
    if isinstance(history, surface.SurfaceHistory):
        n = min(steps, len(history.loss))
        return lrrange.analyse(history.lr_trace[:n], history.loss[:n], planned=steps)
    n = min(steps, len(history.batch_loss))
    return lrrange.analyse(history.lr_trace[:n], history.batch_loss[:n], planned=steps)


def _reason(curve: Curve, history: loop.History | surface.SurfaceHistory, steps: int) -> str:
    if curve.stopped_at is not None:
        return curve.reason
    if len(curve.lr) < steps:
        if history.status == "diverged" and isinstance(history, surface.SurfaceHistory):
            return history.message
        if history.status == "diverged":
            return f"the weights became NaN or infinite after update {len(curve.lr) - 1}"
        return f"interrupted after {len(curve.lr)} of {steps} updates"
    return f"ran all {steps} updates without the loss blowing up: --end {curve.lr[-1]:g} may be raised"


def _summary(
    name: str,
    status: str,
    message: str,
    tests: Sequence[Test],
    histories: Sequence[loop.History | surface.SurfaceHistory | None],
    curves: Sequence[Curve | None],
    start: float,
    end: float,
    steps: int,
    r: float,
) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for t, h, c in zip(tests, histories, curves, strict=True):
        if h is None or c is None:
            continue
        entries.append(
            {
                "name": t.name or name,
                "optimizer": t.config.optimizer,
                "updates": len(c.lr),
                "stopped_at": c.stopped_at,
                "reason": _reason(c, h, steps),
                "suggestions": lrfinds.suggestions(c),
                "command": shlex.join(t.command),
            }
        )
    suggestions: dict[str, Any]
    if len(tests) == 1:
        suggestions = entries[0]["suggestions"] if entries else {"steepest": None, "minimum_div_10": None}
    else:
        suggestions = {e["name"]: e["suggestions"] for e in entries}
    return {
        "kind": "lrfind",
        "name": name,
        "model_type": tests[0].config.model_type,  # surface: the loss of an update is at its start point
        "status": status,
        "message": message,
        "start": start,
        "end": end,
        "steps": steps,
        "rate_factor": r,
        "beta": lrrange.BETA,
        "stop_factor": lrrange.DIVERGE,
        "suggestions": suggestions,
        "tests": entries,
        "dropped": dropped_keys(tests),  # keys of the file or a --set a grid point switches off
    }


def jobs(
    folder: Path, names: Sequence[str], curves: Sequence[Curve], summary: dict[str, Any]
) -> list[report.Job]:
    """lr_find.png as a drawing job (report.draw): from the curves and the summary alone, so that replot
    draws it again byte for byte."""
    tests = summary.get("tests") or []
    if len(curves) == 1:
        optimizer = tests[0].get("optimizer") if tests else None
        title = f"Learning-rate range test: {names[0]}" + (f" ({optimizer})" if optimizer else "")
    else:
        title = "Learning-rate range test: which rates each run tolerates"
    surface_test = summary.get("model_type") == "surface"
    raw = "the loss where each update starts" if surface_test else "each mini-batch's loss"
    note = (
        f"the rate grows ×{summary['rate_factor']:.4g} every update, "
        f"{summary['start']:g} → {summary['end']:g} over {summary['steps']} updates\n"
        f"faint: {raw}; bold: smoothed "
        f"(β {summary['beta']:g}, bias-corrected). Train at a suggested rate: ▼ or ●"
    )
    path = folder / lrfinds.PICTURE
    measured, raw_label = (
        ("loss before each update", "loss at the point each update starts from")
        if surface_test
        else ("mini-batch loss", "loss of each mini-batch")
    )
    optimizers = [str(t.get("optimizer")) for t in tests] if len(tests) == len(curves) else None
    args = (path, list(names), list(curves), title, note, measured, raw_label, optimizers)
    return [report.Job(path, lrfindplot.draw, args)]


def redraw(folder: Path) -> list[Path]:
    """Draw lr_find.png again from lr_find.csv and summary.json.

    Raises:
      runs.FolderError: files missing, unreadable or disagreeing.
    """
    record = lrfinds.read(folder)
    for key in ("rate_factor", "start", "end", "steps", "beta"):
        value = record.summary.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise lrfinds.FolderError(f"{folder / 'summary.json'}: {key} is not a number")
    failed = session.draw_noted(jobs(folder, record.names, record.curves, record.summary), workers=1)
    if failed:
        raise lrfinds.FolderError(session.pictures_line(folder, failed))
    return [folder / lrfinds.PICTURE]
