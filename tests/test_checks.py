"""nnopt_cli.checks: the error that carries its key, did-you-mean, the value checks, bounded excerpts."""

from __future__ import annotations

import copy
import math
import pickle
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnopt_cli import checks
from nnopt_cli.checks import CheckError
from nnopt_cli.core import ema, optimizers, schedules


class Custom(CheckError):
    """A module's own error type, as optimizers, schedules and ema have."""


# --- the error ---------------------------------------------------------------------------------------


def test_error_carries_key_and_problem_as_data() -> None:
    err = CheckError("optimizer.beta1", "must be in [0, 1), got 1.5")
    assert (err.key, err.problem) == ("optimizer.beta1", "must be in [0, 1), got 1.5")
    assert str(err) == "optimizer.beta1: must be in [0, 1), got 1.5"
    assert str(CheckError("", "no key here")) == "no key here"
    assert isinstance(err, ValueError)


def test_error_survives_pickle_and_copy() -> None:
    for err in (CheckError("a.b", "bad"), schedules.ScheduleError("schedule.power", "must be > 0, got 0")):
        for again in (pickle.loads(pickle.dumps(err)), copy.copy(err)):
            assert type(again) is type(err)
            assert (again.key, again.problem, str(again)) == (err.key, err.problem, str(err))


def test_module_errors_are_check_errors() -> None:
    for error in (schedules.ScheduleError, optimizers.OptimizerError, ema.EMAError):
        assert issubclass(error, CheckError)


# --- excerpts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, "true"),
        (np.bool_(False), "false"),
        (None, "null"),
        ("adam", "'adam'"),
        (0.5, "0.5"),
        (np.float64(0.5), "0.5"),
        (np.int64(3), "3"),
        (float("nan"), "nan"),
        ([1, "a", None], "[1, 'a', null]"),
        ({"x": [True]}, "{'x': [true]}"),
    ],
)
def test_excerpt_spells_values_as_yaml_would(value: object, shown: str) -> None:
    assert checks.excerpt(value) == shown


def test_excerpt_is_bounded() -> None:
    shown = checks.excerpt(list(range(10_000)))
    assert len(shown) == checks.EXCERPT_CHARS and shown.endswith("…")
    assert shown.startswith("[0, 1, 2, ")
    assert len(checks.excerpt("x" * 1_000_000)) == checks.EXCERPT_CHARS
    assert len(checks.excerpt(list(range(100)), limit=10)) == 10


def test_excerpt_of_an_alias_bomb_or_a_cycle_is_quick() -> None:
    # what YAML aliases build: a few lists shared a billion times over, never copied
    bomb: list[object] = ["lol"] * 9
    for _ in range(9):
        bomb = [bomb] * 9
    cycle: list[object] = [1]
    cycle.append(cycle)
    start = time.perf_counter()
    for value in (bomb, cycle):
        assert len(checks.excerpt(value)) == checks.EXCERPT_CHARS
    assert time.perf_counter() - start < 0.5


def test_messages_show_excerpts() -> None:
    with pytest.raises(CheckError) as err:
        checks.number("z" * 10_000, "optimizer.lr")
    assert len(str(err.value)) < 2 * checks.EXCERPT_CHARS + 40
    with pytest.raises(CheckError) as err:
        checks.choice(["x"] * 10_000, "model.init", ("normal", "he"))
    assert "…" in str(err.value) and len(str(err.value)) < 200


# --- did you mean ------------------------------------------------------------------------------------


def test_did_you_mean() -> None:
    names = ("sgd", "sgdm", "momentum", "adagrad", "rmsprop", "adam")
    assert checks.did_you_mean("adma", names) == (
        "did you mean 'adam'? known: sgd, sgdm, momentum, adagrad, rmsprop, adam"
    )
    assert checks.did_you_mean("zzz", names) == "known: sgd, sgdm, momentum, adagrad, rmsprop, adam"
    assert checks.did_you_mean(3, names).startswith("known: ")
    assert checks.did_you_mean("x", ()) == "known: none"
    # difflib finds nothing this short; a unique prefix is still a clear hint, an ambiguous one is not
    types = schedules.SCHEDULE_TYPES
    assert checks.did_you_mean("expo", types).startswith("did you mean 'exponential'? ")
    assert checks.did_you_mean("Cos", types).startswith("known: ")  # cosine, cosine_restarts


# --- numbers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "value", "problem"),
    [
        ({}, "a", "must be a number, got 'a'"),
        ({"low": 0.0}, True, "must be a number >= 0, got true"),
        ({"low": 0.0}, None, "must be a number >= 0, got null"),
        ({"low": 0.0}, "1e-7", "must be a number >= 0, got '1e-7' (text, not a number: drop the quotes)"),
        ({"low": 0.0}, -0.1, "must be >= 0, got -0.1"),
        ({"low": 0.0, "low_open": True}, 0, "must be > 0, got 0"),
        ({"high": 1.0}, 2, "must be <= 1, got 2"),
        ({"high": 1.0, "high_open": True}, 1.0, "must be < 1, got 1.0"),
        ({"low": 0.0, "high": 1.0, "high_open": True}, 1, "must be in [0, 1), got 1"),
        ({"low": 0.0, "high": 1.0}, 1.5, "must be in [0, 1], got 1.5"),
        ({"low": 0.0, "high": 1.0, "low_open": True}, 0.0, "must be in (0, 1], got 0.0"),
        ({"low": 0.0}, math.inf, "must be a finite number >= 0, got inf"),
        ({}, math.nan, "must be a finite number, got nan"),
        ({}, 10**400, "must be a finite number, got 1000000000000"),  # beyond float: not finite
        ({"low": 0.0, "alternative": "or null (off)"}, -1, "must be >= 0 or null (off), got -1"),
    ],
)
def test_number_refuses(kwargs: dict[str, object], value: object, problem: str) -> None:
    with pytest.raises(Custom) as err:
        checks.number(value, "a.key", error=Custom, **kwargs)  # type: ignore[arg-type]
    assert err.value.key == "a.key"
    assert err.value.problem.startswith(problem)


