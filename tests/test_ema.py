"""Tests of nnopt_cli.core.ema against seed 003's trace and tf.train.ExponentialMovingAverage's rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnopt_cli import checks, config
from nnopt_cli.core import loop
from nnopt_cli.core.ema import EMAError, check_decay, ema_decay, ema_step
from nnopt_cli.experiments import experiment


def ema_update(shadow: np.ndarray, params: np.ndarray, decay: float, n: int) -> None:
    """One moving-average step at global step n, as the training loop composes it: the decay d of step n,
    then shadow −= (shadow − params)·(1 − d)."""
    ema_step(shadow, params, 1.0 - ema_decay(decay, n))


def test_seed_003_trace():
    """tf.train.ExponentialMovingAverage(0.99, global_step) on w1, as printed in seed 003.

    The seed ran in float32, whose round-off accumulates to ~2e-7 relative over the trace, so
    the float64 values agree to 7 significant digits (rtol 5e-7), not to all 8 printed.
    """
    w1 = np.zeros(1)
    shadow = w1.copy()  # shadows start at the initial value
    w1[0] = 1.0
    ema_update(shadow, w1, 0.99, 0)  # global step 0: d = min(0.99, 1/10)
    np.testing.assert_allclose(shadow, [0.9], rtol=5e-7)
    w1[0] = 10.0
    trace = []
    for _ in range(7):
        ema_update(shadow, w1, 0.99, 100)  # global step 100: d = min(0.99, 101/110)
        trace.append(shadow[0])
    expected = [1.6445453, 2.3281732, 2.955868, 3.532206, 4.061389, 4.547275, 4.9934072]
    np.testing.assert_allclose(trace, expected, rtol=5e-7)


def test_seed_003_by_hand():
    # the seed's own arithmetic: min(0.99, 101/110)·0.9 + (1 − min(0.99, 101/110))·10 = 1.644...
    d = 101 / 110
    shadow = np.array([0.9])
    ema_update(shadow, np.array([10.0]), 0.99, 100)
    np.testing.assert_allclose(shadow, [d * 0.9 + (1 - d) * 10.0], rtol=1e-15)


@pytest.mark.parametrize(
    ("decay", "n", "expected"),
    [
        (0.99, 0, 0.1),  # 1/10
        (0.99, 1, 0.2 / 1.1),  # 2/11, n = 1 after the first update
        (0.99, 100, 101 / 110),
        (0.99, 890, 0.99),  # 891/900 = 0.99 exactly: the ramp meets the decay
        (0.99, 10_000, 0.99),
        (0.5, 0, 0.1),
        (0.5, 8, 0.5),  # 9/18
        (0.5, 100, 0.5),
        (0.0, 5, 0.0),
    ],
)
def test_ema_decay(decay, n, expected):
    assert ema_decay(decay, n) == pytest.approx(expected, rel=1e-15)


def test_update_in_place_any_shape():
    shadow = np.zeros((2, 3))
    params = np.arange(6.0).reshape(2, 3)
    before = shadow
    ema_update(shadow, params, 0.99, 0)
    assert shadow is before
    np.testing.assert_allclose(shadow, 0.9 * params, rtol=1e-15)
    np.testing.assert_array_equal(params, np.arange(6.0).reshape(2, 3))


def test_decay_zero_copies_params():
    shadow = np.array([5.0, -1.0])
    ema_update(shadow, np.array([0.25, 3.0]), 0.0, 1000)
    np.testing.assert_array_equal(shadow, [0.25, 3.0])


@settings(max_examples=50, deadline=None)
@given(
    decay=st.floats(0.0, 0.9999),
    n=st.integers(0, 10**6),
    value=st.floats(-1e6, 1e6, allow_subnormal=False),
)
def test_shadow_equal_to_params_stays_exactly(decay, n, value):
    """TF's form shadow −= (shadow − param)·(1 − d) leaves a converged shadow untouched."""
    shadow = np.full(3, value)
    ema_update(shadow, np.full(3, value), decay, n)
    np.testing.assert_array_equal(shadow, np.full(3, value))


