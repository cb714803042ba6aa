"""`nnopt overlay`: past runs' curves in one picture, labelled by what differs between their configs.

    RUN... and --name/--status ──► catalog.resolve / catalog.scan ──► run folders (train, quadratic, surface)
    each: overlays.read_run (config.yaml, metrics.csv or a surface's trajectory.csv, summary.json) ──► labels
    (the keys that differ)
    ──► overlay.csv (each run's metrics.csv rows) and summary.json ──► overlay.png (overlayplot.draw)

Everything is read and checked before anything is written: a folder that is not a run (a comparison, a
sweep, a range test) or runs of different kinds (the toy, a surface, a network) are an OverlayError, and
nothing is made. replot draws overlay.png again from overlay.csv and summary.json alone (`redraw`), byte
for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import files
from nnopt_cli.experiments import session
from nnopt_cli.figures import overlayplot, report
from nnopt_cli.store import catalog, folders, overlays, runs
from nnopt_cli.store.overlays import Curves

# keys that change no curve: a label of them would say nothing
_QUIET = ("name", "train.log_every")
_QUIET_PREFIX = "plot."


# each kind of run in words, for the error that refuses to overlay two kinds
_KIND_WORDS = {
    folders.TRAIN: "a network (one row per epoch)",
    folders.TOY: "the quadratic toy (one row per update)",
    folders.SURFACE: "a path on a surface (one row per step)",
}


class OverlayError(ValueError):
    """Runs that cannot be overlaid, or an output that cannot be written; str() is one line."""


@dataclass(frozen=True)
class Done:
    """The overlay's folder (`finished`), or with --out the files written."""

    finished: session.Finished | None
    written: list[Path] = field(default_factory=list)


def select(
    names: Sequence[str], *, root: str | Path, name_glob: str | None = None, status: str | None = None
) -> list[Path]:
    """The run folders named (each as `nnopt show` takes it) and, with a filter, those of `nnopt runs`
    (comparison entries included) that pass it, oldest first; each once.

    Raises:
      catalog.CatalogError: a RUN that names no folder or several, an unknown status.
      OverlayError: no run at all.
    """
    chosen = [catalog.resolve(n, root) for n in names]
    if name_glob is not None or status is not None:
        records = catalog.scan(root)
        flat = [c for r in records for c in (r, *r.children)]
        found = catalog.filter_records(flat, status=status, name_glob=name_glob)
        chosen += [r.folder for r in reversed(found) if r.kind in folders.RUNS]
    seen: set[Path] = set()
    out = []
    for folder in chosen:
        key = folder.resolve()
        if key not in seen:
            seen.add(key)
            out.append(folder)
    if not out:
        wanted = " and ".join(
            f
            for f in (f"--name {name_glob}" if name_glob else "", f"--status {status}" if status else "")
            if f
        )
        raise OverlayError(f"no run under {root} matches {wanted}" if wanted else "name at least one RUN")
    return out


def read(folder_list: Sequence[Path]) -> list[overlays.Run]:
    """Each folder read as a run, all of one kind.

    Raises:
      OverlayError: a folder that is not one run, a file missing or unreadable, runs of different kinds.
    """
    kinds = []
    for folder in folder_list:
        kind = folders.kind_of(folder)
        if kind not in folders.RUNS:
            what = f"a folder of kind {kind}" if kind else "not a folder nnopt wrote"
            hint = " (overlay its entries: <folder>/<entry>)" if kind == folders.COMPARISON else ""
            raise OverlayError(f"{folder}: {what}, not a run{hint}")
        kinds.append(kind)
    if len(set(kinds)) > 1:
        first = 0 if kinds[0] != folders.TRAIN else next(i for i, k in enumerate(kinds) if k != folders.TRAIN)
        other = next(i for i, k in enumerate(kinds) if k != kinds[first])
        raise OverlayError(
            f"{folder_list[first]} is {_KIND_WORDS[kinds[first]]} and {folder_list[other]} "
            f"{_KIND_WORDS[kinds[other]]}: runs of different kinds share no axes; overlay each kind on its "
            "own"
        )
    with runs.folder_errors_as(OverlayError):
        return [overlays.read_run(f) for f in folder_list]


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_shown(v) for v in value) + "]"
    return str(value)


