"""Tests of nnopt_cli.core.optimizers.

Expected values come from hand derivations, closed-form iterates on a quadratic, a plain scalar
transcription of the update rules, and trajectories recorded from torch.optim
(tests/data/torch_optimizers.json, written by tests/data/make_torch_optimizers.py).
"""

from __future__ import annotations

import cmath
import inspect
import json
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from nnopt_cli import config as config_mod
from nnopt_cli.cli import cli
from nnopt_cli.config import Config
from nnopt_cli.core import optimizers
from nnopt_cli.core.optimizers import (
    OPTIMIZER_NAMES,
    OPTIMIZER_PARAMS,
    REGISTRY,
    RULES,
    Optimizer,
    OptimizerError,
    build,
    check_params,
    clip,
    default_lr,
    legacy_decay,
    make_optimizer,
    state_names,
)
from nnopt_cli.core.optimizers import sgd as sgd_factory
from nnopt_cli.experiments import experiment

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _quiet_fp():
    # the training loop sets errstate once; eps = 0 tests divide 0 by 0 on purpose
    with np.errstate(all="ignore"):
        yield


def run(opt: Optimizer, w0: np.ndarray, grads: list, lrs: list) -> list[np.ndarray]:
    """Apply the updates with fixed gradients; the parameters after each one."""
    w = np.array(w0, dtype=np.float64)
    state = opt.init(w)
    out = []
    for g, lr in zip(grads, lrs, strict=True):
        opt.update(w, np.array(g, dtype=np.float64), state, lr)
        out.append(w.copy())
    return out


# --- registry ------------------------------------------------------------------------------------


def test_registry_names_defaults_and_rules():
    assert OPTIMIZER_NAMES == (
        "sgd",
        "sgdm",
        "momentum",
        "adagrad",
        "rmsprop",
        "adam",
        "adamw",
        "nadam",
        "adamax",
        "adadelta",
    )
    assert OPTIMIZER_PARAMS == {
        "sgd": {},
        "sgdm": {"beta": 0.9},
        "momentum": {"momentum": 0.9, "nesterov": False},
        "adagrad": {"initial_accumulator": 0.0, "eps": 1e-7},
        "rmsprop": {"beta": 0.9, "eps": 1e-7},
        "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
        "adamw": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "weight_decay": 0.01},  # torch's 0.01
        "nadam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "momentum_decay": 0.004},  # torch's 0.004
        "adamax": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
        "adadelta": {"rho": 0.9, "eps": 1e-6},  # torch's
    }
    assert tuple(RULES) == OPTIMIZER_NAMES
    assert all(isinstance(r, str) and "w −=" in r for r in RULES.values())
    assert {name: default_lr(name) for name in OPTIMIZER_NAMES} == {
        **{name: 0.005 for name in OPTIMIZER_NAMES},
        "adadelta": 1.0,  # torch's default: Adadelta's step is lr·Δ, Δ already in the weights' units
    }


def test_every_entry_is_whole() -> None:
    """One registry row says everything: its factory takes exactly its settings, its state type is what
    init makes, and its defaults pass its own checks."""
    for name, entry in REGISTRY.items():
        assert entry.name == name
        assert list(inspect.signature(entry.factory).parameters) == list(entry.settings)
        assert check_params(name, {}) == OPTIMIZER_PARAMS[name]
        assert type(build(name, check_params(name, {})).init(np.zeros(3))) is entry.state


def test_a_new_entry_is_all_it_takes(monkeypatch) -> None:
    """Registering a rule makes it a config's optimizer.name, with its settings, default lr and state names:
    nothing else to edit."""
    monkeypatch.setattr(optimizers, "REGISTRY", dict(REGISTRY))

    class HalfState(NamedTuple):
        n: np.ndarray

    @optimizers.register(
        "half", state=HalfState, settings={"f": optimizers.unit_interval(0.5)}, rule="w −= f·lr·g", lr=0.3
    )
    def half(f: float = 0.5) -> Optimizer:
        def update(params, grads, state, lr):
            state.n[()] += 1
            params -= f * lr * grads

        return Optimizer(lambda params: HalfState(np.zeros((), dtype=np.int64)), update)

    c = config_mod.from_dict({"optimizer": {"name": "half", "f": 0.25}}, name="h")
    assert (c.optimizer, c.lr, c.optimizer_params) == ("half", 0.3, {"f": 0.25})
    assert state_names("half") == ("n",) and optimizers.rule("half", {}) == "w −= f·lr·g"
    with pytest.raises(OptimizerError, match=r"optimizer.f: must be in \[0, 1\)"):
        check_params("half", {"f": 2.0})
    with pytest.raises(ValueError, match="registered twice"):
        optimizers.register("half", state=HalfState, settings={}, rule="")(sgd_factory)
    with pytest.raises(TypeError, match="settings are"):
        optimizers.register("other", state=HalfState, settings={}, rule="")(half)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_defaults_are_the_documented_ones(name):
    """make_optimizer(name) behaves as make_optimizer(name, **documented defaults)."""
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((5, 6))
    w0 = rng.standard_normal(6)
    a = run(make_optimizer(name), w0, list(grads), [0.1] * 5)
    b = run(make_optimizer(name, **OPTIMIZER_PARAMS[name]), w0, list(grads), [0.1] * 5)
    np.testing.assert_array_equal(a, b)


# --- first and second steps derived by hand -----------------------------------------------------

G1 = np.array([0.5, -2.0, 3e-3, -1e-6, 40.0])
G2 = np.array([-0.25, -1.0, 5e-3, 2e-6, 10.0])
LR1, LR2 = 0.01, 0.02


def steps(name: str, **hparams) -> tuple[np.ndarray, np.ndarray]:
    """The first and second update Δ = w_before − w_after, starting from w = 0."""
    w1, w2 = run(make_optimizer(name, **hparams), np.zeros(G1.size), [G1, G2], [LR1, LR2])
    return -w1, w1 - w2


def test_sgd_steps():
    d1, d2 = steps("sgd")
    np.testing.assert_allclose(d1, LR1 * G1, rtol=1e-15)
    np.testing.assert_allclose(d2, LR2 * G2, rtol=1e-15)


