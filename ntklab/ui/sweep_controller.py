"""The Sweep tab's wiring: the tab's settings + the form → a sweep spec, a worker thread that runs it,
its points → the plots, Stop, clicks on points → the form.

One computation at a time: Start (a single run) is off while a sweep runs and Run sweep while a run
does. The sweep runs in a :class:`~ntklab.ui.worker.RunWorker` thread, which builds the
:class:`~ntklab.session.sweep.Sweep`, opens the output folder (resuming a folder of the same sweep),
computes the NTK ∞ learning curve of a ``data.n_train`` sweep and yields the points as they finish;
the points are appended to ``points.csv`` there, off the GUI thread.
"""

from __future__ import annotations

import functools
import math
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog

from ntklab.session import ExperimentSpec, SpecError, load_spec
from ntklab.session.atomic import atomic_write_bytes
from ntklab.session.spec import SweepSpec, sweep_kind, sweep_values
from ntklab.session.sweep import Sweep, SweepFolder, value_key
from ntklab.ui.params import apply_spec, spec_from_params
from ntklab.ui.sweep_tab import SWEEP_FIELDS
from ntklab.ui.worker import RunWorker, start_in_thread

STOP_WAIT_MS = 700  # Stop waits this long for the sweep's thread, then leaves it to end in the background
STATUS_MS = 8000
SWEEP_BUSY = "A sweep is running (Sweep tab): stop it there to start a single run."
RUN_BUSY = "A single run is in progress: stop it, or let it finish, to run a sweep."


# --- the tab's text → a sweep ---------------------------------------------------------------------


def parse_values(text: str, field: str, kind: type) -> list:
    """The tab's values text ("16, 64, 256") as values of ``field``'s type ``kind``; a bad item is a
    SpecError naming ``sweep.values`` and the setting."""
    example = SWEEP_FIELDS.get(field, ("", "values separated by commas"))[1]
    words = {int: "whole numbers", float: "numbers", bool: "true or false", str: "names"}[kind]
    if not text.strip():
        raise SpecError(f"sweep.values: empty; list the values of {field} separated by commas, e.g. {example}.")
    values = []
    for item in (s.strip() for s in text.split(",")):
        if item == "":
            raise SpecError(f"sweep.values: {text.strip()!r} has an empty item; list the values of {field} "
                            f"separated by commas, e.g. {example}.")
        value = _value(item.strip("\"'"), kind)
        if value is None:
            raise SpecError(f"sweep.values: {item!r} is not valid for {field}; write {words} separated by "
                            f"commas, e.g. {example}.")
        values.append(value)
    return values


def _value(item: str, kind: type):
    """``item`` as a ``kind``, or None when it is not one."""
    if kind is bool:
        return {"true": True, "false": False}.get(item.lower())
    if kind is str:
        return item
    try:
        number = float(item)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if kind is int:
        return int(number) if number.is_integer() else None
    return number


def values_text(values) -> str:
    """Swept values as the tab writes them: "64, 128, 256"."""
    return ", ".join(("true" if v else "false") if isinstance(v, bool) else f"{v:g}" if isinstance(v, float)
                     else str(v) for v in values)


# --- the worker's generator (runs in the worker thread) ---------------------------------------------


@dataclass(frozen=True)
class SweepOpened:
    """The sweep is built (its values checked, the folder opened): ``done`` holds the points a resumed
    folder already had; ``warnings`` this machine's notes on memory."""

    sweep: object
    done: list
    out: Path | None


@dataclass(frozen=True)
class CurveReady:
    """The NTK ∞ learning curve of a data.n_train sweep (:meth:`Sweep.learning_curve`)."""

    curve: dict


def run_sweep(spec: ExperimentSpec, out: str | None, report: dict, checkpoint):
    """Yields :class:`SweepOpened`, then (data.n_train) :class:`CurveReady`, then each finished
    :class:`~ntklab.session.sweep.SweepPoint`, appending it to the folder's points.csv first. On the
    way out (done, stopped or failed) the folder's summary files are written; a failure to write them
    goes into ``report["finish_error"]`` (an exception here would leave the thread running)."""
    sweep = Sweep(spec)
    folder = SweepFolder(out, sweep) if out else None
    done = list(folder.points) if folder is not None else []
    yield SweepOpened(sweep, done, Path(out) if out else None)
    try:
        if spec.sweep.field == "data.n_train" and not checkpoint(None):
            yield CurveReady(sweep.learning_curve())
        for point in sweep.run(checkpoint, skip={p.key for p in done}):
            if folder is not None:
                folder.append(point)
            yield point
    finally:
        if folder is not None:
            try:
                folder.finish()
            except Exception as exc:  # noqa: BLE001 (reported in the GUI; never raised out of close())
                report["finish_error"] = f"{out}: could not write the summary files ({exc})."


