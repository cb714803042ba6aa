"""Value checks shared by the config and the library modules.

One error type, `CheckError`, carries the key path of the bad value ("optimizer.beta1") and the problem
as separate attributes, so a caller places it (a config file's line, a `--set` option, a command-line
flag) from `exc.key` without reading the message. One `did_you_mean` for every unknown name, and one
family of checks for numbers, integers, flags, choices and lists of numbers, each taking the value, its
key and, as `error`, the `CheckError` subclass the calling module raises.

Messages show values through `excerpt`, never whole: a value read from YAML can be huge (a long list, or
aliases that expand a few hundred bytes into a billion items).
"""

from __future__ import annotations

import difflib
import itertools
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

EXCERPT_CHARS = 80
"""At most this many characters of a value appear in a message."""


class CheckError(ValueError):
    """A value that cannot be used.

    Attributes:
      key: where the value came from, as a key path ("optimizer.beta1", "schedule.values[2]"), or "".
      problem: what is wrong and what is allowed ("must be in [0, 1), got 1.5").
      choices: where the allowed values are a finite set (`choice`, `flag`), that set; else (). Shell
        completion reads it (`keys.Key.choices`), so a key's values are listed where they are checked.

    str() is one line, "key: problem", or the problem alone when there is no key.
    """

    choices: tuple[object, ...] = ()

    def __init__(self, key: str, problem: str) -> None:
        # Both go to args, so the error pickles and copies like any exception.
        super().__init__(key, problem)
        self.key = key
        self.problem = problem

    def allowing(self, choices: Sequence[object]) -> CheckError:
        """The same error, carrying the finite set of allowed values."""
        self.choices = tuple(choices)
        return self

    def __str__(self) -> str:
        return f"{self.key}: {self.problem}" if self.key else self.problem


# --- showing values ------------------------------------------------------------------------------


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """The value as a message shows it, cut to `limit` characters with "…".

    YAML spellings for true, false and null; repr otherwise. Containers are written piece by piece and
    only as far as the limit, so a list with a billion items (or one that contains itself) costs no
    more than a short one.
    """
    text = ""
    for piece in _pieces(value):
        text += piece
        if len(text) > limit:
            return text[: limit - 1] + "…"
    return text


def _pieces(value: object) -> Iterator[str]:
    if isinstance(value, (list, tuple)):
        yield "["
        for i, item in enumerate(value):
            yield ", " if i else ""
            yield from _pieces(item)
        yield "]"
    elif isinstance(value, Mapping):
        yield "{"
        for i, (k, v) in enumerate(value.items()):
            yield ", " if i else ""
            yield from _pieces(k)
            yield ": "
            yield from _pieces(v)
        yield "}"
    else:
        yield _scalar(value)


def _scalar(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, np.generic):
        value = value.item()  # 0.5, not np.float64(0.5)
    if isinstance(value, str):
        return repr(value[: EXCERPT_CHARS + 1])  # a longer text is cut anyway
    return repr(value)


def did_you_mean(word: object, choices: Sequence[str]) -> str:
    """ "did you mean 'adam'? known: sgd, sgdm, ..." for a name that is not one of `choices`.

    The suggestion is the closest choice by difflib's ratio (>= 0.6), or else the only choice that starts
    with `word` ("expo" -> "exponential"); without either, just the list.
    """
    known = "known: " + (", ".join(choices) if choices else "none")
    close: list[str] = []
    if isinstance(word, str) and word:
        close = difflib.get_close_matches(word, choices, n=1)
        if not close:
            close = [c for c in choices if c.startswith(word.lower())]
    return f"did you mean {close[0]!r}? {known}" if len(close) == 1 else known


# --- the checks ----------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    # bool is an int to Python, but `beta: true` in a config is a mistake, not 1.
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _quote_hint(value: object) -> str:
    """A hint when a number was written in quotes: '1e-7' is text in YAML."""
    if isinstance(value, str) and len(value) <= EXCERPT_CHARS:
        try:
            number = float(value)
        except ValueError:
            return ""
        # nan and inf unquoted are text to YAML too, and no quotes to drop: they are not allowed anyway
        return " (text, not a number: drop the quotes)" if math.isfinite(number) else ""
    return ""


