"""The Sweep tab in the window (pytest-qt, offscreen): a tiny sweep runs from the tab and draws its
points, resumes from its folder, a click on a point loads that run into the form, Stop and closing
return control quickly, Start and Run sweep exclude each other, bad values and files are named.
Kept cheap: widths 8 and 16, 6 training points, no infinite-width answers (compiles are shared)."""

import csv
import math
import time
from dataclasses import replace

import pytest
from PySide6.QtCore import QPointF, Qt

from ntklab import appinfo
from ntklab.session import ExperimentSpec, load_spec
from ntklab.session.spec import spec_hash
from ntklab.ui.params import apply_spec, spec_from_params

TINY = ExperimentSpec().with_changes(data={"n_train": 6, "n_test": 10},
                                     train={"steps": 20, "learning_rate": 0.1},
                                     infinite={"enabled": False}, spectra={"enabled": False})
LONG = TINY.with_changes(train={"steps": 10**7})


def _set_up(w, spec, values="8, 16", seeds=2, out=""):
    apply_spec(w.params, spec)
    t = w.sweep_tab
    t.set_field("model.width")
    t.values_edit.setText(values)
    t.seeds_spin.setValue(seeds)
    t.folder_edit.setText(str(out))
    return t


def _click(qtbot, panel, point) -> None:
    """A mouse click on ``point``'s dot in the parameter-change plot (its axes log or linear)."""
    measure = panel.plots["param_change"]
    xy = [math.log10(v) if log else v for v, log in zip((point.value, point.fields["param_change"]), measure.log)]
    plot = measure.widget
    pos = plot.getPlotItem().vb.mapViewToScene(QPointF(*xy))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=plot.mapFromScene(pos))


