"""Cost of `nnopt lr-find configs/l2.yaml` (100 updates, one picture) beside `nnopt train configs/l2.yaml
--epochs 40` (400 updates, three pictures): the whole command, from process start to exit.

    python benchmarks/bench_lrfind.py [--repeat 5] [--json benchmarks/results/lrfind.json]

The two commands run in turns, so that a busy spell of a shared machine hits both alike; each figure is the
minimum (and median) wall clock over --repeat runs. The promise: lr-find at most 1.5× the train.
"""

from __future__ import annotations

import argparse
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
COMMANDS = {
    "lr-find configs/l2.yaml": ["lr-find", "configs/l2.yaml"],
    "train configs/l2.yaml --epochs 40": ["train", "configs/l2.yaml", "--epochs", "40", "--quiet"],
    "lr-find configs/l2.yaml --grid optimizer.name=sgd,sgdm,adam": [
        "lr-find",
        "configs/l2.yaml",
        "--grid",
        "optimizer.name=sgd,sgdm,adam",
    ],
}
LIMIT = 1.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "lrfind.json")
    args = parser.parse_args()
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for name, command in COMMANDS.items():
                root = Path(tmp) / f"{i}-{len(walls[name])}-{command[0]}"
                start = time.perf_counter()
                subprocess.run(
                    [*NNOPT, *command, "--runs-root", str(root)],
                    check=True,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                )
                walls[name].append(time.perf_counter() - start)
    results = {name: {"min": min(w), "median": statistics.median(w)} for name, w in walls.items()}
    ratio = results["lr-find configs/l2.yaml"]["min"] / results["train configs/l2.yaml --epochs 40"]["min"]
    print(f"{'command':<68} {'min s':>7} {'median s':>9}")
    for name, r in results.items():
        print(f"nnopt {name:<62} {r['min']:>7.3f} {r['median']:>9.3f}")
    print(f"lr-find / train of 40 epochs (min): {ratio:.2f} (promise: at most {LIMIT})")
    machine.save({"repeat": args.repeat, "seconds": results, "ratio": ratio, "limit": LIMIT}, args.json)


if __name__ == "__main__":
    main()
