"""The Sweep tab: each measure against the swept value, mean and spread over seeds, fitted power laws.

:class:`SweepPanel` is self-contained: the owner calls :meth:`SweepPanel.set_sweep` (the swept
setting and how many points), then :meth:`SweepPanel.add_point` for each finished point (a
:class:`ntklab.session.sweep.SweepPoint`); a 10 Hz timer redraws when something changed. Clicking a
point emits :attr:`SweepPanel.pointClicked` with it (its ``spec`` is that run's settings).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from ntklab.ui.plots import COLORS, FLOOR, _plot

REDRAW_MS = 100

# Theory's slopes against a setting, drawn faint where it gives one (plot key -> slopes).
REFERENCE_SLOPES = {
    # Lee et al. 2019: ‖Δθ‖ = O(1) while ‖θ0‖ ∝ width at depth ≥ 2; the first layer's and the readout's
    # weights, the features, the kernel and f − f_lin move as width^−½ (Jacot et al. 2018 for the
    # kernel); a width × width hidden layer moves by O(1) in Frobenius norm against ‖W(0)‖ ∝ width: −1.
    "model.width": {"param_change": (-1.0,), "weight_change": (-0.5, -1.0), "feature_change": (-0.5,),
                    "kernel_change": (-0.5, -1.0), "gaps": (-0.5,)},
    # Chizat, Oyallon & Bach 2019: lazy training, every distance from the linearization ∝ 1/α.
    "model.output_scale": {"param_change": (-1.0,), "weight_change": (-1.0,), "kernel_change": (-1.0,),
                           "gaps": (-1.0,)},
}
SLOPE_NAMES = {-0.5: "−½", -1.0: "−1"}
LAYER_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")

# (key, title, y label, [(field or field prefix, label, colour)])
PLOTS = (
    ("mse", "Test MSE: network, linearization, NTK ∞, NNGP", "mean (f − y)² on test points",
     [("mse_test_net", "network", COLORS["network"]), ("mse_test_lin", "linearization", COLORS["linearization"]),
      ("mse_test_ntk", "NTK ∞", COLORS["ntk_inf"]), ("mse_test_nngp", "NNGP", COLORS["nngp"])]),
    ("param_change", "Parameter change", "‖θ − θ₀‖/‖θ₀‖", [("param_change", "all parameters", COLORS["network"])]),
    ("weight_change", "Weight change per layer", "‖W_l − W_l(0)‖/‖W_l(0)‖", [("weight_change[", "W", None)]),
    ("feature_change", "Feature change per hidden layer", "‖h_l − h_l(0)‖/‖h_l(0)‖", [("feature_change[", "h", None)]),
    ("kernel_change", "Kernel change", "‖Θ̂ − Θ̂₀‖_F/‖Θ̂₀‖_F", [("kernel_change", "Θ̂ on training points", COLORS["kernel"])]),
    ("gaps", "Distance to the linearization and NTK ∞", "RMS difference",
     [("lin_gap", "f − f_lin (grid)", COLORS["linearization"]), ("lin_gap_test", "f − f_lin (test)", "#c49c5e"),
      ("ntk_gap_test", "f − f_NTK∞ (test)", COLORS["ntk_inf"])]),
)


def fit_power_law(x, y) -> tuple[float, float]:
    """(slope, standard error) of least squares log y on log x over the positive finite points (the
    session's fit, redone here on what the panel shows)."""
    from ntklab.session.sweep import fit_power_law as fit

    out = fit(x, y)
    return out["slope"], out["stderr"]


def slope_text(slope: float, stderr: float) -> str:
    """``slope −0.49 ± 0.03`` (a real minus sign; the error only when it is known)."""
    s = f"{slope:.2f}".replace("-", "−")
    return f"slope {s}" + (f" ± {stderr:.2f}" if math.isfinite(stderr) else "")


def _fmt_seconds(s: float) -> str:
    s = max(0, int(round(s)))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class _MeasurePlot:
    """One plot: every point (small, clickable), the mean over seeds per value with its min–max spread,
    and per series the fitted power law with its slope in the legend."""

    def __init__(self, panel: "SweepPanel", key: str, title: str, y_label: str, series):
        self.panel, self.key, self.series_spec = panel, key, series
        self.widget = _plot(title, "value", y_label, log_x=True, log_y=True)  # decade labels on log axes
        self.widget.setMinimumSize(260, 200)
        self.items: list = []
        self.log = (False, False)
        self.fits: dict[str, tuple[float, float]] = {}

    def _names(self, points) -> list[tuple[str, str, str]]:
        out = []
        for field, label, color in self.series_spec:
            if field.endswith("["):
                layers = sorted({int(k[len(field):-1]) for p in points for k in p.fields if k.startswith(field)})
                for j, layer in enumerate(layers):
                    out.append((f"{field}{layer}]", f"{label}{layer}", LAYER_COLORS[j % len(LAYER_COLORS)]))
            else:
                out.append((field, label, color))
        return out

    def clear(self) -> None:
        for item in self.items:
            self.widget.removeItem(item)
        self.items = []
        self.fits = {}
        legend = self.widget.getPlotItem().legend
        if legend is not None:
            legend.clear()

    def draw(self, points, x_of, numeric: bool, field: str, theory=None) -> None:
        self.clear()
        names = [(n, label, color) for n, label, color in self._names(points)
                 if any(math.isfinite(p.fields.get(n, math.nan)) for p in points)]
        xs = np.array([x_of(p) for p in points], np.float64)
        ys_all = [np.array([p.fields.get(n, math.nan) for p in points], np.float64) for n, _, _ in names]
        positive_x = numeric and len(xs) and np.all(xs > 0) and xs.max() >= 4 * xs.min()
        finite = [y[np.isfinite(y)] for y in ys_all]
        log_y = bool(finite) and any(len(f) for f in finite) and all(np.all(f > 0) for f in finite if len(f))
        self.log = (bool(positive_x), log_y)
        self.widget.setLogMode(x=self.log[0], y=self.log[1])
        self.widget.setLabel("bottom", field)
        for (name, label, color), y in zip(names, ys_all):
            self._draw_series(points, xs, y, name, label, color, numeric)
        if theory is not None and self.key == "mse":
            n, e = theory
            keep = np.isfinite(e) & (e > 0)
            if keep.any():
                self._add(pg.PlotDataItem(np.asarray(n)[keep], np.asarray(e)[keep],
                                          pen=pg.mkPen("#202020", width=2, style=Qt.PenStyle.DotLine),
                                          name="NTK ∞ theory (Bordelon et al. 2020)"))
        refs = REFERENCE_SLOPES.get(field, {}).get(self.key, ())
        if refs and self.log[0] and self.log[1] and names:
            y0 = ys_all[0]
            ok = np.isfinite(y0) & (y0 > 0)
            if ok.any():
                x_lo, x_hi = xs.min(), xs.max()
                anchor = np.exp(np.mean(np.log(y0[ok & (xs == xs[ok].min())])))
                for slope in refs:
                    pen = pg.mkPen((128, 128, 128, 110), width=1, style=Qt.PenStyle.DashDotLine)
                    self._add(pg.PlotDataItem([x_lo, x_hi], [anchor, anchor * (x_hi / x_lo) ** slope], pen=pen,
                                              name=f"theory: slope {SLOPE_NAMES.get(slope, slope)}"))

    def _add(self, item):
        self.widget.addItem(item)
        self.items.append(item)
        return item

    def _draw_series(self, points, xs, y, name, label, color, numeric: bool) -> None:
        ok = np.isfinite(y) & ((y > 0) if self.log[1] else True)
        if not ok.any():
            return
        shown = np.where(ok, np.maximum(y, FLOOR) if self.log[1] else y, np.nan)
        scatter = pg.PlotDataItem(xs[ok], shown[ok], pen=None, symbol="o", symbolSize=5,
                                  symbolBrush=pg.mkBrush(pg.mkColor(color).lighter(140)), symbolPen=None,
                                  data=[p for p, keep in zip(points, ok) if keep])
        scatter.sigPointsClicked.connect(self.panel._on_points_clicked)
        scatter.setZValue(10)  # above the means' symbols: a click reaches the run under the mouse
        self._add(scatter)
        groups = defaultdict(list)
        for x, v in zip(xs[ok], shown[ok]):
            groups[x].append(v)
        gx = np.array(sorted(groups))
        mean = np.array([np.mean(groups[x]) for x in gx])
        lo = np.array([np.min(groups[x]) for x in gx])
        hi = np.array([np.max(groups[x]) for x in gx])
        spread = pg.PlotDataItem(np.repeat(gx, 2), np.column_stack([lo, hi]).ravel(), connect="pairs",
                                 pen=pg.mkPen(color, width=3))
        self._add(spread)
        legend = label
        if numeric and len(gx) >= 2:
            slope, err = fit_power_law(xs[ok], y[ok])
            if math.isfinite(slope):
                self.fits[name] = (slope, err)
                legend = f"{label}: {slope_text(slope, err)}"
                x_fit = np.array([gx.min(), gx.max()])
                keep = (xs[ok] > 0) & (y[ok] > 0)
                lx, ly = np.log(xs[ok][keep]), np.log(y[ok][keep])
                intercept = ly.mean() - slope * lx.mean()
                self._add(pg.PlotDataItem(x_fit, np.exp(intercept + slope * np.log(x_fit)),
                                          pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine)))
        self._add(pg.PlotDataItem(gx, mean, pen=pg.mkPen(color, width=1), symbol="s", symbolSize=6,
                                  symbolBrush=color, symbolPen=None, name=legend))


