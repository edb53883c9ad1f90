"""The window with pytest-qt, offscreen: tiny runs; what is plotted is checked value by value against
the snapshots (a curve drawn from the wrong field fails), errors shown, clean close."""

import subprocess
import sys

import numpy as np
import pytest

from ntklab.session import ExperimentSpec
from ntklab.ui.app import create_window
from ntklab.ui.params import apply_spec, spec_from_params
from ntklab.ui.plots import FLOOR
from ntklab.ui.spectra import MOTION_CURVES, RATE_CURVES, chosen_modes, mode_rows
from drawn import points_drawn

TINY = ExperimentSpec().with_changes(model={"width": 32}, data={"n_train": 6, "n_test": 10},
                                     train={"steps": 40, "snapshots": 4, "learning_rate": 0.1, "kernel_every": 1})


LOSS_LEGEND = {"mse_train_net": "network train", "mse_test_net": "network test",
               "mse_train_lin": "linearization train", "mse_test_lin": "linearization test",
               "mse_train_ntk": "NTK ∞ train", "mse_test_ntk": "NTK ∞ test"}
DRIFT_LEGEND = {"param_change": "‖θ−θ₀‖/‖θ₀‖", "kernel_change": "‖Θ̂−Θ̂₀‖_F/‖Θ̂₀‖_F",
                "lin_gap": "RMS(f − f_lin) on grid"}


def _same(item, x, y) -> None:
    """The curve ``item`` draws exactly (x, y)."""
    assert points_drawn(item) == len(x), (item.name(), points_drawn(item), len(x))
    np.testing.assert_allclose(item.xData, x, rtol=1e-12)
    np.testing.assert_allclose(item.yData, y, rtol=1e-12)


def _series(record, field):
    """What a log-y series plot must draw of ``field``: its positive finite values over the steps."""
    steps, y = record.scalars["step"], record.scalars[field]
    keep = np.isfinite(y) & (y > 0)
    return steps[keep], y[keep]


def test_form_round_trips_a_spec(window):
    w, _ = window
    spec = TINY.with_changes(model={"activation": "leaky_relu", "activation_params": {"alpha": 0.2}})
    apply_spec(w.params, spec)
    assert spec_from_params(w.params) == spec


def test_tiny_run_plots_the_snapshots_values(window, qtbot):
    """Every curve of the training tab is its own snapshot field (value by value)."""
    w, c = window
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        assert c.start(TINY)
    snaps = c.snapshots
    assert [s.step for s in snaps] == [0, 10, 20, 30, 40]
    last, data = snaps[-1], snaps[-1].data
    x = data.x_grid[:, 0]
    fit = w.fit_plot
    _same(fit.net, x, last.f_grid_net)
    _same(fit.lin, x, last.f_grid_lin)
    _same(fit.ntk, x, last.f_grid_ntk)
    _same(fit.target, x, data.y_grid)
    _same(fit.points, data.x_train[:, 0], data.y_train)
    mean, std = last.infinite.nngp_mean, last.infinite.nngp_std
    _same(fit.nngp, x, mean)
    _same(fit.nngp_upper, x, mean + 2 * std)
    _same(fit.nngp_lower, x, mean - 2 * std)
    assert fit.nngp_band.isVisible()
    for plot, legend in ((w.loss_plot, LOSS_LEGEND), (w.drift_plot, DRIFT_LEGEND)):
        assert set(plot.curves) == set(legend)
        for field, name in legend.items():  # the curve named so in the legend draws this field
            _same(plot.curves[field], *_series(c.record, field))
            assert plot.curves[field].name() == name
    assert not (np.allclose(last.f_grid_net, last.f_grid_lin))  # the checks above tell the two apart
    assert w.state_label.text() == "finished"
    assert "40 / 40" in w.step_label.text()
    assert float(w.params.child("train", "eta_crit").value()) == pytest.approx(snaps[0].eta_crit, rel=1e-3)
    assert w.start_button.isEnabled() and not w.stop_button.isEnabled()


