"""`nnopt compare`: several optimizers (or configs) trained side by side from the same start.

An entry is an optimizer name, an optimizer with settings of its own (`sgdm:lr=0.001,beta=0.9`,
`parse_entry`) or a config file. Entries that share the data, the network, the loss and the number of epochs
are trained as one population (experiment.prepare, loop.run), so one forward and backward pass per batch
serves all of them; each entry still gets a complete run folder, and its parameters equal those of `nnopt
train` on its resolved config, bit for bit. Paths on a surface (model.type surface) train as one population
of surface.train, each entry in a surface run folder (store/surfaces.py), compare.png drawn by
figures/surfacecompare.py.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnopt_cli import checks, examples, metrics
from nnopt_cli import config as config_mod
from nnopt_cli.core import loop, optimizers, surface
from nnopt_cli.experiments import experiment, session
from nnopt_cli.figures import report
from nnopt_cli.store import comparisons, folders, runs


@dataclass(frozen=True)
class Entry:
    """One line of the comparison: a name, a resolved config, and which seed of the --seeds repetitions."""

    name: str
    config: config_mod.Config
    seed_index: int = 0
    dropped: tuple[tuple[str, Any], ...] = ()  # keys of the base or a --set that have no effect on it


def _config_file(spec: str) -> Path | None:
    """The file an entry that is not an optimizer names: a path (an existing one, or one ending in .yaml,
    refused with the nearest names when missing) or a shipped example (`iris/adam`); None for neither."""
    if spec.endswith((".yaml", ".yml")) or Path(spec).is_file() or examples.is_example(spec):
        return examples.resolve(spec)
    return None


def build_entries(
    specs: Sequence[str],
    base: config_mod.Config,
    *,
    sets: Sequence[str] = (),
    epochs: int | None = None,
    seeds: int = 1,
) -> list[Entry]:
    """Resolve each entry: an optimizer name (its defaults on top of `base`), an optimizer with settings of
    its own (`sgdm:lr=0.001,beta=0.9`, see `parse_entry`) or a YAML config file.

    Every entry runs with the base seed (plus 0..seeds-1 with --seeds), so all start from the same weights.
    Raises:
      ConfigError: an entry that is neither an optimizer nor a readable config, or any config problem.
    """
    if not specs:
        raise config_mod.ConfigError(
            f"compare: name at least one entry: an optimizer ({', '.join(optimizers.names())}) "
            "or a config file"
        )
    if seeds < 1:
        raise config_mod.ConfigError(f"--seeds: must be >= 1, got {seeds}")
    extra = list(sets) + ([f"train.epochs={epochs}"] if epochs is not None else [])
    for item in sets:
        if item.partition("=")[0].strip() in ("optimizer.name", "name"):
            # an entry's name says what it trains; a --set that changed every entry's optimizer or name
            # would leave the table, compare.csv and the legend naming what did not run
            key = item.partition("=")[0].strip()
            raise config_mod.ConfigError(
                f"--set {key}: compare's entries choose the optimizer and the name; name the optimizers "
                "as entries (nnopt compare sgd rmsprop) or give config files"
            )
    resolved = [_resolve(spec, base, extra) for spec in specs]
    # the base config's seed, or the one a --set seed=S (or --seed S) gives every entry
    seeded = any(item.partition("=")[0].strip() == "seed" for item in extra)
    first_seed = resolved[0][1].seed if seeded else base.seed
    _refuse_unused(specs, base, extra, [dropped for _, _, dropped in resolved])
    names = _unique([name for name, _, _ in resolved])
    _check_kinds(specs, [cfg for _, cfg, _ in resolved], seeds=seeds)
    entries = []
    for (_, cfg, dropped), name in zip(resolved, names, strict=True):
        for s in range(seeds):
            entries.append(
                Entry(name, cfg.replace(name=name, seed=first_seed + s), s, tuple(dropped.items()))
            )
    return entries


KINDS = {"mlp": "a network", "surface": "a surface"}  # the model.type values a comparison takes


def _check_kinds(specs: Sequence[str], configs: Sequence[config_mod.Config], *, seeds: int) -> None:
    """Entries are all networks or all surfaces, and surfaces all of one function (compare.png draws their
    paths on one contour); a surface's path starts at model.start whatever the seed, so --seeds has no
    meaning there."""
    for spec, cfg in zip(specs, configs, strict=True):
        if cfg.model_type not in KINDS:
            raise config_mod.ConfigError(
                f"compare: {spec}: model.type {cfg.model_type} cannot be compared; "
                f"compare networks (mlp) or surfaces (surface)"
            )
    kinds = {cfg.model_type for cfg in configs}
    if len(kinds) > 1:
        first = {cfg.model_type: spec for spec, cfg in reversed(list(zip(specs, configs, strict=True)))}
        raise config_mod.ConfigError(
            f"compare: {first['surface']} is a surface (model.type surface) and {first['mlp']} a network; "
            "compare surfaces with surfaces and networks with networks"
        )
    if kinds == {"surface"}:
        functions: dict[tuple[str, float], str] = {}
        for spec, cfg in zip(specs, configs, strict=True):
            key = (cfg.function, cfg.condition if cfg.function == "quadratic" else 0.0)
            functions.setdefault(key, spec)
        if len(functions) > 1:
            (f1, c1), (f2, c2) = list(functions)[:2]
            what = [f"{f} (condition {c:g})" if f == "quadratic" else f for f, c in ((f1, c1), (f2, c2))]
            one, other = list(functions.values())[:2]
            raise config_mod.ConfigError(
                f"compare: {one} is a path on {what[0]} and {other} on {what[1]}: paths on different "
                "surfaces share no contour; compare one function at a time"
            )
    if kinds == {"surface"} and seeds > 1:
        raise config_mod.ConfigError(
            f"--seeds {seeds}: a surface's path starts at model.start whatever the seed, so every seed would "
            "draw the same path; leave --seeds out"
        )


def dropped_keys(entries: Sequence[Entry]) -> dict[str, dict[str, Any]]:
    """The keys dropped from some entries because they have no effect there: {key: {"value": ..., "entries":
    [names]}}, for the terminal and summary.json."""
    out: dict[str, dict[str, Any]] = {}
    for e in entries:
        for key, value in e.dropped:
            item = out.setdefault(key, {"value": value, "entries": []})
            if e.name not in item["entries"]:
                item["entries"].append(e.name)
    return out


def _refuse_unused(
    specs: Sequence[str], base: config_mod.Config, extra: list[str], dropped: list[dict[str, Any]]
) -> None:
    """A --set that has no effect on any entry is refused, with the reason of the first entry that does not
    set the key itself; when every entry sets it itself (`sgd:lr=0.1 adam:lr=0.01` with --lr), with that."""
    for item in extra:
        key = item.partition("=")[0].strip()
        if not dropped or not all(key in d for d in dropped):
            continue
        for spec in specs:
            own = parse_entry(spec)
            if own is not None and key in own.settings:
                continue
            raw = _entry_raw(spec, base)
            try:  # resolved again without dropping: the error says why
                if raw is None:
                    config_mod.load(examples.resolve(spec), extra)
                else:
                    config_mod.from_dict(raw, extra, name=spec)
            except config_mod.ConfigError as exc:
                raise config_mod.ConfigError(f"{exc}; no entry uses it ({', '.join(specs)})") from None
        raise config_mod.ConfigError(
            f"--set {item}: every entry sets {key} itself ({', '.join(specs)}), so it would "
            "change none of them; leave it out, or give the value in the entries"
        )


# the optimizer keys every optimizer has; an entry may also set its own optimizer's settings (beta, eps, ...)
ENTRY_COMMON = ("lr", "decay", "clip_norm", "clip_value")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")  # what a run name may not hold (config's rule for `name`)


@dataclass(frozen=True)
class OwnSettings:
    """An entry `NAME:k=v,k2=v2`: the optimizer, its settings as config key paths with their parsed values
    (`{"optimizer.lr": 0.001}`), and the entry's name (`sgd-lr0.001`: the optimizer, then each key and the
    value as typed, joined by '-', with '_' between a key ending in a digit and its value, `beta1_0.8`: a
    folder name on every file system)."""

    optimizer: str
    settings: dict[str, Any]
    name: str


def entry_settings(optimizer: str) -> tuple[str, ...]:
    """The keys an entry of `optimizer` may set (without the `optimizer.` prefix): lr, decay, clip_norm,
    clip_value and the optimizer's own settings (optimizers.REGISTRY)."""
    return (*ENTRY_COMMON, *optimizers.spec(optimizer).settings)


