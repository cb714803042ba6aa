"""The command line as a user meets it: files written, exit codes, one-line errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import terminal
import yaml
from click.testing import CliRunner

from nnopt_cli import __version__, config
from nnopt_cli.cli import cli
from nnopt_cli.experiments import experiment

ROOT = Path(__file__).resolve().parent.parent
RUN_FILES = {
    "config.yaml",
    "metrics.csv",
    "lr.csv",
    "trace.csv",
    "layers.csv",
    "state.npz",
    "params.npz",
    "loss.png",
    "lr.png",
    "boundary.png",
    "layers.png",
    "summary.json",
}


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def train_sgd(runs_root: Path, *sets: str, quiet: bool = True) -> Any:
    """`nnopt train configs/sgd.yaml` into runs_root with `--set` overrides."""
    args = ["train", str(ROOT / "configs" / "sgd.yaml"), "--runs-root", str(runs_root)]
    for item in sets:
        args += ["--set", item]
    return CliRunner().invoke(cli, args + (["--quiet"] if quiet else []))


def only_folder(root: Path) -> Path:
    folders = [p for p in root.iterdir() if p.is_dir()]
    assert len(folders) == 1
    return folders[0]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_version_and_help() -> None:
    assert invoke("--version").output.strip() == f"nnopt, version {__version__}"
    out = invoke("--help").output
    for command in ("train", "plot-lr", "compare"):
        assert command in out


def test_train_writes_a_complete_run_folder(tmp_path: Path) -> None:
    result = invoke(
        "train",
        str(ROOT / "configs" / "l2.yaml"),
        "--runs-root",
        str(tmp_path),
        "--set",
        "train.epochs=20",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path)
    assert folder.name.endswith("-l2")
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    rows = read_csv(folder / "metrics.csv")
    assert list(rows[0]) == ["epoch", "step", "lr", "loss", "data_loss", "accuracy"]
    assert [int(r["epoch"]) for r in rows] == list(range(1, 21))
    assert [int(r["step"]) for r in rows] == list(range(10, 201, 10))
    lr_rows = read_csv(folder / "lr.csv")
    assert len(lr_rows) == 200 and lr_rows[0] == {"step": "0", "lr": "0.005"}
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["epochs"] == 20 and summary["steps"] == 200
    assert summary["final_loss"] == pytest.approx(float(rows[-1]["loss"]), rel=1e-15)
    assert summary["nnopt_version"] == __version__ and summary["numpy_version"] == np.__version__
    assert 0 < summary["train_seconds"] <= summary["total_seconds"]
    with np.load(folder / "params.npz") as params:
        assert {k: params[k].shape for k in params.files} == {
            "w1": (2, 11),
            "b1": (11,),
            "w2": (11, 1),
            "b2": (1,),
        }
    # the loss column is the objective: data loss + 0.03·Σw²/2 at the end of the epoch
    with np.load(folder / "params.npz") as p:
        penalty = 0.03 * (np.sum(p["w1"] ** 2) + np.sum(p["w2"] ** 2)) / 2
    assert float(rows[-1]["loss"]) == pytest.approx(float(rows[-1]["data_loss"]) + penalty, rel=1e-12)
    assert "run folder" in result.output


def test_resolved_config_reproduces_the_run(tmp_path: Path) -> None:
    args = [
        "--runs-root",
        str(tmp_path / "a"),
        "--set",
        "train.epochs=15",
        "--set",
        "data.shuffle=true",
        "--quiet",
    ]
    assert invoke("train", str(ROOT / "configs" / "sgd.yaml"), *args).exit_code == 0
    first = only_folder(tmp_path / "a")
    resolved = yaml.safe_load((first / "config.yaml").read_text())
    assert resolved["optimizer"] == {
        "name": "sgd",
        "lr": 0.005,
        "decay": 0.0,
        "clip_norm": None,
        "clip_value": None,
    }
    assert resolved["data"]["shuffle"] is True and resolved["train"]["epochs"] == 15
    again = invoke("train", str(first / "config.yaml"), "--runs-root", str(tmp_path / "b"), "--quiet")
    assert again.exit_code == 0
    second = only_folder(tmp_path / "b")
    with np.load(first / "params.npz") as p1, np.load(second / "params.npz") as p2:
        for key in p1.files:
            assert np.array_equal(p1[key], p2[key])
    assert (first / "metrics.csv").read_text() == (second / "metrics.csv").read_text()


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    for _ in range(3):
        assert train_sgd(tmp_path, "train.epochs=1").exit_code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3 and len(set(names)) == 3


@pytest.mark.parametrize(
    ("yaml_text", "sets", "fragment"),
    [
        (
            "optimizer:\n  name: adam\n  beta_1: 0.5\n",
            [],
            "line 3: optimizer.beta_1: unknown key; did you mean 'beta1'?",
        ),
        ("optimizer:\n  lr: -0.1\n", [], "line 2: optimizer.lr: must be > 0, got -0.1"),
        (
            "optimizer:\n  name: adamm\n",
            [],
            "optimizer.name: unknown value 'adamm'; did you mean 'adam'?",
        ),
        ("optimizer:\n  name: adam\n  beta1: 1.0\n", [], "optimizer.beta1"),
        (
            "schedule:\n  type: piecewise_constant\n  boundaries: [10, 5]\n  values: [1, 2, 3]\n",
            [],
            "schedule.boundaries",
        ),
        ("name: x\n  bad: [\n", [], "malformed YAML"),
        ("", ["data.path=missing.csv"], "missing.csv: no such file"),
        ("", ["model.init_from=missing.npz"], "model.init_from"),
        ("ema:\n  decay: 1.5\n", [], "ema.decay"),
        ("", ["train.epochs=0"], "--set train.epochs: must be an integer >= 1, got 0"),
        ("model:\n  hidden: 0\n", [], "line 2: model.hidden"),
        ("model:\n  hidden: [0]\n", [], "model.hidden"),
        ("model:\n  hidden: [-3]\n", [], "model.hidden"),
        ("model:\n  hidden: a\n", [], "model.hidden"),
        ("model:\n  hidden: [11, 1e9]\n", [], "model.hidden [11, 1000000000]: a network of layer widths"),
        (
            "loss: ce\nmodel:\n  output: softmax\n",
            [],
            "loss: ce works on the logits and needs model.output: linear",
        ),
        ("loss: bce\nmodel:\n  output: sigmoid\n", [], "loss: bce works on the logits"),
        ("model:\n  init: truncated\n", [], "did you mean 'truncated_normal'?"),
        ("model:\n  init_std: 0\n", [], "model.init_std"),
        ("data:\n  name: irs\n", [], "data.name: unknown value 'irs'; did you mean 'iris'?"),
        ("data:\n  name: circle\n  noise: 0.7\n", [], "data.noise"),
        ("data:\n  name: iris\n  test_size: 150\n", [], "leave no training row"),
        ("data:\n  name: iris\n  test_size: 1.5\n", [], "data.test_size"),
        (
            "data:\n  name: iris\n  path: x.csv\n",
            [],
            "line 3: data.path has no effect while data.name is iris; set data.name to csv",
        ),
        (
            "data:\n  name: iris\nplot:\n  features: [petal, 1]\n",
            [],
            "plot.features[0]: no input named 'petal'",
        ),
        ("data:\n  name: csv\n", [], "data.path: the csv data set needs a path"),
        # a key that has no effect on the run, set to a value other than its default
        (
            "name: c\n",
            ["regularizer.scale=0.5"],
            "Error: --set regularizer.scale=0.5: regularizer.scale has no effect while regularizer.type is "
            "none; set regularizer.type to l1 or l2",
        ),
        (
            "regularizer:\n  type: none\n  scale: 0.5\n",
            [],
            "line 3: regularizer.scale has no effect while regularizer.type is none",
        ),
        (
            "name: c\n",
            ["schedule.decay_steps=10"],
            "--set schedule.decay_steps=10: schedule.decay_steps has no effect while schedule.type is "
            "constant; set schedule.type to exponential,",
        ),
        (
            "name: c\n",
            ["data.noise=0.3"],
            "--set data.noise=0.3: data.noise has no effect while data.name is dot; "
            "set data.name to circle, xor, gauss or spiral",
        ),
        (
            "model:\n  init: normal\n",
            ["model.init_std=0.5"],
            "--set model.init_std=0.5: model.init_std has no effect while model.init is normal; "
            "set model.init to truncated_normal",
        ),
        (
            "model:\n  activation: relu\n  leaky_alpha: 0.2\n",
            [],
            "line 3: model.leaky_alpha has no effect while model.activation is relu; "
            "set model.activation to leaky_relu",
        ),
        (
            "optimizer:\n  name: sgd\n  beta1: 0.5\n",
            [],
            "line 3: optimizer.beta1 has no effect while optimizer.name is sgd; set optimizer.name to adam",
        ),
        (
            "model:\n  type: quadratic\n",
            ["data.name=iris"],
            "--set data.name=iris: data.name has no effect while model.type is quadratic; "
            "set model.type to mlp",
        ),
        # a key of the file that a --set switches off: the file's line, and the --set that did it
        (
            "optimizer:\n  name: adam\n  eps: 0\n",
            ["optimizer.name=sgd"],
            "line 3: optimizer.eps has no effect while optimizer.name is sgd (--set optimizer.name=sgd); "
            "set optimizer.name to adagrad, rmsprop, adam, adamw, nadam, adamax or adadelta",
        ),
        # lr 0 refused as --lr 0 is, in the README's words
        ("name: c\n", ["optimizer.lr=0"], "Error: --set optimizer.lr: must be > 0, got 0"),
        ("optimizer:\n  lr: 0\n", [], "line 2: optimizer.lr: must be > 0, got 0"),
        # an error a --set caused names the --set, not the file
        (
            "data:\n  noise: 0.0\n",
            ["data.name=csv"],
            "Error: --set data.name=csv: data.path: the csv data set",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_folder(
    tmp_path: Path, yaml_text: str, sets: list[str], fragment: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    runs = tmp_path / "runs"
    args = ["train", str(path), "--runs-root", str(runs)]
    for item in sets:
        args += ["--set", item]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert fragment in lines[0]
    assert not runs.exists() or not any(runs.iterdir())


def test_divergence_exits_3_and_says_so(tmp_path: Path) -> None:
    result = train_sgd(tmp_path, "optimizer.lr=40")
    assert result.exit_code == 3
    folder = only_folder(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "diverged"
    assert summary["diverged_epoch"] == summary["epochs_done"] >= 1
    assert summary["final_loss"] is None
    assert f"diverged at epoch {summary['diverged_epoch']}" in result.output
    assert (folder / "loss.png").exists() and (folder / "boundary.png").exists()


def test_plain_progress_lines_in_a_pipe(tmp_path: Path) -> None:
    result = train_sgd(tmp_path, "train.epochs=4", "train.log_every=2", quiet=False)
    assert result.exit_code == 0
    progress = [line for line in result.output.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in progress] == ["2/4", "4/4"]
    assert "\x1b[" not in result.output


def test_quiet_prints_no_progress(tmp_path: Path) -> None:
    result = train_sgd(tmp_path, "train.epochs=2")
    assert not [line for line in result.output.splitlines() if line.startswith("epoch ")]


def test_ema_adds_files_and_columns(tmp_path: Path) -> None:
    result = train_sgd(tmp_path, "train.epochs=5", "ema.decay=0.99")
    assert result.exit_code == 0
    folder = only_folder(tmp_path)
    assert (folder / "params_ema.npz").exists()
    rows = read_csv(folder / "metrics.csv")
    assert list(rows[0])[-2:] == ["ema_loss", "ema_accuracy"]


def test_compare_trains_entries_like_train(tmp_path: Path) -> None:
    result = invoke("compare", "sgd", "adam", "--epochs", "12", "--runs-root", str(tmp_path / "c"), "--quiet")
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path / "c")
    assert folder.name.endswith("-compare")
    assert {p.name for p in folder.iterdir()} == {
        "sgd",
        "adam",
        "compare.png",
        "boundaries.png",
        "compare.csv",
    }
    for name in ("sgd", "adam"):
        # an entry's folder holds its data; its pictures are drawn with --entry-pictures
        assert {p.name for p in (folder / name).iterdir()} == RUN_FILES - {
            "loss.png",
            "lr.png",
            "boundary.png",
            "layers.png",
        }
    rows = read_csv(folder / "compare.csv")
    assert [r["name"] for r in rows] == ["sgd", "adam"]
    assert list(rows[0])[:6] == [
        "name",
        "final_loss",
        "final_accuracy",
        "best_loss",
        "converged_epoch",
        "train_seconds",
    ]
    # an entry ends bitwise where `nnopt train` of its resolved config ends
    alone = invoke(
        "train", str(folder / "adam" / "config.yaml"), "--runs-root", str(tmp_path / "t"), "--quiet"
    )
    assert alone.exit_code == 0
    with (
        np.load(folder / "adam" / "params.npz") as a,
        np.load(only_folder(tmp_path / "t") / "params.npz") as b,
    ):
        for key in a.files:
            assert np.array_equal(a[key], b[key])
    assert (folder / "adam" / "layers.csv").read_bytes() == (
        only_folder(tmp_path / "t") / "layers.csv"
    ).read_bytes()
    assert "Optimizers side by side" in result.output
    assert "converged epoch:" in result.output


def test_compare_entries_of_the_new_rules_with_clipping_train_like_train(tmp_path: Path) -> None:
    names = ["adamw", "nadam", "adamax", "adadelta"]
    args = ["compare", *names, "--epochs", "6", "--set", "optimizer.clip_norm=0.5", "-q"]
    result = invoke(*args, "--runs-root", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path / "c")
    for i, name in enumerate(names):
        alone = invoke(
            "train", str(folder / name / "config.yaml"), "--runs-root", str(tmp_path / f"t{i}"), "--quiet"
        )
        assert alone.exit_code == 0, alone.output
        trained = only_folder(tmp_path / f"t{i}")
        with np.load(folder / name / "params.npz") as a, np.load(trained / "params.npz") as b:
            for key in a.files:
                assert np.array_equal(a[key], b[key]), (name, key)
        assert (folder / name / "metrics.csv").read_bytes() == (trained / "metrics.csv").read_bytes()
        assert (folder / name / "layers.csv").read_bytes() == (trained / "layers.csv").read_bytes()
    rules = {row["name"]: row for row in read_csv(folder / "compare.csv")}
    assert list(rules) == names


def test_compare_draws_each_entrys_pictures_on_request(tmp_path: Path) -> None:
    iris = [str(ROOT / "configs" / "iris" / f"{name}.yaml") for name in ("sgd", "adam")]
    args = ["compare", *iris, "--epochs", "3", "--entry-pictures", "--runs-root", str(tmp_path), "-q"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path)
    for name in ("sgd", "adam"):
        # iris has four inputs: its confusion matrices join the run's pictures
        assert {p.name for p in (folder / name).iterdir()} == RUN_FILES | {"confusion.png"}
    rows = read_csv(folder / "compare.csv")
    assert "final_test_accuracy" in rows[0] and "final_test_loss" in rows[0]
    assert (
        "test accuracy (what the course reads off its curve) stays within 1% of its final value"
        in result.output
    )


def test_compare_entries_start_from_the_same_weights() -> None:
    base = config.from_dict({})
    from nnopt_cli.experiments import compare

    entries = compare.build_entries(["sgd", "rmsprop", str(ROOT / "configs" / "l2.yaml")], base)
    groups = experiment.prepare([e.config for e in entries])
    starts = [row for g in groups for row in g.prepared.starts]
    assert len(starts) == 3 and all(np.array_equal(starts[0], s) for s in starts[1:])


def test_compare_seeds_writes_mean_and_std(tmp_path: Path) -> None:
    result = invoke(
        "compare",
        "sgd",
        "sgdm",
        "--epochs",
        "5",
        "--seeds",
        "3",
        "--runs-root",
        str(tmp_path),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path)
    rows = read_csv(folder / "compare.csv")
    assert "final_loss_mean" in rows[0] and "final_loss_std" in rows[0]
    assert len([p for p in folder.iterdir() if p.is_dir()]) == 6


def test_compare_unknown_entry(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["compare", "sgd", "adamm", "--runs-root", str(tmp_path)])
    assert result.exit_code == 2
    unknown = "'adamm' is neither an optimizer, a config file nor an example; did you mean 'adam'?"
    assert unknown in result.output
    assert not any(tmp_path.iterdir())


def test_help_does_not_import_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, nnopt_cli.cli; nnopt_cli.cli.cli.main(['--help'], standalone_mode=False); "
        "print('matplotlib' in sys.modules, 'rich' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"


def test_compare_entries_of_different_shapes_train_in_groups(tmp_path: Path) -> None:
    wide = tmp_path / "wide.yaml"
    wide.write_text("model:\n  hidden: 5\noptimizer:\n  name: adam\n  lr: 0.01\n")
    result = invoke(
        "compare", "sgd", str(wide), "adam", "--epochs", "4", "--runs-root", str(tmp_path / "c"), "--quiet"
    )
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path / "c")
    assert [r["name"] for r in read_csv(folder / "compare.csv")] == ["sgd", "wide", "adam"]
    with np.load(folder / "wide" / "params.npz") as p:
        assert p["w1"].shape == (2, 5)
    alone = invoke(
        "train", str(folder / "wide" / "config.yaml"), "--runs-root", str(tmp_path / "t"), "--quiet"
    )
    assert alone.exit_code == 0
    with (
        np.load(folder / "wide" / "params.npz") as a,
        np.load(only_folder(tmp_path / "t") / "params.npz") as b,
    ):
        assert all(np.array_equal(a[k], b[k]) for k in a.files)


def test_train_help_points_to_a_readme_section_that_exists() -> None:
    import re

    text = " ".join(invoke("train", "--help").output.split())
    (section,) = re.findall(r'README\'s section "([^"]+)"', text)
    assert f"\n## {section}\n" in (ROOT / "README.md").read_text()
    assert "configs/" in text


def _start_training(tmp_path: Path, epochs: int) -> Any:
    """`nnopt train` in a child process, returned once it has finished an epoch (its first progress line, on
    stderr)."""
    import subprocess
    import sys

    args = [sys.executable, "-m", "nnopt_cli", "train", str(ROOT / "configs" / "sgd.yaml")]
    args += ["--runs-root", str(tmp_path), "--set", f"train.epochs={epochs}", "--set", "train.log_every=1"]
    child = terminal.start(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    assert child.stderr.readline().startswith("epoch 1/")
    return child


def test_sigterm_is_ctrl_c_keeps_the_last_whole_epoch_and_exits_143(tmp_path: Path) -> None:
    import signal

    child = _start_training(tmp_path, 10_000_000)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 143
    folder = only_folder(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    done = summary["epochs_done"]
    assert done >= 1 and f"interrupted after {done} epoch" in err
    assert len(read_csv(folder / "metrics.csv")) == done
    assert len(read_csv(folder / "lr.csv")) == 10 * done  # the updates made, not the 1e8 planned
    assert {p.name for p in folder.iterdir()} == RUN_FILES


def test_a_run_started_ignoring_ctrl_c_keeps_ignoring_it(tmp_path: Path) -> None:
    """A background job of a shell script starts with SIGINT ignored: Ctrl-C is meant for the foreground
    job, and nnopt leaves it ignored while it trains too. SIGINT then SIGTERM: the run stops for the second,
    the one it was not started ignoring (exit code 143, not Ctrl-C's 130)."""
    import signal

    args = [sys.executable, "-m", "nnopt_cli", "train", str(ROOT / "configs" / "sgd.yaml")]
    args += ["--runs-root", str(tmp_path), "--set", "train.epochs=10000000", "--set", "train.log_every=1"]

    def ignore_ctrl_c() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    child = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ignore_ctrl_c
    )
    try:
        assert child.stderr is not None
        assert child.stderr.readline().startswith("epoch 1/")
        child.send_signal(signal.SIGINT)
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 143
    summary = json.loads((only_folder(tmp_path) / "summary.json").read_text())
    assert summary["status"] == "interrupted"


