"""Learning-rate schedules: ``tf.compat.v1.train.*_decay`` as pure functions of the step.

``check_params(type, params)`` validates a type's parameters and fills in defaults; ``build(type, lr,
**checked)`` turns checked parameters into a :class:`Schedule` without checking again, and
``make_schedule(type, lr, **params)`` does both. A Schedule is a function of the global step ``k``
(0 for the first update). Called with an
``int`` it returns a ``float``; called with an integer array it returns a float64 array of the
same shape, computed in one vectorized pass. The value at ``k`` never depends on what was
evaluated before, so ``f(5) == f(np.arange(10))[5]`` exactly.

Every formula below is TensorFlow's, in float64 and with TensorFlow's order of operations (it
decides the last bit, and at a restart boundary of ``cosine_restarts`` even which period a step
falls in). Notation as in REFERENCE.md: ``k`` = step, ``D`` = ``decay_steps``, ``lr0`` = ``lr``.
"""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, Final, cast, overload

import numpy as np
from numpy.typing import NDArray

from nnopt_cli import checks
from nnopt_cli.checks import CheckError
from nnopt_cli.keys import Key, setting_keys

__all__ = [
    "REQUIRED",
    "SCHEDULE_PARAMS",
    "SCHEDULE_TYPES",
    "Schedule",
    "ScheduleError",
    "build",
    "check_params",
    "check_type",
    "config_key",
    "describe",
    "make_schedule",
]

Steps = NDArray[np.int64]
Rates = NDArray[np.float64]
# A schedule body: steps (1-D, contiguous, >= 0) -> rates, before warmup.
StepFn = Callable[[Steps], Rates]


class ScheduleError(CheckError):
    """An invalid schedule type or parameter; ``key`` names it, str() is one line."""


class _Required(enum.Enum):
    # An enum member stays the same object through copy, deepcopy and pickle, so a config
    # loader can test ``default is REQUIRED`` on a copied defaults table.
    REQUIRED = "REQUIRED"

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required.REQUIRED
"""Default of a parameter TensorFlow requires: it has to be given."""

SCHEDULE_TYPES: tuple[str, ...] = (
    "constant",
    "exponential",
    "natural_exp",
    "inverse_time",
    "polynomial",
    "cosine",
    "cosine_restarts",
    "linear_cosine",
    "noisy_linear_cosine",
    "piecewise_constant",
)

_DECAY: dict[str, object] = {"decay_steps": REQUIRED, "decay_rate": REQUIRED, "staircase": False}
_LINEAR_COSINE: dict[str, object] = {
    "decay_steps": REQUIRED,
    "num_periods": 0.5,
    "alpha": 0.0,
    "beta": 0.001,
}

SCHEDULE_PARAMS: dict[str, dict[str, object]] = {
    "constant": {},
    "exponential": dict(_DECAY),
    "natural_exp": dict(_DECAY),
    "inverse_time": dict(_DECAY),
    "polynomial": {"decay_steps": REQUIRED, "end_lr": 0.0001, "power": 1.0, "cycle": False},
    "cosine": {"decay_steps": REQUIRED, "alpha": 0.0},
    "cosine_restarts": {"first_decay_steps": REQUIRED, "t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0},
    "linear_cosine": dict(_LINEAR_COSINE),
    "noisy_linear_cosine": {**_LINEAR_COSINE, "initial_variance": 1.0, "variance_decay": 0.55},
    "piecewise_constant": {"boundaries": REQUIRED, "values": REQUIRED},
}
"""Each type's parameters with their defaults, named as in ``tf.compat.v1.train`` (``end_lr`` is
its ``end_learning_rate``)."""


# --------------------------------------------------------------------------------------------
# The schedule object


class Schedule:
    """A learning rate as a pure function of the step, optionally behind a linear warmup.

    ``f(k)`` for an ``int`` k gives a ``float``; ``f(ks)`` for an integer array gives a float64
    array of the same shape. With ``warmup_steps = W > 0`` the value is ``base(k) * k / W`` for
    ``k < W`` and ``base(k)`` from ``W`` on.
    """

    __slots__ = ("_fn", "lr", "params", "type", "warmup_steps")

    def __init__(
        self,
        type: str,
        lr: float,
        params: Mapping[str, object],
        fn: StepFn,
        warmup_steps: int = 0,
    ) -> None:
        self.type = type
        self.lr = lr
        self.params: dict[str, object] = dict(params)
        self.warmup_steps = warmup_steps
        self._fn = fn

    @overload
    def __call__(self, k: int | np.integer[Any]) -> float: ...

    @overload
    def __call__(self, k: NDArray[np.integer[Any]]) -> Rates: ...

    def __call__(self, k: int | np.integer[Any] | NDArray[np.integer[Any]]) -> float | Rates:
        if isinstance(k, np.ndarray):
            if not np.issubdtype(k.dtype, np.integer):
                raise TypeError(f"steps must be an integer array, got dtype {k.dtype}")
            # Always one contiguous 1-D int64 buffer: NumPy may pick a different (SIMD or
            # scalar) kernel for exp/log/cos/pow by layout, and that must not change a value.
            flat = np.ascontiguousarray(k, dtype=np.int64).reshape(-1)
            return self._evaluate(flat).reshape(k.shape)
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"step must be an int or an integer array, got {type(k).__name__}")
        return float(self._evaluate(np.array([k], dtype=np.int64))[0])

    def _evaluate(self, k: Steps) -> Rates:
        if k.size and k.min() < 0:
            raise ValueError(f"steps must be >= 0, got {int(k.min())}")
        rate = self._fn(k)
        w = self.warmup_steps
        if w > 0:
            rate = np.where(k < w, rate * k / w, rate)
        return rate

    def __repr__(self) -> str:
        args = "".join(f", {name}={value!r}" for name, value in self.params.items())
        warm = f", warmup_steps={self.warmup_steps}" if self.warmup_steps else ""
        return f"Schedule({self.type!r}, lr={self.lr!r}{args}{warm})"


