"""`nnopt plot-lr`: learning-rate curves from schedule parameters or from a run's config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import examples, files
from nnopt_cli.config import Config
from nnopt_cli.core import schedules
from nnopt_cli.figures import plots
from nnopt_cli.store import runs

# The values of seed 001's examples, used where neither the command line nor the type sets a parameter.
PLOT_DEFAULTS: dict[str, Any] = {
    "lr": 0.5,
    "decay_steps": 10,
    "decay_rate": 0.9,
    "end_lr": 0.0001,
    "power": 1.0,
}


MAX_STEPS = 10_000_000  # the steps a curve may span: each costs a few dozen bytes in arrays, path and CSV


class PlotError(ValueError):
    """Options that do not go together; one line."""


@dataclass(frozen=True)
class LrCurve:
    label: str
    steps: np.ndarray
    rates: np.ndarray


def from_parameters(
    type: str, given: Mapping[str, Any], *, steps: int, seed: int = 0, warmup_steps: int = 0
) -> LrCurve:
    """One schedule evaluated at 0..steps-1.

    Args:
      type: a schedule type.
      given: parameters set for this curve (lr and schedule parameters); others come from PLOT_DEFAULTS,
        then from the type's own defaults. cosine_restarts takes first_decay_steps from decay_steps unless
        given.
    Raises:
      ScheduleError: its key is the option (--decay-steps) of the bad value.
    """
    type = schedules.check_type(type, key_of=option_name)
    known = schedules.SCHEDULE_PARAMS[type]
    merged = {**PLOT_DEFAULTS, **{k: v for k, v in given.items() if v is not None}}
    if "first_decay_steps" in known and "first_decay_steps" not in merged:
        merged["first_decay_steps"] = merged["decay_steps"]
    params = {k: v for k, v in merged.items() if k in known}
    lr = merged["lr"]
    schedule = schedules.make_schedule(
        type, lr, seed=seed, warmup_steps=warmup_steps, key_of=option_name, **params
    )
    k = np.arange(steps)
    label = schedules.describe(type, {**params, "warmup_steps": warmup_steps})
    if type != "piecewise_constant":
        label += f", lr0={lr:g}"
    return LrCurve(label=label, steps=k, rates=np.asarray(schedule(k), dtype=np.float64))


def option_name(name: str) -> str:
    """The plot-lr option of a schedule argument, as errors name it: decay_steps -> --decay-steps."""
    return "--" + name.replace("_", "-")


def from_config(config: Config, source: str) -> LrCurve:
    """The rate of every update the run of `config` would make."""
    from nnopt_cli.core import loop
    from nnopt_cli.experiments import experiment

    if config.model_type in ("quadratic", "surface"):  # one update per step, no data
        total, per_epoch = config.steps, 1
    else:
        dataset = experiment.load_data(config)
        per_epoch = loop.steps_per_epoch(config.batch_size, dataset.train.size)
        total = per_epoch * config.epochs
    if total > MAX_STEPS:
        key = "train.epochs" if config.model_type == "mlp" else "train.steps"
        raise PlotError(
            f"{source}: {key} {config.steps if key == 'train.steps' else config.epochs} makes {total:,} "
            f"updates; at most {MAX_STEPS:,} can be drawn (and kept in memory)"
        )
    rates = loop.learning_rates(config, total, per_epoch)
    label = f"{source}: {schedules.describe(config.schedule, config.schedule_params)}, lr0={config.lr:g}"
    if config.unit == "epoch":
        label += f", per epoch of {per_epoch} steps"
    if config.lr_decay:
        label += f", /(1 + {config.lr_decay:g}·k)"
    return LrCurve(label=label, steps=np.arange(total), rates=rates)


def write(
    curves: Sequence[LrCurve],
    *,
    png: Path,
    csv: Path | None = None,
    log: bool = False,
    unit: str = "step",
    x_axis: str = "step",
) -> None:
    """The figure (and the CSV: `step`, then one column per curve in the given order). `x_axis` "fraction"
    draws each curve over the fraction of its own length, so that schedules of different lengths compare."""
    length = max(len(c.steps) for c in curves)
    if csv is not None:
        columns: dict[str, Any] = {"step": list(range(length))}
        for i, c in enumerate(curves):
            name = c.label if c.label not in columns else f"{c.label} ({i + 1})"
            padded = np.full(length, np.nan)
            padded[: len(c.rates)] = c.rates
            columns[name] = ["" if np.isnan(v) else float(v) for v in padded]
        runs.write_csv(csv, columns)
    title = "Learning-rate schedule" if len(curves) == 1 else "Learning-rate schedules"
    xlabel = "step (update number k, from 0)" if unit == "step" else "epoch (from 0)"
    if x_axis == "fraction":
        xlabel = f"fraction of the curve's {unit}s (k / its length)"
        drawn = [plots.Curve(c.steps / max(len(c.steps), 1), c.rates, c.label) for c in curves]
    else:
        drawn = [plots.Curve(c.steps, c.rates, c.label) for c in curves]
    plots.lr_curves(
        png,
        drawn,
        title=title,
        xlabel=xlabel,
        log=log,
        whole_x=x_axis == "step",
    )


def check_log(curves: Sequence[LrCurve]) -> None:
    """A log axis cannot show a negative rate (noisy_linear_cosine's noise goes below 0): refused. (A
    warmup's first rate, 0, is left out of a log axis as the start of the ramp.)

    Raises:
      PlotError: naming the curve, its lowest rate and its step.
    """
    for c in curves:
        rates = np.asarray(c.rates, dtype=float)
        low = np.nonzero(rates < 0)[0]
        if low.size:
            k = int(low[np.argmin(rates[low])])
            raise PlotError(
                f"--log: {c.label} has {low.size} negative rate{'s' if low.size != 1 else ''} (lowest "
                f"{rates[k]:g} at step {k}), which a log axis cannot show; drop --log to see them"
            )


def check_options(type_name: str, own: Mapping[str, Any]) -> None:
    """An option given after --type TYPE must be one that TYPE uses.

    Raises:
      PlotError: naming the option and the options TYPE has.
    """
    if type_name not in schedules.SCHEDULE_TYPES:
        return  # make_schedule reports the unknown type, with the list
    known = set(schedules.SCHEDULE_PARAMS[type_name]) | {"lr", "warmup_steps"}
    if type_name == "cosine_restarts":
        known.add("decay_steps")  # stands in for first_decay_steps
    for key in own:
        if key not in known:
            allowed = ", ".join(option_name(k) for k in sorted(known))
            raise PlotError(
                f"{option_name(key)} does not apply to --type {type_name}; its options: {allowed}"
            )


def run(
    shared: Mapping[str, Any],
    groups: Sequence[tuple[str, str, Mapping[str, Any]]],
    *,
    steps: int,
    seed: int = 0,
    unit: str = "step",
    log: bool = False,
    x_axis: str = "step",
    out: Path | None = None,
    csv: Path | None = None,
    runs_root: Path = Path("runs"),
) -> tuple[Path, Path | None]:
    """Draw the curves of `nnopt plot-lr`: each group a ("type", TYPE, its options) or a ("config", FILE, {});
    the `shared` options apply to every --type curve. Writes `out` (default: a new stamped file under
    `runs_root`) and `csv` when given; returns both paths.

    Raises:
      PlotError, schedules.ScheduleError, config.ConfigError; OSError when a file cannot be written (the
      file claimed for the default name is removed).
    """
    from nnopt_cli import config as config_mod

    files.check_output(out, "--out")  # before anything is computed: a device or a folder is never replaced
    files.check_output(csv, "--csv")
    if steps > MAX_STEPS:
        raise PlotError(f"--steps {steps}: at most {MAX_STEPS:,} steps can be drawn (and kept in memory)")
    groups = list(groups) or [("type", "exponential", {})]
    from_file = [value for kind, value, _ in groups if kind == "config"]
    if shared and from_file:
        # options before the first --type apply to every curve, and a config's curve cannot take them
        given = ", ".join(option_name(k) for k in shared)
        raise PlotError(
            f"{given} before --config {from_file[0]}: a config's schedule comes from the file; "
            "write schedule options after the --type they belong to"
        )
    curves = []
    for kind, value, own in groups:
        if kind == "config":
            file = examples.resolve(value)  # a file, or the name of a shipped example
            label = Path(value).name if file == Path(value) else value  # an example by its name
            curves.append(from_config(config_mod.load(file), label))
            continue
        check_options(value, own)
        merged = {**shared, **own}
        warmup = merged.pop("warmup_steps", None) or 0
        if value == "piecewise_constant" and (
            merged.get("boundaries") is None or merged.get("values") is None
        ):
            raise PlotError(
                "--type piecewise_constant needs --boundaries and --values, "
                "e.g. --boundaries 50,120 --values 0.1,0.05,0.01"
            )
        curves.append(from_parameters(value, merged, steps=steps, seed=seed, warmup_steps=warmup))
    if log:
        check_log(curves)
    for target in (out, csv):
        if target is not None and not target.parent.exists():
            raise PlotError(f"{target}: the folder {target.parent} does not exist")
    claimed = out is None
    if out is None:
        first = groups[0][1] if groups[0][0] == "type" else Path(groups[0][1]).stem
        out = runs.new_file(runs_root, f"lr-{first}", ".png")
    try:
        write(curves, png=out, csv=csv, log=log, unit=unit, x_axis=x_axis)
    except BaseException:  # a full disk, Ctrl-C: no empty file left holding the name
        if claimed:  # the empty file that held the name
            out.unlink(missing_ok=True)
        raise
    return out, csv
