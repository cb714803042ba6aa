"""Timing a cost by pairs: a measurement with and without it, back to back and in alternating order, so that
both halves of a pair meet the same load of a shared machine; the figure is the median of the pairs' ratios.
Used by bench_trace.py and bench_layers.py."""

from __future__ import annotations

import statistics
from collections.abc import Callable


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
