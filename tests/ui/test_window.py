"""The window with pytest-qt, offscreen: tiny runs, plots filled, errors shown, clean close."""

import subprocess
import sys

import pytest

from ntklab.session import ExperimentSpec
from ntklab.ui.app import create_window
from ntklab.ui.params import apply_spec, spec_from_params

TINY = ExperimentSpec().with_changes(model={"width": 32}, data={"n_train": 6, "n_test": 10},
                                     train={"steps": 40, "snapshots": 4, "learning_rate": 0.1, "kernel_every": 1})


@pytest.fixture
def window(qtbot):
    window, controller = create_window()
    qtbot.addWidget(window)
    window.show()
    yield window, controller
    controller.shutdown()


def test_form_round_trips_a_spec(window):
    w, _ = window
    spec = TINY.with_changes(model={"activation": "leaky_relu", "activation_params": {"alpha": 0.2}})
    apply_spec(w.params, spec)
    assert spec_from_params(w.params) == spec


def test_tiny_run_fills_the_plots(window, qtbot):
    w, c = window
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        assert c.start(TINY)
    assert [s.step for s in c.snapshots] == [0, 10, 20, 30, 40]
    x, y = w.fit_plot.net.getData()
    assert len(x) == 200 and len(w.fit_plot.ntk.getData()[0]) == 200
    assert len(w.fit_plot.points.getData()[0]) == 6
    for plot in (w.loss_plot, w.drift_plot):
        assert all(len(item.getData()[0] if item.getData()[0] is not None else []) >= 4
                   for item in plot.curves.values())
    assert w.state_label.text() == "finished"
    assert "40 / 40" in w.step_label.text()
    assert float(w.params.child("train", "eta_crit").value()) == pytest.approx(c.snapshots[0].eta_crit, rel=1e-3)
    assert w.start_button.isEnabled() and not w.stop_button.isEnabled()


def _points(item) -> int:
    x = item.getData()[0]
    return 0 if x is None else len(x)


def test_tiny_run_fills_the_spectra_panel(window, qtbot):
    w, c = window
    w.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        assert c.start(TINY)
    views = w.spectra.views
    n, snapshots = TINY.data.n_train, len(c.snapshots)
    assert all(_points(item) >= n - 2 for item in views["eigen"].curves.values())  # λ ≤ 0 is left out
    assert "λ_max" in views["eigen"].numbers.text() and "NNGP" in views["eigen"].numbers.text()
    assert views["modes"].image.image.shape == (160, snapshots)  # rows uniform in log(mode)
    assert views["mode_curves"].items and all(_points(m) == snapshots for m, _ in views["mode_curves"].items)
    assert all(_points(item) >= 3 for item in views["rate"].curves.values())
    assert all(_points(item) == n for item in views["energy"].curves.values())
    assert "alignment" in views["energy"].numbers.text()
    assert len(views["functions"].items) == 4 and all(_points(i) == 200 for i in views["functions"].items)
    assert _points(views["motion"].curves["kernel_change"]) == snapshots - 1  # step 0's zero is not on a log axis
    assert _points(views["motion"].curves["kernel_velocity"]) >= 3
    assert views["kernel"].image.image.shape == views["kernel_change"].image.image.shape == (n, n)
    w.params.child("show", "by_trace").setValue(True)
    c.redraw_all()
    assert views["eigen"].curves["ntk0"].getData()[1].max() < 1  # λ/tr(Θ̂₀)


def test_stability_warning_before_a_run(window, qtbot):
    w, c = window
    row = w.params.child("train", "eta_crit")
    w.params.child("train", "learning_rate").setValue(50.0)
    qtbot.waitUntil(lambda: row.value()[:1].isdigit(), timeout=60_000)
    eta = float(row.value().split()[0])
    assert eta < 50 and "⚠" in row.value()
    assert not w.banner.isHidden() and "above η_crit" in w.banner.text()
    w.params.child("train", "learning_rate").setValue(eta / 2)
    assert w.banner.isHidden() and "⚠" not in row.value()


def test_diverging_run_shows_message_and_app_stays_usable(window, qtbot):
    w, c = window
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        c.start(TINY.with_changes(train={"learning_rate": 50.0}))
    assert not w.banner.isHidden() and "stability limit" in w.banner.text()
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        assert c.start(TINY)
    assert w.banner.isHidden() and c.snapshots[-1].step == 40
    assert w.state_label.text() == "finished"  # the earlier failure does not stick


def test_bad_form_value_is_named(window):
    w, c = window
    w.params.child("data", "x_min").setValue(3.0)
    assert not c.start()
    assert "data.x_max" in w.banner.text() and not c.running


def test_pause_resume_stop(window, qtbot):
    w, c = window
    long = TINY.with_changes(train={"steps": 200_000, "snapshots": 2000})
    c.start(long)
    qtbot.waitUntil(lambda: len(c.snapshots) >= 2, timeout=60_000)
    w.pause_button.click()
    assert w.pause_button.text() == "Resume"
    qtbot.wait(300)
    count = len(c.snapshots)
    qtbot.wait(300)
    assert len(c.snapshots) <= count + 1  # at most the snapshot in flight arrives while paused
    w.pause_button.click()
    qtbot.waitUntil(lambda: len(c.snapshots) > count + 1, timeout=30_000)
    with qtbot.waitSignal(c.runFinished, timeout=30_000):
        w.stop_button.click()
    assert c.snapshots[-1].step < 200_000 and "stopped at step" in w.state_label.text()


def test_close_mid_run_exits_cleanly(qtbot):
    window, controller = create_window()
    qtbot.addWidget(window)
    window.show()
    controller.start(TINY.with_changes(train={"steps": 200_000, "snapshots": 2000}))
    qtbot.waitUntil(lambda: len(controller.snapshots) >= 1, timeout=60_000)
    window.close()
    assert controller.thread is None or controller.thread.isFinished()


def test_screenshot_command(tmp_path):
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-m", "ntklab", "--screenshot", str(out), "--steps", "20"],
                          capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 20_000 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ctrl_c_closes_the_app():
    """SIGINT (Ctrl+C in the terminal) closes the window, stops the run and exits with code 0."""
    import os
    import signal
    import time

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with subprocess.Popen([sys.executable, "-m", "ntklab"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env) as proc:
        time.sleep(6)  # the window is up (imports, first layout)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err
