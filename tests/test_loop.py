"""The training loop: determinism, the update it makes, metrics, divergence, populations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnopt_cli import config, data
from nnopt_cli.core import loop
from nnopt_cli.experiments import experiment
from nnopt_cli.store import runs

ROOT = Path(__file__).resolve().parent.parent


def cfg(**overrides: object) -> config.Config:
    sets = [f"{k.replace('__', '.')}={v}" for k, v in overrides.items()]
    return config.from_dict({}, sets)


def train(c: config.Config, **kwargs) -> loop.History:
    return experiment.train(c, **kwargs)


def train_together(configs: list[config.Config]) -> list[loop.History]:
    (group,) = experiment.prepare(configs)
    return loop.run(configs, group.prepared)


def test_same_config_same_bits() -> None:
    c = cfg(train__epochs=30, data__shuffle="true")
    a, b = train(c), train(c)
    for key in a.params:
        assert np.array_equal(a.params[key], b.params[key])
    assert a.loss == b.loss


def test_shuffle_changes_the_order_but_not_the_start() -> None:
    fixed = train(cfg(train__epochs=5))
    mixed = train(cfg(train__epochs=5, data__shuffle="true"))
    assert not np.array_equal(fixed.params["w1"], mixed.params["w1"])


def test_one_full_batch_epoch_is_one_gradient_step() -> None:
    # batch = whole set, one epoch: theta1 = theta0 - lr·∇J(theta0), ∇J from central differences
    c = cfg(
        train__epochs=1,
        data__batch_size=300,
        optimizer__lr=0.1,
        regularizer__type="l2",
        regularizer__scale=0.03,
        model__hidden=4,
    )
    ds = data.load()
    net, _ = experiment.network(c, ds)
    theta0 = experiment.starting_params(c, net)

    def objective(row: np.ndarray) -> float:
        out = net.logits(row[None], ds.x)[0, 0]
        a = net.to_arrays(row)
        return float(
            np.mean((ds.labels - out) ** 2) + 0.03 * (np.sum(a["w1"] ** 2) + np.sum(a["w2"] ** 2)) / 2
        )

    grad = np.array(
        [(objective(theta0 + e) - objective(theta0 - e)) / 2e-6 for e in np.eye(theta0.size) * 1e-6]
    )
    h = train(c)
    np.testing.assert_allclose(net.from_arrays(h.params), theta0 - 0.1 * grad, rtol=1e-7, atol=1e-9)
    assert h.step == [1] and h.epoch == [1]
    assert h.loss[0] == pytest.approx(objective(net.from_arrays(h.params)), rel=1e-12)


def test_metrics_columns() -> None:
    c = cfg(
        train__epochs=4,
        schedule__type="exponential",
        schedule__decay_steps=10,
        schedule__decay_rate=0.5,
    )
    h = train(c)
    assert h.epoch == [1, 2, 3, 4]
    assert h.step == [10, 20, 30, 40]  # 300 rows in batches of 32: 10 updates per epoch
    # lr of each epoch's last update k = 9, 19, ...: 0.005 · 0.5^(k/10)
    assert h.lr == pytest.approx([0.005 * 0.5 ** (k / 10) for k in (9, 19, 29, 39)], rel=1e-14)
    assert len(h.lr_trace) == 40
    assert all(0 <= a <= 1 for a in h.accuracy)
    assert list(h.metrics_columns()) == ["epoch", "step", "lr", "loss", "data_loss", "accuracy"]


def test_epoch_unit_reproduces_the_course_decay() -> None:
    # seed 004: lr = 0.2 · 0.99^(epoch / 1), constant within an epoch
    c = cfg(
        train__epochs=3,
        optimizer__lr=0.2,
        schedule__type="exponential",
        schedule__unit="epoch",
        schedule__decay_steps=1,
        schedule__decay_rate=0.99,
    )
    h = train(c)
    assert h.lr_trace[:10].tolist() == [0.2] * 10
    assert h.lr == pytest.approx([0.2, 0.198, 0.19602], rel=1e-14)


def test_divergence_stops_and_says_where() -> None:
    h = train(cfg(optimizer__lr=50.0, train__epochs=100))
    assert h.status == "diverged"
    assert h.diverged_epoch is not None and h.diverged_epoch <= 100
    assert h.epochs_done == h.diverged_epoch
    assert f"diverged at epoch {h.diverged_epoch}" in h.message


def test_divergence_at_a_constant_rate_points_at_optimizer_lr() -> None:
    h = train(cfg(optimizer__lr=40.0, train__epochs=5))
    assert h.status == "diverged"
    assert h.message.endswith("at rate 40; try a smaller optimizer.lr (now 40)")


def test_divergence_under_a_growing_schedule_names_the_rate_reached_and_the_growth() -> None:
    # the course's l2 run with a rate that grows 1.5-fold every 100 updates: at the 1340th update it is
    # 0.005 · 1.5^13.39 = 1.1398, more than 200 times optimizer.lr, when the loss overflows
    c = config.load(
        ROOT / "configs" / "l2.yaml",
        ["schedule.type=exponential", "schedule.decay_steps=100", "schedule.decay_rate=1.5"],
    )
    h = train(c)
    assert h.status == "diverged"
    reached = 0.005 * 1.5 ** ((h.steps_done - 1) / 100)
    assert h.lr[-1] == pytest.approx(reached, rel=1e-12)
    assert h.message == (
        f"diverged at epoch {h.diverged_epoch}: the loss became infinite at rate {reached:g}; the "
        "exponential schedule had grown it from optimizer.lr 0.005 (schedule.decay_rate 1.5): the growth is "
        "the cause; make the schedule grow the rate less (decay_rate 1 or less never grows it)"
    )
    assert "smaller optimizer.lr" not in h.message


def test_divergence_under_piecewise_values_points_at_the_values() -> None:
    h = train(
        cfg(schedule__type="piecewise_constant", schedule__boundaries="[20]", schedule__values="[0.1,40]")
    )
    assert h.status == "diverged"
    assert h.message.endswith("at rate 40; try smaller schedule.values (now 0.1, 40)")


def test_a_loss_not_finite_at_the_start_points_at_the_data_not_the_rate(tmp_path: Path) -> None:
    rows = "\n".join(f"{x:g}e200,{-x:g}e200,{i % 2}" for i, x in enumerate(np.linspace(1, 2, 40)))
    (tmp_path / "big.csv").write_text("a,b,label\n" + rows + "\n")
    h = train(cfg(data__path=str(tmp_path / "big.csv"), train__epochs=3))
    assert not np.isfinite(h.start["loss"])
    assert h.status == "diverged" and h.diverged_epoch == 1
    assert h.message == (
        "diverged at epoch 1: the loss was already infinite at the starting weights, before any update, "
        "so no learning rate is to blame: look at the data's scale (inputs so large that the network's "
        "outputs overflow; standardize the input columns) or at model.init_from"
    )


def test_population_rows_equal_single_runs_bitwise() -> None:
    configs = [
        cfg(train__epochs=20, optimizer__name=name, optimizer__lr=lr)
        for name, lr in (("sgd", 0.005), ("adam", 0.01), ("rmsprop", 0.005), ("momentum", 0.002))
    ]
    together = train_together(configs)
    for c, h in zip(configs, together, strict=True):
        alone = train(c)
        for key in h.params:
            assert np.array_equal(h.params[key], alone.params[key])
        assert h.loss == alone.loss


def test_ema_shadow_with_zero_rate_stays_at_the_start() -> None:
    # a config refuses lr 0 (it trains nothing); the loop, given one, leaves the weights where they start
    h = train(cfg(train__epochs=3, ema__decay=0.99).replace(lr=0.0))
    assert h.params_ema is not None
    for key in h.params:
        np.testing.assert_array_equal(h.params_ema[key], h.params[key])
    assert h.ema_loss == h.loss


@pytest.mark.parametrize("name", ["sgd", "l2"])
def test_course_configs_reach_the_expected_accuracy(name: str) -> None:
    h = train(config.load(ROOT / "configs" / f"{name}.yaml"))
    assert h.status == "completed"
    assert h.accuracy[-1] >= 0.9


def test_ctrl_c_keeps_what_was_done() -> None:
    def interrupt(epoch: int, histories: object) -> None:
        if epoch == 3:
            raise KeyboardInterrupt

    h = train(cfg(train__epochs=50), on_epoch=interrupt)
    assert h.status == "interrupted"
    assert h.epoch == [1, 2, 3]
    assert "interrupted after 3 epochs of 50" in h.message
    # the weights kept are those of epoch 3, which the metrics describe: the same as a 3-epoch run's
    three = train(cfg(train__epochs=3))
    for key in h.params:
        assert np.array_equal(h.params[key], three.params[key])


def test_interrupted_run_folder_says_so(tmp_path: Path) -> None:
    import json
    import time

    def interrupt(epoch: int, histories: object) -> None:
        if epoch == 2:
            raise KeyboardInterrupt

    c = cfg(train__epochs=50)
    h = train(c, on_epoch=interrupt)
    folder = runs.make_folder(tmp_path, c.name)
    runs.write_start(folder, c)
    runs.write_data(folder, h)
    summary = runs.write_summary(folder, h, started=time.perf_counter(), clock=time.perf_counter)
    assert summary["status"] == "interrupted"
    assert json.loads((folder / "summary.json").read_text())["epochs_done"] == 2
    assert len((folder / "lr.csv").read_text().splitlines()) == 1 + 20


def test_new_rules_and_clipping_in_a_population_equal_single_runs_bitwise() -> None:
    configs = [
        cfg(train__epochs=12, optimizer__name="adamw", optimizer__lr=0.01, optimizer__clip_norm=0.5),
        cfg(train__epochs=12, optimizer__name="nadam", optimizer__lr=0.01, regularizer__type="l2"),
        cfg(train__epochs=12, optimizer__name="adamax", optimizer__lr=0.01, optimizer__clip_value=0.05),
        cfg(train__epochs=12, optimizer__name="adadelta", optimizer__lr=1.0, ema__decay=0.9),
        cfg(train__epochs=12, optimizer__name="sgd", optimizer__clip_norm=0.3, regularizer__type="l2"),
        cfg(train__epochs=12, optimizer__name="adamw", optimizer__lr=0.01),
    ]
    together = train_together(configs)
    for c, h in zip(configs, together, strict=True):
        alone = train(c)
        for key in h.params:
            assert np.array_equal(h.params[key], alone.params[key]), (c.optimizer, key)
        assert h.loss == alone.loss and h.ema_loss == alone.ema_loss


def test_mixed_population_equals_single_runs_bitwise() -> None:
    # every kind of per-run work at once: regularizers of both kinds, EMA on some rows, a Nesterov row
    configs = [
        cfg(train__epochs=15, optimizer__name="adam", optimizer__lr=0.01, regularizer__type="l2"),
        cfg(train__epochs=15, optimizer__name="momentum", optimizer__nesterov="true", ema__decay=0.9),
        cfg(
            train__epochs=15,
            optimizer__name="adagrad",
            optimizer__lr=0.05,
            regularizer__type="l1",
            regularizer__scale=0.01,
            ema__decay=0.99,
        ),
        cfg(train__epochs=15, optimizer__name="sgdm", schedule__type="cosine", schedule__decay_steps=100),
        cfg(train__epochs=15, optimizer__name="rmsprop", optimizer__decay=0.01, seed=3),
    ]
    together = train_together(configs)
    for c, h in zip(configs, together, strict=True):
        alone = train(c)
        for key in h.params:
            assert np.array_equal(h.params[key], alone.params[key]), (c.optimizer, key)
        if c.ema_decay is not None:
            assert h.params_ema is not None and alone.params_ema is not None
            for key in h.params_ema:
                assert np.array_equal(h.params_ema[key], alone.params_ema[key])
        assert h.loss == alone.loss and h.ema_loss == alone.ema_loss
        assert np.array_equal(h.batch_loss, alone.batch_loss)


def test_a_diverged_member_keeps_the_weights_it_stopped_with() -> None:
    configs = [cfg(train__epochs=30, optimizer__lr=50.0), cfg(train__epochs=30)]
    wild, calm = train_together(configs)
    alone = train(configs[0])
    assert wild.status == alone.status == "diverged" and calm.status == "completed"
    assert wild.diverged_epoch == alone.diverged_epoch
    for key in wild.params:
        assert np.array_equal(wild.params[key], alone.params[key], equal_nan=True)


def test_shuffled_population_with_several_seeds_equals_single_runs() -> None:
    configs = [
        cfg(train__epochs=6, data__shuffle="true", seed=s, optimizer__name=o)
        for s, o in ((0, "adam"), (1, "adam"), (2, "sgd"))
    ]
    for c, h in zip(configs, train_together(configs), strict=True):
        alone = train(c)
        for key in h.params:
            assert np.array_equal(h.params[key], alone.params[key])


@pytest.mark.parametrize(
    ("hidden", "output", "loss"),
    [
        ("[]", "softmax", "mse"),
        ("[16, 8]", "linear", "ce"),
        ("[5]", "sigmoid", "mse"),
        ("[4, 3]", "linear", "bce"),
    ],
)
def test_any_network_trains_and_rows_equal_single_runs(hidden: str, output: str, loss: str) -> None:
    configs = [
        cfg(
            train__epochs=8,
            model__hidden=hidden,
            model__output=output,
            loss=loss,
            optimizer__name=o,
            optimizer__lr=0.05,
        )
        for o in ("sgd", "adam")
    ]
    for c, h in zip(configs, train_together(configs), strict=True):
        alone = train(c)
        assert h.status == "completed" and h.epochs_done == 8
        for key in h.params:
            assert np.array_equal(h.params[key], alone.params[key]), key
        assert len(h.params) == 2 * (len(c.hidden) + 1)


def test_one_full_batch_step_of_a_softmax_network_is_one_gradient_step() -> None:
    # [4, 3] tanh layers, two softmax outputs, ce: theta1 = theta0 − lr·∇J(theta0), ∇J by central differences
    c = cfg(
        train__epochs=1,
        data__batch_size=300,
        optimizer__lr=0.1,
        model__hidden="[4, 3]",
        model__activation="tanh",
        model__init="xavier",
        loss="ce",
    )
    ds = data.load()
    net, head = experiment.network(c, ds)
    assert net.widths == (2, 4, 3, 2)
    theta0 = experiment.starting_params(c, net)

    def objective(row: np.ndarray) -> float:
        z = net.logits(row[None], ds.x)[0]  # (2, N)
        log_p = z - np.log(np.exp(z).sum(axis=0))
        return float(-np.mean(log_p[ds.labels, np.arange(ds.size)]))

    grad = np.array(
        [(objective(theta0 + e) - objective(theta0 - e)) / 2e-6 for e in np.eye(theta0.size) * 1e-6]
    )
    h = train(c)
    np.testing.assert_allclose(net.from_arrays(h.params), theta0 - 0.1 * grad, rtol=1e-7, atol=1e-9)


def test_rates_and_averages_tabled_in_blocks_give_the_same_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # rates and EMA factors are computed a block of updates at a time: blocks of 2 epochs (20 updates) must
    # give the bits of one block for the whole run, legacy decay and schedule included
    c = cfg(
        train__epochs=7,
        optimizer__name="adam",
        optimizer__lr=0.02,
        optimizer__decay=0.01,
        schedule__type="cosine",
        schedule__decay_steps=50,
        ema__decay=0.99,
    )
    whole = train(c)
    monkeypatch.setattr(loop, "BLOCK_UPDATES", 25)
    blocks = train(c)
    assert np.array_equal(blocks.lr_trace, whole.lr_trace)
    assert np.array_equal(blocks.lr_trace, loop.learning_rates(c, 70, 10))
    for key in whole.params:
        assert np.array_equal(blocks.params[key], whole.params[key])
        assert whole.params_ema is not None and blocks.params_ema is not None
        assert np.array_equal(blocks.params_ema[key], whole.params_ema[key])


def test_should_stop_keeps_the_last_whole_epoch() -> None:
    # SIGTERM and a held-back Ctrl-C reach the loop as should_stop(): asked after every update (10 per epoch),
    # True during epoch 3 → the run keeps epochs 1 and 2, their weights and their 20 rates
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) >= 25

    h = train(cfg(train__epochs=1000000), should_stop=stop)
    assert h.status == "interrupted"
    assert h.epoch == [1, 2]
    assert "interrupted after 2 epochs of 1000000" in h.message
    assert len(h.lr_trace) == 20
    two = train(cfg(train__epochs=2))
    for key in h.params:
        assert np.array_equal(h.params[key], two.params[key])


def test_the_start_is_measured_before_the_first_update() -> None:
    # epoch 0 of the pictures: the loss and accuracy of the starting weights, by a forward pass written here
    c = cfg(train__epochs=1, regularizer__type="l2", regularizer__scale=0.03, ema__decay=0.9)
    (group,) = experiment.prepare([c])
    h = loop.run([c], group.prepared)[0]
    net, start = group.prepared.net, group.prepared.starts[0]
    w = net.to_arrays(start)
    x, labels = group.prepared.train.x, group.prepared.train.labels
    out = (np.maximum(x @ w["w1"] + w["b1"], 0) @ w["w2"] + w["b2"])[:, 0]
    data_loss = np.mean((labels - out) ** 2)
    penalty = 0.03 * ((w["w1"] ** 2).sum() + (w["w2"] ** 2).sum()) / 2
    assert h.start["data_loss"] == pytest.approx(data_loss, rel=1e-12)
    assert h.start["loss"] == pytest.approx(data_loss + penalty, rel=1e-12)
    assert h.start["accuracy"] == np.mean((out >= 0.5) == labels)
    assert h.start["ema_loss"] == h.start["loss"]  # the shadows start at the weights
    assert h.epoch == [1] and len(h.loss) == 1  # metrics.csv's rows stay the epochs trained


def test_a_diverged_run_reports_no_accuracy(tmp_path: Path) -> None:
    import time

    from nnopt_cli.figures import report

    h = train(cfg(optimizer__lr=50.0, train__epochs=100))
    assert h.status == "diverged"
    assert np.isnan(h.accuracy[-1])
    summary = runs.summary(h, total_seconds=0.0)
    assert summary["final_accuracy"] is None
    assert report._accuracy_text(h) == f"diverged at epoch {h.diverged_epoch}"
    folder = runs.make_folder(tmp_path, "x")
    runs.write_summary(folder, h, started=time.perf_counter(), clock=time.perf_counter)
    assert '"final_accuracy": null' in (folder / "summary.json").read_text()


def _mse_by_hand(w: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """The course's 2-H-1 network written out: relu(x·w1 + b1)·w2 + b2, and its mean squared error."""
    out = (np.maximum(x @ w["w1"] + w["b1"], 0.0) @ w["w2"] + w["b2"])[:, 0]
    return float(np.mean((y - out) ** 2))


