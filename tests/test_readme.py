"""The README's promises: CI runs its test command, and the files it names exist."""

from __future__ import annotations

import csv
import importlib.util
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from nnopt_cli import metrics

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = [line.strip() for line in README.splitlines() if line.startswith("    ") and "pytest" in line]
    assert commands, "the README names its test command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[0] in ci


def test_readme_opens_with_the_install_and_train_command() -> None:
    first = next(line.strip() for line in README.splitlines() if line.startswith("    "))
    # in a virtual environment: a system Python may refuse `pip install` outside one
    assert (
        first
        == "python3 -m venv .venv && . .venv/bin/activate && pip install . && nnopt train configs/l2.yaml"
    )


def test_files_the_readme_names_exist() -> None:
    for path in set(re.findall(r"\b((?:configs|benchmarks|tests)/[\w./-]+\.(?:yaml|png|py|json))", README)):
        assert (ROOT / path).exists(), path


# ---------------------------------------------------------------------------------------------------------
# The README's numbers: every command it shows with a number (accuracy, loss, epochs, steps, a count) is run
# here as written, and the number checked as the README rounds it, so that the README and the code cannot
# drift apart. Runs are shared: the example configs' table trains its 80 runs (and the runs of the sentences
# around it) as one call, the way `nnopt compare --seeds` does, bit for bit `nnopt train` of each.


def section(title: str) -> str:
    """The README's text under a heading, up to the next heading of any level."""
    start = README.index(f"\n{title}\n") + len(title) + 2
    following = re.search(r"\n#+ ", README[start:])
    return README[start : start + following.start()] if following else README[start:]


def indented_command(prefix: str) -> str:
    """The README's one indented command line that starts with `prefix`."""
    found = [line.strip() for line in README.splitlines() if line.startswith(f"    {prefix}")]
    assert len(found) == 1, (prefix, found)
    return found[0]


def after(text: str, pattern: str) -> re.Match[str]:
    found = re.search(pattern, text)
    assert found is not None, pattern
    return found


def rounded(value: float, as_written: str, *, percent: bool = False) -> str:
    """`value` rounded to as many decimals as the README's `as_written` number has, and written as it is."""
    number = after(as_written, r"-?\d+(?:\.(\d+))?")
    decimals = len(number.group(1) or "")
    return as_written.replace(number.group(0), f"{100 * value if percent else value:.{decimals}f}", 1)


def cli_run(
    command: str,
    runs_root: Path | None,
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
    cwd: Path = ROOT,
    exit_code: int = 0,
) -> str:
    """Runs a README command (`nnopt ...`, as a shell splits it) in `cwd` (the project's folder) into
    `runs_root` (None: where it says); returns what it printed. Without its pictures: no number the
    README states comes from them, and drawing them would cost most of the time."""
    from click.testing import CliRunner

    from nnopt_cli.cli import cli
    from nnopt_cli.figures import report

    monkeypatch.setattr(report, "draw", lambda jobs, **kwargs: None)

    args = shlex.split(command)
    assert args[0] == "nnopt"
    monkeypatch.chdir(cwd)
    where = [] if runs_root is None else ["--runs-root", str(runs_root)]
    result = CliRunner().invoke(cli, [*args[1:], *where, *extra])
    assert result.exit_code == exit_code, result.output
    return result.output


def printed(output: str, label: str) -> str:
    """The value of a row of `nnopt train`'s result table: `final accuracy  93.33%` -> `93.33%`."""
    return after(output, rf"(?m)^\s*{re.escape(label)}\s+(\S+)\s*$").group(1)


def test_the_first_session_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = after(README, r"(?s)```\n\$ (nnopt train configs/l2\.yaml)\n(.*?)```")
    output = cli_run(block.group(1), tmp_path, monkeypatch)
    shown = [" ".join(line.split()) for line in output.splitlines()]
    expected = [
        " ".join(line.split())
        for line in block.group(2).splitlines()
        if line != "..." and not line.strip().startswith(("training time", "run folder"))
    ]
    assert [line for line in shown if line in expected] == expected


