"""Tests of nnopt_cli.core.schedules.

Expected values come from four places, never from the module's own output: derivations by hand
written out below, a scalar reference written with ``math`` straight from the table in
REFERENCE.md ("Learning-rate schedules"), seed 004's printed per-epoch trace, and TensorFlow's
``tf.compat.v1.train.*_decay`` evaluated by tests/data/make_tf_schedules.py.
"""

from __future__ import annotations

import bisect
import copy
import inspect
import json
import math
import pickle
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nnopt_cli import checks
from nnopt_cli.core import schedules
from nnopt_cli.core.schedules import (
    REQUIRED,
    SCHEDULE_PARAMS,
    SCHEDULE_TYPES,
    ScheduleError,
    describe,
    make_schedule,
)

TF_DATA = Path(__file__).parent / "data" / "tf_schedules.json"
STEPS = np.arange(301)


# --------------------------------------------------------------------------------------------
# A scalar reference, written from REFERENCE.md's table with math.* and nothing else.


def reference(kind: str, lr0: float, k: int, **p: Any) -> list[float]:
    """Every value REFERENCE.md's table allows at step k, one formula per row.

    One value, except for cosine_restarts at a step within round-off of a period boundary: the period
    index is floor(x) of a computed x, and where x is that close to an integer either floor is a correct
    evaluation of the formula (TensorFlow's own float64 and float32 disagree there), so the value of
    each period the step may be counted in is allowed.
    """
    full = {**{n: v for n, v in SCHEDULE_PARAMS[kind].items() if v is not REQUIRED}, **p}
    if kind == "constant":
        return [lr0]
    if kind in ("exponential", "natural_exp", "inverse_time"):
        D, rate = full["decay_steps"], full["decay_rate"]
        q = math.floor(k / D) if full["staircase"] else k / D
        if kind == "exponential":
            return [lr0 * rate**q]
        if kind == "natural_exp":
            return [lr0 * math.exp(-rate * q)]
        return [lr0 / (1 + rate * q)]
    if kind == "polynomial":
        D, end, power = full["decay_steps"], full["end_lr"], full["power"]
        if full["cycle"]:
            D2 = D * (1 if k == 0 else math.ceil(k / D))
            # At k = n·D the exact base 1 − k/D' is 0 (the table: "the value is end"); in float64 D·ceil(k/D)
            # can round to just below k, and a negative base to a fractional power has no real value. The
            # exact base is never negative, so it is clamped at 0.
            return [(lr0 - end) * max(1 - k / D2, 0.0) ** power + end]
        kk = min(k, D)
        return [(lr0 - end) * (1 - kk / D) ** power + end]
    if kind == "cosine":
        D, alpha = full["decay_steps"], full["alpha"]
        c = 0.5 * (1 + math.cos(math.pi * min(k, D) / D))
        return [lr0 * ((1 - alpha) * c + alpha)]
    if kind == "cosine_restarts":
        F, t, m, alpha = full["first_decay_steps"], full["t_mul"], full["m_mul"], full["alpha"]
        f = k / F
        if t == 1:
            periods = [math.floor(f)]  # exact: the same division and floor on both sides
        else:
            x = math.log(1 - f * (1 - t)) / math.log(t)
            # Both sides compute the logarithm's argument with the same operations; the two logarithms
            # differ by at most 2·ELEMENTARY relatively, the division adds U: x is known to within dx.
            dx = (2 * ELEMENTARY + 2 * U) * abs(x)
            periods = list(range(math.floor(x - dx), math.floor(x + dx) + 1))
        values = []
        for i in periods:
            fi = f - i if t == 1 else (f - (1 - t**i) / (1 - t)) / t**i
            values.append(lr0 * ((1 - alpha) * 0.5 * m**i * (1 + math.cos(math.pi * fi)) + alpha))
        return values
    if kind == "linear_cosine":
        D, n, alpha, beta = (full[x] for x in ("decay_steps", "num_periods", "alpha", "beta"))
        kk = min(k, D)
        lin = (D - kk) / D
        c = 0.5 * (1 + math.cos(2 * math.pi * n * kk / D))
        return [lr0 * ((alpha + lin) * c + beta)]
    if kind == "piecewise_constant":
        b, v = full["boundaries"], full["values"]
        if k <= b[0]:
            return [v[0]]
        for i in range(1, len(b)):
            if b[i - 1] < k <= b[i]:
                return [v[i]]
        return [v[-1]]
    raise AssertionError(kind)


# --------------------------------------------------------------------------------------------
# How far nnopt (NumPy, TensorFlow's order of operations) and the reference (math, the table's
# order) may differ: bounds from the arithmetic, not from a run.

U = 2.0**-53
"""Unit round-off of float64: one correctly rounded +, −, ×, / errs by at most U relative."""

ELEMENTARY = 8 * U
"""Relative error bound of one exp, log, pow or cos, in NumPy or in libm: 4 ulps (NumPy's SIMD kernels
promise at most 4 ulps; libm's are within 1), and one ulp is at most 2U relative."""

TINY = 2.0**-1022
"""Below the smallest normal float64 relative accuracy ends; such values are compared absolutely."""


