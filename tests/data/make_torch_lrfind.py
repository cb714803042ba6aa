"""Write torch_lrfind.json: learning-rate range tests replayed in torch, update by update, for
tests/test_lrfind.py to compare `nnopt lr-find`'s lr_find.csv with.

A range test is ordinary training whose rate grows geometrically, lr_k = start · r^k with
r = (end / start)^(1 / (steps − 1)) (nnopt_cli/core/lrrange.py). Here torch does that training in float64:
the network (dense layers, ReLU, linear or softmax output, MSE), the weight penalty in the loss (l2:
scale·Σw²/2 over the weights), autograd's gradient and the torch.optim rule (foreach=False), with the
param group's lr set to start · r^k before update k. nnopt supplies only what is not under test: the
training rows in their order and the starting weights (the config's seed). Recorded per update k: the rate
and the loss of the mini-batch the update was computed on, at the parameters before it (data loss plus the
penalty), for every planned update; lr-find keeps those up to its stopping update.

Run from the repository root where torch, numpy and pyyaml are installed (CPU is enough):

    PYTHONPATH=. python tests/data/make_torch_lrfind.py
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch_common import network, torch_optimizer, write_reference

from nnopt_cli import config as config_mod

ROOT = Path(__file__).resolve().parents[2]
START, END, STEPS = 1e-7, 10.0, 100  # lr-find's defaults

# (case id, config file under configs/, --set overrides)
CASES: list[tuple[str, str, list[str]]] = [
    ("l2-sgd", "l2.yaml", []),
    ("l2-adam", "l2.yaml", ["optimizer.name=adam"]),
    ("iris-sgd", "iris/sgd.yaml", []),
    ("dot-momentum", "sgd.yaml", ["optimizer.name=momentum"]),
]


def run_case(path: str, sets: list[str]) -> dict:
    c = config_mod.load(ROOT / "configs" / path, sets)
    assert not c.shuffle and c.loss == "mse" and c.activation == "relu"
    assert c.output in ("linear", "softmax") and c.regularizer in ("none", "l2")
    net = network(c)
    ws, params, x, y = net.ws, net.params, net.x, net.y

    r = (END / START) ** (1.0 / (STEPS - 1))
    opt = torch_optimizer(c.optimizer, c.optimizer_params, params, START)
    n = x.shape[0]
    rates, losses = [], []
    k = 0
    while k < STEPS:
        for lo in range(0, n, c.batch_size):
            if k == STEPS:
                break
            lr = START * r**k
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad()
            loss = net.data_loss(x[lo : lo + c.batch_size], y[lo : lo + c.batch_size])
            if c.regularizer == "l2":
                loss = loss + c.reg_scale * sum(torch.sum(w * w) for w in ws) / 2.0
            losses.append(float(loss.detach()))
            rates.append(lr)
            loss.backward()
            opt.step()
            k += 1
    return {"config": path, "sets": sets, "torch": type(opt).__name__, "lr": rates, "loss": losses}


def main() -> None:
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    cases = []
    for case_id, path, sets in CASES:
        cases.append({"id": case_id, **run_case(path, sets)})
        print(case_id, min(cases[-1]["loss"]))
    out = {
        "torch_version": torch.__version__,
        "start": START,
        "end": END,
        "steps": STEPS,
        "note": "lr[k], loss[k]: update k's rate and the loss of its mini-batch before it (data + penalty)",
        "cases": cases,
    }
    write_reference("torch_lrfind.json", out)


if __name__ == "__main__":
    main()
