"""Window tests remember nothing between runs: QSettings go to a temporary folder."""

import gc

import pytest
from PySide6.QtCore import QSettings

from ntklab.ui.app import create_window


@pytest.fixture(autouse=True)
def settings_in_tmp(tmp_path, monkeypatch):
    """The window's QSettings (splitter, last folder) are written under ``tmp_path``, not the user's."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # subprocesses (the app itself)
    yield tmp_path / "settings"


@pytest.fixture(autouse=True)
def collect_closed_windows():
    """Frees each test's closed windows before the next test (automatic collection is off once a
    worker has started: the app collects on a GUI-thread timer, which a test does not wait for)."""
    yield
    gc.collect()


@pytest.fixture
def window(qtbot):
    """A shown window and its controller; the run and its threads end with the test."""
    window, controller = create_window()
    qtbot.addWidget(window)
    window.show()
    yield window, controller
    controller.shutdown()

