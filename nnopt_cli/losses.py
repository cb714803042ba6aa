"""Data losses on the network's output: value per run and gradient with respect to the output.

`out` is the linear output, shape (P, B, 1) for P stacked runs on a batch of B; `y` the labels, (B, 1) or
(P, B, 1).
"""

from __future__ import annotations

import numpy as np

LOSSES = ("mse", "bce")


def value(name: str, out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean loss over the batch, one value per run (shape (P,)).

    mse: mean (y − ŷ)²;  bce: mean of softplus(o) − y·o, the cross-entropy of sigmoid(o), computed from the
    logit o as max(o, 0) − y·o + log(1 + e^−|o|) so that no exp overflows.
    """
    if name == "mse":
        per_point = np.square(y - out)
    else:
        per_point = np.maximum(out, 0.0) - y * out + np.log1p(np.exp(-np.abs(out)))
    # the sum, then one division: what np.mean computes, without its Python-level overhead
    return np.add.reduce(per_point, axis=(-2, -1)) / out.shape[-2]


def grad(name: str, out: np.ndarray, y: np.ndarray, dout: np.ndarray | None = None) -> np.ndarray:
    """d(mean loss)/d(out), same shape as `out`, written into `dout` when given.

    mse: 2·(ŷ − y)/B;  bce: (sigmoid(o) − y)/B.
    """
    if dout is None:
        dout = np.empty_like(out)
    batch = out.shape[-2]
    if name == "mse":
        np.subtract(out, y, out=dout)
        dout *= 2.0 / batch
    else:
        dout[...] = probability(out)
        dout -= y
        dout /= batch
    return dout


def probability(out: np.ndarray) -> np.ndarray:
    """sigmoid(out), computed without overflow for large |out|."""
    e = np.exp(-np.abs(out))
    return np.where(out >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def predicted_class(name: str, out: np.ndarray) -> np.ndarray:
    """Class 1 where the output reads as ≥ 0.5: ŷ ≥ 0.5 for mse, sigmoid(o) ≥ 0.5 (o ≥ 0) for bce."""
    return out >= (0.5 if name == "mse" else 0.0)


def score(name: str, out: np.ndarray) -> np.ndarray:
    """The output on the scale the 0.5 decision threshold applies to (ŷ for mse, sigmoid(o) for bce)."""
    return out if name == "mse" else probability(out)