def gallery_commands() -> Any:
    spec = importlib.util.spec_from_file_location("gallery", ROOT / "benchmarks" / "gallery.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["circle", "spiral"])
def test_the_playground_examples_end_where_the_readme_says(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = indented_command(f"nnopt train configs/adam.yaml --set data.name={name} ")
    # the picture beside them is drawn by this very command
    assert shlex.split(command)[1:] == getattr(gallery_commands(), name.upper())
    claim = after(README[README.index(command) :], r"ends at ([\d.]+%) training accuracy and ([\d.]+%) test")
    output = cli_run(command, tmp_path, monkeypatch, "--quiet")
    labels = (metrics.METRICS["final_accuracy"].label, metrics.METRICS["final_test_accuracy"].label)
    assert tuple(printed(output, label) for label in labels) == claim.groups()


@dataclass
class Examples:
    """Runs of the example configs, keyed by the config's file name and the --set items: their histories
    and what they were trained on."""

    histories: dict[tuple[str, ...], Any]
    prepared: dict[tuple[str, ...], Any]

    def __getitem__(self, key: tuple[str, ...]) -> Any:
        return self.histories[key]


# the example configs, in the README table's order
EXAMPLES = (
    "sgd",
    "l2",
    "sgdm",
    "momentum",
    "adagrad",
    "rmsprop",
    "adam",
    "ema",
    "adamw",
    "nadam",
    "adamax",
    "adadelta",
)


@pytest.fixture(scope="module")
def example_runs() -> Examples:
    """The runs behind the example configs' table and the sentences around it, trained together."""
    from nnopt_cli import config
    from nnopt_cli.experiments import experiment

    wanted: list[tuple[str, ...]] = []
    for name in EXAMPLES:
        wanted += [(name, f"seed={s}") for s in range(10)]
    wanted += [("rmsprop", "seed=4", "train.epochs=800")]
    wanted += [
        ("adam", f"seed={s}", "train.epochs=800", f"optimizer.lr={lr}")
        for lr in (0.01, 0.02, 0.03)
        for s in range(10)
    ]
    wanted += [("momentum", "optimizer.lr=0.0055", "optimizer.nesterov=false"), ("sgd", "ema.decay=0.99")]
    configs = [config.load(ROOT / "configs" / f"{key[0]}.yaml", list(key[1:])) for key in wanted]
    groups = experiment.prepare(configs)
    histories = experiment.train_groups(groups)
    prepared = {i: g.prepared for g in groups for i in g.indices}
    return Examples(
        dict(zip(wanted, histories, strict=True)), {key: prepared[i] for i, key in enumerate(wanted)}
    )


def percent_range(values: list[float], as_written: str) -> str:
    low, high = as_written.rstrip("%").split("–")
    return f"{rounded(min(values), low, percent=True)}–{rounded(max(values), high + '%', percent=True)}"


def test_the_example_configs_table(example_runs: Examples) -> None:
    from nnopt_cli import config

    table = after(
        README,
        r"\| file \| optimizer \| epochs \| seed 0 \| seeds 0–4 \| seeds 0–9 ≥ 95% \|\n"
        r"\|[-|]+\|\n((?:\|.*\n)+)",
    )
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.group(1).splitlines()]
    assert [row[0] for row in rows] == [f"`{name}.yaml`" for name in EXAMPLES]
    for file, optimizer, epochs, seed0, seeds5, over95 in rows:
        name = file.strip("`").removesuffix(".yaml")
        c = config.load(ROOT / "configs" / f"{name}.yaml")
        assert epochs == str(c.epochs), file
        if "lr" in optimizer:
            assert float(after(optimizer, r"lr ([\d.]+)").group(1)) == c.lr, file
        runs = [example_runs[(name, f"seed={s}")] for s in range(10)]
        final = [h.accuracy[-1] for h in runs]
        # 95% of 300 points is 285 of them
        count = lambda accuracies: f"{sum(round(300 * a) >= 285 for a in accuracies)} of 10"  # noqa: E731
        if name == "ema":
            ema = [h.ema_accuracy[-1] for h in runs]
            raw0, ema0 = seed0.split(", EMA ")
            assert (rounded(final[0], raw0, percent=True), rounded(ema[0], ema0, percent=True)) == (
                raw0,
                ema0,
            )
            assert "EMA " + percent_range(ema[:5], seeds5.removeprefix("EMA ")) == seeds5
            assert "EMA " + count(ema) == over95
        else:
            assert rounded(final[0], seed0, percent=True) == seed0, file
            assert percent_range(final[:5], seeds5) == seeds5, file
            assert count(final) == over95, file


def test_the_sentences_about_the_table(example_runs: Examples) -> None:
    text = section("## The config file")
    # "Adam is the robust one: every seed is at 95% or more at every epoch from 300 to 800, and the
    # neighbouring rates 0.01 and 0.03 bring all ten seeds there by epoch 800 too"
    claim = after(
        text,
        r"every seed is at 95% or more at every epoch from (\d+) to (\d+), and the neighbouring rates\s+"
        r"([\d.]+) and ([\d.]+) bring all ten seeds there by epoch (\d+) too",
    )
    first, last, lr_a, lr_b, by = (claim.group(i) for i in range(1, 6))
    for s in range(10):
        h = example_runs[("adam", f"seed={s}", f"train.epochs={last}", "optimizer.lr=0.02")]
        assert min(round(300 * a) for a in h.accuracy[int(first) - 1 :]) >= 285
        for lr in (lr_a, lr_b):
            h = example_runs[("adam", f"seed={s}", f"train.epochs={by}", f"optimizer.lr={lr}")]
            assert round(300 * h.accuracy[-1]) >= 285
    claim = after(text, r"seed 4 ends at ([\d.]+%) after (\d+) epochs")
    h = example_runs[("rmsprop", "seed=4", f"train.epochs={claim.group(2)}")]
    assert rounded(h.accuracy[-1], claim.group(1), percent=True) == claim.group(1)


def test_the_moving_average_example(example_runs: Examples) -> None:
    from nnopt_cli.experiments import experiment

    text = section("## Moving average of the weights (`ema.decay`)")
    claim = after(
        text,
        r"(?s)`nnopt train configs/ema.yaml` .*? ends at ([\d.]+%) with the raw weights "
        r"and ([\d.]+%) with\s+the shadows",
    )
    h = example_runs[("ema", "seed=0")]
    assert (
        rounded(h.accuracy[-1], claim.group(1), percent=True),
        rounded(h.ema_accuracy[-1], claim.group(2), percent=True),
    ) == claim.groups()

    def differ(key: tuple[str, ...]) -> float:
        h, prepared = example_runs[key], example_runs.prepared[key]
        raw, shadow = experiment.scores(h, prepared, experiment.plane(h.config, prepared))
        return float(np.mean((raw >= 0.5) != (shadow >= 0.5)))

    grid = after(text, r"classify ([\d.]+%) of the plot grid differently").group(1)
    assert rounded(differ(("ema", "seed=0")), grid, percent=True) == grid
    grid = after(text, r"(?s)`configs/sgd.yaml --set ema.decay=0.99`.*?\(([\d.]+%) of the grid\)").group(1)
    assert rounded(differ(("sgd", "ema.decay=0.99")), grid, percent=True) == grid


def test_sgdm_and_momentum_retrace_each_other(example_runs: Examples) -> None:
    claim = after(
        README,
        r"`configs/sgdm.yaml` \(lr ([\d.]+)\) and `momentum` with\s+`lr: ([\d.]+), nesterov: false` end "
        r"within ([\de.-]+) of each other after (\d+) updates",
    )
    sgdm, momentum = (
        example_runs[("sgdm", "seed=0")],
        example_runs[("momentum", "optimizer.lr=0.0055", "optimizer.nesterov=false")],
    )
    assert (f"{sgdm.config.lr:g}", f"{momentum.config.lr:g}") == claim.group(1, 2)
    assert sgdm.steps_done == momentum.steps_done == int(claim.group(4))
    gap = max(float(np.max(np.abs(sgdm.params[k] - momentum.params[k]))) for k in sgdm.params)
    assert gap <= float(claim.group(3))


def test_the_course_optimizer_table_on_iris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command = indented_command("nnopt compare configs/iris/")
    # configs/iris/*.yaml, as a shell expands it
    files = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(shlex.split(command)[2]))
    cli_run(" ".join(["nnopt", "compare", *files]), tmp_path, monkeypatch, "--quiet")
    (folder,) = tmp_path.iterdir()
    with (folder / "compare.csv").open() as f:
        rows = {row["name"]: row for row in csv.DictReader(f)}
    table = after(README, r"\| optimizer \| the course: converged .*\n\|[-|]+\|\n((?:\|.*\n)+)")
    lines = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.group(1).splitlines()]
    assert sorted(line[0].split()[0] for line in lines) == sorted(rows)
    for name, _, _, converged, loss, accuracies in lines:
        row = rows[name.split()[0]]
        train, test = accuracies.split(" / ")
        shown = (
            row["converged_epoch"],
            rounded(float(row["final_loss"]), loss),
            rounded(float(row["final_accuracy"]), train, percent=True),
            rounded(float(row["final_test_accuracy"]), test, percent=True),
        )
        assert shown == (converged, loss, train, test), name