def tolerance(kind: str, lr0: float, params: dict[str, Any], k_max: int) -> tuple[float, float]:
    """(rtol, atol) bounding |nnopt − reference| at every step 0..k_max, to first order in U.

    Where both sides run the same correctly rounded operations on the same numbers they agree exactly;
    each differing operation contributes its own bound, amplified by how the rest of the formula
    scales it.
    """
    full = {**{n: v for n, v in SCHEDULE_PARAMS[kind].items() if v is not REQUIRED}, **params}
    if kind in ("constant", "piecewise_constant"):
        return 0.0, 0.0  # no arithmetic at all
    if kind == "inverse_time":
        return 0.0, 0.0  # lr0 / (1 + rate·p) with the same operations on both sides
    if kind == "exponential":
        # rate**p: two pow implementations; the product with lr0 rounds once on each side.
        return 2 * ELEMENTARY + 2 * U, (lr0 + 1) * TINY
    if kind == "natural_exp":
        # nnopt: pow(exp(−rate), p), the rounding of exp(−rate) raised to p: p·ELEMENTARY, plus pow's own.
        # Reference: exp(−rate·p), the product rounded (an absolute rate·p·U in the exponent), plus exp's own.
        p_max = k_max / full["decay_steps"]
        rtol = (p_max + 2) * ELEMENTARY + (full["decay_rate"] * p_max + 2) * U
        return rtol, (lr0 + 1) * TINY
    if kind == "polynomial":
        # The same operations except pow: (1 − k/D')**power differs by 2·ELEMENTARY of a number <= 1,
        # scaled by |lr0 − end|; the product and the sum round once more on each side.
        end = full["end_lr"]
        return 0.0, abs(lr0 - end) * (2 * ELEMENTARY + 2 * U) + 2 * U * max(lr0, end)
    if kind == "cosine":
        # The angle π·k'/D is rounded twice on each side (|angle| <= π), cos adds ELEMENTARY on each side
        # (|cos| <= 1); c = (1 + cos)/2 and lr0·((1 − alpha)·c + alpha) round four more times.
        return 0.0, lr0 * (4 * math.pi * U + 2 * ELEMENTARY + 8 * U)
    if kind in ("linear_cosine", "noisy_linear_cosine"):
        # The angle 2π·num_periods·k'/D (at most 2π·num_periods) rounds three times on each side; cos as
        # above; the result scales c by alpha + lin <= 2, then rounds three more times.
        angle = 2 * math.pi * full["num_periods"]
        dc = 0.5 * (6 * U * angle + 2 * ELEMENTARY) + 2 * U
        return 0.0, lr0 * (2 * dc + 6 * U * (2 + full["beta"]))
    if kind == "cosine_restarts":
        t, F = full["t_mul"], full["first_decay_steps"]
        # f' = f − i when t_mul = 1: the same operations on both sides. Otherwise f' = (f − (1 − s)/(1 − t))/s
        # with s = t**i >= 1 from two pows (2·ELEMENTARY apart): the difference 1 − s is divided by 1 − t,
        # which amplifies it by 1/(t − 1), in TensorFlow too.
        df = 0.0 if t == 1 else 2 * ELEMENTARY / (t - 1) + 4 * U * (k_max / F) + 2 * ELEMENTARY
        dcos = math.pi * df + 2 * ELEMENTARY
        # 0.5·m**i·(1 + cos): m**i <= 1 from two pows, (1 + cos) <= 2; then four roundings.
        return 0.0, lr0 * (0.5 * dcos + 2 * ELEMENTARY + 8 * U)
    raise AssertionError(kind)


def _assert_matches_reference(
    kind: str, lr0: float, params: dict[str, Any], got: np.ndarray, ref_kind: str | None = None
) -> None:
    """got[k] is one of the reference values at k, within `tolerance`; failures listed side by side."""
    ref_kind = ref_kind or kind
    ref_params = {n: v for n, v in params.items() if n in SCHEDULE_PARAMS[ref_kind]}
    rtol, atol = tolerance(kind, lr0, params, len(got) - 1)
    rows = []
    for k, value in enumerate(got.tolist()):
        allowed = reference(ref_kind, lr0, k, **ref_params)
        if not any(abs(value - want) <= atol + rtol * abs(want) for want in allowed):
            rows.append(f"  k={k}: nnopt {value!r}  expected {' or '.join(map(repr, allowed))}")
    if rows:
        pytest.fail(f"{len(rows)} steps differ (rtol {rtol:.3g}, atol {atol:.3g}):\n" + "\n".join(rows[:12]))


REFERENCE_CASES: list[tuple[str, float, dict[str, Any]]] = [
    ("constant", 0.5, {}),
    ("constant", 0.0, {}),
    ("exponential", 0.5, {"decay_steps": 10, "decay_rate": 0.9}),
    ("exponential", 0.5, {"decay_steps": 10, "decay_rate": 0.9, "staircase": True}),
    ("exponential", 0.2, {"decay_steps": 1, "decay_rate": 0.99}),
    ("exponential", 1.0, {"decay_steps": 3.5, "decay_rate": 0.5, "staircase": True}),
    ("exponential", 0.1, {"decay_steps": 25, "decay_rate": 1.2}),
    ("natural_exp", 0.5, {"decay_steps": 10, "decay_rate": 0.9}),
    ("natural_exp", 0.5, {"decay_steps": 10, "decay_rate": 0.9, "staircase": True}),
    ("natural_exp", 2.0, {"decay_steps": 1, "decay_rate": 0.01}),
    ("inverse_time", 0.5, {"decay_steps": 10, "decay_rate": 0.9}),
    ("inverse_time", 0.5, {"decay_steps": 10, "decay_rate": 0.9, "staircase": True}),
    ("inverse_time", 0.3, {"decay_steps": 2, "decay_rate": 0.0}),
    ("polynomial", 0.5, {"decay_steps": 10}),
    ("polynomial", 0.5, {"decay_steps": 10, "cycle": True}),
    ("polynomial", 0.5, {"decay_steps": 10, "power": 2.0, "cycle": True}),
    ("polynomial", 0.5, {"decay_steps": 45, "power": 0.5, "end_lr": 0.05}),
    ("polynomial", 0.01, {"decay_steps": 20, "end_lr": 0.1}),
    ("polynomial", 0.5, {"decay_steps": 7.5, "power": 3.0, "cycle": True, "end_lr": 0.0}),
    ("cosine", 0.5, {"decay_steps": 100}),
    ("cosine", 0.5, {"decay_steps": 10, "alpha": 0.2}),
    ("cosine", 1.0, {"decay_steps": 333, "alpha": 1.0}),
    ("cosine_restarts", 0.5, {"first_decay_steps": 10}),
    ("cosine_restarts", 0.5, {"first_decay_steps": 10, "t_mul": 1.0}),
    ("cosine_restarts", 0.5, {"first_decay_steps": 10, "t_mul": 1.0, "m_mul": 0.5}),
    ("cosine_restarts", 0.5, {"first_decay_steps": 7, "t_mul": 1.5, "m_mul": 0.9, "alpha": 0.1}),
    ("cosine_restarts", 0.5, {"first_decay_steps": 3, "t_mul": 2.5, "m_mul": 1.1}),
    ("linear_cosine", 0.5, {"decay_steps": 100}),
    ("linear_cosine", 0.5, {"decay_steps": 40, "num_periods": 3.0, "alpha": 0.3, "beta": 0.0}),
    ("linear_cosine", 0.5, {"decay_steps": 250, "num_periods": 0.0, "beta": 0.2}),
    ("piecewise_constant", 0.0, {"boundaries": [10, 20], "values": [1.0, 0.5, 0.1]}),
    ("piecewise_constant", 0.5, {"boundaries": [0, 1, 2, 299], "values": [5, 4, 3, 2, 1]}),
    ("piecewise_constant", 0.5, {"boundaries": [99.5], "values": [0.1, 0.01]}),
]


