"""`nnopt replot`: a folder's pictures drawn again from the files it holds, without training.

    run folder    runs.read_history ──► History; data and network rebuilt ──► experiment.run_view
                  ──► report.run_jobs ──► loss.png, lr.png, boundary.png (confusion.png)
    quadratic     runs.read_quadratic ──► QuadraticHistory ──► quadratic.png, lr.png
    surface       surfaces.read (trajectory.csv, summary.json) ──► SurfaceHistory ──► paths.png, loss.png,
                  lr.png
    comparison    compare.csv (the entries' order) and one run folder per entry
                  ──► compare.png, boundaries.png (and each entry's own pictures when asked)
    sweep         nnopt_cli.experiments.sweep.redraw, when this version has it
    range test    nnopt_cli.experiments.lrfind.redraw: lr_find.png from lr_find.csv and summary.json
    overlay       nnopt_cli.experiments.overlay.redraw: overlay.png from overlay.csv and summary.json

The pictures are drawn by the functions `nnopt train` and `nnopt compare` draw them with, from the same
numbers: metrics.csv and lr.csv hold floats in round-trip form and the .npz files the float64 weights, so a
redrawn PNG is the one the command drew, byte for byte. The exception is epoch 0, which is not a row of
metrics.csv: its values come from summary.json's `start` (every measure), or, in summaries written before
it, from `start_loss` and `start_accuracy` alone, so that curves of other measures (the data loss beside a
penalty, the moving average's, the test rows') then begin at epoch 1.

A folder without summary.json (its command was killed while drawing) is redrawn too, with the status the
training loop gave it (runs.read_history reads it off the files). It has no epoch 0, so loss.png and
compare.png start at epoch 1. Only pictures are written, and the note of the pictures missing (summary.json's
`pictures_missing`, store.folders.note_pictures): a picture drawn leaves it, one that fails is added.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Sequence
from pathlib import Path

from nnopt_cli import data as data_mod
from nnopt_cli.config import Config
from nnopt_cli.core import loop, mlp
from nnopt_cli.core.loop import History
from nnopt_cli.core.quadratic import QuadraticHistory
from nnopt_cli.experiments import experiment, session
from nnopt_cli.figures import report
from nnopt_cli.store import comparisons, folders, runs, surfaces
from nnopt_cli.store import runs as runs_mod  # `runs` is also _prepare's argument


class ReplotError(ValueError):
    """A folder whose pictures cannot be drawn again; str() is one line naming the file and the problem."""


def redraw(folder: Path, *, workers: int | None = None, entry_pictures: bool = False) -> list[Path]:
    """Draw the pictures of a run, quadratic-toy, comparison or sweep folder again from its files.

    Args:
      workers: drawing processes, as report.draw takes them (None: one per core, at most 4).
      entry_pictures: a comparison folder only: also draw every entry's own pictures in its folder, as
        `nnopt compare --entry-pictures` does.
    Returns:
      The picture files written (each through a temporary name, so a PNG on disk is always whole).
    Raises:
      ReplotError: a folder that is none of those, or whose files are missing, unreadable or disagree.
    """
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "no such folder"
        raise ReplotError(f"{folder}: {what}")
    kind = folders.kind_of(folder)
    if kind == folders.SWEEP:
        return _redraw_sweep(folder)
    if kind == folders.LRFIND:
        from nnopt_cli.experiments import lrfind

        with runs.folder_errors_as(ReplotError):
            return lrfind.redraw(folder)
    if kind == folders.OVERLAY:
        from nnopt_cli.experiments import overlay

        with runs.folder_errors_as(ReplotError):
            return overlay.redraw(folder)
    before = _pictures(folder)
    with runs.folder_errors_as(ReplotError):
        if kind == folders.COMPARISON:
            _redraw_comparison(folder, workers, entry_pictures)
        elif kind is None:
            raise ReplotError(
                f"{folder}: not a run folder (no config.yaml) nor a comparison's (no compare.csv)"
            )
        else:
            config = runs.read_config(folder)
            if config.model_type == "quadratic":
                _draw(folder, report.quadratic_jobs(folder, runs.read_quadratic(folder, config)), workers)
            elif config.model_type == "surface":
                _draw(folder, report.surface_jobs(folder, surfaces.read(folder, config)), workers)
            else:
                _redraw_run(folder, _history(folder, config), workers)
    after = _pictures(folder)
    return sorted(path for path, stamp in after.items() if before.get(path) != stamp)


def read_history(folder: Path) -> History:
    """The History a run folder's pictures are drawn from: runs.read_history's, with the updates per epoch
    of a run that stopped before its first epoch ended taken from its data.

    Raises:
      ReplotError: as runs.FolderError, or data that cannot be read.
    """
    folder = Path(folder)
    with runs.folder_errors_as(ReplotError):
        return _history(folder, runs.read_config(folder))


def read_quadratic(folder: Path) -> QuadraticHistory:
    """The QuadraticHistory of a quadratic toy's folder (runs.read_quadratic).

    Raises:
      ReplotError: as runs.FolderError.
    """
    with runs.folder_errors_as(ReplotError):
        return runs.read_quadratic(Path(folder))


# --- a run ------------------------------------------------------------------------------------------


def _redraw_run(folder: Path, history: History, workers: int | None) -> None:
    (prepared,) = _prepare([(folder, history)], folder)
    view = experiment.run_view(history, prepared)
    _draw(folder, report.run_jobs(folder, history, view), workers)


def _draw(folder: Path, jobs: list[report.Job], workers: int | None) -> None:
    """Draw the pictures; those drawn are no longer noted missing, those that fail are, with why.

    Raises:
      ReplotError: a picture that could not be drawn, or a note that could not be written.
    """
    try:
        failed = session.draw_noted(jobs, workers=workers)
    except OSError as exc:
        raise ReplotError(runs.io_message(exc)) from None
    if failed:
        raise ReplotError(session.pictures_line(folder, failed))


def _history(folder: Path, config: Config) -> History:
    h = runs.read_history(folder, config)
    if not h.epoch:
        h.steps_per_epoch = _steps_per_epoch(folder, config)
    return h


def _steps_per_epoch(folder: Path, config: Config) -> int:
    """Updates per epoch from the data, for a run that stopped before its first epoch ended."""
    try:
        train = experiment.load_data(config).train
    except data_mod.DataError as exc:
        raise ReplotError(f"{folder / 'config.yaml'}: cannot read the run's data: {exc}") from None
    return loop.steps_per_epoch(config.batch_size, train.size)


def _prepare(runs: Sequence[tuple[Path, History]], folder: Path) -> list[loop.Prepared]:
    """Each run's data and network, rebuilt without training and checked against its files: its updates per
    epoch and the shapes of its weights. The starting weights are drawn, never read: model.init_from may
    be gone, and the pictures show the final weights only."""
    configs = [h.config.replace(init_from=None) for _, h in runs]
    try:
        groups = experiment.prepare(configs)
    except (data_mod.DataError, experiment.SetupError) as exc:
        where = folder / folders.CONFIG if len(runs) == 1 else folder
        raise ReplotError(f"{where}: cannot rebuild the run's data and network: {exc}") from None
    prepared = {i: g.prepared for g in groups for i in g.indices}
    out = []
    for i, (run, h) in enumerate(runs):
        p = prepared[i]
        c = h.config
        with runs_mod.folder_errors_as(ReplotError):
            source = data_mod.source(c.data_name, c.data_path)
            runs_mod.check_data(run, h.data_digest, p.data_digest, source=source)
        per_epoch = loop.steps_per_epoch(h.config.batch_size, p.train.size)
        if h.steps_per_epoch != per_epoch:
            raise ReplotError(
                f"{run / 'metrics.csv'}: {h.steps_per_epoch} updates per epoch, but config.yaml's data has "
                f"{p.train.size} training rows, {per_epoch} batches of {h.config.batch_size}: config.yaml or "
                "its data changed since the run"
            )
        try:
            p.net.check_arrays(h.params, str(run / "params.npz"))
            if h.params_ema is not None:
                p.net.check_arrays(h.params_ema, str(run / "params_ema.npz"))
        except mlp.NetworkError as exc:
            raise ReplotError(str(exc)) from None
        out.append(p)
    return out


# --- a comparison -----------------------------------------------------------------------------------


def _redraw_comparison(folder: Path, workers: int | None, entry_pictures: bool) -> None:
    """compare.png and boundaries.png (and the entries' pictures) as compare.write_results draws them."""
    entries, seeds = comparisons.read_entries(folder)
    if entries and entries[0][1].model_type == "surface":
        _redraw_surface_comparison(folder, entries, workers, entry_pictures)
        return
    histories = [_history(sub, config) for sub, config in entries]
    prepared = _prepare([(sub, h) for (sub, _), h in zip(entries, histories, strict=True)], folder)
    names = [h.config.name for h in histories]
    firsts: dict[str, int] = {}  # each entry's first seed: the one boundaries.png shows
    for j, name in enumerate(names):
        firsts.setdefault(name, j)
    drawn = range(len(histories)) if entry_pictures else firsts.values()
    views = {j: experiment.run_view(histories[j], prepared[j]) for j in drawn}
    shown = [(histories[j], views[j]) for j in firsts.values()]
    jobs = report.comparison_jobs(folder, names, histories, shown, seeds)
    if entry_pictures:
        for j, (sub, _) in enumerate(entries):
            jobs += report.run_jobs(sub, histories[j], views[j])
    _draw(folder, jobs, workers)


def _redraw_surface_comparison(
    folder: Path, entries: list[tuple[Path, Config]], workers: int | None, entry_pictures: bool
) -> None:
    """compare.png of paths on a surface (and each entry's paths.png, loss.png, lr.png when asked), from
    each entry's trajectory.csv and summary.json, as compare draws them."""
    from nnopt_cli.figures import surfacecompare
    from nnopt_cli.store import surfaces

    histories = [surfaces.read(sub, config) for sub, config in entries]
    jobs = surfacecompare.jobs(folder, [h.config.name for h in histories], histories)
    if entry_pictures:
        for (sub, _), h in zip(entries, histories, strict=True):
            jobs += report.surface_jobs(sub, h)
    _draw(folder, jobs, workers)


# --- a sweep ----------------------------------------------------------------------------------------


def _redraw_sweep(folder: Path) -> list[Path]:
    try:
        sweep = importlib.import_module("nnopt_cli.experiments.sweep")
    except ModuleNotFoundError as exc:
        if exc.name != "nnopt_cli.experiments.sweep":
            raise
        sweep = None
    redraw_sweep = getattr(sweep, "redraw", None)
    if redraw_sweep is None:
        raise ReplotError(f"{folder}: a sweep folder; this version of nnopt cannot redraw sweep folders")
    return list(redraw_sweep(folder))


def _pictures(folder: Path) -> dict[Path, tuple[int, int]]:
    """The pictures (PNG, GIF) of a folder and of the folders in it, each with its inode and modification
    time: a picture written again is a new file renamed over the old one, so both change."""
    found = {}
    for path in [
        *folder.glob("*.png"),
        *folder.glob("*/*.png"),
        *folder.glob("*.gif"),
        *folder.glob("*/*.gif"),
    ]:
        with contextlib.suppress(FileNotFoundError):
            stat = path.stat()
            found[path] = (stat.st_ino, stat.st_mtime_ns)
    return found