@pytest.mark.parametrize("beta", [0.9, 0.5, 0.0])
def test_sgdm_steps(beta):
    d1, d2 = steps("sgdm", beta=beta)
    np.testing.assert_allclose(d1, LR1 * (1 - beta) * G1, rtol=1e-15)
    # m2 = β(1 − β)g1 + (1 − β)g2
    np.testing.assert_allclose(d2, LR2 * (1 - beta) * (beta * G1 + G2), rtol=1e-14)


@pytest.mark.parametrize("mu", [0.9, 0.3])
def test_momentum_steps(mu):
    d1, d2 = steps("momentum", momentum=mu)
    np.testing.assert_allclose(d1, LR1 * G1, rtol=1e-15)  # v1 = g1, as torch's first step
    np.testing.assert_allclose(d2, LR2 * (mu * G1 + G2), rtol=1e-14)


@pytest.mark.parametrize("mu", [0.9, 0.3])
def test_nesterov_steps(mu):
    d1, d2 = steps("momentum", momentum=mu, nesterov=True)
    np.testing.assert_allclose(d1, LR1 * (1 + mu) * G1, rtol=1e-15)
    v2 = mu * G1 + G2
    np.testing.assert_allclose(d2, LR2 * (G2 + mu * v2), rtol=1e-14)


@pytest.mark.parametrize("a0", [0.0, 0.1])
@pytest.mark.parametrize("eps", [1e-7, 1e-3])
def test_adagrad_steps(a0, eps):
    d1, d2 = steps("adagrad", initial_accumulator=a0, eps=eps)
    np.testing.assert_allclose(d1, LR1 * G1 / (np.sqrt(a0 + G1**2) + eps), rtol=1e-15)
    np.testing.assert_allclose(d2, LR2 * G2 / (np.sqrt(a0 + G1**2 + G2**2) + eps), rtol=1e-14)
    if a0 == 0.0:  # the first step with a zero accumulator
        np.testing.assert_allclose(d1, LR1 * G1 / (np.abs(G1) + eps), rtol=1e-15)


@pytest.mark.parametrize("beta", [0.9, 0.99])
@pytest.mark.parametrize("eps", [1e-7, 1e-3])
def test_rmsprop_steps(beta, eps):
    d1, d2 = steps("rmsprop", beta=beta, eps=eps)
    np.testing.assert_allclose(d1, LR1 * G1 / (math.sqrt(1 - beta) * np.abs(G1) + eps), rtol=1e-14)
    # v2 = β(1 − β)g1² + (1 − β)g2² = (1 − β)(βg1² + g2²)
    v2 = (1 - beta) * (beta * G1**2 + G2**2)
    np.testing.assert_allclose(d2, LR2 * G2 / (np.sqrt(v2) + eps), rtol=1e-14)


@pytest.mark.parametrize(("beta1", "beta2"), [(0.9, 0.999), (0.5, 0.9), (0.0, 0.0)])
@pytest.mark.parametrize("eps", [1e-7, 1e-3])
def test_adam_steps(beta1, beta2, eps):
    d1, d2 = steps("adam", beta1=beta1, beta2=beta2, eps=eps)
    # t = 1: m̂ = g, v̂ = g², the bias corrections cancel
    np.testing.assert_allclose(d1, LR1 * G1 / (np.abs(G1) + eps), rtol=1e-14)
    # t = 2: m̂ = (β1·g1 + g2)/(1 + β1), v̂ = (β2·g1² + g2²)/(1 + β2)
    m_hat = (beta1 * G1 + G2) / (1 + beta1)
    v_hat = (beta2 * G1**2 + G2**2) / (1 + beta2)
    np.testing.assert_allclose(d2, LR2 * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-14)


@pytest.mark.parametrize("wd", [0.0, 0.01, 0.5])
def test_adamw_first_step(wd):
    # from w = 0 the decay takes nothing; m̂ = g, v̂ = g²: Adam's first step lr·g/(|g| + eps)
    d1, _ = steps("adamw", weight_decay=wd)
    np.testing.assert_allclose(d1, LR1 * G1 / (np.abs(G1) + 1e-7), rtol=1e-14)


@pytest.mark.parametrize("psi", [0.004, 0.1])
def test_nadam_first_step(psi):
    # t = 1: Π = μ1, m = (1 − β1)·g, v̂ = g²; the two terms share g/(|g| + eps)
    mu1, mu2 = 0.9 * (1 - 0.5 * 0.96**psi), 0.9 * (1 - 0.5 * 0.96 ** (2 * psi))
    d1, _ = steps("nadam", momentum_decay=psi)
    expected = LR1 * G1 / (np.abs(G1) + 1e-7) * (1 + mu2 * 0.1 / (1 - mu1 * mu2))
    np.testing.assert_allclose(d1, expected, rtol=1e-14)


def test_adamax_first_two_steps():
    # m = (1 − β1)·g, u = |g| + eps, bias correction 1/(1 − β1): lr·g/(|g| + eps)
    d1, d2 = steps("adamax")
    np.testing.assert_allclose(d1, LR1 * G1 / (np.abs(G1) + 1e-7), rtol=1e-14)
    m2 = 0.9 * 0.1 * G1 + 0.1 * G2
    u2 = np.maximum(0.999 * (np.abs(G1) + 1e-7), np.abs(G2) + 1e-7)
    np.testing.assert_allclose(d2, LR2 / (1 - 0.9**2) * m2 / u2, rtol=1e-12)


@pytest.mark.parametrize(("rho", "eps"), [(0.9, 1e-6), (0.5, 1e-3)])
def test_adadelta_first_step(rho, eps):
    # u = 0: Δ = √eps/√((1 − ρ)·g² + eps)·g, whatever lr's units
    d1, _ = steps("adadelta", rho=rho, eps=eps)
    np.testing.assert_allclose(d1, LR1 * np.sqrt(eps) / np.sqrt((1 - rho) * G1**2 + eps) * G1, rtol=1e-14)


def test_eps_zero_gives_the_course_formulas():
    sign = np.sign(G1)
    d1, _ = steps("adam", eps=0.0)  # course: lr·m̂/√v̂
    np.testing.assert_allclose(d1, LR1 * sign, rtol=1e-15)
    d1, _ = steps("adagrad", eps=0.0)
    np.testing.assert_allclose(d1, LR1 * sign, rtol=1e-15)
    d1, _ = steps("rmsprop", beta=0.9, eps=0.0)  # course: lr·g/√v
    np.testing.assert_allclose(d1, LR1 * sign / math.sqrt(0.1), rtol=1e-15)


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam"])
def test_eps_zero_and_zero_gradient_is_nan(name):
    """0/0 under eps = 0 gives NaN for the caller to report, not an exception."""
    (w1,) = run(make_optimizer(name, eps=0.0), np.ones(3), [np.array([1.0, 0.0, -1.0])], [0.1])
    assert np.isnan(w1[1]) and np.isfinite(w1[[0, 2]]).all()


