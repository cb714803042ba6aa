"""What the pictures say: labels of the network and the head, and figures drawn from arrays alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnopt_cli import config, experiment, loop, plots, report


def cfg(*sets: str) -> config.Config:
    return config.from_dict({}, list(sets))


def test_network_and_score_labels_follow_the_head() -> None:
    assert report.describe_network(cfg()) == "hidden 11 relu, linear output, mse"
    assert report.describe_network(cfg("model.hidden=[]", "model.output=softmax")).startswith(
        "hidden no hidden layer"
    )
    assert report.score_label(cfg()) == "network output ŷ"
    assert "sigmoid" in report.score_label(cfg("loss=bce"))
    assert "P(y_c = 1)" in report.score_label(cfg("loss=ce"))


def test_boundary_grid_is_the_probability_of_class_1_for_two_softmax_outputs() -> None:
    c = cfg("model.hidden=[]", "model.output=softmax", "train.epochs=3")
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    score, ema_score = experiment.boundary(h, group.prepared)
    xx, _, points = plots.decision_grid()
    assert score.shape == xx.shape and ema_score is None
    # no hidden layer, two outputs: P(class 1) = sigmoid(z1 − z0), z = x·w1 + b1
    w, b = h.params["w1"], h.params["b1"]
    z = points @ w + b
    expected = 1 / (1 + np.exp(-(z[:, 1] - z[:, 0])))
    np.testing.assert_allclose(score.ravel(), expected, rtol=1e-12, atol=1e-15)


def test_a_runs_figures_come_from_its_history_and_arrays(tmp_path: Path) -> None:
    c = cfg("train.epochs=2", "ema.decay=0.9")
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    score, ema_score = experiment.boundary(h, group.prepared)
    view = report.BoundaryView(score, ema_score, group.prepared.x, group.prepared.labels)
    for fn, args in report.run_jobs(tmp_path, h, view):
        fn(*args)
    for name in ("loss.png", "lr.png", "boundary.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
