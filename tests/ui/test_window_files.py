"""The File menu with its dialogs monkeypatched: Open (good and hostile files), Save experiment, Export
run data (a new folder, a previous run replaced only after a question, other files refused), Save
figure; confirmations in the status bar, every failure in the banner, the last folder remembered."""

import time

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ntklab.session import ExperimentSpec, load_spec
from ntklab.ui.app import create_window
from ntklab.ui.params import spec_from_params

TINY = ExperimentSpec().with_changes(model={"width": 32}, data={"n_train": 6, "n_test": 10},
                                     train={"steps": 20, "snapshots": 2, "learning_rate": 0.1, "kernel_every": 1})


@pytest.fixture
def window(qtbot):
    window, controller = create_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window, controller
    controller.shutdown()


class Dialogs:
    """Stands in for QFileDialog's static functions: answers ``path`` and records the folder offered."""

    def __init__(self, monkeypatch):
        self.path = ""
        self.offered: list[str] = []
        for name in ("getOpenFileName", "getSaveFileName"):
            monkeypatch.setattr(QFileDialog, name, staticmethod(self._answer))

    def _answer(self, parent, caption, directory="", *args, **kwargs):
        self.offered.append(directory)
        return self.path, ""


@pytest.fixture
def dialogs(monkeypatch):
    return Dialogs(monkeypatch)


def _run(qtbot, c):
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        assert c.start(TINY)


def test_open_reads_the_file_into_the_form_and_confirms(window, dialogs, tmp_path):
    w, c = window
    path = tmp_path / "exp" / "wide.toml"
    path.parent.mkdir()
    path.write_text("[model]\nwidth = 64\n\n[train]\nlearning_rate = 0.05\n")
    dialogs.path = str(path)
    w.open_action.trigger()
    spec = spec_from_params(w.params)
    assert spec.model.width == 64 and spec.train.learning_rate == 0.05
    assert w.statusBar().currentMessage() == f"Opened {path}" and w.banner.isHidden()
    dialogs.path = ""
    w.open_action.trigger()  # the next dialog opens in the folder used last
    assert dialogs.offered[-1] == str(path.parent)


@pytest.mark.timing
@pytest.mark.parametrize("kind", ["binary", "utf16", "directory", "bad_toml", "missing", "bad_value", "huge"])
def test_open_of_a_hostile_file_is_a_message_in_the_banner(window, dialogs, tmp_path, kind):
    w, c = window
    path = tmp_path / f"{kind}.toml"
    if kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "utf16":
        path.write_text("[model]\nwidth = 64\n", encoding="utf-16")
    elif kind == "directory":
        path.mkdir()
    elif kind == "bad_toml":
        path.write_text("[model\nwidth = = 3\n")
    elif kind == "bad_value":
        path.write_text("[train]\nlearning_rate = \"fast\"\n")
    elif kind == "huge":
        path.write_text("# " + "x" * 2_000_000 + "\n")
    before = spec_from_params(w.params)
    dialogs.path = str(path)
    started = time.perf_counter()
    w.open_action.trigger()
    assert time.perf_counter() - started < 2.0
    assert not w.banner.isHidden() and path.name in w.banner.text()
    assert spec_from_params(w.params) == before  # the form is unchanged
    if kind == "bad_value":
        assert "learning rate (train.learning_rate)" in w.banner.text()


def test_save_experiment_writes_the_form_and_confirms(window, dialogs, tmp_path):
    w, c = window
    w.params.child("model", "width").setValue(96)
    dialogs.path = str(tmp_path / "saved")  # no suffix: .toml is added
    w.save_action.trigger()
    assert load_spec(tmp_path / "saved.toml") == spec_from_params(w.params)
    assert w.statusBar().currentMessage() == f"Saved the experiment to {tmp_path / 'saved.toml'}"


def test_save_experiment_to_an_unwritable_place_is_a_banner(window, dialogs, tmp_path):
    w, c = window
    dialogs.path = str(tmp_path / "no" / "such" / "folder" / "x.toml")
    w.save_action.trigger()
    assert not w.banner.isHidden() and "Could not save" in w.banner.text()
    dialogs.path = str(tmp_path / "x.toml")
    w.save_action.trigger()  # a success clears the file error
    assert w.banner.isHidden()


def test_export_before_a_run_says_so(window, dialogs):
    w, c = window
    w.export_action.trigger()
    assert "Nothing to export yet" in w.banner.text() and not dialogs.offered


def test_export_creates_a_new_folder_and_asks_before_replacing_a_run(window, dialogs, qtbot, tmp_path, monkeypatch):
    w, c = window
    _run(qtbot, c)
    target = tmp_path / "new" / "run1"  # neither exists yet
    dialogs.path = str(target)
    w.export_action.trigger()
    assert (target / "summary.json").is_file() and (target / "snapshots.npz").is_file()
    assert w.statusBar().currentMessage() == f"Exported the run to {target}" and w.banner.isHidden()
    stamp = (target / "summary.json").stat().st_mtime_ns
    asked = []

    def answer(choice):
        return lambda *args, **kwargs: (asked.append(args[2]), choice)[1]

    monkeypatch.setattr(QMessageBox, "question", staticmethod(answer(QMessageBox.StandardButton.No)))
    w.export_action.trigger()
    assert asked and "previous run" in asked[-1]
    assert (target / "summary.json").stat().st_mtime_ns == stamp and "cancelled" in w.statusBar().currentMessage()
    monkeypatch.setattr(QMessageBox, "question", staticmethod(answer(QMessageBox.StandardButton.Yes)))
    time.sleep(0.01)
    w.export_action.trigger()
    assert (target / "summary.json").stat().st_mtime_ns != stamp and len(asked) == 2


def test_export_into_a_folder_with_other_files_is_refused(window, dialogs, qtbot, tmp_path):
    w, c = window
    _run(qtbot, c)
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("keep me")
    dialogs.path = str(folder)
    w.export_action.trigger()
    assert not w.banner.isHidden() and "other files" in w.banner.text() and "--out" not in w.banner.text()
    assert sorted(p.name for p in folder.iterdir()) == ["chapter1.tex"]
    (tmp_path / "a_file").write_text("x")
    dialogs.path = str(tmp_path / "a_file")
    w.export_action.trigger()
    assert "a file of that name exists" in w.banner.text()


def test_save_figure_writes_a_png_or_says_why_not(window, dialogs, tmp_path):
    w, c = window
    dialogs.path = str(tmp_path / "figure")
    w.figure_action.trigger()
    png = tmp_path / "figure.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert w.statusBar().currentMessage() == f"Saved the figure to {png}"
    dialogs.path = str(tmp_path / "missing" / "figure.png")
    w.figure_action.trigger()
    assert not w.banner.isHidden() and "Could not save the figure" in w.banner.text()
