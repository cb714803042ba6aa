"""What the pictures say: labels of the network and the head, and figures drawn from arrays alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnopt_cli import config
from nnopt_cli.core import loop
from nnopt_cli.experiments import experiment
from nnopt_cli.figures import report

IRIS = ("data.name=iris", "data.permute_seed=116", "data.test_size=30", "model.hidden=[]")


def cfg(*sets: str) -> config.Config:
    return config.from_dict({}, list(sets))


def test_network_and_score_labels_follow_the_head() -> None:
    assert report.describe_network(cfg()) == "hidden 11 relu, linear output, mse"
    assert report.describe_network(cfg("model.hidden=[]", "model.output=softmax")) == (
        "no hidden layer, softmax output, mse"
    )
    assert report.score_label(cfg()) == "network output ŷ"
    assert "sigmoid" in report.score_label(cfg("loss=bce"))
    assert "P(y_c = 1)" in report.score_label(cfg("loss=ce"))


def test_boundary_grid_is_the_probability_of_class_1_for_two_softmax_outputs() -> None:
    c = cfg("model.hidden=[]", "model.output=softmax", "train.epochs=3")
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    where = experiment.plane(c, group.prepared)
    assert where is not None and where.features == (0, 1) and where.note == ""
    score, ema_score = experiment.scores(h, group.prepared, where)
    assert score.shape == (1, len(where.ys), len(where.xs)) and ema_score is None
    # no hidden layer, two outputs: P(class 1) = sigmoid(z1 − z0), z = x·w1 + b1; row i of the grid is ys[i]
    xx, yy = np.meshgrid(where.xs, where.ys)
    z = np.column_stack([xx.ravel(), yy.ravel()]) @ h.params["w1"] + h.params["b1"]
    expected = 1 / (1 + np.exp(-(z[:, 1] - z[:, 0])))
    np.testing.assert_allclose(score.ravel(), expected, rtol=1e-12, atol=1e-15)


def test_the_plane_spans_the_data_and_holds_the_other_inputs_at_their_mean() -> None:
    c = cfg(*IRIS, "model.output=softmax", "train.epochs=1")
    (group,) = experiment.prepare([c])
    where = experiment.plane(c, group.prepared)
    train = group.prepared.train
    assert where is not None
    # the two inputs with the largest spread over the training rows: sepal_length and petal_length
    spread = train.x.std(axis=0)
    assert set(where.features) == set(np.argsort(-spread)[:2].tolist()) == {0, 2}
    assert where.names == ("sepal_length", "petal_length")
    np.testing.assert_array_equal(where.held, train.x.mean(axis=0))
    assert "sepal_width" in where.note and "petal_width" in where.note
    every = np.concatenate([train.x, group.prepared.test.x])  # type: ignore[union-attr]
    assert where.xs[0] < every[:, 0].min() and where.xs[-1] > every[:, 0].max()
    chosen = experiment.plane(c.with_overrides(["plot.features=[petal_width, 1]"]), group.prepared)
    assert chosen is not None and chosen.features == (3, 1)
    with pytest.raises(experiment.SetupError, match="no input named 'petal'; did you mean"):
        experiment.plane(c.with_overrides(["plot.features=[petal, 1]"]), group.prepared)


def test_confusion_counts_true_against_predicted() -> None:
    c = cfg(*IRIS, "model.output=softmax", "train.epochs=2")
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    train_cm, test_cm = experiment.confusion(h, group.prepared)
    assert test_cm is not None
    assert train_cm.sum(axis=1).tolist() == np.bincount(group.prepared.train.labels, minlength=3).tolist()
    assert test_cm.sum(axis=1).tolist() == [11, 14, 5]  # the course's test rows, REFERENCE.md
    assert np.trace(train_cm) / 120 == pytest.approx(h.accuracy[-1], abs=1e-15)
    assert np.trace(test_cm) / 30 == pytest.approx(h.test_accuracy[-1], abs=1e-15)


@pytest.mark.parametrize(
    ("sets", "files"),
    [
        (("train.epochs=2", "ema.decay=0.9"), {"loss.png", "lr.png", "boundary.png", "layers.png"}),
        (
            (
                "data.name=iris",
                "data.test_size=0.2",
                "data.permute_seed=1",
                "model.hidden=[]",
                "model.output=softmax",
                "train.epochs=2",
            ),
            {"loss.png", "lr.png", "boundary.png", "confusion.png", "layers.png"},
        ),
        (
            ("optimizer.lr=80", "train.epochs=5"),
            {"loss.png", "lr.png", "boundary.png", "layers.png"},
        ),  # diverges
    ],
)
def test_a_runs_figures_come_from_its_history_and_arrays(tmp_path: Path, sets, files) -> None:
    c = cfg(*sets)
    (group,) = experiment.prepare([c])
    (h,) = loop.run([c], group.prepared)
    view = experiment.run_view(h, group.prepared)
    jobs = report.run_jobs(tmp_path, h, view)
    for job in jobs:
        job.fn(*job.args)
    assert {job.file.name for job in jobs} == files
    assert {p.name for p in tmp_path.iterdir()} == files
    for name in files:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_titles_do_not_repeat_the_name() -> None:
    assert report.titled("sgd", "sgd lr=0.005") == "sgd lr=0.005"
    assert report.titled("l2", "sgd lr=0.005, l2 scale=0.03") == "l2: sgd lr=0.005, l2 scale=0.03"
    assert report.titled("sgdm", "sgd lr=0.005") == "sgdm: sgd lr=0.005"


def test_one_epoch_is_said_in_the_singular() -> None:
    c = cfg("train.epochs=1")
    h = experiment.train(c)
    assert report._accuracy_text(h).endswith("after 1 epoch")


def test_curves_start_at_epoch_0_with_the_value_before_training() -> None:
    c = cfg("train.epochs=3")
    h = experiment.train(c)
    epochs, loss = report._series(h, "loss")
    assert list(epochs) == [0.0, 1.0, 2.0, 3.0]
    assert list(loss) == [h.start["loss"], *h.loss]


def test_loss_png_draws_each_mini_batchs_loss_faintly_under_the_epochs(tmp_path: Path, saved) -> None:
    # 300 rows in batches of 32: 10 updates an epoch; update i sits at epoch position (i + 1)/10, so each
    # epoch's last update is drawn at that epoch, where the per-epoch point is
    c = cfg("train.epochs=3", "regularizer.type=l2")
    h = experiment.train(c)
    report.draw_loss(tmp_path, h)
    ax = saved[0].axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    faint = lines[report.BATCH_LABEL]
    main = lines["loss (data loss + regularization)"]
    np.testing.assert_allclose(faint.get_xdata(), np.arange(1, 31) / 10)
    assert np.array_equal(faint.get_ydata(), h.batch_loss)
    assert faint.get_zorder() < main.get_zorder()
    assert faint.get_linewidth() < main.get_linewidth()
    assert faint.get_color() == report.BATCH_COLOR != main.get_color()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend.index("loss (data loss + regularization)") < legend.index(report.BATCH_LABEL)


def test_a_blow_up_is_drawn_up_to_where_the_axis_can_go(tmp_path: Path, saved) -> None:
    # sgd at lr 2 diverges in epoch 1: its batch losses climb to 1e271 and then NaN; the picture is drawn
    h = experiment.train(cfg("optimizer.lr=2", "regularizer.type=l2"))
    assert h.status == "diverged" and np.nanmax(h.batch_loss) > 1e200
    report.draw_loss(tmp_path, h)
    ax = saved[0].axes[0]
    low, high = ax.get_ylim()
    assert high <= 1e200 and low < h.start["loss"]
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