def _case_id(case: tuple[str, float, dict[str, Any]]) -> str:
    kind, lr0, params = case
    return f"{kind}-{lr0}-" + "-".join(f"{k}={v}" for k, v in params.items())


@pytest.mark.parametrize("case", REFERENCE_CASES, ids=_case_id)
def test_matches_reference_table(case: tuple[str, float, dict[str, Any]]) -> None:
    kind, lr0, params = case
    _assert_matches_reference(kind, lr0, params, make_schedule(kind, lr0, **params)(STEPS))


def _assert_close(got: np.ndarray, want: np.ndarray, *, rtol: float, atol: float) -> None:
    """Like np.testing.assert_allclose, but lists the first offending steps side by side."""
    ok = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        rows = [f"  k={k}: nnopt {got[k]!r}  expected {want[k]!r}" for k in np.flatnonzero(~ok)]
        pytest.fail(f"{(~ok).sum()} steps differ:\n" + "\n".join(rows[:12]))


# --------------------------------------------------------------------------------------------
# Values derived by hand


def _one(kind: str, lr0: float, k: int, **params: Any) -> float:
    return make_schedule(kind, lr0, **params)(k)


def test_exponential_by_hand() -> None:
    p = {"decay_steps": 10, "decay_rate": 0.9}
    assert _one("exponential", 0.5, 0, **p) == 0.5
    assert _one("exponential", 0.5, 15, **p) == pytest.approx(0.5 * 0.9**1.5, rel=1e-14)
    # Not clipped after D: at k = 300, p = 30.
    assert _one("exponential", 0.5, 300, **p) == pytest.approx(0.5 * 0.9**30, rel=1e-14)
    stair = {**p, "staircase": True}
    assert _one("exponential", 0.5, 9, **stair) == 0.5
    assert _one("exponential", 0.5, 10, **stair) == pytest.approx(0.5 * 0.9, rel=1e-15)
    assert _one("exponential", 0.5, 19, **stair) == pytest.approx(0.5 * 0.9, rel=1e-15)
    assert _one("exponential", 0.5, 20, **stair) == pytest.approx(0.5 * 0.81, rel=1e-15)


def test_natural_exp_and_inverse_time_by_hand() -> None:
    p = {"decay_steps": 10, "decay_rate": 0.5}
    assert _one("natural_exp", 0.5, 5, **p) == pytest.approx(0.5 * math.exp(-0.25), rel=1e-14)
    assert _one("natural_exp", 0.5, 19, **p, staircase=True) == pytest.approx(0.5 * math.exp(-0.5), rel=1e-14)
    assert _one("inverse_time", 0.5, 15, **p) == pytest.approx(0.5 / 1.75, rel=1e-15)
    assert _one("inverse_time", 0.5, 15, **p, staircase=True) == pytest.approx(0.5 / 1.5, rel=1e-15)


def test_polynomial_by_hand() -> None:
    lr0, end = 0.5, 0.0001
    plain = make_schedule("polynomial", lr0, decay_steps=10)
    assert plain(0) == lr0
    assert plain(5) == pytest.approx((lr0 - end) * 0.5 + end, rel=1e-15)
    assert plain(10) == end
    assert plain(250) == end  # k clipped at D
    cyc = make_schedule("polynomial", lr0, decay_steps=10, cycle=True)
    assert cyc(0) == lr0  # the ceiling is taken as 1 at k = 0
    assert cyc(1) == pytest.approx((lr0 - end) * (1 - 1 / 10) + end, rel=1e-15)
    assert cyc(10) == end  # at a multiple of D: end_lr, never back to lr0
    assert cyc(11) == pytest.approx((lr0 - end) * (1 - 11 / 20) + end, rel=1e-15)
    assert cyc(20) == end
    assert cyc(21) == pytest.approx((lr0 - end) * (1 - 21 / 30) + end, rel=1e-15)
    assert cyc(300) == end
    squared = make_schedule("polynomial", lr0, decay_steps=10, cycle=True, power=2.0)
    assert squared(15) == pytest.approx((lr0 - end) * 0.25**2 + end, rel=1e-15)


def test_cosine_by_hand() -> None:
    s = make_schedule("cosine", 0.5, decay_steps=100)
    assert s(0) == 0.5
    assert s(50) == pytest.approx(0.25, rel=1e-15)
    assert s(100) == 0.0
    assert s(200) == 0.0  # clipped at D
    floor = make_schedule("cosine", 0.5, decay_steps=100, alpha=0.1)
    assert floor(100) == pytest.approx(0.05, rel=1e-15)
    assert floor(50) == pytest.approx(0.5 * (0.9 * 0.5 + 0.1), rel=1e-15)


def test_cosine_restarts_by_hand() -> None:
    # t_mul = 1: every period is F = 10 steps; m_mul halves each restart's peak.
    same = make_schedule("cosine_restarts", 0.5, first_decay_steps=10, t_mul=1.0, m_mul=0.5)
    assert same(0) == 0.5
    assert same(5) == pytest.approx(0.25, rel=1e-15)
    assert same(10) == 0.25
    assert same(15) == pytest.approx(0.125, rel=1e-15)
    assert same(30) == 0.5 * 0.5**3
    # t_mul = 2: periods [0, 10), [10, 30), [30, 70), [70, 150), ...
    grow = make_schedule("cosine_restarts", 0.5, first_decay_steps=10)
    assert grow(10) == 0.5
    assert grow(20) == pytest.approx(0.25, rel=1e-15)  # middle of [10, 30)
    assert grow(29) == pytest.approx(0.25 * (1 + math.cos(math.pi * 19 / 20)), rel=1e-12)
    assert grow(30) == 0.5
    assert grow(50) == pytest.approx(0.25, rel=1e-15)  # middle of [30, 70)
    assert grow(70) == 0.5
    peaks = make_schedule("cosine_restarts", 1.0, first_decay_steps=10, m_mul=0.5, alpha=0.2)
    assert peaks(30) == pytest.approx(0.8 * 0.25 + 0.2, rel=1e-15)  # third period, i = 2


def test_linear_cosine_by_hand() -> None:
    s = make_schedule("linear_cosine", 0.5, decay_steps=100)
    assert s(0) == pytest.approx(0.5 * 1.001, rel=1e-15)
    assert s(50) == pytest.approx(0.5 * (0.5 * 0.5 + 0.001), rel=1e-15)
    assert s(100) == pytest.approx(0.5 * 0.001, rel=1e-15)
    assert s(300) == s(100)


