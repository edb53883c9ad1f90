"""The plot pieces on their own: log ticks, bounded histories, legends outside the data, the eigenvalue
table's states, the form's labels. No run: fake snapshots with the fields the views read."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from ntklab.ui.plots import (
    FitPlot,
    History,
    SeriesPlot,
    ThinnedRows,
    _plot,
    format_log_tick,
    log_ticks,
)

F32 = float(np.finfo(np.float32).eps)


def _n(item) -> int:
    """Points drawn by a curve (None after ``setData([], [])``)."""
    return 0 if item.xData is None else len(item.xData)


def _labels(lo, hi, max_ticks=10):
    values, digits = log_ticks(math.log10(lo), math.log10(hi), max_ticks)
    return [10**v for v in values], [format_log_tick(v, digits) for v in values]


@pytest.mark.parametrize("lo, hi", [(0.045, 0.45), (0.08, 0.35), (0.15, 0.3), (0.19, 0.21), (1e-6, 1.0),
                                    (1.0, 16.0), (1e-3, 3e3), (2e-3, 0.07), (1e-12, 1e-11), (0.99, 1.01)])
def test_log_axis_labels_at_least_two_ticks_in_range(lo, hi):
    values, labels = _labels(lo, hi)
    assert len(values) >= 2 and all(lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9) for v in values)
    assert len(set(labels)) == len(labels)  # distinct labels: enough digits
    for v, text in zip(values, labels):  # each label reads back as its value (to its digits)
        assert _number(text) == pytest.approx(v, rel=1e-6)


def _number(text: str) -> float:
    """A tick label back to a number: "0.05", "1000", "10⁻⁶", "2·10⁻¹²"."""
    superscripts = "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"
    if any(c in text for c in superscripts):
        mantissa, _, power = text.rpartition("10")
        return float(mantissa.rstrip("·") or 1) * 10.0 ** int(power.translate(str.maketrans(superscripts, "-0123456789")))
    return float(text)


def test_log_axis_at_width_8_labels_near_the_top_of_the_data():
    """The distance plot at width 8 spans ~0.045-0.45: it was labelled 0.1 and 0.2 only, the kernel
    motion curve above the top label; the top label must now lie within 30% of the range's top."""
    values, labels = _labels(0.045, 0.45)
    assert len(values) >= 3 and math.log10(0.45) - math.log10(max(values)) <= 0.3
    assert labels[:2] == ["0.05", "0.1"]


def test_log_axis_respects_its_room():
    values, _ = _labels(1e-12, 1e3, max_ticks=5)
    assert 2 <= len(values) <= 5


def test_thinned_rows_stay_bounded_and_keep_first_and_latest():
    rows = ThinnedRows(capacity=64)
    for i in range(10_000):
        rows.append({"step": i, "v": np.full(3, i)})
        assert rows.size <= 64
    steps = rows["step"]
    assert steps[0] == 0 and steps[-1] == 9999 and len(steps) <= 65
    assert np.all(np.diff(steps[:-1]) == steps[1] - steps[0])  # evenly spread
    assert np.array_equal(rows["v"][:, 0], steps)  # rows stay whole


def test_history_is_bounded():
    history = History(["a"], capacity=128)
    for i in range(5000):
        history.append(SimpleNamespace(step=i, a=float(i) ** 2))
    assert history.size <= 129 and history["step"][-1] == 4999
    assert np.array_equal(history["a"], history["step"] ** 2)


def test_legend_sits_above_the_data_and_covers_no_curve(qtbot):
    plot = _plot("t", "x", "y")
    qtbot.addWidget(plot)
    for i in range(6):
        plot.plot([0, 1], [i, i + 1], name=f"a fairly long curve name {i}")
    plot.resize(600, 300)
    plot.show()
    qtbot.waitExposed(plot)
    item = plot.getPlotItem()
    legend, view = item.legend.sceneBoundingRect(), item.vb.sceneBoundingRect()
    assert legend.height() > 0 and legend.bottom() <= view.top() + 1
    assert item.legend.columns() >= 2  # entries flow into columns as the width allows


def test_series_plot_draws_an_all_zero_curve_on_a_zero_level(qtbot):
    plot = SeriesPlot("Kernel motion", "relative change", [("a", "a", "network", False), ("b", "b", "kernel", False)])
    qtbot.addWidget(plot.widget)
    history = History(["a", "b"])
    for i in range(5):
        history.append(SimpleNamespace(step=i, a=0.01 * (i + 1), b=0.0))
    plot.set_data(history)
    x, y = plot.curves["b"].xData, plot.curves["b"].yData
    assert list(x) == [0, 1, 2, 3, 4] and np.allclose(y, 10.0 ** plot.axis.zero_level)
    assert plot.axis.zero_level < math.log10(0.01)
    assert plot.axis.tickStrings([plot.axis.zero_level], 1, 1) == ["0"]
    assert np.array_equal(plot.curves["a"].yData, 0.01 * np.arange(1, 6))