def test_batch_loss_is_each_batchs_objective_before_its_update() -> None:
    # lr 0 (a config refuses it; the loop takes it): every update starts from the starting weights, so
    # update k's loss is batch k's data loss there
    # plus the L2 penalty (the course's printed `loss`); 300 rows in batches of 32: the last has 12
    c = cfg(train__epochs=2, regularizer__type="l2", regularizer__scale=0.03).replace(lr=0.0)
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    w = group.prepared.net.to_arrays(group.prepared.starts[0])
    x, y = group.prepared.train.x, group.prepared.train.labels.astype(float)
    penalty = 0.03 * ((w["w1"] ** 2).sum() + (w["w2"] ** 2).sum()) / 2
    expected = [_mse_by_hand(w, x[i : i + 32], y[i : i + 32]) + penalty for i in range(0, 300, 32)]
    assert len(h.batch_loss) == h.steps_done == 20 and h.batch_loss.dtype == np.float64
    np.testing.assert_allclose(h.batch_loss, expected * 2, rtol=1e-12)


def test_shuffled_batch_losses_follow_each_epochs_order() -> None:
    # data.shuffle: epoch e's batches are the rows of default_rng([seed, 1])'s e-th permutation, in order
    c = cfg(train__epochs=2, data__shuffle="true", seed=5).replace(lr=0.0)
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    w = group.prepared.net.to_arrays(group.prepared.starts[0])
    x, y = group.prepared.train.x, group.prepared.train.labels.astype(float)
    rng = np.random.default_rng([5, 1])
    expected = []
    for _ in range(2):
        order = rng.permutation(300)
        expected += [_mse_by_hand(w, x[order[i : i + 32]], y[order[i : i + 32]]) for i in range(0, 300, 32)]
    np.testing.assert_allclose(h.batch_loss, expected, rtol=1e-12)


