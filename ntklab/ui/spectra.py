"""The Spectra tab: eigen-structure of the training-set kernels and what it predicts about training.

Nine views, each redrawn on its own by the controller's round robin. They read a
:class:`SpectraRecord` (per-run arrays grown as snapshots arrive) and the controller's History.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from ntklab.core.spectra import linear_mode_factors
from ntklab.ui.plots import COLORS, FLOOR, TWO_PI_TICKS, History, SeriesPlot, ThinnedRows, _plot, line_axis, pen
from ntklab.ui.views import grid_image, grid_rect

try:  # the core's rule (on its way from the numerics work); the same three lines otherwise
    from ntklab.core.spectra import definiteness
except ImportError:  # pragma: no cover (depends on the core's version)
    def definiteness(eigvals, eps: float) -> str:
        """'positive' (λ_min > n·ε·λ_max), 'unresolved' (|λ_min| ≤ n·ε·λ_max) or 'indefinite' (below −n·ε·λ_max)."""
        values = np.asarray(eigvals, np.float64)
        tol = values.size * float(eps) * float(np.max(np.abs(values)))
        return "positive" if values.min() > tol else "unresolved" if values.min() >= -tol else "indefinite"

MODE_DECADES = 8  # the per-mode heatmap's colour scale spans this many decades below its maximum
MODE_ROWS = 160  # the per-mode heatmap's rows, uniform in log(mode index)
ROW_STRETCH = (4, 3, 3)  # the first row holds the eigenvalue table below its plot
MAX_COLUMNS = 2048  # the per-mode heatmap keeps at most this many snapshots (evenly thinned), plus the latest
CURVE_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
RATE_CURVES = [
    ("loss_rate_measured", "measured −dC/dt (last step)", "network", False),
    ("loss_rate_predicted", "‖∂C/∂f‖²_Θ̂ = rᵀΘ̂r/n²", "kernel", True),
]
MOTION_CURVES = [
    ("kernel_change", "‖Θ̂_t−Θ̂₀‖_F/‖Θ̂₀‖_F", "kernel", False),
    ("kernel_velocity", "1 − cos(Θ̂ at t − Δ, Θ̂_t)", "network", False),
]


def chosen_modes(n: int, count: int = 4) -> list[int]:
    """Mode indices (0 = largest λ) spread evenly on a log scale from the first to the last."""
    return sorted({int(round(i)) - 1 for i in np.geomspace(1, n, min(count, n))})


def mode_rows(n: int) -> np.ndarray:
    """The modes shown by the heatmap's rows, uniform in log10(mode index): (MODE_ROWS,) indices."""
    height = np.log10(n + 1)
    centers = (np.arange(MODE_ROWS) + 0.5) * height / MODE_ROWS
    return np.clip(np.floor(10**centers).astype(int), 1, n) - 1


class SpectraRecord:
    """The run's spectral data as it arrives, in bounded memory: |mode residuals| of the modes the views
    draw (the heatmap's rows and the chosen modes) over at most ``capacity`` snapshots (evenly thinned,
    the latest always kept), the first snapshot and the latest kernel spectra."""

    def __init__(self, capacity: int = MAX_COLUMNS):
        self.rows = ThinnedRows(capacity)
        self.clear()

    def clear(self) -> None:
        self.rows.clear()
        self.modes_kept = np.zeros(0, int)  # mode indices stored, ascending
        self.first = self.latest = self.kernel = None

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def steps(self) -> np.ndarray:
        return self.rows["step"]

    def modes(self, indices) -> np.ndarray:
        """|vᵢᵀ(f − y)| of the modes ``indices`` over the kept snapshots: (size, len(indices))."""
        return self.rows["modes"][:, np.searchsorted(self.modes_kept, indices)]

    def append(self, snap) -> bool:
        """Stores ``snap``; True when it carries kernel spectra (the kernel views are then stale)."""
        if snap.run_spectra is None:
            return False
        if self.first is None:
            self.first = snap
            n = len(snap.mode_residual)
            self.modes_kept = np.unique(np.concatenate([mode_rows(n), chosen_modes(n)]))
        self.rows.append({"step": snap.step, "modes": np.abs(snap.mode_residual[self.modes_kept])})
        self.latest = snap
        if snap.spectra is not None:
            self.kernel = snap
            return True
        return False


