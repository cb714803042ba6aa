"""Write tf_schedules.json: TensorFlow's own learning-rate decays at steps 0..300.

Not part of the test run, and TensorFlow is not a dependency of nnopt: run it by hand in an
environment that has TensorFlow (``pip install tensorflow-cpu``):

    python tests/data/make_tf_schedules.py

Every case is evaluated by ``tf.compat.v1.train.<type>_decay`` with an int64 global step, twice:

* ``float64``: the learning rate and every real parameter passed as float64 tensors, so
  TensorFlow computes in float64 and nnopt must agree to round-off. (Passed as Python floats,
  decay_rate, alpha, beta, ... would be rounded to float32 by TensorFlow's ``cast`` even with a
  float64 learning rate.) TensorFlow's cosine, cosine_restarts and linear_cosine
  cannot run in float64 as shipped: they multiply by ``constant(math.pi)``, a float32 tensor,
  and the float64 product is refused. For those three, and only while they run, the module's
  ``constant`` is made to give float64 for a Python float (pi); every other operation is
  TensorFlow's. noisy_linear_cosine draws float32 noise and has no float64 run.
* ``float32``: stock TensorFlow, unpatched, with the rate and the real parameters float32
  tensors (what it makes of Python floats anyway); nnopt must agree to float32 precision.
  noisy_linear_cosine is run with initial_variance = 0, which removes its (unseeded) noise and
  checks the rest of its formula.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.python.keras.optimizer_v2 import learning_rate_schedule

STEPS = 301
OUT = Path(__file__).with_name("tf_schedules.json")

# (type, lr, params in nnopt naming). Chosen for the edge cases: staircase edges, polynomial
# cycle at k = 0 and at multiples of D, clipping at D, restarts with t_mul = 1, > 1 and < 1
# (NaN past its horizon), m_mul, piecewise steps exactly on a boundary.
CASES: list[tuple[str, float, dict[str, Any]]] = [
    ("constant", 0.5, {}),
    ("exponential", 0.5, {"decay_steps": 10, "decay_rate": 0.9}),
    ("exponential", 0.5, {"decay_steps": 10, "decay_rate": 0.9, "staircase": True}),
    ("exponential", 0.2, {"decay_steps": 1, "decay_rate": 0.99}),
    ("exponential", 0.1, {"decay_steps": 7, "decay_rate": 1.5}),
    ("exponential", 0.3, {"decay_steps": 4, "decay_rate": 0.0, "staircase": True}),
    ("natural_exp", 0.5, {"decay_steps": 10, "decay_rate": 0.5}),
    ("natural_exp", 0.5, {"decay_steps": 10, "decay_rate": 0.5, "staircase": True}),
    ("natural_exp", 0.05, {"decay_steps": 3, "decay_rate": 0.05}),
    ("inverse_time", 0.5, {"decay_steps": 10, "decay_rate": 0.5}),
    ("inverse_time", 0.5, {"decay_steps": 10, "decay_rate": 0.5, "staircase": True}),
    ("inverse_time", 1.0, {"decay_steps": 7, "decay_rate": 2.0}),
    ("polynomial", 0.5, {"decay_steps": 10}),
    ("polynomial", 0.5, {"decay_steps": 10, "cycle": True}),
    ("polynomial", 0.5, {"decay_steps": 10, "power": 2.0, "cycle": True}),
    ("polynomial", 0.5, {"decay_steps": 30, "end_lr": 0.01, "power": 0.5}),
    ("polynomial", 0.5, {"decay_steps": 7, "end_lr": 0.7}),
    ("polynomial", 0.1, {"decay_steps": 13, "end_lr": 0.0, "power": 3.0, "cycle": True}),
    ("cosine", 0.5, {"decay_steps": 100}),
    ("cosine", 0.5, {"decay_steps": 37, "alpha": 0.1}),
    ("cosine_restarts", 0.5, {"first_decay_steps": 10}),
    ("cosine_restarts", 0.5, {"first_decay_steps": 10, "t_mul": 1.0, "m_mul": 0.5}),
    (
        "cosine_restarts",
        0.5,
        {"first_decay_steps": 7, "t_mul": 1.5, "m_mul": 0.9, "alpha": 0.05},
    ),
    ("cosine_restarts", 0.5, {"first_decay_steps": 5, "t_mul": 3.0, "m_mul": 0.8}),
    ("cosine_restarts", 0.5, {"first_decay_steps": 20, "t_mul": 0.5}),
    ("linear_cosine", 0.5, {"decay_steps": 100}),
    (
        "linear_cosine",
        0.5,
        {"decay_steps": 50, "num_periods": 2.0, "alpha": 0.1, "beta": 0.01},
    ),
    ("linear_cosine", 0.5, {"decay_steps": 10, "num_periods": 0.0}),
    ("noisy_linear_cosine", 0.5, {"decay_steps": 100, "initial_variance": 0.0}),
    (
        "noisy_linear_cosine",
        0.5,
        {"decay_steps": 40, "initial_variance": 0.0, "num_periods": 1.5, "alpha": 0.2},
    ),
    ("piecewise_constant", 0.0, {"boundaries": [10, 20], "values": [1.0, 0.5, 0.1]}),
    (
        "piecewise_constant",
        0.0,
        {"boundaries": [0, 5, 100, 250], "values": [0.3, 0.2, 0.1, 0.05, 0.01]},
    ),
]

TF_NAMES = {"end_lr": "end_learning_rate"}
TF_FUNCTIONS = {
    "cosine_restarts": "cosine_decay_restarts",
    "piecewise_constant": "piecewise_constant",
}
NEEDS_PI_PATCH = {"cosine", "cosine_restarts", "linear_cosine"}


@contextlib.contextmanager
def float64_pi() -> Iterator[None]:
    """Let ``constant(math.pi)`` inside TensorFlow's schedules be float64 (see module doc)."""
    original = learning_rate_schedule.constant_op

    class _Float64Constants:
        @staticmethod
        def constant(value: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
            if dtype is None and isinstance(value, float):
                dtype = tf.float64
            return original.constant(value, dtype, *args, **kwargs)

    learning_rate_schedule.constant_op = _Float64Constants
    try:
        yield
    finally:
        learning_rate_schedule.constant_op = original


def tf_function(kind: str) -> Any:
    return getattr(tf.compat.v1.train, TF_FUNCTIONS.get(kind, f"{kind}_decay"))


def tf_defaults(kind: str) -> dict[str, Any]:
    """The keyword defaults of TensorFlow's function, but ``name``."""
    if kind == "constant":
        return {}
    signature = inspect.signature(tf_function(kind))
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty and name != "name"
    }


