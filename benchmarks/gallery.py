"""Regenerate the pictures the README shows, with the same commands a user types.

    python benchmarks/gallery.py                # writes benchmarks/figures/*.png (and *.gif)
    python benchmarks/gallery.py spiral circle  # only the pictures of these groups

Each picture comes from a real run: `nnopt train`, `nnopt compare` and `nnopt plot-lr` into a temporary
runs root (and `nnopt lr-find`), then the PNG is copied here under a stable name.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnopt_cli import config  # noqa: E402
from nnopt_cli.core import quadratic  # noqa: E402
from nnopt_cli.figures import plots  # noqa: E402

OUT = ROOT / "benchmarks" / "figures"


def nnopt(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "nnopt_cli", *args], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )


def newest(root: Path) -> Path:
    return max((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)


def adamw_pair(runs: Path) -> None:
    """adamw.yaml's boundary beside adam.yaml with L2 at the same scale (the README's AdamW paragraph)."""
    for name, args in (
        ("adamw", ["configs/adamw.yaml"]),
        (
            "adam_l2",
            ["configs/adam.yaml", "--set", "regularizer.type=l2", "--set", "regularizer.scale=0.03"],
        ),
    ):
        nnopt("train", *args, "--set", f"name={name}", "--runs-root", str(runs / name), "--quiet")
        shutil.copy(newest(runs / name) / "boundary.png", OUT / f"{name}_boundary.png")


# the README's commands for the Playground's sets, as it spells them (tests/test_readme.py checks that it
# does, and the numbers it states)
_SPLIT = ("--set", "data.permute_seed=0", "--set", "data.test_size=0.25")
CIRCLE = [
    *("train", "configs/adam.yaml", "--set", "data.name=circle", "--set", "data.noise=0.1", *_SPLIT),
    *("--set", "name=circle"),
]
SPIRAL = [
    *("train", "configs/adam.yaml", "--set", "data.name=spiral", "--set", "model.hidden=[16,16]"),
    *("--set", "model.activation=tanh", "--set", "train.epochs=1500", "--set", "optimizer.lr=0.003", *_SPLIT),
    *("--set", "name=spiral"),
]
GROUPS = (
    *("adamw", "runs", "compare", "iris", "sweep", "circle", "spiral", "plot-lr", "quadratic", "lr-find"),
    *("overlay", "surface", "compare-surface", "animate", "layers"),
)
# the README's comparison of paths on Rosenbrock's surface, entries with settings of their own
COMPARE_SURFACE = [
    *("compare", "sgd:lr=0.001", "sgdm:lr=0.004,beta=0.9", "momentum:lr=0.0005", "adam:lr=0.1"),
    *("--config", "configs/rosenbrock.yaml"),
]
# the README's surface pictures: the command of each, as it spells them (tests/test_readme.py checks that it
# does), and the PNG its paths.png becomes
SURFACES = {
    "valley_paths": ["train", "configs/valley.yaml"],
    "valley_sgdm_paths": ["train", "configs/valley.yaml", "--set", "optimizer.name=sgdm"],
    "rosenbrock_paths": ["train", "configs/rosenbrock.yaml"],
}
# the README's per-layer statistics: sigmoid units at a rate that pushes them into their flat parts
LAYERS = [
    *("train", "configs/sgd.yaml", "--set", "model.activation=sigmoid", "--lr", "0.5", "--epochs", "40"),
    *("--set", "name=sigmoid"),
]
# the README's lr-find commands (tests/test_readme.py checks that it spells them)
LR_FIND = ["lr-find", "configs/l2.yaml"]
LR_FIND_GRID = ["lr-find", "configs/l2.yaml", "--grid", "optimizer.name=sgd,sgdm,adam"]
# the README's overlay: configs/l2.yaml at three rates for 300 epochs, the slowest resumed to 900
OVERLAY_RATES = ("0.005", "0.02", "0.08")
OVERLAY_EPOCHS, OVERLAY_RESUMED = "300", "900"
# the README's animations (the tests of --animate check that it spells them): the boundary, and a path on
# a surface drawn as it goes (sgd's zig-zag across the valley)
ANIMATE = ["train", "configs/l2.yaml", "--animate"]
ANIMATE_PATH = ["train", "configs/valley.yaml", "--animate"]


def main(only: list[str]) -> None:
    unknown = set(only) - set(GROUPS)
    if unknown:
        sys.exit(f"unknown groups {sorted(unknown)}; known: {', '.join(GROUPS)}")
    wanted = set(only or GROUPS)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        if "adamw" in wanted:
            adamw_pair(runs)
        for name in ("sgd", "l2", "ema") if "runs" in wanted else ():
            nnopt("train", f"configs/{name}.yaml", "--runs-root", str(runs / name), "--quiet")
            folder = newest(runs / name)
            shutil.copy(folder / "boundary.png", OUT / f"{name}_boundary.png")
            shutil.copy(folder / "loss.png", OUT / f"{name}_loss.png")
        if "compare" in wanted:
            nnopt(
                "compare",
                "sgd",
                "sgdm",
                "adagrad",
                "rmsprop",
                "adam",
                "--runs-root",
                str(runs / "c"),
                "--quiet",
            )
            folder = newest(runs / "c")
            shutil.copy(folder / "compare.png", OUT / "compare.png")
            shutil.copy(folder / "boundaries.png", OUT / "compare_boundaries.png")
        if "iris" in wanted:
            iris = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs" / "iris").glob("*.yaml"))
            nnopt("compare", *iris, "--entry-pictures", "--runs-root", str(runs / "iris"), "--quiet")
            folder = newest(runs / "iris")
            shutil.copy(folder / "compare.png", OUT / "iris_compare.png")
            shutil.copy(folder / "boundaries.png", OUT / "iris_boundaries.png")
            shutil.copy(folder / "sgd" / "confusion.png", OUT / "iris_sgd_confusion.png")
        if "sweep" in wanted:
            nnopt(
                "sweep",
                "configs/l2.yaml",
                "--grid",
                "optimizer.name=sgd,sgdm,adam",
                "--grid",
                "optimizer.lr=0.001,0.003,0.01,0.03,0.1,0.3,1,3",
                "--seeds",
                "5",
                "--runs-root",
                str(runs / "sweep"),
                "--quiet",
            )
            folder = newest(runs / "sweep")
            for name in ("heatmap", "sensitivity", "curves"):
                shutil.copy(folder / f"{name}.png", OUT / f"sweep_{name}.png")
        for name, command in (("circle", CIRCLE), ("spiral", SPIRAL)):
            if name in wanted:
                nnopt(*command, "--runs-root", str(runs / name), "--quiet")
                folder = newest(runs / name)
                shutil.copy(folder / "boundary.png", OUT / f"{name}_boundary.png")
        if "plot-lr" in wanted:
            nnopt(
                "plot-lr",
                "--type",
                "polynomial",
                "--type",
                "polynomial",
                "--cycle",
                "--out",
                str(OUT / "lr_polynomial.png"),
            )
            nnopt(
                "plot-lr",
                "--type",
                "exponential",
                "--type",
                "exponential",
                "--staircase",
                "--type",
                "cosine",
                "--decay-steps",
                "200",
                "--type",
                "piecewise_constant",
                "--boundaries",
                "50,120",
                "--values",
                "0.5,0.2,0.05",
                "--out",
                str(OUT / "lr_schedules.png"),
            )
        if "lr-find" in wanted:
            for name, command in (("lr_find", LR_FIND), ("lr_find_grid", LR_FIND_GRID)):
                nnopt(*command, "--runs-root", str(runs / name))
                shutil.copy(newest(runs / name) / "lr_find.png", OUT / f"{name}.png")
        if "overlay" in wanted:
            overlay(runs / "overlay")
        if "compare-surface" in wanted:
            nnopt(*COMPARE_SURFACE, "--runs-root", str(runs / "cs"), "--quiet")
            shutil.copy(newest(runs / "cs") / "compare.png", OUT / "compare_rosenbrock.png")
        for name, command in SURFACES.items() if "surface" in wanted else ():
            nnopt(*command, "--runs-root", str(runs / name), "--quiet")
            shutil.copy(newest(runs / name) / "paths.png", OUT / f"{name}.png")
        if "animate" in wanted:
            nnopt(*ANIMATE, "--runs-root", str(runs / "animate"), "--quiet")
            shutil.copy(newest(runs / "animate") / "boundary.gif", OUT / "l2_boundary.gif")
            nnopt(*ANIMATE_PATH, "--runs-root", str(runs / "animate_path"), "--quiet")
            shutil.copy(newest(runs / "animate_path") / "paths.gif", OUT / "valley_paths.gif")
        if "layers" in wanted:
            nnopt(*LAYERS, "--runs-root", str(runs / "layers"), "--quiet")
            shutil.copy(newest(runs / "layers") / "layers.png", OUT / "layers.png")
    if "quadratic" in wanted:
        quadratic_three()
    for path in sorted([*OUT.glob("*.png"), *OUT.glob("*.gif")]):
        print(path.relative_to(ROOT))


def overlay(root: Path) -> None:
    """overlay.png: the same config at three rates, and the slowest resumed for longer."""
    made = []
    for lr in OVERLAY_RATES:
        nnopt(
            "train",
            "configs/l2.yaml",
            "--lr",
            lr,
            "--epochs",
            OVERLAY_EPOCHS,
            "--runs-root",
            str(root),
            "--quiet",
        )
        made.append(newest(root))
    nnopt("train", "--resume", str(made[0]), "--epochs", OVERLAY_RESUMED, "--runs-root", str(root), "--quiet")
    made.append(newest(root))
    nnopt("overlay", *map(str, made), "--runs-root", str(root / "out"))
    shutil.copy(newest(root / "out") / "overlay.png", OUT / "overlay.png")


def quadratic_three() -> None:
    runs_ = []
    for lr in (0.2, 1.0, 0.0001):
        c = config.load(ROOT / "configs" / "quadratic.yaml", [f"optimizer.lr={lr}"])
        h = quadratic.train(c)
        runs_.append((f"sgd lr={lr:g}", np.asarray(h.step), np.asarray(h.w), np.asarray(h.loss)))
    plots.quadratic(
        OUT / "quadratic_three.png",
        runs_,
        w0=5.0,
        title="(w + 1)² from w0 = 5: lr 0.2 converges, lr 1.0 oscillates forever, lr 0.0001 crawls",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
