"""Preparing runs: the network from the data and the task, starting weights, groups, and refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnopt_cli import config, data
from nnopt_cli.core import loop, mlp
from nnopt_cli.experiments import experiment


def cfg(*sets: str) -> config.Config:
    return config.from_dict({}, list(sets))


def test_the_course_network_is_2_11_1() -> None:
    net, head = experiment.network(cfg(), data.load())
    assert net.widths == (2, 11, 1) and head.outputs == 1 and head.loss == "mse"


@pytest.mark.parametrize(
    ("sets", "widths"),
    [
        (("model.hidden=[]",), (2, 1)),
        (("model.hidden=[16, 8]",), (2, 16, 8, 1)),
        (("model.output=softmax",), (2, 11, 2)),
        (("loss=ce",), (2, 11, 2)),
        (("loss=bce", "model.hidden=[3]"), (2, 3, 1)),
    ],
)
def test_widths_come_from_the_data_and_the_task(sets: tuple[str, ...], widths: tuple[int, ...]) -> None:
    net, _ = experiment.network(cfg(*sets), data.load())
    assert net.widths == widths


def test_a_network_too_large_for_memory_is_refused_before_allocating() -> None:
    with pytest.raises(
        experiment.SetupError, match=r"model.hidden \[11, 1000000000\]: .* parameters; .*memory"
    ):
        experiment.network(cfg("model.hidden=[11, 1e9]"), data.load())


def test_a_course_params_file_is_a_valid_start(tmp_path: Path) -> None:
    # a params.npz of the 2-H-1 network as older runs wrote it: w1 (2,H), b1 (H,), w2 (H,1), b2 (1,)
    arrays = {"w1": np.ones((2, 3)), "b1": np.zeros(3), "w2": np.full((3, 1), 2.0), "b2": np.zeros(1)}
    np.savez(tmp_path / "start.npz", **arrays)
    c = cfg("model.hidden=3", f"model.init_from={tmp_path / 'start.npz'}")
    net, _ = experiment.network(c, data.load())
    assert np.array_equal(experiment.starting_params(c, net), net.from_arrays(arrays))


@pytest.mark.parametrize(
    ("arrays", "fragment"),
    [
        ({"w1": np.ones((2, 3))}, "missing array 'b1'"),
        (
            {"w1": np.ones((2, 4)), "b1": np.zeros(4), "w2": np.ones((4, 1)), "b2": np.zeros(1)},
            r"w1 has shape \(2, 4\), this network needs \(2, 3\)",
        ),
        (
            {"w1": np.ones((2, 3)), "b1": np.zeros(3), "w2": np.ones((3, 1)), "b2": np.full(1, np.nan)},
            "b2 holds NaN or infinite values",
        ),
    ],
)
def test_unusable_starts_are_refused_naming_the_key(tmp_path: Path, arrays, fragment) -> None:
    np.savez(tmp_path / "bad.npz", **arrays)
    c = cfg("model.hidden=3", f"model.init_from={tmp_path / 'bad.npz'}")
    net, _ = experiment.network(c, data.load())
    with pytest.raises(experiment.SetupError, match=fragment):
        experiment.starting_params(c, net)


def test_a_file_that_is_not_an_npz_says_so(tmp_path: Path) -> None:
    (tmp_path / "w.csv").write_text("a,b\n1,2\n")
    c = cfg(f"model.init_from={tmp_path / 'w.csv'}")
    net, _ = experiment.network(c, data.load())
    with pytest.raises(experiment.SetupError, match=r"w.csv: not an .npz file of weights") as info:
        experiment.starting_params(c, net)
    assert "pickle" not in str(info.value)


def test_groups_are_made_by_shape_in_order_of_first_appearance() -> None:
    configs = [
        cfg("model.hidden=3"),
        cfg("model.hidden=[4, 2]"),
        cfg("model.hidden=3", "optimizer.name=adam"),
    ]
    groups = experiment.prepare(configs)
    assert [g.indices for g in groups] == [[0, 2], [1]]
    assert groups[0].prepared.starts.shape == (2, mlp.MLP.count_params((2, 3, 1)))


GIB = 1 << 30


@pytest.mark.parametrize("epochs", ["1e12", "1e8", "1e7"])
def test_a_length_whose_history_cannot_fit_is_refused_before_training(
    monkeypatch: pytest.MonkeyPatch, epochs: str
) -> None:
    # dot.csv in batches of 32: 10 updates per epoch. Per epoch 6 metrics columns of 48 bytes and 10 rates of
    # 24 bytes: 528 bytes, so 1e7 epochs need 5.28e9 bytes, more than half of 8 GiB (4.29e9)
    monkeypatch.setattr(experiment, "memory_bytes", lambda: 8 * GIB)
    with pytest.raises(experiment.SetupError) as info:
        experiment.prepare([cfg(f"train.epochs={epochs}")])
    n = int(float(epochs))
    expected = f"train.epochs {n}: the metrics and rates of {n:,} epochs ({10 * n:,} updates)"
    assert str(info.value).startswith(expected)
    assert "8.0 GiB" in str(info.value)


def test_a_length_that_fits_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(experiment, "memory_bytes", lambda: 16 * GIB)  # 5.28e9 < 8 GiB
    experiment.check_length([cfg("train.epochs=1e7")], per_epoch=10)
    with pytest.raises(experiment.SetupError, match=r"^train.steps 1000000000000: "):
        experiment.check_length([cfg("model.type=quadratic", "train.steps=1e12")], per_epoch=1)


def test_the_boundary_grid_of_a_wide_network_is_evaluated_in_chunks() -> None:
    # 241 × 241 grid points through 4000 hidden units: 1.9 GB of activations at once; chunked, a few MB
    import tracemalloc

    c = cfg("model.hidden=4000", "train.epochs=1")
    (group,) = experiment.prepare([c])
    h = loop.run([c], group.prepared)[0]
    where = experiment.plane(c, group.prepared)
    assert where is not None
    tracemalloc.start()
    score, _ = experiment.scores(h, group.prepared, where)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert score.shape == (1, 241, 241)
    assert peak < 200e6 < 241 * 241 * 4000 * 8
