"""`nnopt plot-lr` through the command line (CliRunner in a temporary folder).

Every expected rate is a closed form written out here from REFERENCE.md's table and seed 001's
parameters (lr0 0.5, D 10, decay_rate 0.9, end_lr 0.0001, 200 steps), never the module's own output.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from nnopt_cli.cli import cli
from nnopt_cli.figures import plots

ROOT = Path(__file__).resolve().parent.parent
LR0, D, RATE, END = 0.5, 10, 0.9, 0.0001


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["plot-lr", *args], catch_exceptions=False)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def column(rows: list[list[str]], i: int) -> list[float]:
    return [float(r[i]) for r in rows]


def pngs(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.png"))


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The arguments of every plots.lr_curves call (the figure is still drawn)."""
    calls: list[dict[str, Any]] = []
    original = plots.lr_curves

    def spy(path: Path, curves: Any, **kwargs: Any) -> None:
        calls.append({"path": path, "labels": [c.label for c in curves], **kwargs})
        original(path, curves, **kwargs)

    monkeypatch.setattr(plots, "lr_curves", spy)
    return calls


# --- closed forms -------------------------------------------------------------------------------


def exponential(k: int, staircase: bool = False, rate: float = RATE) -> float:
    return LR0 * rate ** (k // D if staircase else k / D)


def polynomial(k: int) -> float:
    return (LR0 - END) * (1 - min(k, D) / D) + END


def polynomial_cycle(k: int) -> float:
    d = D * (1 if k == 0 else math.ceil(k / D))
    return (LR0 - END) * (1 - k / d) + END


# --- seed 001's pictures ------------------------------------------------------------------------


def test_polynomial_cycle_is_seed_001s_green_curve(tmp_path: Path) -> None:
    result = run(tmp_path, "--type", "polynomial", "--cycle", "--out", "p.png", "--csv", "p.csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header, rows = read_csv(tmp_path / "p.csv")
    assert header[0] == "step" and len(header) == 2 and "cycle" in header[1]
    assert column(rows, 0) == list(range(200))
    got = column(rows, 1)
    # hand values: k=0 is lr0; k=10 is end_lr; k=11 restarts below lr0 with D' = 20; k=15: D' = 20
    assert got[0] == pytest.approx(0.5, rel=1e-12)
    assert got[10] == pytest.approx(0.0001, rel=1e-12)
    assert got[11] == pytest.approx(0.4999 * (1 - 11 / 20) + 0.0001, rel=1e-12)
    assert got[15] == pytest.approx(0.4999 * 0.25 + 0.0001, rel=1e-12)  # 0.125075
    assert got[15] == pytest.approx(0.125075, rel=1e-12)
    assert got[199] == pytest.approx(0.4999 * (1 - 199 / 200) + 0.0001, rel=1e-12)
    assert got == pytest.approx([polynomial_cycle(k) for k in range(200)], rel=1e-12)
    assert max(got[1:]) < 0.5  # it never returns to lr0


def test_polynomial_with_and_without_cycle_is_the_red_green_pair(
    tmp_path: Path, drawn: list[dict[str, Any]]
) -> None:
    result = run(
        tmp_path,
        "--type",
        "polynomial",
        "--type",
        "polynomial",
        "--cycle",
        "--out",
        "pair.png",
        "--csv",
        "pair.csv",
    )
    assert result.exit_code == 0, result.output
    header, rows = read_csv(tmp_path / "pair.csv")
    assert len(header) == 3 and "cycle" not in header[1] and "cycle" in header[2]
    red, green = column(rows, 1), column(rows, 2)
    assert red[3] == pytest.approx((0.5 - 1e-4) * (1 - 3 / 10) + 1e-4, rel=1e-12)  # 0.35003
    assert red[3] == pytest.approx(0.35003, rel=1e-12)
    assert red == pytest.approx([polynomial(k) for k in range(200)], rel=1e-12)
    assert red[10:] == pytest.approx([END] * 190, rel=1e-12)  # stays at end_lr
    assert green == pytest.approx([polynomial_cycle(k) for k in range(200)], rel=1e-12)
    # the legend names each curve with its parameters, in the CSV's order
    (call,) = drawn
    assert call["labels"] == header[1:]
    for label in call["labels"]:
        assert "polynomial" in label and "decay_steps=10" in label and "lr0=0.5" in label
    assert call["path"] == Path("pair.png") and call["log"] is False


def test_default_type_is_seed_001s_exponential(tmp_path: Path) -> None:
    result = run(tmp_path, "--out", "e.png", "--csv", "e.csv")
    assert result.exit_code == 0, result.output
    header, rows = read_csv(tmp_path / "e.csv")
    assert header[1].startswith("exponential")
    assert column(rows, 1) == pytest.approx([exponential(k) for k in range(200)], rel=1e-12)


def test_steps_sets_the_number_of_rows(tmp_path: Path) -> None:
    assert run(tmp_path, "--steps", "7", "--out", "s.png", "--csv", "s.csv").exit_code == 0
    _, rows = read_csv(tmp_path / "s.csv")
    assert column(rows, 0) == list(range(7))


def test_one_step_is_drawn_as_a_point(tmp_path: Path, saved: list[Any]) -> None:
    assert run(tmp_path, "--steps", "1", "--out", "one.png").exit_code == 0
    (line,) = saved[0].axes[0].get_lines()
    assert line.get_marker() == "o" and list(line.get_ydata()) == [0.5]
    assert (tmp_path / "one.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- option scoping -----------------------------------------------------------------------------


def test_an_option_after_a_type_applies_to_that_curve_only(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "--type",
        "exponential",
        "--type",
        "exponential",
        "--staircase",
        "--out",
        "x.png",
        "--csv",
        "x.csv",
    )
    assert result.exit_code == 0, result.output
    header, rows = read_csv(tmp_path / "x.csv")
    assert "staircase" not in header[1] and "staircase" in header[2]
    smooth, stairs = column(rows, 1), column(rows, 2)
    assert smooth == pytest.approx([exponential(k) for k in range(200)], rel=1e-12)
    assert stairs == pytest.approx([exponential(k, staircase=True) for k in range(200)], rel=1e-12)
    assert stairs[9] == 0.5 and stairs[10] == pytest.approx(0.45, rel=1e-12)
    assert smooth[5] == pytest.approx(0.5 * 0.9**0.5, rel=1e-12)


def test_options_before_the_first_type_are_shared_and_later_ones_win(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "--lr",
        "0.2",
        "--decay-rate",
        "0.5",
        "--type",
        "exponential",
        "--type",
        "exponential",
        "--decay-rate",
        "0.8",
        "--out",
        "x.png",
        "--csv",
        "x.csv",
    )
    assert result.exit_code == 0, result.output
    _, rows = read_csv(tmp_path / "x.csv")
    assert column(rows, 1) == pytest.approx([0.2 * 0.5 ** (k / 10) for k in range(200)], rel=1e-12)
    assert column(rows, 2) == pytest.approx([0.2 * 0.8 ** (k / 10) for k in range(200)], rel=1e-12)


def test_csv_columns_follow_the_order_of_the_types(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "--type",
        "piecewise_constant",
        "--boundaries",
        "50,120",
        "--values",
        "0.1,0.05,0.01",
        "--type",
        "cosine",
        "--type",
        "constant",
        "--out",
        "o.png",
        "--csv",
        "o.csv",
    )
    assert result.exit_code == 0, result.output
    header, rows = read_csv(tmp_path / "o.csv")
    assert header[0] == "step"
    assert [h.split(" ")[0].rstrip(",") for h in header[1:]] == ["piecewise_constant", "cosine", "constant"]
    piecewise = column(rows, 1)
    # TF's rule: k <= 50 -> 0.1, 50 < k <= 120 -> 0.05, k > 120 -> 0.01
    assert piecewise[50] == 0.1 and piecewise[51] == 0.05
    assert piecewise[120] == 0.05 and piecewise[121] == 0.01
    cosine = column(rows, 2)
    assert cosine == pytest.approx(
        [0.5 * 0.5 * (1 + math.cos(math.pi * min(k, 10) / 10)) for k in range(200)], rel=1e-12, abs=1e-15
    )
    assert column(rows, 3) == [0.5] * 200


def test_warmup_steps_scale_the_first_steps_linearly(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "--type",
        "constant",
        "--type",
        "exponential",
        "--warmup-steps",
        "5",
        "--out",
        "w.png",
        "--csv",
        "w.csv",
    )
    assert result.exit_code == 0, result.output
    header, rows = read_csv(tmp_path / "w.csv")
    assert "warmup" not in header[1] and "warmup=5" in header[2]
    assert column(rows, 1) == [0.5] * 200
    warm = column(rows, 2)
    assert warm[:5] == pytest.approx([exponential(k) * k / 5 for k in range(5)], rel=1e-12)
    assert warm[0] == 0.0
    assert warm[5:] == pytest.approx([exponential(k) for k in range(5, 200)], rel=1e-12)


def test_seed_fixes_the_noise(tmp_path: Path) -> None:
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        args = ("--type", "noisy_linear_cosine", "--seed", seed, "--out", f"{name}.png")
        assert run(tmp_path, *args, "--csv", f"{name}.csv").exit_code == 0
    a, b, c = (read_csv(tmp_path / f"{n}.csv")[1] for n in "abc")
    assert a == b and a != c


# --- --config, --unit, --log, default --out ------------------------------------------------------


def test_config_draws_every_update_of_the_run(tmp_path: Path) -> None:
    result = run(tmp_path, "--config", str(ROOT / "configs" / "sgd.yaml"), "--out", "c.png", "--csv", "c.csv")
    assert result.exit_code == 0, result.output
    header, rows = read_csv(tmp_path / "c.csv")
    # 300 rows of dot.csv in batches of 32: 10 updates per epoch, 800 epochs
    assert len(rows) == 8000 and header[0] == "step" and header[1].startswith("sgd.yaml")
    assert column(rows, 0) == list(range(8000))
    assert set(column(rows, 1)) == {0.005}


def test_config_of_the_quadratic_decay_run(tmp_path: Path) -> None:
    config = ROOT / "configs" / "quadratic_decay.yaml"
    result = run(tmp_path, "--config", str(config), "--out", "q.png", "--csv", "q.csv")
    assert result.exit_code == 0, result.output
    _, rows = read_csv(tmp_path / "q.csv")
    assert column(rows, 1) == pytest.approx([0.1 * 0.99**k for k in range(40)], rel=1e-12)


def test_config_of_a_surface_counts_its_steps(tmp_path: Path) -> None:
    config = ROOT / "configs" / "rosenbrock.yaml"  # 1000 steps at adam's 0.05, one update each, no data
    result = run(tmp_path, "--config", str(config), "--out", "s.png", "--csv", "s.csv")
    assert result.exit_code == 0, result.output
    _, rows = read_csv(tmp_path / "s.csv")
    assert column(rows, 0) == list(range(1000)) and set(column(rows, 1)) == {0.05}


def test_unit_and_log_reach_the_figure(tmp_path: Path, drawn: list[dict[str, Any]]) -> None:
    args = ("--type", "exponential", "--warmup-steps", "3")  # a 0 at k = 0 must not break --log
    assert run(tmp_path, *args, "--unit", "epoch", "--log", "--out", "u.png").exit_code == 0
    assert run(tmp_path, *args, "--out", "v.png").exit_code == 0
    assert drawn[0]["xlabel"].startswith("epoch") and drawn[0]["log"] is True
    assert drawn[1]["xlabel"].startswith("step") and drawn[1]["log"] is False
    assert (tmp_path / "u.png").stat().st_size > 0 and (tmp_path / "v.png").stat().st_size > 0


def test_default_out_is_a_timestamped_file_under_runs_root(tmp_path: Path) -> None:
    first = run(tmp_path, "--type", "cosine", "--runs-root", "rr")
    second = run(tmp_path, "--type", "cosine", "--runs-root", "rr")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    files = pngs(tmp_path / "rr")
    assert len(files) == 2  # a second run in the same second does not overwrite the first
    for result in (first, second):
        match = re.fullmatch(r"wrote (\S+\.png)\n", result.output)
        assert match, result.output
        path = Path(match.group(1))
        assert path.parent == Path("rr") and (tmp_path / path).is_file()
        assert re.fullmatch(r"\d{8}-\d{6}-lr-cosine(-\d+)?\.png", path.name)


# --- bad input: exit code 2, one line, nothing written -------------------------------------------

LIBRARY_ERRORS = [
    (["--decay-steps", "0"], "--decay-steps: must be > 0, got 0"),
    (["--type", "cosine", "--decay-steps", "-3"], "--decay-steps: must be > 0, got -3"),
    (["--type", "exponential", "--type", "exponential", "--decay-steps", "0"], "--decay-steps: must be > 0"),
    (
        ["--type", "piecewise_constant", "--boundaries", "120,50", "--values", "0.1,0.05,0.01"],
        "--boundaries: must be strictly increasing, got [120.0, 50.0]",
    ),
    (
        ["--type", "piecewise_constant", "--boundaries", "50,50", "--values", "0.1,0.05,0.01"],
        "--boundaries: must be strictly increasing, got [50.0, 50.0]",
    ),
    (
        ["--type", "piecewise_constant", "--boundaries", "50,120", "--values", "0.1,0.05"],
        "--values: must have one more entry than --boundaries (3), got 2",
    ),
    (["--type", "piecewise_constant", "--boundaries", "50,120"], "needs --boundaries and --values"),
    (["--decay-rate", "-0.9"], "--decay-rate: must be >= 0, got -0.9"),
    (["--lr", "-0.5"], "--lr: must be >= 0, got -0.5"),
    (["--type", "polynomial", "--end-lr", "-1"], "--end-lr: must be >= 0, got -1"),
    (["--type", "polynomial", "--power", "0"], "--power: must be > 0, got 0"),
    (["--type", "cosine", "--alpha", "1.5"], "--alpha: must be in [0, 1], got 1.5"),
    (["--type", "cosine_restarts", "--first-decay-steps", "0"], "--first-decay-steps: must be > 0, got 0"),
    (["--warmup-steps", "-1"], "--warmup-steps: must be an integer >= 0, got -1"),
    (["--type", "expo"], "--type: unknown value 'expo'; did you mean 'exponential'? known: constant,"),
    (["--type", "exponentail"], "--type: unknown value 'exponentail'; did you mean 'exponential'?"),
    (["--type", "nosuch"], "--type: unknown value 'nosuch'; known: constant, exponential,"),
    (["--config", "missing.yaml"], "missing.yaml: no such config file"),
    (["--out", "nowhere/x.png"], "the folder nowhere does not exist"),
    (["--csv", "nowhere/x.csv"], "the folder nowhere does not exist"),
]


@pytest.mark.parametrize(("args", "message"), LIBRARY_ERRORS)
def test_bad_parameters_give_one_line_and_exit_code_2(tmp_path: Path, args: list[str], message: str) -> None:
    out = [] if "--out" in args else ["--out", "bad.png"]
    result = run(tmp_path, *args, *out, "--runs-root", "rr")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert message in lines[0]
    assert pngs(tmp_path) == [] and not (tmp_path / "rr").exists()
    assert list(tmp_path.glob("*.csv")) == []


def test_unknown_type_lists_every_type(tmp_path: Path) -> None:
    result = run(tmp_path, "--type", "expo", "--out", "bad.png")
    for name in (
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
    ):
        assert name in result.output


@pytest.mark.parametrize(
    "args",
    [["--steps", "0"], ["--decay-steps", "ten"], ["--boundaries", "50,abc"], ["--unit", "hour"]],
)
def test_unparsable_options_are_click_usage_errors(tmp_path: Path, args: list[str]) -> None:
    result = run(tmp_path, *args, "--out", "bad.png")
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output
    assert pngs(tmp_path) == []


def test_options_before_a_config_are_refused_not_ignored(tmp_path: Path) -> None:
    # a --lr before the first --type applies to every curve, and a config's curve takes its rate from the file
    result = CliRunner().invoke(
        cli,
        [
            "plot-lr",
            "--lr",
            "0.1",
            "--config",
            str(ROOT / "configs" / "sgd.yaml"),
            "--out",
            str(tmp_path / "x.png"),
        ],
    )
    assert result.exit_code == 2
    assert "Error: --lr before --config" in result.output
    assert "a config's schedule comes from the file" in result.output
    assert not list(tmp_path.iterdir())


def test_help_lists_the_types_and_shows_the_defaults() -> None:
    from nnopt_cli.core import schedules

    text = " ".join(CliRunner().invoke(cli, ["plot-lr", "--help"], terminal_width=400).output.split())
    for name in schedules.SCHEDULE_TYPES:
        assert name in text
    defaults = schedules.SCHEDULE_PARAMS
    for option, value in [
        ("--alpha", defaults["cosine"]["alpha"]),
        ("--beta", defaults["linear_cosine"]["beta"]),
        ("--num-periods", defaults["linear_cosine"]["num_periods"]),
        ("--t-mul", defaults["cosine_restarts"]["t_mul"]),
        ("--m-mul", defaults["cosine_restarts"]["m_mul"]),
        ("--variance-decay", defaults["noisy_linear_cosine"]["variance_decay"]),
    ]:
        assert re.search(rf"{option} FLOAT .*?\[default: {value:g}\]", text), option
    assert "[default: no-staircase]" in text and "[default: no-cycle]" in text
    assert re.search(r"--runs-root DIRECTORY Folder that receives the PNG", text)


def _not_files(tmp_path: Path) -> dict[str, Path]:
    """A FIFO, a socket and a folder, made in tmp_path: paths where a rename would replace no file."""
    import os
    import socket

    made = {
        "a FIFO (named pipe)": tmp_path / "pipe",
        "a socket": tmp_path / "sock",
        "a folder": tmp_path / "dir",
    }
    os.mkfifo(made["a FIFO (named pipe)"])
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(made["a socket"]))
    server.close()  # the socket file stays
    made["a folder"].mkdir()
    return made


@pytest.mark.parametrize("option", ["--out", "--csv"])
def test_an_output_that_is_not_a_regular_file_is_refused_and_left_alone(tmp_path: Path, option: str) -> None:
    for words, path in _not_files(tmp_path).items():
        before = path.lstat()
        args = [option, str(path)]
        if option == "--csv":
            args = ["--out", str(tmp_path / "ok.png"), *args]
        result = CliRunner().invoke(cli, ["plot-lr", *args, "--runs-root", str(tmp_path / "r")])
        assert result.exit_code == 2, result.output
        if words != "a folder":  # a folder is click's to refuse (dir_okay=False)
            assert result.output == (
                f"Error: {option} {path}: {words}, not a regular file; give the path of a file (nnopt "
                "replaces nothing else)\n"
            )
        after = path.lstat()
        assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert not (tmp_path / "ok.png").exists() and not (tmp_path / "r").exists()


def test_the_atomic_write_never_renames_over_what_is_not_a_file(tmp_path: Path) -> None:
    # the last line of defence, for paths no option checked: the temporary file is removed, the FIFO kept
    from nnopt_cli.files import replacing

    pipe = _not_files(tmp_path)["a FIFO (named pipe)"]
    with pytest.raises(OSError, match="a FIFO \\(named pipe\\), not a regular file"), replacing(pipe) as f:
        f.write("x")
    assert pipe.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["dir", "pipe", "sock"]


def test_ctrl_c_while_drawing_leaves_no_empty_file_holding_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nnopt_cli.experiments import lrplot

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "lr_curves", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lrplot.run({}, [], steps=10, runs_root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_log_is_refused_for_rates_at_or_below_zero_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "n.png"
    args = ["plot-lr", "--type", "noisy_linear_cosine", "--log", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and not out.exists()
    (line,) = result.output.strip().splitlines()
    assert (
        "--log: noisy_linear_cosine" in line and "has 2 negative rates (lowest -0.00831316 at step 8)" in line
    )
    assert line.endswith("drop --log to see them")


def test_x_fraction_draws_schedules_of_different_lengths_over_the_same_width(
    tmp_path: Path, saved: list[Any]
) -> None:
    configs = Path(__file__).resolve().parent.parent / "configs"
    args = [
        "plot-lr",
        "--config",
        str(configs / "quadratic_decay.yaml"),
        "--config",
        str(configs / "adam.yaml"),
    ]
    result = CliRunner().invoke(cli, [*args, "--x", "fraction", "--out", str(tmp_path / "f.png")])
    assert result.exit_code == 0, result.output
    ax = saved[-1].axes[0]
    ends = [float(np.max(line.get_xdata())) for line in ax.lines if not line.get_label().startswith("_")]
    assert len(ends) == 2 and all(0.95 <= e < 1 for e in ends)  # 40 steps and 3,000 steps, side by side
    assert ax.get_xlim() == (-0.02, 1.02) and "fraction" in ax.get_xlabel()