def test_series_plot_ends_a_diverged_curve_and_marks_its_step(qtbot):
    plot = SeriesPlot("Loss", "mse", [("mse_train_net", "net", "network", False),
                                      ("mse_train_lin", "lin", "linearization", False)])
    qtbot.addWidget(plot.widget)
    plot.set_steps(100)
    history = History(["mse_train_net", "mse_train_lin"])
    lin = [1.0, 4.0, 1e6, 1e30, math.nan]
    for i, v in enumerate(lin):
        history.append(SimpleNamespace(step=10 * i, mse_train_net=1.0 / (i + 1), mse_train_lin=v))
    snap = SimpleNamespace(lin_diverged_step=37, ntk_diverged_step=-1)
    plot.set_data(history, snap)
    assert list(plot.curves["mse_train_lin"].xData) == [0, 10]  # up to 100× the other curves, then no more
    assert list(plot.curves["mse_train_net"].xData) == [0, 10, 20, 30, 40]
    assert set(plot.marks) == {"lin_diverged_step"} and plot.marks["lin_diverged_step"].value() == 37
    assert "linearization diverged at step 37" in plot.marks["lin_diverged_step"].label.toPlainText()
    plot.clear()
    assert not plot.marks and _n(plot.curves["mse_train_lin"]) == 0


def _fake_dataset(n=5, g=7):
    x = np.linspace(-1, 1, n)[:, None]
    grid = np.linspace(-1, 1, g)[:, None]
    return SimpleNamespace(x_train=x, y_train=np.sin(x[:, 0]), x_grid=grid, y_grid=np.sin(grid[:, 0]),
                           view="line")


def test_fit_plot_draws_no_nan_and_clears_the_band(qtbot):
    fit = FitPlot()
    qtbot.addWidget(fit.widget)
    data = _fake_dataset()
    g = len(data.x_grid)
    infinite = SimpleNamespace(nngp_mean=np.zeros(g), nngp_std=np.full(g, 0.5))
    snap = SimpleNamespace(data=data, infinite=infinite, f_grid_net=np.arange(g, dtype=float),
                           f_grid_lin=np.full(g, np.nan), f_grid_ntk=None, notes=("The linearization diverged at step 3: …",))
    fit.set_data(snap)
    assert np.array_equal(fit.nngp_upper.yData, np.ones(g)) and np.array_equal(fit.nngp_lower.yData, -np.ones(g))
    assert fit.nngp_band.isVisible()
    assert _n(fit.lin) == 0 and _n(fit.ntk) == 0  # a diverged or absent answer is not drawn
    assert fit.notes.text().startswith("The linearization diverged at step 3")
    fit.clear()
    assert _n(fit.nngp_upper) == 0 and not fit.nngp_band.isVisible() and fit.notes.isHidden()
    absent = SimpleNamespace(nngp_mean=None, nngp_std=None)
    fit.set_data(SimpleNamespace(**{**snap.__dict__, "infinite": absent, "notes": ()}))
    assert _n(fit.nngp) == 0 and not fit.nngp_band.isVisible()


# --- the Spectra tab's pieces -------------------------------------------------------------------


def _record(eig_ntk0, eig_ntk_inf, eig_nngp=None, eigvals_t=None, eps=F32, functions=None):
    run = SimpleNamespace(eig_ntk0=np.asarray(eig_ntk0, float), eig_ntk_inf=None if eig_ntk_inf is None
                          else np.asarray(eig_ntk_inf, float),
                          eig_nngp_inf=None if eig_nngp is None else np.asarray(eig_nngp, float), eps=eps,
                          eigenfunctions=functions)
    kernel = SimpleNamespace(spectra=SimpleNamespace(eigvals=np.asarray(eigvals_t if eigvals_t is not None
                                                                        else eig_ntk0, float)))
    return SimpleNamespace(first=SimpleNamespace(run_spectra=run, data=_fake_dataset(g=9)), kernel=kernel)