def parse_entry(spec: str) -> OwnSettings | None:
    """An entry `NAME:k=v,k2=v2` read: NAME an optimizer, each k one of its `entry_settings` (a short name:
    `lr`, not `optimizer.lr`; keys of other sections go in --set or in a config file as the entry), each v
    parsed as a --set value (a YAML scalar) and checked as the key checks it. None for a spec without ':' or
    whose part before it is not a word (a path such as C:\\runs\\a.yaml).

    Raises:
      ConfigError: one line naming the entry: an unknown optimizer or key (with a did-you-mean), no
        settings after the colon, an item without `=`, a key given twice, a value out of range.
    """
    head, colon, rest = spec.partition(":")
    if not colon or not re.fullmatch(r"[A-Za-z_][\w]*", head) or spec.endswith((".yaml", ".yml")):
        return None
    if Path(spec).is_file():
        return None
    where = f"compare entry {spec if len(spec) <= 80 else spec[:79] + '…'}"
    if head not in optimizers.names():
        raise config_mod.ConfigError(
            f"{where}: no optimizer {head!r}; {checks.did_you_mean(head, optimizers.names())}"
        )
    allowed = entry_settings(head)
    example = f"{head}:lr=0.01"
    if not rest.strip():
        raise config_mod.ConfigError(
            f"{where}: no settings after the colon; write them as {example} "
            f"(or {head} alone for its defaults)"
        )
    settings: dict[str, Any] = {}
    texts = []
    for item in rest.split(","):
        key, equals, text = (part.strip() for part in item.partition("="))
        if not equals or not key:
            raise config_mod.ConfigError(
                f"{where}: {item.strip() or 'an empty item'}: expected KEY=VALUE, as in {example}"
            )
        if key not in allowed:
            short = key.removeprefix("optimizer.")
            if short in allowed:
                hint = f"write {short}, not {key}"
            else:
                having = [n for n in optimizers.names() if short in optimizers.spec(n).settings]
                hint = checks.did_you_mean(short, allowed).replace("known: ", "its settings: ")
                if having:
                    hint += f" ({short} is a setting of {', '.join(having)})"
                elif "." in key:
                    hint += "; keys of other sections go in --set, or in a config file given as the entry"
            raise config_mod.ConfigError(f"{where}: {head} has no setting {key}; {hint}")
        path = f"optimizer.{key}"
        if path in settings:
            raise config_mod.ConfigError(f"{where}: {key} given twice")
        try:
            _, value = config_mod.parse_set(f"{path}={text}")
            own = optimizers.spec(head).settings.get(key)
            settings[path] = own.check(value, path) if own else config_mod.by_path()[path].check(value)
        except (config_mod.ConfigError, checks.CheckError) as exc:
            raise config_mod.ConfigError(f"{where}: {str(exc).removeprefix('--set ')}") from None
        glue = "_" if key[-1].isdigit() else ""  # beta1_0.8, not beta10.8
        texts.append(f"{key}{glue}{_UNSAFE.sub('_', text)}")
    return OwnSettings(head, settings, "-".join([head, *texts]))


