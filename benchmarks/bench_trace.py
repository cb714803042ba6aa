"""What recording the loss of every mini-batch (History.batch_loss, trace.csv) costs the training loop.

    python benchmarks/bench_trace.py [--pairs 100] [--epochs 100] [--json benchmarks/results/trace.json]

Each run is trained by the loop in pairs, once recording the batch losses (what every command does) and
once with loop.run(trace=False), back to back and in alternating order, so that both halves of a pair meet
the same load of a shared machine. The figure is the median over the pairs of the ratio of their CPU times
(with its quartiles; the ratio of the fastest of each is shown too): the target is at most 1.15. CPU time
does not count the time this process waits for a core. The runs are shortened to --epochs so that many
pairs fit in a minute (the cost is per update, the same at any length).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402  (benchmarks/machine.py, beside this script)
import pairs  # noqa: E402  (benchmarks/pairs.py)

from nnopt_cli import config  # noqa: E402
from nnopt_cli.core import loop  # noqa: E402
from nnopt_cli.experiments import experiment  # noqa: E402

TARGET = 1.15


def cases(epochs: int) -> dict[str, pairs.Case]:
    """name -> (configs, their prepared group, updates per run): pairs.loop_cases."""
    return pairs.loop_cases(epochs)


def cpu_seconds(configs: list[config.Config], group: experiment.Group, trace: bool) -> float:
    cpu = time.process_time()
    loop.run(configs, group.prepared, trace=trace)
    return time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "trace.json")
    args = parser.parse_args()

    rows: dict[str, dict[str, float]] = {}
    for name, (configs, group, updates) in cases(args.epochs).items():
        rows[name] = pairs.ratio_of_pairs(
            lambda trace, c=configs, g=group: cpu_seconds(c, g, trace), args.pairs, updates, "with_trace"
        )

    width = max(len(k) for k in rows) + 2
    print(f"loop.run, {args.epochs} epochs, {args.pairs} pairs: CPU time with / without the batch losses")
    print(f"{'run':<{width}}{'ratio':>7}{'quartiles':>14}{'fastest':>9}{'µs/update':>11}{'+µs':>7}")
    for name, r in rows.items():
        quartiles = f"{r['ratio_q1']:.2f}–{r['ratio_q3']:.2f}"
        print(
            f"{name:<{width}}{r['ratio']:>7.3f}{quartiles:>14}{r['fastest_ratio']:>9.3f}"
            f"{r['us_per_update']:>11.1f}{r['extra_us_per_update']:>7.2f}"
        )
    worst = max(r["ratio"] for r in rows.values())
    print(f"\nmedian ratio at most {worst:.3f} (target <= {TARGET})")
    print()
    report = {
        "runs": rows,
        "worst_ratio": worst,
        "target": TARGET,
        "pairs": args.pairs,
        "epochs": args.epochs,
    }
    machine.save(report, args.json)


if __name__ == "__main__":
    main()
