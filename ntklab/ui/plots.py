"""Plots of the training tab. Items are created once and updated with ``setData``; 1-px pens."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem

COLORS = {
    "target": "#808080", "points": "#202020", "network": "#1f77b4", "linearization": "#ff7f0e",
    "ntk_inf": "#2ca02c", "nngp": "#9467bd", "kernel": "#d62728",
}
FLOOR = 1e-12  # log axes: values are clipped at this floor


def pen(key: str, dashed: bool = False) -> pg.QtGui.QPen:
    p = pg.mkPen(COLORS[key], width=1)
    if dashed:
        p.setStyle(Qt.PenStyle.DashLine)
    return p


class DecadeAxis(pg.AxisItem):
    """A log axis that labels 1, 2 and 5 of each decade: pyqtgraph would label 0.009, 0.008, … too."""

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        strings = super().logTickStrings(values, scale, spacing)
        mantissas = [10 ** (v - np.floor(v)) for v in values]
        return [s if min(abs(m - k) for k in (1, 2, 5, 10)) < 1e-6 else "" for m, s in zip(mantissas, strings)]


def _plot(title: str, x_label: str, y_label: str, log_y: bool = False, log_x: bool = False,
          legend: bool = True) -> pg.PlotWidget:
    axes = {side: DecadeAxis(side) for side, log in (("left", log_y), ("bottom", log_x)) if log}
    w = pg.PlotWidget(title=title, axisItems=axes or None)
    w.setLogMode(x=log_x, y=log_y)
    w.setLabel("bottom", x_label)
    w.setLabel("left", y_label)
    w.showGrid(x=True, y=True, alpha=0.2)
    # Major grid lines only (minor levels cost ~8 ms per paint). Text is the costly part of a
    # software-rendered paint: axes and legend are kept as pixmaps, redrawn only when they change.
    for axis in ("left", "bottom"):
        w.getAxis(axis).setStyle(maxTickLevel=0)
        w.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        w.getAxis(axis).enableAutoSIPrefix(False)
    if legend:
        item = w.addLegend(offset=(-10, 10), labelTextSize="8pt")  # transparent: curves show through
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return w


class FitPlot:
    """Target, training points, network, linearization, NTK ∞ and the NNGP posterior ±2σ."""

    def __init__(self):
        self.widget = self.plot = w = _plot("Function fit", "x", "f(x)")
        self.target = w.plot(pen=pen("target", dashed=True), name="target")
        self.points = w.plot(pen=None, symbol="o", symbolSize=6, symbolBrush=COLORS["points"],
                             symbolPen=None, name="training points")
        self.nngp_upper = pg.PlotDataItem(pen=pg.mkPen(None))
        self.nngp_lower = pg.PlotDataItem(pen=pg.mkPen(None))
        band_color = pg.mkColor(COLORS["nngp"])
        band_color.setAlpha(45)
        self.nngp_band = pg.FillBetweenItem(self.nngp_upper, self.nngp_lower, brush=band_color)
        w.addItem(self.nngp_band)
        self.nngp = w.plot(pen=pen("nngp", dashed=True), name="NNGP posterior mean ±2σ")
        self.ntk = w.plot(pen=pen("ntk_inf"), name="NTK ∞")
        self.lin = w.plot(pen=pen("linearization", dashed=True), name="linearization")
        self.net = w.plot(pen=pen("network"), name="network")
        self._run_data = None

    def set_data(self, snap) -> None:
        x = snap.data.x_grid[:, 0]
        if snap.data is not self._run_data:  # target, points and NNGP are fixed for a run: set once
            self._run_data = snap.data
            self.target.setData(x, snap.data.y_grid)
            self.points.setData(snap.data.x_train[:, 0], snap.data.y_train)
            if snap.infinite is not None:
                mean, std = snap.infinite.nngp_mean, snap.infinite.nngp_std
                self.nngp.setData(x, mean)
                self.nngp_upper.setData(x, mean + 2 * std)
                self.nngp_lower.setData(x, mean - 2 * std)
        self.net.setData(x, snap.f_grid_net)
        self.lin.setData(x, snap.f_grid_lin)
        if snap.f_grid_ntk is not None:
            self.ntk.setData(x, snap.f_grid_ntk)

    def set_visible(self, shown: dict[str, bool]) -> None:
        self.net.setVisible(shown["network"])
        self.lin.setVisible(shown["linearization"])
        self.ntk.setVisible(shown["ntk_inf"])
        self.nngp.setVisible(shown["nngp"])
        self.nngp_band.setVisible(shown["nngp"])

    def clear(self) -> None:
        self._run_data = None
        for item in (self.target, self.points, self.net, self.lin, self.ntk, self.nngp,
                     self.nngp_upper, self.nngp_lower):
            item.setData([], [])


class History:
    """Scalar series over snapshots, grown in preallocated arrays."""

    def __init__(self, names: list[str], capacity: int = 1024):
        self.names = names
        self.size = 0
        self.data = {n: np.full(capacity, np.nan) for n in ["step", *names]}

    def append(self, snap) -> None:
        if self.size == len(self.data["step"]):
            for n, a in self.data.items():
                self.data[n] = np.concatenate([a, np.full(len(a), np.nan)])
        for n in self.data:
            self.data[n][self.size] = getattr(snap, n)
        self.size += 1

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name][: self.size]

    def clear(self) -> None:
        self.size = 0


class SeriesPlot:
    """Log-y series against the step; each curve is (snapshot field, label, colour key, dashed)."""

    def __init__(self, title: str, y_label: str, curves: list[tuple[str, str, str, bool]]):
        self.widget = self.plot = w = _plot(title, "step", y_label, log_y=True)
        self.curves = {}
        for field, label, color, dashed in curves:
            # At most a few thousand points (one per snapshot): no clipping or downsampling, which
            # on a log axis cut the newest points until the autorange caught up.
            self.curves[field] = w.plot(pen=pen(color, dashed), name=label)

    def set_steps(self, steps_total: int) -> None:
        """Fixes the step axis to the run's length: no axis relayout as the series grow."""
        self.widget.setXRange(0, steps_total, padding=0.02)

    def set_data(self, history: History) -> None:
        steps = history["step"]
        for field, item in self.curves.items():
            y = history[field]
            keep = np.isfinite(y) & (y > 0)  # a log axis cannot show 0 (step 0 of a distance)
            item.setData(steps[keep], np.maximum(y[keep], FLOOR))

    def clear(self) -> None:
        for item in self.curves.values():
            item.setData([], [])


LOSS_CURVES = [
    ("mse_train_net", "network train", "network", False),
    ("mse_test_net", "network test", "network", True),
    ("mse_train_lin", "linearization train", "linearization", False),
    ("mse_test_lin", "linearization test", "linearization", True),
    ("mse_train_ntk", "NTK ∞ train", "ntk_inf", False),
    ("mse_test_ntk", "NTK ∞ test", "ntk_inf", True),
]
DRIFT_CURVES = [
    ("param_change", "‖θ−θ₀‖/‖θ₀‖", "network", False),
    ("kernel_change", "‖Θ̂−Θ̂₀‖_F/‖Θ̂₀‖_F", "kernel", False),
    ("lin_gap", "RMS(f − f_lin) on grid", "linearization", False),
]


def make_loss_plot() -> SeriesPlot:
    return SeriesPlot("Loss (MSE)", "mean (f − y)²", LOSS_CURVES)


def make_drift_plot() -> SeriesPlot:
    return SeriesPlot("Distance from initialization", "relative change", DRIFT_CURVES)