def _entry_raw(spec: str, base: config_mod.Config) -> dict[str, Any] | None:
    """An optimizer entry's raw config (the base with that optimizer at its defaults, and the entry's own
    settings), or None for a file."""
    own = parse_entry(spec)
    if own is None and spec not in optimizers.names():
        return None
    name = own.optimizer if own is not None else spec
    raw = base.to_dict()
    raw["name"] = own.name if own is not None else spec
    raw["optimizer"] = {
        "name": name,
        "lr": base.lr,
        "decay": base.lr_decay,
        "clip_norm": base.clip_norm,  # clipping applies to every optimizer: the base's stays
        "clip_value": base.clip_value,
    }
    for path, value in own.settings.items() if own is not None else ():
        raw["optimizer"][path.removeprefix("optimizer.")] = value
    return raw


def _resolve(
    spec: str, base: config_mod.Config, extra: list[str]
) -> tuple[str, config_mod.Config, dict[str, Any]]:
    """An entry's name, resolved config and the keys dropped from it (a --set it has no use for, a setting of
    the base's optimizer); a --set the entry refuses is reported with the entry."""
    dropped: dict[str, Any] = {}
    try:
        raw = _entry_raw(spec, base)
        if raw is not None:
            own = parse_entry(spec)
            settings = own.settings if own is not None else {}
            kept = []
            for item in extra:  # the entry's own settings win over a --set of the same key
                key, value = config_mod.parse_set(item)
                if key in settings:
                    dropped.setdefault(key, value)
                else:
                    kept.append(item)
            cfg = config_mod.from_dict(raw, kept, name=spec, dropped=dropped)
            defaults = optimizers.defaults(base.optimizer)
            given = {s.partition("=")[0].strip() for s in extra} | set(settings)
            for k, v in base.optimizer_params.items():  # the base's settings: the entry takes its defaults
                if v != defaults.get(k) and f"optimizer.{k}" not in given:
                    dropped.setdefault(f"optimizer.{k}", v)
            return cfg.name, cfg, dropped
        file = _config_file(spec)
        if file is not None:
            loaded = config_mod.load(file, extra, dropped=dropped)
            return loaded.name, loaded, dropped
    except config_mod.ConfigError as exc:
        if str(exc).startswith("--set "):  # another entry may take it (adam has beta1, sgd does not)
            raise config_mod.ConfigError(f"compare entry {spec}: {exc}") from None
        raise
    raise config_mod.ConfigError(
        f"compare: {spec!r} is neither an optimizer, a config file nor an example; "
        f"{checks.did_you_mean(spec, [*optimizers.names(), *examples.names()])}"
    )


