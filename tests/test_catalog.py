"""The run catalog: what `nnopt runs` lists and `nnopt show` prints, over folders the commands really wrote
and folders broken by hand."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from nnopt_cli import config as config_mod
from nnopt_cli.cli import cli
from nnopt_cli.cli import console as console_mod
from nnopt_cli.figures import report
from nnopt_cli.store import catalog

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"

# Every folder of the shared runs root, oldest first, with the kind and status scan() must find.
EXPECTED = {
    "20260301-090000-sgd": ("train", "completed"),
    "20260301-090100-sgd": ("train", "diverged"),
    "20260301-090200-quadratic": ("quadratic", "completed"),
    "20260301-090300-compare": ("compare", "completed"),
    "20260301-090400-adam": ("train", "completed"),  # iris, with a test split
    "20260301-090500-sgd": ("train", "interrupted"),
    "20260301-090600-sweep-lrs": ("sweep", "completed"),
    "20260301-090700-sgd": ("train", "incomplete"),  # summary.json is not JSON
    "20260301-090800-sgd": ("train", "incomplete"),  # no summary.json
    "20260301-090900-compare": ("compare", "incomplete"),  # no compare.csv
    "20260301-091000-sgd": ("train", "incomplete"),  # config.yaml is not YAML
    "20260301-091100-sweep-cut": ("sweep", "incomplete"),  # a sweep's folder without summary.json
    "renamed-by-hand": ("train", "completed"),  # no stamp, but a run's files
}
SKIPPED = ("20260301-091200-lr-exponential.png", "notes", ".20260301-091300-sgd")

SWEEP_SUMMARY = {
    "kind": "sweep",
    "name": "lrs",
    "status": "completed",
    "runs": 6,
    "diverged": 1,
    "best": {"metric": "final_accuracy", "value": 0.97, "cell": {"optimizer.lr": 0.05}},
    "train_seconds": 1.5,
    "total_seconds": 4.0,
}


def _run(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 3), result.output  # 3: the diverged run


def _latest(tmp: Path, name: str) -> Path:
    """Give the folder a command just wrote (the only one in `tmp`) its place in EXPECTED."""
    (made,) = [p for p in tmp.iterdir() if p.is_dir()]
    return made.rename(tmp.parent / name)


def _train(tmp: Path, name: str, config: Path, *sets: str) -> Path:
    args = ["train", str(config), "--runs-root", str(tmp), "--quiet"]
    for item in sets:
        args += ["--set", item]
    _run(*args)
    return _latest(tmp, name)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A runs root as a week of work leaves it: runs the commands really wrote (without pictures, which
    the catalog never reads), renamed to known stamps, and folders broken by hand."""
    runs = tmp_path_factory.mktemp("runs")
    tmp = runs / ".incoming"  # hidden: scan() skips it
    tmp.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "draw", lambda jobs, **kw: None)
        mp.setattr(report, "draw_quadratic", lambda folder, h: None)
        sgd = _train(tmp, "20260301-090000-sgd", CONFIGS / "sgd.yaml", "train.epochs=5")
        _train(tmp, "20260301-090100-sgd", CONFIGS / "sgd.yaml", "train.epochs=5", "optimizer.lr=50")
        _train(tmp, "20260301-090200-quadratic", CONFIGS / "quadratic.yaml")
        _run("compare", "sgd", "adam", "--epochs", "3", "--runs-root", str(tmp), "--quiet")
        compare = _latest(tmp, "20260301-090300-compare")
        _train(tmp, "20260301-090400-adam", CONFIGS / "iris" / "adam.yaml", "train.epochs=5")
    tmp.rmdir()

    # interrupted: the folder a Ctrl-C leaves differs from a completed one only in its summary
    cut = runs / "20260301-090500-sgd"
    shutil.copytree(sgd, cut)
    summary = json.loads((cut / "summary.json").read_text())
    (cut / "summary.json").write_text(json.dumps({**summary, "status": "interrupted", "epochs_done": 3}))

    sweep = runs / "20260301-090600-sweep-lrs"
    sweep.mkdir()
    (sweep / "config.yaml").write_text("grid: {optimizer.lr: [0.01, 0.05, 0.1]}\nseeds: [0, 1]\n")
    (sweep / "sweep.csv").write_text("folder,final_accuracy\n")
    (sweep / "cells.csv").write_text("optimizer.lr,runs\n")
    (sweep / "summary.json").write_text(json.dumps(SWEEP_SUMMARY))

    bad_json = shutil.copytree(sgd, runs / "20260301-090700-sgd")
    (bad_json / "summary.json").write_text('{"status": "completed", ')
    no_summary = shutil.copytree(sgd, runs / "20260301-090800-sgd")
    (no_summary / "summary.json").unlink()
    no_csv = shutil.copytree(compare, runs / "20260301-090900-compare")
    (no_csv / "compare.csv").unlink()
    bad_yaml = shutil.copytree(sgd, runs / "20260301-091000-sgd")
    (bad_yaml / "config.yaml").write_text("optimizer: {name: sgd\nlr: [\n")
    cut_sweep = runs / "20260301-091100-sweep-cut"
    cut_sweep.mkdir()
    (cut_sweep / "config.yaml").write_text("grid: {optimizer.lr: [0.1]}\n")
    (cut_sweep / "sweep.csv").write_text("folder\n")
    shutil.copytree(sgd, runs / "renamed-by-hand")

    (runs / SKIPPED[0]).write_bytes(b"\x89PNG\r\n\x1a\n")  # plot-lr's picture
    (runs / SKIPPED[1]).mkdir()  # an unrelated folder
    (runs / SKIPPED[1] / "todo.txt").write_text("try adam\n")
    shutil.copytree(sgd, runs / SKIPPED[2])  # a hidden folder
    old = datetime(2026, 1, 1).timestamp()  # the unstamped run sorts by its mtime: the oldest
    os.utime(runs / "renamed-by-hand", (old, old))
    yield runs


