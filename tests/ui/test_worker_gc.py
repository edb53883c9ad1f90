"""Garbage is collected in the GUI thread only: a worker thread never destroys Qt objects."""

import gc
import weakref

from PySide6.QtCore import QObject

from ntklab.ui.worker import RunWorker, start_in_thread


def test_starting_a_worker_moves_garbage_collection_to_the_gui_thread(qtbot):
    def make_run(checkpoint):
        yield 1

    worker = RunWorker(make_run)
    thread = start_in_thread(worker)  # (runFinished is emitted in the worker's thread: not waited on here)
    qtbot.waitUntil(thread.isFinished, timeout=10_000)
    assert not gc.isenabled()  # no automatic collection in whatever thread allocates

    holder = QObject()
    cycle = {"qt": holder}
    cycle["self"] = cycle  # garbage only the cyclic collector frees
    alive = weakref.ref(holder)
    del holder, cycle
    keep = [[] for _ in range(gc.get_threshold()[0] + 10)]  # enough live containers for a generation-0 pass
    qtbot.waitUntil(lambda: alive() is None, timeout=5_000)  # collected by the GUI thread's timer
    del keep
