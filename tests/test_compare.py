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
        config.ConfigError, match="'adamm' is neither an optimizer nor a config file; did you mean 'adam'"
    ):
        compare.build_entries(["adamm"], config.from_dict({}))


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


@pytest.mark.parametrize("item", ["optimizer.name=rmsprop", "name=x"])
def test_a_set_that_would_rename_what_entries_train_is_refused(item: str) -> None:
    # every entry would train rmsprop while the table, compare.csv and the legend still said sgd and adam
    key = item.partition("=")[0]
    with pytest.raises(config.ConfigError, match=rf"^--set {key}: compare's entries choose the optimizer"):
        compare.build_entries(["sgd", "adam"], config.from_dict({}), sets=[item])


def test_a_set_an_entry_refuses_names_the_entry() -> None:
    # adam has beta1, sgd does not: the error says which entry refused it
    with pytest.raises(config.ConfigError) as info:
        compare.build_entries(["adam", "sgd"], config.from_dict({}), sets=["optimizer.beta1=0.5"])
    assert str(info.value).startswith("compare entry sgd: --set optimizer.beta1: unknown key")