def lambda_text(value: float, eigvals, eps: float) -> str:
    """λ for a legend: its value when resolved, else "λ < n·ε·λ_max" (never a negative rounding value)."""
    floor = len(eigvals) * eps * float(np.max(np.abs(eigvals)))
    return f"λ={value:.3g}" if value > floor else f"λ&lt;{floor:.1g}"  # legends are rich text


def kernel_errors(record: "SpectraRecord") -> list[str]:
    """One line per kernel of the latest data whose λ_min is negative beyond rounding (not a valid kernel)."""
    if record.first is None:
        return []
    run, eps = record.first.run_spectra, record.first.run_spectra.eps
    spectra = {"the empirical NTK Θ̂₀": run.eig_ntk0, "the analytic NTK ∞": run.eig_ntk_inf,
               "the analytic NNGP ∞": run.eig_nngp_inf,
               "the empirical NTK Θ̂_t": record.kernel.spectra.eigvals if record.kernel is not None else None}
    out = []
    for name, values in spectra.items():
        if values is not None and np.all(np.isfinite(values)) and definiteness(values, eps) == "indefinite":
            floor = len(values) * eps * float(np.max(np.abs(values)))
            out.append(f"{name} on the training set is not positive semi-definite: λ_min = {values.min():.3g} "
                       f"against λ_max = {values.max():.4g}, below −n·ε·λ_max = −{floor:.1g} (rounding cannot "
                       f"explain it); its curves are not a valid kernel's answer at these settings.")
    return out


def _numbers_column(eigvals, eps: float) -> tuple[list[str], str]:
    """(λ_max, λ_min, cond cells; state) of one kernel. state is :func:`definiteness`'s: λ_min within
    ±n·ε·λ_max is rounding ('unresolved', marked *), below −n·ε·λ_max an error ('indefinite', ✗)."""
    if eigvals is None:
        return ["–", "–", "–"], "absent"
    if not np.all(np.isfinite(eigvals)):
        return ["–", "not finite", "–"], "absent"
    lo, hi = float(np.min(eigvals)), float(np.max(eigvals))
    floor = len(eigvals) * eps * max(abs(hi), abs(lo))
    state = definiteness(eigvals, eps)
    if state == "positive":
        return [f"{hi:.4g}", f"{lo:.3g}", f"{hi / lo:.3g}"], state
    if state == "unresolved":
        return [f"{hi:.4g}", f"&lt; {floor:.1g}*", f"&gt; {hi / floor:.1g}*"], state
    return [f"{hi:.4g}", f"<b style='color:#b00020'>{lo:.3g} ✗</b>", "<b style='color:#b00020'>not PSD</b>"], state


def _label() -> QLabel:
    label = QLabel()
    label.setStyleSheet("QLabel { font-size: 8pt; }")  # no word wrap: it would make the grid's
    return label  # rows height-for-width and squeeze the other rows


def _with_label(plot, label: QLabel) -> QWidget:
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(plot, 1)
    layout.addWidget(label)
    return widget