def test_piecewise_constant_by_hand() -> None:
    s = make_schedule("piecewise_constant", 0.0, boundaries=[10, 20], values=[1.0, 0.5, 0.1])
    assert [s(k) for k in (0, 9, 10, 11, 19, 20, 21, 1000)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.1, 0.1]


# --------------------------------------------------------------------------------------------
# Seed 004: lr = lr_base * decay ** (epoch / lr_step), lr_base 0.2, decay 0.99, lr_step 1.

SEED_004 = {
    0: 0.2,
    1: 0.198,
    2: 0.19602,
    3: 0.1940598,
    4: 0.192119202,
    5: 0.19019800998,
    6: 0.1882960298802,
    7: 0.186413069581398,
    8: 0.18454893888558402,
    9: 0.18270344949672818,
    90: 0.08094639453566477,
    91: 0.08013693059030812,
    92: 0.07933556128440503,
    93: 0.07854220567156098,
    94: 0.07775678361484537,
    95: 0.07697921577869692,
    96: 0.07620942362090993,
    97: 0.07544732938470083,
    98: 0.07469285609085384,
    99: 0.07394592752994529,
}


def test_seed_004_per_epoch_trace() -> None:
    s = make_schedule("exponential", 0.2, decay_steps=1, decay_rate=0.99)
    epochs = np.array(sorted(SEED_004))
    got = s(epochs)
    for epoch, value in zip(epochs, got, strict=True):
        assert value == pytest.approx(SEED_004[int(epoch)], rel=1e-12), epoch


# --------------------------------------------------------------------------------------------
# TensorFlow's own values (tests/data/make_tf_schedules.py, TensorFlow 2.21)


def _tf_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(TF_DATA.read_text(encoding="utf-8"))["cases"]
    return cases


def _tf_id(case: dict[str, Any]) -> str:
    return _case_id((case["type"], case["lr"], case["params"]))


@pytest.mark.parametrize("case", _tf_cases(), ids=_tf_id)
def test_matches_tensorflow(case: dict[str, Any]) -> None:
    got = make_schedule(case["type"], case["lr"], **case["params"])(STEPS)
    if "float64" in case:
        _assert_close(got, np.array(case["float64"], dtype=np.float64), rtol=1e-12, atol=0.0)
    # Stock TensorFlow in float32: parameters and arithmetic rounded to float32.
    f32 = np.array(case["float32"], dtype=np.float64)
    _assert_close(got, f32, rtol=2e-5, atol=1e-6 * max(case["lr"], 1.0))


def test_tensorflow_data_covers_every_deterministic_type() -> None:
    kinds = {c["type"] for c in _tf_cases() if "float64" in c}
    assert kinds == set(SCHEDULE_TYPES) - {"noisy_linear_cosine"}
    # With t_mul < 1 TensorFlow's restarts run out at F / (1 - t_mul) = 40 steps: NaN after.
    (short,) = [c for c in _tf_cases() if c["params"].get("t_mul") == 0.5]
    assert not any(math.isnan(v) for v in short["float64"][:40])
    assert all(math.isnan(v) for v in short["float64"][40:])


def test_defaults_are_tensorflows() -> None:
    doc = json.loads(TF_DATA.read_text(encoding="utf-8"))
    names = doc["tf_names"]
    for kind, tf_defaults in doc["tf_defaults"].items():
        ours = {names.get(k, k): v for k, v in SCHEDULE_PARAMS[kind].items() if v is not REQUIRED}
        assert ours == tf_defaults, kind


# --------------------------------------------------------------------------------------------
# The API: types, parameters, the REQUIRED sentinel


