"""`nnopt overlay`: past runs in one picture; overlay.csv equal to each run's metrics.csv; the refusals."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from figure_checks import problems

from nnopt_cli.cli import cli
from nnopt_cli.experiments import overlay
from nnopt_cli.figures import overlayplot, report
from nnopt_cli.store import catalog, folders

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _no_pictures(jobs: Any, *, workers: int | None = None) -> dict[Path, str]:
    return {}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Short runs of every kind an overlay takes, and a few it refuses; drawn without pictures."""
    root = tmp_path_factory.mktemp("runs")
    quiet = ("--runs-root", str(root), "--quiet")
    l2 = str(CONFIGS / "l2.yaml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "draw", _no_pictures)
        steps = [
            ("l2", ("train", l2, "--epochs", "6", *quiet)),
            ("fast", ("train", l2, "--epochs", "6", "--lr", "0.05", "--set", "name=fast", *quiet)),
            ("split", ("train", l2, "--epochs", "6", "--set", "data.test_size=0.2", "--set", "name=split",
                       *quiet)),
            ("compare", ("compare", "sgd", "adam", "--epochs", "4", *quiet)),
            ("toy", ("train", str(CONFIGS / "quadratic.yaml"), *quiet)),
        ]  # fmt: skip
        found: dict[str, Path] = {}
        for key, args in steps:
            before = set(root.iterdir())
            code, output = _invoke(*args)
            assert code == 0, output
            (found[key],) = set(root.iterdir()) - before
        before = set(root.iterdir())
        code, output = _invoke("train", "--resume", str(found["l2"]), "--epochs", "9", *quiet)
        assert code == 0, output
        (found["resumed"],) = set(root.iterdir()) - before
    yield found


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _equal_to_metrics(table: Path, runs: list[Path]) -> None:
    """overlay.csv holds each run's metrics.csv rows, cell for cell, and nothing else."""
    rows = _rows(table)
    assert [r["run"] for r in rows] == [str(run) for run in runs for _ in _rows(run / "metrics.csv")]
    for run in runs:
        own = _rows(run / "metrics.csv")
        mine = [r for r in rows if r["run"] == str(run)]
        assert [{k: r[k] for k in own[0]} for r in mine] == own
        assert all(v == "" for r in mine for k, v in r.items() if k not in own[0] and k != "run")


def test_runs_of_every_kind_in_one_picture(made: dict[str, Path], saved: list[Any], tmp_path: Path) -> None:
    runs = [made["l2"], made["fast"], made["split"], made["resumed"], made["compare"] / "adam"]
    code, output = _invoke("overlay", *map(str, runs), "--runs-root", str(tmp_path))
    assert code == 0, output
    (folder,) = tmp_path.iterdir()
    assert folder.name.endswith("-overlay") and f"overlay folder: {folder}" in output
    assert sorted(p.name for p in folder.iterdir()) == ["overlay.csv", "overlay.png", "summary.json"]
    _equal_to_metrics(folder / "overlay.csv", runs)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["kind"] == "overlay" and [r["run"] for r in summary["runs"]] == list(map(str, runs))
    labels = [r["label"] for r in summary["runs"]]
    # labelled by what differs, never by the folder's name
    assert "optimizer.lr=0.05" in labels[1] and "optimizer.name=adam" in labels[4]
    assert "data.test_size=0.2" in labels[2] and not any(
        r.name in label for r, label in zip(runs[:4], labels[:4], strict=True)
    )
    resumed = summary["runs"][3]
    assert resumed["resumed_from"] == str(made["l2"]) and resumed["resumed_at_epoch"] == 6
    # the picture: a panel per measure, a line per run, the test rows dashed, the resume point ringed
    (fig,) = saved
    assert not problems(fig)
    titles = [ax.get_title() for ax in fig.axes]
    assert [t.split(" ")[0] for t in titles] == ["Loss", "Training", "Learning"]
    loss = fig.axes[0]
    assert [str(line.get_label()) for line in loss.lines[:1]] == [labels[0]]
    assert any(line.get_linestyle() == "--" for line in loss.lines)
    (ring,) = [line for line in loss.lines if line.get_marker() == "o"]
    assert ring.get_xdata()[0] == 6
    joined = next(line for line in loss.lines if line.get_label() == labels[3])
    assert min(joined.get_xdata()) == 6  # its first six epochs are its parent's line
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == legend[: len(labels)] and overlayplot.TEST in legend and overlayplot.RESUMED in legend
    # one owner: its kind, the listing, replot byte for byte
    assert folders.kind_of(folder) == folders.OVERLAY
    (record,) = catalog.scan(tmp_path)
    assert record.kind == "overlay" and record.status == "completed" and record.entries == 5
    before = (folder / "overlay.png").read_bytes()
    (folder / "overlay.png").unlink()
    code, output = _invoke("replot", str(folder))
    assert code == 0, output
    assert (folder / "overlay.png").read_bytes() == before


@pytest.fixture
def blank(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "draw", _no_pictures)


def test_out_writes_the_picture_and_the_curves_beside_it(
    made: dict[str, Path], blank: None, tmp_path: Path
) -> None:
    out = tmp_path / "pair.png"
    root = tmp_path / "runs"
    code, output = _invoke(
        "overlay", str(made["l2"]), str(made["fast"]), "--out", str(out), "--runs-root", str(root)
    )
    assert code == 0, output
    assert not root.exists() and f"wrote {out}, {tmp_path / 'pair.csv'}" in output
    _equal_to_metrics(tmp_path / "pair.csv", [made["l2"], made["fast"]])


def test_runs_by_name_and_status_as_nnopt_runs_takes_them(
    made: dict[str, Path], blank: None, tmp_path: Path
) -> None:
    root = made["l2"].parent
    out = tmp_path / "f.png"
    code, output = _invoke(
        "overlay", "--name", "*fast", "--status", "completed", "--runs-root", str(root), "--out", str(out)
    )
    assert code == 0, output
    assert {r["run"] for r in _rows(tmp_path / "f.csv")} == {str(made["fast"])}
    # a comparison's entries are runs too; the comparison itself is not
    code, output = _invoke("overlay", "--name", "adam", "--runs-root", str(root), "--out", str(out))
    assert code == 0, output
    assert {r["run"] for r in _rows(tmp_path / "f.csv")} == {str(made["compare"] / "adam")}
    code, output = _invoke("overlay", "--name", "nothing*", "--runs-root", str(root), "--out", str(out))
    assert code == 2 and output.count("\n") == 1 and "matches --name nothing*" in output


@pytest.mark.parametrize(
    "case, said",
    [
        ("comparison", "a folder of kind compare, not a run"),
        ("toy and network", "runs of different kinds"),
        ("not nnopt's", "not a folder nnopt wrote"),
        ("not a png", "give a .png file"),
    ],
)
def test_refused_in_one_line_and_nothing_written(
    made: dict[str, Path], blank: None, tmp_path: Path, case: str, said: str
) -> None:
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    args = {
        "comparison": [str(made["compare"])],
        "toy and network": [str(made["toy"]), str(made["l2"])],
        "not nnopt's": [str(stranger)],
        "not a png": [str(made["l2"]), "--out", str(tmp_path / "x.txt")],
    }[case]
    root = tmp_path / "runs"
    code, output = _invoke("overlay", *args, "--runs-root", str(root))
    assert code == 2 and output.startswith("Error: ") and output.count("\n") == 1, output
    assert said in output
    assert not root.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["stranger"]


def test_toy_runs_overlay_per_update(made: dict[str, Path], blank: None, tmp_path: Path) -> None:
    out = tmp_path / "toy.png"
    code, output = _invoke("overlay", str(made["toy"]), "--out", str(out))
    assert code == 0, output
    _equal_to_metrics(tmp_path / "toy.csv", [made["toy"]])
    assert list(_rows(tmp_path / "toy.csv")[0])[:2] == ["run", "step"]


def test_differing_keys_leave_out_what_changes_no_curve() -> None:
    a = {"name": "a", "optimizer": {"name": "sgd", "lr": 0.1}, "plot": {"log_x": True}}
    b = {"name": "b", "optimizer": {"name": "sgd", "lr": 0.2}, "plot": {"log_x": False}}
    assert overlay.differing_keys([a, b]) == ["optimizer.lr"]
    assert overlay.differing_keys([a, {**a, "name": "b"}]) == ["name"]


def test_paths_on_a_surface_overlay_per_step_and_refuse_a_network(
    made: dict[str, Path], saved: list[Any], tmp_path: Path
) -> None:
    rosenbrock = str(CONFIGS / "rosenbrock.yaml")
    root = tmp_path / "runs"
    paths = []
    for lr in ("0.05", "0.02"):
        args = ["train", rosenbrock, "--lr", lr, "--set", "train.steps=60", "--runs-root", str(root), "-q"]
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(report, "draw", _no_pictures)
            code, output = _invoke(*args)
        assert code == 0, output
        paths.append(max(root.iterdir(), key=lambda p: p.stat().st_mtime_ns))
    out = tmp_path / "paths.png"
    code, output = _invoke("overlay", *map(str, paths), "--out", str(out))
    assert code == 0, output
    # overlay.csv: each run's trajectory.csv rows, cell for cell
    rows = _rows(tmp_path / "paths.csv")
    assert list(rows[0]) == ["run", "step", "x", "y", "loss", "lr"]
    for run in paths:
        own = _rows(run / "trajectory.csv")
        assert [{k: r[k] for k in own[0]} for r in rows if r["run"] == str(run)] == own
    (fig,) = saved
    assert not problems(fig)
    assert [ax.get_title() for ax in fig.axes] == [
        "Loss (training objective), log scale",
        "Learning rate of each update, log scale",
    ]
    assert [str(line.get_label()) for line in fig.axes[0].lines] == ["optimizer.lr=0.05", "optimizer.lr=0.02"]
    # runs of different optimizers differ in many keys: the title naming them wraps inside the figure
    args = [
        "train",
        rosenbrock,
        "--set",
        "optimizer.name=momentum",
        "--lr",
        "0.0005",
        "--set",
        "train.steps=60",
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "draw", _no_pictures)
        code, output = _invoke(*args, "--runs-root", str(tmp_path / "other"), "-q")
    assert code == 0, output
    (other,) = (tmp_path / "other").iterdir()
    code, output = _invoke("overlay", str(paths[0]), str(other), "--out", str(tmp_path / "two.png"))
    assert code == 0, output
    assert "optimizer.momentum" in saved[-1].texts[0].get_text() and not problems(saved[-1])
    code, output = _invoke("overlay", str(paths[0]), str(made["l2"]), "--out", str(tmp_path / "mixed.png"))
    assert code == 2 and output.count("\n") == 1, output
    assert output.startswith(
        f"Error: {paths[0]} is a path on a surface (one row per step) and {made['l2']} a network (one row "
        "per epoch): runs of different kinds share no axes"
    )
    assert not (tmp_path / "mixed.png").exists() and not (tmp_path / "mixed.csv").exists()
