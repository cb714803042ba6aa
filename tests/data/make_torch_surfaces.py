"""Write torch_surfaces.json: optimizer paths on 2-D surfaces in torch, for tests/test_surface.py to compare.

Each case is one torch.optim optimizer (foreach=False) on a 2-element float64 tensor p = (x, y), minimising a
function written here in torch (REFERENCE.md, "2-D surfaces") whose gradient autograd computes, for a
number of steps. Recorded: x, y and the loss at the start and after every step. Optional per case:
  - a schedule: the rate of update k (0-based) set on the param group before it, computed here from the
    schedule's formula (exponential: lr0·decay_rate^(k/decay_steps), TF's ExponentialDecay);
  - gradient clipping: torch.nn.utils.clip_grad_norm_ / clip_grad_value_ between backward and step;
  - a moving average of p, computed by hand as REFERENCE.md gives TF's ExponentialMovingAverage:
    d = min(decay, (1 + n)/(10 + n)) at global step n (1 after the first update),
    shadow −= (shadow − p)·(1 − d).

Every nnopt optimizer is mapped to its torch.optim equivalent as in make_torch_optimizers.py; nnopt's sgdm
(m = β·m + (1 − β)·g from m = 0; w −= lr·m) is torch SGD(momentum=β, dampening=β) with its momentum buffer
set to zeros before the first step (torch otherwise starts the buffer at g, undamped).

Each case also gives the nnopt config keys that describe the same run (`sets`); nothing of nnopt is run
here. Run from the repository root with torch installed (CPU is enough):

    python tests/data/make_torch_surfaces.py
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch_common import write_reference

STEPS = 200


def quadratic(p: torch.Tensor, c: float) -> torch.Tensor:
    x, y = p[0], p[1]
    return 0.5 * (x**2 + c * y**2)


def rosenbrock(p: torch.Tensor, c: float) -> torch.Tensor:
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def beale(p: torch.Tensor, c: float) -> torch.Tensor:
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def himmelblau(p: torch.Tensor, c: float) -> torch.Tensor:
    x, y = p[0], p[1]
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def rastrigin(p: torch.Tensor, c: float) -> torch.Tensor:
    a = 10.0
    return 2 * a + torch.sum(p**2 - a * torch.cos(2 * math.pi * p))


def saddle(p: torch.Tensor, c: float) -> torch.Tensor:
    x, y = p[0], p[1]
    return x**2 - y**2


FUNCTIONS = {f.__name__: f for f in (quadratic, rosenbrock, beale, himmelblau, rastrigin, saddle)}
STARTS = {  # each function's default start in nnopt (model.start left out), spelled out here
    "quadratic": (-8.0, 1.0),
    "rosenbrock": (-1.5, 2.0),
    "beale": (1.0, 1.5),
    "himmelblau": (0.0, 0.0),
    "rastrigin": (-2.3, 3.2),
    "saddle": (1.0, 0.001),
}

# nnopt optimizer -> (torch class, how nnopt's settings become its kwargs)
TORCH = {
    "sgd": (torch.optim.SGD, lambda s: {}),
    "sgdm": (torch.optim.SGD, lambda s: {"momentum": s["beta"], "dampening": s["beta"]}),
    "momentum": (torch.optim.SGD, lambda s: {"momentum": s["momentum"], "nesterov": s["nesterov"]}),
    "adagrad": (
        torch.optim.Adagrad,
        lambda s: {"eps": s["eps"], "initial_accumulator_value": s["initial_accumulator"]},
    ),
    "rmsprop": (torch.optim.RMSprop, lambda s: {"alpha": s["beta"], "eps": s["eps"]}),
    "adam": (torch.optim.Adam, lambda s: {"betas": (s["beta1"], s["beta2"]), "eps": s["eps"]}),
    "adamw": (
        torch.optim.AdamW,
        lambda s: {"betas": (s["beta1"], s["beta2"]), "eps": s["eps"], "weight_decay": s["weight_decay"]},
    ),
    "nadam": (
        torch.optim.NAdam,
        lambda s: {"betas": (s["beta1"], s["beta2"]), "eps": s["eps"], "momentum_decay": s["momentum_decay"]},
    ),
    "adamax": (torch.optim.Adamax, lambda s: {"betas": (s["beta1"], s["beta2"]), "eps": s["eps"]}),
    "adadelta": (torch.optim.Adadelta, lambda s: {"rho": s["rho"], "eps": s["eps"]}),
}
# nnopt's defaults of each optimizer's settings (README, "Optimizers")
DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {},
    "sgdm": {"beta": 0.9},
    "momentum": {"momentum": 0.9, "nesterov": False},
    "adagrad": {"initial_accumulator": 0.0, "eps": 1e-7},
    "rmsprop": {"beta": 0.9, "eps": 1e-7},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
    "adamw": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "weight_decay": 0.01},
    "nadam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "momentum_decay": 0.004},
    "adamax": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
    "adadelta": {"rho": 0.9, "eps": 1e-6},
}

# (case id, function, optimizer, lr, extra nnopt keys: settings, condition, start, schedule, clipping, ema)
CASES: list[tuple[str, str, str, float, dict[str, Any]]] = [
    # every optimizer on rosenbrock from its default start
    ("rosenbrock-sgd", "rosenbrock", "sgd", 5e-4, {}),
    ("rosenbrock-sgdm", "rosenbrock", "sgdm", 5e-4, {}),
    ("rosenbrock-momentum", "rosenbrock", "momentum", 1e-4, {}),
    ("rosenbrock-adagrad", "rosenbrock", "adagrad", 0.3, {}),
    ("rosenbrock-rmsprop", "rosenbrock", "rmsprop", 0.005, {}),
    ("rosenbrock-adam", "rosenbrock", "adam", 0.02, {}),
    ("rosenbrock-adamw", "rosenbrock", "adamw", 0.02, {"optimizer.weight_decay": 0.1}),
    ("rosenbrock-nadam", "rosenbrock", "nadam", 0.02, {}),
    ("rosenbrock-adamax", "rosenbrock", "adamax", 0.02, {}),
    ("rosenbrock-adadelta", "rosenbrock", "adadelta", 1.0, {}),
    # the other functions, spread over the optimizers
    ("valley-sgd", "quadratic", "sgd", 0.035, {"model.condition": 50.0}),
    ("valley-sgdm", "quadratic", "sgdm", 0.035, {"model.condition": 50.0}),
    (
        "valley-momentum-nesterov",
        "quadratic",
        "momentum",
        0.01,
        {"model.condition": 50.0, "optimizer.nesterov": True},
    ),
    ("beale-adam", "beale", "adam", 0.01, {}),
    ("beale-rmsprop", "beale", "rmsprop", 0.01, {"optimizer.beta": 0.99}),
    ("beale-adagrad", "beale", "adagrad", 0.1, {"optimizer.initial_accumulator": 0.1}),
    ("himmelblau-sgd", "himmelblau", "sgd", 0.005, {}),
    ("himmelblau-nadam", "himmelblau", "nadam", 0.05, {"model.start": [-0.5, -0.5]}),
    ("himmelblau-adadelta", "himmelblau", "adadelta", 1.0, {"optimizer.rho": 0.95}),
    ("rastrigin-adam", "rastrigin", "adam", 0.05, {}),
    ("rastrigin-sgdm", "rastrigin", "sgdm", 0.002, {"optimizer.beta": 0.5}),
    ("rastrigin-adamax", "rastrigin", "adamax", 0.05, {}),
    ("saddle-sgd", "saddle", "sgd", 0.01, {}),
    ("saddle-momentum", "saddle", "momentum", 0.005, {}),
    ("saddle-adam", "saddle", "adam", 0.005, {}),
    ("saddle-adamw", "saddle", "adamw", 0.005, {"optimizer.weight_decay": 0.5}),
    # a schedule, a moving average and clipping
    (
        "rosenbrock-adam-exponential",
        "rosenbrock",
        "adam",
        0.05,
        {"schedule.type": "exponential", "schedule.decay_steps": 50, "schedule.decay_rate": 0.5},
    ),
    ("valley-sgdm-ema", "quadratic", "sgdm", 0.035, {"model.condition": 50.0, "ema.decay": 0.9}),
    ("rosenbrock-sgd-clip-norm", "rosenbrock", "sgd", 0.01, {"optimizer.clip_norm": 1.0}),
    ("beale-momentum-clip-value", "beale", "momentum", 0.002, {"optimizer.clip_value": 2.0}),
    (
        "himmelblau-sgd-clip-both",
        "himmelblau",
        "sgd",
        0.02,
        {"optimizer.clip_norm": 5.0, "optimizer.clip_value": 3.0},
    ),
]


def run_case(function: str, optimizer: str, lr: float, extra: dict[str, Any]) -> dict[str, Any]:
    settings = dict(DEFAULTS[optimizer])
    settings.update({k.partition(".")[2]: v for k, v in extra.items() if k.startswith("optimizer.")})
    condition = float(extra.get("model.condition", 10.0))
    start = extra.get("model.start", STARTS[function])
    make, kwargs = TORCH[optimizer]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make([p], lr=lr, foreach=False, **kwargs(settings))
    if optimizer == "sgdm":
        opt.state[p]["momentum_buffer"] = torch.zeros_like(p)
    f = FUNCTIONS[function]
    decay = extra.get("ema.decay")
    shadow = p.detach().clone() if decay is not None else None
    rates = [lr] * STEPS
    if extra.get("schedule.type") == "exponential":
        d, r = extra["schedule.decay_steps"], extra["schedule.decay_rate"]
        rates = [lr * r ** (k / d) for k in range(STEPS)]

    def value(q: torch.Tensor) -> float:
        with torch.no_grad():
            return float(f(q, condition))

    q = p.detach()
    xs, ys, losses = [float(q[0])], [float(q[1])], [value(q)]
    ema_x, ema_y, ema_loss = [float(q[0])], [float(q[1])], [value(q)]
    for k in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = rates[k]
        opt.zero_grad()
        f(p, condition).backward()
        if "optimizer.clip_norm" in extra:
            torch.nn.utils.clip_grad_norm_([p], extra["optimizer.clip_norm"], foreach=False)
        if "optimizer.clip_value" in extra:
            torch.nn.utils.clip_grad_value_([p], extra["optimizer.clip_value"], foreach=False)
        opt.step()
        q = p.detach()
        xs.append(float(q[0]))
        ys.append(float(q[1]))
        losses.append(value(q))
        if shadow is not None:
            n = k + 1
            one_minus_d = 1.0 - min(decay, (1.0 + n) / (10.0 + n))
            with torch.no_grad():
                shadow -= (shadow - p) * one_minus_d
            ema_x.append(float(shadow[0]))
            ema_y.append(float(shadow[1]))
            ema_loss.append(value(shadow))
    out: dict[str, Any] = {"x": xs, "y": ys, "loss": losses, "lr": rates}
    if shadow is not None:
        out.update(ema_x=ema_x, ema_y=ema_y, ema_loss=ema_loss)
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs(settings).items())
    out["torch"] = f"torch.optim.{make.__name__}({args})" + (
        ", momentum_buffer preset to 0" if optimizer == "sgdm" else ""
    )
    return out


def main() -> None:
    torch.set_default_dtype(torch.float64)
    cases = []
    for case_id, function, optimizer, lr, extra in CASES:
        sets = {
            "model.type": "surface",
            "model.function": function,
            "optimizer.name": optimizer,
            "optimizer.lr": lr,
            "train.steps": STEPS,
            **extra,
        }
        record = {"id": case_id, "sets": sets}
        record.update(run_case(function, optimizer, lr, extra))
        cases.append(record)
    out = {
        "torch_version": torch.__version__,
        "note": "x, y, loss[k]: after update k (k = 0: the start); lr[k]: the rate of update k + 1",
        "cases": cases,
    }
    write_reference("torch_surfaces.json", out)


if __name__ == "__main__":
    main()
