"""Time how long `nnopt train` takes to stop: from SIGTERM (or Ctrl-C) to exit, with the run folder complete.

Starts `nnopt train configs/sgd.yaml` with a short and a very long planned length, lets each train for the
same number of epochs (it waits for the progress line of that epoch), sends the signal and measures the wall
time until the process has exited. Stopping must not depend on the planned length: both finish the same work
(metrics, rates and pictures of the epochs done), and the target is under 1 s for either.

    python benchmarks/bench_stop.py [--repeat 3] [--after 2000] [--signal TERM]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0


def stop_time(planned: int, after: int, signum: int) -> tuple[float, str]:
    """Seconds from the signal to the exit of a run planned for `planned` epochs, stopped after `after`."""
    with tempfile.TemporaryDirectory() as root:
        args = [sys.executable, "-m", "nnopt_cli", "train", str(ROOT / "configs" / "sgd.yaml")]
        args += ["--runs-root", root, "--set", f"train.epochs={planned}", "--set", f"train.log_every={after}"]
        child = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        assert child.stderr is not None
        for line in child.stderr:  # the progress lines
            if line.startswith(f"epoch {after}/"):
                break
        sent = time.perf_counter()
        child.send_signal(signum)
        child.communicate(timeout=600)
        seconds = time.perf_counter() - sent
        (summary,) = Path(root).glob("*/summary.json")
        return seconds, json.loads(summary.read_text())["status"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--after", type=int, default=2000, help="epochs trained before the signal")
    parser.add_argument("--signal", choices=["TERM", "INT"], default="TERM")
    options = parser.parse_args()
    signum = signal.SIGTERM if options.signal == "TERM" else signal.SIGINT
    print(f"SIG{options.signal} after {options.after} epochs; target < {TARGET_SECONDS:g} s")
    print(f"{'planned epochs':>15} {'min s':>7} {'median s':>9}  status")
    for planned in (options.after * 2, 10_000_000):
        runs = [stop_time(planned, options.after, signum) for _ in range(options.repeat)]
        times = [t for t, _ in runs]
        status = ",".join(sorted({s for _, s in runs}))
        print(f"{planned:>15,} {min(times):>7.2f} {statistics.median(times):>9.2f}  {status}")


if __name__ == "__main__":
    main()
