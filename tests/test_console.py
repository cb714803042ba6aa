"""What the terminal shows: progress lines in a pipe, the result table, the comparison table."""

from __future__ import annotations

import functools
import io
import math
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from rich.console import Console

from nnopt_cli import config
from nnopt_cli.cli import cli, console
from nnopt_cli.core import loop
from nnopt_cli.experiments import compare


def history(**kw: object) -> loop.History:
    h = loop.History(config=config.from_dict({}), steps_per_epoch=10)
    for key, value in kw.items():
        setattr(h, key, value)
    return h


def test_progress_lines_every_n_epochs_in_a_pipe() -> None:
    out = console.console(io.StringIO())
    h = history(epoch=[1], loss=[0.5], accuracy=[0.9], lr=[0.1])
    with console.EpochReporter("run", 4, every=2, out=out) as report:
        for epoch in range(1, 5):
            report(epoch, [h])
    lines = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines == [f"epoch {e}/4  loss 0.5  accuracy 90.00%  lr 0.1" for e in (2, 4)]


def test_a_diverged_run_shows_no_accuracy() -> None:
    out = console.console(io.StringIO())
    h = history(
        epoch=[1], loss=[math.nan], accuracy=[math.nan], lr=[0.1], status="diverged", diverged_epoch=1
    )
    with console.EpochReporter("run", 9, every=5, out=out) as report:
        report(1, [h])
    assert out.file.getvalue() == "epoch 1/9  loss nan  accuracy –  lr 0.1\n"  # type: ignore[attr-defined]


def test_result_table_formats_and_skips_missing_keys() -> None:
    out = console.console(io.StringIO())
    out.print(
        console.result_table({"status": "completed", "final_accuracy": 0.9333, "final_loss": None}, "runs/x")
    )
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "93.33%" in text and "n/a" in text and "runs/x" in text and "training time" not in text


def test_compare_table_marks_the_diverged_entry() -> None:
    c = config.from_dict({})
    ok = history(loss=[1.0, 0.5], accuracy=[0.5, 0.75], status="completed")
    wild = history(loss=[1.0, math.nan], accuracy=[0.5, math.nan], status="diverged")
    rows = compare.summarize([compare.Entry("sgd", c), compare.Entry("adam", c)], [ok, wild])
    out = console.console(io.StringIO())
    out.print(console.compare_table(rows, seeds=1))
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "(diverged)" in text and "75.00%" in text and "–" in text


def test_an_entry_with_a_diverged_seed_is_never_the_green_best() -> None:
    # sgd: one seed diverged, the other ends at 0.05; adam: both seeds survive, 0.1 and 0.2 (mean 0.15).
    # sgd's 0.05 is a mean of one seed of two: adam's 0.15 is the column's best
    c = config.from_dict({})
    sgd = [
        history(loss=[1.0, 0.05], accuracy=[0.5, 0.75], status="completed"),
        history(loss=[1.0, math.inf], accuracy=[0.5, math.nan], status="diverged"),
    ]
    adam = [history(loss=[1.0, v], accuracy=[0.5, 0.75], status="completed") for v in (0.1, 0.2)]
    entries = [
        compare.Entry("sgd", c),
        compare.Entry("sgd", c),
        compare.Entry("adam", c),
        compare.Entry("adam", c),
    ]
    rows = compare.summarize(entries, [*sgd, *adam])
    table = console.compare_table(rows, seeds=2)
    headers = [str(col.header) for col in table.columns]
    loss = [str(cell) for cell in table.columns[headers.index("final\nloss")]._cells]
    assert loss[0] == "0.05 ± 0"
    assert loss[1] == "[bold green]0.15 ± 0.05[/]"
    assert "(1/2 diverged)" in str(table.columns[0]._cells[0])


def run(name: str, epochs: int, seed: int = 0, **kw: object) -> loop.History:
    """A run of `epochs` planned epochs, as a comparison's entry `name` with `seed`."""
    c = config.from_dict({"name": name, "seed": seed, "train": {"epochs": epochs}})
    h = loop.History(config=c, steps_per_epoch=10)
    for key, value in kw.items():
        setattr(h, key, value)
    return h