# --------------------------------------------------------------------------------------------
# One factory per type: checked parameters in, step function out.


def _constant(lr: float) -> StepFn:
    """lr0 at every step."""

    def fn(k: Steps) -> Rates:
        return np.full(k.shape, lr, dtype=np.float64)

    return fn


def _exponential(lr: float, *, decay_steps: float, decay_rate: float, staircase: bool) -> StepFn:
    """lr0 * decay_rate ** p, p = k / D (floor(k / D) if staircase); never clipped."""

    def fn(k: Steps) -> Rates:
        p = k / decay_steps
        if staircase:
            p = np.floor(p)
        return lr * np.power(decay_rate, p)

    return fn


def _natural_exp(lr: float, *, decay_steps: float, decay_rate: float, staircase: bool) -> StepFn:
    """lr0 * exp(-decay_rate * p), p as for exponential.

    TensorFlow evaluates it as an exponential decay with rate exp(-decay_rate), i.e.
    lr0 * exp(-decay_rate) ** p; doing the same keeps the last bit equal.
    """
    return _exponential(lr, decay_steps=decay_steps, decay_rate=math.exp(-decay_rate), staircase=staircase)


def _inverse_time(lr: float, *, decay_steps: float, decay_rate: float, staircase: bool) -> StepFn:
    """lr0 / (1 + decay_rate * p), p as for exponential."""

    def fn(k: Steps) -> Rates:
        p = k / decay_steps
        if staircase:
            p = np.floor(p)
        return lr / (1.0 + decay_rate * p)

    return fn


def _polynomial(lr: float, *, decay_steps: float, end_lr: float, power: float, cycle: bool) -> StepFn:
    """(lr0 - end_lr) * (1 - k' / D') ** power + end_lr.

    Without cycle, k' = min(k, D) and D' = D. With cycle, k' = k and D' = D * ceil(k / D), the
    ceiling taken as 1 at k = 0; so at k = n * D the value is end_lr and it never returns to lr0.
    """

    def fn(k: Steps) -> Rates:
        kf = k.astype(np.float64)
        d: float | Rates
        if cycle:
            d = decay_steps * np.where(kf == 0, 1.0, np.ceil(kf / decay_steps))
        else:
            kf = np.minimum(kf, decay_steps)
            d = decay_steps
        p = kf / d
        # With cycle and a non-integer D, D * ceil(k / D) can round to just below k (D = 1.4, k = 63:
        # 62.99999999999999), so 1 - p = -2e-16, and a fractional power of it is NaN, in TensorFlow too.
        # The exact value is 0 there (k = n * D gives end_lr); clamping changes nothing else.
        return (lr - end_lr) * np.power(np.maximum(1.0 - p, 0.0), power) + end_lr

    return fn


def _cosine(lr: float, *, decay_steps: float, alpha: float) -> StepFn:
    """lr0 * ((1 - alpha) * c + alpha), c = 0.5 * (1 + cos(pi * k' / D)), k' = min(k, D).

    Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017.
    """

    def fn(k: Steps) -> Rates:
        fraction = np.minimum(k.astype(np.float64), decay_steps) / decay_steps
        c = 0.5 * (1.0 + np.cos(math.pi * fraction))
        return lr * ((1.0 - alpha) * c + alpha)

    return fn


