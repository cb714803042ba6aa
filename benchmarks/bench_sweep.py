"""Speed of `nnopt sweep`: the whole command against one `nnopt train`, and runs per second against the
number of runs, with the peak memory.

    python benchmarks/bench_sweep.py [--repeat 3] [--sizes 1,4,16,64,256,1000]
                                     [--json benchmarks/results/sweep.json]

1. Whole commands, interleaved in rounds so that a slow spell of a shared machine hits both alike:
   `nnopt train configs/l2.yaml` and the 5 × 3 × 5 = 75-run sweep of the same config (optimizer.name sgd,
   sgdm, adam × optimizer.lr 0.001 .. 0.1 × 5 seeds). The ratio is what the README quotes (target: at most 8).
2. Runs of configs/l2.yaml (800 epochs, one learning rate each, log-spaced) trained as one population in one
   process (--jobs 1: the cost of a population per run) and with every core (--jobs = cores), each size in a
   fresh process so that its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402  (benchmarks/machine.py, beside this script)

L2 = ROOT / "configs" / "l2.yaml"
NNOPT = [sys.executable, "-m", "nnopt_cli"]
SWEEP_75 = [
    "--grid",
    "optimizer.name=sgd,sgdm,adam",
    "--grid",
    "optimizer.lr=0.001,0.003,0.01,0.03,0.1",
    "--seeds",
    "5",
]


def whole_commands(rounds: int) -> dict[str, dict[str, float]]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    commands = {
        "train": [*NNOPT, "train", str(L2), "--quiet"],
        "sweep_75": [*NNOPT, "sweep", str(L2), *SWEEP_75, "--quiet"],
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as root:
        for _ in range(rounds):
            for name, command in commands.items():
                start = time.perf_counter()
                run = [*command, "--runs-root", root]
                subprocess.run(run, check=True, env=env, stdout=subprocess.DEVNULL)
                walls[name].append(time.perf_counter() - start)
    return {name: {"min": min(w), "median": statistics.median(w)} for name, w in walls.items()}


def one_size(runs: int, jobs: int) -> dict[str, float]:
    """Train `runs` runs of configs/l2.yaml (lr log-spaced) with `jobs` processes, in this process."""
    from nnopt_cli.config import grid
    from nnopt_cli.experiments import sweep, tasks

    option = f"optimizer.lr=1e-4:1e-1:{runs}log" if runs > 1 else "optimizer.lr=0.005"
    plan = grid.plan(L2, [option], max_runs=max(runs, 1))
    work = tasks.chunks(plan, jobs=jobs)
    start = time.perf_counter()
    results = sweep.execute(work, jobs=jobs)
    seconds = time.perf_counter() - start
    assert all(r is not None for r in results)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_kib = max(peak_kib, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {
        "runs": runs,
        "jobs": jobs,
        "populations": len(work),
        "train_seconds": seconds,
        "ms_per_run": 1e3 * seconds / runs,
        "runs_per_second": runs / seconds,
        "peak_rss_mib": peak_kib / 1024,
    }


def sizes_table(sizes: list[int], jobs_list: list[int], rounds: int) -> list[dict[str, float]]:
    rows = []
    for runs in sizes:
        for jobs in jobs_list:
            best = None
            for _ in range(rounds):
                out = subprocess.run(
                    [sys.executable, __file__, "--one", str(runs), "--jobs", str(jobs)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                row = json.loads(out.stdout.strip().splitlines()[-1])
                if best is None or row["train_seconds"] < best["train_seconds"]:
                    best = row
            assert best is not None
            rows.append(best)
            print(
                f"{runs:>6} runs  jobs {jobs}  {best['populations']:>3} populations  "
                f"{best['train_seconds']:8.2f} s  {best['ms_per_run']:7.1f} ms/run  "
                f"{best['runs_per_second']:8.1f} runs/s  peak {best['peak_rss_mib']:7.0f} MiB",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,4,16,64,256,1000")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "sweep.json")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.one, args.jobs)))
        return

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    print(f"whole commands, best of {args.repeat} rounds (wall clock):", flush=True)
    commands = whole_commands(args.repeat)
    ratio = commands["sweep_75"]["min"] / commands["train"]["min"]
    for name, t in commands.items():
        print(f"  {name:<9} {t['min']:6.2f} s (median {t['median']:.2f} s)")
    print(f"  the 75-run sweep costs {ratio:.2f}× one train (target: at most 8×)\n")

    print(f"runs of configs/l2.yaml (800 epochs), best of {args.repeat}:", flush=True)
    jobs_list = sorted({1, cores})
    rows = sizes_table([int(s) for s in args.sizes.split(",")], jobs_list, args.repeat)
    machine.save(
        {
            "whole_commands": commands,
            "sweep_75_over_train": ratio,
            "sizes": rows,
            "cores": cores,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