def test_tiny_sweep_runs_from_the_tab_resumes_and_a_click_loads_its_run(window, qtbot, tmp_path):
    w, c = window
    out = tmp_path / "out"
    t = _set_up(w, TINY, out=out)
    with qtbot.waitSignal(c.sweep.sweepFinished, timeout=180_000):
        t.run_button.click()
        assert c.sweep.running and not w.start_button.isEnabled() and t.stop_button.isEnabled()
        assert not c.start()  # one computation at a time
    panel = t.panel
    assert w.banner.text() == "", w.banner.text()
    assert sorted((p.value, p.seed) for p in panel.points) == [(8, 0), (8, 1), (16, 0), (16, 1)]
    assert panel.progress.value() == panel.progress.maximum() == 4
    assert w.state_label.text() == f"sweep finished: 4 points in {out}"
    scatter = panel.plots["param_change"].items[0]  # every run, clickable
    assert len(scatter.getData()[0]) == 4
    with open(out / "points.csv", encoding="utf-8") as f:
        assert [(r["model.width"], r["seed"]) for r in csv.DictReader(f)] == [("8", "0"), ("8", "1"), ("16", "0"),
                                                                             ("16", "1")]
    assert (out / "summary.json").exists() and (out / "sweep.png").stat().st_size > 10_000
    assert w.start_button.isEnabled() and t.run_button.isEnabled() and not t.stop_button.isEnabled()

    target = next(p for p in panel.points if (p.value, p.seed) == (16, 1))
    qtbot.wait(50)
    _click(qtbot, panel, target)
    form = spec_from_params(w.params)
    assert form == target.spec and form.model.width == 16 and form.train.seed == 1
    assert "model.width = 16, seed 1" in t.note.text()

    apply_spec(w.params, TINY)  # the same sweep again into the same folder: resumed, nothing runs twice
    with qtbot.waitSignal(c.sweep.sweepFinished, timeout=30_000):
        t.run_button.click()
    assert "Resuming: 4 of 4 points" in t.note.text() and len(panel.points) == 4
    with open(out / "points.csv", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == 4


def _wait_training(qtbot, w, c):
    qtbot.waitUntil(lambda: "training" in w.state_label.text(), timeout=180_000)


@pytest.mark.timing
def test_stop_mid_sweep_returns_control_and_close_ends_it(window, qtbot):
    w, c = window
    t = _set_up(w, LONG, seeds=1)
    assert c.sweep.start(), w.banner.text()
    _wait_training(qtbot, w, c)
    started = time.perf_counter()
    t.stop_button.click()
    qtbot.waitUntil(lambda: not c.sweep.running, timeout=2000)
    assert time.perf_counter() - started < 2.0
    assert t.run_button.isEnabled() and w.start_button.isEnabled()
    assert w.state_label.text() == "sweep stopped: 0 of 2 points"

    assert c.sweep.start(), w.banner.text()  # again, and close the window mid-sweep
    _wait_training(qtbot, w, c)
    thread = c.sweep.thread
    started = time.perf_counter()
    w.close()
    assert time.perf_counter() - started < 1.5
    assert thread.isFinished()


def test_single_run_disables_run_sweep(window, qtbot):
    w, c = window
    t = _set_up(w, LONG.with_changes(model={"width": 8}))
    assert c.start(), w.banner.text()
    assert not t.run_button.isEnabled() and "single run" in t.run_button.toolTip()
    assert not c.sweep.start() and "single run is in progress" in t.note.text()
    c.stop()
    qtbot.waitUntil(lambda: not c.running, timeout=5000)
    assert t.run_button.isEnabled() and t.note.text() == ""


BAD_VALUES = {
    "8, abc": ["sweep.values: 'abc' is not valid for width (model.width)", "whole numbers"],
    "8,, 16": ["sweep.values", "empty item", "width (model.width)"],
    "0, 8": ["sweep.values[0]: width (model.width): 0 is not valid"],
}


def test_bad_values_are_a_banner_naming_the_field(window):
    w, c = window
    for values, words in BAD_VALUES.items():
        t = _set_up(w, TINY, values=values)
        t.run_button.click()
        assert not c.sweep.running
        assert all(word in w.banner.text() for word in words), w.banner.text()


def test_a_sweep_file_goes_to_the_tab_and_keeps_its_sweep(window, tmp_path):
    w, c = window
    path = appinfo.resource("presets/sweep_width.toml")
    assert c.sweep_requested(path)
    t, spec = w.sweep_tab, load_spec(path)
    assert w.tabs.currentWidget() is t and t.field() == "model.width" and t.seeds_spin.value() == 3
    assert t.values_edit.text() == "64, 128, 256, 512, 1024, 2048, 4096"
    assert spec_from_params(w.params) == replace(spec, sweep=None)
    assert spec_hash(c.sweep.sweep_spec()) == spec_hash(spec)  # its range kept: a CLI folder resumes here
    t.set_field("data.n_train")
    t.values_edit.setText("8, 16")
    w.tabs.setCurrentIndex(0)
    assert c.open_spec(path)  # File → Open of a sweep file: its experiment to the form, its sweep to the tab
    assert w.tabs.currentWidget() is t and t.values_edit.text() == "64, 128, 256, 512, 1024, 2048, 4096"
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\nfield = "model.widht"\nvalues = [8]\n', encoding="utf-8")
    assert not c.sweep_requested(bad)
    assert "sweep.field: 'model.widht' is not a setting; did you mean" in w.banner.text()


def _compiling(spec, out, report, checkpoint):
    """A sweep stuck in a long compile: it does not look at Stop for 1.5 s."""
    time.sleep(1.5)
    yield from ()


@pytest.mark.timing
def test_a_sweep_stuck_in_a_compile_is_left_behind_and_its_folder_kept_from_a_new_one(window, qtbot, monkeypatch,
                                                                                      tmp_path):
    from ntklab.ui import sweep_controller

    w, c = window
    monkeypatch.setattr(sweep_controller, "run_sweep", _compiling)
    t = _set_up(w, TINY, out=tmp_path / "out")
    assert c.sweep.start()
    thread = c.sweep.thread
    started = time.perf_counter()
    t.stop_button.click()
    qtbot.waitUntil(lambda: t.run_button.isEnabled(), timeout=2000)
    assert time.perf_counter() - started < 1.2 and not thread.isFinished()
    assert not c.sweep.start() and "still ending" in w.banner.text()
    qtbot.waitUntil(thread.isFinished, timeout=5000)
    with qtbot.waitSignal(c.sweep.sweepFinished, timeout=5000):
        assert c.sweep.start()  # the folder is free again


def test_a_width_axis_64_to_4096_in_a_narrow_plot_is_labelled():
    """Preset (a)'s axis in a plot ~240 px wide (four labels' room): 1-2-5 is too dense and two decades
    are not 'good', which left the axis with no label at all; the decades must stay."""
    from ntklab.ui.plots import format_log_tick, log_ticks

    values, digits = log_ticks(math.log10(56), math.log10(4700), 4)
    assert [format_log_tick(v, digits) for v in values] == ["100", "1000"]