def test_number_accepts() -> None:
    assert checks.number(3, "k") == 3.0 and type(checks.number(3, "k")) is float
    assert checks.number(np.float32(0.5), "k", low=0.0, high=1.0) == 0.5
    assert checks.number(0.0, "k", low=0.0) == 0.0
    assert checks.number(1.0, "k", high=1.0) == 1.0
    assert checks.number(-1e300, "k") == -1e300


@given(st.one_of(st.floats(), st.integers(), st.booleans(), st.text(max_size=5), st.none()))
def test_number_returns_a_finite_float_in_range_or_one_line(value: object) -> None:
    try:
        x = checks.number(value, "k", low=-1.0, high=2.0, high_open=True)
    except CheckError as exc:
        assert exc.key == "k" and "\n" not in str(exc)
    else:
        assert type(x) is float and math.isfinite(x) and -1.0 <= x < 2.0


@pytest.mark.parametrize(
    ("value", "expected"), [(3, 3), (3.0, 3), (1e3, 1000), (np.int32(7), 7), (np.float64(2.0), 2)]
)
def test_integer_accepts_integer_valued_numbers(value: object, expected: int) -> None:
    n = checks.integer(value, "k", low=1)
    assert n == expected and type(n) is int


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (True, "must be an integer >= 1, got true"),
        (2.5, "must be an integer >= 1, got 2.5"),
        (math.inf, "must be an integer >= 1, got inf"),
        (math.nan, "must be an integer >= 1, got nan"),
        (0, "must be an integer >= 1, got 0"),
        ("5", "must be an integer >= 1, got '5' (text, not a number: drop the quotes)"),
        ([5], "must be an integer >= 1, got [5]"),
    ],
)
def test_integer_refuses(value: object, problem: str) -> None:
    with pytest.raises(CheckError) as err:
        checks.integer(value, "train.epochs", low=1)
    assert (err.value.key, err.value.problem) == ("train.epochs", problem)


def test_integer_bounds() -> None:
    assert checks.integer(10, "k", low=1, high=10) == 10
    with pytest.raises(CheckError, match=r"^k: must be an integer in \[1, 10\], got 11$"):
        checks.integer(11, "k", low=1, high=10)


# --- flags, choices, lists, keys --------------------------------------------------------------------


def test_flag() -> None:
    assert checks.flag(True, "k") is True and checks.flag(np.bool_(False), "k") is False
    for value, shown in ((1, "1"), ("yes", "'yes'"), (None, "null")):
        with pytest.raises(CheckError) as err:
            checks.flag(value, "data.shuffle")
        assert str(err.value) == f"data.shuffle: must be true or false, got {shown}"


def test_choice() -> None:
    assert checks.choice("relu", "model.activation", ("relu", "tanh")) == "relu"
    with pytest.raises(Custom) as err:
        checks.choice("rellu", "model.activation", ("relu", "tanh"), error=Custom)
    assert str(err.value) == "model.activation: unknown value 'rellu'; did you mean 'relu'? known: relu, tanh"
    with pytest.raises(CheckError, match=r"^model\.activation: unknown value 3; known: relu, tanh$"):
        checks.choice(3, "model.activation", ("relu", "tanh"))


def test_number_list() -> None:
    assert checks.number_list((0, 2.5), "b", low=0.0, increasing=True) == [0.0, 2.5]
    cases = [
        ([], {}, "b", "must be a non-empty list of numbers, got []"),
        ("12", {}, "b", "must be a non-empty list of numbers, got '12'"),
        ([1, -1], {"low": 0.0}, "b[1]", "must be >= 0, got -1"),
        ([1, "x"], {}, "b[1]", "must be a number, got 'x'"),
        ([2, 2], {"increasing": True}, "b", "must be strictly increasing, got [2, 2]"),
    ]
    for value, kwargs, key, problem in cases:
        with pytest.raises(CheckError) as err:
            checks.number_list(value, "b", **kwargs)  # type: ignore[arg-type]
        assert (err.value.key, err.value.problem) == (key, problem)


def test_check_keys() -> None:
    checks.check_keys({"lr": 1, "name": 2}, ["name", "lr"])
    with pytest.raises(CheckError) as err:
        checks.check_keys({"bata1": 1}, ["beta1", "beta2"], prefix="optimizer.")
    assert str(err.value) == "optimizer.bata1: unknown key; did you mean 'beta1'? known: beta1, beta2"
    with pytest.raises(Custom) as err:
        checks.check_keys(["momentum"], [], prefix="optimizer.", what="setting of sgd", error=Custom)
    assert str(err.value) == "optimizer.momentum: not a setting of sgd; known: none"
    with pytest.raises(CheckError) as err:
        checks.check_keys({1: "x"}, ["a"])
    assert err.value.key == "1"
    with pytest.raises(CheckError) as err:
        checks.check_keys({"k" * 10_000: 1}, ["a"], prefix="model.")
    assert len(err.value.key) <= len("model.") + checks.EXCERPT_CHARS