def test_the_toy_commands(tmp_path: Path) -> None:
    from nnopt_cli import config
    from nnopt_cli.core import quadratic

    def toy(command: str) -> Any:
        args = shlex.split(command, comments=True)
        sets = [item for option, item in zip(args, args[1:], strict=False) if option == "--set"]
        return quadratic.train(config.load(ROOT / args[2], sets))

    def numbers(h: Any, as_written: str) -> str:
        return ", ".join(rounded(w, n) for w, n in zip(h.w, as_written.split(", "), strict=False))

    lines = [line for line in README.splitlines() if line.startswith("nnopt train configs/quadratic")]
    assert len(lines) == 4
    for line in lines:
        h = toy(line)
        comment = line.partition("#")[2]
        factor = after(comment, r"factor ([-\d.]+)").group(1) if "factor" in comment else None
        if factor is not None:
            assert rounded((h.w[1] + 1) / (h.w[0] + 1), factor) == factor, line
        if found := re.search(r"w = ([-\d., ]+?),? \.\.\.", comment):
            assert numbers(h, found.group(1)) == found.group(1), line
        if found := re.search(r"-> ([-\d.]+)", comment):
            assert rounded(h.w[-1], found.group(1)) == found.group(1), line
        if found := re.search(r"w = ([-\d.]+) after (\d+) steps", comment):
            assert (rounded(h.w[-1], found.group(1)), str(len(h.w))) == found.groups(), line
        if "lr_k = 0.1 · 0.99^k" in comment:
            assert h.lr == pytest.approx([0.1 * 0.99**k for k in range(len(h.lr))], rel=1e-13)
        assert h.status == "completed", line
    # "the run stops as `diverged` (exit code 3) once the loss passes 10⁶ times its starting value (at lr 1.5
    # after 10 steps"
    claim = after(
        README, r"once the loss passes 10⁶\s+times its starting value \(at lr ([\d.]+) after (\d+) steps"
    )
    h = toy(f"nnopt train configs/quadratic.yaml --set optimizer.lr={claim.group(1)}")
    assert h.status == "diverged" and str(len(h.w)) == claim.group(2)
    assert h.loss[-1] > 1e6 * (5 + 1) ** 2 > h.loss[-2]


