"""YAML config -> a validated, fully resolved `Config`, composed from the keys the components declare.

Each component declares its keys beside its code (`KEYS` in data, mlp, quadratic, surface, losses, optimizers,
schedules, regularizers, ema, loop and plots; nnopt_cli.keys): name, default, check and when the key has an
effect. This module reads them all: the defaults, `Config.to_dict()`, `data_key()` and `population_key()`.
One rule holds for every key a user sets (file, --set, --grid, a compare entry): where it has no effect, a
value other than its default is refused with the reason and what would make it count; compare and sweep may
drop it instead, for the runs that switch it off, and list it.

Every problem becomes one `ConfigError` line naming the file, the line where YAML knows it (or the --set or
--grid option that set the key, or the key it depends on), the key and what is allowed. The checks
themselves raise a `CheckError` that carries its key path as data; this module only places it. Defaults
are filled in, so `Config.to_dict()` written back as YAML reproduces the run.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from nnopt_cli import checks
from nnopt_cli import data as data_mod
from nnopt_cli.checks import CheckError
from nnopt_cli.core import ema, losses, mlp, optimizers, regularizers, schedules
from nnopt_cli.keys import Key

MAX_EXPANDED_NODES = 100_000  # YAML aliases may not blow a document up to more values than this
MAX_CONFIG_BYTES = 256 << 10  # a config a person wrote is a few KiB; pure-Python YAML reads ~100 KiB a second

RUN_KEYS: tuple[Key, ...] = (
    Key("seed", 0, lambda v: checks.integer(v, "seed", low=0)),  # weights, shuffling, schedule noise
)

MAX_NAME_BYTES = 200
"""The longest `name`: a folder is <YYYYmmdd-HHMMSS>-[sweep-]<name>[-N], within a file system's 255 bytes."""


def declared() -> tuple[Key, ...]:
    """Every config key, in the config file's order, as its component declares it (`name` aside: it
    defaults to the file's stem); with every optimizer registered now."""
    return _declared(optimizers.names())


@functools.cache
def _declared(registered: tuple[str, ...]) -> tuple[Key, ...]:
    from nnopt_cli.core import loop, quadratic, surface
    from nnopt_cli.figures import plots

    return (
        *RUN_KEYS,
        *data_mod.KEYS,
        *mlp.KEYS,
        *quadratic.KEYS,
        *surface.KEYS,
        *losses.KEYS,
        *optimizers.keys(),
        *schedules.KEYS,
        *regularizers.KEYS,
        *ema.KEYS,
        *loop.KEYS,
        *plots.KEYS,
    )


def key_paths() -> tuple[str, ...]:
    """Every key path a config, a --set or a --grid may give: `name`, then the declared keys in file order."""
    return ("name", *(k.path for k in declared()))


def by_path() -> dict[str, Key]:
    """The declared keys by their path (do not change the dict)."""
    return _by_path(optimizers.names())


@functools.cache
def _by_path(registered: tuple[str, ...]) -> dict[str, Key]:
    return {k.path: k for k in _declared(registered)}


def defaults() -> dict[str, Any]:
    """Every key with its default, nested as in the file; the settings of an optimizer or schedule only
    for the default one (sgd and constant have none)."""
    out: dict[str, Any] = {"name": None}  # the config file's stem
    for key in declared():
        if key.setting:
            continue
        section, _, name = key.path.rpartition(".")
        (out.setdefault(section, {}) if section else out)[name] = key.default
    return out


