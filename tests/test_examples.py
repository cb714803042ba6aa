"""The shipped example configs: their names, what each teaches, a name on the command line, copying them
out. Expected values are read from the files in configs/ themselves."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from nnopt_cli import config, examples
from nnopt_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
SHIPPED = sorted(CONFIGS.rglob("*.yaml"))


def first_comment_line(path: Path) -> str:
    return path.read_text(encoding="utf-8").splitlines()[0].removeprefix("#").strip()


def name_of(path: Path) -> str:
    return path.relative_to(CONFIGS).as_posix().removesuffix(".yaml")


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Path]:
    """An empty current folder, as a user's own project."""
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(here)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir())


# --- names, summaries, resolution -------------------------------------------------------------------------


def test_the_examples_are_the_yaml_files_of_configs_by_their_path() -> None:
    assert examples.folder() == CONFIGS
    assert sorted(examples.names()) == sorted(name_of(p) for p in SHIPPED)
    assert "adam" in examples.names() and "iris/adam" in examples.names()
    assert all(examples.path(name_of(p)) == p for p in SHIPPED)
    assert examples.path("nosuch") is None


def test_each_example_says_in_its_first_comment_line_what_it_teaches() -> None:
    lines = {name_of(p): first_comment_line(p) for p in SHIPPED}
    assert all(p.read_text(encoding="utf-8").startswith("# ") for p in SHIPPED)
    assert {n: examples.summary(n) for n in examples.names()} == lines
    assert len(set(lines.values())) == len(lines), "two examples say the same"


def test_an_existing_path_always_wins_over_an_example(empty: Path) -> None:
    (empty / "adam").write_text("optimizer: {name: sgd}\n")
    assert examples.resolve("adam") == Path("adam")
    assert examples.resolve("l2") == CONFIGS / "l2.yaml"
    assert examples.resolve("iris/adam") == CONFIGS / "iris" / "adam.yaml"
    assert not examples.is_example("adam") and examples.is_example("iris/sgd")


def test_a_config_found_nowhere_names_the_nearest_files_and_examples(empty: Path) -> None:
    nowhere = r"^adma: no such config file or example; did you mean 'adam'\?$"
    with pytest.raises(examples.ExampleError, match=nowhere):
        examples.resolve("adma")
    # outside a checkout, the README's path finds its example
    with pytest.raises(examples.ExampleError, match=r"did you mean 'l2'\?"):
        examples.resolve("configs/l2.yaml")
    # in a checkout (issue 19): the file beside it first
    (empty / "configs").mkdir()
    (empty / "configs" / "l2.yaml").write_text("name: l2\n")
    with pytest.raises(examples.ExampleError, match=r"did you mean 'configs/l2.yaml' or 'l2'\?"):
        examples.resolve("configs/l2.yml")
    with pytest.raises(examples.ExampleError, match=r"the examples are adadelta, .*iris/sgdm$"):
        examples.resolve("zzzzzzzz")


# --- the commands take example names -----------------------------------------------------------------------


def test_train_runs_an_example_by_name_and_keeps_the_resolved_config(empty: Path) -> None:
    result = invoke("train", "adam", "--epochs", "2", "--quiet")
    assert result.exit_code == 0, result.output
    (folder,) = run_folders(empty / "runs")
    assert folder.name.endswith("-adam") and (folder / "summary.json").is_file()
    expected = config.load(CONFIGS / "adam.yaml", ["train.epochs=2"])
    assert yaml.safe_load((folder / "config.yaml").read_text()) == expected.to_dict()


def test_train_of_a_name_found_nowhere_is_one_line_exit_2(empty: Path) -> None:
    (empty / "configs").mkdir()
    (empty / "configs" / "l2.yaml").write_text((CONFIGS / "l2.yaml").read_text())
    result = invoke("train", "configs/l2.yml")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: configs/l2.yml: no such config file or example; did you mean 'configs/l2.yaml' or 'l2'?"
    ]
    assert not (empty / "runs").exists()


def test_compare_takes_examples_and_an_optimizer_name_stays_the_optimizer(empty: Path) -> None:
    result = invoke("compare", "iris/sgd", "iris/adam", "--epochs", "2", "--quiet")
    assert result.exit_code == 0, result.output
    (folder,) = run_folders(empty / "runs")
    for name in ("sgd", "adam"):
        written = yaml.safe_load((folder / name / "config.yaml").read_text())
        assert written == config.load(CONFIGS / "iris" / f"{name}.yaml", ["train.epochs=2"]).to_dict()
    # `adam` is the optimizer on the base config (lr 0.005), not the example adam.yaml (lr 0.02)
    result = invoke("compare", "sgd", "adam", "--epochs", "2", "--quiet", "--runs-root", "other")
    assert result.exit_code == 0, result.output
    (folder,) = run_folders(empty / "other")
    written = yaml.safe_load((folder / "adam" / "config.yaml").read_text())
    assert written["optimizer"]["lr"] == config.default("optimizer.lr")
    example = yaml.safe_load((CONFIGS / "adam.yaml").read_text())
    assert written["optimizer"]["lr"] != example["optimizer"]["lr"]