def differing_keys(configs: Sequence[dict[str, Any]]) -> list[str]:
    """The config keys (dotted, in the first config's order) whose values are not the same in every run;
    the run's name and keys that change no curve only when nothing else differs."""
    flat = [catalog.flatten(c) for c in configs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    differ = [k for k in keys if len({repr(f.get(k)) for f in flat}) > 1]
    telling = [k for k in differ if k not in _QUIET and not k.startswith(_QUIET_PREFIX)]
    return telling or differ


def labels(found: Sequence[overlays.Run]) -> tuple[list[str], list[str]]:
    """Each run's label, `key=value` for every key that differs (the folder's name when none does), and the
    keys."""
    configs = [r.config.to_dict() for r in found]
    keys = differing_keys(configs)
    out = []
    for r, c in zip(found, configs, strict=True):
        flat = catalog.flatten(c)
        parts = [f"{k}={_shown(flat[k])}" for k in keys if k in flat]
        out.append(", ".join(parts) if parts else r.folder.name)
    if len(set(out)) < len(out):  # the same config twice: the folders tell them apart
        out = [f"{label} ({r.folder.name})" for label, r in zip(out, found, strict=True)]
    return out, keys


def _parent(run: overlays.Run, found: Sequence[overlays.Run]) -> str | None:
    """The folder (as overlaid) of the run this one was resumed from, when that run is overlaid too."""
    given = run.summary.get("resumed_from")
    if not isinstance(given, str):
        return None
    for other in found:
        if other is run:
            continue
        if Path(given).resolve() == other.folder.resolve() or Path(given).name == other.folder.name:
            return str(other.folder)
    return None


def curves_of(found: Sequence[overlays.Run]) -> list[Curves]:
    """The runs' curves with their labels and where a resumed run joins its parent."""
    words, _ = labels(found)
    out = []
    for r, label in zip(found, words, strict=True):
        at = r.summary.get("resumed_at_epoch")
        at = at if isinstance(at, int) and not isinstance(at, bool) else None
        if at is not None:
            label += f", resumed after epoch {at}"
        out.append(
            Curves(
                r.curves.run,
                r.curves.header,
                r.curves.rows,
                optimizer=r.curves.optimizer,
                label=label,
                resumed_from=_parent(r, found) if at is not None else None,
                resumed_at=at,
            )
        )
    return out


def title_of(found: Sequence[overlays.Run], keys: Sequence[str]) -> str:
    n = len(found)
    what = f"{n} run{'s' if n != 1 else ''} overlaid"
    if n > 1 and keys:
        return f"{what}: they differ in {', '.join(keys)}"
    return what


def lines(curves: Sequence[Curves]) -> list[overlayplot.Line]:
    """What overlay.png draws, from the curves alone (overlay.csv's cells and summary.json's labels)."""
    out = []
    for c in curves:
        values = {name: np.asarray(c.column(name), dtype=float) for name in c.header}
        out.append(
            overlayplot.Line(
                c.label, c.optimizer, c.x, values, c.resumed_at, joins=c.resumed_from is not None
            )
        )
    return out


def jobs(path: Path, curves: Sequence[Curves], title: str) -> list[report.Job]:
    return [report.Job(path, overlayplot.draw, (path, lines(curves), title))]


def run(
    names: Sequence[str],
    *,
    runs_root: str | Path = "runs",
    name_glob: str | None = None,
    status: str | None = None,
    out: Path | None = None,
) -> Done:
    """Overlay the runs: a new `<stamp>-overlay/` folder under `runs_root`, or `out` (a .png) and the
    curves beside it in the same name with .csv.

    Raises:
      OverlayError, catalog.CatalogError: runs that cannot be overlaid or an output that cannot be used;
        nothing is written.
      session.WriteError: a file could not be written (the folder is removed).
    """
    if out is not None and out.suffix.lower() != ".png":
        raise OverlayError(f"--out {out}: give a .png file (the curves go beside it, in {out.stem}.csv)")
    found = read(select(names, root=runs_root, name_glob=name_glob, status=status))
    curves = curves_of(found)
    title = title_of(found, labels(found)[1])
    if out is not None:
        table = out.with_suffix(".csv")
        files.check_output(out, "--out")
        files.check_output(table, "--out")
        try:
            overlays.write_table(table, curves)
        except OSError as exc:
            raise OverlayError(runs.io_message(exc)) from None
        failed = report.draw(jobs(out, curves, title), workers=1)
        if failed:
            raise OverlayError(f"could not draw {out} ({failed[out]}); the curves are in {table}")
        return Done(None, [out, table])
    summary = {
        "kind": folders.OVERLAY,
        "status": "completed",
        "message": "",
        "title": title,
        "runs": overlays.summary_runs(curves),
    }
    with session.filling(runs_root, overlays.NAME) as s:
        overlays.write_table(s.folder / overlays.TABLE, curves)
        overlays.write_summary(s.folder, summary)
        s.draw(jobs(s.folder / overlays.PICTURE, curves, title))
    return Done(session.Finished(s.folder, "completed", "", s.signum, summary, s.failure()))


def redraw(folder: Path) -> list[Path]:
    """Draw overlay.png again from overlay.csv and summary.json.

    Raises:
      runs.FolderError: files missing, unreadable or disagreeing; a picture that fails again.
    """
    record = overlays.read(folder)
    title = record.summary.get("title")
    if not isinstance(title, str):
        raise runs.FolderError(f"{folder / folders.SUMMARY}: no title")
    path = folder / overlays.PICTURE
    failed = session.draw_noted(jobs(path, record.curves, title), workers=1)
    if failed:
        raise runs.FolderError(session.pictures_line(folder, failed))
    return [path]
