"""Data sets: dot.csv, iris, the Playground's generators, any CSV, the split and the plot limits.

Expected values come from outside the code: the course's generator, published iris values, REFERENCE.md's
split counts, and the geometry of tensorflow/playground's src/dataset.ts worked out by hand.
"""

from __future__ import annotations

import hashlib
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnopt_cli import data
from nnopt_cli.checks import CheckError

IRIS_SHA256 = "9cc1c345c71bcc9b486b74cbf6063fa66f4bb5e0f603a4b3c3471ec2e5e8e355"


def write(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def data_error(call: object, *args: object, **kwargs: object) -> data.DataError:
    with pytest.raises(data.DataError) as err:
        call(*args, **kwargs)  # type: ignore[operator]
    assert "\n" not in str(err.value)
    return err.value


# --- dot.csv -------------------------------------------------------------------------------------


def test_bundled_dot_csv_is_the_course_generator() -> None:
    # REFERENCE.md: X = RandomState(2).randn(300, 2); y_c = 1 if x1² + x2² < 2 else 0
    x = np.random.RandomState(2).randn(300, 2)
    y = np.array([1 if a * a + b * b < 2 else 0 for a, b in x])
    ds = data.load()
    assert ds.x.shape == (300, 2) and ds.labels.shape == (300,) and ds.labels.dtype == np.int64
    assert np.array_equal(ds.x, x)
    assert np.array_equal(ds.labels, y)
    assert ds.classes == ("0", "1") and ds.feature_names == ("x1", "x2") and ds.name == "dot"
    assert data.bundled_path().read_text().splitlines()[0] == "x1,x2,y_c"


def test_bundled_file_equals_regenerated_text() -> None:
    assert data.bundled_path().read_text() == data.dot_csv_text()


def test_load_set_dot_is_load() -> None:
    for ds in (data.load_set(), data.load_set("dot")):
        assert np.array_equal(ds.x, data.load().x) and np.array_equal(ds.labels, data.load().labels)


def test_extra_columns_and_order_are_fine(tmp_path: Path) -> None:
    f = write(tmp_path, "y_c,note,x2,x1\n1,a,0.5,0.25\n0,b,-1,2\n")
    ds = data.load(f)
    assert ds.x.tolist() == [[0.25, 0.5], [2.0, -1.0]]
    assert ds.labels.tolist() == [1, 0]
    assert ds.classes == ("0", "1") and ds.name == str(f)


def test_dot_format_keeps_both_classes_when_one_is_absent(tmp_path: Path) -> None:
    ds = data.load(write(tmp_path, "x1,x2,y_c\n1,2,0\n3,4,0.0\n"))
    assert ds.labels.tolist() == [0, 0] and ds.classes == ("0", "1")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("x1,x2\n1,2\n", "missing column y_c"),
        ("x1,x2,y_c\n1,oops,1\n", "row 2: x2 is not a number: 'oops'"),
        ("x1,x2,y_c\n1,2,1\n1,2,2\n", "row 3: y_c must be 0 or 1, got '2'"),
        ("x1,x2,y_c\n1,2,cat\n", "row 2: y_c must be 0 or 1, got 'cat'"),
        ("x1,x2,y_c\n", "no data rows"),
        ("x1,x2,y_c\n1,2\n", "row 2: 2 cells, expected 3"),
        ("x1,x2,y_c\nnan,2,1\n", "row 2: x1 is not finite"),
    ],
)
def test_bad_files_name_the_file_row_and_problem(tmp_path: Path, text: str, fragment: str) -> None:
    f = write(tmp_path, text, "bad.csv")
    err = data_error(data.load, f)
    assert str(err).startswith(f"{f}: ")
    assert fragment in str(err)
    assert err.key == ""


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "no such file" in str(data_error(data.load, tmp_path / "nope.csv"))
    assert str(data_error(data.load, tmp_path)) == f"{tmp_path}: is a directory, not a CSV file"


# --- iris ----------------------------------------------------------------------------------------


def test_iris_file_is_the_one_written_from_scikit_learn() -> None:
    raw = data.bundled_path("iris.csv").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == IRIS_SHA256
    lines = raw.decode().splitlines()
    assert lines[0] == "sepal_length,sepal_width,petal_length,petal_width,species"
    assert len(lines) == 151


