"""Write torch_runs.json: whole training runs in torch, per epoch, for tests/test_optimizers.py to compare.

Each case is an nnopt config (a file of configs/ plus --set overrides). nnopt supplies only what is not
the rule under test: the training rows in their order and the starting weights (the config's seed). torch
does the rest in float64: the network (dense layers, ReLU, linear or softmax output, MSE), the weight
penalty in the loss (regularizer: l2, scale·Σw²/2 over the weights), autograd's gradient,
torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (optimizer.clip_norm, clip_value), and the torch.optim
rule (foreach=False). Recorded: the data loss on all training rows after every epoch, and the final
parameters.

Run from the repository root where torch, numpy and pyyaml are installed (CPU is enough):

    PYTHONPATH=. python tests/data/make_torch_runs.py
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch_common import network, torch_optimizer, write_reference

from nnopt_cli import config as config_mod

ROOT = Path(__file__).resolve().parents[2]

# (case id, config file under configs/, --set overrides)
CASES: list[tuple[str, str, list[str]]] = [
    ("dot-adamw", "sgd.yaml", ["optimizer.name=adamw", "optimizer.lr=0.02"]),
    ("dot-adamw-l2", "l2.yaml", ["optimizer.name=adamw", "optimizer.lr=0.02", "optimizer.weight_decay=0.1"]),
    ("dot-nadam", "sgd.yaml", ["optimizer.name=nadam", "optimizer.lr=0.01"]),
    ("dot-adamax", "sgd.yaml", ["optimizer.name=adamax", "optimizer.lr=0.02"]),
    ("dot-adadelta", "sgd.yaml", ["optimizer.name=adadelta"]),
    ("dot-sgd-clip-norm", "l2.yaml", ["optimizer.clip_norm=0.5"]),
    (
        "dot-adam-clip-value",
        "l2.yaml",
        ["optimizer.name=adam", "optimizer.lr=0.02", "optimizer.clip_value=0.05"],
    ),
    (
        "dot-momentum-clip-both",
        "sgd.yaml",
        ["optimizer.name=momentum", "optimizer.clip_norm=1.0", "optimizer.clip_value=0.2"],
    ),
    ("iris-adamw", "iris/adam.yaml", ["optimizer.name=adamw", "optimizer.weight_decay=0.05"]),
    # at iris/adam.yaml's lr 0.1 NAdam's loss oscillates over epochs 18-22, which amplifies round-off to 4e-12
    # there (1e-15 before and after); at 0.05 it settles without
    ("iris-nadam", "iris/adam.yaml", ["optimizer.name=nadam", "optimizer.eps=1e-7", "optimizer.lr=0.05"]),
    ("iris-adamax", "iris/adam.yaml", ["optimizer.name=adamax"]),
    ("iris-adadelta", "iris/sgd.yaml", ["optimizer.name=adadelta", "optimizer.lr=1.0"]),
    ("iris-sgd-clip-norm", "iris/sgd.yaml", ["optimizer.clip_norm=0.05"]),
    # Adam at iris/adam.yaml's lr 0.1 with clip_value: clipping pins g at ±c, Adam's m/√v then sits near ±1
    # and any rounding that decides whether an entry is clipped moves a whole step (2e-11 apart); sgd shows
    # the clipping itself
    ("iris-sgd-clip-value", "iris/sgd.yaml", ["optimizer.clip_value=0.02"]),
]


def run_case(path: str, sets: list[str]) -> dict:
    c = config_mod.load(ROOT / "configs" / path, sets)
    assert c.schedule == "constant" and c.lr_decay == 0.0 and not c.shuffle and c.loss == "mse"
    assert c.activation == "relu" and c.output in ("linear", "softmax") and c.regularizer in ("none", "l2")
    net = network(c)
    ws, bs, params, x, y = net.ws, net.bs, net.params, net.x, net.y
    depth = len(ws)

    opt = torch_optimizer(c.optimizer, c.optimizer_params, params, c.lr)
    losses = []
    n = x.shape[0]
    for _ in range(c.epochs):
        for lo in range(0, n, c.batch_size):
            opt.zero_grad()
            loss = net.data_loss(x[lo : lo + c.batch_size], y[lo : lo + c.batch_size])
            if c.regularizer == "l2":
                loss = loss + c.reg_scale * sum(torch.sum(w * w) for w in ws) / 2.0
            loss.backward()
            if c.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, c.clip_norm, foreach=False)
            if c.clip_value is not None:
                torch.nn.utils.clip_grad_value_(params, c.clip_value, foreach=False)
            opt.step()
        with torch.no_grad():
            losses.append(float(net.data_loss(x, y)))
    final = {
        f"{kind}{i + 1}": p.detach().numpy().tolist()
        for i in range(depth)
        for kind, p in (("w", ws[i]), ("b", bs[i]))
    }
    return {"config": path, "sets": sets, "torch": type(opt).__name__, "data_loss": losses, "params": final}


def main() -> None:
    torch.set_default_dtype(torch.float64)  # also NAdam's mu_product and the step counts
    torch.set_num_threads(1)
    cases = []
    for case_id, path, sets in CASES:
        cases.append({"id": case_id, **run_case(path, sets)})
        print(case_id, cases[-1]["data_loss"][-1])
    out = {
        "torch_version": torch.__version__,
        "note": "data_loss[e] = the data loss on every training row after epoch e + 1; params after the last",
        "cases": cases,
    }
    write_reference("torch_runs.json", out)


if __name__ == "__main__":
    main()