def _folder_message(text: str) -> str:
    """An output-folder error of the session (written for the command line) as the tab words it."""
    text = text.replace("--out ", "output folder ")
    return re.sub(r"or add --overwrite to replace (them|it)", "or empty the folder first", text)


# --- the controller ----------------------------------------------------------------------------------


class SweepController(QObject):
    """Wires the Sweep tab (``window.sweep_tab``) to a worker; owned by the main
    :class:`~ntklab.ui.controller.Controller` (``controller.sweep``), whose banner, Start button and
    shutdown it shares. ``controller.sweep_requested`` is set to :meth:`load` (a [sweep] file opened
    elsewhere comes here)."""

    sweepFinished = Signal()  # after the sweep's thread ended (or was left behind) and the plots are drawn

    def __init__(self, window, controller):
        super().__init__()
        self.window, self.controller = window, controller
        self.tab = tab = window.sweep_tab
        self.panel = tab.panel
        self.worker: RunWorker | None = None
        self.thread = None
        self.sweep = None  # the Sweep in flight, once the worker has built it
        self.out: Path | None = None  # the sweep's output folder, once the worker has opened it
        self._out_asked: Path | None = None  # the folder the sweep in flight was asked to write into
        self._report: dict = {}
        self._t0 = 0.0
        self._resumed = 0
        self._failed = False
        self._stopping = False
        self._left: list = []  # (thread, folder) of sweeps left to end in the background after Stop
        self._loaded: tuple | None = None  # (SweepSpec, field, values text, seeds) of the last opened file
        self._stop_timer = QTimer(self)
        self._stop_timer.setSingleShot(True)
        self._stop_timer.setInterval(STOP_WAIT_MS)
        self._stop_timer.timeout.connect(self._on_stop_timer_timeout)
        tab.run_button.clicked.connect(self._on_run_clicked)
        tab.stop_button.clicked.connect(self._on_stop_clicked)
        tab.field_combo.currentIndexChanged.connect(self._on_field_changed)
        tab.folder_button.clicked.connect(self._on_folder_clicked)
        tab.open_button.clicked.connect(self._on_open_clicked)
        self.panel.pointClicked.connect(self._on_panel_point_clicked)
        controller.sweep_requested = self.load
        self.update_buttons()

    # --- state ----------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.thread is not None

    def update_buttons(self) -> None:
        """Run sweep / Stop, and the window's Start: one computation at a time."""
        w, t = self.window, self.tab
        sweeping, running = self.running, self.controller.running
        w.start_button.setEnabled(not sweeping and not running)
        w.start_button.setToolTip(SWEEP_BUSY if sweeping else "")
        t.run_button.setEnabled(not sweeping and not running)
        t.run_button.setToolTip(RUN_BUSY if running else "")
        t.stop_button.setEnabled(sweeping)
        if running and not sweeping:
            t.set_note(RUN_BUSY)
        elif t.note.text() == RUN_BUSY:
            t.set_note("")

    def _state(self, text: str) -> None:
        self.window.state_label.setText(text)

    def _banner(self, text: str) -> None:
        self.controller._show_banner(text, kind="sweep")

    def _confirm(self, text: str) -> None:
        if self.window.isVisible():
            self.window.statusBar().showMessage(text, STATUS_MS)

    # --- the sweep's spec -------------------------------------------------------------------------

    def sweep_spec(self) -> ExperimentSpec:
        """The form's experiment with the tab's [sweep] (field, values, seeds); SpecError naming the
        setting when a value is bad. An opened file's sweep is kept as it was (its range, data seeds:
        its folder resumes) while the tab shows it unchanged."""
        base = spec_from_params(self.window.params)
        t = self.tab
        field, text, seeds = t.field(), t.values_edit.text(), t.seeds_spin.value()
        if self._loaded is not None and self._loaded[1:] == (field, text, seeds):
            sweep = asdict(self._loaded[0])
        else:
            kind = sweep_kind(replace(base, sweep=SweepSpec(field=field, values=(0,))))
            data_seeds = self._loaded[0].data_seeds if self._loaded is not None else None
            sweep = {"field": field, "values": parse_values(text, field, kind), "seeds": seeds,
                     "data_seeds": data_seeds}
        return base.with_changes(sweep=sweep)

    # --- run control ------------------------------------------------------------------------------

    def start(self, spec: ExperimentSpec | None = None) -> bool:
        """Runs ``spec``'s sweep (default: the form and the tab's settings) into the tab's output folder
        (none: nothing is written); False when it cannot start (the banner or the note says why)."""
        if self.running:
            return False
        if self.controller.running:
            self.tab.set_note(RUN_BUSY)
            return False
        try:
            spec = spec if spec is not None else self.sweep_spec()
        except SpecError as exc:
            self._banner(f"Cannot run the sweep: {exc}")
            return False
        out = self.tab.folder_edit.text().strip() or None
        self._left = [(thread, folder) for thread, folder in self._left if not thread.isFinished()]
        if out is not None and any(folder == Path(out) for _, folder in self._left):
            self._banner(f"The last sweep into {out} is still ending (a compile in flight): run again in a moment.")
            return False
        self.controller._clear_banner("sweep")
        self.panel.clear()
        self.panel.field = spec.sweep.field
        self.tab.set_note("")
        self.window.tabs.setCurrentWidget(self.tab)
        self.sweep, self.out, self._report = None, None, {}
        self._t0, self._resumed, self._failed, self._stopping = time.monotonic(), 0, False, False
        self._out_asked = Path(out) if out else None
        self.worker = RunWorker(functools.partial(run_sweep, spec, out, self._report))
        self.worker.snapshotReady.connect(self._on_worker_item)
        self.worker.progressed.connect(self._on_worker_progressed)
        self.worker.runFailed.connect(self._on_worker_failed)
        self.thread = start_in_thread(self.worker)
        self.thread.finished.connect(self._on_thread_finished)
        self._state(f"sweep over {spec.sweep.field}: preparing…")
        self.update_buttons()
        return True

    def stop(self) -> None:
        """Asks the sweep to stop (finished points are kept); after STOP_WAIT_MS a sweep still in a
        compile is left to end in the background and the tab is free again."""
        if self.worker is None:
            return
        self.worker.stop()
        self._stopping = True
        self._state("sweep: stopping…")
        self._stop_timer.start()

    def threads(self) -> list:
        """The sweep's thread, if one runs (the window's shutdown waits for it)."""
        return [] if self.thread is None else [self.thread]

    def shutdown(self) -> None:
        """The window closes: asks the sweep to stop now (the caller waits for :meth:`threads`)."""
        self._stop_timer.stop()
        if self.worker is not None:
            self.worker.stop()

    def _retire(self) -> None:
        """Stops the sweep and lets its thread end on its own; the tab is free at once."""
        from ntklab.ui.controller import _keep_until_finished

        self._stop_timer.stop()
        if self.thread is None:
            return
        self.worker.stop()
        self.worker.snapshotReady.disconnect(self._on_worker_item)
        self.worker.progressed.disconnect(self._on_worker_progressed)
        self.worker.runFailed.disconnect(self._on_worker_failed)
        self.thread.finished.disconnect(self._on_thread_finished)
        _keep_until_finished(self.thread, self.worker)
        self._left.append((self.thread, self._out_asked))
        self.thread = self.worker = None

    def _end(self) -> None:
        """The sweep is over (done, stopped, failed or left behind): final plots, state, buttons."""
        self.panel.refresh()
        done, total = len(self.panel.points), self.panel.total
        if self._failed:
            state = f"sweep stopped with an error: {done} of {total} points"
        elif self.sweep is not None and done >= total:
            state = f"sweep finished: {done} points"
        else:
            state = f"sweep stopped: {done} of {total} points"
        if self.out is not None and done:
            state += f" in {self.out}"
            self._save_png()
        self._state(state)
        if self._report.get("finish_error"):
            self._banner(self._report["finish_error"])
        self.update_buttons()
        self.sweepFinished.emit()

    def _save_png(self) -> None:
        """The tab's plots as sweep.png beside points.csv (as ``ntklab sweep`` writes it)."""
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.panel.grab().save(buffer, "PNG")
        buffer.close()
        try:
            atomic_write_bytes(self.out / "sweep.png", bytes(data.data()))
        except OSError as exc:
            self._banner(f"{self.out}: could not write sweep.png ({exc.strerror or exc}).")

    # --- opening a sweep file ------------------------------------------------------------------------

    def load(self, path: str | Path, start: bool = False) -> bool:
        """Opens an experiment file with a [sweep] section: its experiment goes into the form, its sweep
        into the tab (shown); ``start``: runs it too. False (the banner says why) when it cannot."""
        try:
            spec = load_spec(path)
            if spec.sweep is None:
                raise SpecError(f"{path}: no [sweep] section; open it with File → Open experiment to run it once, "
                                f"or add a [sweep] (field, values, seeds).")
            values = sweep_values(spec)
        except SpecError as exc:
            self._banner(str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 (any failure is a message, never a crash)
            self._banner(f"{path}: could not be opened ({type(exc).__name__}: {exc}).")
            return False
        if self.running:
            self._banner("A sweep is running: stop it before opening another.")
            return False
        apply_spec(self.window.params, replace(spec, sweep=None))
        t = self.tab
        t.set_field(spec.sweep.field)
        t.values_edit.setText(values_text(values))
        t.seeds_spin.setValue(min(spec.sweep.seeds, t.seeds_spin.maximum()))
        self._loaded = (spec.sweep, t.field(), t.values_edit.text(), t.seeds_spin.value())
        self.controller._clear_banner("sweep")
        self.controller._clear_banner("file")
        self.window.tabs.setCurrentWidget(t)
        data_seeds = spec.sweep.data_seeds or 1
        t.set_note(f"Opened {path}: {len(values)} values × {spec.sweep.seeds} seeds"
                       + (f" × {data_seeds} data seeds" if data_seeds > 1 else "")
                       + f" = {len(values) * spec.sweep.seeds * data_seeds} runs. Run sweep starts it.")
        return self.start() if start else True

    # --- handlers ---------------------------------------------------------------------------------

    def _on_run_clicked(self) -> None:
        self.start()

    def _on_stop_clicked(self) -> None:
        self.stop()

    def _on_field_changed(self, _index: int) -> None:
        """A new setting to vary: example values for it (a file's sweep no longer applies)."""
        example = SWEEP_FIELDS.get(self.tab.field())
        if example is not None:
            self.tab.values_edit.setText(example[1])

    def _on_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Output folder of the sweep",
                                                  self.tab.folder_edit.text() or self.controller._last_folder())
        if folder:
            self.tab.folder_edit.setText(folder)

    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open sweep", self.controller._last_folder(),
                                              "Experiment with a [sweep] (*.toml);;All files (*)")
        if path:
            self.controller._remember_folder(path)
            self.load(path)

    def _on_worker_item(self, item) -> None:
        if self.sender() is not self.worker:  # a sweep that was stopped and left behind
            return
        panel = self.panel
        if isinstance(item, SweepOpened):
            self.sweep, self.out = item.sweep, item.out
            panel.set_sweep(item.sweep)
            for point in item.done:
                panel.add_point(point)
            self._resumed = len(item.done)
            if item.done:
                panel.mark_resumed()
                self.tab.set_note(f"Resuming: {len(item.done)} of {item.sweep.total} points are already in "
                                      f"{item.out}.")
            else:
                panel.set_elapsed(time.monotonic() - self._t0)
            if item.sweep.warnings:
                self.controller._show_banner("\n".join(item.sweep.warnings), level="warning", kind="sweep")
        elif isinstance(item, CurveReady):
            curve = item.curve
            panel.set_learning_curve(curve["n_train"], curve["mse_test_theory"])
            if curve.get("note"):
                self.tab.set_note(curve["note"])
        else:
            panel.add_point(item)
            if not self._resumed:  # the elapsed time counts from Run sweep, not from the first point
                panel.set_elapsed(time.monotonic() - self._t0)

    def _on_worker_progressed(self, progress) -> None:
        if self.sender() is not self.worker or progress is None or self._stopping:
            return
        elapsed = time.monotonic() - self._t0
        self._state(f"sweep: {self.panel.field} = {value_key(progress.value)} · {progress.phase} · step "
                    f"{progress.step:,} / {progress.steps_total:,} · {int(elapsed) // 60:02d}:{int(elapsed) % 60:02d}")

    def _on_worker_failed(self, message: str) -> None:
        if self.sender() is not self.worker:
            return
        self._failed = True
        text = _folder_message(message) if "--out " in message else message
        self._banner(f"The sweep stopped: {text}")

    def _on_thread_finished(self) -> None:
        self._stop_timer.stop()
        self.thread.deleteLater()
        self.worker.deleteLater()
        self.thread = self.worker = None
        self._end()

    def _on_stop_timer_timeout(self) -> None:
        """The sweep did not end within STOP_WAIT_MS of Stop (a compile in flight): leave it behind."""
        if self.worker is None:
            return
        self._retire()
        self._end()

    def _on_panel_point_clicked(self, point) -> None:
        """A run of the sweep → its settings in the form, ready for Start."""
        if point is None or getattr(point, "spec", None) is None:
            return
        apply_spec(self.window.params, point.spec)
        text = (f"Loaded the run {point.field} = {value_key(point.value)}, seed {point.seed} into the form: "
                f"Start runs it alone.")
        self.tab.set_note(text)
        self._confirm(text)