def test_batch_loss_with_full_batches_is_the_loss_of_each_epochs_start() -> None:
    # one batch per epoch: update k starts from the weights after k epochs, whose loss on the whole set is
    # computed here by hand from the weights a k-epoch run ends with (and is what that run reports)
    c = cfg(train__epochs=4, data__batch_size=300, optimizer__lr=0.1, optimizer__name="adam")
    h = train(c)
    ds = data.load()
    for k in range(1, 4):
        shorter = train(c.with_overrides([f"train.epochs={k}"]))
        by_hand = _mse_by_hand(shorter.params, ds.x, ds.labels.astype(float))
        assert h.batch_loss[k] == pytest.approx(by_hand, rel=1e-12)
        assert h.batch_loss[k] == pytest.approx(shorter.loss[-1], rel=1e-12)
    assert h.batch_loss[0] == pytest.approx(h.start["loss"], rel=1e-12)


def test_cross_entropy_batch_losses_of_a_softmax_network() -> None:
    # no hidden layer, three logits, ce: batch k's loss is the mean of logsumexp(z) − z_true over its rows
    c = cfg(
        train__epochs=1,
        data__name="iris",
        model__hidden="[]",
        loss="ce",
        data__batch_size=50,
    ).replace(lr=0.0)
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    w = group.prepared.net.to_arrays(group.prepared.starts[0])
    x, labels = group.prepared.train.x, group.prepared.train.labels
    expected = []
    for i in range(0, 150, 50):
        z = x[i : i + 50] @ w["w1"] + w["b1"]
        top = z.max(axis=1, keepdims=True)
        log_p = z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True))
        expected.append(float(-np.mean(log_p[np.arange(50), labels[i : i + 50]])))
    np.testing.assert_allclose(h.batch_loss, expected, rtol=1e-12)