def test_adam_counts_steps():
    opt = make_optimizer("adam")
    w = np.zeros(4)
    state = opt.init(w)
    assert int(state.t) == 0
    for _ in range(3):
        opt.update(w, np.ones(4), state, 0.1)
    assert int(state.t) == 3


def test_lr_zero_leaves_params_but_updates_state():
    opt = make_optimizer("adam")
    w = np.arange(3.0)
    state = opt.init(w)
    opt.update(w, np.ones(3), state, 0.0)
    np.testing.assert_array_equal(w, np.arange(3.0))
    assert int(state.t) == 1 and np.all(state.m > 0)


# --- closed-form iterates on f(w) = ½·c·(w − w*)² ----------------------------------------------

C = np.array([0.5, 1.0, 2.0, 4.0, 9.0])
W_STAR = np.array([1.0, -2.0, 0.5, 3.0, -0.25])
W0 = np.array([3.0, 1.0, -1.5, 0.0, 0.75])
K = 50


def descend(opt: Optimizer, lr: float) -> np.ndarray:
    """Iterates w_1..w_K of the optimizer on the quadratic, the gradient taken at each w."""
    w = W0.copy()
    state = opt.init(w)
    out = []
    for _ in range(K):
        opt.update(w, C * (w - W_STAR), state, lr)
        out.append(w.copy())
    return np.array(out)


def two_term(trace: float, det: float, e0: float, e1: float, k: int) -> float:
    """e_k of the recurrence e_{k+2} = trace·e_{k+1} − det·e_k: α·λ1^k + β·λ2^k (λ1 ≠ λ2)."""
    root = cmath.sqrt(trace * trace - 4 * det)
    l1, l2 = (trace + root) / 2, (trace - root) / 2
    alpha = (e1 - l2 * e0) / (l1 - l2)
    beta = (l1 * e0 - e1) / (l1 - l2)
    value = alpha * l1**k + beta * l2**k
    assert abs(value.imag) <= 1e-12 * (abs(e0) + 1)
    return value.real


def assert_iterates(got: np.ndarray, expected_error: np.ndarray) -> None:
    expected = W_STAR + expected_error
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13 * np.abs(W0 - W_STAR).max())


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.2])
def test_sgd_quadratic_closed_form(lr):
    # w_k − w* = (1 − lr·c)^k (w_0 − w*)
    k = np.arange(1, K + 1)[:, None]
    assert_iterates(descend(make_optimizer("sgd"), lr), (1 - lr * C) ** k * (W0 - W_STAR))


def closed_form(a00: np.ndarray, trace: np.ndarray, det: np.ndarray) -> np.ndarray:
    """e_k for k = 1..K per entry, for a 2×2 linear system whose state starts at (e_0, 0).

    With a zero second state, e_1 = A[0, 0]·e_0; Cayley–Hamilton gives the recurrence.
    """
    out = np.empty((K, C.size))
    for j in range(C.size):
        e0 = W0[j] - W_STAR[j]
        e1 = a00[j] * e0
        for k in range(1, K + 1):
            out[k - 1, j] = two_term(trace[j], det[j], e0, e1, k)
    return out


@pytest.mark.parametrize(("lr", "mu"), [(0.1, 0.9), (0.1, 0.3), (0.05, 0.6)])
def test_momentum_quadratic_closed_form(lr, mu):
    # (e, v) ← A·(e, v), A = [[1 − lr·c, −lr·μ], [c, μ]]: trace 1 − lr·c + μ, det μ
    a00 = 1 - lr * C
    expected = closed_form(a00, a00 + mu, np.full(C.size, mu))
    assert_iterates(descend(make_optimizer("momentum", momentum=mu), lr), expected)


@pytest.mark.parametrize(("lr", "mu"), [(0.1, 0.9), (0.1, 0.3), (0.05, 0.6)])
def test_nesterov_quadratic_closed_form(lr, mu):
    # A = [[1 − lr·c·(1 + μ), −lr·μ²], [c, μ]]: det = μ·(1 − lr·c)
    a00 = 1 - lr * C * (1 + mu)
    expected = closed_form(a00, a00 + mu, mu * (1 - lr * C))
    assert_iterates(descend(make_optimizer("momentum", momentum=mu, nesterov=True), lr), expected)


@pytest.mark.parametrize(("lr", "beta"), [(0.5, 0.9), (0.2, 0.5)])
def test_sgdm_quadratic_closed_form(lr, beta):
    # (e, m) ← A·(e, m), A = [[1 − lr·(1 − β)·c, −lr·β], [(1 − β)·c, β]]: det β
    a00 = 1 - lr * (1 - beta) * C
    expected = closed_form(a00, a00 + beta, np.full(C.size, beta))
    assert_iterates(descend(make_optimizer("sgdm", beta=beta), lr), expected)


# --- against a scalar transcription of the rules -------------------------------------------------


