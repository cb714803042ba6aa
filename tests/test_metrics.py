"""The metrics table: one definition per metric, the converged epoch, and statistics over seeds.

Every expected value is worked out by hand from the small histories below."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnopt_cli import config, metrics
from nnopt_cli.core import loop

BASE = config.from_dict({})


def _history(status: str = "completed", **lists: list[float]) -> loop.History:
    h = loop.History(config=BASE, steps_per_epoch=1, status=status)
    for key, values in lists.items():
        setattr(h, key, values)
    if "test_accuracy" in lists or "test_loss" in lists:
        h.with_test = True
    n = len(lists.get("loss", []))
    h.epoch = list(range(1, n + 1))
    return h


def test_every_metric_is_declared_once_with_a_direction() -> None:
    assert metrics.get("final_data_loss").better == "lower"
    assert metrics.get("final_test_accuracy").higher
    assert metrics.get("test_accuracy") is metrics.get("final_test_accuracy")  # an old name
    assert metrics.get("best_test_loss").needs == "test"
    assert metrics.names(test=False, ema=False) == [
        "final_loss",
        "best_loss",
        "final_data_loss",
        "best_data_loss",
        "final_accuracy",
        "converged_epoch",
    ]


def test_a_run_stops_converging_where_it_leaves_one_percent_of_its_final_value() -> None:
    # final 0.5: the band is 0.5 ± 0.005; epoch 3 (loss 1) is the last outside it, so epoch 4; the last
    # 10% (1 epoch) lowered nothing
    loss = [10.0, 5.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert metrics.converged_epoch(_history(loss=loss)) == 4


def test_a_run_still_improving_at_its_end_has_no_converged_epoch() -> None:
    # 20 epochs: the last 10% are 2 epochs; from epoch 18 (0.30) to 20 the loss fell by 0.02, 6.7% of 0.30
    falling = [1.0, 0.5] + [0.30] * 16 + [0.29, 0.28]
    assert metrics.still_improving(falling)
    assert metrics.converged_epoch(_history(loss=falling)) is None
    # ... and by 0.002 (0.67%, under 1%): not improving; |0.30 - 0.298| = 0.002 <= 0.00298, so the last
    # value outside the band is epoch 2's 0.5: converged at epoch 3
    flat = [1.0, 0.5] + [0.30] * 17 + [0.298]
    assert not metrics.still_improving(flat)
    assert metrics.converged_epoch(_history(loss=flat)) == 3
    # the loss still falls steadily: today's "1% of the total decrease" gave epoch 4 for this one
    assert metrics.converged_epoch(_history(loss=[10.0, 5.0, 1.0, 0.05, 0.0])) is None


def test_with_a_test_split_the_test_accuracy_is_monitored() -> None:
    # 10 epochs; the test accuracy reaches 1.0 at epoch 3 and stays: within 1% of 1.0 from epoch 3
    acc = [0.5, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    h = _history(loss=[1.0 / (i + 1) for i in range(10)], test_accuracy=acc, test_loss=[0.1] * 10)
    assert metrics.converged_epoch(h) == 3
    # the accuracy rose in the last epoch (10% of 10): still improving
    rising = _history(loss=[1.0] * 10, test_accuracy=[0.5] * 9 + [0.9], test_loss=[0.1] * 10)
    assert metrics.converged_epoch(rising) is None


def test_no_converged_epoch_for_a_run_that_did_not_complete_and_a_target_counts_alone() -> None:
    assert metrics.converged_epoch(_history("diverged", loss=[1.0, math.inf])) is None
    assert metrics.converged_epoch(_history("interrupted", loss=[1.0, 1.0])) is None
    # with a target: the first epoch at or below it, still improving or not
    assert metrics.converged_epoch(_history(loss=[1.0, 0.5, 0.2, 0.1]), target=0.25) == 3
    assert metrics.converged_epoch(_history(loss=[1.0, 0.5]), target=0.1) is None


def test_compute_reads_every_metric_from_the_history() -> None:
    h = _history(loss=[2.0, 1.0, 1.5], data_loss=[1.8, 0.8, 1.2], accuracy=[0.5, 0.75, 0.7])
    h.train_seconds = 0.25
    got = metrics.compute(h)
    # the loss got worse at the end (not improving); band 1.5 ± 0.015: epochs 1 and 2 outside -> epoch 3
    assert got == {
        "final_loss": 1.5,
        "best_loss": 1.0,
        "final_data_loss": 1.2,
        "best_data_loss": 0.8,
        "final_accuracy": 0.7,
        "converged_epoch": 3.0,
        "train_seconds": 0.25,
    }


def test_a_diverged_run_has_no_final_values_but_keeps_its_best() -> None:
    h = _history(
        "diverged", loss=[2.0, 1.0, math.inf], data_loss=[1.9, 0.9, math.nan], accuracy=[0.5, 0.6, math.nan]
    )
    got = metrics.compute(h)
    assert got["final_loss"] is None and got["final_data_loss"] is None and got["final_accuracy"] is None
    assert got["best_loss"] == 1.0 and got["best_data_loss"] == 0.9
    assert got["converged_epoch"] is None


def test_test_twins_need_a_test_split() -> None:
    h = _history(
        loss=[1.0, 1.0],
        data_loss=[1.0, 1.0],
        accuracy=[0.5, 0.5],
        test_loss=[0.9, 0.7],
        test_accuracy=[0.6, 0.55],
    )
    got = metrics.compute(h)
    assert got["final_test_loss"] == 0.7 and got["best_test_loss"] == 0.7
    assert got["final_test_accuracy"] == 0.55 and got["best_test_accuracy"] == 0.6
    assert "final_test_loss" not in metrics.compute(_history(loss=[1.0], data_loss=[1.0], accuracy=[0.5]))


def test_statistics_over_seeds_are_over_the_same_runs() -> None:
    # seeds 1 and 3 survive: mean 2, population std 1; the diverged seed counts only as diverged
    s = metrics.aggregate([1.0, 3.0, 1e15], [False, False, True])
    assert s == metrics.Stats(runs=3, diverged=1, mean=2.0, std=1.0, low=1.0, high=3.0)
    # a surviving seed with no value (still improving): no statistic rather than one over fewer seeds
    empty = metrics.aggregate([4.0, None], [False, False])
    assert (empty.runs, empty.diverged) == (2, 0) and math.isnan(empty.mean) and math.isnan(empty.high)
    assert math.isnan(metrics.aggregate([None], [True]).mean)


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("final_accuracy", 0.96667, "96.67%"),
        ("final_loss", 0.0123456, "0.01235"),
        ("converged_epoch", 17.0, "17"),
        ("train_seconds", 0.1234, "0.123 s"),
        ("final_loss", None, "–"),
    ],
)
def test_each_metric_formats_itself(name: str, value: float | None, text: str) -> None:
    assert metrics.get(name).format(value) == text


def _path(loss: list[float], status: str = "completed") -> object:
    from types import SimpleNamespace

    return SimpleNamespace(loss=np.array(loss), status=status, train_seconds=0.25)


def test_a_surface_path_has_its_own_metrics_worked_out_by_hand() -> None:
    # steps 0..3: the loss falls below 1e-3 (SURFACE_TARGET) first at step 2
    done = metrics.compute_surface(_path([4.0, 1.0, 5e-4, 1e-4]), distance=0.1)
    assert done == {
        "final_loss": 1e-4,
        "best_loss": 1e-4,
        "final_distance": 0.1,
        "target_step": 2.0,
        "train_seconds": 0.25,
    }
    assert metrics.compute_surface(_path([4.0, 1.0, 5e-4]), distance=0.1, target=2.0)["target_step"] == 1.0
    assert metrics.compute_surface(_path([4.0, 1.0]), distance=0.1)["target_step"] is None
    # a diverged path keeps its best loss; it has no final loss nor distance
    wild = metrics.compute_surface(_path([4.0, 1.0, math.inf], "diverged"), distance=math.nan)
    assert wild["final_loss"] is None and wild["final_distance"] is None and wild["best_loss"] == 1.0
    assert metrics.names(test=False, ema=False, kind="surface") == [
        "final_loss",
        "best_loss",
        "final_distance",
        "target_step",
    ]
    assert metrics.get("target_step").format(12.0) == "12" and metrics.get("target_step").csv(12.0) == 12
