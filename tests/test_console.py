"""What the terminal shows: progress lines in a pipe, the result table, the comparison table."""

from __future__ import annotations

import io
import math

from nnopt_cli import config
from nnopt_cli.cli import console
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
