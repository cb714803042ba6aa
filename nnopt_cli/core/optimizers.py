"""Optimizers as init/update pairs over flat parameter arrays.

An optimizer is `Optimizer(init, update)`:

    state = opt.init(params)               # a small NamedTuple of arrays shaped like params
    opt.update(params, grads, state, lr)   # one step, in place on params and state

`params` is one run's flat (n,) vector or a stacked (P, n) array (each row one run); every rule is
elementwise, so a row updated inside the stack equals that row updated alone, bit for bit. `update`
may overwrite `grads`: it is the scratch space that keeps a step to a handful of in-place ufuncs.
The caller sets `np.errstate` once for the whole loop, so nothing here touches floating-point flags.

g is the gradient of the full objective (data loss + regularizer); eps sits outside the square root.
`lr` is a number, or an array that broadcasts against params: a (P, 1) column gives each row of a stack
its own rate (`population.Population` passes one per update), and a row's update is then the same
arithmetic as with its rate alone.

Trajectories agree with PyTorch's (torch.optim, foreach=False) to round-off; the operations follow
torch's order except where one ufunc less asks otherwise: Adam's first moment is the paper's
β1·m + (1 − β1)·g rather than torch's lerp, and its step folds the bias corrections.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from nnopt_cli import checks
from nnopt_cli.checks import CheckError
from nnopt_cli.keys import Key, setting_keys


class OptimizerError(CheckError):
    """An optimizer name or setting that nnopt cannot use; `key` names it, str() is one line."""


OPTIMIZER_NAMES: tuple[str, ...] = ("sgd", "sgdm", "momentum", "adagrad", "rmsprop", "adam")

# Hyperparameters other than lr (and the legacy decay, which the caller applies to the lr trace).
OPTIMIZER_PARAMS: dict[str, dict[str, object]] = {
    "sgd": {},
    "sgdm": {"beta": 0.9},
    "momentum": {"momentum": 0.9, "nesterov": False},
    "adagrad": {"initial_accumulator": 0.0, "eps": 1e-7},
    "rmsprop": {"beta": 0.9, "eps": 1e-7},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
}

RULES: dict[str, str] = {  # short, for a table: m and v are moving averages, a a running sum
    "sgd": "w −= lr·g",
    "sgdm": "m = βm + (1−β)g; w −= lr·m",
    "momentum": "v = μv + g; w −= lr·v",
    "adagrad": "a += g²; w −= lr·g/(√a + ε)",
    "rmsprop": "v = βv + (1−β)g²; w −= lr·g/(√v + ε)",
    "adam": "m, v as sgdm, rmsprop; w −= lr·m̂/(√v̂ + ε)",
}


def rule(name: str, hparams: Mapping[str, object]) -> str:
    """The update rule of `name` in short, Nesterov's where momentum has nesterov: true."""
    if name == "momentum" and hparams.get("nesterov"):
        return "v = μv + g; w −= lr·(g + μv)"
    return RULES[name]


_UNIT_INTERVAL = ("beta", "beta1", "beta2", "momentum")  # each must lie in [0, 1)
_NON_NEGATIVE = ("eps", "initial_accumulator")
_FLAGS = ("nesterov",)


# A learning rate: one number, or a column of one per row of a stack.
Rate = float | np.ndarray


class Optimizer(NamedTuple):
    """An optimizer as a pair of functions.

    Attributes:
      init: params (any shape) -> state, a NamedTuple of arrays shaped like params (plus a step
        count for Adam).
      update: update(params, grads, state, lr) applies one step in place to params and state and
        returns None; grads may be overwritten; lr is a number or a column of rates, one per row.
    """

    init: Callable[[np.ndarray], tuple[np.ndarray, ...]]
    update: Callable[[np.ndarray, np.ndarray, Any, Rate], None]


class EmptyState(NamedTuple):
    """Plain SGD keeps nothing between steps."""


class SGDMState(NamedTuple):
    m: np.ndarray  # moving average of g, starts at 0


class MomentumState(NamedTuple):
    v: np.ndarray  # velocity, starts at 0