def test_schedule_types_and_params_agree() -> None:
    assert SCHEDULE_TYPES == (
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
    assert tuple(SCHEDULE_PARAMS) == SCHEDULE_TYPES
    required = {"decay_steps", "decay_rate", "first_decay_steps", "boundaries", "values"}
    for kind, params in SCHEDULE_PARAMS.items():
        for name, default in params.items():
            assert (default is REQUIRED) == (name in required), (kind, name)


def test_factories_take_exactly_the_listed_parameters() -> None:
    for kind in SCHEDULE_TYPES:
        signature = inspect.signature(schedules._FACTORIES[kind])
        names = [n for n in signature.parameters if n not in ("lr", "seed")]
        assert sorted(names) == sorted(SCHEDULE_PARAMS[kind]), kind


def test_required_survives_copy_and_pickle() -> None:
    table = copy.deepcopy(SCHEDULE_PARAMS)
    assert table["exponential"]["decay_steps"] is REQUIRED
    assert copy.copy(REQUIRED) is REQUIRED
    assert pickle.loads(pickle.dumps(REQUIRED)) is REQUIRED
    assert repr(REQUIRED) == "REQUIRED"


def test_defaults_fill_omitted_parameters() -> None:
    explicit = make_schedule("polynomial", 0.5, decay_steps=10, end_lr=0.0001, power=1.0)
    implicit = make_schedule("polynomial", 0.5, decay_steps=10)
    assert np.array_equal(explicit(STEPS), implicit(STEPS))
    # A loader that filled every default (REQUIRED included) gets the same answers.
    filled: dict[str, Any] = {**SCHEDULE_PARAMS["cosine"], "decay_steps": 50}
    assert make_schedule("cosine", 0.5, **filled)(25) == make_schedule("cosine", 0.5, decay_steps=50)(25)


# --------------------------------------------------------------------------------------------
# Validation: every rule, by message


@pytest.mark.parametrize(
    ("kind", "lr0", "kwargs", "key", "problem"),
    [
        ("exponentail", 0.1, {}, "schedule.type", "unknown value 'exponentail'; did you mean 'exponential'?"),
        ("step", 0.1, {}, "schedule.type", "unknown value 'step'; known: constant, exponential, natural_exp"),
        (3, 0.1, {}, "schedule.type", "unknown value 3; known: "),
        (
            "exponential",
            0.1,
            {"decay_steps": 10, "decay_rate": 0.9, "decay_step": 3},
            "schedule.decay_step",
            "not a parameter of the exponential schedule; did you mean 'decay_steps'? "
            "known: decay_steps, decay_rate, staircase",
        ),
        (
            "constant",
            0.1,
            {"alpha": 0.1},
            "schedule.alpha",
            "not a parameter of the constant schedule; known: none",
        ),
        (
            "cosine",
            0.1,
            {"decay_steps": 5, "end_lr": 0.0},
            "schedule.end_lr",
            "not a parameter of the cosine schedule; known: ",
        ),
        (
            "exponential",
            0.1,
            {"decay_rate": 0.9},
            "schedule.decay_steps",
            "is required by the exponential schedule",
        ),
        (
            "exponential",
            0.1,
            {"decay_steps": 10},
            "schedule.decay_rate",
            "is required by the exponential schedule",
        ),
        (
            "cosine_restarts",
            0.1,
            {},
            "schedule.first_decay_steps",
            "is required by the cosine_restarts schedule",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": [1]},
            "schedule.values",
            "is required by the piecewise_constant schedule",
        ),
        (
            "piecewise_constant",
            0.1,
            {"values": [1]},
            "schedule.boundaries",
            "is required by the piecewise_constant schedule",
        ),
        (
            "exponential",
            0.1,
            {"decay_steps": REQUIRED, "decay_rate": 0.9},
            "schedule.decay_steps",
            "is required by the exponential schedule",
        ),
        (
            "exponential",
            0.1,
            {"decay_steps": 0, "decay_rate": 0.9},
            "schedule.decay_steps",
            "must be > 0, got 0",
        ),
        ("polynomial", 0.1, {"decay_steps": -5}, "schedule.decay_steps", "must be > 0, got -5"),
        (
            "cosine_restarts",
            0.1,
            {"first_decay_steps": 0},
            "schedule.first_decay_steps",
            "must be > 0, got 0",
        ),
        (
            "exponential",
            0.1,
            {"decay_steps": "10", "decay_rate": 0.9},
            "schedule.decay_steps",
            "must be a number > 0, got '10' (text, not a number: drop the quotes)",
        ),
        (
            "exponential",
            0.1,
            {"decay_steps": True, "decay_rate": 0.9},
            "schedule.decay_steps",
            "must be a number > 0, got true",
        ),
        (
            "exponential",
            0.1,
            {"decay_steps": math.inf, "decay_rate": 0.9},
            "schedule.decay_steps",
            "must be a finite number > 0, got inf",
        ),
        (
            "exponential",
            0.1,
            {"decay_steps": 10, "decay_rate": -0.1},
            "schedule.decay_rate",
            "must be >= 0, got -0.1",
        ),
        (
            "natural_exp",
            0.1,
            {"decay_steps": 10, "decay_rate": math.nan},
            "schedule.decay_rate",
            "must be a finite number >= 0, got nan",
        ),
        (
            "exponential",
            0.1,
            {"decay_steps": 10, "decay_rate": 0.9, "staircase": 1},
            "schedule.staircase",
            "must be true or false, got 1",
        ),
        (
            "polynomial",
            0.1,
            {"decay_steps": 10, "cycle": "yes"},
            "schedule.cycle",
            "must be true or false, got 'yes'",
        ),
        (
            "polynomial",
            0.1,
            {"decay_steps": 10, "end_lr": -0.0001},
            "schedule.end_lr",
            "must be >= 0, got -0.0001",
        ),
        ("polynomial", 0.1, {"decay_steps": 10, "power": 0.0}, "schedule.power", "must be > 0, got 0.0"),
        ("cosine", 0.1, {"decay_steps": 10, "alpha": 1.5}, "schedule.alpha", "must be in [0, 1], got 1.5"),
        (
            "linear_cosine",
            0.1,
            {"decay_steps": 10, "alpha": -0.1},
            "schedule.alpha",
            "must be in [0, 1], got -0.1",
        ),
        ("linear_cosine", 0.1, {"decay_steps": 10, "beta": -1.0}, "schedule.beta", "must be >= 0, got -1.0"),
        (
            "linear_cosine",
            0.1,
            {"decay_steps": 10, "num_periods": -0.5},
            "schedule.num_periods",
            "must be >= 0, got -0.5",
        ),
        (
            "noisy_linear_cosine",
            0.1,
            {"decay_steps": 10, "initial_variance": -1.0},
            "schedule.initial_variance",
            "must be >= 0, got -1.0",
        ),
        (
            "noisy_linear_cosine",
            0.1,
            {"decay_steps": 10, "variance_decay": -0.55},
            "schedule.variance_decay",
            "must be >= 0, got -0.55",
        ),
        (
            "cosine_restarts",
            0.1,
            {"first_decay_steps": 10, "t_mul": 0.0},
            "schedule.t_mul",
            "must be > 0, got 0.0",
        ),
        (
            "cosine_restarts",
            0.1,
            {"first_decay_steps": 10, "t_mul": -2.0},
            "schedule.t_mul",
            "must be > 0, got -2.0",
        ),
        (
            "cosine_restarts",
            0.1,
            {"first_decay_steps": 10, "m_mul": -0.5},
            "schedule.m_mul",
            "must be >= 0, got -0.5",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": [10, 10, 20], "values": [1, 2, 3, 4]},
            "schedule.boundaries",
            "must be strictly increasing, got [10, 10, 20]",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": [20, 10], "values": [1, 2, 3]},
            "schedule.boundaries",
            "must be strictly increasing, got [20, 10]",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": [], "values": [1]},
            "schedule.boundaries",
            "must be a non-empty list of numbers, got []",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": 10, "values": [1, 2]},
            "schedule.boundaries",
            "must be a non-empty list of numbers, got 10",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": [-1, 5], "values": [1, 2, 3]},
            "schedule.boundaries[0]",
            "must be >= 0, got -1",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": [10, 20], "values": [1.0, 0.5]},
            "schedule.values",
            "must have one more entry than schedule.boundaries (3), got 2",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": [10], "values": [1.0, 0.5, 0.1]},
            "schedule.values",
            "must have one more entry than schedule.boundaries (2), got 3",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": [10], "values": [1.0, -0.5]},
            "schedule.values[1]",
            "must be >= 0, got -0.5",
        ),
        (
            "piecewise_constant",
            0.1,
            {"boundaries": [10], "values": [1.0, "0.5"]},
            "schedule.values[1]",
            "must be a number >= 0, got '0.5' (text, not a number: drop the quotes)",
        ),
        ("constant", -0.1, {}, "optimizer.lr", "must be >= 0, got -0.1"),
        ("constant", math.nan, {}, "optimizer.lr", "must be a finite number >= 0, got nan"),
        ("constant", 0.1, {"warmup_steps": -1}, "schedule.warmup_steps", "must be an integer >= 0, got -1"),
        ("constant", 0.1, {"warmup_steps": 2.5}, "schedule.warmup_steps", "must be an integer >= 0, got 2.5"),
        (
            "constant",
            0.1,
            {"warmup_steps": True},
            "schedule.warmup_steps",
            "must be an integer >= 0, got true",
        ),
        ("constant", 0.1, {"seed": -3}, "seed", "must be an integer >= 0, got -3"),
    ],
)
def test_validation_errors(kind: Any, lr0: Any, kwargs: dict[str, Any], key: str, problem: str) -> None:
    """The key path is data on the error; the problem starts with the words given here."""
    with pytest.raises(ScheduleError) as info:
        make_schedule(kind, lr0, **kwargs)
    assert info.value.key == key
    assert info.value.problem.startswith(problem), info.value.problem
    assert str(info.value) == f"{key}: {info.value.problem}"
    assert "\n" not in str(info.value)
    assert isinstance(info.value, checks.CheckError) and isinstance(info.value, ValueError)


def test_valid_edge_values_are_accepted() -> None:
    make_schedule("constant", 0.0)
    make_schedule("exponential", 0.1, decay_steps=0.5, decay_rate=0.0)
    make_schedule("exponential", 0.1, decay_steps=10, decay_rate=1.5, staircase=np.bool_(True))
    make_schedule("cosine", 0.1, decay_steps=np.int64(10), alpha=1.0)
    make_schedule("cosine_restarts", 0.1, first_decay_steps=10, t_mul=0.5, m_mul=0.0)
    make_schedule("piecewise_constant", 0.1, boundaries=(0, 2.5), values=(1, 0, 1))
    make_schedule("constant", 0.1, warmup_steps=np.int32(5), seed=2**40)  # type: ignore[arg-type]


def test_bad_steps() -> None:
    s = make_schedule("constant", 0.1)
    with pytest.raises(TypeError, match="integer array"):
        s(np.linspace(0, 1, 5))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int or an integer array"):
        s(1.0)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="int or an integer array"):
        s(True)
    with pytest.raises(ValueError, match=r"steps must be >= 0, got -1"):
        s(-1)
    with pytest.raises(ValueError, match=r"steps must be >= 0, got -2"):
        s(np.array([3, -2]))


