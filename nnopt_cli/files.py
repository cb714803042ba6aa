"""Files written whole or not at all: every file nnopt writes goes through a temporary name beside it and
is renamed into place once complete, so a reader never sees half a file (store/ and figures/ write so).

A rename replaces whatever is at the path, so only a regular file (or nothing) is ever replaced: a device,
a FIFO, a socket or a folder at a path the user gave (--out, --csv, --runs-root) is refused with one line,
by `check_output` and `check_folder` before anything is computed, and by `replacing` at the last moment.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


class OutputError(ValueError):
    """A path given for an output that nnopt must not write (not a regular file, a broken link); one line."""


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def what_is(path: Path) -> str:
    """What is at `path`, links followed, in words: "" for nothing or a regular file, "a folder", "a
    character device", "a FIFO (named pipe)", "a socket", "a broken link (to TARGET)"..."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"a broken link (to {os.readlink(path)})"
        return ""
    except OSError:
        return ""  # cannot look (a part of the path is a file, no permission): the write will say why
    for test, words in _KINDS:
        if test(mode):
            return words
    return "" if stat.S_ISREG(mode) else "not a regular file"


def check_output(path: Path | None, option: str) -> None:
    """Refuse an output file path (`option` names it: "--out") where something other than a regular file is.

    Raises:
      OutputError: one line, naming the option, the path and what is there.
    """
    if path is None:
        return
    found = what_is(path)
    if found:
        raise OutputError(
            f"{option} {path}: {found}, not a regular file; give the path of a file "
            "(nnopt replaces nothing else)"
        )


def check_folder(path: Path, option: str) -> None:
    """Refuse a folder path (`option` names it: "--runs-root") where something other than a folder is.

    Raises:
      OutputError: one line, naming the option, the path and what is there.
    """
    found = what_is(path)
    if found == "a folder" or not found and not path.exists():
        return
    raise OutputError(f"{option} {path}: {found or 'a file'}, not a folder; give a folder (made if missing)")


@contextlib.contextmanager
def replacing(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file opened under a temporary name of its own beside `path` (`.name.<pid>.<random>.tmp`), renamed
    to `path` once written; on any failure the temporary file is removed and `path` is left as it was."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None  # name the file, not its temporary
    try:
        opened = os.fdopen(fd, mode) if "b" in mode else os.fdopen(fd, mode, encoding="utf-8", newline="")
        with opened as f:
            yield f
        found = what_is(path)
        if found and not found.startswith("a broken link"):
            raise OSError(errno.EEXIST, f"{found}, not a regular file; nnopt replaces only files", str(path))
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def reason(exc: OSError) -> str:
    """Why a file could not be written, in words (the file itself not named)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full (no space left on device)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write there ({exc.strerror})"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    return f"cannot write ({exc.strerror or exc})"
