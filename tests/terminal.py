"""Children that take Ctrl-C as a process in a terminal's foreground does.

A process started ignoring SIGINT (the whole test run launched as a background job of a shell script, where
the shell sets SIGINT and SIGQUIT to "ignore" for it, and its children inherit that) keeps ignoring it, by
POSIX convention and by nnopt's; a test that presses Ctrl-C on a child means the foreground case, so the
child is started with the default action, whatever the test run inherited.
"""

from __future__ import annotations

import signal
import subprocess
from typing import Any


def _default_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def start(args: list[str], **options: Any) -> subprocess.Popen:
    """subprocess.Popen(args, **options) with SIGINT and SIGTERM at their default actions in the child."""
    return subprocess.Popen(args, preexec_fn=_default_signals, **options)
