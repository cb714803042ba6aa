"""YAML config -> a validated, fully resolved `Config`.

Every problem becomes one `ConfigError` line naming the file, the line where YAML knows it, the key and
what is
allowed. Defaults are filled in, so `Config.to_dict()` written back as YAML reproduces the run.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from nnopt_cli import ema, losses, mlp, optimizers, regularizers, schedules

MODEL_TYPES = ("mlp", "quadratic")
UNITS = ("step", "epoch")

# Every key with its default; the sections optimizer and schedule also take the parameters of the chosen
# optimizer or schedule (optimizers.OPTIMIZER_PARAMS, schedules.SCHEDULE_PARAMS).
DEFAULTS: dict[str, Any] = {
    "name": None,  # the config file's stem
    "seed": 0,
    "data": {"path": None, "batch_size": 32, "shuffle": False},
    "model": {
        "type": "mlp",
        "hidden": 11,
        "activation": "relu",
        "leaky_alpha": 0.01,
        "init": "normal",
        "init_from": None,
        "w0": 5.0,
    },
    "loss": "mse",
    "optimizer": {"name": "sgd", "lr": 0.005, "decay": 0.0},
    "schedule": {"type": "constant", "unit": "step", "warmup_steps": 0},
    "regularizer": {"type": "none", "scale": 0.03},
    "ema": {"decay": None},
    "train": {"epochs": 800, "steps": 40, "log_every": 100},
}


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as PyYAML reads it, except that 1e-4 and 1E+3 are numbers (as in YAML 1.2 and JSON), not
    text: learning rates are written that way."""


_Loader.yaml_implicit_resolvers = {k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def yaml_load(text: str) -> Any:
    """Parse YAML text with nnopt's loader."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506  (a SafeLoader subclass)


class ConfigError(ValueError):
    """A config that cannot be used; str() is one line: where, which key, what is allowed."""


@dataclass(frozen=True)
class Config:
    """A validated config with every default filled in."""

    name: str
    seed: int
    data_path: str | None
    batch_size: int
    shuffle: bool
    model_type: str
    hidden: int
    activation: str
    leaky_alpha: float
    init: str
    init_from: str | None
    w0: float
    loss: str
    optimizer: str
    lr: float
    lr_decay: float
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
    source: str = field(default="<defaults>", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as nested plain data, in the YAML layout."""
        return {
            "name": self.name,
            "seed": self.seed,
            "data": {
                "path": self.data_path,
                "batch_size": self.batch_size,
                "shuffle": self.shuffle,
            },
            "model": {
                "type": self.model_type,
                "hidden": self.hidden,
                "activation": self.activation,
                "leaky_alpha": self.leaky_alpha,
                "init": self.init,
                "init_from": self.init_from,
                "w0": self.w0,
            },
            "loss": self.loss,
            "optimizer": {
                "name": self.optimizer,
                "lr": self.lr,
                "decay": self.lr_decay,
                **self.optimizer_params,
            },
            "schedule": {
                "type": self.schedule,
                "unit": self.unit,
                "warmup_steps": self.warmup_steps,
                **self.schedule_params,
            },
            "regularizer": {"type": self.regularizer, "scale": self.reg_scale},
            "ema": {"decay": self.ema_decay},
            "train": {"epochs": self.epochs, "steps": self.steps, "log_every": self.log_every},
        }

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


@dataclass
class _Origin:
    """Where keys came from: the file name and the line of each key path, or a --set option."""

    file: str
    lines: dict[str, int]
    sets: set[str] = field(default_factory=set)

    def where(self, key: str) -> str:
        if key in self.sets:
            return f"--set {key}"
        probe = key
        while probe:
            if probe in self.lines:
                return f"{self.file}, line {self.lines[probe]}"
            probe = probe.rpartition(".")[0]
        return self.file

    def error(self, key: str, problem: str) -> ConfigError:
        if key in self.sets:
            return ConfigError(f"--set {key}: {problem}")
        return ConfigError(f"{self.where(key)}: {key}: {problem}")


def load(path: str | Path, sets: list[str] | tuple[str, ...] = (), *, name: str | None = None) -> Config:
    """Read, override and validate a YAML config file.

    Args:
      path: the YAML file; relative paths inside it are taken relative to its folder.
      sets: `KEY.PATH=VALUE` overrides, VALUE parsed as YAML, applied after the file.
      name: the run name when the config has none (default: the file's stem).
    Raises:
      ConfigError: unreadable or malformed YAML, unknown key, wrong type, value out of range.
    """
    file = Path(path)
    shown = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{shown}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{shown}: is a directory, not a YAML config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read: {exc}") from None
    raw, lines = parse_yaml(text, shown)
    origin = _Origin(shown, lines)
    _apply_sets(raw, list(sets), origin)
    return _resolve(raw, origin, default_name=name or file.stem, base_dir=file.resolve().parent)


def from_dict(raw: Mapping[str, Any], sets: list[str] | tuple[str, ...] = (), *, name: str = "run") -> Config:
    """Validate a config given as plain data (used by commands that build one, and by tests)."""
    data = _copy(raw)
    origin = _Origin("<config>", {})
    _apply_sets(data, list(sets), origin)
    return _resolve(data, origin, default_name=name, base_dir=Path.cwd())


def parse_yaml(text: str, shown: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The YAML mapping and the 1-based line of every key path ("optimizer.lr" -> 7)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise ConfigError(f"{shown}{where}: malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shown}: malformed YAML: {exc}") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{shown}: the top level must be a mapping of keys (name:, optimizer:, ...)")
    lines: dict[str, int] = {}
    _collect_lines(node, "", lines, shown)
    return data, lines


def _collect_lines(node: yaml.MappingNode, prefix: str, lines: dict[str, int], shown: str) -> None:
    for key_node, value_node in node.value:
        key = f"{prefix}{key_node.value}"
        if key in lines:
            raise ConfigError(
                f"{shown}, line {key_node.start_mark.line + 1}: {key}: duplicate key "
                f"(first on line {lines[key]})"
            )
        lines[key] = key_node.start_mark.line + 1
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
        raise ConfigError(f"--set {item}: expected KEY.PATH=VALUE, for example optimizer.lr=0.01")
    try:
        value = yaml_load(text) if text.strip() else None
    except yaml.YAMLError:
        raise ConfigError(f"--set {key}: cannot parse the value {text!r} as YAML") from None
    if isinstance(value, dict):
        raise ConfigError(f"--set {key}: the value must be a scalar or a list, got a mapping")
    return key, value


def _apply_sets(raw: dict[str, Any], sets: list[str], origin: _Origin) -> None:
    for item in sets:
        key, value = parse_set(item)
        parts = key.split(".")
        target = raw
        for i, part in enumerate(parts[:-1]):
            sub = target.get(part)
            if sub is None:
                sub = target[part] = {}
            if not isinstance(sub, dict):
                raise ConfigError(f"--set {key}: {'.'.join(parts[: i + 1])} is not a section")
            target = sub
        target[parts[-1]] = value
        origin.sets.add(key)


# --- validation -------------------------------------------------------------------------------------


def _suggest(word: str, known: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}known: {', '.join(known)}"


def _section(raw: dict[str, Any], key: str, origin: _Origin) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise origin.error(key, f"must be a mapping of keys, got {_show(value)}")
    return value


def _check_keys(section: dict[str, Any], prefix: str, known: list[str], origin: _Origin) -> None:
    for key in section:
        if not isinstance(key, str) or key not in known:
            raise origin.error(f"{prefix}{key}", f"unknown key; {_suggest(str(key), known)}")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, dict)):
        return f"a {'list' if isinstance(value, list) else 'mapping'} {value!r}"
    return str(value)


