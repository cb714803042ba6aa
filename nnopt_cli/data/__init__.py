"""Data sets: the course's dot.csv, Fisher's iris, TensorFlow Playground's four generated sets, any CSV.

    load_set(name, ...) ──► Dataset(x, labels, classes, feature_names, name) ──► split(...) ──► train, test

`DATA_SETS` maps each name to its loader; adding a set is one function and one line there.

| name | what | rows |
|---|---|---|
| dot | the bundled dot.csv: RandomState(2).randn(300, 2), class 1 inside x1² + x2² < 2 | 300 |
| iris | scikit-learn's copy of Fisher's iris, bundled as iris.csv, species 0/1/2 as there | 150 |
| circle, xor, gauss, spiral | TensorFlow Playground's generators (src/dataset.ts), −1/+1 → 0/1 | ≈ samples |
| csv | any CSV: chosen feature columns and a label column of class numbers or names | the file's |

Errors are `DataError`, a `CheckError`: a bad argument carries its key path ("data.noise"); a problem
found in a file carries no key and its one-line message starts with the file's name.
"""

from __future__ import annotations

import csv
import hashlib
import math
import numbers
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from nnopt_cli import checks
from nnopt_cli.checks import CheckError
from nnopt_cli.keys import Key, only

COLUMNS = ("x1", "x2", "y_c")
BUNDLED_NAME = "dot.csv"
IRIS_NAME = "iris.csv"

MAX_CLASSES = 1000
"""A label column with more classes than this is refused: it is an id or a measurement, not a class."""
MAX_SAMPLES = 1_000_000
"""The largest `samples` a generated set takes (its points, with the scratch draws, stay below 100 MB)."""
PLAYGROUND_CLASSES = ("-1", "+1")
"""Class names of the generated sets: class 0 is the Playground's −1 (orange), class 1 its +1 (blue)."""


class DataError(CheckError):
    """A data set that cannot be used; str() is one line.

    `key` is the argument's key path ("data.noise", "data.test_size") for a bad argument, or "" for a
    problem found in a file, whose message then starts with the file's name and names the row or column.
    """


def _file_error(name: str, problem: str) -> DataError:
    return DataError("", f"{name}: {problem}")