@settings(max_examples=50, deadline=None)
@given(decay=st.floats(0.0, 0.9999), n=st.integers(0, 10**6), seed=st.integers(0, 2**32))
def test_matches_the_textbook_form(decay, n, seed):
    rng = np.random.default_rng(seed)
    shadow, params = rng.standard_normal(5), rng.standard_normal(5)
    d = min(decay, (1 + n) / (10 + n))
    expected = d * shadow + (1 - d) * params
    ema_update(shadow, params, decay, n)
    np.testing.assert_allclose(shadow, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("decay", "expected"), [(None, None), (0.99, 0.99), (0, 0.0), (0.5, 0.5)])
def test_check_decay_accepts(decay, expected):
    assert check_decay(decay) == expected


@pytest.mark.parametrize(
    ("decay", "problem"),
    [
        (1.0, "must be in [0, 1) or null (off), got 1.0"),
        (1, "must be in [0, 1) or null (off), got 1"),
        (1.5, "must be in [0, 1) or null (off), got 1.5"),
        (-0.1, "must be in [0, 1) or null (off), got -0.1"),
        (float("nan"), "must be a finite number in [0, 1) or null (off), got nan"),
        (True, "must be a number in [0, 1) or null (off), got true"),
        (
            "0.99",
            "must be a number in [0, 1) or null (off), got '0.99' (text, not a number: drop the quotes)",
        ),
    ],
)
def test_check_decay_rejects(decay, problem):
    with pytest.raises(EMAError) as err:
        check_decay(decay)
    assert (err.value.key, err.value.problem) == ("ema.decay", problem)
    assert str(err.value) == f"ema.decay: {problem}"
    assert isinstance(err.value, checks.CheckError)


# --- through the training loop -------------------------------------------------------------------


def _run(epochs: int, decay: float | None) -> loop.History:
    # one update per epoch (the whole set as one batch), so the global step n equals the epoch
    sets = ["data.batch_size=300", "optimizer.lr=0.1", "model.hidden=4", f"train.epochs={epochs}"]
    if decay is not None:
        sets.append(f"ema.decay={decay}")
    return experiment.train(config.from_dict({}, sets))


def test_training_loop_applies_the_rule_after_every_update():
    """shadow_n = d_n·shadow_(n−1) + (1 − d_n)·w_n, d_n = min(decay, (1 + n)/(10 + n)), from shadow_0 = w_0.

    decay 0.2 meets the ramp at n = 2: d = 2/11, then 0.2, 0.2 (3/12 and 4/13 are larger).
    """
    c = config.from_dict({}, ["model.hidden=4"])
    net, _ = experiment.network(c, experiment.load_data(c).full)
    w = [experiment.starting_params(c, net)] + [net.from_arrays(_run(n, None).params) for n in (1, 2, 3)]
    shadow = w[0].copy()
    for n, d in zip((1, 2, 3), (2 / 11, 0.2, 0.2), strict=True):
        shadow = d * shadow + (1 - d) * w[n]
    h = _run(3, 0.2)
    assert h.params_ema is not None
    np.testing.assert_allclose(net.from_arrays(h.params_ema), shadow, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(net.from_arrays(h.params), w[3])  # the EMA never feeds back


def test_ema_columns_are_the_shadow_weights_evaluated():
    h = _run(3, 0.99)
    assert list(h.metrics_columns()) == [
        "epoch",
        "step",
        "lr",
        "loss",
        "data_loss",
        "accuracy",
        "ema_loss",
        "ema_accuracy",
    ]
    assert h.params_ema is not None
    ds = experiment.load_data(h.config).train
    net, _ = experiment.network(h.config, ds)
    out = net.logits(net.from_arrays(h.params_ema)[None], ds.x)[0, 0]  # one linear output: the score
    assert h.ema_loss[-1] == pytest.approx(float(np.mean((ds.labels - out) ** 2)), rel=1e-12)
    assert h.ema_accuracy[-1] == float(np.mean((out >= 0.5) == (ds.labels == 1)))
    assert _run(3, None).params_ema is None
