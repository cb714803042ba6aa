"""Optimizer paths on 2-D surfaces (core/surface.py): values and gradients against closed forms and finite
differences, the minima, the population, divergence, the keys, and the paths against PyTorch.

Hand derivations used below:
  rosenbrock (1 − x)² + 100(y − x²)²: ∂x = −2(1 − x) − 400x(y − x²), ∂y = 200(y − x²)
  quadratic ½(x² + c·y²): ∂x = x, ∂y = c·y; plain gradient descent maps (x, y) to ((1 − lr)x, (1 − lr·c)y)
  saddle x² − y²: ∂x = 2x, ∂y = −2y; gradient descent maps (x, y) to ((1 − 2lr)x, (1 + 2lr)y)
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from figure_checks import problems
from hypothesis import given, settings
from hypothesis import strategies as st

from nnopt_cli import config
from nnopt_cli.cli import cli
from nnopt_cli.core import ema, optimizers, surface
from nnopt_cli.figures import report, surfaceplot
from nnopt_cli.store import folders, surfaces

EPS = np.finfo(np.float64).eps


def surf(function: str = "rosenbrock", *, sets: dict | None = None, **model: object) -> config.Config:
    raw: dict = {"model": {"type": "surface", "function": function, **model}}
    for key, value in (sets or {}).items():
        section, _, name = key.rpartition(".")
        raw.setdefault(section, {})[name] = value
    return config.from_dict(raw)


# --- values and gradients -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "point", "value", "grad"),
    [
        # (1 − 0)² + 100·0 = 1; ∂x = −2, ∂y = 0
        ("rosenbrock", (0.0, 0.0), 1.0, (-2.0, 0.0)),
        # (1 + 1)² + 100(1 − 1)² = 4; ∂x = −2·2 − 400·(−1)·0 = −4
        ("rosenbrock", (-1.0, 1.0), 4.0, (-4.0, 0.0)),
        # at (0, 0): a, b, d = 1.5, 2.25, 2.625: 2.25 + 5.0625 + 6.890625; ∂x = −2(a + b + d), ∂y = 0
        ("beale", (0.0, 0.0), 14.203125, (-12.75, 0.0)),
        # at (1, 1): a = 1.5, b = 2.25, d = 2.625; ∂x = 0 (every y^k − 1 = 0); ∂y = 2a + 4b + 6d = 27.75
        ("beale", (1.0, 1.0), 14.203125, (0.0, 27.75)),
        # (−11)² + (−7)² = 170; ∂x = 2·(−7) = −14, ∂y = 2·(−11) = −22
        ("himmelblau", (0.0, 0.0), 170.0, (-14.0, -22.0)),
        # 20 + 0.25 − 10·cos π + 0 − 10·cos 0 = 20.25; ∂x = 1 + 20π·sin π = 1 (to sin π's rounding)
        ("rastrigin", (0.5, 0.0), 20.25, (1.0, 0.0)),
        # ½(4 + 10·1) = 7; ∂ = (2, 10)
        ("quadratic", (2.0, 1.0), 7.0, (2.0, 10.0)),
        ("saddle", (3.0, 2.0), 5.0, (6.0, -4.0)),
    ],
)
def test_values_and_gradients_at_hand_computed_points(
    name: str, point: tuple[float, float], value: float, grad: tuple[float, float]
) -> None:
    fn = surface.FUNCTIONS[name]
    xy = np.array([point])
    assert fn.value(xy)[0] == pytest.approx(value, rel=8 * EPS)
    g = fn.gradient(xy, np.empty((1, 2)))[0]
    # sin π in floating point is 1.2e-16, times 20π: 8e-15 off 0
    assert g.tolist() == pytest.approx(list(grad), rel=8 * EPS, abs=1e-14)


def test_the_quadratic_reads_its_condition() -> None:
    fn = surface.FUNCTIONS["quadratic"]
    xy = np.array([[2.0, 1.0]])
    assert fn.value(xy, 50.0)[0] == 27.0  # ½(4 + 50)
    assert fn.gradient(xy, np.empty((1, 2)), 50.0)[0].tolist() == [2.0, 50.0]


@pytest.mark.parametrize("name", list(surface.FUNCTIONS))
def test_gradients_equal_central_differences(name: str) -> None:
    fn = surface.FUNCTIONS[name]
    x0, x1, y0, y1 = fn.box
    rng = np.random.default_rng(3)
    xy = np.column_stack([rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50)])
    g = fn.gradient(xy, np.empty_like(xy), 7.0)
    h = 1e-5
    for j in range(2):
        step = np.zeros(2)
        step[j] = h
        fd = (fn.value(xy + step, 7.0) - fn.value(xy - step, 7.0)) / (2 * h)
        # central differences: error h²/6·f''' (f''' at most ~1e4 here on these boxes) plus the value's
        # rounding eps·|f|/h
        scale = np.abs(g[:, j]) + 1e-3 * h * h * 1e4 + EPS * np.abs(fn.value(xy, 7.0)) / h
        assert np.all(np.abs(fd - g[:, j]) <= 1e-5 * scale + 1e-4), (name, j)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(list(surface.FUNCTIONS)),
    points=st.lists(
        st.tuples(st.floats(-50, 50, allow_nan=False), st.floats(-50, 50, allow_nan=False)),
        min_size=1,
        max_size=40,
    ),
)
def test_a_rows_value_and_gradient_do_not_depend_on_the_rows_beside_it(
    name: str, points: list[tuple[float, float]]
) -> None:
    # what makes a run alone equal its row in a population: vectorised cos and sin must round as on one row
    fn = surface.FUNCTIONS[name]
    xy = np.array(points)
    values, grads = fn.value(xy, 7.0), fn.gradient(xy, np.empty_like(xy), 7.0)
    for i in range(len(points)):
        row = xy[i : i + 1]
        assert np.array_equal(fn.value(row, 7.0), values[i : i + 1], equal_nan=True)
        assert np.array_equal(fn.gradient(row, np.empty((1, 2)), 7.0), grads[i : i + 1], equal_nan=True)


@pytest.mark.parametrize("name", list(surface.FUNCTIONS))
def test_the_minima_are_zero_with_zero_gradient(name: str) -> None:
    fn = surface.FUNCTIONS[name]
    points = np.array(fn.points)
    g = fn.gradient(points, np.empty_like(points))
    # himmelblau's three irrational minima are given to 16 digits: a gradient of ~1e-13 (the curvature,
    # ~100, times the last digit's 1e-15); the others are exact
    assert np.all(np.abs(g) <= 1e-12), g
    if fn.minima:
        assert np.all(np.abs(fn.value(points)) <= 1e-24)
    else:
        assert name == "saddle" and not fn.bounded and fn.saddles == ((0.0, 0.0),)


def test_himmelblaus_minima_are_where_newton_converges() -> None:
    fn = surface.FUNCTIONS["himmelblau"]
    for point in fn.minima:
        p = np.array(point) + 1e-3
        for _ in range(30):  # Newton on ∇f with the Hessian by hand
            x, y = p
            hessian = np.array(
                [[12 * x * x + 4 * y - 42, 4 * (x + y)], [4 * (x + y), 12 * y * y + 4 * x - 26]]
            )
            p = p - np.linalg.solve(hessian, fn.gradient(p[None], np.empty((1, 2)))[0])
        assert p.tolist() == pytest.approx(list(point), abs=1e-14)


def test_every_box_holds_its_minima_and_default_start() -> None:
    for fn in surface.FUNCTIONS.values():
        x0, x1, y0, y1 = fn.box
        for x, y in (*fn.points, fn.start):
            assert x0 <= x <= x1 and y0 <= y <= y1, fn.name


# --- the paths --------------------------------------------------------------------------------------


def test_sgd_on_the_quadratic_follows_its_closed_form() -> None:
    c = surf("quadratic", condition=50.0, sets={"optimizer.lr": 0.03, "train.steps": 60})
    (h,) = surface.train([c])
    k = np.arange(61)
    # x_k = x0·(1 − lr)^k, y_k = y0·(1 − 50·lr)^k: k roundings of one multiplication each
    assert np.allclose(h.x, -8.0 * 0.97**k, rtol=4 * 61 * EPS, atol=0)
    assert np.allclose(h.y, 1.0 * (1 - 50 * 0.03) ** k, rtol=4 * 61 * EPS, atol=0)
    assert h.loss.tolist() == pytest.approx((0.5 * (h.x**2 + 50 * h.y**2)).tolist(), rel=4 * EPS)
    assert h.step.tolist() == list(range(61)) and h.status == "completed"
    assert math.isnan(h.lr[0]) and np.all(h.lr[1:] == 0.03)
    assert h.ema_x is None and h.columns().keys() == {"step", "x", "y", "loss", "lr"}


def test_the_moving_average_follows_its_recurrence() -> None:
    c = surf("saddle", sets={"optimizer.lr": 0.1, "train.steps": 30, "ema.decay": 0.9})
    (h,) = surface.train([c])
    assert h.ema_x is not None and h.ema_y is not None and h.ema_loss is not None
    sx, sy = 1.0, 0.001
    for k in range(1, 31):
        d = ema.ema_decay(0.9, k)
        sx -= (sx - h.x[k]) * (1 - d)
        sy -= (sy - h.y[k]) * (1 - d)
        assert (h.ema_x[k], h.ema_y[k]) == (sx, sy)
    assert h.ema_loss.tolist() == (h.ema_x**2 - h.ema_y**2).tolist()
    assert list(h.columns()) == ["step", "x", "y", "loss", "lr", "ema_x", "ema_y", "ema_loss"]


ROWS = [
    ("rosenbrock", {"optimizer.name": "adam", "optimizer.lr": 0.05}),
    ("quadratic", {"optimizer.name": "sgdm", "optimizer.lr": 0.01, "ema.decay": 0.95}),
    ("beale", {"optimizer.name": "rmsprop", "optimizer.lr": 0.01, "optimizer.clip_norm": 1.0}),
    (
        "rastrigin",
        {
            "optimizer.name": "nadam",
            "optimizer.lr": 0.02,
            "schedule.type": "cosine",
            "schedule.decay_steps": 100,
        },
    ),
    ("himmelblau", {"optimizer.name": "adagrad", "optimizer.lr": 0.5, "optimizer.clip_value": 3.0}),
    ("saddle", {"optimizer.name": "momentum", "optimizer.lr": 0.01, "optimizer.nesterov": True}),
    ("rosenbrock", {"optimizer.name": "adam", "optimizer.lr": 0.05, "model.start": [0.5, -0.5]}),
    ("quadratic", {"optimizer.name": "sgd", "optimizer.lr": 0.05, "model.condition": 50.0}),  # diverges
]


def _row_config(function: str, sets: dict) -> config.Config:
    model = {k.partition(".")[2]: v for k, v in sets.items() if k.startswith("model.")}
    other = {k: v for k, v in sets.items() if not k.startswith("model.")}
    return surf(function, sets={"train.steps": 120, **other}, **model)


def test_a_run_alone_equals_its_row_in_a_population_bit_for_bit() -> None:
    configs = [_row_config(f, s) for f, s in ROWS]
    together = surface.train(configs)
    for c, h in zip(configs, together, strict=True):
        (alone,) = surface.train([c])
        assert h.population_size == len(configs) and alone.population_size == 1
        assert h.status == alone.status and h.message == alone.message
        for name, column in alone.columns().items():
            assert np.array_equal(column, h.columns()[name], equal_nan=True), (c.function, name)


def test_a_diverged_row_stops_with_why_and_the_others_go_on() -> None:
    configs = [_row_config(f, s) for f, s in ROWS]
    histories = surface.train(configs)
    bad = histories[-1]
    # y multiplied by 1 − 0.05·50 = −1.5 per step: |loss| > 1e6·57 once 1.5^(2k)·25 > 5.7e7, k = 19
    assert bad.status == "diverged" and bad.diverged_step == 19 and len(bad.step) == 20
    assert bad.message.startswith("diverged at step 19: the loss reached")
    assert "lr > 2/50 = 0.04" in bad.message and "optimizer.lr < 0.04" in bad.message
    assert all(h.status == "completed" and len(h.step) == 121 for h in histories[:-1])


def test_the_saddle_stops_once_the_path_has_gone_and_says_it_has_no_minimum() -> None:
    (h,) = surface.train([surf("saddle", sets={"optimizer.lr": 0.3, "train.steps": 200})])
    # y multiplied by 1.6 per step from 0.001: −y² passes −1e6 once 1.6^k > 1e6, k = 30
    assert h.status == "diverged" and h.diverged_step == 30 and h.loss[-1] < -1e6
    assert "has no minimum" in h.message and "fewer train.steps" in h.message


def test_a_nan_loss_is_divergence() -> None:
    # sgd on rosenbrock at lr 0.1: the cubic term throws x to overflow within a few steps
    (h,) = surface.train([surf("rosenbrock", sets={"optimizer.lr": 0.1, "train.steps": 50})])
    assert h.status == "diverged" and not abs(h.loss[-1]) <= 1e6 * 1e3
    assert "try a smaller optimizer.lr (now 0.1)" in h.message


def test_should_stop_interrupts_every_run_where_it_is() -> None:
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) == 5

    configs = [surf("beale", sets={"train.steps": 50}), surf("himmelblau", sets={"train.steps": 50})]
    histories = surface.train(configs, should_stop=stop)
    for h in histories:
        assert h.status == "interrupted" and h.message == "interrupted after 5 of 50 steps"
        assert h.step.tolist() == [0, 1, 2, 3, 4, 5]


def test_runs_of_different_lengths_train_together() -> None:
    short, long = surf("saddle", sets={"train.steps": 3}), surf("saddle", sets={"train.steps": 9})
    a, b = surface.train([short, long])
    assert len(a.step) == 4 and len(b.step) == 10 and a.status == b.status == "completed"
    assert np.array_equal(a.x, b.x[:4]) and len(a.lr_trace) == 3


# --- the keys ---------------------------------------------------------------------------------------


def test_the_defaults_and_the_start_of_each_function() -> None:
    c = config.from_dict({"model": {"type": "surface"}})
    assert (c.function, c.start, c.condition, c.steps) == ("rosenbrock", (-1.5, 2.0), 10.0, 40)
    assert surf("beale").start == surface.FUNCTIONS["beale"].start
    assert surf("saddle", start=[1, 2]).start == (1.0, 2.0)
    assert config.from_dict(surf("beale").to_dict()) == surf("beale")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"model": {"type": "surface", "hidden": 4}},
            "model.hidden has no effect while model.type is surface",
        ),
        (
            {"model": {"type": "surface"}, "regularizer": {"type": "l2"}},
            "regularizer.type has no effect while model.type is surface; set model.type to mlp",
        ),
        ({"model": {"type": "surface"}, "data": {"name": "iris"}}, "data.name has no effect"),
        ({"model": {"type": "surface"}, "loss": "ce"}, "loss has no effect while model.type is surface"),
        ({"model": {"type": "surface"}, "train": {"epochs": 3}}, "train.epochs has no effect"),
        ({"model": {"type": "surface", "w0": 2.0}}, "model.w0 has no effect while model.type is surface"),
        (
            {"model": {"type": "surface", "function": "beale", "condition": 5}},
            "model.condition has no effect while model.function is beale; set model.function to quadratic",
        ),
        (
            {"model": {"start": [0, 0]}},
            "model.start has no effect while model.type is mlp; set model.type to surface",
        ),
        (
            {"model": {"type": "surface", "function": "rosenbrok"}},
            "model.function: unknown value 'rosenbrok'; did you mean 'rosenbrock'?",
        ),
        (
            {"model": {"type": "surface", "start": [1]}},
            "model.start: must be a list of two numbers [x, y], got [1]",
        ),
        (
            {"model": {"type": "surface", "start": [1, float("inf")]}},
            "model.start[1]: must be a finite number",
        ),
        (
            {"model": {"type": "surface", "function": "quadratic", "condition": 0}},
            "model.condition: must be > 0",
        ),
    ],
)
def test_keys_of_no_effect_or_bad_values_are_refused(raw: dict, message: str) -> None:
    with pytest.raises(config.ConfigError, match=None) as info:
        config.from_dict(raw)
    assert message in str(info.value)


# --- the paths against PyTorch ---------------------------------------------------------------------

TORCH = json.loads((Path(__file__).parent / "data" / "torch_surfaces.json").read_text(encoding="utf-8"))


def _torch_config(case: dict) -> config.Config:
    return config.from_dict({}, [f"{k}={json.dumps(v)}" for k, v in case["sets"].items()])


def test_the_torch_cases_cover_every_optimizer_function_and_option() -> None:
    sets = [case["sets"] for case in TORCH["cases"]]
    assert {s["optimizer.name"] for s in sets} == set(optimizers.names())
    assert {s["model.function"] for s in sets} == set(surface.FUNCTIONS)
    for key in ("schedule.type", "ema.decay", "optimizer.clip_norm", "optimizer.clip_value"):
        assert any(key in s for s in sets), key


@pytest.mark.parametrize("case", TORCH["cases"], ids=[case["id"] for case in TORCH["cases"]])
def test_every_step_equals_torch_optim_on_the_same_function(case: dict) -> None:
    c = _torch_config(case)
    (h,) = surface.train([c])
    assert h.status == "completed"
    assert np.array_equal(h.lr[1:], np.array(case["lr"]))  # exponential: lr0·r^(k/D), the same rounding
    names = ["x", "y", "loss"] + (["ema_x", "ema_y", "ema_loss"] if "ema_x" in case else [])
    for name in names:
        ours, theirs = getattr(h, name), np.array(case[name])
        assert ours.shape == theirs.shape
        # the promise: 1e-12 relative at every step (autograd's and the hand-written gradient round
        # in different orders, a few ulps a step; the paths here do not amplify them past ~1e-13)
        bad = np.flatnonzero(~(np.abs(ours - theirs) <= 1e-12 * np.abs(theirs)))
        assert bad.size == 0, f"{name}: step {bad[:1]}: {ours[bad[:1]]} vs {theirs[bad[:1]]}"


# --- nnopt train of a surface: the folder ----------------------------------------------------------

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def train_cli(tmp_path: Path, name: str, *args: str) -> tuple[Result, Path | None]:
    root = tmp_path / "runs"
    result = CliRunner().invoke(
        cli, ["train", str(CONFIGS / f"{name}.yaml"), "--runs-root", str(root), "--quiet", *args]
    )
    made = sorted(root.iterdir()) if root.is_dir() else []
    return result, made[-1] if made else None


def read_trajectory(folder: Path) -> tuple[list[str], list[list[str]]]:
    with (folder / "trajectory.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_train_writes_the_surface_folder(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, "valley")
    assert result.exit_code == 0, result.output
    assert folder is not None
    names = {p.name for p in folder.iterdir()}
    assert names == {"config.yaml", "trajectory.csv", "summary.json", "paths.png", "loss.png", "lr.png"}
    header, rows = read_trajectory(folder)
    assert header == ["step", "x", "y", "loss", "lr"]
    assert [r[0] for r in rows] == [str(k) for k in range(61)]
    assert rows[0] == ["0", "-8.0", "1.0", "57.0", ""]  # the start: ½(64 + 50), no rate
    # sgd at 0.038 on ½(x² + 50y²): x × 0.962, y × (1 − 1.9) per step
    assert [float(r[1]) for r in rows] == pytest.approx([-8 * 0.962**k for k in range(61)], rel=1e-13)
    assert [float(r[2]) for r in rows] == pytest.approx([(-0.9) ** k for k in range(61)], rel=1e-12)
    assert {r[4] for r in rows[1:]} == {"0.038"}
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["kind"] == "surface" and summary["status"] == "completed"
    assert summary["steps"] == summary["planned_steps"] == 60 and summary["function"] == "quadratic"
    assert summary["final_x"] == pytest.approx(-8 * 0.962**60, rel=1e-13)
    assert summary["nearest_minimum"] == [0.0, 0.0]
    assert summary["distance_to_minimum"] == pytest.approx(math.hypot(-8 * 0.962**60, 0.9**60), rel=1e-12)
    assert summary["formula"] == "½(x² + 50·y²)" and "pictures_missing" not in summary
    assert folders.kind_of(folder) == folders.SURFACE
    assert "final x" in result.output or result.output == ""


def test_the_moving_average_adds_its_columns(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, "saddle", "--set", "ema.decay=0.9")
    assert result.exit_code == 0, result.output
    assert folder is not None
    header, rows = read_trajectory(folder)
    assert header == ["step", "x", "y", "loss", "lr", "ema_x", "ema_y", "ema_loss"]
    assert rows[0][5:] == ["1.0", "0.001", "0.999999"]
    assert "final_ema_loss" in json.loads((folder / "summary.json").read_text())


def test_replot_draws_the_surface_pictures_again_byte_for_byte(tmp_path: Path) -> None:
    for name, args in (
        ("rosenbrock", ("--set", "train.steps=200", "--set", "ema.decay=0.95")),
        ("saddle", ()),
    ):
        result, folder = train_cli(tmp_path / name, name, *args)
        assert result.exit_code == 0 and folder is not None
        drawn = {p.name: p.read_bytes() for p in folder.glob("*.png")}
        for p in folder.glob("*.png"):
            p.unlink()
        again = CliRunner().invoke(cli, ["replot", str(folder)])
        assert again.exit_code == 0, again.output
        assert {p.name: p.read_bytes() for p in folder.glob("*.png")} == drawn
        h = surfaces.read(folder)
        (fresh,) = surface.train([h.config])
        for key, column in fresh.columns().items():
            assert np.array_equal(column, h.columns()[key], equal_nan=True), key


def test_a_folder_cut_off_before_its_summary_reads_back_with_its_status(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, "saddle", "--set", "train.steps=300")
    assert result.exit_code == 3 and folder is not None
    said = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").unlink()
    h = surfaces.read(folder)
    assert (
        h.status == "diverged" and h.diverged_step == said["diverged_step"] and h.message == said["message"]
    )


def test_a_diverged_surface_exits_3_and_keeps_its_rows(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, "saddle", "--set", "train.steps=300")
    assert result.exit_code == 3 and folder is not None
    # sgd at 0.05: y = 0.001·1.1^k, and −y² passes −1e6 once 1.1^k > 1e6, k = 145
    assert "diverged at step 145" in result.output and "has no minimum" in result.output
    _, rows = read_trajectory(folder)
    assert len(rows) == 146 and (folder / "paths.png").is_file()


def test_runs_and_show_list_a_surface(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, "rosenbrock", "--set", "train.steps=50")
    assert result.exit_code == 0 and folder is not None
    listed = CliRunner().invoke(cli, ["runs", str(tmp_path / "runs")], terminal_width=200)
    assert listed.exit_code == 0 and "surface" in listed.output and "adam" in listed.output
    shown = CliRunner().invoke(cli, ["show", str(folder)], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    for text in (
        "surface",
        "final x",
        "distance to minimum",
        "trajectory.csv",
        "paths.png",
        "model.type",
    ):
        assert text in shown.output, text


def test_what_a_surface_refuses_is_one_line(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, "rosenbrock", "--set", "train.steps=5")
    assert result.exit_code == 0 and folder is not None
    resumed = CliRunner().invoke(
        cli, ["train", "--resume", str(folder), "--runs-root", str(tmp_path / "runs")]
    )
    assert resumed.exit_code == 2
    assert "a path on a surface is not resumed" in resumed.output and len(resumed.output.splitlines()) == 1
    for args, words in (
        (
            ("--epochs", "3"),
            "--epochs: model.type surface counts updates, not epochs; use --set train.steps=N",
        ),
        (("--set", "model.function=rosenbrok"), "did you mean 'rosenbrock'?"),
        (("--set", "model.hidden=3"), "model.hidden has no effect while model.type is surface"),
    ):
        refused, _ = train_cli(tmp_path / "refused", "rosenbrock", *args)
        assert refused.exit_code == 2 and words in refused.output, refused.output
        assert len(refused.output.strip().splitlines()) == 1
        assert not (tmp_path / "refused" / "runs").exists()


# --- the pictures ---------------------------------------------------------------------------------


def _histories(function: str, rows: list[dict], **model: object) -> list[surface.SurfaceHistory]:
    return surface.train([surf(function, sets=s, **model) for s in rows])


PICTURES = {
    "valley sgd": ("quadratic", [{"optimizer.lr": 0.038, "train.steps": 60}], {"condition": 50.0}),
    "rosenbrock adam with EMA": (
        "rosenbrock",
        [{"optimizer.name": "adam", "optimizer.lr": 0.05, "train.steps": 400, "ema.decay": 0.95}],
        {},
    ),
    "saddle leaving the view": ("saddle", [{"optimizer.lr": 0.05, "train.steps": 100}], {}),
    "himmelblau, four entries, one diverged": (
        "himmelblau",
        [
            {"optimizer.name": "sgd", "optimizer.lr": 0.01, "train.steps": 200},
            {"optimizer.name": "adam", "optimizer.lr": 0.1, "train.steps": 200},
            {"optimizer.name": "sgd", "optimizer.lr": 0.3, "train.steps": 200},  # diverges
            {"optimizer.name": "rmsprop", "optimizer.lr": 0.05, "train.steps": 200},
        ],
        {},
    ),
    "rosenbrock overflow to NaN": ("rosenbrock", [{"optimizer.lr": 0.1, "train.steps": 50}], {}),
    "rastrigin, loss exactly 0 reached": (
        "rastrigin",
        [{"optimizer.name": "adam", "optimizer.lr": 0.1, "train.steps": 300}],
        {"start": [0.3, -0.2]},
    ),
    "beale with a schedule": (
        "beale",
        [
            {
                "optimizer.name": "adam",
                "optimizer.lr": 0.05,
                "train.steps": 300,
                "schedule.type": "cosine",
                "schedule.decay_steps": 300,
            }
        ],
        {},
    ),
}


@pytest.mark.parametrize("case", list(PICTURES))
def test_every_surface_picture_is_readable(case: str, saved: list, tmp_path: Path) -> None:
    function, rows, model = PICTURES[case]
    histories = _histories(function, rows, **model)
    labels = [report.describe_optimizer(h.config) for h in histories]
    surfaceplot.paths(tmp_path / "paths.png", histories, labels, title=f"{case}: the paths")
    surfaceplot.losses(tmp_path / "loss.png", histories, labels, title=f"{case}: the loss")
    surfaceplot.rates(tmp_path / "lr.png", histories, labels, title=f"{case}: the rates")
    assert len(saved) == 3
    for fig in saved:
        assert problems(fig) == [], case
    paths_fig = saved[0]
    ax = paths_fig.axes[0]
    assert ax.get_aspect() == 1.0  # equal axes
    legend = "\n".join(t.get_text() for t in paths_fig.legends[0].get_texts())
    fn = surface.FUNCTIONS[function]
    assert ("minimum" in legend or "minima" in legend) if fn.minima else "saddle point (0, 0)" in legend
    assert "start" in legend
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for h in histories:
        assert x0 <= h.x[0] <= x1 and y0 <= h.y[0] <= y1  # the start is in view
        if h.status == "diverged":
            assert f"diverged at step {h.diverged_step}" in legend
    for px, py in fn.points:
        assert x0 <= px <= x1 and y0 <= py <= y1
    bar = paths_fig.axes[1].get_ylabel()
    assert bar == (
        "loss (log scale)"
        if fn.bounded
        else "loss = x² − y² (symmetric log scale; 0 on the dotted lines: no minimum)"
    )


def test_the_path_leaving_the_view_says_so() -> None:
    (h,) = _histories("saddle", [{"optimizer.lr": 0.05, "train.steps": 100}])
    view = surfaceplot.view_of([h])
    assert view.leaves == (True,)
    x0, x1, y0, y1 = surface.FUNCTIONS["saddle"].box
    # the box (3 high) grows up to the highest point of the path at most one box height above it (y1 + 3),
    # then a margin of the span around it
    top = h.y[h.y <= y1 + (y1 - y0)].max()
    assert 4.0 < top < 4.5 and h.y.max() > 10
    assert view.y1 == pytest.approx(top + surfaceplot.MARGIN * (top - y0), rel=1e-12)


def test_paths_of_different_functions_are_refused() -> None:
    a = _histories("beale", [{"train.steps": 3}])
    b = _histories("himmelblau", [{"train.steps": 3}])
    with pytest.raises(ValueError, match="share no contour"):
        surfaceplot.view_of(a + b)


def test_a_length_that_cannot_fit_in_memory_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, "valley", "--set", "train.steps=1000000000000")
    assert result.exit_code == 2 and folder is None
    assert "train.steps 1000000000000: the metrics and rates of 1,000,000,000,000 updates" in result.output


def test_show_compares_the_start_with_its_functions_own(tmp_path: Path) -> None:
    result, folder = train_cli(tmp_path, "valley")  # model.start [-8, 1]: the quadratic's own
    assert result.exit_code == 0 and folder is not None
    shown = CliRunner().invoke(cli, ["show", str(folder)], terminal_width=200)
    assert "model.condition" in shown.output and "model.start" not in shown.output
    moved, folder = train_cli(tmp_path / "moved", "valley", "--set", "model.start=[-5,1]")
    assert moved.exit_code == 0 and folder is not None
    shown = CliRunner().invoke(cli, ["show", str(folder)], terminal_width=200)
    assert "model.start" in shown.output and "[-8.0, 1.0]" in shown.output
