"""The views that follow the data (plane images, circle angle plots, predicted vs true), the feature
movement plot, the eigenfunctions by dimension and the NTK's eigenvalue per frequency, each checked value
by value against the snapshots of a tiny run (a view drawn from the wrong field fails); the data drawn
before Start for every view; a μP run shows its note and no NTK ∞ curve."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from ntklab.core.spherical import circle_eigenvalues, circle_points, multiplicities, sphere_eigenvalues
from ntklab.session import ExperimentSpec
from ntklab.session.datasets import build_dataset
from ntklab.ui.plots import FLOOR
from ntklab.ui.views import CLASS_JITTER, CLASS_OFFSETS, feature_curves
from drawn import points_drawn

TINY = ExperimentSpec().with_changes(model={"width": 32}, data={"n_train": 12, "n_test": 20},
                                     train={"steps": 20, "snapshots": 2, "learning_rate": 0.1, "kernel_every": 1})
PLANE = TINY.with_changes(data={"source": "plane", "plane_target": "ridge", "n_grid": 64, "x_min": -1.0, "x_max": 2.0})
CIRCLE = TINY.with_changes(data={"source": "circle", "frequencies": [1, 3], "amplitudes": [1.0, 0.5], "n_grid": 90})
DIGITS = TINY.with_changes(data={"source": "digits", "n_train": 20, "n_test": 30})
SPHERE = TINY.with_changes(data={"source": "sphere", "degree": 2})
MUP = TINY.with_changes(model={"parameterization": "mup"})


def _run(qtbot, c, spec, tab=0):
    c.window.tabs.setCurrentIndex(tab)
    with qtbot.waitSignal(c.runFinished, timeout=120_000):
        assert c.start(spec), c.window.banner.text()
    c.redraw_all()
    return c.snapshots[-1]


def _same(item, x, y) -> None:
    assert points_drawn(item) == len(x), (item.name(), points_drawn(item), len(x))
    np.testing.assert_allclose(item.xData, x, rtol=1e-12)
    np.testing.assert_allclose(item.yData, y, rtol=1e-12)


def test_plane_run_draws_each_answer_as_its_image_on_the_grid(window, qtbot):
    w, c = window
    snap = _run(qtbot, c, PLANE)
    data = snap.data
    plane, shape = w.fit_area.plane, data.grid_shape
    assert w.fit_area.widget.currentWidget() is plane.widget and shape == (8, 8)
    net, lin = np.asarray(snap.f_grid_net, np.float64), np.asarray(snap.f_grid_lin, np.float64)
    assert not np.allclose(net, lin, rtol=1e-3)  # the checks below tell the two apart
    answers = {"target": data.y_grid, "network": net, "linearization": lin, "ntk_inf": snap.f_grid_ntk}
    for key, values in answers.items():
        np.testing.assert_array_equal(plane.images[key].image, np.reshape(values, shape))
    np.testing.assert_allclose(plane.images["gap"].image, np.abs(net - lin).reshape(shape), rtol=1e-12)
    # where each pixel sits: pixel (row i, column j) is centred on grid point i·cols + j (x2 up, x1 across)
    image = plane.images["network"]
    for i, j in ((0, 0), (0, 7), (7, 0), (3, 5)):
        centre = image.mapToParent(QPointF(j + 0.5, i + 0.5))
        np.testing.assert_allclose([centre.x(), centre.y()], data.x_grid[i * 8 + j], atol=1e-6)
    # one colour scale for the four answers, covering all of them; the difference has its own
    levels = [tuple(plane.images[k].levels) for k in plane.SHARED]
    assert len(set(levels)) == 1
    lo, hi = levels[0]
    drawn = np.concatenate([data.y_grid, net, lin, snap.f_grid_ntk])
    assert lo == pytest.approx(drawn.min()) and hi == pytest.approx(drawn.max())
    assert tuple(plane.images["gap"].levels) == pytest.approx((0.0, np.abs(net - lin).max()))
    for key in plane.points:  # the training points on top of every panel
        x, y = plane.points[key].getData()
        np.testing.assert_allclose(np.c_[x, y], data.x_train, rtol=1e-6)
    # the eigenfunctions follow the dimension: images on the same grid
    run = snap.run_spectra
    functions = w.spectra.views["functions"]
    assert functions.widget.currentWidget() is functions.images and len(functions.items) >= 1
    for i, item in enumerate(functions.items):
        np.testing.assert_array_equal(item.image, run.eigenfunctions[i].reshape(shape))


def test_feature_plot_has_one_curve_per_layer_with_the_snapshots_values(window, qtbot):
    w, c = window
    _run(qtbot, c, TINY.with_changes(model={"depth": 3}))
    plot = w.feature_plot
    assert list(plot.curves) == [f"feature_change[{l}]" for l in range(3)] + [f"weight_change[{l}]" for l in range(4)]
    steps = c.record.scalars["step"]
    for name, values in c.record.vectors.items():
        assert values.shape == (len(steps), 3 if name == "feature_change" else 4)
        for l in range(values.shape[1]):
            y = values[:, l]
            keep = np.isfinite(y) & (y > 0)  # step 0: exactly 0, not on a log axis
            _same(plot.curves[f"{name}[{l}]"], steps[keep], np.maximum(y[keep], FLOOR))
    names = [plot.curves[f].name() for f, *_ in feature_curves(3, 4)]
    assert names == ["features h₁", "features h₂", "features h₃", "weights W₁", "weights W₂", "weights W₃",
                     "weights readout"]


def test_feature_plot_of_a_readout_only_run_draws_the_still_features_at_zero(window, qtbot):
    w, c = window
    _run(qtbot, c, TINY.with_changes(train={"trainable": "readout"}, infinite={"enabled": False}))
    plot, axis = w.feature_plot, w.feature_plot.series.axis
    assert axis.zero_level is not None  # only the readout moves: features and hidden weights are exactly 0
    for field in ("feature_change[0]", "feature_change[1]", "weight_change[0]", "weight_change[1]"):
        np.testing.assert_allclose(plot.curves[field].yData, 10.0**axis.zero_level)
    assert np.all(plot.curves["weight_change[2]"].yData > 10.0**axis.zero_level)


def test_circle_run_draws_the_functions_along_the_angle(window, qtbot):
    w, c = window
    snap = _run(qtbot, c, CIRCLE, tab=1)
    data, line = snap.data, w.fit_area.line
    theta = np.asarray(data.grid_axis)
    assert w.fit_area.widget.currentWidget() is line.widget and line.plot.getAxis("bottom").labelText == "angle θ"
    assert theta[0] == 0 and theta[-1] == pytest.approx(2 * np.pi)
    _same(line.net, theta, snap.f_grid_net)
    _same(line.lin, theta, snap.f_grid_lin)
    _same(line.ntk, theta, snap.f_grid_ntk)
    _same(line.target, theta, data.y_grid)
    angles = line.points.xData
    assert np.all((angles >= 0) & (angles < 2 * np.pi))
    np.testing.assert_allclose(circle_points(angles), data.x_train, atol=1e-5)  # each point at its own angle
    np.testing.assert_allclose(line.points.yData, data.y_train)
    functions = w.spectra.views["functions"]
    assert functions.widget.currentWidget() is functions.line and len(functions.items) >= 1
    for i, item in enumerate(functions.items):
        _same(item, theta, snap.run_spectra.eigenfunctions[i])


def test_circle_run_shows_the_ntk_eigenvalue_per_frequency(window, qtbot):
    w, c = window
    snap = _run(qtbot, c, CIRCLE, tab=1)
    strip = w.spectra.frequencies
    qtbot.waitUntil(lambda: strip.sphere is not None, timeout=60_000)
    sphere = strip.sphere
    assert not strip.widget.isHidden() and sphere.dim == 2 and sphere.marked == (1, 3)
    import jax

    with jax.enable_x64(True):
        mu = circle_eigenvalues(CIRCLE.model, len(sphere.mu) - 1)
    np.testing.assert_allclose(sphere.mu, mu, rtol=1e-12)
    np.testing.assert_array_equal(sphere.multiplicity, multiplicities(len(mu) - 1, 2))
    text = strip.table.text()
    for k in range(6):
        assert f"{mu[k]:.3g}" in text and f"{12 * mu[k]:.3g}" in text
    assert "<b>▸1</b>" in text and "<b>▸3</b>" in text  # the target's frequencies
    # on the eigenvalue plot: n·μ_k repeated by multiplicity, largest first (n = 12)
    overlay = w.spectra.views["eigen"].sphere_curve
    expected = np.sort(np.repeat(12 * mu, multiplicities(len(mu) - 1, 2)))[::-1][:12]
    _same(overlay, np.arange(1, 13), expected)
    # an independent look: the analytic NTK's largest eigenvalue on these 12 random angles is near n·μ₀
    assert snap.run_spectra.eig_ntk_inf[0] == pytest.approx(12 * mu[0], rel=0.25)
    w.reset_button.click()
    assert strip.widget.isHidden() and points_drawn(overlay) == 0


def test_sphere_run_shows_the_eigenvalue_per_degree_and_predicted_vs_true(window, qtbot):
    w, c = window
    snap = _run(qtbot, c, SPHERE, tab=1)
    points = w.fit_area.points
    assert w.fit_area.widget.currentWidget() is points.widget
    y = snap.data.y_grid
    np.testing.assert_array_equal(snap.data.x_grid, snap.data.x_test)  # the grid is the test set
    _same(points.net, y, snap.f_grid_net)
    _same(points.lin, y, snap.f_grid_lin)
    _same(points.ntk, y, snap.f_grid_ntk)
    lo, hi = points.diagonal.xData
    np.testing.assert_array_equal(points.diagonal.xData, points.diagonal.yData)  # f = y
    assert lo < y.min() and hi > y.max()
    assert f"{snap.mse_test_net:.4g}" in points.summary.text() and "accuracy" not in points.summary.text()
    strip = w.spectra.frequencies
    qtbot.waitUntil(lambda: strip.sphere is not None, timeout=60_000)
    import jax

    with jax.enable_x64(True):
        mu = sphere_eigenvalues(SPHERE.model, len(strip.sphere.mu) - 1)
    np.testing.assert_allclose(strip.sphere.mu, mu, rtol=1e-12)
    assert "degree ℓ" in strip.table.text() and "<b>▸2</b>" in strip.table.text()
    functions = w.spectra.views["functions"]  # no grid: one line says so
    assert functions.items == [] and functions.message.isVisible() and "no grid" in functions.message.toPlainText()


def test_digits_run_draws_predicted_vs_true_with_accuracies(window, qtbot):
    w, c = window
    snap = _run(qtbot, c, DIGITS)
    points, y = w.fit_area.points, snap.data.y_grid
    assert snap.data.classification and set(np.unique(y)) == {-1.0, 1.0}
    for item, values, answer in ((points.net, snap.f_grid_net, "net"), (points.lin, snap.f_grid_lin, "lin"),
                                 (points.ntk, snap.f_grid_ntk, "ntk")):
        np.testing.assert_allclose(item.yData, values, rtol=1e-12)
        offset = item.xData - y  # each answer in its own column beside the true label
        assert np.all(np.abs(offset - CLASS_OFFSETS[answer]) <= CLASS_JITTER + 1e-12)
    assert points.boundary.isVisible()
    text = points.summary.text()
    for field in ("net", "lin", "ntk"):
        assert f"{100 * getattr(snap, f'accuracy_test_{field}'):.1f}%" in text
        assert f"{getattr(snap, f'mse_test_{field}'):.4g}" in text
    # the accuracy printed is the sign agreement of the points drawn
    assert np.mean(np.sign(points.net.yData) == y) == pytest.approx(snap.accuracy_test_net)


def test_mup_run_shows_the_note_and_no_ntk_curve(window, qtbot):
    w, c = window
    snap = _run(qtbot, c, MUP)
    line = w.fit_area.line
    assert snap.f_grid_ntk is None and points_drawn(line.ntk) == 0 and points_drawn(line.nngp) == 0
    assert not line.nngp_band.isVisible()
    assert line.notes.isVisible() and "μP learns features" in line.notes.text()
    assert points_drawn(line.net) == len(snap.f_grid_net)
    assert w.spectra.frequencies.widget.isHidden()
    fit_legend = _legend(line.plot)
    assert "NTK ∞" not in fit_legend and not any("NNGP" in t for t in fit_legend)  # not in the legends either
    assert {"network", "linearization", "target", "training points"} <= set(fit_legend)
    loss_legend = _legend(w.loss_plot.plot)
    assert "NTK ∞ train" not in loss_legend and "network train" in loss_legend
    w.reset_button.click()
    assert "NTK ∞" in _legend(line.plot) and "NTK ∞ train" in _legend(w.loss_plot.plot)  # all, before a run


def _legend(plot) -> list[str]:
    return [label.text for _, label in plot.getPlotItem().legend.items]


def test_mup_on_the_plane_says_ntk_not_drawn(window, qtbot):
    w, c = window
    snap = _run(qtbot, c, PLANE.with_changes(model={"parameterization": "mup"}))
    plane = w.fit_area.plane
    assert snap.f_grid_ntk is None and plane.images["ntk_inf"].image is None
    assert "not drawn" in plane.panels["ntk_inf"].titleLabel.text
    assert plane.notes.isVisible() and "μP" in plane.notes.text()


@pytest.mark.parametrize("spec, page", [(PLANE, "plane"), (CIRCLE, "line"), (DIGITS, "points"), (TINY, "line")],
                         ids=["plane", "circle", "digits", "preset"])
def test_the_data_is_drawn_before_start_in_its_view(window, qtbot, spec, page):
    from ntklab.ui.params import apply_spec

    w, c = window
    apply_spec(w.params, spec)
    data = build_dataset(spec.data, np.float32)
    view = getattr(w.fit_area, page)
    qtbot.waitUntil(lambda: w.fit_area.widget.currentWidget() is view.widget, timeout=3_000)
    if page == "plane":
        qtbot.waitUntil(lambda: view.images["target"].image is not None, timeout=3_000)
        np.testing.assert_array_equal(view.images["target"].image, data.y_grid.reshape(data.grid_shape))
        assert view.images["network"].image is None
    elif page == "points":
        qtbot.waitUntil(lambda: "30 test points" in view.summary.text(), timeout=3_000)
        assert points_drawn(view.diagonal) > 0 and points_drawn(view.net) == 0
    else:
        qtbot.waitUntil(lambda: points_drawn(view.points) == spec.data.n_train, timeout=3_000)
        np.testing.assert_allclose(view.target.yData, data.y_grid)
        assert points_drawn(view.net) == 0
