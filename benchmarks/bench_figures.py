"""Time the figures a run and a comparison draw: loss.png, lr.png, boundary.png, compare.png, boundaries.png.

The inputs are made here, shaped like the real ones (800 epochs, 8,000 updates, dot.csv's 300 points and a
2-11-1 ReLU network's score on the 241 x 241 plot grid), so that the benchmark needs only plots.py. Three
parts:

- cold: fresh processes; the import of matplotlib alone, and the first figure with its imports;
- warm: each figure drawn again and again in one process (median and minimum of --rounds);
- whole: fresh processes drawing a run's three figures, and `nnopt compare`'s 5 x 3 + 2 figures, in order
  and on a forked pool of workers as report.draw does.

    python benchmarks/bench_figures.py [--rounds 7] [--json benchmarks/results/figures.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402  (benchmarks/machine.py, beside this script)

from nnopt_cli.figures import plots  # noqa: E402

EPOCHS, STEPS_PER_EPOCH = 800, 10
GRID = np.linspace(-3.0, 3.0, 241)  # the plot grid over [-3, 3]² of dot.csv's two inputs
OPTIMIZERS = ("sgd", "sgdm", "adagrad", "rmsprop", "adam")
Job = tuple[Callable[..., None], tuple[Any, ...]]


# --- inputs shaped like a real run ---------------------------------------------------------------


def dataset() -> tuple[np.ndarray, np.ndarray]:
    """dot.csv: x (300, 2) and its classes (300,), 1 inside the circle."""
    table = np.loadtxt(ROOT / "nnopt_cli" / "data" / "dot.csv", delimiter=",", skiprows=1)
    return table[:, :2], table[:, 2].astype(int)


def relu_score(seed: int) -> np.ndarray:
    """A 2-11-1 ReLU network's output on the plot grid, (1, 241, 241): 0.5 on a rough 11-sided polygon about
    the circle. Row i is GRID[i] along x2."""
    rng = np.random.default_rng(seed)
    xx, yy = np.meshgrid(GRID, GRID)
    points = np.column_stack([xx.ravel(), yy.ravel()])
    angles = np.linspace(0, 2 * np.pi, 11, endpoint=False) + rng.uniform(-0.2, 0.2, 11)
    w1 = np.stack([np.cos(angles), np.sin(angles)]) * rng.uniform(0.8, 1.2, 11)
    b1 = -rng.uniform(0.6, 1.0, 11)
    hidden = np.maximum(points @ w1 + b1, 0.0)
    return (1.0 - hidden @ rng.uniform(0.4, 0.8, 11)).reshape(1, *xx.shape)


def history(seed: int) -> dict[str, np.ndarray]:
    """Per-epoch loss, data loss and accuracy, and the per-update learning rate."""
    rng = np.random.default_rng(seed)
    e = np.arange(1, EPOCHS + 1, dtype=float)
    tau = rng.uniform(5, 80)
    loss = 0.06 + 0.07 * np.exp(-e / 400) + 1.5 * np.exp(-e / tau)
    accuracy = np.round((0.95 - 0.6 * np.exp(-e / tau) + rng.normal(0, 0.004, EPOCHS)) * 300) / 300
    return {
        "epoch": e,
        "loss": loss,
        "data_loss": loss - 0.05 * (1 - np.exp(-e / 100)),
        "accuracy": accuracy,
        "ema_loss": loss * 1.02,
        "ema_accuracy": accuracy - 0.003,
        "lr": np.full(EPOCHS * STEPS_PER_EPOCH, 0.005),
    }


# --- the figures, as report.py draws them -----------------------------------------------------------


def draw_loss(folder: Path, h: dict[str, np.ndarray], name: str) -> None:
    loss = [
        plots.Curve(h["epoch"], h["loss"], "loss (data loss + regularization)", color="C0"),
        plots.Curve(h["epoch"], h["data_loss"], "data loss (mse)", color="C0", style="--"),
    ]
    accuracy = [plots.Curve(h["epoch"], h["accuracy"], "accuracy", color="C2")]
    plots.training_curves(folder / "loss.png", title=f"{name}: sgd lr=0.005", loss=loss, accuracy=accuracy)


def draw_lr(folder: Path, h: dict[str, np.ndarray], name: str) -> None:
    curve = plots.Curve(np.arange(len(h["lr"])), h["lr"], "constant, lr0=0.005")
    plots.lr_curves(folder / "lr.png", [curve], title=f"{name}: learning rate of each update")


def draw_boundary(folder: Path, b: plots.Boundary, name: str) -> None:
    plots.boundary(folder / "boundary.png", b, title=name, score_label="network output ŷ")


def draw_comparison(folder: Path, hs: Sequence[dict[str, np.ndarray]]) -> None:
    loss, accuracy, rates = [], [], []
    for i, (name, h) in enumerate(zip(OPTIMIZERS, hs, strict=True)):
        color = f"C{i}"
        loss.append(plots.Curve(h["epoch"], h["loss"], f"{name} lr=0.005", color=color))
        accuracy.append(plots.Curve(h["epoch"], h["accuracy"], name, color=color))
        rates.append(plots.Curve(np.arange(len(h["lr"])), h["lr"], name, color=color))
    plots.comparison(
        folder / "compare.png", loss=loss, accuracy=accuracy, rates=rates, title="5 entries side by side"
    )


def draw_boundaries(folder: Path, bs: Sequence[plots.Boundary]) -> None:
    plots.boundary_grid(
        folder / "boundaries.png", bs, title="Decision boundaries", score_label="network output ŷ"
    )


def boundary_of(seed: int, name: str, *, ema: bool = False) -> plots.Boundary:
    """A run's boundary as report.py builds it for dot.csv: two classes, all 300 points trained on."""
    x, labels = dataset()
    return plots.Boundary(
        score=relu_score(seed),
        label=f"{name}: accuracy 93.3% after 800 epochs",
        ema_score=relu_score(seed + 100) if ema else None,
        xs=GRID,
        ys=GRID,
        train_x=x,
        train_labels=labels,
        classes=("y_c = 0", "y_c = 1 (x1² + x2² < 2)"),
        axes=("x1", "x2"),
    )


