"""The README's promises: CI runs its test command, and the files it names exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = [line.strip() for line in README.splitlines() if line.startswith("    ") and "pytest" in line]
    assert commands, "the README names its test command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[0] in ci


def test_readme_opens_with_the_install_and_train_command() -> None:
    first = next(line.strip() for line in README.splitlines() if line.startswith("    "))
    # in a virtual environment: a system Python may refuse `pip install` outside one
    assert (
        first
        == "python3 -m venv .venv && . .venv/bin/activate && pip install . && nnopt train configs/l2.yaml"
    )


def test_files_the_readme_names_exist() -> None:
    for path in set(re.findall(r"\b((?:configs|benchmarks|tests)/[\w./-]+\.(?:yaml|png|py|json))", README)):
        assert (ROOT / path).exists(), path
