"""Speed of `nnopt runs`: listing a runs root of 1,000 run folders, as a whole command.

    python benchmarks/bench_runs.py [--runs 1000] [--repeat 5] [--json benchmarks/results/runs.json]

One real `nnopt train` folder (configs/iris/adam.yaml, a test split, so every column has a value) is copied
under as many timestamped names; `nnopt runs ROOT` (the table, into a pipe), `--format json` and `--limit 20`
are then timed as whole commands, fastest and median of --repeat, interleaved.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402  (benchmarks/machine.py, beside this script)

NNOPT = [sys.executable, "-m", "nnopt_cli"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "runs.json")
    args = parser.parse_args()
    env = {**os.environ, "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one"
        config = str(ROOT / "configs" / "iris" / "adam.yaml")
        train = [*NNOPT, "train", config, "-q", "--runs-root", str(one)]
        subprocess.run(train, check=True, env=env, stdout=subprocess.DEVNULL)
        (source,) = one.iterdir()
        root = Path(tmp) / "runs"
        root.mkdir()
        for i in range(args.runs):
            shutil.copytree(source, root / f"20261130-{i // 60 % 60:02d}{i % 60:02d}{i // 3600:02d}-run{i}")
        commands = {
            "table": [*NNOPT, "runs", str(root)],
            "json": [*NNOPT, "runs", str(root), "--format", "json"],
            "limit_20": [*NNOPT, "runs", str(root), "--limit", "20"],
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
                walls[name].append(time.perf_counter() - start)
    results = {name: {"min": min(w), "median": statistics.median(w)} for name, w in walls.items()}
    print(f"nnopt runs over {args.runs} run folders, whole commands, best of {args.repeat}:")
    for name, t in results.items():
        print(f"  {name:<9} {t['min']:.2f} s (median {t['median']:.2f} s)")
    machine.save({"runs": args.runs, "commands": results}, args.json)


if __name__ == "__main__":
    main()