class EigenPlot:
    """Sorted eigenvalues (log-log) of Θ̂₀, Θ̂_t, the analytic NTK and NNGP; below, a table of λ_max,
    λ_min and cond whose column heads are the legend (the plot keeps its height: no legend box)."""

    CURVES = [("ntk0", "Θ̂₀ init", "kernel", True), ("ntk_t", "Θ̂_t now", "kernel", False),
              ("ntk_inf", "NTK ∞", "ntk_inf", False), ("nngp_inf", "NNGP ∞", "nngp", True)]

    def __init__(self):
        self.plot = _plot("Eigenvalues (training set)", "index i", "λ_i", log_y=True, log_x=True, legend=False)
        self.curves = {key: self.plot.plot(pen=pen(color, dashed)) for key, _, color, dashed in self.CURVES}
        self.sphere_curve = self.plot.plot(pen=None, symbol="o", symbolSize=4, symbolPen=None,
                                           symbolBrush=COLORS["ntk_inf"])
        self.numbers = _label()
        self.widget = _with_label(self.plot, self.numbers)
        self.by_trace = False
        self.states: dict[str, str] = {}
        self.sphere: SphereSpectrum | None = None
        self._record = None
        self.clear()

    def set_sphere(self, sphere: "SphereSpectrum | None") -> None:
        """Draws n·μ_k of the circle's frequencies or the sphere's degrees, repeated by multiplicity,
        over the training set's eigenvalues (the n×n kernel's eigenvalues ≈ n·μ_k)."""
        self.sphere = sphere
        self._draw_sphere()

    def _draw_sphere(self) -> None:
        sphere, run = self.sphere, None if self._record is None else self._record.first.run_spectra
        if sphere is None:
            self.sphere_curve.setData([], [])
            return
        values = sphere.expanded()
        if self.by_trace:
            trace = run.eig_ntk_inf.sum() if run is not None and run.eig_ntk_inf is not None else np.nan
            values = values / trace
        index = np.arange(1, len(values) + 1)
        keep = np.isfinite(values) & (values > 0)
        self.sphere_curve.setData(index[keep], np.maximum(values[keep], FLOOR))

    def set_data(self, record: SpectraRecord) -> None:
        self._record = record
        self._draw_sphere()
        run, snap = record.first.run_spectra, record.kernel
        spectra = {"ntk0": run.eig_ntk0, "ntk_t": snap.spectra.eigvals, "ntk_inf": run.eig_ntk_inf,
                   "nngp_inf": run.eig_nngp_inf}
        for key, values in spectra.items():
            if values is None or not np.all(np.isfinite(values)):
                self.curves[key].setData([], [])
                continue
            scaled = values / values.sum() if self.by_trace else values
            index = np.arange(1, len(values) + 1)
            keep = scaled > 0  # a log axis cannot show λ ≤ 0: the table reports λ_min
            self.curves[key].setData(index[keep], np.maximum(scaled[keep], FLOOR))
        self.plot.setLabel("left", "λ_i / tr" if self.by_trace else "λ_i")
        columns = {key: _numbers_column(spectra[key], run.eps) for key, *_ in self.CURVES}
        self.states = {key: state for key, (_, state) in columns.items()}
        self.numbers.setText(self._table({key: cells for key, (cells, _) in columns.items()}, run.eps))

    def _table(self, cells: dict, eps: float) -> str:
        heads = "".join(f"<th align=right style='color:{COLORS[color]}'>{'┄' if dashed else '—'} {name}</th>"
                        for key, name, color, dashed in self.CURVES)
        rows = "".join(f"<tr><td>{label}</td>{''.join(f'<td align=right>{cells[key][i]}</td>' for key, *_ in self.CURVES)}</tr>"
                       for i, label in enumerate(("λ_max", "λ_min", "cond")))
        notes = []
        precision = "float32" if eps > 1e-10 else "float64"
        if "indefinite" in self.states.values():
            notes.append("✗ below −n·ε·λ_max: not a valid kernel (an error)")
        if "unresolved" in self.states.values():
            notes.append(f"* within ±n·ε·λ_max: rounding in {precision}"
                         + (";<br>&nbsp;&nbsp;resolve with precision = float64 (train.precision)"
                            if precision == "float32" else ""))
        return (f"<table cellspacing=0 cellpadding=1><tr><th></th>{heads}</tr>{rows}</table>"
                + "<br>".join(notes))

    def clear(self) -> None:
        for item in self.curves.values():
            item.setData([], [])
        self.states = {}
        self._record = None
        self.numbers.setText(self._table({key: ["", "", ""] for key, *_ in self.CURVES}, 1e-7))


