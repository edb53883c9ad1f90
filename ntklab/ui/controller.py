"""All wiring in one place: widget edits → specs, worker signals → plots, ~30 Hz redraws."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import jax
import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ntklab.session import (
    Experiment,
    OutputError,
    RunRecord,
    SpecError,
    check_resources,
    critical_rate,
    load_spec,
    save_spec,
    write_run,
)
from ntklab.session.atomic import RUN_FILES
from ntklab.session.datasets import build_dataset
from ntklab.ui.about import AboutDialog
from ntklab.ui.params import apply_spec, label_keys, shown, spec_from_params, update_visibility
from ntklab.ui.plots import DRIFT_CURVES, LOSS_CURVES, History
from ntklab.ui.spectra import MOTION_CURVES, RATE_CURVES, kernel_errors, sphere_spectrum
from ntklab.ui.worker import RunWorker, start_in_thread

REDRAW_MS = 33  # at most ~30 redraws a second
MAX_REDRAW_MS = 500
GUI_DUTY = 0.10  # redraws (data + paint) may take at most this share of the time: pyqtgraph paints in
# Python with the GIL held, so a busier GUI thread slows training and makes the event loop late
STABILITY_DELAY_MS = 400  # η_crit of the form's settings is estimated this long after the last edit
PREVIEW_DELAY_MS = 150  # the form's data is drawn this long after the last edit (before a run)
STOP_WAIT_MS = 700  # Stop waits this long for the run to end, then leaves it to end in the background
STATUS_MS = 8000  # confirmations in the status bar stay this long
TRAINING_VIEWS = ("fit", "loss", "drift", "features")
LAYER_FIELDS = ["feature_change", "weight_change"]  # one value per layer: the feature plot's history
PHASES = {"preparing": "preparing…", "compiling": "compiling…", "training": "running"}
SETTINGS_NOTE = "settings changed: they apply at the next Start"
LAST_FOLDER_KEY = "files/last_folder"


def _stability_key(spec):
    """What η_crit depends on: the network, the data and the init seed (not the learning rate)."""
    return spec.model, spec.data, spec.train.seed


SHUTDOWN_WAIT_S = 1.0  # closing waits this long for the worker threads, then leaves them


def _estimate(spec, checkpoint):
    eta, _ = critical_rate(spec, should_stop=checkpoint)
    if eta == eta:  # not NaN: not stopped
        yield _stability_key(spec), eta


_RETIRING: set = set()  # threads of runs that were reset or left behind, kept alive until they end


class Controller(QObject):
    """Owns the worker and the window's state; handlers are ``_on_<source>_<event>``.

    The banner says one thing at a time, of one kind: "settings" (the form's values: refused, too
    large, above η_crit; re-checked at every edit and cleared once fixed), "run" (the run failed, a
    kernel is not valid; until the next Start or Reset) or "file" (a file could not be read or written).
    """

    runFinished = Signal()  # after the worker thread has ended (or was left behind) and the plots are drawn

    def __init__(self, window):
        super().__init__()
        self.window = w = window
        self.worker: RunWorker | None = None
        self.thread = None
        self.spec = spec_from_params(w.params)
        self.record = RunRecord()
        self._rate_base = None  # (step, wall_time) of the first snapshot after step 0: steps/s excludes compiling
        fields = [f for f, *_ in LOSS_CURVES + DRIFT_CURVES + RATE_CURVES + MOTION_CURVES] + LAYER_FIELDS
        self.history = History(list(dict.fromkeys(fields)))
        self.latest = None
        self._failed = False  # the current run reported an error
        self._banner_kind: str | None = None  # "settings", "run" or "file" (see the class docstring)
        self._state = "ready"
        self._settings_changed = False  # the form was edited during the run
        self._labels_stale = False  # a snapshot arrived since the status bar was updated
        self._views = {**dict.fromkeys(TRAINING_VIEWS, 0), **dict.fromkeys(w.spectra.views, 1)}  # → tab
        self._order = list(self._views)
        self._stale = dict.fromkeys(self._order, False)
        self._turn = 0
        self._rates: dict = {}  # _stability_key(spec) → η_crit
        self._rate_thread = self._rate_worker = None
        self._sphere_thread = self._sphere_worker = None  # μ_k per frequency/degree of a circle or sphere run
        self._rate_timer = QTimer(self)
        self._rate_timer.setSingleShot(True)
        self._rate_timer.setInterval(STABILITY_DELAY_MS)
        self._rate_timer.timeout.connect(self._on_rate_timer_timeout)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._on_preview_timer_timeout)
        self._stop_timer = QTimer(self)
        self._stop_timer.setSingleShot(True)
        self._stop_timer.setInterval(STOP_WAIT_MS)
        self._stop_timer.timeout.connect(self._on_stop_timer_timeout)

        w.start_button.clicked.connect(self._on_start_clicked)
        w.pause_button.clicked.connect(self._on_pause_clicked)
        w.stop_button.clicked.connect(self._on_stop_clicked)
        w.reset_button.clicked.connect(self._on_reset_clicked)
        w.params.sigTreeStateChanged.connect(self._on_params_changed)
        w.params.child("data", "csv_path").sigPickRequested.connect(self._on_csv_path_pick_requested)
        w.open_action.triggered.connect(self._on_open_triggered)
        w.save_action.triggered.connect(self._on_save_triggered)
        w.export_action.triggered.connect(self._on_export_triggered)
        w.figure_action.triggered.connect(self._on_figure_triggered)
        w.quit_action.triggered.connect(w.close)
        w.about_action.triggered.connect(self._on_about_triggered)
        w.close_requested = self.shutdown
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.timer.start()
        w.backend_label.setText(f"JAX {jax.default_backend()}")
        self._update_buttons()
        self._check_settings()
        self._preview_data()

    # --- run control ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self, spec=None) -> bool:
        """Starts a run of ``spec`` (written into the form), else of the form's settings; False when
        the form holds a bad value or one this machine cannot hold (the banner says which)."""
        if self.running:
            return False
        if spec is not None:  # the form shows what runs
            apply_spec(self.window.params, spec)
        try:
            spec = spec or spec_from_params(self.window.params)
            warnings = check_resources(spec)
        except SpecError as exc:
            self._show_banner(f"Cannot start: {exc}", kind="settings")
            return False
        self.spec = spec
        self._show_banner("")
        self._clear()
        self._failed = False
        self._settings_changed = False
        eta = self._rates.get(_stability_key(self.spec))
        if eta is not None and self.spec.train.learning_rate > eta:
            warnings.append(self._stability_warning(self.spec.train.learning_rate, eta))
        if warnings:
            self._show_banner("\n".join(warnings), level="warning", kind="settings")
        for plot in (self.window.loss_plot, self.window.drift_plot, self.window.feature_plot, self.window.spectra):
            plot.set_steps(self.spec.train.steps)
        self._start_sphere(self.spec)
        experiment = Experiment(self.spec)
        self.worker = RunWorker(experiment.run)
        self.worker.snapshotReady.connect(self._on_worker_snapshot)
        self.worker.progressed.connect(self._on_worker_progressed)
        self.worker.runFailed.connect(self._on_worker_failed)
        self._set_state("starting…")
        self.thread = start_in_thread(self.worker)
        self.thread.finished.connect(self._on_thread_finished)
        self._update_buttons()
        return True

    @property
    def snapshots(self) -> list:
        """The kept snapshots of the current run (see :class:`RunRecord`)."""
        return self.record.snapshots

    def stop(self) -> None:
        """Asks the run to stop; if it has not ended after STOP_WAIT_MS (a compile or a long step in
        flight), it is left to end in the background and the window is free again."""
        if self.worker is None:
            return
        self.worker.stop()
        self._set_state("stopping…")
        self._stop_timer.start()

    def _retire(self) -> None:
        """Stops the current run and lets its thread end on its own: the controller is free at once."""
        self._stop_timer.stop()
        if self.thread is None:
            return
        self.worker.stop()
        self.worker.snapshotReady.disconnect(self._on_worker_snapshot)
        self.worker.progressed.disconnect(self._on_worker_progressed)
        self.worker.runFailed.disconnect(self._on_worker_failed)
        self.thread.finished.disconnect(self._on_thread_finished)
        _keep_until_finished(self.thread, self.worker)
        self.thread = self.worker = None
        self._update_buttons()

    def shutdown(self, timeout: float = SHUTDOWN_WAIT_S) -> bool:
        """Stops the run and the η_crit estimate and waits at most ``timeout`` seconds for their threads
        (the window is closing); True when every thread has ended."""
        self.timer.stop()
        self._rate_timer.stop()
        self._preview_timer.stop()
        self._stop_timer.stop()
        for worker in (self.worker, self._rate_worker, self._sphere_worker):
            if worker is not None:
                worker.stop()
        deadline = time.monotonic() + timeout
        threads = [t for t in (self.thread, self._rate_thread, self._sphere_thread, *(e[0] for e in _RETIRING))
                   if t is not None]
        for thread in threads:
            thread.quit()  # its event loop ends once the worker's run() returns
        for thread in threads:
            thread.wait(max(0, int(1000 * (deadline - time.monotonic()))))
        return all(t.isFinished() for t in threads)

    def _clear(self) -> None:
        """Drops the last run's data (record, history, spectra, curves): its memory is freed."""
        self.record = RunRecord()
        self._rate_base = None
        self.history.clear()
        self.latest = None
        self._retire_sphere()
        w = self.window
        w.fit_area.clear()
        w.loss_plot.clear()
        w.drift_plot.clear()
        w.feature_plot.clear()
        w.spectra.clear()
        w.step_label.setText("")
        w.rate_label.setText("")

    def _update_buttons(self) -> None:
        w, running = self.window, self.running
        w.start_button.setEnabled(not running)
        w.pause_button.setEnabled(running)
        w.stop_button.setEnabled(running)
        w.pause_button.setText("Resume" if running and self.worker.paused else "Pause")

    def _set_state(self, text: str) -> None:
        """The status bar's state; while a run goes on after an edit of the form, the notice that the
        settings apply at the next Start stays beside it."""
        self._state = text
        note = self._settings_changed and self.running
        self.window.state_label.setText(f"{text} · {SETTINGS_NOTE}" if note else text)

    # --- handlers -----------------------------------------------------------------------------

    def _on_start_clicked(self) -> None:
        self.start()

    def _on_pause_clicked(self) -> None:
        if self.worker is None:
            return
        if self.worker.paused:
            self.worker.resume()
            self._set_state("running")
        else:
            self.worker.pause()
            self._set_state("paused")
        self._update_buttons()

    def _on_stop_clicked(self) -> None:
        self.stop()

    def _on_stop_timer_timeout(self) -> None:
        """The run did not end within STOP_WAIT_MS of Stop: leave it to end in the background."""
        if self.worker is None:
            return
        self._retire()
        self.redraw_all()
        last = self.latest.step if self.latest else 0
        self._set_state(f"stopped at step {last}")
        self.runFinished.emit()

    def _on_reset_clicked(self) -> None:
        self._retire()
        self._clear()
        self._show_banner("")
        self._settings_changed = False
        self._set_state("ready")
        self._check_settings()
        self._preview_data()

    def _on_params_changed(self, _param, changes) -> None:
        changed = [c[0] for c in changes if c[1] == "value" and c[0].name() != "eta_crit"]  # not our own rows
        if not changed:
            return
        w = self.window
        update_visibility(w.params)
        show = shown(w.params)
        w.fit_area.set_visible(show)
        eigen = w.spectra.views["eigen"]
        if eigen.by_trace != show["by_trace"]:
            eigen.by_trace = show["by_trace"]
            self._stale["eigen"] = self.latest is not None
        settings = [p for p in changed if p.parent() and p.parent().name() != "show"]
        if not settings:
            return
        self._check_settings()
        if self.running:
            self._settings_changed = True
            self._set_state(self._state)
        elif self.latest is None:
            self._preview_timer.start()

    def _on_worker_progressed(self, progress) -> None:
        if self.sender() is not self.worker or self._failed:
            return
        w = self.window
        w.step_label.setText(f"step {progress.step:,} / {progress.steps_total:,}")
        if not self.worker.paused and self._state != "stopping…":
            self._set_state(PHASES.get(progress.phase, "running"))

    def _on_worker_snapshot(self, snap) -> None:
        if self.sender() is not self.worker:  # a run that was reset: its last snapshots are dropped
            return
        self.record.append(snap)
        if self._rate_base is None and snap.step > 0:
            self._rate_base = (snap.step, snap.wall_time)
        self.history.append(snap)
        self.latest = snap
        self._labels_stale = True
        stale = self.window.spectra.append(snap)
        for name in [*TRAINING_VIEWS, *stale]:
            self._stale[name] = True
        if "eigen" in stale and self._banner_kind != "run":
            errors = kernel_errors(self.window.spectra.record)
            if errors:
                self._show_banner("Error: " + "\n".join(errors), kind="run")
        if snap.step == 0 and _stability_key(self.spec) not in self._rates:
            self._rates[_stability_key(self.spec)] = snap.eta_crit
            self._check_settings()

    def _on_worker_failed(self, message: str) -> None:
        if self.sender() is not self.worker:
            return
        self._failed = True
        self._show_banner(f"The run stopped: {message}", kind="run")
        self._set_state("stopped with an error")

    def _on_thread_finished(self) -> None:
        self._stop_timer.stop()
        self.thread.deleteLater()
        self.worker.deleteLater()
        self.thread = self.worker = None
        self.redraw_all()
        if not self._failed:
            last = self.latest.step if self.latest else 0
            done = self.latest is not None and last == self.spec.train.steps
            self._set_state("finished" if done else f"stopped at step {last}")
        else:
            self._set_state("stopped with an error")
            if self.latest is not None:  # the steps that were made fill the step axis
                for plot in (self.window.loss_plot, self.window.drift_plot, self.window.feature_plot,
                             self.window.spectra):
                    plot.set_steps(max(self.latest.step, 1))
        self._update_buttons()
        self.runFinished.emit()

    def _on_timer_timeout(self) -> None:
        """Redraws one stale plot of the visible tab per tick, in turn, so that no GUI event runs
        long (event-loop lateness); plots of hidden tabs wait until their tab is shown."""
        if self.latest is None:
            return
        if self._labels_stale:
            self._update_labels(self.latest)
        tab = self.window.tabs.currentIndex()
        visible = [n for n in self._order if self._views[n] == tab and self._stale[n]]
        if not visible:
            return
        started = time.perf_counter()
        for _ in range(len(self._order)):
            name = self._order[self._turn % len(self._order)]
            self._turn += 1
            if name in visible:
                break
        self._stale[name] = False
        plot = self._redraw(name)
        plot.viewport().repaint()  # paint now, so that the cost below includes it
        cost_ms = 1000 * (time.perf_counter() - started)
        self.timer.setInterval(int(min(MAX_REDRAW_MS, max(REDRAW_MS, cost_ms / GUI_DUTY))))

    def redraw_all(self) -> None:
        """Brings every plot of every tab up to date at once (end of a run, screenshots)."""
        if self.latest is None:
            return
        self._update_labels(self.latest)
        for name in self._order:
            self._stale[name] = False
            self._redraw(name)

    def _redraw(self, name: str):
        """Updates one view from the latest data; returns its PlotWidget."""
        snap, w = self.latest, self.window
        if name == "fit":
            w.fit_area.set_data(snap)
            w.fit_area.set_visible(shown(w.params))
            return w.fit_area.plot
        if name in TRAINING_VIEWS:
            plot = {"loss": w.loss_plot, "drift": w.drift_plot, "features": w.feature_plot}[name]
            plot.set_data(self.history, snap)
            return plot.plot
        w.spectra.redraw(name, self.history, self.spec.train.learning_rate)
        return w.spectra.views[name].plot

    def _update_labels(self, snap) -> None:
        """The status bar's step and steps/s (cheap: every tick with a new snapshot). The state is
        set by the run's progress reports alone."""
        self._labels_stale = False
        w = self.window
        w.step_label.setText(f"step {snap.step:,} / {snap.steps_total:,}")
        if self._rate_base is not None:
            step0, time0 = self._rate_base  # after the first chunk: its compile time is excluded
            if snap.step > step0 and snap.wall_time > time0:
                rate = (snap.step - step0) / (snap.wall_time - time0)
                w.rate_label.setText(f"{rate:,.0f} steps/s")

    # --- the banner and the form's checks --------------------------------------------------------

    def _show_banner(self, text: str, level: str = "error", kind: str = "settings") -> None:
        """Shows ``text`` above the plots (empty: hides it); setting keys are named as the form names them."""
        self._banner_kind = kind if text else None
        self.window.show_banner(label_keys(text, self.window.params), level)

    def _clear_banner(self, kind: str) -> None:
        if self._banner_kind == kind:
            self._show_banner("")

    @staticmethod
    def _stability_warning(learning_rate: float, eta_crit: float) -> str:
        return (f"Warning: the learning rate {learning_rate:g} is above η_crit = 2n/λ_max(Θ̂₀) = {eta_crit:.4g}: "
                f"gradient descent will likely diverge. Lower train.learning_rate, or start anyway to watch it.")

    def _check_settings(self) -> None:
        """Checks the form at each edit: a bad value or a run too large for this machine is an error in
        the banner, a learning rate above η_crit a warning; once fixed, the banner goes. Shows η_crit
        beside the learning rate, estimating it when unknown."""
        row = self.window.params.child("train", "eta_crit")
        try:
            spec = spec_from_params(self.window.params)
            warnings = check_resources(spec)
        except SpecError as exc:
            row.setValue("– (too large)" if "machine" in str(exc) else "–")
            message = str(exc)
            prefix = "Too large for this machine: " if "this machine" in message else "Not valid: "
            if self._banner_kind != "run":
                self._show_banner(prefix + message, kind="settings")
            return
        eta, lr = self._rates.get(_stability_key(spec)), spec.train.learning_rate
        if eta is None:
            row.setValue("computing…")
            self._rate_timer.start()
        else:
            above = lr > eta
            row.setValue(f"{eta:.4g}" + ("  ⚠ < η" if above else ""))
            row.setOpts(tip=(f"η_crit = {eta:.4g} is below the learning rate η = {lr:g}: gradient descent on the "
                             f"linearized network diverges along the top eigenvector." if above else "") or None)
            if above:
                warnings.append(self._stability_warning(lr, eta))
        if self._banner_kind in (None, "settings"):
            self._show_banner("\n".join(warnings), level="warning", kind="settings") if warnings \
                else self._clear_banner("settings")

    def _on_rate_timer_timeout(self) -> None:
        if self._rate_thread is not None:  # one estimate at a time; this one runs when it ends
            self._rate_timer.start()
            return
        try:
            spec = spec_from_params(self.window.params)
            check_resources(spec)
        except SpecError:
            return  # _check_settings says why
        if _stability_key(spec) in self._rates:
            self._check_settings()
            return
        if self.running and _stability_key(spec) == _stability_key(self.spec):
            return  # the run measures it at its step 0, without a second compile beside its own
        self._rate_worker = RunWorker(lambda checkpoint: _estimate(spec, checkpoint))
        self._rate_worker.snapshotReady.connect(self._on_rate_ready)
        self._rate_worker.runFailed.connect(self._on_rate_failed)
        self._rate_thread = start_in_thread(self._rate_worker)
        self._rate_thread.finished.connect(self._on_rate_thread_finished)

    def _on_rate_ready(self, result) -> None:
        key, eta = result
        self._rates[key] = eta
        self._check_settings()

    def _on_rate_failed(self, message: str) -> None:
        self.window.params.child("train", "eta_crit").setValue("–")
        self.window.params.child("train", "eta_crit").setOpts(tip=f"Could not estimate: {message}")

    def _on_rate_thread_finished(self) -> None:
        self._rate_thread.deleteLater()
        self._rate_worker.deleteLater()
        self._rate_thread = self._rate_worker = None

    # --- the form's data, drawn before a run ------------------------------------------------------

    def _on_preview_timer_timeout(self) -> None:
        if not self.running and self.latest is None:
            self._preview_data()

    def _preview_data(self) -> None:
        """Draws the form's data in the fit view that suits it (before the first Start, after Reset):
        target and training points on a line or the circle, the target image and the points on the
        plane, the diagonal over the test targets for points. Bad or unbuildable settings draw nothing."""
        area = self.window.fit_area
        try:
            data = build_dataset(spec_from_params(self.window.params).data, np.float32)
        except Exception:  # noqa: BLE001 (a bad setting: _check_settings names it; nothing to draw)
            area.clear()
            return
        area.clear()
        area.set_dataset(data)

    # --- the NTK's eigenvalue per frequency or degree (circle and sphere runs) -----------------

    def _start_sphere(self, spec) -> None:
        """Computes μ_k of a circle or sphere run's network off the GUI thread (JAX); the Spectra tab's
        eigenvalue view shows it when it arrives."""
        self._retire_sphere()
        if spec.data.source not in ("circle", "sphere") or not spec.spectra.enabled:
            return

        def compute(_checkpoint):
            yield sphere_spectrum(spec)

        self._sphere_worker = RunWorker(compute)
        self._sphere_worker.snapshotReady.connect(self._on_sphere_ready)
        self._sphere_worker.runFailed.connect(self._on_sphere_failed)
        self._sphere_thread = start_in_thread(self._sphere_worker)
        self._sphere_thread.finished.connect(self._on_sphere_thread_finished)

    def _retire_sphere(self) -> None:
        if self._sphere_thread is None:
            return
        self._sphere_worker.snapshotReady.disconnect(self._on_sphere_ready)
        self._sphere_worker.runFailed.disconnect(self._on_sphere_failed)
        self._sphere_thread.finished.disconnect(self._on_sphere_thread_finished)
        _keep_until_finished(self._sphere_thread, self._sphere_worker)
        self._sphere_thread = self._sphere_worker = None

    def _on_sphere_ready(self, sphere) -> None:
        if self.sender() is self._sphere_worker:
            self.window.spectra.set_sphere(sphere)

    def _on_sphere_failed(self, message: str) -> None:
        if self.sender() is self._sphere_worker:
            self.window.spectra.set_sphere_error(message)

    def _on_sphere_thread_finished(self) -> None:
        self._sphere_thread.deleteLater()
        self._sphere_worker.deleteLater()
        self._sphere_thread = self._sphere_worker = None

    # --- files ---------------------------------------------------------------------------------

    def _settings(self):
        return self.window.settings

    def _last_folder(self) -> str:
        settings = self._settings()
        folder = settings.value(LAST_FOLDER_KEY, "") if settings is not None else ""
        return folder if folder and Path(folder).is_dir() else str(Path.cwd())

    def _remember_folder(self, path: str | Path) -> None:
        if self._settings() is not None:
            self._settings().setValue(LAST_FOLDER_KEY, str(Path(path).parent))

    def _confirm(self, text: str) -> None:
        """A confirmation in the status bar for a while (not before the window is shown)."""
        if self.window.isVisible():
            self.window.statusBar().showMessage(text, STATUS_MS)

    def open_spec(self, path: str) -> bool:
        """Reads an experiment file into the form; False (and the reason in the banner) when it cannot."""
        try:
            spec = load_spec(path)
        except SpecError as exc:
            self._show_banner(str(exc), kind="file")
            return False
        except Exception as exc:  # noqa: BLE001 (any failure is a message, never a crash)
            self._show_banner(f"{path}: could not be opened ({type(exc).__name__}: {exc}).", kind="file")
            return False
        apply_spec(self.window.params, spec)
        self.spec = spec
        self._clear_banner("file")
        self._check_settings()
        self._confirm(f"Opened {path}")
        return True

    def _on_csv_path_pick_requested(self, param) -> None:
        """The CSV row's "…": a file dialog in the last folder used; the chosen path goes into the row."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Choose a CSV file", self._last_folder(),
                                              "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self._remember_folder(path)
            param.setValue(path)

    def _on_open_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open experiment", self._last_folder(),
                                              "Experiment (*.toml);;All files (*)")
        if path:
            self._remember_folder(path)
            self.open_spec(path)

    def _on_save_triggered(self) -> None:
        try:
            spec = spec_from_params(self.window.params)
        except SpecError as exc:
            self._show_banner(f"Cannot save: {exc}", kind="settings")
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Save experiment",
                                              str(Path(self._last_folder()) / "experiment.toml"),
                                              "Experiment (*.toml)")
        if not path:
            return
        path = str(Path(path).with_suffix(".toml")) if not Path(path).suffix else path
        self._remember_folder(path)
        try:
            save_spec(spec, path)
        except OSError as exc:
            self._show_banner(f"Could not save {path}: {exc.strerror or exc}; choose another place.", kind="file")
            return
        self._clear_banner("file")
        self._confirm(f"Saved the experiment to {path}")

    def _on_export_triggered(self) -> None:
        """Exports the run into a folder that the dialog names: created when new; a previous run's
        folder is replaced after a question; a folder with other files is refused (banner)."""
        if self.record.last is None:
            self._show_banner("Nothing to export yet: start a run first.", kind="file")
            return
        default = Path(self._last_folder()) / datetime.now().strftime("ntklab-run-%Y%m%d-%H%M%S")
        folder, _ = QFileDialog.getSaveFileName(self.window, "Export run data into a new folder", str(default),
                                                "Folder (*)", options=QFileDialog.Option.DontConfirmOverwrite)
        if not folder:
            return
        self._remember_folder(folder)
        target = Path(folder)
        if target.is_dir() and any(target.iterdir()) and all(p.name in RUN_FILES for p in target.iterdir()):
            answer = QMessageBox.question(
                self.window, "Replace the previous run?",
                f"{target} holds a previous run's files. Replace them with this run?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self._confirm("Export cancelled: the previous run was kept.")
                return
        try:
            write_run(self.record, self.spec, target, overwrite=True)
        except (OSError, OutputError, ValueError) as exc:
            text = str(exc.strerror or exc) if isinstance(exc, OSError) else str(exc)
            self._show_banner(f"Could not export: {text.replace('--out ', '')}", kind="file")
            return
        self._clear_banner("file")
        self._confirm(f"Exported the run to {target}")

    def _on_figure_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save figure", str(Path(self._last_folder()) / "ntklab.png"),
                                              "PNG (*.png)")
        if not path:
            return
        path = str(Path(path).with_suffix(".png")) if not Path(path).suffix else path
        self._remember_folder(path)
        if not self.window.grab().save(path, "PNG"):
            self._show_banner(f"Could not save the figure to {path}: the folder does not exist or is not "
                              f"writable; choose another place.", kind="file")
            return
        self._clear_banner("file")
        self._confirm(f"Saved the figure to {path}")

    def _on_about_triggered(self) -> None:
        AboutDialog(self.window).exec()


def _keep_until_finished(thread, worker) -> None:
    """Holds ``thread`` and its worker until the thread has ended (a QThread destroyed while it runs
    aborts the process); ended ones are dropped at the next call."""
    for entry in [e for e in _RETIRING if e[0].isFinished()]:
        _RETIRING.discard(entry)
    _RETIRING.add((thread, worker))
