"""The data set: dot.csv (bundled) or any CSV with columns x1, x2, y_c."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

COLUMNS = ("x1", "x2", "y_c")
BUNDLED_NAME = "dot.csv"


class DataError(ValueError):
    """A data file that cannot be used; the message is one line naming the file and the row."""


@dataclass(frozen=True)
class Dataset:
    """Inputs `x` (N, d) float64, class labels `labels` (N,) int64 in 0 .. K−1, and the classes' names."""

    x: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...] = ("0", "1")

    @property
    def size(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.classes)


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


def bundled_path() -> Path:
    return Path(str(resources.files("nnopt_cli") / "data" / BUNDLED_NAME))


def load(path: str | Path | None = None) -> Dataset:
    """Load a CSV with a header naming x1, x2 and y_c (other columns are ignored).

    Args:
      path: the file; None means the bundled dot.csv.
    Raises:
      DataError: missing file, missing column, non-numeric or non-finite cell, a label other than 0/1,
        a short row, or no data rows.
    """
    file = bundled_path() if path is None else Path(path)
    name = BUNDLED_NAME if path is None else str(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a directory, not a CSV file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{name}: cannot read: {exc}") from None

    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise DataError(f"{name}: the file is empty (expected a header x1,x2,y_c and data rows)")
    header = [cell.strip() for cell in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{name}: row 1 (header): missing column {', '.join(missing)}; "
            f"found {', '.join(header)} (need x1, x2, y_c)"
        )
    idx = [header.index(c) for c in COLUMNS]

    xs: list[tuple[float, float]] = []
    ys: list[float] = []
    for row_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines, e.g. a trailing one
        if len(row) < len(header):
            raise DataError(f"{name}: row {row_no}: {len(row)} cells, expected {len(header)}")
        values = []
        for col, i in zip(COLUMNS, idx, strict=True):
            cell = row[i].strip()
            try:
                value = float(cell)
            except ValueError:
                raise DataError(f"{name}: row {row_no}: {col} is not a number: {cell!r}") from None
            if not math.isfinite(value):
                raise DataError(f"{name}: row {row_no}: {col} is not finite: {cell!r}")
            values.append(value)
        if values[2] not in (0.0, 1.0):
            raise DataError(f"{name}: row {row_no}: y_c must be 0 or 1, got {row[idx[2]].strip()!r}")
        xs.append((values[0], values[1]))
        ys.append(values[2])
    if not xs:
        raise DataError(f"{name}: no data rows after the header")
    x = np.array(xs, dtype=np.float64)
    labels = np.array(ys, dtype=np.int64)
    return Dataset(x=x, labels=labels)
