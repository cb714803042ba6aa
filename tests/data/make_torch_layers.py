"""Write torch_layers.json: per-layer statistics of whole training runs computed by torch, for
tests/test_layerstats.py to compare with layers.csv's.

As make_torch_runs.py (whose optimizers this reuses): each case is an nnopt config (a file of configs/ plus
--set overrides), and nnopt supplies only the training rows in their order and the starting weights. torch
does the rest in float64: the network (dense layers, relu/sigmoid/tanh, linear or softmax output, MSE), the
weight penalty in the loss (l2: scale·Σw²/2 over the weights), autograd's gradient, clip_grad_norm_, the
torch.optim rule. Recorded per epoch and layer l (the layer of w_l):

    weight_norm         torch.linalg.norm(w_l) after the epoch
    grad_norm           the mean over the epoch's updates of torch.linalg.norm(w_l.grad), the gradient of the
                        batch's loss with its penalty, read after backward() and before clipping
    update_ratio        ‖w_l(end) − w_l(start)‖ / ‖w_l(start)‖ over the epoch
    dead_fraction       hidden relu layers: the share of units with relu(z) == 0 on every training row
    saturated_fraction  hidden sigmoid/tanh layers: the share of units with |z| > 4 on at least 95% of them
                        (null where a fraction does not apply)

Run from the repository root where torch, numpy and pyyaml are installed (CPU is enough):

    PYTHONPATH=. python tests/data/make_torch_layers.py
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch_common import network, torch_optimizer, write_reference

from nnopt_cli import config as config_mod

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 20

# (case id, config file under configs/, --set overrides)
CASES: list[tuple[str, str, list[str]]] = [
    # the course's 2-11-1 relu network with its l2 penalty and sgd
    ("dot-l2-sgd", "l2.yaml", []),
    # iris through a hidden layer of 8 relu units, adam: some units die
    (
        "iris-hidden-adam",
        "iris/adam.yaml",
        ["model.hidden=8", "model.activation=relu", "optimizer.eps=1e-7", "optimizer.lr=0.01"],
    ),
    # sigmoid units at a large rate: most of them saturate within a few epochs
    ("dot-sigmoid-saturating", "sgd.yaml", ["model.activation=sigmoid", "optimizer.lr=0.5"]),
    # two relu layers at a large rate: most units of the second die, some of the first
    ("dot-relu-dying", "sgd.yaml", ["model.hidden=[8, 8]", "optimizer.lr=0.1"]),
    # tanh with the penalty and clipping: grad_norm is the norm before clipping
    (
        "dot-tanh-l2-clipped",
        "l2.yaml",
        ["model.activation=tanh", "optimizer.clip_norm=0.5", "optimizer.lr=0.05"],
    ),
]


def run_case(path: str, sets: list[str]) -> dict:
    c = config_mod.load(ROOT / "configs" / path, [*sets, f"train.epochs={EPOCHS}"])
    assert c.schedule == "constant" and c.lr_decay == 0.0 and not c.shuffle and c.loss == "mse"
    assert c.output in ("linear", "softmax") and c.regularizer in ("none", "l2") and c.ema_decay is None
    assert c.clip_value is None
    net = network(c)
    ws, params, x, y = net.ws, net.params, net.x, net.y
    depth = len(ws)

    opt = torch_optimizer(c.optimizer, c.optimizer_params, params, c.lr)
    n = x.shape[0]
    epochs = []
    for _ in range(c.epochs):
        start = [w.detach().clone() for w in ws]
        sums = [0.0] * depth
        updates = 0
        for lo in range(0, n, c.batch_size):
            opt.zero_grad()
            out, _ = net.forward(x[lo : lo + c.batch_size])
            loss = torch.mean((y[lo : lo + c.batch_size] - out) ** 2)
            if c.regularizer == "l2":
                loss = loss + c.reg_scale * sum(torch.sum(w * w) for w in ws) / 2.0
            loss.backward()
            for i, w in enumerate(ws):
                assert w.grad is not None
                sums[i] += float(torch.linalg.norm(w.grad))
            updates += 1
            if c.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, c.clip_norm, foreach=False)
            opt.step()
        rows = []
        with torch.no_grad():
            _, zs = net.forward(x)
            for i, w in enumerate(ws):
                dead = saturated = None
                if i < depth - 1:
                    z = zs[i]
                    if c.activation == "relu":
                        dead = float(torch.all(torch.relu(z) == 0, dim=0).sum()) / z.shape[1]
                    else:
                        counts = torch.sum(torch.abs(z) > 4.0, dim=0)
                        saturated = float(torch.sum(100 * counts >= 95 * n)) / z.shape[1]
                rows.append(
                    [
                        float(torch.linalg.norm(w)),
                        sums[i] / updates,
                        float(torch.linalg.norm(w - start[i]) / torch.linalg.norm(start[i])),
                        dead,
                        saturated,
                    ]
                )
        epochs.append(rows)
    return {"config": path, "sets": sets, "epochs": c.epochs, "torch": type(opt).__name__, "layers": epochs}


def main() -> None:
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    cases = []
    for case_id, path, sets in CASES:
        cases.append({"id": case_id, **run_case(path, sets)})
        last = cases[-1]["layers"][-1]
        print(case_id, [[None if v is None else round(v, 4) for v in row] for row in last])
    out = {
        "torch_version": torch.__version__,
        "note": "layers[e][l] = weight_norm, grad_norm, update_ratio, dead_fraction, saturated_fraction of "
        "layer l + 1 after epoch e + 1 (null: does not apply)",
        "cases": cases,
    }
    write_reference("torch_layers.json", out)


if __name__ == "__main__":
    main()