def _unique(names: list[str]) -> list[str]:
    """Entry names as their folders can hold them, decided before anything trains: a name taken by an entry
    before it, by another entry's own name, or by a file of the comparison (comparisons.OWN_FILES) gets the
    first free `-2`, `-3`, ..."""
    given = set(names)
    used = set(comparisons.OWN_FILES)
    out = []
    for name in names:
        chosen, k = name, 1
        while chosen in used or (k > 1 and chosen in given):
            k += 1
            chosen = f"{name}-{k}"
        used.add(chosen)
        out.append(chosen)
    return out


def run_name(config: config_mod.Config, *, seeds: int) -> str:
    """The name of an entry's run (its folder's, its progress lines'): the entry's, with `--seeds` and its
    seed."""
    return folders.entry_folder_name(config.name, config.seed, seeds)


def start_folders(folder: Path, entries: Sequence[Entry], *, seeds: int) -> list[Path]:
    """One run folder per entry inside the comparison's folder, holding its resolved config.yaml."""
    return comparisons.start(folder, [e.config for e in entries], seeds=seeds)


@dataclass
class Row:
    """One entry of compare.csv and of the terminal table: its metrics over its seeds."""

    name: str
    rule: str
    values: dict[str, list[float | None]]
    statuses: list[str]

    def stats(self, key: str) -> metrics.Stats:
        """The metric over the entry's seeds (metrics.aggregate: over the seeds that did not diverge)."""
        return metrics.aggregate(self.values[key], [s == "diverged" for s in self.statuses])

    def mean(self, key: str) -> float:
        return self.stats(key).mean

    def std(self, key: str) -> float:
        return self.stats(key).std


