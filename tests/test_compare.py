"""nnopt compare's library side: entries, the converged epoch, the table's rows and compare.csv."""

from __future__ import annotations

import math
from pathlib import Path

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


@pytest.mark.parametrize("item", ["optimizer.name=rmsprop", "name=x"])
def test_a_set_that_would_rename_what_entries_train_is_refused(item: str) -> None:
    # every entry would train rmsprop while the table, compare.csv and the legend still said sgd and adam
    key = item.partition("=")[0]
    with pytest.raises(config.ConfigError, match=rf"^--set {key}: compare's entries choose the optimizer"):
        compare.build_entries(["sgd", "adam"], config.from_dict({}), sets=[item])


def test_a_set_an_entry_refuses_names_the_entry() -> None:
    with pytest.raises(config.ConfigError) as info:
        compare.build_entries(["adam", "sgd"], config.from_dict({}), sets=["optimizer.lr=-1"])
    assert str(info.value).startswith("compare entry adam: --set optimizer.lr: must be > 0")


def test_a_set_some_entries_have_no_use_for_is_dropped_from_them_and_listed() -> None:
    # adam has beta1, sgd does not: sgd trains without it, and the comparison says so
    entries = compare.build_entries(["adam", "sgd"], config.from_dict({}), sets=["optimizer.beta1=0.5"])
    assert entries[0].config.optimizer_params["beta1"] == 0.5
    assert entries[1].config.optimizer_params == {}
    assert compare.dropped_keys(entries) == {"optimizer.beta1": {"value": 0.5, "entries": ["sgd"]}}


def test_a_set_no_entry_has_use_for_is_refused() -> None:
    with pytest.raises(config.ConfigError) as info:
        compare.build_entries(["sgd", "sgdm"], config.from_dict({}), sets=["optimizer.beta1=0.5"])
    assert str(info.value) == (
        "--set optimizer.beta1=0.5: optimizer.beta1 has no effect while optimizer.name is sgd; "
        "set optimizer.name to adam; no entry uses it (sgd, sgdm)"
    )


def test_the_base_settings_an_entry_replaces_are_listed(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("optimizer:\n  name: adam\n  lr: 0.02\n  beta1: 0.8\n")
    entries = compare.build_entries(["sgd", "adam"], config.load(base))
    assert compare.dropped_keys(entries) == {"optimizer.beta1": {"value": 0.8, "entries": ["sgd", "adam"]}}