def reference(name: str, hp: dict, w: float, gs: list[float], lrs: list[float]) -> list[float]:
    """One parameter's trajectory, the textbook loop in Python floats."""
    m = v = u = 0.0
    a = hp.get("initial_accumulator", 0.0)
    mu_product = 1.0
    out = []
    for t, (g, lr) in enumerate(zip(gs, lrs, strict=True), start=1):
        if name == "sgd":
            w = w - lr * g
        elif name == "sgdm":
            m = hp["beta"] * m + (1 - hp["beta"]) * g
            w = w - lr * m
        elif name == "momentum":
            mu = hp["momentum"]
            v = mu * v + g
            w = w - lr * (g + mu * v if hp["nesterov"] else v)
        elif name == "adagrad":
            a = a + g * g
            w = w - lr * g / (math.sqrt(a) + hp["eps"])
        elif name == "rmsprop":
            v = hp["beta"] * v + (1 - hp["beta"]) * g * g
            w = w - lr * g / (math.sqrt(v) + hp["eps"])
        elif name == "adam":
            b1, b2 = hp["beta1"], hp["beta2"]
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat = m / (1 - b1**t)
            v_hat = v / (1 - b2**t)
            w = w - lr * m_hat / (math.sqrt(v_hat) + hp["eps"])
        elif name == "adamw":
            b1, b2 = hp["beta1"], hp["beta2"]
            w = w - lr * hp["weight_decay"] * w
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            w = w - lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + hp["eps"])
        elif name == "nadam":  # Dozat's NAdam as REFERENCE.md writes torch's
            b1, b2, psi = hp["beta1"], hp["beta2"], hp["momentum_decay"]
            mu_t = b1 * (1 - 0.5 * 0.96 ** (t * psi))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
            mu_product *= mu_t
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            denom = math.sqrt(v / (1 - b2**t)) + hp["eps"]
            w = w - lr * (1 - mu_t) / (1 - mu_product) * g / denom
            w = w - lr * mu_next / (1 - mu_product * mu_next) * m / denom
        elif name == "adamax":
            b1, b2 = hp["beta1"], hp["beta2"]
            m = b1 * m + (1 - b1) * g
            u = max(b2 * u, abs(g) + hp["eps"])
            w = w - lr / (1 - b1**t) * m / u
        elif name == "adadelta":
            rho, eps = hp["rho"], hp["eps"]
            v = rho * v + (1 - rho) * g * g
            delta = math.sqrt(u + eps) / math.sqrt(v + eps) * g
            u = rho * u + (1 - rho) * delta * delta
            w = w - lr * delta
        else:
            raise AssertionError(name)
        out.append(w)
    return out


CASES = [
    ("sgd", {}),
    ("sgdm", {"beta": 0.9}),
    ("sgdm", {"beta": 0.5}),
    ("momentum", {"momentum": 0.9, "nesterov": False}),
    ("momentum", {"momentum": 0.7, "nesterov": True}),
    ("adagrad", {"initial_accumulator": 0.0, "eps": 1e-7}),
    ("adagrad", {"initial_accumulator": 0.1, "eps": 0.0}),
    ("rmsprop", {"beta": 0.9, "eps": 1e-7}),
    ("rmsprop", {"beta": 0.99, "eps": 0.0}),
    ("adam", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}),
    ("adam", {"beta1": 0.5, "beta2": 0.99, "eps": 1e-3}),
    ("adam", {"beta1": 0.9, "beta2": 0.999, "eps": 0.0}),
    ("adamw", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "weight_decay": 0.01}),
    ("adamw", {"beta1": 0.5, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.5}),
    ("nadam", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "momentum_decay": 0.004}),
    ("nadam", {"beta1": 0.5, "beta2": 0.99, "eps": 0.0, "momentum_decay": 0.1}),
    ("adamax", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}),
    ("adamax", {"beta1": 0.5, "beta2": 0.9, "eps": 1e-3}),
    ("adadelta", {"rho": 0.9, "eps": 1e-6}),
    ("adadelta", {"rho": 0.5, "eps": 1e-3}),
]


def random_problem(seed: int, shape: tuple[int, ...], steps: int):
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(shape)
    # entries of scales 1e-3..1e2, and a learning rate that changes every step
    grads = rng.standard_normal((steps, *shape)) * np.logspace(-3, 2, shape[-1])
    lrs = list(rng.uniform(0.001, 0.1, steps))
    return w0, grads, lrs


def assert_matches_reference(name, hp, w0, grads, lrs, got):
    flat_w0, flat_g = w0.reshape(-1), grads.reshape(len(lrs), -1)
    expected = np.array(
        [reference(name, hp, flat_w0[i], list(flat_g[:, i]), lrs) for i in range(flat_w0.size)]
    ).T.reshape(got.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("name", "hp"), CASES, ids=[f"{n}-{hp}" for n, hp in CASES])
@pytest.mark.parametrize("shape", [(45,), (3, 45)])
def test_matches_scalar_reference(name, hp, shape):
    w0, grads, lrs = random_problem(7, shape, 100)
    got = np.array(run(make_optimizer(name, **hp), w0, list(grads), lrs))
    assert_matches_reference(name, hp, w0, grads, lrs, got)


@pytest.mark.parametrize(("name", "hp"), CASES, ids=[f"{n}-{hp}" for n, hp in CASES])
def test_stacked_rows_equal_single_runs_bitwise(name, hp):
    w0, grads, lrs = random_problem(11, (4, 45), 100)
    opt = make_optimizer(name, **hp)
    stacked = np.array(run(opt, w0, list(grads), lrs))
    for p in range(4):
        alone = np.array(run(opt, w0[p], list(grads[:, p]), lrs))
        np.testing.assert_array_equal(stacked[:, p], alone)


@pytest.mark.parametrize(("name", "hp"), CASES, ids=[f"{n}-{hp}" for n, hp in CASES])
def test_row_views_of_a_stack(name, hp):
    """Updating row views of a (P, n) array, each with its own state, equals the stacked update."""
    w0, grads, lrs = random_problem(3, (3, 45), 20)
    opt = make_optimizer(name, **hp)
    stacked = run(opt, w0, list(grads), lrs)[-1]
    w = w0.copy()
    states = [opt.init(w[p]) for p in range(3)]
    for g, lr in zip(grads, lrs, strict=True):
        for p in range(3):  # interleaved: one optimizer object, several states
            opt.update(w[p], g[p].copy(), states[p], lr)
    np.testing.assert_array_equal(w, stacked)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_any_shape_and_state_shapes(name):
    opt = make_optimizer(name)
    w = np.ones((2, 3, 4))
    state = opt.init(w)
    for field in state:
        assert field.shape in {(), w.shape}
        assert not np.shares_memory(field, w)
    opt.update(w, np.full((2, 3, 4), 0.5), state, 0.1)
    assert w.shape == (2, 3, 4) and np.all(w < 1.0)


