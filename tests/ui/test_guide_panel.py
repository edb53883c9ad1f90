"""The Guide panel shows every page and its Run buttons emit the right preset; the plots' "?" help
covers every plot of the window, and only real plots."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolTip

from ntklab.session.guide import PAGES, PLOT_HELP, page, preset_exists
from ntklab.ui.guide import GuidePanel, page_html, plot_help_button, plot_help_html


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def panel(qtbot):
    widget = GuidePanel()
    qtbot.addWidget(widget)
    widget.resize(420, 700)
    widget.show()
    return widget


def test_the_panel_shows_every_page(panel, qtbot):
    assert panel.combo.count() == len(PAGES)
    for p in PAGES:
        with qtbot.waitSignal(panel.pageShown, timeout=1000) as shown:
            panel.show_page(p.id)
        assert shown.args == [p.id] and panel.current_page() == p.id
        text = _words(panel.browser.toPlainText())
        for part in (p.question, p.look_at, p.prediction, *p.formula.split(";  "), *(r.title for r in p.references),
                     *(PLOT_HELP[k].title for k in p.plots)):
            assert _words(part) in text, (p.id, part)
        assert [b.text() for b in panel.run_buttons] == [b.label for b in p.presets]
        assert [b.property("preset") for b in panel.run_buttons] == [b.file for b in p.presets]
        qtbot.waitUntil(lambda: all(b.isVisible() for b in panel.run_buttons), timeout=1000)
    with pytest.raises(ValueError, match="page: 'nope' is not a guide page"):
        panel.show_page("nope")


def test_the_arrows_step_through_the_questions(panel, qtbot):
    panel.show_page(PAGES[0].id)
    panel.next_button.click()
    assert panel.current_page() == PAGES[1].id
    panel.previous_button.click()
    panel.previous_button.click()
    assert panel.current_page() == PAGES[-1].id  # wraps around


@pytest.mark.parametrize("page_id, index", [("linearization", 1), ("edge_of_stability", 2), ("lazy_vs_rich", 3)])
def test_run_this_emits_the_presets_name(panel, qtbot, page_id, index):
    panel.show_page(page_id)
    expected = next(p for p in PAGES if p.id == page_id).presets[index].file
    button = panel.run_buttons[index]
    assert button.isEnabled() and "resources/presets/" + expected in button.toolTip()
    with qtbot.waitSignal(panel.presetRequested, timeout=1000) as emitted:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert emitted.args == [expected]


def test_a_preset_not_installed_is_a_disabled_button_that_says_so(panel, qtbot):
    """The sweep presets come with the sweeps; until then their buttons say why they do nothing."""
    panel.show_page("kernel_motion")
    button = next(b for b in panel.run_buttons if b.property("preset") == "sweep_width.toml")
    if preset_exists("sweep_width.toml"):
        assert button.isEnabled()
    else:
        assert not button.isEnabled() and "sweep_width.toml is not installed" in button.toolTip()
        with qtbot.assertNotEmitted(panel.presetRequested):
            button.click()


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the offscreen platform, showing a tooltip
@pytest.mark.parametrize("key", list(PLOT_HELP))
def test_plot_help_button_shows_the_plots_help(qtbot, key):
    button = plot_help_button(key)
    qtbot.addWidget(button)
    button.show()
    help_ = PLOT_HELP[key]
    assert button.text() == "?" and button.toolTip() == plot_help_html(key)
    assert help_.title in button.toolTip() and help_.answers.split(" ")[0] in button.toolTip()
    button.click()
    qtbot.waitUntil(QToolTip.isVisible, timeout=1000)
    assert QToolTip.text() == plot_help_html(key)
    QToolTip.hideText()


def test_text_is_escaped_not_read_as_tags(panel):
    """'η < η_crit' in a formula must reach the reader as written."""
    assert "η < η_crit" in page("linearization").formula
    assert "η &lt; η_crit" in page_html(page("linearization"))
    panel.show_page("linearization")
    assert "η < η_crit" in panel.browser.toPlainText()


# --- every PLOT_HELP key names a plot of the window, and every plot has help ------------------------------


def _spectra_views() -> set[str]:
    from ntklab.ui.spectra import SpectraPanel

    return {name for row in SpectraPanel.LAYOUT for name in row}


def _training_views() -> set[str]:
    from ntklab.ui.controller import TRAINING_VIEWS

    return set(TRAINING_VIEWS)


def test_every_plot_of_the_window_has_help():
    assert _spectra_views() | _training_views() <= set(PLOT_HELP)


@pytest.mark.parametrize("key", list(PLOT_HELP))
def test_every_help_key_names_a_real_plot(key):
    if key.startswith("sweep_"):
        sweep = pytest.importorskip("ntklab.ui.sweep", reason="the Sweep tab (ntklab/ui/sweep.py) is not here yet")
        assert key.removeprefix("sweep_") in {entry[0] for entry in sweep.PLOTS}
        return
    if PLOT_HELP[key].tab == "Spectra":
        assert key in _spectra_views()
        return
    if key == "features" and key not in _training_views():
        pytest.skip("the feature-movement plot is not in the window yet (views branch; "
                    "TRAINING_VIEWS must name it 'features')")
    assert key in _training_views()


def test_sweep_help_covers_every_sweep_plot():
    sweep = pytest.importorskip("ntklab.ui.sweep", reason="the Sweep tab (ntklab/ui/sweep.py) is not here yet")
    assert {f"sweep_{entry[0]}" for entry in sweep.PLOTS} == {k for k in PLOT_HELP if k.startswith("sweep_")}
