"""Speed of training: the loop, the whole command, the optimizers, EMA, and compare's population.

    python benchmarks/bench_train.py [--repeat 5] [--json benchmarks/results/train.json]
                                     [--tf-python /path/to/python-with-tensorflow]

Every figure is the minimum (and median) over --repeat runs measured in one process, side by side, so that
ratios are meaningful on a shared, noisy machine. With --tf-python, the course's own TensorFlow 2 loop for the
same run (2-11-1, ReLU, MSE, L2 0.03, SGD lr 0.005, batch 32, 800 epochs) is timed in that interpreter too.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402  (benchmarks/machine.py, beside this script)

from nnopt_cli import config, data  # noqa: E402
from nnopt_cli.core import loop  # noqa: E402
from nnopt_cli.experiments import compare as compare_mod  # noqa: E402
from nnopt_cli.experiments import experiment  # noqa: E402

L2 = ROOT / "configs" / "l2.yaml"
NNOPT = [sys.executable, "-m", "nnopt_cli"]

COURSE_TF2 = r"""
import time, numpy as np, tensorflow as tf
rdm = np.random.RandomState(2); X = rdm.randn(300, 2)
Y = np.array([[int(a * a + b * b < 2)] for a, b in X], dtype=np.float32)
ds = tf.data.Dataset.from_tensor_slices((tf.cast(X, tf.float32), tf.cast(Y, tf.float32))).batch(32)
w1 = tf.Variable(tf.random.normal([2, 11]), dtype=tf.float32); b1 = tf.Variable(tf.constant(0.01, shape=[11]))
w2 = tf.Variable(tf.random.normal([11, 1]), dtype=tf.float32); b2 = tf.Variable(tf.constant(0.01, shape=[1]))
lr, epochs, regularizer = 0.005, 800, 0.03
start = time.perf_counter()
for epoch in range(epochs):
    for x, y0 in ds:
        with tf.GradientTape() as tape:
            h = tf.nn.relu(tf.matmul(x, w1) + b1)
            y = tf.matmul(h, w2) + b2
            loss = tf.reduce_mean(tf.square(y0 - y)) + regularizer * tf.reduce_sum(
                [tf.nn.l2_loss(w1), tf.nn.l2_loss(w2)])
        g = tape.gradient(loss, [w1, b1, w2, b2])
        w1.assign_sub(lr * g[0]); b1.assign_sub(lr * g[1]); w2.assign_sub(lr * g[2]); b2.assign_sub(lr * g[3])
