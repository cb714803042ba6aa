"""What nnopt says when it is used as a new user would: each message names the fix, whole, in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from nnopt_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SGD = str(ROOT / "configs" / "sgd.yaml")


def run(*args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env or None)
    return result.exit_code, result.output


def test_help_gives_each_command_s_description_whole_on_one_line() -> None:
    code, out = run("--help")
    commands = out.split("Commands:", 1)[1]
    assert code == 0 and "..." not in commands and "…" not in commands
    lines = commands.splitlines()
    for name, command in cli.commands.items():
        first = " ".join((command.help or "").split("\n\n")[0].split())
        assert any(line.split() == [name, *first.split()] for line in lines), (name, first)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("train", SGD, "--set", "epochs=100"),
            "--set epochs: unknown key; did you mean 'train.epochs' (or --epochs)?",
        ),
        (("sweep", SGD, "--grid", "lr=0.1,0.2"), "did you mean 'optimizer.lr' (or --lr)?"),
        (("train", SGD, "--set", "beta1=0.5"), "did you mean 'optimizer.beta1'?"),
    ],
)
def test_a_leaf_name_alone_is_answered_with_its_full_key(
    args: tuple[str, ...], said: str, tmp_path: Path
) -> None:
    code, out = run(*args, "--runs-root", str(tmp_path))
    assert code == 2 and said in out and len(out.strip().splitlines()) == 1, out
    assert "known: name, seed" not in out


def test_a_range_without_its_count_says_how_a_range_is_written(tmp_path: Path) -> None:
    code, out = run("sweep", SGD, "--grid", "optimizer.lr=0.1:1", "--runs-root", str(tmp_path))
    assert code == 2 and len(out.strip().splitlines()) == 1
    assert "START:STOP:N" in out and "START:STOP:Nlog" in out and "must be a number" not in out


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_space_for_the_equals_sign_says_key_value(command: str, tmp_path: Path) -> None:
    option = "--set" if command == "train" else "--grid"
    code, out = run(command, SGD, option, "optimizer.lr", "0.1", "--runs-root", str(tmp_path))
    assert code == 2 and len(out.strip().splitlines()) == 1, out
    assert f"{option} takes KEY=VALUE as one word" in out and "unexpected extra argument" not in out


def test_runs_one_level_deeper_are_pointed_at(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    code, out = run("train", SGD, "--epochs", "1", "--runs-root", str(root / "week1"), "--quiet")
    assert code == 0
    code, out = run("runs", str(tmp_path))
    assert code == 0
    assert out.strip() == (
        f"no runs directly under {tmp_path}; runs are deeper, in {root / 'week1'} (1 run): "
        f"e.g. nnopt runs {root / 'week1'}"
    )
    shutil.rmtree(root)
    assert run("runs", str(tmp_path))[1].strip() == f"no runs under {tmp_path}"


def test_the_summary_lines_end_at_their_last_character(tmp_path: Path) -> None:
    code, out = run("train", SGD, "--epochs", "1", "--runs-root", str(tmp_path), "--quiet")
    assert code == 0 and "run folder" in out
    assert all(line == line.rstrip() for line in out.splitlines()), [
        line for line in out.splitlines() if line != line.rstrip()
    ]


@pytest.mark.parametrize("command", ["train", "compare", "sweep"])
def test_the_shortcuts_work_on_every_command_that_trains(command: str, tmp_path: Path) -> None:
    target = {"train": [SGD], "compare": ["sgd"], "sweep": [SGD, "--grid", "optimizer.name=sgd,adam"]}[
        command
    ]
    shortcuts = ["--epochs", "2", "--lr", "0.01", "--seed", "3"]
    code, out = run(command, *target, *shortcuts, "--runs-root", str(tmp_path), "--quiet")
    assert code == 0, out
    configs = [p.read_text() for p in tmp_path.rglob("config.yaml")]
    assert configs
    for text in configs:
        if "train:" in text and "sweep" not in text.split("\n", 1)[0]:
            assert "epochs: 2" in text and "seed: 3" in text and "lr: 0.01" in text, text
