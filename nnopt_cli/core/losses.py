"""The network's head: the output function on the logits, the data loss, its gradient, the prediction.

Arrays are held outputs × points: logits z of P stacked runs have shape (P, K, B); targets y are (K, B)
(shared by every run) or (P, K, B). For K = 1, y is the 0/1 label; for K > 1, the one-hot label.

    output   o = z (linear), sigmoid(z), or softmax(z) over the K outputs
    mse      L = mean over the batch and the K outputs of (y − o)²      (any output)
    bce      L = mean of softplus(z) − y·z, the cross-entropy of sigmoid(z)  (linear output, K = 1)
    ce       L = mean over the batch of logsumexp(z) − Σ_k y_k·z_k,
             the cross-entropy of softmax(z)                             (linear output, K ≥ 2)

bce and ce take the logits, so no exp overflows and no log meets 0. The prediction is the argmax of the K
outputs, or for one output the class 1 where the score (o, or sigmoid(z) for bce) is at least 0.5.
"""

from __future__ import annotations

import numpy as np

from nnopt_cli import checks
from nnopt_cli.keys import Key, only

LOSSES = ("mse", "bce", "ce")
OUTPUTS = ("linear", "sigmoid", "softmax")
LOGIT_LOSSES = ("bce", "ce")  # they take the logits z, so the network's output must be linear


class HeadError(ValueError):
    """An output and loss that cannot go together; one line."""


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1/(1 + e^−z), computed without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z: np.ndarray, axis: int = -2) -> np.ndarray:
    """exp(z_k − max z) / Σ_j exp(z_j − max z) along `axis` (the outputs)."""
    e = z - np.maximum.reduce(z, axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


def logsumexp(z: np.ndarray, axis: int = -2) -> np.ndarray:
    """log Σ_k exp(z_k) along `axis`, as max z + log Σ exp(z_k − max z); the axis is kept (size 1)."""
    top = np.maximum.reduce(z, axis=axis, keepdims=True)
    return top + np.log(np.add.reduce(np.exp(z - top), axis=axis, keepdims=True))


def outputs_for(loss: str, output: str, classes: int) -> int:
    """The width K of the last layer: the number of classes for softmax outputs or ce, else 1."""
    if output == "softmax" or loss == "ce":
        return classes
    return 1


class Head:
    """An output function and a loss, for logits of K outputs.

    Args:
      output: linear, sigmoid or softmax (what mse and the prediction see).
      loss: mse, bce or ce; bce and ce need a linear output (they apply sigmoid/softmax themselves).
      outputs: K; bce needs 1, ce and softmax at least 2.
    Raises:
      HeadError: a pairing that is not one of those.
    """

    def __init__(self, output: str, loss: str, outputs: int) -> None:
        if loss in ("bce", "ce") and output != "linear":
            raise HeadError(f"loss: {loss} works on the logits and needs model.output: linear, got {output}")
        if loss == "bce" and outputs != 1:
            raise HeadError(f"loss: bce needs one output, the network has {outputs}")
        if (loss == "ce" or output == "softmax") and outputs < 2:
            what = "loss: ce" if loss == "ce" else "model.output: softmax"
            raise HeadError(f"{what} needs at least 2 outputs (classes), the network has {outputs}")
        self.output, self.loss, self.outputs = output, loss, outputs

    def __repr__(self) -> str:
        return f"Head(output={self.output!r}, loss={self.loss!r}, outputs={self.outputs})"

    def apply(self, z: np.ndarray) -> np.ndarray:
        """The outputs o of the logits z (P, K, N)."""
        if self.output == "sigmoid":
            return sigmoid(z)
        if self.output == "softmax":
            return softmax(z)
        return z

    def value(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Mean data loss over the batch, one value per run: (P,)."""
        batch = z.shape[-1]
        if self.loss == "mse":
            per_entry = np.square(y - self.apply(z))
            # the sum, then one division: what np.mean computes, without its Python-level overhead
            return np.add.reduce(per_entry, axis=(-2, -1)) / (batch * self.outputs)
        if self.loss == "bce":
            per_entry = np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z)))
        else:
            per_entry = logsumexp(z) - np.add.reduce(y * z, axis=-2, keepdims=True)
        return np.add.reduce(per_entry, axis=(-2, -1)) / batch

    def grad(self, z: np.ndarray, y: np.ndarray, dz: np.ndarray) -> None:
        """Write d(mean loss)/dz into dz (shaped like z).

        mse: dL/do = 2·(o − y)/(B·K), then through the output: · 1 (linear), · o(1 − o) (sigmoid),
        J·dL/do = o ⊙ (dL/do − Σ_k o_k·dL/do_k) (softmax, J = diag(o) − o·oᵀ).
        bce: (sigmoid(z) − y)/B.  ce: (softmax(z) − y)/B.
        """
        batch = z.shape[-1]
        if self.loss == "mse":
            if self.output == "linear":
                np.subtract(z, y, out=dz)
                dz *= 2.0 / (batch * self.outputs)
                return
            o = self.apply(z)
            np.subtract(o, y, out=dz)
            dz *= 2.0 / (batch * self.outputs)
            if self.output == "sigmoid":
                dz *= o * (1.0 - o)
            else:
                dz -= np.add.reduce(o * dz, axis=-2, keepdims=True)
                dz *= o
            return
        dz[...] = sigmoid(z) if self.loss == "bce" else softmax(z)
        dz -= y
        dz /= batch

    def score(self, z: np.ndarray) -> np.ndarray:
        """What the prediction reads: for one output the score the 0.5 threshold applies to (o, or
        sigmoid(z) for bce), (P, 1, N); for K outputs the K probabilities or outputs, (P, K, N)."""
        if self.loss == "bce":
            return sigmoid(z)
        if self.loss == "ce":
            return softmax(z)
        return self.apply(z)

    def predict(self, z: np.ndarray) -> np.ndarray:
        """The predicted class of every point, (P, N) int64."""
        if self.outputs == 1:
            if self.loss == "bce":
                return (z[:, 0] >= 0.0).astype(np.int64)  # sigmoid(z) ≥ 0.5 exactly where z ≥ 0
            return (self.apply(z)[:, 0] >= 0.5).astype(np.int64)
        return np.argmax(z, axis=-2)  # softmax and sigmoid keep the order of the logits

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """Class labels (N,) as targets, outputs × points: the 0/1 label (1, N) or one-hot rows (K, N)."""
        labels = np.asarray(labels, dtype=np.int64)
        if self.outputs == 1:
            return labels.astype(np.float64)[None, :]
        return (np.arange(self.outputs)[:, None] == labels[None, :]).astype(np.float64)


# --- config keys ---------------------------------------------------------------------------------

KEYS: tuple[Key, ...] = (
    Key("loss", "mse", lambda v: checks.choice(v, "loss", LOSSES), (only("model.type", "mlp"),), shape=True),
)
"""The loss's key (the quadratic toy has its own loss)."""


def check_head(loss: str, output: str) -> None:
    """bce and ce take the logits and apply their own sigmoid/softmax: a second one would be applied twice."""
    if loss in LOGIT_LOSSES and output != "linear":
        raise checks.CheckError(
            "loss",
            f"{loss} works on the logits and needs model.output: linear, got {output} "
            f"(use loss: mse with output: {output}, or {loss} with output: linear)",
        )