def _int(value: Any, key: str, origin: _Origin, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise origin.error(key, f"must be an integer >= {minimum}, got {_show(value)}")
    if value < minimum:
        raise origin.error(key, f"must be an integer >= {minimum}, got {value}")
    return int(value)


def _float(value: Any, key: str, origin: _Origin, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise origin.error(key, f"must be a number, got {_show(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise origin.error(key, f"must be a finite number, got {value}")
    if minimum is not None and number < minimum:
        raise origin.error(key, f"must be >= {minimum:g}, got {value}")
    return number


def _bool(value: Any, key: str, origin: _Origin) -> bool:
    if not isinstance(value, bool):
        raise origin.error(key, f"must be true or false, got {_show(value)}")
    return value


def _choice(value: Any, key: str, choices: tuple[str, ...], origin: _Origin) -> str:
    if not isinstance(value, str) or value not in choices:
        word = value if isinstance(value, str) else _show(value)
        raise origin.error(key, f"unknown value {_show(value)}; {_suggest(str(word), choices)}")
    return value


def _path(value: Any, key: str, origin: _Origin, base_dir: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise origin.error(key, f"must be a file path, got {_show(value)}")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (Path.cwd() if key in origin.sets else base_dir) / path
    return str(path.resolve())


def _library_error(exc: ValueError, section: str, origin: _Origin) -> ConfigError:
    """A schedules/optimizers/ema error, placed at the line of the key it names."""
    message = str(exc)
    match = re.match(rf"({section}\.\w+)[: ]*", message)
    if match:
        return origin.error(match.group(1), message[match.end() :])
    return origin.error(section, message)


def _resolve(raw: dict[str, Any], origin: _Origin, *, default_name: str, base_dir: Path) -> Config:
    _check_keys(raw, "", list(DEFAULTS), origin)

    name = raw.get("name")
    if name is None:
        name = default_name
    if not isinstance(name, str) or not re.fullmatch(r"[\w.+-]+", name):
        raise origin.error("name", f"must be letters, digits, '.', '_', '+' or '-', got {_show(name)}")
    seed = _int(raw.get("seed", DEFAULTS["seed"]), "seed", origin, minimum=0)

    data = _section(raw, "data", origin)
    _check_keys(data, "data.", list(DEFAULTS["data"]), origin)
    data = {**DEFAULTS["data"], **{k: v for k, v in data.items()}}
    data_path = _path(data["path"], "data.path", origin, base_dir)
    batch_size = _int(data["batch_size"], "data.batch_size", origin, minimum=1)
    shuffle = _bool(data["shuffle"], "data.shuffle", origin)

    model = _section(raw, "model", origin)
    _check_keys(model, "model.", list(DEFAULTS["model"]), origin)
    model = {**DEFAULTS["model"], **model}
    model_type = _choice(model["type"], "model.type", MODEL_TYPES, origin)
    hidden = _int(model["hidden"], "model.hidden", origin, minimum=1)
    activation = _choice(model["activation"], "model.activation", mlp.ACTIVATIONS, origin)
    leaky_alpha = _float(model["leaky_alpha"], "model.leaky_alpha", origin, minimum=0.0)
    init = _choice(model["init"], "model.init", mlp.INITS, origin)
    init_from = _path(model["init_from"], "model.init_from", origin, base_dir)
    w0 = _float(model["w0"], "model.w0", origin)

    loss = _choice(raw.get("loss", DEFAULTS["loss"]), "loss", losses.LOSSES, origin)

    opt = {**DEFAULTS["optimizer"], **_section(raw, "optimizer", origin)}
    opt_name = _choice(opt["name"], "optimizer.name", optimizers.OPTIMIZER_NAMES, origin)
    opt_defaults = optimizers.OPTIMIZER_PARAMS[opt_name]
    _check_keys(opt, "optimizer.", ["name", "lr", "decay", *opt_defaults], origin)
    lr = _float(opt["lr"], "optimizer.lr", origin, minimum=0.0)
    lr_decay = _float(opt["decay"], "optimizer.decay", origin, minimum=0.0)
    opt_params = {k: opt.get(k, v) for k, v in opt_defaults.items()}
    try:
        optimizers.make_optimizer(opt_name, **opt_params)
    except ValueError as exc:
        raise _library_error(exc, "optimizer", origin) from None

    sched = {**DEFAULTS["schedule"], **_section(raw, "schedule", origin)}
    sched_type = _choice(sched["type"], "schedule.type", schedules.SCHEDULE_TYPES, origin)
    sched_defaults = schedules.SCHEDULE_PARAMS[sched_type]
    _check_keys(sched, "schedule.", ["type", "unit", "warmup_steps", *sched_defaults], origin)
    unit = _choice(sched["unit"], "schedule.unit", UNITS, origin)
    warmup_steps = _int(sched["warmup_steps"], "schedule.warmup_steps", origin, minimum=0)
    for key, default in sched_defaults.items():
        if default is schedules.REQUIRED and sched.get(key) is None:
            raise origin.error(f"schedule.{key}", f"is required for schedule type {sched_type!r}")
    sched_params = {k: sched.get(k, v) for k, v in sched_defaults.items()}
    try:
        schedules.make_schedule(sched_type, lr, seed=seed, **sched_params)
    except ValueError as exc:
        raise _library_error(exc, "schedule", origin) from None

    reg = _section(raw, "regularizer", origin)
    _check_keys(reg, "regularizer.", list(DEFAULTS["regularizer"]), origin)
    reg = {**DEFAULTS["regularizer"], **reg}
    reg_type = _choice(reg["type"], "regularizer.type", regularizers.REGULARIZERS, origin)
    reg_scale = _float(reg["scale"], "regularizer.scale", origin, minimum=0.0)

    ema_section = _section(raw, "ema", origin)
    _check_keys(ema_section, "ema.", list(DEFAULTS["ema"]), origin)
    try:
        ema_decay = ema.check_decay(ema_section.get("decay"))
    except ValueError as exc:
        raise _library_error(exc, "ema", origin) from None

    train = _section(raw, "train", origin)
    _check_keys(train, "train.", list(DEFAULTS["train"]), origin)
    train = {**DEFAULTS["train"], **train}
    epochs = _int(train["epochs"], "train.epochs", origin, minimum=1)
    steps = _int(train["steps"], "train.steps", origin, minimum=1)
    log_every = _int(train["log_every"], "train.log_every", origin, minimum=1)

    return Config(
        name=name,
        seed=seed,
        data_path=data_path,
        batch_size=batch_size,
        shuffle=shuffle,
        model_type=model_type,
        hidden=hidden,
        activation=activation,
        leaky_alpha=leaky_alpha,
        init=init,
        init_from=init_from,
        w0=w0,
        loss=loss,
        optimizer=opt_name,
        lr=lr,
        lr_decay=lr_decay,
        optimizer_params=opt_params,
        schedule=sched_type,
        unit=unit,
        warmup_steps=warmup_steps,
        schedule_params=sched_params,
        regularizer=reg_type,
        reg_scale=reg_scale,
        ema_decay=ema_decay,
        epochs=epochs,
        steps=steps,
        log_every=log_every,
        source=origin.file,
    )
