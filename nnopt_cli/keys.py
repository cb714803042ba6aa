"""Config keys as their components declare them: name, default, check, and when the key has an effect.

Each component declares its keys beside its code (`data.KEYS`, `mlp.KEYS`, `optimizers.keys()`, ...);
`nnopt_cli.config` composes them into a `Config`. A key applies while every one of its `When` conditions
holds over the other keys' resolved values (`regularizer.scale` while `regularizer.type` is l1 or l2); a key
that does not apply has no effect on the run, so a value other than its default is refused with the reason
(`Key.why_not`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def _same(value: object) -> object:
    return value


class _NotAValue:
    """What `Key.choices` hands a check: a value no key accepts."""

    def __repr__(self) -> str:
        return "<not a value>"


_NOT_A_VALUE = _NotAValue()


@dataclass(frozen=True)
class When:
    """The key applies while the resolved value of `key` is one of `values`.

    Attributes:
      key: the key path it depends on ("regularizer.type").
      values: the values under which it applies.
    """

    key: str
    values: tuple[Any, ...]

    def holds(self, resolved: Mapping[str, Any]) -> bool:
        return resolved.get(self.key) in self.values

    def reason(self, resolved: Mapping[str, Any], by: str = "") -> str:
        """ "while regularizer.type is none; set regularizer.type to l1 or l2"; `by` names the option that
        set the value ("while optimizer.name is sgd (--set optimizer.name=sgd); ...")."""
        choices = [_text(v) for v in self.values]
        listed = choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]
        named = f" ({by})" if by else ""
        return f"while {self.key} is {_text(resolved.get(self.key))}{named}; set {self.key} to {listed}"


def only(key: str, *values: Any) -> When:
    """The condition "`key` is one of `values`"."""
    return When(key, tuple(values))


def _text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@dataclass(frozen=True)
class Key:
    """One config key.

    Attributes:
      path: the dotted key path ("regularizer.scale").
      default: its value when the config leaves it out.
      check: the given (or default) value -> the resolved value; raises CheckError naming `path`.
      when: the conditions under which it has an effect (all must hold); () for always.
      attr: the Config attribute holding the resolved value (default: the path's last part).
      data: the value decides the rows a run trains and is tested on (Config.data_key).
      shape: the value decides whether runs can be stacked in one population (Config.population_key).
      path_like: a file path, taken relative to the config file's folder (or the current one for --set).
      show: the resolved value -> plain YAML data (Config.to_dict).
      defaults: other values that count as the default (a setting several optimizers share, each with its
        own default).
      setting: a setting of the chosen optimizer or schedule (`setting_keys`), checked with the others of
        its row and kept in Config.optimizer_params / schedule_params.
      default_of: when the default depends on keys declared before it (an optimizer's own lr): the resolved
        values so far -> the default; `default` is then the one the listing shows (the first choice's).
    """

    path: str
    default: Any
    check: Callable[[Any], Any]
    when: tuple[When, ...] = ()
    attr: str = ""
    data: bool = False
    shape: bool = False
    path_like: bool = False
    show: Callable[[Any], Any] = _same
    defaults: tuple[Any, ...] = ()
    setting: bool = False
    default_of: Callable[[Mapping[str, Any]], Any] | None = None

    def default_for(self, resolved: Mapping[str, Any]) -> Any:
        """The default given the keys resolved before this one."""
        return self.default if self.default_of is None else self.default_of(resolved)

    @property
    def field(self) -> str:
        return self.attr or self.path.rpartition(".")[2]

    def applies(self, resolved: Mapping[str, Any]) -> bool:
        return all(w.holds(resolved) for w in self.when)

    def why_not(self, resolved: Mapping[str, Any], by: Callable[[str], str] | None = None) -> str:
        """ "regularizer.scale has no effect while regularizer.type is none; set regularizer.type to l1 or
        l2" (empty when the key applies). `by(key)` names the option that set a key, "" for the file."""
        for w in self.when:
            if not w.holds(resolved):
                return f"{self.path} has no effect {w.reason(resolved, by(w.key) if by else '')}"
        return ""

    def choices(self) -> tuple[Any, ...]:
        """The values the key takes where they are a finite set (an optimizer's name, a flag), else ().

        Read from the key's own check, the one place that knows what it allows: given a value no check
        accepts, a choice or flag check refuses it with the set (`CheckError.choices`). A setting is checked
        with its row, so a setting's flag is known by its default, true or false."""
        try:
            self.check(_NOT_A_VALUE)
        except Exception as exc:  # a CheckError; any other: a check that cannot even look at the probe
            choices = getattr(exc, "choices", ())
            if choices:
                return tuple(choices)
        return (False, True) if isinstance(self.default, bool) else ()

    def is_default(self, value: object) -> bool:
        return any(_equal(value, d) for d in (self.default, *self.defaults))


def _equal(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def setting_keys(
    section: str, selector: str, table: Mapping[str, Mapping[str, object]], *, skip: Sequence[object] = ()
) -> tuple[Key, ...]:
    """One Key per setting of a table like optimizers.OPTIMIZER_PARAMS ({optimizer: {setting: default}}):
    `section.setting` applies while `selector` names a row of the table that has the setting. Its default is
    the first such row's, and every such row's default counts as one; a default in `skip`
    (schedules.REQUIRED) is none. The values are checked together, by the row's own check, so the Key's
    check passes them through."""
    owners: dict[str, list[str]] = {}
    for row, settings in table.items():
        for name in settings:
            owners.setdefault(name, []).append(row)
    keys = []
    for name, rows in owners.items():
        defaults = tuple(d for d in (table[r][name] for r in rows) if not any(d is s for s in skip))
        keys.append(
            Key(
                f"{section}.{name}",
                defaults[0] if defaults else None,
                _same,
                when=(When(selector, tuple(rows)),),
                defaults=defaults[1:],
                setting=True,
            )
        )
    return tuple(keys)
