"""Plots of the training tab. Items are created once and updated with ``setData``; 1-px pens.

Legends sit in the plot's layout between the title and the data (they cover no curve); log axes
choose their own ticks so that at least two labelled ticks fall in range at any zoom.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

COLORS = {
    "target": "#808080", "points": "#202020", "network": "#1f77b4", "linearization": "#ff7f0e",
    "ntk_inf": "#2ca02c", "nngp": "#9467bd", "kernel": "#d62728",
}
FLOOR = 1e-12  # log axes: values are clipped at this floor
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
END_GAP = 0.3  # log axes: no more than this share of the range beyond the outermost labelled ticks
MANTISSA_STEPS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01)  # tick sets finer than 1-2-5: m·10^k, m on this grid
LEGEND_SPACING = 8  # px between a legend's sample and its label, and between entries
NOTE_STYLE = "QLabel { color: #8a4b00; font-size: 9pt; }"


def pen(key: str, dashed: bool = False) -> pg.QtGui.QPen:
    p = pg.mkPen(COLORS[key], width=1)
    if dashed:
        p.setStyle(Qt.PenStyle.DashLine)
    return p


def log_ticks(lo: float, hi: float, max_ticks: int) -> tuple[list[float], int]:
    """Ticks for a log axis spanning [10^lo, 10^hi]: (log10 of the tick values, significant digits).

    Decades (every k-th, the densest that fits) when that gives at least three ticks and leaves at
    most END_GAP of the range beyond the outermost ones; else the sparsest of 1-2-5, 1-2-3-5, 1…9 and
    m·10^j with m on finer grids that does so within ``max_ticks``; else the densest set that fits
    (two or more whenever the range allows).
    """
    lo, hi = min(lo, hi), max(lo, hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo > 400:
        return [], 1
    max_ticks = max(2, max_ticks)
    tol = 1e-9 * max(1.0, hi - lo)

    def inside(values):
        return values[(values >= lo - tol) & (values <= hi + tol)]

    def good(ticks) -> bool:  # three or more, and none of the range's ends far from a label
        return len(ticks) >= 3 and max(hi - ticks[-1], ticks[0] - lo) <= END_GAP * (hi - lo)

    for k in range(1, int(hi - lo) + 2):  # every k-th decade: the densest that fits, if good
        decades = inside(np.arange(math.floor(lo / k) * k, math.ceil(hi) + 1, k, dtype=float))
        if len(decades) <= max_ticks:
            if good(decades):
                return decades.tolist(), 1
            break
    e_lo, e_hi = math.floor(lo) - 1, math.ceil(hi) + 1
    powers = 10.0 ** np.arange(e_lo, e_hi + 1)
    candidates = [(np.log10(np.outer(np.array(m), powers).ravel()), 1) for m in ([1.0, 2.0, 5.0], [1.0, 2.0, 3.0, 5.0])]
    for step in MANTISSA_STEPS:
        digits = 1 + max(0, -math.floor(math.log10(step) + 1e-9))
        candidates.append((np.log10(np.outer(np.arange(1.0, 10.0 - step / 2, step), powers).ravel()), digits))
    fitting = []
    for values, digits in candidates:
        ticks = inside(np.sort(values))
        if len(ticks) > max_ticks:
            break  # every later set is denser still
        fitting.append((ticks, digits))
        if good(ticks):
            return ticks.tolist(), digits
    if not fitting:
        return [], 1
    ticks, digits = max(fitting, key=lambda c: len(c[0]))
    return ticks.tolist(), digits


def format_log_tick(log_value: float, digits: int) -> str:
    """10^log_value as text with ``digits`` significant digits: plain from 0.001 to below 10⁴, else
    m·10ᵏ (10ᵏ alone when m = 1)."""
    exponent = math.floor(log_value + 1e-9)
    mantissa = round(10.0 ** (log_value - exponent), digits - 1)
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    if -3 <= exponent < 4:
        text = f"{mantissa * 10.0**exponent:.{max(digits - 1 - exponent, 0)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    power = "10" + str(exponent).translate(SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa:g}·{power}"


class DecadeAxis(pg.AxisItem):
    """A log axis that picks its own labelled ticks (see :func:`log_ticks`); all ticks are labelled.

    ``zero_level`` (log10 units, or None): a curve that is exactly 0 is drawn there; the axis labels
    it "0" and shows no ticks below it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.zero_level: float | None = None
        self._digits = 1

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        label_px = 18 if self.orientation in ("left", "right") else 56
        lo, hi = sorted((minVal, maxVal))
        if self.zero_level is not None:
            lo = max(lo, self.zero_level + 0.6)  # a gap between "0" and the lowest labelled tick
        values, self._digits = log_ticks(lo, hi, int(size // label_px)) if hi > lo else ([], 1)
        if self.zero_level is not None and minVal <= self.zero_level <= maxVal:
            values = [self.zero_level, *values]
        return [(1.0, values)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return ["0" if self.zero_level is not None and abs(v - self.zero_level) < 1e-9
                else format_log_tick(v, self._digits) for v in values]


class OutsideLegend(pg.LegendItem):
    """A legend in the plot's own layout, between the title and the data: it never covers a curve.
    Its entries flow into as many columns as the plot's width holds."""

    def __init__(self):
        super().__init__(labelTextSize="8pt", horSpacing=LEGEND_SPACING, verSpacing=-6)
        self.setMinimumWidth(10)  # the plot, not the legend, decides the width

    def updateSize(self):  # noqa: N802 (pyqtgraph's name)
        self._fit_columns(self.geometry().width())
        self.updateGeometry()

    def resizeEvent(self, event):  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_columns(event.newSize().width())

    def _fit_columns(self, width: float) -> None:
        if not self.items or width <= 10:
            return
        left, _, right, _ = self.layout.getContentsMargins()
        width -= left + right
        entry = max(sample.boundingRect().width() + label.itemRect().width() for sample, label in self.items)
        entry += 2 * LEGEND_SPACING
        columns = int(np.clip(width // max(entry, 1.0), 1, len(self.items)))
        columns = math.ceil(len(self.items) / math.ceil(len(self.items) / columns))  # rows evenly filled
        if columns != self.columnCount:
            self.setColumnCount(columns)  # calls updateSize again: same width, same count

    def columns(self) -> int:
        return self.columnCount


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
        item = w.getPlotItem()
        item.layout.removeItem(item.getAxis("top"))  # hidden; its cell (row 1, above the data) takes the legend
        item.legend = OutsideLegend()
        item.layout.addItem(item.legend, 1, 0, 1, 3)  # above the left axis too: the plot's full width
        item.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return w


def drawn(item) -> bool:
    """Whether a curve holds any point."""
    return item.xData is not None and len(item.xData) > 0


def sync_legend(plot: pg.PlotWidget, items: list, present: list[bool]) -> None:
    """The legend lists the named ``items`` that are ``present`` (in this order): a curve a run does not
    have (NTK ∞ of a μP run) is not in it. Rebuilt only when the set changes."""
    legend = plot.getPlotItem().legend
    key = tuple(bool(p) for p in present)
    if legend is None or getattr(legend, "shown_entries", None) == key:
        return
    legend.shown_entries = key
    legend.clear()
    for item, shown in zip(items, key):
        if shown and item.name():
            legend.addItem(item, item.name())


def _finite_or_empty(item, x, y) -> None:
    """Draws (x, y), or nothing when y holds a non-finite value (a diverged answer is not drawn)."""
    if y is None or not np.all(np.isfinite(y)):
        item.setData([], [])
    else:
        item.setData(x, y)


TWO_PI_TICKS = [(k * math.pi / 2, text) for k, text in enumerate(["0", "π/2", "π", "3π/2", "2π"])]
MAX_TITLE = 90  # characters of a data description in a plot title


def line_axis(data) -> np.ndarray:
    """Where a line or circle view draws the grid's values: x on a line, the angle θ on the circle."""
    axis = getattr(data, "grid_axis", None)
    return np.asarray(axis) if axis is not None else np.asarray(data.x_grid)[:, 0]


def train_axis(data) -> np.ndarray:
    """The training points on that axis: x on a line, their angle θ ∈ [0, 2π) on the circle."""
    x = np.asarray(data.x_train)
    if getattr(data, "view", "line") == "circle":
        return np.mod(np.arctan2(x[:, 1], x[:, 0]), 2 * np.pi)
    return x[:, 0]


def fit_title(title: str, data) -> str:
    """A plot title with the data's one-line description (cut to MAX_TITLE characters)."""
    text = getattr(data, "description", "") or ""
    if len(text) > MAX_TITLE:
        text = text[: MAX_TITLE - 1] + "…"
    return f"{title}: {text}" if text else title


def notes_label() -> QLabel:
    """The run's notes under a fit view (hidden while empty)."""
    label = QLabel()
    label.setStyleSheet(NOTE_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def show_notes(label: QLabel, notes) -> None:
    text = "\n".join(notes)
    if text != label.text():
        label.setText(text)
        label.setVisible(bool(text))


class FitPlot:
    """Target, training points, network, linearization, NTK ∞ and the NNGP posterior ±2σ over x (a line)
    or over the angle θ (the circle); below the plot, the run's notes (a diverged curve, an answer not
    drawn and why)."""

    def __init__(self):
        self.plot = w = _plot("Function fit", "x", "f(x)")
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
        self.notes = notes_label()
        self.widget = QWidget()
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(w, 1)
        layout.addWidget(self.notes)
        self._run_data = None
        self._shown_nngp = True
        self._band_drawn = False

    def set_dataset(self, data) -> None:
        """Target and training points of ``data`` (before a run: the form's data, drawn at once)."""
        if data is self._run_data:
            return
        self._run_data = data
        self._set_axis(getattr(data, "view", "line") == "circle")
        self.plot.setTitle(fit_title("Function fit", data))
        self.target.setData(line_axis(data), data.y_grid)
        self.points.setData(train_axis(data), data.y_train)
        self._set_band(None, None, None)

    def _set_axis(self, circle: bool) -> None:
        """x on a line; the angle θ from 0 to 2π, ticked at multiples of π/2, on the circle."""
        axis = self.plot.getAxis("bottom")
        axis.setTicks([TWO_PI_TICKS] if circle else None)
        self.plot.setLabel("bottom", "angle θ" if circle else "x")
        self.plot.setLabel("left", "f(θ)" if circle else "f(x)")

    def set_data(self, snap) -> None:
        x = line_axis(snap.data)
        if snap.data is not self._run_data:  # target, points and NNGP are fixed for a run: set once
            self.set_dataset(snap.data)
            if snap.infinite is not None:
                self._set_band(x, snap.infinite.nngp_mean, snap.infinite.nngp_std)
        self.net.setData(x, snap.f_grid_net)
        _finite_or_empty(self.lin, x, snap.f_grid_lin)
        _finite_or_empty(self.ntk, x, snap.f_grid_ntk)
        self.set_notes(snap.notes)
        self._sync_legend(run=True)

    def _sync_legend(self, run: bool) -> None:
        """During a run the legend lists the curves drawn; before it, all of them."""
        items = [self.target, self.points, self.nngp, self.ntk, self.lin, self.net]
        sync_legend(self.plot, items, [not run or drawn(item) or item in (self.target, self.points, self.net)
                                       for item in items])

    def _set_band(self, x, mean, std) -> None:
        """The NNGP mean and ±2σ band; none when the posterior is absent or not finite."""
        ok = mean is not None and std is not None and np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
        if ok:
            self.nngp.setData(x, mean)
            self.nngp_upper.setData(x, mean + 2 * std)
            self.nngp_lower.setData(x, mean - 2 * std)
        else:
            for item in (self.nngp, self.nngp_upper, self.nngp_lower):
                item.setData([], [])
        self._band_drawn = bool(ok)
        self.nngp_band.setVisible(self._band_drawn and self._shown_nngp)

    def set_notes(self, notes) -> None:
        show_notes(self.notes, notes)

    def set_visible(self, shown: dict[str, bool]) -> None:
        self._shown_nngp = shown["nngp"]
        self.net.setVisible(shown["network"])
        self.lin.setVisible(shown["linearization"])
        self.ntk.setVisible(shown["ntk_inf"])
        self.nngp.setVisible(shown["nngp"])
        self.nngp_band.setVisible(shown["nngp"] and self._band_drawn)

    def clear(self) -> None:
        self._run_data = None
        for item in (self.target, self.points, self.net, self.lin, self.ntk):
            item.setData([], [])
        self._set_band(None, None, None)
        self.set_notes(())
        self.plot.setTitle("Function fit")
        self._sync_legend(run=False)


class ThinnedRows:
    """Rows (dicts of scalars or equal-shaped arrays) appended in order, in bounded memory: at most
    ``capacity`` kept, evenly spread (every ``stride``-th; when full, every other kept row is dropped
    and the stride doubles), plus the latest row always. Plots need a bounded history, not all of it."""

    def __init__(self, capacity: int = 4096):
        self.capacity = capacity
        self.clear()

    def clear(self) -> None:
        self.count = self.size = 0
        self.stride = 1
        self.data: dict[str, np.ndarray] = {}
        self.latest: dict | None = None
        self._latest_kept = False

    def append(self, row: dict) -> None:
        index, self.count = self.count, self.count + 1
        self.latest = {k: np.array(v, np.float64) for k, v in row.items()}
        self._latest_kept = index % self.stride == 0
        if not self._latest_kept:
            return
        if not self.data:
            self.data = {k: np.full((min(self.capacity, 256), *v.shape), np.nan) for k, v in self.latest.items()}
        if self.size == len(next(iter(self.data.values()))):
            grow = min(self.capacity, 2 * self.size)
            for k, a in self.data.items():
                self.data[k] = np.concatenate([a, np.full((grow - len(a), *a.shape[1:]), np.nan)])
        for k, a in self.data.items():
            a[self.size] = self.latest[k]
        self.size += 1
        if self.size == self.capacity:  # full: keep every other row, and from now on every other new one
            for k, a in self.data.items():
                kept = a[: self.size : 2].copy()
                a[: len(kept)] = kept
                a[len(kept):] = np.nan
            self.size = (self.size + 1) // 2
            self.stride *= 2

    def __getitem__(self, name: str) -> np.ndarray:
        if self.latest is None:
            return np.zeros(0)
        kept = self.data[name][: self.size]
        if self._latest_kept:
            return kept
        return np.concatenate([kept, self.latest[name][None]])

    def __len__(self) -> int:
        """Rows returned by ``[name]``: the kept ones and the latest."""
        return 0 if self.latest is None else self.size + (not self._latest_kept)


class History:
    """Scalar series over snapshots, bounded (see :class:`ThinnedRows`); ``[name]`` is a 1-D array."""

    def __init__(self, names: list[str], capacity: int = 4096):
        self.names = names
        self.rows = ThinnedRows(capacity)

    def append(self, snap) -> None:
        self.rows.append({n: getattr(snap, n) for n in ["step", *self.names]})

    def __getitem__(self, name: str) -> np.ndarray:
        return self.rows[name]

    @property
    def size(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows.clear()


DIVERGED_MARKS = [("lin_diverged_step", "linearization diverged", "linearization"),
                  ("ntk_diverged_step", "NTK ∞ diverged", "ntk_inf")]
DIVERGED_FIELDS = {"lin_diverged_step": ("mse_train_lin", "mse_test_lin", "lin_gap"),
                   "ntk_diverged_step": ("mse_train_ntk", "mse_test_ntk")}
BLOWUP = 100.0  # a diverged curve is drawn only up to this factor above the other curves


class SeriesPlot:
    """Log-y series against the step; each curve is (snapshot field, label, colour key, dashed).

    A curve whose values are all exactly 0 is drawn on the axis's "0" level (not left empty). A
    curve that diverged (``*_diverged_step`` ≥ 0 in the snapshot) is drawn only while it stays within
    BLOWUP of the other curves (its growth would set the scale), and its step is marked by a vertical
    line with a label.
    """

    def __init__(self, title: str, y_label: str, curves: list[tuple[str, str, str, bool]]):
        self.widget = self.plot = _plot(title, "step", y_label, log_y=True)
        self.axis: DecadeAxis = self.plot.getAxis("left")
        self.curves = {}
        self.set_curves(curves)
        self.marks: dict[str, pg.InfiniteLine] = {}
        self.steps_total = 1

    def set_curves(self, curves: list[tuple[str, str | None, str | pg.QtGui.QPen, bool]]) -> None:
        """Replaces the curves: (field, legend label or None for no entry, colour key or pen, dashed)."""
        for item in self.curves.values():
            self.plot.removeItem(item)
        self.curves = {}
        for field, label, color, dashed in curves:
            # At most a few thousand points (one per snapshot): no clipping or downsampling, which
            # on a log axis cut the newest points until the autorange caught up.
            self.curves[field] = self.plot.plot(pen=pen(color, dashed) if isinstance(color, str) else color,
                                                name=label)

    def set_steps(self, steps_total: int) -> None:
        """Fixes the step axis to the run's length: no axis relayout as the series grow."""
        self.steps_total = max(1, steps_total)
        self.widget.setXRange(0, steps_total, padding=0.02)

    def set_data(self, history: History, snap=None) -> None:
        """Draws the series of ``history``; ``snap`` (the latest snapshot) says which curves diverged."""
        diverged = {f for key, fields in DIVERGED_FIELDS.items() if snap is not None and getattr(snap, key) >= 0
                    for f in fields}
        self.set_series(history["step"], {field: history[field] for field in self.curves}, diverged)
        if snap is not None:
            self.set_marks(snap)

    def set_series(self, steps: np.ndarray, series: dict[str, np.ndarray], diverged=frozenset()) -> None:
        """Draws ``series[field]`` against ``steps`` for each curve; ``diverged``: fields of diverged curves."""
        zero_fields, positive, values = [], [], {}
        for field in self.curves:
            y = series[field]
            keep = np.isfinite(y) & (y > 0)  # a log axis cannot show 0 (step 0 of a distance)
            if not keep.any() and (np.isfinite(y) & (y == 0)).sum() > 1:
                zero_fields.append(field)  # exactly 0 throughout (e.g. a kernel that cannot move)
                continue
            values[field] = keep
            if field not in diverged:
                positive.append(y[keep])
        top = BLOWUP * max((v.max() for v in positive if len(v)), default=np.inf)
        for field, keep in values.items():
            y = series[field]
            if field in diverged:
                keep = keep & (y <= top)
            self.curves[field].setData(steps[keep], np.maximum(y[keep], FLOOR))
        level = None
        if zero_fields:
            shown = np.concatenate(positive) if positive else np.zeros(0)
            bottom = math.log10(max(shown.min(), FLOOR)) if len(shown) else -6.0
            level = math.floor(bottom) - 1
            for field in zero_fields:
                y = series[field]
                keep = np.isfinite(y) & (y == 0)
                self.curves[field].setData(steps[keep], np.full(keep.sum(), 10.0**level))
        self._set_zero_level(level)
        items = list(self.curves.values())
        sync_legend(self.plot, items, [drawn(item) for item in items])  # e.g. no NTK ∞ in a μP run

    def _set_zero_level(self, level: float | None) -> None:
        if level != self.axis.zero_level:
            self.axis.zero_level = level
            self.axis.picture = None  # the axis caches its drawing
            self.axis.update()

    def set_marks(self, snap) -> None:
        """A vertical line at the step where the linearization or the NTK ∞ answer diverged."""
        for field, text, color in DIVERGED_MARKS:
            step = getattr(snap, field)
            if step < 0 or field in self.marks or field.split("_")[0] not in _prefixes(self.curves):
                continue
            side = 0 if step < 0.6 * self.steps_total else 1  # the label on the side with room
            line = pg.InfiniteLine(pos=step, angle=90, movable=False, pen=pen(color, dashed=True),
                                   label=f" {text} at step {step} ",
                                   labelOpts=dict(position=0.98, color=COLORS[color], fill=(255, 255, 255, 170),
                                                  anchors=[(side, 0), (side, 0)]))  # at the top, under the frame
            self.plot.addItem(line, ignoreBounds=True)
            self.marks[field] = line

    def clear(self) -> None:
        for item in self.curves.values():
            item.setData([], [])
        sync_legend(self.plot, list(self.curves.values()), [True] * len(self.curves))
        for line in self.marks.values():
            self.plot.removeItem(line)
        self.marks = {}
        self._set_zero_level(None)


def _prefixes(curves) -> set[str]:
    """'lin' / 'ntk' when the plot has a curve of the linearization / of the NTK ∞ answer."""
    return {key.split("_")[0] for key, fields in DIVERGED_FIELDS.items() if any(f in curves for f in fields)}


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
