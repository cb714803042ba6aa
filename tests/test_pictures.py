"""Every picture nnopt draws, at the edges a student reaches: checked on the figure objects (figure_checks).

Each case runs the real command once (few epochs, small data) and keeps every figure it saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from figure_checks import problems

from nnopt_cli.cli import cli
from nnopt_cli.figures import plots, report

GROWING = ("--set", "schedule.type=exponential", "--set", "schedule.decay_steps=100")
GROWING += ("--set", "schedule.decay_rate=1.5")
EIGHT = ("sgd", "sgdm", "momentum", "adagrad", "rmsprop", "adam", "adamw", "nadam")


def three_classes(folder: Path) -> Path:
    """150 points on 2 inputs, 3 classes, with a test split."""
    rng = np.random.default_rng(0)
    centers = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    labels = np.repeat(np.arange(3), 50)
    x = centers[labels] + rng.normal(size=(150, 2))
    rows = "\n".join(
        f"{a:.3f},{b:.3f},{['setosa', 'versicolor', 'virginica'][k]}" for (a, b), k in zip(x, labels)
    )
    csv = folder / "three.csv"
    csv.write_text("x1,x2,species\n" + rows + "\n")
    return csv


def cases(tmp: Path) -> dict[str, tuple[str, ...]]:
    csv = three_classes(tmp)
    return {
        "one epoch": ("train", "configs/sgd.yaml", "--epochs", "1"),
        "diverged at epoch 1": ("train", "configs/sgd.yaml", "--lr", "50", "--epochs", "5"),
        "diverged late": ("train", "configs/sgd.yaml", *GROWING),
        "3 classes on 2 inputs": (
            "train", "configs/adam.yaml", "--set", f"data.path={csv}", "--set", "data.permute_seed=0",
            "--set", "data.test_size=0.2", "--set", "model.output=softmax", "--epochs", "30",
        ),
        "8 compare entries": ("compare", *EIGHT, "--epochs", "20"),
        "sweep of one key": ("sweep", "configs/sgd.yaml", "--grid", "optimizer.lr=0.003,0.01,0.03",
                             "--set", "train.epochs=20"),
        "sweep of three keys": (
            "sweep", "configs/sgd.yaml", "--grid", "optimizer.name=sgd,adam",
            "--grid", "optimizer.lr=0.01,0.1", "--grid", "data.batch_size=16,32", "--set", "train.epochs=20",
        ),
        "sweep of a non-numeric key": ("sweep", "configs/sgd.yaml", "--grid", "optimizer.name=sgd,sgdm,adam",
                                       "--set", "train.epochs=20"),
    }  # fmt: skip


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """For each case, the figures it saved by file name (and its output under "output")."""
    tmp = tmp_path_factory.mktemp("pictures")
    out: dict[str, dict[str, Any]] = {}
    with pytest.MonkeyPatch.context() as mp:
        figures: dict[str, Any] = {}
        original = plots.save

        def spy(fig: Any, path: Path) -> None:
            figures[Path(path).name] = fig
            original(fig, path)

        mp.setattr(plots, "save", spy)
        mp.setattr(report.os, "cpu_count", lambda: 1)  # drawn here, where the spy sees them
        for name, args in cases(tmp).items():
            figures.clear()
            result = CliRunner().invoke(cli, [*args, "--runs-root", str(tmp / "runs"), "--quiet"])
            assert result.exit_code in (0, 3), (name, result.output)
            out[name] = {**figures, "output": result.output}
    return out


CASES = (
    "one epoch", "diverged at epoch 1", "diverged late", "3 classes on 2 inputs", "8 compare entries",
    "sweep of one key", "sweep of three keys", "sweep of a non-numeric key",
)  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_every_picture_of_the_edge_cases_is_readable(drawn: dict[str, dict[str, Any]], case: str) -> None:
    figures = {k: v for k, v in drawn[case].items() if k.endswith(".png")}
    assert figures
    found = {name: problems(fig) for name, fig in figures.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}