hparam_strategy = st.fixed_dictionaries(
    {
        "beta": st.floats(0.0, 0.999),
        "beta1": st.floats(0.0, 0.999),
        "beta2": st.floats(0.0, 0.9999),
        "momentum": st.floats(0.0, 0.99),
        "nesterov": st.booleans(),
        "eps": st.sampled_from([0.0, 1e-10, 1e-7, 1e-3, 0.1]),
        "initial_accumulator": st.sampled_from([0.0, 0.1, 1.0]),
        "weight_decay": st.sampled_from([0.0, 0.01, 0.3]),
        "momentum_decay": st.sampled_from([0.0, 0.004, 0.1]),
        "rho": st.floats(0.0, 0.99),
    }
)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(OPTIMIZER_NAMES), pool=hparam_strategy, seed=st.integers(0, 2**32))
def test_matches_scalar_reference_for_any_hyperparameters(name, pool, seed):
    hp = {key: pool[key] for key in OPTIMIZER_PARAMS[name]}
    w0, grads, lrs = random_problem(seed, (6,), 20)
    got = np.array(run(make_optimizer(name, **hp), w0, list(grads), lrs))
    full = {**OPTIMIZER_PARAMS[name], **hp}
    assert_matches_reference(name, full, w0, grads, lrs, got)


# --- against torch.optim -------------------------------------------------------------------------

TORCH = json.loads((DATA / "torch_optimizers.json").read_text())


@pytest.mark.parametrize("case", TORCH["cases"], ids=[c["id"] for c in TORCH["cases"]])
def test_matches_torch(case):
    """Replays torch's gradients and learning rates; agrees to round-off (torch's CPU kernels
    use fused multiply-adds, which NumPy cannot, so equality is not bitwise)."""
    got = run(
        make_optimizer(case["optimizer"], **case["hparams"]),
        np.array(case["w0"]),
        case["grads"],
        case["lr"],
    )
    np.testing.assert_allclose(np.array(got), np.array(case["params"]), rtol=1e-13, atol=0)


def test_torch_cases_cover_every_torch_equivalent():
    covered = {(c["optimizer"], c["hparams"].get("nesterov", False)) for c in TORCH["cases"]}
    expected = {(n, False) for n in ("sgd", "momentum", "adagrad", "rmsprop", "adam")}
    expected |= {(n, False) for n in ("adamw", "nadam", "adamax", "adadelta")}
    assert covered >= expected | {("momentum", True)}


# --- whole runs against torch: the course's 2-11-1 run on dot.csv and the iris table -----------------

TORCH_RUNS = json.loads((DATA / "torch_runs.json").read_text())


@pytest.mark.parametrize("case", TORCH_RUNS["cases"], ids=[c["id"] for c in TORCH_RUNS["cases"]])
def test_whole_runs_match_torch_per_epoch(case):
    """nnopt's run of a config (its data, its starting weights) against the same run in torch: the network,
    the penalty in the loss, autograd, torch.nn.utils' clipping and torch.optim (make_torch_runs.py).

    Tolerance: each update rounds differently (torch's kernels fuse multiply-adds, its matmul sums in
    another order, clip_grad_norm_ takes a norm of per-tensor norms): a few ulp (1e-16 relative) per
    update. Over a run's 2000 to 8000 updates these add up, by a factor of about √K to K (1e2 to 1e4),
    to at most 1e-12 on the data loss of every epoch as long as the run does not amplify them (a rate at
    which the loss oscillates does: see make_torch_runs.py). The final weights are compared array by array,
    ‖Δ‖/‖w‖: a weight that ends near 0 (decayed, or feeding a ReLU unit that died) keeps the absolute
    error of the path it took, small against its array but not against itself, and Adam-type steps
    divide g by its own size, so rounding in a gradient that cancels to almost 0 becomes a relative
    error of the whole step."""
    c = config_mod.load(ROOT / "configs" / case["config"], case["sets"])
    h = experiment.train(c)
    assert h.status == "completed", h.message
    np.testing.assert_allclose(h.data_loss, case["data_loss"], rtol=1e-12, atol=0)
    for key, value in case["params"].items():
        expected = np.array(value)
        error = np.linalg.norm(h.params[key] - expected) / np.linalg.norm(expected)
        assert error <= 1e-11, (key, error)


def test_torch_runs_cover_every_new_rule_and_clipping_on_both_problems():
    by_problem: dict[str, set[str]] = {"dot": set(), "iris": set()}
    for case in TORCH_RUNS["cases"]:
        c = config_mod.load(ROOT / "configs" / case["config"], case["sets"])
        problem = "iris" if c.data_name == "iris" else "dot"
        assert problem == "iris" or c.hidden == (11,)
        by_problem[problem] |= {c.optimizer} | ({"clip_norm"} if c.clip_norm else set())
        by_problem[problem] |= {"clip_value"} if c.clip_value else set()
    for covered in by_problem.values():
        assert covered >= {"adamw", "nadam", "adamax", "adadelta", "clip_norm", "clip_value"}


# --- gradient clipping ---------------------------------------------------------------------------


def test_clip_norm_by_hand():
    g = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])  # norms 5, 0.5, 0
    clip(g, 1.0, None)
    coef = 1.0 / (5.0 + 1e-6)  # torch's clip_coef = max_norm / (total_norm + 1e-6), clamped to 1
    np.testing.assert_array_equal(g[0], np.array([3.0, 4.0]) * coef)
    np.testing.assert_array_equal(g[1], [0.3, 0.4])  # norm below c: multiplied by 1, unchanged
    np.testing.assert_array_equal(g[2], [0.0, 0.0])


def test_clip_value_by_hand_and_norm_first():
    g = np.array([-2.0, -0.1, 0.0, 0.05, 3.0])
    clip(g, None, 0.1)
    np.testing.assert_array_equal(g, [-0.1, -0.1, 0.0, 0.05, 0.1])
    g = np.array([6.0, 8.0])  # norm 10 -> about (0.6, 0.8), then each entry to at most 0.7
    clip(g, 1.0, 0.7)
    np.testing.assert_allclose(g, [0.6, 0.7], rtol=1e-6)


def test_clip_keeps_nan():
    g = np.array([[np.nan, 1.0], [1.0, 1.0]])
    clip(g, 0.5, 0.1)
    assert np.isnan(g[0]).all() and not np.isnan(g[1]).any()


