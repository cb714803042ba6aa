"""Write torch_optimizers.json: torch.optim trajectories for tests/test_optimizers.py to replay.

Each case runs one torch.optim optimizer in float64 on a fixed gradient sequence and a per-step
learning rate (set on the param group before each step, as a schedule would), and records the
parameters after every step. The gradients do not depend on the parameters, so nnopt can replay
them exactly; the tests then need no torch.

Run from the repository root with torch installed (CPU build is enough):

    python tests/data/make_torch_optimizers.py
"""

from __future__ import annotations

import numpy as np
import torch
from torch_common import write_reference

N_PARAMS = 12  # more than one SIMD vector of float64, plus a tail
N_STEPS = 20
SEED = 20240611

# (case id, torch constructor, its kwargs, nnopt name, nnopt hyperparameters)
CASES = [
    ("sgd", torch.optim.SGD, {}, "sgd", {}),
    ("momentum", torch.optim.SGD, {"momentum": 0.9}, "momentum", {"momentum": 0.9}),
    (
        "momentum_nesterov",
        torch.optim.SGD,
        {"momentum": 0.8, "nesterov": True},
        "momentum",
        {"momentum": 0.8, "nesterov": True},
    ),
    ("adagrad", torch.optim.Adagrad, {"eps": 1e-7}, "adagrad", {"eps": 1e-7}),
    (
        "adagrad_initial",
        torch.optim.Adagrad,
        {"eps": 1e-10, "initial_accumulator_value": 0.1},
        "adagrad",
        {"eps": 1e-10, "initial_accumulator": 0.1},
    ),
    (
        "rmsprop",
        torch.optim.RMSprop,
        {"alpha": 0.9, "eps": 1e-7},
        "rmsprop",
        {"beta": 0.9, "eps": 1e-7},
    ),
    (
        "rmsprop_099",
        torch.optim.RMSprop,
        {"alpha": 0.99, "eps": 1e-8},
        "rmsprop",
        {"beta": 0.99, "eps": 1e-8},
    ),
    (
        "adam",
        torch.optim.Adam,
        {"betas": (0.9, 0.999), "eps": 1e-7},
        "adam",
        {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
    ),
    (
        "adam_other",
        torch.optim.Adam,
        {"betas": (0.5, 0.99), "eps": 1e-3},
        "adam",
        {"beta1": 0.5, "beta2": 0.99, "eps": 1e-3},
    ),
    (
        "adam_eps0",
        torch.optim.Adam,
        {"betas": (0.9, 0.999), "eps": 0.0},
        "adam",
        {"beta1": 0.9, "beta2": 0.999, "eps": 0.0},
    ),
    (
        "adamw",
        torch.optim.AdamW,
        {"betas": (0.9, 0.999), "eps": 1e-7, "weight_decay": 0.01},
        "adamw",
        {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "weight_decay": 0.01},
    ),
    (
        "adamw_strong",
        torch.optim.AdamW,
        {"betas": (0.5, 0.99), "eps": 1e-3, "weight_decay": 2.0},
        "adamw",
        {"beta1": 0.5, "beta2": 0.99, "eps": 1e-3, "weight_decay": 2.0},
    ),
    (
        "nadam",
        torch.optim.NAdam,
        {"betas": (0.9, 0.999), "eps": 1e-7, "momentum_decay": 0.004},
        "nadam",
        {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "momentum_decay": 0.004},
    ),
    (
        "nadam_other",
        torch.optim.NAdam,
        {"betas": (0.5, 0.99), "eps": 1e-8, "momentum_decay": 0.1},
        "nadam",
        {"beta1": 0.5, "beta2": 0.99, "eps": 1e-8, "momentum_decay": 0.1},
    ),
    (
        "adamax",
        torch.optim.Adamax,
        {"betas": (0.9, 0.999), "eps": 1e-7},
        "adamax",
        {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
    ),
    (
        "adamax_other",
        torch.optim.Adamax,
        {"betas": (0.5, 0.9), "eps": 1e-3},
        "adamax",
        {"beta1": 0.5, "beta2": 0.9, "eps": 1e-3},
    ),
    ("adadelta", torch.optim.Adadelta, {"rho": 0.9, "eps": 1e-6}, "adadelta", {"rho": 0.9, "eps": 1e-6}),
    (
        "adadelta_other",
        torch.optim.Adadelta,
        {"rho": 0.5, "eps": 1e-3},
        "adadelta",
        {"rho": 0.5, "eps": 1e-3},
    ),
]


def run_case(rng: np.random.Generator, make, kwargs: dict) -> dict:
    w0 = rng.standard_normal(N_PARAMS)
    # entries of very different scales, and a gradient that changes sign over the steps
    scale = np.logspace(-3, 1, N_PARAMS)
    grads = rng.standard_normal((N_STEPS, N_PARAMS)) * scale
    lr = 0.05 * 0.9 ** np.arange(N_STEPS) * rng.uniform(0.5, 1.5, N_STEPS)

    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = make([w], lr=float(lr[0]), foreach=False, **kwargs)
    trajectory = []
    for k in range(N_STEPS):
        for group in opt.param_groups:
            group["lr"] = float(lr[k])
        w.grad = torch.tensor(grads[k], dtype=torch.float64)
        opt.step()
        trajectory.append(w.detach().numpy().copy())
    return {
        "w0": w0.tolist(),
        "lr": lr.tolist(),
        "grads": grads.tolist(),
        "params": np.array(trajectory).tolist(),
    }


def main() -> None:
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(SEED)
    cases = []
    for case_id, make, kwargs, name, hparams in CASES:
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        record = {
            "id": case_id,
            "torch": f"torch.optim.{make.__name__}({args})",
            "optimizer": name,
            "hparams": hparams,
        }
        record.update(run_case(rng, make, kwargs))
        cases.append(record)
    out = {
        "torch_version": torch.__version__,
        "numpy_seed": SEED,
        "note": "params[k] = parameters after update k (k = 0 is the first update)",
        "cases": cases,
    }
    write_reference("torch_optimizers.json", out)


if __name__ == "__main__":
    main()
