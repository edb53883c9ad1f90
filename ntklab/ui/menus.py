"""The window's desktop habits: the plots' "?" and export corner, File → Presets and Recent files, the
title with the loaded file and its "*", the figure exports, the guide's dock and the shortcuts.

:class:`PlotCorner` is a widget beside each plot; :class:`RecentFiles` keeps the list in QSettings;
:class:`MenuController` wires them (it is the :class:`~ntklab.ui.controller.Controller`'s part for menus:
handlers ``_on_<source>_<event>``, one source of truth for the loaded file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pyqtgraph import GraphicsView
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QStackedWidget, QToolButton, QVBoxLayout, QWidget
from shiboken6 import isValid

from ntklab.session import SpecError
from ntklab.session.guide import list_presets
from ntklab.ui.exports import (
    PLOT_FORMATS,
    WINDOW_FORMATS,
    ExportError,
    export_view,
    export_window,
    has_curves,
    plot_items,
    shown_graphics_view,
)
from ntklab.ui.guide import plot_help_button
from ntklab.ui.params import spec_from_params

APP_TITLE = "NTK Lab"
RECENT_KEY = "files/recent"
RECENT_COUNT = 8
GUIDE_SEEN_KEY = "guide/seen"  # set once the guide has been shown at a first launch
BUTTON_SIZE = 16  # px
FORMAT_NAMES = {"png": "PNG…", "svg": "SVG…", "csv": "CSV (curves)…"}


class PlotCorner(QWidget):
    """Two small buttons in a plot's empty corner (below its y axis, left of its x axis' label): "?" (the
    plot's help from PLOT_HELP) and "⤓" (export PNG, SVG or CSV). The same export actions are added to
    the right-click menu of the plot's pyqtgraph views.

    ``target``: the plot's widget (the buttons float above it, kept in that corner of the plot it shows;
    the top-right corner when it shows no axes); ``key``: the PLOT_HELP key.
    """

    exportRequested = Signal(str, str)  # plot key, format ("png", "svg", "csv")

    def __init__(self, target: QWidget, key: str):
        super().__init__(target)
        self.key, self.target = key, target
        self.help_button = plot_help_button(key, self)
        self.export_button = QToolButton(self)
        self.export_button.setText("⤓")
        self.export_button.setAutoRaise(True)
        self.export_button.setToolTip("Export this plot: PNG, SVG or CSV")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        self.actions_by_format: dict[str, QAction] = {}
        self.menu = QMenu("Export this plot", self)
        for fmt, name in FORMAT_NAMES.items():
            action = QAction(f"Export {name}", self)
            action.setStatusTip(f"Writes this plot as {PLOT_FORMATS[fmt]} (pyqtgraph's exporter)")
            action.triggered.connect(lambda _=False, f=fmt: self.exportRequested.emit(self.key, f))
            self.actions_by_format[fmt] = action
            self.menu.addAction(action)
        self.menu.aboutToShow.connect(self._on_menu_about_to_show)
        self.export_button.setMenu(self.menu)
        layout = QVBoxLayout(self)  # stacked: the axis corner is narrower than it is tall
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.help_button)
        layout.addWidget(self.export_button)
        for button in (self.help_button, self.export_button):
            button.setFixedSize(BUTTON_SIZE, BUTTON_SIZE)
        self.setStyleSheet("QToolButton { color: #1f4e79; font-weight: bold; }")
        self.adjustSize()
        self._menus_added: set[int] = set()
        self._watched: set[int] = set()
        self.add_to_context_menus()
        target.installEventFilter(self)
        if isinstance(target, QStackedWidget):
            target.currentChanged.connect(self._place)
        self._place()

    def add_to_context_menus(self) -> None:
        """Adds "Export this plot" to the right-click menu of each pyqtgraph plot inside the target that
        has a menu (pyqtgraph's own Export… dialog stays beside it), and follows the views' axes."""
        views = [self.target] if isinstance(self.target, GraphicsView) else self.target.findChildren(GraphicsView)
        for view in views:
            if id(view) not in self._watched:
                self._watched.add(id(view))
                view.installEventFilter(self)
            for item in plot_items(view):
                for axis in ("left", "bottom"):
                    if id(item.getAxis(axis)) not in self._watched:
                        self._watched.add(id(item.getAxis(axis)))
                        item.getAxis(axis).geometryChanged.connect(self._place)
                vb = item.getViewBox()
                if id(vb) in self._menus_added or not vb.menuEnabled() or vb.menu is None:
                    continue
                self._menus_added.add(id(vb))
                vb.menu.addSeparator()
                vb.menu.addMenu(self.menu)

    def view(self):
        """The pyqtgraph view the plot shows now (its page, for plots with several)."""
        return shown_graphics_view(self.target)

    def _on_menu_about_to_show(self) -> None:
        self.actions_by_format["csv"].setEnabled(has_curves(self.view()))

    def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self._place()
        return False

    def _axis_corner(self) -> QRect | None:
        """The empty cell below the left axis and left of the bottom axis' label of the first plot shown,
        in the target's coordinates (None: no plot with both axes on screen)."""
        view = self.view()
        if view is None or not isValid(view) or not view.isVisible():
            return None
        for item in plot_items(view):
            left, bottom = item.getAxis("left"), item.getAxis("bottom")
            if not (item.isVisible() and left.isVisible() and bottom.isVisible()):
                continue
            x0, x1 = left.sceneBoundingRect().left(), left.sceneBoundingRect().right()
            y0, y1 = bottom.sceneBoundingRect().top(), bottom.sceneBoundingRect().bottom()
            top_left = view.viewport().mapTo(self.target, view.mapFromScene(QPointF(x0, y0)))
            bottom_right = view.viewport().mapTo(self.target, view.mapFromScene(QPointF(x1, y1)))
            return QRect(top_left, bottom_right)
        return None

    def _place(self) -> None:
        if not (isValid(self) and isValid(self.target)):  # the window is being torn down
            return
        try:
            cell = self._axis_corner()
        except RuntimeError:  # a plot item already deleted: the window is being torn down
            return
        if cell is None or cell.width() < 8:
            self.move(QPoint(max(0, self.target.width() - self.width() - 2), 2))
        else:  # the cell's bottom-left, inside the target
            x = max(0, cell.left() + 2)
            y = max(0, min(cell.bottom(), self.target.height()) - self.height() - 2)
            self.move(QPoint(x, y))
        self.raise_()


class RecentFiles:
    """The last RECENT_COUNT experiment files opened, newest first, kept in ``settings`` (None: in memory)."""

    def __init__(self, settings: QSettings | None):
        self.settings = settings
        self._memory: list[str] = []

    def paths(self) -> list[str]:
        if self.settings is None:
            return list(self._memory)
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings gives a one-item list back as a string
            value = [value]
        return [str(v) for v in value or []][:RECENT_COUNT]

    def _store(self, paths: list[str]) -> None:
        paths = paths[:RECENT_COUNT]
        if self.settings is None:
            self._memory = paths
        else:
            self.settings.setValue(RECENT_KEY, paths)

    def add(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        self._store([path] + [p for p in self.paths() if p != path])

    def remove(self, path: str) -> None:
        self._store([p for p in self.paths() if p != path])

    def prune(self) -> list[str]:
        """Drops the files that no longer exist; returns them."""
        paths = self.paths()
        missing = [p for p in paths if not Path(p).is_file()]
        if missing:
            self._store([p for p in paths if p not in missing])
        return missing


def _title(name: str | None, modified: bool) -> str:
    if name is None:
        return APP_TITLE
    return f"{APP_TITLE} — {name}{'*' if modified else ''}"


class MenuController(QObject):
    """Wires the presets, recent files, title, exports, guide and shortcuts of ``controller``'s window."""

    def __init__(self, controller):
        super().__init__(controller)
        self.controller = c = controller
        self.window = w = controller.window
        self.recent = RecentFiles(w.settings)
        self.loaded: tuple[str, object] | None = None  # (file name, its spec without a sweep)
        for preset in list_presets():
            action = w.presets_menu.addAction(preset.name.removesuffix(".toml"))
            text = preset.description + (" (a sweep: runs from the Sweep tab)" if preset.sweep else "")
            action.setToolTip(text)
            action.setStatusTip(text)
            action.setData(preset.name)
            action.triggered.connect(lambda _=False, name=preset.name: self._on_preset_triggered(name))
        w.presets_menu.setToolTipsVisible(True)
        w.recent_menu.aboutToShow.connect(self._on_recent_menu_about_to_show)
        self._fill_recent()
        w.guide.presetRequested.connect(self._on_guide_preset_requested)
        w.start_pause_action.triggered.connect(self._on_start_pause_triggered)
        w.stop_action.triggered.connect(c._on_stop_clicked)
        w.reset_action.triggered.connect(c._on_reset_clicked)
        for corner in w.plot_corners.values():
            corner.exportRequested.connect(self._on_corner_export_requested)
        w.params.sigTreeStateChanged.connect(self._on_params_changed)
        self.update_title()

    # --- the title -------------------------------------------------------------------------------

    def set_loaded(self, path: str | Path, spec) -> None:
        """The form now holds the file ``path`` (opened or saved): the title names it."""
        self.loaded = (Path(path).name, replace(spec, sweep=None))
        self.update_title()

    def modified(self) -> bool:
        """Whether the form's settings differ from the loaded file's (a bad value counts as different)."""
        if self.loaded is None:
            return False
        try:
            return spec_from_params(self.window.params) != self.loaded[1]
        except SpecError:
            return True

    def update_title(self) -> None:
        name = self.loaded[0] if self.loaded else None
        self.window.setWindowTitle(_title(name, self.modified()))

    def _on_params_changed(self, _param, changes) -> None:
        if self.loaded is not None and any(c[1] == "value" and c[0].name() != "eta_crit" for c in changes):
            self.update_title()

    # --- presets and recent files ------------------------------------------------------------------

    def _on_preset_triggered(self, name: str) -> None:
        self.controller.run_preset(name, start=False)

    def _on_guide_preset_requested(self, name: str) -> None:
        self.controller.run_preset(name, start=True)

    def _fill_recent(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        paths = self.recent.paths()
        for path in paths:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self._on_recent_triggered(p))
        if not paths:
            menu.addAction("(none yet)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear the list", self._on_recent_clear_triggered)
        menu.setToolTipsVisible(True)

    def remember(self, path: str | Path) -> None:
        self.recent.add(path)
        self._fill_recent()

    def _on_recent_menu_about_to_show(self) -> None:
        missing = self.recent.prune()
        if missing:
            self._fill_recent()
            names = ", ".join(Path(p).name for p in missing)
            self.window.statusBar().showMessage(f"Removed from the recent files (no longer there): {names}", 8000)

    def _on_recent_triggered(self, path: str) -> None:
        if not Path(path).is_file():
            self.recent.remove(path)
            self._fill_recent()
            self.controller._show_banner(f"{path} is no longer there; it was removed from the recent files.",
                                         level="warning", kind="file")
            return
        self.controller.open_spec(path)

    def _on_recent_clear_triggered(self) -> None:
        for path in self.recent.paths():
            self.recent.remove(path)
        self._fill_recent()

    # --- run control from the keyboard ------------------------------------------------------------

    def _on_start_pause_triggered(self) -> None:
        """Space: Start when no run goes on, else Pause / Resume."""
        c = self.controller
        if c.running:
            c._on_pause_clicked()
        else:
            c.start()

    # --- exports ------------------------------------------------------------------------------------

    def _ask_path(self, title: str, stem: str, formats: dict[str, str], fmt: str | None) -> str:
        """A save dialog in the last folder; the chosen name gets the format's suffix when it has none."""
        order = [fmt] + [f for f in formats if f != fmt] if fmt else list(formats)
        default = str(Path(self.controller._last_folder()) / f"{stem}.{order[0]}")
        path, chosen = QFileDialog.getSaveFileName(self.window, title, default, ";;".join(formats[f] for f in order))
        if not path:
            return ""
        if not Path(path).suffix:
            kind = next((f for f in order if formats[f] == chosen), order[0])
            path = str(Path(path).with_suffix("." + kind))
        self.controller._remember_folder(path)
        return path

    def _on_corner_export_requested(self, key: str, fmt: str) -> None:
        corner = self.window.plot_corners[key]
        path = self._ask_path("Export plot", f"ntklab-{key}", {fmt: PLOT_FORMATS[fmt]}, fmt)
        if path:
            self._write(lambda: export_view(corner.view(), path), path)

    def export_figure(self) -> None:
        """File → Export figure: the whole window as PNG (2×) or SVG."""
        path = self._ask_path("Export figure", "ntklab", WINDOW_FORMATS, None)
        if path:
            self._write(lambda: export_window(self.window, path), path)

    def _write(self, write: Callable[[], Path], path: str) -> None:
        try:
            written = write()
        except ExportError as exc:
            self.controller._show_banner(f"Could not save the figure: {exc}", kind="file")
            return
        self.controller._clear_banner("file")
        self.controller._confirm(f"Saved the figure to {written}")