def test_iris_matches_published_values() -> None:
    ds = data.load_set("iris")
    assert ds.x.shape == (150, 4) and ds.name == "iris"
    assert ds.feature_names == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    # scikit-learn's target_names, in its 0/1/2 order, are also the sorted order of the names
    assert ds.classes == ("setosa", "versicolor", "virginica")
    assert np.bincount(ds.labels).tolist() == [50, 50, 50]
    # Fisher's iris in scikit-learn's row order: row 1, row 51 (1-based), row 150
    assert ds.x[0].tolist() == [5.1, 3.5, 1.4, 0.2] and ds.labels[0] == 0
    assert ds.x[50].tolist() == [7.0, 3.2, 4.7, 1.4] and ds.labels[50] == 1
    assert ds.x[149].tolist() == [5.9, 3.0, 5.1, 1.8] and ds.labels[149] == 2
    assert ds.labels.tolist() == [0] * 50 + [1] * 50 + [2] * 50
    np.testing.assert_allclose(ds.x.mean(axis=0), [5.843333, 3.057333, 3.758000, 1.199333], atol=5e-7)


# --- split ---------------------------------------------------------------------------------------


def test_permutation_is_the_courses_seeded_shuffle() -> None:
    x = np.arange(150 * 4, dtype=float).reshape(150, 4)
    y = np.arange(150)
    xs, ys = x.copy(), y.copy()
    np.random.seed(116)
    np.random.shuffle(xs)
    np.random.seed(116)
    np.random.shuffle(ys)
    order = np.random.RandomState(116).permutation(150)
    assert np.array_equal(xs, x[order]) and np.array_equal(ys, y[order])


def test_iris_split_of_the_course() -> None:
    # REFERENCE.md: seed 116, the last 30 rows are the test set, species counts 11, 14, 5
    iris = data.load_set("iris")
    train, test = data.split(iris, permute_seed=116, test_size=30)
    assert test is not None and (train.size, test.size) == (120, 30)
    assert np.bincount(test.labels, minlength=3).tolist() == [11, 14, 5]
    assert np.bincount(train.labels, minlength=3).tolist() == [39, 36, 45]
    order = np.random.RandomState(116).permutation(150)
    assert np.array_equal(train.x, iris.x[order[:120]]) and np.array_equal(test.x, iris.x[order[120:]])
    assert test.classes == iris.classes and test.feature_names == iris.feature_names


def test_split_without_permutation_keeps_the_order() -> None:
    iris = data.load_set("iris")
    train, test = data.split(iris, permute_seed=None, test_size=50)
    assert test is not None and np.array_equal(test.x, iris.x[100:]) and set(test.labels) == {2}
    assert np.array_equal(train.x, iris.x[:100])


def test_split_test_size_zero_is_no_test_set() -> None:
    iris = data.load_set("iris")
    for zero in (0, 0.0):
        train, test = data.split(iris, permute_seed=None, test_size=zero)
        assert test is None and np.array_equal(train.x, iris.x)
    train, test = data.split(iris, permute_seed=3, test_size=0)
    assert test is None and np.array_equal(train.x, iris.x[np.random.RandomState(3).permutation(150)])


@pytest.mark.parametrize(("fraction", "n", "count"), [(0.2, 150, 30), (0.5, 5, 2), (0.3, 5, 2), (0.7, 5, 4)])
def test_split_fraction_rounds_half_to_even(fraction: float, n: int, count: int) -> None:
    # 0.5·5 = 2.5 → 2 (Python's round), 0.3·5 = 1.5 → 2, 0.7·5 = 3.5 → 4
    ds = data.Dataset(x=np.zeros((n, 2)), labels=np.arange(n) % 2)
    _, test = data.split(ds, permute_seed=None, test_size=fraction)
    assert test is not None and test.size == count


@pytest.mark.parametrize(
    ("test_size", "fragment"),
    [
        (-1, "must be a row count (an integer >= 0) or a fraction in (0, 1), got -1"),
        (1.5, "got 1.5"),
        (1.0, "got 1.0 (write a count without the decimal point: 1)"),
        (-0.2, "got -0.2"),
        (True, "got true"),
        ("3", "got '3'"),
        (150, "150 test rows of iris's 150 leave no training row"),
        (0.001, "0.001 of 150 rows rounds to no test row"),
    ],
)
def test_split_refusals(test_size: object, fragment: str) -> None:
    err = data_error(data.split, data.load_set("iris"), permute_seed=None, test_size=test_size)
    assert err.key == "data.test_size" and fragment in str(err)


