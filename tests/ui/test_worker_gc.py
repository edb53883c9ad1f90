"""Garbage is collected in the GUI thread only: a worker thread never destroys Qt objects."""

import gc
import threading

from ntklab.ui.worker import RunWorker, start_in_thread


def _make_garbage_run(checkpoint):
    """Makes 20 000 reference cycles (garbage only the cyclic collector frees) in the worker's thread."""
    for _ in range(20):
        for _ in range(1000):
            cycle = {}
            cycle["self"] = cycle
        yield None


def test_garbage_made_in_a_worker_is_collected_in_the_gui_thread_only(qtbot):
    gui = threading.get_ident()
    collections = []  # (thread, garbage freed) per collection

    def record(phase, info):
        if phase == "stop":
            collections.append((threading.get_ident(), info["collected"]))

    gc.callbacks.append(record)
    try:
        worker = RunWorker(_make_garbage_run)
        thread = start_in_thread(worker)
        qtbot.waitUntil(thread.isFinished, timeout=10_000)
        assert not gc.isenabled()  # no automatic collection in whatever thread allocates
        # the worker's cycles are freed by the GUI thread's timer (every 0.5 s), without a gc.collect here
        qtbot.waitUntil(lambda: sum(n for t, n in collections if t == gui) >= 20_000, timeout=5_000)
    finally:
        gc.callbacks.remove(record)
    assert [t for t, _ in collections if t != gui] == []