def default(path: str) -> Any:
    """The default of one key path ("optimizer.lr")."""
    return by_path()[path].default


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as PyYAML reads it, except that 1e-4 and 1E+3 are numbers (as in YAML 1.2 and JSON), not
    text: learning rates are written that way."""


_Loader.yaml_implicit_resolvers = {k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class ConfigError(ValueError):
    """A config that cannot be used; str() is one line: where, which key, what is allowed."""


@dataclass(frozen=True)
class Config:
    """A validated config with every default filled in."""

    name: str
    seed: int
    data_name: str
    data_path: str | None
    data_features: tuple[str, ...] | None
    data_label: str | None
    data_samples: int
    data_noise: float
    data_seed: int
    permute_seed: int | None
    test_size: int | float
    batch_size: int
    shuffle: bool
    model_type: str
    hidden: tuple[int, ...]  # the hidden layers' widths, input side first; () for none
    activation: str
    leaky_alpha: float
    output: str
    init: str
    init_std: float
    init_from: str | None
    w0: float
    function: str  # model.function of a surface (model.type surface)
    condition: float  # model.condition of the quadratic surface
    start: tuple[float, float]  # model.start of a surface
    loss: str
    optimizer: str
    lr: float
    lr_decay: float
    clip_norm: float | None  # the global L2 norm of g clipped to it; None: off
    clip_value: float | None  # each entry of g clipped to ±it; None: off
    optimizer_params: dict[str, Any]
    schedule: str
    unit: str
    warmup_steps: int
    schedule_params: dict[str, Any]
    regularizer: str
    reg_scale: float
    ema_decay: float | None
    epochs: int
    steps: int
    log_every: int
    plot_features: tuple[str | int, ...] | None = None
    plot_log_x: bool | None = None
    source: str = field(default="<defaults>", compare=False)  # where it was read, for `with_overrides`

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as nested plain data, in the YAML layout: every declared key, and the
        settings of the chosen optimizer and schedule."""
        out: dict[str, Any] = {"name": self.name}
        params = {"optimizer": self.optimizer_params, "schedule": self.schedule_params}
        for key in declared():
            section, _, name = key.path.rpartition(".")
            target = out.setdefault(section, {}) if section else out
            if key.setting:
                if name in params[section]:
                    target[name] = params[section][name]
                continue
            target[name] = key.show(getattr(self, key.field))
        for section in params:  # the chosen row's own order (OPTIMIZER_PARAMS, SCHEDULE_PARAMS)
            fixed = {k: v for k, v in out[section].items() if k not in params[section]}
            out[section] = {**fixed, **params[section]}
        return out

    def data_key(self) -> tuple[object, ...]:
        """What decides the data a run trains and is tested on: runs with equal keys share their data."""
        return tuple(getattr(self, k.field) for k in declared() if k.data)

    def population_key(self) -> tuple[object, ...]:
        """Runs whose keys are equal can be stacked in one population: the data and the keys that shape
        the network and the passes over the data."""
        return (self.data_key(), *(getattr(self, k.field) for k in declared() if k.shape))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)

    def with_overrides(self, sets: list[str], *, base_dir: Path | None = None) -> Config:
        """The same config with `--set KEY.PATH=VALUE` overrides applied and validated again."""
        raw = self.to_dict()
        origin = _Origin(self.source, {})
        _apply_sets(raw, sets, origin)
        return _resolve(raw, origin, default_name=self.name, base_dir=base_dir or Path.cwd())

    def replace(self, **changes: Any) -> Config:
        return replace(self, **changes)


class InertKey(CheckError):
    """A key set to a value other than its default where it has no effect; the problem is the whole reason
    ("regularizer.scale has no effect while regularizer.type is none; set regularizer.type to l1 or l2")."""


