"""Per-layer statistics of a network's training, one value per epoch and layer (a run folder's layers.csv).

For layer l (1..L, the layer of w_l) and epoch e:

    weight_norm         ‖W_l‖_F at the end of the epoch (the weights w_l only, never the biases b_l)
    grad_norm           (1/U) Σ_updates ‖g_l‖_F, the mean over the epoch's U updates of the Frobenius norm of
                        the gradient of w_l that the update rule is handed: the mini-batch's mean data loss
                        plus the weight penalty's part (Population.step adds it), before any clipping
    update_ratio        ‖W_l(end) − W_l(start)‖_F / ‖W_l(start)‖_F, start and end of the epoch
    dead_fraction       hidden ReLU layers: the share of units whose activation max(z, 0) is 0 on every
                        training row (z ≤ 0 everywhere), at the end of the epoch
    saturated_fraction  hidden sigmoid and tanh layers: the share of units with |z| > SATURATED_Z on at least
                        SATURATED_PERCENT % of the training rows, at the end of the epoch

A fraction that does not apply is NaN here and an empty cell in layers.csv: the output layer's (it has no
activation of its own), dead_fraction under sigmoid, tanh and leaky_relu (a leaky unit outputs αz, not 0,
and keeps the gradient α: it cannot die in this sense), saturated_fraction under relu and leaky_relu.

Every value of a row is computed from that row's numbers alone, in an order that depends neither on the
other rows of the population nor on how updates are buffered, so a run's statistics are bit for bit those it
gets alone, and a resumed run's those of the uninterrupted one.
"""

from __future__ import annotations

import numpy as np

from nnopt_cli.core import mlp

COLUMNS = ("weight_norm", "grad_norm", "update_ratio", "dead_fraction", "saturated_fraction")
WEIGHT_NORM, GRAD_NORM, UPDATE_RATIO, DEAD, SATURATED = range(len(COLUMNS))
SATURATED_Z = 4.0  # |z| beyond it: sigmoid'(z) < 0.018, tanh'(z) < 0.0014
SATURATED_PERCENT = 95  # of the training rows
KEPT_BYTES = 1 << 21  # the gradients kept between two reductions (at least one update's)
DEAD_ACTIVATIONS = ("relu",)
SATURATING_ACTIVATIONS = ("sigmoid", "tanh")


def weight_segments(net: mlp.MLP) -> np.ndarray:
    """Indices for np.add.reduceat over a flat row: [start of w_1, end of w_1, start of w_2, ...]; the even
    sums of the reduction are the layers' weights, the odd ones their biases."""
    bounds = []
    for i in range(net.depth):
        start = net.offsets[i]
        bounds += [start, start + net.widths[i] * net.widths[i + 1]]
    return np.array(bounds, dtype=np.intp)


def weight_norms(rows: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """‖w_l‖_F of every flat row: rows (..., n) -> (..., L)."""
    squares = np.add.reduceat(np.square(rows), segments, axis=-1)[..., ::2]
    return np.sqrt(squares, out=squares)


class Recorder:
    """Collects the statistics of P rows of one network while the loop trains them.

    The loop hands it every update's gradient (`keep`, from Population.step: one copy into a buffer; the
    norms of a buffer's updates are taken together) and the hidden layers' z of the end-of-epoch forward pass
    on the training rows (`watch`, from mlp.Forward), and asks for an epoch's statistics (`end_epoch`).

    Args:
      net: the network.
      theta: (P, n) the parameters, a view the loop updates in place (read at the end of every epoch).
      per_epoch: the updates of an epoch.
      points: the training rows.
    """

    def __init__(self, net: mlp.MLP, theta: np.ndarray, per_epoch: int, points: int) -> None:
        p, n = theta.shape
        self.theta, self.depth, self.points = theta, net.depth, points
        self.segments = weight_segments(net)
        self.slots = max(1, min(per_epoch, KEPT_BYTES // (8 * p * n)))
        self.kept = np.empty((self.slots, p, n))
        self.filled = 0
        self.sums = np.zeros((1, p, net.depth))  # Σ ‖g_l‖ over the epoch's updates so far
        self.updates = 0
        self.start = theta.copy()  # the parameters at the start of the epoch
        self.start_norms = weight_norms(theta, self.segments)
        self.activation = net.activation
        # per hidden layer: the largest z of every unit (relu) or how many rows have |z| > SATURATED_Z
        self.hidden: list[np.ndarray | None] = [None] * (net.depth - 1)

    def keep(self, grads: np.ndarray) -> None:
        """Record an update's gradient (P, n), the penalty's part added, before it is clipped or used."""
        self.kept[self.filled] = grads
        self.filled += 1
        if self.filled == self.slots:
            self._reduce()

    def _reduce(self) -> None:
        """Add the kept updates' norms to the epoch's sums, one after the other in update order (an
        accumulation, never a pairwise sum: the same additions however the updates were buffered)."""
        m = self.filled
        if not m:
            return
        norms = weight_norms(self.kept[:m], self.segments)  # (m, P, L)
        self.sums = np.add.accumulate(np.concatenate([self.sums, norms]), axis=0)[-1:]
        self.updates += m
        self.filled = 0

    def watch(self, layer: int, z: np.ndarray, first: bool) -> None:
        """The z (R, units, points) of hidden layer `layer` (0-based) over a chunk of the training rows, the
        rows of the parameters first (R ≥ P: the moving averages follow, which are not looked at); `first`:
        the first chunk of a pass, which starts the counts again."""
        p = self.theta.shape[0]
        z = z[:p]
        if self.activation in DEAD_ACTIVATIONS:
            found = np.max(z, axis=-1) if z.shape[-1] else np.full(z.shape[:-1], -np.inf)
            previous = self.hidden[layer]
            self.hidden[layer] = found if first or previous is None else np.maximum(previous, found)
        elif self.activation in SATURATING_ACTIVATIONS:
            count = np.count_nonzero(np.abs(z) > SATURATED_Z, axis=-1)
            previous = self.hidden[layer]
            self.hidden[layer] = count if first or previous is None else previous + count

    def end_epoch(self) -> np.ndarray:
        """(P, L, 5) the epoch's statistics of every row, columns as COLUMNS (NaN: does not apply); then a
        new epoch begins at the current parameters."""
        self._reduce()
        p = self.theta.shape[0]
        out = np.full((p, self.depth, len(COLUMNS)), np.nan)
        norms = weight_norms(self.theta, self.segments)
        out[..., WEIGHT_NORM] = norms
        out[..., GRAD_NORM] = self.sums[0] / self.updates if self.updates else np.nan
        out[..., UPDATE_RATIO] = weight_norms(self.theta - self.start, self.segments) / self.start_norms
        for layer, found in enumerate(self.hidden):
            if found is None:
                continue
            units = found.shape[-1]
            if self.activation in DEAD_ACTIVATIONS:
                out[:, layer, DEAD] = np.count_nonzero(found <= 0.0, axis=-1) / units
            else:
                saturated = 100 * found >= SATURATED_PERCENT * self.points
                out[:, layer, SATURATED] = np.count_nonzero(saturated, axis=-1) / units
        np.copyto(self.start, self.theta)
        self.start_norms = norms
        self.sums = np.zeros_like(self.sums)
        self.updates = 0
        self.hidden = [None] * (self.depth - 1)
        return out
