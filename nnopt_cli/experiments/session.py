"""A folder's life, written once for every command that fills one (train, compare, sweep).

    folder made ──► signals caught ──► config first, data, pictures, summary last ──► signals restored

The folder is made only after every input has been checked. While it is being filled, the first SIGINT
(Ctrl-C) or SIGTERM asks training to stop (`Session.stop_requested`, read after every update): the runs keep
their last whole epoch and say interrupted, and the folder is still completed; the command then exits with
128 + that signal's number. A file that cannot be written (disk full, no permission) removes the unfinished
folder and is one line (`WriteError`), as is any other failure: a folder is never left without its last file.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from nnopt_cli.store import runs

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class WriteError(ValueError):
    """A folder that could not be completed: which file, why in words, and that the folder was removed."""


@dataclass
class Session:
    """The folder being filled and the first stop signal received while filling it (None: none)."""

    folder: Path
    signum: int | None = None
    _saved: dict[int, Any] = field(default_factory=dict)

    def stop_requested(self) -> bool:
        return self.signum is not None

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
            session._saved[signum] = signal.signal(signum, session._handle)
        try:
            yield session
        finally:
            for number, handler in session._saved.items():
                signal.signal(number, handler)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise WriteError(f"{runs.io_message(exc)}; removed the unfinished {folder}") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


@dataclass(frozen=True)
class Finished:
    """How a command that filled a folder ended: its folder, its status (completed, diverged or
    interrupted), why when it did not complete, the signal that interrupted it, and its summary.json."""

    folder: Path
    status: str
    message: str = ""
    signum: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)