@pytest.fixture(scope="module")
def records(root: Path) -> list[catalog.RunRecord]:
    return catalog.scan(root)


def by_folder(records: list[catalog.RunRecord]) -> dict[str, catalog.RunRecord]:
    return {r.folder.name: r for r in records}


# --- scan -------------------------------------------------------------------------------------------


def test_every_run_folder_is_listed_with_its_kind_and_status(records: list[catalog.RunRecord]) -> None:
    found = {r.folder.name: (r.kind, r.status) for r in records}
    assert found == EXPECTED  # files, hidden and unrelated folders skipped


def test_newest_first_by_stamp_and_an_unstamped_folder_by_its_mtime(
    records: list[catalog.RunRecord],
) -> None:
    stamped = sorted((n for n in EXPECTED if n[0].isdigit()), reverse=True)
    assert [r.folder.name for r in records] == [*stamped, "renamed-by-hand"]
    assert records[0].started == datetime(2026, 3, 1, 9, 11, 0)
    assert records[-1].started == datetime(2026, 1, 1)


def test_a_train_run_carries_its_config_and_summary(records: list[catalog.RunRecord], root: Path) -> None:
    r = by_folder(records)["20260301-090000-sgd"]
    summary = json.loads((root / r.folder.name / "summary.json").read_text())
    assert (r.name, r.optimizer, r.lr, r.schedule) == ("sgd", "sgd", 0.005, "constant")
    assert r.epochs_done == 5
    assert r.final_loss == summary["final_loss"] and r.final_accuracy == summary["final_accuracy"]
    assert r.train_seconds == summary["train_seconds"]
    assert r.final_test_accuracy is None and r.entries is None and r.children == ()


def test_test_accuracy_only_with_a_split(records: list[catalog.RunRecord], root: Path) -> None:
    r = by_folder(records)["20260301-090400-adam"]
    summary = json.loads((root / r.folder.name / "summary.json").read_text())
    assert r.final_test_accuracy == summary["final_test_accuracy"]
    assert (r.optimizer, r.lr) == ("adam", 0.1)