# compare.csv's metrics, in its column order (with a test split the test ones too)
COLUMNS = ("final_loss", "final_accuracy", "best_loss", "converged_epoch", "train_seconds")
TEST_COLUMNS = ("final_test_loss", "final_test_accuracy")
# regularized entries: the data loss, to compare them with the others by the data alone
REGULARIZED_COLUMNS = ("final_data_loss", "best_data_loss")


def summarize(
    entries: Sequence[Entry], histories: Sequence[loop.History], *, target: float | None = None
) -> list[Row]:
    """The table's rows: each entry's metrics (metrics.compute) over its seeds."""
    rows: dict[str, Row] = {}
    with_test = any(h.with_test for h in histories)
    regularized = any(e.config.regularizer != "none" and e.config.reg_scale > 0 for e in entries)
    wanted = (
        COLUMNS[:3]
        + (REGULARIZED_COLUMNS if regularized else ())
        + COLUMNS[3:]
        + (TEST_COLUMNS if with_test else ())
    )
    for entry, h in zip(entries, histories, strict=True):
        if entry.name not in rows:
            rows[entry.name] = Row(
                name=entry.name,
                rule=optimizers.rule(entry.config.optimizer, entry.config.optimizer_params),
                values={k: [] for k in wanted},
                statuses=[],
            )
        row = rows[entry.name]
        measured = metrics.compute(h, target=target)
        for key in wanted:
            row.values[key].append(measured.get(key))
        row.statuses.append(h.status)
    return list(rows.values())


def csv_columns(rows: Sequence[Row], seeds: int) -> dict[str, list[Any]]:
    """compare.csv: one row per entry; with several seeds, a mean and a std column per metric (over the
    seeds that did not diverge) and `runs`, `diverged`."""
    columns: dict[str, list[Any]] = {"name": [r.name for r in rows]}
    if seeds > 1:
        columns["runs"] = [len(r.statuses) for r in rows]
        columns["diverged"] = [r.statuses.count("diverged") for r in rows]
    for key in rows[0].values if rows else ():
        m = metrics.get(key)
        if seeds == 1:
            columns[key] = [m.csv(r.values[key][0]) for r in rows]
        else:
            stats = [r.stats(key) for r in rows]
            columns[f"{key}_mean"] = [m.csv(s.mean) for s in stats]
            columns[f"{key}_std"] = [m.csv(s.std) for s in stats]
    columns["status"] = [";".join(sorted(set(r.statuses))) for r in rows]
    return columns


def write_results(
    folder: Path,
    entries: Sequence[Entry],
    histories: Sequence[loop.History | None],
    subfolders: Sequence[Path],
    groups: Sequence[experiment.Group],
    *,
    seeds: int,
    entry_pictures: bool = False,
    target: float | None,
    started: float,
) -> tuple[list[Row], list[report.Job]]:
    """Complete every trained entry's run folder and write compare.csv. Entries left untrained (None) keep
    a folder with config.yaml only. Returns the table's rows and the pictures to draw then: compare.png and
    boundaries.png, and each entry's own with `entry_pictures` (independent jobs)."""
    prepared = {i: g.prepared for g in groups for i in g.indices}
    done = [i for i, h in enumerate(histories) if h is not None]
    trained = [h for h in histories if h is not None]
    names = [entries[i].name for i in done]
    firsts: dict[str, int] = {}  # each entry's first seed: the one boundaries.png shows
    for j, name in enumerate(names):
        firsts.setdefault(name, j)
    drawn = range(len(done)) if entry_pictures else firsts.values()
    views = {j: experiment.run_view(trained[j], prepared[done[j]]) for j in drawn}
    shown = [(trained[j], views[j]) for j in firsts.values()]
    jobs = report.comparison_jobs(folder, names, trained, shown, seeds)
    for j, (h, i) in enumerate(zip(trained, done, strict=True)):
        runs.write_data(subfolders[i], h)
        runs.write_summary(subfolders[i], h, started=started, clock=time.perf_counter)
        if entry_pictures:
            jobs += report.run_jobs(subfolders[i], h, views[j])
    rows = summarize([entries[i] for i in done], trained, target=target)
    comparisons.write_table(folder, csv_columns(rows, seeds))
    return rows, jobs