def test_split_refuses_a_bad_permute_seed() -> None:
    iris = data.load_set("iris")
    for seed in (-1, 2**32, 1.5, "x"):
        err = data_error(data.split, iris, permute_seed=seed, test_size=30)
        assert err.key == "data.permute_seed"


# --- the registry and load_set -------------------------------------------------------------------


def test_registry_names() -> None:
    assert list(data.DATA_SETS) == ["dot", "iris", "circle", "xor", "gauss", "spiral", "csv"]


def test_unknown_name_gets_did_you_mean() -> None:
    err = data_error(data.load_set, "irs")
    assert isinstance(err, CheckError) and err.key == "data.name"
    assert "did you mean 'iris'? known: dot, iris, circle, xor, gauss, spiral, csv" in str(err)


@pytest.mark.parametrize(
    ("kwargs", "key", "fragment"),
    [
        ({"name": "circle", "noise": 0.6}, "data.noise", "must be in [0, 0.5], got 0.6"),
        ({"name": "circle", "noise": -0.1}, "data.noise", "must be in [0, 0.5]"),
        ({"name": "xor", "samples": 1}, "data.samples", "must be an integer in [2, 1000000], got 1"),
        ({"name": "xor", "samples": 2.5}, "data.samples", "must be an integer"),
        ({"name": "spiral", "seed": -1}, "data.seed", "must be an integer in [0, 4294967295]"),
        ({"name": "iris", "path": "x.csv"}, "data.path", "only the csv data set takes a path"),
        ({"name": "dot", "label": "y"}, "data.label", "only the csv data set takes a label"),
        ({"name": "gauss", "features": ["a"]}, "data.features", "only the csv data set takes a features"),
        ({"name": "csv"}, "data.path", "the csv data set needs a path"),
        ({"path": 3}, "data.path", "must be a file path, got 3"),
        ({"path": "x.csv", "features": "a"}, "data.features", "must be a non-empty list of column names"),
        ({"path": "x.csv", "features": []}, "data.features", "must be a non-empty list"),
        ({"path": "x.csv", "features": ["a", 2]}, "data.features[1]", "must be a column name, got 2"),
        ({"path": "x.csv", "features": ["a", "a"]}, "data.features[1]", "'a' is named twice"),
        ({"path": "x.csv", "label": ""}, "data.label", "must be a column name or null"),
    ],
)
def test_load_set_arguments_carry_their_key(kwargs: dict[str, object], key: str, fragment: str) -> None:
    err = data_error(data.load_set, **kwargs)
    assert err.key == key and fragment in err.problem
    assert str(err) == f"{key}: {err.problem}"


def test_key_prefix_follows_the_caller() -> None:
    assert data_error(data.load_set, "circle", noise=1, key="eval.data").key == "eval.data.noise"


def test_path_alone_means_csv(tmp_path: Path) -> None:
    f = write(tmp_path, "a,b,c\n1,2,x\n3,4,y\n")
    for ds in (data.load_set(path=f), data.load_set("csv", path=str(f))):
        assert ds.x.tolist() == [[1, 2], [3, 4]] and ds.classes == ("x", "y") and ds.name == str(f)


# --- the Playground's generators -----------------------------------------------------------------
# tensorflow/playground src/dataset.ts; each Math.random() is one RandomState(seed).random_sample().


def radius(x: np.ndarray) -> np.ndarray:
    return np.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2)


def test_circle_geometry_without_noise() -> None:
    # classifyCircleData: 150 with r ~ U[0, 2.5) labelled +1, then 150 with r ~ U[3.5, 5) labelled −1
    ds = data.load_set("circle", samples=300, noise=0, seed=4)
    assert ds.size == 300 and ds.classes == ("-1", "+1") and ds.name == "circle"
    r = radius(ds.x)
    assert np.all(r[:150] < 2.5) and np.all(ds.labels[:150] == 1)
    assert np.all((r[150:] >= 3.5 - 1e-12) & (r[150:] < 5)) and np.all(ds.labels[150:] == 0)