class AdagradState(NamedTuple):
    a: np.ndarray  # sum of g², starts at initial_accumulator


class RMSPropState(NamedTuple):
    v: np.ndarray  # moving average of g², starts at 0


class AdamState(NamedTuple):
    t: np.ndarray  # step count, 0-d int64 so the update can bump it in place
    m: np.ndarray  # first moment, starts at 0
    v: np.ndarray  # second moment, starts at 0


def _scalar(value: float = 0.0) -> np.ndarray:
    # A ufunc takes a 0-d array operand ~0.5 µs faster than a Python float (no scalar conversion),
    # a third of the cost of an op on 45 entries, so the constants live in these.
    return np.array(value, dtype=np.float64)


# --- the rules -----------------------------------------------------------------------------------


def sgd() -> Optimizer:
    """Plain gradient descent (tf GradientDescentOptimizer, torch SGD).

        w ← w − lr·g

    No state.
    """

    def init(params: np.ndarray) -> EmptyState:
        del params
        return EmptyState()

    def update(params: np.ndarray, grads: np.ndarray, state: EmptyState, lr: Rate) -> None:
        grads *= lr
        params -= grads

    return Optimizer(init, update)


def sgdm(beta: float = 0.9) -> Optimizer:
    """The course's SGD with momentum, an exponential moving average of the gradient.

        m ← β·m + (1 − β)·g
        w ← w − lr·m

    m starts at 0, so the first step is (1 − β) times sgd's.
    """
    beta_, one_minus_beta = _scalar(beta), _scalar(1.0 - beta)

    def init(params: np.ndarray) -> SGDMState:
        return SGDMState(m=np.zeros_like(params, dtype=np.float64))

    def update(params: np.ndarray, grads: np.ndarray, state: SGDMState, lr: Rate) -> None:
        m = state.m
        m *= beta_
        grads *= one_minus_beta
        m += grads
        np.multiply(m, lr, out=grads)
        params -= grads

    return Optimizer(init, update)


def momentum(momentum: float = 0.9, nesterov: bool = False) -> Optimizer:
    """Heavy-ball momentum (Polyak, 1964) as tf MomentumOptimizer and torch SGD(dampening=0).

        v ← μ·v + g
        w ← w − lr·v                 (nesterov=False)
        w ← w − lr·(g + μ·v)         (nesterov=True; Sutskever et al., 2013, in torch's form)

    v starts at 0, so the first v is g, the copy of g torch's first step puts in its buffer.
    """
    mu = _scalar(momentum)

    def init(params: np.ndarray) -> MomentumState:
        return MomentumState(v=np.zeros_like(params, dtype=np.float64))

    def update(params: np.ndarray, grads: np.ndarray, state: MomentumState, lr: Rate) -> None:
        v = state.v
        v *= mu
        v += grads
        np.multiply(v, lr, out=grads)
        params -= grads

    def update_nesterov(params: np.ndarray, grads: np.ndarray, state: MomentumState, lr: Rate) -> None:
        v = state.v
        v *= mu
        v += grads
        grads += v * mu
        grads *= lr
        params -= grads

    return Optimizer(init, update_nesterov if nesterov else update)


def adagrad(initial_accumulator: float = 0.0, eps: float = 1e-7) -> Optimizer:
    """Adagrad (Duchi, Hazan & Singer, 2011) as torch Adagrad(eps, initial_accumulator_value).

        a ← a + g²                   (a starts at initial_accumulator)
        w ← w − lr·g/(√a + eps)

    Steps shrink as a grows, fastest along coordinates with large past gradients.
    """
    eps_ = _scalar(eps)

    def init(params: np.ndarray) -> AdagradState:
        return AdagradState(a=np.full_like(params, initial_accumulator, dtype=np.float64))

    def update(params: np.ndarray, grads: np.ndarray, state: AdagradState, lr: Rate) -> None:
        a = state.a
        denom = grads * grads
        a += denom
        np.sqrt(a, out=denom)
        denom += eps_
        # (lr·g)/denom, not lr·(g/denom): the rounding of torch's addcdiv
        grads *= lr
        grads /= denom
        params -= grads

    return Optimizer(init, update)


