"""The Guide panel and the plots' "?" buttons, both drawn from :mod:`ntklab.session.guide`.

:class:`GuidePanel` is self-contained: it shows one page at a time (the questions in a combo box,
the page as rich text, a "Run" button per preset) and emits :attr:`GuidePanel.presetRequested` with a
preset's file name; the owner loads it into the form and starts it. :func:`plot_help_button` gives
the "?" of a plot, whose tooltip (and popup on click) is that plot's entry of ``PLOT_HELP``.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QTextBrowser,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from ntklab.session.guide import PAGES, PLOT_HELP, GuidePage, page, preset_description, preset_exists


def _text(value: str) -> str:
    return html.escape(value, quote=False)


def plot_help_html(key: str) -> str:
    """PLOT_HELP[key] as rich text: title and tab, definition, what it answers, the exported fields."""
    h = PLOT_HELP[key]
    fields = (f"<br><small>Exported as {_text(', '.join(h.fields))} (File → Export run data).</small>"
              if h.fields else "")
    return (f"<qt><b>{_text(h.title)}</b> <small>({_text(h.tab)} tab)</small><br>{_text(h.definition)}"
            f"<br><i>Answers:</i> {_text(h.answers)}{fields}</qt>")


def page_html(p: GuidePage) -> str:
    """A page as rich text: the question, what to look at, the prediction and its formula, the
    definitions of the plots it names, the references."""
    plots = "".join(f"<li><b>{_text(PLOT_HELP[k].title)}</b> ({_text(PLOT_HELP[k].tab)}): "
                    f"{_text(PLOT_HELP[k].definition)}</li>" for k in p.plots)
    refs = "".join(f"<li>{_text(r.text())}</li>" for r in p.references)
    return (
        f"<h3>{_text(p.question)}</h3>"
        f"<p><b>Look at</b> {_text(p.look_at)}</p>"
        f"<p><b>What the theory predicts.</b> {_text(p.prediction)}</p>"
        f"<p style='margin-left:12px'><i>{'<br>'.join(_text(part) for part in p.formula.split(';  '))}</i></p>"
        f"<p><b>The plots</b></p><ul>{plots}</ul>"
        f"<p><b>References</b></p><ul>{refs}</ul>"
    )


class GuidePanel(QWidget):
    """The guide's pages; "Run" buttons emit :attr:`presetRequested` with the preset's file name."""

    presetRequested = Signal(str)
    pageShown = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pages = {p.id: p for p in PAGES}
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(20)
        for p in PAGES:
            self.combo.addItem(p.question, p.id)
            self.combo.setItemData(self.combo.count() - 1, p.question, Qt.ItemDataRole.ToolTipRole)
        self.previous_button, self.next_button = QToolButton(), QToolButton()
        for button, arrow, tip in ((self.previous_button, Qt.ArrowType.LeftArrow, "Previous question"),
                                   (self.next_button, Qt.ArrowType.RightArrow, "Next question")):
            button.setArrowType(arrow)
            button.setToolTip(tip)
            button.setAutoRaise(True)
        self.previous_button.clicked.connect(lambda: self._on_step(-1))
        self.next_button.clicked.connect(lambda: self._on_step(1))
        top = QHBoxLayout()
        top.addWidget(self.previous_button)
        top.addWidget(self.combo, 1)
        top.addWidget(self.next_button)

        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.run_buttons: list[QPushButton] = []
        self.buttons_layout = QVBoxLayout()
        self.buttons_layout.setSpacing(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)
        layout.addLayout(self.buttons_layout)
        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self._render(PAGES[0])

    def current_page(self) -> str:
        return self.combo.currentData()

    def show_page(self, page_id: str) -> None:
        """Shows the page ``page_id``; an unknown id is a ValueError that lists the known ones."""
        page(page_id)  # raises for an unknown id
        index = self.combo.findData(page_id)
        if index == self.combo.currentIndex():
            self._render(self.pages[page_id])
        else:
            self.combo.setCurrentIndex(index)  # renders through _on_combo_changed

    def _on_step(self, delta: int) -> None:
        self.combo.setCurrentIndex((self.combo.currentIndex() + delta) % self.combo.count())

    def _on_combo_changed(self, index: int) -> None:
        self._render(self.pages[self.combo.itemData(index)])

    def _render(self, p: GuidePage) -> None:
        self.browser.setHtml(page_html(p))
        for button in self.run_buttons:
            self.buttons_layout.removeWidget(button)
            button.deleteLater()
        self.run_buttons = []
        for preset in p.presets:
            button = QPushButton(preset.label)
            button.setProperty("preset", preset.file)
            if preset_exists(preset.file):
                button.setToolTip(f"{preset_description(preset.file)}\n(resources/presets/{preset.file})")
                button.clicked.connect(lambda _=False, name=preset.file: self.presetRequested.emit(name))
            else:
                button.setEnabled(False)
                button.setToolTip(f"{preset.file} is not installed with this version of NTK Lab.")
            self.buttons_layout.addWidget(button)
            self.run_buttons.append(button)
        self.pageShown.emit(p.id)


def plot_help_button(plot_key: str, parent=None) -> QToolButton:
    """A small "?" button for a plot: its tooltip is the plot's help; a click shows the same at once."""
    text = plot_help_html(plot_key)
    button = QToolButton(parent)
    button.setText("?")
    button.setAutoRaise(True)
    button.setToolTip(text)
    button.setAccessibleName(f"What is this plot? ({PLOT_HELP[plot_key].title})")
    button.setProperty("plot_key", plot_key)

    def show():
        QToolTip.showText(button.mapToGlobal(QPoint(0, button.height())), text, button)

    button.clicked.connect(show)
    return button
