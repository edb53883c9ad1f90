"""Views that follow the data's dimension (``Dataset.view``) and the feature-movement plot.

The fit area shows one of: a curve over x or over the angle θ (:class:`~ntklab.ui.plots.FitPlot`),
images on the plane's grid (:class:`PlaneFit`), or predicted against true on the test points
(:class:`PointsFit`). Items are created once and updated with ``setData``/``setImage``.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from ntklab.ui.plots import (
    COLORS,
    FitPlot,
    SeriesPlot,
    _plot,
    drawn,
    fit_title,
    notes_label,
    pen,
    show_notes,
    sync_legend,
)

MAX_POINTS_DRAWN = 5000  # training points drawn on top of each plane image (evenly thinned beyond)
SUMMARY_STYLE = "QLabel { font-size: 9pt; }"
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _small_font():
    font = QFont()
    font.setPointSize(8)
    return font


def _with_notes(view, *labels: QLabel) -> QWidget:
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(view, 1)
    for label in labels:
        layout.addWidget(label)
    return widget


def grid_image(values, shape) -> np.ndarray:
    """Values on the plane's grid as an image: (rows along x2, columns along x1), row-major."""
    return np.asarray(values, np.float64).reshape(shape)


def grid_rect(data) -> QRectF:
    """The image's rectangle: each pixel centred on its grid point (the grid's ends are pixel centres)."""
    x = np.asarray(data.x_grid)
    rows, cols = data.grid_shape
    x1, x2 = x[:cols, 0], x[::cols, 1]
    h1 = (x1[-1] - x1[0]) / max(cols - 1, 1)
    h2 = (x2[-1] - x2[0]) / max(rows - 1, 1)
    return QRectF(float(x1[0] - h1 / 2), float(x2[0] - h2 / 2), float(h1 * cols), float(h2 * rows))


def _thinned(x: np.ndarray, limit: int = MAX_POINTS_DRAWN) -> np.ndarray:
    return x if len(x) <= limit else x[:: math.ceil(len(x) / limit)]


class SquarePanels(pg.GraphicsLayoutWidget):
    """Image panels in a grid of ``rows`` × ``columns`` cells, kept square and as large as the view
    allows: after each layout the panels' columns and rows get the sizes that make their view boxes
    square; ``reserved`` = (width, height) in px is left for the colour bars and the title."""

    def __init__(self, rows: list[int], columns: list[int], panels: list, reserved: tuple[float, float]):
        super().__init__()
        self._rows, self._columns, self._panels, self._reserved = rows, columns, panels, reserved

    def resizeEvent(self, event):  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        QTimer.singleShot(0, self.fit_squares)  # once the layout has placed the panels at the new size

    def fit_squares(self) -> None:
        panels = getattr(self, "_panels", None)  # (none during the base class's __init__)
        if not panels or panels[0].vb.width() < 10:
            return
        layout = self.ci.layout
        plot = panels[0]
        frame_w, frame_h = plot.width() - plot.vb.width(), plot.height() - plot.vb.height()
        left, top, right, bottom = layout.getContentsMargins()
        columns = len(self._columns)
        space_w = self.width() - left - right - self._reserved[0] - layout.horizontalSpacing() * (columns + 2)
        space_h = self.height() - top - bottom - self._reserved[1] - layout.verticalSpacing() * (len(self._rows) + 3)
        side = max(min(space_w / columns - frame_w, space_h / len(self._rows) - frame_h), 40.0)
        for col in self._columns:
            if abs(layout.columnMaximumWidth(col) - (side + frame_w)) > 0.5:
                layout.setColumnFixedWidth(col, side + frame_w)
        for row in self._rows:
            if abs(layout.rowMaximumHeight(row) - (side + frame_h)) > 0.5:
                layout.setRowFixedHeight(row, side + frame_h)