def rmsprop(beta: float = 0.9, eps: float = 1e-7) -> Optimizer:
    """RMSProp (Tieleman & Hinton, 2012) as torch RMSprop(alpha=beta, eps).

        v ← β·v + (1 − β)·g²         (v starts at 0)
        w ← w − lr·g/(√v + eps)

    Unlike Adagrad, v forgets: steps stay near lr in size. (TF1's RMSProp starts v at ones.)
    """
    beta_, one_minus_beta, eps_ = _scalar(beta), _scalar(1.0 - beta), _scalar(eps)

    def init(params: np.ndarray) -> RMSPropState:
        return RMSPropState(v=np.zeros_like(params, dtype=np.float64))

    def update(params: np.ndarray, grads: np.ndarray, state: RMSPropState, lr: Rate) -> None:
        v = state.v
        v *= beta_
        denom = grads * one_minus_beta
        denom *= grads
        v += denom
        np.sqrt(v, out=denom)
        denom += eps_
        grads *= lr
        grads /= denom
        params -= grads

    return Optimizer(init, update)


def adam(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7) -> Optimizer:
    """Adam (Kingma & Ba, 2015) as torch Adam(eps); eps is outside the root, unlike TF's eps-hat.

        t ← t + 1                    (t = 1 on the first update)
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        m̂ = m/(1 − β1^t),  v̂ = v/(1 − β2^t)
        w ← w − lr·m̂/(√v̂ + eps)

    The step is computed as lr·√(1 − β2^t)/(1 − β1^t) · m/(√v + eps·√(1 − β2^t)): the same
    number up to round-off (the paper's "efficient version" with the eps above), in 12 ufuncs.
    """
    beta1_, beta2_ = _scalar(beta1), _scalar(beta2)
    one_minus_beta1, one_minus_beta2 = _scalar(1.0 - beta1), _scalar(1.0 - beta2)

    def init(params: np.ndarray) -> AdamState:
        return AdamState(
            t=np.zeros((), dtype=np.int64),
            m=np.zeros_like(params, dtype=np.float64),
            v=np.zeros_like(params, dtype=np.float64),
        )

    def update(params: np.ndarray, grads: np.ndarray, state: AdamState, lr: Rate) -> None:
        t = int(state.t) + 1
        state.t[()] = t
        # the bias corrections are scalars: Python floats, no array op
        bias_correction2_sqrt = math.sqrt(1.0 - beta2**t)
        step_size = lr * bias_correction2_sqrt / (1.0 - beta1**t)  # lr·√(1 − β2^t)/(1 − β1^t)
        eps_hat = eps * bias_correction2_sqrt
        m, v = state.m, state.v
        v *= beta2_
        denom = grads * one_minus_beta2
        denom *= grads
        v += denom
        m *= beta1_
        grads *= one_minus_beta1
        m += grads
        np.sqrt(v, out=denom)
        denom += eps_hat
        np.multiply(m, step_size, out=grads)
        grads /= denom
        params -= grads

    return Optimizer(init, update)


_FACTORIES: dict[str, Callable[..., Optimizer]] = {
    "sgd": sgd,
    "sgdm": sgdm,
    "momentum": momentum,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}


# The state each rule keeps between steps: its arrays' names are what a run folder's state.npz saves.
_STATES: dict[str, Any] = {  # NamedTuple classes
    "sgd": EmptyState,
    "sgdm": SGDMState,
    "momentum": MomentumState,
    "adagrad": AdagradState,
    "rmsprop": RMSPropState,
    "adam": AdamState,
}


def state_names(name: str) -> tuple[str, ...]:
    """The names of the arrays rule `name` keeps between steps, in its state's order: none for sgd, m for
    sgdm, v for momentum (the velocity), a for adagrad (the accumulator), v for rmsprop, t, m and v for adam
    (t, the step count, a 0-d int64)."""
    return tuple(_STATES[name]._fields)


