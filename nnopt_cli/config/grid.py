"""The grid of `nnopt sweep`: `--grid KEY=VALUES` options parsed, crossed with the seeds, and every point
resolved to a checked config before anything trains.

    --grid optimizer.lr=0.001,0.01,0.1       a comma list of YAML values
    --grid optimizer.lr=1e-3:1:13log         13 log-spaced values from 1e-3 to 1, both ends included
    --grid regularizer.scale=0:0.1:5         5 evenly spaced values (ranges: 12 significant digits)
    --grid model.hidden=[16,8],[32]          commas inside brackets belong to the value

The runs are the cross product of the grids, in the order given (the last grid varies fastest), each with
every seed (`--seeds N`: the config's seed and the N − 1 after it; or `--grid seed=...`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nnopt_cli import checks
from nnopt_cli import config as config_mod
from nnopt_cli.config import Config

DEFAULT_MAX_RUNS = 10_000
_SPACED = re.compile(r"^\s*([^:]+):([^:]+):\s*(\d+)\s*(log)?\s*$")


class GridError(ValueError):
    """A grid that cannot be run (malformed, empty, too large, a point the config refuses); one line."""


@dataclass(frozen=True)
class Grid:
    """One `--grid` option: a config key and its values, in order.

    Attributes:
      texts: each value as YAML text: what `nnopt train --set KEY=TEXT` takes to give the same value (a float
        written with all its digits).
      log: the values were asked for as log-spaced (START:STOP:Nlog).
    """

    key: str
    values: tuple[Any, ...]
    texts: tuple[str, ...]
    log: bool = False

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    @property
    def labels(self) -> tuple[str, ...]:
        """Short labels for pictures and tables (3 significant digits for floats)."""
        return tuple(label(v) for v in self.values)

    def spans_decades(self) -> bool:
        """Numeric values, all positive, over a factor of 20 or more: drawn on a log axis."""
        if self.log:
            return True
        if not self.numeric or len(self.values) < 2 or min(self.values) <= 0:
            return False
        return bool(max(self.values) / min(self.values) >= 20)


def label(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return "[" + ", ".join(label(v) for v in value) + "]"
    return "null" if value is None else str(value)


def yaml_text(value: Any) -> str:
    """A value as YAML text that reads back as the same value (floats with every digit)."""
    if isinstance(value, float):
        return repr(value)
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def parse(option: str) -> Grid:
    """One `--grid KEY=VALUES` option.

    Raises:
      GridError: no `=`, a malformed key, an empty list, a value that is not YAML, a malformed range.
    """
    key, sep, text = option.partition("=")
    key = key.strip()
    shown = f"--grid {checks.excerpt(option)}"
    if not sep or not key:
        raise GridError(f"{shown}: expected KEY=VALUES, e.g. optimizer.lr=0.001,0.01,0.1 or 1e-3:1:7log")
    try:
        config_mod.parse_set(f"{key}=0")
    except config_mod.ConfigError:
        raise GridError(f"{shown}: {key!r} is not a key path like optimizer.lr") from None
    spaced = _SPACED.match(text)
    if spaced and not text.strip().startswith("["):
        return _spaced(key, shown, *spaced.groups())
    if _looks_like_range(text):
        raise GridError(
            f"{shown}: a range is written START:STOP:N (N evenly spaced values) or START:STOP:Nlog "
            f"(log-spaced), e.g. {key}=0.001:0.1:5log"
        )
    items = _split(text)
    if not items or any(not item.strip() for item in items):
        raise GridError(f"{shown}: an empty value; give a comma list of values or START:STOP:N")
    values = []
    for item in items:
        try:
            values.append(_number(config_mod.parse_set(f"{key}={item}")[1]))
        except config_mod.ConfigError as exc:
            raise GridError(f"{shown}: {str(exc).partition(': ')[2]}") from None
    texts = tuple(
        yaml_text(v) if isinstance(v, float) else item.strip() for v, item in zip(values, items, strict=True)
    )
    _refuse_repeats(shown, values, texts)
    return Grid(key, tuple(values), texts)


def _refuse_repeats(shown: str, values: Sequence[Any], texts: Sequence[str], ranged: bool = False) -> None:
    """A value given twice would make one cell of twice the seeds (two identical runs): refused. Numbers are
    compared as numbers (1 and 1.0 are one value), anything else by type and YAML text."""
    first: dict[tuple[Any, ...], int] = {}
    for j, value in enumerate(values):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        same = ("number", float(value)) if number else (type(value).__name__, yaml_text(value))
        i = first.setdefault(same, j)
        if i != j:
            hint = " (the range's values rounded to 12 significant digits; ask for fewer)" if ranged else ""
            raise GridError(
                f"{shown}: the value {texts[j]} is given twice (values {i + 1} and {j + 1}){hint}; give each "
                "value once (--seeds N repeats a cell)"
            )


def _looks_like_range(text: str) -> bool:
    """START:STOP (no count) or START:STOP:N with something off: numbers joined by colons."""
    parts = text.split(":")
    if not 2 <= len(parts) <= 3 or "," in text:
        return False
    try:
        float(parts[0]), float(parts[1])
    except ValueError:
        return False
    return True


def _number(value: Any) -> Any:
    """YAML reads 1e-3 (no dot) as text; a config takes it as the number, and so does the grid."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