def test_diverged_and_interrupted_runs_say_why(records: list[catalog.RunRecord]) -> None:
    wild = by_folder(records)["20260301-090100-sgd"]
    assert wild.lr == 50 and wild.final_loss is None and wild.final_accuracy is None
    assert "diverged" in wild.note
    assert by_folder(records)["20260301-090500-sgd"].epochs_done == 3


def test_a_comparison_lists_its_entries_in_its_table_order(records: list[catalog.RunRecord]) -> None:
    r = by_folder(records)["20260301-090300-compare"]
    assert r.name == "compare" and r.entries == 2
    assert [c.folder.name for c in r.children] == ["sgd", "adam"]  # compare.csv's order, not the alphabet
    assert [c.optimizer for c in r.children] == ["sgd", "adam"]
    assert all(c.status == "completed" and c.epochs_done == 3 for c in r.children)
    assert r.optimizer == "sgd,adam" and r.lr == 0.005  # both at the base rate
    assert r.final_loss == min(c.final_loss for c in r.children if c.final_loss is not None)
    assert r.final_accuracy == max(c.final_accuracy for c in r.children if c.final_accuracy is not None)
    # the two entries trained as one population: one loop, counted once
    assert r.train_seconds == r.children[0].train_seconds == r.children[1].train_seconds


def test_a_comparison_without_compare_csv_is_incomplete_with_its_entries(
    records: list[catalog.RunRecord],
) -> None:
    r = by_folder(records)["20260301-090900-compare"]
    assert r.note == "no compare.csv" and r.entries == 2 and len(r.children) == 2


def test_a_sweep_is_one_line_with_its_runs_and_best_cell(records: list[catalog.RunRecord]) -> None:
    r = by_folder(records)["20260301-090600-sweep-lrs"]
    assert (r.name, r.entries, r.train_seconds) == ("lrs", 6, 1.5)
    assert r.final_accuracy == 0.97 and r.final_loss is None  # the best cell's metric, in its column
    assert "optimizer.lr=0.05" in r.note and "1 diverged" in r.note
    assert r.children == ()


def test_a_sweep_summary_with_fields_missing_is_still_listed(tmp_path: Path) -> None:
    folder = tmp_path / "20260301-100000-sweep-x"
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({"kind": "sweep", "status": "completed", "best": None}))
    (r,) = catalog.scan(tmp_path)
    assert (r.kind, r.status, r.name, r.entries, r.train_seconds) == ("sweep", "completed", "x", None, None)
    (folder / "summary.json").write_text(json.dumps({"kind": "sweep", "runs": "many", "best": [1]}))
    (r,) = catalog.scan(tmp_path)
    assert (r.status, r.entries) == ("incomplete", None)


def test_unreadable_folders_say_why_they_are_incomplete(records: list[catalog.RunRecord]) -> None:
    found = by_folder(records)
    assert found["20260301-090700-sgd"].note == "summary.json: not valid JSON"
    assert found["20260301-090800-sgd"].note == "no summary.json"
    assert found["20260301-091000-sgd"].note.startswith("config.yaml")
    assert found["20260301-091000-sgd"].optimizer is None
    assert found["20260301-091100-sweep-cut"].note == "no summary.json"


@pytest.mark.parametrize(
    "summary",
    ["[1, 2]", '{"status": "finished"}', '{"status": "completed", "final_loss": "low", "epochs_done": 1.5}'],
)
def test_odd_summaries_never_raise(tmp_path: Path, summary: str) -> None:
    folder = tmp_path / "20260301-100000-run"
    folder.mkdir()
    (folder / "config.yaml").write_text(config_mod.from_dict({}).to_yaml())
    (folder / "summary.json").write_text(summary)
    (r,) = catalog.scan(tmp_path)
    assert r.final_loss is None and r.epochs_done is None
    assert r.status == ("completed" if "low" in summary else "incomplete")