def build(name: str, hparams: Mapping[str, Any]) -> Optimizer:
    """The rule `name` with settings already validated (`check_params`): no checks, no defaults."""
    return _FACTORIES[name](**hparams)


# --- validation ----------------------------------------------------------------------------------


def check_params(name: str, hparams: Mapping[str, object]) -> dict[str, object]:
    """The settings of optimizer `name` (other than lr and decay), checked, with defaults filled in.

    Args:
      name: one of OPTIMIZER_NAMES.
      hparams: settings of that optimizer (OPTIMIZER_PARAMS[name]); missing ones take the defaults
        there. beta, beta1, beta2 and momentum must lie in [0, 1); eps and initial_accumulator must be
        finite and >= 0 (eps = 0 gives the textbook formulas, where a zero gradient gives 0/0 = NaN);
        nesterov must be true or false.

    Returns:
      Every setting of `name`, in OPTIMIZER_PARAMS order: numbers as floats, flags as bools.

    Raises:
      OptimizerError: unknown name or setting (with a did-you-mean), or a value out of range; its key is
        the setting's config key ("optimizer.beta1").
    """
    name = checks.choice(name, "optimizer.name", OPTIMIZER_NAMES, error=OptimizerError)
    defaults = OPTIMIZER_PARAMS[name]
    checks.check_keys(
        hparams, list(defaults), prefix="optimizer.", what=f"setting of {name}", error=OptimizerError
    )
    settings: dict[str, object] = {}
    for key, default in defaults.items():
        value, path = hparams.get(key, default), f"optimizer.{key}"
        if key in _FLAGS:
            settings[key] = checks.flag(value, path, error=OptimizerError)
        elif key in _UNIT_INTERVAL:
            settings[key] = checks.number(
                value, path, low=0.0, high=1.0, high_open=True, error=OptimizerError
            )
        else:
            assert key in _NON_NEGATIVE, key
            settings[key] = checks.number(value, path, low=0.0, error=OptimizerError)
    return settings


def make_optimizer(name: str, **hparams: object) -> Optimizer:
    """The optimizer `name` with its settings (other than lr) checked by `check_params`.

    Raises:
      OptimizerError: as check_params.
    """
    settings = check_params(name, hparams)  # first: an unknown name is an OptimizerError, not a KeyError
    return _FACTORIES[name](**settings)


def legacy_decay(lr_trace: np.ndarray, decay: float, first_step: int = 0) -> np.ndarray:
    """Keras' legacy time decay applied to a learning-rate trace of updates first_step, first_step + 1, ...

        lr'_k = lr_k / (1 + decay·k),  k = first_step .. first_step + len − 1 (along the last axis)

    It compounds with any schedule. decay = 0 returns an unchanged float64 copy.

    Raises:
      OptimizerError: decay not a finite number >= 0.
    """
    d = checks.number(decay, "optimizer.decay", low=0.0, error=OptimizerError)
    lr = np.array(lr_trace, dtype=np.float64, copy=True)
    if d == 0.0 or lr.ndim == 0:
        return lr
    k = np.arange(first_step, first_step + lr.shape[-1], dtype=np.float64)
    lr /= 1.0 + d * k
    return lr


# --- config keys ---------------------------------------------------------------------------------

KEYS: tuple[Key, ...] = (
    Key(
        "optimizer.name",
        "sgd",
        lambda v: checks.choice(v, "optimizer.name", OPTIMIZER_NAMES),
        attr="optimizer",
    ),
    Key("optimizer.lr", 0.005, lambda v: checks.number(v, "optimizer.lr", low=0.0, low_open=True), attr="lr"),
    Key("optimizer.decay", 0.0, lambda v: checks.number(v, "optimizer.decay", low=0.0), attr="lr_decay"),
    *setting_keys("optimizer", "optimizer.name", OPTIMIZER_PARAMS),
)
"""The optimizer's keys: its name, rate and legacy decay, then every optimizer's settings (OPTIMIZER_PARAMS),
each applying to the optimizers that have it."""
