"""`nnopt train`: one config, or a run folder to continue, trained into a new run folder.

    config (or resume: the folder's config and state) ──► data, network, start ──► loop ──► run folder

Nothing here prints: progress goes to the `reporter` the caller gives, and the result comes back as a
`session.Finished` with the run's summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from nnopt_cli import config as config_mod
from nnopt_cli import examples
from nnopt_cli.core import loop, quadratic, surface
from nnopt_cli.experiments import experiment, session
from nnopt_cli.figures import report
from nnopt_cli.store import runs, surfaces

# (label, epochs, print every) -> a context manager that takes each epoch's report (loop.EpochCallback)
Reporter = Callable[[str, int, int], AbstractContextManager[loop.EpochCallback]]


class UsageError(ValueError):
    """Arguments that do not go together; one line."""


def run(
    config_file: Path | None,
    *,
    resume_from: str | None = None,
    sets: Sequence[str] = (),
    shortcuts: Sequence[str] = (),
    epochs_given: bool = False,
    runs_root: Path = Path("runs"),
    reporter: Reporter,
) -> session.Finished:
    """Train as `config_file` says (with the `sets` overrides), or continue the run folder `resume_from` (a
    path, or the start or end of a folder name under `runs_root`), into a new folder under `runs_root`.

    Args:
      shortcuts: the --set forms of --epochs, --lr and --seed, applied after `sets`.
      epochs_given: train.epochs was set by an --epochs option (named in the error for the toy, which counts
        updates).
    Raises:
      UsageError, config.ConfigError, data.DataError, experiment.SetupError, resume.ResumeError,
      runs.RunFolderError (nothing written); session.WriteError (the unfinished folder removed; or, once
      the data and summary are written, the folder kept).
    """
    started = time.perf_counter()
    start = None
    if resume_from is not None:
        from nnopt_cli.experiments import resume

        if config_file is not None:
            raise UsageError(f"CONFIG {config_file} and --resume {resume_from}: give one of them")
        from nnopt_cli.store import catalog

        config, start = resume.load(catalog.resolve(resume_from, runs_root), [*sets, *shortcuts])
        group = resume.prepare(config, start)
    else:
        if config_file is None:
            raise UsageError(
                "missing CONFIG (a YAML file, or an example's name: nnopt examples lists them), "
                "or --resume RUN to continue a run"
            )
        config_file = examples.resolve(config_file)  # a file, or the name of a shipped example
        if epochs_given:
            model_type = config_mod.load(config_file, tuple(sets)).model_type
            if model_type in ("quadratic", "surface"):
                raise UsageError(
                    f"--epochs: model.type {model_type} counts updates, not epochs; use --set train.steps=N"
                )
        config = config_mod.load(config_file, tuple(sets), shortcuts=shortcuts)
        if config.model_type == "quadratic":
            return _toy(config, runs_root, started)
        if config.model_type == "surface":
            return _surface(config, runs_root, started)
        (group,) = experiment.prepare([config])
    with session.filling(runs_root, config.name) as s:
        runs.write_start(s.folder, config)
        with reporter(config.name, config.epochs, config.log_every) as progress:
            (history,) = loop.run(
                [config],
                group.prepared,
                on_epoch=progress,
                should_stop=s.stop_requested,
                resume=None if start is None else [start],
            )
        view = experiment.run_view(history, group.prepared)
        runs.write_data(s.folder, history)
        summary = runs.write_summary(s.folder, history, started=started, clock=time.perf_counter)
        s.draw(report.run_jobs(s.folder, history, view))
    return session.Finished(s.folder, history.status, history.message, s.signum, summary, s.failure())


def _toy(config: config_mod.Config, runs_root: Path, started: float) -> session.Finished:
    """The one-parameter toy (model.type quadratic): its own history, picture and summary."""
    experiment.check_length([config], per_epoch=1)
    with session.filling(runs_root, config.name) as s:
        runs.write_start(s.folder, config)
        toy = quadratic.train(config, should_stop=s.stop_requested)
        summary = runs.write_quadratic_results(s.folder, toy, started=started, clock=time.perf_counter)
        s.draw(report.quadratic_jobs(s.folder, toy))
    return session.Finished(s.folder, toy.status, toy.message, s.signum, summary, s.failure())


def _surface(config: config_mod.Config, runs_root: Path, started: float) -> session.Finished:
    """A path on a 2-D surface (model.type surface): a population of one, its trajectory and pictures."""
    experiment.check_length([config], per_epoch=1)
    with session.filling(runs_root, config.name) as s:
        runs.write_start(s.folder, config)
        (history,) = surface.train([config], should_stop=s.stop_requested)
        summary = surfaces.write_results(s.folder, history, started=started, clock=time.perf_counter)
        s.draw(report.surface_jobs(s.folder, history))
    return session.Finished(s.folder, history.status, history.message, s.signum, summary, s.failure())