@dataclass
class _Origin:
    """Where keys came from: the file name and the line of each key path, or a --set option.

    Attributes:
      sets: each key a --set gave, with the option as written ("--set data.name=csv").
      shown: a key set by another option (a --grid value), with how to name it.
      drop: keys of no effect are dropped (recorded in `dropped`, their default used) instead of refused:
        a sweep's or a comparison's runs, where a grid value or an entry switches off a key of the file.
        With a set of key paths, only those.
      dropped: the keys dropped, with the value given.
      inert: every key given that has no effect, default or not, with the reason.
    """

    file: str
    lines: dict[str, int]
    sets: dict[str, str] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    drop: bool | frozenset[str] = False
    dropped: dict[str, Any] = field(default_factory=dict)
    inert: dict[str, str] = field(default_factory=dict)

    def may_drop(self, path: str) -> bool:
        return self.drop is True or (isinstance(self.drop, frozenset) and path in self.drop)

    def place(self, path: str) -> str:
        """The option that set `path`, or the file and line."""
        return self.option(path) or self.where(path)

    def where(self, key: str) -> str:
        probe = key.partition("[")[0]  # schedule.values[2] is on the line of schedule.values
        while probe:
            if probe in self.lines:
                return f"{self.file}, line {self.lines[probe]}"
            probe = probe.rpartition(".")[0]
        return self.file

    def option(self, path: str) -> str:
        """The option that set `path` as written, or "" when the file did."""
        return self.shown.get(path) or self.sets.get(path, "")

    def error(self, key: str, problem: str) -> ConfigError:
        path = key.partition("[")[0]
        if path in self.shown:
            return ConfigError(f"{self.shown[path]}: {problem}")
        if path in self.sets:
            return ConfigError(f"--set {key}: {problem}")
        if path and path not in self.lines:
            # a section that only a --set made (`--set a.b.c=1` makes `a`): blame that --set
            made = sorted(s for s in self.sets if s.startswith(path + "."))
            if made:
                return ConfigError(f"--set {made[0]}: {key}: {problem}")
            # a key nobody set, refused because of a key it depends on (data.path for data.name: csv):
            # blame the option that set that one
            declared_key = by_path().get(path)
            for w in declared_key.when if declared_key else ():
                if self.option(w.key):
                    return ConfigError(f"{self.option(w.key)}: {key}: {problem}")
        if not key:
            return ConfigError(f"{self.file}: {problem}")
        return ConfigError(f"{self.where(key)}: {key}: {problem}")

    def inert_error(self, key: str, problem: str) -> ConfigError:
        """A key of no effect, named by the option or the file line that set it."""
        return ConfigError(f"{self.option(key) or self.where(key)}: {problem}")


SHORTCUTS = {"train.epochs": "--epochs", "optimizer.lr": "--lr", "seed": "--seed"}
"""The options that stand for a --set of one key (`nnopt train --lr X`): an error names the option typed."""


def load(
    path: str | Path,
    sets: list[str] | tuple[str, ...] = (),
    *,
    shortcuts: Sequence[str] = (),
    name: str | None = None,
    dropped: dict[str, Any] | None = None,
    drop_all: bool = False,
) -> Config:
    """Read, override and validate a YAML config file.

    Args:
      path: the YAML file; relative paths inside it are taken relative to its folder.
      sets: `KEY.PATH=VALUE` overrides, VALUE parsed as YAML, applied after the file.
      shortcuts: overrides of the same form given by an option of SHORTCUTS (--lr X as optimizer.lr=X),
        applied after `sets`; an error names the option ("--lr nan: ...").
      name: the run name when the config has none (default: the file's stem).
      dropped: given a dict, a key of `sets` that has no effect is dropped (its default used) and written
        into it with its value, rather than refused (a comparison's entries, which a --set may not all use).
      drop_all: the file's keys of no effect are dropped too (a run folder's config.yaml written before
        such keys were refused).
    Raises:
      ConfigError: unreadable or malformed YAML, unknown key, wrong type, value out of range, a key set
        to a value other than its default where it has no effect.
    """
    raw, origin = _read(path, sets)
    _apply_shortcuts(raw, shortcuts, origin)
    if dropped is not None or drop_all:
        origin.drop = True if drop_all else frozenset(origin.sets)
    file = Path(path)
    config = _resolve(raw, origin, default_name=name or file.stem, base_dir=file.resolve().parent)
    if dropped is not None:
        dropped.update(origin.dropped)
    return config


def _read(path: str | Path, sets: list[str] | tuple[str, ...]) -> tuple[dict[str, Any], _Origin]:
    """A config file's raw data with the overrides applied, and where each key came from."""
    shown = str(path)
    try:
        with Path(path).open("rb") as f:
            content = f.read(MAX_CONFIG_BYTES + 1)
        if len(content) > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{shown}: larger than {MAX_CONFIG_BYTES >> 10:,} KiB; a config file is a few dozen lines"
            )
        text = content.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{shown}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{shown}: is a directory, not a YAML config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read: {exc}") from None
    raw, lines = parse_yaml(text, shown)
    origin = _Origin(shown, lines)
    _apply_sets(raw, list(sets), origin)
    return raw, origin