class PlaneFit:
    """The fit on the plane's grid as small multiples: target, network, linearization (first row), NTK ∞
    and |network − linearization| (second row); the four answers on one shared colour scale (the tall
    colour bar at the right), the difference on its own (the bar beside it); the training points on top
    of each. A ±1 target uses a diverging map centred on 0 (the decision boundary). Images: rows along
    x2 (upwards), columns along x1, as the grid is flattened (``Dataset``)."""

    PANELS = [("target", "target"), ("network", "network"), ("linearization", "linearization"),
              ("ntk_inf", "NTK ∞"), ("gap", "|network − linearization|")]
    SHARED = ("target", "network", "linearization", "ntk_inf")
    BAR_WIDTH, TITLE_HEIGHT = 80, 40  # px kept for the shared colour bar's column and the title's row

    def __init__(self):
        panels = []
        self.view = SquarePanels([2, 3], [1, 2, 3], panels, (self.BAR_WIDTH, self.TITLE_HEIGHT))
        layout = self.view.ci.layout
        layout.setSpacing(6)
        self.panels: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self.points: dict[str, pg.ScatterPlotItem] = {}
        self.view.addLabel("", row=0, col=0)  # row 0 and 4, column 0 and 5 share what is left: the panels
        self.view.addLabel("", row=4, col=5)  # stay in the middle
        self.title = self.view.addLabel("Function fit on the plane", row=1, col=1, colspan=4, size="11pt")
        for i, (key, title) in enumerate(self.PANELS):
            plot = self.view.addPlot(row=2 + i // 3, col=1 + i % 3)
            plot.setTitle(title, size="9pt")
            plot.setAspectLocked(True)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            for side in ("left", "bottom"):
                plot.getAxis(side).setStyle(tickFont=_small_font(), tickTextOffset=2)
            plot.getAxis("left").setWidth(28)
            plot.getAxis("bottom").setHeight(22)
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            points = pg.ScatterPlotItem(size=4, brush=pg.mkBrush(COLORS["points"]), pen=pg.mkPen("w", width=0.5))
            points.setZValue(10)
            plot.addItem(points)
            self.panels[key], self.images[key], self.points[key] = plot, image, points
            panels.append(plot)
        self.bar = pg.ColorBarItem(colorMap="viridis", interactive=False, width=12, colorMapMenu=False,
                                   label="target · network · linearization · NTK ∞")
        self.bar.setImageItem([self.images[k] for k in self.SHARED])
        self.view.addItem(self.bar, row=2, col=4, rowspan=2)
        self.gap_bar = pg.ColorBarItem(colorMap="inferno", interactive=False, width=12, colorMapMenu=False,
                                       label="|network − linearization|")
        self.gap_bar.setImageItem(self.images["gap"])
        self.view.addItem(self.gap_bar, row=3, col=3)
        for bar in (self.bar, self.gap_bar):
            bar.axis.enableAutoSIPrefix(False)
        for i in (0, 4):
            layout.setRowStretchFactor(i, 1)
        for i in (0, 5):
            layout.setColumnStretchFactor(i, 1)
        self.notes = notes_label()
        self.widget = _with_notes(self.view, self.notes)
        self.plot = self.view  # what the controller repaints
        self._run_data = None
        self._diverging = None
        self._rect = QRectF(0, 0, 1, 1)
        self.levels = (0.0, 1.0)

    def set_dataset(self, data) -> None:
        """Target and training points (before a run: the form's data)."""
        if data is self._run_data:
            return
        self._run_data = data
        self.title.setText(fit_title("Function fit", data) + " · x1 across, x2 up", size="11pt")
        self._set_colormap(bool(getattr(data, "classification", False)))
        rect = grid_rect(data)
        x = _thinned(np.asarray(data.x_train))
        for key in self.images:
            self.images[key].clear()
            self.panels[key].setTitle(dict(self.PANELS)[key], size="9pt")
            self.points[key].setData(x[:, 0], x[:, 1])
        for plot in self.panels.values():
            plot.setRange(rect, padding=0)
        self._rect = rect
        self._show("target", data.y_grid, data)
        self._set_levels({"target": data.y_grid})
        self.view.fit_squares()

    def set_data(self, snap) -> None:
        data = snap.data
        self.set_dataset(data)
        shown = {"target": data.y_grid, "network": snap.f_grid_net, "linearization": snap.f_grid_lin,
                 "ntk_inf": snap.f_grid_ntk}
        drawn = {key: values for key, values in shown.items() if self._show(key, values, data)}
        self._set_levels(drawn)
        gap = None
        if "network" in drawn and "linearization" in drawn:
            gap = np.abs(np.asarray(snap.f_grid_net, np.float64) - np.asarray(snap.f_grid_lin, np.float64))
        if self._show("gap", gap, data):
            top = float(gap.max())
            self.gap_bar.setLevels((0.0, top if top > 0 else 1.0))
        show_notes(self.notes, snap.notes)
        self.view.fit_squares()

    def _show(self, key: str, values, data) -> bool:
        """Draws ``values`` in panel ``key``; an absent or non-finite answer is not drawn, and its title
        says so (the notes under the view say why)."""
        title = dict(self.PANELS)[key]
        image = self.images[key]
        if values is None or not np.all(np.isfinite(values)):
            image.clear()
            self.panels[key].setTitle(f"{title} (not drawn)", size="9pt")
            return False
        image.setImage(grid_image(values, data.grid_shape), autoLevels=False)
        image.setRect(self._rect)
        self.panels[key].setTitle(title, size="9pt")
        return True

    def _set_levels(self, drawn: dict) -> None:
        """One colour scale for every drawn panel: their joint range (symmetric about 0 for ±1 targets)."""
        if not drawn:
            return
        lo = min(float(np.min(v)) for v in drawn.values())
        hi = max(float(np.max(v)) for v in drawn.values())
        if self._diverging:
            top = max(abs(lo), abs(hi)) or 1.0
            lo, hi = -top, top
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        self.levels = (lo, hi)
        self.bar.setLevels(self.levels)

    def _set_colormap(self, diverging: bool) -> None:
        if diverging != self._diverging:
            self._diverging = diverging
            self.bar.setColorMap(pg.colormap.get("CET-D1" if diverging else "viridis"))

    def set_visible(self, shown: dict[str, bool]) -> None:
        for key, row in (("network", "network"), ("linearization", "linearization"), ("ntk_inf", "ntk_inf")):
            self.images[key].setVisible(shown[row])

    def clear(self) -> None:
        self._run_data = None
        for key in self.images:
            self.images[key].clear()
            self.points[key].setData([], [])
            self.panels[key].setTitle(dict(self.PANELS)[key], size="9pt")
        self.title.setText("Function fit on the plane", size="11pt")
        show_notes(self.notes, ())


def _brush(key: str, alpha: int = 110):
    color = pg.mkColor(COLORS[key])
    color.setAlpha(alpha)
    return pg.mkBrush(color)


CLASS_OFFSETS = {"ntk": -0.25, "lin": 0.0, "net": 0.25}  # ±1 targets: each answer's column beside its label
CLASS_JITTER = 0.08  # ±1 targets: points spread this far sideways in their column (to show their density)


def class_positions(y, answer: str) -> np.ndarray:
    """Where a ±1 target's points go across: the label, the answer's column offset, and a fixed jitter
    (the same at every snapshot, from the point's index)."""
    jitter = CLASS_JITTER * (2 * np.random.default_rng(len(y)).random(len(y)) - 1)
    return np.asarray(y, np.float64) + CLASS_OFFSETS[answer] + jitter


class PointsFit:
    """Predicted against true on the test points (inputs with no grid to draw on: the sphere, d > 2,
    CSV files, the digits) for the network, its linearization and NTK ∞, with the diagonal f = y; below,
    the test MSEs and, for ±1 targets, the test accuracies (sign agreement). For ±1 targets the three
    answers stand side by side at each label (NTK ∞, linearization, network), spread a little sideways,
    with the decision boundary f = 0 and the target levels f = ±1."""

    def __init__(self):
        self.plot = w = _plot("Predicted vs true on the test points", "true y (test targets)", "predicted f")
        self.diagonal = w.plot(pen=pen("target", dashed=True), name="f = y (target)")
        self.ntk = w.plot(pen=None, symbol="s", symbolSize=5, symbolBrush=_brush("ntk_inf"), symbolPen=None,
                          name="NTK ∞")
        self.lin = w.plot(pen=None, symbol="t", symbolSize=6, symbolBrush=_brush("linearization"), symbolPen=None,
                          name="linearization")
        self.net = w.plot(pen=None, symbol="o", symbolSize=5, symbolBrush=_brush("network"), symbolPen=None,
                          name="network")
        self.boundary = pg.InfiniteLine(pos=0, angle=0, movable=False, pen=pen("points", dashed=True),
                                        label="f = 0", labelOpts=dict(position=0.5, color=COLORS["points"]))
        self.boundary.setVisible(False)
        w.addItem(self.boundary, ignoreBounds=True)
        self.summary = QLabel()
        self.summary.setStyleSheet(SUMMARY_STYLE)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.notes = notes_label()
        self.widget = _with_notes(w, self.summary, self.notes)
        self._run_data = None
        self._classes = False

    def set_dataset(self, data) -> None:
        """The diagonal over the test targets' range (before a run: the form's data)."""
        if data is self._run_data:
            return
        self._run_data = data
        self.plot.setTitle(fit_title("Predicted vs true on the test points", data))
        y = np.asarray(data.y_grid, np.float64)
        self._classes = bool(getattr(data, "classification", False))
        if self._classes:  # the target's levels under each label's columns
            self.diagonal.setData([-1.45, -0.55, np.nan, 0.55, 1.45], [-1, -1, np.nan, 1, 1], connect="finite")
            self.plot.getAxis("bottom").setTicks([[(-1, "−1"), (1, "+1")]])
        else:
            lo, hi = float(y.min()), float(y.max())
            pad = 0.1 * (hi - lo or 1.0)
            self.diagonal.setData([lo - pad, hi + pad], [lo - pad, hi + pad])
            self.plot.getAxis("bottom").setTicks(None)
        self.boundary.setVisible(self._classes)
        for item in (self.net, self.lin, self.ntk):
            item.setData([], [])
        self.summary.setText(f"{len(y)} test points: their predictions appear once the run starts.")

    def set_data(self, snap) -> None:
        data = snap.data
        self.set_dataset(data)
        y = np.asarray(data.y_grid)
        for item, values, answer in ((self.net, snap.f_grid_net, "net"), (self.lin, snap.f_grid_lin, "lin"),
                                     (self.ntk, snap.f_grid_ntk, "ntk")):
            if values is None or not np.all(np.isfinite(values)):
                item.setData([], [])
            else:
                item.setData(class_positions(y, answer) if self._classes else y, values)
        self.summary.setText(self.summary_text(snap))
        show_notes(self.notes, snap.notes)
        items = [self.diagonal, self.ntk, self.lin, self.net]
        sync_legend(self.plot, items, [item is self.diagonal or drawn(item) for item in items])

    @staticmethod
    def summary_text(snap) -> str:
        """Test MSE per answer, and test accuracy for ±1 targets; '–' for an answer that is absent."""
        answers = [("network", "net", COLORS["network"]), ("linearization", "lin", COLORS["linearization"]),
                   ("NTK ∞", "ntk", COLORS["ntk_inf"])]

        def cell(value, fmt):
            return "–" if value is None or not math.isfinite(value) else format(value, fmt)

        mse = " · ".join(f"<span style='color:{c}'>{name}</span> {cell(getattr(snap, f'mse_test_{k}'), '.4g')}"
                         for name, k, c in answers)
        text = f"test MSE: {mse}"
        if getattr(snap.data, "classification", False):
            acc = " · ".join(f"<span style='color:{c}'>{name}</span> "
                             f"{cell(100 * getattr(snap, f'accuracy_test_{k}'), '.1f')}%"
                             for name, k, c in answers)
            text += f"&nbsp;&nbsp;&nbsp;test accuracy (sign agreement): {acc}"
        return text

    def set_visible(self, shown: dict[str, bool]) -> None:
        self.net.setVisible(shown["network"])
        self.lin.setVisible(shown["linearization"])
        self.ntk.setVisible(shown["ntk_inf"])

    def clear(self) -> None:
        self._run_data = None
        for item in (self.diagonal, self.net, self.lin, self.ntk):
            item.setData([], [])
        self.boundary.setVisible(False)
        self._classes = False
        items = [self.diagonal, self.ntk, self.lin, self.net]
        sync_legend(self.plot, items, [True] * len(items))
        self.plot.getAxis("bottom").setTicks(None)
        self.summary.setText("")
        self.plot.setTitle("Predicted vs true on the test points")
        show_notes(self.notes, ())


class FitArea:
    """The fit view that suits the data: a curve (line, circle), images (plane) or a scatter (points)."""

    PAGES = {"line": 0, "circle": 0, "plane": 1, "points": 2}

    def __init__(self):
        self.line, self.plane, self.points = FitPlot(), PlaneFit(), PointsFit()
        self.widget = QStackedWidget()
        for view in (self.line, self.plane, self.points):
            self.widget.addWidget(view.widget)
        self.view = "line"

    @property
    def current(self):
        return (self.line, self.plane, self.points)[self.PAGES[self.view]]

    @property
    def plot(self):
        """The graphics view shown now (the controller paints it after a redraw)."""
        return self.current.plot

    def _switch(self, data) -> None:
        view = getattr(data, "view", "line")
        if view != self.view:
            self.current.clear()
            self.view = view
        self.widget.setCurrentIndex(self.PAGES[view])

    def set_dataset(self, data) -> None:
        self._switch(data)
        self.current.set_dataset(data)

    def set_data(self, snap) -> None:
        self._switch(snap.data)
        self.current.set_data(snap)

    def set_visible(self, shown: dict[str, bool]) -> None:
        for view in (self.line, self.plane, self.points):
            view.set_visible(shown)

    def clear(self) -> None:
        for view in (self.line, self.plane, self.points):
            view.clear()


def _layer_pen(index: int, count: int, dashed: bool):
    """Layer ``index`` of ``count``: the colours of the other plots for a few layers, a gradient for many."""
    if count <= len(LAYER_COLORS):
        color = pg.mkColor(LAYER_COLORS[index])
    else:
        color = pg.colormap.get("viridis").map(index / max(count - 1, 1), mode="qcolor")
    p = pg.mkPen(color, width=1)
    if dashed:
        p.setStyle(Qt.PenStyle.DashLine)
    return p


LAYER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
MAX_NAMED_LAYERS = 4  # more hidden layers: only the first and the last are named in the legend


def feature_curves(n_hidden: int, n_dense: int) -> list[tuple]:
    """The curves of :class:`FeaturePlot`: feature_change[l] (solid) and weight_change[l] (dashed, the
    readout last, in black); layer l's features and the weights that make them share a colour."""
    named = n_hidden <= MAX_NAMED_LAYERS

    def label(kind: str, l: int) -> str | None:
        return f"{kind}{l + 1}".translate(SUBSCRIPT) if named or l in (0, n_hidden - 1) else None

    curves = [(f"feature_change[{l}]", label("features h", l), _layer_pen(l, n_hidden, False), False)
              for l in range(n_hidden)]
    for l in range(n_dense):
        readout = l == n_dense - 1
        p = pen("points", dashed=True) if readout else _layer_pen(l, max(n_hidden, n_dense - 1), True)
        curves.append((f"weight_change[{l}]", "weights readout" if readout else label("weights W", l), p, True))
    return curves


class FeaturePlot:
    """How far each layer moved: feature_change[l] = ‖h_l(t) − h_l(0)‖/‖h_l(0)‖ per hidden layer (its
    pre-activations on the training inputs) and weight_change[l] = ‖W_l(t) − W_l(0)‖/‖W_l(0)‖ per
    Dense layer, against the step (log y). O(1/√width) in the kernel regime; O(1) when features learn
    (μP, mean-field, small α: Yang & Hu 2021, Chizat et al. 2019)."""

    def __init__(self):
        self.series = SeriesPlot("Feature and weight movement", "relative change", [])
        self.plot = self.widget = self.series.plot
        self.layers: tuple[int, int] | None = None

    @property
    def curves(self) -> dict:
        return self.series.curves

    def set_steps(self, steps_total: int) -> None:
        self.series.set_steps(steps_total)

    def set_data(self, history, snap=None) -> None:
        if history.size == 0:
            return
        features, weights = np.atleast_2d(history["feature_change"]), np.atleast_2d(history["weight_change"])
        layers = (features.shape[1], weights.shape[1])
        if layers != self.layers:
            self.series.set_curves(feature_curves(*layers))
            self.layers = layers
        series = {f"feature_change[{l}]": features[:, l] for l in range(layers[0])}
        series |= {f"weight_change[{l}]": weights[:, l] for l in range(layers[1])}
        self.series.set_series(history["step"], series)

    def clear(self) -> None:
        self.series.clear()
        self.series.set_curves([])
        self.layers = None