# --------------------------------------------------------------------------------------------
# Scalar / array equivalence and purity


def _every_type(warmup: int = 0, seed: int = 7) -> list[schedules.Schedule]:
    params: dict[str, dict[str, Any]] = {
        "constant": {},
        "exponential": {"decay_steps": 10, "decay_rate": 0.9},
        "natural_exp": {"decay_steps": 10, "decay_rate": 0.5, "staircase": True},
        "inverse_time": {"decay_steps": 7, "decay_rate": 0.5},
        "polynomial": {"decay_steps": 10, "power": 1.7, "cycle": True},
        "cosine": {"decay_steps": 100, "alpha": 0.1},
        "cosine_restarts": {"first_decay_steps": 7, "t_mul": 1.5, "m_mul": 0.9},
        "linear_cosine": {"decay_steps": 100, "num_periods": 2.0},
        "noisy_linear_cosine": {"decay_steps": 100},
        "piecewise_constant": {"boundaries": [10, 20, 150], "values": [1, 0.5, 0.1, 0.01]},
    }
    return [
        make_schedule(kind, 0.5, seed=seed, warmup_steps=warmup, **params[kind]) for kind in SCHEDULE_TYPES
    ]


@pytest.mark.parametrize("warmup", [0, 1, 25])
def test_scalar_equals_array_exactly(warmup: int) -> None:
    for s in _every_type(warmup):
        arr = s(STEPS)
        assert arr.dtype == np.float64 and arr.shape == STEPS.shape
        for k in STEPS:
            value = s(int(k))
            assert type(value) is float
            assert value == arr[k], (s, int(k))
        assert s(np.int64(17)) == arr[17]


def test_shape_layout_and_dtype_do_not_change_values() -> None:
    grid = np.arange(300).reshape(20, 15)
    for s in _every_type(warmup=3):
        flat = s(np.arange(300))
        assert np.array_equal(s(grid), flat.reshape(20, 15))
        assert np.array_equal(s(grid.T), flat.reshape(20, 15).T)  # not contiguous
        assert np.array_equal(s(np.arange(300)[::-3]), flat[::-3])
        assert np.array_equal(s(np.arange(300, dtype=np.int32)), flat)
        assert np.array_equal(s(np.arange(300, dtype=np.uint16)), flat)
        assert s(np.array(42)).shape == () and s(np.array(42)) == flat[42]
        assert s(np.array([], dtype=np.int64)).shape == (0,)


def test_values_do_not_depend_on_evaluation_order() -> None:
    order = list(range(301))
    random.Random(3).shuffle(order)
    for forward, shuffled in zip(_every_type(warmup=5), _every_type(warmup=5), strict=True):
        # A fresh schedule asked for a late step first, then one at a time in random order.
        late = shuffled(300)
        one_by_one = {k: shuffled(k) for k in order}
        whole = forward(STEPS)
        assert late == whole[300]
        assert [one_by_one[k] for k in range(301)] == whole.tolist()
        # Asking again, after a larger range, changes nothing.
        forward(np.arange(5000))
        assert np.array_equal(forward(STEPS), whole)


# --------------------------------------------------------------------------------------------
# noisy_linear_cosine


def test_generator_prefix_property() -> None:
    # The noise relies on this: the first m of n normals do not depend on n.
    for seed in (0, 1, 12345):
        longest = np.random.default_rng(seed).standard_normal(5000)
        for m in (1, 2, 1023, 1024, 1025, 4096):
            assert np.array_equal(np.random.default_rng(seed).standard_normal(m), longest[:m])


def test_noise_is_a_fixed_function_of_seed_and_step() -> None:
    # num_periods 0.75 keeps the cosine factor at 0.5 past D, so late noise stays visible.
    params: dict[str, Any] = {"decay_steps": 100, "initial_variance": 0.5, "num_periods": 0.75}
    a = make_schedule("noisy_linear_cosine", 0.5, seed=11, **params)
    b = make_schedule("noisy_linear_cosine", 0.5, seed=11, **params)
    c = make_schedule("noisy_linear_cosine", 0.5, seed=12, **params)
    assert b(20_000) == a(np.arange(20_001))[20_000]  # one late step first vs. a whole range
    assert np.array_equal(a(STEPS), b(STEPS))
    assert not np.array_equal(a(STEPS), c(STEPS))
    # The noise is z[k] * std(k), z from default_rng(seed); lin and c from the table. A fresh
    # schedule asked for early steps first, then later and later ones, must still agree.
    z = np.random.default_rng(11).standard_normal(20_001)
    fresh = make_schedule("noisy_linear_cosine", 0.5, seed=11, **params)
    for k in (0, 1, 50, 99, 100, 250, 1023, 1024, 1025, 2500, 7000, 20_000, 3):
        kk = min(k, 100)
        lin = (100 - kk) / 100
        cos = 0.5 * (1 + math.cos(2 * math.pi * 0.75 * kk / 100))
        eps = z[k] * math.sqrt(0.5 / (1 + kk) ** 0.55)
        want = 0.5 * ((0.0 + lin + eps) * cos + 0.001)
        assert fresh(k) == pytest.approx(want, rel=1e-12, abs=1e-15), k


