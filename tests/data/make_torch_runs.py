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

import json
import re
from pathlib import Path

import numpy as np
import torch

from nnopt_cli import config as config_mod
from nnopt_cli.experiments import experiment

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


def torch_optimizer(name: str, hp: dict, params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """torch.optim's rule for nnopt's optimizer `name` and settings `hp`."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, foreach=False)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=hp["momentum"], nesterov=hp["nesterov"], foreach=False)
    betas = (hp.get("beta1", 0.9), hp.get("beta2", 0.999))
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=hp["eps"], foreach=False)
    if name == "adamw":
        return torch.optim.AdamW(
            params, lr=lr, betas=betas, eps=hp["eps"], weight_decay=hp["weight_decay"], foreach=False
        )
    if name == "nadam":
        return torch.optim.NAdam(
            params, lr=lr, betas=betas, eps=hp["eps"], momentum_decay=hp["momentum_decay"], foreach=False
        )
    if name == "adamax":
        return torch.optim.Adamax(params, lr=lr, betas=betas, eps=hp["eps"], foreach=False)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=hp["rho"], eps=hp["eps"], foreach=False)
    raise ValueError(name)


def run_case(path: str, sets: list[str]) -> dict:
    c = config_mod.load(ROOT / "configs" / path, sets)
    assert c.schedule == "constant" and c.lr_decay == 0.0 and not c.shuffle and c.loss == "mse"
    assert c.activation == "relu" and c.output in ("linear", "softmax") and c.regularizer in ("none", "l2")
    data = experiment.load_data(c)
    net, _ = experiment.network(c, data.train)
    start = experiment.starting_params(c, net)
    arrays = net.to_arrays(start)
    depth = len(arrays) // 2
    ws = [torch.tensor(arrays[f"w{i + 1}"], requires_grad=True) for i in range(depth)]
    bs = [torch.tensor(arrays[f"b{i + 1}"], requires_grad=True) for i in range(depth)]
    params = [p for pair in zip(ws, bs, strict=True) for p in pair]
    x = torch.tensor(data.train.x)
    labels = np.asarray(data.train.labels)
    if c.output == "softmax":
        y = torch.tensor(np.eye(ws[-1].shape[1])[labels])
    else:
        y = torch.tensor(labels.astype(np.float64)[:, None])

    def data_loss(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        a = xb
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            a = a @ w + b
            if i < depth - 1:
                a = torch.relu(a)
        out = torch.softmax(a, dim=1) if c.output == "softmax" else a
        return torch.mean((yb - out) ** 2)

    opt = torch_optimizer(c.optimizer, c.optimizer_params, params, c.lr)
    losses = []
    n = x.shape[0]
    for _ in range(c.epochs):
        for lo in range(0, n, c.batch_size):
            opt.zero_grad()
            loss = data_loss(x[lo : lo + c.batch_size], y[lo : lo + c.batch_size])
            if c.regularizer == "l2":
                loss = loss + c.reg_scale * sum(torch.sum(w * w) for w in ws) / 2.0
            loss.backward()
            if c.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, c.clip_norm, foreach=False)
            if c.clip_value is not None:
                torch.nn.utils.clip_grad_value_(params, c.clip_value, foreach=False)
            opt.step()
        with torch.no_grad():
            losses.append(float(data_loss(x, y)))
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
    path = Path(__file__).with_name("torch_runs.json")
    text = json.dumps(out, indent=1)
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m[1]) + "]", text)
    path.write_text(text + "\n")
    print(f"wrote {path} ({len(cases)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()