def test_eigen_table_shows_an_indefinite_kernel_as_an_error_not_rounding(qtbot):
    """Issue 9 item 1: λ = −2.98 against λ_max 872 (n·ε·λ_max ≈ 4e-4 in float32) is an error."""
    from ntklab.ui.spectra import EigenPlot, kernel_errors

    view = EigenPlot()
    qtbot.addWidget(view.widget)
    positive = [100.0, 10.0, 1.0, 0.5]
    record = _record(positive, [872.0, 10.0, 1.0, -2.98], eig_nngp=[50.0, 1.0, 1e-9, -1e-9])
    view.set_data(record)
    text = view.numbers.text()
    assert view.states == {"ntk0": "positive", "ntk_t": "positive", "ntk_inf": "indefinite", "nngp_inf": "unresolved"}
    assert "-2.98 ✗" in text and "not PSD" in text and "not a valid kernel" in text
    assert "* within ±n·ε·λ_max" in text and "precision = float64 (train.precision)" in text
    errors = kernel_errors(record)
    assert len(errors) == 1 and "analytic NTK ∞" in errors[0] and "-2.98" in errors[0]


def test_eigen_table_without_problems_has_no_footnote(qtbot):
    from ntklab.ui.spectra import EigenPlot, kernel_errors

    view = EigenPlot()
    qtbot.addWidget(view.widget)
    record = _record([100.0, 10.0, 1.0], [90.0, 9.0, 2.0], eig_nngp=[5.0, 1.0, 0.5])
    view.set_data(record)
    assert "*" not in view.numbers.text() and "✗" not in view.numbers.text()
    assert "cond" in view.numbers.text() and "100" in view.numbers.text()
    assert kernel_errors(record) == []


def test_eigen_footnote_in_float64_does_not_point_to_float64(qtbot):
    from ntklab.ui.spectra import EigenPlot

    view = EigenPlot()
    qtbot.addWidget(view.widget)
    view.set_data(_record([100.0, 1e-16], None, eps=float(np.finfo(np.float64).eps)))
    assert "rounding in float64" in view.numbers.text() and "train.precision" not in view.numbers.text()


def test_eigenfunctions_only_for_resolved_eigenvalues_and_no_negative_lambda_in_legends(qtbot):
    from ntklab.ui.spectra import EigenfunctionPlot, lambda_text

    view = EigenfunctionPlot()
    qtbot.addWidget(view.widget)
    eig = np.array([10.0, 1.0, 1e-7, -2e-7])
    functions = np.vstack([np.full(9, i) for i in range(4)]).astype(float)
    view.set_data(_record([1.0], eig, functions=functions))
    assert [float(item.yData[0]) for item in view.items] == [0.0, 1.0]  # φ3, φ4 are rounding noise
    assert "2 unresolved" in view.plot.getPlotItem().titleLabel.text
    assert lambda_text(-2e-7, eig, F32).startswith("λ&lt;") and lambda_text(1.0, eig, F32) == "λ=1"


def test_empty_heatmaps_show_no_negative_indices(qtbot):
    from ntklab.ui.spectra import KernelImage, ModeHeatmap

    for view in (KernelImage(change=False), KernelImage(change=True), ModeHeatmap()):
        qtbot.addWidget(view.widget)
        view.clear()
        (x0, _), (y0, _) = view.plot.viewRange()
        assert x0 >= 0 and y0 >= 0


def test_spectra_record_is_bounded_and_keeps_the_modes_drawn():
    from ntklab.ui.spectra import SpectraRecord, chosen_modes, mode_rows

    n = 300
    record = SpectraRecord(capacity=64)
    rng = np.random.default_rng(0)
    for step in range(1000):
        residual = rng.normal(size=n)
        snap = SimpleNamespace(run_spectra=object(), mode_residual=residual, step=step, spectra=None)
        record.append(snap)
    assert record.size <= 65 and record.steps[-1] == 999
    modes = chosen_modes(n)
    assert np.array_equal(record.modes(modes)[-1], np.abs(residual[modes]))  # the latest, whole
    assert record.rows["modes"].shape[1] <= len(mode_rows(n)) + len(modes)  # not all n modes


def test_form_labels_name_the_keys(qtbot):
    from ntklab.ui.params import label_keys, make_parameters

    root = make_parameters()
    assert label_keys("train.learning_rate: 0 is not valid", root) == \
        "learning rate (train.learning_rate): 0 is not valid"
    assert label_keys("use a number above data.x_min", root) == "use a number above x min (data.x_min)"
    assert label_keys("/tmp/data.toml: bad", root) == "/tmp/data.toml: bad"  # a path, not a key
    once = label_keys("lower train.steps", root)
    assert label_keys(once, root) == once == "lower steps (train.steps)"
