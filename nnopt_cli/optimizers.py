"""Optimizers as init/update pairs over flat parameter arrays.

An optimizer is `Optimizer(init, update)`:

    state = opt.init(params)               # a small NamedTuple of arrays shaped like params
    opt.update(params, grads, state, lr)   # one step, in place on params and state

`params` is one run's flat (n,) vector or a stacked (P, n) array (each row one run); every rule is
elementwise, so a row updated inside the stack equals that row updated alone, bit for bit. `update`
may overwrite `grads`: it is the scratch space that keeps a step to a handful of in-place ufuncs.
The caller sets `np.errstate` once for the whole loop, so nothing here touches floating-point flags.

g is the gradient of the full objective (data loss + regularizer); eps sits outside the square root.
Trajectories agree with PyTorch's (torch.optim, foreach=False) to round-off; the operations follow
torch's order except where one shared form of all rules (`FusedRows`, which trains several runs with
different rules in one set of ufunc calls) or one ufunc less asks otherwise: Adam's first moment is the
paper's β1·m + (1 − β1)·g rather than torch's lerp, and its step folds the bias corrections.

`FusedRows` restates every rule with per-row constants; a test holds it to each rule's `update`, bit
for bit, so a change to a rule here must be made there too.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np


class OptimizerError(ValueError):
    """An optimizer name or setting that nnopt cannot use; the message is one line."""


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


class Optimizer(NamedTuple):
    """An optimizer as a pair of functions.

    Attributes:
      init: params (any shape) -> state, a NamedTuple of arrays shaped like params (plus a step
        count for Adam).
      update: update(params, grads, state, lr) applies one step in place to params and state and
        returns None; grads may be overwritten.
    """

    init: Callable[[np.ndarray], tuple[np.ndarray, ...]]
    update: Callable[[np.ndarray, np.ndarray, Any, float], None]


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
    # a third of the cost of an op on 45 entries, so constants and the per-step lr live in these.
    return np.array(value, dtype=np.float64)


# --- the rules -----------------------------------------------------------------------------------


def sgd() -> Optimizer:
    """Plain gradient descent (tf GradientDescentOptimizer, torch SGD).

        w ← w − lr·g

    No state.
    """
    lr_ = _scalar()

    def init(params: np.ndarray) -> EmptyState:
        del params
        return EmptyState()

    def update(params: np.ndarray, grads: np.ndarray, state: EmptyState, lr: float) -> None:
        lr_[()] = lr
        grads *= lr_
        params -= grads

    return Optimizer(init, update)


def sgdm(beta: float = 0.9) -> Optimizer:
    """The course's SGD with momentum, an exponential moving average of the gradient.

        m ← β·m + (1 − β)·g
        w ← w − lr·m

    m starts at 0, so the first step is (1 − β) times sgd's.
    """
    beta_, one_minus_beta, lr_ = _scalar(beta), _scalar(1.0 - beta), _scalar()

    def init(params: np.ndarray) -> SGDMState:
        return SGDMState(m=np.zeros_like(params, dtype=np.float64))

    def update(params: np.ndarray, grads: np.ndarray, state: SGDMState, lr: float) -> None:
        lr_[()] = lr
        m = state.m
        m *= beta_
        grads *= one_minus_beta
        m += grads
        np.multiply(m, lr_, out=grads)
        params -= grads

    return Optimizer(init, update)


def momentum(momentum: float = 0.9, nesterov: bool = False) -> Optimizer:
    """Heavy-ball momentum (Polyak, 1964) as tf MomentumOptimizer and torch SGD(dampening=0).

        v ← μ·v + g
        w ← w − lr·v                 (nesterov=False)
        w ← w − lr·(g + μ·v)         (nesterov=True; Sutskever et al., 2013, in torch's form)

    v starts at 0, so the first v is g, the copy of g torch's first step puts in its buffer.
    """
    mu, lr_ = _scalar(momentum), _scalar()

    def init(params: np.ndarray) -> MomentumState:
        return MomentumState(v=np.zeros_like(params, dtype=np.float64))

    def update(params: np.ndarray, grads: np.ndarray, state: MomentumState, lr: float) -> None:
        lr_[()] = lr
        v = state.v
        v *= mu
        v += grads
        np.multiply(v, lr_, out=grads)
        params -= grads

    def update_nesterov(params: np.ndarray, grads: np.ndarray, state: MomentumState, lr: float) -> None:
        lr_[()] = lr
        v = state.v
        v *= mu
        v += grads
        grads += v * mu
        grads *= lr_
        params -= grads

    return Optimizer(init, update_nesterov if nesterov else update)


def adagrad(initial_accumulator: float = 0.0, eps: float = 1e-7) -> Optimizer:
    """Adagrad (Duchi, Hazan & Singer, 2011) as torch Adagrad(eps, initial_accumulator_value).

        a ← a + g²                   (a starts at initial_accumulator)
        w ← w − lr·g/(√a + eps)

    Steps shrink as a grows, fastest along coordinates with large past gradients.
    """
    eps_, lr_ = _scalar(eps), _scalar()

    def init(params: np.ndarray) -> AdagradState:
        return AdagradState(a=np.full_like(params, initial_accumulator, dtype=np.float64))

    def update(params: np.ndarray, grads: np.ndarray, state: AdagradState, lr: float) -> None:
        lr_[()] = lr
        a = state.a
        denom = grads * grads
        a += denom
        np.sqrt(a, out=denom)
        denom += eps_
        # (lr·g)/denom, not lr·(g/denom): the rounding of torch's addcdiv
        grads *= lr_
        grads /= denom
        params -= grads

    return Optimizer(init, update)


def rmsprop(beta: float = 0.9, eps: float = 1e-7) -> Optimizer:
    """RMSProp (Tieleman & Hinton, 2012) as torch RMSprop(alpha=beta, eps).

        v ← β·v + (1 − β)·g²         (v starts at 0)
        w ← w − lr·g/(√v + eps)

    Unlike Adagrad, v forgets: steps stay near lr in size. (TF1's RMSProp starts v at ones.)
    """
    beta_, one_minus_beta, eps_, lr_ = _scalar(beta), _scalar(1.0 - beta), _scalar(eps), _scalar()

    def init(params: np.ndarray) -> RMSPropState:
        return RMSPropState(v=np.zeros_like(params, dtype=np.float64))

    def update(params: np.ndarray, grads: np.ndarray, state: RMSPropState, lr: float) -> None:
        lr_[()] = lr
        v = state.v
        v *= beta_
        denom = grads * one_minus_beta
        denom *= grads
        v += denom
        np.sqrt(v, out=denom)
        denom += eps_
        grads *= lr_
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
    step_size, eps_t = _scalar(), _scalar()

    def init(params: np.ndarray) -> AdamState:
        return AdamState(
            t=np.zeros((), dtype=np.int64),
            m=np.zeros_like(params, dtype=np.float64),
            v=np.zeros_like(params, dtype=np.float64),
        )

    def update(params: np.ndarray, grads: np.ndarray, state: AdamState, lr: float) -> None:
        t = int(state.t) + 1
        state.t[()] = t
        step_size[()], eps_t[()] = _adam_scalars(lr, t, beta1, beta2, eps)
        m, v = state.m, state.v
        v *= beta2_
        denom = grads * one_minus_beta2
        denom *= grads
        v += denom
        m *= beta1_
        grads *= one_minus_beta1
        m += grads
        np.sqrt(v, out=denom)
        denom += eps_t
        np.multiply(m, step_size, out=grads)
        grads /= denom
        params -= grads

    return Optimizer(init, update)


def _adam_scalars(lr: float, t: int, beta1: float, beta2: float, eps: float) -> tuple[float, float]:
    """Adam's step size lr·√(1 − β2^t)/(1 − β1^t) and eps·√(1 − β2^t) at update t (Python floats: the bias
    corrections are scalars, no array op)."""
    bias_correction2_sqrt = math.sqrt(1.0 - beta2**t)
    return lr * bias_correction2_sqrt / (1.0 - beta1**t), eps * bias_correction2_sqrt


_FACTORIES: dict[str, Callable[..., Optimizer]] = {
    "sgd": sgd,
    "sgdm": sgdm,
    "momentum": momentum,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}


# --- validation ----------------------------------------------------------------------------------


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _number(key: str, value: object, allowed: str) -> float:
    # bool is an int to Python, but `beta: true` in a config is a mistake, not 1.
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    hint = ""
    if isinstance(value, str):
        try:
            float(value)
            hint = " (text, not a number: drop the quotes)"
        except ValueError:
            pass
    raise OptimizerError(f"{key} must be {allowed}, got {value!r}{hint}")


def _non_negative(key: str, value: object) -> float:
    x = _number(key, value, "a finite number >= 0")
    if not (math.isfinite(x) and x >= 0.0):
        raise OptimizerError(f"{key} must be a finite number >= 0, got {x!r}")
    return x


def _check_hparam(key: str, value: object) -> object:
    name = f"optimizer.{key}"
    if key in _FLAGS:
        if not isinstance(value, (bool, np.bool_)):
            raise OptimizerError(f"{name} must be true or false, got {value!r}")
        return bool(value)
    if key in _UNIT_INTERVAL:
        x = _number(name, value, "a number in [0, 1)")
        if not 0.0 <= x < 1.0:
            raise OptimizerError(f"{name} must be in [0, 1), got {x!r}")
        return x
    assert key in _NON_NEGATIVE, key
    return _non_negative(name, value)


def make_optimizer(name: str, **hparams: object) -> Optimizer:
    """The optimizer `name` with its hyperparameters (other than lr), validated.

    Args:
      name: one of OPTIMIZER_NAMES.
      **hparams: settings of that optimizer (OPTIMIZER_PARAMS[name]); missing ones take the
        defaults there. beta, beta1, beta2 and momentum must lie in [0, 1); eps and
        initial_accumulator must be finite and >= 0 (eps = 0 gives the textbook formulas, where a
        zero gradient gives 0/0 = NaN); nesterov must be a bool.

    Returns:
      The Optimizer(init, update) pair.

    Raises:
      OptimizerError: unknown name or setting (with a did-you-mean), or a value out of range.
    """
    if not isinstance(name, str) or name not in OPTIMIZER_NAMES:
        hint = _did_you_mean(name, OPTIMIZER_NAMES) if isinstance(name, str) else ""
        raise OptimizerError(
            f"optimizer.name {name!r} is unknown (known: {', '.join(OPTIMIZER_NAMES)}){hint}"
        )
    defaults = OPTIMIZER_PARAMS[name]
    allowed = tuple(defaults)
    settings: dict[str, object] = dict(defaults)
    for key, value in hparams.items():
        if key not in defaults:
            listed = ", ".join(allowed) if allowed else "none besides lr and decay"
            raise OptimizerError(
                f"optimizer.{key} is not a setting of {name} (allowed: {listed}){_did_you_mean(key, allowed)}"
            )
        settings[key] = _check_hparam(key, value)
    return _FACTORIES[name](**settings)


def check_lr(lr: object) -> float:
    """A learning rate as a float: a finite number >= 0, else OptimizerError."""
    return _non_negative("optimizer.lr", lr)


def legacy_decay(lr_trace: np.ndarray, decay: float) -> np.ndarray:
    """Keras' legacy time decay applied to a learning-rate trace.

        lr'_k = lr_k / (1 + decay·k),  k = 0 .. len − 1 (along the last axis)

    It compounds with any schedule. decay = 0 returns an unchanged float64 copy.

    Raises:
      OptimizerError: decay not a finite number >= 0.
    """
    d = _non_negative("optimizer.decay", decay)
    lr = np.array(lr_trace, dtype=np.float64, copy=True)
    if d == 0.0 or lr.ndim == 0:
        return lr
    k = np.arange(lr.shape[-1], dtype=np.float64)
    lr /= 1.0 + d * k
    return lr


# --- many rules at once --------------------------------------------------------------------------


class FusedRows:
    """Several runs with different rules, each a row of one (P, n) array, updated by one set of ufuncs.

    Every rule above except Nesterov's is one instance of

        V ← c_v1·V + (c_v2·g)·g          M ← c_m1·M + c_m2·g
        w ← w − (c_k·M)/(√V + e_k)

    with per-row constants (c_k and e_k also per update k):

        rule       c_v1  c_v2   c_m1  c_m2   c_k                    e_k
        sgd        0     0      0     1      lr                     1
        sgdm       0     0      β     1−β    lr                     1
        momentum   0     0      μ     1      lr                     1
        adagrad    1     1      0     1      lr                     eps     (V starts at a0)
        rmsprop    β     1−β    0     1      lr                     eps
        adam       β2    1−β2   β1    1−β1   lr·√(1−β2^t)/(1−β1^t)  eps·√(1−β2^t)

    Multiplying by 1, adding 0 and dividing by 1 are exact, and each rule's remaining operations come in the
    order its own update uses, so every row ends bit for bit where that rule's `update` would take it (up to
    the sign of a zero). A Nesterov row is left alone (its constants are all 0), for its own `update`.
    One update costs the same dozen ufunc calls however many rules there are.
    """

    def __init__(
        self, rules: Sequence[tuple[str, Mapping[str, Any]]], lr_traces: Sequence[np.ndarray], n: int
    ) -> None:
        p = len(rules)
        steps = max((len(t) for t in lr_traces), default=0)
        table = np.zeros((p, 4))  # c_v1, c_v2, c_m1, c_m2
        v0 = np.zeros((p, 1))
        self.c = np.zeros((steps, p, 1))
        self.e = np.ones((steps, p, 1))
        for i, ((name, h), rates) in enumerate(zip(rules, lr_traces, strict=True)):
            lr = rates.tolist()
            if name == "momentum" and h.get("nesterov"):
                continue
            if name == "sgd":
                table[i] = (0, 0, 0, 1)
            elif name == "sgdm":
                table[i] = (0, 0, h["beta"], 1.0 - h["beta"])
            elif name == "momentum":
                table[i] = (0, 0, h["momentum"], 1)
            elif name == "adagrad":
                table[i] = (1, 1, 0, 1)
                v0[i] = h["initial_accumulator"]
            elif name == "rmsprop":
                table[i] = (h["beta"], 1.0 - h["beta"], 0, 1)
            elif name == "adam":
                table[i] = (h["beta2"], 1.0 - h["beta2"], h["beta1"], 1.0 - h["beta1"])
            if name == "adam":
                scalars = [
                    _adam_scalars(r, k + 1, h["beta1"], h["beta2"], h["eps"]) for k, r in enumerate(lr)
                ]
                self.c[: len(lr), i, 0] = [c for c, _ in scalars]
                self.e[: len(lr), i, 0] = [e for _, e in scalars]
            else:
                self.c[: len(lr), i, 0] = lr
                if name in ("adagrad", "rmsprop"):
                    self.e[:, i, 0] = h["eps"]
        self.cv1, self.cv2, self.cm1, self.cm2 = (table[:, j : j + 1].copy() for j in range(4))
        self.m = np.zeros((p, n))
        self.v = np.zeros((p, n)) + v0
        self._t, self._d, self._step = np.empty((p, n)), np.empty((p, n)), np.empty((p, n))

    def __call__(self, params: np.ndarray, grads: np.ndarray, k: int) -> None:
        """Update k of every row of params (P, n) in place, from grads (P, n), which is left unchanged."""
        m, v, t, d, step = self.m, self.v, self._t, self._d, self._step
        v *= self.cv1
        np.multiply(grads, self.cv2, out=d)
        d *= grads
        v += d
        m *= self.cm1
        np.multiply(grads, self.cm2, out=t)
        m += t
        np.sqrt(v, out=d)
        d += self.e[k]
        np.multiply(m, self.c[k], out=step)
        step /= d
        params -= step
