"""A stack of dense layers: forward and backward written by hand, side by side, one loop over layers.

All parameters of P stacked runs live in one float64 array `theta` of shape (P, n). Layer l (1-based) maps
`inputs` to `outputs` features and owns one block of each row, [w_l (inputs × outputs) | b_l (outputs)],
which read together is the (inputs + 1, outputs) matrix [w_l; b_l]. With a row of ones appended to a layer's
inputs, its forward pass and its weight-and-bias gradient are one matrix product each. The gradient `grads`
has the same layout. Activations are held features × batch, (P, features, B), so that elementwise work
runs over contiguous memory.

    forward                                     backward (d· = d loss / d·)
    z_l = [w_l; b_l]ᵀ·[a_(l−1); 1]  (P, out, B)  d[w_l; b_l] = [a_(l−1); 1]·dz_lᵀ
    a_l = act(z_l)     (hidden l)               dz_(l−1)   = (w_l·dz_l) ⊙ act'(z_(l−1))
    z_L: the logits; the head (losses.Head) turns them into outputs, a loss and dz_L.

a_0 is the input x. The course's 2-H-1 network is widths (2, H, 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from nnopt_cli import checks
from nnopt_cli.checks import CheckError
from nnopt_cli.core import losses
from nnopt_cli.keys import Key, only

ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu")
INITS = ("normal", "he", "xavier", "truncated_normal")

# act(z, a, d) writes the activation into `a` and, unless d is None (a forward pass only), its derivative
# act'(z) into `d` (float64, shaped like z), so that the backward pass multiplies float by float (a bool
# mask would be cast on every update). `a` may be `z` itself: each reads z before it writes a.
Activation = Callable[[np.ndarray, np.ndarray, np.ndarray | None], None]


def _relu(z: np.ndarray, a: np.ndarray, d: np.ndarray | None) -> None:
    if d is None:
        np.maximum(z, 0.0, out=a)
        return
    # act'(z) = [z > 0] (0 at z = 0, as TensorFlow's ReluGrad), written as floats, then a = z·act'(z): two
    # passes, a third quicker than max(z, 0) and sign(a). z·0 may be −0.0 where max gives 0.0: equal values.
    np.greater(z, 0.0, out=d)
    np.multiply(z, d, out=a)


def _sigmoid(z: np.ndarray, a: np.ndarray, d: np.ndarray | None) -> None:
    a[...] = losses.sigmoid(z)
    if d is not None:
        np.subtract(1.0, a, out=d)
        d *= a


def _tanh(z: np.ndarray, a: np.ndarray, d: np.ndarray | None) -> None:
    np.tanh(z, out=a)
    if d is not None:
        np.multiply(a, a, out=d)
        np.subtract(1.0, d, out=d)


def _leaky_relu(alpha: float) -> Activation:
    def leaky_relu(z: np.ndarray, a: np.ndarray, d: np.ndarray | None) -> None:
        slope = np.where(z > 0.0, 1.0, alpha)
        np.multiply(z, slope, out=a)
        if d is not None:
            d[...] = slope

    return leaky_relu


class NetworkError(ValueError):
    """A network nnopt cannot build (too large for memory, parameters that do not fit); one line."""


@dataclass(frozen=True)
class MLP:
    """Dense layers of the given widths: inputs, then each hidden layer, then outputs.

    Every hidden layer applies `activation`; the last layer's z are the logits, which the head (output
    function and loss, `losses.Head`) takes from there.
    """

    widths: tuple[int, ...]
    activation: str = "relu"
    leaky_alpha: float = 0.01

    @property
    def depth(self) -> int:
        """The number of layers with weights."""
        return len(self.widths) - 1

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Where each layer's block starts in a row, and the row's length last."""
        starts = [0]
        for fan_in, fan_out in zip(self.widths, self.widths[1:], strict=False):
            starts.append(starts[-1] + (fan_in + 1) * fan_out)
        return tuple(starts)

    @property
    def n_params(self) -> int:
        return self.offsets[-1]

    @staticmethod
    def count_params(widths: Sequence[int]) -> int:
        """The parameter count of layers of these widths, in Python integers (no overflow, no allocation)."""
        return sum((a + 1) * b for a, b in zip(widths, widths[1:], strict=False))

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The named arrays of one run: w1 (inputs, outputs), b1 (outputs,), w2, b2, ..."""
        out: dict[str, tuple[int, ...]] = {}
        for i, (fan_in, fan_out) in enumerate(zip(self.widths, self.widths[1:], strict=False), start=1):
            out[f"w{i}"] = (fan_in, fan_out)
            out[f"b{i}"] = (fan_out,)
        return out

    def weight_mask(self) -> np.ndarray:
        """1.0 on the entries of every w_l, 0.0 on the biases: the part a regularizer sees."""
        mask = np.zeros(self.n_params)
        for i in range(self.depth):
            start, fan_in, fan_out = self.offsets[i], self.widths[i], self.widths[i + 1]
            mask[start : start + fan_in * fan_out] = 1.0
        return mask

    def layers(self, theta: np.ndarray) -> list[np.ndarray]:
        """Views [w_l; b_l] (P, inputs + 1, outputs) into a (P, n) array; writes go through."""
        p = theta.shape[0]
        return [
            theta[:, self.offsets[i] : self.offsets[i + 1]].reshape(p, self.widths[i] + 1, self.widths[i + 1])
            for i in range(self.depth)
        ]

    def to_arrays(self, row: np.ndarray) -> dict[str, np.ndarray]:
        """One run's flat parameters (n,) as the named arrays w1, b1, w2, b2, ... (copies)."""
        out: dict[str, np.ndarray] = {}
        for i in range(self.depth):
            block = row[self.offsets[i] : self.offsets[i + 1]].reshape(self.widths[i] + 1, self.widths[i + 1])
            out[f"w{i + 1}"] = block[:-1].copy()
            out[f"b{i + 1}"] = block[-1].copy()
        return out

    def from_arrays(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """The flat (n,) parameter vector of the named arrays (shapes checked by `check_arrays`)."""
        return np.concatenate([np.ravel(arrays[k]) for k in self.shapes()]).astype(np.float64)

    def check_arrays(self, arrays: dict[str, np.ndarray], where: str) -> None:
        """Refuse arrays whose keys or shapes do not fit this network, naming the key and both shapes."""
        wanted = self.shapes()
        for key, shape in wanted.items():
            if key not in arrays:
                raise NetworkError(f"{where}: missing array {key!r} (this network needs {', '.join(wanted)})")
            if arrays[key].shape != shape:
                raise NetworkError(
                    f"{where}: {key} has shape {arrays[key].shape}, this network needs {shape} "
                    f"(layer widths {' → '.join(map(str, self.widths))})"
                )
        extra = sorted(set(arrays) - set(wanted))
        if extra:
            raise NetworkError(
                f"{where}: array {extra[0]!r} has no layer in this network "
                f"(layer widths {' → '.join(map(str, self.widths))}; it needs {', '.join(wanted)})"
            )

    def init(self, kind: str, rng: np.random.Generator, std: float = 0.1) -> np.ndarray:
        """Initial flat parameters (n,), drawn layer by layer, w_l before w_(l+1).

        normal: the course's w ~ N(0, 1), biases 0.01; he: w ~ N(0, 2/fan_in), biases 0;
        xavier (Glorot normal): w ~ N(0, 2/(fan_in + fan_out)), biases 0; truncated_normal: weights and
        biases ~ N(0, std²) with every value beyond 2·std drawn again (tf.random.truncated_normal's rule),
        w_l then b_l.
        """
        arrays: dict[str, np.ndarray] = {}
        for i, (fan_in, fan_out) in enumerate(zip(self.widths, self.widths[1:], strict=False), start=1):
            if kind == "truncated_normal":
                arrays[f"w{i}"] = std * _truncated_standard_normal(rng, (fan_in, fan_out))
                arrays[f"b{i}"] = std * _truncated_standard_normal(rng, (fan_out,))
                continue
            z = rng.standard_normal((fan_in, fan_out))
            if kind == "normal":
                scale, bias = 1.0, 0.01
            elif kind == "he":
                scale, bias = math.sqrt(2.0 / fan_in), 0.0
            else:
                scale, bias = math.sqrt(2.0 / (fan_in + fan_out)), 0.0
            arrays[f"w{i}"] = scale * z
            arrays[f"b{i}"] = np.full(fan_out, bias)
        return self.from_arrays(arrays)

    def activation_fn(self) -> Activation:
        if self.activation == "relu":
            return _relu
        if self.activation == "sigmoid":
            return _sigmoid
        if self.activation == "tanh":
            return _tanh
        return _leaky_relu(self.leaky_alpha)

    def logits(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The logits (P, outputs, N) of every row of theta on inputs x (N, inputs); a fresh array."""
        return Forward(self, theta, x)().copy()


def _truncated_standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    z = rng.standard_normal(shape)
    outside = np.abs(z) > 2.0
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2.0
    return z


def inputs_t(x: np.ndarray) -> np.ndarray:
    """Inputs (..., N, d) as the first layer reads them: features × points, ones appended: (..., d+1, N)."""
    ones = np.ones(x.shape[:-1] + (1,))
    return np.ascontiguousarray(np.swapaxes(np.concatenate([x, ones], axis=-1), -1, -2))


def _activation_buffers(net: MLP, rows: int, points: int) -> list[np.ndarray]:
    """a_1 .. a_(L−1), each (rows, width + 1, points), its last row 1: the bias input of the next layer."""
    return [np.ones((rows, w + 1, points)) for w in net.widths[1:-1]]


# watch(hidden layer 0-based, its z (R, units, chunk's points), whether the chunk is a pass's first): shown
# a hidden layer's pre-activations before they are overwritten (layerstats.Recorder.watch)
Watch = Callable[[int, np.ndarray, bool], None]


class Forward:
    """The logits of the rows of `theta` (R, n) on fixed inputs x (N, d), computed as often as asked (every
    epoch's metrics) into buffers made once. Large N is taken in chunks of points so that the buffers stay
    bounded. `watch`, when given, is shown every hidden layer's z of every chunk (per-layer statistics)."""

    def __init__(
        self,
        net: MLP,
        theta: np.ndarray,
        x: np.ndarray,
        *,
        chunk_bytes: int = 1 << 26,
        watch: Watch | None = None,
    ) -> None:
        self.act = net.activation_fn()
        self.watch = watch
        self.blocks_t = [block.transpose(0, 2, 1) for block in net.layers(theta)]
        rows, n = theta.shape[0], x.shape[0]
        # every hidden layer has a buffer of the chunk's points: together they stay within chunk_bytes
        per_point = 8 * rows * max(1, sum(w + 1 for w in net.widths[1:-1]))
        self.chunk = max(1, min(n, chunk_bytes // per_point)) if n else 1
        self.x_t = inputs_t(x)
        self.logits_buf = np.empty((rows, net.widths[-1], n))
        self.a = _activation_buffers(net, rows, self.chunk)

    def __call__(self) -> np.ndarray:
        """The logits (R, outputs, N), a buffer the next call overwrites."""
        n = self.x_t.shape[-1]
        for start in range(0, n, self.chunk):
            stop = min(n, start + self.chunk)
            width = stop - start
            a = self.x_t[:, start:stop]
            for i, block_t in enumerate(self.blocks_t[:-1]):
                a_next = self.a[i][..., :width]
                hidden = a_next[:, :-1]
                np.matmul(block_t, a, out=hidden)  # z_l, then act(z_l) in its place
                if self.watch is not None:
                    self.watch(i, hidden, start == 0)
                self.act(hidden, hidden, None)
                a = a_next
            np.matmul(self.blocks_t[-1], a, out=self.logits_buf[..., start:stop])
        return self.logits_buf


class Backprop:
    """Gradient of the mean data loss of P stacked runs, written into a preallocated (P, n) array.

    Bound once to the parameter and gradient arrays, it keeps their layer views and, per batch size, the
    activation buffers laid out as the steps of one pass, so that an update costs a fixed number of NumPy
    calls whatever P is.
    """

    def __init__(self, net: MLP, head: losses.Head, theta: np.ndarray, grads: np.ndarray) -> None:
        self.net = net
        self.act = net.activation_fn()
        self.head_grad = head.grad
        blocks = net.layers(theta)
        self.blocks_t = [block.transpose(0, 2, 1) for block in blocks]  # [w_l; b_l]ᵀ, (P, out, in + 1)
        self.weights = [block[:, :-1] for block in blocks]  # w_l, (P, in, out)
        self.dblocks = net.layers(grads)
        self.rows = theta.shape[0]
        self._plans: dict[int, _Plan] = {}

    def _plan(self, batch: int) -> _Plan:
        """The buffers of one batch size, as the steps of a pass (see `_Plan`)."""
        p, widths, last = self.rows, self.net.widths, self.net.depth - 1
        a = _activation_buffers(self.net, p, batch)  # [a_l; 1] of the hidden layers
        # z_1 .. z_L (z_L: the logits); a hidden layer's z is written where its activation goes, and the
        # activation and its derivative computed in place (act' from z or from act(z): both are known)
        z = [block[:, :-1] for block in a] + [np.empty((p, widths[-1], batch))]
        d_act = [np.empty((p, w, batch)) for w in widths[1:-1]]
        dz = [np.empty((p, w, batch)) for w in widths[1:]]
        plan = _Plan(
            forward=[(self.blocks_t[i], z[i], a[i], a[i][:, :-1], d_act[i]) for i in range(last)],
            logits=z[last],
            dlogits=dz[last],
            backward=[
                (
                    a[i - 1],
                    dz[i].transpose(0, 2, 1),
                    self.dblocks[i],
                    self.weights[i],
                    dz[i],
                    dz[i - 1],
                    d_act[i - 1],
                )
                for i in range(last, 0, -1)
            ],
            first_dz_t=dz[0].transpose(0, 2, 1),
        )
        if last == 1 and widths[-1] == 1:
            # one hidden layer under one output: the first layer's gradient without dz_1 (see `_fused_first`)
            plan.backward = [step[:3] + (None,) * 4 for step in plan.backward]
            plan.fused = (
                np.empty((p, widths[0] + 1, batch)),
                d_act[0].transpose(0, 2, 1),
                self.weights[1].transpose(0, 2, 1),
            )
        self._plans[batch] = plan
        return plan

    def __call__(self, x_t: np.ndarray, y_t: np.ndarray) -> np.ndarray:
        """Write d mean-loss / d theta on one batch into the bound gradient array.

        Args:
          x_t: the batch's inputs with a row of ones, features × batch: (d+1, B) shared by every run, or
            (P, d+1, B).
          y_t: the targets, outputs × batch: (K, B) or (P, K, B).
        """
        plan = self._plans.get(x_t.shape[-1]) or self._plan(x_t.shape[-1])
        matmul, act = np.matmul, self.act
        inputs = x_t
        for block_t, z, a, a_hidden, d_act in plan.forward:
            matmul(block_t, inputs, out=z)  # z_l = [w_l; b_l]ᵀ·[a_(l−1); 1]
            act(z, a_hidden, d_act)  # a_l = act(z_l), and act'(z_l)
            inputs = a
        matmul(self.blocks_t[-1], inputs, out=plan.logits)
        self.head_grad(plan.logits, y_t, plan.dlogits)  # dz_L = d loss / d logits
        for a_below, dz_t, dblock, w, dz, dz_below, d_act_below in plan.backward:
            matmul(a_below, dz_t, out=dblock)  # d[w_l; b_l] = [a_(l−1); 1]·dz_lᵀ
            if dz is None:
                break
            if dz.shape[1] == 1:  # one output: w_l·dz_l is an outer product, one factor per entry
                np.multiply(w, dz, out=dz_below)
            else:
                matmul(w, dz, out=dz_below)  # da_(l−1) = w_l·dz_l
            dz_below *= d_act_below  # dz_(l−1) = da_(l−1) ⊙ act'(z_(l−1))
        if plan.fused is None:
            matmul(x_t, plan.first_dz_t, out=self.dblocks[0])  # d[w_1; b_1] = [x 1]·dz_1ᵀ
        else:
            self._fused_first(x_t, plan)
        return plan.logits

    def _fused_first(self, x_t: np.ndarray, plan: _Plan) -> None:
        """d[w_1; b_1] of a network with one hidden layer and one output, from dz_2 (P, 1, B) directly:

            dz_1[p, j, b]        = w_2[p, j]·dz_2[p, b]·act'(z_1)[p, j, b]
            d[w_1; b_1][p, i, j] = Σ_b x[i, b]·dz_1[p, j, b]
                                 = w_2[p, j] · Σ_b (x[i, b]·dz_2[p, b])·act'(z_1)[p, j, b]

        which multiplies the (inputs + 1) × B inputs by dz_2 instead of building the hidden × B outer product
        w_2·dz_2 (numpy broadcasts it with short inner loops), then one matrix product and a small scaling.
        """
        assert plan.fused is not None
        scaled, d_act_t, w_row = plan.fused
        np.multiply(x_t, plan.dlogits, out=scaled)  # x[i, b]·dz_2[p, b]
        np.matmul(scaled, d_act_t, out=self.dblocks[0])
        self.dblocks[0] *= w_row


@dataclass
class _Plan:
    """One batch size's buffers, in the order a pass uses them.

    forward: per hidden layer (block_t, z, [a; 1], a, act'); logits, dlogits: z_L and d loss / d z_L;
    backward: per layer L .. 2 (input [a; 1], dz_lᵀ, d block, w_l, dz_l, dz_(l−1), act'(z_(l−1)));
    first_dz_t: dz_1ᵀ, for the first layer's gradient from the batch itself.
    """

    forward: list[tuple[np.ndarray, ...]]
    logits: np.ndarray
    dlogits: np.ndarray
    backward: list[tuple[Any, ...]]
    first_dz_t: np.ndarray
    # one hidden layer under one output: (x·dz_2 buffer, act'(z_1)ᵀ, w_2ᵀ) for `Backprop._fused_first`
    fused: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


# --- config keys ---------------------------------------------------------------------------------

MODEL_TYPES = ("mlp", "quadratic", "surface")
MAX_WIDTH = 10**9  # a wider layer is a typo; the memory bound on the whole network is checked in training
# deeper is a typo or a generated list: each layer costs Python objects and plans per update (about 20 KB
# each, whatever its width), and 100,000 layers train at a crawl before they fill the memory
MAX_DEPTH = 1000
_NETWORK = only("model.type", "mlp")


def _width(value: object, key: str, alternative: str = "") -> int:
    n = checks.integer(value, key, low=1, alternative=alternative)
    if n > MAX_WIDTH:
        raise CheckError(key, f"must be at most {MAX_WIDTH} units wide, got {checks.excerpt(value)}")
    return n


def check_hidden(value: object) -> tuple[int, ...]:
    """model.hidden: one width (11) or a list of widths ([16, 8]; [] for no hidden layer), at most
    MAX_DEPTH of them."""
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_DEPTH:
            raise CheckError(
                "model.hidden", f"must list at most {MAX_DEPTH:,} hidden layers, got {len(value):,}"
            )
        return tuple(_width(w, f"model.hidden[{i}]") for i, w in enumerate(value))
    return (_width(value, "model.hidden", alternative="or a list of widths"),)


def _show_hidden(hidden: tuple[int, ...]) -> int | list[int]:
    return hidden[0] if len(hidden) == 1 else list(hidden)  # one layer as a number, as configs write it


KEYS: tuple[Key, ...] = (
    Key(
        "model.type",
        "mlp",
        lambda v: checks.choice(v, "model.type", MODEL_TYPES),
        attr="model_type",
        shape=True,
    ),
    Key("model.hidden", 11, check_hidden, (_NETWORK,), shape=True, show=_show_hidden),
    Key(
        "model.activation",
        "relu",
        lambda v: checks.choice(v, "model.activation", ACTIVATIONS),
        (_NETWORK,),
        shape=True,
    ),
    Key(
        "model.leaky_alpha",
        0.01,
        lambda v: checks.number(v, "model.leaky_alpha", low=0.0),
        (_NETWORK, only("model.activation", "leaky_relu")),
        shape=True,
    ),
    Key(
        "model.output",
        "linear",
        lambda v: checks.choice(v, "model.output", losses.OUTPUTS),
        (_NETWORK,),
        shape=True,
    ),
    Key("model.init", "normal", lambda v: checks.choice(v, "model.init", INITS), (_NETWORK,)),
    Key(
        "model.init_std",
        0.1,
        lambda v: checks.number(v, "model.init_std", low=0.0, low_open=True),
        (_NETWORK, only("model.init", "truncated_normal")),
    ),
    Key("model.init_from", None, lambda v: v, (_NETWORK,), path_like=True),
)
"""The network's keys, in the config file's order (the toy's `model.w0` is quadratic.KEYS)."""
