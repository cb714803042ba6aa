"""What the per-layer statistics (History.layer_stats, layers.csv) cost the training loop.

    python benchmarks/bench_layers.py [--pairs 100] [--epochs 100] [--json benchmarks/results/layers.json]

Each run is trained by the loop in pairs, once with the statistics (what every command does) and once with
loop.run(layers=False), back to back and in alternating order, so that both halves of a pair meet the same
load of a shared machine. Per update the statistics cost one copy of the gradient (Population.tap); per
epoch one copy of the parameters and a reduction or two of each hidden layer's z in the forward pass the
loop makes anyway; the norms are taken a buffer of updates and epochs at a time. The figure is the median
over the pairs of the ratio of their CPU times (with its quartiles; the ratio of the fastest of each is
shown too): the target is at most 1.15. CPU time does not count the time this process waits for a core.
The runs are shortened to --epochs so that many pairs fit in a minute (the cost is per update and per
epoch, the same at any length).
"""

from __future__ import annotations

import argparse
import math
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
# one update an epoch: the per-epoch part (a copy of the parameters, the hidden layers' z) is not spread over
# several updates; shown, and left out of the target, which is about runs of mini-batches
FULL_BATCH = "two hidden layers of 16, full batch (1 update an epoch)"


def cases(epochs: int) -> dict[str, pairs.Case]:
    """name -> (configs, their prepared group, updates per run): pairs.loop_cases, with sigmoid units and a
    full-batch network of two hidden layers after the plain runs."""
    return pairs.loop_cases(
        epochs,
        {
            "the same, sigmoid (saturation counted)": ["model.activation=sigmoid"],
            FULL_BATCH: ["model.hidden=[16, 16]", "data.batch_size=300"],
        },
    )


def cpu_seconds(configs: list[config.Config], group: experiment.Group, layers: bool) -> float:
    cpu = time.process_time()
    loop.run(configs, group.prepared, layers=layers)
    return time.process_time() - cpu


def reduction_forms(updates: int = 20_000) -> dict[str, float]:
    """The per-update part measured alone on configs/l2.yaml's network (45 parameters) for 1 and 64 rows: the
    norms of w1 and w2 of every update by np.add.reduceat over the layers' segments, by einsum with a (n, L)
    0/1 matrix, by a matrix product with it; and the way the loop takes (a copy per update into a buffer, the
    buffer's norms in one reduceat when it is full)."""
    out: dict[str, float] = {}
    for p in (1, 64):
        out.update(_forms(p, updates))
    return out


def _forms(p: int, updates: int) -> dict[str, float]:
    import numpy as np

    from nnopt_cli.core import layerstats, mlp

    net = mlp.MLP((2, 11, 1))
    segments = layerstats.weight_segments(net)
    ones = np.zeros((net.n_params, net.depth))
    for layer in range(net.depth):
        ones[segments[2 * layer] : segments[2 * layer + 1], layer] = 1.0
    g = np.random.default_rng(0).normal(size=(p, net.n_params))
    recorder = layerstats.Recorder(net, g.copy(), per_epoch=10, points=300)  # as configs/l2.yaml trains
    sums = np.zeros((p, net.depth))

    def reduceat() -> None:
        np.add(sums, np.sqrt(np.add.reduceat(np.square(g), segments, axis=-1)[:, ::2]), out=sums)

    def einsum() -> None:
        np.add(sums, np.sqrt(np.einsum("pn,pn,nl->pl", g, g, ones)), out=sums)

    def matmul() -> None:
        np.add(sums, np.sqrt(np.square(g) @ ones), out=sums)

    def buffered() -> None:
        recorder.keep(g)

    out = {}
    for name, fn, calls, per_call in (
        ("reduceat per update", reduceat, updates, 1),
        ("einsum with a 0/1 matrix per update", einsum, updates, 1),
        ("matrix product with a 0/1 matrix per update", matmul, updates, 1),
        (
            "copy per update, one reduceat per buffer (the loop's)",
            buffered,
            updates,
            1,
        ),
    ):
        best = math.inf
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(calls):
                fn()
            best = min(best, time.perf_counter() - started)
        out[f"{name}, {p} row{'s' if p > 1 else ''}"] = best / (calls * per_call) * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "layers.json")
    args = parser.parse_args()

    rows: dict[str, dict[str, float]] = {}
    for name, (configs, group, updates) in cases(args.epochs).items():
        rows[name] = pairs.ratio_of_pairs(
            lambda layers, c=configs, g=group: cpu_seconds(c, g, layers), args.pairs, updates, "with_layers"
        )

    width = max(len(k) for k in rows) + 2
    print(
        f"loop.run, {args.epochs} epochs, {args.pairs} pairs: "
        "CPU time with / without the per-layer statistics"
    )
    print(f"{'run':<{width}}{'ratio':>7}{'quartiles':>14}{'fastest':>9}{'µs/update':>11}{'+µs':>7}")
    for name, r in rows.items():
        quartiles = f"{r['ratio_q1']:.2f}–{r['ratio_q3']:.2f}"
        print(
            f"{name:<{width}}{r['ratio']:>7.3f}{quartiles:>14}{r['fastest_ratio']:>9.3f}"
            f"{r['us_per_update']:>11.1f}{r['extra_us_per_update']:>7.2f}"
        )
    worst = max(r["ratio"] for name, r in rows.items() if name != FULL_BATCH)
    print(f"\nmedian ratio at most {worst:.3f} over runs of mini-batches (target <= {TARGET})")
    print()
    forms = reduction_forms()
    print("the per-update part alone: µs per update of each way to get the squared norms per layer")
    for name, us in forms.items():
        print(f"  {name:<62}{us:>8.2f}")
    print()
    report = {
        "runs": rows,
        "reduction_forms_us": forms,
        "worst_ratio": worst,
        "target": TARGET,
        "pairs": args.pairs,
        "epochs": args.epochs,
    }
    machine.save(report, args.json)


if __name__ == "__main__":
    main()