def test_circle_first_point_of_each_class_follows_the_sources_draws() -> None:
    # per point: r = U·(high − low) + low, angle = U·2π, x = r·sin(angle), y = r·cos(angle),
    # then nx, ny = (U·10 − 5)·noise; the label is +1 where (x + nx, y + ny) is within 2.5 of the origin.
    # The inner class's 5 points take 20 draws, so the outer class starts at draw 21.
    draws = np.random.RandomState(7).random_sample((10, 4))
    ds = data.load_set("circle", samples=10, noise=0.5, seed=7)
    for row, (low, high) in ((0, (0.0, 2.5)), (5, (3.5, 5.0))):
        u = draws[row]
        r, angle = u[0] * (high - low) + low, u[1] * 2 * math.pi
        x, y = r * math.sin(angle), r * math.cos(angle)
        mx, my = x + (u[2] * 10 - 5) * 0.5, y + (u[3] * 10 - 5) * 0.5
        np.testing.assert_allclose(ds.x[row], [x, y], rtol=0, atol=1e-12)
        assert ds.labels[row] == (1 if math.hypot(mx, my) < 2.5 else 0)


def test_circle_noise_changes_labels_not_points() -> None:
    clean = data.load_set("circle", noise=0.0, seed=1)
    noisy = data.load_set("circle", noise=0.5, seed=1)
    assert np.array_equal(clean.x, noisy.x)


def test_xor_geometry_and_label_rule() -> None:
    # classifyXORData: x, y ~ U[−5, 5), pushed 0.3 away from 0; label +1 where x·y >= 0
    for noise in (0.0, 0.5):
        ds = data.load_set("xor", samples=500, noise=noise, seed=2)
        assert ds.size == 500
        a = np.abs(ds.x)
        assert np.all((a >= 0.3) & (a < 5.3))
    clean = data.load_set("xor", samples=500, noise=0.0, seed=2)
    assert np.array_equal(clean.labels, (clean.x[:, 0] * clean.x[:, 1] >= 0).astype(int))
    assert np.array_equal(clean.x, data.load_set("xor", samples=500, noise=0.5, seed=2).x)


def test_xor_first_point_follows_the_sources_draws() -> None:
    u = np.random.RandomState(5).random_sample(4)
    x, y = u[0] * 10 - 5, u[1] * 10 - 5
    x += 0.3 if x > 0 else -0.3
    y += 0.3 if y > 0 else -0.3
    np.testing.assert_allclose(data.load_set("xor", samples=3, seed=5).x[0], [x, y], rtol=0, atol=1e-12)


def test_spiral_points_lie_on_the_two_arms() -> None:
    # classifySpiralData, n = 150: r = i/n·5, t = 1.75·i/n·2π (+π for the −1 arm), (r·sin t, r·cos t)
    ds = data.load_set("spiral", samples=300, noise=0, seed=0)
    assert ds.size == 300
    assert np.all(ds.labels[:150] == 1) and np.all(ds.labels[150:] == 0)
    for i in (0, 1, 37, 149):
        r, t = i / 150 * 5, 1.75 * i / 150 * 2 * math.pi
        np.testing.assert_allclose(ds.x[i], [r * math.sin(t), r * math.cos(t)], rtol=0, atol=1e-12)
        np.testing.assert_allclose(ds.x[150 + i], [-r * math.sin(t), -r * math.cos(t)], rtol=0, atol=1e-12)
    np.testing.assert_allclose(radius(ds.x[:150]), np.arange(150) / 150 * 5, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ds.x[150:], -ds.x[:150], rtol=0, atol=1e-12)


def test_spiral_noise_moves_each_coordinate_by_less_than_noise() -> None:
    clean = data.load_set("spiral", noise=0.0, seed=9)
    noisy = data.load_set("spiral", noise=0.5, seed=9)
    assert np.all(np.abs(noisy.x - clean.x) <= 0.5) and np.array_equal(noisy.labels, clean.labels)
    assert np.any(noisy.x != clean.x)


