"""nnopt compare's library side: entries, the converged epoch, the table's rows and compare.csv."""

from __future__ import annotations

import math

import pytest

from nnopt_cli import compare, config, loop


def test_converged_epoch_by_its_definition() -> None:
    # decrease 10 → 0: within 1% (0.1) of the final value from epoch 4 on
    assert compare.converged_epoch([10.0, 5.0, 1.0, 0.05, 0.0]) == 4
    assert compare.converged_epoch([3.0, 3.0, 3.0]) == 1  # nothing to decrease
    assert compare.converged_epoch([10.0, 0.0, 5.0, 0.0]) == 4  # it left the band at epoch 3
    assert compare.converged_epoch([10.0, math.nan]) is None
    assert compare.converged_epoch([]) is None


def test_converged_epoch_with_a_target() -> None:
    assert compare.converged_epoch([1.0, 0.5, 0.2, 0.3], target=0.25) == 3
    assert compare.converged_epoch([1.0, 0.5], target=0.1) is None


def test_entries_share_the_base_and_name_themselves() -> None:
    base = config.from_dict({"optimizer": {"lr": 0.02}})
    entries = compare.build_entries(["sgd", "adam", "adam"], base, seeds=2)
    assert [e.name for e in entries] == ["sgd", "sgd", "adam", "adam", "adam-2", "adam-2"]
    assert [e.config.seed for e in entries] == [0, 1, 0, 1, 0, 1]
    assert all(e.config.lr == 0.02 for e in entries)


def test_unknown_entry_suggests_an_optimizer() -> None:
    with pytest.raises(
        config.ConfigError, match="'adma' is neither an optimizer nor a config file; did you mean 'adam'"
    ):
        compare.build_entries(["adma"], config.from_dict({}))


def test_rows_and_csv_leave_diverged_values_empty() -> None:
    c = config.from_dict({})
    done = loop.History(
        config=c, steps_per_epoch=10, loss=[1.0, 0.5], accuracy=[0.5, 0.75], status="completed"
    )
    wild = loop.History(
        config=c, steps_per_epoch=10, loss=[1.0, math.nan], accuracy=[0.5, math.nan], status="diverged"
    )
    entries = [compare.Entry("a", c), compare.Entry("b", c)]
    rows = compare.summarize(entries, [done, wild])
    columns = compare.csv_columns(rows, seeds=1)
    assert columns["name"] == ["a", "b"]
    assert columns["final_accuracy"] == [0.75, ""] and columns["final_loss"] == [0.5, ""]
    assert columns["converged_epoch"] == [2, ""]
    assert columns["status"] == ["completed", "diverged"]