def test_noise_variance_is_initial_variance_over_decay() -> None:
    # num_periods 0 keeps the cosine factor at 1 and D = 1 makes lin 0 for every k >= 1, so
    # value / lr0 - beta is the noise itself, with variance 4 / (1 + 1) ** 1 = 2 at every step.
    # (Read as a standard deviation, 4 / 2 = 2 would give variance 4.)
    s = make_schedule(
        "noisy_linear_cosine",
        1.0,
        seed=5,
        decay_steps=1,
        num_periods=0.0,
        beta=0.0,
        initial_variance=4.0,
        variance_decay=1.0,
    )
    eps = s(np.arange(1, 40_001))
    assert eps.mean() == pytest.approx(0.0, abs=0.05)
    assert eps.var() == pytest.approx(2.0, rel=0.05)


def test_noise_free_noisy_linear_cosine_is_linear_cosine() -> None:
    noisy = make_schedule("noisy_linear_cosine", 0.5, decay_steps=60, initial_variance=0.0)
    plain = make_schedule("linear_cosine", 0.5, decay_steps=60)
    assert np.array_equal(noisy(STEPS), plain(STEPS))


# --------------------------------------------------------------------------------------------
# Warmup


def test_warmup_by_hand() -> None:
    s = make_schedule("constant", 0.3, warmup_steps=4)
    assert [s(k) for k in range(6)] == [0.0, 0.3 * 1 / 4, 0.3 * 2 / 4, 0.3 * 3 / 4, 0.3, 0.3]
    e = make_schedule("exponential", 0.5, decay_steps=10, decay_rate=0.9, warmup_steps=5)
    assert e(2) == pytest.approx(0.5 * 0.9**0.2 * 2 / 5, rel=1e-14)
    assert e(5) == pytest.approx(0.5 * 0.9**0.5, rel=1e-14)
    one = make_schedule("constant", 0.3, warmup_steps=1)
    assert (one(0), one(1)) == (0.0, 0.3)


@pytest.mark.parametrize("warmup", [1, 7, 120])
def test_warmup_scales_every_type(warmup: int) -> None:
    for cold, warm in zip(_every_type(), _every_type(warmup), strict=True):
        base, ramped = cold(STEPS), warm(STEPS)
        assert np.array_equal(ramped[warmup:], base[warmup:])
        k = STEPS[:warmup]
        assert np.array_equal(ramped[:warmup], base[:warmup] * k / warmup)


# --------------------------------------------------------------------------------------------
# Properties


@st.composite
def _param_sets(draw: st.DrawFn) -> tuple[str, float, dict[str, Any]]:
    kind = draw(st.sampled_from(SCHEDULE_TYPES))
    lr0 = draw(st.floats(0.0, 2.0))
    steps = st.integers(1, 400) | st.floats(0.5, 400.0)
    frac = st.floats(0.0, 1.0)
    pos = st.floats(0.0, 5.0)
    p: dict[str, Any]
    if kind in ("exponential", "natural_exp", "inverse_time"):
        rate = draw(st.floats(0.0, 2.0))  # 2 ** 800 still fits a float
        p = {"decay_steps": draw(steps), "decay_rate": rate, "staircase": draw(st.booleans())}
    elif kind == "polynomial":
        p = {
            "decay_steps": draw(steps),
            "end_lr": draw(st.floats(0.0, 2.0)),
            "power": draw(st.floats(0.1, 4.0)),
            "cycle": draw(st.booleans()),
        }
    elif kind == "cosine":
        p = {"decay_steps": draw(steps), "alpha": draw(frac)}
    elif kind == "cosine_restarts":
        p = {
            "first_decay_steps": draw(steps),
            "t_mul": draw(st.floats(1.0, 4.0)),  # < 1 runs out of periods (NaN), tested apart
            "m_mul": draw(frac),
            "alpha": draw(frac),
        }
    elif kind in ("linear_cosine", "noisy_linear_cosine"):
        p = {
            "decay_steps": draw(steps),
            "num_periods": draw(pos),
            "alpha": draw(frac),
            "beta": draw(frac),
        }
        if kind == "noisy_linear_cosine":
            p["initial_variance"] = draw(pos)
            p["variance_decay"] = draw(pos)
    elif kind == "piecewise_constant":
        b = sorted(draw(st.sets(st.integers(0, 400), min_size=1, max_size=6)))
        p = {
            "boundaries": b,
            "values": draw(st.lists(pos, min_size=len(b) + 1, max_size=len(b) + 1)),
        }
    else:
        p = {}
    return kind, lr0, p


@settings(max_examples=150, deadline=None)
@given(_param_sets())
# k = 63 = 45·1.4: D·ceil(k/D) rounds below k, the base 1 − k/D' to −2e−16 (the clamp's case)
@example(("polynomial", 0.5, {"decay_steps": 1.4, "end_lr": 0.01, "power": 1.5, "cycle": True}))
# restarts at k = 1, 3, 7, 15, ...: x = log2(k + 1) lands on integers, where either period is right
@example(("cosine_restarts", 0.5, {"first_decay_steps": 1, "t_mul": 2.0, "m_mul": 0.5, "alpha": 0.1}))
# t_mul one ulp above 1: TensorFlow's (1 − t**i)/(1 − t) is all round-off, and the bound says so
@example(
    ("cosine_restarts", 1.0, {"first_decay_steps": 0.5, "t_mul": 1 + 2**-52, "m_mul": 1.0, "alpha": 0.0})
)
def test_matches_reference_for_random_parameters(case: tuple[str, float, dict[str, Any]]) -> None:
    kind, lr0, params = case
    ref_kind = kind
    if kind == "noisy_linear_cosine":  # without noise it is linear_cosine; noise tested above
        params = {**params, "initial_variance": 0.0}
        ref_kind = "linear_cosine"
    s = make_schedule(kind, lr0, **params)
    got = s(STEPS)
    _assert_matches_reference(kind, lr0, params, got, ref_kind)
    for k in (0, 7, 300):
        assert s(k) == got[k]