@pytest.mark.parametrize(
    ("text", "schedule"),
    [
        # as nnopt writes it (flow sections, wrapped), then by hand: block style, comments, 1e-2, quotes,
        # a section left out (its default)
        (config_mod.from_dict({"optimizer": {"name": "rmsprop", "lr": 0.01}}).to_yaml(), "constant"),
        (
            "model:\n  type: mlp\n  hidden: [16, 8]\noptimizer:\n  name: rmsprop\n  lr: 0.01\n"
            "schedule:\n  type: exponential\n  decay_steps: 10\n",
            "exponential",
        ),
        (
            "# tuned\noptimizer: {name: rmsprop, lr: 1e-2}  # best of three\nschedule: {type: exponential}\n",
            "exponential",
        ),
        ("optimizer:\n  name: 'rmsprop'\n  lr: 0.01\nschedule: {type: \"exponential\"}\n", "exponential"),
        ("optimizer: {name: rmsprop, lr: 0.01}\n", "constant"),
    ],
)
def test_config_fields_are_read_from_any_spelling(tmp_path: Path, text: str, schedule: str) -> None:
    folder = tmp_path / "20260301-100000-run"
    folder.mkdir()
    (folder / "config.yaml").write_text(text)
    (folder / "summary.json").write_text('{"status": "completed"}')
    r = catalog.read_folder(folder)
    assert r is not None and (r.kind, r.status) == ("train", "completed")
    assert (r.optimizer, r.lr, r.schedule) == ("rmsprop", 0.01, schedule)


def test_a_missing_root_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(catalog.CatalogError, match="no such folder"):
        catalog.scan(tmp_path / "nowhere")
    (tmp_path / "file").write_text("")
    with pytest.raises(catalog.CatalogError, match="not a folder"):
        catalog.scan(tmp_path / "file")
    assert catalog.scan(tmp_path) == []


# --- filter, sort, limit ----------------------------------------------------------------------------


def test_filter_by_status_and_name(records: list[catalog.RunRecord]) -> None:
    done = catalog.filter_records(records, status="completed")
    assert {r.folder.name for r in done} == {n for n, (_, s) in EXPECTED.items() if s == "completed"}
    sgd = catalog.filter_records(records, name_glob="sg*")
    assert {r.name for r in sgd} == {"sgd"} and len(sgd) == 7  # renamed-by-hand's summary says sgd
    assert [r.folder.name for r in catalog.filter_records(records, name_glob="*0903*")] == [
        "20260301-090300-compare"
    ]
    both = catalog.filter_records(records, status="incomplete", name_glob="compare")
    assert [r.folder.name for r in both] == ["20260301-090900-compare"]
    with pytest.raises(catalog.CatalogError, match="known: completed, interrupted"):
        catalog.filter_records(records, status="done")


def test_sort_puts_runs_without_a_value_last_either_way(records: list[catalog.RunRecord]) -> None:
    by_loss = catalog.sort_records(records, "final_loss")
    losses = [r.final_loss for r in by_loss]
    known = [x for x in losses if x is not None]
    assert known == sorted(known) and losses[len(known) :] == [None] * (len(losses) - len(known))
    reverse = [r.final_loss for r in catalog.sort_records(records, "-final_loss")]
    assert reverse[: len(known)] == sorted(known, reverse=True)
    assert reverse[len(known) :] == [None] * (len(losses) - len(known))


def test_sort_orders_accuracy_best_first_and_takes_the_table_headers(
    records: list[catalog.RunRecord],
) -> None:
    by_accuracy = catalog.sort_records(records, "accuracy")  # the table's header for final_accuracy
    values = [r.final_accuracy for r in by_accuracy if r.final_accuracy is not None]
    assert values == sorted(values, reverse=True)
    up = catalog.sort_records(records, "final_accuracy", descending=False)
    assert [r.final_accuracy for r in up if r.final_accuracy is not None] == sorted(values)
    ties = catalog.sort_records(records, "kind")  # equal kinds keep scan's newest-first order
    trains = [r.folder.name for r in ties if r.kind == "train"]
    assert trains == [r.folder.name for r in records if r.kind == "train"]