def test_a_second_ctrl_c_still_leaves_a_summary_that_says_interrupted(tmp_path: Path) -> None:
    import signal

    child = _start_training(tmp_path, 10_000_000)
    child.send_signal(signal.SIGINT)
    child.send_signal(signal.SIGINT)
    child.communicate(timeout=120)
    assert child.returncode == 130
    folder = only_folder(tmp_path)
    assert json.loads((folder / "summary.json").read_text())["status"] == "interrupted"
    assert {p.name for p in folder.iterdir()} == RUN_FILES


def test_a_full_disk_is_one_line_and_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)  # params.npz, written after training
    result = train_sgd(tmp_path / "runs", "train.epochs=2")
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and "params.npz: the disk is full" in line
    assert "removed the unfinished" in line
    assert list((tmp_path / "runs").iterdir()) == []


def test_compare_on_a_full_disk_removes_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from nnopt_cli.store import comparisons

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "compare.csv")

    monkeypatch.setattr(comparisons, "write_table", full)
    root = tmp_path / "runs"
    result = CliRunner().invoke(
        cli, ["compare", "sgd", "adam", "--epochs", "2", "--runs-root", str(root), "-q"]
    )
    assert result.exit_code == 2
    assert result.output.startswith("Error: compare.csv: the disk is full")
    assert list(root.iterdir()) == []


