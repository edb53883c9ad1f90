"""The Sweep tab's panel with pytest-qt, offscreen: points appear, slopes are printed, a click emits the point."""

import math
import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from ntklab.session import ExperimentSpec
from ntklab.session.sweep import Sweep, SweepPoint
from ntklab.ui.sweep import SweepPanel, slope_text

WIDTHS = (64, 128, 256, 512, 1024)


def _sweep(values=WIDTHS, field="model.width", seeds=3):
    spec = ExperimentSpec().with_changes(sweep={"field": field, "values": list(values), "seeds": seeds})
    return Sweep(spec)


def _points(rng, slope=-0.5, seeds=3):
    """Synthetic finished points: every measure a power law of the width with 5% noise per seed."""
    out = []
    for w in WIDTHS:
        for seed in range(seeds):
            def law(c, s=slope):
                return c * w**s * math.exp(0.05 * rng.standard_normal())
            fields = {"mse_test_net": law(1.0, 0.0), "mse_test_lin": law(0.9, 0.0), "mse_test_ntk": law(0.8, 0.0),
                      "mse_test_nngp": law(0.7, 0.0), "param_change": law(1.0, -1.0), "kernel_change": law(1.0),
                      "lin_gap": law(1.0), "lin_gap_test": law(1.0), "ntk_gap_test": law(1.0),
                      "weight_change[1]": law(1.0), "weight_change[2]": law(1.0, -1.0), "weight_change[3]": law(1.0),
                      "feature_change[1]": law(1.0), "feature_change[2]": law(1.0)}
            out.append(SweepPoint(field="model.width", value=w, seed=seed, data_seed=0, fields=fields))
    return out


@pytest.fixture
def panel(qtbot):
    p = SweepPanel()
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    return p


def _legend_texts(plot) -> list[str]:
    legend = plot.widget.getPlotItem().legend
    return [label.text for _, label in legend.items]


def test_points_appear_with_mean_spread_and_fitted_slopes(panel, qtbot):
    rng = np.random.default_rng(0)
    sweep = _sweep()
    panel.set_sweep(sweep)
    points = _points(rng)
    for p in points[:6]:
        panel.add_point(p)
    qtbot.waitUntil(lambda: panel.progress.value() == 6, timeout=2000)  # the timer redraws
    assert "6 of 15 points" in panel.status.text() and "left" in panel.status.text()
    for p in points[6:]:
        panel.add_point(p)
    panel.refresh()
    assert panel.progress.value() == panel.progress.maximum() == 15 and "left" not in panel.status.text()
    texts = _legend_texts(panel.plots["param_change"])
    match = re.search(r"slope (−?[\d.]+) ± ([\d.]+)", " ".join(texts))
    slope = float(match.group(1).replace("−", "-"))
    assert slope == pytest.approx(-1.0, abs=0.05) and float(match.group(2)) < 0.05
    assert any("theory: slope −1" in t for t in texts)  # the faint reference line
    assert panel.plots["param_change"].log == (True, True)
    layers = " ".join(_legend_texts(panel.plots["weight_change"]))
    assert "W1: slope −0.5" in layers and "W2: slope −1.0" in layers and "W3:" in layers
    mse = " ".join(_legend_texts(panel.plots["mse"]))
    assert all(name in mse for name in ("network", "linearization", "NTK ∞", "NNGP"))
    # mean per width: the mean of that width's three points
    fit_item = [i for i in panel.plots["param_change"].items if i.name() and i.name().startswith("all parameters")][0]
    x, y = fit_item.xData, fit_item.yData  # as given (getData is log10 of it on log axes)
    np.testing.assert_allclose(x, WIDTHS)
    np.testing.assert_allclose(y[0], np.mean([p.fields["param_change"] for p in points[:3]]))
    assert slope_text(-0.4913, 0.0312) == "slope −0.49 ± 0.03"


def test_clicking_a_point_emits_it(panel, qtbot):
    rng = np.random.default_rng(1)
    panel.set_sweep(_sweep())
    points = _points(rng)
    for p in points:
        panel.add_point(p)
    panel.refresh()
    plot = panel.plots["param_change"]
    scatter = plot.items[0]  # every point, clickable
    target = points[7]
    view = plot.widget.getPlotItem().vb
    qtbot.wait(50)
    pos = view.mapViewToScene(QPointF(math.log10(target.value), math.log10(target.fields["param_change"])))
    widget_pos = plot.widget.mapFromScene(pos)
    with qtbot.waitSignal(panel.pointClicked, timeout=2000) as blocker:
        qtbot.mouseClick(plot.widget.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)
    assert blocker.args[0] is target
    assert scatter.getData()[0].size == len(points)


def test_choice_sweep_has_no_fit_and_names_the_values(panel):
    sweep = _sweep(values=["relu", "erf"], field="model.activation", seeds=2)
    panel.set_sweep(sweep)
    for i, act in enumerate(["relu", "relu", "erf", "erf"]):
        panel.add_point(SweepPoint(field="model.activation", value=act, seed=i % 2, data_seed=0,
                                   fields={"param_change": 0.01 * (i + 1), "mse_test_net": 0.1}))
    panel.refresh()
    assert not any("slope" in t for t in _legend_texts(panel.plots["param_change"]))
    assert panel.plots["param_change"].log[0] is False
    ticks = panel.plots["param_change"].widget.getAxis("bottom")._tickLevels
    assert [label for _, label in ticks[0]] == ["relu", "erf"]


def test_learning_curve_is_drawn_and_clear_empties(panel):
    panel.set_sweep(_sweep(values=(8, 32, 128), field="data.n_train", seeds=1))
    panel.set_learning_curve([8, 32, 128], [0.5, 0.1, 0.02])
    for n, e in ((8, 0.4), (32, 0.09), (128, 0.03)):
        panel.add_point(SweepPoint(field="data.n_train", value=n, seed=0, data_seed=0, fields={"mse_test_ntk": e}))
    panel.refresh()
    names = [i.name() for i in panel.plots["mse"].items if i.name()]
    assert any("theory" in n for n in names)
    panel.clear()
    panel.refresh()
    assert panel.plots["mse"].items == [] and panel.progress.value() == 0
