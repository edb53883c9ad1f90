"""The data settings in experiment files, CSV and digits files, headless runs of every source."""

import hashlib
import math

import numpy as np
import pytest

from ntklab.core import analytic_kernels, gradient_descent_mse
from ntklab.core.data import sign_accuracy
from ntklab.session import Experiment, ExperimentSpec, SpecError, load_spec, save_spec, spec_from_dict
from ntklab.session.datasets import CSV_MAX_ROWS, build_dataset, load_digits
from ntklab.session.spec import DataSpec


def _data(**settings) -> DataSpec:
    return spec_from_dict({"data": settings}).data


# --- files with today's settings -----------------------------------------------------------------


def _make_dataset_0_1(preset, n_train, n_test, noise, seed, x_min, x_max, dtype):
    """The 1-D data of NTK Lab before the data sources (ntklab/core/data.py at 527501a), verbatim."""
    targets = {"sin": lambda x: np.sin(2.0 * x), "step": lambda x: np.where(x >= 0.0, 1.0, -1.0),
               "polynomial": lambda x: 0.5 * x**3 - x,
               "multi_sine": lambda x: np.sin(x) + 0.5 * np.sin(4.0 * x) + 0.25 * np.sin(9.0 * x)}
    target = targets[preset]
    rng = np.random.default_rng(seed)
    x_train = np.sort(rng.uniform(x_min, x_max, n_train))
    y_train = target(x_train) + noise * rng.standard_normal(n_train)
    x_test = rng.uniform(x_min, x_max, n_test)
    x_grid = np.linspace(x_min, x_max, 200)
    col = lambda x: x.reshape(-1, 1).astype(dtype)  # noqa: E731
    return dict(x_train=col(x_train), y_train=y_train.astype(dtype), x_test=col(x_test),
                y_test=target(x_test).astype(dtype), x_grid=col(x_grid), y_grid=target(x_grid).astype(dtype))