def run_jobs(folder: Path, seed: int, name: str) -> list[Job]:
    """A run's three figures, as report.run_jobs lists them."""
    folder.mkdir(parents=True, exist_ok=True)
    h = history(seed)
    return [
        (draw_loss, (folder, h, name)),
        (draw_lr, (folder, h, name)),
        (draw_boundary, (folder, boundary_of(seed, name), name)),
    ]


def compare_jobs(folder: Path) -> list[Job]:
    """`nnopt compare sgd sgdm adagrad rmsprop adam`: compare.png, boundaries.png, then 5 runs' figures."""
    hs = [history(i) for i in range(len(OPTIMIZERS))]
    bs = [boundary_of(i, name) for i, name in enumerate(OPTIMIZERS)]
    jobs: list[Job] = [(draw_comparison, (folder, hs)), (draw_boundaries, (folder, bs))]
    for i, name in enumerate(OPTIMIZERS):
        jobs += run_jobs(folder / name, i, name)
    return jobs


def in_order(jobs: Sequence[Job]) -> None:
    for fn, args in jobs:
        fn(*args)


def on_pool(jobs: Sequence[Job]) -> None:
    """report.draw's pool: matplotlib imported first, then up to 4 forked workers."""
    import matplotlib.figure  # noqa: F401

    workers = min(len(jobs), os.cpu_count() or 1, 4)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for future in [pool.submit(fn, *args) for fn, args in jobs]:
            future.result()


# --- the parts ---------------------------------------------------------------------------------------


def child(part: str) -> dict[str, float]:
    """One fresh process's measurement (run by `--child PART`)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        if part == "import":
            import matplotlib.backends.backend_agg  # noqa: F401
            import matplotlib.figure  # noqa: F401
        elif part == "first_figure":
            in_order(run_jobs(folder, 0, "l2")[1:2])
        elif part == "run_in_order":
            in_order(run_jobs(folder, 0, "l2"))
        elif part == "run_on_pool":
            on_pool(run_jobs(folder, 0, "l2"))
        elif part == "compare_in_order":
            in_order(compare_jobs(folder))
        elif part == "compare_on_pool":
            on_pool(compare_jobs(folder))
        else:
            raise SystemExit(f"unknown part {part}")
        return {"seconds": time.perf_counter() - t0}


def fresh(part: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, __file__, "--child", part], check=True, capture_output=True, text=True
        ).stdout
        times.append(json.loads(out)["seconds"])
    return times


def warm(rounds: int) -> dict[str, list[float]]:
    """Seconds per figure, every figure drawn `rounds` times in this process after one untimed round."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        h = history(0)
        hs = [history(i) for i in range(len(OPTIMIZERS))]
        bs = [boundary_of(i, name) for i, name in enumerate(OPTIMIZERS)]
        figures: dict[str, Callable[[], None]] = {
            "loss.png": lambda: draw_loss(folder, h, "l2"),
            "lr.png": lambda: draw_lr(folder, h, "l2"),
            "boundary.png": lambda: draw_boundary(folder, boundary_of(0, "l2"), "l2"),
            "boundary.png (EMA)": lambda: draw_boundary(folder, boundary_of(0, "ema", ema=True), "ema"),
            "compare.png": lambda: draw_comparison(folder, hs),
            "boundaries.png": lambda: draw_boundaries(folder, bs),
        }
        for fn in figures.values():
            fn()
        times: dict[str, list[float]] = {name: [] for name in figures}
        for _ in range(rounds):
            for name, fn in figures.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return times


def row(times: list[float]) -> dict[str, Any]:
    return {"median_s": statistics.median(times), "min_s": min(times), "times_s": times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each measurement (default 7)")
    parser.add_argument(
        "--json",
        type=Path,
        default=HERE / "results" / "figures.json",
        help="where the results go (default benchmarks/results/figures.json)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0

    sections: dict[str, dict[str, Any]] = {
        "cold (fresh process)": {
            "import matplotlib.figure + backend_agg": row(fresh("import", args.rounds)),
            "first figure (lr.png) with its imports": row(fresh("first_figure", args.rounds)),
        },
        "warm (one process)": {name: row(t) for name, t in warm(args.rounds).items()},
        "whole (fresh process)": {
            "run: 3 figures in order": row(fresh("run_in_order", args.rounds)),
            "run: 3 figures on a forked pool": row(fresh("run_on_pool", args.rounds)),
            "compare: 17 figures in order": row(fresh("compare_in_order", args.rounds)),
            "compare: 17 figures on a forked pool": row(fresh("compare_on_pool", args.rounds)),
        },
    }
    print(f"figures: median and minimum of {args.rounds} rounds, seconds")
    for section, rows in sections.items():
        print(f"\n{section:<44}{'median':>9}{'min':>9}")
        for name, r in rows.items():
            print(f"  {name:<42}{r['median_s']:>9.3f}{r['min_s']:>9.3f}")
    whole = sections["whole (fresh process)"]
    ratio = whole["compare: 17 figures in order"]["median_s"] / whole["run: 3 figures in order"]["median_s"]
    print(f"\ncompare / run figures (in order): {ratio:.2f}x")

    report = {
        "benchmark": "figures",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rounds": args.rounds,
        "results": sections,
        "compare_over_run": ratio,
    }
    machine.save(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