def test_clip_of_a_stack_is_each_row_alone_bitwise():
    rng = np.random.default_rng(5)
    for n in (1, 7, 45, 203):  # below, at and past numpy's pairwise-summation blocks
        g = rng.standard_normal((6, n)) * 10.0 ** rng.uniform(-3, 2, (6, 1))
        stacked = g.copy()
        clip(stacked, 0.7, None)
        for i in range(6):
            alone = g[i].copy()
            clip(alone, 0.7, None)
            assert np.array_equal(stacked[i], alone)
            one = g[i : i + 1].copy()
            clip(one, 0.7, None)
            assert np.array_equal(stacked[i], one[0])


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("optimizer.clip_norm=0", "--set optimizer.clip_norm: must be > 0 or null (off), got 0"),
        ("optimizer.clip_value=-1", "--set optimizer.clip_value: must be > 0 or null (off), got -1"),
        ("optimizer.clip_norm=.inf", "--set optimizer.clip_norm: must be a finite number > 0"),
    ],
)
def test_bad_clipping_on_the_command_line(tmp_path, setting, fragment):
    runs = tmp_path / "runs"
    result = CliRunner().invoke(
        cli, ["train", str(ROOT / "configs" / "sgd.yaml"), "--runs-root", str(runs), "--set", setting]
    )
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: {fragment}"), result.output


def test_clipping_is_off_by_default_and_written_back():
    c = config_mod.load(ROOT / "configs" / "sgd.yaml")
    assert c.clip_norm is None and c.clip_value is None
    d = c.with_overrides(["optimizer.clip_norm=2", "optimizer.clip_value=0.5"])
    assert (d.clip_norm, d.clip_value) == (2.0, 0.5)
    assert d.to_dict()["optimizer"]["clip_norm"] == 2.0
    assert config_mod.from_dict(d.to_dict(), name="sgd") == d


def test_clipping_works_on_the_toy():
    c = config_mod.load(
        ROOT / "configs" / "quadratic.yaml", ["optimizer.clip_value=0.1", "optimizer.name=sgd"]
    )
    from nnopt_cli.core import quadratic

    h = quadratic.train(c)
    w = c.w0
    for k, got in enumerate(h.w):  # gradient 2(w + 1), clipped to ±0.1
        w = w - h.lr[k] * min(max(2.0 * (w + 1.0), -0.1), 0.1)
        assert got == pytest.approx(w, rel=1e-15)


# --- adamw against adam + l2, the default lr, the states -----------------------------------------


def test_adamw_without_decay_is_adam_bitwise():
    w0, grads, lrs = random_problem(3, (3, 45), 50)
    a = run(make_optimizer("adamw", weight_decay=0.0), w0, list(grads), lrs)
    b = run(make_optimizer("adam"), w0, list(grads), lrs)
    assert np.array_equal(a, b)


def test_adamw_decays_every_weight_by_lr_wd_whatever_the_gradient():
    """A zero gradient leaves Adam's step at 0, so AdamW's first step is the decay alone, w·(1 − lr·λ);
    adam with L2 in the loss instead sees g = λ·w and steps lr·sign(w), whatever λ."""
    w0 = np.array([1.0, -2.0, 1e-3])
    (w1,) = run(make_optimizer("adamw", weight_decay=0.1), w0, [np.zeros(3)], [0.01])
    np.testing.assert_array_equal(w1, w0 * (1.0 - 0.01 * 0.1))
    (w1,) = run(make_optimizer("adam"), w0, [0.1 * w0], [0.01])
    np.testing.assert_allclose(w0 - w1, 0.01 * np.sign(w0), rtol=2e-3)  # |g|/(|g| + eps), g >= 1e-4


def test_adadelta_runs_at_its_own_default_lr():
    c = config_mod.from_dict({"optimizer": {"name": "adadelta"}}, name="a")
    assert c.lr == 1.0
    assert config_mod.from_dict({"optimizer": {"name": "adam"}}, name="a").lr == 0.005
    assert config_mod.from_dict({"optimizer": {"name": "adadelta", "lr": 0.5}}, name="a").lr == 0.5
    assert config_mod.from_dict(c.to_dict(), name="a") == c  # written back with its lr, read the same


def test_nadam_keeps_its_mu_product():
    opt = make_optimizer("nadam", beta1=0.9, momentum_decay=0.004)
    w = np.zeros(2)
    state = opt.init(w)
    for _ in range(3):
        opt.update(w, np.ones(2), state, 0.1)
    mus = [0.9 * (1 - 0.5 * 0.96 ** (t * 0.004)) for t in (1, 2, 3)]
    assert int(state.t) == 3 and float(state.mu_product) == mus[0] * mus[1] * mus[2]


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hparams", "message"),
    [
        ("adamm", {}, "optimizer.name: unknown value 'adamm'; did you mean 'adam'?"),
        ("zzz", {}, "known: sgd, sgdm, momentum, adagrad, rmsprop, adam, adamw, nadam, adamax, adadelta"),
        ("adam", {"betta1": 0.9}, "optimizer.betta1: not a setting of adam; did you mean 'beta1'?"),
        ("adam", {"betta1": 0.9}, "known: beta1, beta2, eps"),
        ("sgd", {"momentum": 0.9}, "optimizer.momentum: not a setting of sgd; known: none"),
        ("rmsprop", {"alpha": 0.9}, "known: beta, eps"),
        ("sgdm", {"beta": 1.5}, "optimizer.beta: must be in [0, 1), got 1.5"),
        ("sgdm", {"beta": 1}, "optimizer.beta: must be in [0, 1), got 1"),
        ("sgdm", {"beta": -0.1}, "optimizer.beta: must be in [0, 1), got -0.1"),
        ("adam", {"beta1": float("nan")}, "optimizer.beta1: must be a finite number in [0, 1), got nan"),
        ("adam", {"beta2": 1.0}, "optimizer.beta2: must be in [0, 1), got 1.0"),
        ("momentum", {"momentum": 1.0}, "optimizer.momentum: must be in [0, 1)"),
        ("momentum", {"momentum": True}, "optimizer.momentum: must be a number in [0, 1), got true"),
        ("momentum", {"nesterov": 1}, "optimizer.nesterov: must be true or false, got 1"),
        ("momentum", {"nesterov": "yes"}, "optimizer.nesterov: must be true or false"),
        ("adam", {"eps": -1e-8}, "optimizer.eps: must be >= 0, got -1e-08"),
        ("adam", {"eps": float("inf")}, "optimizer.eps: must be a finite number >= 0, got inf"),
        ("adam", {"eps": "1e-7"}, "got '1e-7' (text, not a number"),
        ("adam", {"eps": None}, "optimizer.eps: must be a number >= 0, got null"),
        ("adagrad", {"initial_accumulator": -1.0}, "optimizer.initial_accumulator: must be >= 0"),
    ],
)
def test_invalid_settings(name, hparams, message):
    with pytest.raises(OptimizerError) as err:
        make_optimizer(name, **hparams)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)
    # the key travels as data, for the config layer to place the error on its line
    assert str(err.value).startswith(f"{err.value.key}: ")


