"""A folder's life, written once for every command that fills one (train, compare, sweep).

    folder made ──► signals caught ──► config first, data, summary ──► pictures (Session.draw) ──► signals
                                                                                                    restored

The folder is made only after every input has been checked. While it is being filled, the first SIGINT
(Ctrl-C) or SIGTERM asks training to stop (`Session.stop_requested`, read after every update): the runs keep
their last whole epoch and say interrupted, and the folder is still completed; the command then exits with
128 + that signal's number. Until its data and summary are written, a file that cannot be written (disk full,
no permission) removes the unfinished folder and is one line (`WriteError`), as is any other failure: a
folder is never left without its last file.

The pictures come after, and a picture that fails never takes data with it: `Session.draw` notes every
picture "not drawn yet" in its folder's summary (store.folders.note_pictures), draws them, and leaves noted
those that failed (an exception, a file that cannot be written, a drawing process killed), with why; the
command ends with `Finished.failure` saying so (`nnopt replot` draws them again). From the first picture on,
nothing removes the folder.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from nnopt_cli.figures import report
from nnopt_cli.store import folders, runs

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class WriteError(ValueError):
    """A folder that could not be completed: which file, why in words, and that the folder was removed."""


@dataclass
class Session:
    """The folder being filled and the first stop signal received while filling it (None: none)."""

    folder: Path
    signum: int | None = None
    kept: bool = False  # the data and summary are written: nothing removes the folder any more
    pictures_failed: dict[Path, str] = field(default_factory=dict)
    _saved: dict[int, Any] = field(default_factory=dict)

    def stop_requested(self) -> bool:
        return self.signum is not None

    def draw(self, jobs: Sequence[report.Job]) -> dict[Path, str]:
        """Draw the pictures, once every data file and summary of the folder is written (draw_noted).
        Returns the failures (also gathered in `pictures_failed`).

        Raises:
          OSError: a note could not be written (the folder is kept).
        """
        self.kept = True
        failed = draw_noted(jobs, before=True)
        self.pictures_failed.update(failed)
        return failed

    def failure(self) -> str:
        """The pictures that failed, in one line ("" when none did)."""
        return pictures_line(self.folder, self.pictures_failed)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum


@contextmanager
def filling(root: str | Path, name: str) -> Iterator[Session]:
    """Make `<root>/<YYYYmmdd-HHMMSS>-<name>/` and hand it over to be filled, with the stop signals caught.

    Raises:
      runs.RunFolderError: the runs root cannot be used (nothing is made).
      WriteError: a file could not be written; the folder is removed.
    """
    folder = runs.make_folder(root, name)
    session = Session(folder)
    try:
        for signum in SIGNALS:
            # a signal the process was started ignoring (a background job of a shell script, nohup) stays
            # ignored, as it is while the inputs are read: the shell meant it for the jobs in the foreground
            if signal.getsignal(signum) is not signal.SIG_IGN:
                session._saved[signum] = signal.signal(signum, session._handle)
        try:
            yield session
        finally:
            for number, handler in session._saved.items():
                signal.signal(number, handler)
    except OSError as exc:
        if session.kept:
            raise WriteError(f"{runs.io_message(exc)}; {folder} keeps its data and summary") from None
        shutil.rmtree(folder, ignore_errors=True)
        raise WriteError(f"{runs.io_message(exc)}; removed the unfinished {folder}") from None
    except BaseException:
        if not session.kept:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def draw_noted(
    jobs: Sequence[report.Job], *, before: bool = False, workers: int | None = None
) -> dict[Path, str]:
    """Draw the pictures (report.draw) and note in each one's folder those that failed, with why
    (store.folders.note_pictures); a picture drawn is no longer noted. With `before`, every picture is
    first noted "not drawn yet", so that a folder whose drawing is cut off says which are missing.

    Returns:
      The files that could not be drawn, each with why.
    Raises:
      OSError: a note could not be written.
    """
    by_folder: dict[Path, list[Path]] = {}
    for job in jobs:
        by_folder.setdefault(job.file.parent, []).append(job.file)
    if before:
        for where, files in by_folder.items():
            pending = dict.fromkeys((f.name for f in files), folders.NOT_DRAWN)
            folders.note_pictures(where, {**folders.missing_pictures(where), **pending})
    failed = report.draw(jobs, workers=workers) or {}
    for where, files in by_folder.items():
        drawn = {f.name for f in files if f not in failed}
        still = {k: v for k, v in folders.missing_pictures(where).items() if k not in drawn}
        folders.note_pictures(where, {**still, **{f.name: failed[f] for f in files if f in failed}})
    return failed


def pictures_line(folder: Path, failed: Mapping[Path, str]) -> str:
    """One line for pictures that could not be drawn: which, why, that the data are kept, how to retry."""
    if not failed:
        return ""
    whys = sorted(set(failed.values()))
    names = ", ".join(
        str(p.relative_to(folder)) if p.is_relative_to(folder) else str(p) for p in sorted(failed)
    )
    why = whys[0] if len(whys) == 1 else "; ".join(whys)
    them = "it" if len(failed) == 1 else "them"
    return (
        f"could not draw {names} ({why}); {folder} keeps its data and its summary notes {them}; "
        f"nnopt replot {folder} draws {them} again"
    )


@dataclass(frozen=True)
class Finished:
    """How a command that filled a folder ended: its folder, its status (completed, diverged or
    interrupted), why when it did not complete, the signal that interrupted it, its summary.json, and what
    failed while the folder was kept (one line, "" when nothing did)."""

    folder: Path
    status: str
    message: str = ""
    signum: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    failure: str = ""  # a part that failed, the folder kept (pictures not drawn, a worker that died)
