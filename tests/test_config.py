"""Config loading: defaults, overrides, and one-line errors that name the file, line and key."""

from __future__ import annotations

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
    assert (c.hidden, c.activation, c.init, c.loss) == (11, "relu", "normal", "mse")
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
    assert (c.lr, c.shuffle, c.hidden, c.name) == (0.02, True, 5, "x")


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
    assert error_of(path, ("model.hidden=0",)) == "--set model.hidden: must be an integer >= 1, got 0"
    assert "expected KEY.PATH=VALUE" in error_of(path, ("nonsense",))


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "none.yaml") == f"{tmp_path / 'none.yaml'}: no such config file"


def test_required_schedule_parameter(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "schedule:\n  type: exponential\n  decay_rate: 0.9\n"))
    assert "schedule.decay_steps: is required for schedule type 'exponential'" in message


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