def _bound(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _rule(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """The allowed range in words: ">= 0", "> 0", "<= 1", "in [0, 1)"."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{_bound(low)}, {_bound(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {_bound(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {_bound(high)}"
    return ""


def _in_range(x: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    if low is not None and (x <= low if low_open else x < low):
        return False
    return high is None or (x < high if high_open else x <= high)


def number(
    value: object,
    key: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    alternative: str = "",
    error: type[CheckError] = CheckError,
) -> float:
    """A finite real number within [low, high] (an end open where `low_open`/`high_open`), as a float.

    Args:
      value: the value to check; bool and text are refused (text that reads as a number gets a hint).
      key: its key path, carried by the error.
      low, high: the bounds, None for none.
      alternative: words added to the allowed range, e.g. "or null (off)".
      error: the CheckError subclass to raise.
    """
    rule = " ".join(filter(None, [_rule(low, high, low_open, high_open), alternative]))
    spaced = f" {rule}" if rule else ""
    if not _is_number(value):
        raise error(key, f"must be a number{spaced}, got {excerpt(value)}{_quote_hint(value)}")
    try:
        x = float(value)  # type: ignore[arg-type]  # a numbers.Real
    except OverflowError:  # an int beyond float's range
        x = math.inf
    if not math.isfinite(x):
        raise error(key, f"must be a finite number{spaced}, got {excerpt(value)}")
    if not _in_range(x, low, high, low_open, high_open):
        raise error(key, f"must be {rule}, got {excerpt(value)}")
    return x


def integer(
    value: object,
    key: str,
    *,
    low: int | None = None,
    high: int | None = None,
    alternative: str = "",
    error: type[CheckError] = CheckError,
) -> int:
    """An integer within [low, high], as an int. A float with an integer value (3.0, 1e3) counts; bool does
    not."""
    rule = " ".join(filter(None, [_rule(low, high, False, False), alternative]))
    message = f"must be an integer{f' {rule}' if rule else ''}, got {excerpt(value)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, float, np.floating)):
        raise error(key, message + _quote_hint(value))
    if isinstance(value, (float, np.floating)) and not float(value).is_integer():
        raise error(key, message)  # also inf and nan
    n = int(value)
    if not _in_range(n, low, high, False, False):
        raise error(key, message)
    return n


def flag(value: object, key: str, *, error: type[CheckError] = CheckError) -> bool:
    """true or false, as a bool (1 and "yes" are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise error(key, f"must be true or false, got {excerpt(value)}").allowing((True, False))
    return bool(value)


def choice(value: object, key: str, choices: Sequence[str], *, error: type[CheckError] = CheckError) -> str:
    """One of `choices`, else an error that suggests the closest and lists them all."""
    if isinstance(value, str) and value in choices:
        return value
    raise error(key, f"unknown value {excerpt(value)}; {did_you_mean(value, choices)}").allowing(choices)


def number_list(
    value: object,
    key: str,
    *,
    low: float | None = None,
    high: float | None = None,
    increasing: bool = False,
    error: type[CheckError] = CheckError,
) -> list[float]:
    """A non-empty list (or tuple) of numbers, each checked as `number` under the key "key[i]"; with
    `increasing`, strictly increasing."""
    if not isinstance(value, (list, tuple)) or not value:
        raise error(key, f"must be a non-empty list of numbers, got {excerpt(value)}")
    xs = [number(x, f"{key}[{i}]", low=low, high=high, error=error) for i, x in enumerate(value)]
    if increasing and any(b <= a for a, b in itertools.pairwise(xs)):
        raise error(key, f"must be strictly increasing, got {excerpt(value)}")
    return xs


def check_keys(
    names: Iterable[object],
    allowed: Sequence[str],
    *,
    prefix: str = "",
    what: str = "",
    error: type[CheckError] = CheckError,
) -> None:
    """Refuse the first name not in `allowed`, as key `prefix + name`.

    The problem reads "unknown key; did you mean ...", or "not a {what}; did you mean ..." when `what`
    ("setting of adam") is given.
    """
    for name in names:
        if isinstance(name, str) and name in allowed:
            continue
        shown = name if isinstance(name, str) and len(name) <= EXCERPT_CHARS else excerpt(name)
        problem = f"not a {what}" if what else "unknown key"
        raise error(f"{prefix}{shown}", f"{problem}; {did_you_mean(name, allowed)}")
