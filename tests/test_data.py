"""dot.csv: the bundled file is the course's generator, and bad CSVs get one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnopt_cli import data


def test_bundled_dot_csv_is_the_course_generator() -> None:
    # REFERENCE.md: X = RandomState(2).randn(300, 2); y_c = 1 if x1² + x2² < 2 else 0
    x = np.random.RandomState(2).randn(300, 2)
    y = np.array([1.0 if a * a + b * b < 2 else 0.0 for a, b in x]).reshape(-1, 1)
    ds = data.load()
    assert ds.x.shape == (300, 2) and ds.y.shape == (300, 1)
    assert np.array_equal(ds.x, x)
    assert np.array_equal(ds.y, y)
    assert data.bundled_path().read_text().splitlines()[0] == "x1,x2,y_c"


def test_bundled_file_equals_regenerated_text() -> None:
    assert data.bundled_path().read_text() == data.dot_csv_text()


def test_extra_columns_and_order_are_fine(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("y_c,note,x2,x1\n1,a,0.5,0.25\n0,b,-1,2\n")
    ds = data.load(f)
    assert ds.x.tolist() == [[0.25, 0.5], [2.0, -1.0]]
    assert ds.y.ravel().tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("x1,x2\n1,2\n", "missing column y_c"),
        ("x1,x2,y_c\n1,oops,1\n", "row 2: x2 is not a number: 'oops'"),
        ("x1,x2,y_c\n1,2,1\n1,2,2\n", "row 3: y_c must be 0 or 1, got '2'"),
        ("x1,x2,y_c\n", "no data rows"),
        ("x1,x2,y_c\n1,2\n", "row 2: 2 cells, expected 3"),
        ("x1,x2,y_c\nnan,2,1\n", "row 2: x1 is not finite"),
    ],
)
def test_bad_files_name_the_file_row_and_problem(tmp_path: Path, text: str, fragment: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(data.DataError) as err:
        data.load(f)
    message = str(err.value)
    assert message.startswith(f"{f}: ")
    assert fragment in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match="no such file"):
        data.load(tmp_path / "nope.csv")
