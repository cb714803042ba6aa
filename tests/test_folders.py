"""The kinds of folder (store/folders.py): what each command writes is recognised as its kind by every reader
(nnopt runs, replot, resume), also when cut off early or written by an older version."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from nnopt_cli.cli import cli
from nnopt_cli.figures import report
from nnopt_cli.store import catalog, folders

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _run(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _only(root: Path) -> Path:
    (made,) = [p for p in root.iterdir() if p.is_dir()]
    return made


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """One folder of each kind, as the commands write them (pictures skipped: kinds never read them)."""
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "draw", lambda jobs, **kw: None)
        mp.setattr(report, "draw_quadratic", lambda folder, h: None)
        for kind, args in {
            folders.TRAIN: ["train", str(CONFIGS / "sgd.yaml"), "--epochs", "2"],
            folders.TOY: ["train", str(CONFIGS / "quadratic.yaml")],
            folders.SURFACE: ["train", str(CONFIGS / "valley.yaml")],
            folders.COMPARISON: ["compare", "sgd", "adam", "--epochs", "2", "--seeds", "2"],
            folders.SWEEP: [
                "sweep",
                str(CONFIGS / "sgd.yaml"),
                "--grid",
                "optimizer.lr=0.01,0.1",
                "--set",
                "train.epochs=2",
                "--jobs",
                "1",
                "--save-runs",
            ],
            folders.LRFIND: ["lr-find", str(CONFIGS / "sgd.yaml"), "--steps", "20"],
        }.items():
            root = tmp_path_factory.mktemp(kind)
            _run(*args, "--runs-root", str(root), *(["--quiet"] if kind != folders.LRFIND else []))
            out[kind] = _only(root)
        # an overlay of a train run and a sweep's saved run
        root = tmp_path_factory.mktemp(folders.OVERLAY)
        saved = sorted((out[folders.SWEEP] / "runs").iterdir())[0]
        _run("overlay", str(out[folders.TRAIN]), str(saved), "--runs-root", str(root))
        out[folders.OVERLAY] = _only(root)
    yield out


@pytest.mark.parametrize("kind", folders.KINDS)
def test_each_command_s_folder_is_its_kind(made: dict[str, Path], kind: str) -> None:
    assert folders.kind_of(made[kind]) == kind
    assert catalog.read_folder(made[kind]).kind == kind


def test_the_entries_of_a_comparison_and_the_runs_of_a_sweep_are_runs(made: dict[str, Path]) -> None:
    entries = folders.entry_folders(made[folders.COMPARISON])
    assert [e.name for e in entries] == ["adam-seed0", "adam-seed1", "sgd-seed0", "sgd-seed1"]
    assert {folders.kind_of(e) for e in entries} == {folders.TRAIN}
    saved = sorted((made[folders.SWEEP] / "runs").iterdir())
    assert len(saved) == 2 and {folders.kind_of(s) for s in saved} == {folders.TRAIN}


def test_a_summary_says_its_kind(made: dict[str, Path]) -> None:
    for kind in (folders.TRAIN, folders.TOY, folders.SURFACE, folders.SWEEP, folders.LRFIND):
        assert json.loads((made[kind] / folders.SUMMARY).read_text())["kind"] == kind


def test_folders_of_older_versions_without_a_kind_are_still_told_apart(
    made: dict[str, Path], tmp_path: Path
) -> None:
    for kind in (folders.TRAIN, folders.TOY, folders.SURFACE):
        old = shutil.copytree(made[kind], tmp_path / kind)
        summary = json.loads((old / folders.SUMMARY).read_text())
        del summary["kind"]
        (old / folders.SUMMARY).write_text(json.dumps(summary))
        assert folders.kind_of(old) == kind


def test_a_sweep_cut_off_before_its_results_is_a_sweep_listed_incomplete(
    made: dict[str, Path], tmp_path: Path
) -> None:
    cut = tmp_path / made[folders.SWEEP].name
    cut.mkdir()
    shutil.copy(made[folders.SWEEP] / folders.CONFIG, cut / folders.CONFIG)  # the first file a sweep writes
    assert folders.kind_of(cut) == folders.SWEEP
    record = catalog.read_folder(cut)
    assert (record.kind, record.status) == (folders.SWEEP, folders.INCOMPLETE)


def test_a_range_test_cut_off_before_its_summary_is_listed_incomplete(
    made: dict[str, Path], tmp_path: Path
) -> None:
    cut = tmp_path / made[folders.LRFIND].name
    cut.mkdir()
    shutil.copy(made[folders.LRFIND] / folders.CONFIG, cut / folders.CONFIG)  # its first file
    assert folders.kind_of(cut) == folders.LRFIND
    record = catalog.read_folder(cut)
    assert (record.kind, record.status) == (folders.LRFIND, folders.INCOMPLETE)
    result = CliRunner().invoke(cli, ["train", "--resume", str(made[folders.LRFIND])])
    assert result.exit_code == 2 and "a learning-rate range test, not a run" in result.output


def test_a_sweep_cannot_be_resumed_but_its_saved_runs_can(made: dict[str, Path]) -> None:
    sweep = made[folders.SWEEP]
    result = CliRunner().invoke(cli, ["train", "--resume", str(sweep), "--runs-root", str(sweep.parent)])
    assert result.exit_code == 2
    assert "a sweep, not a run; its saved runs in runs/ can be resumed, e.g. " in result.output
    assert str(sweep / "runs") in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_folder_nnopt_did_not_write_has_no_kind(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("try adam\n")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG")
    assert folders.kind_of(tmp_path / "notes") is None
    assert folders.kind_of(tmp_path / "picture.png") is None
    assert folders.kind_of(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("name", "seed", "seeds", "folder"),
    [("adam", 0, 1, "adam"), ("adam", 3, 2, "adam-seed3"), ("my-seed-x", 12, 5, "my-seed-x-seed12")],
)
def test_entry_folder_names_read_back(name: str, seed: int, seeds: int, folder: str) -> None:
    assert folders.entry_folder_name(name, seed, seeds) == folder
    assert folders.entry_of(folder) == (name, None if seeds == 1 else seed)


def test_a_save_runs_sweep_cut_off_before_runs_exists_is_a_sweep_to_runs_and_resume(
    made: dict[str, Path], tmp_path: Path
) -> None:
    # issue 18, items 23 and 24: a sweep killed after its config.yaml, before runs/ was made
    cut = tmp_path / made[folders.SWEEP].name
    cut.mkdir()
    shutil.copy(made[folders.SWEEP] / folders.CONFIG, cut / folders.CONFIG)
    listed = CliRunner().invoke(cli, ["runs", str(tmp_path), "--format", "json"])
    (record,) = json.loads(listed.output)
    assert (record["kind"], record["status"]) == (folders.SWEEP, folders.INCOMPLETE)
    resumed = CliRunner().invoke(cli, ["train", "--resume", str(cut), "--runs-root", str(tmp_path)])
    assert resumed.exit_code == 2
    assert resumed.output == (
        f"Error: --resume {cut}: a sweep, not a run; its saved runs in runs/ can be resumed (a sweep run "
        "with --save-runs keeps them)\n"
    )


def test_a_surface_cut_off_before_its_summary_is_a_surface_listed_incomplete(
    made: dict[str, Path], tmp_path: Path
) -> None:
    cut = tmp_path / made[folders.SURFACE].name
    cut.mkdir()
    shutil.copy(made[folders.SURFACE] / folders.CONFIG, cut / folders.CONFIG)
    assert folders.kind_of(cut) == folders.SURFACE
    record = catalog.read_folder(cut)
    assert (record.kind, record.status) == (folders.SURFACE, folders.INCOMPLETE)
