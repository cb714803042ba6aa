"""The kinds of folder nnopt writes, the file that completes each, and how to tell them apart: one place.

    train      <stamp>-<name>/           config.yaml first, the data, the pictures, summary.json last
    quadratic  <stamp>-<name>/           the toy (model.type quadratic): the same files, its own columns
    surface    <stamp>-<name>/           a path on a 2-D surface (model.type surface): config.yaml,
                                         trajectory.csv, the pictures, summary.json last (store/surfaces.py)
    compare    <stamp>-compare/          an entry folder per entry and seed (a train folder), compare.csv last
    sweep      <stamp>-sweep-<name>/     config.yaml (the command's inputs, with a `grid:`), the CSVs, the
                                         pictures, summary.json last; runs/ holds --save-runs' train folders
    lrfind     <stamp>-lrfind-<name>/    config.yaml (a document per range test), lr_find.csv, lr_find.png,
                                         summary.json last
    overlay    <stamp>-overlay/          overlay.csv (past runs' curves), overlay.png, summary.json last

Every reader (nnopt runs and show, replot, resume) asks `kind_of`. This module names the files that tell the
kinds apart and complete them; each kind's own files are named by its module (runs, comparisons, sweeps).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TRAIN, TOY, COMPARISON, SWEEP, LRFIND = "train", "quadratic", "compare", "sweep", "lrfind"
OVERLAY, SURFACE = "overlay", "surface"
KINDS = (TRAIN, TOY, SURFACE, COMPARISON, SWEEP, LRFIND, OVERLAY)
RUNS = (TRAIN, TOY, SURFACE)  # the kinds that are one run: what `nnopt overlay` draws

# how a run ended, as its summary.json says; a sweep is completed or interrupted (its runs may diverge)
RUN_STATUSES = ("completed", "interrupted", "diverged")
SWEEP_STATUSES = ("completed", "interrupted")
INCOMPLETE = "incomplete"  # a folder without its last file, or with a last file that cannot be read

CONFIG = "config.yaml"
SUMMARY = "summary.json"
COMPARE_CSV = "compare.csv"  # a comparison's last file: its table, the entries in the order they trained

_SEED_SUFFIX = re.compile(r"^(.*)-seed(\d+)$")
_SWEEP_CONFIG = re.compile(r"^grid:", re.MULTILINE)  # a run's config.yaml has no top-level grid key
LRFIND_TABLE = "lr_find.csv"  # a range test's table (store/lrfinds.py); its folder is <stamp>-lrfind-<name>
_LRFIND_FOLDER = re.compile(r"^\d{8}-\d{6}-lrfind-")
OVERLAY_TABLE = "overlay.csv"  # an overlay's table (store/overlays.py), in a folder without config.yaml


def names_under(root: str | Path) -> list[str]:
    """The names of the folders under the runs root `root`, newest first (their names start with the time
    they were made); hidden ones left out.

    Raises:
      OSError: `root` cannot be listed (FileNotFoundError when there is none).
    """
    return sorted(
        (e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")), reverse=True
    )


def entry_folder_name(name: str, seed: int, seeds: int) -> str:
    """The folder of a comparison's entry: its name, with `-seed<S>` when the entries run several seeds."""
    return name if seeds == 1 else f"{name}-seed{seed}"


def entry_of(folder_name: str) -> tuple[str, int | None]:
    """A comparison entry folder's entry name and seed (None when the folder name carries none)."""
    found = _SEED_SUFFIX.match(folder_name)
    return (found.group(1), int(found.group(2))) if found else (folder_name, None)