print(time.perf_counter() - start)
"""


def timed_rounds(jobs: dict[str, Callable[[], float | None]], rounds: int) -> dict[str, dict[str, float]]:
    """Run every job once per round, the jobs interleaved, so that a slow spell of a shared machine hits all
    of them alike. Per job: min and median wall clock (or the time the job reports) and the min CPU time of
    this process (unaffected by other processes waiting for the cores, so the basis for ratios; meaningless
    for a subprocess, which is timed by wall clock only)."""
    walls: dict[str, list[float]] = {name: [] for name in jobs}
    cpus: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, fn in jobs.items():
            start, cpu = time.perf_counter(), time.process_time()
            own = fn()
            walls[name].append(own if own is not None else time.perf_counter() - start)
            cpus[name].append(time.process_time() - cpu)
    return {
        name: {"min": min(walls[name]), "median": statistics.median(walls[name]), "cpu_min": min(cpus[name])}
        for name in jobs
    }


def loop_seconds(c: config.Config) -> float:
    return experiment.train(c).train_seconds


def plain_numpy_seconds() -> float:
    """The same run as configs/l2.yaml written as a plain NumPy loop, the way one would write it by hand:
    points × features, x @ w + b, one array per parameter, no buffers reused. The yardstick for the loop."""
    ds = data.load()
    x, y = ds.x, ds.labels.astype(float)[:, None]
    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((2, 11)), rng.standard_normal((11, 1))
    b1, b2 = np.full(11, 0.01), np.full(1, 0.01)
    lr, reg = 0.005, 0.03
    start = time.perf_counter()
    for _ in range(800):
        for i in range(0, 300, 32):
            xb, yb = x[i : i + 32], y[i : i + 32]
            z1 = xb @ w1 + b1
            a1 = np.maximum(z1, 0.0)
            out = a1 @ w2 + b2
            dout = 2.0 * (out - yb) / len(xb)
            dw2 = a1.T @ dout + reg * w2
            db2 = dout.sum(axis=0)
            dz1 = (dout @ w2.T) * (z1 > 0)
            dw1 = xb.T @ dz1 + reg * w1
            db1 = dz1.sum(axis=0)
            w1 -= lr * dw1
            b1 -= lr * db1
            w2 -= lr * dw2
            b2 -= lr * db2
        # the metrics nnopt records each epoch: full-set loss and accuracy
        out = np.maximum(x @ w1 + b1, 0.0) @ w2 + b2
        loss = np.mean((y - out) ** 2) + reg * (np.sum(w1**2) + np.sum(w2**2)) / 2
        float(loss), float(np.mean((out >= 0.5) == (y > 0.5)))
    return time.perf_counter() - start


def command_seconds(args: list[str], tmp: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [*NNOPT, *args], check=True, cwd=tmp, capture_output=True, env={**os.environ, "MPLBACKEND": "Agg"}
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "train.json")
    parser.add_argument("--tf-python", help="a Python with TensorFlow 2, to time the course's own loop")
    args = parser.parse_args()
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "nnopt-bench"
    tmp.mkdir(parents=True, exist_ok=True)
    runs_root = str(tmp / "runs")

    base = config.load(L2)
    steps = 8000
    rows: dict[str, dict[str, float]] = {}
    experiment.train(base)  # warm up imports and caches

    loops: dict[str, Callable[[], float | None]] = {
        "training loop, configs/l2.yaml (8000 updates)": lambda: loop_seconds(base),
        "plain NumPy loop, same run (8000 updates)": plain_numpy_seconds,
    }
    for name in ("sgd", "adam"):
        c = base.with_overrides([f"optimizer.name={name}", "regularizer.type=none"])
        loops[f"loop, {name}, no regularizer"] = lambda c=c: loop_seconds(c)
    sgd_ema = base.with_overrides(["regularizer.type=none", "ema.decay=0.99"])
    loops["loop, sgd + EMA, no regularizer"] = lambda: loop_seconds(sgd_ema)
    five = compare_mod.build_entries(["sgd", "sgdm", "adagrad", "rmsprop", "adam"], base)
    groups = experiment.prepare([e.config for e in five])

    def population() -> None:
        for g in groups:
            loop.run(g.configs, g.prepared)

    loops["compare loop, 5 optimizers as one population"] = population
    iris = experiment.prepare([config.load(p) for p in sorted((ROOT / "configs" / "iris").glob("*.yaml"))])

    def iris_population() -> float:
        (group,) = iris
        return loop.run(group.configs, group.prepared)[0].train_seconds

    loops["iris: the course's 5 optimizers as one population (500 epochs)"] = iris_population
    rows.update(timed_rounds(loops, args.repeat))

    five_args = ["compare", "sgd", "sgdm", "adagrad", "rmsprop", "adam", "--config", str(L2)]
    commands: dict[str, Callable[[], float | None]] = {
        "nnopt --help (whole process)": lambda: command_seconds(["--help"], tmp),
        "nnopt train configs/l2.yaml (whole process)": lambda: command_seconds(
            ["train", str(L2), "--runs-root", runs_root, "--quiet"], tmp
        ),
        "nnopt compare 5 optimizers (whole process)": lambda: command_seconds(
            [*five_args, "--runs-root", runs_root, "--quiet"], tmp
        ),
    }
    rows.update(timed_rounds(commands, max(1, args.repeat // 2)))
    if args.tf_python:

        def course() -> float:
            out = subprocess.run(
                [args.tf_python, "-c", COURSE_TF2], check=True, capture_output=True, text=True
            )
            return float(out.stdout.strip().splitlines()[-1])

        rows.update(timed_rounds({"course's TensorFlow 2 loop, same run (training only)": course}, 1))

    def ratio(a: str, b: str, basis: str = "cpu_min") -> float:
        return rows[a][basis] / rows[b][basis]

    ratios = {
        "nnopt loop / plain NumPy loop": ratio(
            "training loop, configs/l2.yaml (8000 updates)", "plain NumPy loop, same run (8000 updates)"
        ),
        "adam step / sgd step": ratio("loop, adam, no regularizer", "loop, sgd, no regularizer"),
        "sgd+EMA step / sgd step": ratio("loop, sgd + EMA, no regularizer", "loop, sgd, no regularizer"),
        "compare loop (5) / train loop": ratio(
            "compare loop, 5 optimizers as one population", "training loop, configs/l2.yaml (8000 updates)"
        ),
        "compare command (5) / train command": ratio(
            "nnopt compare 5 optimizers (whole process)", "nnopt train configs/l2.yaml (whole process)", "min"
        ),
    }
    if args.tf_python:
        ratios["course TF2 loop / nnopt loop"] = ratio(
            "course's TensorFlow 2 loop, same run (training only)",
            "training loop, configs/l2.yaml (8000 updates)",
            "min",
        )

    rows["the course: each iris optimizer in TensorFlow 2 (its printed times)"] = {
        "min": 8.39,
        "median": 9.67,
        "cpu_min": math.nan,
    }
    width = max(len(k) for k in rows) + 2
    print(f"{'measurement':<{width}}{'min s':>9}{'median s':>10}{'CPU s':>9}{'µs/update':>11}")
    for key, value in rows.items():
        per = f"{value['min'] / steps * 1e6:.1f}" if "loop" in key and "compare" not in key else ""
        per = "" if "iris" in key else per
        cpu = (
            f"{value['cpu_min']:.3f}"
            if math.isfinite(value["cpu_min"]) and "whole process" not in key
            else ""
        )
        cpu = "" if "TensorFlow" in key else cpu
        print(f"{key:<{width}}{value['min']:>9.3f}{value['median']:>10.3f}{cpu:>9}{per:>11}")
    print("\nratios (CPU time of the loops; wall clock for whole processes and TensorFlow)")
    for key, value in ratios.items():
        print(f"{key:<{width}}{value:>9.2f}x")

    finite = {k: {m: (x if math.isfinite(x) else None) for m, x in v.items()} for k, v in rows.items()}
    print()
    machine.save({"seconds": finite, "ratios": ratios}, args.json)


if __name__ == "__main__":
    main()
