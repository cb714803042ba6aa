"""The runs already made: list the folders under a runs root, and look into one.

`scan` reads each folder's summary.json and config.yaml (compare.csv and each entry's two files for a
comparison), never metrics, parameters or pictures, so listing a thousand runs costs a few thousand small
reads. What it finds, folder by folder:

- a file that is not a folder, and a folder whose name starts with "." (a temporary), is skipped;
- a folder whose name has no `<YYYYmmdd-HHMMSS>-` stamp is skipped unless it holds config.yaml, summary.json
  or compare.csv (a run folder someone renamed); its start time is then the folder's mtime;
- a summary.json with `"kind": "sweep"`, or a `sweep-` folder holding sweep.csv, cells.csv or runs/, is a
  sweep: one line with its number of runs and its best cell, read from summary.json alone;
- a summary.json with `"kind": "lrfind"`, or a `lrfind-` folder (or one holding lr_find.csv), is a
  learning-rate range test: one line with its suggestions, read from summary.json alone;
- a folder without config.yaml that holds compare.csv or entry folders (a subfolder with config.yaml) is a
  comparison, one child record per entry folder;
- anything else is a run, `quadratic` when its config.yaml says `model.type: quadratic`, `train` otherwise.

A run is `incomplete` when its last file is missing (summary.json; compare.csv for a comparison) or when
summary.json or config.yaml cannot be read (not JSON, not a mapping, an unknown status, malformed YAML);
`note` says which. Nothing under the root raises: only a root that is not a readable folder does.

Everything here returns data; the two Rich renderables at the end (`table`, `show_panel`) are for the
terminal, and Rich is imported only when they are called.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnopt_cli import checks, metrics
from nnopt_cli.store import comparisons, folders

if TYPE_CHECKING:
    from rich.console import Group
    from rich.text import Text

KINDS = folders.KINDS
STATUSES = (*folders.RUN_STATUSES, folders.INCOMPLETE)  # what a listed folder may be

# Every column of as_rows, in order; `parent` is the comparison folder of an entry row (--all), else null.
COLUMNS = (
    "started",
    "folder",
    "parent",
    "kind",
    "name",
    "status",
    "optimizer",
    "lr",
    "schedule",
    "epochs_done",
    "final_loss",
    "final_accuracy",
    "final_test_accuracy",
    "train_seconds",
    "entries",
    "note",
)
SORT_COLUMNS = tuple(c for c in COLUMNS if c not in ("parent", "note"))
# the metrics of metrics.py the listing has a column for
METRIC_COLUMNS = tuple(c for c in COLUMNS if c in metrics.METRICS)
# the table's headers and the metrics' old names (test_accuracy), accepted as sort columns too
SORT_ALIASES = {
    "run": "folder",
    "epochs": "epochs_done",
    "time": "train_seconds",
    "runs": "entries",
    **{old: new for old, new in metrics.ALIASES.items() if new in METRIC_COLUMNS},
}
# columns whose natural order is the largest first (`-COLUMN` reverses any column): a metric's is its
# "better" (metrics.py), so that the best come first
LARGEST_FIRST = frozenset(
    {"started", "epochs_done", "entries", *(c for c in METRIC_COLUMNS if metrics.METRICS[c].higher)}
)

_STAMP = re.compile(r"(\d{8}-\d{6})(?:-(.*))?")
_COMPARE_NAME = re.compile(r"compare(?:-\d+)?")


class CatalogError(ValueError):
    """A runs root that cannot be listed, a RUN that names no folder or several, an unknown sort column or
    status; str() is one line."""


@dataclass(frozen=True)
class RunRecord:
    """One line of the listing.

    Metrics are those of summary.json; a comparison or a sweep shows the best of its runs in each metric
    column (lowest loss, highest accuracy) and its number of runs in `entries`. None where there is
    nothing to show (a diverged run's accuracy, a test accuracy without a test split, an incomplete run).
    """

    started: datetime
    folder: Path
    kind: str
    name: str
    status: str
    optimizer: str | None = None
    lr: float | None = None
    schedule: str | None = None
    epochs_done: int | None = None
    final_loss: float | None = None
    final_accuracy: float | None = None
    final_test_accuracy: float | None = None
    train_seconds: float | None = None
    entries: int | None = None
    note: str = ""  # why a run is incomplete, a summary's message, a sweep's best cell
    children: tuple[RunRecord, ...] = field(default=(), repr=False)  # a comparison's entries


# --- reading a folder --------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    """A finite number from JSON or YAML, else None (bool is not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _read_text(folder: Path, file: str) -> tuple[str | None, str]:
    """A small file's text, or None and why not ("" when the file is simply missing)."""
    try:
        with open(os.path.join(folder, file), encoding="utf-8") as f:
            return f.read(), ""
    except FileNotFoundError:
        return None, ""
    except IsADirectoryError:
        return None, f"{file}: a folder, not a file"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{file}: cannot read ({getattr(exc, 'strerror', None) or exc})"


@dataclass(frozen=True)
class _ConfigFields:
    model_type: str | None = None
    optimizer: str | None = None
    lr: float | None = None
    schedule: str | None = None


_WANTED = {"model": ("type",), "optimizer": ("name", "lr"), "schedule": ("type",)}
_SCALAR_LIST = re.compile(r"\[[^\[\]{}]*\]")
_FANCY = re.compile(r"[\"'#&*!|>%@`\[\]{}]")  # quotes, comments, anchors, tags, block scalars, nesting
_WORD = re.compile(r"[A-Za-z_]\w*")
_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _quick_fields(text: str) -> _ConfigFields | None:
    """The four fields the listing shows, read by pattern from a config.yaml as nnopt writes it (PyYAML
    takes ~0.3 ms a file, more than the rest of a listing); None when the text is not plainly in that
    shape, and the caller parses it as YAML."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if line[:1] in (" ", "\t"):  # a section's next line
            if current is not None:
                current.append(line)
            continue
        key, colon, rest = line.partition(":")
        current = None
        if colon and key in _WANTED:
            if key in sections:
                return None
            current = sections[key] = [rest]
    if len(sections) != len(_WANTED):
        return None
    found = []
    for section, keys in _WANTED.items():
        pairs = _flat_mapping(sections[section])
        if pairs is None:
            return None
        found += [pairs.get(k, "") for k in keys]
    model_type, name, lr, schedule = found
    if not all(_WORD.fullmatch(w) for w in (model_type, name, schedule)) or not _FLOAT.fullmatch(lr):
        return None
    return _ConfigFields(model_type, name, _number(float(lr)), schedule)


def _flat_mapping(lines: list[str]) -> dict[str, str] | None:
    """A section of scalars (`{a: 1, b: x}` on one or more lines, or one `a: 1` per line at one indent)
    as text by key; None for anything else (a nested mapping, quotes, a comment, a duplicate key)."""
    first, more = lines[0].strip(), lines[1:]
    if first:  # flow style, maybe wrapped onto indented lines
        flow = " ".join([first, *more])
        if not (flow.startswith("{") and flow.rstrip().endswith("}")):
            return None
        body = _SCALAR_LIST.sub("[]", flow.rstrip()[1:-1])
        items = body.split(",")
    else:
        body = _SCALAR_LIST.sub("[]", "\n".join(more))
        items = [m for m in body.split("\n") if m.strip()]
        if len({len(m) - len(m.lstrip()) for m in items}) > 1:
            return None
    if "[]" in body:
        body = body.replace("[]", "")
    if _FANCY.search(body):
        return None
    pairs: dict[str, str] = {}
    for item in items:
        key, colon, value = item.partition(":")
        key = key.strip()
        if not colon or key in pairs:
            return None
        pairs[key] = value.strip()
    return pairs


def _parsed_fields(text: str) -> tuple[_ConfigFields, str]:
    """The four fields from the config parsed as YAML (nnopt's own reading: 1e-4 is a number, aliases
    are bounded); a key left out has the default a run would have used."""
    from nnopt_cli import config as config_mod

    try:
        raw, _ = config_mod.parse_yaml(text, "config.yaml")
    except config_mod.ConfigError as exc:
        return _ConfigFields(), str(exc)

    def get(section: str, key: str) -> object:
        value = raw.get(section)
        if value is None:
            return config_mod.default(f"{section}.{key}")
        return value.get(key, config_mod.default(f"{section}.{key}")) if isinstance(value, dict) else None

    fields = _ConfigFields(
        model_type=_text(get("model", "type")),
        optimizer=_text(get("optimizer", "name")),
        lr=_number(get("optimizer", "lr")),
        schedule=_text(get("schedule", "type")),
    )
    return fields, "" if raw else "config.yaml: empty"


def _config_fields(text: str | None, why: str) -> tuple[_ConfigFields | None, str]:
    """The listing's fields of config.yaml's text, or None and why not ("" when the file is missing)."""
    if text is None:
        return None, why
    quick = _quick_fields(text)
    if quick is not None:
        return quick, ""
    fields, problem = _parsed_fields(text)
    return (None, problem) if problem else (fields, "")


def _started(name: str) -> tuple[datetime | None, str]:
    """The start time in a folder's stamp and the name after it; (None, name) without a stamp."""
    match = _STAMP.fullmatch(name)
    if match is not None:
        d = match.group(1)  # strptime would cost more than reading the folder's files
        try:
            when = datetime(int(d[:4]), int(d[4:6]), int(d[6:8]), int(d[9:11]), int(d[11:13]), int(d[13:]))
        except ValueError:  # 20261399-...: not a date
            return None, name
        return when, match.group(2) or ""
    return None, name


def _mtime(folder: Path) -> datetime:
    try:
        return datetime.fromtimestamp(folder.stat().st_mtime)
    except OSError:
        return datetime.fromtimestamp(0)


def _read_run(
    folder: Path,
    started: datetime,
    stem: str,
    summary: dict[str, Any] | None,
    why: str,
    config: tuple[str | None, str] | None = None,
) -> RunRecord:
    """A train or quadratic run (also a comparison's entry); `config` is config.yaml's text if read."""
    fields, config_problem = _config_fields(*(config or _read_text(folder, "config.yaml")))
    status = summary.get("status") if summary is not None else None
    problems = [p for p in (why, config_problem) if p]
    if summary is None and not why:
        problems.insert(0, "no summary.json")
    if fields is None and not config_problem:
        problems.append("no config.yaml")
    if summary is not None and status not in folders.RUN_STATUSES:
        problems.insert(0, f"summary.json: unknown status {checks.excerpt(status)}")
    s = summary or {}
    model_type = fields.model_type if fields is not None else None
    kind = folders.decide(folder, summary=s, config_text="", model_type=model_type) or folders.TRAIN
    message = _text(s.get("message")) or ""
    return RunRecord(
        started=started,
        folder=folder,
        kind=kind,
        name=_text(s.get("name")) or stem or folder.name,
        status="incomplete" if problems else str(status),
        optimizer=fields.optimizer if fields else None,
        lr=fields.lr if fields else None,
        schedule=fields.schedule if fields else None,
        epochs_done=_integer(s.get("epochs_done")),
        final_loss=_number(s.get("final_loss")),
        final_accuracy=_number(s.get("final_accuracy")),
        final_test_accuracy=_number(s.get("final_test_accuracy")),
        train_seconds=_number(s.get("train_seconds")),
        note="; ".join(problems) if problems else message,
    )


def _read_compare(folder: Path, started: datetime, stem: str) -> RunRecord:
    names, statuses, done = comparisons.read_order(folder)
    subs = folders.entry_folders(folder)
    rank = {name: i for i, name in enumerate(names)}

    def order(sub: Path) -> tuple[int, int, str]:
        entry, seed = (sub.name, None) if sub.name in rank else folders.entry_of(sub.name)
        return rank.get(entry, len(rank)), seed or 0, sub.name

    children = []
    for sub in sorted(subs, key=order):
        summary, why = folders.read_summary(sub)
        children.append(_read_run(sub, started, sub.name, summary, why))
    kids = [c.status for c in children]
    if not done:
        status = "incomplete"
        note = "no compare.csv" if not (folder / "compare.csv").exists() else "compare.csv: cannot read"
    elif any("interrupted" in s for s in statuses) or any(s in ("interrupted", "incomplete") for s in kids):
        status, note = "interrupted", ""
    elif kids and all(s == "diverged" for s in kids):
        status, note = "diverged", ""
    else:
        status, note = "completed", ""
    if done and 0 < kids.count("diverged") < len(kids):
        note = f"{kids.count('diverged')} of {len(kids)} entries diverged"
    return RunRecord(
        started=started,
        folder=folder,
        kind="compare",
        name=stem if _COMPARE_NAME.fullmatch(stem) is None else "compare",
        status=status,
        optimizer=_joined(c.optimizer for c in children),
        lr=_shared([c.lr for c in children]),
        schedule=_joined(c.schedule for c in children),
        epochs_done=_best([c.epochs_done for c in children], max),
        **{
            m: _best([getattr(c, m) for c in children], _pick(m))
            for m in METRIC_COLUMNS
            if m != "train_seconds"
        },
        train_seconds=_population_seconds(children),
        entries=len(children),
        note=note,
        children=tuple(children),
    )


def _population_seconds(children: Sequence[RunRecord]) -> float | None:
    """The training loops of a comparison: entries that trained as one population share its loop time,
    so each distinct time counts once."""
    times = {c.train_seconds for c in children if c.train_seconds is not None}
    return sum(times) if times else None


def _joined(values: Iterable[str | None]) -> str | None:
    """Distinct values in order of first appearance, joined by ","."""
    seen = list(dict.fromkeys(v for v in values if v))
    return ",".join(seen) if seen else None


def _shared(values: Sequence[float | None]) -> float | None:
    """The one value all share, else None."""
    distinct = set(values)
    return values[0] if len(distinct) == 1 else None


def _best(values: Sequence[Any], pick: Any) -> Any:
    present = [v for v in values if v is not None]
    return pick(present) if present else None


def _pick(metric: str) -> Any:
    """How the best of several runs is chosen for `metric`: max when higher is better, else min."""
    return max if metrics.METRICS[metric].higher else min


# sweep summaries name the metric their best cell was chosen by; these have a column of their own
_BEST_COLUMNS = {m: m for m in METRIC_COLUMNS if m != "train_seconds"}


def _cell_text(cell: object) -> str:
    """A sweep's cell as `optimizer.name=adam, optimizer.lr=0.01`."""
    if isinstance(cell, Mapping):
        return ", ".join(f"{k}={_yaml_text(v)}" for k, v in cell.items())
    return _yaml_text(cell)


def _read_sweep(
    folder: Path, started: datetime, stem: str, summary: dict[str, Any] | None, why: str
) -> RunRecord:
    """A sweep is one line: its runs, its best cell. Only summary.json is read (its config.yaml holds a
    grid, not one run's settings), and every field of it is optional."""
    s = summary or {}
    status = s.get("status")
    problems = [why] if why else ([] if summary is not None else ["no summary.json"])
    if summary is not None and status not in folders.SWEEP_STATUSES:
        problems.append(f"summary.json: unknown status {checks.excerpt(status)}")
    shown: dict[str, float | None] = dict.fromkeys(_BEST_COLUMNS.values())
    notes = []
    best = s.get("best")
    if isinstance(best, Mapping):
        metric, value = best.get("metric"), _number(best.get("value"))
        metric = metrics.ALIASES.get(metric, metric) if isinstance(metric, str) else metric
        if isinstance(metric, str) and metric in _BEST_COLUMNS:
            shown[_BEST_COLUMNS[metric]] = value
        if isinstance(metric, str) and value is not None:
            notes.append(f"best {metric} {value:.6g} at {_cell_text(best.get('cell'))}")
    diverged = _integer(s.get("diverged"))
    if diverged:
        notes.append(f"{diverged} diverged")
    name = _text(s.get("name")) or (stem[len("sweep-") :] if stem.startswith("sweep-") else stem)
    return RunRecord(
        started=started,
        folder=folder,
        kind="sweep",
        name=name or folder.name,
        status="incomplete" if problems else str(status),
        train_seconds=_number(s.get("train_seconds")),
        final_loss=shown["final_loss"],
        final_accuracy=shown["final_accuracy"],
        final_test_accuracy=shown["final_test_accuracy"],
        entries=_integer(s.get("runs")),
        note="; ".join(problems + notes),
    )


def _read_lrfind(
    folder: Path, started: datetime, stem: str, summary: dict[str, Any] | None, why: str
) -> RunRecord:
    """A range test is one line: its tests and their suggested rates, from summary.json alone (its
    config.yaml holds a document per test)."""
    s = summary or {}
    status = s.get("status")
    problems = [why] if why else ([] if summary is not None else ["no summary.json"])
    if summary is not None and status not in folders.SWEEP_STATUSES:
        problems.append(f"summary.json: unknown status {checks.excerpt(status)}")
    notes = []
    listed = s.get("tests")
    tests: list[Any] = listed if isinstance(listed, list) else []
    for t in tests:
        if not isinstance(t, Mapping):
            continue
        given = t.get("suggestions")
        found: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        shown = [f"{k} {v:.3g}" for k, v in found.items() if _number(v) is not None]
        label = f"{_text(t.get('name'))}: " if len(tests) > 1 else ""
        notes.append(label + (", ".join(shown) or "no suggestion"))
    optimizers = {t.get("optimizer") for t in tests if isinstance(t, Mapping)}
    name = _text(s.get("name")) or (stem[len("lrfind-") :] if stem.startswith("lrfind-") else stem)
    return RunRecord(
        started=started,
        folder=folder,
        kind=folders.LRFIND,
        name=name or folder.name,
        status="incomplete" if problems else str(status),
        optimizer=_joined(sorted(o for o in optimizers if isinstance(o, str))) if optimizers else None,
        train_seconds=_number(s.get("train_seconds")),
        entries=len(tests) if len(tests) > 1 else None,
        note="; ".join(problems + notes),
    )


def _read_overlay(
    folder: Path, started: datetime, stem: str, summary: dict[str, Any] | None, why: str
) -> RunRecord:
    """An overlay of past runs is one line: how many runs it draws, from summary.json alone."""
    s = summary or {}
    problems = [why] if why else ([] if summary is not None else ["no summary.json"])
    status = s.get("status")
    if summary is not None and status not in folders.SWEEP_STATUSES:
        problems.append(f"summary.json: unknown status {checks.excerpt(status)}")
    listed = s.get("runs")
    drawn: list[Any] = listed if isinstance(listed, list) else []
    optimizers = {r.get("optimizer") for r in drawn if isinstance(r, Mapping)}
    return RunRecord(
        started=started,
        folder=folder,
        kind=folders.OVERLAY,
        name=stem or folder.name,
        status="incomplete" if problems else str(status),
        optimizer=_joined(sorted(o for o in optimizers if isinstance(o, str) and o)) if optimizers else None,
        entries=len(drawn) or None,
        note="; ".join(problems),
    )


def read_folder(folder: str | Path) -> RunRecord | None:
    """The record of one folder, or None when it is not a run folder (see the module's docstring)."""
    folder = Path(folder)
    if folder.name.startswith(".") or not folder.is_dir():
        return None
    return _read_folder(folder)


def _read_folder(folder: Path) -> RunRecord | None:
    started, stem = _started(folder.name)
    summary, why = folders.read_summary(folder)
    config = _read_text(folder, "config.yaml")
    bare = config == (None, "") and summary is None and not why  # neither file, nor a broken one
    text = None if bare else config[0] or ""  # "": a config.yaml that cannot be read still marks a run
    kind = folders.decide(folder, summary=summary, config_text=text, model_type=None)
    if started is None:
        if kind is None or (bare and kind != folders.COMPARISON):
            return None
        started = _mtime(folder)
    if kind == folders.SWEEP:
        return _read_sweep(folder, started, stem, summary, why)
    if kind == folders.LRFIND:
        return _read_lrfind(folder, started, stem, summary, why)
    if kind == folders.OVERLAY:
        return _read_overlay(folder, started, stem, summary, why)
    if kind == folders.COMPARISON:
        return _read_compare(folder, started, stem)
    return _read_run(folder, started, stem, summary, why, config)


def scan(root: str | Path) -> list[RunRecord]:
    """Every run folder directly under `root`, newest first (by the stamp in the folder name, then the
    name; a folder without a stamp by its mtime).

    Raises:
      CatalogError: `root` does not exist, is not a folder or cannot be listed.
    """
    root = Path(root)
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        raise CatalogError(f"{root}: no such folder (the runs root)") from None
    except NotADirectoryError:
        raise CatalogError(f"{root}: a file, not a folder of runs") from None
    except OSError as exc:
        raise CatalogError(f"{root}: cannot list the folder ({exc.strerror})") from None
    records = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if not is_dir or entry.name.startswith("."):
            continue
        record = _read_folder(Path(entry.path))
        if record is not None:
            records.append(record)
    records.sort(key=lambda r: (r.started, r.folder.name), reverse=True)
    return records


def _is_run(folder: Path) -> bool:
    """A folder nnopt made for a run, a comparison or a sweep: stamped, and read as one."""
    return _started(folder.name)[0] is not None and _read_folder(folder) is not None


def roots_below(root: str | Path, *, levels: int = 3, most: int = 5) -> list[tuple[Path, int]]:
    """Where runs sit deeper under `root` than `scan` looks: up to `most` folders within `levels` levels
    whose children are run folders, each with how many, nearest first. Run folders themselves (a
    comparison's entries) are not looked into.
    """
    found: list[tuple[Path, int]] = []
    frontier = [Path(root)]
    for _ in range(levels):
        below: list[Path] = []
        for folder in frontier:
            try:
                children = sorted(
                    Path(e.path) for e in os.scandir(folder) if e.is_dir() and not e.name.startswith(".")
                )
            except OSError:
                continue
            for child in children:
                if _is_run(child):
                    continue  # a run: its own children are its entries, not a runs root
                try:
                    count = sum(1 for e in os.scandir(child) if e.is_dir() and _is_run(Path(e.path)))
                except OSError:
                    continue
                if count:
                    found.append((child, count))
                    if len(found) >= most:
                        return found
                else:
                    below.append(child)
        frontier = below
    return found


# --- choosing and ordering -----------------------------------------------------------------------------


def filter_records(
    records: Iterable[RunRecord], *, status: str | None = None, name_glob: str | None = None
) -> list[RunRecord]:
    """The records with this status and whose name or folder name matches the glob (`l2*`, `*adam*`,
    `202612*`; case-sensitive). A comparison's entries stay with it.

    Raises:
      CatalogError: an unknown status.
    """
    if status is not None and status not in STATUSES:
        raise CatalogError(f"status {checks.excerpt(status)}: {checks.did_you_mean(status, STATUSES)}")
    out = []
    for r in records:
        if status is not None and r.status != status:
            continue
        if name_glob is not None and not (
            fnmatch.fnmatchcase(r.name, name_glob) or fnmatch.fnmatchcase(r.folder.name, name_glob)
        ):
            continue
        out.append(r)
    return out


def sort_column(column: str) -> tuple[str, bool]:
    """A sort spec -> (column, descending): a column of SORT_COLUMNS (or a table header of SORT_ALIASES),
    in its natural order (largest first for LARGEST_FIRST, smallest first otherwise), reversed by a
    leading "-".

    Raises:
      CatalogError: an unknown column, naming the allowed ones.
    """
    reverse = column.startswith("-")
    name = column[1:] if reverse else column
    name = SORT_ALIASES.get(name, name)
    if name not in SORT_COLUMNS:
        raise CatalogError(
            f"sort column {checks.excerpt(column)}: {checks.did_you_mean(name, SORT_COLUMNS)} "
            "(a leading - reverses the order)"
        )
    return name, (name in LARGEST_FIRST) != reverse


def sort_records(
    records: Iterable[RunRecord], column: str, descending: bool | None = None
) -> list[RunRecord]:
    """The records ordered by `column` (see sort_column; `descending` overrides its direction). Runs
    without a value come last either way; ties keep their order (newest first after scan).

    Raises:
      CatalogError: an unknown column, naming the allowed ones.
    """
    name, natural = sort_column(column)
    down = natural if descending is None else descending
    items = list(records)
    known = [r for r in items if _sort_value(r, name) is not None]
    missing = [r for r in items if _sort_value(r, name) is None]
    known.sort(key=lambda r: _sort_value(r, name), reverse=down)
    return known + missing


def _sort_value(r: RunRecord, column: str) -> Any:
    if column == "folder":
        return r.folder.name
    return getattr(r, column)


def limit(records: Sequence[RunRecord], n: int | None) -> list[RunRecord]:
    """The first n records (all of them for None).

    Raises:
      CatalogError: a negative n.
    """
    if n is None:
        return list(records)
    if n < 0:
        raise CatalogError(f"limit: must be >= 0, got {n}")
    return list(records[:n])


# --- output as data ------------------------------------------------------------------------------------


def as_rows(records: Iterable[RunRecord], all_entries: bool = False) -> list[dict[str, Any]]:
    """One dict per record with every column of COLUMNS (None where there is no value), nothing
    shortened; with `all_entries`, each comparison is followed by one row per entry (its `parent` set)."""
    rows = []
    for r in records:
        rows.append(_row(r, None))
        if all_entries:
            rows.extend(_row(c, r.folder) for c in r.children)
    return rows


def _row(r: RunRecord, parent: Path | None) -> dict[str, Any]:
    return {
        "started": r.started.isoformat(timespec="seconds"),
        "folder": str(r.folder),
        "parent": None if parent is None else str(parent),
        "kind": r.kind,
        "name": r.name,
        "status": r.status,
        "optimizer": r.optimizer,
        "lr": r.lr,
        "schedule": r.schedule,
        "epochs_done": r.epochs_done,
        "final_loss": r.final_loss,
        "final_accuracy": r.final_accuracy,
        "final_test_accuracy": r.final_test_accuracy,
        "train_seconds": r.train_seconds,
        "entries": r.entries,
        "note": r.note,
    }


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with a header of COLUMNS; empty cells for None, floats in shortest round-trip form."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _csv_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def to_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """A JSON array of the rows (null for None), indented, ending with a newline."""
    return json.dumps([dict(row) for row in rows], indent=2, allow_nan=False) + "\n"


# --- one run -------------------------------------------------------------------------------------------


def resolve(run: str, root: str | Path = "runs") -> Path:
    """The folder RUN names: a path to a folder (or one relative to `root`, such as a comparison's
    `<stamp>-compare/adam`), else the one folder under `root` whose name is RUN or starts or ends with it
    (`20261201-0312`, `l2`, `compare`).

    Raises:
      CatalogError: no folder or several; one line naming at most a few candidates, newest first.
    """
    root = Path(root)
    if not run:
        raise CatalogError("name a run: a folder, or the start or end of a folder name under the runs root")
    as_path = os.sep in run or bool(os.altsep and os.altsep in run)
    if (root / run).is_dir():
        return root / run
    # a bare word names a folder under root; the current folder's `configs/` is not a run
    if Path(run).is_dir() and (as_path or read_folder(run) is not None):
        return Path(run)
    if as_path:
        raise CatalogError(f"{run}: no such run folder")
    try:
        names = folders.names_under(root)
    except FileNotFoundError:
        raise CatalogError(f"{root}: no such folder (the runs root); give RUN as a path") from None
    except OSError as exc:
        raise CatalogError(f"{root}: cannot list the folder ({exc.strerror})") from None
    matches = [n for n in names if n.startswith(run) or n.endswith(run)]
    if len(matches) == 1:
        return root / matches[0]
    if matches:
        raise CatalogError(
            f"{run!r} matches {len(matches)} runs under {root}: {_few(matches)}; give more of the name"
        )
    close = [n for n in names if run in n] or names
    hint = f"; {'containing it' if close is not names else 'newest'}: {_few(close)}" if close else ""
    raise CatalogError(f"no run folder under {root} starts or ends with {run!r}{hint}")


def _few(names: Sequence[str], shown: int = 4) -> str:
    head = ", ".join(names[:shown])
    return head + (f" and {len(names) - shown} more" if len(names) > shown else "")


@dataclass(frozen=True)
class ConfigChange:
    """A config key whose value is not its default; `default` is None and `has_default` False for a key
    the defaults do not have (a required schedule parameter, a key of a sweep's own config)."""

    key: str
    value: Any
    default: Any
    has_default: bool = True


@dataclass(frozen=True)
class FileEntry:
    """A file of the folder with its size, or a subfolder (`files` set) with the total of its files."""

    name: str
    size: int
    files: int | None = None


@dataclass(frozen=True)
class Details:
    """What `nnopt show` prints: the record, summary.json as written, the config keys that differ from
    the defaults, the files, and what could not be read."""

    folder: Path
    record: RunRecord
    summary: dict[str, Any]
    changes: list[ConfigChange]
    files: list[FileEntry]
    problems: list[str]


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys ({"optimizer": {"lr": 0.1}} -> {"optimizer.lr": 0.1}); lists and
    empty mappings are values."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal as config values: 1 and 1.0 are, true and 1 are not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def config_changes(raw: Mapping[str, Any]) -> list[ConfigChange]:
    """The keys of a config (as read from YAML) whose value differs from the default, in the file's order.

    The defaults are `config.from_dict({}, name=<the run's name>)`, so the name never differs; a setting
    of the run's own optimizer or schedule that the defaults (sgd, constant) lack is compared with that
    optimizer's or schedule's default (`optimizer.beta1: 0.9` with adam is not listed), and a surface's
    model.start with its function's own start. Keys the file leaves out are not listed.
    """
    from nnopt_cli import config as config_mod
    from nnopt_cli.core import optimizers, schedules, surface

    name = raw.get("name")
    try:
        base = config_mod.from_dict({}, name=name if isinstance(name, str) else "run")
    except config_mod.ConfigError:  # a name the config would refuse
        base = config_mod.from_dict({}, name="run")
    defaults = flatten(base.to_dict())
    sections = {
        "optimizer": {name: optimizers.defaults(name) for name in optimizers.names()},
        "schedule": schedules.SCHEDULE_PARAMS,
    }
    flat = flatten(raw)
    chosen = {"optimizer": flat.get("optimizer.name"), "schedule": flat.get("schedule.type")}
    changes = []
    for key, value in flat.items():
        has_default = key in defaults
        default = defaults.get(key)
        section, _, param = key.partition(".")
        picked = chosen.get(section)
        if key == "optimizer.lr" and isinstance(picked, str) and picked in optimizers.REGISTRY:
            default = optimizers.default_lr(picked)  # adadelta's 1.0 is its default, not a change
        function = flat.get("model.function")
        if key == "model.start" and isinstance(function, str) and function in surface.FUNCTIONS:
            default = list(surface.FUNCTIONS[function].start)  # each function's own start
        if not has_default and section in sections and isinstance(picked, str):
            own = sections[section].get(picked, {})
            if param in own and own[param] is not schedules.REQUIRED:
                has_default, default = True, own[param]
        if has_default and _same(value, default):
            continue
        changes.append(ConfigChange(key, value, default if has_default else None, has_default))
    return changes


def _files(folder: Path) -> list[FileEntry]:
    """The folder's files by name, then its subfolders, each with the size and number of its files."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    files, folders = [], []
    for e in entries:
        try:
            if e.is_dir():
                size = count = 0
                for dirpath, _, names in os.walk(e.path):
                    for n in names:
                        try:
                            size += os.stat(os.path.join(dirpath, n)).st_size
                        except OSError:
                            continue
                        count += 1
                folders.append(FileEntry(e.name + "/", size, count))
            else:
                files.append(FileEntry(e.name, e.stat().st_size))
        except OSError:
            continue
    return files + folders


def details(folder: str | Path) -> Details:
    """Everything `nnopt show` prints about one folder.

    Raises:
      CatalogError: `folder` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CatalogError(f"{folder}: no such run folder")
    record = read_folder(folder)
    if record is None:  # a folder without a stamp or a run's files: still show what is there
        record = RunRecord(
            _mtime(folder), folder, "train", folder.name, "incomplete", note="not a run folder"
        )
    summary, why = folders.read_summary(folder)
    problems = [why] if why else []
    changes: list[ConfigChange] = []
    if record.kind not in ("compare", "sweep", "lrfind", "overlay"):  # no config of one run at their top
        changes, problem = _changes_of(folder)
        problems += [problem] if problem else []
    return Details(folder, record, summary or {}, changes, _files(folder), problems)


def _changes_of(folder: Path) -> tuple[list[ConfigChange], str]:
    from nnopt_cli import config as config_mod

    try:
        text = (folder / "config.yaml").read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], "no config.yaml"
    except (OSError, UnicodeDecodeError) as exc:
        return [], f"config.yaml: cannot read ({getattr(exc, 'strerror', None) or exc})"
    try:
        raw, _ = config_mod.parse_yaml(text, "config.yaml")
    except config_mod.ConfigError as exc:
        return [], str(exc)
    return config_changes(raw), ""


# --- the terminal --------------------------------------------------------------------------------------

_STATUS_STYLE = {"interrupted": "yellow", "diverged": "red", "incomplete": "dim"}


def _shown(key: str, value: Any, digits: int = 4) -> str:
    """A value as the tables show it: accuracies in percent, times in seconds, "–" for none."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if key.endswith("accuracy"):
            return f"{value:.2%}"
        if key.endswith("seconds"):
            return f"{value:.3f} s"
        if key.endswith("lr"):
            return f"{value:g}"
        return f"{value:.{digits}g}"
    if isinstance(value, Mapping):  # summary.json's `start`: {loss: ..., accuracy: ...}
        text = ", ".join(f"{k} {_shown(str(k), v, digits)}" for k, v in value.items())
        return text if len(text) <= 160 else text[:159] + "…"
    if isinstance(value, list):
        return _yaml_text(value, 160)
    return str(value)


def _yaml_text(value: Any, limit: int = checks.EXCERPT_CHARS) -> str:
    """A value as YAML's flow style writes it (names without quotes: `[sgd, adam]`), cut to `limit`."""
    text = _flow(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, str) and value:
        return value
    return checks.excerpt(value)  # null, true, numbers, ''


def _size(n: int) -> str:
    """Bytes as `ls -h --si` shows them: 812 B, 14.3 kB, 2.1 MB."""
    if n < 1000:
        return f"{n} B"
    x = float(n)
    for unit in ("kB", "MB", "GB"):
        x /= 1000
        if x < 1000 or unit == "GB":
            break
    return f"{x:.1f} {unit}"


# The listing's columns: header (two lines at most), RunRecord field, left-justified; and which columns
# a terminal too narrow for all of them drops first (never the run, its status, loss and accuracies).
_TABLE_COLUMNS = (
    ("run", "folder", True),
    ("kind", "kind", True),
    ("status", "status", True),
    ("optimizer", "optimizer", True),
    ("lr", "lr", False),
    ("schedule", "schedule", True),
    ("epochs", "epochs_done", False),
    ("final\nloss", "final_loss", False),
    ("train\naccuracy", "final_accuracy", False),
    ("test\naccuracy", "final_test_accuracy", False),
    ("train\ntime", "train_seconds", False),
    ("runs", "entries", False),
)
_DROPPED_FIRST = ("schedule", "kind", "lr", "train_seconds", "epochs_done", "optimizer", "entries")


def table(
    records: Sequence[RunRecord],
    all_entries: bool = False,
    *,
    width: int | None = None,
    title: str | None = None,
) -> Text:
    """The listing as the terminal shows it, one row per record in the given order: the run folder
    (its stamp and name), kind, status, optimizer, lr, schedule, epochs, final loss, train and test
    accuracy (test only when some run has a split), training time, and runs (only when there is a
    comparison or a sweep); with `all_entries`, each comparison's entries indented under it.

    With `width` (the terminal's), columns that do not fit are left out, schedule first, then kind, lr,
    time, epochs, optimizer and runs, rather than cutting every cell short. The table is laid out here, as
    one styled text, line by line: a Rich Table measures every cell, which makes a thousand rows take most
    of a second."""
    from rich.cells import cell_len
    from rich.text import Text

    shown = [(r, 0) for r in records]
    if all_entries:
        shown = [item for r in records for item in [(r, 0), *((c, 1) for c in r.children)]]
    keys = [key for _, key, _ in _TABLE_COLUMNS]
    if not any(r.final_test_accuracy is not None for r, _ in shown):
        keys.remove("final_test_accuracy")
    if not any(r.entries is not None for r, _ in shown):
        keys.remove("entries")
    cells: dict[str, list[str]] = {
        key: [_shown(key, getattr(r, key)) for r, _ in shown] for key in keys if key != "folder"
    }
    cells["folder"] = [r.folder.name if depth == 0 else f"  └ {r.folder.name}" for r, depth in shown]
    headers = {key: header.split("\n") for header, key, _ in _TABLE_COLUMNS}
    widths = {key: max(map(cell_len, headers[key] + cells[key])) for key in keys}
    for key in _DROPPED_FIRST:
        if width is None or sum(widths[k] + 3 for k in keys) <= width:  # a gap of 3 between columns
            break
        if key in keys:
            keys.remove(key)
    left = {key: is_left for _, key, is_left in _TABLE_COLUMNS}

    def cell(key: str, text: str) -> str:
        pad = " " * (widths[key] - cell_len(text))
        return f"{text}{pad}" if left[key] else f"{pad}{text}"

    out = Text(no_wrap=True, overflow="ignore")
    total = 1 + sum(widths[k] + 2 for k in keys)  # a line: a space, then each cell after a gap of 2
    if title:
        out.append(title.center(total).rstrip() + "\n", style="italic")
    height = max(len(headers[k]) for k in keys)
    for line in range(height):
        # a header of fewer lines sits at the bottom, next to the values
        words = [
            headers[k][line - height + len(headers[k])] if line >= height - len(headers[k]) else ""
            for k in keys
        ]
        out.append(
            (" " + "".join("  " + cell(k, w) for k, w in zip(keys, words, strict=True))).rstrip() + "\n",
            style="bold",
        )
    out.append(" " + "─" * (total - 1) + "\n")
    for i, (r, depth) in enumerate(shown):
        out.append(" ")
        for k in keys:
            style = (
                "dim" if k == "folder" and depth else _STATUS_STYLE.get(r.status, "") if k == "status" else ""
            )
            out.append("  " + cell(k, cells[k][i]), style=style or None)
        out.append("\n")
    out.rstrip()
    return out


# summary.json keys as console.result_table labels them; others are shown with "_" as " "
_LABELS = {
    "epochs": "epochs planned",
    "epochs_done": "epochs done",
    **{m.name: m.label for m in metrics.METRICS.values()},
    "total_seconds": "total time",
}


def show_panel(d: Details) -> Group:
    """`nnopt show`: the run's summary (every field of summary.json), the config keys that differ from
    the defaults (or a comparison's entries), and its files with their sizes."""
    from rich import box
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    r = d.record
    head = Table(show_header=False, box=None, padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    head.add_row("folder", Text(str(d.folder)))
    head.add_row("kind", r.kind)
    head.add_row("status", Text(r.status, style=_STATUS_STYLE.get(r.status, "")))
    head.add_row("started", r.started.isoformat(sep=" ", timespec="seconds"))
    if r.kind == "compare":  # a sweep's summary says its runs itself
        head.add_row("runs", str(r.entries))
    for key, value in d.summary.items():
        if key in ("status", "kind") or value == "":
            continue
        if key == "best" and isinstance(value, Mapping):
            text = r.note or _yaml_text(value, 160)
        else:
            text = _shown(key, value, digits=6)
        head.add_row(_LABELS.get(key, key.replace("_", " ")), Text(text))
    problems = [r.note] if r.status == "incomplete" and r.note else []
    for problem in problems + [p for p in d.problems if p not in r.note]:
        head.add_row(Text("incomplete" if problem is r.note else "problem", style="red"), Text(problem))
    parts: list[Any] = [
        Panel(head, title=Text(d.folder.name), title_align="left", box=box.ROUNDED, expand=False)
    ]

    if r.kind == "compare":
        parts.append(table(r.children, title="entries"))
    elif r.kind in ("sweep", "lrfind"):
        pass  # its summary shows the grid; each run's config is in its own folder
    elif d.changes:
        changed = Table(title="config keys that differ from the defaults", box=box.SIMPLE_HEAD)
        changed.add_column("key", no_wrap=True)
        changed.add_column("this run")
        changed.add_column("default")
        for c in d.changes:
            default = _yaml_text(c.default) if c.has_default else "(none)"
            changed.add_row(Text(c.key), Text(_yaml_text(c.value)), Text(default, style="dim"))
        parts.append(changed)
    elif not any(p.startswith(("config.yaml", "no config.yaml")) for p in d.problems):
        parts.append(Text("config: every key at its default"))

    files = Table(title="files", box=box.SIMPLE_HEAD)
    files.add_column("file", no_wrap=True)
    files.add_column("size", justify="right", no_wrap=True)
    for f in d.files:
        size = _size(f.size) + (f" in {f.files} files" if f.files is not None else "")
        files.add_row(Text(f.name), size)
    parts.append(files)
    return Group(*parts)