class ImagePlot:
    """A matrix as an ``ImageItem`` updated in place, with a colour bar."""

    def __init__(self, title: str, x_label: str, y_label: str, cmap: str, bar_label: str, invert_y=True,
                 log_y=False):
        self.widget = self.plot = _plot(title, x_label, y_label, log_y=log_y, legend=False)
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.plot.getPlotItem().invertY(invert_y)
        self.bar = pg.ColorBarItem(colorMap=cmap, label=bar_label, interactive=False, width=12,
                                   colorMapMenu=False)
        self.bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())

    def show(self, image: np.ndarray, rect: QRectF, levels: tuple[float, float]) -> None:
        self.image.setImage(image, autoLevels=False)
        self.image.setRect(rect)
        self.bar.setLevels(levels)
        self.plot.enableAutoRange()

    def clear(self) -> None:
        """No image; the axes show [0, 1] (an autorange of nothing would show negative indices)."""
        self.image.clear()
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)


class ModeHeatmap(ImagePlot):
    """|Vᵀ(f_t − y)|: the training residual along each eigenvector of Θ̂₀ (rows) over steps (columns).

    The mode axis is logarithmic, as in the eigenvalue plot: mode i fills [log i, log(i + 1)), so
    the few fast modes at the top are not squeezed into a few pixels when n is large.
    """

    def __init__(self):
        super().__init__("Residual per mode of Θ̂₀", "step", "mode i (largest λ first)", "viridis",
                         "log₁₀ |vᵢᵀ(f − y)|", log_y=True)

    def set_data(self, record: SpectraRecord) -> None:
        n = len(record.first.mode_residual)
        steps = record.steps
        modes = np.log10(np.maximum(record.modes(mode_rows(n)).T, FLOOR))  # (MODE_ROWS, kept snapshots)
        top = float(np.ceil(np.log10(max(np.abs(record.first.mode_residual).max(), FLOOR))))
        step = (steps[-1] - steps[0]) / (len(steps) - 1) if len(steps) > 1 else 1.0  # kept ones: evenly spread
        self.show(modes, QRectF(steps[0] - step / 2, 0, step * len(steps), np.log10(n + 1)),
                  (top - MODE_DECADES, top))


