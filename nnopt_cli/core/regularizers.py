"""Weight penalties (the weights w1, w2, ... of every layer, never the biases), as the course defines them.

l2: scale · Σ w²/2 (tf.nn.l2_loss), gradient scale · w.
l1: scale · Σ |w|, gradient scale · sign(w) (0 at 0).
"""

from __future__ import annotations

import numpy as np

from nnopt_cli import checks
from nnopt_cli.keys import Key, only

REGULARIZERS = ("none", "l1", "l2")


def penalty(kind: str, scale: float | np.ndarray, params: np.ndarray) -> np.ndarray:
    """The penalty of each run: params (..., n), summed over the last axis.

    `scale` may be an array shaped like the last axis, holding the scale on the weights and 0 on the biases
    (`scale * MLP.weight_mask()`), so that whole flat parameter vectors can be passed.
    """
    if kind == "l2":
        return np.sum(np.square(params) * scale, axis=-1) / 2.0
    if kind == "l1":
        return np.sum(np.abs(params) * scale, axis=-1)
    return np.zeros(params.shape[:-1])


def add_grad(kind: str, scale: float | np.ndarray, params: np.ndarray, grads: np.ndarray) -> None:
    """grads += d penalty / d params, in place.

    `scale` may be an array shaped like params holding the scale on the weights and 0 on the biases
    (`scale * MLP.weight_mask()`), so that a whole flat parameter vector is handled in one operation.
    """
    if kind == "l2":
        grads += params * scale
    elif kind == "l1":
        grads += np.sign(params) * scale


# --- config keys ---------------------------------------------------------------------------------

KEYS: tuple[Key, ...] = (
    Key(
        "regularizer.type",
        "none",
        lambda v: checks.choice(v, "regularizer.type", REGULARIZERS),
        (only("model.type", "mlp"),),
        attr="regularizer",
    ),
    Key(
        "regularizer.scale",
        0.03,
        lambda v: checks.number(v, "regularizer.scale", low=0.0),
        (only("model.type", "mlp"), only("regularizer.type", "l1", "l2")),
        attr="reg_scale",
    ),
)
"""The penalty's keys."""
