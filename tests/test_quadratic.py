"""The course's one-parameter toy, loss = (w + 1)² from w0 = 5 (seed 000).

Hand derivation: d loss / dw = 2·(w + 1), so plain gradient descent maps w + 1 to
(w + 1)·(1 − 2·lr). From w0 + 1 = 6, w after update k (k = 0 for the first) is
−1 + 6·Π_{j<=k} (1 − 2·lr_j); with a constant rate −1 + 6·(1 − 2·lr)^(k+1).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from nnopt_cli import config
from nnopt_cli.cli import cli
from nnopt_cli.core import quadratic

ROOT = Path(__file__).resolve().parent.parent
PLAIN = ROOT / "configs" / "quadratic.yaml"
DECAY = ROOT / "configs" / "quadratic_decay.yaml"


def toy(path: Path = PLAIN, *sets: str) -> quadratic.QuadraticHistory:
    return quadratic.train(config.load(path, list(sets)))


def train_cli(tmp_path: Path, path: Path, *sets: str) -> tuple[Result, Path]:
    args = ["train", str(path), "--runs-root", str(tmp_path / "runs"), "--quiet"]
    for s in sets:
        args += ["--set", s]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    (folder,) = (tmp_path / "runs").iterdir()
    return result, folder


def read_metrics(folder: Path) -> tuple[list[str], dict[str, list[float]]]:
    with (folder / "metrics.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], {name: [float(r[i]) for r in rows[1:]] for i, name in enumerate(rows[0])}


# --- the configs ----------------------------------------------------------------------------------


def test_the_configs_are_the_course_programs() -> None:
    plain, decay = config.load(PLAIN), config.load(DECAY)
    for c in (plain, decay):
        assert (c.model_type, c.optimizer, c.w0, c.steps) == ("quadratic", "sgd", 5.0, 40)
    assert plain.lr == 0.2 and plain.schedule == "constant"
    assert decay.lr == 0.1 and decay.schedule == "exponential"
    assert decay.schedule_params == {"decay_steps": 1, "decay_rate": 0.99, "staircase": True}


# --- lr 0.2: seed 000's run -----------------------------------------------------------------------


def test_lr_02_follows_the_closed_form_to_minus_one() -> None:
    h = toy()
    assert h.status == "completed" and h.step == list(range(40))
    expected = [-1 + 6 * 0.6 ** (k + 1) for k in range(40)]
    np.testing.assert_allclose(h.w, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h.loss, [36 * 0.36 ** (k + 1) for k in range(40)], rtol=1e-6)
    assert h.lr == [0.2] * 40
    assert h.w[-1] == pytest.approx(-1.0, abs=1e-8)


def test_first_line_of_seed_000() -> None:
    # "After 0 steps: w is 2.600000, loss is 12.960000.": 5 − 0.2·2·(5 + 1) = 2.6, (2.6 + 1)² = 12.96
    h = toy()
    assert f"{h.w[0]:f}" == "2.600000" and f"{h.loss[0]:f}" == "12.960000"
    assert h.w[0] == pytest.approx(2.6, rel=1e-15)


def test_decay_config_follows_the_product_formula() -> None:
    h = toy(DECAY)
    assert h.status == "completed"
    lr = [0.1 * 0.99**k for k in range(40)]  # staircase with decay_steps 1: floor(k/1) = k
    np.testing.assert_allclose(h.lr, lr, rtol=1e-12)
    expected = [-1 + 6 * float(np.prod([1 - 2 * r for r in lr[: k + 1]])) for k in range(40)]
    np.testing.assert_allclose(h.w, expected, rtol=1e-12, atol=1e-13)
    # first update: 5 − 0.1·12 = 3.8; second: lr 0.099, 3.8 − 0.099·2·4.8 = 2.8496
    assert h.w[:2] == pytest.approx([3.8, 2.8496], rel=1e-14)


# --- the lessons: too large oscillates, too small crawls, larger still diverges -------------------


def test_lr_1_oscillates_between_5_and_minus_7_forever() -> None:
    h = toy(PLAIN, "optimizer.lr=1.0", "train.steps=1000")
    assert h.status == "completed"
    assert h.w == [-7.0, 5.0] * 500  # w + 1 = ±6 exactly: 5 − 1·12 = −7, −7 + 12 = 5
    assert set(h.loss) == {36.0}


def test_lr_00001_crawls() -> None:
    h = toy(PLAIN, "optimizer.lr=0.0001")
    assert h.status == "completed"
    np.testing.assert_allclose(h.w, [-1 + 6 * 0.9998 ** (k + 1) for k in range(40)], rtol=1e-13)
    assert h.w[-1] > 4.95  # 40 steps cover under 1% of the way from 5 to −1
    assert all(b < a for a, b in zip(h.loss, h.loss[1:], strict=False))


def test_lr_15_diverges_long_before_overflow() -> None:
    # 1 − 2·1.5 = −2: w + 1 = 6·(−2)^(k+1), loss = 36·4^(k+1). Finite for all 40 steps (w ≈ 6.6e12 at the
    # end), so overflow alone would never stop it; the run stops once the loss passes 10^6 × 36:
    # 36·4^9 = 9.4e6 < 3.6e7 < 36·4^10 = 3.8e7 -> step 9.
    h = toy(PLAIN, "optimizer.lr=1.5")
    assert h.status == "diverged" and h.diverged_step == 9
    assert h.w == [-1 + 6 * (-2.0) ** (k + 1) for k in range(10)]
    assert "lr <= 1" in h.message and "step 9" in h.message


def test_overflow_is_divergence_at_once() -> None:
    h = toy(PLAIN, "optimizer.lr=1.0e+300")
    assert h.status == "diverged" and h.diverged_step == 0 and "overflowed" in h.message


def test_other_optimizers_run_and_approach_the_minimum() -> None:
    h = toy(PLAIN, "optimizer.name=adam", "optimizer.lr=0.5", "train.steps=300")
    assert h.status == "completed" and abs(h.w[-1] + 1) < abs(5 + 1) / 10


# --- through `nnopt train`: the run folder -------------------------------------------------------


def test_train_writes_the_run_folder(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, PLAIN)
    assert result.exit_code == 0, result.output
    for name in (
        "config.yaml",
        "metrics.csv",
        "lr.csv",
        "params.npz",
        "quadratic.png",
        "lr.png",
        "summary.json",
    ):
        assert (folder / name).is_file(), name
    assert (folder / "quadratic.png").read_bytes()[:4] == b"\x89PNG"
    header, m = read_metrics(folder)
    assert header == ["step", "w", "loss", "lr"]
    assert m["step"] == list(range(40))
    np.testing.assert_allclose(m["w"], [-1 + 6 * 0.6 ** (k + 1) for k in range(40)], atol=1e-14)
    assert m["w"][0] == pytest.approx(2.6, rel=1e-15) and m["loss"][0] == pytest.approx(12.96, rel=1e-14)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 40
    assert summary["final_w"] == pytest.approx(-1, abs=1e-8) and summary["diverged_step"] is None


def test_train_decay_config_records_the_rate_each_update_used(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, DECAY)
    assert result.exit_code == 0, result.output
    _, m = read_metrics(folder)
    np.testing.assert_allclose(m["lr"], [0.1 * 0.99**k for k in range(40)], rtol=1e-12)


def test_train_lr_1_completes_with_loss_36(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, PLAIN, "optimizer.lr=1.0")
    assert result.exit_code == 0, result.output
    _, m = read_metrics(folder)
    assert m["w"] == [-7.0, 5.0] * 20 and set(m["loss"]) == {36.0}


def test_train_lr_15_exits_3_with_status_diverged(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, PLAIN, "optimizer.lr=1.5")
    assert result.exit_code == 3
    assert "diverged at step 9" in result.output
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["diverged_step"] == 9 and summary["steps"] == 10
    _, m = read_metrics(folder)
    assert m["step"] == list(range(10))
    assert (folder / "quadratic.png").is_file()


def test_a_divergence_under_a_growing_schedule_blames_the_growth() -> None:
    # lr 0.2 doubling every 5 steps: above 1 from step 12 on (0.2·2^(12/5) = 1.06), when w + 1 starts to grow
    c = config.load(
        ROOT / "configs" / "quadratic.yaml",
        ["schedule.type=exponential", "schedule.decay_steps=5", "schedule.decay_rate=2"],
    )
    h = quadratic.train(c)
    assert h.status == "diverged" and h.diverged_step is not None
    assert h.message.endswith(
        f"; at rate {h.lr[-1]:g} the exponential schedule had grown it from optimizer.lr 0.2 "
        "(schedule.decay_rate 2): the growth is the cause; make the schedule grow the rate less "
        "(decay_rate 1 or less never grows it)"
    )
