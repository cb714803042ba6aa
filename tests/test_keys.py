"""Config keys as the components declare them: the README's listing, every command's --help and the Config
agree with the declarations."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from nnopt_cli import config, keys
from nnopt_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _flat(data: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _listing() -> dict:
    section = README.split("## The config file", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    return _flat(yaml.safe_load(block))


def test_the_readme_lists_every_declared_key_with_its_default_and_nothing_else() -> None:
    listed = _listing()
    declared = {k.path: k.default for k in config.declared() if not k.setting}
    declared["name"] = listed.get("name")  # the file's stem; the listing shows an example
    assert set(listed) == set(declared), set(listed) ^ set(declared)
    for path, default in declared.items():
        assert listed[path] == default, f"{path}: README {listed[path]!r}, declared {default!r}"


def test_the_readme_names_every_setting_of_every_optimizer_and_schedule() -> None:
    # in the tables of "Optimizers" and "Learning-rate schedules": `beta1` (0.9) or `t_mul: 2.0`
    for key in config.declared():
        if key.setting:
            name = key.path.rpartition(".")[2]
            assert f"`{name}`" in README or f"`{name}:" in README, key.path


def test_the_listing_itself_is_a_valid_config() -> None:
    # a file that spells out every key with its default is valid, keys of no effect included (w0, init_std)
    section = README.split("## The config file", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert config.from_dict(yaml.safe_load(block)).to_dict()["model"]["w0"] == 5.0


def test_every_key_a_commands_help_names_is_declared() -> None:
    declared = {k.path for k in config.declared()} | {"name"}
    sections = {p.partition(".")[0] for p in declared}
    runner = CliRunner()
    commands = ["train", "compare", "sweep", "runs", "show", "replot", "plot-lr"]
    for command in commands:
        text = runner.invoke(cli, [command, "--help"], terminal_width=200).output
        for section, name in re.findall(r"\b([a-z]+)\.([a-z_0-9]+|\*)", text):
            if section not in sections or name in ("*", "png", "csv", "json", "yaml", "npz"):
                continue
            assert f"{section}.{name}" in declared, f"nnopt {command} --help: {section}.{name}"


def test_the_config_holds_one_field_per_declared_key() -> None:
    fields = {f.name for f in dataclasses.fields(config.Config)}
    own = {k.field for k in config.declared() if not k.setting}
    assert fields == own | {"name", "optimizer_params", "schedule_params", "source"}


def test_why_a_key_has_no_effect_says_what_would_make_it_count() -> None:
    key = keys.Key("regularizer.scale", 0.03, float, (keys.only("regularizer.type", "l1", "l2"),))
    assert key.applies({"regularizer.type": "l2"})
    assert key.why_not({"regularizer.type": "none"}) == (
        "regularizer.scale has no effect while regularizer.type is none; set regularizer.type to l1 or l2"
    )
    assert key.is_default(0.03) and not key.is_default(0.5)


def test_data_and_population_keys_are_read_from_the_declarations() -> None:
    c = config.from_dict({"data": {"name": "circle", "noise": 0.2}})
    assert c.data_key() == tuple(getattr(c, k.field) for k in config.declared() if k.data)
    changed = config.from_dict({"data": {"name": "circle", "noise": 0.2, "batch_size": 16}})
    assert changed.data_key() == c.data_key() and changed.population_key() != c.population_key()
