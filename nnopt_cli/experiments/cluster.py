"""`nnopt sweep --scheduler ADDRESS`: the sweep's tasks sent to a Dask distributed cluster.

Each task (a chunk of one population: its configs) is one Dask task running `tasks.train_task` on a worker,
which loads the data and trains there, so the results are the local ones bit for bit. Dask is an optional
extra (`pip install 'nnopt[dask]'`); nothing else imports this module. Workers need nnopt installed and, for
`data.path` or `model.init_from` files and for --save-runs, the same paths (a shared file system).

The scheduler is reached (`connected`) before the sweep's folder is made, so an address that is malformed or
where nothing listens is one line with nothing written; Dask's own log lines are kept off the terminal from
then on, and a scheduler lost part-way is one line (tasks.Lost) with the tasks finished so far kept.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nnopt_cli.core.loop import History
    from nnopt_cli.experiments.tasks import Progress, Task

CONNECT_SECONDS = 5
SCHEMES = ("tcp", "tls", "ws", "wss")
DEFAULT_PORT = 8786  # Dask's scheduler port
# [scheme://]host[:port], the host a name, an IPv4 address or an [IPv6] address
_ADDRESS = re.compile(
    r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(?P<port>\d+))?$"
)


def parse(address: str) -> tuple[str, str, int]:
    """An address's scheme, host and port (an inproc:// address: its path, and port 0).

    Raises:
      tasks.SweepError: not an address of a Dask scheduler.
    """
    from nnopt_cli.experiments.tasks import SweepError

    if address.startswith("inproc://") and len(address) > len("inproc://"):
        return "inproc", address[len("inproc://") :], 0  # a cluster in this very process
    found = _ADDRESS.match(address.strip())
    scheme = (found.group("scheme") if found else None) or "tcp"
    port = int(found.group("port")) if found and found.group("port") else DEFAULT_PORT
    if found is None or scheme not in SCHEMES or not 0 < port < 65536:
        raise SweepError(
            f"--scheduler {address!r}: not a scheduler address; give [tcp://]HOST[:PORT], "
            f"e.g. tcp://10.0.0.5:{DEFAULT_PORT}"
        )
    return scheme, found.group("host").strip("[]"), port


@contextlib.contextmanager
def connected(address: str) -> Iterator[Any]:
    """A Dask client of the scheduler at `address`, closed on leaving; Dask's log lines silenced meanwhile.

    Raises:
      tasks.SweepError: Dask is not installed, the address is malformed, or no scheduler answers there.
    """
    from nnopt_cli.experiments.tasks import SweepError

    try:
        from distributed import Client
    except ImportError:
        raise SweepError(
            "--scheduler: Dask is not installed; install the extra with pip install 'nnopt[dask]'"
        ) from None
    scheme, host, port = parse(address)
    try:  # nothing listening is known at once; Dask would retry for its whole timeout first
        if scheme != "inproc":
            socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        raise SweepError(f"--scheduler {address}: cannot reach a Dask scheduler there ({why})") from None
    _quiet()
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"--scheduler {address}: cannot reach a Dask scheduler there ({exc})") from None
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=CONNECT_SECONDS)


def _quiet() -> None:
    """Dask's loggers (its tracebacks when a scheduler goes away) kept off the terminal, for the rest of the
    process: a closed client's background reconnection may still log after the sweep is done."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)


def execute(
    work: Sequence[Task],
    client: Any,
    address: str,
    *,
    should_stop: Callable[[], bool] | None = None,
    progress: Progress | None = None,
) -> list[list[History] | None]:
    """Run every task on the cluster `client` is connected to (at `address`); each task's histories in task
    order. After `should_stop` says True, tasks not yet finished are cancelled (None: not trained); a task
    that is running on a worker cannot be stopped part-way, so its rows are dropped with it.

    Raises:
      tasks.SweepError: a task failed on a worker (nnopt missing there, an exception).
      tasks.Lost: the scheduler went away; the tasks finished so far are kept.
    """
    from nnopt_cli.experiments.tasks import Lost, SweepError, runs_done, train_task

    results: dict[int, list[History] | None] = {}
    futures = {
        client.submit(train_task, task, key=f"nnopt-sweep-task-{i}-{id(work)}", pure=False): i
        for i, task in enumerate(work)
    }
    pending: set[Any] = set(futures)
    while pending:
        if should_stop is not None and should_stop():
            client.cancel(list(pending))
            for f in pending:
                results[futures[f]] = None
            break
        if client.status != "running":
            lost = f"--scheduler {address}: the Dask scheduler went away while training"
            raise Lost(lost, [results.get(i) for i in range(len(work))])
        for f in [f for f in pending if f.done()]:
            pending.discard(f)
            try:
                results[futures[f]] = f.result(timeout=CONNECT_SECONDS)
            except Exception as exc:
                if client.status != "running" or f.status == "cancelled":
                    lost = f"--scheduler {address}: the Dask scheduler went away while training"
                    raise Lost(lost, [results.get(i) for i in range(len(work))]) from None
                why = " ".join(str(exc).split()) or type(exc).__name__
                raise SweepError(f"--scheduler {address}: a task failed on a worker: {why}") from None
        if progress is not None:
            progress(sum(runs_done(got) for got in results.values()))
        if pending:
            time.sleep(0.1)
    return [results.get(i) for i in range(len(work))]
