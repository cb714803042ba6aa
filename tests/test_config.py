"""Config loading: defaults, overrides, and one-line errors that name the file, line and key."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from nnopt_cli import config


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path, sets: tuple[str, ...] = ()) -> str:
    with pytest.raises(config.ConfigError) as err:
        config.load(path, sets)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_empty_file_gives_every_default(tmp_path: Path) -> None:
    c = config.load(write(tmp_path, "", "my-run.yaml"))
    assert c.name == "my-run"
    assert (c.hidden, c.activation, c.init, c.loss) == ((11,), "relu", "normal", "mse")
    assert (c.output, c.init_std) == ("linear", 0.1)
    assert (c.optimizer, c.lr, c.schedule, c.regularizer, c.ema_decay) == (
        "sgd",
        0.005,
        "constant",
        "none",
        None,
    )
    assert (c.batch_size, c.shuffle, c.epochs, c.data_path) == (32, False, 800, None)


def test_resolved_yaml_round_trips(tmp_path: Path) -> None:
    c = config.load(
        write(
            tmp_path,
            "name: a\noptimizer: {name: adam, lr: 0.01}\n"
            "schedule: {type: exponential, decay_steps: 10, decay_rate: 0.9}\nema: {decay: 0.99}\n",
        )
    )
    again = config.load(write(tmp_path, c.to_yaml(), "again.yaml"))
    assert again == c
    assert c.optimizer_params == {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}
    assert c.schedule_params["staircase"] is False


def test_set_overrides_and_parses_yaml_scalars(tmp_path: Path) -> None:
    path = write(tmp_path, "optimizer:\n  lr: 0.1\n")
    c = config.load(path, ("optimizer.lr=0.02", "data.shuffle=true", "model.hidden=5", "name=x"))
    assert (c.lr, c.shuffle, c.hidden, c.name) == (0.02, True, (5,), "x")


def test_unknown_key_names_file_line_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\noptimizer:\n  name: adam\n  bata1: 0.8\n")
    message = error_of(path)
    assert message.startswith(f"{path}, line 4: optimizer.bata1: unknown key; did you mean 'beta1'?")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "optimiser:\n  lr: 0.1\n"))
    assert "line 1: optimiser: unknown key; did you mean 'optimizer'?" in message


def test_wrong_type_and_range(tmp_path: Path) -> None:
    assert "line 2: data.batch_size: must be an integer >= 1, got 'many'" in error_of(
        write(tmp_path, "data:\n  batch_size: many\n")
    )
    assert "optimizer.lr" in error_of(write(tmp_path, "optimizer:\n  lr: -1\n"))
    assert "data.shuffle: must be true or false, got 'yes please'" in error_of(
        write(tmp_path, "data:\n  shuffle: yes please\n")
    )


def test_unknown_choice_lists_the_known(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "model:\n  activation: rellu\n"))
    assert "model.activation: unknown value 'rellu'; did you mean 'relu'?" in message
    assert "sigmoid, tanh, leaky_relu" in message


def test_malformed_yaml_has_a_line(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "name: a\noptimizer: [\n  lr: 1\n"))
    assert message.startswith(f"{tmp_path / 'c.yaml'}, line ")
    assert "malformed YAML" in message


def test_duplicate_key(tmp_path: Path) -> None:
    assert "line 3: seed: duplicate key (first on line 1)" in error_of(
        write(tmp_path, "seed: 1\nname: a\nseed: 2\n")
    )


def test_set_errors_name_the_option(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    assert error_of(path, ("train.epochs=0",)) == "--set train.epochs: must be an integer >= 1, got 0"
    assert error_of(path, ("schedule.type=cosine", "schedule.decay_steps=0")) == (
        "--set schedule.decay_steps: must be > 0, got 0"
    )
    assert "expected KEY.PATH=VALUE" in error_of(path, ("nonsense",))


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "none.yaml") == f"{tmp_path / 'none.yaml'}: no such config file"


def test_required_schedule_parameter(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "schedule:\n  type: exponential\n  decay_rate: 0.9\n"))
    assert (
        message
        == f"{tmp_path / 'c.yaml'}, line 1: schedule.decay_steps: is required by the exponential schedule"
    )


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    c = config.load(write(tmp_path, "data:\n  path: ../d.csv\n", "sub/c.yaml"))
    assert c.data_path == str((tmp_path / "d.csv").resolve())


@given(
    st.one_of(
        st.integers(-5, 5),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.text(max_size=5),
        st.none(),
        st.lists(st.integers(), max_size=2),
    )
)
def test_any_value_for_any_key_is_accepted_or_one_line(value: object) -> None:
    for key in (
        "seed",
        "data.batch_size",
        "model.hidden",
        "optimizer.lr",
        "regularizer.scale",
        "ema.decay",
        "train.epochs",
        "model.leaky_alpha",
        "model.hidden",
        "model.init_std",
        "model.output",
        "loss",
        "schedule.warmup_steps",
    ):
        section, _, leaf = key.rpartition(".")
        raw: dict[str, object] = {leaf: value} if not section else {section: {leaf: value}}
        try:
            config.from_dict(raw)
        except config.ConfigError as exc:
            assert "\n" not in str(exc)
            assert key in str(exc)


def test_configs_folder_all_load() -> None:
    root = Path(__file__).resolve().parent.parent / "configs"
    for path in sorted(root.glob("*.yaml")):
        config.load(path)
        assert yaml.safe_load(path.read_text())


def test_exponent_numbers_are_numbers(tmp_path: Path) -> None:
    # YAML 1.1 reads 1e-4 as text; nnopt reads it as the number everyone means
    c = config.load(
        write(tmp_path, "optimizer:\n  name: adam\n  lr: 1e-3\n  eps: 1E-8\n"), ("optimizer.decay=1e-4",)
    )
    assert (c.lr, c.optimizer_params["eps"], c.lr_decay) == (0.001, 1e-8, 0.0001)


# --- model.hidden, model.output, model.init_std, and the loss that goes with the output --------------


@pytest.mark.parametrize(
    ("text", "hidden", "written"),
    [
        ("11", (11,), 11),
        ("[]", (), []),
        ("[16, 8]", (16, 8), [16, 8]),
        ("[1e3, 4]", (1000, 4), [1000, 4]),  # a float that is an integer is a width
        ("3.0", (3,), 3),
        ("[7]", (7,), 7),  # one layer is written back as a number, as older configs have it
    ],
)
def test_hidden_widths(tmp_path: Path, text: str, hidden: tuple[int, ...], written: object) -> None:
    c = config.load(write(tmp_path, f"model:\n  hidden: {text}\n"))
    assert c.hidden == hidden
    assert c.to_dict()["model"]["hidden"] == written
    assert config.load(write(tmp_path, c.to_yaml(), "again.yaml")) == c


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "line 2: model.hidden: must be an integer >= 1 or a list of widths, got 0"),
        ("[0]", "line 2: model.hidden[0]: must be an integer >= 1, got 0"),
        ("[-3]", "line 2: model.hidden[0]: must be an integer >= 1, got -3"),
        ('"a"', "line 2: model.hidden: must be an integer >= 1 or a list of widths, got 'a'"),
        ("true", "line 2: model.hidden: must be an integer >= 1 or a list of widths, got true"),
        ("[11, 1.5]", "line 2: model.hidden[1]: must be an integer >= 1, got 1.5"),
        ('"11"', "got '11' (text, not a number: drop the quotes)"),
        ("{a: 1}", "line 2: model.hidden: must be an integer >= 1 or a list of widths, got {'a': 1}"),
        ("2e9", "line 2: model.hidden: must be at most 1000000000 units wide, got 2000000000.0"),
        ("[8, 1000000001]", "line 2: model.hidden[1]: must be at most 1000000000 units wide, got 1000000001"),
    ],
)
def test_bad_hidden_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, f"model:\n  hidden: {text}\nseed: 1\n")
    got = error_of(path)
    assert message in got
    assert got.startswith(str(path))


def test_output_init_and_init_std(tmp_path: Path) -> None:
    c = config.load(
        write(tmp_path, "model:\n  output: softmax\n  init: truncated_normal\n  init_std: 0.05\n")
    )
    assert (c.output, c.init, c.init_std) == ("softmax", "truncated_normal", 0.05)
    assert c.to_dict()["model"]["output"] == "softmax" and c.to_dict()["model"]["init_std"] == 0.05
    assert (
        "model.output: unknown value 'softmx'; did you mean 'softmax'? known: linear, sigmoid, softmax"
        in (error_of(write(tmp_path, "model:\n  output: softmx\n")))
    )
    for bad, problem in [
        ("0", "must be > 0, got 0"),
        ("-1", "must be > 0, got -1"),
        (".inf", "must be a finite number > 0, got inf"),
        ("true", "must be a number > 0, got true"),
    ]:
        assert error_of(write(tmp_path, f"model:\n  init_std: {bad}\n")).endswith(
            f"line 2: model.init_std: {problem}"
        )


@pytest.mark.parametrize("output", ["linear", "sigmoid", "softmax"])
@pytest.mark.parametrize("loss", ["mse", "bce", "ce"])
def test_loss_and_output_pairing(tmp_path: Path, loss: str, output: str) -> None:
    path = write(tmp_path, f"loss: {loss}\nmodel:\n  output: {output}\n")
    if loss == "mse" or output == "linear":
        c = config.load(path)
        assert (c.loss, c.output) == (loss, output)
        return
    # bce and ce take the logits: a sigmoid or softmax output before them would be applied twice
    assert error_of(path) == (
        f"{path}, line 1: loss: {loss} works on the logits and needs model.output: linear, got {output} "
        f"(use loss: mse with output: {output}, or {loss} with output: linear)"
    )


def test_pairing_error_names_the_set_option(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, ""), ("model.output=softmax", "loss=ce")).startswith(
        "--set loss: ce works on the logits and needs model.output: linear, got softmax"
    )


def test_unknown_loss_suggests(tmp_path: Path) -> None:
    assert "loss: unknown value 'cee'; did you mean 'ce'? known: mse, bce, ce" in error_of(
        write(tmp_path, "loss: cee\n")
    )


# --- errors of the library modules, placed by the key they carry -----------------------------------


def test_library_errors_are_placed_at_their_key(tmp_path: Path) -> None:
    path = write(tmp_path, "optimizer:\n  name: adam\n  beta1: 1.5\n")
    assert error_of(path) == f"{path}, line 3: optimizer.beta1: must be in [0, 1), got 1.5"
    text = "schedule:\n  type: piecewise_constant\n  boundaries: [10, 20]\n  values:\n    - 1\n    - -2\n"
    path = write(tmp_path, text)
    # an item of a list: the line of its list (the count is checked after the items)
    assert error_of(path) == f"{path}, line 4: schedule.values[1]: must be >= 0, got -2"
    path = write(tmp_path, "schedule:\n  type: piecewise_constant\n  boundaries: [10]\n  values: [1]\n")
    assert error_of(path) == (
        f"{path}, line 4: schedule.values: must have one more entry than schedule.boundaries (2), got 1"
    )
    assert error_of(write(tmp_path, "ema:\n  decay: 1\n")).endswith(
        "line 2: ema.decay: must be in [0, 1) or null (off), got 1"
    )


def test_quoted_numbers_get_a_hint(tmp_path: Path) -> None:
    for text, key in [
        ("optimizer:\n  lr: '0.1'\n", "optimizer.lr"),
        ("optimizer:\n  name: adam\n  eps: '1e-8'\n", "optimizer.eps"),
        ("schedule:\n  type: cosine\n  decay_steps: '100'\n", "schedule.decay_steps"),
        ("train:\n  epochs: '10'\n", "train.epochs"),
    ]:
        message = error_of(write(tmp_path, text))
        assert f"{key}: must be " in message and message.endswith("(text, not a number: drop the quotes)")


def test_optimizer_and_schedule_settings_are_checked_and_filled(tmp_path: Path) -> None:
    c = config.load(
        write(
            tmp_path,
            "optimizer:\n  name: momentum\n  momentum: 0\nschedule:\n  type: cosine\n  decay_steps: 50\n",
        )
    )
    assert c.optimizer_params == {"momentum": 0.0, "nesterov": False}
    assert type(c.optimizer_params["momentum"]) is float
    assert c.schedule_params == {"decay_steps": 50.0, "alpha": 0.0}


# --- values are shown as bounded excerpts; aliases cannot blow a document up --------------------


def test_long_values_are_shown_as_excerpts(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, f"name: [{', '.join(['1'] * 5000)}]\n"))
    assert len(message) < len(str(tmp_path)) + 200
    assert message.endswith("…")
    message = error_of(write(tmp_path, "optimizer:\n  lr: '" + "x" * 100_000 + "'\n"))
    assert len(message) < len(str(tmp_path)) + 200
    assert "…" in message
    message = error_of(write(tmp_path, "model:\n  " + "k" * 100_000 + ": 1\n"))
    assert len(message) < len(str(tmp_path)) + 400


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
name: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """A few hundred bytes that stand for 9**9 = 387 million strings: one line, at once."""
    assert len(BILLION_LAUGHS) < 400
    path = write(tmp_path, BILLION_LAUGHS)
    start = time.perf_counter()
    message = error_of(path)
    assert time.perf_counter() - start < 2.0
    assert message == f"{path}, line 9: name: YAML aliases expand this to more than 100000 values"


def test_alias_bomb_in_a_mapping_and_in_set(tmp_path: Path) -> None:
    levels = ["a: &a {x: 1, y: 1, z: 1, w: 1, v: 1, u: 1, t: 1, s: 1, r: 1}"]
    for i in range(1, 9):
        ref = f"*{chr(96 + i)}"
        levels.append(f"{chr(97 + i)}: &{chr(97 + i)} {{x: {ref}, y: {ref}, z: {ref}, w: {ref}, v: {ref}}}")
    start = time.perf_counter()
    message = error_of(write(tmp_path, "model:\n  " + "\n  ".join(levels) + "\n"))
    assert time.perf_counter() - start < 2.0
    # the key whose alias (*h, written above) expands too far
    assert message.endswith(", line 10: model.i.x: YAML aliases expand this to more than 100000 values")
    bomb = (
        "["
        + ", ".join(f"&{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]" for i in range(1, 9))
        + "]"
    )
    start = time.perf_counter()
    message = error_of(write(tmp_path, ""), (f"name=[&a [1, 1, 1, 1, 1, 1, 1, 1, 1], {bomb[1:]}",))
    assert time.perf_counter() - start < 2.0
    assert message == "--set name: YAML aliases expand this to more than 100000 values"


def test_aliases_within_the_bound_still_work(tmp_path: Path) -> None:
    path = write(tmp_path, "optimizer: &opt\n  name: adam\n  lr: 0.01\nschedule:\n  type: constant\n")
    assert config.load(path).optimizer == "adam"
    path = write(tmp_path, "model:\n  hidden: &w [8, 8]\nname: widths\n")
    assert config.load(path).hidden == (8, 8)


def test_a_section_made_by_set_is_blamed_on_the_set(tmp_path: Path) -> None:
    # `--set a.b.c.d=1` makes the sections a, a.b, a.b.c: the unknown key `a` came from the option, not
    # from the file
    path = tmp_path / "run.yaml"
    path.write_text("optimizer:\n  lr: 0.01\n")
    with pytest.raises(config.ConfigError) as info:
        config.load(path, ["a.b.c.d=1"])
    assert str(info.value).startswith("--set a.b.c.d: a: unknown key")
    with pytest.raises(config.ConfigError) as info:
        config.load(path, ["optimizer.foo.bar=1"])
    assert str(info.value).startswith("--set optimizer.foo.bar: optimizer.foo: unknown key")
    # a key the file wrote is still the file's
    path.write_text("a: 1\n")
    with pytest.raises(config.ConfigError, match=r"^.*run\.yaml, line 1: a: unknown key"):
        config.load(path)


CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("**/*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_reads_back_from_its_resolved_form(path: Path) -> None:
    # to_dict writes every key, those of no effect at their defaults: config.yaml of a run stays valid
    c = config.load(path)
    assert config.from_dict(c.to_dict(), name=c.name) == c


def test_keys_of_no_effect_at_their_default_are_accepted() -> None:
    c = config.from_dict(
        {
            "data": {"name": "iris", "noise": 0.0, "samples": 300, "path": None},
            "model": {"init": "he", "init_std": 0.1, "leaky_alpha": 0.01, "w0": 5.0, "hidden": [11]},
            "optimizer": {"name": "sgd", "beta1": 0.9, "eps": 1e-7},
            "regularizer": {"type": "none", "scale": 0.03},
            "train": {"steps": 40},
        }
    )
    assert c.optimizer_params == {} and c.reg_scale == 0.03


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"regularizer": {"scale": 0.5}},
            "regularizer.scale has no effect while regularizer.type is none; "
            "set regularizer.type to l1 or l2",
        ),
        (
            {"model": {"w0": 3.0}},
            "model.w0 has no effect while model.type is mlp; set model.type to quadratic",
        ),
        (
            {"train": {"steps": 5}},
            "train.steps has no effect while model.type is mlp; set model.type to quadratic or surface",
        ),
        (
            {"model": {"type": "quadratic", "hidden": 4}},
            "model.hidden has no effect while model.type is quadratic; set model.type to mlp",
        ),
        (
            {"data": {"name": "dot", "path": "x.csv"}},
            "data.path has no effect while data.name is dot; set data.name to csv",
        ),
        (
            {"schedule": {"type": "cosine", "decay_steps": 10, "decay_rate": 0.5}},
            "schedule.decay_rate has no effect while schedule.type is cosine; "
            "set schedule.type to exponential, natural_exp or inverse_time",
        ),
        ({"optimizer": {"lr": 0}}, "optimizer.lr: must be > 0, got 0"),
    ],
)
def test_a_key_of_no_effect_set_to_another_value_is_refused(raw: dict, message: str) -> None:
    with pytest.raises(config.ConfigError) as info:
        config.from_dict(raw)
    assert str(info.value).endswith(message)


def test_dropping_a_set_that_has_no_effect_reports_it(tmp_path: Path) -> None:
    path = write(tmp_path, "optimizer:\n  name: sgd\n")
    dropped: dict = {}
    c = config.load(path, ["optimizer.beta1=0.5", "optimizer.lr=0.1"], dropped=dropped)
    assert dropped == {"optimizer.beta1": 0.5} and c.lr == 0.1 and c.optimizer_params == {}
    with pytest.raises(config.ConfigError):  # without `dropped` it is refused
        config.load(path, ["optimizer.beta1=0.5"])


def test_a_folders_config_written_before_the_rule_reads_back_with_the_key_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "regularizer:\n  type: none\n  scale: 0.5\n")
    assert config.load(path, drop_all=True).reg_scale == 0.03


def test_an_unknown_setting_suggests_the_chosen_ones_or_else_any_types() -> None:
    with pytest.raises(
        config.ConfigError, match=r"schedule.warmup: unknown key; did you mean 'warmup_steps'"
    ):
        config.from_dict({}, ["schedule.warmup=3"])
    # constant has no decay_steps, exponential has: the typo is pointed at it, not at warmup_steps
    with pytest.raises(
        config.ConfigError, match=r"schedule.decay_step: unknown key; did you mean 'decay_steps'"
    ):
        config.from_dict({}, ["schedule.decay_step=3"])