def _split(text: str) -> list[str]:
    """Split a comma list, keeping commas inside brackets or quotes with their value."""
    items: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(ch)
    items.append("".join(current))
    return [] if items == [""] else items


def _spaced(key: str, shown: str, start_text: str, stop_text: str, count: str, log: str | None) -> Grid:
    try:
        start, stop = float(start_text), float(stop_text)
    except ValueError:
        raise GridError(f"{shown}: START and STOP of START:STOP:N must be numbers") from None
    n = int(count)
    if n < 1:
        raise GridError(f"{shown}: N of START:STOP:N must be at least 1")
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise GridError(f"{shown}: START and STOP must be finite")
    if log:
        if start <= 0 or stop <= 0:
            raise GridError(f"{shown}: a log-spaced range needs START and STOP > 0")
        values = np.geomspace(start, stop, n) if n > 1 else np.array([start])
    else:
        values = np.linspace(start, stop, n)
    whole = _is_int(start_text) and _is_int(stop_text) and not log and np.all(values == np.round(values))
    # 12 significant digits: 0.075, not linspace's 0.07500000000000001
    out: tuple[Any, ...] = (
        tuple(int(v) for v in values) if whole else tuple(float(f"{v:.12g}") for v in values)
    )
    texts = tuple(yaml_text(v) for v in out)
    _refuse_repeats(shown, out, texts, ranged=True)
    return Grid(key, out, texts, log=bool(log))


def _is_int(text: str) -> bool:
    return re.fullmatch(r"\s*[+-]?\d+\s*", text) is not None


@dataclass(frozen=True)
class Point:
    """One run of the grid: its position, its grid values (without the seed), its seed and config."""

    index: int
    values: tuple[Any, ...]
    seed: int
    config: Config


@dataclass(frozen=True)
class Plan:
    """Every run of a sweep, resolved and checked.

    Attributes:
      grids: the grid keys and values, seed excluded.
      seeds: the seeds every grid cell runs with.
      points: the cross product, cells in grid order, each with every seed.
      dropped: the keys of the file or a --set that some runs drop because a grid value switches them off
        (adam.yaml's beta1 where optimizer.name is sgd): {key: {"value": ..., "runs": count}}.
      base_dropped: the keys of the file or a --set that have no effect on `base` itself, with their values
        (a grid value switches them on): with base.to_dict(), what resolves every run again.
    """

    config_file: str
    sets: tuple[str, ...]
    base: Config
    grids: tuple[Grid, ...]
    seeds: tuple[int, ...]
    points: tuple[Point, ...]
    dropped: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_dropped: dict[str, Any] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return math.prod(len(g.values) for g in self.grids)


