"""The one update path: a row of a population ends where the same run alone ends, bit for bit."""

from __future__ import annotations

import numpy as np

from nnopt_cli.core import ema, optimizers, regularizers
from nnopt_cli.core.population import Population, RowSpec

N = 7
MASK = np.array([1, 1, 1, 0, 1, 1, 0], dtype=float)  # weights and biases, as MLP.weight_mask() gives


def spec(name: str, **kw: object) -> RowSpec:
    reg = kw.pop("regularizer", "none")
    scale = kw.pop("reg_scale", 0.0)
    with_ema = bool(kw.pop("ema", False))
    clip_norm = kw.pop("clip_norm", None)
    clip_value = kw.pop("clip_value", None)
    return RowSpec(
        name,
        optimizers.check_params(name, kw),
        str(reg),
        float(scale),  # type: ignore[arg-type]
        with_ema,
        clip_norm,  # type: ignore[arg-type]
        clip_value,  # type: ignore[arg-type]
    )


SPECS = [
    spec("sgd", regularizer="l2", reg_scale=0.03),
    spec("adam", ema=True),
    spec("sgd"),
    spec("rmsprop", beta=0.8, regularizer="l1", reg_scale=0.01),
    spec("momentum", momentum=0.9, nesterov=True, ema=True),
    spec("adagrad", initial_accumulator=0.1),
    spec("adam", beta1=0.5, regularizer="l2", reg_scale=0.1),
    spec("sgdm"),
    spec("adamw", weight_decay=0.1, clip_norm=0.5),
    spec("nadam", regularizer="l2", reg_scale=0.05, clip_value=0.3),
    spec("adamax", ema=True, clip_norm=0.5),
    spec("adadelta", clip_norm=0.2, clip_value=0.1),
    spec("sgd", clip_norm=0.5),
    spec("nadam", regularizer="l2", reg_scale=0.05, clip_value=0.3),
]
DECAY = 0.99


def drive(
    specs: list[RowSpec], starts: np.ndarray, grads: list[np.ndarray], rates: list[np.ndarray]
) -> Population:
    pop = Population(starts, specs, MASK)
    for k, (g, lr) in enumerate(zip(grads, rates, strict=True)):
        pop.grads[...] = pop.to_internal(g)
        factor = np.array([[1.0 - ema.ema_decay(DECAY, k + 1) if s.ema else 0.0] for s in pop.specs])
        pop.step(pop.to_internal(lr[:, None]), factor if pop.with_ema else None)
    return pop


def test_each_row_ends_where_it_ends_alone_bitwise() -> None:
    rng = np.random.default_rng(0)
    p = len(SPECS)
    starts = rng.standard_normal((p, N))
    grads = [rng.standard_normal((p, N)) for _ in range(6)]
    rates = [rng.uniform(0.001, 0.1, p) for _ in range(6)]
    together = drive(SPECS, starts, grads, rates)
    rows, shadows = together.rows(), together.rows(together.shadow) if together.shadow is not None else None
    for i, s in enumerate(SPECS):
        alone = drive([s], starts[i : i + 1], [g[i : i + 1] for g in grads], [r[i : i + 1] for r in rates])
        assert np.array_equal(rows[i], alone.theta[0]), s
        if s.ema:
            assert alone.shadow is not None and shadows is not None
            assert np.array_equal(shadows[i], alone.shadow[0]), s


def test_a_row_alone_is_its_rule_and_penalty_and_average_by_hand() -> None:
    # one adam row with l2 and EMA, against the rule's own update, the penalty gradient and ema_step
    rng = np.random.default_rng(1)
    start = rng.standard_normal(N)
    s = spec("adam", regularizer="l2", reg_scale=0.05, ema=True)
    gs = [rng.standard_normal(N) for _ in range(4)]
    pop = drive([s], start[None], [g[None] for g in gs], [np.array([0.01])] * 4)
    opt = optimizers.build("adam", s.hparams)
    w, shadow = start.copy(), start.copy()
    state = opt.init(w)
    for k, g in enumerate(gs):
        g = g.copy()
        regularizers.add_grad("l2", 0.05 * MASK, w, g)
        opt.update(w, g, state, 0.01)
        ema.ema_step(shadow, w, 1.0 - ema.ema_decay(DECAY, k + 1))
    assert np.array_equal(pop.theta[0], w)
    assert pop.shadow is not None and np.array_equal(pop.shadow[0], shadow)


def test_rows_are_grouped_by_rule_and_returned_in_the_callers_order() -> None:
    starts = np.arange(len(SPECS) * N, dtype=float).reshape(len(SPECS), N)
    pop = Population(starts, SPECS, MASK)
    names = [s.optimizer for s in pop.specs]
    # each rule's rows are one contiguous block, in order of first appearance
    assert names == ["sgd", "sgd", "adam", "rmsprop", "momentum", "adagrad", "adam", "sgdm"] + [
        "adamw",
        "nadam",
        "nadam",  # the same rule, regularizer and clipping as the row before: one group
        "adamax",
        "adadelta",
        "sgd",  # sgd with clipping: a group of its own
    ]
    assert len(pop.groups) == 7 + 5  # the two adams differ in beta1: two groups; the two nadams are one
    assert np.array_equal(pop.rows(), starts)