class SweepPanel(QWidget):
    """The Sweep tab's plots and progress. API: :meth:`set_sweep`, :meth:`set_total`,
    :meth:`add_point`, :meth:`set_learning_curve`, :meth:`clear`; signal :attr:`pointClicked`."""

    pointClicked = Signal(object)  # the SweepPoint under the mouse

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.field, self.numeric, self.total = "value", True, 0
        self.points: list = []
        self.theory = None
        self._started = time.monotonic()
        self._done_at_start = 0
        self._dirty = False
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m points")
        self.status = QLabel("no sweep")
        row.addWidget(self.progress, 2)
        row.addWidget(self.status, 3)
        layout.addLayout(row)
        grid = QGridLayout()
        self.plots = {}
        for i, (key, title, y_label, series) in enumerate(PLOTS):
            plot = _MeasurePlot(self, key, title, y_label, series)
            self.plots[key] = plot
            grid.addWidget(plot.widget, i // 3, i % 3)
        layout.addLayout(grid, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.timer.start()

    # --- API ---------------------------------------------------------------------------------

    def set_sweep(self, sweep) -> None:
        """Starts showing ``sweep`` (a :class:`ntklab.session.sweep.Sweep`): its field, value kind and
        total; clears the points."""
        self.clear()
        self.field, self.numeric = sweep.spec.sweep.field, sweep.numeric
        self._values = [str(v) for v in sweep.values]
        self.set_total(sweep.total)

    def set_total(self, total: int) -> None:
        self.total = int(total)
        self.progress.setMaximum(max(self.total, 1))
        self._dirty = True

    def set_learning_curve(self, n_train, mse_test) -> None:
        """The NTK ∞ learning curve predicted from its spectrum, drawn on the test-MSE plot."""
        self.theory = (np.asarray(n_train, np.float64), np.asarray(mse_test, np.float64))
        self._dirty = True

    def add_point(self, point) -> None:
        """A finished point (or one read back from points.csv); drawn at the next redraw."""
        if not self.points:
            self._started, self._done_at_start = time.monotonic(), 0
        self.points.append(point)
        self._dirty = True

    def set_elapsed(self, seconds: float) -> None:
        """Shows ``seconds`` as the time spent on the points so far (points read back from a folder)."""
        self._started, self._done_at_start = time.monotonic() - float(seconds), 0
        self._dirty = True

    def mark_resumed(self) -> None:
        """The points added so far came from an earlier session: the time estimate leaves them out."""
        self._started, self._done_at_start = time.monotonic(), len(self.points)

    def clear(self) -> None:
        self.points, self.theory = [], None
        self._values = []
        self._started, self._done_at_start = time.monotonic(), 0
        for plot in self.plots.values():
            plot.clear()
        self._dirty = True

    def refresh(self) -> None:
        """Redraws now (the timer does it within 0.1 s of a change otherwise)."""
        self._dirty = False
        self.progress.setMaximum(max(self.total, 1))
        self.progress.setValue(min(len(self.points), max(self.total, 1)))
        self.status.setText(self.status_text())
        if not self.points:
            return
        if self.numeric:
            def x_of(p):
                return float(p.value)
        else:
            order = {v: i for i, v in enumerate(self._values)}

            def x_of(p):
                return float(order.get(str(p.value), len(order)))
        for plot in self.plots.values():
            plot.draw(self.points, x_of, self.numeric, self.field, self.theory)
        if not self.numeric:
            ticks = [[(i, v) for i, v in enumerate(self._values)]]
            for plot in self.plots.values():
                plot.widget.getAxis("bottom").setTicks(ticks)

    # --- slots -------------------------------------------------------------------------------

    def status_text(self) -> str:
        """``field: done of total points · elapsed · about … left`` (the estimate from this session's
        points: elapsed / new points × points left)."""
        elapsed = time.monotonic() - self._started
        done, new = len(self.points), len(self.points) - self._done_at_start
        text = f"{self.field}: {done} of {self.total} points · {_fmt_seconds(elapsed)} elapsed"
        if 0 < new and done < self.total:
            text += f" · about {_fmt_seconds(elapsed / new * (self.total - done))} left"
        return text

    def _on_timer_timeout(self) -> None:
        if self._dirty:
            self.refresh()
        elif 0 < len(self.points) < self.total:  # the elapsed time moves while a sweep runs
            self.status.setText(self.status_text())

    def _on_points_clicked(self, item, points, ev=None) -> None:
        """Several runs may lie under the mouse (seeds close together): the nearest in pixels wins."""
        if not len(points):
            return
        spot = points[0]
        if ev is not None and hasattr(ev, "scenePos"):
            click = ev.scenePos()

            def distance(s):
                d = item.scatter.mapToScene(s.pos()) - click
                return d.x() ** 2 + d.y() ** 2

            spot = min(points, key=distance)
        self.pointClicked.emit(spot.data())