def caption(target: float | None, *, with_test: bool = False) -> str:
    """What the table's converged epoch and train time mean."""
    definition = metrics.converged_definition(with_test=with_test, target=target)
    return (
        f"{definition}. Train time: the training loop of the population the entry trained in (entries of "
        "one network shape train together, one pass per batch, and share it). With --seeds: "
        f"{metrics.AGGREGATION}. Best of each column in green."
    )


# (label, the name of each run by its config, print every) -> a context manager that takes each epoch's
# report of a group of entries (loop.EpochCallback): the groups train one after the other
GroupsReporter = Callable[
    [str, Callable[[config_mod.Config], str], int], AbstractContextManager[loop.EpochCallback]
]


@dataclass(frozen=True)
class Comparison:
    """A finished comparison: its folder and status, the table's rows and what the table means."""

    finished: session.Finished
    rows: list[Row]
    seeds: int
    caption: str


def run(
    specs: Sequence[str],
    *,
    base_file: Path | None = None,
    sets: Sequence[str] = (),
    epochs: int | None = None,
    seeds: int = 1,
    entry_pictures: bool = False,
    target: float | None = None,
    runs_root: Path = Path("runs"),
    reporter: GroupsReporter,
    note: Callable[[str], None] = lambda line: None,
) -> Comparison:
    """Train the entries side by side into `<runs_root>/<stamp>-compare/`.

    A diverged entry is a result, not a failure: the comparison is completed unless interrupted. `note` is
    told, before training, which keys some entries drop because they have no effect there.
    Raises:
      config.ConfigError, data.DataError, experiment.SetupError, runs.RunFolderError (nothing written);
      session.WriteError (the unfinished folder removed).
    """
    started = time.perf_counter()
    if base_file is not None:
        base = config_mod.load(examples.resolve(base_file))  # a file, or the name of a shipped example
    else:
        base = config_mod.from_dict({}, name="compare")
    if base.model_type not in KINDS:
        raise config_mod.ConfigError(
            f"{base_file}: model.type {base.model_type} cannot be compared; give a network (mlp) or a "
            "surface (surface) config"
        )
    if base.model_type == "surface" and epochs is not None:
        raise config_mod.ConfigError(
            "--epochs: a path on a surface counts steps, not epochs; use --set train.steps=N"
        )
    items = build_entries(specs, base, sets=sets, epochs=epochs, seeds=seeds)
    if items[0].config.model_type == "surface":
        return _run_surfaces(
            items,
            target=target,
            entry_pictures=entry_pictures,
            runs_root=runs_root,
            note=note,
            started=started,
        )
    groups = experiment.prepare([e.config for e in items])
    dropped = dropped_keys(items)
    if dropped:
        note(config_mod.dropped_line(dropped, total=len(items)))
    with session.filling(runs_root, "compare") as s:
        subfolders = start_folders(s.folder, items, seeds=seeds)
        if dropped:
            comparisons.write_dropped(s.folder, dropped)
        label = f"compare ({len(items)} runs)"
        with reporter(label, functools.partial(run_name, seeds=seeds), base.log_every) as progress:
            histories = experiment.train_groups(groups, on_epoch=progress, should_stop=s.stop_requested)
        rows, jobs = write_results(
            s.folder,
            items,
            histories,
            subfolders,
            groups,
            seeds=seeds,
            entry_pictures=entry_pictures,
            target=target,
            started=started,
        )
        s.draw(jobs)
    with_test = any(h is not None and h.with_test for h in histories)
    interrupted = any(h is None or h.status == "interrupted" for h in histories)
    return Comparison(_finished(s, interrupted), rows, seeds, caption(target, with_test=with_test))


