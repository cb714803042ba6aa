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

Each rule is registered once, by the `@register` line above its factory: its name, the NamedTuple its
state is (whose fields are the names a run folder's state.npz saves), its settings with their defaults and
checks, its rule in short for a table, and its default lr. Everything else (the config's keys, compare's
entries and table, the catalog, resume) reads `REGISTRY`; adding an optimizer is that one entry.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from nnopt_cli import checks
from nnopt_cli.checks import CheckError
from nnopt_cli.keys import Key, setting_keys


class OptimizerError(CheckError):
    """An optimizer name or setting that nnopt cannot use; `key` names it, str() is one line."""


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


# --- the registry: one entry per optimizer ---------------------------------------------------------

DEFAULT_LR = 0.005  # the course's rate: optimizer.lr of every optimizer that declares no other


class Setting(NamedTuple):
    """One hyperparameter of an optimizer: its default, and the check a configured value goes through
    (value, config key) -> the value as float or bool, or an OptimizerError."""

    default: float | bool
    check: Callable[[object, str], float | bool]


def unit_interval(default: float) -> Setting:
    """A number in [0, 1): a decay rate such as beta, rho or momentum."""
    return Setting(
        default,
        lambda value, key: checks.number(value, key, low=0.0, high=1.0, high_open=True, error=OptimizerError),
    )


def non_negative(default: float) -> Setting:
    """A finite number >= 0: eps, an initial accumulator, a weight decay."""
    return Setting(default, lambda value, key: checks.number(value, key, low=0.0, error=OptimizerError))


def flag(default: bool) -> Setting:
    """true or false."""
    return Setting(default, lambda value, key: checks.flag(value, key, error=OptimizerError))


class OptimizerSpec(NamedTuple):
    """An optimizer's one registry entry.

    Attributes:
      name: its optimizer.name.
      factory: settings (keyword arguments, exactly `settings`' names) -> Optimizer.
      state: the NamedTuple class of its state; its fields name the arrays of a run folder's state.npz.
      settings: its hyperparameters other than lr (optimizer.<key>), in the order the config lists them.
      rule: the update in short, for compare's table.
      lr: its default optimizer.lr.
      rule_for: the short rule for particular settings (momentum's Nesterov form), else `rule`.
    """

    name: str
    factory: Callable[..., Optimizer]
    state: Any  # a NamedTuple class
    settings: Mapping[str, Setting]
    rule: str
    lr: float = DEFAULT_LR
    rule_for: Callable[[Mapping[str, object]], str] | None = None


REGISTRY: dict[str, OptimizerSpec] = {}


def register(
    name: str,
    *,
    state: Any,
    settings: Mapping[str, Setting],
    rule: str,
    lr: float = DEFAULT_LR,
    rule_for: Callable[[Mapping[str, object]], str] | None = None,
) -> Callable[[Callable[..., Optimizer]], Callable[..., Optimizer]]:
    """Decorator: enter the factory below it in REGISTRY under `name` (see OptimizerSpec)."""

    def enter(factory: Callable[..., Optimizer]) -> Callable[..., Optimizer]:
        arguments = list(inspect.signature(factory).parameters)
        if arguments != list(settings):
            raise TypeError(f"optimizer {name}: factory takes {arguments}, settings are {list(settings)}")
        if name in REGISTRY:
            raise ValueError(f"optimizer {name} registered twice")
        REGISTRY[name] = OptimizerSpec(name, factory, state, dict(settings), rule, lr, rule_for)
        return factory

    return enter


def spec(name: str) -> OptimizerSpec:
    """The registry entry of `name`; an OptimizerError with a did-you-mean for an unknown one."""
    return REGISTRY[checks.choice(name, "optimizer.name", tuple(REGISTRY), error=OptimizerError)]


def names() -> tuple[str, ...]:
    """Every optimizer's name, in registration order."""
    return tuple(REGISTRY)


def defaults(name: str) -> dict[str, object]:
    """The settings of optimizer `name` (other than lr) with their defaults, in its order."""
    return {key: s.default for key, s in spec(name).settings.items()}


def default_lr(name: str) -> float:
    """The optimizer.lr that `name` runs at when the config gives none."""
    return spec(name).lr


def rule(name: str, hparams: Mapping[str, object]) -> str:
    """The update rule of `name` in short, for these settings (Nesterov's where momentum has nesterov)."""
    entry = spec(name)
    return entry.rule_for(hparams) if entry.rule_for is not None else entry.rule


def state_names(name: str) -> tuple[str, ...]:
    """The names of the arrays rule `name` keeps between steps, in its state's order (the fields of its state
    NamedTuple): none for sgd, m for sgdm, v for momentum, a for adagrad, t, m and v for adam, ...; a step
    count t or a running product is a 0-d array."""
    return tuple(spec(name).state._fields)


# --- the rules -----------------------------------------------------------------------------------


@register("sgd", state=EmptyState, settings={}, rule="w −= lr·g")
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


@register("sgdm", state=SGDMState, settings={"beta": unit_interval(0.9)}, rule="m = βm + (1−β)g; w −= lr·m")
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


@register(
    "momentum",
    state=MomentumState,
    settings={"momentum": unit_interval(0.9), "nesterov": flag(False)},
    rule="v = μv + g; w −= lr·v",
    rule_for=lambda hp: "v = μv + g; w −= lr·(g + μv)" if hp.get("nesterov") else "v = μv + g; w −= lr·v",
)
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


@register(
    "adagrad",
    state=AdagradState,
    settings={"initial_accumulator": non_negative(0.0), "eps": non_negative(1e-7)},
    rule="a += g²; w −= lr·g/(√a + ε)",
)
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


@register(
    "rmsprop",
    state=RMSPropState,
    settings={"beta": unit_interval(0.9), "eps": non_negative(1e-7)},
    rule="v = βv + (1−β)g²; w −= lr·g/(√v + ε)",
)
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


@register(
    "adam",
    state=AdamState,
    settings={"beta1": unit_interval(0.9), "beta2": unit_interval(0.999), "eps": non_negative(1e-7)},
    rule="m, v as sgdm, rmsprop; w −= lr·m̂/(√v̂ + ε)",
)
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


@register(
    "adamw",
    state=AdamState,
    settings={
        "beta1": unit_interval(0.9),
        "beta2": unit_interval(0.999),
        "eps": non_negative(1e-7),
        "weight_decay": non_negative(0.01),
    },
    rule="w −= lr·λ·w; then adam",
)
def adamw(
    beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7, weight_decay: float = 0.01
) -> Optimizer:
    """AdamW (Loshchilov & Hutter, 2019) as torch AdamW(betas, eps, weight_decay): decoupled weight decay.

        w ← w − lr·λ·w               (λ = weight_decay, on every parameter, biases too, as torch's)
        then adam's step, with g not containing λ·w

    L2 in the loss (regularizer: l2) puts λ·w into g, which Adam then divides by √v̂: a weight with large
    gradients is hardly decayed. Here the decay is lr·λ·w whatever the gradients, as SGD's L2 would be.
    With weight_decay 0 this is adam, bit for bit.
    """
    inner = adam(beta1, beta2, eps)
    decay = weight_decay

    def update(params: np.ndarray, grads: np.ndarray, state: AdamState, lr: Rate) -> None:
        if decay:
            params *= 1.0 - lr * decay  # torch's param.mul_(1 - lr·wd), before the Adam step
        inner.update(params, grads, state, lr)

    return Optimizer(inner.init, update)


class NAdamState(NamedTuple):
    t: np.ndarray  # step count, 0-d int64
    mu_product: np.ndarray  # Π μ_1 … μ_t, 0-d float64, starts at 1
    m: np.ndarray  # first moment, starts at 0
    v: np.ndarray  # second moment, starts at 0


@register(
    "nadam",
    state=NAdamState,
    settings={
        "beta1": unit_interval(0.9),
        "beta2": unit_interval(0.999),
        "eps": non_negative(1e-7),
        "momentum_decay": non_negative(0.004),
    },
    rule="m, v as adam; w −= lr·(Nesterov mix of g and m̂)/(√v̂ + ε)",
)
def nadam(
    beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7, momentum_decay: float = 0.004
) -> Optimizer:
    """NAdam (Dozat, 2016) as torch NAdam(betas, eps, momentum_decay): Adam with Nesterov momentum.

        t ← t + 1;  μ_t = β1·(1 − ½·0.96^(t·ψ))  (ψ = momentum_decay);  Π_t = μ_1·…·μ_t
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²;  v̂ = v/(1 − β2^t)
        w ← w − lr·(1 − μ_t)/(1 − Π_t) · g/(√v̂ + eps) − lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/(√v̂ + eps)

    The operations follow torch's (m by lerp, two addcdiv steps), Π kept as a 0-d float64.
    """
    one_minus_beta1, beta2_, one_minus_beta2 = _scalar(1.0 - beta1), _scalar(beta2), _scalar(1.0 - beta2)
    eps_ = _scalar(eps)

    def init(params: np.ndarray) -> NAdamState:
        return NAdamState(
            t=np.zeros((), dtype=np.int64),
            mu_product=np.ones((), dtype=np.float64),
            m=np.zeros_like(params, dtype=np.float64),
            v=np.zeros_like(params, dtype=np.float64),
        )

    def update(params: np.ndarray, grads: np.ndarray, state: NAdamState, lr: Rate) -> None:
        t = int(state.t) + 1
        state.t[()] = t
        bias_correction2 = 1.0 - beta2**t
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product = float(state.mu_product) * mu
        state.mu_product[()] = mu_product
        mu_product_next = mu_product * mu_next
        m, v = state.m, state.v
        work = grads - m  # m.lerp_(g, 1 − β1) = m + (1 − β1)·(g − m)
        work *= one_minus_beta1
        m += work
        v *= beta2_
        np.multiply(grads, one_minus_beta2, out=work)
        work *= grads
        v += work
        np.divide(v, bias_correction2, out=work)
        denom = np.sqrt(work, out=work)
        denom += eps_
        grads *= lr * (1.0 - mu) / (1.0 - mu_product)
        grads /= denom
        params -= grads
        np.multiply(m, lr * mu_next / (1.0 - mu_product_next), out=grads)
        grads /= denom
        params -= grads

    return Optimizer(init, update)


class AdamaxState(NamedTuple):
    t: np.ndarray  # step count, 0-d int64
    m: np.ndarray  # first moment, starts at 0
    u: np.ndarray  # decayed max of |g|, starts at 0


@register(
    "adamax",
    state=AdamaxState,
    settings={"beta1": unit_interval(0.9), "beta2": unit_interval(0.999), "eps": non_negative(1e-7)},
    rule="m as adam; u = max(β2u, |g| + ε); w −= lr·m̂/u",
)
def adamax(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7) -> Optimizer:
    """Adamax (Kingma & Ba, 2015, §7) as torch Adamax(betas, eps): Adam with the infinity norm.

        t ← t + 1
        m ← β1·m + (1 − β1)·g
        u ← max(β2·u, |g| + eps)
        w ← w − lr/(1 − β1^t) · m/u

    eps is inside the max: with eps = 0 an entry whose gradient has always been 0 divides 0 by 0.
    """
    one_minus_beta1, beta2_, eps_ = _scalar(1.0 - beta1), _scalar(beta2), _scalar(eps)

    def init(params: np.ndarray) -> AdamaxState:
        return AdamaxState(
            t=np.zeros((), dtype=np.int64),
            m=np.zeros_like(params, dtype=np.float64),
            u=np.zeros_like(params, dtype=np.float64),
        )

    def update(params: np.ndarray, grads: np.ndarray, state: AdamaxState, lr: Rate) -> None:
        t = int(state.t) + 1
        state.t[()] = t
        m, u = state.m, state.u
        work = grads - m  # m.lerp_(g, 1 − β1)
        work *= one_minus_beta1
        m += work
        u *= beta2_
        np.abs(grads, out=work)
        work += eps_
        np.maximum(u, work, out=u)
        np.multiply(m, lr / (1.0 - beta1**t), out=grads)  # torch's addcdiv: (clr·m)/u
        grads /= u
        params -= grads

    return Optimizer(init, update)


class AdadeltaState(NamedTuple):
    v: np.ndarray  # moving average of g², starts at 0
    u: np.ndarray  # moving average of the squared steps Δ², starts at 0


@register(
    "adadelta",
    state=AdadeltaState,
    settings={"rho": unit_interval(0.9), "eps": non_negative(1e-6)},
    rule="v = ρv + (1−ρ)g²; Δ = √(u+ε)/√(v+ε)·g; u = ρu + (1−ρ)Δ²; w −= lr·Δ",
    lr=1.0,
)
def adadelta(rho: float = 0.9, eps: float = 1e-6) -> Optimizer:
    """Adadelta (Zeiler, 2012) as torch Adadelta(rho, eps); its lr defaults to 1.0, the paper's rule.

        v ← ρ·v + (1 − ρ)·g²
        Δ = √(u + eps)/√(v + eps) · g
        u ← ρ·u + (1 − ρ)·Δ²
        w ← w − lr·Δ

    eps is inside both roots and sets the size of the first steps (about √eps/√(1 − ρ)); torch's default
    1e-6 is nnopt's.
    """
    rho_, one_minus_rho, eps_ = _scalar(rho), _scalar(1.0 - rho), _scalar(eps)

    def init(params: np.ndarray) -> AdadeltaState:
        return AdadeltaState(
            v=np.zeros_like(params, dtype=np.float64), u=np.zeros_like(params, dtype=np.float64)
        )

    def update(params: np.ndarray, grads: np.ndarray, state: AdadeltaState, lr: Rate) -> None:
        v, u = state.v, state.u
        v *= rho_
        work = grads * one_minus_rho
        work *= grads
        v += work
        np.add(v, eps_, out=work)
        std = np.sqrt(work, out=work)
        delta = u + eps_
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= grads
        u *= rho_
        np.multiply(delta, one_minus_rho, out=work)
        work *= delta
        u += work
        delta *= lr
        params -= delta

    return Optimizer(init, update)


# Derived from REGISTRY (read these, or the functions above; never list the optimizers again).
OPTIMIZER_NAMES: tuple[str, ...] = names()
OPTIMIZER_PARAMS: dict[str, dict[str, object]] = {name: defaults(name) for name in REGISTRY}
RULES: dict[str, str] = {name: entry.rule for name, entry in REGISTRY.items()}


def build(name: str, hparams: Mapping[str, Any]) -> Optimizer:
    """The rule `name` with settings already validated (`check_params`): no checks, no defaults."""
    return REGISTRY[name].factory(**hparams)


# --- validation ----------------------------------------------------------------------------------


def check_params(name: str, hparams: Mapping[str, object]) -> dict[str, object]:
    """The settings of optimizer `name` (other than lr and decay), checked, with defaults filled in.

    Args:
      name: a registered optimizer (OPTIMIZER_NAMES).
      hparams: settings of that optimizer (its registry entry's `settings`); missing ones take the
        defaults there, and each goes through its own check: beta, beta1, beta2, rho and momentum in
        [0, 1); eps, initial_accumulator, weight_decay and momentum_decay finite and >= 0 (eps = 0 gives
        the textbook formulas, where a zero gradient gives 0/0 = NaN); nesterov true or false.

    Returns:
      Every setting of `name`, in the registry's order: numbers as floats, flags as bools.

    Raises:
      OptimizerError: unknown name or setting (with a did-you-mean), or a value out of range; its key is
        the setting's config key ("optimizer.beta1").
    """
    entry = spec(name)  # first: an unknown name is an OptimizerError, not a KeyError
    checks.check_keys(
        hparams,
        list(entry.settings),
        prefix="optimizer.",
        what=f"setting of {entry.name}",
        error=OptimizerError,
    )
    return {
        key: setting.check(hparams.get(key, setting.default), f"optimizer.{key}")
        for key, setting in entry.settings.items()
    }


def make_optimizer(name: str, **hparams: object) -> Optimizer:
    """The optimizer `name` with its settings (other than lr) checked by `check_params`.

    Raises:
      OptimizerError: as check_params.
    """
    return build(name, check_params(name, hparams))


def check_clip(value: object, key: str) -> float | None:
    """optimizer.clip_norm or optimizer.clip_value: null (off) or a finite number > 0."""
    if value is None:
        return None
    return checks.number(
        value, key, low=0.0, low_open=True, error=OptimizerError, alternative="or null (off)"
    )


def clip(grads: np.ndarray, clip_norm: float | None, clip_value: float | None) -> None:
    """Clip the gradient of each run in place, as torch.nn.utils does, before the rule sees it.

        clip_norm c:   N = ‖g‖₂ over all of the run's parameters;  g ← g·min(1, c/(N + 1e-6))
                       (clip_grad_norm_, its 1e-6 and its clamp included: a small g is multiplied by 1)
        clip_value c:  g ← min(max(g, −c), c) elementwise (clip_grad_value_)

    With both, the norm first. `grads` is one run's (n,) vector or a stack (P, n) of runs: the norm is taken
    along the last axis, each row its own, with the same per-row reduction whatever P, so a row ends bit for
    bit as alone. NaN stays NaN.
    """
    if clip_norm is not None:
        total = np.square(grads)
        norm = np.sqrt(np.add.reduce(total, axis=-1, keepdims=True))
        norm += 1e-6
        coef = np.divide(clip_norm, norm, out=norm)
        np.minimum(coef, 1.0, out=coef)
        grads *= coef
    if clip_value is not None:
        np.clip(grads, -clip_value, clip_value, out=grads)


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


def keys() -> tuple[Key, ...]:
    """The optimizer's keys, from the registry as it stands (an optimizer registered later is in them): its
    name, rate (by default the optimizer's own, `default_lr`), legacy decay and gradient clipping, then every
    optimizer's settings, each applying to the optimizers that have it."""
    table = {name: defaults(name) for name in REGISTRY}
    return (
        Key(
            "optimizer.name",
            "sgd",
            lambda v: checks.choice(v, "optimizer.name", names()),
            attr="optimizer",
        ),
        Key(
            "optimizer.lr",
            DEFAULT_LR,
            lambda v: checks.number(v, "optimizer.lr", low=0.0, low_open=True),
            attr="lr",
            default_of=lambda resolved: default_lr(resolved["optimizer.name"]),
        ),
        Key("optimizer.decay", 0.0, lambda v: checks.number(v, "optimizer.decay", low=0.0), attr="lr_decay"),
        Key("optimizer.clip_norm", None, lambda v: check_clip(v, "optimizer.clip_norm")),
        Key("optimizer.clip_value", None, lambda v: check_clip(v, "optimizer.clip_value")),
        *setting_keys("optimizer", "optimizer.name", table),
    )
