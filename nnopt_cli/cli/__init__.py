"""The command line: parse, call the library, turn its errors into one line (exit code 2)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from nnopt_cli import __version__
from nnopt_cli.cli import completion

EXIT_DIVERGED = 3
EXIT_INCOMPLETE = 4  # the folder kept with its data, a part missing: pictures not drawn, a worker that died
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2
EXIT_TERMINATED = 143  # SIGTERM: 128 + 15


class InputError(click.ClickException):
    """Bad input: printed as one line `Error: ...`, exit code 2."""

    exit_code = 2


def _input_errors() -> tuple[type[Exception], ...]:
    from nnopt_cli import checks, config, data, examples, files
    from nnopt_cli.config import grid
    from nnopt_cli.core import ema, lrrange, optimizers, schedules
    from nnopt_cli.experiments import (
        experiment,
        lrfind,
        lrplot,
        overlay,
        replot,
        resume,
        session,
        tasks,
        train,
    )
    from nnopt_cli.store import catalog, runs

    return (
        checks.CheckError,
        config.ConfigError,
        data.DataError,
        schedules.ScheduleError,
        optimizers.OptimizerError,
        ema.EMAError,
        experiment.SetupError,
        runs.RunFolderError,
        runs.FolderError,
        grid.GridError,
        tasks.SweepError,
        catalog.CatalogError,
        replot.ReplotError,
        lrplot.PlotError,
        resume.ResumeError,
        session.WriteError,
        train.UsageError,
        lrrange.RangeError,
        lrfind.LrFindError,
        overlay.OverlayError,
        examples.ExampleError,
        files.OutputError,
    )


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except _input_errors() as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:  # a file that cannot be written: which one, and why in words
        from nnopt_cli.store import runs

        raise InputError(runs.io_message(exc)) from None


class _Commands(click.Group):
    """The command group. Ctrl-C before a command has a folder to complete (reading a large CSV, checking a
    grid) ends it with exit code 130, as Ctrl-C does once training has begun, not click's "Aborted!" and 1:
    nothing is half-written then, since a folder is made only after the inputs are read and every file is
    written through a temporary name. `nnopt --help` gives each command's first paragraph whole on one line,
    never cut with "..." (click's default)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("nnopt: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            first = (command.help or "").split("\n\n")[0]
            rows.append((name, " ".join(first.split())))
        if rows:
            width = max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                for name, text in rows:  # one line each, never folded: a description reads whole
                    formatter.write(f"{'':>{formatter.current_indent}}{name:<{width}}  {text}\n")


@click.group(
    cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110}
)
@click.version_option(__version__, prog_name="nnopt")
def cli() -> None:
    """Experiments on how neural-network optimization behaves.

    Train the course's 2-11-1 network on dot.csv (or any stack of dense layers, with a linear, sigmoid or
    softmax output and an mse, bce or ce loss) with any learning-rate schedule, optimizer, regularizer and
    weight moving average, and get a run folder of metrics and pictures.

    \b
      nnopt train configs/l2.yaml
      nnopt plot-lr --type polynomial --cycle
      nnopt compare sgd sgdm adam
      nnopt sweep configs/l2.yaml --grid optimizer.lr=1e-3:1:7log --seeds 3
      nnopt lr-find configs/l2.yaml --grid optimizer.name=sgd,sgdm,adam
      nnopt runs
    """


