"""The one update path: P runs of one network as the rows of one array, stepped together.

A run trained alone is a population of one. Each update applies, to every row at once:

    g ← g + d penalty/dθ         one operation per regularizer kind in use (regularizers.py); `tap`, when
                                 set, is shown this g (per-layer statistics, layerstats.py)
    g ← clip(g)                  per group with clipping, each row's norm its own (optimizers.clip)
    θ ← rule(θ, g, state, lr)    one call per group of rows sharing an optimizer and its settings
                                 (optimizers.py), with a column of rates, one per row
    s ← s − (s − θ)·(1 − d)      the moving averages of every row (ema.py), one column of 1 − d

Rows are kept sorted by group, so that each group is a contiguous block and its update works in place on
views; `rows()` and `shadows()` hand them back in the caller's order. Every operation is elementwise per
row (the gradient of one row never reads another), so a row ends bit for bit where it would end alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnopt_cli.core import ema, optimizers, regularizers


@dataclass(frozen=True)
class RowSpec:
    """What one row's update needs: its rule, its weight penalty, whether it keeps a moving average, and
    its gradient clipping (optimizer.clip_norm, optimizer.clip_value; None: off)."""

    optimizer: str
    hparams: Mapping[str, Any]
    regularizer: str = "none"
    reg_scale: float = 0.0
    ema: bool = False
    clip_norm: float | None = None
    clip_value: float | None = None

    def rule_key(self) -> tuple[object, ...]:
        return (self.optimizer, tuple(sorted(self.hparams.items())), self.clip_norm, self.clip_value)


@dataclass
class _Group:
    rows: slice
    theta: np.ndarray
    grads: np.ndarray
    update: Any
    state: Any
    clip_norm: float | None = None
    clip_value: float | None = None


class Population:
    """Parameters, gradients, optimizer states and moving averages of P runs.

    Args:
      starts: (P, n) starting parameters, one row per run, in the caller's order.
      specs: one RowSpec per row (optimizer settings already validated).
      weight_mask: (n,) 1.0 on weights, 0.0 on biases (`MLP.weight_mask()`).

    Attributes (in the internal, grouped order):
      values: (R, n) the parameters and, when any row keeps a moving average, the P shadows after them:
        one array, so that an evaluation is one forward pass over all of it.
      theta, grads: (P, n) views of the parameters and their gradient buffer.
      shadow: (P, n) view of the moving averages, or None.
      order: internal row i holds the caller's row order[i].
    """

    def __init__(self, starts: np.ndarray, specs: Sequence[RowSpec], weight_mask: np.ndarray) -> None:
        p, n = starts.shape
        if len(specs) != p:
            raise ValueError(f"{p} starting rows for {len(specs)} specs")
        keys = [s.rule_key() for s in specs]
        first_seen = {key: i for i, key in reversed(list(enumerate(keys)))}
        self.order = np.array(sorted(range(p), key=lambda i: (first_seen[keys[i]], i)), dtype=np.intp)
        self.position = np.argsort(self.order)  # caller's row i is internal row position[i]
        self.specs = [specs[i] for i in self.order]
        self.with_ema = any(s.ema for s in specs)
        self.values = np.empty((2 * p if self.with_ema else p, n))
        self.theta = self.values[:p]
        self.theta[...] = starts[self.order]
        self.grads = np.zeros_like(self.theta)
        self.shadow = self.values[p:] if self.with_ema else None
        if self.shadow is not None:
            self.shadow[...] = self.theta
        self._scratch = np.empty_like(self.theta) if self.with_ema else None
        self.groups: list[_Group] = []
        start = 0
        while start < p:
            stop = start
            while stop < p and self.specs[stop].rule_key() == self.specs[start].rule_key():
                stop += 1
            spec = self.specs[start]
            rule = optimizers.build(spec.optimizer, spec.hparams)
            theta = self.theta[start:stop]
            self.groups.append(
                _Group(
                    slice(start, stop),
                    theta,
                    self.grads[start:stop],
                    rule.update,
                    rule.init(theta),
                    spec.clip_norm,
                    spec.clip_value,
                )
            )
            start = stop
        self._kept: list[tuple[np.ndarray, ...]] | None = None  # keep_state's copies
        # shown every update's gradient with its penalty added, before clipping (layerstats.Recorder.keep)
        self.tap: Callable[[np.ndarray], None] | None = None
        # one (P, n) scale matrix per penalty kind in use: the scale on a row's weights, 0 elsewhere
        self.penalty_scales: list[tuple[str, np.ndarray]] = []
        for kind in ("l2", "l1"):
            rows = [
                s.reg_scale * weight_mask if s.regularizer == kind and s.reg_scale > 0 else None
                for s in self.specs
            ]
            if any(r is not None for r in rows):
                zero = np.zeros(n)
                self.penalty_scales.append((kind, np.stack([zero if r is None else r for r in rows])))

    @property
    def size(self) -> int:
        return int(self.theta.shape[0])

    def step(self, lr: np.ndarray, one_minus_d: np.ndarray | None) -> None:
        """One update of every row from the gradient in `grads` (which it overwrites).

        Args:
          lr: (P, 1) the rate of each row for this update, internal order.
          one_minus_d: (P, 1) 1 − d of each row's moving average for this update (0 for rows without one),
            or None when no row keeps one.
        """
        theta, grads = self.theta, self.grads
        for kind, scale in self.penalty_scales:
            regularizers.add_grad(kind, scale, theta, grads)
        if self.tap is not None:
            self.tap(grads)  # the gradient the rule is handed, before clipping: per-layer grad_norm
        for g in self.groups:
            if g.clip_norm is not None or g.clip_value is not None:
                optimizers.clip(g.grads, g.clip_norm, g.clip_value)
            g.update(g.theta, g.grads, g.state, lr[g.rows])
        if self.shadow is not None and one_minus_d is not None:
            ema.ema_step(self.shadow, theta, one_minus_d, self._scratch)

    @property
    def penalized(self) -> bool:
        """Whether any row has a weight penalty."""
        return bool(self.penalty_scales)

    def penalty(self, rows: np.ndarray) -> np.ndarray:
        """The weight penalty of each row of rows (P, n), internal order, with each row's own regularizer."""
        total = np.zeros(rows.shape[0])
        for kind, scale in self.penalty_scales:
            total += regularizers.penalty(kind, scale, rows)
        return total

    def penalties(self, thetas: np.ndarray) -> np.ndarray:
        """The weight penalty of every row of many parameter sets at once: thetas (U, P, n) -> (U, P).

        The sums `penalty` makes (regularizers.py: l2 scale·Σw²/2, l1 scale·Σ|w|), each taken as one dot
        product of a row with its scales: equal to round-off, and several times quicker over thousands of
        short rows than a sum along the last axis.
        """
        total = np.zeros(thetas.shape[:-1])
        for kind, scale in self.penalty_scales:
            if kind == "l2":
                total += np.einsum("upn,pn->up", np.square(thetas), scale) / 2.0
            else:
                total += np.einsum("upn,pn->up", np.abs(thetas), scale)
        return total

    def _group_of(self, i: int) -> _Group:
        for g in self.groups:
            if g.rows.start <= i < g.rows.stop:
                return g
        raise IndexError(f"no row {i} in a population of {self.size}")

    def state_of(self, i: int, *, kept: bool = False) -> dict[str, np.ndarray]:
        """The optimizer state of internal row i (copies), by the names of its rule's state
        (`optimizers.state_names`): each array shaped like the row, Adam's step count t a 0-d array (shared
        by the rows of a group, which take every step together). With `kept`, the state `keep_state` copied
        aside last."""
        g = self._group_of(i)
        state = g.state
        if kept:
            assert self._kept is not None, "keep_state() first"
            state = self._kept[self.groups.index(g)]
        return {
            name: np.array(value if value.ndim == 0 else value[i - g.rows.start])
            for name, value in zip(type(g.state)._fields, state, strict=True)
        }

    def set_state(self, i: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Put the optimizer state of internal row i (as `state_of` gives it) in place, to continue a run.
        A 0-d entry (Adam's t) is the whole group's: every row of a group must bring the same one."""
        g = self._group_of(i)
        for name, value in zip(type(g.state)._fields, g.state, strict=True):
            if value.ndim == 0:
                value[()] = arrays[name]
            else:
                value[i - g.rows.start] = arrays[name]

    def keep_state(self) -> None:
        """Copy every group's optimizer state aside (`state_of(i, kept=True)` reads it): the state of a whole
        epoch, which an interrupted run keeps along with that epoch's parameters."""
        if self._kept is None:
            self._kept = [tuple(np.copy(a) for a in g.state) for g in self.groups]
            return
        for kept, g in zip(self._kept, self.groups, strict=True):
            for copy, value in zip(kept, g.state, strict=True):
                np.copyto(copy, value)

    def to_internal(self, per_row: np.ndarray) -> np.ndarray:
        """Per-run values given in the caller's order (first axis), in internal order."""
        return per_row[self.order]

    def rows(self, values: np.ndarray | None = None) -> np.ndarray:
        """(P, n) rows (default: the parameters) in the caller's order (a copy)."""
        values = self.theta if values is None else values
        return values[self.position]
