"""Worker processes of the main process (drawing, a sweep's chunks): the main process decides everything.

Ctrl-C and SIGTERM reach the whole process group; a worker ignores both, and the main process decides what
an interruption keeps (it tells its workers through shared memory, or lets them finish). A worker whose
main process is gone (killed outright) exits by itself instead of waiting for work forever.
"""

from __future__ import annotations

import os
import signal
import threading
import time

PARENT_POLL_SECONDS = 0.5


def start() -> None:
    """Run first in every worker process (a pool's initializer)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = os.getppid()

    def exit_with_parent() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=exit_with_parent, daemon=True).start()
