"""One worker in a QThread that drives a session generator and reports through signals only."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, QThread, Signal, Slot

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


_GARBAGE_COLLECTOR = None


def collect_garbage_in_gui_thread(interval_s: float = 0.5) -> None:
    """Python's cyclic garbage collector runs in whichever thread allocates; in a worker thread it can
    destroy Qt objects of the GUI (pyqtgraph items form cycles), whose destructors then lock Qt's
    mutexes while the GUI thread holds the GIL: a deadlock (seen here) or a crash. So automatic
    collection is switched off and a timer in the GUI thread collects instead (pyqtgraph's
    ``GarbageCollector``, for this reason). Call from the GUI thread before starting workers."""
    global _GARBAGE_COLLECTOR
    if _GARBAGE_COLLECTOR is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _GARBAGE_COLLECTOR = GarbageCollector(interval=interval_s)


def start_in_thread(worker: RunWorker) -> QThread:
    """Moves ``worker`` into a new QThread and starts it; the thread quits when the run finishes."""
    collect_garbage_in_gui_thread()
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.runFinished.connect(thread.quit)
    thread.start()
    return thread
