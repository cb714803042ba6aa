"""YAML config -> a validated, fully resolved `Config`.

Every problem becomes one `ConfigError` line naming the file, the line where YAML knows it, the key and
what is allowed. The checks themselves (nnopt_cli.checks, and the optimizer, schedule and EMA modules'
own) raise a `CheckError` that carries its key path as data; this module only places it. Defaults are
filled in, so `Config.to_dict()` written back as YAML reproduces the run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from nnopt_cli import checks, ema, losses, mlp, optimizers, regularizers, schedules
from nnopt_cli import data as data_mod
from nnopt_cli.checks import CheckError

MODEL_TYPES = ("mlp", "quadratic")
UNITS = ("step", "epoch")
LOGIT_LOSSES = ("bce", "ce")  # they take the logits z, so the network's output must be linear
MAX_WIDTH = 10**9  # a wider layer is a typo; the memory bound on the whole network is checked in training
MAX_EXPANDED_NODES = 100_000  # YAML aliases may not blow a document up to more values than this

# Every key with its default; the sections optimizer and schedule also take the parameters of the chosen
# optimizer or schedule (optimizers.REGISTRY, schedules.SCHEDULE_PARAMS); an optimizer's entry there may
# declare its own default lr, which a config without optimizer.lr takes.
DEFAULTS: dict[str, Any] = {
    "name": None,  # the config file's stem
    "seed": 0,
    "data": {
        "name": None,  # dot, or csv when a path is given
        "path": None,
        "features": None,
        "label": None,
        "samples": 300,
        "noise": 0.0,
        "seed": 0,
        "permute_seed": None,
        "test_size": 0,
        "batch_size": 32,
        "shuffle": False,
    },
    "model": {
        "type": "mlp",
        "hidden": 11,  # one hidden layer of 11; a list gives one layer per width, [] none
        "activation": "relu",
        "leaky_alpha": 0.01,
        "output": "linear",
        "init": "normal",
        "init_std": 0.1,
        "init_from": None,
        "w0": 5.0,
    },
    "loss": "mse",
    "optimizer": {
        "name": "sgd",
        "lr": optimizers.DEFAULT_LR,
        "decay": 0.0,
        "clip_norm": None,
        "clip_value": None,
    },
    "schedule": {"type": "constant", "unit": "step", "warmup_steps": 0},
    "regularizer": {"type": "none", "scale": 0.03},
    "ema": {"decay": None},
    "train": {"epochs": 800, "steps": 40, "log_every": 100},
    "plot": {"features": None},
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
    plot_features: tuple[str | int, ...] | None = None
    clip_norm: float | None = None  # optimizer.clip_norm: the global L2 norm of g clipped to it; None: off
    clip_value: float | None = None  # optimizer.clip_value: each entry of g clipped to ±it; None: off
    source: str = field(default="<defaults>", compare=False)  # where it was read, for `with_overrides`

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as nested plain data, in the YAML layout."""
        return {
            "name": self.name,
            "seed": self.seed,
            "data": {
                "name": self.data_name,
                "path": self.data_path,
                "features": None if self.data_features is None else list(self.data_features),
                "label": self.data_label,
                "samples": self.data_samples,
                "noise": self.data_noise,
                "seed": self.data_seed,
                "permute_seed": self.permute_seed,
                "test_size": self.test_size,
                "batch_size": self.batch_size,
                "shuffle": self.shuffle,
            },
            "model": {
                "type": self.model_type,
                # one layer as a number, as configs wrote it before lists of widths
                "hidden": self.hidden[0] if len(self.hidden) == 1 else list(self.hidden),
                "activation": self.activation,
                "leaky_alpha": self.leaky_alpha,
                "output": self.output,
                "init": self.init,
                "init_std": self.init_std,
                "init_from": self.init_from,
                "w0": self.w0,
            },
            "loss": self.loss,
            "optimizer": {
                "name": self.optimizer,
                "lr": self.lr,
                "decay": self.lr_decay,
                "clip_norm": self.clip_norm,
                "clip_value": self.clip_value,
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
            "plot": {"features": None if self.plot_features is None else list(self.plot_features)},
        }

    def data_key(self) -> tuple[object, ...]:
        """What decides the data a run trains and is tested on: runs with equal keys share their data."""
        return (
            self.data_name,
            self.data_path,
            self.data_features,
            self.data_label,
            self.data_samples,
            self.data_noise,
            self.data_seed,
            self.permute_seed,
            self.test_size,
        )

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
    shown: dict[str, str] = field(default_factory=dict)  # a key set by another option: how to name it

    def where(self, key: str) -> str:
        probe = key.partition("[")[0]  # schedule.values[2] is on the line of schedule.values
        while probe:
            if probe in self.lines:
                return f"{self.file}, line {self.lines[probe]}"
            probe = probe.rpartition(".")[0]
        return self.file

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
        if not key:
            return ConfigError(f"{self.file}: {problem}")
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
    raw, origin = _read(path, sets)
    file = Path(path)
    return _resolve(raw, origin, default_name=name or file.stem, base_dir=file.resolve().parent)


def _read(path: str | Path, sets: list[str] | tuple[str, ...]) -> tuple[dict[str, Any], _Origin]:
    """A config file's raw data with the overrides applied, and where each key came from."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
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
        self.base = _resolve(_copy(self._raw), self._origin, default_name=self._name, base_dir=self._base_dir)

    def variant(self, values: Mapping[str, Any], shown: Mapping[str, str]) -> Config:
        """The config with each key path of `values` set to its (parsed) value.

        Args:
          shown: how an error names the option that set each key, e.g. {"optimizer.lr": "--grid
            optimizer.lr=-1"}.
        Raises:
          ConfigError: the variant is not a valid config.
        """
        raw = _copy(self._raw)
        origin = _Origin(self._origin.file, self._origin.lines, set(self._origin.sets), dict(shown))
        for key, value in values.items():
            _put(raw, key, value, shown.get(key, key))
        return _resolve(raw, origin, default_name=self._name, base_dir=self._base_dir)


def from_dict(raw: Mapping[str, Any], sets: list[str] | tuple[str, ...] = (), *, name: str = "run") -> Config:
    """Validate a config given as plain data (used by commands that build one, and by tests)."""
    data = _copy(raw)
    origin = _Origin("<config>", {})
    _apply_sets(data, list(sets), origin)
    return _resolve(data, origin, default_name=name, base_dir=Path.cwd())


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
        origin.sets.add(key)


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
        path = (Path.cwd() if key in origin.sets else base_dir) / path
    return str(path.resolve())


def _width(value: object, key: str, alternative: str = "") -> int:
    n = checks.integer(value, key, low=1, alternative=alternative)
    if n > MAX_WIDTH:
        raise CheckError(key, f"must be at most {MAX_WIDTH} units wide, got {checks.excerpt(value)}")
    return n


def _hidden(value: object) -> tuple[int, ...]:
    """model.hidden: one width (11) or a list of widths ([16, 8]; [] for no hidden layer)."""
    if isinstance(value, (list, tuple)):
        return tuple(_width(w, f"model.hidden[{i}]") for i, w in enumerate(value))
    return (_width(value, "model.hidden", alternative="or a list of widths"),)


def _plot_features(value: object) -> tuple[str | int, ...] | None:
    """plot.features: the two inputs a boundary picture spans, as column names or 0-based indices."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise CheckError(
            "plot.features",
            f"must be two input names or 0-based indices, e.g. [petal_length, petal_width], "
            f"got {checks.excerpt(value)}",
        )
    out: list[str | int] = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item:
            out.append(item)
        else:
            out.append(checks.integer(item, f"plot.features[{i}]", low=0, alternative="or an input's name"))
    if out[0] == out[1]:
        raise CheckError("plot.features", f"names the same input twice: {out[0]!r}")
    return tuple(out)


def _check_head(loss: str, output: str) -> None:
    """bce and ce take the logits and apply their own sigmoid/softmax: a second one would be applied twice."""
    if loss in LOGIT_LOSSES and output != "linear":
        raise CheckError(
            "loss",
            f"{loss} works on the logits and needs model.output: linear, got {output} "
            f"(use loss: mse with output: {output}, or {loss} with output: linear)",
        )


def _validate(raw: dict[str, Any], origin: _Origin, *, default_name: str, base_dir: Path) -> Config:
    checks.check_keys(raw, list(DEFAULTS))

    name = raw.get("name")
    if name is None:
        name = default_name
    if not isinstance(name, str) or not re.fullmatch(r"[\w.+-]+", name):
        raise CheckError("name", f"must be letters, digits, '.', '_', '+' or '-', got {checks.excerpt(name)}")
    seed = checks.integer(raw.get("seed", DEFAULTS["seed"]), "seed", low=0)

    data = {**DEFAULTS["data"], **_section(raw, "data", list(DEFAULTS["data"]))}
    data_path = _path(data["path"], "data.path", origin, base_dir)
    data_name, set_args = data_mod.check_set(
        data["name"],
        path=data_path,
        features=data["features"],
        label=data["label"],
        samples=data["samples"],
        noise=data["noise"],
        seed=data["seed"],
    )
    permute_seed = data["permute_seed"]
    if permute_seed is not None:
        permute_seed = checks.integer(
            permute_seed, "data.permute_seed", low=0, high=2**32 - 1, alternative="or null (the file's order)"
        )
    test_size = data_mod.check_test_size(data["test_size"])
    batch_size = checks.integer(data["batch_size"], "data.batch_size", low=1)
    shuffle = checks.flag(data["shuffle"], "data.shuffle")

    model = {**DEFAULTS["model"], **_section(raw, "model", list(DEFAULTS["model"]))}
    model_type = checks.choice(model["type"], "model.type", MODEL_TYPES)
    hidden = _hidden(model["hidden"])
    activation = checks.choice(model["activation"], "model.activation", mlp.ACTIVATIONS)
    leaky_alpha = checks.number(model["leaky_alpha"], "model.leaky_alpha", low=0.0)
    output = checks.choice(model["output"], "model.output", losses.OUTPUTS)
    init = checks.choice(model["init"], "model.init", mlp.INITS)
    init_std = checks.number(model["init_std"], "model.init_std", low=0.0, low_open=True)
    init_from = _path(model["init_from"], "model.init_from", origin, base_dir)
    w0 = checks.number(model["w0"], "model.w0")

    loss = checks.choice(raw.get("loss", DEFAULTS["loss"]), "loss", losses.LOSSES)
    _check_head(loss, output)

    opt = {**DEFAULTS["optimizer"], **_section(raw, "optimizer")}
    opt_name = checks.choice(opt["name"], "optimizer.name", optimizers.names())
    own = tuple(DEFAULTS["optimizer"])
    checks.check_keys(opt, [*own, *optimizers.defaults(opt_name)], prefix="optimizer.")
    if "lr" not in _section(raw, "optimizer"):
        opt["lr"] = optimizers.default_lr(opt_name)
    lr = checks.number(opt["lr"], "optimizer.lr", low=0.0)
    lr_decay = checks.number(opt["decay"], "optimizer.decay", low=0.0)
    clip_norm = optimizers.check_clip(opt["clip_norm"], "optimizer.clip_norm")
    clip_value = optimizers.check_clip(opt["clip_value"], "optimizer.clip_value")
    opt_params = optimizers.check_params(opt_name, {k: v for k, v in opt.items() if k not in own})

    sched = {**DEFAULTS["schedule"], **_section(raw, "schedule")}
    sched_type = schedules.check_type(sched["type"])
    own = ("type", "unit", "warmup_steps")
    checks.check_keys(sched, [*own, *schedules.SCHEDULE_PARAMS[sched_type]], prefix="schedule.")
    unit = checks.choice(sched["unit"], "schedule.unit", UNITS)
    warmup_steps = checks.integer(sched["warmup_steps"], "schedule.warmup_steps", low=0)
    sched_params = schedules.check_params(sched_type, {k: v for k, v in sched.items() if k not in own})

    reg = {**DEFAULTS["regularizer"], **_section(raw, "regularizer", list(DEFAULTS["regularizer"]))}
    reg_type = checks.choice(reg["type"], "regularizer.type", regularizers.REGULARIZERS)
    reg_scale = checks.number(reg["scale"], "regularizer.scale", low=0.0)

    ema_decay = ema.check_decay(_section(raw, "ema", list(DEFAULTS["ema"])).get("decay"))

    train = {**DEFAULTS["train"], **_section(raw, "train", list(DEFAULTS["train"]))}
    epochs = checks.integer(train["epochs"], "train.epochs", low=1)
    steps = checks.integer(train["steps"], "train.steps", low=1)
    log_every = checks.integer(train["log_every"], "train.log_every", low=1)

    plot_features = _plot_features(_section(raw, "plot", list(DEFAULTS["plot"])).get("features"))

    return Config(
        name=name,
        seed=seed,
        data_name=data_name,
        data_path=data_path,
        data_features=set_args.features,
        data_label=set_args.label,
        data_samples=set_args.samples,
        data_noise=set_args.noise,
        data_seed=set_args.seed,
        permute_seed=permute_seed,
        test_size=test_size,
        batch_size=batch_size,
        shuffle=shuffle,
        model_type=model_type,
        hidden=hidden,
        activation=activation,
        leaky_alpha=leaky_alpha,
        output=output,
        init=init,
        init_std=init_std,
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
        plot_features=plot_features,
        clip_norm=clip_norm,
        clip_value=clip_value,
        source=origin.file,
    )