@settings(max_examples=150, deadline=None)
@given(_param_sets(), st.integers(0, 50))
def test_values_stay_within_bounds(case: tuple[str, float, dict[str, Any]], warmup: int) -> None:
    kind, lr0, p = case
    values = make_schedule(kind, lr0, seed=1, warmup_steps=warmup, **p)(np.arange(1000))
    if kind == "noisy_linear_cosine":
        return  # Gaussian noise is unbounded
    if kind == "exponential" and p["decay_rate"] > 1:
        return  # a growth, allowed as in TensorFlow; 2 ** 2000 overflows, and 0 * inf is NaN
    if kind == "polynomial":
        lo, hi = min(lr0, p["end_lr"]), max(lr0, p["end_lr"])
    elif kind in ("cosine", "cosine_restarts"):  # m_mul <= 1 here
        lo, hi = lr0 * p["alpha"], lr0
    elif kind == "linear_cosine":
        lo, hi = lr0 * p["beta"], lr0 * (1 + p["alpha"] + p["beta"])
    elif kind == "piecewise_constant":
        lo, hi = min(p["values"]), max(p["values"])
    else:  # constant, exponential, natural_exp, inverse_time
        lo, hi = 0.0, lr0
    if warmup:
        lo = 0.0
    # The bounds hold for the exact formulas, and every exp, pow and cos in them stays within [-1, 1] when
    # rounded too; what remains is at most 8 rounded +, −, ×, / (the warmup ramp included), each within U of
    # a number no larger than max(lr0, hi).
    slack = 8 * U * max(lr0, hi)
    assert not np.isnan(values).any()
    assert values.min() >= lo - slack, kind
    assert values.max() <= hi + slack, kind


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.0, 2.0),
    st.integers(1, 300) | st.floats(0.5, 300.0),
    st.floats(0.0, 2.0),
    st.floats(0.1, 5.0),
)
def test_polynomial_without_cycle_never_increases(
    lr0: float, decay_steps: float, end: float, power: float
) -> None:
    if end > lr0:
        lr0, end = end, lr0  # an increasing "decay" (end_lr > lr) is allowed but not this test
    v = make_schedule("polynomial", lr0, decay_steps=decay_steps, end_lr=end, power=power)(np.arange(700))
    # 1 − k/D falls with k and the rounded −, ×, + after pow keep the order; only pow may step back, by
    # 2·ELEMENTARY of a number <= 1, which (lr0 − end) scales and the last two roundings can widen by U each.
    assert np.all(np.diff(v) <= (lr0 - end) * 2 * ELEMENTARY + 2 * U * lr0)
    # pow(1, power) = 1 and pow(0, power) = 0 exactly; (lr0 − end)·1 + end rounds twice, in TensorFlow too.
    assert v[0] == pytest.approx(lr0, rel=2 * U, abs=0.0)
    assert v[-1] == end


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=8, unique=True).map(sorted),
    st.data(),
)
def test_piecewise_matches_bisect(boundaries: list[int], data: st.DataObject) -> None:
    values = data.draw(
        st.lists(st.floats(0.0, 10.0), min_size=len(boundaries) + 1, max_size=len(boundaries) + 1)
    )
    steps = data.draw(st.lists(st.integers(0, 12_000), min_size=1, max_size=50))
    s = make_schedule("piecewise_constant", 0.1, boundaries=boundaries, values=values)
    got = s(np.array(steps + boundaries))
    # bisect_left counts the boundaries strictly below k: the index of k's interval.
    want = [values[bisect.bisect_left(boundaries, k)] for k in steps + boundaries]
    assert got.tolist() == want


# --------------------------------------------------------------------------------------------
# describe() and speed


def test_describe() -> None:
    filled = {**SCHEDULE_PARAMS["exponential"], "decay_steps": 10, "decay_rate": 0.9}
    assert describe("exponential", filled) == "exponential (decay_steps=10, decay_rate=0.9)"
    filled["staircase"] = True
    assert describe("exponential", filled) == ("exponential (decay_steps=10, decay_rate=0.9, staircase)")
    assert describe("constant", {}) == "constant"
    assert describe("constant", {"warmup_steps": 0, "type": "constant"}) == "constant"
    assert describe("polynomial", {"decay_steps": 100, "end_lr": 0.0001, "cycle": True}) == (
        "polynomial (decay_steps=100, cycle)"
    )
    assert describe("cosine", {"decay_steps": 50, "alpha": 0.05, "warmup_steps": 10}) == (
        "cosine (decay_steps=50, alpha=0.05, warmup=10)"
    )
    assert (
        describe("piecewise_constant", {"boundaries": [100, 200], "values": [0.1, 0.01, 0.001]})
        == "piecewise_constant (boundaries=[100, 200], values=[0.1, 0.01, 0.001])"
    )
    with pytest.raises(ScheduleError, match="did you mean 'cosine'"):
        describe("cosin", {})


def test_repr_names_the_schedule() -> None:
    s = make_schedule("cosine", 0.5, decay_steps=10, warmup_steps=2)
    assert repr(s) == "Schedule('cosine', lr=0.5, decay_steps=10.0, alpha=0.0, warmup_steps=2)"


def test_ten_thousand_steps_are_fast() -> None:
    steps = np.arange(10_000)
    for s in _every_type(warmup=100):
        s(steps)  # grows the noise table once
        best = min(_timed(s, steps) for _ in range(5))
        assert best < 0.010, (s, best)


def _timed(s: schedules.Schedule, steps: np.ndarray) -> float:
    start = time.perf_counter()
    s(steps)
    return time.perf_counter() - start


def test_polynomial_cycle_at_a_multiple_of_a_fractional_decay_steps_is_end_lr() -> None:
    # k = 63 = 45 · 1.4, so k = n·D and the rate is end_lr; in float64 D·ceil(k/D) = 62.99999999999999 < k,
    # and 1 − k/D' = −2e−16 to the power 1.5 would be NaN (as in TensorFlow) without the clamp at 0.
    s = make_schedule("polynomial", 0.5, decay_steps=1.4, end_lr=0.01, power=1.5, cycle=True)
    for k in (63, 119, 126, 231):
        assert s(k) == pytest.approx(0.01, rel=1e-12)
    assert not np.isnan(s(STEPS)).any()