def test_penalty_is_each_rows_own_regularizer_on_weights_only() -> None:
    rng = np.random.default_rng(2)
    starts = rng.standard_normal((len(SPECS), N))
    pop = Population(starts, SPECS, MASK)
    got = pop.penalty(pop.theta)[pop.position]
    for i, s in enumerate(SPECS):
        w = starts[i][MASK == 1]
        expected = {"none": 0.0, "l2": s.reg_scale * np.sum(w**2) / 2, "l1": s.reg_scale * np.sum(np.abs(w))}
        # a sum of 5 terms: a few ulps of the total
        assert abs(got[i] - expected[s.regularizer]) <= 8 * np.finfo(float).eps * expected[s.regularizer]


def test_penalties_of_many_parameter_sets_are_each_sets_penalty() -> None:
    # the batch losses' penalty: U sets of P rows at once, each equal to `penalty` of that set to round-off
    rng = np.random.default_rng(3)
    pop = Population(rng.standard_normal((len(SPECS), N)), SPECS, MASK)
    many = rng.standard_normal((5, len(SPECS), N))
    got = pop.penalties(many)
    assert got.shape == (5, len(SPECS))
    for u in range(5):
        np.testing.assert_allclose(got[u], pop.penalty(many[u]), rtol=1e-14, atol=1e-15)


def test_a_rows_optimizer_state_can_be_read_and_put_back() -> None:
    # what a run folder's state.npz saves and a resumed run puts back: a population stepped 3 times, its
    # state copied into a fresh one, and both stepped 3 more times, end bit for bit alike
    rng = np.random.default_rng(4)
    p = len(SPECS)
    starts = rng.standard_normal((p, N))
    grads = [rng.standard_normal((p, N)) for _ in range(6)]
    rates = [rng.uniform(0.001, 0.1, p) for _ in range(6)]
    whole = drive(SPECS, starts, grads, rates)
    first = drive(SPECS, starts, grads[:3], rates[:3])
    second = Population(first.rows(), SPECS, MASK)
    for i in range(p):
        state = first.state_of(i)
        assert set(state) == set(optimizers.state_names(first.specs[i].optimizer))
        second.set_state(i, state)
    assert second.shadow is not None and first.shadow is not None
    second.shadow[...] = first.shadow
    for g, lr in zip(grads[3:], rates[3:], strict=True):
        second.grads[...] = second.to_internal(g)
        second.step(second.to_internal(lr[:, None]), None)
    for i, s in enumerate(SPECS):
        if not s.ema:  # the factors of drive's first 3 steps would be needed for the rest
            assert np.array_equal(second.rows()[i], whole.rows()[i]), s


def test_keep_state_copies_the_state_aside() -> None:
    rng = np.random.default_rng(5)
    pop = Population(rng.standard_normal((2, N)), [spec("adam"), spec("sgdm")], MASK)
    pop.keep_state()
    pop.grads[...] = rng.standard_normal((2, N))
    pop.step(np.full((2, 1), 0.1), None)
    assert int(pop.state_of(0)["t"]) == 1 and int(pop.state_of(0, kept=True)["t"]) == 0
    assert not pop.state_of(1, kept=True)["m"].any() and pop.state_of(1)["m"].any()
    pop.keep_state()
    assert np.array_equal(pop.state_of(1, kept=True)["m"], pop.state_of(1)["m"])


def test_clipping_comes_after_the_penalty_and_before_the_rule() -> None:
    rng = np.random.default_rng(4)
    start, g = rng.standard_normal((1, N)) * 3.0, rng.standard_normal((1, N)) * 5.0
    s = spec("sgd", regularizer="l2", reg_scale=0.5, clip_norm=0.1)
    pop = Population(start, [s], MASK)
    pop.grads[...] = g
    pop.step(np.array([[0.1]]), None)
    full = g + 0.5 * MASK * start  # the penalty's gradient first, as torch has it in the loss
    expected = start - 0.1 * (full * min(1.0, 0.1 / (np.sqrt(np.sum(full * full)) + 1e-6)))
    np.testing.assert_allclose(pop.theta, expected, rtol=1e-15)


def test_rows_differing_only_in_clipping_are_separate_groups() -> None:
    pop = Population(np.zeros((3, N)), [spec("adam"), spec("adam", clip_norm=1.0), spec("adam")], MASK)
    assert len(pop.groups) == 2 and [s.clip_norm for s in pop.specs] == [None, None, 1.0]