def test_an_unknown_sort_column_names_the_allowed_ones(records: list[catalog.RunRecord]) -> None:
    with pytest.raises(catalog.CatalogError) as caught:
        catalog.sort_records(records, "speed")
    message = str(caught.value)
    assert "\n" not in message and "'speed'" in message
    assert all(column in message for column in catalog.SORT_COLUMNS)
    with pytest.raises(catalog.CatalogError, match="did you mean 'final_loss'"):
        catalog.sort_records(records, "final_los")


def test_limit(records: list[catalog.RunRecord]) -> None:
    assert catalog.limit(records, 3) == records[:3]
    assert catalog.limit(records, None) == records
    assert catalog.limit(records, 100) == records
    with pytest.raises(catalog.CatalogError):
        catalog.limit(records, -1)


# --- csv and json -----------------------------------------------------------------------------------


def test_rows_hold_every_column_and_the_entries_follow_their_comparison(
    records: list[catalog.RunRecord],
) -> None:
    rows = catalog.as_rows(records, all_entries=True)
    assert all(list(row) == list(catalog.COLUMNS) for row in rows)
    assert len(rows) == len(records) + sum(len(r.children) for r in records)
    i = next(i for i, row in enumerate(rows) if row["folder"].endswith("20260301-090300-compare"))
    assert [row["name"] for row in rows[i : i + 3]] == ["compare", "sgd", "adam"]
    assert rows[i + 1]["parent"] == rows[i]["folder"] and rows[i]["parent"] is None
    assert len(catalog.as_rows(records)) == len(records)


def test_csv_and_json_round_trip(records: list[catalog.RunRecord]) -> None:
    rows = catalog.as_rows(records, all_entries=True)
    from_json = json.loads(catalog.to_json(rows))
    assert from_json == rows
    from_csv = list(csv.DictReader(io.StringIO(catalog.to_csv(rows))))
    assert len(from_csv) == len(rows)
    for row, read in zip(rows, from_csv, strict=True):
        assert list(read) == list(catalog.COLUMNS)
        for column, value in row.items():
            if value is None:
                assert read[column] == ""
            elif isinstance(value, float):
                assert float(read[column]) == value  # shortest round-trip form, never rounded
            else:
                assert read[column] == str(value)
    note = next(r for r in rows if "diverged at epoch" in r["note"])["note"]
    assert len(note) > 40 and note in catalog.to_csv(rows)  # nothing shortened


def test_an_empty_listing_is_a_header_or_an_empty_array() -> None:
    assert catalog.to_csv([]) == ",".join(catalog.COLUMNS) + "\n"
    assert json.loads(catalog.to_json([])) == []


# --- resolve ----------------------------------------------------------------------------------------


def test_resolve_by_prefix_suffix_exact_name_and_path(root: Path) -> None:
    assert catalog.resolve("20260301-0902", root) == root / "20260301-090200-quadratic"
    assert catalog.resolve("quadratic", root) == root / "20260301-090200-quadratic"
    assert catalog.resolve("sweep-lrs", root) == root / "20260301-090600-sweep-lrs"
    assert catalog.resolve("renamed-by-hand", root) == root / "renamed-by-hand"
    entry = root / "20260301-090300-compare" / "adam"
    assert catalog.resolve(str(entry), root) == entry
    assert catalog.resolve("20260301-090300-compare/adam", root) == entry


def test_resolve_names_the_candidates_of_an_ambiguous_run(root: Path) -> None:
    with pytest.raises(catalog.CatalogError) as caught:
        catalog.resolve("sgd", root)
    message = str(caught.value)
    assert "matches 6 runs" in message and "20260301-091000-sgd" in message  # newest first
    assert "and 2 more" in message and "\n" not in message