def test_the_iris_split_and_a_runs_rates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nnopt_cli import config
    from nnopt_cli.experiments import experiment

    line = after(
        README, r"(?m)^(data: \{name: iris.*\})\s+# (\d+) training rows, (\d+) test rows: (.*) per class$"
    )
    d = experiment.load_data(config.from_dict(yaml.safe_load(line.group(1))))
    assert d.test is not None
    per_class = ", ".join(str(n) for n in np.bincount(d.test.labels))
    assert (str(d.train.size), str(d.test.size), per_class) == line.group(2, 3, 4)

    line = after(README, r"(?m)^(nnopt plot-lr --config configs/sgd.yaml --csv lr.csv)\s+#.*\((\d+)\)$")
    (tmp_path / "configs").symlink_to(ROOT / "configs")  # lr.csv is written in the current folder
    cli_run(line.group(1), tmp_path, monkeypatch, "--out", str(tmp_path / "lr.png"), cwd=tmp_path)
    with (tmp_path / "lr.csv").open() as f:
        assert str(sum(1 for _ in f) - 1) == line.group(2)


def test_the_runs_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = after(README, r"(?s)for scripts\. After (.*?):\n\n```\n\$ (nnopt runs --all)\n(.*?)```")
    for command in re.findall(r"`(nnopt [^`]*)`", text.group(1)):
        cli_run(
            command, tmp_path / "runs", monkeypatch, "--quiet", exit_code=3 if "--lr 50" in command else 0
        )
    output = cli_run(text.group(2), None, monkeypatch, cwd=tmp_path)  # the default root: runs

    def rows(listing: str) -> list[list[str]]:
        """Every run's cells but when it started and how long it trained (`0.673 s`)."""
        lines = [line.strip() for line in listing.splitlines() if line.lstrip().startswith(("20", "└"))]
        cells = [re.split(r"\s{2,}", line) for line in lines]
        return sorted([re.sub(r"^\d{8}-\d{6}-", "", c[0]), *c[1:10], c[11]] for c in cells)

    expected = rows(text.group(3))
    assert len(expected) == 8 and rows(output) == expected


