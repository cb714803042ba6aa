"""Files written whole or not at all: every file nnopt writes goes through a temporary name beside it and
is renamed into place once complete, so a reader never sees half a file (store/ and figures/ write so).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


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
