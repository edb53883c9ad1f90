"""All wiring in one place: widget edits → specs, worker signals → plots, ~30 Hz redraws."""

from __future__ import annotations

import time
from pathlib import Path

import jax
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog

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
from ntklab.ui.about import AboutDialog
from ntklab.ui.params import apply_spec, shown, spec_from_params, update_visibility
from ntklab.ui.plots import DRIFT_CURVES, LOSS_CURVES, History
from ntklab.ui.spectra import MOTION_CURVES, RATE_CURVES
from ntklab.ui.worker import RunWorker, start_in_thread

REDRAW_MS = 33  # at most ~30 redraws a second
MAX_REDRAW_MS = 500
GUI_DUTY = 0.10  # redraws (data + paint) may take at most this share of the time: pyqtgraph paints in
# Python with the GIL held, so a busier GUI thread slows training and makes the event loop late
STABILITY_DELAY_MS = 400  # η_crit of the form's settings is estimated this long after the last edit
TRAINING_VIEWS = ("fit", "loss", "drift")


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
    """Owns the worker and the window's state; handlers are ``_on_<source>_<event>``."""

    runFinished = Signal()  # after the worker thread has ended and the last snapshot is drawn

    def __init__(self, window):
        super().__init__()
        self.window = w = window
        self.worker: RunWorker | None = None
        self.thread = None
        self.spec = spec_from_params(w.params)
        self.record = RunRecord()
        self._rate_base = None  # (step, wall_time) of the first snapshot after step 0: steps/s excludes compiling
        fields = [f for f, *_ in LOSS_CURVES + DRIFT_CURVES + RATE_CURVES + MOTION_CURVES]
        self.history = History(list(dict.fromkeys(fields)))
        self.latest = None
        self._failed = False  # the current run reported an error
        self._warning = False  # the banner shows the stability warning (not an error)
        self._labels_stale = False  # a snapshot arrived since the status bar was updated
        self._views = {**dict.fromkeys(TRAINING_VIEWS, 0), **dict.fromkeys(w.spectra.views, 1)}  # → tab
        self._order = list(self._views)
        self._stale = dict.fromkeys(self._order, False)
        self._turn = 0
        self._rates: dict = {}  # _stability_key(spec) → η_crit
        self._rate_thread = self._rate_worker = None
        self._rate_timer = QTimer(self)
        self._rate_timer.setSingleShot(True)
        self._rate_timer.setInterval(STABILITY_DELAY_MS)
        self._rate_timer.timeout.connect(self._on_rate_timer_timeout)

        w.start_button.clicked.connect(self._on_start_clicked)
        w.pause_button.clicked.connect(self._on_pause_clicked)
        w.stop_button.clicked.connect(self._on_stop_clicked)
        w.reset_button.clicked.connect(self._on_reset_clicked)
        w.params.sigTreeStateChanged.connect(self._on_params_changed)
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
        self._update_stability()

    # --- run control ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self, spec=None) -> bool:
        """Starts a run of ``spec`` (written into the form), else of the form's settings; False when
        the form holds a bad value."""
        if self.running:
            return False
        if spec is not None:  # the form shows what runs
            apply_spec(self.window.params, spec)
        try:
            self.spec = spec or spec_from_params(self.window.params)
        except SpecError as exc:
            self._show_banner(f"Cannot start: {exc}")
            return False
        self._show_banner("")
        self._clear()
        self._failed = False
        eta = self._rates.get(_stability_key(self.spec))
        if eta is not None and self.spec.train.learning_rate > eta:
            self._show_banner(self._stability_warning(self.spec.train.learning_rate, eta), warning=True)
        for plot in (self.window.loss_plot, self.window.drift_plot, self.window.spectra):
            plot.set_steps(self.spec.train.steps)
        experiment = Experiment(self.spec)
        self.worker = RunWorker(experiment.run)
        self.worker.snapshotReady.connect(self._on_worker_snapshot)
        self.worker.progressed.connect(self._on_worker_progressed)
        self.worker.runFailed.connect(self._on_worker_failed)
        self.window.state_label.setText("compiling…")
        self.thread = start_in_thread(self.worker)
        self.thread.finished.connect(self._on_thread_finished)
        self._update_buttons()
        return True

    @property
    def snapshots(self) -> list:
        """The kept snapshots of the current run (see :class:`RunRecord`)."""
        return self.record.snapshots

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def _retire(self) -> None:
        """Stops the current run and lets its thread end on its own: the controller is free at once."""
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
        for worker in (self.worker, self._rate_worker):
            if worker is not None:
                worker.stop()
        deadline = time.monotonic() + timeout
        threads = [t for t in (self.thread, self._rate_thread, *(e[0] for e in _RETIRING)) if t is not None]
        for thread in threads:
            thread.quit()  # its event loop ends once the worker's run() returns
        for thread in threads:
            thread.wait(max(0, int(1000 * (deadline - time.monotonic()))))
        return all(t.isFinished() for t in threads)

    def _clear(self) -> None:
        self.record = RunRecord()
        self._rate_base = None
        self.history.clear()
        self.latest = None
        w = self.window
        w.fit_plot.clear()
        w.loss_plot.clear()
        w.drift_plot.clear()
        w.spectra.clear()
        w.step_label.setText("")
        w.rate_label.setText("")

    def _update_buttons(self) -> None:
        w, running = self.window, self.running
        w.start_button.setEnabled(not running)
        w.pause_button.setEnabled(running)
        w.stop_button.setEnabled(running)
        w.pause_button.setText("Resume" if running and self.worker.paused else "Pause")

    # --- handlers -----------------------------------------------------------------------------

    def _on_start_clicked(self) -> None:
        self.start()

    def _on_pause_clicked(self) -> None:
        if self.worker is None:
            return
        if self.worker.paused:
            self.worker.resume()
            self.window.state_label.setText("running")
        else:
            self.worker.pause()
            self.window.state_label.setText("paused")
        self._update_buttons()

    def _on_stop_clicked(self) -> None:
        self.stop()
        self.window.state_label.setText("stopping…")

    def _on_reset_clicked(self) -> None:
        self._retire()
        self._clear()
        self._show_banner("")
        self.window.state_label.setText("ready")

    def _on_params_changed(self, _param, changes) -> None:
        changed = [c[0] for c in changes if c[0].name() != "eta_crit"]  # our own read-out row
        if not changed:
            return
        w = self.window
        update_visibility(w.params)
        show = shown(w.params)
        w.fit_plot.set_visible(show)
        eigen = w.spectra.views["eigen"]
        if eigen.by_trace != show["by_trace"]:
            eigen.by_trace = show["by_trace"]
            self._stale["eigen"] = self.latest is not None
        settings = [p for p in changed if p.parent() and p.parent().name() != "show"]
        if settings:
            self._update_stability()
        if self.running and settings:
            w.state_label.setText("settings changed: they apply at the next Start")

    def _on_worker_progressed(self, progress) -> None:
        w = self.window
        w.step_label.setText(f"step {progress.step:,} / {progress.steps_total:,}")
        if self.worker is not None and not self.worker.paused:
            w.state_label.setText("compiling…" if progress.phase == "compiling" else
                                  "preparing…" if progress.phase == "preparing" else "running")

    def _on_worker_snapshot(self, snap) -> None:
        if self.sender() is not self.worker:  # a run that was reset: its last snapshots are dropped
            return
        self.record.append(snap)
        if self._rate_base is None and snap.step > 0:
            self._rate_base = (snap.step, snap.wall_time)
        self.history.append(snap)
        self.latest = snap
        self._labels_stale = True
        for name in [*TRAINING_VIEWS, *self.window.spectra.append(snap)]:
            self._stale[name] = True
        if snap.step == 0 and _stability_key(self.spec) not in self._rates:
            self._rates[_stability_key(self.spec)] = snap.eta_crit
            self._update_stability()

    def _on_worker_failed(self, message: str) -> None:
        self._failed = True
        self._show_banner(f"The run stopped: {message}")
        self.window.state_label.setText("stopped with an error")

    def _on_thread_finished(self) -> None:
        self.thread.deleteLater()
        self.worker.deleteLater()
        self.thread = None
        self.redraw_all()
        if not self._failed:
            last = self.latest.step if self.latest else 0
            done = self.latest is not None and last == self.spec.train.steps
            self.window.state_label.setText("finished" if done else f"stopped at step {last}")
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
            w.fit_plot.set_data(snap)
            w.fit_plot.set_visible(shown(w.params))
            return w.fit_plot.plot
        if name in TRAINING_VIEWS:
            plot = w.loss_plot if name == "loss" else w.drift_plot
            plot.set_data(self.history)
            return plot.plot
        w.spectra.redraw(name, self.history, self.spec.train.learning_rate)
        return w.spectra.views[name].plot

    def _update_labels(self, snap) -> None:
        """The status bar's step, steps/s and state (cheap: every tick with a new snapshot)."""
        self._labels_stale = False
        w = self.window
        w.step_label.setText(f"step {snap.step:,} / {snap.steps_total:,}")
        if self._rate_base is not None:
            step0, time0 = self._rate_base  # after the first chunk: its compile time is excluded
            if snap.step > step0 and snap.wall_time > time0:
                rate = (snap.step - step0) / (snap.wall_time - time0)
                w.rate_label.setText(f"{rate:,.0f} steps/s")
            if self.running and not self.worker.paused:
                w.state_label.setText("running")

    # --- stability: η_crit of the form's settings, before a run ---------------------------------

    def _show_banner(self, text: str, warning: bool = False) -> None:
        self._warning = warning and bool(text)
        self.window.show_banner(text, "warning" if warning else "error")

    @staticmethod
    def _stability_warning(learning_rate: float, eta_crit: float) -> str:
        return (f"Warning: the learning rate {learning_rate:g} is above η_crit = 2n/λ_max(Θ̂₀) = {eta_crit:.4g}: "
                f"gradient descent will likely diverge. Lower train.learning_rate, or start anyway to watch it.")

    def _update_stability(self) -> None:
        """Shows η_crit of the form's settings beside the learning rate, estimating it when unknown."""
        row = self.window.params.child("train", "eta_crit")
        try:
            spec = spec_from_params(self.window.params)
        except SpecError:
            row.setValue("–")
            return
        eta, lr = self._rates.get(_stability_key(spec)), spec.train.learning_rate
        if eta is None:
            row.setValue("computing…")
            self._rate_timer.start()
            return
        row.setValue(f"{eta:.4g}" + ("  ⚠ below the learning rate" if lr > eta else ""))
        if lr > eta and not self.running and (self._warning or self.window.banner.isHidden()):
            self._show_banner(self._stability_warning(lr, eta), warning=True)
        elif lr <= eta and self._warning and not self.running:
            self._show_banner("")

    def _on_rate_timer_timeout(self) -> None:
        if self._rate_thread is not None:  # one estimate at a time; this one runs when it ends
            self._rate_timer.start()
            return
        try:
            spec = spec_from_params(self.window.params)
        except SpecError:
            return
        if _stability_key(spec) in self._rates:
            self._update_stability()
            return
        if self.running and _stability_key(spec) == _stability_key(self.spec):
            return  # the run measures it at its step 0, without a second compile beside its own
        try:
            check_resources(spec)
        except SpecError as exc:
            self._show_banner(f"Too large for this machine: {exc}")
            self.window.params.child("train", "eta_crit").setValue("– (too large)")
            return
        self._rate_worker = RunWorker(lambda checkpoint: _estimate(spec, checkpoint))
        self._rate_worker.snapshotReady.connect(self._on_rate_ready)
        self._rate_worker.runFailed.connect(self._on_rate_failed)
        self._rate_thread = start_in_thread(self._rate_worker)
        self._rate_thread.finished.connect(self._on_rate_thread_finished)

    def _on_rate_ready(self, result) -> None:
        key, eta = result
        self._rates[key] = eta
        self._update_stability()

    def _on_rate_failed(self, message: str) -> None:
        self.window.params.child("train", "eta_crit").setValue("–")
        self.window.params.child("train", "eta_crit").setOpts(tip=f"Could not estimate: {message}")

    def _on_rate_thread_finished(self) -> None:
        self._rate_thread.deleteLater()
        self._rate_worker.deleteLater()
        self._rate_thread = self._rate_worker = None

    # --- files ---------------------------------------------------------------------------------

    def open_spec(self, path: str) -> None:
        try:
            spec = load_spec(path)
        except SpecError as exc:
            self._show_banner(str(exc))
            return
        apply_spec(self.window.params, spec)
        self.spec = spec
        self._show_banner("")
        self.window.state_label.setText(f"opened {Path(path).name}")

    def _on_open_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open experiment", "", "Experiment (*.toml)")
        if path:
            self.open_spec(path)

    def _on_save_triggered(self) -> None:
        try:
            spec = spec_from_params(self.window.params)
        except SpecError as exc:
            self._show_banner(f"Cannot save: {exc}")
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Save experiment", "experiment.toml",
                                              "Experiment (*.toml)")
        if path:
            try:
                save_spec(spec, path)
            except OSError as exc:
                self._show_banner(f"Could not save {path}: {exc.strerror or exc}")

    def _on_export_triggered(self) -> None:
        if self.record.last is None:
            self._show_banner("Nothing to export yet: start a run first.")
            return
        folder = QFileDialog.getExistingDirectory(self.window, "Export run into folder")
        if folder:
            try:
                write_run(self.record, self.spec, folder)
            except (OSError, OutputError) as exc:
                self._show_banner(f"Could not export: {exc}")
                return
            self.window.state_label.setText(f"exported to {folder}")

    def _on_figure_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save figure", "ntklab.png", "PNG (*.png)")
        if path:
            self.window.grab().save(path)

    def _on_about_triggered(self) -> None:
        AboutDialog(self.window).exec()


def _keep_until_finished(thread, worker) -> None:
    """Holds ``thread`` and its worker until the thread has ended (a QThread destroyed while it runs
    aborts the process); ended ones are dropped at the next call."""
    for entry in [e for e in _RETIRING if e[0].isFinished()]:
        _RETIRING.discard(entry)
    _RETIRING.add((thread, worker))
