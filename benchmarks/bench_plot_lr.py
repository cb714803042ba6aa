"""Time `nnopt plot-lr`'s work: the 10 schedule types x 10,000 steps, evaluated and drawn into one PNG.

Runs the same code as the command (lrplot.from_parameters, then lrplot.write) several times and reports the
minimum and median wall time of the whole, of the evaluation alone and of the figure alone. The target is
<= 1 s for the whole.

    python benchmarks/bench_plot_lr.py [--repeat 7] [--steps 10000] [--json benchmarks/results/plot_lr.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import machine  # noqa: E402  (benchmarks/machine.py, beside this script)

from nnopt_cli.core import schedules
from nnopt_cli.experiments import lrplot

HERE = Path(__file__).resolve().parent
TARGET_SECONDS = 1.0
# The parameters each type needs beyond seed 001's defaults (lr 0.5, decay_steps 10, decay_rate 0.9, ...),
# spread over the 10,000 steps so every curve has some shape to draw.
PARAMS: dict[str, dict[str, Any]] = {
    "constant": {},
    "exponential": {"decay_steps": 1000},
    "natural_exp": {"decay_steps": 1000, "decay_rate": 0.5},
    "inverse_time": {"decay_steps": 1000, "decay_rate": 0.5},
    "polynomial": {"decay_steps": 1000, "cycle": True},
    "cosine": {"decay_steps": 8000},
    "cosine_restarts": {"first_decay_steps": 500},
    "linear_cosine": {"decay_steps": 8000, "num_periods": 4.0},
    "noisy_linear_cosine": {"decay_steps": 8000, "num_periods": 4.0},
    "piecewise_constant": {"boundaries": [2000, 5000, 8000], "values": [0.5, 0.3, 0.1, 0.01]},
}
assert set(PARAMS) == set(schedules.SCHEDULE_TYPES)


def evaluate(steps: int) -> list[lrplot.LrCurve]:
    return [lrplot.from_parameters(t, p, steps=steps) for t, p in PARAMS.items()]


def draw(curves: list[lrplot.LrCurve], png: Path) -> None:
    lrplot.write(curves, png=png)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions (default 7)")
    parser.add_argument("--steps", type=int, default=10_000, help="steps per schedule (default 10000)")
    parser.add_argument(
        "--json",
        type=Path,
        default=HERE / "results" / "plot_lr.json",
        help="where the results go (default benchmarks/results/plot_lr.json)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "plot_lr.png"
        # one untimed round: imports matplotlib, loads fonts, warms NumPy's kernels
        draw(evaluate(args.steps), png)
        curves = evaluate(args.steps)
        results = {
            "total": timed(lambda: draw(evaluate(args.steps), png), args.repeat),
            "evaluation": timed(lambda: evaluate(args.steps), args.repeat),
            "figure": timed(lambda: draw(curves, png), args.repeat),
        }
        png_bytes = png.stat().st_size

    rows: dict[str, dict[str, Any]] = {
        name: {"min_s": min(t), "median_s": statistics.median(t), "times_s": t} for name, t in results.items()
    }
    print(f"plot-lr: {len(PARAMS)} schedules x {args.steps} steps, {args.repeat} repetitions")
    print(f"{'part':<12}{'min (s)':>10}{'median (s)':>12}")
    for name, row in rows.items():
        print(f"{name:<12}{row['min_s']:>10.4f}{row['median_s']:>12.4f}")
    ok = statistics.median(results["total"]) <= TARGET_SECONDS
    print(f"target: total <= {TARGET_SECONDS:g} s: {'met' if ok else 'NOT met'}")

    report = {
        "benchmark": "plot_lr",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "schedules": len(PARAMS),
        "steps": args.steps,
        "repeat": args.repeat,
        "target_s": TARGET_SECONDS,
        "target_met": ok,
        "png_bytes": png_bytes,
        "results": rows,
        "params": PARAMS,
    }
    machine.save(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