def test_batch_losses_do_not_depend_on_blocks_or_on_other_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    # the losses are computed a buffer of updates at a time: a buffer of a few updates (which ends mid-epoch
    # and splits the smaller last batch from its epoch) gives the bits of one large buffer, and a population
    # (each row its own shuffled order) the bits of each run alone
    configs = [
        cfg(train__epochs=5, data__shuffle="true", seed=s, optimizer__name=o, regularizer__type=r)
        for s, o, r in ((0, "adam", "l2"), (1, "sgd", "none"), (2, "rmsprop", "l1"))
    ]
    together = train_together(configs)
    alone = [train(c) for c in configs]
    monkeypatch.setattr(loop, "TRACE_BYTES", 3000)
    small = train_together(configs)
    for a, b, c in zip(together, alone, small, strict=True):
        assert len(a.batch_loss) == 50
        assert np.array_equal(a.batch_loss, b.batch_loss)
        assert np.array_equal(a.batch_loss, c.batch_loss)


def test_a_diverged_runs_trace_ends_at_its_last_update() -> None:
    h = train(cfg(optimizer__lr=50.0, train__epochs=100))
    assert h.status == "diverged" and h.diverged_epoch is not None
    assert len(h.batch_loss) == len(h.lr_trace) == 10 * h.diverged_epoch == h.steps_done
    assert h.checkpoint is not None and h.checkpoint.steps == h.steps_done