def test_the_gallery_draws_the_surface_comparison_the_readme_shows() -> None:
    command = indented_command("nnopt compare sgd:lr=0.001 sgdm:lr=0.004")
    assert shlex.split(command)[1:] == gallery_commands().COMPARE_SURFACE
    assert "benchmarks/figures/compare_rosenbrock.png" in section("### Paths on a surface")


def test_the_surface_commands_and_their_pictures() -> None:
    from nnopt_cli import config
    from nnopt_cli.core import surface

    lines = [
        line
        for line in section("## Optimizer paths on a surface").splitlines()
        if line.startswith("nnopt train configs/")
    ]
    assert len(lines) == 5
    commands = [shlex.split(line, comments=True)[1:] for line in lines]
    for name, command in gallery_commands().SURFACES.items():
        assert command in commands, name
        assert f"(benchmarks/figures/{name}.png)" in README, name
    for line, args in zip(lines, commands, strict=True):
        sets = [item for option, item in zip(args, args[1:], strict=False) if option == "--set"]
        (h,) = surface.train([config.load(ROOT / args[1], sets)])
        assert h.status == "completed", line
        comment = line.partition("#")[2]
        checked = 0
        if found := re.search(r"x = (-?[\d.]+) after (\d+) steps", comment):
            assert (rounded(h.x[-1], found.group(1)), str(h.steps_done)) == found.groups(), line
            checked += 1
        if found := re.search(r"within 0\.1 of \(1, 1\) at step (\d+)", comment):
            near = np.hypot(h.x - 1, h.y - 1) < 0.1
            assert str(int(np.argmax(near))) == found.group(1) and near.any(), line
            checked += 1
        if found := re.search(r"\(\|y\| > 1\) at step (\d+)", comment):
            out = np.abs(h.y) > 1
            assert str(int(np.argmax(out))) == found.group(1) and out.any(), line
            checked += 1
        assert checked == 1, line