def test_tiny_run_spectra_views_plot_the_snapshots_values(window, qtbot):
    w, c = window
    w.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        assert c.start(TINY)
    views, snaps = w.spectra.views, c.snapshots
    run, last = snaps[0].run_spectra, c.record.last
    n = TINY.data.n_train
    index = np.arange(1, n + 1)
    for key, values in (("ntk0", run.eig_ntk0), ("ntk_t", last.spectra.eigvals), ("ntk_inf", run.eig_ntk_inf),
                        ("nngp_inf", run.eig_nngp_inf)):
        keep = values > 0
        _same(views["eigen"].curves[key], index[keep], values[keep])
    assert "λ_max" in views["eigen"].numbers.text() and "NNGP" in views["eigen"].numbers.text()
    for key, energy in (("ntk0", run.energy_ntk0), ("ntk_t", last.spectra.energy), ("ntk_inf", run.energy_ntk_inf)):
        _same(views["energy"].curves[key], index, energy)
    assert f"{run.alignment_ntk0:.3f}" in views["energy"].numbers.text()
    functions = views["functions"].items
    assert len(functions) >= 1
    for i, item in enumerate(functions):
        _same(item, snaps[0].data.x_grid[:, 0], run.eigenfunctions[i])
    residuals = np.abs(np.stack([s.mode_residual for s in snaps]))  # (snapshots, n)
    expected = np.log10(np.maximum(residuals[:, mode_rows(n)].T, FLOOR))
    np.testing.assert_allclose(views["modes"].image.image, expected, rtol=1e-12)
    steps = np.array([s.step for s in snaps])
    for k, i in enumerate(chosen_modes(n)):
        _same(views["mode_curves"].items[k][0], steps, np.maximum(residuals[:, i], FLOOR))
    for name, curves in (("rate", RATE_CURVES), ("motion", MOTION_CURVES)):
        for field, *_ in curves:
            _same(views[name].curves[field], *_series(c.record, field))
    np.testing.assert_array_equal(views["kernel"].image.image, last.spectra.kernel_image)
    np.testing.assert_array_equal(views["kernel_change"].image.image, last.spectra.kernel_change_image)
    w.params.child("show", "by_trace").setValue(True)
    c.redraw_all()
    _same(views["eigen"].curves["ntk0"], index[run.eig_ntk0 > 0],
          (run.eig_ntk0 / run.eig_ntk0.sum())[run.eig_ntk0 > 0])


def test_stability_warning_before_a_run(window, qtbot):
    w, c = window
    row = w.params.child("train", "eta_crit")
    w.params.child("train", "learning_rate").setValue(50.0)
    qtbot.waitUntil(lambda: row.value()[:1].isdigit(), timeout=60_000)
    eta = float(row.value().split()[0])
    assert eta < 50 and "⚠" in row.value()
    assert not w.banner.isHidden() and "above η_crit" in w.banner.text()
    assert "learning rate (train.learning_rate)" in w.banner.text()  # the form's label beside the key
    w.params.child("train", "learning_rate").setValue(eta / 2)
    assert w.banner.isHidden() and "⚠" not in row.value()


def test_diverging_run_shows_the_steps_made_and_the_app_stays_usable(window, qtbot):
    """η far above η_crit: the steps before the divergence are on the loss plot; the status never
    says "running" after the failure; the next run starts clean."""
    w, c = window
    states = []
    original = w.state_label.setText
    w.state_label.setText = lambda text: (states.append(text), original(text))[1]
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        c.start(TINY.with_changes(train={"learning_rate": 50.0}))
    assert not w.banner.isHidden() and "stability limit" in w.banner.text()
    steps = [s.step for s in c.snapshots]
    assert len(steps) >= 2 and steps == sorted(steps)
    _same(w.loss_plot.curves["mse_train_net"], *_series(c.record, "mse_train_net"))
    failed = states.index("stopped with an error")
    assert "running" not in states[failed:]
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        assert c.start(TINY)
    assert w.banner.isHidden() and c.snapshots[-1].step == 40
    assert w.state_label.text() == "finished"  # the earlier failure does not stick