def test_valid_edge_settings():
    make_optimizer("sgdm", beta=0)  # integers are numbers
    make_optimizer("adam", beta1=np.float64(0.5), eps=0)
    make_optimizer("momentum", momentum=0.0, nesterov=np.bool_(True))
    make_optimizer("adagrad", initial_accumulator=0)


# --- Keras' legacy decay -------------------------------------------------------------------------


def test_legacy_decay_by_hand():
    # lr_k / (1 + decay·k)
    np.testing.assert_allclose(legacy_decay(np.ones(4), 0.5), [1.0, 1 / 1.5, 1 / 2.0, 1 / 2.5], rtol=1e-15)
    np.testing.assert_allclose(legacy_decay(np.array([0.5, 0.4, 0.3]), 1.0), [0.5, 0.2, 0.1], rtol=1e-15)
    np.testing.assert_allclose(
        legacy_decay(np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]), 0.25),
        [[1.0, 0.8, 1 / 1.5], [2.0, 1.6, 2 / 1.5]],
        rtol=1e-15,
    )


def test_legacy_decay_zero_is_an_unchanged_copy():
    trace = np.array([0.3, 0.2, 0.1])
    out = legacy_decay(trace, 0)
    np.testing.assert_array_equal(out, trace)
    assert out is not trace and not np.shares_memory(out, trace)
    out = legacy_decay(trace, 0.5)
    np.testing.assert_array_equal(trace, [0.3, 0.2, 0.1])  # input untouched


@pytest.mark.parametrize("decay", [-0.1, float("nan"), True, "0.1"])
def test_legacy_decay_rejects(decay):
    with pytest.raises(OptimizerError, match=r"^optimizer\.decay: must be (a finite number |a number )?>= 0"):
        legacy_decay(np.ones(3), decay)


# --- through the training loop and the command line ----------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def loop_config(*sets: str) -> Config:
    return config_mod.from_dict({}, list(sets))


