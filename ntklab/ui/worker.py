"""One worker in a QThread that drives a session generator and reports through signals only."""

from __future__ import annotations

import gc
import threading
import time
import traceback
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ntklab.session import SpecError, TrainingDiverged


PROGRESS_S = 0.1  # progress reports between snapshots at most this often


class RunWorker(QObject):
    """Advances ``make_run(checkpoint)``'s generator off the GUI thread.

    Signals: ``runStarted``, ``progressed(progress)`` (between compiled chunks, ≤ 10 a second),
    ``snapshotReady(snapshot)``, ``runFailed(message)``, ``runFinished()`` (always last).
    ``stop``/``pause``/``resume`` may be called from any thread; the run sees them at its next
    checkpoint (≤ ~0.2 s apart) or snapshot. Connect the signals to bound slots of GUI-thread
    objects (queued connections).
    """

    runStarted = Signal()
    progressed = Signal(object)
    snapshotReady = Signal(object)
    runFailed = Signal(str)
    runFinished = Signal()

    def __init__(self, make_run: Callable[[Callable], Iterator]):
        super().__init__()
        self._make_run = make_run
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._waiting = threading.Event()  # set while the run is held at a checkpoint by a pause
        self._last_progress = 0.0
        self._last_phase = None

    def checkpoint(self, progress=None) -> bool:
        """The run's checkpoint: reports progress (a change of phase at once, else ≤ 10 a second),
        blocks while paused, returns True to stop."""
        now = time.monotonic()
        if progress is not None and (now - self._last_progress >= PROGRESS_S or progress.phase != self._last_phase):
            self._last_progress, self._last_phase = now, progress.phase
            self.progressed.emit(progress)
        self._hold()
        return self._stop.is_set()

    def _hold(self) -> None:
        """Waits while paused; ``held`` is true meanwhile."""
        if not self._running.is_set():
            self._waiting.set()
            self._running.wait()
            self._waiting.clear()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def held(self) -> bool:
        """True while a pause holds the run (it computes nothing until resumed)."""
        return self._waiting.is_set()

    @Slot()
    def run(self) -> None:
        self.runStarted.emit()
        generator = None
        try:
            generator = self._make_run(self.checkpoint)
            for snapshot in generator:
                self.snapshotReady.emit(snapshot)
                self._hold()
                if self._stop.is_set():
                    break
        except Exception as exc:  # reported to the UI, never swallowed
            if not isinstance(exc, (TrainingDiverged, SpecError)):  # a bug: keep its traceback too
                traceback.print_exc()
            self.runFailed.emit(str(exc) or type(exc).__name__)
        finally:
            if generator is not None:
                generator.close()
            self.runFinished.emit()


class GuiThreadCollector(QObject):
    """Python's cyclic garbage collector runs in whichever thread allocates; in a worker thread it can
    destroy Qt objects of the GUI (pyqtgraph items form cycles), whose destructors then lock Qt's
    mutexes while the GUI thread holds the GIL: a deadlock (seen here) or a crash. So automatic
    collection is switched off and a timer in the GUI thread collects instead, by CPython's own rule
    (pyqtgraph's ``GarbageCollector`` does the same, but its generation-0 passes only promote what
    they keep, so older garbage waited for minutes)."""

    def __init__(self, interval_ms: int = 500):
        super().__init__()
        self.thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start(interval_ms)

    def _on_timer_timeout(self) -> None:
        self.collect_due()

    def collect_due(self) -> int | None:
        """Collects the oldest generation whose count is over its threshold, when generation 0's is
        (as the automatic collector would have done by now); returns it, or None."""
        counts = gc.get_count()
        if counts[0] <= self.thresholds[0]:
            return None
        generation = 2 if counts[2] > self.thresholds[2] else 1 if counts[1] > self.thresholds[1] else 0
        gc.collect(generation)
        return generation


_COLLECTOR: GuiThreadCollector | None = None


def collect_garbage_in_gui_thread() -> GuiThreadCollector:
    """Starts the GUI thread's garbage collector (once; call from the GUI thread)."""
    global _COLLECTOR
    if _COLLECTOR is None:
        _COLLECTOR = GuiThreadCollector()
    return _COLLECTOR


def start_in_thread(worker: RunWorker) -> QThread:
    """Moves ``worker`` into a new QThread and starts it; the thread quits when the run finishes."""
    collect_garbage_in_gui_thread()
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.runFinished.connect(thread.quit)
    thread.start()
    return thread
