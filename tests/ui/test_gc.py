"""Garbage cycles are collected in the GUI thread only: a collection in a run's worker thread can
destroy the window's Qt objects there and deadlock (seen: a window test hung with the run thread in
gc → QObject::~QObject → waiting for the GIL)."""

import gc
import threading

from ntklab.ui.app import create_window


class _Cycle:
    """Half of a reference cycle that records the thread it is freed in."""

    freed_in: list = []

    def __init__(self):
        self.other = None

    def __del__(self):
        _Cycle.freed_in.append(threading.current_thread().name)


def test_cycles_are_collected_by_the_gui_thread_only(qtbot):
    w, c = create_window()
    qtbot.addWidget(w)
    try:
        assert not gc.isenabled()  # no automatic collection, in any thread
        _Cycle.freed_in.clear()

        def make_garbage():
            a, b = _Cycle(), _Cycle()
            a.other, b.other = b, a
            junk = [[i] for i in range(5 * gc.get_threshold()[0])]  # far past generation 0's threshold
            del a, b, junk

        worker = threading.Thread(target=make_garbage, name="worker")
        worker.start()
        worker.join()
        assert _Cycle.freed_in == []  # the worker allocated past the threshold: nothing was collected there
        qtbot.waitUntil(lambda: len(_Cycle.freed_in) == 2, timeout=5_000)  # the GUI's timer collects
        assert set(_Cycle.freed_in) == {threading.main_thread().name}
    finally:
        c.shutdown()
