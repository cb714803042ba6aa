"""Timing a cost of the training loop by pairs: a measurement with and without it, back to back and in
alternating order, so that both halves of a pair meet the same load of a shared machine; the figure is the
median of the pairs' ratios. The runs measured and the pairing, shared by bench_trace.py and bench_layers.py
(which import this file from beside them, with the repository on sys.path)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from pathlib import Path

from nnopt_cli import config
from nnopt_cli.core import loop
from nnopt_cli.experiments import experiment

ROOT = Path(__file__).resolve().parent.parent
L2 = ROOT / "configs" / "l2.yaml"

Case = tuple[list[config.Config], experiment.Group, int]


def loop_cases(epochs: int, more: Mapping[str, list[str]] | None = None) -> dict[str, Case]:
    """name -> (configs, their prepared group, updates per run): configs/l2.yaml, with and without its
    regularizer, then each of `more` (name -> --set overrides of configs/l2.yaml), then adam + EMA +
    shuffling, iris's five optimizers as one population and l2.yaml at 64 rates as one; all --epochs long."""
    base = config.load(L2, [f"train.epochs={epochs}"])
    iris = [
        config.load(p, [f"train.epochs={epochs}"]) for p in sorted((ROOT / "configs" / "iris").glob("*.yaml"))
    ]
    chosen = {
        "configs/l2.yaml: sgd + L2 (10 updates an epoch)": [base],
        "the same, no regularizer": [base.with_overrides(["regularizer.type=none"])],
        **{name: [base.with_overrides(sets)] for name, sets in (more or {}).items()},
        "the same, adam + EMA + data.shuffle": [
            base.with_overrides(
                ["regularizer.type=none", "optimizer.name=adam", "ema.decay=0.99", "data.shuffle=true"]
            )
        ],
        "iris: the course's 5 optimizers, one population": iris,
        "a sweep's population: configs/l2.yaml at 64 rates": [
            base.with_overrides([f"optimizer.lr={0.1 ** (1 + 3 * i / 63)!r}"]) for i in range(64)
        ],
    }
    out = {}
    for name, configs in chosen.items():
        (group,) = experiment.prepare(configs)
        per_epoch = loop.steps_per_epoch(configs[0].batch_size, group.prepared.train.size)
        out[name] = (configs, group, epochs * per_epoch)
    return out


def ratio_of_pairs(
    seconds_of: Callable[[bool], float], pairs: int, updates: int, on: str
) -> dict[str, float]:
    """`seconds_of(True)` against `seconds_of(False)` over `pairs` pairs, after one warm-up call (buffers,
    caches): the median ratio with its quartiles, the ratio of the fastest of each, the medians (`on`: the
    key of the one with the cost) and what the cost adds per update, of `updates`."""
    seconds: dict[bool, list[float]] = {True: [], False: []}
    seconds_of(True)
    for i in range(pairs):
        for with_it in (True, False) if i % 2 else (False, True):
            seconds[with_it].append(seconds_of(with_it))
    ratios = [a / b for a, b in zip(seconds[True], seconds[False], strict=True)]
    low, ratio, high = statistics.quantiles(ratios, n=4)
    with_it, without = statistics.median(seconds[True]), statistics.median(seconds[False])
    return {
        "ratio": ratio,
        "ratio_q1": low,
        "ratio_q3": high,
        "fastest_ratio": min(seconds[True]) / min(seconds[False]),
        on: with_it,
        "without": without,
        "us_per_update": without / updates * 1e6,
        "extra_us_per_update": (with_it - without) / updates * 1e6,
    }