def test_compare_base_sweep_and_plot_lr_take_examples(empty: Path) -> None:
    result = invoke("compare", "sgd", "--config", "l2", "--epochs", "2", "--quiet")
    assert result.exit_code == 0, result.output
    (folder,) = run_folders(empty / "runs")
    assert yaml.safe_load((folder / "sgd" / "config.yaml").read_text())["regularizer"]["type"] == "l2"

    result = invoke(
        "sweep", "l2", "--grid", "optimizer.lr=0.01,0.1", "--set", "train.epochs=2", "--jobs", "1", "--quiet"
    )
    assert result.exit_code == 0, result.output
    (swept,) = [p for p in run_folders(empty / "runs") if "-sweep-l2" in p.name]
    assert (swept / "summary.json").is_file()
    written = yaml.safe_load((swept / "config.yaml").read_text())
    assert written["config"] == "l2"  # as given: it runs wherever nnopt is installed
    assert written["base"] == config.load(CONFIGS / "l2.yaml", ["train.epochs=2"]).to_dict()

    result = invoke("plot-lr", "--config", "quadratic_decay", "--out", "q.png", "--csv", "q.csv")
    assert result.exit_code == 0, result.output
    steps = yaml.safe_load((CONFIGS / "quadratic_decay.yaml").read_text())["train"]["steps"]
    assert len((empty / "q.csv").read_text().splitlines()) == 1 + steps


def test_lr_find_takes_an_example_and_the_seed_shortcut(empty: Path) -> None:
    result = invoke("lr-find", "l2", "--steps", "10", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "nnopt train l2 --set seed=3 --lr " in result.output  # the command to use a suggestion, as typed
    (folder,) = run_folders(empty / "runs")
    assert folder.name.endswith("-lrfind-l2") and (folder / "summary.json").is_file()
    assert yaml.safe_load((folder / "config.yaml").read_text())["seed"] == 3


def test_compare_entry_found_nowhere_suggests_optimizers_and_examples(empty: Path) -> None:
    result = invoke("compare", "iris/adm")
    assert result.exit_code == 2
    assert "did you mean 'iris/adam'?" in result.output


# --- nnopt examples ----------------------------------------------------------------------------------------


def test_examples_lists_each_name_with_its_first_comment_line() -> None:
    result = invoke("examples")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(SHIPPED)
    assert {tuple(line.split(maxsplit=1)) for line in lines} == {
        (name_of(p), first_comment_line(p)) for p in SHIPPED
    }


def test_examples_name_prints_the_file() -> None:
    result = invoke("examples", "iris/adam")
    assert result.exit_code == 0
    assert result.output == (CONFIGS / "iris" / "adam.yaml").read_text(encoding="utf-8")
    assert invoke("examples", "nosuch").exit_code == 2


def test_copy_writes_every_example_to_edit_and_never_overwrites(empty: Path) -> None:
    result = invoke("examples", "--copy", "mine")
    assert result.exit_code == 0, result.output
    copied = sorted(p.relative_to(empty / "mine") for p in (empty / "mine").rglob("*") if p.is_file())
    assert copied == sorted(p.relative_to(CONFIGS) for p in SHIPPED)
    assert all((empty / "mine" / p).read_bytes() == (CONFIGS / p).read_bytes() for p in copied)
    # a copy runs as a file
    assert invoke("train", "mine/l2.yaml", "--epochs", "1", "--quiet").exit_code == 0

    (empty / "mine" / "l2.yaml").write_text("name: edited\n")
    result = invoke("examples", "--copy", "mine")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: mine/adadelta.yaml: exists already; nothing was copied (choose another folder)"
    ]
    assert (empty / "mine" / "l2.yaml").read_text() == "name: edited\n"


def test_copy_refusing_one_file_writes_none(empty: Path) -> None:
    (empty / "out" / "iris").mkdir(parents=True)
    (empty / "out" / "iris" / "sgdm.yaml").write_text("mine\n")
    result = invoke("examples", "--copy", "out")
    assert result.exit_code == 2
    assert "out/iris/sgdm.yaml: exists already" in result.output
    assert sorted(p.name for p in (empty / "out").rglob("*")) == ["iris", "sgdm.yaml"]


def test_copy_cut_off_by_a_failed_write_leaves_nothing(empty: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nnopt_cli import files

    original = files.replacing
    calls = []

    def failing(path: Path, mode: str = "w"):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(path))
        return original(path, mode)

    monkeypatch.setattr(files, "replacing", failing)
    with pytest.raises(OSError):
        examples.copy(empty / "new" / "deep")
    assert not (empty / "new").exists()


def test_copy_of_chosen_examples(empty: Path) -> None:
    assert examples.copy("two", ["adam", "iris/sgd"]) == [Path("two/adam.yaml"), Path("two/iris/sgd.yaml")]
    with pytest.raises(examples.ExampleError, match="'adm' is not an example; did you mean 'adam'"):
        examples.copy("three", ["adm"])
    assert not Path("three").exists()


def test_the_readme_names_only_shipped_examples() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("### The examples travel with the package") :]
    block = block[: block.index("### Shell completion")]
    named = []
    for line in block.splitlines():
        words = line.split("#")[0].split()
        if words[:2] in (["nnopt", "train"], ["nnopt", "sweep"], ["nnopt", "compare"]):
            given = iter(words[2:])
            for word in given:
                if word.startswith("--"):
                    next(given, None)  # the option's value
                elif not word.endswith(".yaml"):  # a copied file is a path
                    named.append(word)
    assert named and all(n in examples.names() for n in named), named
