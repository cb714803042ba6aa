"""What the wheel carries, as pyproject.toml declares it: every package of nnopt_cli, and the repository's
configs/ (one copy) as the package data nnopt_cli/configs. CI (.ci/run) builds the wheel from the sdist and
from the tree, checks they are the same, and runs it from an empty folder."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_of_the_code_is_listed() -> None:
    code = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "nnopt_cli").rglob("__init__.py")}
    listed = {p for p in SETUPTOOLS["packages"] if not p.startswith("nnopt_cli.configs")}
    assert listed == code


def test_configs_is_mapped_into_the_package_with_every_folder_and_yaml_file() -> None:
    assert SETUPTOOLS["package-dir"] == {"nnopt_cli.configs": "configs"}
    folders = {p for p in (ROOT / "configs").rglob("*") if p.is_dir()} | {ROOT / "configs"}
    packages = {".".join(("nnopt_cli", *f.relative_to(ROOT).parts)) for f in folders}
    assert {p for p in SETUPTOOLS["packages"] if p.startswith("nnopt_cli.configs")} == packages
    assert all(SETUPTOOLS["package-data"][p] == ["*.yaml"] for p in packages)
    assert not list((ROOT / "configs").rglob("*.yml")), "a .yml example would not be shipped"


def test_no_second_copy_of_the_examples_in_the_tree() -> None:
    assert not (ROOT / "nnopt_cli" / "configs").exists()


def test_ci_runs_the_installed_wheel_from_an_empty_folder() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    for command in (
        "nnopt train adam",
        "nnopt compare iris/sgd iris/adam",
        "nnopt sweep l2 --grid optimizer.lr=0.01,0.1",
        "nnopt plot-lr --type polynomial --cycle",
        "nnopt examples --copy here",
    ):
        assert command in ci
    assert "python -m build" in ci and ".ci/same_wheel.py" in ci