@dataclass(frozen=True)
class Dataset:
    """Inputs `x` (N, d) float64, class labels `labels` (N,) int64 in 0 .. K−1, and names.

    Attributes:
      classes: the K class names; label k is `classes[k]`.
      feature_names: the d column names of `x` (default x1, x2, ...).
      name: where the data came from: a data set's name or a CSV file's path.
    """

    x: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...] = ("0", "1")
    feature_names: tuple[str, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if self.x.ndim != 2 or self.labels.shape != (self.x.shape[0],):
            raise ValueError(f"x must be (N, d) and labels (N,), got {self.x.shape} and {self.labels.shape}")
        if not self.feature_names:
            names = tuple(f"x{j + 1}" for j in range(self.x.shape[1]))
            object.__setattr__(self, "feature_names", names)  # frozen: the one place a default is filled
        if len(self.feature_names) != self.x.shape[1]:
            raise ValueError(f"{len(self.feature_names)} feature names for {self.x.shape[1]} columns of x")

    @property
    def size(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_features(self) -> int:
        return int(self.x.shape[1])

    def rows(self, index: np.ndarray | slice) -> Dataset:
        """The rows `index` (an integer array or a slice), every name kept."""
        return replace(self, x=self.x[index], labels=self.labels[index])


# --- dot.csv -------------------------------------------------------------------------------------


def generate_dot(n: int = 300, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The course's generator: X = RandomState(2).randn(300, 2); y_c = 1 if x1² + x2² < 2 else 0."""
    x = np.random.RandomState(seed).randn(n, 2)
    y = (x[:, 0] ** 2 + x[:, 1] ** 2 < 2).astype(np.int64)
    return x, y


def dot_csv_text(n: int = 300, seed: int = 2) -> str:
    """dot.csv as text; floats in shortest round-trip form, so reading it back is exact."""
    x, y = generate_dot(n, seed)
    rows = [",".join(COLUMNS)]
    rows += [f"{a!r},{b!r},{c}" for (a, b), c in zip(x.tolist(), y.tolist(), strict=True)]
    return "\n".join(rows) + "\n"


def bundled_path(file: str = BUNDLED_NAME) -> Path:
    """A CSV shipped inside the package: dot.csv (the default) or iris.csv."""
    return Path(str(resources.files("nnopt_cli") / "data" / file))


def load(path: str | Path | None = None) -> Dataset:
    """Load a CSV with a header naming x1, x2 and y_c (other columns are ignored), labels 0 or 1.

    Args:
      path: the file; None means the bundled dot.csv.
    Raises:
      DataError: missing file, missing column, non-numeric or non-finite cell, a label other than 0/1,
        a short row, or no data rows.
    """
    file = bundled_path() if path is None else Path(path)
    shown = BUNDLED_NAME if path is None else str(path)
    dataset = _read(file, shown, features=COLUMNS[:2], label=COLUMNS[2], binary=True)
    return replace(dataset, name="dot" if path is None else shown)


# --- any CSV -------------------------------------------------------------------------------------


def read_csv(
    path: str | Path,
    *,
    features: Sequence[str] | None = None,
    label: str | None = None,
    name: str | None = None,
) -> Dataset:
    """Read a CSV with a header row: the `features` columns as x (in that order), `label` as the classes.

    The label column holds class numbers or class names, decided by the first data row. Numbers must be
    integers 0 .. K−1 (K − 1 the largest seen; a class may have no rows): classes "0", "1", ... Names
    become classes in sorted order, label k the k-th name. At least two classes must have rows.

    The file is read once, row by row, each cell converted as it is read (floats into one growing
    array), so the memory used is the floats and little else. Blank lines are skipped.

    Args:
      path: the file.
      features: the input columns, in order; None means every column but the label.
      label: the label column; None means the last column.
      name: the data set's name (default: the path).
    Raises:
      DataError (no key; the message names the file, and the row (header = row 1) or the column): missing
        file, a directory, an empty file, a missing column, a cell that is not a finite number, a short
        row, a bad label, fewer than two classes, no data rows.
    """
    shown = str(path)
    feats = None if features is None else tuple(features)
    dataset = _read(Path(path), shown, features=feats, label=label, binary=False)
    return replace(dataset, name=shown if name is None else name)


def _read(
    file: Path, shown: str, *, features: tuple[str, ...] | None, label: str | None, binary: bool
) -> Dataset:
    """One pass over the CSV `file` (`shown` in messages). `binary`: dot.csv's rule, labels 0 or 1 only."""
    try:
        handle = open(file, "rb")  # noqa: SIM115  # closed below; decoded line by line (_Lines)
    except FileNotFoundError:
        raise _file_error(shown, "no such file") from None
    except IsADirectoryError:
        raise _file_error(shown, "is a directory, not a CSV file") from None
    except OSError as exc:
        raise _file_error(shown, f"cannot read: {exc.strerror or exc}") from None
    row_no = 1
    lines = _Lines(handle)
    try:
        with handle:
            reader = csv.reader(lines)
            header = [cell.strip() for cell in next(reader, [])]
            if not any(header):
                wanted = ",".join(COLUMNS) if binary else "a header row naming the columns"
                raise _file_error(shown, f"the file is empty (expected {wanted} and data rows)")
            feature_cols, label_col = _columns(header, shown, features, label)
            labels = _Labels(shown, header[label_col], binary)
            values = array("d")
            for row in reader:
                row_no = reader.line_num  # the file's line (header = row 1), multi-line quoted cells counted
                if not any(cell.strip() for cell in row):
                    continue  # blank lines, e.g. a trailing one
                if len(row) != len(header):
                    raise _file_error(shown, f"row {row_no}: {len(row)} cells, expected {len(header)}")
                for j in feature_cols:
                    values.append(_number(row[j].strip(), header[j], shown, row_no))
                labels.add(row[label_col].strip(), row_no)
    except UnicodeDecodeError as exc:
        raise _file_error(
            shown, f"row {lines.number}: cannot read: not UTF-8 text (byte {exc.object[exc.start]:#04x})"
        ) from None
    except csv.Error as exc:
        raise _file_error(shown, f"row {lines.number}: cannot read: {exc}") from None
    except OSError as exc:
        raise _file_error(shown, f"cannot read: {exc.strerror or exc}") from None
    if not labels.codes:
        raise _file_error(shown, "no data rows after the header")
    codes, classes = labels.finish()
    x = np.frombuffer(values, dtype=np.float64).reshape(len(codes), len(feature_cols))
    return Dataset(x=x, labels=codes, classes=classes, feature_names=tuple(header[j] for j in feature_cols))


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


class _Lines:
    """A binary file's lines decoded one at a time, so that a byte that is not UTF-8 is reported on its own
    line (a text file decodes blocks ahead of the line being read); a BOM on the first line is dropped."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.number = 0  # the line being decoded, from 1

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.number += 1
            line = raw.decode("utf-8-sig" if self.number == 1 else "utf-8")
            if "\r" not in line[:-2]:
                yield line
                continue
            # lines ended by a lone \r (old Mac files), which a binary file does not split at, as text does
            for k, part in enumerate(_LONE_CR.split(line)):
                self.number += k > 0
                yield part


def _columns(
    header: list[str], shown: str, features: tuple[str, ...] | None, label: str | None
) -> tuple[list[int], int]:
    """Positions of the feature columns and of the label column in `header`."""
    wanted = [*(features or ()), *([label] if label is not None else [])]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise _file_error(
            shown,
            f"row 1 (header): missing column {', '.join(missing)}; found {_listing(header)} "
            f"(need {', '.join(wanted)})",
        )
    for c in dict.fromkeys(h for h in header if h):  # any name twice: "x" would be which column?
        where = [str(j + 1) for j, h in enumerate(header) if h == c]
        if len(where) > 1:
            raise _file_error(
                shown,
                f"row 1 (header): column {c} appears more than once (columns "
                f"{', '.join(where)}); rename all but one",
            )
    label_col = len(header) - 1 if label is None else header.index(label)
    if features is None:
        feature_cols = [j for j in range(len(header)) if j != label_col]
        unnamed = [str(j + 1) for j in feature_cols if not header[j]]
        if unnamed:
            raise _file_error(
                shown,
                f"row 1 (header): column {unnamed[0]} has no name; name it, or choose "
                "the feature columns by name",
            )
    else:
        feature_cols = [header.index(c) for c in features]
    if label_col in feature_cols:
        raise _file_error(shown, f"the label column {header[label_col]} cannot also be a feature")
    if not feature_cols:
        raise _file_error(
            shown, f"no feature columns: the file has only the label column {header[label_col]}"
        )
    return feature_cols, label_col


def _listing(names: Sequence[str], limit: int = 200) -> str:
    text = ", ".join(names)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(cell: str, column: str, shown: str, row_no: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise _file_error(shown, f"row {row_no}: {column} is not a number: {checks.excerpt(cell)}") from None
    if not math.isfinite(value):
        raise _file_error(shown, f"row {row_no}: {column} is not finite: {checks.excerpt(cell)}")
    return value


class _Labels:
    """The label column, read cell by cell: class numbers (kept as they are) or class names (coded in
    order of appearance, recoded to sorted order at the end). At most MAX_CLASSES distinct labels."""

    def __init__(self, shown: str, column: str, binary: bool) -> None:
        self.shown, self.column, self.binary = shown, column, binary
        self.codes = array("q")
        self.names: dict[str, int] = {}  # class names, or the class numbers seen, as text
        self.numeric: bool | None = True if binary else None  # None until the first row decides

    def add(self, cell: str, row_no: int) -> None:
        where = f"row {row_no}: {self.column}"
        if not cell:
            raise _file_error(self.shown, f"{where} is empty (need a class)")
        try:
            number: float | None = float(cell)
        except ValueError:
            number = None
        if self.numeric is None:
            self.numeric = number is not None
        if self.binary:
            if number not in (0.0, 1.0):
                raise _file_error(self.shown, f"{where} must be 0 or 1, got {checks.excerpt(cell)}")
            code = int(number)  # 0.0 or 1.0
        elif self.numeric:
            if number is None or not number.is_integer() or not 0 <= number < MAX_CLASSES:
                raise _file_error(
                    self.shown,
                    f"{where} must be a class number 0, 1, 2, ... (an integer below {MAX_CLASSES}), as in "
                    f"the rows before, got {checks.excerpt(cell)}",
                )
            code = int(number)
            self.names.setdefault(str(code), code)
        else:
            if number is not None:
                raise _file_error(
                    self.shown,
                    f"{where} is the number {checks.excerpt(cell)}, but the rows before name their classes "
                    f"(e.g. {next(iter(self.names))!r}): use names or class numbers, not both",
                )
            code = self.names.setdefault(cell, len(self.names))
            if len(self.names) > MAX_CLASSES:
                raise _file_error(
                    self.shown, f"{where}: more than {MAX_CLASSES} classes; is it the label column?"
                )
        self.codes.append(code)

    def finish(self) -> tuple[np.ndarray, tuple[str, ...]]:
        """The labels as int64 codes 0 .. K−1 and the K class names."""
        codes = np.frombuffer(self.codes, dtype=np.int64)
        if self.binary:
            return codes, ("0", "1")
        if len(self.names) < 2:
            raise _file_error(
                self.shown,
                f"column {self.column}: every row is class {next(iter(self.names))}; "
                "need at least two classes",
            )
        if self.numeric:
            # class numbers that are not 0 .. K−1 ({0, 7}) are recoded as names are: the k-th number seen,
            # in numeric order, is class k, so that every output of the network stands for a class
            numbers = sorted(self.names.values())
            if numbers != list(range(len(numbers))):
                recode = np.zeros(numbers[-1] + 1, dtype=np.int64)
                recode[numbers] = np.arange(len(numbers))
                codes = recode[codes]
            return codes, tuple(str(n) for n in numbers)
        ordered = sorted(self.names)
        recode = np.empty(len(ordered), dtype=np.int64)
        for k, class_name in enumerate(ordered):
            recode[self.names[class_name]] = k
        return recode[codes], tuple(ordered)


# --- TensorFlow Playground's generators (tensorflow/playground, src/dataset.ts) ------------------
#
# Each port consumes uniform draws in the order the source calls Math.random(), one
# RandomState.random_sample() for each; NumPy's Mersenne Twister is not the Playground's seedrandom, so
# the points follow the Playground's distributions, not its exact points. A `for (i = 0; i < samples / 2;
# i++)` loop runs ceil(samples / 2) times: an odd `samples` gives one point more than asked, as there.
# Points come out in the source's order, one class after the other.

Points = tuple[np.ndarray, np.ndarray]
"""(x (M, 2) float64, sign (M,) int64 of −1 or +1): a generator's points and the Playground's labels."""


def _uniform(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """randUniform(a, b) = Math.random() * (b − a) + a, with `u` the Math.random() draws."""
    return u * (b - a) + a


def circle_points(samples: int, noise: float, rng: np.random.RandomState) -> Points:
    """classifyCircleData: ceil(samples/2) points with radius r ~ U[0, 2.5), then as many with
    r ~ U[3.5, 5), angle ~ U[0, 2π), at (r·sin(angle), r·cos(angle)).

    A point's label is +1 where its position moved by (nx, ny) ~ U[−5, 5)²·noise is within distance 2.5 of
    the origin, else −1: noise flips labels near the gap and never moves a point. Draws per point: r,
    angle, nx, ny.
    """
    radius = 5.0
    per_class = math.ceil(samples / 2)
    xs, signs = [], []
    for r_low, r_high in ((0.0, radius * 0.5), (radius * 0.7, radius)):
        u = rng.random_sample((per_class, 4))
        r = _uniform(u[:, 0], r_low, r_high)
        angle = _uniform(u[:, 1], 0.0, 2 * math.pi)
        x, y = r * np.sin(angle), r * np.cos(angle)
        moved_x = x + _uniform(u[:, 2], -radius, radius) * noise
        moved_y = y + _uniform(u[:, 3], -radius, radius) * noise
        inside = np.sqrt(moved_x * moved_x + moved_y * moved_y) < radius * 0.5
        xs.append(np.column_stack([x, y]))
        signs.append(np.where(inside, 1, -1))
    return np.concatenate(xs), np.concatenate(signs).astype(np.int64)


def xor_points(samples: int, noise: float, rng: np.random.RandomState) -> Points:
    """classifyXORData: `samples` points, x and y ~ U[−5, 5) each pushed 0.3 away from 0 (0.3 added when
    positive, subtracted otherwise), so |x|, |y| in [0.3, 5.3).

    Label +1 where (x + nx)·(y + ny) >= 0, nx and ny ~ U[−5, 5)·noise, else −1: noise flips labels near the
    axes and never moves a point. The classes are not balanced. Draws per point: x, y, nx, ny.
    """
    padding = 0.3
    u = rng.random_sample((samples, 4))
    x = _uniform(u[:, 0], -5.0, 5.0)
    x = x + np.where(x > 0, padding, -padding)
    y = _uniform(u[:, 1], -5.0, 5.0)
    y = y + np.where(y > 0, padding, -padding)
    moved_x = x + _uniform(u[:, 2], -5.0, 5.0) * noise
    moved_y = y + _uniform(u[:, 3], -5.0, 5.0) * noise
    sign = np.where(moved_x * moved_y >= 0, 1, -1).astype(np.int64)
    return np.column_stack([x, y]), sign


def gauss_points(samples: int, noise: float, rng: np.random.RandomState) -> Points:
    """classifyTwoGaussData: ceil(samples/2) points ~ N((2, 2), variance·I) labelled +1, then as many
    ~ N((−2, −2), variance·I) labelled −1.

    variance = d3.scale.linear().domain([0, 0.5]).range([0.5, 4]) at noise, i.e. 0.5 + 7·noise (standard
    deviation 0.71 at noise 0, 2 at 0.5); noise changes the spread only, labels are the class. Each
    coordinate (x, then y) is one normalRandom: Marsaglia's polar method, pairs v1, v2 = 2·U − 1 drawn
    until s = v1² + v2² <= 1, then v1·sqrt(−2·ln(s)/s).
    """
    variance = 0.5 + (4 - 0.5) * ((noise - 0) / (0.5 - 0))
    per_class = math.ceil(samples / 2)
    normals = _polar_normals(rng, 2 * per_class * 2).reshape(2, per_class, 2)
    x = np.concatenate([2 + math.sqrt(variance) * normals[0], -2 + math.sqrt(variance) * normals[1]])
    sign = np.repeat(np.array([1, -1], dtype=np.int64), per_class)
    return x, sign


def _polar_normals(rng: np.random.RandomState, count: int) -> np.ndarray:
    """`count` draws of the Playground's normalRandom(0, 1), in the order it makes them.

    Each normal takes pairs until one is accepted, so the normals in order are the accepted pairs of the
    stream in order: drawing pairs in blocks and keeping the accepted ones reproduces the sequence. A pair
    with s = 0 is skipped too (the source would return NaN; NumPy draws it with probability 2⁻¹⁰⁶).
    """
    out = np.empty(count)
    filled = 0
    while filled < count:
        need = count - filled
        v = 2 * rng.random_sample((need * 5 // 4 + 16, 2)) - 1  # π/4 of the pairs are accepted
        s = v[:, 0] * v[:, 0] + v[:, 1] * v[:, 1]
        ok = (s <= 1) & (s > 0)
        got = (np.sqrt(-2 * np.log(s[ok]) / s[ok]) * v[ok, 0])[:need]
        out[filled : filled + got.size] = got
        filled += got.size
    return out


def spiral_points(samples: int, noise: float, rng: np.random.RandomState) -> Points:
    """classifySpiralData: two arms of n = samples/2 points i = 0, 1, ... (ceil(n) of them): r = i/n·5,
    t = 1.75·(i/n)·2π + deltaT, at (r·sin(t), r·cos(t)) + (U[−1, 1)·noise, U[−1, 1)·noise).

    deltaT = 0 for +1, then π for −1: the −1 arm is the +1 arm turned by half a turn. Each arm winds 1.75
    turns out to radius 5; noise moves each coordinate by at most noise and keeps the label. Draws per
    point: the x noise, the y noise.
    """
    n = samples / 2
    i = np.arange(math.ceil(n), dtype=np.float64)
    r = i / n * 5
    xs, signs = [], []
    for delta_t, sign in ((0.0, 1), (math.pi, -1)):
        u = rng.random_sample((i.size, 2))
        t = 1.75 * i / n * 2 * math.pi + delta_t
        x = r * np.sin(t) + _uniform(u[:, 0], -1.0, 1.0) * noise
        y = r * np.cos(t) + _uniform(u[:, 1], -1.0, 1.0) * noise
        xs.append(np.column_stack([x, y]))
        signs.append(np.full(i.size, sign, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(signs)


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetArgs:
    """The checked arguments of `load_set`; each loader takes what it uses."""

    path: Path | None = None
    features: tuple[str, ...] | None = None
    label: str | None = None
    samples: int = 300
    noise: float = 0.0
    seed: int = 0
    key: str = "data"  # the key path of the arguments, for messages


Loader = Callable[[SetArgs], Dataset]


def _dot(args: SetArgs) -> Dataset:
    return load(None)


def _iris(args: SetArgs) -> Dataset:
    return read_csv(bundled_path(IRIS_NAME), label="species", name="iris")


def _csv(args: SetArgs) -> Dataset:
    assert args.path is not None  # check_set refuses csv without a path
    return read_csv(args.path, features=args.features, label=args.label)


def _playground(name: str, generate: Callable[[int, float, np.random.RandomState], Points]) -> Loader:
    def loader(args: SetArgs) -> Dataset:
        x, sign = generate(args.samples, args.noise, np.random.RandomState(args.seed))
        labels = (sign > 0).astype(np.int64)  # −1 → 0, +1 → 1
        return Dataset(x=x, labels=labels, classes=PLAYGROUND_CLASSES, feature_names=("x1", "x2"), name=name)

    return loader


DATA_SETS: dict[str, Loader] = {
    "dot": _dot,
    "iris": _iris,
    "circle": _playground("circle", circle_points),
    "xor": _playground("xor", xor_points),
    "gauss": _playground("gauss", gauss_points),
    "spiral": _playground("spiral", spiral_points),
    "csv": _csv,
}
GENERATED = ("circle", "xor", "gauss", "spiral")
"""The sets drawn from `samples`, `noise` and `seed`."""


def check_set(
    name: str | None = None,
    *,
    path: str | Path | None = None,
    features: Sequence[str] | None = None,
    label: str | None = None,
    samples: int = 300,
    noise: float = 0.0,
    seed: int = 0,
    key: str = "data",
) -> tuple[str, SetArgs]:
    """The arguments of `load_set` checked, without reading or drawing anything: (name, SetArgs).

    Raises:
      DataError: a bad argument; its key is "data.<argument>".
    """
    if name is None:
        name = "dot" if path is None else "csv"
    checks.choice(name, f"{key}.name", list(DATA_SETS), error=DataError)
    args = SetArgs(
        path=_check_path(path, f"{key}.path"),
        features=_check_features(features, f"{key}.features"),
        label=_check_label(label, f"{key}.label"),
        samples=checks.integer(samples, f"{key}.samples", low=2, high=MAX_SAMPLES, error=DataError),
        noise=checks.number(noise, f"{key}.noise", low=0, high=0.5, error=DataError),
        seed=checks.integer(seed, f"{key}.seed", low=0, high=2**32 - 1, error=DataError),
        key=key,
    )
    if name != "csv":
        for arg, value in (("path", args.path), ("features", args.features), ("label", args.label)):
            if value is not None:
                raise DataError(
                    f"{key}.{arg}", f"only the csv data set takes a {arg}; {key}.name is {name!r}"
                )
    elif args.path is None:
        raise DataError(f"{key}.path", "the csv data set needs a path to a CSV file")
    return name, args


def load_set(name: str | None = None, **arguments: Any) -> Dataset:
    """The data set `name` (see `DATA_SETS`), its arguments checked first.

    Args:
      name: a key of DATA_SETS; None means csv when a `path` is given, else dot.
      **arguments: those of `check_set`: path, features, label (csv only, see `read_csv`); samples (the
        generated sets' number of points, 2 .. MAX_SAMPLES; circle, gauss and spiral draw ceil(samples/2)
        per class), noise (0 .. 0.5, the Playground's noise slider / 100), seed (the RandomState seed: the
        same seed gives the same points); key (the key path in messages, "data" → "data.noise").
    Raises:
      DataError: a bad argument (its key is "data.<argument>"), or a file that cannot be used (no key).
    """
    name, args = check_set(name, **arguments)
    dataset = DATA_SETS[name](args)
    return dataset if dataset.name else replace(dataset, name=name)


def _check_path(value: object, key: str) -> Path | None:
    if value is None:
        return None
    if isinstance(value, Path) or (isinstance(value, str) and value.strip()):
        return Path(value)
    raise DataError(key, f"must be a file path, got {checks.excerpt(value)}")


def _check_features(value: object, key: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value:
        raise DataError(
            key,
            f"must be a non-empty list of column names or null (all but the label), got "
            f"{checks.excerpt(value)}",
        )
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise DataError(f"{key}[{i}]", f"must be a column name, got {checks.excerpt(item)}")
        if item in value[:i]:
            raise DataError(f"{key}[{i}]", f"{item!r} is named twice")
    return tuple(value)


def _check_label(value: object, key: str) -> str | None:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    raise DataError(key, f"must be a column name or null (the last column), got {checks.excerpt(value)}")


# --- the rows a run used ---------------------------------------------------------------------------


def digest(train: Dataset, test: Dataset | None) -> dict[str, str]:
    """SHA-256 of the rows a run trains on and (with a split) is tested on, each part on its own: the
    inputs as float64 and the class labels as int64, in the order used, with their shapes and the class
    names. Equal digests: the same numbers in the same order; the column names do not count.

    Returns:
      {"train": hex, "test": hex} ("test" only with a test split).
    """
    parts = {"train": train} if test is None else {"train": train, "test": test}
    return {part: _rows_digest(rows) for part, rows in parts.items()}


def _rows_digest(rows: Dataset) -> str:
    h = hashlib.sha256()
    h.update(f"{rows.x.shape[0]}x{rows.x.shape[1]};".encode())
    h.update(np.ascontiguousarray(rows.x, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(rows.labels, dtype="<i8").tobytes())
    h.update(("\x00".join(rows.classes)).encode())
    return h.hexdigest()


def source(dataset_name: str | None, path: str | Path | None) -> str:
    """How messages name a config's data: its CSV file, else the data set's name."""
    return str(path) if path is not None else (dataset_name or "dot")


# --- splitting and plotting ----------------------------------------------------------------------


def split(
    dataset: Dataset, *, permute_seed: int | None, test_size: int | float, key: str = "data"
) -> tuple[Dataset, Dataset | None]:
    """Training and test rows: the rows permuted once, then the last `test_size` rows are the test set.

    The permutation is numpy.random.RandomState(permute_seed).permutation(N), the order the course's
    `np.random.seed(116); np.random.shuffle(x)` gives; None keeps the file's order.

    Args:
      permute_seed: None, or an integer in [0, 2³² − 1].
      test_size: a row count (an int >= 0; 0: no test set), or a fraction in (0, 1) (a float) of
        round(fraction·N) rows, Python's round, so a half goes to the even count (0.5 of 5 rows: 2).
      key: the key path in messages ("data" → "data.test_size").
    Returns:
      (train, test), test None when test_size is 0.
    Raises:
      DataError: a bad argument, or a split with no training row or no test row (key "data.test_size").
    """
    n = dataset.size
    if permute_seed is not None:
        seed = checks.integer(
            permute_seed,
            f"{key}.permute_seed",
            low=0,
            high=2**32 - 1,
            alternative="or null (the file's order)",
            error=DataError,
        )
        dataset = dataset.rows(np.random.RandomState(seed).permutation(n))
    count = _test_count(test_size, n, f"{key}.test_size")
    if count == 0:
        return dataset, None
    if count >= n:
        raise DataError(
            f"{key}.test_size",
            f"{count} test rows of {dataset.name or 'the data'}'s {n} leave no training row",
        )
    return dataset.rows(slice(0, n - count)), dataset.rows(slice(n - count, n))


def check_test_size(test_size: object, key: str = "data.test_size") -> int | float:
    """test_size checked without the data: a row count (an int >= 0) or a fraction in (0, 1) (a float;
    0.0 is 0 rows), sklearn's rule."""
    allowed = (
        f"must be a row count (an integer >= 0) or a fraction in (0, 1), got {checks.excerpt(test_size)}"
    )
    if isinstance(test_size, (bool, np.bool_)):
        raise DataError(key, allowed)
    if isinstance(test_size, numbers.Integral):
        if test_size < 0:
            raise DataError(key, allowed)
        return int(test_size)
    if isinstance(test_size, (float, np.floating)):
        fraction = float(test_size)
        if fraction == 0:
            return 0
        if not 0 < fraction < 1:
            hint = (
                f" (write a count without the decimal point: {int(fraction)})"
                if fraction >= 1 and fraction.is_integer()
                else ""
            )
            raise DataError(key, allowed + hint)
        return fraction
    raise DataError(key, allowed)


def _test_count(test_size: object, n: int, key: str) -> int:
    """The number of test rows `test_size` asks for out of `n` (an int counts, a float is a fraction)."""
    size = check_test_size(test_size, key)
    if isinstance(size, int):
        return size
    count = round(size * n)
    if count == 0:
        raise DataError(key, f"{size:g} of {n} rows rounds to no test row")
    return count


def extent(dataset: Dataset) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) of the first two features, each range widened by 5% at both ends.

    A range of width 0 is widened by 5% of its value's size, at least 0.05. The Playground plots [−6, 6]²:
    circle lies within radius 5, spiral within 5 + noise, xor within 5.3; gauss is unbounded (standard
    deviation 2 at noise 0.5, so some points fall outside ±6).
    """
    if dataset.n_features < 2 or dataset.size == 0:
        raise DataError(
            "",
            f"{dataset.name or 'the data'}: a plot needs two features and a row, got "
            f"{dataset.n_features} feature(s) and {dataset.size} row(s)",
        )
    (xmin, xmax), (ymin, ymax) = padded_range(dataset.x[:, 0]), padded_range(dataset.x[:, 1])
    return xmin, xmax, ymin, ymax


def padded_range(values: np.ndarray) -> tuple[float, float]:
    """(low, high) of the values widened by 5% at both ends; a range of width 0 by 5% of the value's size,
    at least 0.05."""
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo if hi > lo else max(abs(lo), 1.0))
    return lo - pad, hi + pad


# --- config keys ---------------------------------------------------------------------------------

_NETWORK = only("model.type", "mlp")  # the one-parameter toy reads no data


def _check_name(value: object) -> str | None:
    """data.name: None (dot, or csv with a path; `fill_name` decides) or a known set."""
    return None if value is None else checks.choice(value, "data.name", list(DATA_SETS), error=DataError)


def fill_name(name: str | None, path: object) -> str:
    """A data.name left out: csv when a path is given, else dot."""
    if name is not None:
        return name
    return "dot" if path is None else "csv"


def _tuple_or_none(value: object) -> object:
    return None if value is None else list(value)  # type: ignore[call-overload]


KEYS: tuple[Key, ...] = (
    Key("data.name", None, _check_name, (_NETWORK,), attr="data_name", data=True, defaults=("dot",)),
    Key(
        "data.path",
        None,
        lambda v: _check_path(v, "data.path"),
        (_NETWORK, only("data.name", "csv")),
        attr="data_path",
        data=True,
        path_like=True,
    ),
    Key(
        "data.features",
        None,
        lambda v: _check_features(v, "data.features"),
        (_NETWORK, only("data.name", "csv")),
        attr="data_features",
        data=True,
        show=_tuple_or_none,
    ),
    Key(
        "data.label",
        None,
        lambda v: _check_label(v, "data.label"),
        (_NETWORK, only("data.name", "csv")),
        attr="data_label",
        data=True,
    ),
    Key(
        "data.samples",
        300,
        lambda v: checks.integer(v, "data.samples", low=2, high=MAX_SAMPLES, error=DataError),
        (_NETWORK, only("data.name", *GENERATED)),
        attr="data_samples",
        data=True,
    ),
    Key(
        "data.noise",
        0.0,
        lambda v: checks.number(v, "data.noise", low=0, high=0.5, error=DataError),
        (_NETWORK, only("data.name", *GENERATED)),
        attr="data_noise",
        data=True,
    ),
    Key(
        "data.seed",
        0,
        lambda v: checks.integer(v, "data.seed", low=0, high=2**32 - 1, error=DataError),
        (_NETWORK, only("data.name", *GENERATED)),
        attr="data_seed",
        data=True,
    ),
    Key(
        "data.permute_seed",
        None,
        lambda v: (
            None
            if v is None
            else checks.integer(
                v,
                "data.permute_seed",
                low=0,
                high=2**32 - 1,
                alternative="or null (the file's order)",
                error=DataError,
            )
        ),
        (_NETWORK,),
        data=True,
    ),
    Key("data.test_size", 0, check_test_size, (_NETWORK,), data=True),
    Key(
        "data.batch_size",
        32,
        lambda v: checks.integer(v, "data.batch_size", low=1, error=DataError),
        (_NETWORK,),
        shape=True,
    ),
    Key(
        "data.shuffle",
        False,
        lambda v: checks.flag(v, "data.shuffle", error=DataError),
        (_NETWORK,),
        shape=True,
    ),
)
"""The data's keys, in the config file's order."""