def test_a_picture_that_cannot_be_written_keeps_the_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 18.2: the data were written before the pictures; a picture failing never takes them along
    import errno

    from nnopt_cli.figures import plots

    def full(fig: object, path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(plots, "save", full)
    root = tmp_path / "runs"
    result = CliRunner().invoke(
        cli, ["compare", "sgd", "adam", "--epochs", "2", "--runs-root", str(root), "-q"]
    )
    assert result.exit_code == 4, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert "could not draw boundaries.png, compare.png (the disk is full" in line and "nnopt replot" in line
    (folder,) = root.iterdir()
    assert (folder / "compare.csv").is_file()
    for entry in ("sgd", "adam"):
        assert json.loads((folder / entry / "summary.json").read_text())["status"] == "completed"
    noted = json.loads((folder / "pictures_missing.json").read_text())
    assert set(noted) == {"compare.png", "boundaries.png"}
    monkeypatch.undo()
    again = CliRunner().invoke(cli, ["replot", str(folder)])
    assert again.exit_code == 0, again.output
    assert not (folder / "pictures_missing.json").exists() and (folder / "compare.png").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ["train", str(ROOT / "configs" / "sgd.yaml"), "--runs-root", "{file}/runs"],
        ["train", str(ROOT / "configs" / "quadratic.yaml"), "--runs-root", "{file}/runs"],
        ["compare", "sgd", "--runs-root", "{file}/runs"],
        ["plot-lr", "--runs-root", "{file}/runs"],
        ["plot-lr", "--out", "{file}/x.png"],
        ["plot-lr", "--csv", "{file}/x.csv", "--out", "{folder}/x.png"],
    ],
)
def test_an_output_under_a_file_is_one_line(tmp_path: Path, args: list[str]) -> None:
    file = tmp_path / "a-file"
    file.write_text("")
    filled = [a.format(file=file, folder=tmp_path) for a in args]
    result = CliRunner().invoke(cli, filled + (["-q"] if args[0] != "plot-lr" else []))
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and ("Not a directory" in line or "is a file, not a folder" in line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing written, the PNG neither


@pytest.mark.parametrize("option", ["--out", "--csv", "--runs-root"])
def test_a_read_only_output_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str) -> None:
    # tests may run as root, who writes anywhere: the file system's refusal is simulated
    import errno
    import os

    real_open = os.open

    def read_only(path: Any, flags: int, *args: Any) -> int:
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    target = {"--out": "x.png", "--csv": "x.csv", "--runs-root": "runs"}[option]
    args = ["plot-lr", option, str(tmp_path / target)]
    if option == "--csv":
        args += ["--out", str(tmp_path / "x.png")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and "Read-only file system" in line


_ROOT = Path(__file__).resolve().parent.parent


def test_epochs_lr_and_seed_are_short_for_their_sets(tmp_path):
    runner = CliRunner()
    short = runner.invoke(
        cli,
        [
            "train",
            str(_ROOT / "configs" / "l2.yaml"),
            "--epochs",
            "7",
            "--lr",
            "0.03",
            "--seed",
            "4",
            "-q",
            "--runs-root",
            str(tmp_path / "a"),
        ],
    )
    long = runner.invoke(
        cli,
        [
            "train",
            str(_ROOT / "configs" / "l2.yaml"),
            "--set",
            "train.epochs=7",
            "--set",
            "optimizer.lr=0.03",
            "--set",
            "seed=4",
            "-q",
            "--runs-root",
            str(tmp_path / "b"),
        ],
    )
    assert short.exit_code == 0 and long.exit_code == 0, short.output + long.output
    (a,) = (tmp_path / "a").iterdir()
    (b,) = (tmp_path / "b").iterdir()
    assert (a / "config.yaml").read_text() == (b / "config.yaml").read_text()
    assert "epochs: 7" in (a / "config.yaml").read_text()
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    # a shortcut wins over a --set of the same key, as a later --set would
    both = runner.invoke(
        cli,
        [
            "train",
            str(_ROOT / "configs" / "l2.yaml"),
            "--set",
            "train.epochs=3",
            "--epochs",
            "2",
            "-q",
            "--runs-root",
            str(tmp_path / "c"),
        ],
    )
    assert both.exit_code == 0
    (c,) = (tmp_path / "c").iterdir()
    assert len((c / "metrics.csv").read_text().splitlines()) == 1 + 2


def test_epochs_shortcut_refused_for_the_quadratic_toy(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["train", str(_ROOT / "configs" / "quadratic.yaml"), "--epochs", "3", "--runs-root", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "use --set train.steps=N" in result.output
    assert not any(tmp_path.iterdir())


def test_resume_from_the_command_line_ends_where_one_longer_run_ends(tmp_path):
    config = str(_ROOT / "configs" / "ema.yaml")
    base = ["--set", "data.shuffle=true", "--set", "optimizer.name=adam", "-q"]
    runner = CliRunner()
    whole = runner.invoke(
        cli, ["train", config, *base, "--epochs", "12", "--runs-root", str(tmp_path / "whole")]
    )
    half = runner.invoke(
        cli, ["train", config, *base, "--epochs", "5", "--runs-root", str(tmp_path / "runs")]
    )
    assert whole.exit_code == 0 and half.exit_code == 0, whole.output + half.output
    (first,) = (tmp_path / "runs").iterdir()
    # RUN may be the end of a folder name under --runs-root, as nnopt show takes it
    suffix = first.name[-12:]
    resumed = runner.invoke(
        cli, ["train", "--resume", suffix, "--epochs", "12", "-q", "--runs-root", str(tmp_path / "runs")]
    )
    assert resumed.exit_code == 0, resumed.output
    (second,) = [p for p in (tmp_path / "runs").iterdir() if p != first]
    (alone,) = (tmp_path / "whole").iterdir()
    for name in ("metrics.csv", "lr.csv", "trace.csv"):
        assert (second / name).read_bytes() == (alone / name).read_bytes(), name
    for name in ("params.npz", "params_ema.npz"):
        with np.load(second / name) as a, np.load(alone / name) as b:
            assert all(np.array_equal(a[k], b[k]) for k in b.files)
    summary = json.loads((second / "summary.json").read_text())
    assert summary["resumed_at_epoch"] == 5 and summary["epochs_done"] == 12
    refused = runner.invoke(
        cli, ["train", "--resume", str(second), "--lr", "0.5", "--runs-root", str(tmp_path / "runs")]
    )
    assert refused.exit_code == 2 and "optimizer.lr" in refused.output


def test_a_compare_entry_with_settings_trains_like_train_of_them(tmp_path: Path) -> None:
    l2 = str(ROOT / "configs" / "l2.yaml")
    args = ["compare", "sgd:lr=0.1", "adam:lr=0.01", "--config", l2, "--epochs", "5", "-q"]
    result = invoke(*args, "--runs-root", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path / "c")
    assert [r["name"] for r in read_csv(folder / "compare.csv")] == ["sgd-lr0.1", "adam-lr0.01"]
    assert "adam-lr0.01" in result.output
    sets = ["--set", "optimizer.name=adam", "--set", "optimizer.lr=0.01", "--set", "train.epochs=5"]
    alone = invoke("train", l2, *sets, "--runs-root", str(tmp_path / "t"), "--quiet")
    assert alone.exit_code == 0, alone.output
    trained = only_folder(tmp_path / "t")
    with np.load(folder / "adam-lr0.01" / "params.npz") as a, np.load(trained / "params.npz") as b:
        assert a.files == b.files
        for key in a.files:
            assert np.array_equal(a[key], b[key]), key
    assert (folder / "adam-lr0.01" / "metrics.csv").read_bytes() == (trained / "metrics.csv").read_bytes()


def test_a_compare_entry_with_a_setting_its_optimizer_lacks_exits_2_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "c"
    result = CliRunner().invoke(cli, ["compare", "sgd:beta=0.9", "adam", "--runs-root", str(root)])
    assert result.exit_code == 2
    assert result.output.startswith(
        "Error: compare entry sgd:beta=0.9: sgd has no setting beta; its settings:"
    )
    assert len(result.output.strip().splitlines()) == 1 and not root.exists()


def test_compare_lists_a_set_some_entries_drop(tmp_path: Path) -> None:
    root = tmp_path / "c"
    args = ["compare", "sgd", "adam", "--epochs", "2", "--set", "optimizer.beta1=0.95"]
    result = invoke(*args, "--runs-root", str(root), "--quiet")
    assert result.exit_code == 0, result.output
    assert "dropped where it has no effect: optimizer.beta1: 0.95 (entries sgd)" in result.output
    (folder,) = root.iterdir()
    assert json.loads((folder / "dropped.json").read_text()) == {
        "optimizer.beta1": {"value": 0.95, "entries": ["sgd"]}
    }


def test_compare_refuses_a_set_no_entry_uses_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "c"
    result = invoke("compare", "sgd", "sgdm", "--set", "optimizer.beta1=0.95", "--runs-root", str(root))
    assert result.exit_code == 2
    assert result.output.startswith(
        "Error: --set optimizer.beta1=0.95: optimizer.beta1 has no effect while optimizer.name is sgd; "
        "set optimizer.name to adam"
    )
    assert not root.exists()


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="forks")
def test_a_drawing_process_killed_keeps_the_finished_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 18.3: BrokenProcessPool traceback, and the finished run's folder deleted
    import os
    import signal

    from nnopt_cli.figures import report

    main = os.getpid()

    def killed(*args: object) -> None:
        if os.getpid() != main:  # in a drawing process: as the kernel's out-of-memory killer would end it
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("drawn in the main process")

    monkeypatch.setattr(report, "draw_boundary", killed)
    monkeypatch.setattr(report.os, "cpu_count", lambda: 2)  # a pool of drawing processes
    root = tmp_path / "runs"
    result = train_sgd(root, "train.epochs=3")
    assert result.exit_code == 4, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert "could not draw" in line and "boundary.png" in line and "nnopt replot" in line
    folder = only_folder(root)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_done"] == 3
    assert "boundary.png" in summary["pictures_missing"]
    assert len(read_csv(folder / "metrics.csv")) == 3 and (folder / "params.npz").is_file()
    monkeypatch.undo()
    again = CliRunner().invoke(cli, ["replot", str(folder)])
    assert again.exit_code == 0, again.output
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    assert "pictures_missing" not in json.loads((folder / "summary.json").read_text())


# --- issue 18: limits checked before anything is made, each command under a memory limit -------------------


def run_limited(args: list[str], cwd: Path, *, gib: int = 3) -> subprocess.CompletedProcess[str]:
    """`nnopt ARGS` in a process that cannot take more than `gib` GiB of address space (a failing check
    fails the test with a MemoryError instead of taking the machine's memory), for at most two minutes."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (gib << 30, gib << 30))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "nnopt_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        preexec_fn=limit,
    )


def one_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("Error: ")
    return line


def test_a_network_of_20000_layers_is_refused_before_a_folder(tmp_path: Path) -> None:
    # issue 18.6: 100,000 layers of width 1 passed the memory check and grew to 24 GB
    config = tmp_path / "deep.yaml"
    config.write_text("model: {hidden: [" + ", ".join(["1"] * 20_000) + "]}\n")
    line = one_error(run_limited(["train", str(config), "--runs-root", "runs"], tmp_path))
    assert "model.hidden: must list at most 1,000 hidden layers, got 20,000" in line
    assert not (tmp_path / "runs").exists()


def test_plot_lr_of_ten_billion_steps_is_one_line(tmp_path: Path) -> None:
    # issue 18.7: ArrayMemoryError traceback
    done = run_limited(["plot-lr", "--steps", "10000000000", "--out", "x.png"], tmp_path)
    assert "--steps 10000000000: at most 10,000,000 steps" in one_error(done)
    assert not (tmp_path / "x.png").exists()


def huge_npz(path: Path) -> Path:
    """518 bytes or so whose w1 header claims shape (10¹⁰, 1): 74.5 GiB."""
    import io
    import zipfile

    from numpy.lib import format as npy

    header = io.BytesIO()
    npy.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**10, 1)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("w1.npy", header.getvalue())
        for key, shape in (("b1", (11,)), ("w2", (11, 1)), ("b2", (1,))):
            buf = io.BytesIO()
            np.save(buf, np.zeros(shape))
            z.writestr(f"{key}.npy", buf.getvalue())
    return path


def test_an_npz_whose_header_claims_75_gib_is_one_line(tmp_path: Path) -> None:
    # issue 18.8: "Unable to allocate 74.5 GiB" traceback, as init_from, for replot and for resume
    bad = huge_npz(tmp_path / "bad.npz")
    sgd = str(ROOT / "configs" / "sgd.yaml")
    line = one_error(
        run_limited(["train", sgd, "--set", f"model.init_from={bad}", "--runs-root", "r"], tmp_path)
    )
    assert "model.init_from" in line and "w1 claims shape (10000000000, 1)" in line
    assert not (tmp_path / "r").exists()
    assert train_sgd(tmp_path / "runs", "train.epochs=2").exit_code == 0
    folder = only_folder(tmp_path / "runs")
    (folder / "params.npz").write_bytes(bad.read_bytes())
    for args in (
        ["replot", str(folder)],
        ["train", "--resume", str(folder), "--epochs", "3", "--runs-root", "r"],
    ):
        line = one_error(run_limited(args, tmp_path))
        assert f"{folder / 'params.npz'}: w1 claims shape (10000000000, 1)" in line
    assert not (tmp_path / "r").exists()


def test_a_step_column_rewritten_to_1e15_is_one_line_at_once(tmp_path: Path) -> None:
    # issue 18.9: list(range(n)) for the error's text: a MemoryError, or 3.1 GB and 4.4 s for one line
    assert train_sgd(tmp_path / "runs", "train.epochs=3").exit_code == 0
    folder = only_folder(tmp_path / "runs")
    path = folder / "metrics.csv"
    rows = list(csv.reader(path.open()))
    column = rows[0].index("step")
    for row in rows[1:]:
        row[column] = str(int(row[column]) * 10**15)
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    for args in (
        ["replot", str(folder)],
        ["train", "--resume", str(folder), "--epochs", "5", "--runs-root", "r"],
    ):
        line = one_error(run_limited(args, tmp_path, gib=2))
        assert "lr.csv: 30 updates numbered 0 to 29; metrics.csv says 30000000000000000 updates" in line


def test_a_config_file_beyond_256_kib_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    # issue 18.10: 10 MB of keys under plot: took 36 s to say "plot.k0: unknown key"
    config = tmp_path / "big.yaml"
    config.write_text("plot:\n" + "".join(f"  k{i}: 1\n" for i in range(30_000)))
    assert config.stat().st_size > 256 << 10
    result = CliRunner().invoke(cli, ["train", str(config), "--runs-root", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert result.output == f"Error: {config}: larger than 256 KiB; a config file is a few dozen lines\n"


def test_a_batch_larger_than_the_data_is_the_whole_data_in_the_memory_check(tmp_path: Path) -> None:
    # issue 18.11: "model.hidden [11] ... needs about 35.8 GiB" for --set data.batch_size=100000000
    sets = ["data.name=iris", "model.output=softmax", "data.batch_size=100000000", "train.epochs=2"]
    args = ["train", str(ROOT / "configs" / "sgd.yaml"), "--runs-root", "runs", "-q"]
    for item in sets:
        args += ["--set", item]
    done = run_limited(args, tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads((only_folder(tmp_path / "runs") / "summary.json").read_text())
    assert summary["steps"] == 2  # one batch of the 150 rows per epoch


def test_a_runs_root_that_is_not_a_folder_is_named_for_what_it_is(tmp_path: Path) -> None:
    import os

    broken = tmp_path / "broken"
    broken.symlink_to(tmp_path / "gone")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for path, words in [(broken, f"a broken link (to {tmp_path / 'gone'})"), (pipe, "a FIFO (named pipe)")]:
        result = train_sgd(path)
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"Error: --runs-root {path}: {words}, not a folder; give a folder (made if missing)\n"
        )
    assert broken.is_symlink() and pipe.is_fifo() and not (tmp_path / "gone").exists()


@pytest.mark.parametrize(
    "name, words",
    [
        ("n" * 240, "name: at most 200 characters (the run folder is named after it"),
        (".hidden", "name: must not begin with '.'"),
    ],
)
def test_a_name_no_folder_can_take_is_refused_before_training(tmp_path: Path, name: str, words: str) -> None:
    result = train_sgd(tmp_path / "runs", f"name={name}")
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: --set {words}"), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "sets, head",
    [
        ([], "model.output linear with loss mse"),
        (["model.output=sigmoid"], "model.output sigmoid with loss mse"),
        (["loss=bce"], "model.output linear with loss bce"),
    ],
)
def test_a_head_of_one_output_on_three_classes_is_refused_with_what_would_do(
    tmp_path: Path, sets: list[str], head: str
) -> None:
    # one output and a threshold tell two classes apart: iris' third class could never be predicted
    result = train_sgd(tmp_path / "runs", "data.name=iris", *sets)
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"Error: {head}: one output, which tells two classes apart, but iris has 3 (setosa, versicolor, "
        "virginica); use model.output: softmax (one output per class), or loss: ce with model.output: "
        "linear\n"
    )
    assert not (tmp_path / "runs").exists()
    ok = train_sgd(tmp_path / "ok", "data.name=iris", "model.output=softmax", "train.epochs=2")
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_ctrl_c_while_the_data_is_read_exits_130_and_writes_nothing(tmp_path: Path, command: str) -> None:
    import os
    import signal
    import subprocess
    import sys

    # the data file is a FIFO: once our end opens, the child is inside the CSV reader, blocked on rows
    # that have not come yet, so the signal arrives mid-load without any timing
    pipe = tmp_path / "rows.csv"
    os.mkfifo(pipe)
    runs = tmp_path / "runs"
    args = [sys.executable, "-m", "nnopt_cli", command, str(ROOT / "configs" / "sgd.yaml")]
    args += ["--set", f"data.path={pipe}", "--runs-root", str(runs), "--quiet"]
    if command == "sweep":
        args += ["--grid", "optimizer.lr=0.1,0.2", "--jobs", "1"]
    child = terminal.start(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with pipe.open("w") as rows:
            rows.write("a,b,y\n" + "".join(f"{i},{-i},{i % 2}\n" for i in range(1000)))
            rows.flush()
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert err == "nnopt: interrupted\n" and "Aborted" not in out + err
    assert not runs.exists() or list(runs.iterdir()) == []


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_an_error_caused_by_a_shortcut_names_the_option_typed(tmp_path: Path, value: str) -> None:
    result = CliRunner().invoke(
        cli, ["train", str(ROOT / "configs" / "sgd.yaml"), "--lr", value, "--runs-root", str(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert result.output == f"Error: --lr {value}: must be a finite number > 0, got {value}\n"
    assert list(tmp_path.iterdir()) == []


def test_a_shortcut_sets_its_key_as_the_set_it_stands_for(tmp_path: Path) -> None:
    path = ROOT / "configs" / "sgd.yaml"
    assert config.load(path, ["optimizer.lr=0.5"], shortcuts=["optimizer.lr=0.01", "seed=3"]) == config.load(
        path, ["optimizer.lr=0.5", "optimizer.lr=0.01", "seed=3"]
    )


def test_features_so_large_the_start_loss_is_not_finite_point_at_the_data(tmp_path: Path) -> None:
    # issue 18, item 17 (already so on main): ×1e300 inputs, the loss infinite before any update
    rows = "".join(f"{(i - 20) * 1e299!r},{(i % 7) * 1e300!r},{i % 2}\n" for i in range(40))
    (tmp_path / "huge.csv").write_text("a,b,y\n" + rows)
    result = train_sgd(tmp_path / "runs", f"data.path={tmp_path / 'huge.csv'}", "train.epochs=3")
    assert result.exit_code == 3
    assert "the loss was already infinite at the starting weights, before any update, so no learning " in (
        result.output
    )
    assert "smaller optimizer.lr" not in result.output


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_written_in_a_set_is_not_told_to_drop_quotes_it_has_not(tmp_path: Path, value: str) -> None:
    result = train_sgd(tmp_path, f"optimizer.lr={value}")
    assert result.exit_code == 2
    assert result.output == (f"Error: --set optimizer.lr: must be a number > 0, got {value!r}\n")