def test_the_checkpoint_of_an_interrupted_run_is_its_last_whole_epochs() -> None:
    # the optimizer state kept with the weights of epoch 2 is the state a 2-epoch run ends with
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) >= 25

    c = cfg(train__epochs=50, optimizer__name="adam", data__shuffle="true", ema__decay=0.9)
    h = train(c, should_stop=stop)
    two = train(c.with_overrides(["train.epochs=2"]))
    assert h.checkpoint is not None and two.checkpoint is not None
    assert (h.checkpoint.epochs, h.checkpoint.steps) == (2, 20)
    assert h.checkpoint.moments.keys() == {"t", "m", "v"}
    for key in h.checkpoint.moments:
        assert np.array_equal(h.checkpoint.moments[key], two.checkpoint.moments[key]), key
    assert np.array_equal(h.checkpoint.shadow, two.checkpoint.shadow)  # type: ignore[arg-type]
    assert h.checkpoint.rng_state == two.checkpoint.rng_state
    assert np.array_equal(h.batch_loss, two.batch_loss)


def test_a_start_that_does_not_fit_is_refused() -> None:
    c = cfg(train__epochs=4, optimizer__name="adam")
    part = train(c.with_overrides(["train.epochs=2"]))
    (group,) = experiment.prepare([c])
    theta = group.prepared.net.from_arrays(part.params)
    assert part.checkpoint is not None
    wrong = loop.Checkpoint(2, 20, {"m": part.checkpoint.moments["m"]})
    with pytest.raises(ValueError, match="optimizer state"):
        loop.run([c], group.prepared, resume=[loop.Start(theta, wrong, part)])
    with pytest.raises(ValueError, match="more than train.epochs 1"):
        short = c.with_overrides(["train.epochs=1"])
        (g1,) = experiment.prepare([short])
        loop.run([short], g1.prepared, resume=[loop.Start(theta, part.checkpoint, part)])
