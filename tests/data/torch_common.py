"""What the scripts that make the PyTorch reference files share: nnopt's network and data as torch tensors,
nnopt's optimizers as torch.optim rules, and the JSON file they write.

nnopt supplies only what is not under test (the training rows in their order, the starting weights of the
config's seed); torch does the arithmetic. Imported by the make_torch_*.py scripts beside it, which run where
torch is installed (`PYTHONPATH=. python tests/data/make_torch_runs.py`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnopt_cli.config import Config
from nnopt_cli.experiments import experiment


def torch_optimizer(name: str, hp: dict, params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """torch.optim's rule for nnopt's optimizer `name` and settings `hp` (those torch has as they are)."""
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


ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


@dataclass
class Network:
    """A config's dense network in torch: its weights and biases (leaf tensors, starting as nnopt starts
    them), its hidden activation and output, the training rows and their targets (one-hot under a softmax
    output)."""

    ws: list[torch.Tensor]
    bs: list[torch.Tensor]
    activation: str
    output: str
    x: torch.Tensor
    y: torch.Tensor

    @property
    def params(self) -> list[torch.Tensor]:
        """w1, b1, w2, b2, ...: the order nnopt's params.npz has them in."""
        return [p for pair in zip(self.ws, self.bs, strict=True) for p in pair]

    def forward(self, xb: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The outputs for the rows xb, and each hidden layer's z (before its activation)."""
        act = ACTIVATIONS[self.activation]
        a, zs = xb, []
        for i, (w, b) in enumerate(zip(self.ws, self.bs, strict=True)):
            z = a @ w + b
            if i < len(self.ws) - 1:
                zs.append(z)
                a = act(z)
            else:
                a = z
        return (torch.softmax(a, dim=1) if self.output == "softmax" else a), zs

    def data_loss(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """The mean squared error of the rows xb against their targets yb."""
        out, _ = self.forward(xb)
        return torch.mean((yb - out) ** 2)


def network(c: Config) -> Network:
    data = experiment.load_data(c)
    net, _ = experiment.network(c, data.train)
    arrays = net.to_arrays(experiment.starting_params(c, net))
    depth = len(arrays) // 2
    ws = [torch.tensor(arrays[f"w{i + 1}"], requires_grad=True) for i in range(depth)]
    bs = [torch.tensor(arrays[f"b{i + 1}"], requires_grad=True) for i in range(depth)]
    labels = np.asarray(data.train.labels)
    if c.output == "softmax":
        y = torch.tensor(np.eye(ws[-1].shape[1])[labels])
    else:
        y = torch.tensor(labels.astype(np.float64)[:, None])
    return Network(ws, bs, c.activation, c.output, torch.tensor(data.train.x), y)


def write_reference(name: str, out: dict[str, Any]) -> None:
    """tests/data/<name>: `out` as JSON, each list of numbers on one line (readable diffs, a third of the
    size)."""
    path = Path(__file__).with_name(name)
    text = json.dumps(out, indent=1)
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m[1]) + "]", text)
    path.write_text(text + "\n")
    print(f"wrote {path} ({len(out['cases'])} cases, torch {torch.__version__})")