def entry_folders(folder: Path) -> list[Path]:
    """A comparison's entry folders (subfolders holding config.yaml), by name; [] when it cannot be listed."""
    try:
        subs = sorted(Path(e.path) for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return []
    return [s for s in subs if (s / CONFIG).is_file()]


def decide(
    folder: Path,
    *,
    summary: Mapping[str, Any] | None,
    config_text: str | None,
    model_type: str | None,
) -> str | None:
    """The kind of a folder from what was read of it: its summary.json (None: none, or unreadable), its
    config.yaml's text (None: none) and the model.type that text sets (None: not known). None: not a folder
    nnopt wrote."""
    said = summary.get("kind") if summary is not None else None
    if said in KINDS:
        return str(said)
    if config_text is not None and _SWEEP_CONFIG.search(config_text):
        return SWEEP
    if (folder / LRFIND_TABLE).exists() or (summary is None and _LRFIND_FOLDER.match(folder.name)):
        return LRFIND
    if config_text is None and (folder / OVERLAY_TABLE).exists():
        return OVERLAY
    if config_text is None and summary is None:
        if (folder / COMPARE_CSV).exists() or entry_folders(folder):
            return COMPARISON
        return None
    if model_type == TOY or (model_type is None and summary is not None and "final_w" in summary):
        return TOY
    if model_type == SURFACE or (model_type is None and summary is not None and "final_x" in summary):
        return SURFACE
    return TRAIN


def kind_of(folder: str | Path) -> str | None:
    """train, quadratic, surface, compare, sweep, lrfind or overlay: what made the folder; None for a folder
    nnopt did not write (or not a folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    summary, _ = read_summary(folder)
    try:
        config_text: str | None = (folder / CONFIG).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        config_text = None
    model_type = None
    if config_text is not None:
        found = re.search(r"^model:\s*\n(?:[ \t]+.*\n)*?[ \t]+type:\s*(\w+)", config_text, re.MULTILINE)
        found = found or re.search(r"^model:\s*\{[^}]*\btype:\s*(\w+)", config_text, re.MULTILINE)
        model_type = found.group(1) if found else None
    return decide(folder, summary=summary, config_text=config_text, model_type=model_type)


def summary_trouble(folder: Path, why: str, writer: str) -> str:
    """One line on a summary.json that `read_summary` could not give: `why` (the file's name first), or, for
    a missing file, that `writer` writes it last."""
    if why:
        return str(Path(folder) / why)
    return f"{Path(folder) / SUMMARY}: no such file; {writer} writes it last"


def read_summary(folder: Path, file: str = SUMMARY) -> tuple[dict[str, Any] | None, str]:
    """A folder's summary.json (the last file of a run or a sweep) as a mapping, or None and why not: ""
    when the file is simply missing (the folder is not complete), else what is wrong, file name first."""
    path = Path(folder) / file
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, ""
    except IsADirectoryError:
        return None, f"{file}: a folder, not a file"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{file}: cannot read ({getattr(exc, 'strerror', None) or exc})"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, f"{file}: not valid JSON"
    if not isinstance(data, dict):
        return None, f"{file}: holds {type(data).__name__}, not a mapping"
    return data, ""


# The pictures a folder should hold but does not, each with why: summary.json's key, or, in a folder without
# summary.json (a comparison's own pictures), a file of its own. Pictures are drawn after the data and the
# summary are written: every picture is noted "not drawn yet" first, and the note is rewritten once they are
# drawn with those that failed (or removed), so a folder whose drawing was cut off says so too.
PICTURES_MISSING = "pictures_missing"
PICTURES_MISSING_FILE = "pictures_missing.json"
NOT_DRAWN = "not drawn yet"


def missing_pictures(folder: Path) -> dict[str, str]:
    """The folder's pictures noted missing (file name: why); {} when none is."""
    summary, _ = read_summary(folder)
    if summary is None:
        summary, _ = read_summary(folder, PICTURES_MISSING_FILE)
        noted = summary
    else:
        noted = summary.get(PICTURES_MISSING)
    if not isinstance(noted, dict):
        return {}
    return {str(k): str(v) for k, v in noted.items()}


def write_json(path: Path, content: Mapping[str, Any], *, allow_nan: bool = True) -> None:
    """A JSON object file (summary.json and the other notes of a folder), written whole, indented, one
    newline at its end; `allow_nan=False` refuses a non-finite number instead of writing NaN."""
    from nnopt_cli.files import replacing

    with replacing(Path(path)) as f:
        f.write(json.dumps(dict(content), indent=2, allow_nan=allow_nan) + "\n")


def write_summary(folder: Path, content: Mapping[str, Any], *, allow_nan: bool = True) -> None:
    """summary.json, the last file of every kind of folder but a comparison's (see write_json)."""
    write_json(Path(folder) / SUMMARY, content, allow_nan=allow_nan)


def note_pictures(folder: Path, missing: Mapping[str, str]) -> None:
    """Note which of the folder's pictures are missing and why ({}: none), in its summary.json (the note
    alone changes) or, without one, in pictures_missing.json; nothing is written when the note is unchanged.

    Raises:
      OSError: the note cannot be written.
    """
    folder = Path(folder)
    summary, problem = read_summary(folder)
    if summary is not None:
        if summary.get(PICTURES_MISSING, {}) == dict(missing):
            return
        if missing:
            summary[PICTURES_MISSING] = dict(missing)
        else:
            summary.pop(PICTURES_MISSING, None)
        write_summary(folder, summary)
    elif not problem:
        path = folder / PICTURES_MISSING_FILE
        if missing:
            write_json(path, missing)
        else:
            path.unlink(missing_ok=True)
