"""The Sweep tab's widgets: what to vary, its values, seeds, an output folder, Run sweep / Stop, and the
plots (:class:`~ntklab.ui.sweep.SweepPanel`). Widgets only; :class:`~ntklab.ui.sweep_controller.SweepController`
does the wiring."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ntklab.ui.sweep import SweepPanel

# The settings the tab offers to vary (issue 12's names), with example values written in when chosen.
# A sweep file may vary any other numeric or choice setting: it is added to the list when opened.
SWEEP_FIELDS = {
    "model.width": ("width", "16, 64, 256, 1024"),
    "model.output_scale": ("output scale α", "0.1, 1, 10, 100"),
    "model.w_std": ("weight std σ_w", "0.5, 1, 1.4142, 2"),
    "data.n_train": ("training points n", "8, 16, 32, 64, 128"),
    "model.depth": ("depth", "1, 2, 3, 4"),
    "train.learning_rate": ("learning rate η", "0.01, 0.03, 0.1, 0.3"),
    "data.noise": ("label noise", "0, 0.1, 0.3"),
    "model.b_std": ("bias std σ_b", "0, 0.5, 1"),
    "model.parameterization": ("parameterization", "ntk, standard, mup"),
    "model.activation": ("activation", "relu, erf, tanh"),
    "train.trainable": ("trained layers", "readout, all"),
    "train.steps": ("steps", "100, 1000, 10000"),
}
MAX_SEEDS = 100
TITLE_SIZE = "9pt"  # the plots' titles in the tab (pyqtgraph's 11pt titles are wider than a column of three)
TITLE_WIDTH = 210  # px: a longer title wraps onto two lines, so that it never widens (and clips) its plot


class SweepTab(QWidget):
    """The sweep's settings in two rows above the plots; ``panel`` is the :class:`SweepPanel`."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.field_combo = QComboBox()
        for key, (title, _) in SWEEP_FIELDS.items():
            self.field_combo.addItem(f"{title} ({key})", key)
        self.field_combo.setToolTip("The setting that changes from point to point; every other setting is the "
                                    "form's (train.seed is set by seeds).")
        self.values_edit = QLineEdit(SWEEP_FIELDS["model.width"][1])
        self.values_edit.setToolTip("The values, separated by commas (numbers, or names for a choice setting).")
        self.seeds_spin = QSpinBox()
        self.seeds_spin.setRange(1, MAX_SEEDS)
        self.seeds_spin.setValue(3)
        self.seeds_spin.setToolTip("Init seeds 0 … seeds − 1 (train.seed) at every value; they run as one batch.")
        self.run_button = QPushButton("Run sweep")
        self.stop_button = QPushButton("Stop")
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("none: the points are not saved")
        self.folder_edit.setToolTip("Optional: a folder for points.csv (a row per finished point), sweep.npz, "
                                    "summary.json and sweep.png. A folder of the same sweep is resumed: its "
                                    "finished points are not run again.")
        self.folder_button = QToolButton()
        self.folder_button.setText("…")
        self.folder_button.setToolTip("Choose the output folder")
        self.open_button = QPushButton("Open sweep file…")
        self.open_button.setToolTip("An experiment file with a [sweep] section (e.g. resources/presets/sweep_*.toml): "
                                    "its experiment goes into the form, its sweep here.")
        self.note = QLabel()
        # one line, cut in a narrow window (the whole text in its tooltip): a word-wrapped label would make
        # the scrolled layout height-for-width, which sizes the plots by their preferred height, not the view's
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note.setStyleSheet("QLabel { color: #555; }")
        self.note.hide()

        first = QHBoxLayout()
        first.addWidget(QLabel("Vary"))
        first.addWidget(self.field_combo)
        first.addWidget(QLabel("values"))
        first.addWidget(self.values_edit, 1)
        first.addWidget(QLabel("seeds"))
        first.addWidget(self.seeds_spin)
        first.addWidget(self.run_button)
        first.addWidget(self.stop_button)
        second = QHBoxLayout()
        second.addWidget(QLabel("Output folder"))
        second.addWidget(self.folder_edit, 1)
        second.addWidget(self.folder_button)
        second.addWidget(self.open_button)
        self.panel = SweepPanel()
        for plot in self.panel.plots.values():
            _fit_title(plot.widget.getPlotItem())
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addLayout(first)
        layout.addLayout(second)
        layout.addWidget(self.note)
        layout.addWidget(self.panel, 1)
        # scrolled when the window is smaller than the six plots need: the tab must not set the window's
        # minimum size (the other tabs and the form fit an 800-pixel screen)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def set_note(self, text: str) -> None:
        """A line under the settings (what was opened or resumed, why Run sweep waits); empty hides it."""
        self.note.setText(text)
        self.note.setToolTip(text)
        self.note.setVisible(bool(text))

    def field(self) -> str:
        """The chosen setting's key, e.g. ``model.width``."""
        return self.field_combo.currentData()

    def set_field(self, key: str) -> None:
        """Chooses ``key`` (added to the list when the tab does not offer it), signals blocked."""
        index = self.field_combo.findData(key)
        if index < 0:
            self.field_combo.addItem(key, key)
            index = self.field_combo.count() - 1
        blocked = self.field_combo.blockSignals(True)
        self.field_combo.setCurrentIndex(index)
        self.field_combo.blockSignals(blocked)


def _fit_title(item) -> None:
    """A plot's title at TITLE_SIZE, wrapped onto lines of TITLE_WIDTH px when longer: pyqtgraph makes a
    title's width the plot's minimum, and beside the form three plots a row have ~250 px each."""
    label = item.titleLabel
    label.setText(label.text, size=TITLE_SIZE)
    if label.item.boundingRect().width() <= TITLE_WIDTH:
        return
    label.item.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
    label.item.setTextWidth(TITLE_WIDTH)
    label.updateMin()
    height = int(label.item.boundingRect().height()) + 2
    label.setMaximumHeight(height)
    item.layout.setRowFixedHeight(0, height)