class Template:
    """A config file read once, to resolve many variants of it cheaply (the points of `nnopt sweep`'s grid).

    Args:
      path, sets, name: as `load` takes them; the file and its overrides are validated at once (`base`).
    """

    def __init__(self, path: str | Path, sets: list[str] | tuple[str, ...] = (), *, name: str | None = None):
        file = Path(path)
        self._raw, self._origin = _read(path, sets)  # read once; every variant starts from a copy
        self._name = name or file.stem
        self._base_dir = file.resolve().parent
        origin = replace(self._origin, drop=True, dropped={}, inert={})
        # keys a grid value may switch on are dropped here, not refused: the sweep checks them over its points
        self.base = _resolve(_copy(self._raw), origin, default_name=self._name, base_dir=self._base_dir)
        self.base_dropped = origin.dropped  # keys of no effect in the base: a grid value may switch them on

    def place(self, path: str) -> str:
        """Where the file or a --set gave `path`: "--set optimizer.beta1=0.95", "adam.yaml, line 7"."""
        return self._origin.place(path)

    def variant(self, values: Mapping[str, Any], shown: Mapping[str, str]) -> Config:
        """The config with each key path of `values` set to its (parsed) value.

        Args:
          shown: how an error names the option that set each key, e.g. {"optimizer.lr": "--grid
            optimizer.lr=-1"}.
        Raises:
          ConfigError: the variant is not a valid config.
        """
        return self.variant_dropping(values, shown, drop=False)[0]

    def variant_dropping(
        self, values: Mapping[str, Any], shown: Mapping[str, str], *, drop: bool = True
    ) -> tuple[Config, dict[str, Any], dict[str, str]]:
        """`variant`, with every key that has no effect on it dropped (its default used) rather than
        refused. Returns the config, the keys dropped with the values given, and every key given that has
        no effect (default or not) with the reason."""
        raw = _copy(self._raw)
        origin = _Origin(
            self._origin.file, self._origin.lines, dict(self._origin.sets), dict(shown), drop=drop
        )
        for key, value in values.items():
            _put(raw, key, value, shown.get(key, key))
        config = _resolve(raw, origin, default_name=self._name, base_dir=self._base_dir)
        return config, origin.dropped, origin.inert


def from_dict(
    raw: Mapping[str, Any],
    sets: list[str] | tuple[str, ...] = (),
    *,
    name: str = "run",
    dropped: dict[str, Any] | None = None,
    drop_all: bool = False,
) -> Config:
    """Validate a config given as plain data (used by commands that build one, and by tests); `dropped` and
    `drop_all` as `load` takes them."""
    data = _copy(raw)
    origin = _Origin("<config>", {})
    _apply_sets(data, list(sets), origin)
    if dropped is not None or drop_all:
        origin.drop = True if drop_all else frozenset(origin.sets)
    config = _resolve(data, origin, default_name=name, base_dir=Path.cwd())
    if dropped is not None:
        dropped.update(origin.dropped)
    return config