def test_bad_form_value_is_named(window):
    w, c = window
    w.params.child("data", "x_min").setValue(3.0)
    assert "x max (data.x_max)" in w.banner.text() and not w.banner.isHidden()  # at once, before Start
    assert not c.start()
    assert "data.x_max" in w.banner.text() and not c.running
    w.params.child("data", "x_max").setValue(5.0)
    assert w.banner.isHidden()  # the setting is fixed: the banner goes


@pytest.mark.timing
def test_pause_takes_effect_within_half_a_second_and_stop(window, qtbot):
    import time

    w, c = window
    c.start(TINY.with_changes(train={"steps": 10**7, "snapshots": 100_000, "kernel_every": 100}))
    qtbot.waitUntil(lambda: w.state_label.text() == "running" and c.latest is not None, timeout=60_000)
    worker = c.worker
    w.pause_button.click()
    started = time.perf_counter()
    qtbot.waitUntil(lambda: worker.held, timeout=2_000)
    held_after = time.perf_counter() - started
    assert held_after < 0.5, held_after
    assert w.pause_button.text() == "Resume" and w.state_label.text() == "paused"
    qtbot.wait(100)
    step = c.latest.step
    qtbot.wait(500)
    assert worker.held and c.latest.step == step  # nothing computed while paused
    w.pause_button.click()
    qtbot.waitUntil(lambda: c.latest.step > step, timeout=30_000)
    with qtbot.waitSignal(c.runFinished, timeout=30_000):
        w.stop_button.click()
    assert c.latest.step < 10**7 and "stopped at step" in w.state_label.text()


def test_compiling_is_shown_only_while_compiling(window, qtbot):
    w, c = window
    states = []
    original = w.state_label.setText
    w.state_label.setText = lambda text: (states.append(text), original(text))[1]
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        c.start(TINY.with_changes(train={"steps": 3000, "snapshots": 30}))
    assert "compiling…" in states and "running" in states and states[-1] == "finished"
    first_running = states.index("running")
    assert "compiling…" not in states[first_running:]  # one chunk function: compiled once
    assert states.index("compiling…") < first_running


def test_settings_notice_stays_during_the_run(window, qtbot):
    w, c = window
    c.start(TINY.with_changes(train={"steps": 10**7, "snapshots": 10_000}))
    qtbot.waitUntil(lambda: w.state_label.text() == "running", timeout=60_000)
    w.params.child("train", "learning_rate").setValue(0.05)
    for _ in range(5):  # progress reports (10 a second) and redraws (30 a second) come and go
        qtbot.wait(150)
        assert "apply at the next Start" in w.state_label.text()
    with qtbot.waitSignal(c.runFinished, timeout=30_000):
        c.stop()
    assert "apply at the next Start" not in w.state_label.text()


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


def _app(*args, timeout=120):
    import os

    return subprocess.run([sys.executable, "-m", "ntklab", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def test_screenshot_with_steps_0_is_one_line_error(tmp_path):
    proc = _app("--screenshot", str(tmp_path / "x.png"), "--steps", "0")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "--steps 0" in errors[0] and "1 to" in errors[0]
    assert not (tmp_path / "x.png").exists()


def test_screenshot_with_a_bad_config_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nwidth = -3\n")
    proc = _app("--config", str(bad), "--screenshot", str(tmp_path / "x.png"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "bad.toml" in errors[0] and "model.width" in errors[0]


def test_bad_config_opens_the_window_with_a_banner(qtbot, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe[\x00m\x00")  # UTF-16
    window, controller = create_window(config=str(bad))
    qtbot.addWidget(window)
    assert not window.banner.isHidden() and "UTF-8" in window.banner.text()
    assert spec_from_params(window.params) == ExperimentSpec()  # the form keeps its defaults
    controller.shutdown()


def test_ctrl_c_closes_the_app(tmp_path):
    """SIGINT (Ctrl+C in the terminal) closes the window, stops the run and exits with code 0."""
    import os
    import signal
    import time

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
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