def evaluate(kind: str, lr: float, params: dict[str, Any], dtype: Any) -> list[float]:
    if kind == "constant":  # TensorFlow has no constant decay: the rate itself
        return [float(tf.constant(lr, dtype).numpy())] * STEPS
    decay = tf_function(kind)
    # A Python float would be cast through float32 by TensorFlow (``cast(0.9, float64)`` first
    # makes a float32 tensor), so every real parameter, the defaults included, goes in as a
    # tensor of the run's dtype.
    given = {TF_NAMES.get(k, k): v for k, v in params.items()}
    kwargs = {
        k: tf.constant(v, dtype) if isinstance(v, float) else v
        for k, v in {**tf_defaults(kind), **given}.items()
    }
    out = []
    for k in range(STEPS):
        step = tf.constant(k, tf.int64)
        if kind == "piecewise_constant":
            values = [tf.constant(v, dtype) for v in kwargs["values"]]
            value = decay(step, kwargs["boundaries"], values)
        else:
            value = decay(tf.constant(lr, dtype), step, **kwargs)
        if callable(value):  # eager mode returns a function of nothing
            value = value()
        out.append(float(value.numpy()))
    return out


def main() -> None:
    tf.config.set_visible_devices([], "GPU")
    cases = []
    for kind, lr, params in CASES:
        record: dict[str, Any] = {"type": kind, "lr": lr, "params": params}
        if kind != "noisy_linear_cosine":
            patch = float64_pi() if kind in NEEDS_PI_PATCH else contextlib.nullcontext()
            with patch:
                record["float64"] = evaluate(kind, lr, params, tf.float64)
            record["float64_pi_patched"] = kind in NEEDS_PI_PATCH
        # Shortest text that reads back as the same float32.
        f32 = evaluate(kind, lr, params, tf.float32)
        record["float32"] = [float(str(np.float32(v))) for v in f32]
        cases.append(record)
        print(kind, params, file=sys.stderr)
    doc = {
        "generator": "tests/data/make_tf_schedules.py",
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "steps": STEPS,
        "tf_names": TF_NAMES,
        "tf_defaults": {kind: tf_defaults(kind) for kind in dict.fromkeys(c[0] for c in CASES)},
        "cases": cases,
    }
    # One case a line: diffs stay readable and the file small.
    head = json.dumps({k: v for k, v in doc.items() if k != "cases"})[:-1]
    lines = ",\n  ".join(json.dumps(c, allow_nan=True) for c in cases)
    OUT.write_text(f'{head}, "cases": [\n  {lines}\n]}}\n', encoding="utf-8")
    nan = sum(math.isnan(v) for c in cases for v in c.get("float64", []))
    print(f"wrote {OUT} ({len(cases)} cases, {nan} NaN float64 values)", file=sys.stderr)


if __name__ == "__main__":
    main()