def _key_values(option: str, example: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse `--set optimizer.lr 0.1` (a space for the `=`) in one line, before click calls the 0.1 an
    unexpected extra argument."""
    for value in values:
        if "=" not in value:
            raise InputError(
                f"{option} takes KEY=VALUE as one word, e.g. {option} {example}; got {option} {value}"
            )
    return values


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
    shell_complete=completion.key_values,
    callback=lambda ctx, param, values: _key_values("--set", "optimizer.lr=0.01", values),
)
QUIET = click.option("--quiet", "-q", is_flag=True, help="No progress bar or progress lines.")
# the shortcuts, the same on every command that trains (config.SHORTCUTS: the keys they stand for)
EPOCHS = click.option("--epochs", type=click.IntRange(min=1), help="Short for --set train.epochs=N.")
LR = click.option(
    "--lr", type=click.FloatRange(min=0.0, min_open=True), help="Short for --set optimizer.lr=X."
)
SEED = click.option("--seed", type=click.IntRange(min=0), help="Short for --set seed=S.")
ANIMATE = click.option(
    "--animate",
    is_flag=True,
    help="Short for --set plot.animate=true: also draw the decision boundary every few epochs as an animated "
    "GIF (train: boundary.gif; compare: boundaries.gif), about 60 frames, from parameters kept while "
    "training (frames.npz); on a surface (model.type surface), paths.gif: the path drawn as it goes.",
)


RESUME = click.option(
    "--resume",
    "resume_folder",
    type=click.Path(path_type=Path),
    metavar="RUN",
    shell_complete=completion.run_folders,
    help="Continue the run in folder RUN (a path, or the start or end of a folder name under --runs-root) "
    "where it stopped, into a new folder (CONFIG is then RUN's); "
    "--set may change only train.epochs, train.log_every, name and plot.*.",
)


@cli.command()
@click.argument(
    "config_file",
    metavar="[CONFIG]",
    required=False,
    type=click.Path(path_type=Path),
    shell_complete=completion.config_files,
)
@RESUME
@RUNS_ROOT
@SETS
@EPOCHS
@LR
@SEED
@ANIMATE
@QUIET
def train(
    config_file: Path | None,
    resume_folder: Path | None,
    runs_root: Path,
    sets: tuple[str, ...],
    epochs: int | None,
    lr: float | None,
    seed: int | None,
    animate: bool,
    quiet: bool,
) -> None:
    """Train as CONFIG (a YAML file, or a shipped example's name: adam, iris/adam) says and write a run
    folder, or continue the run of a folder.

    The folder <runs-root>/<YYYYmmdd-HHMMSS>-<name>/ receives config.yaml, metrics.csv, lr.csv, trace.csv
    (the loss of every mini-batch), layers.csv (per epoch and layer: weight and gradient norms, update
    ratio, dead and saturated units), params.npz (and params_ema.npz with ema.decay), state.npz (what
    --resume needs), loss.png, lr.png, boundary.png, layers.png and, last, summary.json; with model.type
    quadratic, quadratic.png instead of loss.png and boundary.png, and no layers; with model.type surface (a
    path on a 2-D function: model.function), trajectory.csv (step, x, y, loss, lr), paths.png, loss.png,
    lr.png and summary.json. With --animate (plot.animate), also frames.npz (the parameters at about 60
    epochs, from 0 to the last) and boundary.gif: boundary.png's picture at each of those epochs, the epoch
    and the loss in its title, the last frame held; on a surface, paths.gif: paths.png with the path drawn
    as it goes (about 60 steps from trajectory.csv, the step and the loss in each frame's title, the last
    frame held).

    With --resume RUN, training continues from the epochs RUN has done (for an interrupted run, its last
    whole epoch) up to train.epochs (RUN's own, or --epochs N) into a new folder, and ends bit for bit where
    one uninterrupted run of that length ends.

    \b
      nnopt train configs/l2.yaml
      nnopt train configs/sgd.yaml --set optimizer.name=adam --set optimizer.lr=0.01
      nnopt train configs/adam.yaml --epochs 200 --lr 0.003 --seed 4
      nnopt train configs/l2.yaml --animate
      nnopt train configs/quadratic.yaml --set optimizer.lr=1.0
      nnopt train configs/valley.yaml --set optimizer.name=sgdm
      nnopt train configs/valley.yaml --animate
      nnopt train --resume runs/20261121-173834-l2 --epochs 1600

    Every config key, with its default, is described in the README's section "The config file"; `nnopt
    examples` lists the shipped examples, one per optimizer and feature (a file of the same name wins).

    Exit code 0 when training completed, 2 for bad input or a file that cannot be written (nothing is left
    behind), 3 when the loss diverged, 4 when a picture could not be drawn (the data and summary.json are
    kept; nnopt replot draws it again), 130 when interrupted by Ctrl-C and 143 by SIGTERM (the last whole
    epoch is kept).
    """
    from nnopt_cli.cli import console
    from nnopt_cli.experiments import train as train_mod

    with _one_line_errors():
        finished = train_mod.run(
            config_file,
            resume_from=None if resume_folder is None else str(resume_folder),
            sets=sets,
            shortcuts=_shortcuts(epochs=epochs, lr=lr, seed=seed, animate=animate),
            epochs_given=epochs is not None,
            runs_root=runs_root,
            reporter=_epoch_reporter(quiet),
        )
    console.console().print(console.result_table(finished.summary, finished.folder))
    _finish(finished)


def _epoch_reporter(quiet: bool) -> Any:
    from nnopt_cli.cli import console

    return lambda label, epochs, every: console.EpochReporter(label, epochs, every=every, quiet=quiet)


def _say(line: str) -> None:
    """A line of the library's to the terminal, as it is (no markup)."""
    from nnopt_cli.cli import console

    console.console().print(line, markup=False, highlight=False)


def _shortcuts(
    *, epochs: int | None, lr: float | None, seed: int | None, animate: bool = False
) -> tuple[str, ...]:
    """--epochs, --lr, --seed and --animate as the --set options they stand for (applied after every
    --set)."""
    from nnopt_cli.config import SHORTCUTS

    given = {
        "--epochs": epochs,
        "--lr": None if lr is None else repr(lr),
        "--seed": seed,
        "--animate": "true" if animate else None,
    }
    return tuple(f"{key}={given[option]}" for key, option in SHORTCUTS.items() if given[option] is not None)


@cli.command()
@click.argument("entries", nargs=-1, metavar="ENTRY...", shell_complete=completion.compare_entries)
@click.option(
    "--config",
    "base_file",
    type=click.Path(path_type=Path),
    metavar="CONFIG",
    shell_complete=completion.config_files,
    help="Base config the optimizer entries build on (default: the course's 2-11-1 SGD run); a network's or "
    "a surface's (model.type surface).",
)
@SETS
@EPOCHS
@LR
@SEED
@ANIMATE
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Repeat every entry with seeds seed, seed+1, ...; tables show mean ± std, plots a band.",
)
@click.option(
    "--entry-pictures",
    is_flag=True,
    help="Also draw each entry's own loss.png, lr.png and boundary.png (confusion.png) in its folder.",
)
@click.option(
    "--target-loss",
    type=click.FloatRange(min=0.0, min_open=True),
    help="Define the converged epoch as the first epoch with loss <= this value (a surface's target step: "
    "the first step with loss <= it; default 0.001).",
)
@RUNS_ROOT
@QUIET
def compare(
    entries: tuple[str, ...],
    base_file: Path | None,
    sets: tuple[str, ...],
    epochs: int | None,
    lr: float | None,
    seed: int | None,
    animate: bool,
    seeds: int,
    entry_pictures: bool,
    target_loss: float | None,
    runs_root: Path,
    quiet: bool,
) -> None:
    """Train optimizers side by side: same network, same initial weights, same batches.

    Each ENTRY is an optimizer name (any optimizer.name: sgd, adam, adamw, ...; its default
    hyperparameters on top of the base config, at the base learning rate), an optimizer with settings of
    its own, NAME:KEY=VALUE,KEY=VALUE (KEY: lr, decay, clip_norm, clip_value or one of that optimizer's
    settings, beta, beta1, eps, ...; VALUE as in --set; the entry is named sgdm-lr0.001-beta0.9), a YAML
    config file or a shipped example's name (iris/adam; `nnopt examples` lists them). --config takes a
    file or an example too. Every entry runs with the base config's seed. A --set key some entries have no
    use for (optimizer.beta1 with sgd, optimizer.lr with adam:lr=0.01) is dropped from them and listed
    (dropped.json); one no entry uses is refused.

    \b
      nnopt compare sgd sgdm adam
      nnopt compare sgd sgdm adagrad rmsprop adam --config configs/l2.yaml --epochs 300
      nnopt compare sgd:lr=0.1 adam:lr=0.01 --config configs/l2.yaml
      nnopt compare adam:lr=0.001 adam:lr=0.01,beta1=0.8
      nnopt compare configs/adam.yaml configs/rmsprop.yaml --seeds 5
      nnopt compare sgd sgdm adam --config configs/l2.yaml --animate

    With a surface's config (--config configs/rosenbrock.yaml) every entry is a path from the same start,
    all trained as one population; compare.png draws the paths on one contour and the loss per step, and
    compare.csv holds final_loss, best_loss, final_distance (to the nearest minimum) and target_step.
    Surfaces and networks do not mix, and --seeds has no meaning on a surface.

    Writes <runs-root>/<YYYYmmdd-HHMMSS>-compare/ with a run folder per entry (its data; its pictures with
    --entry-pictures), compare.png, boundaries.png (networks) and compare.csv; with --animate also
    boundaries.gif (every entry's boundary over training, in step; each entry folder keeps its frames.npz),
    or for surfaces paths.gif (every path drawn as it goes, in step).
    Exit code 0 (a diverged entry is a result and is shown as such), 2 for bad input or a file that cannot be
    written, 4 when a picture could not be drawn (the data are kept), 130 when interrupted by Ctrl-C, 143 by
    SIGTERM.
    """
    from nnopt_cli.cli import console
    from nnopt_cli.experiments import compare as compare_mod

    with _one_line_errors():
        done = compare_mod.run(
            entries,
            base_file=base_file,
            sets=(*sets, *_shortcuts(epochs=None, lr=lr, seed=seed, animate=animate)),
            epochs=epochs,
            seeds=seeds,
            entry_pictures=entry_pictures,
            target=target_loss,
            runs_root=runs_root,
            reporter=lambda label, name_of, every: console.GroupsReporter(
                label, name_of, every=every, quiet=quiet
            ),
            note=_say,
        )
    out = console.console()
    out.print(console.compare_table(done.rows, seeds=done.seeds))
    out.print(done.caption, markup=False, highlight=False)
    out.print(f"compare folder: {done.finished.folder}", markup=False, highlight=False)
    _finish(done.finished)


@cli.command("runs")
@click.argument("root", default="runs", required=False, type=click.Path(path_type=Path))
@click.option(
    "--status",
    metavar="STATUS",
    help="Only runs with this status: completed, interrupted, diverged or incomplete.",
)
@click.option(
    "--name",
    "name_glob",
    metavar="GLOB",
    help="Only runs whose name or folder name matches, e.g. 'l2*' or '202612*' (quote it).",
)
@click.option(
    "--sort",
    "sort_by",
    metavar="COLUMN",
    help="Order by a column: started (the default, newest first), final_loss (lowest first), final_accuracy "
    "or final_test_accuracy (highest first; test_accuracy is read as it), train_seconds, lr, epochs_done, "
    "entries, name, status, kind, optimizer, schedule, folder. A leading - reverses: --sort=-final_loss.",
)
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Show the first N runs only.")
@click.option("--all", "all_entries", is_flag=True, help="Also list each comparison's entries under it.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="A table for the terminal, or every column unshortened as CSV or JSON.",
)
def list_runs(
    root: Path,
    status: str | None,
    name_glob: str | None,
    sort_by: str | None,
    limit: int | None,
    all_entries: bool,
    output_format: str,
) -> None:
    """List the run folders under ROOT (default runs), newest first.

    One line per folder: nnopt train runs (kind train, quadratic or surface), comparisons and sweeps (one
    line each, with their number of runs and the best value of each column), range tests (kind lrfind); a
    folder without its last file (summary.json, or compare.csv) is incomplete. Only summary.json and
    config.yaml are read, so a thousand runs list in well under a second.

    \b
      nnopt runs
      nnopt runs --status completed --sort final_accuracy --limit 10
      nnopt runs --name 'l2*' --all
      nnopt runs experiments/ --format csv > runs.csv

    Exit code 0, or 2 for a ROOT that is not a folder, an unknown --status or --sort column.
    """
    from nnopt_cli.cli import console
    from nnopt_cli.store import catalog

    with _one_line_errors():
        records = catalog.filter_records(catalog.scan(root), status=status, name_glob=name_glob)
        if sort_by is not None:
            records = catalog.sort_records(records, sort_by)
        records = catalog.limit(records, limit)
    if output_format == "csv":
        click.echo(catalog.to_csv(catalog.as_rows(records, all_entries)), nl=False)
    elif output_format == "json":
        click.echo(catalog.to_json(catalog.as_rows(records, all_entries)), nl=False)
    elif not records and not (status or name_glob) and (deeper := catalog.roots_below(root)):
        where = ", ".join(f"{folder} ({n} run{'s' if n != 1 else ''})" for folder, n in deeper)
        click.echo(
            f"no runs directly under {root}; runs are deeper, in {where}: e.g. nnopt runs {deeper[0][0]}"
        )
    elif not records:
        click.echo(f"no runs under {root}" + (" match" if status or name_glob else ""))
    else:
        out = console.console()
        out.print(catalog.table(records, all_entries, width=out.width))


@cli.command()
@click.argument("run", shell_complete=completion.run_folders)
@click.option(
    "--runs-root",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder whose run folders RUN may name.",
)
def show(run: str, runs_root: Path) -> None:
    """Show one run: its summary, the config keys that differ from the defaults, and its files.

    RUN is a run folder's path, or the start or the end of a folder name under --runs-root, as long as it
    names one folder only (the error lists the candidates).

    \b
      nnopt show 20261201-173834              (the start of the folder's name)
      nnopt show adam                         (its end: the one run named adam)
      nnopt show runs/20261201-173834-l2
      nnopt show 20261201-180102-compare/adam (an entry of a comparison)

    Exit code 0, or 2 when RUN names no folder or several.
    """
    from nnopt_cli.cli import console
    from nnopt_cli.store import catalog

    with _one_line_errors():
        folder = catalog.resolve(run, runs_root)
        found = catalog.details(folder)
    console.console().print(catalog.show_panel(found))


@cli.command()
@click.argument(
    "config_file", metavar="CONFIG", type=click.Path(path_type=Path), shell_complete=completion.config_files
)
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="KEY=VALUES",
    shell_complete=completion.grid_values,
    help="A config key and its values: a comma list of YAML values (optimizer.name=sgd,adam), START:STOP:N "
    "(evenly spaced) or START:STOP:Nlog (log-spaced). Repeatable: the runs are the cross product.",
    callback=lambda ctx, param, values: _key_values("--grid", "optimizer.lr=0.01,0.1", values),
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    help="Run every grid cell with N seeds: the config's seed and the N-1 after it.  [default: 1]",
)
@SETS
@click.option(
    "--metric",
    default=None,
    help="What heatmap.png, sensitivity.png, curves.png and the table rank by: a metric of sweep.csv "
    "(final_loss, best_loss, final_data_loss, best_data_loss, final_accuracy, final_test_loss, "
    "final_test_accuracy, converged_epoch, ...). Default: final_loss, or final_data_loss when the runs "
    "differ in regularizer.type or regularizer.scale.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes (default: the machine's cores).",
)
@click.option(
    "--max-runs",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Refuse a grid of more runs than this.",
)
@click.option("--save-runs", is_flag=True, help="Also write a run folder (data, no pictures) per run.")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Train on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs pip install 'nnopt[dask]').",
)
@EPOCHS
@LR
@SEED
@RUNS_ROOT
@QUIET
def sweep(
    config_file: Path,
    grids: tuple[str, ...],
    seeds: int | None,
    sets: tuple[str, ...],
    metric: str | None,
    jobs: int | None,
    max_runs: int,
    save_runs: bool,
    scheduler: str | None,
    runs_root: Path,
    epochs: int | None,
    lr: float | None,
    seed: int | None,
    quiet: bool,
) -> None:
    """Train every point of a grid of configs, together, and compare them.

    CONFIG is a YAML file or a shipped example's name (l2, iris/sgd; `nnopt examples` lists them).

    Runs of one network shape (same data, hidden widths, batch size, epochs) train as rows of one
    population, in chunks spread over --jobs processes; every run ends bit for bit where
    `nnopt train CONFIG --set KEY=VALUE ... --set seed=S` ends. A key of CONFIG or a --set that a grid
    value switches off (beta1 where optimizer.name is sgd) is dropped from those runs and listed
    (summary.json's dropped); a --grid or --set key with no effect on any run is refused. A surface's config
    (model.type surface) sweeps its paths as one population, ranked by a path's metrics (final_loss,
    best_loss, final_distance, target_step).

    \b
      nnopt sweep configs/l2.yaml --grid optimizer.name=sgd,sgdm,adam \\
          --grid optimizer.lr=0.001,0.003,0.01,0.03,0.1 --seeds 5
      nnopt sweep configs/iris/sgd.yaml --set regularizer.type=l2 \\
          --grid optimizer.lr=1e-3:1:13log --grid regularizer.scale=0,0.01,0.03
      nnopt sweep configs/rosenbrock.yaml --set optimizer.name=sgdm \\
          --grid optimizer.lr=0.0003,0.001,0.003 --grid optimizer.beta=0.5,0.9,0.99

    Writes <runs-root>/<YYYYmmdd-HHMMSS>-sweep-<name>/ with sweep.csv (one row per run), cells.csv (mean,
    std, min and max over seeds per grid cell), heatmap.png, sensitivity.png, curves.png, config.yaml,
    curves.csv, summary.json and, last, the pictures. Exit code 0 (diverged runs are results), 2 for bad input
    (nothing is written), 4 when a picture could not be drawn or a worker process or the scheduler died (the
    runs finished are kept), 130 when interrupted by Ctrl-C and 143 by SIGTERM (the runs keep what they did,
    marked).
    """
    from nnopt_cli.cli import console
    from nnopt_cli.experiments import sweep as sweep_mod

    with _one_line_errors():
        done = sweep_mod.run(
            config_file,
            grids=grids,
            seeds=seeds,
            sets=(*sets, *_shortcuts(epochs=epochs, lr=lr, seed=seed)),
            metric=metric,
            jobs=jobs,
            max_runs=max_runs,
            save_runs=save_runs,
            scheduler=scheduler,
            runs_root=runs_root,
            reporter=lambda label, runs: console.RunsReporter(label, runs, quiet=quiet),
            note=_say,
        )
    out = console.console()
    out.print(
        console.sweep_table(
            done.keys,
            done.best,
            metric=done.metric,
            columns=done.columns,
        )
    )
    out.print(f"sweep folder: {done.finished.folder}", markup=False, highlight=False)
    _finish(done.finished)


@cli.command("lr-find")
@click.argument(
    "config_files",
    nargs=-1,
    metavar="CONFIG...",
    type=click.Path(path_type=Path),
    shell_complete=completion.config_files,
)
@click.option("--start", type=float, default=1e-7, show_default=True, help="The rate of the first update.")
@click.option("--end", type=float, default=10.0, show_default=True, help="The rate of the last update.")
@click.option(
    "--steps",
    type=int,
    default=100,
    show_default=True,
    help="Updates from --start to --end (the epochs repeat as needed).",
)
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="KEY=VALUES",
    help="Run a range test per value, together: --grid optimizer.name=sgd,sgdm,adam. Repeatable: the cross "
    "product.",
)
@SETS
@SEED
@RUNS_ROOT
def lr_find(
    config_files: tuple[Path, ...],
    start: float,
    end: float,
    steps: int,
    grids: tuple[str, ...],
    sets: tuple[str, ...],
    seed: int | None,
    runs_root: Path,
) -> None:
    """Find a learning rate: the range test (Smith 2017; fastai's lr_find).

    One run per CONFIG (and per --grid value) whose rate grows geometrically every update from --start to
    --end over --steps updates: the ordinary training loop with an exponential schedule. The loss of each
    mini-batch is smoothed (β 0.98, bias-corrected) and the test stops once the smoothed loss passes 4× its
    minimum or is not finite. Two rates are suggested: where the smoothed loss falls fastest (steepest), and
    a tenth of the rate at its minimum (minimum_div_10). On a surface (configs/rosenbrock.yaml) the test is a
    path of --steps steps, and the loss of an update is the loss at the point it starts from.

    \b
      nnopt lr-find configs/l2.yaml
      nnopt lr-find configs/rosenbrock.yaml --grid optimizer.name=sgd,adam
      nnopt lr-find configs/l2.yaml --grid optimizer.name=sgd,sgdm,adam
      nnopt lr-find configs/sgd.yaml configs/adam.yaml --steps 200

    Writes <runs-root>/<YYYYmmdd-HHMMSS>-lrfind-<name>/ with config.yaml, lr_find.csv (step, lr, loss,
    smoothed_loss), lr_find.png and, last, summary.json (the suggestions). Exit code 0, 2 for bad input
    (nothing is written), 130 when interrupted by Ctrl-C and 143 by SIGTERM.
    """
    from nnopt_cli.cli import console
    from nnopt_cli.experiments import lrfind as lrfind_mod

    with _one_line_errors():
        done = lrfind_mod.run(
            list(config_files),
            grids=grids,
            sets=(*sets, *_shortcuts(epochs=None, lr=None, seed=seed)),
            start=start,
            end=end,
            steps=steps,
            runs_root=runs_root,
            note=_say,
        )
    out = console.console()
    for line in lrfind_lines(done.finished.summary):
        out.print(line, markup=False, highlight=False)
    out.print(f"lr-find folder: {done.finished.folder}", markup=False, highlight=False)
    _finish(done.finished)


def lrfind_lines(summary: dict[str, Any]) -> list[str]:
    """What the terminal shows of a range test: per test, where it stopped, the two suggested rates and the
    command that trains at each."""
    lines = []
    for t in summary.get("tests", []):
        lines.append(f"{t['name']}: {t['reason']}")
        labels = {"steepest": "steepest descent", "minimum_div_10": "minimum ÷ 10"}
        for key, label in labels.items():
            value = t["suggestions"].get(key)
            if value is None:
                lines.append(f"  {label:<17} none (too few updates before the stop)")
            else:
                lines.append(f"  {label:<17} {value:<10.3g} {t['command']} --lr {value:.3g}")
    return lines


@cli.command()
@click.argument("runs", nargs=-1, metavar="[RUN]...", shell_complete=completion.run_folders)
@click.option(
    "--name", "name_glob", metavar="GLOB", help="Also every run whose name or folder matches: 'l2*'."
)
@click.option(
    "--status",
    metavar="S",
    help="Also every run with this status: completed, interrupted or diverged (with --name: both).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.png",
    help="Draw to FILE.png and write the curves to FILE.csv beside it, instead of a new folder.",
)
@RUNS_ROOT
def overlay(
    runs: tuple[str, ...], name_glob: str | None, status: str | None, out: Path | None, runs_root: Path
) -> None:
    """Draw past runs in one picture: loss, accuracy (test curves dashed) and lr per epoch.

    RUN is a run folder as `nnopt show` takes it (a path, or the start or end of a folder name under
    --runs-root): a train run, a resumed run, a comparison's entry (<folder>/<entry>), a sweep's saved run,
    a path on a surface (its loss and lr per step).
    --name and --status add the runs `nnopt runs` lists with them. One colour per run, labelled by the config
    keys that differ between the runs; a resumed run continues its parent's line from the resume point,
    marked with a ring.

    \b
      nnopt overlay l2 adam
      nnopt overlay --name 'l2*' --status completed
      nnopt overlay runs/20261201-033029-compare/sgd runs/20261201-033029-compare/adam --out sgd-adam.png

    Writes <runs-root>/<YYYYmmdd-HHMMSS>-overlay/ with overlay.csv (run, epoch and each run's metrics.csv
    columns: its rows unchanged), overlay.png and, last, summary.json (the runs and their labels); with --out,
    FILE.png and FILE.csv. Exit code 0, 2 for a folder that is not a run or runs of different kinds (the
    quadratic toy, a surface and a network): nothing is written.
    """
    from nnopt_cli.experiments import overlay as overlay_mod

    with _one_line_errors():
        done = overlay_mod.run(runs, runs_root=runs_root, name_glob=name_glob, status=status, out=out)
    if done.finished is None:
        click.echo("wrote " + ", ".join(str(p) for p in done.written))
        return
    click.echo(f"overlay folder: {done.finished.folder}")
    _finish(done.finished)


@cli.command()
@click.argument("run", metavar="RUN", shell_complete=completion.run_folders)
@click.option(
    "--runs-root",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder RUN is looked up in when it is not a path.",
)
@click.option(
    "--entry-pictures",
    is_flag=True,
    help="A comparison: also draw each entry's own loss.png, lr.png and boundary.png (confusion.png).",
)
def replot(run: str, runs_root: Path, entry_pictures: bool) -> None:
    """Draw a run's pictures again from its folder, without training.

    RUN is a run folder, a comparison's, a sweep's or a range test's (lr_find.png from lr_find.csv), a
    surface's (paths.png, loss.png, lr.png from trajectory.csv), or the start or end of a folder name under
    --runs-root. The pictures are drawn from the files the folder holds (config.yaml, metrics.csv, lr.csv,
    trace.csv, layers.csv, params.npz, summary.json; a sweep's sweep.csv and curves.csv) by the code
    `nnopt train`, `nnopt compare` and `nnopt sweep` draw them with, so they are the files those commands
    wrote, byte for byte: for a folder whose drawing was cut off or failed, or after a change of how
    pictures are drawn. Prints each file written; nothing else in the folder changes but summary.json's
    note of the pictures missing (pictures_missing), which loses those drawn.

    \b
      nnopt replot runs/20261121-173834-l2
      nnopt replot l2                                   (the one folder under runs/ ending in l2)
      nnopt replot 20261121-180102-compare --entry-pictures

    Exit code 0 when drawn, 2 for a folder that cannot be redrawn (a missing or unreadable metrics.csv,
    params.npz or config.yaml, files that disagree, data that changed since the run) or a picture that
    cannot be written.
    """
    from nnopt_cli.experiments import replot as replot_mod
    from nnopt_cli.store import catalog

    with _one_line_errors():
        folder = catalog.resolve(run, runs_root)
        written = replot_mod.redraw(folder, entry_pictures=entry_pictures)
    for path in written:
        click.echo(f"wrote {path}")


@cli.command("examples")
@click.argument("names", nargs=-1, metavar="[NAME]...", shell_complete=completion.example_names)
@click.option(
    "--copy",
    "destination",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Write the examples (or the NAMEs) into DIR to edit, keeping iris/; never overwrites a file.",
)
def list_examples(names: tuple[str, ...], destination: Path | None) -> None:
    """List the example configs nnopt ships, print one, or copy them out to edit.

    Every command that takes a config takes an example's name as well (a file of that name wins):
    nnopt train adam, nnopt compare iris/sgd iris/adam, nnopt sweep l2 --grid optimizer.lr=0.01,0.1.
    Without NAME, one line each: the name and what it teaches. With NAMEs, their YAML text.

    \b
      nnopt examples
      nnopt examples adam                 (the file nnopt train adam runs)
      nnopt examples --copy my-configs    (then: nnopt train my-configs/adam.yaml)

    Exit code 0, or 2 for an unknown NAME or a file in DIR that exists already (nothing is copied).
    """
    from nnopt_cli import examples

    with _one_line_errors():
        if destination is not None:
            written = examples.copy(destination, names)
            click.echo(
                f"copied {len(written)} example configs into {destination}; edit one and run it as a file: "
                f"nnopt train {written[0]}"
            )
            return
        if names:
            for name in names:
                file = examples.path(name)
                if file is None:
                    raise examples.ExampleError(f"{name!r} is not an example; {examples.hint(name)}")
                click.echo(file.read_text(encoding="utf-8"), nl=False)
            return
        listed = examples.names()
        width = max(len(n) for n in listed)
        for name in listed:
            click.echo(f"{name:<{width}}  {examples.summary(name)}")


def _finish(finished: Any) -> NoReturn:
    """Exit with the code of how a command ended (`session.Finished`): 0 completed, 3 diverged, 130 or 143
    interrupted by Ctrl-C or SIGTERM, saying why when it did not complete; 4 when a part failed while the
    folder was kept (a picture not drawn, a worker that died), in one `Error:` line, unless a signal or a
    divergence already gives the exit its code."""
    if finished.status != "completed" and finished.message:
        click.echo(f"nnopt: {finished.message}", err=True)
    if finished.failure:
        click.echo(f"Error: {finished.failure}", err=True)
    interrupted = EXIT_TERMINATED if finished.signum == signal.SIGTERM else EXIT_INTERRUPTED
    if finished.signum is None and finished.failure:
        interrupted = EXIT_INCOMPLETE
    codes = {
        "completed": EXIT_INCOMPLETE if finished.failure else 0,
        "diverged": EXIT_DIVERGED,
        "interrupted": interrupted,
    }
    sys.exit(codes[finished.status])


def main() -> None:
    completion.install()
    cli(prog_name="nnopt")


class _OrderedCommand(click.Command):
    """Keeps the raw arguments, so that a schedule option can apply to the --type it follows."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["raw_args"] = list(args)
        return super().parse_args(ctx, args)


# The plot-lr options that set a schedule parameter of the same name.
_CURVE_OPTIONS = frozenset(
    {
        "lr",
        "decay_steps",
        "decay_rate",
        "staircase",
        "end_lr",
        "power",
        "cycle",
        "alpha",
        "beta",
        "num_periods",
        "initial_variance",
        "variance_decay",
        "first_decay_steps",
        "t_mul",
        "m_mul",
        "boundaries",
        "values",
        "warmup_steps",
    }
)


def _number_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[float] | None:
    if value is None:
        return None
    try:
        return [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {value!r}") from None


def _curve_groups(ctx: click.Context) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
    """Split the command line into curves, in the order given: each --type TYPE or --config FILE starts one.
    Schedule options before the first --type apply to every curve, options after a --type to that curve
    only (later ones win). Returns (shared options, [("type" | "config", TYPE or FILE, own options)])."""
    command = ctx.command
    by_flag: dict[str, tuple[click.Option, Any]] = {}
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        for flag in param.opts:
            by_flag[flag] = (param, True if param.is_flag else None)
        for flag in param.secondary_opts:
            by_flag[flag] = (param, False)
    shared: dict[str, Any] = {}
    curves: list[tuple[str, str, dict[str, Any]]] = []
    args = ctx.meta.get("raw_args", [])
    i = 0
    while i < len(args):
        token = args[i]
        name, _, inline = token.partition("=")
        i += 1
        if name not in by_flag:
            continue
        param, flag_value = by_flag[name]
        if param.is_flag:
            value: Any = flag_value
        else:
            if not inline and token.find("=") < 0:
                inline = args[i] if i < len(args) else ""
                i += 1
            value = inline if param.multiple else param.process_value(ctx, inline)
        key = param.name or ""
        if key == "types":
            curves.append(("type", str(value), {}))
        elif key == "configs":
            curves.append(("config", str(value), {}))
        elif key in _CURVE_OPTIONS:
            if curves and curves[-1][0] == "config":
                raise InputError(
                    f"{name} after --config {curves[-1][1]}: a config's schedule comes from the file"
                )
            (curves[-1][2] if curves else shared)[key] = value
    return shared, curves


@cli.command("plot-lr", cls=_OrderedCommand)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Schedule type: constant, exponential, natural_exp, inverse_time, polynomial, cosine, "
    "cosine_restarts, linear_cosine, noisy_linear_cosine or piecewise_constant; repeat for several curves. "
    "Options after a --type apply to that curve, options before the first --type to all.  "
    "[default: exponential]",
)
@click.option("--lr", type=float, help="Initial rate lr0.  [default: 0.5]")
@click.option("--decay-steps", type=int, help="decay_steps D.  [default: 10]")
@click.option("--decay-rate", type=float, help="decay_rate.  [default: 0.9]")
@click.option(
    "--staircase/--no-staircase", default=None, help="Decay in whole steps of D.  [default: no-staircase]"
)
@click.option("--end-lr", type=float, help="polynomial: end rate.  [default: 0.0001]")
@click.option("--power", type=float, help="polynomial: power.  [default: 1]")
@click.option(
    "--cycle/--no-cycle",
    default=None,
    help="polynomial: restart the decay every D steps.  [default: no-cycle]",
)
@click.option("--alpha", type=float, help="cosine family: floor as a fraction of lr0.  [default: 0]")
@click.option("--beta", type=float, help="linear_cosine: constant added to the rate.  [default: 0.001]")
@click.option("--num-periods", type=float, help="linear_cosine: cosine periods within D.  [default: 0.5]")
@click.option(
    "--initial-variance", type=float, help="noisy_linear_cosine: noise variance at step 0.  [default: 1]"
)
@click.option(
    "--variance-decay", type=float, help="noisy_linear_cosine: decay of the noise variance.  [default: 0.55]"
)
@click.option("--first-decay-steps", type=int, help="cosine_restarts: first period (default: decay_steps).")
@click.option("--t-mul", type=float, help="cosine_restarts: period growth factor.  [default: 2]")
@click.option("--m-mul", type=float, help="cosine_restarts: restart height factor.  [default: 1]")
@click.option(
    "--boundaries",
    callback=_number_list,
    metavar="B0,B1,...",
    help="piecewise_constant: steps where the rate changes, e.g. 50,120.",
)
@click.option(
    "--values",
    callback=_number_list,
    metavar="V0,V1,...",
    help="piecewise_constant: one more rate than boundaries, e.g. 0.1,0.05,0.01.",
)
@click.option("--warmup-steps", type=int, help="Linear warmup from 0 over the first steps.  [default: 0]")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of noisy_linear_cosine's noise.")
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Number of steps drawn.",
)
@click.option(
    "--unit",
    type=click.Choice(["step", "epoch"]),
    default="step",
    show_default=True,
    help="What the x axis counts (the schedule is the same function of it).",
)
@click.option("--log", is_flag=True, help="Log scale for the rate (refused for a curve with negative rates).")
@click.option(
    "--x",
    "x_axis",
    type=click.Choice(["step", "fraction"]),
    default="step",
    show_default=True,
    help="What the x axis shows: the step, or the fraction of each curve's length (schedules of different "
    "lengths side by side, e.g. two --config files).",
)
@click.option(
    "--config",
    "configs",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="CONFIG",
    shell_complete=completion.config_files,
    help="Draw the schedule a run of CONFIG (a file or an example's name) would use, over its real steps. "
    "Repeatable.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.png",
    help="Where the PNG goes (default: a timestamped file under --runs-root).",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.csv",
    help="Also write the values: a step column, then one column per curve.",
)
@click.option(
    "--runs-root",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder that receives the PNG, as <YYYYmmdd-HHMMSS>-lr-<type>.png, when --out is not given.",
)
def plot_lr(
    types: tuple[str, ...],
    seed: int,
    steps: int,
    unit: str,
    log: bool,
    x_axis: str,
    configs: tuple[Path, ...],
    out: Path | None,
    csv_path: Path | None,
    runs_root: Path,
    **_: object,
) -> None:
    """Draw learning-rate schedules, exactly as the training loop evaluates them.

    \b
      nnopt plot-lr --type polynomial --cycle
      nnopt plot-lr --type polynomial --type polynomial --cycle      (seed 001's red/green pair)
      nnopt plot-lr --type exponential --type exponential --staircase
      nnopt plot-lr --type piecewise_constant --boundaries 50,120 --values 0.1,0.05,0.01
      nnopt plot-lr --config configs/adam.yaml
    """
    from nnopt_cli.experiments import lrplot

    with _one_line_errors():
        shared, curves = _curve_groups(click.get_current_context())
        png, csv = lrplot.run(
            shared,
            curves,
            steps=steps,
            seed=seed,
            unit=unit,
            log=log,
            x_axis=x_axis,
            out=out,
            csv=csv_path,
            runs_root=runs_root,
        )
    click.echo(f"wrote {png}" + (f" and {csv}" if csv else ""))
