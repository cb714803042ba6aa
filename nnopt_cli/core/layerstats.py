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

A fraction that does not apply is NaN here and an empty cell in layers.csv: the output layer's (its z are
the logits, which the head turns into outputs), dead_fraction under sigmoid, tanh and leaky_relu (a leaky
unit outputs αz, not 0, and keeps the gradient α: it cannot die in this sense), saturated_fraction under relu
and leaky_relu.

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
# the gradients and parameters kept between two reductions, or one whole epoch's up to KEPT_MOST: a reduction
# costs about 40 NumPy calls whatever its size, so the buffer holds many epochs of a small network (about
# 2,900 updates of the course's), and a single reduction serves them
KEPT_BYTES = 1 << 20
KEPT_MOST = 1 << 22
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

    The loop hands it every update's gradient (`keep`, from Population.step), the hidden layers' z of the
    end-of-epoch forward pass on the training rows (`watch`, from mlp.Forward), and the end of every epoch
    (`end_epoch`). Per update it makes one copy, per epoch one more (the parameters) and a reduction or two
    of each hidden layer's z; the norms are taken for a block of updates and epochs at once, when the buffer
    is full and at the end (`finish`), so their cost per epoch is a fraction of a NumPy call's.

    Args:
      net: the network.
      theta: (P, n) the parameters, a view the loop updates in place.
      per_epoch: the updates of an epoch.
      points: the training rows.
    """

    def __init__(self, net: mlp.MLP, theta: np.ndarray, per_epoch: int, points: int) -> None:
        p, n = theta.shape
        self.theta, self.depth, self.points, self.per_epoch = theta, net.depth, points, per_epoch
        self.segments = weight_segments(net)
        # the buffer: each update's gradient and, after an epoch's, the parameters it ended with; whole
        # epochs of them when one fits in KEPT_BYTES (the usual case: one reduction then serves them all)
        row_bytes, epoch_rows = 8 * p * n, per_epoch + 1
        self.aligned = row_bytes * epoch_rows <= max(KEPT_BYTES, KEPT_MOST)
        if self.aligned:
            self.slots = max(1, KEPT_BYTES // (row_bytes * epoch_rows)) * epoch_rows
        else:
            self.slots = max(2, KEPT_BYTES // row_bytes)
        self.kept = np.empty((self.slots, p, n))
        self.rows = list(self.kept)
        self.filled = 0
        self.ends: list[int] = []  # the buffer rows holding an epoch's end, in order
        self.measured: list[list[bool]] = []  # per epoch in the buffer: the rows to record (loop's choice)
        self.found: list[list[np.ndarray | None]] = []  # per epoch in the buffer: `watch`'s per hidden layer
        self.sums = np.zeros((1, p, net.depth))  # Σ ‖g_l‖ of the epoch under way, buffers before this one
        self.updates = 0
        self.start = theta.copy()  # the parameters at the start of the buffer's first epoch
        self.start_norms = weight_norms(theta, self.segments)
        self.activation = net.activation
        self.hidden: list[np.ndarray | None] = [None] * (net.depth - 1)
        self.ready: list[tuple[np.ndarray, list[bool]]] = []  # epochs done in a buffer `keep` reduced

    def keep(self, grads: np.ndarray) -> None:
        """Record an update's gradient (P, n), the penalty's part added, before it is clipped or used."""
        j = self.filled
        np.copyto(self.rows[j], grads)
        self.filled = j + 1
        if j + 1 == self.slots:
            self.ready += self._reduce()

    def watch(self, layer: int, z: np.ndarray, first: bool) -> None:
        """The z (R, units, points) of hidden layer `layer` (0-based) over a chunk of the training rows, the
        rows of the parameters first (R ≥ P: the moving averages follow, which are not looked at); `first`:
        the first chunk of a pass, which starts the counts again."""
        p = self.theta.shape[0]
        z = z[:p] if z.shape[0] > p else z
        if self.activation in DEAD_ACTIVATIONS:
            found = z.max(axis=-1) if z.shape[-1] else np.full(z.shape[:-1], -np.inf)
            previous = self.hidden[layer]
            self.hidden[layer] = found if first or previous is None else np.maximum(previous, found)
        elif self.activation in SATURATING_ACTIVATIONS:
            count = np.count_nonzero(np.abs(z) > SATURATED_Z, axis=-1)
            previous = self.hidden[layer]
            self.hidden[layer] = count if first or previous is None else previous + count

    def end_epoch(self, measured: list[bool]) -> list[tuple[np.ndarray, list[bool]]]:
        """An epoch ended, at the current parameters, after the forward pass `watch` saw; `measured`: the
        rows whose statistics are wanted. Returns the epochs whose statistics are ready (see `finish`)."""
        j = self.filled
        np.copyto(self.rows[j], self.theta)
        self.ends.append(j)
        self.measured.append(measured)
        self.found.append(self.hidden)
        self.hidden = [None] * (self.depth - 1)
        self.filled = j + 1
        if j + 1 == self.slots:
            self.ready += self._reduce()
        ready, self.ready = self.ready, []
        return ready

    def finish(self) -> list[tuple[np.ndarray, list[bool]]]:
        """The statistics of the epochs ended and not yet returned, in order: for each, (P, L, 5) columns as
        COLUMNS (NaN: does not apply) and its `measured`. An epoch cut off leaves no statistics."""
        ready, self.ready = self.ready + self._reduce(), []
        return ready

    def _reduce(self) -> list[tuple[np.ndarray, list[bool]]]:
        """The norms of the buffer's rows in one reduction, and the statistics of its whole epochs; the
        gradients of an epoch under way carried to the next buffer."""
        m, ends = self.filled, self.ends
        if not m:
            return []
        norms = weight_norms(self.kept[:m], self.segments)  # (m, P, L)
        k = len(ends)
        grad_means = np.empty((k, *self.sums.shape[1:]))
        if self.aligned and not self.updates and ends == list(range(self.per_epoch, m, self.per_epoch + 1)):
            # whole epochs: their gradients' norms summed one after the other, all epochs in one call
            by_epoch = norms[: k * (self.per_epoch + 1)].reshape(k, self.per_epoch + 1, *norms.shape[1:])
            grads = by_epoch[:, : self.per_epoch]
            if self.per_epoch:
                np.divide(np.add.accumulate(grads, axis=1)[:, -1], self.per_epoch, out=grad_means)
            else:
                grad_means[...] = np.nan
            tail = norms[k * (self.per_epoch + 1) :]
        else:
            first = 0
            for e, end in enumerate(ends):
                self._add(norms[first:end])
                grad_means[e] = self.sums[0] / self.updates if self.updates else np.nan
                self.updates = 0
                first = end + 1
            tail = norms[first:]
        if len(tail):
            self._add(tail)  # an epoch under way: its first gradients
        out: list[tuple[np.ndarray, list[bool]]] = []
        if k:
            out = self._epochs(norms[ends], grad_means)
        self.filled = 0
        self.ends, self.measured, self.found = [], [], []
        return out

    def _add(self, norms: np.ndarray) -> None:
        """Add gradients' norms (m, P, L) to the sums of the epoch under way, one after the other in update
        order (an accumulation, never a pairwise sum: the same additions however the updates were buffered;
        an epoch's first block starts from 0, and 0 + a is a)."""
        if not len(norms):
            return
        if self.updates:
            norms = np.concatenate([self.sums, norms])
        self.sums = np.add.accumulate(norms, axis=0)[-1:]
        self.updates += len(norms) - (1 if self.updates else 0)

    def _epochs(self, weight: np.ndarray, grad_means: np.ndarray) -> list[tuple[np.ndarray, list[bool]]]:
        """The statistics of the buffer's k epochs from their end's weight norms (k, P, L) and mean gradient
        norms; the update ratios from the parameters at each epoch's end (the buffer's `ends`)."""
        ends = self.kept[self.ends]  # (k, P, n)
        before = np.concatenate([self.start[None], ends[:-1]])
        moved = weight_norms(ends - before, self.segments)
        before_norms = np.concatenate([self.start_norms[None], weight[:-1]])
        out = np.full((len(ends), *self.sums.shape[1:], len(COLUMNS)), np.nan)
        out[..., WEIGHT_NORM] = weight
        out[..., GRAD_NORM] = grad_means
        out[..., UPDATE_RATIO] = moved / before_norms
        for layer in range(self.depth - 1):
            found = [f[layer] for f in self.found]
            if any(f is None for f in found):  # no forward pass saw it: not measured
                continue
            stacked = np.stack(found)  # type: ignore[arg-type]  # (k, P, units)
            units = stacked.shape[-1]
            if self.activation in DEAD_ACTIVATIONS:
                out[:, :, layer, DEAD] = np.count_nonzero(stacked <= 0.0, axis=-1) / units
            else:
                saturated = 100 * stacked >= SATURATED_PERCENT * self.points
                out[:, :, layer, SATURATED] = np.count_nonzero(saturated, axis=-1) / units
        np.copyto(self.start, ends[-1])
        self.start_norms = weight[-1].copy()
        return list(zip(out, self.measured, strict=True))