def dead_unit_start(path: Path, hidden: int = 3, dead: int = 1) -> Path:
    """A start where hidden unit `dead` never activates: w1[:, dead] = 0 and b1[dead] = −1, so its
    pre-activation is −1 on every input and the gradients of w1[:, dead], b1[dead] and w2[dead] are
    exactly 0 from the first update on (ReLU' = 0 there, and its output is 0)."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((2, hidden))
    b1 = np.full(hidden, 0.01)
    w1[:, dead] = 0.0
    b1[dead] = -1.0
    w2 = rng.standard_normal((hidden, 1))
    np.savez(path, w1=w1, b1=b1, w2=w2, b2=np.full(1, 0.01))
    return path


@pytest.mark.parametrize("name", ["adam", "adagrad", "rmsprop", "nadam", "adadelta", "adamax"])
def test_eps_zero_on_a_dead_unit_diverges_and_says_why(tmp_path, name):
    start = dead_unit_start(tmp_path / "dead.npz")
    sets = (f"optimizer.name={name}", "optimizer.lr=0.01", "model.hidden=3", f"model.init_from={start}")
    h = experiment.train(loop_config(*sets, "optimizer.eps=0", "train.epochs=5"))
    assert h.status == "diverged"
    assert h.diverged_epoch == 1 and h.epochs_done == 1  # 0/0 on the very first update
    assert h.message.startswith("diverged at epoch 1: the loss became NaN; with optimizer.eps 0, ")
    size = "the running maximum of |g|" if name == "adamax" else "sqrt of an accumulator of g²"
    assert f"{name} divides by {size}, which is 0" in h.message
    assert "(0/0 = NaN): set eps > 0, e.g. 1e-7" in h.message
    assert "\n" not in h.message
    assert np.all(np.isnan(h.params["w1"][:, 1])) and np.isnan(h.params["b1"][1])

    # eps > 0 turns 0/0 into 0/eps = 0: the dead unit's parameters never move, the rest trains
    ok = experiment.train(loop_config(*sets, "optimizer.eps=1e-7", "train.epochs=5"))
    assert ok.status == "completed"
    assert np.array_equal(ok.params["w1"][:, 1], [0.0, 0.0]) and ok.params["b1"][1] == -1.0
    with np.load(start) as saved:
        assert ok.params["w2"][1, 0] == saved["w2"][1, 0]
        assert not np.array_equal(ok.params["w1"][:, 0], saved["w1"][:, 0])


def test_eps_zero_diverges_through_the_cli_with_exit_3(tmp_path):
    start = dead_unit_start(tmp_path / "dead.npz")
    runs = tmp_path / "runs"
    args = ["train", str(ROOT / "configs" / "adam.yaml"), "--runs-root", str(runs), "-q"]
    for item in ("optimizer.eps=0", "model.hidden=3", f"model.init_from={start}", "train.epochs=3"):
        args += ["--set", item]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3, result.output
    assert "nnopt: diverged at epoch 1: the loss became NaN; with optimizer.eps 0, adam divides" in (
        result.output
    )


def test_legacy_decay_in_the_lr_trace():
    # optimizer.decay = 0.5: the update k uses 0.1 / (1 + 0.5·k); 10 updates per epoch
    h = experiment.train(loop_config("optimizer.lr=0.1", "optimizer.decay=0.5", "train.epochs=2"))
    expected = [0.1, 0.1 / 1.5, 0.05, 0.04, 0.1 / 3, 0.1 / 3.5, 0.025, 0.1 / 4.5, 0.02, 0.1 / 5.5]
    np.testing.assert_allclose(h.lr_trace[:10], expected, rtol=1e-15)
    assert len(h.lr_trace) == 20
    assert h.lr_trace[19] == pytest.approx(0.1 / 10.5, rel=1e-15)
    # metrics.csv's lr column: the rate of each epoch's last update, k = 9 and 19
    assert h.lr == pytest.approx([0.1 / 5.5, 0.1 / 10.5], rel=1e-15)


def test_legacy_decay_compounds_with_a_schedule():
    # exponential, decay_steps 1, rate 0.5: 0.1·0.5^k, then / (1 + 0.25·k)
    h = experiment.train(
        loop_config(
            "optimizer.lr=0.1",
            "optimizer.decay=0.25",
            "schedule.type=exponential",
            "schedule.decay_steps=1",
            "schedule.decay_rate=0.5",
            "train.epochs=1",
        )
    )
    np.testing.assert_allclose(h.lr_trace[:4], [0.1, 0.05 / 1.25, 0.025 / 1.5, 0.0125 / 1.75], rtol=1e-15)


def test_legacy_decay_zero_leaves_the_rate_constant():
    h = experiment.train(loop_config("optimizer.lr=0.1", "train.epochs=1"))
    assert h.lr_trace.tolist() == [0.1] * 10


def test_sgdm_and_momentum_share_a_direction_in_the_loop():
    """sgdm at lr equals classical momentum at lr·(1 − β): v = m/(1 − β) at every update."""
    sgdm = experiment.train(loop_config("optimizer.name=sgdm", "optimizer.lr=0.05", "train.epochs=50"))
    heavy = experiment.train(loop_config("optimizer.name=momentum", "optimizer.lr=0.005", "train.epochs=50"))
    for key in sgdm.params:
        np.testing.assert_allclose(sgdm.params[key], heavy.params[key], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(
    ("config_name", "setting", "fragment"),
    [
        ("rmsprop", "optimizer.beta=1.0", "--set optimizer.beta: must be in [0, 1), got 1.0"),
        ("sgdm", "optimizer.beta=1.0", "--set optimizer.beta: must be in [0, 1), got 1.0"),
        ("adam", "optimizer.beta2=1.0", "--set optimizer.beta2: must be in [0, 1), got 1.0"),
        ("adam", "optimizer.eps=-1", "--set optimizer.eps: must be >= 0, got -1"),
        ("adagrad", "optimizer.eps=-1", "--set optimizer.eps: must be >= 0, got -1"),
        (
            "adam",
            "optimizer.name=adamm",
            "--set optimizer.name: unknown value 'adamm'; did you mean 'adam'? "
            "known: sgd, sgdm, momentum, adagrad, rmsprop, adam, adamw, nadam, adamax, adadelta",
        ),
    ],
)
def test_bad_hyperparameters_on_the_command_line(tmp_path, config_name, setting, fragment):
    runs = tmp_path / "runs"
    config_file = str(ROOT / "configs" / f"{config_name}.yaml")
    result = CliRunner().invoke(cli, ["train", config_file, "--runs-root", str(runs), "--set", setting])
    assert result.exit_code == 2, result.output
    assert result.output.endswith("\n") and result.output.count("\n") == 1, result.output
    assert result.output == f"Error: {fragment}\n"
    assert not runs.exists() or not any(runs.iterdir())


@pytest.mark.parametrize(
    ("optimizer_yaml", "fragment"),
    [
        ("  name: rmsprop\n  beta: 1.0\n", "c.yaml, line 4: optimizer.beta: must be in [0, 1), got 1.0"),
        (
            "  name: adam\n  eps: -1\n",
            "c.yaml, line 4: optimizer.eps: must be >= 0, got -1",
        ),
        (
            "  name: adamm\n",
            "c.yaml, line 3: optimizer.name: unknown value 'adamm'; did you mean 'adam'? "
            "known: sgd, sgdm, momentum, adagrad, rmsprop, adam, adamw, nadam, adamax, adadelta",
        ),
    ],
)
def test_bad_hyperparameters_in_a_config_file(tmp_path, optimizer_yaml, fragment):
    path = tmp_path / "c.yaml"
    path.write_text(f"name: c\noptimizer:\n{optimizer_yaml}  lr: 0.01\n")
    runs = tmp_path / "runs"
    result = CliRunner().invoke(cli, ["train", str(path), "--runs-root", str(runs)])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("Error: ") and result.output.rstrip("\n").endswith(fragment)
    assert not runs.exists() or not any(runs.iterdir())


# --- a column of rates: one per row of a stack ----------------------------------------------------------

COLUMN_RULES: list[tuple[str, dict[str, object]]] = [
    ("sgd", {}),
    ("sgdm", {"beta": 0.9}),
    ("momentum", {"momentum": 0.9, "nesterov": False}),
    ("momentum", {"momentum": 0.8, "nesterov": True}),
    ("adagrad", {"initial_accumulator": 0.1, "eps": 1e-7}),
    ("rmsprop", {"beta": 0.9, "eps": 1e-7}),
    ("adam", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}),
    ("adam", {"beta1": 0.5, "beta2": 0.99, "eps": 0.0}),
    ("adamw", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "weight_decay": 0.1}),
    ("nadam", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "momentum_decay": 0.004}),
    ("nadam", {"beta1": 0.5, "beta2": 0.99, "eps": 0.0, "momentum_decay": 0.004}),
    ("adamax", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}),
    ("adadelta", {"rho": 0.9, "eps": 1e-6}),
]


@pytest.mark.parametrize(("name", "hp"), COLUMN_RULES)
def test_a_column_of_rates_updates_each_row_as_its_rate_alone_bitwise(name, hp) -> None:
    rng = np.random.default_rng(11)
    p, n, steps = 4, 45, 60
    rates = rng.uniform(1e-4, 0.1, (steps, p))
    stacked = rng.standard_normal((p, n))
    alone = stacked.copy()
    opt = make_optimizer(name, **hp)
    state = opt.init(stacked)
    states = [opt.init(alone[i]) for i in range(p)]
    for k in range(steps):
        g = rng.standard_normal((p, n)) * 10.0 ** rng.uniform(-3, 1)
        g[:, :2] = 0.0  # entries that never see a gradient: 0/0 with eps 0 on both sides
        opt.update(stacked, g.copy(), state, rates[k][:, None])
        for i in range(p):
            opt.update(alone[i], g[i].copy(), states[i], float(rates[k, i]))
    assert np.array_equal(stacked, alone, equal_nan=True)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_state_names_are_the_fields_of_the_rules_state(name):
    # state.npz saves a rule's state under these names
    state = make_optimizer(name).init(np.zeros((2, 3)))
    assert state_names(name) == state._fields
    assert state_names("adam") == ("t", "m", "v")
    assert state_names("adamw") == ("t", "m", "v")
    assert state_names("nadam") == ("t", "mu_product", "m", "v")
    assert state_names("adamax") == ("t", "m", "u")
    assert state_names("adadelta") == ("v", "u")
