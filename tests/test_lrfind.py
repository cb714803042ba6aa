"""nnopt lr-find: the range test's numbers (smoothing, stop, suggestions) against hand computations, its
losses against `nnopt train`'s trace.csv bit for bit, its folder, listing and replot, and bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nnopt_cli.cli import cli
from nnopt_cli.core import lrrange
from nnopt_cli.store import catalog, folders

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _one(root: Path, pattern: str = "*") -> Path:
    (found,) = sorted(root.glob(pattern))
    return found


# --- the numbers ---------------------------------------------------------------------------------------


def test_smoothing_is_the_bias_corrected_average_computed_by_hand() -> None:
    # avg_k = 0.98·avg_{k−1} + 0.02·loss_k from avg_{−1} = 0, divided by 1 − 0.98^(k+1)
    avg0 = 0.02 * 1.0
    avg1 = 0.98 * avg0 + 0.02 * 2.0
    avg2 = 0.98 * avg1 + 0.02 * 3.0
    expected = [avg0 / 0.02, avg1 / (1 - 0.98**2), avg2 / (1 - 0.98**3)]
    assert expected[0] == 1.0
    assert expected[1] == pytest.approx(0.0596 / 0.0396, rel=1e-15)
    assert expected[2] == pytest.approx(0.118408 / 0.058808, rel=1e-15)
    assert lrrange.smooth(np.array([1.0, 2.0, 3.0])).tolist() == pytest.approx(expected, rel=1e-15)


def test_a_constant_loss_smooths_to_itself() -> None:
    assert lrrange.smooth(np.full(50, 0.7)) == pytest.approx(np.full(50, 0.7), rel=1e-12)


def test_the_test_stops_past_four_times_the_minimum_or_when_not_finite() -> None:
    assert lrrange.stop_index(np.array([4.0, 2.0, 1.0, 3.9, 4.0, 4.1, 1.0])) == 5  # 4.0 is not above 4·1
    assert lrrange.stop_index(np.array([16.0, 8.0, 4.0])) is None  # above 4× the minimum only before it
    assert lrrange.stop_index(np.array([1.0, 0.9, math.nan])) == 2
    assert lrrange.stop_index(np.array([1.0, math.inf])) == 1
    assert lrrange.stop_index(np.array([1.0, 0.8, 0.7])) is None


def _synthetic() -> tuple[np.ndarray, np.ndarray]:
    """Rates 10^(−7 + k/10), k = 0..80 (ten updates a decade), and a smoothed loss of log10(lr) = x:
    3 up to x = −4, falling to 1 at x = −3 (2 a decade), to 0.5 at x = −1 (0.25 a decade), rising after."""
    x = -7 + np.arange(81) / 10
    lr = 10.0**x
    s = np.interp(x, [-7, -4, -3, -1, 1], [3.0, 3.0, 1.0, 0.5, 2.0])
    return lr, s


def test_suggestions_on_a_synthetic_curve_with_a_hand_derived_answer() -> None:
    lr, s = _synthetic()
    steepest, minimum_div_10 = lrrange.suggest(lr, s)
    # minimum at x = −1: lr 0.1, a tenth of it
    assert minimum_div_10 == pytest.approx(0.01, rel=1e-12)
    # a decade is 10 updates; the decade [a, a + 1] loses 2(a + 5) for a ≤ −4 and 2(−3 − a) + (a + 4)/4 for
    # −4 ≤ a ≤ −3: most (2) for a = −4, whose middle is x = −3.5
    assert steepest == pytest.approx(10**-3.5, rel=1e-12)
    assert steepest == lr[35]


def test_suggestions_leave_out_the_first_tenth_and_the_last_five_updates() -> None:
    assert lrrange.window(100, 86) == slice(10, 81)
    assert lrrange.window(100, 100) == slice(10, 95)
    assert lrrange.window(40, 3) == slice(4, 0)  # nothing to suggest from
    curve = lrrange.analyse(np.geomspace(1e-3, 1.0, 3), np.ones(3), planned=40)
    assert (curve.steepest, curve.minimum_div_10) == (None, None)


def test_rate_factor_reaches_end_at_the_last_step() -> None:
    r = lrrange.rate_factor(1e-7, 10.0, 100)
    assert r == (10.0 / 1e-7) ** (1 / 99)
    assert 1e-7 * r**99 == pytest.approx(10.0, rel=1e-12)


# --- the command ----------------------------------------------------------------------------------------


def _trace(root: Path, config: Path, r: float, start: float, *extra: str) -> list[dict[str, str]]:
    code, output = _invoke(
        "train", str(config), "--runs-root", str(root), "--quiet", "--epochs", "10",
        "--set", "schedule.type=exponential", "--set", "schedule.decay_steps=1",
        "--set", f"schedule.decay_rate={r!r}", "--set", f"optimizer.lr={start!r}", *extra,
    )  # fmt: skip
    assert code in (0, 3), output
    return _rows(_one(root) / "trace.csv")


@pytest.mark.parametrize(
    ("config", "grid", "train_sets"),
    [
        ("l2.yaml", [], []),
        ("l2.yaml", ["--grid", "optimizer.name=sgd,adam"], ["--set", "optimizer.name=adam"]),
        ("iris/sgd.yaml", [], []),
        ("sgd.yaml", ["--set", "data.name=spiral", "--set", "data.shuffle=true"], []),
    ],
)
def test_losses_equal_train_with_an_exponential_schedule_bit_for_bit(
    tmp_path: Path, config: str, grid: list[str], train_sets: list[str]
) -> None:
    sets = [a for a in grid if not a.startswith("optimizer.name") and a != "--grid"]
    code, output = _invoke("lr-find", str(CONFIGS / config), *grid, "--runs-root", str(tmp_path / "f"))
    assert code == 0, output
    folder = _one(tmp_path / "f")
    rows = _rows(folder / "lr_find.csv")
    if "name" in rows[0]:
        rows = [r for r in rows if r["name"] == "adam"]
    r = (10.0 / 1e-7) ** (1 / 99)
    trace = _trace(tmp_path / "t", CONFIGS / config, r, 1e-7, *train_sets, *sets)
    assert len(rows) >= 2
    for mine, theirs in zip(rows, trace, strict=False):
        assert mine["step"] == theirs["step"]
        assert mine["lr"] == theirs["lr"]
        assert mine["loss"] == theirs["batch_loss"]  # the same text: the same float64, bit for bit


TORCH_LRFIND = json.loads((ROOT / "tests" / "data" / "torch_lrfind.json").read_text())


@pytest.mark.parametrize("case", TORCH_LRFIND["cases"], ids=[c["id"] for c in TORCH_LRFIND["cases"]])
def test_range_tests_match_torch_update_by_update(tmp_path: Path, case: dict) -> None:
    """lr_find.csv against the same range test replayed in torch float64 (tests/data/make_torch_lrfind.py:
    torch's network, penalty, autograd and torch.optim, the param group's rate set to start · r^k).

    Tolerance: the rates are start · r^k, one rounding of a power: 4 ulps. Each update rounds differently
    from torch's (fused multiply-adds, another order of sums in a matmul): a few ulps (1e-16 relative) per
    update, adding up over the at most 100 updates to 1e-13 while training is stable: up to the smallest
    smoothed loss. Past it the rate is large enough for the loss to grow, and each update amplifies the
    difference it inherits; those updates are checked by where the test stops and what it suggests, which
    torch's losses decide through the same rule (core/lrrange.py, checked by hand above)."""
    assert (TORCH_LRFIND["start"], TORCH_LRFIND["end"], TORCH_LRFIND["steps"]) == (1e-7, 10.0, 100)
    sets = [x for s in case["sets"] for x in ("--set", s)]
    code, output = _invoke("lr-find", str(CONFIGS / case["config"]), *sets, "--runs-root", str(tmp_path))
    assert code == 0, output
    folder = _one(tmp_path)
    rows = _rows(folder / "lr_find.csv")
    theirs = lrrange.analyse(np.array(case["lr"]), np.array(case["loss"]), planned=100)
    assert len(rows) == (100 if theirs.stopped_at is None else theirs.stopped_at + 1)
    lr = np.array([float(r["lr"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    np.testing.assert_allclose(lr, case["lr"][: len(rows)], rtol=4 * np.finfo(float).eps, atol=0)
    stable = int(np.argmin(theirs.smoothed)) + 1
    assert stable > 50  # most of the test: the rates that train
    np.testing.assert_allclose(loss[:stable], case["loss"][:stable], rtol=1e-13, atol=0)
    suggestions = json.loads((folder / "summary.json").read_text())["suggestions"]
    assert suggestions == {"steepest": theirs.steepest, "minimum_div_10": theirs.minimum_div_10}


def test_folder_summary_terminal_listing_and_replot(tmp_path: Path) -> None:
    code, output = _invoke("lr-find", str(CONFIGS / "l2.yaml"), "--runs-root", str(tmp_path))
    assert code == 0, output
    folder = _one(tmp_path)
    assert folder.name.endswith("-lrfind-l2")
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.yaml",
        "lr_find.csv",
        "lr_find.png",
        "summary.json",
    ]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["kind"] == "lrfind" and summary["status"] == "completed"
    suggestions = summary["suggestions"]
    assert set(suggestions) == {"steepest", "minimum_div_10"}
    rows = _rows(folder / "lr_find.csv")
    assert list(rows[0]) == ["step", "lr", "loss", "smoothed_loss"]
    smoothed = lrrange.smooth(np.array([float(r["loss"]) for r in rows]))
    assert [float(r["smoothed_loss"]) for r in rows] == smoothed.tolist()
    lr = np.array([float(r["lr"]) for r in rows])
    assert suggestions["minimum_div_10"] * 10 in lr.tolist()
    # the terminal: the suggestions and the command that trains at each
    assert f"nnopt train {CONFIGS / 'l2.yaml'} --lr {suggestions['steepest']:.3g}" in output
    assert f"--lr {suggestions['minimum_div_10']:.3g}" in output
    # config.yaml is the range test's config: nnopt train takes it and trains the test again
    assert "type: exponential" in (folder / "config.yaml").read_text()
    again = tmp_path.parent / f"{tmp_path.name}-again"
    code, output = _invoke("train", str(folder / "config.yaml"), "--runs-root", str(again), "--quiet")
    assert code == 3, output  # the rate grows until the loss blows up
    trace = _rows(_one(again) / "trace.csv")
    assert [(r["lr"], r["loss"]) for r in rows] == [(r["lr"], r["batch_loss"]) for r in trace[: len(rows)]]
    # one owner: its kind, the listing, replot
    assert folders.kind_of(folder) == folders.LRFIND
    (record,) = catalog.scan(tmp_path)
    assert record.kind == "lrfind" and record.status == "completed" and "minimum_div_10" in record.note
    code, listing = _invoke("runs", str(tmp_path))
    assert code == 0 and "lrfind" in listing, listing
    before = (folder / "lr_find.png").read_bytes()
    (folder / "lr_find.png").unlink()
    code, output = _invoke("replot", str(folder))
    assert code == 0, output
    assert (folder / "lr_find.png").read_bytes() == before
    # a summary.json that cannot be read: one line naming it once, exit 2
    (folder / "summary.json").write_text("{")
    code, output = _invoke("replot", str(folder))
    assert code == 2 and output.strip().endswith(f"{folder / 'summary.json'}: not valid JSON"), output


def test_a_grid_is_one_population_and_one_picture(tmp_path: Path) -> None:
    code, output = _invoke(
        "lr-find", str(CONFIGS / "l2.yaml"), "--grid", "optimizer.name=sgd,sgdm,adam",
        "--runs-root", str(tmp_path),
    )  # fmt: skip
    assert code == 0, output
    folder = _one(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert [t["name"] for t in summary["tests"]] == ["sgd", "sgdm", "adam"]
    assert set(summary["suggestions"]) == {"sgd", "sgdm", "adam"}
    assert {r["name"] for r in _rows(folder / "lr_find.csv")} == {"sgd", "sgdm", "adam"}
    assert (folder / "config.yaml").read_text().count("---") == 2
    assert sorted(p.name for p in folder.glob("*.png")) == ["lr_find.png"]
    assert "--set optimizer.name=adam --lr" in output
    # the README's numbers: where each stops, at which rate, and the suggestions of `nnopt lr-find l2.yaml`
    # (the sgd row of the population: the same run, bit for bit)
    tests = {t["name"]: t for t in summary["tests"]}
    rows = {(r["name"], int(r["step"])): float(r["lr"]) for r in _rows(folder / "lr_find.csv")}
    readme = (ROOT / "README.md").read_text()
    assert (tests["sgd"]["stopped_at"], f"{rows['sgd', 85]:.2f}") == (85, "0.74")
    assert (tests["adam"]["stopped_at"], f"{rows['adam', 96]:.2g}") == (96, "5.7")
    assert (tests["sgdm"]["stopped_at"], tests["sgdm"]["updates"]) == (None, 100)
    assert "SGD stops at update 85 (lr 0.74) and Adam at update 96 (lr 5.7)" in readme
    sgd = tests["sgd"]["suggestions"]
    shown = (
        f"steepest descent  {sgd['steepest']:.3g}     nnopt train configs/l2.yaml --lr {sgd['steepest']:.3g}"
    )
    assert shown in readme
    assert f"minimum ÷ 10      {sgd['minimum_div_10']:.3g}     nnopt" in readme
    assert (f"{sgd['steepest']:.3g}", f"{sgd['minimum_div_10']:.3g}") == ("0.0376", "0.0292")


def test_several_configs(tmp_path: Path) -> None:
    code, output = _invoke(
        "lr-find", str(CONFIGS / "sgd.yaml"), str(CONFIGS / "iris" / "adam.yaml"), "--steps", "30",
        "--runs-root", str(tmp_path),
    )  # fmt: skip
    assert code == 0, output
    summary = json.loads((_one(tmp_path) / "summary.json").read_text())
    assert [t["name"] for t in summary["tests"]] == ["sgd", "adam"]


def test_a_key_some_grid_points_have_no_use_for_is_dropped_there_and_listed(tmp_path: Path) -> None:
    args = ["lr-find", str(CONFIGS / "l2.yaml"), "--set", "optimizer.beta1=0.8", "--steps", "20"]
    code, output = _invoke(*args, "--grid", "optimizer.name=sgd,adam", "--runs-root", str(tmp_path))
    assert code == 0, output
    assert "dropped where it has no effect: optimizer.beta1: 0.8 (1 of 2 range tests)" in output
    summary = json.loads((_one(tmp_path) / "summary.json").read_text())
    assert summary["dropped"] == {"optimizer.beta1": {"value": 0.8, "runs": 1}}
    commands = {t["name"]: t["command"] for t in summary["tests"]}
    assert "beta1" not in commands["sgd"]  # nnopt train would refuse it there
    assert "--set optimizer.beta1=0.8" in commands["adam"]
    configs = (_one(tmp_path) / "config.yaml").read_text().split("\n---")
    assert "beta1: 0.8" not in configs[0] and "beta1: 0.8" in configs[1]
    # no grid point uses it: refused, naming the option, and nothing is written
    code, output = _invoke(*args, "--runs-root", str(tmp_path / "none"))
    assert code == 2 and "--set optimizer.beta1=0.8: optimizer.beta1 has no effect" in output, output
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--start", "1", "--end", "0.1"], "--start 1 --end 0.1"),
        (["--start", "0.1", "--end", "0.1"], "start < end"),
        (["--steps", "1"], "--steps 1"),
        (["--start", "0"], "--start 0"),
        (["--set", "optimizer.lr=0.1"], "--set optimizer.lr"),
        (["--grid", "schedule.type=cosine,constant"], "--grid schedule.type"),
        (["--set", "optimizer.nope=1"], "optimizer.nope"),
        (["--grid", "optimizer.name=sgd,nosuch"], "--grid optimizer.name=nosuch"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path: Path, args: list[str], said: str) -> None:
    root = tmp_path / "runs"
    code, output = _invoke("lr-find", str(CONFIGS / "l2.yaml"), *args, "--runs-root", str(root))
    assert code == 2, output
    assert said in output
    assert len(output.strip().splitlines()) == 1
    assert not root.exists() or not any(root.iterdir())


def test_the_toy_and_a_missing_config_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    code, output = _invoke("lr-find", str(CONFIGS / "quadratic.yaml"), "--runs-root", str(root))
    assert code == 2 and "model.type quadratic" in output, output
    code, output = _invoke("lr-find", "--runs-root", str(root))
    assert code == 2 and "missing CONFIG" in output, output
    code, output = _invoke("lr-find", str(tmp_path / "none.yaml"), "--runs-root", str(root))
    assert code == 2 and len(output.strip().splitlines()) == 1, output
    assert not root.exists() or not any(root.iterdir())


def test_an_interruption_keeps_what_was_trained_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nnopt_cli.experiments import session

    calls = iter(range(10**6))
    monkeypatch.setattr(session.Session, "stop_requested", lambda self: next(calls) >= 25)  # in epoch 3
    code, output = _invoke("lr-find", str(CONFIGS / "l2.yaml"), "--runs-root", str(tmp_path))
    assert code == 130, output
    folder = _one(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert len(_rows(folder / "lr_find.csv")) == 20  # the two whole epochs of 10 updates
    assert (folder / "lr_find.png").exists()


def test_a_csv_data_set_with_a_test_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(70, 3))
    label = np.where(x[:, 0] + x[:, 1] * x[:, 2] > 0, "yes", "no")
    lines = [
        "a,b,c,label",
        *(",".join([*map(repr, p.tolist()), str(y)]) for p, y in zip(x, label, strict=True)),
    ]
    (tmp_path / "points.csv").write_text("\n".join(lines) + "\n")
    config = tmp_path / "points.yaml"
    config.write_text(
        "data: {path: points.csv, test_size: 0.2, permute_seed: 1, batch_size: 16}\n"
        "model: {hidden: [6, 4], activation: tanh}\nloss: bce\n"
    )
    code, output = _invoke("lr-find", str(config), "--steps", "30", "--runs-root", str(tmp_path / "f"))
    assert code == 0, output
    rows = _rows(_one(tmp_path / "f") / "lr_find.csv")
    trace = _trace(tmp_path / "t", config, (10.0 / 1e-7) ** (1 / 29), 1e-7)
    assert [(r["lr"], r["loss"]) for r in rows] == [(r["lr"], r["batch_loss"]) for r in trace[: len(rows)]]


# --- paths on a surface -------------------------------------------------------------------------------


def test_a_surface_range_test_is_train_of_its_path_with_an_exponential_schedule(tmp_path: Path) -> None:
    rosenbrock = str(CONFIGS / "rosenbrock.yaml")
    grid = ["--grid", "optimizer.name=sgd,adam"]
    code, output = _invoke("lr-find", rosenbrock, *grid, "--runs-root", str(tmp_path / "f"))
    assert code == 0, output
    folder = _one(tmp_path / "f")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["model_type"] == "surface" and set(summary["suggestions"]) == {"sgd", "adam"}
    rows = [r for r in _rows(folder / "lr_find.csv") if r["name"] == "sgd"]
    r = (10.0 / 1e-7) ** (1 / 99)
    code, output = _invoke(
        "train", rosenbrock, "--runs-root", str(tmp_path / "t"), "--quiet",
        "--set", "optimizer.name=sgd", "--set", "schedule.type=exponential",
        "--set", "schedule.decay_steps=1", "--set", f"schedule.decay_rate={r!r}",
        "--set", f"optimizer.lr={1e-7!r}", "--set", "train.steps=100",
    )  # fmt: skip
    assert code in (0, 3), output
    path = _rows(_one(tmp_path / "t") / "trajectory.csv")
    # sgd blows up on Rosenbrock's walls well before lr 10: the test stops, cut where it stopped
    assert 2 <= len(rows) < 100 and summary["tests"][0]["stopped_at"] is not None
    for k, mine in enumerate(rows):
        # update k (lr_find.csv counts from 0) starts from row k of the path and leads to row k + 1
        assert int(mine["step"]) == k
        assert mine["loss"] == path[k]["loss"]  # the same text: the same float64, bit for bit
        assert float(mine["lr"]) == float(path[k + 1]["lr"])


def test_a_surface_and_a_network_in_one_range_test_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    both = [str(CONFIGS / "rosenbrock.yaml"), str(CONFIGS / "l2.yaml")]
    code, output = _invoke("lr-find", *both, "--runs-root", str(root))
    assert code == 2 and len(output.strip().splitlines()) == 1, output
    assert f"{both[0]} is a surface and {both[1]} a network" in output
    code, output = _invoke("lr-find", both[0], "--set", "train.steps=50", "--runs-root", str(root))
    assert code == 2 and "--set train.steps: lr-find sets the rate" in output, output
    assert not root.exists() or not any(root.iterdir())