def _finished(s: session.Session, interrupted: bool) -> session.Finished:
    """How a comparison ended: completed, or interrupted with every entry keeping what it did."""
    return session.Finished(
        s.folder,
        "interrupted" if interrupted else "completed",
        "interrupted; every entry keeps what it did" if interrupted else "",
        s.signum,
        failure=s.failure(),
    )


# --- surfaces ----------------------------------------------------------------------------------------


def summarize_surfaces(
    entries: Sequence[Entry], histories: Sequence[surface.SurfaceHistory], *, target: float | None = None
) -> list[Row]:
    """The table's rows of surface entries: each path's metrics (metrics.compute_surface)."""
    rows = []
    for entry, h in zip(entries, histories, strict=True):
        measured = metrics.compute_surface(h, distance=surface_distance(h), target=target)
        rows.append(
            Row(
                name=entry.name,
                rule=optimizers.rule(entry.config.optimizer, entry.config.optimizer_params),
                values={k: [v] for k, v in measured.items()},
                statuses=[h.status],
            )
        )
    return rows


def surface_distance(h: surface.SurfaceHistory) -> float:
    """From a path's last point to the nearest minimum of its function; NaN for the saddle (no minimum)."""
    if not surface.FUNCTIONS[h.config.function].minima:
        return math.nan
    return surface.nearest(h.config, float(h.x[-1]), float(h.y[-1]))[1]


def surface_caption(target: float | None) -> str:
    """What the surface table's target step, distance and train time mean."""
    return (
        f"{metrics.target_step_definition(target)}. Train time: every entry trains in one population, one "
        "update of all of them per step, and shares it. Best of each column in green."
    )


def _run_surfaces(
    items: Sequence[Entry],
    *,
    target: float | None,
    entry_pictures: bool,
    runs_root: Path,
    note: Callable[[str], None],
    started: float,
) -> Comparison:
    """Surface entries: one population (surface.train), a surface run folder per entry (its paths.png,
    loss.png and lr.png with `entry_pictures`), compare.csv and compare.png (every path on one contour, the
    loss per step beside it)."""
    from nnopt_cli.figures import surfacecompare
    from nnopt_cli.store import surfaces

    dropped = dropped_keys(items)
    if dropped:
        note(config_mod.dropped_line(dropped, total=len(items)))
    with session.filling(runs_root, "compare") as s:
        subfolders = start_folders(s.folder, items, seeds=1)
        if dropped:
            comparisons.write_dropped(s.folder, dropped)
        histories = surface.train([e.config for e in items], should_stop=s.stop_requested)
        for sub, h in zip(subfolders, histories, strict=True):
            surfaces.write_results(sub, h, started=started, clock=time.perf_counter)
        rows = summarize_surfaces(items, histories, target=target)
        comparisons.write_table(s.folder, csv_columns(rows, 1))
        jobs = surfacecompare.jobs(s.folder, [e.name for e in items], histories)
        if entry_pictures:
            for sub, h in zip(subfolders, histories, strict=True):
                jobs += report.surface_jobs(sub, h)
        s.draw(jobs)
    interrupted = any(h.status == "interrupted" for h in histories)
    return Comparison(_finished(s, interrupted), rows, 1, surface_caption(target))
