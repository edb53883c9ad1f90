"""Window tests remember nothing between runs: QSettings go to a temporary folder."""

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def settings_in_tmp(tmp_path, monkeypatch):
    """The window's QSettings (splitter, last folder) are written under ``tmp_path``, not the user's."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # subprocesses (the app itself)
    yield tmp_path / "settings"