def test_resolve_an_unknown_run(root: Path, tmp_path: Path) -> None:
    with pytest.raises(catalog.CatalogError, match=r"starts or ends with '0904'; containing it: 2026"):
        catalog.resolve("0904", root)
    with pytest.raises(catalog.CatalogError, match="no such run folder"):
        catalog.resolve(str(tmp_path / "gone" / "run"), root)
    with pytest.raises(catalog.CatalogError, match="no such folder"):
        catalog.resolve("sgd", tmp_path / "nowhere")
    with pytest.raises(catalog.CatalogError):
        catalog.resolve("", root)


# --- details ----------------------------------------------------------------------------------------


def test_details_list_exactly_the_keys_that_differ_from_the_defaults(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "draw", lambda jobs, **kw: None)
        sets = [
            "train.epochs=2",
            "optimizer.name=adam",
            "optimizer.lr=0.01",
            "optimizer.beta2=0.99",
            "data.batch_size=16",
            "schedule.type=exponential",
            "schedule.decay_steps=100",
            "schedule.decay_rate=0.9",
            "schedule.staircase=false",  # exponential's default: not listed
        ]
        options = [a for item in sets for a in ("--set", item)]
        _run("train", str(CONFIGS / "sgd.yaml"), "--runs-root", str(tmp_path), "--quiet", *options)
    (folder,) = tmp_path.iterdir()
    d = catalog.details(folder)
    changed = {c.key: (c.value, c.default, c.has_default) for c in d.changes}
    assert changed == {
        "data.batch_size": (16, 32, True),
        "optimizer.name": ("adam", "sgd", True),
        "optimizer.lr": (0.01, 0.005, True),
        "optimizer.beta2": (0.99, 0.999, True),  # compared with adam's own default
        "schedule.type": ("exponential", "constant", True),
        "schedule.decay_steps": (100, None, False),  # required: it has no default
        "schedule.decay_rate": (0.9, None, False),
        "train.epochs": (2, 800, True),
    }
    assert d.summary == json.loads((folder / "summary.json").read_text())
    assert d.record.status == "completed" and d.problems == []


def test_config_changes_against_the_defaults() -> None:
    assert catalog.config_changes(config_mod.from_dict({}, name="x").to_dict()) == []
    raw = config_mod.from_dict({"model": {"hidden": [16, 8]}, "data": {"shuffle": True}}, name="y").to_dict()
    assert [(c.key, c.value, c.default) for c in catalog.config_changes(raw)] == [
        ("data.shuffle", True, False),
        ("model.hidden", [16, 8], 11),
    ]


def test_config_changes_take_an_optimizers_own_defaults() -> None:
    # adadelta's lr 1.0 and rho 0.9 are its defaults; a clip_norm is a change
    raw = config_mod.from_dict({"optimizer": {"name": "adadelta", "clip_norm": 1.0}}, name="z").to_dict()
    assert [(c.key, c.value, c.default) for c in catalog.config_changes(raw)] == [
        ("optimizer.name", "adadelta", "sgd"),
        ("optimizer.clip_norm", 1.0, None),
    ]


def test_details_list_the_files_with_their_sizes(root: Path) -> None:
    folder = root / "20260301-090000-sgd"
    d = catalog.details(folder)
    sizes = {f.name: f.size for f in d.files}
    assert sizes == {p.name: p.stat().st_size for p in folder.iterdir()}
    assert d.changes == [catalog.ConfigChange("train.epochs", 5, 800)]
    compare = catalog.details(root / "20260301-090300-compare")
    assert compare.record.entries == 2 and compare.changes == []
    entry = next(f for f in compare.files if f.name == "sgd/")
    inside = list((compare.folder / "sgd").iterdir())
    assert (entry.files, entry.size) == (len(inside), sum(p.stat().st_size for p in inside))


def test_details_of_broken_folders_say_what_is_wrong(root: Path) -> None:
    d = catalog.details(root / "20260301-090700-sgd")
    assert d.record.status == "incomplete" and d.summary == {}
    assert d.problems == ["summary.json: not valid JSON"]
    assert catalog.details(root / "20260301-091000-sgd").problems[0].startswith("config.yaml")
    with pytest.raises(catalog.CatalogError):
        catalog.details(root / "nowhere")


