"""The main window: settings and run controls on the left, plots on the right, a status bar."""

from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.parametertree import ParameterTree
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ntklab.ui.params import make_parameters, update_visibility
from ntklab.ui.plots import make_drift_plot, make_loss_plot
from ntklab.ui.spectra import SpectraPanel
from ntklab.ui.views import FeaturePlot, FitArea

BANNER_STYLES = {  # background, text
    "error": "QLabel { background: #fdecea; color: #611a15; padding: 6px; }",
    "warning": "QLabel { background: #fff4e5; color: #663c00; padding: 6px; }",
}


VALUE_COLUMN = 130  # px for the form's values (a number, a choice, its reset button)
SPLITTER_KEY = "window/splitter"


def settings_store() -> QSettings:
    """Where the window remembers things between sessions (splitter, last folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ntklab", "NTK Lab")


class MainWindow(QMainWindow):
    """Widgets only; the :class:`~ntklab.ui.controller.Controller` does all the wiring.

    ``settings``: a QSettings to remember the splitter position in (None: remember nothing, as in
    ``--screenshot``, which must look the same every time).
    """

    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.settings = settings
        self.setWindowTitle("NTK Lab")
        self.resize(1440, 900)
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

        self.step_label, self.rate_label, self.backend_label = QLabel(), QLabel(), QLabel()
        self.state_label = QLabel("ready")
        bar = self.statusBar()
        bar.addWidget(self.state_label, 1)
        for label in (self.step_label, self.rate_label, self.backend_label):
            bar.addPermanentWidget(label)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.open_action = QAction("&Open experiment…", self, shortcut=QKeySequence.StandardKey.Open)
        self.save_action = QAction("&Save experiment…", self, shortcut=QKeySequence.StandardKey.Save)
        self.export_action = QAction("&Export run data…", self)
        self.figure_action = QAction("Save &figure…", self)
        self.quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        for action in (self.open_action, self.save_action, None, self.export_action, self.figure_action,
                       None, self.quit_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        self.about_action = QAction("&About NTK Lab", self)
        menu.addMenu("&Help").addAction(self.about_action)
        self.close_requested = None  # set by the controller: returns True when closing may proceed

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
        if self.close_requested is not None:
            self.close_requested()
        event.accept()
