"""Worker processes of the main process (drawing, a sweep's chunks): the main process decides everything.

Ctrl-C and SIGTERM reach the whole process group; a worker ignores both, and the main process decides what
an interruption keeps (it tells its workers through shared memory, or lets them finish). A worker whose
main process is gone (killed outright) exits by itself instead of waiting for work forever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

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


@contextlib.contextmanager
def pool(
    count: int, *, initializer: Callable[..., None] = start, initargs: tuple[Any, ...] = ()
) -> Iterator[ProcessPoolExecutor]:
    """`count` forked worker processes (their initializer calls `start`). Leaving normally waits for them;
    leaving on an exception, or with a worker dead (BrokenProcessPool), kills the others outright (they
    ignore SIGTERM, which is what the executor would send them, and wait for ever for their join) and drops
    the work not started, so that a failure is reported at once instead of after every queued task."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    executor = ProcessPoolExecutor(count, mp_context=context, initializer=initializer, initargs=initargs)
    try:
        yield executor
    except BaseException:
        kill(executor)
        raise
    if getattr(executor, "_broken", False):  # a worker died: the executor's own cleanup would wait for ever
        kill(executor)
    else:
        executor.shutdown(wait=True)


def kill(executor: ProcessPoolExecutor) -> None:
    """Kill an executor's worker processes (SIGKILL) and shut it down without waiting for its queue."""
    processes = dict(getattr(executor, "_processes", None) or {})
    for process in processes.values():
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.kill()
    for process in processes.values():
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(timeout=5)
    executor.shutdown(wait=True, cancel_futures=True)