def test_gauss_centres_and_variance_from_noise() -> None:
    # classifyTwoGaussData: +1 around (2, 2), −1 around (−2, −2); variance 0.5 at noise 0, 4 at noise 0.5
    # (d3 linear scale [0, 0.5] → [0.5, 4]); a fixed seed and 20000 points per class: the standard error
    # of a mean is below 0.015 and of a variance below 1.5%
    for noise, variance in ((0.0, 0.5), (0.25, 2.25), (0.5, 4.0)):
        ds = data.load_set("gauss", samples=40_000, noise=noise, seed=11)
        plus, minus = ds.x[:20_000], ds.x[20_000:]
        assert np.all(ds.labels[:20_000] == 1) and np.all(ds.labels[20_000:] == 0)
        np.testing.assert_allclose(plus.mean(axis=0), [2, 2], atol=0.1 * math.sqrt(variance))
        np.testing.assert_allclose(minus.mean(axis=0), [-2, -2], atol=0.1 * math.sqrt(variance))
        np.testing.assert_allclose(plus.var(axis=0), [variance] * 2, rtol=0.08)


def test_gauss_first_coordinate_is_the_polar_method() -> None:
    # normalRandom: v1, v2 = 2U − 1 until s = v1² + v2² <= 1; mean + sqrt(variance)·v1·sqrt(−2 ln s / s)
    rng = np.random.RandomState(3)
    while True:
        v1, v2 = 2 * rng.random_sample() - 1, 2 * rng.random_sample() - 1
        s = v1 * v1 + v2 * v2
        if s <= 1:
            break
    expected = 2 + math.sqrt(0.5) * v1 * math.sqrt(-2 * math.log(s) / s)
    assert data.load_set("gauss", samples=4, seed=3).x[0, 0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("name", "size"), [("circle", 302), ("gauss", 302), ("spiral", 302), ("xor", 301)])
def test_odd_samples_give_ceil_half_per_class(name: str, size: int) -> None:
    # `for (i = 0; i < numSamples / 2; i++)` runs ceil(301 / 2) = 151 times per class; xor loops to 301
    assert data.load_set(name, samples=301, seed=0).size == size


def test_spiral_with_odd_samples_uses_the_fractional_half() -> None:
    # n = 150.5: the last point of the +1 arm has r = 150 / 150.5 · 5
    ds = data.load_set("spiral", samples=301, seed=0)
    assert radius(ds.x[150:151])[0] == pytest.approx(150 / 150.5 * 5, abs=1e-12)


@pytest.mark.parametrize("name", data.GENERATED)
def test_same_seed_same_points(name: str) -> None:
    a = data.load_set(name, noise=0.3, seed=21)
    b = data.load_set(name, noise=0.3, seed=21)
    c = data.load_set(name, noise=0.3, seed=22)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.x, c.x)
    assert a.feature_names == ("x1", "x2") and a.x.dtype == np.float64 and a.labels.dtype == np.int64


# --- any CSV -------------------------------------------------------------------------------------


def test_csv_string_labels_are_sorted_classes(tmp_path: Path) -> None:
    f = write(tmp_path, "a,b,kind\n1,2,pear\n3,4,apple\n5,6,fig\n7,8,apple\n")
    ds = data.read_csv(f)
    assert ds.classes == ("apple", "fig", "pear")
    assert ds.labels.tolist() == [2, 0, 1, 0] and ds.feature_names == ("a", "b")


def test_csv_class_numbers_that_are_not_0_to_k_are_mapped_as_names_are(tmp_path: Path) -> None:
    # {0, 3}: two classes, not four of which two could never have a row (outputs no row trains)
    f = write(tmp_path, "a,label\n1,0\n2,3\n3,3.0\n")
    ds = data.read_csv(f)
    assert ds.classes == ("0", "3") and ds.labels.tolist() == [0, 1, 1]
    ds = data.read_csv(write(tmp_path, "a,label\n1,7\n2,0\n3,12\n4,7\n"))
    assert ds.classes == ("0", "7", "12") and ds.labels.tolist() == [1, 0, 2, 1]
    ds = data.read_csv(write(tmp_path, "a,label\n1,2\n2,0\n3,1\n"))
    assert ds.classes == ("0", "1", "2") and ds.labels.tolist() == [2, 0, 1]  # 0 .. K−1 as they are


def test_csv_features_and_label_by_name(tmp_path: Path) -> None:
    f = write(tmp_path, "id,y,b,a,note\n1,no,2,3,x\n2,yes,4,5,y\n")
    ds = data.load_set(path=f, features=["a", "b"], label="y")
    assert ds.x.tolist() == [[3, 2], [5, 4]] and ds.feature_names == ("a", "b")
    assert ds.classes == ("no", "yes") and ds.labels.tolist() == [0, 1]


