"""The main window: settings and run controls on the left, plots on the right, a status bar."""

from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.parametertree import ParameterTree
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QGridLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ntklab.ui.guide import GuidePanel
from ntklab.ui.menus import GUIDE_SEEN_KEY, PlotCorner
from ntklab.ui.params import make_parameters, update_visibility
from ntklab.ui.plots import make_drift_plot, make_loss_plot
from ntklab.ui.spectra import SpectraPanel
from ntklab.ui.sweep_tab import SweepTab
from ntklab.ui.views import FeaturePlot, FitArea

BANNER_STYLES = {  # background, text
    "error": "QLabel { background: #fdecea; color: #611a15; padding: 6px; }",
    "warning": "QLabel { background: #fff4e5; color: #663c00; padding: 6px; }",
}


VALUE_COLUMN = 130  # px for the form's values (a number, a choice, its reset button)
SPLITTER_KEY = "window/splitter"
GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"  # the docks (the guide): shown or not, where, how wide
DEFAULT_SIZE = (1440, 900)
GUIDE_WIDTH = 400  # px: the guide's dock at first launch
FIRST_PAGE = "start"


def settings_store() -> QSettings:
    """Where the window remembers things between sessions (geometry, splitter, guide, recent files)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ntklab", "NTK Lab")


class MainWindow(QMainWindow):
    """Widgets only; the :class:`~ntklab.ui.controller.Controller` does all the wiring.

    ``settings``: a QSettings to remember the geometry, splitter and guide in (None: remember nothing, as
    in ``--screenshot``, which must look the same every time; the guide then starts hidden).
    """

    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.settings = settings
        self.setWindowTitle("NTK Lab")
        self.resize(*DEFAULT_SIZE)
        pg.setConfigOptions(antialias=True, background="w", foreground="k")

        self.params = make_parameters()
        self.tree = ParameterTree(showHeader=False)
        self.tree.setParameters(self.params, showTop=False)
        update_visibility(self.params)  # rows greyed before the tree existed are drawn grey now
        # names sized to their content, values take the rest: nothing to scroll sideways (a click on a
        # value used to scroll the names out of sight)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.reset_button = QPushButton("Reset")
        buttons = QGridLayout()
        for i, b in enumerate([self.start_button, self.pause_button, self.stop_button, self.reset_button]):
            buttons.addWidget(b, i // 2, i % 2)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.tree, 1)
        left_layout.addLayout(buttons)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.fit_area = FitArea()  # the fit as the data is drawn: curve, images or predicted vs true
        self.fit_plot = self.fit_area.line
        self.loss_plot = make_loss_plot()
        self.drift_plot = make_drift_plot()
        self.feature_plot = FeaturePlot()
        training = QWidget()
        grid = QGridLayout(training)
        grid.addWidget(self.fit_area.widget, 0, 0, 1, 3)
        for column, plot in enumerate((self.loss_plot, self.drift_plot, self.feature_plot)):
            plot.widget.setMinimumSize(160, 120)  # a long title must not widen its column
            grid.addWidget(plot.widget, 1, column)
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        self.tabs = QTabWidget()
        self.tabs.addTab(training, "Training")
        self.spectra = SpectraPanel()
        self.tabs.addTab(self.spectra.widget, "Spectra")
        self.sweep_tab = SweepTab()  # a setting varied over values × seeds (wired by SweepController)
        self.tabs.addTab(self.sweep_tab, "Sweep")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.tabs, 1)

        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        left_width = self.form_width()
        splitter.setSizes([left_width, 1440 - left_width])
        saved = settings.value(SPLITTER_KEY) if settings is not None else None
        if saved is not None:
            splitter.restoreState(saved)
        self.setCentralWidget(splitter)

        # a "?" (the plot's help) and "⤓" (export) in each plot's corner, keyed as PLOT_HELP
        plots = {"fit": self.fit_area.widget, "loss": self.loss_plot.widget, "drift": self.drift_plot.widget,
                 "features": self.feature_plot.widget,
                 **{name: view.widget for name, view in self.spectra.views.items()},
                 **{f"sweep_{key}": plot.widget for key, plot in self.sweep_tab.panel.plots.items()}}
        self.plot_corners = {key: PlotCorner(widget, key) for key, widget in plots.items()}

        self.guide = GuidePanel()
        self.guide_dock = QDockWidget("Guide", self)
        self.guide_dock.setObjectName("guide")  # saveState/restoreState find it by name
        self.guide_dock.setWidget(self.guide)
        self.guide_dock.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.guide_dock)
        self.resizeDocks([self.guide_dock], [GUIDE_WIDTH], Qt.Orientation.Horizontal)
        self.guide_dock.hide()

        self.step_label, self.rate_label, self.backend_label = QLabel(), QLabel(), QLabel()
        self.state_label = QLabel("ready")
        bar = self.statusBar()
        bar.addWidget(self.state_label, 1)
        for label in (self.step_label, self.rate_label, self.backend_label):
            bar.addPermanentWidget(label)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.open_action = QAction("&Open experiment…", self, shortcut=QKeySequence("Ctrl+O"))
        self.presets_menu = QMenu("&Presets", self)  # filled by the controller: resources/presets
        self.recent_menu = QMenu("&Recent files", self)
        self.save_action = QAction("&Save experiment…", self, shortcut=QKeySequence("Ctrl+S"))
        self.export_action = QAction("&Export run data…", self)
        self.figure_action = QAction("Export &figure…", self)
        self.figure_action.setStatusTip("Saves the whole window as PNG (2× resolution) or SVG")
        self.quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        for action in (self.open_action, self.presets_menu, self.recent_menu, self.save_action, None,
                       self.export_action, self.figure_action, None, self.quit_action):
            if action is None:
                file_menu.addSeparator()
            elif isinstance(action, QMenu):
                file_menu.addMenu(action)
            else:
                file_menu.addAction(action)
        # Space, Esc: window-wide, but a text field that takes the key (typing, cancelling) keeps it
        self.start_pause_action = QAction("Start / &Pause", self, shortcut=QKeySequence(Qt.Key.Key_Space))
        self.stop_action = QAction("S&top", self, shortcut=QKeySequence(Qt.Key.Key_Escape))
        self.reset_action = QAction("&Reset", self, shortcut=QKeySequence("Ctrl+R"))
        run_menu = menu.addMenu("&Run")
        for action in (self.start_pause_action, self.stop_action, self.reset_action):
            run_menu.addAction(action)
        for button, key in ((self.start_button, "Space"), (self.pause_button, "Space"),
                            (self.stop_button, "Esc"), (self.reset_button, "Ctrl+R")):
            button.setToolTip(f"{button.text()} ({key})")
        self.guide_action = self.guide_dock.toggleViewAction()
        self.guide_action.setText("&Guide")
        self.guide_action.setShortcut(QKeySequence(Qt.Key.Key_F1))
        self.guide_action.setStatusTip("The lab's questions, one click each (F1 shows or hides it)")
        self.about_action = QAction("&About NTK Lab", self)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.guide_action)
        help_menu.addAction(self.about_action)
        self.close_requested = None  # set by the controller: returns True when closing may proceed
        self._restore()

    def _restore(self) -> None:
        """Geometry and docks as the last session left them; at a first launch, the guide's first page."""
        if self.settings is None:
            return
        geometry, state = self.settings.value(GEOMETRY_KEY), self.settings.value(STATE_KEY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        if not self.settings.value(GUIDE_SEEN_KEY, False, type=bool):
            self.show_guide(FIRST_PAGE)
            if geometry is None:  # the plots keep their room beside the guide, as far as the screen allows
                self.widen_for_guide(self.screen().availableGeometry().width())
            self.settings.setValue(GUIDE_SEEN_KEY, True)

    def show_guide(self, page_id: str | None = None) -> None:
        """Shows the guide's dock (at ``page_id`` when given)."""
        if page_id is not None and page_id != self.guide.current_page():
            self.guide.show_page(page_id)
        self.guide_dock.show()
        self.guide_dock.raise_()

    def widen_for_guide(self, limit: int | None = None) -> None:
        """Makes the window GUIDE_WIDTH wider than its default (at most ``limit`` px wide)."""
        width = DEFAULT_SIZE[0] + GUIDE_WIDTH
        self.resize(max(min(width, limit or width), self.width()), self.height())
        self.resizeDocks([self.guide_dock], [GUIDE_WIDTH], Qt.Orientation.Horizontal)

    def show_banner(self, text: str, level: str = "error") -> None:
        """A message above the plots (empty text hides it); ``level`` is "error" or "warning"."""
        self.banner.setStyleSheet(BANNER_STYLES[level])
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def form_width(self) -> int:
        """The left pane's width that shows every name and value of the form whole."""
        self.tree.expandAll()
        names = self.tree.sizeHintForColumn(0)
        scrollbar = self.tree.verticalScrollBar().sizeHint().width()
        return min(520, names + VALUE_COLUMN + scrollbar + 2 * self.tree.frameWidth() + 24)

    def closeEvent(self, event):  # noqa: N802 (Qt override)
        if self.settings is not None:
            self.settings.setValue(SPLITTER_KEY, self.splitter.saveState())
            self.settings.setValue(GEOMETRY_KEY, self.saveGeometry())
            self.settings.setValue(STATE_KEY, self.saveState())
        if self.close_requested is not None:
            self.close_requested()
        event.accept()
