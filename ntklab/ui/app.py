"""Starting the application: the window, Ctrl+C handling, and the ``--screenshot`` mode."""

from __future__ import annotations

import os
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ntklab import appinfo

from ntklab.ui.controller import Controller
from ntklab.ui.main_window import MainWindow, settings_store


def create_window(config: str | None = None, remember: bool = True) -> tuple[MainWindow, Controller]:
    """The window and its controller; ``config``: an experiment file to open (a bad one: a banner).
    ``remember``: keep the geometry, splitter, guide, recent files and last folder between sessions
    (QSettings)."""
    # The worker's Python between XLA calls and the GUI share the GIL: a 1 ms switch interval
    # (CPython's default is 5 ms) keeps the event loop's waits for it short.
    sys.setswitchinterval(0.001)
    window = MainWindow(settings_store() if remember else None)
    controller = Controller(window)
    if config:
        controller.open_spec(config)
    return window, controller


TABS = {"training": 0, "spectra": 1, "sweep": 2}


def run_app(config: str | None = None, screenshot: str | None = None, steps: int | None = None,
            tab: str = "training", guide: str | None = None) -> int:
    """The window; ``screenshot``: train, save a PNG and exit; ``guide``: a page of the guide to show
    beside the plots (the window widens by the guide's width, so the plots keep theirs)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("NTK Lab")
    app.setDesktopFileName("ntklab")  # matches resources/ntklab.desktop (Wayland uses it for the icon)
    try:
        app.setWindowIcon(QIcon(str(appinfo.resource("ntklab.png"))))
    except FileNotFoundError as exc:  # a plain pip install: no resources/, no icon, the app still runs
        print(f"note: {exc}", file=sys.stderr)
    window, controller = create_window(remember=not screenshot)  # a screenshot looks the same every time
    if config and not controller.open_spec(config) and screenshot:  # the window shows why in its banner
        print(f"error: {window.banner.text()}", file=sys.stderr)
        return 2
    # Ctrl+C in the terminal closes the window; a timer lets Python see the signal.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(200)
    window.tabs.setCurrentIndex(TABS[tab])
    if guide is not None:
        try:
            window.show_guide(guide)
        except ValueError as exc:
            print(f"error: --guide: {exc}", file=sys.stderr)
            return 2
        window.widen_for_guide()
    window.show()
    if screenshot:
        app.processEvents()
        print(f"Window shown {appinfo.seconds_since_process_start():.2f} s after the process started.")
    if screenshot:
        spec = controller.spec if config else None
        if steps is not None:
            from ntklab.session import SpecError
            from ntklab.ui.params import spec_from_params

            try:
                spec = (spec or spec_from_params(window.params)).with_changes(train={"steps": steps})
            except SpecError as exc:
                print(f"error: --steps {steps}: {str(exc).split(': ', 1)[-1]}", file=sys.stderr)
                return 2
        if tab == "sweep":
            return _screenshot_sweep(app, window, controller, screenshot, config, steps)
        return _screenshot(app, window, controller, screenshot, spec)
    code = app.exec()
    if not controller.shutdown():  # a compile or a long step is still in flight: do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _screenshot_sweep(app, window, controller, path, config, steps) -> int:
    """``--tab sweep``: runs the config's [sweep] (else the tab's) in the Sweep tab, then saves the window."""
    from ntklab.session import SpecError

    sweeps = controller.sweep
    if config and not sweeps.load(config):
        print(f"error: {window.banner.text()}", file=sys.stderr)
        return 2
    try:
        spec = sweeps.sweep_spec()
        spec = spec.with_changes(train={"steps": steps}) if steps is not None else spec
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return _screenshot(app, window, controller, path, spec, sweeps)


def _screenshot(app, window, controller, path, spec, sweeps=None) -> int:
    result = {"code": 1}

    def save():
        app.processEvents()
        if window.grab().save(path):
            print(f"Saved a screenshot to {path}.")
            result["code"] = 0
        else:
            print(f"error: could not write {path}.", file=sys.stderr)
        window.close()
        app.quit()

    runner = controller if sweeps is None else sweeps
    (controller.runFinished if sweeps is None else sweeps.sweepFinished).connect(save)
    if not runner.start(spec):
        print(f"error: {window.banner.text()}", file=sys.stderr)
        return 2
    app.exec()
    return result["code"]
