"""The 2-H-1 network: forward and backward written by hand, side by side.

All parameters of P stacked runs live in one float64 array `theta` of shape (P, n), n = 4H + 1, laid out as
[w1 (2×H) | b1 (H) | w2 (H) | b2 (1)]. Each layer is then one block: [w1; b1] is a (3, H) matrix and
[w2; b2] a (H+1, 1) matrix, so with a column of ones appended to the layer inputs, a layer's forward pass and
its weight-and-bias gradient are one matrix product each. The gradient `grads` has the same layout.

    forward                                  backward (d· = d loss / d·)
    z1  = [x 1]·[w1; b1]          (P, B, H)  d[w1; b1] = [x 1]ᵀ·dz1
    a1  = act(z1)                 (P, B, H)  dz1       = (dout·w2ᵀ) ⊙ act'(z1)
    out = [a1 1]·[w2; b2]         (P, B, 1)  d[w2; b2] = [a1 1]ᵀ·dout,   dout = d loss / d out
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnopt_cli import losses

ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu")
INITS = ("normal", "he", "xavier")
PARAM_NAMES = ("w1", "b1", "w2", "b2")

# act(z, a, d) writes the activation into `a` and, unless d is None (a forward pass only), its derivative
# act'(z) into `d` (float64, shaped like z), so that the backward pass multiplies float by float (a bool
# mask would be cast on every update).
Activation = Callable[[np.ndarray, np.ndarray, np.ndarray | None], None]


def _relu(z: np.ndarray, a: np.ndarray, d: np.ndarray | None) -> None:
    np.maximum(z, 0.0, out=a)
    if d is not None:
        np.greater(z, 0.0, out=d)  # act'(0) = 0, as TensorFlow's ReluGrad


def _sigmoid(z: np.ndarray, a: np.ndarray, d: np.ndarray | None) -> None:
    a[...] = losses.probability(z)
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


def augment(x: np.ndarray) -> np.ndarray:
    """Inputs with a column of ones appended: (..., N, 2) -> (..., N, 3)."""
    ones = np.ones(x.shape[:-1] + (1,))
    return np.concatenate([x, ones], axis=-1)


@dataclass(frozen=True)
class MLP:
    """A 2-H-1 network with hidden activation `activation` and a linear output."""

    hidden: int = 11
    activation: str = "relu"
    leaky_alpha: float = 0.01

    @property
    def n_params(self) -> int:
        return 4 * self.hidden + 1

    def weight_mask(self) -> np.ndarray:
        """1.0 on the entries of w1 and w2, 0.0 on the biases: the part a regularizer sees."""
        h = self.hidden
        mask = np.zeros(self.n_params)
        mask[: 2 * h] = 1.0
        mask[3 * h : 4 * h] = 1.0
        return mask

    def layers(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Views [w1; b1] (P, 3, H) and [w2; b2] (P, H+1, 1) into a (P, n) array; writes go through."""
        h = self.hidden
        p = theta.shape[0]
        return theta[:, : 3 * h].reshape(p, 3, h), theta[:, 3 * h :].reshape(p, h + 1, 1)

    def to_arrays(self, row: np.ndarray) -> dict[str, np.ndarray]:
        """One run's flat parameters as the named arrays w1 (2,H), b1 (H), w2 (H,1), b2 (1)."""
        h = self.hidden
        return {
            "w1": row[: 2 * h].reshape(2, h).copy(),
            "b1": row[2 * h : 3 * h].copy(),
            "w2": row[3 * h : 4 * h].reshape(h, 1).copy(),
            "b2": row[4 * h :].copy(),
        }

    def shapes(self) -> dict[str, tuple[int, ...]]:
        h = self.hidden
        return {"w1": (2, h), "b1": (h,), "w2": (h, 1), "b2": (1,)}

    def from_arrays(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """The flat (n,) parameter vector of the named arrays (shapes checked by the caller)."""
        return np.concatenate([np.ravel(arrays[k]) for k in PARAM_NAMES]).astype(np.float64)

    def init(self, kind: str, rng: np.random.Generator) -> np.ndarray:
        """Initial flat parameters (n,), w1 drawn before w2.

        normal: the course's w ~ N(0, 1), biases 0.01; he: w ~ N(0, 2/fan_in), biases 0;
        xavier (Glorot normal): w ~ N(0, 2/(fan_in + fan_out)), biases 0.
        """
        h = self.hidden
        z1 = rng.standard_normal((2, h))
        z2 = rng.standard_normal((h, 1))
        if kind == "normal":
            s1, s2, bias = 1.0, 1.0, 0.01
        elif kind == "he":
            s1, s2, bias = np.sqrt(2.0 / 2), np.sqrt(2.0 / h), 0.0
        else:
            s1, s2, bias = np.sqrt(2.0 / (2 + h)), np.sqrt(2.0 / (h + 1)), 0.0
        return self.from_arrays(
            {"w1": s1 * z1, "b1": np.full(h, bias), "w2": s2 * z2, "b2": np.full(1, bias)}
        )

    def activation_fn(self) -> Activation:
        if self.activation == "relu":
            return _relu
        if self.activation == "sigmoid":
            return _sigmoid
        if self.activation == "tanh":
            return _tanh
        return _leaky_relu(self.leaky_alpha)

    def output(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The linear output (P, N, 1) of every run on inputs x (N, 2)."""
        return Forward(self, theta, x)()


class Forward:
    """The outputs of the rows of `theta` (R, n) on fixed inputs x (N, 2), computed as often as asked (every
    epoch's metrics) into buffers made once, features × points as in `Backprop`."""

    def __init__(self, net: MLP, theta: np.ndarray, x: np.ndarray) -> None:
        layer1, layer2 = net.layers(theta)
        self.layer1_t, self.layer2_t = layer1.transpose(0, 2, 1), layer2.transpose(0, 2, 1)
        self.xa_t = np.ascontiguousarray(augment(x).T)
        rows, h, n = theta.shape[0], net.hidden, x.shape[0]
        self.act = net.activation_fn()
        self.z1 = np.empty((rows, h, n))
        self.a1 = np.ones((rows, h + 1, n))  # the last row stays 1: the bias input of layer 2
        self.out = np.empty((rows, 1, n))

    def __call__(self) -> np.ndarray:
        """The outputs (R, N, 1), a view of a buffer the next call overwrites."""
        np.matmul(self.layer1_t, self.xa_t, out=self.z1)
        self.act(self.z1, self.a1[:, : self.z1.shape[1]], None)
        np.matmul(self.layer2_t, self.a1, out=self.out)
        return self.out.transpose(0, 2, 1)


class Backprop:
    """Gradient of the mean data loss of P stacked runs, written into a preallocated (P, n) array.

    Bound once per training run to the parameter and gradient arrays, it keeps their layer views and the
    activation buffers (one set per batch size), so that an update costs a dozen NumPy calls whatever P is.
    The activations are held features × batch, (P, H, B), so that every elementwise operation runs over
    contiguous memory; the matrix products take the transposed views as they are.
    """

    def __init__(self, net: MLP, loss: str, theta: np.ndarray, grads: np.ndarray) -> None:
        self.net = net
        self.loss = loss
        self.act = net.activation_fn()
        layer1, layer2 = net.layers(theta)
        self.layer1_t = layer1.transpose(0, 2, 1)  # [w1; b1]ᵀ, (P, H, 3)
        self.layer2_t = layer2.transpose(0, 2, 1)  # [w2; b2]ᵀ, (P, 1, H+1)
        self.w2 = layer2[:, : net.hidden]  # (P, H, 1)
        self.dlayer1, self.dlayer2 = net.layers(grads)
        self.runs = theta.shape[0]
        self._buffers: dict[int, tuple[np.ndarray, ...]] = {}

    def _buffers_for(self, batch: int) -> tuple[np.ndarray, ...]:
        if batch not in self._buffers:
            p, h = self.runs, self.net.hidden
            z1 = np.empty((p, h, batch))
            a1 = np.ones((p, h + 1, batch))  # the last row stays 1: the bias input of layer 2
            out = np.empty((p, 1, batch))
            dout = np.empty((p, 1, batch))
            dz1 = np.empty((p, h, batch))
            act_grad = np.empty((p, h, batch))
            self._buffers[batch] = (
                z1,
                a1,
                a1[:, :h],
                out,
                out.transpose(0, 2, 1),
                dout,
                dout.transpose(0, 2, 1),
                dz1,
                act_grad,
            )
        return self._buffers[batch]

    def __call__(self, xa_t: np.ndarray, y: np.ndarray) -> None:
        """Write d mean-loss / d theta on one batch into the bound gradient array.

        Args:
          xa_t: the batch's inputs with a ones column, as features × batch: (3, B) shared by every run, or
            (P, 3, B); y: labels (B, 1) or (P, B, 1).
        """
        z1, a1, a1_hidden, out, out_bt, dout, dout_bt, dz1, act_grad = self._buffers_for(xa_t.shape[-1])
        np.matmul(self.layer1_t, xa_t, out=z1)  # z1ᵀ = [w1; b1]ᵀ·[x 1]ᵀ
        self.act(z1, a1_hidden, act_grad)
        np.matmul(self.layer2_t, a1, out=out)
        losses.grad(self.loss, out_bt, y, dout_bt)
        np.matmul(a1, dout_bt, out=self.dlayer2)  # d[w2; b2] = [a1 1]ᵀ·dout
        np.multiply(self.w2, dout, out=dz1)  # (dout·w2ᵀ)ᵀ, an outer product: one factor per entry
        dz1 *= act_grad
        np.matmul(xa_t, dz1.transpose(0, 2, 1), out=self.dlayer1)  # d[w1; b1] = [x 1]ᵀ·dz1