def report_groups(out: Any, groups: list[list[loop.History]], *, seeds: int, every: int) -> None:
    """Reports the groups one after the other, as experiment.train_groups calls back, each run at a loss
    of 1/epoch (and its seed's tenth added)."""
    name_of = functools.partial(compare.run_name, seeds=seeds)
    with console.GroupsReporter("compare", name_of, every=every, out=out) as report:
        for group in groups:
            for epoch in range(1, group[0].config.epochs + 1):
                for h in group:
                    h.epoch, h.lr, h.accuracy = [epoch], [0.1], [0.9]
                    h.loss = [1 / epoch + h.config.seed / 10]
                report(epoch, group)


def test_compare_lines_count_each_entrys_own_epochs_and_end_with_its_last() -> None:
    out = console.console(io.StringIO())
    report_groups(out, [[run("adam", 300)], [run("rmsprop", 150)]], seeds=1, every=100)
    assert out.file.getvalue().splitlines() == [  # type: ignore[attr-defined]
        "epoch 100/300  adam  loss 0.01  accuracy 90.00%  lr 0.1",
        "epoch 200/300  adam  loss 0.005  accuracy 90.00%  lr 0.1",
        "epoch 300/300  adam  loss 0.0033333  accuracy 90.00%  lr 0.1",
        "epoch 100/150  rmsprop  loss 0.01  accuracy 90.00%  lr 0.1",
        "epoch 150/150  rmsprop  loss 0.0066667  accuracy 90.00%  lr 0.1",
    ]


def test_compare_lines_tell_the_seeds_apart() -> None:
    out = console.console(io.StringIO())
    report_groups(out, [[run("adam", 2, seed=0), run("adam", 2, seed=1)]], seeds=2, every=1)
    assert out.file.getvalue().splitlines() == [  # type: ignore[attr-defined]
        "epoch 1/2  adam-seed0 1  adam-seed1 1.1",
        "epoch 2/2  adam-seed0 0.5  adam-seed1 0.6",
    ]


def test_compare_bars_one_per_group_with_its_own_length_and_seeds() -> None:
    out = Console(file=io.StringIO(), width=120, force_terminal=True, color_system=None)
    groups = [
        [run("adam", 3, seed=0), run("adam", 3, seed=1)],
        [run("rmsprop", 2, seed=0), run("rmsprop", 2, 1)],
    ]
    report_groups(out, groups, seeds=2, every=100)
    # the last redraw of the bars, without the cursor moves
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.file.getvalue().rpartition("\r")[2])  # type: ignore[attr-defined]
    lines = [" ".join(line.split()) for line in screen.splitlines() if line.strip()]
    assert len(lines) == 2
    assert lines[-2].startswith("adam (2 seeds) ━") and lines[-2].endswith(
        "3/3 epochs 0:00:00 seed0 0.333 seed1 0.433"
    )
    assert lines[-1].startswith("rmsprop (2 seeds) ━")
    assert lines[-1].endswith("2/2 epochs 0:00:00 seed0 0.5 seed1 0.6")


def test_compare_prints_each_entrys_own_epochs_last_line_and_seeds(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("train: {epochs: 5, log_every: 2}\n")
    (tmp_path / "short.yaml").write_text(
        "train: {epochs: 3, log_every: 2}\noptimizer: {name: adam, lr: 0.01}\n"
    )
    args = ["compare", "sgd", str(tmp_path / "short.yaml"), "--config", str(tmp_path / "base.yaml")]
    result = CliRunner().invoke(cli, [*args, "--seeds", "2", "--runs-root", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    progress = [line.split() for line in result.output.splitlines() if line.startswith("epoch ")]
    assert [(p[1], p[2], p[4]) for p in progress] == [
        ("2/5", "sgd-seed0", "sgd-seed1"),
        ("4/5", "sgd-seed0", "sgd-seed1"),
        ("5/5", "sgd-seed0", "sgd-seed1"),
        ("2/3", "short-seed0", "short-seed1"),
        ("3/3", "short-seed0", "short-seed1"),
    ]