class ModeCurves:
    """A few modes' |residual| against the linearized model's (1 − ηλ_i/n)^t |r_i(0)| (dashed)."""

    def __init__(self):
        self.plot = self.widget = _plot("Residual of chosen modes", "step", "|vᵢᵀ(f − y)|", log_y=True)
        self.items: list = []
        self._modes: list[int] = []

    def _make_items(self, modes: list[int], eigvals, eps: float) -> None:
        self.clear()
        self.plot.getPlotItem().legend.clear()
        for k, i in enumerate(modes):
            color = CURVE_COLORS[k % len(CURVE_COLORS)]
            measured = self.plot.plot(pen=pg.mkPen(color, width=1),
                                      name=f"mode {i + 1} ({lambda_text(eigvals[i], eigvals, eps)})")
            predicted = self.plot.plot(pen=pg.mkPen(color, width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                                       name="(1−ηλᵢ/n)ᵗ|rᵢ(0)|" if k == len(modes) - 1 else None)
            self.items.append((measured, predicted))
        self._modes = modes

    def set_data(self, record: SpectraRecord, learning_rate: float) -> None:
        run = record.first.run_spectra
        eigvals = run.eig_ntk0
        n = len(eigvals)
        modes = chosen_modes(n)
        if modes != self._modes or not self.items:
            self._make_items(modes, eigvals, run.eps)
        steps = record.steps
        r0 = np.abs(record.first.mode_residual)
        factors = np.abs(linear_mode_factors(eigvals, learning_rate, n, steps))  # (T, n)
        measured_all = np.maximum(record.modes(modes), FLOOR)
        bottom = measured_all.min() / 100  # predictions far below every measurement would set the scale
        for k, (i, (measured, predicted)) in enumerate(zip(modes, self.items)):
            measured.setData(steps, measured_all[:, k])
            keep = r0[i] * factors[:, i] >= bottom
            predicted.setData(steps[keep], r0[i] * factors[keep, i])

    def set_steps(self, steps_total: int) -> None:
        self.plot.setXRange(0, steps_total, padding=0.02)

    def clear(self) -> None:
        for measured, predicted in self.items:
            self.plot.removeItem(measured)
            self.plot.removeItem(predicted)
        self.items, self._modes = [], []


class EnergyPlot:
    """Cumulative fraction of ‖y‖² in the top-k eigenvectors; kernel-target alignments in the title."""

    CURVES = [("ntk0", "Θ̂₀ (init)", "kernel", True), ("ntk_t", "Θ̂_t (now)", "kernel", False),
              ("ntk_inf", "NTK ∞", "ntk_inf", False)]

    def __init__(self):
        self.plot = _plot("Target energy in top-k modes", "k", "fraction of ‖y‖²", log_x=True)
        self.plot.setYRange(0, 1.02, padding=0)
        self.curves = {key: self.plot.plot(pen=pen(color, dashed), name=label)
                       for key, label, color, dashed in self.CURVES}
        self.numbers = _label()
        self.widget = _with_label(self.plot, self.numbers)

    def set_data(self, record: SpectraRecord) -> None:
        run, snap = record.first.run_spectra, record.kernel
        energies = {"ntk0": run.energy_ntk0, "ntk_t": snap.spectra.energy, "ntk_inf": run.energy_ntk_inf}
        for key, energy in energies.items():
            if energy is None:
                self.curves[key].setData([], [])
            else:
                self.curves[key].setData(np.arange(1, len(energy) + 1), energy)
        parts = [f"Θ̂₀ {run.alignment_ntk0:.3f}", f"Θ̂_t {snap.alignment:.3f}"]
        if run.energy_ntk_inf is not None:
            parts.append(f"NTK ∞ {run.alignment_ntk_inf:.3f}")
        self.numbers.setText("alignment " + " · ".join(parts))
        self.numbers.setToolTip("kernel-target alignment ⟨K, yyᵀ⟩_F/(‖K‖_F‖y‖²) (Cristianini et al. 2001)")

    def clear(self) -> None:
        for item in self.curves.values():
            item.setData([], [])
        self.numbers.setText("")


class EigenfunctionPlot:
    """The top eigenfunctions of the analytic NTK (Nyström extension of the training-set eigenvectors)
    as the data is drawn: curves over x (a line) or over the angle θ (the circle), images on the plane's
    grid; for points without a grid (sphere, d > 2, CSV, digits), one line saying why there is no view."""

    def __init__(self):
        self.line = _plot("Top eigenfunctions of NTK ∞", "x", "φ_i(x)")
        self.images = pg.GraphicsLayoutWidget()
        self.heading = self.images.addLabel("Top eigenfunctions of NTK ∞", row=0, col=0, colspan=4, size="10pt")
        self._panels: list = []
        self.message = pg.TextItem(color="#404040", anchor=(0.5, 0.5))
        self.message.setTextWidth(220)
        self.line.addItem(self.message, ignoreBounds=True)
        self.message.hide()
        self.widget = QStackedWidget()
        self.widget.addWidget(self.line)
        self.widget.addWidget(self.images)
        self.plot = self.line  # the view shown (the controller paints it)
        self.items: list = []  # curves (line, circle) or ImageItems (plane), first eigenfunction first
        self._run = None

    def set_data(self, record: SpectraRecord) -> None:
        snap = record.first
        if snap.run_spectra is self._run:
            return  # fixed for a run
        self.clear()
        self._run = run = snap.run_spectra
        view = getattr(snap.data, "view", "line")
        self._page(view == "plane")
        if view == "points":
            self.line.setTitle("Eigenfunctions")
            self._say(f"No eigenfunction view: these {snap.data.x_train.shape[1]}-dimensional inputs have no "
                      f"grid to draw them on (the sphere's are the spherical harmonics).")
            return
        if run.eigenfunctions is None:
            self._title("Eigenfunctions: turn on infinite width")
            return
        eig = run.eig_ntk_inf
        floor = len(eig) * run.eps * float(np.max(np.abs(eig)))
        resolved = [i for i in range(len(run.eigenfunctions)) if eig[i] > floor]  # the rest are rounding noise
        skipped = len(run.eigenfunctions) - len(resolved)
        self._title("Top eigenfunctions of NTK ∞" + (f" ({skipped} unresolved, not drawn)" if skipped else ""))
        if view == "plane":
            self._images(snap.data, run, resolved, eig)
            return
        circle = view == "circle"
        self.line.getAxis("bottom").setTicks([TWO_PI_TICKS] if circle else None)
        self.line.setLabel("bottom", "angle θ" if circle else "x")
        self.line.setLabel("left", "φ_i(θ)" if circle else "φ_i(x)")
        x = line_axis(snap.data)
        for i in resolved:
            self.items.append(self.line.plot(x, run.eigenfunctions[i],
                                             pen=pg.mkPen(CURVE_COLORS[i % len(CURVE_COLORS)], width=1),
                                             name=f"φ{i + 1} (λ={eig[i]:.3g})"))

    def _images(self, data, run, resolved, eig) -> None:
        """One image per eigenfunction, each on its own symmetric diverging scale (their sign is arbitrary)."""
        columns = max(1, math.ceil(math.sqrt(len(resolved))))
        rect = grid_rect(data)
        cmap = pg.colormap.get("CET-D1")
        for k, i in enumerate(resolved):
            plot = self.images.addPlot(row=1 + k // columns, col=k % columns)
            self._panels.append(plot)
            plot.setTitle(f"φ{i + 1} λ={eig[i]:.3g}", size="8pt")
            plot.setAspectLocked(True)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            for side in ("left", "bottom"):
                plot.hideAxis(side)
            image = pg.ImageItem(grid_image(run.eigenfunctions[i], data.grid_shape), axisOrder="row-major")
            top = float(np.max(np.abs(run.eigenfunctions[i]))) or 1.0
            image.setColorMap(cmap)
            image.setLevels((-top, top))
            image.setRect(rect)
            plot.addItem(image)
            plot.setRange(rect, padding=0)
            self.items.append(image)

    def _page(self, images: bool) -> None:
        self.widget.setCurrentIndex(1 if images else 0)
        self.plot = self.images if images else self.line

    def _title(self, text: str) -> None:
        self.line.setTitle(text)
        self.heading.setText(text, size="10pt")

    def _say(self, text: str) -> None:
        """A one-line explanation in the middle of the (empty) plot."""
        self.message.setText(text)
        self.line.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.message.setPos(0.5, 0.5)
        self.message.show()

    def clear(self) -> None:
        for item in self.items:
            if isinstance(item, pg.ImageItem):
                continue
            self.line.removeItem(item)
        for plot in self._panels:
            self.images.ci.removeItem(plot)
        self._panels = []
        self.message.hide()
        self.line.getAxis("bottom").setTicks(None)
        self.line.setLabel("bottom", "x")
        self.line.setLabel("left", "φ_i(x)")
        self.items, self._run = [], None
        self._page(False)


class KernelImage(ImagePlot):
    """Θ̂_t (or Θ̂_t − Θ̂₀, with a symmetric diverging scale) on the training set, points in the session's
    order: by angle on the circle, else by the first input x₁ (``RunSpectra.order``)."""

    def __init__(self, change: bool):
        title = "Θ̂_t − Θ̂₀" if change else "Θ̂_t"
        super().__init__(title, "training point j (sorted by x)", "point i", "CET-D1" if change else "viridis",
                         "")
        self.change = change

    def set_data(self, record: SpectraRecord) -> None:
        spectra = record.kernel.spectra
        image = spectra.kernel_change_image if self.change else spectra.kernel_image
        n = len(spectra.eigvals)
        view = getattr(getattr(record.first, "data", None), "view", "line")
        order = {"circle": "by angle θ", "line": "by x"}.get(view, "by x₁")
        self.plot.setLabel("bottom", f"training point j (sorted {order})")
        if self.change:
            top = float(np.max(np.abs(image))) or 1.0
            levels = (-top, top)
        else:
            levels = (float(image.min()), float(image.max()) or 1.0)
        self.show(image, QRectF(0.5, 0.5, n, n), levels)  # point indices 1…n


@dataclass(frozen=True)
class SphereSpectrum:
    """The NTK's eigenvalue μ per frequency k (circle, dim 2) or degree ℓ (sphere, dim 3) for a run's
    network (:mod:`ntklab.core.spherical`; probability-measure normalization: the n×n kernel on n uniform
    points has eigenvalues ≈ n·μ). ``marked``: the target's frequencies or degree."""

    dim: int
    orders: np.ndarray
    mu: np.ndarray
    multiplicity: np.ndarray
    marked: tuple
    n_train: int

    def expanded(self) -> np.ndarray:
        """n·μ_k, each repeated by its multiplicity, largest first, at most n values: what the training
        set's eigenvalues approach."""
        values = np.repeat(self.n_train * self.mu, self.multiplicity)
        return np.sort(values)[::-1][: self.n_train]


def sphere_spectrum(spec) -> SphereSpectrum | None:
    """μ_k of ``spec``'s network (the layers it trains) for a circle or sphere run, in float64; None for
    other data or a parameterization without a kernel limit (μP, mean-field). Calls JAX: run it off the
    GUI thread."""
    import jax

    from ntklab.core import kernel_limit
    from ntklab.core.spherical import circle_eigenvalues, multiplicities, sphere_eigenvalues

    data = spec.data
    if data.source not in ("circle", "sphere") or kernel_limit(spec.model) is not None:
        return None
    trainable = spec.train.trainable
    with jax.enable_x64(True):
        if data.source == "circle":
            top = min(max(10, max(data.frequencies) + 2), 100)
            mu = circle_eigenvalues(spec.model, top, trainable=trainable)
            dim, marked = 2, tuple(data.frequencies)
        else:
            top = min(max(8, data.degree + 2), 100)
            mu = sphere_eigenvalues(spec.model, top, trainable=trainable)
            dim, marked = 3, (data.degree,)
    orders = np.arange(top + 1)
    return SphereSpectrum(dim=dim, orders=orders, mu=np.asarray(mu, np.float64),
                          multiplicity=multiplicities(top, dim), marked=marked, n_train=data.n_train)


SPHERE_COLUMNS = 13  # the table's columns: the lowest orders, and the target's beyond them


def sphere_table(sphere: SphereSpectrum) -> str:
    """Rich text, one line per quantity: the order k (or ℓ), its multiplicity, μ and n·μ; the target's
    orders in bold (▸)."""
    k = "k" if sphere.dim == 2 else "ℓ"
    shown = [o for o in sphere.orders if o < SPHERE_COLUMNS or o in sphere.marked]

    def row(head: str, cells: list[str]) -> str:
        cells = [f"<b>{c}</b>" if o in sphere.marked else c for o, c in zip(shown, cells)]
        return f"<tr><th align=left>{head}&nbsp;</th>" + "".join(f"<td align=right>&nbsp;&nbsp;{c}</td>"
                                                               for c in cells) + "</tr>"

    title = "frequency k (cos kθ, sin kθ)" if sphere.dim == 2 else "degree ℓ (2ℓ+1 spherical harmonics)"
    table = (row(k, [f"{'▸' if o in sphere.marked else ''}{o}" for o in shown])
             + row("multiplicity", [str(sphere.multiplicity[o]) for o in shown])
             + row(f"μ_{k}", [f"{sphere.mu[o]:.3g}" for o in shown])
             + row(f"n·μ_{k}", [f"{sphere.n_train * sphere.mu[o]:.3g}" for o in shown]))
    return (f"<b>NTK ∞ eigenvalue per {title}</b> · ▸ the target's · "
            f"<span style='color:{COLORS['ntk_inf']}'>●</span> n·μ repeated by multiplicity on the eigenvalue "
            f"plot (n = {sphere.n_train})<table cellspacing=0 cellpadding=0>{table}</table>")


class FrequencyView:
    """For circle and sphere runs, a strip under the eigenvalue plot: the NTK's eigenvalue μ per frequency
    k (cos kθ, sin kθ) or degree ℓ (2ℓ+1 spherical harmonics), with multiplicity and n·μ, the target's
    orders marked; hidden for other data. The eigenvalue plot draws n·μ repeated by multiplicity. Low
    orders have the largest μ and are learned first: the residual at order k decays like e^{−μ_k t}."""

    def __init__(self):
        self.table = _label()
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.widget = self.table
        self.widget.hide()
        self.sphere: SphereSpectrum | None = None

    def set_data(self, sphere: SphereSpectrum | None) -> None:
        self.sphere = sphere
        if sphere is None:
            self.clear()
            return
        self.table.setText(sphere_table(sphere))
        self.widget.show()

    def set_error(self, message: str) -> None:
        """μ_k could not be computed: the strip says why."""
        self.clear()
        self.table.setText(f"NTK ∞ eigenvalue per frequency not computed: {message[:150]}")
        self.widget.show()

    def clear(self) -> None:
        self.sphere = None
        self.table.setText("")
        self.widget.hide()


class SpectraPanel:
    """The tab's widget and its views; ``redraw(name)`` brings one view up to date."""

    LAYOUT = [["eigen", "modes", "mode_curves"], ["rate", "energy", "functions"],
              ["motion", "kernel", "kernel_change"]]
    PER_SNAPSHOT = ("modes", "mode_curves", "rate")  # stale after every snapshot; the rest after kernel updates

    def __init__(self):
        self.record = SpectraRecord()
        self.views = {
            "eigen": EigenPlot(), "modes": ModeHeatmap(), "mode_curves": ModeCurves(),
            "rate": SeriesPlot("Loss rate −dC/dt", "−dC/dt (t = η·step)", RATE_CURVES),
            "energy": EnergyPlot(), "functions": EigenfunctionPlot(),
            "motion": SeriesPlot("Kernel motion", "relative change", MOTION_CURVES),
            "kernel": KernelImage(change=False), "kernel_change": KernelImage(change=True),
        }
        self.frequencies = FrequencyView()  # circle and sphere runs only: a strip under the eigenvalue plot
        self.widget = QWidget()
        grid = QGridLayout(self.widget)
        rows = [0, 2, 3]  # row 1: the frequency strip (hidden, no height, for other data)
        for r, row in zip(rows, self.LAYOUT):
            for c, name in enumerate(row):
                widget = self.views[name].widget
                widget.setMinimumSize(160, 120)  # a long title must not widen its column
                grid.addWidget(widget, r, c)
        grid.addWidget(self.frequencies.widget, 1, 0, 1, len(self.LAYOUT[0]))
        for i, stretch in enumerate(ROW_STRETCH):
            grid.setColumnStretch(i, 1)
            grid.setRowStretch(rows[i], stretch)

    def set_sphere(self, sphere: SphereSpectrum | None) -> None:
        """μ per frequency or degree of a circle or sphere run (None: hidden)."""
        self.frequencies.set_data(sphere)
        self.views["eigen"].set_sphere(sphere)

    def set_sphere_error(self, message: str) -> None:
        self.set_sphere(None)
        self.frequencies.set_error(message)

    def append(self, snap) -> list[str]:
        """Stores ``snap``; returns the names of the views it makes stale."""
        if snap.run_spectra is None:
            return []
        kernel = self.record.append(snap)
        return [n for n in self.views if n in self.PER_SNAPSHOT or kernel]

    def set_steps(self, steps_total: int) -> None:
        for name in ("mode_curves", "rate", "motion"):
            self.views[name].set_steps(steps_total)

    def redraw(self, name: str, history: History, learning_rate: float) -> None:
        view = self.views[name]
        if self.record.size == 0:
            return
        if name in ("rate", "motion"):
            view.set_data(history)
        elif name == "mode_curves":
            view.set_data(self.record, learning_rate)
        elif name in ("modes", "functions") or self.record.kernel is not None:
            view.set_data(self.record)

    def clear(self) -> None:
        self.record.clear()
        for view in self.views.values():
            view.clear()
        self.set_sphere(None)