def _cosine_restarts(
    lr: float, *, first_decay_steps: float, t_mul: float, m_mul: float, alpha: float
) -> StepFn:
    """Cosine decay restarted after F, F * t_mul, F * t_mul**2, ... steps (F = first_decay_steps).

    f = k / F. If t_mul == 1: i = floor(f), f = f - i. Otherwise
    i = floor(ln(1 - f * (1 - t_mul)) / ln(t_mul)) and
    f = (f - (1 - t_mul**i) / (1 - t_mul)) / t_mul**i.
    Value: lr0 * ((1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi * f)) + alpha).

    With t_mul < 1 the periods add up to F / (1 - t_mul) steps in all; from there on the
    logarithm's argument is <= 0 and the value is NaN, as in TensorFlow.
    Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017.
    """
    log_t_mul = math.log(t_mul)

    def fn(k: Steps) -> Rates:
        f = k / first_decay_steps
        if t_mul == 1.0:
            i = np.floor(f)
            f = f - i
        else:
            # TensorFlow's float64 log is NumPy's here up to an ulp; invalid/zero-division
            # warnings past the t_mul < 1 horizon are the documented NaN, not a bug.
            with np.errstate(invalid="ignore", divide="ignore"):
                i = np.floor(np.log(1.0 - f * (1.0 - t_mul)) / log_t_mul)
                scale = np.power(t_mul, i)
                f = (f - (1.0 - scale) / (1.0 - t_mul)) / scale
        c = 0.5 * np.power(m_mul, i) * (1.0 + np.cos(math.pi * f))
        return lr * ((1.0 - alpha) * c + alpha)

    return fn


def _linear_cosine_parts(k: Steps, decay_steps: float, num_periods: float) -> tuple[Rates, Rates, Rates]:
    """k' = min(k, D), lin = (D - k') / D and c = 0.5 * (1 + cos(2 pi num_periods k' / D))."""
    kc = np.minimum(k.astype(np.float64), decay_steps)
    lin = (decay_steps - kc) / decay_steps
    fraction = 2.0 * num_periods * (kc / decay_steps)
    c = 0.5 * (1.0 + np.cos(math.pi * fraction))
    return kc, lin, c


def _linear_cosine(lr: float, *, decay_steps: float, num_periods: float, alpha: float, beta: float) -> StepFn:
    """lr0 * ((alpha + lin) * c + beta), lin and c as in ``_linear_cosine_parts``.

    Bello et al., "Neural Optimizer Search with Reinforcement Learning", ICML 2017.
    """

    def fn(k: Steps) -> Rates:
        _, lin, c = _linear_cosine_parts(k, decay_steps, num_periods)
        return lr * ((alpha + lin) * c + beta)

    return fn


