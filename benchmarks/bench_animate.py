"""What --animate adds to `nnopt train configs/l2.yaml`: snapshots, frames.npz and a 61-frame boundary.gif.

    python benchmarks/bench_animate.py [--repeat 7] [--json benchmarks/results/bench_animate.json]

The whole command (a new process each time: start-up, training, files, pictures) is timed with and without
--animate, back to back and in alternating order, so that both halves of a pair meet the same load of a shared
machine. The figure is the median over the pairs of the difference of their wall times (with its quartiles;
the difference of the fastest of each is shown too): the target is at most 3 s. The parts of the animation
are timed in this process too, each the median over --repeat: the loop with and without snapshots, the
forward pass of every frame over the plane, and drawing boundary.gif alone.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402  (benchmarks/machine.py, beside this script)

from nnopt_cli import config  # noqa: E402
from nnopt_cli.core import loop  # noqa: E402
from nnopt_cli.experiments import experiment  # noqa: E402
from nnopt_cli.figures import plots, report  # noqa: E402

TARGET = 3.0  # seconds --animate may add to the command
L2 = ROOT / "configs" / "l2.yaml"
NNOPT = [sys.executable, "-m", "nnopt_cli"]


def command_seconds(animate: bool, root: Path) -> float:
    """Wall time of one `nnopt train configs/l2.yaml` (with --animate) in a new process."""
    args = [*NNOPT, "train", str(L2), "--runs-root", str(root), "--quiet"]
    started = time.perf_counter()
    subprocess.run([*args, *(["--animate"] if animate else [])], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def median_seconds(
    fn: Callable[[], object], repeat: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    times = []
    for _ in range(repeat):
        started = clock()
        fn()
        times.append(clock() - started)
    return statistics.median(times)


def parts(repeat: int, folder: Path) -> dict[str, float]:
    """The animation's parts in this process, median seconds each."""
    plain = config.load(L2)
    animated = config.load(L2, ["plot.animate=true"])
    (group,) = experiment.prepare([animated])
    (h,) = loop.run([animated], group.prepared)
    where = experiment.plane(animated, group.prepared)
    view = experiment.run_view(h, group.prepared)
    plots.warm_up()
    return {
        "loop without snapshots": median_seconds(lambda: loop.run([plain], group.prepared), repeat),
        "loop with snapshots": median_seconds(lambda: loop.run([animated], group.prepared), repeat),
        "every frame's scores (one forward pass)": median_seconds(
            lambda: experiment.animation_view(h, group.prepared, where), repeat
        ),
        "drawing boundary.gif": median_seconds(lambda: report.draw_boundary_gif(folder, h, view), repeat),
        "drawing boundary.gif, CPU": median_seconds(
            lambda: report.draw_boundary_gif(folder, h, view), repeat, time.process_time
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "bench_animate.json")
    args = parser.parse_args()

    seconds: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        command_seconds(False, root)  # warm up: the file cache, the font cache
        for i in range(args.repeat):
            for animate in (True, False) if i % 2 else (False, True):
                seconds[animate].append(command_seconds(animate, root))
        part_seconds = parts(args.repeat, root)
    added = [a - b for a, b in zip(seconds[True], seconds[False], strict=True)]
    low, median_added, high = statistics.quantiles(added, n=4) if len(added) > 1 else (added[0],) * 3
    fastest_added = min(seconds[True]) - min(seconds[False])

    print(f"nnopt train configs/l2.yaml, {args.repeat} pairs, wall seconds (median, fastest)")
    print(f"{'':<40}{'median':>9}{'fastest':>9}")
    rows = {
        "without --animate": seconds[False],
        "with --animate (61-frame boundary.gif)": seconds[True],
    }
    for name, values in rows.items():
        print(f"{name:<40}{statistics.median(values):>9.2f}{min(values):>9.2f}")
    spread = f"quartiles {low:.2f}–{high:.2f}"
    print(f"{'added by --animate':<40}{median_added:>9.2f}{fastest_added:>9.2f}   {spread}")
    print(f"\nparts, in one process (median of {args.repeat})")
    for name, value in part_seconds.items():
        print(f"  {name:<42}{value:>7.3f} s")
    print(f"\nmedian added {median_added:.2f} s (target <= {TARGET} s)")
    report_data = {
        "without_animate": seconds[False],
        "with_animate": seconds[True],
        "median_without": statistics.median(seconds[False]),
        "median_with": statistics.median(seconds[True]),
        "median_added": median_added,
        "added_q1": low,
        "added_q3": high,
        "fastest_added": fastest_added,
        "parts": part_seconds,
        "target": TARGET,
        "repeat": args.repeat,
    }
    machine.save(report_data, args.json)


if __name__ == "__main__":
    main()
