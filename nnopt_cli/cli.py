"""The command line: parse, call the library, turn its errors into one line (exit code 2)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from nnopt_cli import __version__

EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


class InputError(click.ClickException):
    """Bad input: printed as one line `Error: ...`, exit code 2."""

    exit_code = 2


def _input_errors() -> tuple[type[Exception], ...]:
    from nnopt_cli import config, data, ema, optimizers, runs, schedules, train

    return (
        config.ConfigError,
        data.DataError,
        schedules.ScheduleError,
        optimizers.OptimizerError,
        ema.EMAError,
        train.SetupError,
        runs.RunFolderError,
    )


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except _input_errors() as exc:
        raise InputError(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="nnopt")
def cli() -> None:
    """Experiments on how neural-network optimization behaves.

    Train the course's 2-11-1 network on dot.csv with any learning-rate schedule, optimizer, regularizer and
    weight moving average, and get a run folder of metrics and pictures.

    \b
      nnopt train configs/l2.yaml
      nnopt plot-lr --type polynomial --cycle
      nnopt compare sgd sgdm adam
    """


RUNS_ROOT = click.option(
    "--runs-root",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder that receives the run folder.",
)
SETS = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override a config key (VALUE is read as YAML), e.g. --set optimizer.lr=0.01. Repeatable.",
)
QUIET = click.option("--quiet", "-q", is_flag=True, help="No progress bar or progress lines.")


@cli.command()
@click.argument("config_file", metavar="CONFIG", type=click.Path(path_type=Path))
@RUNS_ROOT
@SETS
@QUIET
def train(config_file: Path, runs_root: Path, sets: tuple[str, ...], quiet: bool) -> None:
    """Train as CONFIG (a YAML file) says and write a run folder.

    The folder <runs-root>/<YYYYmmdd-HHMMSS>-<name>/ receives config.yaml, metrics.csv, lr.csv, params.npz,
    loss.png, lr.png, boundary.png and, last, summary.json. Exit code 0 when training completed, 2 for bad
    input (nothing is written), 3 when the loss diverged, 130 when interrupted.
    """
    from nnopt_cli import config as config_mod
    from nnopt_cli import console, quadratic, runs
    from nnopt_cli import train as train_mod

    started = time.perf_counter()
    out = console.console()
    with _one_line_errors():
        config = config_mod.load(config_file, sets)
        if config.model_type == "quadratic":
            folder = runs.make_folder(runs_root, config.name)
            runs.write_start(folder, config)
            toy = quadratic.train(config)
            summary = runs.write_quadratic_results(folder, toy, started=started, clock=time.perf_counter)
            out.print(console.result_table(summary, folder))
            _finish(toy.status, toy.message)
        dataset = train_mod.load_dataset(config)
        train_mod.initial_params(config, train_mod.network(config))
        folder = runs.make_folder(runs_root, config.name)
    runs.write_start(folder, config)
    with console.EpochReporter(config.name, config.epochs, every=config.log_every, quiet=quiet) as report:
        history = train_mod.train(config, dataset=dataset, on_epoch=report)
    summary = runs.write_results(folder, history, dataset, started=started, clock=time.perf_counter)
    out.print(console.result_table(summary, folder))
    _finish(history.status, history.message)


def _finish(status: str, message: str) -> NoReturn:
    """Exit with the code of a run's status, saying why when it did not complete."""
    if status != "completed":
        click.echo(f"nnopt: {message}", err=True)
    codes = {"completed": 0, "diverged": EXIT_DIVERGED, "interrupted": EXIT_INTERRUPTED}
    sys.exit(codes[status])


def main() -> None:
    cli(prog_name="nnopt")