@pytest.mark.parametrize("text,args", [
    ("", ("sin", 16, 200, 0.0, 0, -2.0, 2.0)),
    ("preset = 'multi_sine'\nn_train = 33\nn_test = 50\nnoise = 0.1\nseed = 7\nx_min = -3.0\nx_max = 1.5\n",
     ("multi_sine", 33, 50, 0.1, 7, -3.0, 1.5)),
    ("preset = 'step'\nnoise = 0.25\nseed = 123\n", ("step", 16, 200, 0.25, 123, -2.0, 2.0)),
    ("preset = 'polynomial'\nn_train = 5\n", ("polynomial", 5, 200, 0.0, 0, -2.0, 2.0)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_todays_files_give_the_same_data_bit_for_bit(tmp_path, text, args, dtype):
    path = tmp_path / "old.toml"
    path.write_text("[data]\n" + text)
    data = build_dataset(load_spec(path).data, dtype)
    for name, expected in _make_dataset_0_1(*args, dtype).items():
        got = getattr(data, name)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes(), name
    assert data.view == "line" and not data.classification


def test_every_new_setting_round_trips_through_toml(tmp_path):
    data = dict(source="csv", preset="step", n_train=12, n_test=34, noise=0.05, seed=3, x_min=-1.0, x_max=3.0,
                n_grid=1024, random_labels=True, label_kind="gaussian", plane_target="checker",
                frequencies=[2, 5, 0], amplitudes=[1.0, -0.5, 2], sin_amplitudes=[0.0, 0.25, 0.0], degree=4,
                expression="where(x1 > 0, sin(x2), x3**2)", dim=3, csv_path="/some/file.csv",
                input_columns=["a", 2, "c d"], target_column=5, standardize=False, csv_sha256="ab" * 32,
                digits_positive=[3], digits_negative=[8, 1])
    spec = ExperimentSpec().with_changes(data=data)
    save_spec(spec, tmp_path / "e.toml")
    loaded = load_spec(tmp_path / "e.toml")
    assert loaded == spec and hash(loaded.data) == hash(spec.data)  # hashable: tuples, not lists
    for name, value in data.items():
        got = getattr(loaded.data, name)
        assert (list(got) if isinstance(got, tuple) else got) == value, name
    text = (tmp_path / "e.toml").read_text()
    assert "target_column = 5" in text and 'input_columns = [\n    "a",\n    2,' in text


@pytest.mark.parametrize("settings,message", [
    (dict(source="torus"), r"data.source: 'torus' is not valid; choose one of preset, plane, circle"),
    (dict(n_grid=1), r"data.n_grid: 1 is not valid; use an integer from 2 to 100000"),
    (dict(n_grid=2.5), r"data.n_grid: 2.5 is not valid"),
    (dict(random_labels="yes"), r"data.random_labels: 'yes' is not valid; use true or false"),
    (dict(label_kind="uniform"), r"data.label_kind: 'uniform' is not valid; choose one of sign, gaussian"),
    (dict(plane_target="saddle"), r"data.plane_target: 'saddle' is not valid; choose one of bump, ridge"),
    (dict(frequencies=[1, -2]), r"data.frequencies: \(1, -2\) is not valid|data.frequencies: \[1, -2\] is not valid"),
    (dict(frequencies=3), r"data.frequencies: 3 is not valid; use a list of integers"),
    (dict(amplitudes=[1.0, "a"]), r"data.amplitudes: .* is not valid; use a list of finite numbers"),
    (dict(sin_amplitudes=[math.nan]), r"data.sin_amplitudes: .* is not valid"),
    (dict(source="circle", frequencies=[1, 2], amplitudes=[1.0]), r"data.amplitudes: \[1.0\] is not valid; give one amplitude per frequency \(2\)"),
    (dict(source="circle", frequencies=[1, 1], amplitudes=[1.0, 1.0]), r"data.frequencies: \[1, 1\] is not valid; give at least one frequency, each once"),
    (dict(source="circle", frequencies=[], amplitudes=[]), r"data.frequencies: \[\] is not valid"),
    (dict(source="circle", sin_amplitudes=[1.0]), r"data.sin_amplitudes: \[1.0\] is not valid; give one per frequency \(2\) or \[\]"),
    (dict(degree=-1), r"data.degree: -1 is not valid; use an integer from 0 to 100"),
    (dict(expression=3), r"data.expression: 3 is not valid; use a text in quotes"),
    (dict(expression="x" * 1001), r"data.expression: 1001 characters is too long; keep it to 1000"),
    (dict(source="expression", expression="__import__('os')"), r"data.expression: column 1, '__import__': not a known name"),
    (dict(source="expression", expression="x1 + x3", dim=2), r"data.expression: column 6, 'x3': not a known name; use x1, x2"),
    (dict(dim=0), r"data.dim: 0 is not valid; use an integer from 1 to 100"),
    (dict(csv_path=3), r"data.csv_path: 3 is not valid"),
    (dict(source="csv"), r"data.csv_path: '' is not valid; give the path of a CSV file"),
    (dict(input_columns="a"), r"data.input_columns: 'a' is not valid; use a list of column names"),
    (dict(input_columns=[-1]), r"data.input_columns: .* is not valid"),
    (dict(source="csv", csv_path="f.csv", input_columns=["a", "a"]), r"data.input_columns: \['a', 'a'\] is not valid; name each column once"),
    (dict(source="csv", csv_path="f.csv", input_columns=["a"], target_column="a"), r"data.target_column: 'a' is not valid; use a column that is not among"),
    (dict(target_column=1.5), r"data.target_column: 1.5 is not valid; use a column name"),
    (dict(standardize=1), r"data.standardize: 1 is not valid; use true or false"),
    (dict(csv_sha256="abc"), r"data.csv_sha256: 'abc' is not valid; use the file's SHA-256 as 64 hexadecimal digits"),
    (dict(digits_positive=[10]), r"data.digits_positive: .* is not valid; use a list of digits from 0 to 9"),
    (dict(source="digits", digits_positive=[1, 2], digits_negative=[2, 3]), r"data.digits_negative: \[2, 3\] is not valid; .* none of them in data.digits_positive"),
    (dict(source="digits", digits_positive=[]), r"data.digits_positive: \[\] is not valid; give at least one digit"),
])
def test_bad_settings_name_the_field_and_the_fix(settings, message):
    with pytest.raises(SpecError, match=message):
        _data(**settings)


def test_settings_of_another_source_are_ignored_but_type_checked():
    _data(source="preset", frequencies=[1, 2], amplitudes=[1.0])  # mismatched, but circle is not chosen
    _data(source="preset", expression="not a valid (expression")
    with pytest.raises(SpecError, match="data.amplitudes"):
        _data(source="preset", amplitudes="loud")


# --- CSV -----------------------------------------------------------------------------------------


def _csv(tmp_path, text: str | bytes, name="t.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


TABLE = "id,a,b,price\n" + "".join(f"row{i},{i},{(i * 7) % 5 - 2.5},{2 * i + 1}\n" for i in range(40))


def test_csv_columns_split_standardization_and_checksum(tmp_path):
    path = _csv(tmp_path, TABLE)
    d = build_dataset(_data(source="csv", csv_path=path, input_columns=["a", 2], target_column="price",
                            n_train=30, n_test=100, standardize=False, seed=4), np.float64)
    assert d.x_train.shape == (30, 2) and d.x_test.shape == (10, 2)  # n_test of the rest: only 10 left
    assert d.view == "points" and np.array_equal(d.x_grid, d.x_test) and not d.classification
    np.testing.assert_array_equal(d.y_train, 2 * d.x_train[:, 0] + 1)  # the rows kept together
    rows = np.concatenate([d.x_train[:, 0], d.x_test[:, 0]])
    assert sorted(rows.tolist()) == list(range(40))  # a split of the file's rows, each once
    s = d.source_settings
    assert s["csv_sha256"] == hashlib.sha256(TABLE.encode()).hexdigest() and s["csv_path"] == str(tmp_path / "t.csv")
    assert s["input_columns"] == ["a", "b"] and s["target_column"] == "price" and s["rows"] == 40
    std = build_dataset(_data(source="csv", csv_path=path, input_columns=["a", "b"], target_column="price",
                              n_train=30, seed=4), np.float64)
    np.testing.assert_allclose(std.x_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(std.y_train.std(), 1)
    np.testing.assert_allclose(std.y_test * std.source_settings["target_std"] + std.source_settings["target_mean"],
                               d.y_test)
    same = build_dataset(_data(source="csv", csv_path=path, input_columns=[1, 2], target_column=3, n_train=30,
                               csv_sha256=s["csv_sha256"].upper(), seed=4), np.float64)
    np.testing.assert_array_equal(same.y_test, std.y_test)  # by index, checksum in upper case accepted


def test_csv_defaults_headerless_semicolons_and_labels(tmp_path):
    path = _csv(tmp_path, "".join(f"{i};{i % 3};{1 if i % 2 else -1}\n" for i in range(12)))
    d = build_dataset(_data(source="csv", csv_path=path, n_train=8), np.float32)
    assert d.x_train.shape == (8, 2) and d.classification  # every column but the last; ±1 target
    assert set(np.unique(d.y_train)) <= {-1.0, 1.0}  # a ±1 target is never standardized
    with pytest.raises(SpecError, match=r"data.target_column: 'y' is not a column of the file; its columns "
                                        r"are none \(no header row; use indices 0 to 2\)"):
        build_dataset(_data(source="csv", csv_path=path, target_column="y"), np.float32)


@pytest.mark.parametrize("content,settings,message", [
    ("a,b,y\n1,2,3\n4,abc,6\n", {}, r"data.csv_path: row 2 \(line 3\), column 'b': 'abc' is not a number"),
    ("a,b,y\n1,2,3\n4,,6\n", {}, r"data.csv_path: row 2 \(line 3\), column 'b': missing value"),
    ("a,b,y\n1,2,3\n4,5,nan\n", {}, r"data.csv_path: row 2 \(line 3\), column 'y': 'nan' is not a finite number"),
    ("a,b,y\n1,2,3\n4,5,-inf\n", {}, r"column 'y': '-inf' is not a finite number"),
    ("a,b,y\n1,2,3\n4,5\n", {}, r"data.csv_path: row 2 \(line 3\) has 2 fields, the header 3"),
    ("", {}, r"data.csv_path: '.*t.csv' is empty"),
    ("\n\n  \n", {}, r"data.csv_path: '.*' has no rows"),
    ("a,b,y\n", {}, r"data.csv_path: '.*' has a header but no data rows"),
    ("y\n1\n2\n3\n", {}, r"data.csv_path: '.*' has one column only; a CSV needs input columns and a target column"),
    ("a,b,y\n1,2,3\n", dict(target_column="price"), r"data.target_column: 'price' is not a column of the file; "
                                                     r"its columns are 'a', 'b', 'y'"),
    ("a,b,y\n1,2,3\n", dict(input_columns=["a", "z"]), r"data.input_columns: 'z' is not a column of the file"),
    ("a,b,y\n1,2,3\n", dict(input_columns=[7]), r"data.input_columns: 7 is not valid; the file has 3 columns, indices 0 to 2"),
    ("a,b,y\n1,2,3\n", dict(input_columns=["y"]), r"data.input_columns: 'y' is the target column"),
    ("a,b,y\n1,2,3\n4,5,6\n", dict(n_train=2), r"data.n_train: 2 is not valid for a table of 2 rows; use at most 1"),
    (b"a,b,y\n1,2,3\n\xff\xfe,5,6\n", {}, r"data.csv_path: '.*' is not UTF-8 text \(byte 0xff on line 3\)"),
    (bytes(range(256)) * 8, {}, r"data.csv_path: '.*' holds binary data \(NUL bytes\), not CSV text"),
    (b"a,b,y\n1,2,3\n", dict(csv_sha256="0" * 64), r"data.csv_sha256: the file '.*' has SHA-256 [0-9a-f]{64}, "
                                                  r"not the recorded 0{64}: it changed"),
])
def test_bad_csv_files_name_the_field_row_and_column(tmp_path, content, settings, message):
    path = _csv(tmp_path, content)
    with pytest.raises(SpecError, match=message):
        build_dataset(_data(source="csv", csv_path=path, **{"n_train": 1, **settings}), np.float32)


def test_csv_missing_file_folder_and_too_many_rows(tmp_path):
    with pytest.raises(SpecError, match=r"data.csv_path: no such file '.*nope.csv'; check the path"):
        build_dataset(_data(source="csv", csv_path=str(tmp_path / "nope.csv")), np.float32)
    with pytest.raises(SpecError, match=r"data.csv_path: '.*' is not a file"):
        build_dataset(_data(source="csv", csv_path=str(tmp_path)), np.float32)
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,y\n" + b"1,2\n" * 1_000_000)  # 10⁶ rows, 4 MB
    with pytest.raises(SpecError, match=f"data.csv_path: '.*big.csv' has more than {CSV_MAX_ROWS} rows"):
        build_dataset(_data(source="csv", csv_path=str(big)), np.float32)


# --- digits --------------------------------------------------------------------------------------


def test_digits_file_labels_scaling_and_split():
    pixels, labels = load_digits()
    assert pixels.shape == (1797, 64) and pixels.dtype == np.uint8 and pixels.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # UCI's test set
    d = build_dataset(_data(source="digits", n_train=300, n_test=5000, seed=1), np.float64)
    assert d.x_train.shape == (300, 64) and d.x_test.shape == (1497, 64) and d.classification
    np.testing.assert_allclose(np.linalg.norm(d.x_train, axis=1), 8.0)  # on the sphere of radius √64
    positive = np.isin(labels, [5, 6, 7, 8, 9])
    assert np.sum(d.y_train > 0) + np.sum(d.y_test > 0) == positive.sum()
    rows = d.source_settings["train_rows"]
    np.testing.assert_array_equal(d.y_train, np.where(positive[rows], 1.0, -1.0))
    again = build_dataset(_data(source="digits", n_train=300, n_test=5000, seed=1), np.float64)
    np.testing.assert_array_equal(again.x_train, d.x_train)
    three_eight = build_dataset(_data(source="digits", digits_positive=[3], digits_negative=[8], n_train=50),
                                np.float32)
    assert len(three_eight.x_train) + len(three_eight.x_test) == 50 + min(200, 183 + 174 - 50)
    with pytest.raises(SpecError, match=r"data.n_train: 400 is not valid for a table of 357 rows"):
        build_dataset(_data(source="digits", digits_positive=[3], digits_negative=[8], n_train=400), np.float32)


def test_digits_ntk_infinity_matches_a_numpy_solve(x64):
    """Kernel regression with the analytic NTK at t = ∞ through gradient_descent_mse, against
    K_td K_dd⁻¹ y by NumPy's LU solve (float64): the two agree to 1e-6."""
    spec = ExperimentSpec().with_changes(data=dict(source="digits", n_train=200, n_test=300, seed=0))
    d = build_dataset(spec.data, np.float64)
    k_dd = analytic_kernels(spec.model, d.x_train).ntk
    k_td = analytic_kernels(spec.model, d.x_test, d.x_train).ntk
    f_ntk = np.asarray(gradient_descent_mse(k_dd, d.y_train)(math.inf, k_td))
    f_numpy = k_td @ np.linalg.solve(k_dd, d.y_train)
    np.testing.assert_allclose(f_ntk, f_numpy, rtol=0, atol=1e-6)
    assert sign_accuracy(f_ntk, d.y_test) > 0.85  # well above chance (0.5) at n = 200


# --- headless runs -------------------------------------------------------------------------------


TINY = ExperimentSpec().with_changes(model={"width": 32}, data={"n_train": 8, "n_test": 12},
                                     train={"steps": 4, "snapshots": 2, "learning_rate": 0.1})


@pytest.mark.parametrize("data", [
    dict(source="preset"),
    dict(source="plane", plane_target="radial", n_grid=64),
    dict(source="circle", frequencies=[2], amplitudes=[1.0], n_grid=50),
    dict(source="sphere", degree=2),
    dict(source="expression", expression="x1*x2 - x4", dim=4),
    dict(source="csv"),
    dict(source="digits"),
    dict(source="plane", plane_target="checker", random_labels=True),
])
def test_a_headless_run_of_every_source(tmp_path, data):
    if data["source"] == "csv":
        data = dict(data, csv_path=_csv(tmp_path, TABLE), input_columns=["a", "b"])
    snaps = list(Experiment(TINY.with_changes(data=data)).run())
    last = snaps[-1]
    assert [s.step for s in snaps] == [0, 2, 4]
    grid = len(last.data.x_grid)
    assert last.f_grid_net.shape == (grid,) and last.f_grid_ntk.shape == (grid,)
    assert np.isfinite(last.mse_train_net) and np.isfinite(last.mse_test_ntk)
    assert last.run_spectra.eigenfunctions.shape == (4, grid)


@pytest.mark.slow
def test_random_labels_fitted_at_chance_test_accuracy():
    """Zhang et al. 2017 in the kernel regime: at width 2048 the network fits 64 random ±1 labels of
    digits (train MSE < 1e-3) while its accuracy on 400 test digits stays within chance ± 3 standard
    errors. The standard error counts both draws behind the accuracy: the test points (binomial,
    0.5/√400 = 0.025) and the 64 random labels, whose chance agreement with the true classes moves
    the fitted function (Monte Carlo: the NTK ∞ accuracy over 400 other label draws)."""
    spec = ExperimentSpec().with_changes(
        model={"width": 2048},
        data={"source": "digits", "random_labels": True, "n_train": 64, "n_test": 400},
        train={"steps": 2500, "snapshots": 5, "learning_rate": 0.15},  # η_crit ≈ 0.33 (analytic NTK)
        spectra={"enabled": False},
    )
    last = list(Experiment(spec).run())[-1]
    data = last.data  # digits: the grid is the test set
    accuracy = sign_accuracy(last.f_grid_net, data.y_test)
    k_dd = analytic_kernels(spec.model, data.x_train).ntk.astype(np.float64)
    k_td = analytic_kernels(spec.model, data.x_test, data.x_train).ntk.astype(np.float64)
    smoother = k_td @ np.linalg.inv(k_dd)
    labels = np.random.default_rng(12345).choice([-1.0, 1.0], (len(data.x_train), 400))
    null = [sign_accuracy(smoother @ y, data.y_test) for y in labels.T]
    se = math.hypot(np.std(null), 0.5 / math.sqrt(len(data.y_test)))
    print(f"train MSE {last.mse_train_net:.2e}, test accuracy {accuracy:.4f}, null mean {np.mean(null):.4f}, "
          f"null sd {np.std(null):.4f}, se {se:.4f}")
    assert last.mse_train_net < 1e-3
    assert abs(np.mean(null) - 0.5) < 3 * np.std(null) / math.sqrt(len(null)) + 0.01  # chance is 1/2 here
    assert abs(accuracy - 0.5) < 3 * se
