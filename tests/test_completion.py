"""Shell completion as the shell asks for it: a process started with Click's environment variables
(`_NNOPT_COMPLETE=bash_complete`, COMP_WORDS, COMP_CWORD), its answers, and the modules it imported.
Expected values come from the owners of what is completed: the registries, the keys' declarations, the
files in configs/ and the folders made here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nnopt_cli import config, data
from nnopt_cli.core import optimizers, schedules

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(
    p.relative_to(ROOT / "configs").as_posix()[: -len(".yaml")] for p in ROOT.glob("configs/**/*.yaml")
)
# Prints, after the answers, which heavy modules the completion imported.
PROGRAM = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('imported', *(m for m in ('matplotlib', 'numpy') if m in sys.modules)))\n"
    "from nnopt_cli.cli import main\n"
    "main()\n"
)


def complete(line: str, cwd: Path, shell: str = "bash") -> tuple[list[str], set[str]]:
    """The values the shell would be offered for the last word of `line` (a trailing space: a new word), as
    bash splits the line (at spaces and around `=` and `:`) or, for zsh, as whole words; and the heavy modules
    imported."""
    words = line.replace("=", " = ").replace(":", " : ").split() if shell == "bash" else line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "_NNOPT_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": " ".join(words),
        "COMP_CWORD": str(cword),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    lines = done.stdout.splitlines()
    imported = set(lines.pop().split()[1:])
    lines = [line for line in lines if line]  # no answer prints an empty line
    if shell == "bash":
        return [line.partition(",")[2] for line in lines], imported
    return lines[1::3], imported  # zsh: type, value, help


def test_set_completes_key_paths_from_the_declared_keys(tmp_path: Path) -> None:
    values, imported = complete("nnopt train adam --set opt", tmp_path)
    paths = [k.path for k in config.declared()]
    assert values == [f"{p}=" for p in paths if p.startswith("opt")]
    assert "optimizer.beta1=" in values and "optimizer.lr=" in values
    assert "matplotlib" not in imported


def test_set_completes_the_values_of_a_key_with_a_finite_set(tmp_path: Path) -> None:
    # bash replaces only what follows the `=`: the answers are the values alone
    values, imported = complete("nnopt train adam --set optimizer.name=", tmp_path)
    assert values == list(optimizers.names())
    values, _ = complete("nnopt train adam --set optimizer.name=ad", tmp_path)
    assert values == [n for n in optimizers.names() if n.startswith("ad")]
    values, _ = complete("nnopt train adam --set schedule.type=cos", tmp_path)
    assert values == [t for t in schedules.SCHEDULE_TYPES if t.startswith("cos")]
    values, _ = complete("nnopt train adam --set data.name=", tmp_path)
    assert values == list(data.DATA_SETS)
    values, _ = complete("nnopt train adam --set schedule.cycle=", tmp_path)  # a setting's flag
    assert sorted(values) == ["false", "true"]
    values, _ = complete("nnopt train adam --set optimizer.lr=", tmp_path)  # a number: nothing to offer
    assert values == []
    assert "matplotlib" not in imported


def test_zsh_gets_the_whole_word(tmp_path: Path) -> None:
    values, _ = complete("nnopt train adam --set optimizer.name=rms", tmp_path, shell="zsh")
    assert values == ["optimizer.name=rmsprop"]


def test_grid_completes_keys_and_the_next_value_of_a_list(tmp_path: Path) -> None:
    values, _ = complete("nnopt sweep l2 --grid regularizer.t", tmp_path)
    assert values == ["regularizer.type="]
    values, _ = complete("nnopt sweep l2 --grid optimizer.name=sgd,ada", tmp_path)
    assert values == [f"sgd,{n}" for n in optimizers.names() if n.startswith("ada")]


def test_a_config_completes_to_the_examples_and_yaml_files(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\n")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "sub").mkdir()
    values, imported = complete("nnopt train ", tmp_path)
    assert sorted(values) == sorted([*EXAMPLES, "mine.yaml", "sub/"])
    assert values[-2:] == ["mine.yaml", "sub/"]
    values, _ = complete("nnopt train iris/", tmp_path)
    assert sorted(values) == [e for e in EXAMPLES if e.startswith("iris/")]
    values, _ = complete("nnopt sweep m", tmp_path)
    assert sorted(values) == sorted([*(e for e in EXAMPLES if e.startswith("m")), "mine.yaml"])
    values, _ = complete("nnopt plot-lr --config quad", tmp_path)
    assert values == [e for e in EXAMPLES if e.startswith("quad")]
    values, _ = complete("nnopt train sub/", tmp_path)
    assert values == []
    (tmp_path / "sub" / "deep.yaml").write_text("")
    values, _ = complete("nnopt train sub/", tmp_path)
    assert values == ["sub/deep.yaml"]
    assert imported.isdisjoint({"matplotlib", "numpy"})


def test_compare_entries_are_optimizers_then_configs(tmp_path: Path) -> None:
    values, _ = complete("nnopt compare sgd ada", tmp_path)
    assert values == [n for n in optimizers.names() if n.startswith("ada")]  # adam is the optimizer here
    values, _ = complete("nnopt compare sgd ", tmp_path)
    assert values[: len(optimizers.names())] == list(optimizers.names())
    others = [e for e in EXAMPLES if e not in optimizers.names()]
    assert sorted(values[len(optimizers.names()) :]) == others and "iris/adam" in others


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_an_entry_with_settings_completes_its_optimizers_settings(tmp_path: Path, shell: str) -> None:
    own = list(optimizers.REGISTRY["sgdm"].settings)  # beta
    values, _ = complete("nnopt compare sgdm:", tmp_path, shell)
    # bash keeps what it typed up to the last `:` or `=`, zsh replaces the whole word
    typed = "" if shell == "bash" else "sgdm:"
    assert values == [f"{typed}{k}=" for k in ("lr", "decay", "clip_norm", "clip_value", *own)]
    values, _ = complete("nnopt compare sgdm:lr=0.1,", tmp_path, shell)
    typed = "0.1," if shell == "bash" else "sgdm:lr=0.1,"  # bash does not break at `,`
    assert values == [f"{typed}{k}=" for k in ("decay", "clip_norm", "clip_value", *own)]
    values, _ = complete("nnopt compare momentum:nesterov=t", tmp_path, shell)
    assert values == (["true"] if shell == "bash" else ["momentum:nesterov=true"])


@pytest.mark.parametrize(
    "command", ["nnopt show ", "nnopt replot ", "nnopt train --resume ", "nnopt overlay "]
)
def test_a_run_completes_to_the_folders_under_the_runs_root(tmp_path: Path, command: str) -> None:
    for name in ("20261201-101010-l2", "20261202-090000-adam", ".hidden"):
        (tmp_path / "runs" / name).mkdir(parents=True)
    values, imported = complete(command, tmp_path)
    assert values == ["20261202-090000-adam", "20261201-101010-l2"]
    values, _ = complete(command + "20261201", tmp_path)
    assert values == ["20261201-101010-l2"]
    assert imported.isdisjoint({"matplotlib", "numpy"})


def test_a_run_under_another_runs_root(tmp_path: Path) -> None:
    (tmp_path / "elsewhere" / "20261203-000000-sgd").mkdir(parents=True)
    values, _ = complete("nnopt show --runs-root elsewhere 2026", tmp_path)
    assert values == ["20261203-000000-sgd"]


def source(shell: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "_NNOPT_COMPLETE": f"{shell}_source"}
    return subprocess.run(
        [sys.executable, "-m", "nnopt_cli"], env=env, capture_output=True, text=True, check=True
    ).stdout


def test_the_scripts_add_no_space_after_a_key_or_a_folder() -> None:
    bash = source("bash")
    assert "complete -o nosort -F _nnopt_completion nnopt" in bash
    assert "[[ $value == *[=/] ]] && compopt -o nospace" in bash
    zsh = source("zsh")
    assert "compdef _nnopt_completion nnopt" in zsh
    assert 'if [[ "$key" == *[=/] ]]; then' in zsh
    assert "compadd -U -S '' -V unsorted -a completions_nospace" in zsh


@pytest.mark.skipif(shutil.which("zsh") is None, reason="needs zsh")
def test_the_zsh_script_is_valid_zsh(tmp_path: Path) -> None:
    (tmp_path / "nnopt.zsh").write_text(source("zsh"))
    subprocess.run(["zsh", "-n", str(tmp_path / "nnopt.zsh")], check=True)


def test_every_key_with_choices_accepts_each_and_refuses_others() -> None:
    with_choices = {k.path: k.choices() for k in config.declared() if k.choices()}
    assert with_choices["optimizer.name"] == optimizers.names()
    assert with_choices["schedule.type"] == schedules.SCHEDULE_TYPES
    assert "optimizer.lr" not in with_choices and "model.hidden" not in with_choices
    for path, choices in with_choices.items():
        key = config.by_path()[path]
        if key.setting:  # checked with its row: a flag, by its default
            assert isinstance(key.default, bool) and set(choices) == {True, False}
            continue
        for value in choices:
            assert key.check(value) == value


def test_the_readme_gives_the_lines_that_turn_completion_on() -> None:
    readme = (ROOT / "README.md").read_text()
    for shell in ("bash", "zsh", "fish"):
        assert "_NNOPT_COMPLETE" in source(shell), shell
        assert f"_NNOPT_COMPLETE={shell}_source nnopt" in readme, shell


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_itself_runs_the_script_and_gets_the_values(tmp_path: Path) -> None:
    """The script `eval "$(_NNOPT_COMPLETE=bash_source nnopt)"` installs, called as bash calls it for
    `nnopt train adam --set optimizer.name=ad<TAB>` (bash breaks the word at `=`): COMPREPLY holds what
    replaces the `ad`."""
    shim = tmp_path / "bin" / "nnopt"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m nnopt_cli "$@"\n')
    shim.chmod(0o755)
    program = (
        'eval "$(_NNOPT_COMPLETE=bash_source nnopt)"\n'
        "COMP_WORDS=(nnopt train adam --set optimizer.name = ad); COMP_CWORD=6\n"
        "_nnopt_completion nnopt 2>/dev/null\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", program], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.stdout.split() == [n for n in optimizers.names() if n.startswith("ad")]