class _StandardNormals:
    """z[k] for k = 0, 1, ...: the k-th draw of ``np.random.default_rng(seed).standard_normal``.

    The table is regrown from a fresh generator when a larger step is asked for. A generator's
    first n normals do not depend on how many are drawn, so z[k] is a fixed function of
    (seed, k) whatever was evaluated before.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._z: Rates = np.empty(0, dtype=np.float64)

    def __getitem__(self, k: Steps) -> Rates:
        need = int(k.max()) + 1 if k.size else 0
        if need > self._z.size:
            size = max(need, 2 * self._z.size, 1024)
            self._z = np.random.default_rng(self.seed).standard_normal(size)
        return self._z[k]


def _noisy_linear_cosine(
    lr: float,
    *,
    decay_steps: float,
    num_periods: float,
    alpha: float,
    beta: float,
    initial_variance: float,
    variance_decay: float,
    seed: int,
) -> StepFn:
    """lr0 * ((alpha + lin + eps) * c + beta), lin and c as for linear_cosine.

    eps ~ N(0, initial_variance / (1 + k')**variance_decay): that is the variance, the standard
    deviation is its square root. TensorFlow draws eps unseeded; here it is z[k] * std with z
    fixed by ``seed``, so a run is reproducible and each step's noise is its own.
    Bello et al., "Neural Optimizer Search with Reinforcement Learning", ICML 2017.
    """
    normals = _StandardNormals(seed)

    def fn(k: Steps) -> Rates:
        kc, lin, c = _linear_cosine_parts(k, decay_steps, num_periods)
        std = np.sqrt(initial_variance / np.power(1.0 + kc, variance_decay))
        noisy_lin = lin + normals[k] * std
        return lr * ((alpha + noisy_lin) * c + beta)

    return fn


def _piecewise_constant(lr: float, *, boundaries: list[float], values: list[float]) -> StepFn:
    """values[0] for k <= b0, values[i] for b(i-1) < k <= b(i), values[-1] for k > b(-1).

    lr0 plays no part: the values are the rates.
    """
    b = np.asarray(boundaries, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)

    def fn(k: Steps) -> Rates:
        # side="left" gives the first i with b[i] >= k: a step on a boundary keeps the value
        # before it, as TensorFlow's k <= b(i) does.
        return v[np.searchsorted(b, k, side="left")]

    return fn


_FACTORIES: dict[str, Callable[..., StepFn]] = {
    "constant": _constant,
    "exponential": _exponential,
    "natural_exp": _natural_exp,
    "inverse_time": _inverse_time,
    "polynomial": _polynomial,
    "cosine": _cosine,
    "cosine_restarts": _cosine_restarts,
    "linear_cosine": _linear_cosine,
    "noisy_linear_cosine": _noisy_linear_cosine,
    "piecewise_constant": _piecewise_constant,
}


# --------------------------------------------------------------------------------------------
# Validation: one check per parameter name (a name means the same in every type).

KeyOf = Callable[[str], str]
"""Spells the key of a schedule argument in an error: "decay_steps" -> "schedule.decay_steps"."""


def config_key(name: str) -> str:
    """The config key path of a schedule argument: its section's key, "optimizer.lr" for lr, "seed"."""
    if name == "lr":
        return "optimizer.lr"
    return name if name == "seed" else f"schedule.{name}"


def _non_negative(value: object, key: str) -> float:
    return checks.number(value, key, low=0.0, error=ScheduleError)


def _positive(value: object, key: str) -> float:
    return checks.number(value, key, low=0.0, low_open=True, error=ScheduleError)


def _fraction(value: object, key: str) -> float:
    return checks.number(value, key, low=0.0, high=1.0, error=ScheduleError)


def _flag(value: object, key: str) -> bool:
    return checks.flag(value, key, error=ScheduleError)


def _rates(value: object, key: str) -> list[float]:
    return checks.number_list(value, key, low=0.0, error=ScheduleError)


def _boundaries(value: object, key: str) -> list[float]:
    return checks.number_list(value, key, low=0.0, increasing=True, error=ScheduleError)


_CHECKS: dict[str, Callable[[object, str], object]] = {
    "decay_steps": _positive,
    "decay_rate": _non_negative,
    "staircase": _flag,
    "end_lr": _non_negative,
    "power": _positive,
    "cycle": _flag,
    "alpha": _fraction,
    "beta": _non_negative,
    "num_periods": _non_negative,
    "initial_variance": _non_negative,
    "variance_decay": _non_negative,
    "first_decay_steps": _positive,
    "t_mul": _positive,
    "m_mul": _non_negative,
    "boundaries": _boundaries,
    "values": _rates,
}


def check_type(type: object, *, key_of: KeyOf = config_key) -> str:
    """`type` if it is one of SCHEDULE_TYPES, else a ScheduleError that suggests the closest."""
    return checks.choice(type, key_of("type"), SCHEDULE_TYPES, error=ScheduleError)


def check_params(
    type: object, params: Mapping[str, object], *, key_of: KeyOf = config_key
) -> dict[str, object]:
    """The parameters of a schedule type, checked, with every default filled in.

    Args:
      type: one of ``SCHEDULE_TYPES``.
      params: some of the type's parameters (``SCHEDULE_PARAMS[type]``); those left out take their
        default, except that a parameter whose default is ``REQUIRED`` must be given (not None).
      key_of: spells each parameter's key in an error (default: the config's "schedule.<name>").

    Returns:
      Every parameter of the type, in ``SCHEDULE_PARAMS`` order, as ``build`` takes them: numbers as
      floats, flags as bools, lists as lists of floats.

    Raises:
      ScheduleError: an unknown type or parameter, a missing required one, a value out of range.
    """
    type = check_type(type, key_of=key_of)
    defaults = SCHEDULE_PARAMS[type]
    for name in params:
        if name not in defaults:
            allowed = list(defaults)
            raise ScheduleError(
                key_of(str(name)) if isinstance(name, str) else checks.excerpt(name),
                f"not a parameter of the {type} schedule; {checks.did_you_mean(name, allowed)}",
            )
    checked: dict[str, object] = {}
    for name, default in defaults.items():
        value = params.get(name, default)
        if value is REQUIRED or (value is None and default is REQUIRED):
            raise ScheduleError(key_of(name), f"is required by the {type} schedule")
        checked[name] = _CHECKS[name](value, key_of(name))
    if type == "piecewise_constant":
        n = len(cast(list[float], checked["boundaries"]))
        got = len(cast(list[float], checked["values"]))
        if got != n + 1:
            raise ScheduleError(
                key_of("values"), f"must have one more entry than {key_of('boundaries')} ({n + 1}), got {got}"
            )
    return checked


def build(type: str, lr: float, *, seed: int = 0, warmup_steps: int = 0, **params: object) -> Schedule:
    """The schedule from arguments that are already checked; it checks nothing again.

    Args:
      type: one of ``SCHEDULE_TYPES``.
      lr: the initial rate lr0, a finite number >= 0 (unused by ``piecewise_constant``).
      seed: fixes the noise of ``noisy_linear_cosine``; ignored by the other types.
      warmup_steps: W >= 0; for k < W the rate is ``schedule(k) * k / W``.
      **params: every parameter of the type, as ``check_params`` returns them.
    """
    # Only the noisy schedule draws random numbers; the others take no seed.
    extra = {"seed": seed} if type == "noisy_linear_cosine" else {}
    fn = _FACTORIES[type](lr, **params, **extra)
    return Schedule(type, lr, params, fn, warmup_steps)


def make_schedule(
    type: str,
    lr: float,
    *,
    seed: int = 0,
    warmup_steps: int = 0,
    key_of: KeyOf = config_key,
    **params: object,
) -> Schedule:
    """Check every argument, then build the learning-rate schedule.

    Args:
      type: one of ``SCHEDULE_TYPES``.
      lr: the initial rate lr0 (``optimizer.lr``), >= 0. Unused by ``piecewise_constant``.
      seed: fixes the noise of ``noisy_linear_cosine``; ignored by the other types.
      warmup_steps: W >= 0; for k < W the rate is ``schedule(k) * k / W``.
      key_of: spells each argument's key in an error ("schedule.decay_steps"; plot-lr: "--decay-steps").
      **params: the type's parameters (``SCHEDULE_PARAMS[type]``); omitted ones take their
        default, except those whose default is ``REQUIRED``.

    Returns:
      A :class:`Schedule`: ``f(k) -> float`` for an int step, ``f(ks) -> float64 array`` for an
      integer array of steps.

    Raises:
      ScheduleError: for an unknown type, an unknown, missing or invalid parameter.
    """
    type = check_type(type, key_of=key_of)
    lr = checks.number(lr, key_of("lr"), low=0.0, error=ScheduleError)
    seed = checks.integer(seed, key_of("seed"), low=0, error=ScheduleError)
    warmup_steps = checks.integer(warmup_steps, key_of("warmup_steps"), low=0, error=ScheduleError)
    checked = check_params(type, params, key_of=key_of)
    return build(type, lr, seed=seed, warmup_steps=warmup_steps, **checked)


# --------------------------------------------------------------------------------------------
# Labels


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(x) for x in value) + "]"
    return str(value)


def describe(type: str, params: Mapping[str, object]) -> str:
    """A short legend label, e.g. ``"exponential (decay_steps=10, decay_rate=0.9, staircase)"``.

    Shows the required parameters, the others only where they differ from their default, a true
    flag by its name alone, and ``warmup=W`` when ``params`` has ``warmup_steps > 0``. Other keys
    (``type``, ``unit``, ...) are ignored.
    """
    type = check_type(type)
    parts = []
    for name, default in SCHEDULE_PARAMS[type].items():
        if name not in params:
            continue
        value = params[name]
        if default is not REQUIRED and value == default:
            continue
        if isinstance(value, (bool, np.bool_)):
            parts.append(name)  # only a true flag gets here: false is every flag's default
        else:
            parts.append(f"{name}={_show(value)}")
    warmup = params.get("warmup_steps")
    if isinstance(warmup, numbers.Integral) and not isinstance(warmup, bool) and int(warmup) > 0:
        parts.append(f"warmup={warmup}")
    return f"{type} ({', '.join(parts)})" if parts else type


# --- config keys ---------------------------------------------------------------------------------

UNITS = ("step", "epoch")

KEYS: tuple[Key, ...] = (
    Key("schedule.type", "constant", lambda v: check_type(v), attr="schedule"),
    Key("schedule.unit", "step", lambda v: checks.choice(v, "schedule.unit", UNITS), attr="unit"),
    Key("schedule.warmup_steps", 0, lambda v: checks.integer(v, "schedule.warmup_steps", low=0)),
    *setting_keys("schedule", "schedule.type", SCHEDULE_PARAMS, skip=(REQUIRED,)),
)
"""The schedule's keys: its type, unit and warmup, then every type's parameters (SCHEDULE_PARAMS), each
applying to the types that have it."""
