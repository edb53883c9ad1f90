"""Figures and data out: one plot to PNG, SVG or CSV with pyqtgraph's exporters, the whole window to PNG
(at twice the screen's resolution) or SVG (Qt's QSvgGenerator). pyqtgraph 0.14.0's SVG exporter fails on
the closed paths Qt ≥ 6.10 writes (pyqtgraph#3485); a plot's SVG then comes from QSvgGenerator too.

A view of the window (a Training or Spectra plot) may show one pyqtgraph view or a stack of them (the fit:
curve, images or scatter); :func:`shown_graphics_view` finds the one on screen. Its PNG and SVG are the whole
scene (title, legend, axes, colour bars); its CSV is the curves of its first plot that has any, one (x, y)
column pair per curve named after the curve (pyqtgraph's ``CSVExporter``). Heatmaps have no curves: their
values are in File → Export run data.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStackedWidget, QWidget

PLOT_FORMATS = {"png": "PNG image (*.png)", "svg": "SVG vector image (*.svg)", "csv": "CSV of the curves (*.csv)"}
WINDOW_FORMATS = {"png": "PNG image, 2× resolution (*.png)", "svg": "SVG vector image (*.svg)"}
WINDOW_SCALE = 2  # the window's PNG has twice its on-screen pixels per side
IMAGE_SCALE = 2  # a plot's PNG too


class ExportError(Exception):
    """A figure or its data could not be written; the message says why and what to do."""


def shown_graphics_view(widget: QWidget) -> pg.GraphicsView | None:
    """The pyqtgraph view that ``widget`` shows now: itself, the current page of a stack, or the first
    visible (else first) GraphicsView inside it."""
    while isinstance(widget, QStackedWidget):
        widget = widget.currentWidget()
    if widget is None or isinstance(widget, pg.GraphicsView):
        return widget
    views = widget.findChildren(pg.GraphicsView)
    return next((v for v in views if v.isVisible()), views[0] if views else None)


def plot_items(view: pg.GraphicsView) -> list[pg.PlotItem]:
    """The PlotItems of a PlotWidget or a GraphicsLayoutWidget, in the scene's order."""
    if isinstance(view, pg.PlotWidget):
        return [view.getPlotItem()]
    return [item for item in view.scene().items() if isinstance(item, pg.PlotItem)][::-1]


def _curves(item: pg.PlotItem) -> list:
    out = []
    for curve in item.listDataItems():
        x, _ = curve.getOriginalDataset() if hasattr(curve, "getOriginalDataset") else curve.getData()
        if x is not None and len(x) > 0:
            out.append(curve)
    return out


def has_curves(view: pg.GraphicsView | None) -> bool:
    """Whether the view holds a curve with data (what a CSV can hold)."""
    return view is not None and any(_curves(item) for item in plot_items(view))


def _target(path: str | Path, formats: dict[str, str]) -> tuple[Path, str]:
    """(path, its format) when ``path`` names one of ``formats`` in an existing folder; else ExportError."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in formats:
        names = [f".{k}" for k in formats]
        raise ExportError(f"{path.name}: use a file name ending in {', '.join(names[:-1])} or {names[-1]}.")
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent} does not exist; choose another folder.")
    return path, kind


def export_view(view: pg.GraphicsView, path: str | Path) -> Path:
    """Writes ``view`` to ``path`` by its suffix: .png (the view at IMAGE_SCALE× its on-screen size), .svg (the
    scene), .csv (the curves of its first plot with any); returns the path. ExportError names the reason."""
    path, kind = _target(path, PLOT_FORMATS)
    if kind == "csv":
        item = next((i for i in plot_items(view) if _curves(i)), None)
        if item is None:
            raise ExportError("This plot has no curves to write as CSV (an image, or nothing drawn yet); "
                              "File → Export run data writes every array of the run.")
        exporter = pg_exporters.CSVExporter(item)
    elif kind == "svg":
        exporter = pg_exporters.SVGExporter(view.scene())
        try:
            exporter.export(str(path))
        except ValueError:  # pyqtgraph 0.14.0 cannot read Qt ≥ 6.10's closed paths ("Z"): pyqtgraph#3485,
            _svg_by_qt(view, path)  # fixed upstream after 0.14.0 (1b84c2b2); Qt's own generator meanwhile
        return _written(path)
    else:
        exporter = pg_exporters.ImageExporter(view.scene())
        params = exporter.parameters()  # width and height: the view's on screen (the height follows)
        params["width"] = IMAGE_SCALE * params["width"]
    try:
        exporter.export(str(path))
    except OSError as exc:
        raise ExportError(f"Could not write {path}: {exc.strerror or exc}; choose another place.") from exc
    return _written(path)


def _written(path: Path) -> Path:
    if not path.is_file():  # QImage.save reports failure by returning False, which the exporters ignore
        raise ExportError(f"Could not write {path}: the folder is not writable; choose another place.")
    return path


@contextmanager
def _vectors(widget: QWidget):
    """pyqtgraph keeps axes and legends as cached pixmaps (fast repaints); while a widget is painted into
    an SVG they are drawn as vectors and text instead."""
    views = [widget] if isinstance(widget, pg.GraphicsView) else widget.findChildren(pg.GraphicsView)
    cached = [(item, item.cacheMode()) for view in views for item in view.scene().items()
              if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)


def _svg_by_qt(widget: QWidget, path: Path) -> bool:
    """Paints ``widget`` into an SVG file with Qt's QSvgGenerator (QtSvg, part of PySide6-Essentials)."""
    from PySide6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(widget.width(), widget.height()))
    generator.setViewBox(QRectF(0, 0, widget.width(), widget.height()))
    generator.setTitle(widget.window().windowTitle())
    generator.setResolution(widget.logicalDpiX())  # pyqtgraph replays QPictures: scaled by the DPI ratio
    painter = QPainter()
    if not painter.begin(generator):
        return False
    try:
        with _vectors(widget):
            if isinstance(widget, pg.GraphicsView):
                widget.render(painter)  # QGraphicsView.render: the scene as the view shows it
            else:
                widget.render(painter, QPoint(0, 0))  # the widget and its children
    finally:
        ok = painter.end()
    return ok


def export_window(window: QWidget, path: str | Path) -> Path:
    """Writes the whole window to ``path``: .png at WINDOW_SCALE× its on-screen size, or .svg (vector
    where Qt paints vectors; pyqtgraph's cached axes and legends are embedded as images)."""
    path, kind = _target(path, WINDOW_FORMATS)
    if kind == "png":
        ratio = max(float(WINDOW_SCALE), window.devicePixelRatioF())  # pixels per logical pixel
        pixmap = QPixmap(window.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.white)
        window.render(pixmap)
        ok = pixmap.save(str(path), "PNG")
    else:
        ok = _svg_by_qt(window, path)
    if not ok or not path.is_file():
        raise ExportError(f"Could not write {path}: the folder is not writable; choose another place.")
    return path