def with_values(raw: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Raw config data with each dotted key path of `values` set (a resolved config's to_dict() and the keys
    it dropped: what resolves, with drop_all, to the same runs)."""
    out = _copy(raw)
    for key, value in values.items():
        _put(out, key, value, key)
    return out


def dropped_line(dropped: Mapping[str, Mapping[str, Any]], *, total: int, unit: str = "runs") -> str:
    """One line listing the keys that some runs dropped because they have no effect there:
    "dropped where it has no effect: optimizer.beta1: 0.95 (12 of 24 runs)"; "" when none."""
    if not dropped:
        return ""
    parts = []
    for key, item in dropped.items():
        where = item.get("entries")
        count = (
            f"entries {', '.join(where)}" if where is not None else f"{item.get('runs', 0)} of {total} {unit}"
        )
        parts.append(f"{key}: {checks.excerpt(item.get('value'))} ({count})")
    return "dropped where it has no effect: " + "; ".join(parts)


# --- reading YAML ----------------------------------------------------------------------------------


def parse_yaml(text: str, shown: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The YAML mapping and the 1-based line of every key path ("optimizer.lr" -> 7).

    Raises:
      ConfigError: malformed YAML, a top level that is not a mapping, a duplicate or non-scalar key, or
        aliases that expand the document past MAX_EXPANDED_NODES values (a "billion laughs").
    """
    try:
        node, data = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise ConfigError(f"{shown}{where}: malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shown}: malformed YAML: {checks.excerpt(str(exc))}") from None
    except _Expansion as exc:
        where = f", line {exc.line}" if exc.line else ""
        key = f"{exc.key}: " if exc.key else ""
        raise ConfigError(f"{shown}{where}: {key}{exc}") from None
    except RecursionError:
        raise ConfigError(f"{shown}: malformed YAML: nested too deeply") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{shown}: the top level must be a mapping of keys (name:, optimizer:, ...)")
    lines: dict[str, int] = {}
    _collect_lines(node, "", lines, shown)
    return data, lines


class _Expansion(Exception):
    """A document whose aliases expand past MAX_EXPANDED_NODES, with the key and line that do it."""

    def __init__(self, key: str, line: int) -> None:
        super().__init__(f"YAML aliases expand this to more than {MAX_EXPANDED_NODES} values")
        self.key, self.line = key, line


def _compose(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree and the data of a one-document YAML text, the expansion checked before any data is
    built: a few hundred bytes of nested aliases stand for a billion values, and whatever walks them
    (a copy, a check, a message) would never finish."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expansion(node)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """The number of values the node stands for, aliases written out; `sizes` memoizes by node, so the
    cost is one visit per distinct node."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 1  # a node that contains itself counts once
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    sizes[id(node)] = total
    return total


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document that aliases expand past MAX_EXPANDED_NODES values, naming the deepest key whose
    value alone is too large, as written (not inside an alias). A long document without aliases is its own
    size and passes."""
    sizes: dict[int, int] = {}
    if _expanded_size(root, sizes) <= max(MAX_EXPANDED_NODES, len(sizes)):
        return
    key, line, node = "", 0, root
    while isinstance(node, yaml.MappingNode) and node.value:
        k, v = max(node.value, key=lambda kv: sizes[id(kv[1])])
        if sizes[id(v)] <= MAX_EXPANDED_NODES:
            break
        key = f"{key}.{_key_text(k)}" if key else _key_text(k)
        line, node = k.start_mark.line + 1, v
        if v.start_mark.index < k.start_mark.index:
            break  # an alias of a node written earlier: its own keys are not here
    raise _Expansion(key, line)


def _key_text(node: yaml.Node) -> str:
    text = node.value if isinstance(node, yaml.ScalarNode) else "?"
    return text if len(text) <= checks.EXCERPT_CHARS else checks.excerpt(text)


def _collect_lines(node: yaml.MappingNode, prefix: str, lines: dict[str, int], shown: str) -> None:
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConfigError(f"{shown}, line {line}: a key must be a plain name, not a list or mapping")
        key = f"{prefix}{_key_text(key_node)}"
        if key in lines:
            raise ConfigError(f"{shown}, line {line}: {key}: duplicate key (first on line {lines[key]})")
        lines[key] = line
        if isinstance(value_node, yaml.MappingNode):
            _collect_lines(value_node, key + ".", lines, shown)


def _copy(raw: Any) -> Any:
    if isinstance(raw, Mapping):
        return {k: _copy(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_copy(v) for v in raw]
    return raw


def parse_set(item: str) -> tuple[str, Any]:
    """`KEY.PATH=VALUE` -> (key path, VALUE parsed as YAML)."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", key):
        raise ConfigError(
            f"--set {checks.excerpt(item)}: expected KEY.PATH=VALUE, for example optimizer.lr=0.01"
        )
    try:
        value = _compose(text)[1] if text.strip() else None
    except (yaml.YAMLError, RecursionError):
        raise ConfigError(f"--set {key}: cannot parse the value {checks.excerpt(text)} as YAML") from None
    except _Expansion as exc:
        raise ConfigError(f"--set {key}: {exc}") from None
    if isinstance(value, dict):
        raise ConfigError(f"--set {key}: the value must be a scalar or a list, got a mapping")
    return key, value


def _apply_sets(raw: dict[str, Any], sets: list[str], origin: _Origin) -> None:
    for item in sets:
        key, value = parse_set(item)
        _put(raw, key, value, f"--set {key}")
        text = item.partition("=")[2].strip()
        origin.sets[key] = f"--set {key}={text if len(text) <= checks.EXCERPT_CHARS else text[:40] + '…'}"


def _apply_shortcuts(raw: dict[str, Any], shortcuts: Sequence[str], origin: _Origin) -> None:
    """`KEY=VALUE` of an option that stands for one key (SHORTCUTS): the option parsed a number, so its
    text is a number here too (nan and inf included, which YAML would read as words)."""
    for item in shortcuts:
        key, value = parse_set(item)
        text = item.partition("=")[2].strip()
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        option = f"{SHORTCUTS.get(key, '--set ' + key)} {text}"
        _put(raw, key, value, option)
        origin.sets[key] = option
        origin.shown[key] = option


def _put(raw: dict[str, Any], key: str, value: Any, shown: str) -> None:
    """Set the dotted key path in raw config data, making sections on the way; `shown` names the option."""
    parts = key.split(".")
    target = raw
    for i, part in enumerate(parts[:-1]):
        sub = target.get(part)
        if sub is None:
            sub = target[part] = {}
        if not isinstance(sub, dict):
            raise ConfigError(f"{shown}: {'.'.join(parts[: i + 1])} is not a section")
        target = sub
    target[parts[-1]] = value


# --- validation -------------------------------------------------------------------------------------


def _resolve(raw: dict[str, Any], origin: _Origin, *, default_name: str, base_dir: Path) -> Config:
    """Validate raw config data; the first problem becomes a ConfigError placed by its key."""
    try:
        return _validate(raw, origin, default_name=default_name, base_dir=base_dir)
    except InertKey as exc:
        raise origin.inert_error(exc.key, exc.problem) from None
    except CheckError as exc:
        raise origin.error(exc.key, exc.problem) from None


def _section(raw: dict[str, Any], key: str, known: list[str] | None = None) -> dict[str, Any]:
    """The mapping under `key` ({} when absent or null); with `known`, unknown keys in it are refused."""
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CheckError(key, f"must be a mapping of keys, got {checks.excerpt(value)}")
    if known is not None:
        checks.check_keys(value, known, prefix=f"{key}.")
    return value


def _path(value: Any, key: str, origin: _Origin, base_dir: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CheckError(key, f"must be a file path, got {checks.excerpt(value)}")
    path = Path(value).expanduser()
    if not path.is_absolute():
        # a path given on the command line (--set, a --grid value) is the user's, taken from the current
        # folder; one written in the file, from the file's folder
        path = (Path.cwd() if origin.option(key) else base_dir) / path
    return str(path.resolve())


# The command-line options that stand for a key (`--epochs 100` is `--set train.epochs=100`), on every command
# that trains; cli builds them from this table.
SHORTCUTS = {"train.epochs": "--epochs", "optimizer.lr": "--lr", "seed": "--seed"}


def _refuse_leaf(name: str, keys: Sequence[Key]) -> None:
    """A top-level name that is the last part of exactly one key (`epochs`, `lr`): refused with that key
    (and its shortcut) as the suggestion.

    Raises:
      CheckError: "unknown key; did you mean 'train.epochs' (or --epochs)? ..."
    """
    paths = {k.path for k in keys if k.path.rsplit(".", 1)[-1] == name}
    settings = {
        "optimizer": {p for o in optimizers.names() for p in optimizers.defaults(o)},
        "schedule": {p for params in schedules.SCHEDULE_PARAMS.values() for p in params},
    }
    for section, params in settings.items():
        paths |= {f"{section}.{p}" for p in params if p == name}
    if len(paths) != 1:
        return
    (path,) = paths
    shortcut = f" (or {SHORTCUTS[path]})" if path in SHORTCUTS else ""
    raise CheckError(name, f"unknown key; did you mean {path!r}{shortcut}? keys are written SECTION.KEY")


def _validate(raw: dict[str, Any], origin: _Origin, *, default_name: str, base_dir: Path) -> Config:
    """Compose the Config from the declared keys: every key checked (its default when left out), then every
    key given where it has no effect refused (or dropped, `origin.drop`), then the checks across keys."""
    keys = declared()
    sections = _sections()
    top = ["name", *sections[""], *(s for s in sections if s)]
    for top_name in raw:
        if isinstance(top_name, str) and top_name not in top:
            _refuse_leaf(top_name, keys)
    checks.check_keys(raw, top)

    name = raw.get("name")
    if name is None:
        name = default_name
    if not isinstance(name, str) or not re.fullmatch(r"[\w.+-]+", name):
        raise CheckError("name", f"must be letters, digits, '.', '_', '+' or '-', got {checks.excerpt(name)}")
    if name.startswith("."):
        raise CheckError("name", f"must not begin with '.' (a hidden folder), got {checks.excerpt(name)}")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise CheckError(
            "name",
            f"at most {MAX_NAME_BYTES} characters (the run folder is named after it, and file systems allow "
            f"255 bytes a name), got {len(name.encode())}: {checks.excerpt(name)}",
        )

    given: dict[str, Any] = {k: raw[k] for k in sections[""] if k in raw}  # the keys the config sets
    for section, known in sections.items():
        if not section:
            continue
        mapping = _section(raw, section)
        if section in ("optimizer", "schedule"):
            _check_settings(section, mapping, known)
        else:
            checks.check_keys(mapping, known, prefix=f"{section}.")
        for k, v in mapping.items():
            given[f"{section}.{k}"] = v

    values: dict[str, Any] = {}
    for key in keys:
        if key.setting:
            continue
        value = given[key.path] if key.path in given else key.default_for(values)
        if key.path_like:
            values[key.path] = _path(value, key.path, origin, base_dir)
        else:
            values[key.path] = key.check(value)
    values["data.name"] = data_mod.fill_name(values["data.name"], values["data.path"])

    for key in keys:  # a key set where it has no effect
        if key.path not in given or key.applies(values):
            continue
        # the option that switched it off is named when the file set the key itself
        origin.inert[key.path] = key.why_not(values, None if origin.option(key.path) else origin.option)
        value = given[key.path]
        if key.is_default(value) or (not key.setting and _resolved_default(key, value)):
            continue
        if not origin.may_drop(key.path):
            raise InertKey(key.path, origin.inert[key.path])
        origin.dropped[key.path] = value
        if not key.setting:
            values[key.path] = None if key.path_like else key.check(key.default)

    settings: dict[str, dict[str, Any]] = {}
    for section, selector in (("optimizer", "optimizer.name"), ("schedule", "schedule.type")):
        own = {
            k.path.rpartition(".")[2]: given[k.path]
            for k in keys
            if k.setting and k.path in given and k.path.startswith(section + ".") and k.applies(values)
        }
        check = optimizers.check_params if section == "optimizer" else schedules.check_params
        settings[section] = check(values[selector], own)

    if values["model.type"] == "mlp":
        data_mod.check_set(  # the rules across the data's keys (csv needs a path)
            values["data.name"],
            path=values["data.path"],
            features=values["data.features"],
            label=values["data.label"],
            samples=values["data.samples"],
            noise=values["data.noise"],
            seed=values["data.seed"],
        )
        losses.check_head(values["loss"], values["model.output"])

    return Config(
        name=name,
        optimizer_params=settings["optimizer"],
        schedule_params=settings["schedule"],
        source=origin.file,
        **{key.field: values[key.path] for key in keys if not key.setting},
    )


def _resolved_default(key: Key, value: object) -> bool:
    """The value, checked, equals the default checked (`hidden: [11]` is `hidden: 11`)."""
    try:
        return bool(key.check(value) == key.check(key.default))
    except CheckError:
        return False


def _sections() -> dict[str, list[str]]:
    """The declared keys' names by section ("" for the top level), in the file's order."""
    return _sections_of(optimizers.names())


@functools.cache
def _sections_of(registered: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in _declared(registered):
        section, _, leaf = key.path.rpartition(".")
        out.setdefault(section, []).append(leaf)
    return out


def _check_settings(section: str, mapping: Mapping[str, Any], known: list[str]) -> None:
    """An optimizer's or schedule's section: a key no optimizer (schedule) has is unknown; the suggestions
    are the chosen one's keys, or every optimizer's (schedule's) when none of those is close."""
    for name in mapping:
        if name not in known:
            by = {
                "optimizer": ("name", {name: optimizers.defaults(name) for name in optimizers.names()}),
                "schedule": ("type", schedules.SCHEDULE_PARAMS),
            }
            selector, table = by[section]
            chosen = mapping.get(selector)
            fixed = [k for k in known if not any(k in row for row in table.values())]
            own = [*fixed, *(table.get(chosen, {}) if isinstance(chosen, str) else ())]
            near = difflib.get_close_matches(name, own, n=1) if isinstance(name, str) else []
            checks.check_keys({name: None}, own if near else known, prefix=f"{section}.")