def test_csv_bom_crlf_quotes_and_blank_lines(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_bytes(b'\xef\xbb\xbf"x 1",x2,cls\r\n" 1.5 ",2,"a, b"\r\n\r\n3,4,c\r\n\r\n')
    ds = data.read_csv(f)
    assert ds.feature_names == ("x 1", "x2") and ds.classes == ("a, b", "c")
    assert ds.x.tolist() == [[1.5, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    ("text", "kwargs", "fragment"),
    [
        ("", {}, "the file is empty (expected a header row naming the columns and data rows)"),
        ("a,b,c\n", {}, "no data rows after the header"),
        ("a,b\n1,0\n", {"label": "c"}, "row 1 (header): missing column c; found a, b (need c)"),
        ("a,b\n1,0\n", {"features": ["a", "z"], "label": "b"}, "missing column z; found a, b (need a, z, b)"),
        ("a,b,c\n1,2,0\n1,x,1\n", {}, "row 3: b is not a number: 'x'"),
        ("a,b,c\n1,inf,0\n", {}, "row 2: b is not finite: 'inf'"),
        ("a,b,c\n1,2\n", {}, "row 2: 2 cells, expected 3"),
        ("a,b,c\n1,2,0\n1,2,0\n", {}, "column c: every row is class 0; need at least two classes"),
        ("a,b,c\n1,2,cat\n", {}, "column c: every row is class cat; need at least two classes"),
        ("a,b,c\n1,2,0\n1,2,-1\n", {}, "row 3: c must be a class number 0, 1, 2, ..."),
        ("a,b,c\n1,2,0\n1,2,0.5\n", {}, "row 3: c must be a class number"),
        ("a,b,c\n1,2,0\n1,2,5000\n", {}, "(an integer below 1000)"),
        (
            "a,b,c\n1,2,0\n1,2,cat\n",
            {},
            "row 3: c must be a class number 0, 1, 2, ... (an integer below 1000), as ",
        ),
        ("a,b,c\n1,2,cat\n1,2,7\n", {}, "row 3: c is the number '7', but the rows before name their classes"),
        ("a,b,c\n1,2,\n", {}, "row 2: c is empty"),
        ("a,,c\n1,2,0\n", {}, "row 1 (header): column 2 has no name"),
        (
            "a,a,c\n1,2,0\n",
            {"features": ["a"], "label": "c"},
            "column a appears more than once (columns 1, 2)",
        ),
        ("a,c\n1,0\n", {"features": ["a", "c"], "label": "c"}, "the label column c cannot also be a feature"),
        ("a,b,c\n1,2,0\n1,2,1,9\n", {}, "row 3: 4 cells, expected 3"),
        ("a,b,c\n1,2,0\n1,2,1,\n", {}, "row 3: 4 cells, expected 3"),
        ("a,b,a,c\n1,2,3,0\n", {}, "row 1 (header): column a appears more than once (columns 1, 3)"),
        ("x,b,b,c\n1,2,3,0\n", {"features": ["x"], "label": "c"}, "column b appears more than once"),
        ('a,b,c\n1,2,x\n1,2,"y\nz"\n1,2,x,5\n', {}, "row 5: 4 cells, expected 3"),  # a cell of 2 lines
        ("c\n0\n1\n", {}, "no feature columns: the file has only the label column c"),
    ],
)
def test_bad_csv_files_say_where_and_what(
    tmp_path: Path, text: str, kwargs: dict[str, object], fragment: str
) -> None:
    f = write(tmp_path, text)
    err = data_error(data.read_csv, f, **kwargs)
    assert str(err).startswith(f"{f}: ") and err.key == ""
    assert fragment in str(err)


def test_csv_with_too_many_classes(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},id{i}" for i in range(1001))
    err = data_error(data.read_csv, write(tmp_path, "a,id\n" + rows + "\n"))
    assert "row 1002: id: more than 1000 classes" in str(err)


def test_csv_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "latin.csv"
    f.write_bytes("a,b\n1,caf\u00e9\n".encode("latin-1"))
    assert "row 2: cannot read: not UTF-8 text (byte 0xe9)" in str(data_error(data.read_csv, f))


@pytest.mark.parametrize(("rows", "bad"), [(100, 82), (20_000, 15_002)])
def test_a_byte_that_is_not_utf8_is_reported_on_its_own_line(tmp_path: Path, rows: int, bad: int) -> None:
    # a text file decodes blocks of 8 KB ahead of the row being read: the line must be the byte's own
    lines = [b"a,b,label", *(f"{i},{i % 5},{i % 2}".encode() for i in range(rows))]
    lines[bad - 1] = lines[bad - 1].replace(b",", b"\xff,", 1)
    f = tmp_path / "bad.csv"
    f.write_bytes(b"\n".join(lines) + b"\n")
    assert str(data_error(data.read_csv, f)) == f"{f}: row {bad}: cannot read: not UTF-8 text (byte 0xff)"


def test_csv_is_read_with_little_more_memory_than_its_floats(tmp_path: Path) -> None:
    # 50,000 rows of 4 floats and a label: 2 MB of floats and labels. A list of the rows as strings
    # would take over 20 MB; one growing array of floats takes at most about twice their size.
    n = 50_000
    lines = ["a,b,c,d,label"] + [f"{i}.25,{i}.5,{-i},{i % 7}.125,{'xyz'[i % 3]}" for i in range(n)]
    f = write(tmp_path, "\n".join(lines) + "\n")
    tracemalloc.start()
    try:
        ds = data.read_csv(f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ds.x.shape == (n, 4) and ds.x[-1].tolist() == [49_999.25, 49_999.5, -49_999.0, 5.125]
    assert peak < 3 * (n * 5 * 8) + (1 << 20)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(allow_nan=False, allow_infinity=False),
            st.floats(allow_nan=False, allow_infinity=False),
            st.sampled_from(["b", "a", "c"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_csv_round_trip(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[float, float, str]]
) -> None:
    # any finite floats written in shortest round-trip form read back exactly; names code in sorted order
    f = tmp_path_factory.mktemp("rt") / "r.csv"
    f.write_text("p,q,k\n" + "".join(f"{a!r},{b!r},{k}\n" for a, b, k in rows))
    names = sorted({k for _, _, k in rows})
    if len(names) < 2:
        assert "need at least two classes" in str(data_error(data.read_csv, f))
        return
    ds = data.read_csv(f)
    assert ds.x.tolist() == [[a, b] for a, b, _ in rows]
    assert ds.classes == tuple(names) and ds.labels.tolist() == [names.index(k) for _, _, k in rows]


# --- extent --------------------------------------------------------------------------------------


def test_extent_pads_five_percent() -> None:
    ds = data.Dataset(x=np.array([[0.0, -1.0, 9.0], [10.0, 1.0, 9.0]]), labels=np.array([0, 1]))
    assert data.extent(ds) == pytest.approx((-0.5, 10.5, -1.1, 1.1))
    flat = data.Dataset(x=np.array([[2.0, 0.0], [2.0, 0.0]]), labels=np.array([0, 1]))
    assert data.extent(flat) == pytest.approx((1.9, 2.1, -0.05, 0.05))


def test_extent_of_the_playground_sets_is_within_six() -> None:
    for name in ("circle", "xor", "spiral"):
        xmin, xmax, ymin, ymax = data.extent(data.load_set(name, noise=0.5))
        assert -6 < xmin < xmax < 6 and -6 < ymin < ymax < 6


def test_extent_needs_two_features() -> None:
    ds = data.Dataset(x=np.zeros((3, 1)), labels=np.array([0, 1, 0]), name="one")
    assert "one: a plot needs two features" in str(data_error(data.extent, ds))


def test_dataset_checks_its_shapes() -> None:
    with pytest.raises(ValueError):
        data.Dataset(x=np.zeros((3, 2)), labels=np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError):
        data.Dataset(x=np.zeros((3, 2)), labels=np.zeros(3, dtype=np.int64), feature_names=("a",))
    assert data.Dataset(x=np.zeros((1, 3)), labels=np.zeros(1, dtype=np.int64)).feature_names == (
        "x1",
        "x2",
        "x3",
    )


def test_csv_lines_ended_by_a_lone_carriage_return_are_lines(tmp_path: Path) -> None:
    f = tmp_path / "mac.csv"
    f.write_bytes(b"a,b,y\r1,2,0\r3,4,1\r5,x,1\r")
    assert str(data_error(data.read_csv, f)) == f"{f}: row 4: b is not a number: 'x'"
    f.write_bytes(b"a,b,y\r1,2,0\r3,4,1\r")
    assert data.read_csv(f).x.tolist() == [[1, 2], [3, 4]]
