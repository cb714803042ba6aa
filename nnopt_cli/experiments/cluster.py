"""`nnopt sweep --scheduler ADDRESS`: the sweep's tasks sent to a Dask distributed cluster.

Each task (a chunk of one population: its configs) is one Dask task running `tasks.train_task` on a worker,
which loads the data and trains there, so the results are the local ones bit for bit. Dask is an optional
extra (`pip install 'nnopt[dask]'`); nothing else imports this module. Workers need nnopt installed and, for
`data.path` or `model.init_from` files and for --save-runs, the same paths (a shared file system).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nnopt_cli.core.loop import History
    from nnopt_cli.experiments.tasks import Progress, Task

CONNECT_SECONDS = 5


def execute(
    work: Sequence[Task],
    address: str,
    *,
    should_stop: Callable[[], bool] | None = None,
    progress: Progress | None = None,
) -> list[list[History] | None]:
    """Run every task on the cluster at `address`; each task's histories in task order. After `should_stop`
    says True, tasks not yet finished are cancelled (None: not trained); a task that is running on a worker
    cannot be stopped part-way, so its rows are dropped with it.

    Raises:
      tasks.SweepError: Dask is not installed, or the scheduler cannot be reached.
    """
    from nnopt_cli.experiments.tasks import SweepError, runs_done, train_task

    try:
        from distributed import Client
    except ImportError:
        raise SweepError(
            "--scheduler: Dask is not installed; install the extra with pip install 'nnopt[dask]'"
        ) from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"--scheduler {address}: cannot reach a Dask scheduler there ({exc})") from None
    results: dict[int, list[History] | None] = {}
    try:
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
            for f in [f for f in pending if f.done()]:
                pending.discard(f)
                try:
                    results[futures[f]] = f.result()
                except Exception as exc:  # a worker without nnopt, or one that died
                    raise SweepError(f"--scheduler {address}: a task failed on a worker: {exc}") from None
            if progress is not None:
                progress(sum(runs_done(got) for got in results.values()))
            if pending:
                time.sleep(0.1)
    finally:
        client.close()
    return [results.get(i) for i in range(len(work))]
