"""The grid of `nnopt sweep`: parsing --grid, crossing with seeds, resolving and refusing points."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from nnopt_cli import config as config_mod
from nnopt_cli.config import grid

ROOT = Path(__file__).resolve().parent.parent

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_comma_list_of_yaml_values():
    g = grid.parse("optimizer.lr=0.001,0.01,0.1")
    assert g.key == "optimizer.lr"
    assert g.values == (0.001, 0.01, 0.1)
    assert g.numeric and not g.log
    assert grid.parse("optimizer.name=sgd, adam").values == ("sgd", "adam")
    assert grid.parse("ema.decay=null,0.99").values == (None, 0.99)


def test_exponent_without_a_dot_is_a_number():
    # YAML 1.1 reads 1e-3 as text; the config takes it as a number, and so does the grid
    g = grid.parse("optimizer.lr=1e-3,1e-2")
    assert g.values == (0.001, 0.01)
    assert g.numeric


def test_brackets_keep_their_commas():
    g = grid.parse("model.hidden=[16,8],[32], 4")
    assert g.values == ([16, 8], [32], 4)
    assert g.texts == ("[16,8]", "[32]", "4")


def test_log_spaced_range_hits_both_ends_and_is_geometric():
    g = grid.parse("optimizer.lr=1e-3:1:13log")
    assert g.log and len(g.values) == 13
    assert g.values[0] == 0.001 and g.values[-1] == 1.0
    for i, v in enumerate(g.values):
        # 10^(−3 + i/4), rounded to 12 significant digits: within half a unit of the 12th digit
        assert math.isclose(v, 10 ** (-3 + i / 4), rel_tol=1e-11)
        assert float(f"{v:.12g}") == v


def test_linear_range_and_integer_range():
    g = grid.parse("regularizer.scale=0:0.1:5")
    assert g.values == (0.0, 0.025, 0.05, 0.075, 0.1)  # rounded to 12 significant digits
    ints = grid.parse("data.batch_size=8:64:8")
    assert ints.values == (8, 16, 24, 32, 40, 48, 56, 64)
    assert all(type(v) is int for v in ints.values)
    assert grid.parse("optimizer.lr=0.5:0.5:1").values == (0.5,)


def test_texts_read_back_as_the_same_values():
    g = grid.parse("optimizer.lr=1e-3:1:7log")
    for value, text in zip(g.values, g.texts, strict=True):
        assert float(config_mod.parse_set(f"x={text}")[1]) == value


@pytest.mark.parametrize(
    "option, words",
    [
        ("optimizer.lr", "expected KEY=VALUES"),
        ("=0.1", "expected KEY=VALUES"),
        ("optimizer.lr=", "an empty value"),
        ("optimizer.lr=0.1,,0.2", "an empty value"),
        ("optimizer..lr=0.1", "not a key path"),
        ("optimizer.lr=0:1:3log", "needs START and STOP > 0"),
        ("optimizer.lr=a:1:3", "must be numbers"),
        ("optimizer.lr=1:2:0", "at least 1"),
    ],
)
def test_malformed_grids_are_one_line(option, words):
    with pytest.raises(grid.GridError) as info:
        grid.parse(option)
    message = str(info.value)
    assert message.startswith("--grid ") and words in message and "\n" not in message


def test_plan_is_the_cross_product_with_every_seed_last_grid_fastest():
    plan = grid.plan(
        CONFIGS / "l2.yaml",
        ["optimizer.name=sgd,adam", "optimizer.lr=0.01,0.1,0.5"],
        seeds=2,
    )
    assert plan.cells == 6 and plan.seeds == (0, 1)
    assert len(plan.points) == 12
    combos = [(p.values, p.seed) for p in plan.points]
    assert combos[:4] == [(("sgd", 0.01), 0), (("sgd", 0.01), 1), (("sgd", 0.1), 0), (("sgd", 0.1), 1)]
    assert combos[-1] == (("adam", 0.5), 1)
    assert [p.index for p in plan.points] == list(range(12))


def test_every_point_is_the_config_train_would_resolve():
    sets = ("train.epochs=30", "regularizer.scale=0.01")
    plan = grid.plan(
        CONFIGS / "l2.yaml", ["optimizer.name=sgdm,adam", "optimizer.lr=1e-3:1e-1:3log"], sets=sets
    )
    for p in plan.points:
        texts = [
            f"optimizer.name={p.values[0]}",
            f"optimizer.lr={grid.yaml_text(p.values[1])}",
            f"seed={p.seed}",
        ]
        assert p.config == config_mod.load(CONFIGS / "l2.yaml", [*sets, *texts])


def test_seed_grid_and_base_seed():
    plan = grid.plan(CONFIGS / "l2.yaml", ["optimizer.lr=0.1", "seed=3,7"])
    assert plan.seeds == (3, 7) and [p.config.seed for p in plan.points] == [3, 7]
    shifted = grid.plan(CONFIGS / "l2.yaml", ["optimizer.lr=0.1"], sets=["seed=5"], seeds=3)
    assert shifted.seeds == (5, 6, 7)


@pytest.mark.parametrize(
    "options, kwargs, words",
    [
        ([], {}, "at least one --grid"),
        (["seed=1,2"], {}, "besides seed"),
        (["optimizer.lr=0.1", "optimizer.lr=0.2"], {}, "given twice"),
        (["optimizer.lr=0.1", "seed=1"], {"seeds": 2}, "use one of them"),
        (["optimizer.lr=0.1"], {"sets": ["optimizer.lr=0.2"]}, "also fixed by --set"),
        (["optimizer.lr=0.1,0.2,0.3"], {"seeds": 5, "max_runs": 10}, "15 runs, more than --max-runs 10"),
        (["optimizer.lr=0.1,-1"], {}, "--grid optimizer.lr=-1"),
        (["optimizer.lrr=0.1"], {}, "did you mean 'lr'"),
        (["optimizer.name=sgd,adamm"], {}, "--grid optimizer.name=adamm"),
        (["seed=1,-2", "optimizer.lr=0.1"], {}, "seeds must be integers >= 0"),
    ],
)
def test_plans_refused_with_one_line(options, kwargs, words):
    with pytest.raises((grid.GridError, config_mod.ConfigError)) as info:
        grid.plan(CONFIGS / "l2.yaml", options, **kwargs)
    message = str(info.value)
    assert words in message, message
    assert "\n" not in message


def test_a_point_refused_for_a_key_of_the_file_names_the_point(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("optimizer:\n  name: adam\n  beta1: 0.8\ntrain:\n  epochs: 5\n")
    with pytest.raises(grid.GridError) as info:
        grid.plan(base, ["optimizer.lr=0.1,-1"])
    assert str(info.value).startswith("--grid optimizer.lr=-1: ")


def test_a_key_of_the_file_a_grid_value_switches_off_is_dropped_and_listed(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("optimizer:\n  name: adam\n  beta1: 0.8\ntrain:\n  epochs: 5\n")
    plan = grid.plan(base, ["optimizer.name=adam,sgd"], seeds=2)
    assert plan.dropped == {"optimizer.beta1": {"value": 0.8, "runs": 2}}
    assert [p.config.optimizer_params.get("beta1") for p in plan.points] == [0.8, 0.8, None, None]


@pytest.mark.parametrize(
    ("options", "sets", "message"),
    [
        (
            ["optimizer.lr=1e-3:1:13log", "regularizer.scale=0,0.01,0.03"],
            [],
            "--grid regularizer.scale: regularizer.scale has no effect while regularizer.type is none; "
            "set regularizer.type to l1 or l2",
        ),
        (
            ["optimizer.name=sgd,sgdm"],
            ["optimizer.beta1=0.5"],
            "--set optimizer.beta1=0.5: optimizer.beta1 has no effect while optimizer.name is sgd; "
            "set optimizer.name to adam",
        ),
        (["optimizer.lr=0.1,0.2"], ["data.noise=0.2"], "--set data.noise=0.2: data.noise has no effect"),
    ],
)
def test_a_key_of_no_effect_on_any_run_is_refused(options, sets, message):
    with pytest.raises(grid.GridError) as info:
        grid.plan(ROOT / "configs" / "iris" / "sgd.yaml", options, sets=sets)
    assert str(info.value) == message or str(info.value).startswith(message)


def test_a_set_key_some_grid_value_switches_on_is_kept_where_it_counts():
    plan = grid.plan(
        ROOT / "configs" / "sgd.yaml", ["regularizer.type=none,l2"], sets=["regularizer.scale=0.5"]
    )
    assert [p.config.reg_scale for p in plan.points] == [0.03, 0.5]
    assert plan.dropped == {"regularizer.scale": {"value": 0.5, "runs": 1}}


def test_labels_and_log_axes():
    assert grid.parse("optimizer.lr=0.001,0.003,0.1").spans_decades()
    assert not grid.parse("optimizer.lr=0.01,0.02").spans_decades()
    assert not grid.parse("optimizer.name=sgd,adam").spans_decades()
    assert grid.parse("optimizer.lr=0.0017782794100389228").labels == ("0.00178",)
    assert grid.parse("optimizer.lr=1e-3:1:13log").texts[1] == "0.00177827941004"


@pytest.mark.parametrize(
    "option, words",
    [
        (
            "optimizer.lr=0.1,0.1",
            "--grid 'optimizer.lr=0.1,0.1': the value 0.1 is given twice (values 1 and 2)",
        ),
        ("optimizer.lr=0.1,1e-1", "the value 0.1 is given twice"),
        ("optimizer.lr=1,1.0", "the value 1.0 is given twice"),
        ("model.hidden=[16,8],[32],[16, 8]", "the value [16, 8] is given twice (values 1 and 3)"),
        ("optimizer.name=sgd,adam,sgd", "the value sgd is given twice"),
        ("seed=3,3", "the value 3 is given twice"),
        ("optimizer.lr=0.1:0.1000000000001:3", "rounded to 12 significant digits"),
    ],
)
def test_a_value_given_twice_is_refused_not_run_as_two_seeds_of_one_cell(option, words):
    with pytest.raises(grid.GridError) as info:
        grid.parse(option)
    assert words in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_a_grid_value_that_makes_the_run_another_kind_is_refused(tmp_path):
    with pytest.raises(grid.GridError) as info:
        grid.plan(CONFIGS / "l2.yaml", ["model.type=mlp,quadratic"])
    assert str(info.value).startswith("--grid model.type=quadratic: a sweep's runs are all networks")


def test_a_relative_data_path_of_a_grid_value_is_taken_as_set_takes_it(tmp_path, monkeypatch):
    # the config lives in one folder, the command runs in another: a --grid value is typed on the command
    # line, so it is read from the current folder, exactly as `nnopt train --set data.path=...`
    here, there = tmp_path / "here", tmp_path / "there"
    for folder in (here, there):
        (folder / "data").mkdir(parents=True)
    rows = "a,b,y\n" + "".join(f"{i},{-i},{i % 2}\n" for i in range(8))
    (here / "data" / "good.csv").write_text(rows)
    (there / "data" / "good.csv").write_text(rows.replace("a,b", "c,d"))
    base = there / "base.yaml"
    base.write_text("data: {path: data/good.csv}\ntrain: {epochs: 2}\n")
    monkeypatch.chdir(here)
    plan = grid.plan(base, ["data.path=data/good.csv", "optimizer.lr=0.1,0.2"])
    want = config_mod.load(base, ["data.path=data/good.csv", "optimizer.lr=0.1", "seed=0"])
    assert plan.points[0].config == want
    assert plan.points[0].config.data_path == str((here / "data" / "good.csv").resolve())
