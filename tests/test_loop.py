"""The training loop: determinism, the update it makes, metrics, divergence, populations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnopt_cli import config, data, experiment, loop, runs

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
    h = train(cfg(train__epochs=3, optimizer__lr=0.0, ema__decay=0.99))
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

    from nnopt_cli import report

    h = train(cfg(optimizer__lr=50.0, train__epochs=100))
    assert h.status == "diverged"
    assert np.isnan(h.accuracy[-1])
    summary = runs.summary(h, total_seconds=0.0)
    assert summary["final_accuracy"] is None
    assert report._accuracy_text(h) == f"diverged at epoch {h.diverged_epoch}"
    folder = runs.make_folder(tmp_path, "x")
    runs.write_summary(folder, h, started=time.perf_counter(), clock=time.perf_counter)
    assert '"final_accuracy": null' in (folder / "summary.json").read_text()
