"""The guide and the desktop habits in the window: the guide's dock (first launch, F1, Help → Guide), Run
this loads a preset and starts it, Space / Esc on that run, a sweep preset goes to the Sweep tab's hook,
File → Presets, the title with the file and its "*", each plot's "?" and PNG/SVG/CSV exports, the whole
window as PNG 2× and SVG, recent files and the window's state remembered (QSettings round trip), the
form's numbers readable in full.

One window serves the module (each window costs a second or more to build); the QSettings of each
window here is an ini file of its own under a temporary folder.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFontMetrics, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

from ntklab.session import load_spec
from ntklab.session.guide import PLOT_HELP, list_presets, load_preset, page
from ntklab.ui.controller import Controller
from ntklab.ui.exports import IMAGE_SCALE, WINDOW_SCALE
from ntklab.ui.main_window import MainWindow
from ntklab.ui.menus import RECENT_COUNT
from ntklab.ui.params import spec_from_params


def _ini(folder, name="settings.ini") -> QSettings:
    return QSettings(str(folder / name), QSettings.Format.IniFormat)


def _open_window(settings) -> tuple[MainWindow, Controller]:
    window = MainWindow(settings)
    controller = Controller(window)
    window.show()
    window.activateWindow()
    QApplication.processEvents()
    return window, controller


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    folder = tmp_path_factory.mktemp("guide_wiring")
    w, c = _open_window(_ini(folder))
    yield w, c
    c.shutdown()
    w.close()
    w.deleteLater()


@pytest.fixture
def save_as(monkeypatch):
    """QFileDialog.getSaveFileName answers the path put in the returned list (its last item)."""
    answers: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (answers[-1], "")))
    return answers


def _key(w, key, modifier=Qt.KeyboardModifier.NoModifier, target=None):
    from pytestqt.qtbot import QtBot

    QtBot.keyClick(target or w, key, modifier)


# --- the guide ------------------------------------------------------------------------------------


def test_first_launch_opens_the_guide_at_its_first_page_and_f1_toggles_it(window, qtbot):
    w, c = window
    assert w.guide_dock.isVisible() and w.guide.current_page() == "start"
    assert w.settings.value("guide/seen", False, type=bool)
    assert w.guide_action in w.menuBar().actions()[-1].menu().actions()  # Help → Guide
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    _key(w, Qt.Key.Key_F1)
    assert not w.guide_dock.isVisible()
    _key(w, Qt.Key.Key_F1)
    assert w.guide_dock.isVisible()
    w.guide_action.trigger()  # Help → Guide
    assert not w.guide_dock.isVisible()
    w.guide_action.trigger()
    assert w.guide_dock.isVisible()


def test_run_this_loads_the_preset_and_starts_it_space_pauses_esc_stops(window, qtbot):
    w, c = window
    w.guide.show_page("linearization")
    button = w.guide.run_buttons[0]
    name = page("linearization").presets[0].file
    assert button.property("preset") == name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert c.running and spec_from_params(w.params) == load_preset(name)
    assert c.spec == load_preset(name) and w.windowTitle() == f"NTK Lab — {name}"
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    _key(w, Qt.Key.Key_Space)
    assert c.worker.paused and w.pause_button.text() == "Resume"
    _key(w, Qt.Key.Key_Space)
    assert not c.worker.paused
    with qtbot.waitSignal(c.runFinished, timeout=5000):
        _key(w, Qt.Key.Key_Escape)
    assert not c.running
    _key(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Ctrl+R: Reset
    assert c.latest is None and w.state_label.text() == "ready"


def test_space_in_a_text_field_types_a_space(window, qtbot, monkeypatch):
    w, c = window
    started = []
    monkeypatch.setattr(c, "start", lambda *a: started.append(a))
    editor = QLineEdit(w.guide)  # any text field of the window
    editor.show()
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    qtbot.keyClicks(editor, "a b")
    assert editor.text() == "a b" and started == []
    w.tree.setFocus()  # elsewhere, Space starts
    _key(w.tree, Qt.Key.Key_Space, target=w.tree)
    assert started == [()]
    editor.deleteLater()


def test_a_sweep_preset_goes_to_the_sweep_tab_or_says_where_it_runs(window):
    w, c = window
    sweep = next(p.name for p in list_presets() if p.sweep)
    before = spec_from_params(w.params)
    tab_load, c.sweep_requested = c.sweep_requested, None  # no Sweep tab: the banner says where it runs
    try:
        assert not c.run_preset(sweep)
        assert "sweep presets run from the Sweep tab" in w.banner.text() and not c.running
        asked = []
        c.sweep_requested = asked.append
        assert c.run_preset(sweep)
    finally:
        c.sweep_requested = tab_load
    assert [p.name for p in asked] == [sweep] and spec_from_params(w.params) == before  # the form is kept


def test_a_sweep_file_opens_as_its_base_experiment(window, tmp_path):
    """apply_spec leaves the [sweep] table out of the form."""
    w, c = window
    path = tmp_path / "sweep.toml"
    path.write_text('[model]\nwidth = 48\n\n[sweep]\nfield = "model.width"\nvalues = [32, 64]\n')
    assert c.open_spec(str(path))
    assert spec_from_params(w.params).model.width == 48 and spec_from_params(w.params).sweep is None
    assert w.windowTitle() == "NTK Lab — sweep.toml"


# --- presets menu and title -----------------------------------------------------------------------


def test_presets_menu_lists_every_preset_with_its_description(window):
    w, c = window
    actions = {a.data(): a for a in w.presets_menu.actions()}
    presets = list_presets()
    assert list(actions) == [p.name for p in presets]
    for p in presets:
        assert p.description and actions[p.name].toolTip().startswith(p.description)
        assert actions[p.name].statusTip() == actions[p.name].toolTip()
    single = next(p.name for p in presets if not p.sweep and p.name != "default.toml")
    actions[single].trigger()  # loads, does not start
    assert not c.running and spec_from_params(w.params) == load_preset(single)
    assert w.windowTitle() == f"NTK Lab — {single}"


def test_title_names_the_file_and_a_star_while_the_form_differs(window, tmp_path, save_as):
    w, c = window
    path = tmp_path / "mine.toml"
    path.write_text("[model]\nwidth = 40\n")
    assert c.open_spec(str(path))
    assert w.windowTitle() == "NTK Lab — mine.toml"
    width = w.params.child("model", "width")
    width.setValue(41)
    assert w.windowTitle() == "NTK Lab — mine.toml*"
    width.setValue(40)  # back to the file's value: the same spec, no star
    assert w.windowTitle() == "NTK Lab — mine.toml"
    width.setValue(44)
    save_as.append(str(tmp_path / "saved.toml"))
    w.save_action.trigger()
    assert w.windowTitle() == "NTK Lab — saved.toml" and load_spec(tmp_path / "saved.toml").model.width == 44


# --- plots: help and exports ------------------------------------------------------------------------


def test_every_plot_has_a_help_and_export_corner(window):
    w, c = window
    assert set(w.plot_corners) == set(PLOT_HELP)  # the training, spectra and sweep plots
    for key, corner in w.plot_corners.items():
        assert corner.help_button.property("plot_key") == key
        assert PLOT_HELP[key].title in corner.help_button.toolTip()
    corner = w.plot_corners["loss"]
    vb = w.loss_plot.plot.getPlotItem().getViewBox()
    assert corner.menu.menuAction() in vb.menu.actions()  # right-click → Export this plot
    assert w.loss_plot.plot.scene().contextMenu[0].text() == "Export..."  # and pyqtgraph's own dialog


def test_plot_exports_write_png_svg_and_csv_that_parse(window, tmp_path, save_as):
    w, c = window
    w.tabs.setCurrentIndex(0)
    c._on_reset_clicked()  # the form's data drawn in the fit plot: target and training points
    c._preview_data()
    corner = w.plot_corners["fit"]
    view = corner.view()
    for fmt in ("png", "svg", "csv"):
        save_as.append(str(tmp_path / f"fit.{fmt}"))
        corner.actions_by_format[fmt].trigger()
        assert w.statusBar().currentMessage() == f"Saved the figure to {tmp_path / f'fit.{fmt}'}", w.banner.text()
    image = QImage(str(tmp_path / "fit.png"))
    assert image.width() == IMAGE_SCALE * view.width()
    assert ET.parse(tmp_path / "fit.svg").getroot().tag.endswith("svg")
    with open(tmp_path / "fit.csv", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert {"target_x", "target_y", "training points_x", "training points_y"} <= set(header)
    n_train = spec_from_params(w.params).data.n_train
    column = header.index("training points_y")
    values = [float(r[column]) for r in rows[1:] if r[column] != ""]
    assert len(values) == n_train


def test_a_heatmap_has_no_csv_and_says_where_its_values_are(window, tmp_path, save_as):
    w, c = window
    corner = w.plot_corners["kernel"]
    corner.menu.aboutToShow.emit()
    assert not corner.actions_by_format["csv"].isEnabled()
    save_as.append(str(tmp_path / "kernel.csv"))
    corner.actions_by_format["csv"].setEnabled(True)
    corner.actions_by_format["csv"].trigger()
    assert "no curves" in w.banner.text() and "Export run data" in w.banner.text()
    assert not (tmp_path / "kernel.csv").exists()


def test_export_figure_writes_the_window_as_png_at_2x_and_svg(window, tmp_path, save_as):
    w, c = window
    save_as.append(str(tmp_path / "window.png"))
    w.figure_action.trigger()
    image = QImage(str(tmp_path / "window.png"))
    assert (image.width(), image.height()) == (WINDOW_SCALE * w.width(), WINDOW_SCALE * w.height())
    save_as.append(str(tmp_path / "window.svg"))
    w.figure_action.trigger()
    root = ET.parse(tmp_path / "window.svg").getroot()
    assert root.tag.endswith("svg") and len(list(root.iter())) > 100  # drawn, not an empty page
    assert w.statusBar().currentMessage() == f"Saved the figure to {tmp_path / 'window.svg'}"


# --- settings between launches ------------------------------------------------------------------------


def test_settings_round_trip_geometry_splitter_guide_and_recent_files(qtbot, tmp_path):
    settings = _ini(tmp_path)
    w, c = _open_window(settings)
    qtbot.addWidget(w)
    files = []
    for i in range(RECENT_COUNT + 2):
        files.append(tmp_path / f"e{i}.toml")
        files[-1].write_text(f"[model]\nwidth = {10 + i}\n")
        if i in (0, RECENT_COUNT + 1):  # File → Open lists what it opened
            assert c.open_spec(str(files[-1]))
        else:  # the same list, without a form update (and its η_crit estimate) each
            c.menus.remember(files[-1])
    w.guide_dock.hide()
    QApplication.processEvents()  # the window's minimum width without the guide
    w.resize(760, 540)  # restoreGeometry keeps a window on its screen: offscreen's is 800 × 800
    w.splitter.setSizes([400, 360])
    QApplication.processEvents()
    size, left = (w.width(), w.height()), w.splitter.sizes()[0]
    assert size == (760, 540)
    w.close()
    c.shutdown()
    settings.sync()

    again, c2 = _open_window(_ini(tmp_path))
    qtbot.addWidget(again)
    try:
        assert (again.width(), again.height()) == size
        assert abs(again.splitter.sizes()[0] - left) <= 2
        assert not again.guide_dock.isVisible()  # hidden last time, and not a first launch any more
        recent = [a.text() for a in again.recent_menu.actions() if a.statusTip()]
        assert recent == [f.name for f in files[::-1][:RECENT_COUNT]]
        files[-1].unlink()  # gone since: dropped with a message
        again.recent_menu.aboutToShow.emit()
        assert files[-1].name in again.statusBar().currentMessage()
        assert files[-1].name not in [a.text() for a in again.recent_menu.actions()]
        files[-2].unlink()  # gone between opening the menu and choosing it
        next(a for a in again.recent_menu.actions() if a.text() == files[-2].name).trigger()
        assert "no longer there" in again.banner.text()
        next(a for a in again.recent_menu.actions() if a.text() == files[-3].name).trigger()
        assert spec_from_params(again.params).model.width == 10 + len(files) - 3
    finally:
        c2.shutdown()


def test_screenshot_windows_remember_nothing(qtbot):
    """settings None (--screenshot): no guide at launch, default size, nothing written."""
    w, c = _open_window(None)
    qtbot.addWidget(w)
    try:
        assert not w.guide_dock.isVisible() and (w.width(), w.height()) == (1440, 900)
        assert w.windowTitle() == "NTK Lab"
    finally:
        c.shutdown()


# --- the form ---------------------------------------------------------------------------------------


def test_form_numbers_are_readable_in_full_at_the_default_width(window):
    """Issue 14: "1.4142" and "0.0001" were cut off. Each number row's text fits its label and editor."""
    w, c = window
    w.params.child("model", "w_std").setValue(1.4142135623730951)
    w.params.child("infinite", "nngp_diag_reg").setValue(0.0001)
    w.params.child("train", "learning_rate").setValue(0.0001)
    QApplication.processEvents()
    checked = 0
    for section in ("model", "data", "train", "infinite"):
        for param in w.params.child(section).children():
            if param.type() not in ("float", "int"):
                continue
            for item in list(param.items):
                label = item.displayLabel
                text = label.text()
                if not label.isVisible() or not text:
                    continue
                assert QFontMetrics(label.font()).horizontalAdvance(text) <= label.contentsRect().width(), \
                    (param.name(), text, label.width())
                editor = item.widget
                assert QFontMetrics(editor.font()).horizontalAdvance(editor.text()) <= editor.width() - 4, \
                    (param.name(), editor.text(), editor.width())
                checked += 1
    assert checked >= 10
    w_std, reg = (next(iter(w.params.child(*key).items)).displayLabel.text()
                  for key in (("model", "w_std"), ("infinite", "nngp_diag_reg")))
    assert w_std.startswith("1.4142") and reg == "0.0001"