# --- the terminal -----------------------------------------------------------------------------------


def render(renderable: object) -> str:
    out = console_mod.console(io.StringIO())
    out.print(renderable)
    return out.file.getvalue()  # type: ignore[attr-defined]


def test_table_shows_every_run_and_with_all_the_entries_under_their_comparison(
    records: list[catalog.RunRecord],
) -> None:
    text = render(catalog.table(records))
    lines = text.splitlines()
    rows = [line for line in lines if "20260301-" in line or "renamed-by-hand" in line]
    assert [line.split()[0] for line in rows] == [r.folder.name for r in records]
    assert "test" in text and "runs" in text and "└" not in text
    sweep = next(line for line in rows if "sweep-lrs" in line)
    assert "97.00%" in sweep and sweep.rstrip().endswith("6")
    full = render(catalog.table(records, all_entries=True)).splitlines()
    i = next(i for i, line in enumerate(full) if "20260301-090300-compare" in line)
    assert full[i + 1].split()[:2] == ["└", "sgd"] and full[i + 2].split()[:2] == ["└", "adam"]


def test_table_leaves_out_the_test_and_runs_columns_when_empty(records: list[catalog.RunRecord]) -> None:
    text = render(catalog.table([by_folder(records)["20260301-090000-sgd"]]))
    assert "accuracy" in text and "test" not in text and "runs" not in text


def test_a_narrow_terminal_drops_whole_columns_never_the_run(records: list[catalog.RunRecord]) -> None:
    wide = render(catalog.table(records, width=200))
    assert "schedule" in wide and "kind" in wide
    narrow = render(catalog.table(records, width=80)).splitlines()
    assert max(len(line.rstrip()) for line in narrow) <= 80
    header = " ".join(narrow[:4])
    assert "schedule" not in header and "kind" not in header and "status" in header and "loss" in header
    assert any(line.split()[:2] == ["20260301-090600-sweep-lrs", "completed"] for line in narrow)


def test_show_panel_prints_the_summary_the_changes_and_the_files(root: Path) -> None:
    text = render(catalog.show_panel(catalog.details(root / "20260301-090100-sgd")))
    for expected in (
        "diverged",
        "optimizer.lr",
        "50",
        "0.005",
        "train.epochs",
        "summary.json",
        "config.yaml",
    ):
        assert expected in text
    compare = render(catalog.show_panel(catalog.details(root / "20260301-090300-compare")))
    assert "entries" in compare and "sgd/" in compare and "adam" in compare
    sweep = render(catalog.show_panel(catalog.details(root / "20260301-090600-sweep-lrs")))
    assert "optimizer.lr=0.05" in sweep and "every key at its default" not in sweep


def test_the_written_config_is_what_scan_reads(root: Path) -> None:
    """The fields come from config.yaml as training wrote it (a regression guard for the quick reader)."""
    for r in catalog.scan(root):
        text = (r.folder / "config.yaml").read_text() if (r.folder / "config.yaml").is_file() else ""
        if r.kind not in ("train", "quadratic") or r.status == "incomplete" or not text:
            continue
        raw = yaml.safe_load(text)
        assert (r.optimizer, r.lr, r.schedule) == (
            raw["optimizer"]["name"],
            raw["optimizer"]["lr"],
            raw["schedule"]["type"],
        )


def test_sort_columns_take_their_direction_from_the_metrics_table() -> None:
    # summary.json, compare.csv and sweep.csv say final_test_accuracy; the listing's column is named so too
    assert catalog.sort_column("final_test_accuracy") == ("final_test_accuracy", True)
    assert catalog.sort_column("test_accuracy") == ("final_test_accuracy", True)  # the old name
    assert catalog.sort_column("final_loss") == ("final_loss", False)
    assert catalog.sort_column("-final_accuracy") == ("final_accuracy", False)
