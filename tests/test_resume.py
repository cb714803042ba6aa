"""Resuming: a run stopped after e epochs and continued to E ends bit for bit where one run of E epochs ends,
in memory and through its folder's files; folders and changes that cannot keep that promise are refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnopt_cli import config
from nnopt_cli.core import loop
from nnopt_cli.experiments import experiment, resume
from nnopt_cli.store import runs

# every per-step dependence at once: a schedule of the global step, a weight penalty, the moving average
# (whose factors ramp with the step) and a new batch order every epoch
COMMON = (
    "schedule.type=exponential",
    "schedule.decay_steps=15",
    "schedule.decay_rate=0.8",
    "regularizer.type=l2",
    "ema.decay=0.9",
    "data.shuffle=true",
    "seed=3",
)
RATES = {
    "sgd": 0.05,
    "sgdm": 0.1,
    "momentum": 0.01,
    "adagrad": 0.1,
    "rmsprop": 0.005,
    "adam": 0.01,
    "adamw": 0.01,
    "nadam": 0.01,
    "adamax": 0.01,
    "adadelta": 1.0,
}
IRIS = (
    "data.name=iris",
    "data.permute_seed=116",
    "data.test_size=30",
    "model.hidden=[]",
    "model.output=softmax",
)


def cfg(*sets: str, epochs: int) -> config.Config:
    return config.from_dict({}, [*COMMON, *sets, f"train.epochs={epochs}"], name="run")


def optimizer(name: str) -> tuple[str, ...]:
    return (f"optimizer.name={name}", f"optimizer.lr={RATES[name]}")


def train(c: config.Config, **kwargs: object) -> loop.History:
    return experiment.train(c, **kwargs)  # type: ignore[arg-type]


def continued(c: config.Config, part: loop.History) -> loop.History:
    """`part` continued in memory to c.epochs."""
    (group,) = experiment.prepare([c])
    start = loop.Start(group.prepared.net.from_arrays(part.params), part.checkpoint, part)  # type: ignore[arg-type]
    (h,) = loop.run([c], group.prepared, resume=[start])
    return h


def assert_same_run(a: loop.History, b: loop.History) -> None:
    """Final weights and moving averages, every metrics column, rates and batch losses, bit for bit."""
    assert a.params.keys() == b.params.keys()
    for key in a.params:
        assert np.array_equal(a.params[key], b.params[key]), key
    assert (a.params_ema is None) == (b.params_ema is None)
    if a.params_ema is not None and b.params_ema is not None:
        for key in a.params_ema:
            assert np.array_equal(a.params_ema[key], b.params_ema[key]), key
    columns_a, columns_b = a.metrics_columns(), b.metrics_columns()
    assert columns_a.keys() == columns_b.keys()
    for key in columns_a:
        assert np.array_equal(columns_a[key], columns_b[key]), key
    assert np.array_equal(a.lr_trace, b.lr_trace)
    assert np.array_equal(a.batch_loss, b.batch_loss)
    assert len(a.batch_loss) == a.steps_done
    assert a.start == b.start and a.status == b.status
    assert len(a.layer_stats) == a.epochs_done  # per-layer statistics: every epoch's, bit for bit
    assert np.array_equal(np.stack(a.layer_stats), np.stack(b.layer_stats), equal_nan=True)


def write_folder(root: Path, h: loop.History) -> Path:
    folder = runs.make_folder(root, h.config.name)
    runs.write_start(folder, h.config)
    runs.write_data(folder, h)
    runs.write_summary(folder, h, started=0.0, clock=lambda: 0.0)
    return folder


def resumed_from_folder(folder: Path, sets: tuple[str, ...] = ()) -> loop.History:
    c, start = resume.load(folder, sets)
    group = resume.prepare(c, start)
    (h,) = loop.run([c], group.prepared, resume=[start])
    return h


@pytest.mark.parametrize("name", list(RATES))
def test_a_resumed_run_ends_where_an_uninterrupted_one_ends(name: str) -> None:
    clipped = ("optimizer.clip_norm=0.5",) if name in ("sgd", "adamw") else ()
    whole = train(cfg(*optimizer(name), *clipped, epochs=7))
    part = train(cfg(*optimizer(name), *clipped, epochs=3))
    assert part.checkpoint is not None and part.checkpoint.epochs == 3
    h = continued(cfg(*optimizer(name), *clipped, epochs=7), part)
    assert_same_run(whole, h)
    assert h.resumed_at_epoch == 3 and h.epoch == list(range(1, 8))


@pytest.mark.parametrize(
    "name", ["sgd", "sgdm", "adagrad", "rmsprop", "adam", "adamw", "nadam", "adamax", "adadelta"]
)
def test_a_run_resumed_from_its_folder_writes_the_same_files(tmp_path: Path, name: str) -> None:
    clipped = ("optimizer.clip_value=0.05",) if name in ("nadam", "adadelta") else ()
    whole = train(cfg(*optimizer(name), *clipped, epochs=6))
    part = train(cfg(*optimizer(name), *clipped, epochs=2))
    folder = write_folder(tmp_path / "part", part)
    h = resumed_from_folder(folder, ("train.epochs=6",))
    assert_same_run(whole, h)
    a, b = write_folder(tmp_path / "whole", whole), write_folder(tmp_path / "resumed", h)
    for file in ("metrics.csv", "lr.csv", "trace.csv", "layers.csv", "config.yaml"):
        assert (a / file).read_text() == (b / file).read_text(), file
    for file in ("params.npz", "params_ema.npz", "state.npz"):
        with np.load(a / file) as x, np.load(b / file) as y:
            assert x.files == y.files
            for key in x.files:
                assert np.array_equal(x[key], y[key]), (file, key)
    summary_a = json.loads((a / "summary.json").read_text())
    summary_b = json.loads((b / "summary.json").read_text())
    assert summary_b.pop("resumed_from") == str(folder.resolve())
    assert summary_b.pop("resumed_at_epoch") == 2
    for summary in (summary_a, summary_b):  # the loop's time differs
        summary.pop("train_seconds")
    assert summary_a == summary_b


def test_a_run_with_a_test_split_resumes_bit_for_bit(tmp_path: Path) -> None:
    sets = (*IRIS, *optimizer("adam"))
    whole = train(cfg(*sets, epochs=8))
    assert whole.with_test and whole.test_loss
    folder = write_folder(tmp_path, train(cfg(*sets, epochs=5)))
    assert_same_run(whole, resumed_from_folder(folder, ("train.epochs=8",)))


def test_an_interrupted_run_resumes_from_its_last_whole_epoch(tmp_path: Path) -> None:
    # stopped during epoch 4 (10 updates an epoch): the folder keeps epoch 3, its state and its generator
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) >= 35

    c = cfg(*optimizer("adam"), epochs=9)
    part = train(c, should_stop=stop)
    assert part.status == "interrupted" and part.epochs_done == 3 and len(part.batch_loss) == 30
    folder = write_folder(tmp_path, part)
    h = resumed_from_folder(folder)  # train.epochs stays the folder's 9
    assert_same_run(train(c), h)


def test_a_run_stopped_before_its_first_epoch_ended_resumes_from_the_start(tmp_path: Path) -> None:
    c = cfg(*optimizer("rmsprop"), epochs=4)
    part = train(c, should_stop=lambda: True)
    assert part.epochs_done == 0 and part.steps_done == 0
    folder = write_folder(tmp_path, part)
    assert (folder / "trace.csv").read_text() == "step,epoch,lr,batch_loss\n"
    assert_same_run(train(c), resumed_from_folder(folder))


def test_runs_resumed_together_equal_each_resumed_alone() -> None:
    configs = [cfg(*optimizer(name), epochs=5) for name in ("adam", "sgd", "adam")]
    configs[2] = configs[2].with_overrides(["seed=4", "regularizer.type=l1"])
    parts = [train(c.with_overrides(["train.epochs=2"])) for c in configs]
    (group,) = experiment.prepare(configs)
    net = group.prepared.net
    starts = [loop.Start(net.from_arrays(p.params), p.checkpoint, p) for p in parts]  # type: ignore[arg-type]
    together = loop.run(configs, group.prepared, resume=starts)
    for c, h in zip(configs, together, strict=True):
        assert_same_run(train(c), h)


def test_resuming_to_the_epochs_done_changes_nothing(tmp_path: Path) -> None:
    c = cfg(*optimizer("sgdm"), epochs=3)
    h = train(c)
    again = resumed_from_folder(write_folder(tmp_path, h))
    assert_same_run(h, again)
    assert again.epochs_done == 3 and again.status == "completed"


@pytest.mark.parametrize(
    ("sets", "key"),
    [
        (("optimizer.name=adam",), "optimizer.name"),
        (("optimizer.lr=0.5",), "optimizer.lr"),
        (("model.hidden=[4]",), "model.hidden"),
        (("data.name=iris",), "data.name"),
        (("data.shuffle=false",), "data.shuffle"),
        (("seed=9",), "seed"),
    ],
)
def test_a_change_that_breaks_the_promise_is_refused(tmp_path: Path, sets: tuple[str, ...], key: str) -> None:
    folder = write_folder(tmp_path, train(cfg(*optimizer("sgd"), epochs=2)))
    with pytest.raises(resume.ResumeError) as info:
        resume.load(folder, ("train.epochs=4", *sets))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{key}: a resumed run continues ")
    assert "train.epochs, train.log_every, name, plot.*" in message


def test_the_allowed_keys_may_change(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, train(cfg(*optimizer("sgd"), epochs=2)))
    sets = (
        "train.epochs=3",
        "train.log_every=1",
        "name=longer",
        "plot.features=[x2, x1]",
        "optimizer.lr=0.05",
    )
    c, start = resume.load(folder, sets)  # optimizer.lr=0.05 is the folder's own value: no change
    assert (c.epochs, c.log_every, c.name, c.plot_features) == (3, 1, "longer", ("x2", "x1"))
    assert start.checkpoint.epochs == 2 and start.source == str(folder.resolve())


def refused(folder: Path, match: str, sets: tuple[str, ...] = ()) -> None:
    """resume.load refuses the folder with one line matching `match`."""
    with pytest.raises(resume.ResumeError, match=match) as info:
        resume.load(folder, sets)
    assert "\n" not in str(info.value)


def test_fewer_epochs_than_done_are_refused(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, train(cfg(*optimizer("sgd"), epochs=4)))
    refused(
        folder, r"^train.epochs 3: .* has done 4 epochs already; resume to 4 or more$", ("train.epochs=3",)
    )


def test_folders_that_cannot_be_continued_are_refused(tmp_path: Path) -> None:
    diverged = train(cfg("optimizer.lr=50", epochs=30))
    assert diverged.status == "diverged"
    folder = write_folder(tmp_path / "diverged", diverged)
    assert (folder / "state.npz").is_file()  # written all the same
    refused(folder, r"diverged at epoch \d+ and its weights are not finite")

    old = write_folder(tmp_path / "old", train(cfg(epochs=2)))
    (old / "state.npz").unlink()
    refused(old, r"no state.npz")

    cut = write_folder(tmp_path / "cut", train(cfg(epochs=2)))
    (cut / "summary.json").unlink()
    refused(cut, r"incomplete, no summary.json")

    refused(tmp_path / "nowhere", r"no such run folder")

    parent = tmp_path / "compare"
    write_folder(parent, train(cfg(epochs=1)))
    refused(parent, r"a folder of run folders .*resume one of them, e.g. ")


def test_a_state_without_the_optimizers_arrays_is_refused(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, train(cfg(*optimizer("adam"), epochs=2)))
    with np.load(folder / "state.npz") as saved:
        arrays = {k: saved[k] for k in saved.files if k != "v"}
    runs.write_npz(folder / "state.npz", arrays)
    refused(folder, r"state.npz: no array 'v' \(adam keeps t, m, v\)$")


def test_the_quadratic_toy_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    folder.mkdir()
    runs.write_start(folder, config.from_dict({"model": {"type": "quadratic"}}))
    refused(folder, "quadratic toy")


def test_state_npz_holds_what_continuing_needs(tmp_path: Path) -> None:
    h = train(cfg(*optimizer("adam"), epochs=2))
    folder = write_folder(tmp_path, h)
    with np.load(folder / "state.npz") as saved:
        assert sorted(saved.files) == sorted(
            ["step", "epochs_done", "optimizer", "t", "m", "v", "shadow", "rng_state"]
        )
        assert int(saved["step"]) == int(saved["t"]) == 20 and int(saved["epochs_done"]) == 2
        assert saved["m"].shape == saved["shadow"].shape == (45,)
        state = json.loads(str(saved["rng_state"]))
    rng = np.random.default_rng([3, 1])  # the loop's shuffling generator for seed 3, after two epochs
    rng.permutation(300), rng.permutation(300)
    assert state == rng.bit_generator.state


def test_a_folder_whose_files_cannot_be_read_back_is_refused(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, train(cfg(*optimizer("sgd"), epochs=2)))
    trace = folder / "trace.csv"
    kept = trace.read_text()
    trace.unlink()
    refused(folder, r"no trace.csv \(the batch loss of every update")
    trace.write_text(kept)
    metrics = folder / "metrics.csv"
    lines = metrics.read_text().splitlines()
    metrics.write_text("\n".join([lines[0], lines[1].replace(",", ",x", 1)]) + "\n")
    refused(folder, r"metrics.csv, line 2: step 'x\d+' is not an integer$")