def plan(
    config_file: str | Path,
    options: Sequence[str],
    *,
    sets: Sequence[str] = (),
    seeds: int | None = None,
    max_runs: int = DEFAULT_MAX_RUNS,
) -> Plan:
    """Parse the grids, cross them with the seeds and resolve every point, refusing the first that fails.

    Raises:
      GridError, config.ConfigError: one line naming the option, the value and what is allowed.
    """
    if not options:
        raise GridError("sweep: give at least one --grid KEY=VALUES, e.g. --grid optimizer.lr=0.001,0.01,0.1")
    grids = [parse(o) for o in options]
    keys = [g.key for g in grids]
    for key in keys:
        if keys.count(key) > 1:
            raise GridError(f"--grid {key}: given twice; put all its values in one --grid")
        if any(s.partition("=")[0].strip() == key for s in sets):
            raise GridError(f"--grid {key}: also fixed by --set {key}; use one of them")
    template = config_mod.Template(config_file, tuple(sets))
    base = template.base
    if base.model_type not in ("mlp", "surface"):
        raise GridError(f"{config_file}: model.type must be mlp or surface to sweep")
    seed_grid = [g for g in grids if g.key == "seed"]
    grids = [g for g in grids if g.key != "seed"]
    if seed_grid and seeds is not None:
        raise GridError("--grid seed and --seeds: use one of them")
    if not grids:
        raise GridError("sweep: give at least one --grid besides seed (a sweep over seeds alone is compare)")
    if seed_grid:
        seed_values = list(seed_grid[0].values)
        for s in seed_values:
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise GridError(f"--grid seed: seeds must be integers >= 0, got {checks.excerpt(s)}")
    else:
        seed_values = [base.seed + s for s in range(seeds if seeds is not None else 1)]
    total = math.prod(len(g.values) for g in grids) * len(seed_values)
    if total > max_runs:
        sizes = " × ".join(str(len(g.values)) for g in grids)
        raise GridError(
            f"sweep: {sizes} grid values × {len(seed_values)} seeds = {total:,} runs, more than --max-runs "
            f"{max_runs:,}; raise --max-runs or shrink the grid"
        )
    points: list[Point] = []
    dropped: dict[str, dict[str, Any]] = {}
    never: dict[str, str] | None = None  # the keys given that have no effect on any run so far, and why
    for values in itertools.product(*(range(len(g.values)) for g in grids)):
        chosen = {g.key: g.values[i] for g, i in zip(grids, values, strict=True)}
        shown = {g.key: f"--grid {g.key}={g.texts[i]}" for g, i in zip(grids, values, strict=True)}
        for seed in seed_values:
            try:
                config, gone, inert = template.variant_dropping(
                    {**chosen, "seed": seed}, {**shown, "seed": f"seed {seed}"}
                )
            except config_mod.ConfigError as exc:
                message = str(exc)
                if not message.startswith(("--grid", "seed ")):
                    where = ", ".join(f"{k}={yaml_text(v)}" for k, v in chosen.items())
                    message = f"grid point {where}: {message}"
                raise GridError(message) from None
            if config.model_type != base.model_type:
                what = "networks" if base.model_type == "mlp" else "paths on a surface"
                raise GridError(
                    f"{shown.get('model.type', 'model.type')}: a sweep's runs are all {what} (model.type "
                    f"{base.model_type}), as its config's are"
                )
            never = dict(inert) if never is None else {k: r for k, r in never.items() if k in inert}
            for key, value in gone.items():
                item = dropped.setdefault(key, {"value": value, "runs": 0})
                item["runs"] += 1
            point_values = tuple(chosen[g.key] for g in grids)
            points.append(Point(len(points), point_values, seed, config))
    refuse_unused(never or {}, dropped, grids, template)
    grid_keys = {g.key for g in grids}
    dropped = {k: v for k, v in dropped.items() if k not in grid_keys}
    return Plan(
        str(config_file),
        tuple(sets),
        base,
        tuple(grids),
        tuple(seed_values),
        tuple(points),
        dropped,
        dict(template.base_dropped),
    )


def refuse_unused(
    never: Mapping[str, str],
    dropped: Mapping[str, Any],
    grids: Sequence[Grid],
    template: config_mod.Template,
) -> None:
    """A key with no effect on any run is refused: a --grid key whatever its values (its rows would all be
    equal), a --set or file key when some run drops a value other than its default.

    Args:
      never: the keys given that have no effect on any point, with the reason (Template.variant_dropping's
        third value, kept where it holds at every point).
      dropped: the keys some point dropped (a value other than its default)."""
    grid_keys = {g.key for g in grids}
    for key, reason in never.items():
        if key in grid_keys:
            raise GridError(f"--grid {key}: {reason}")
    for key, reason in never.items():
        if key in dropped:
            raise GridError(f"{template.place(key)}: {reason}")
